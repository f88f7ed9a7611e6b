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
#include "runtime/Signature.h"
#include "runtime/Status.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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

  /// Maps `path` and checks the magic, the header (its checksum, the
  /// flatbuffers Verifier and the format version), that the segments tile
  /// the file with zero padding and nothing after them but a signature
  /// trailer, that every weight lies inside its segment, and, with
  /// `verifyChecksums`, every segment's checksum.
  static Status open(const std::string &path, Artifact &out,
                     bool verifyChecksums = true);

  /// The checks of open() on `size` bytes of a file: on success `header`
  /// is its header and `signedBytes` the bytes a signature trailer covers
  /// (0: none). (The artifact fuzzer's entry.)
  static Status check(const uint8_t *bytes, size_t size, bool verifyChecksums,
                      const artifact::Header *&header, uint64_t &signedBytes);

  const artifact::Header &header() const { return *hdr; }
  const std::string &path() const { return filePath; }
  uint64_t fileSize() const { return mapSize; }

  /// The bytes of the segment of `kind`; empty when there is none.
  Bytes segment(artifact::SegmentKind kind) const;

  /// Whether the file at path() is still the one opened (same file, size
  /// and modification time): an artifact overwritten in place under a
  /// running model would mix new weights with the old cache, or fault when
  /// truncated. An error saying so otherwise.
  Status checkUnchanged() const;

  /// The key a signed artifact names as its signer (not yet verified).
  std::optional<PublicKey> signer() const;
  /// Succeeds when the artifact is signed by one of `trusted` and its
  /// signature holds for every byte before it; else an error saying which
  /// of the three is not so.
  Status verifySignature(const std::vector<PublicKey> &trusted) const;

private:
  void release();

  std::string filePath;
  void *map = nullptr;
  size_t mapSize = 0;
  const artifact::Header *hdr = nullptr;
  /// Bytes covered by the signature trailer; 0: not signed.
  uint64_t signedBytes = 0;
  /// The file's identity when it was opened.
  uint64_t device = 0, inode = 0;
  int64_t modifiedNs = 0;
};

/// The public keys of `dir`: every file named *.pub, each 64 hex digits (as
/// moec-keygen writes them). None, or a file that is not a key, is an error
/// naming it.
Status readTrustedKeys(const std::string &dir, std::vector<PublicKey> &out);

} // namespace moec

#endif // MOEC_RUNTIME_ARTIFACT_H
