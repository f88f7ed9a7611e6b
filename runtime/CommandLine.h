//===- CommandLine.h - option values of the runtime's tools -----*- C++ -*-===//
//
// The runtime's tools (moec-run, moec-bench) link no LLVM, so they parse
// their options by hand; these are the value parsers they share.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_RUNTIME_COMMANDLINE_H
#define MOEC_RUNTIME_COMMANDLINE_H

#include <cstdint>
#include <string>
#include <vector>

namespace moec {

/// A non-negative integer, or false.
bool parseCount(const char *text, int64_t &out);

/// A non-negative real number, or false.
bool parseReal(const char *text, float &out);

/// Comma-separated non-negative integers up to `max` (at least one), or
/// false.
bool parseCountList(const char *text, int64_t max, std::vector<int64_t> &out);

/// An argument that is no known option: the model's path when it is the
/// first such argument; otherwise the message refusing it ("unknown option
/// '-x'", "more than one model given"). Empty when taken.
std::string takeModelPath(const std::string &arg, std::string &path);

} // namespace moec

#endif // MOEC_RUNTIME_COMMANDLINE_H
