//===- OutputFile.h - files the tools write -------------------*- C++ -*-===//
//
// Outputs are checked before any work (not a directory, a device, a FIFO or
// one of the inputs), written under a fresh name beside the target and
// renamed over it at the end, so that a failure, a full disk or SIGINT /
// SIGTERM leaves neither a partial file nor a temporary behind, and a
// planted link is never followed.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_RUNTIME_OUTPUTFILE_H
#define MOEC_RUNTIME_OUTPUTFILE_H

#include "runtime/Status.h"

#include <cstddef>
#include <string>
#include <vector>

namespace moec {

/// Whether `path` may be written as an output: not empty, not a directory,
/// an existing file only if a regular one, and not the same file as any of
/// `inputs` (for a directory among them: as any file in it). An error
/// naming the path otherwise.
Status checkOutputPath(const std::string &path,
                       const std::vector<std::string> &inputs = {});

/// Removes `path` if the process ends on SIGINT or SIGTERM (until
/// forgetOnSignal); the handlers are installed on first use.
void removeOnSignal(const std::string &path);
void forgetOnSignal(const std::string &path);

/// A new file beside `path`, renamed over it by commit(); removed by the
/// destructor if not committed.
class OutputFile {
public:
  OutputFile() = default;
  OutputFile(const OutputFile &) = delete;
  OutputFile &operator=(const OutputFile &) = delete;
  ~OutputFile();

  /// Creates the temporary (O_EXCL, no links followed).
  Status open(const std::string &path);
  /// Writes all of `data`; an error names the target and says why.
  Status write(const void *data, size_t size);
  /// Closes and renames over the target.
  Status commit();

private:
  std::string target, temp;
  int fd = -1;
};

} // namespace moec

#endif // MOEC_RUNTIME_OUTPUTFILE_H
