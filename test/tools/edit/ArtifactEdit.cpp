//===- ArtifactEdit.cpp - alter an artifact as an attacker would ---------===//
//
// A test helper: edits a .moec file in place and repairs every checksum, so
// that what is left to catch the edit is what the tests are about (the
// manifest the code states, the signature).
//
//   moec-artifact-edit set FILE FIELD VALUE   a header field of the config:
//       vocab_size, num_layers, num_kv_heads, head_dim, head, eos_token_id,
//       max_position_embeddings, target_kind
//   moec-artifact-edit entry-name FILE HEX     the first entry point's name
//       replaced by the bytes HEX spells (of the same length)
//   moec-artifact-edit plant-code FILE SO     the Code segment replaced by
//       SO (padded with zeros to the segment's size; no larger)
//
//===----------------------------------------------------------------------===//

#include "runtime/format/Format.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

using namespace moec;

namespace {

int fail(const std::string &message) {
  std::fprintf(stderr, "moec-artifact-edit: %s\n", message.c_str());
  return 1;
}

/// The address of a scalar field of a table in a buffer we may write.
uint8_t *field(const void *table, flatbuffers::voffset_t slot) {
  return const_cast<uint8_t *>(
      reinterpret_cast<const flatbuffers::Table *>(table)->GetAddressOf(slot));
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 4 && argc != 5)
    return fail("usage: set FILE FIELD VALUE | plant-code FILE SO");
  std::string command = argv[1], path = argv[2];
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> file((std::istreambuf_iterator<char>(in)), {});
  if (file.size() < kPrefixBytes)
    return fail(path + ": too short");
  uint64_t headerSize = readLe64(file.data() + 8);
  uint8_t *header = file.data() + kPrefixBytes;
  const artifact::Header *h = artifact::GetHeader(header);
  using C = artifact::ModelConfig;

  if (command == "set" && argc == 5) {
    std::string name = argv[3];
    long long value = std::stoll(argv[4]);
    struct {
      const char *name;
      const void *table;
      flatbuffers::voffset_t slot;
      int bytes;
    } fields[] = {
        {"vocab_size", h->config(), C::VT_VOCAB_SIZE, 8},
        {"num_layers", h->config(), C::VT_NUM_LAYERS, 8},
        {"num_kv_heads", h->config(), C::VT_NUM_KV_HEADS, 8},
        {"head_dim", h->config(), C::VT_HEAD_DIM, 8},
        {"eos_token_id", h->config(), C::VT_EOS_TOKEN_ID, 8},
        {"max_position_embeddings", h->config(),
         C::VT_MAX_POSITION_EMBEDDINGS, 8},
        {"head", h->config(), C::VT_HEAD, 1},
        {"target_kind", h->target(), artifact::Target::VT_KIND, 1}};
    uint8_t *at = nullptr;
    int bytes = 0;
    for (const auto &f : fields)
      if (name == f.name) {
        at = field(f.table, f.slot);
        bytes = f.bytes;
      }
    if (!at)
      return fail("unknown field " + name);
    for (int i = 0; i < bytes; ++i)
      at[i] = uint8_t(uint64_t(value) >> (8 * i));
  } else if (command == "entry-name" && argc == 4) {
    std::string hex = argv[3];
    const flatbuffers::String *name = h->entry_points()->Get(0)->name();
    if (hex.size() != 2 * name->size())
      return fail("the new name must have " + std::to_string(name->size()) +
                  " bytes");
    auto *at = const_cast<char *>(name->c_str());
    for (size_t i = 0; i < name->size(); ++i)
      at[i] = char(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  } else if (command == "plant-code" && argc == 4) {
    std::ifstream so(argv[3], std::ios::binary);
    std::vector<uint8_t> code((std::istreambuf_iterator<char>(so)), {});
    for (const artifact::Segment *s : *h->segments()) {
      if (s->kind() != artifact::SegmentKind::Code)
        continue;
      if (code.size() > s->size())
        return fail("the planted code is larger than the segment");
      code.resize(s->size(), 0);
      std::memcpy(file.data() + s->offset(), code.data(), code.size());
      writeLe64(field(s, artifact::Segment::VT_CHECKSUM),
                segmentChecksum(code.data(), code.size()));
    }
  } else {
    return fail("unknown command " + command);
  }
  writeLe64(file.data() + 16, headerChecksum(file.data(), headerSize));
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char *>(file.data()), file.size());
  return out ? 0 : fail(path + ": write failed");
}
