//===- CommandLine.h - options of the runtime's tools -----------*- C++ -*-===//
//
// The runtime's tools (moec-run, moec-bench) link no LLVM, so they cannot
// use llvm::cl; this parser follows its conventions: --name=value or
// --name value, --help with the options in groups, --version, and exit
// code 2 with a one-line message for a usage error.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_RUNTIME_COMMANDLINE_H
#define MOEC_RUNTIME_COMMANDLINE_H

#include <cstdint>
#include <functional>
#include "runtime/Status.h"

#include <string>
#include <vector>

namespace moec {

class OptionParser {
public:
  /// `usage` follows "usage: " in --help; `overview` is a line after it.
  OptionParser(std::string tool, std::string usage, std::string overview);

  /// Options added after this are listed under `title` in --help.
  void group(std::string title);
  /// --name; `out` becomes true.
  void flag(const std::string &name, const std::string &help, bool &out);
  /// --name=VALUE: `set` takes the text or returns false, and the error
  /// says "--name needs `need`".
  void value(const std::string &name, const std::string &valueName,
             const std::string &help, const std::string &need,
             std::function<bool(const std::string &)> set);
  /// The one positional argument (the model).
  void positional(const std::string &name, std::string &out);

  /// Parses the arguments. -1: go on; otherwise the tool exits with it:
  /// 0 after --help or --version, 2 after a usage error (printed).
  int parse(int argc, char **argv);
  /// Prints a usage error found after parsing; returns 2.
  int usageError(const std::string &message) const;
  /// Prints "TOOL: error: MESSAGE" for a failure; returns 1.
  int failure(const std::string &message) const;
  /// The same for a runtime failure, with the option it concerns.
  int failure(const Status &status) const { return failure(describe(status)); }
  /// A runtime failure's message with the runtime tools' option it
  /// concerns, for a user of moec-run or moec-bench.
  static std::string describe(const Status &status);
  const std::string &tool() const { return toolName; }

private:
  struct Option {
    std::string name, valueName, help, need, group;
    std::function<bool(const std::string &)> set; // null: a flag
    bool *flag = nullptr;
  };
  void printHelp() const;

  std::string toolName, usageText, overviewText, currentGroup;
  std::vector<Option> options;
  std::string positionalName;
  std::string *positionalOut = nullptr;
};

/// A setter for OptionParser::value: an integer in [min, max].
std::function<bool(const std::string &)> countIn(int64_t &out, int64_t min,
                                                 int64_t max);
/// A setter for OptionParser::value: any text but an empty one.
std::function<bool(const std::string &)> nonEmpty(std::string &out);
/// A setter for OptionParser::value: one of `choices`.
std::function<bool(const std::string &)>
oneOf(std::string &out, std::vector<std::string> choices);

/// The KV cache positions moec-run and moec-serve give a model by default:
/// its maximum, at most this many.
inline constexpr int64_t kDefaultMaxSeqLen = 4096;
/// The Device group of moec-run and moec-serve: --device (auto, cpu or
/// cuda), --threads and --max-seq-len (left 0 when not given).
void deviceOptions(OptionParser &parser, std::string &device, int64_t &threads,
                   int64_t &maxSeqLen);

/// The text of --version: moec's version, the LLVM the compiler was built
/// with, and the targets it generates code for.
std::string versionText(const std::string &tool);

/// A non-negative integer, or false.
bool parseCount(const char *text, int64_t &out);

/// A non-negative real number, or false.
bool parseReal(const char *text, float &out);

/// Comma-separated non-negative integers up to `max` (at least one), or
/// false.
bool parseCountList(const char *text, int64_t max, std::vector<int64_t> &out);

} // namespace moec

#endif // MOEC_RUNTIME_COMMANDLINE_H
