//===- Diagnostics.h - input files and errors about them --------*- C++ -*-===//
//
// Every reader reports "FILE: what is wrong" as one line; these helpers keep
// that form in one place, and open input files so that a FIFO or a device
// given as one is refused instead of hanging or reading forever.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_COMPILER_IMPORT_DIAGNOSTICS_H
#define MOEC_COMPILER_IMPORT_DIAGNOSTICS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace moec {

/// "path: message" as an error.
inline llvm::Error fileError(llvm::StringRef path, const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 (path + ": " + message).str());
}

/// A descriptor of `path` opened for reading, which must be a regular file
/// (opened without blocking, so that a FIFO is refused, not waited on);
/// its size in `size`.
inline llvm::Expected<int> openRegularFile(llvm::StringRef path,
                                           uint64_t &size) {
  int fd = ::open(path.str().c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return fileError(path, llvm::Twine("cannot open: ") + std::strerror(errno));
  struct stat info;
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return fileError(path, S_ISDIR(info.st_mode) ? "is a directory"
                                                 : "not a regular file");
  }
  size = uint64_t(info.st_size);
  return fd;
}

/// The contents of the regular file `path` (openRegularFile), at most
/// `limit` bytes.
inline llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readRegularFile(llvm::StringRef path, uint64_t limit = UINT64_MAX) {
  uint64_t size = 0;
  llvm::Expected<int> fd = openRegularFile(path, size);
  if (!fd)
    return fd.takeError();
  if (size > limit) {
    ::close(*fd);
    return fileError(path, "too large (" + llvm::Twine(size) +
                               " bytes, at most " + llvm::Twine(limit) + ")");
  }
  auto buffer = llvm::MemoryBuffer::getOpenFile(
      *fd, path, size, /*RequiresNullTerminator=*/false);
  ::close(*fd);
  if (!buffer)
    return fileError(path, "cannot read: " + buffer.getError().message());
  return std::move(*buffer);
}

/// A shape as "[a, b, c]".
inline std::string shapeString(llvm::ArrayRef<int64_t> shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

} // namespace moec

#endif // MOEC_COMPILER_IMPORT_DIAGNOSTICS_H
