//===- Artifact.h - reading .moec artifacts ---------------------*- C++ -*-===//
//
// An artifact is one file: a magic, a flatbuffers header (Artifact.fbs), and
// page-aligned segments (code, weights, ...) that are mapped, not read.
// Opening one checks everything a corrupt or truncated file could get wrong
// before any of it is used.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_RUNTIME_ARTIFACT_H
#define MOEC_RUNTIME_ARTIFACT_H

#include "runtime/format/Format.h"
#include "runtime/Status.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace moec {

struct Bytes {
  const uint8_t *data = nullptr;
  size_t size = 0;
};

class Artifact {
public:
  Artifact() = default;
  Artifact(Artifact &&other) noexcept;
  Artifact &operator=(Artifact &&other) noexcept;
  Artifact(const Artifact &) = delete;
  Artifact &operator=(const Artifact &) = delete;
  ~Artifact();

  /// Maps `path` and checks the magic, the header (flatbuffers Verifier and
  /// format version), that every segment and weight lies inside the file,
  /// and, with `verifyChecksums`, every segment's checksum.
  static Status open(const std::string &path, Artifact &out,
                     bool verifyChecksums = true);

  const artifact::Header &header() const { return *hdr; }
  const std::string &path() const { return filePath; }
  uint64_t fileSize() const { return mapSize; }

  /// The bytes of the segment of `kind`; empty when there is none.
  Bytes segment(artifact::SegmentKind kind) const;

private:
  void release();

  std::string filePath;
  void *map = nullptr;
  size_t mapSize = 0;
  const artifact::Header *hdr = nullptr;
};

} // namespace moec

#endif // MOEC_RUNTIME_ARTIFACT_H
