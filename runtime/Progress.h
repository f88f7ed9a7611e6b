//===- Progress.h - progress of long work -----------------------*- C++ -*-===//
//
// Reading weights, writing an artifact, uploading to a GPU: a bar redrawn
// in place on stderr when it is a terminal, and one plain line when the
// work is done otherwise, so that logs get no control characters. Shared
// by the compiler's tools and the runtime (no LLVM).
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_RUNTIME_PROGRESS_H
#define MOEC_RUNTIME_PROGRESS_H

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace moec {

class Progress {
public:
  /// The plain line starts with the program's name ("moec-run: reading
  /// weights: 1.84 GB in 2.1 s").
  explicit Progress(std::string label);

  /// `done` of `total` bytes; the work ends when they are equal.
  void update(uint64_t done, uint64_t total);

private:
  std::string label;
  bool terminal;
  int shown = -1;
  std::chrono::steady_clock::time_point start;
};

/// On a terminal, names the step now under way, one line per step;
/// elsewhere nothing, so logs stay as they were.
void showStep(const std::string &label);

/// A Progress as a callback, for writers that take one.
std::function<void(uint64_t, uint64_t)> progressCallback(std::string label);

} // namespace moec

#endif // MOEC_RUNTIME_PROGRESS_H
