//===- CommandLine.cpp - options of the runtime's tools -----------------===//

#include "runtime/CommandLine.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#ifndef MOEC_VERSION
#define MOEC_VERSION "unknown"
#endif
#ifndef MOEC_LLVM_VERSION
#define MOEC_LLVM_VERSION "unknown"
#endif

using namespace moec;

OptionParser::OptionParser(std::string tool, std::string usage,
                           std::string overview)
    : toolName(std::move(tool)), usageText(std::move(usage)),
      overviewText(std::move(overview)) {}

void OptionParser::group(std::string title) { currentGroup = std::move(title); }

void OptionParser::flag(const std::string &name, const std::string &help,
                        bool &out) {
  options.push_back({name, "", help, "", currentGroup, nullptr, &out});
}

void OptionParser::value(const std::string &name, const std::string &valueName,
                         const std::string &help, const std::string &need,
                         std::function<bool(const std::string &)> set) {
  options.push_back(
      {name, valueName, help, need, currentGroup, std::move(set), nullptr});
}

void OptionParser::positional(const std::string &name, std::string &out) {
  positionalName = name;
  positionalOut = &out;
}

int OptionParser::usageError(const std::string &message) const {
  std::fprintf(stderr, "%s: error: %s\nRun '%s --help' for the options.\n",
               toolName.c_str(), message.c_str(), toolName.c_str());
  return 2;
}

std::string OptionParser::describe(const Status &status) {
  const char *hint = "";
  switch (status.code()) {
  case StatusCode::Failure:
    break;
  case StatusCode::InvalidMaxSeqLen:
  case StatusCode::SequenceTooLong:
    hint = " (--max-seq-len)";
    break;
  case StatusCode::WrongDevice:
    hint = " (--device=auto runs it where it was compiled for)";
    break;
  case StatusCode::UnknownDevice:
    hint = " (--device)";
    break;
  case StatusCode::MissingCpuFeatures:
    hint = "; recompile with --target-cpu=native";
    break;
  case StatusCode::ThreadsNeedCpu:
  case StatusCode::InvalidThreads:
    hint = " (--threads)";
    break;
  case StatusCode::NoChatTemplate:
    hint = "; choose one with --chat-template=chatml, mistral or llama3";
    break;
  }
  return status.message() + hint;
}

int OptionParser::failure(const std::string &message) const {
  std::fprintf(stderr, "%s: error: %s\n", toolName.c_str(), message.c_str());
  return 1;
}

void OptionParser::printHelp() const {
  std::printf("OVERVIEW: %s\n\nUSAGE: %s %s\n", overviewText.c_str(),
              toolName.c_str(), usageText.c_str());
  // No group yet: the first option prints its heading.
  std::string group = "\x01";
  auto line = [](const std::string &left, const std::string &help) {
    if (left.size() <= 24)
      std::printf("  %-24s %s\n", left.c_str(), help.c_str());
    else
      std::printf("  %s\n  %-24s %s\n", left.c_str(), "", help.c_str());
  };
  for (const Option &option : options) {
    if (option.group != group) {
      group = option.group;
      std::printf("\n%s:\n\n", group.empty() ? "OPTIONS" : group.c_str());
    }
    std::string left = "--" + option.name;
    if (!option.valueName.empty())
      left += "=<" + option.valueName + ">";
    line(left, option.help);
  }
  std::printf("\nGeneric options:\n\n");
  line("--help", "Print this text");
  line("--version", "Print the version of moec and its targets");
}

