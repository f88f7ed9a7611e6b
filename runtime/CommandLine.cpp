//===- CommandLine.cpp - option values of the runtime's tools -----------===//

#include "runtime/CommandLine.h"

#include <cerrno>
#include <cstdlib>
#include <string>

using namespace moec;

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

std::string moec::takeModelPath(const std::string &arg, std::string &path) {
  if (!arg.empty() && arg[0] == '-')
    return "unknown option '" + arg + "'";
  if (!path.empty())
    return "more than one model given";
  path = arg;
  return "";
}
