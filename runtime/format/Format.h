//===- Format.h - the .moec artifact format ---------------------*- C++ -*-===//
//
// What the compiler writes and the runtime reads, and nothing else: the
// header schema (Artifact.fbs, compiled by flatc), the magic and version,
// the alignments and the segment checksum. Both sides include this; it
// depends on flatbuffers and xxhash only.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_RUNTIME_FORMAT_FORMAT_H
#define MOEC_RUNTIME_FORMAT_FORMAT_H

#include "runtime/format/Artifact_generated.h"

#include <xxhash.h>

#include <cstddef>
#include <cstdint>

namespace moec {

/// The first 8 bytes of every artifact.
inline constexpr char kArtifactMagic[8] = {'M',  'O', 'E', 'C',
                                           '\0', 'A', 'R', 'T'};
/// Bumped whenever the header or the segment contents change meaning
/// (2: the code's activity counters have a multiply-add column; 3: the
/// entry point takes the count of output rows; 4: the counters split weight
/// bytes by part and count predicted neurons; 5: the prefix holds the
/// header's checksum, segments tile the file, the code states its shapes,
/// an optional signature trailer; 6: the entry point takes each token's
/// cache offset, so that one call runs several sequences).
inline constexpr uint32_t kArtifactFormatVersion = 6;
/// The prefix: the magic, the header's size N (u64, little-endian) and the
/// header's checksum (u64, little-endian; headerChecksum); the header
/// follows.
inline constexpr uint64_t kPrefixBytes = 24;
/// Segments start at multiples of this.
inline constexpr uint64_t kSegmentAlignment = 4096;
/// Weights start at multiples of this inside their segment.
inline constexpr uint64_t kWeightAlignment = 64;

/// Bytes of one element of `type` (bf16, f16 or f32: a KV cache's).
inline constexpr int64_t dtypeBytes(artifact::DType type) {
  return type == artifact::DType::F32 ? 4 : 2;
}

/// `type` as the tools spell it: bf16, f16, f32, q8_0 or q4_0.
inline constexpr const char *dtypeName(artifact::DType type) {
  switch (type) {
  case artifact::DType::F32:
    return "f32";
  case artifact::DType::F16:
    return "f16";
  case artifact::DType::Q8_0:
    return "q8_0";
  case artifact::DType::Q4_0:
    return "q4_0";
  default:
    return "bf16";
  }
}

/// The checksum of a segment: XXH3, 64 bits.
inline uint64_t segmentChecksum(const void *data, size_t size) {
  return XXH3_64bits(data, size);
}

/// A little-endian u64 of the prefix (the header's size and checksum).
inline uint64_t readLe64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= uint64_t(p[i]) << (8 * i);
  return v;
}
inline void writeLe64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    p[i] = uint8_t(v >> (8 * i));
}

/// The checksum of the prefix's first 16 bytes (magic and size) and of the
/// header, the N bytes at kPrefixBytes of `file`.
inline uint64_t headerChecksum(const uint8_t *file, uint64_t headerSize) {
  XXH3_state_t *state = XXH3_createState();
  XXH3_64bits_reset(state);
  XXH3_64bits_update(state, file, 16);
  XXH3_64bits_update(state, file + kPrefixBytes, headerSize);
  uint64_t digest = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  return digest;
}

/// The same checksum, of a segment written piece by piece.
class SegmentHasher {
public:
  SegmentHasher() : state(XXH3_createState()) { XXH3_64bits_reset(state); }
  ~SegmentHasher() { XXH3_freeState(state); }
  SegmentHasher(const SegmentHasher &) = delete;
  SegmentHasher &operator=(const SegmentHasher &) = delete;

  void update(const void *data, size_t size) {
    XXH3_64bits_update(state, data, size);
  }
  uint64_t digest() const { return XXH3_64bits_digest(state); }

private:
  XXH3_state_t *state;
};

} // namespace moec

#endif // MOEC_RUNTIME_FORMAT_FORMAT_H
