//===- CheckpointWriter.cpp - random HF checkpoints ---------------------===//

#include "compiler/import/CheckpointWriter.h"
#include "compiler/import/Diagnostics.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>

using namespace moec;
using llvm::Error;
using llvm::StringRef;

namespace {


/// SplitMix64: small, fast, and the same on every platform.
struct Random {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  /// Uniform in [-1, 1).
  float uniform() { return float(next() >> 40) * 0x1p-23f - 1.0f; }
};

uint64_t hashName(StringRef name) {
  uint64_t h = 0xcbf29ce484222325ull; // FNV-1a
  for (unsigned char c : name)
    h = (h ^ c) * 0x100000001b3ull;
  return h;
}

uint16_t toBF16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  bits += 0x7fff + ((bits >> 16) & 1); // round to nearest even
  return uint16_t(bits >> 16);
}

uint16_t toF16(float value) {
  _Float16 half = static_cast<_Float16>(value);
  uint16_t bits;
  std::memcpy(&bits, &half, 2);
  return bits;
}

/// Values with the scale a trained model has: unit-variance activations
/// through each projection (uniform, 1/sqrt(fan_in)), norms near 1.
struct ValueScale {
  float offset, range;
};

ValueScale scaleFor(const TensorSpec &spec) {
  if (spec.shape.size() == 1)
    return StringRef(spec.name).ends_with(".bias") ? ValueScale{0.0f, 0.5f}
                                                   : ValueScale{1.0f, 0.1f};
  if (StringRef(spec.name).contains("embed_tokens"))
    return {0.0f, 1.0f};
  int64_t fanIn = spec.shape.back();
  return {0.0f, std::sqrt(3.0f / float(fanIn))};
}

/// Writes one tensor's data in `dtype` to `out`.
void writeData(llvm::raw_ostream &out, const TensorSpec &spec, DType dtype,
               uint64_t seed, uint64_t count) {
  Random random{seed ^ hashName(spec.name)};
  ValueScale scale = scaleFor(spec);
  std::vector<char> buffer;
  constexpr uint64_t kChunk = 1 << 16;
  unsigned bytes = dtypeBits(dtype) / 8;
  for (uint64_t done = 0; done < count; done += kChunk) {
    uint64_t n = std::min(kChunk, count - done);
    buffer.resize(n * bytes);
    for (uint64_t i = 0; i < n; ++i) {
      float value = scale.offset + scale.range * random.uniform();
      char *slot = buffer.data() + i * bytes;
      if (dtype == DType::F32) {
        std::memcpy(slot, &value, 4);
      } else {
        uint16_t half = dtype == DType::BF16 ? toBF16(value) : toF16(value);
        std::memcpy(slot, &half, 2);
      }
    }
    out.write(buffer.data(), buffer.size());
  }
}

uint64_t numElements(const TensorSpec &spec) {
  uint64_t n = 1;
  for (int64_t dim : spec.shape)
    n *= dim;
  return n;
}

/// Writes one safetensors file holding `specs`.
Error writeShard(StringRef path, llvm::ArrayRef<TensorSpec> specs,
                 const CheckpointWriterOptions &options, uint64_t &written,
                 uint64_t total) {
  nlohmann::ordered_json header;
  header["__metadata__"] = {{"format", "pt"}};
  uint64_t offset = 0;
  unsigned bytes = dtypeBits(options.dtype) / 8;
  for (const TensorSpec &spec : specs) {
    uint64_t size = numElements(spec) * bytes;
    header[spec.name] = {{"dtype", dtypeName(options.dtype).str()},
                         {"shape", spec.shape},
                         {"data_offsets", {offset, offset + size}}};
    offset += size;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' '); // writers pad to 8 bytes

  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec);
  if (ec)
    return fileError(path, "cannot write: " + ec.message());
  char length[8];
  llvm::support::endian::write64le(length, text.size());
  out.write(length, 8);
  out << text;
  if (options.headersOnly) {
    // Seeking past the end and writing the last byte leaves a hole.
    if (offset > 0) {
      out.seek(8 + text.size() + offset - 1);
      out << '\0';
    }
  } else {
    for (const TensorSpec &spec : specs) {
      writeData(out, spec, options.dtype, options.seed, numElements(spec));
      written += numElements(spec) * bytes;
      if (options.progress)
        options.progress(written, total);
    }
  }
  out.close();
  if (out.has_error())
    return fileError(path, "write failed: " + out.error().message());
  return Error::success();
}

} // namespace

Error moec::writeCheckpoint(StringRef directory, const ModelConfig &config,
                            const CheckpointWriterOptions &options) {
  if (options.dtype != DType::BF16 && options.dtype != DType::F16 &&
      options.dtype != DType::F32)
    return fileError(directory, "the synthesiser writes BF16, F16 or F32");
  if (options.shards < 1)
    return fileError(directory, "needs at least one shard");
  if (std::error_code ec = llvm::sys::fs::create_directories(directory))
    return fileError(directory, "cannot create: " + ec.message());
  auto join = [&](StringRef name) {
    llvm::SmallString<256> path(directory);
    llvm::sys::path::append(path, name);
    return std::string(path);
  };

  ModelConfig written = config;
  static const char *dtypeNames[] = {"bfloat16", "float16", "float32"};
  written.torchDtype = dtypeNames[options.dtype == DType::BF16  ? 0
                                  : options.dtype == DType::F16 ? 1
                                                                : 2];
  {
    std::error_code ec;
    llvm::raw_fd_ostream out(join("config.json"), ec);
    if (ec)
      return fileError(join("config.json"), "cannot write: " + ec.message());
    out << written.toJson();
  }

  std::vector<TensorSpec> specs =
      CheckpointLayout(config, options.expertStorage)
          .allTensors(options.predictorRank);
  unsigned bytes = dtypeBits(options.dtype) / 8;
  uint64_t total = 0;
  for (const TensorSpec &spec : specs)
    total += numElements(spec) * bytes;

  uint64_t done = 0;
  if (options.shards == 1)
    return writeShard(join("model.safetensors"), specs, options, done, total);

  // Consecutive tensors, about total/shards bytes per shard.
  int64_t shards = std::min<int64_t>(options.shards, specs.size());
  nlohmann::ordered_json index;
  index["metadata"] = {{"total_size", total}};
  nlohmann::ordered_json weightMap = nlohmann::ordered_json::object();
  size_t next = 0;
  uint64_t assigned = 0;
  for (int64_t k = 0; k < shards; ++k) {
    std::string name = llvm::formatv("model-{0:d5}-of-{1:d5}.safetensors",
                                     k + 1, shards)
                           .str();
    uint64_t target = total * (k + 1) / shards;
    size_t first = next;
    // Leave at least one tensor for every later shard.
    while (next < specs.size() - (shards - 1 - k) &&
           (next == first || assigned < target)) {
      assigned += numElements(specs[next]) * bytes;
      ++next;
    }
    if (k == shards - 1)
      next = specs.size();
    llvm::ArrayRef<TensorSpec> part(specs.data() + first, next - first);
    for (const TensorSpec &spec : part)
      weightMap[spec.name] = name;
    if (Error error = writeShard(join(name), part, options, done, total))
      return error;
  }
  index["weight_map"] = weightMap;
  std::error_code ec;
  llvm::raw_fd_ostream out(join("model.safetensors.index.json"), ec);
  if (ec)
    return fileError(join("model.safetensors.index.json"),
                     "cannot write: " + ec.message());
  out << index.dump(2) << "\n";
  return Error::success();
}