int OptionParser::parse(int argc, char **argv) {
  bool positionalOnly = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (positionalOnly || arg.size() < 2 || arg[0] != '-') {
      if (!positionalOut || !positionalOut->empty())
        return usageError("unexpected argument '" + arg + "'");
      *positionalOut = arg;
      continue;
    }
    if (arg == "--") {
      positionalOnly = true;
      continue;
    }
    if (arg == "--help" || arg == "-help" || arg == "-h") {
      printHelp();
      return 0;
    }
    if (arg == "--version" || arg == "-version") {
      std::fputs(versionText(toolName).c_str(), stdout);
      return 0;
    }
    // -name and --name, as llvm::cl takes both.
    std::string name = arg.substr(arg[1] == '-' ? 2 : 1), text;
    size_t equals = name.find('=');
    bool inlineValue = equals != std::string::npos;
    if (inlineValue) {
      text = name.substr(equals + 1);
      name.resize(equals);
    }
    const Option *option = nullptr;
    for (const Option &o : options)
      if (o.name == name)
        option = &o;
    if (!option)
      return usageError("unknown option '" + arg + "'");
    if (option->flag) {
      if (inlineValue && text != "true" && text != "false")
        return usageError("--" + name +
                          " takes no value other than true "
                          "or false");
      *option->flag = !inlineValue || text == "true";
      continue;
    }
    if (!inlineValue) {
      if (i + 1 >= argc)
        return usageError("--" + name + " needs " + option->need);
      text = argv[++i];
    }
    if (!option->set(text))
      return usageError("--" + name + " needs " + option->need + " (got '" +
                        text + "')");
  }
  return -1;
}

std::function<bool(const std::string &)>
moec::countIn(int64_t &out, int64_t min, int64_t max) {
  return [&out, min, max](const std::string &text) {
    int64_t v;
    if (!parseCount(text.c_str(), v) || v < min || v > max)
      return false;
    out = v;
    return true;
  };
}

std::function<bool(const std::string &)> moec::nonEmpty(std::string &out) {
  return [&out](const std::string &text) {
    if (text.empty())
      return false;
    out = text;
    return true;
  };
}

void moec::deviceOptions(OptionParser &parser, std::string &device,
                         int64_t &threads, int64_t &maxSeqLen) {
  parser.group("Device");
  parser.value("device", "d", "auto (the artifact's target), cpu or cuda",
               "auto, cpu or cuda", oneOf(device, {"auto", "cpu", "cuda"}));
  parser.value("threads", "n",
               "Threads for the generated CPU code (default: all cores)",
               "a positive count", countIn(threads, 1, 4096));
  parser.value("max-seq-len", "n",
               "KV cache positions (default: the model's maximum, at most " +
                   std::to_string(kDefaultMaxSeqLen) + ")",
               "a positive count", countIn(maxSeqLen, 1, INT32_MAX));
}

std::function<bool(const std::string &)>
moec::oneOf(std::string &out, std::vector<std::string> choices) {
  return [&out, choices = std::move(choices)](const std::string &text) {
    for (const std::string &choice : choices)
      if (text == choice) {
        out = text;
        return true;
      }
    return false;
  };
}

std::string moec::versionText(const std::string &tool) {
  return tool + " (moec " MOEC_VERSION ")\n"
                "  built with LLVM " MOEC_LLVM_VERSION "\n"
                "  targets: cpu (x86-64, for the CPU named at compile time), "
                "cuda (nvptx64: sm_80, sm_86, sm_89, sm_90)\n";
}

bool moec::parseCount(const char *text, int64_t &out) {
  char *end = nullptr;
  errno = 0;
  long long v = std::strtoll(text, &end, 10);
  if (errno || end == text || *end || v < 0)
    return false;
  out = v;
  return true;
}

bool moec::parseReal(const char *text, float &out) {
  char *end = nullptr;
  errno = 0;
  float v = std::strtof(text, &end);
  if (errno || end == text || *end || !(v >= 0.0f))
    return false;
  out = v;
  return true;
}

bool moec::parseCountList(const char *text, int64_t max,
                          std::vector<int64_t> &out) {
  std::string list(text);
  size_t start = 0;
  while (true) {
    size_t comma = list.find(',', start);
    std::string item = list.substr(
        start, comma == std::string::npos ? std::string::npos : comma - start);
    int64_t v;
    if (!parseCount(item.c_str(), v) || v > max)
      return false;
    out.push_back(v);
    if (comma == std::string::npos)
      return true;
    start = comma + 1;
  }
}
