//===- ArtifactFuzzer.cpp - fuzz the artifact reader ---------------------===//
//
// The header's checksum is repaired before each check, so that mutations
// reach the flatbuffers Verifier, the layout and the trailer checks instead
// of stopping at the checksum.
//
//===----------------------------------------------------------------------===//

#include "runtime/Artifact.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<uint8_t> file(data, data + size);
  if (size >= moec::kPrefixBytes) {
    uint64_t headerSize = moec::readLe64(file.data() + 8);
    if (headerSize <= size - moec::kPrefixBytes)
      moec::writeLe64(file.data() + 16,
                      moec::headerChecksum(file.data(), headerSize));
  }
  const moec::artifact::Header *header = nullptr;
  uint64_t signedBytes = 0;
  moec::Status status =
      moec::Artifact::check(file.data(), file.size(),
                            /*verifyChecksums=*/false, header, signedBytes);
  if (!status)
    return 0;
  // Whatever was accepted lies inside the file, and reads as the runtime
  // reads it.
  if (signedBytes > size)
    __builtin_trap();
  if (const auto *segments = header->segments())
    for (const moec::artifact::Segment *s : *segments)
      if (s->offset() > size || s->size() > size - s->offset())
        __builtin_trap();
  const moec::artifact::ModelConfig &c = *header->config();
  // Unsigned: the config's numbers are checked later, against the code's
  // manifest, and may be anything here.
  volatile uint64_t sink = uint64_t(c.vocab_size()) + uint64_t(c.num_layers()) +
                           uint64_t(c.head_dim());
  if (c.architecture())
    sink = sink + std::strlen(c.architecture()->c_str());
  (void)sink;
  return 0;
}
