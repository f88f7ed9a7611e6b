//===- Progress.cpp - progress of long work -----------------------------===//

#include "runtime/Progress.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>

using namespace moec;

Progress::Progress(std::string label)
    : label(std::move(label)), terminal(isatty(STDERR_FILENO)),
      start(std::chrono::steady_clock::now()) {}

namespace {

/// "1.84 GB", "575.1 KB".
std::string size(uint64_t bytes) {
  const char *units[] = {"B", "KB", "MB", "GB", "TB"};
  double value = double(bytes);
  int unit = 0;
  while (value >= 1000 && unit < 4) {
    value /= 1000;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof(text), unit ? "%.2f %s" : "%.0f %s", value,
                units[unit]);
  return text;
}

} // namespace

void moec::showStep(const std::string &label) {
  if (!isatty(STDERR_FILENO))
    return;
  std::fprintf(stderr, "%s: %s...\n", program_invocation_short_name,
               label.c_str());
  std::fflush(stderr);
}

void Progress::update(uint64_t done, uint64_t total) {
  bool finished = done >= total;
  if (terminal) {
    constexpr int kWidth = 30;
    int permille = total ? int(done * 1000 / total) : 1000;
    if (permille == shown && !finished)
      return;
    shown = permille;
    std::string bar(kWidth * permille / 1000, '#');
    bar.resize(kWidth, '.');
    std::fprintf(stderr, "\r%s [%s] %5.1f%% %s / %s", label.c_str(),
                 bar.c_str(), permille / 10.0, size(done).c_str(),
                 size(total).c_str());
    if (finished)
      std::fprintf(stderr, "\n");
    std::fflush(stderr);
    return;
  }
  if (!finished || shown >= 0)
    return;
  shown = 1000;
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::fprintf(stderr, "%s: %s: %s in %.1f s\n", program_invocation_short_name,
               label.c_str(), size(total).c_str(), seconds);
}

std::function<void(uint64_t, uint64_t)>
moec::progressCallback(std::string label) {
  auto progress = std::make_shared<Progress>(std::move(label));
  return [progress](uint64_t done, uint64_t total) {
    progress->update(done, total);
  };
}
