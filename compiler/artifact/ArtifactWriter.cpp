//===- ArtifactWriter.cpp - writing .moec artifacts ---------------------===//

#include "compiler/artifact/ArtifactWriter.h"
#include "compiler/quant/BlockFormats.h"
#include "compiler/import/Diagnostics.h"
#include "compiler/import/Importer.h"

#include "compiler/import/ModelConfigAttr.h"
#include "dialects/moe/IR/MoeOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Signals.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/raw_ostream.h"


#include <cmath>
#include <cstring>
#include <memory>

#ifndef MOEC_VERSION
#define MOEC_VERSION "unknown"
#endif

using namespace mlir;
using namespace moec;
using llvm::Error;

namespace {


artifact::DType dtypeOf(Type type) {
  if (type.isBF16())
    return artifact::DType::BF16;
  if (type.isF16())
    return artifact::DType::F16;
  return artifact::DType::F32;
}

artifact::DType dtypeOf(const PlannedWeight &w) {
  if (w.format)
    return *w.format == moe::BlockFormat::Q8_0 ? artifact::DType::Q8_0
                                               : artifact::DType::Q4_0;
  return dtypeOf(w.type.getElementType());
}

artifact::Head headOf(Head head) {
  switch (head) {
  case Head::CausalLM:
    return artifact::Head::CausalLM;
  case Head::SequenceClassification:
    return artifact::Head::SequenceClassification;
  case Head::TokenClassification:
    return artifact::Head::TokenClassification;
  }
  llvm_unreachable("unknown head");
}

/// A display name for a weight: its tensor's, or with several parts the
/// first part's and how many follow.
std::string weightName(llvm::ArrayRef<moe::WeightRefAttr> parts) {
  std::string name = parts.front().getTensor().str();
  if (parts.size() > 1)
    name += " (+" + std::to_string(parts.size() - 1) + " stacked)";
  return name;
}

/// Streams bytes into the output file while hashing them.
class SegmentStream {
public:
  SegmentStream(llvm::raw_pwrite_stream &os) : os(os) {}
  void write(const char *data, size_t size) {
    os.write(data, size);
    hasher.update(data, size);
    written += size;
  }
  void pad(uint64_t to) {
    static const char zeros[4096] = {};
    while (written < to)
      write(zeros, std::min<uint64_t>(sizeof(zeros), to - written));
  }
  uint64_t size() const { return written; }
  uint64_t checksum() const { return hasher.digest(); }

private:
  llvm::raw_pwrite_stream &os;
  SegmentHasher hasher;
  uint64_t written = 0;
};

/// A [rows, cols] matrix's bytes as [cols, rows], in tiles that stay in
/// cache.
std::vector<char> transposedBytes(llvm::StringRef data,
                                  moe::WeightRefAttr part) {
  int64_t rows = part.getShape()[0], cols = part.getShape()[1];
  size_t bytes = part.getDtype().getIntOrFloatBitWidth() / 8;
  std::vector<char> out(data.size());
  constexpr int64_t kTile = 64;
  for (int64_t r0 = 0; r0 < rows; r0 += kTile)
    for (int64_t c0 = 0; c0 < cols; c0 += kTile)
      for (int64_t r = r0; r < std::min(rows, r0 + kTile); ++r)
        for (int64_t c = c0; c < std::min(cols, c0 + kTile); ++c)
          std::memcpy(&out[(c * rows + r) * bytes],
                      data.data() + (r * cols + c) * bytes,
                      bytes);
  return out;
}

/// A part's values as f32, in the order the artifact stores them (its
/// transpose when `transposed`).
std::vector<float> storedValues(llvm::StringRef data, moe::WeightRefAttr part,
                                bool transposed) {
  std::vector<char> swapped;
  if (transposed) {
    swapped = transposedBytes(data, part);
    data = llvm::StringRef(swapped.data(), swapped.size());
  }
  int64_t n = part.getNumElements();
  Type dtype = part.getDtype();
  std::vector<float> values(n);
  for (int64_t i = 0; i < n; ++i) {
    const char *at = data.data() + i * (dtype.getIntOrFloatBitWidth() / 8);
    if (dtype.isF32()) {
      std::memcpy(&values[i], at, 4);
      continue;
    }
    uint16_t bits;
    std::memcpy(&bits, at, 2);
    if (dtype.isBF16()) {
      uint32_t wide = uint32_t(bits) << 16;
      std::memcpy(&values[i], &wide, 4);
    } else {
      _Float16 half;
      std::memcpy(&half, &bits, 2);
      values[i] = float(half);
    }
  }
  return values;
}

/// Byte `j` of a block's quants (llama.cpp's order) where the interleaved
/// layout puts it among its group's quants (block `b` of 16), and the
/// nibble of it for Q4_0: values 8 k + i (low) and 8 k + 4 + i (high) of
/// a block share byte 64 k + 4 b + i, so value v's nibble moves; Q8_0's
/// value 4 s + i is byte 64 s + 4 b + i, offset by 128 (unsigned).
void interleaveGroup(moe::BlockFormat format, const uint8_t *quants,
                     size_t blocks, uint8_t *out) {
  size_t quantBytes = moe::quantBytes(format);
  std::memset(out, 0, blocks * quantBytes);
  for (size_t b = 0; b < blocks; ++b) {
    const uint8_t *q = quants + b * quantBytes;
    for (size_t v = 0; v < size_t(moe::kBlockValues); ++v) {
      if (format == moe::BlockFormat::Q8_0) {
        out[64 * (v / 4) + 4 * b + v % 4] = uint8_t(q[v] ^ 0x80);
        continue;
      }
      // llama.cpp: value j low in byte j, value j + 16 high.
      uint8_t nibble = v < 16 ? q[v] & 15 : q[v - 16] >> 4;
      size_t slot = v / 4, at = 64 * (slot / 2) + 4 * b + v % 4;
      out[at] |= uint8_t(nibble << (4 * (slot % 2)));
    }
  }
}

/// Writes a part's stored rows as blocks of `format` in `layout`; a block
/// whose scale is not a finite f16 is an error naming the tensor.
Error writeQuantized(SegmentStream &stream, llvm::StringRef data,
                     moe::WeightRefAttr part, bool transposed,
                     moe::BlockFormat format, moe::BlockLayout layout) {
  std::vector<float> values = storedValues(data, part, transposed);
  auto blockFormat = format == moe::BlockFormat::Q8_0
                         ? quant::BlockFormat::Q8_0
                         : quant::BlockFormat::Q4_0;
  int64_t rowLength =
      transposed ? part.getShape()[0] : part.getShape().back();
  int64_t rows = int64_t(values.size()) / rowLength;
  std::vector<uint8_t> row(quant::rowBytes(blockFormat, rowLength)),
      split(row.size());
  // #moe.blocks: groups of kGroupBlocks blocks, each its blocks' quants,
  // then their scales.
  size_t block = quant::blockBytes(blockFormat), quants = block - 2,
         blocks = row.size() / block;
  for (int64_t r = 0; r < rows; ++r) {
    quant::quantizeRow(blockFormat, values.data() + r * rowLength, rowLength,
                       row.data());
    for (size_t b = 0; b < blocks; ++b) {
      const uint8_t *from = &row[b * block];
      uint16_t scale = uint16_t(from[0] | from[1] << 8);
      if ((scale & 0x7c00) == 0x7c00)
        return llvm::createStringError(
            "weight '%s': a block of row %lld has a scale that is not a "
            "finite f16 (values beyond %s's range)",
            part.getTensor().str().c_str(), (long long)r,
            quant::name(blockFormat).data());
      size_t first = b / moe::kGroupBlocks * moe::kGroupBlocks,
             count = std::min<size_t>(moe::kGroupBlocks, blocks - first),
             start = first * block;
      std::memcpy(&split[start + (b - first) * quants], from + 2, quants);
      std::memcpy(&split[start + count * quants + 2 * (b - first)], from, 2);
    }
    if (layout == moe::BlockLayout::Interleaved) {
      std::vector<uint8_t> group(moe::kGroupBlocks * quants);
      for (size_t first = 0; first < blocks; first += moe::kGroupBlocks) {
        uint8_t *at = &split[first * block];
        interleaveGroup(format, at, moe::kGroupBlocks, group.data());
        std::memcpy(at, group.data(), group.size());
      }
    }
    stream.write(reinterpret_cast<const char *>(split.data()), split.size());
  }
  return Error::success();
}

/// Writes a part's stored values converted to `element` (f32, f16 or
/// bf16), rounded to nearest even; a value past the type's range is an
/// error naming the tensor.
Error writeConverted(SegmentStream &stream, llvm::StringRef data,
                     moe::WeightRefAttr part, bool transposed, Type element) {
  std::vector<float> values = storedValues(data, part, transposed);
  if (element.isF32()) {
    stream.write(reinterpret_cast<const char *>(values.data()),
                 values.size() * sizeof(float));
    return Error::success();
  }
  std::vector<uint16_t> out(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    uint32_t bits;
    std::memcpy(&bits, &values[i], 4);
    if (element.isBF16()) {
      // Round to nearest even on the 16 bits dropped; finite inputs whose
      // rounding overflows become infinities, caught below.
      out[i] = uint16_t((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);
      if ((out[i] & 0x7f80) == 0x7f80 && std::isfinite(values[i]))
        return llvm::createStringError(
            "weight '%s': value %g at %zu is past bf16's range",
            part.getTensor().str().c_str(), values[i], i);
      continue;
    }
    _Float16 half = _Float16(values[i]);
    std::memcpy(&out[i], &half, 2);
    if ((out[i] & 0x7c00) == 0x7c00 && std::isfinite(values[i]))
      return llvm::createStringError(
          "weight '%s': value %g at %zu is past f16's range (65504)",
          part.getTensor().str().c_str(), values[i], i);
  }
  stream.write(reinterpret_cast<const char *>(out.data()), out.size() * 2);
  return Error::success();
}

/// The index of the first value of `data` (of float type `dtype`) that is
/// NaN or infinite, if any.
std::optional<size_t> firstNonFinite(llvm::StringRef data, Type dtype) {
  size_t bytes = dtype.getIntOrFloatBitWidth() / 8;
  // The exponent field: all ones means NaN or infinity.
  uint32_t mask = dtype.isF32() ? 0x7f800000u : dtype.isBF16() ? 0x7f80u : 0x7c00u;
  for (size_t i = 0; i < data.size() / bytes; ++i) {
    uint32_t bits = 0;
    std::memcpy(&bits, data.data() + i * bytes, bytes);
    if ((bits & mask) == mask)
      return i;
  }
  return std::nullopt;
}

struct SegmentRecord {
  artifact::SegmentKind kind;
  uint64_t offset, size, checksum;
};

/// The flatbuffer header. Defaults are forced so that its size does not
/// depend on offsets and checksums, which are known only after the segments
/// are written.
flatbuffers::DetachedBuffer
buildHeader(const ArtifactContents &contents, const ArtifactOptions &options,
            const std::vector<SegmentRecord> &segments) {
  const ModelConfig &config = contents.config;
  flatbuffers::FlatBufferBuilder fb;
  fb.ForceDefaults(true);
  auto str = [&](llvm::StringRef s) { return fb.CreateString(s.str()); };

  auto configTable = artifact::CreateModelConfig(
      fb, str(config.toJson()), str(config.architecture), config.vocabSize,
      config.hiddenSize, config.numLayers, config.numKvHeads, config.headDim,
      config.maxPositionEmbeddings, config.bosTokenId.value_or(-1),
      config.eosTokenIds.empty() ? -1 : config.eosTokenIds.front(),
      headOf(config.head),
      config.head == Head::CausalLM ? 0 : config.numLabels,
      dtypeOf(contents.kvCacheType), fb.CreateVector(config.eosTokenIds),
      config.routerMixesTokens());
  const ArtifactTarget &t = options.target;
  auto target = artifact::CreateTarget(
      fb, t.cuda ? artifact::TargetKind::Cuda : artifact::TargetKind::Cpu,
      str(t.triple), str(t.cpu), str(t.features));

  std::vector<flatbuffers::Offset<artifact::Segment>> segmentTables;
  for (const SegmentRecord &s : segments)
    segmentTables.push_back(
        artifact::CreateSegment(fb, s.kind, s.offset, s.size, s.checksum));

  std::vector<flatbuffers::Offset<artifact::Weight>> weights;
  for (const PlannedWeight &w : contents.weights) {
    std::vector<int64_t> shape(w.type.getShape().begin(),
                               w.type.getShape().end());
    weights.push_back(artifact::CreateWeight(
        fb, str(w.name), w.offset, w.size(), dtypeOf(w),
        fb.CreateVector(shape),
        w.transposed ? artifact::WeightLayout::NeuronMajor
                     : artifact::WeightLayout::RowMajor,
        w.layout == mlir::moe::BlockLayout::Interleaved
            ? artifact::BlockLayout::Interleaved
            : artifact::BlockLayout::Grouped));
  }

  std::vector<flatbuffers::Offset<artifact::EntryPoint>> entries;
  for (const auto &[name, symbol] : options.entryPoints)
    entries.push_back(artifact::CreateEntryPoint(fb, str(name), str(symbol)));

  flatbuffers::Offset<artifact::TokenizerInfo> tokenizer;
  if (!options.tokenizer.bytes.empty())
    tokenizer = artifact::CreateTokenizerInfo(
        fb, options.tokenizer.format, str(options.tokenizer.fileName),
        str(options.tokenizer.configJson));

  auto header = artifact::CreateHeader(
      fb, kArtifactFormatVersion, str(MOEC_VERSION), configTable, target,
      fb.CreateVector(segmentTables), fb.CreateVector(weights),
      fb.CreateVector(entries), tokenizer);
  artifact::FinishHeaderBuffer(fb, header);
  return fb.Release();
}

/// The checkpoint files a module's weights come from, mapped once each.
class SourceFiles {
public:
  explicit SourceFiles(std::string directory) : dir(std::move(directory)) {}

  /// The bytes a reference names, checked against the file's size.
  llvm::Expected<llvm::StringRef> bytes(moe::WeightRefAttr ref) {
    // A reference names a file of the checkpoint directory itself, as the
    // importer writes them: no directories, no "..", nothing absolute.
    llvm::StringRef file = ref.getFile();
    if (file.empty() || file == "." || file == ".." ||
        file.find_first_of("/\\") != llvm::StringRef::npos)
      return fileError(dir, "weight '" + ref.getTensor() +
                                "' names the file '" + file +
                                "', which is not in the checkpoint "
                                "directory");
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, file);
    auto it = maps.find(path);
    if (it == maps.end()) {
      auto buffer = readRegularFile(path);
      if (!buffer)
        return buffer.takeError();
      it = maps.try_emplace(path, std::move(*buffer)).first;
    }
    llvm::StringRef data = it->second->getBuffer();
    if (ref.getOffset() > data.size() ||
        ref.getSizeInBytes() > data.size() - ref.getOffset())
      return fileError(path, "tensor '" + ref.getTensor() +
                                 "' lies past the end of the file; was the "
                                 "checkpoint changed after import?");
    return data.substr(ref.getOffset(), ref.getSizeInBytes());
  }

private:
  std::string dir;
  llvm::StringMap<std::unique_ptr<llvm::MemoryBuffer>> maps;
};

} // namespace

llvm::Expected<SecretKey> moec::readSecretKey(llvm::StringRef path) {
  llvm::sys::fs::file_status status;
  if (std::error_code ec = llvm::sys::fs::status(path, status))
    return fileError(path, "cannot read the key: " + ec.message());
  if (status.type() != llvm::sys::fs::file_type::regular_file ||
      status.getSize() > 4096)
    return fileError(path, "not a secret key file");
  if (status.permissions() & (llvm::sys::fs::group_all | llvm::sys::fs::others_all))
    return fileError(path, "a secret key others may read or write; make it "
                           "the owner's only (chmod 600)");
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return fileError(path, "cannot read the key: " +
                               buffer.getError().message());
  std::optional<SecretKey> key =
      fromHex<crypto_sign_SECRETKEYBYTES>((*buffer)->getBuffer().str());
  if (!key)
    return fileError(path, "not a secret key (128 hex digits, as "
                           "moec-keygen writes)");
  return *key;
}

uint64_t PlannedWeight::size() const {
  return moe::storedBytes(type, format);
}

llvm::Expected<ArtifactContents>
moec::collectArtifactContents(ModuleOp module, llvm::StringRef where) {
  auto configAttr = module->getAttrOfType<DictionaryAttr>(kConfigAttrName);
  auto dirAttr = module->getAttrOfType<StringAttr>(moe::kCheckpointAttrName);
  if (!configAttr || !dirAttr)
    return fileError(where, "the module has no moe.config or moe.checkpoint "
                            "attribute; was it made by moec-import?");
  llvm::Expected<ModelConfig> config =
      configFromAttr(configAttr, (where + ": moe.config").str());
  if (!config)
    return config.takeError();
  ArtifactContents contents{std::move(*config), dirAttr.str(), {}, {}};
  auto forward = module.lookupSymbol<func::FuncOp>("forward");
  if (!forward || forward.getNumArguments() != kForwardArguments)
    return fileError(where, "the module has no @forward(tokens, positions, "
                            "kv_cache, output_rows); was it made by this "
                            "moec-import?");
  contents.kvCacheType =
      cast<ShapedType>(forward.getArgumentTypes()[kKvCacheArgument])
          .getElementType();
  bool planned = true;
  module.walk([&](moe::WeightOp op) {
    auto offset = op->getAttrOfType<IntegerAttr>(moe::kWeightOffsetAttrName);
    if (!offset) {
      planned = false;
      return;
    }
    std::vector<moe::WeightRefAttr> parts(
        op.getParts().getAsRange<moe::WeightRefAttr>().begin(),
        op.getParts().getAsRange<moe::WeightRefAttr>().end());
    contents.weights.push_back({weightName(parts), uint64_t(offset.getInt()),
                                op.getResult().getType(), std::move(parts),
                                op.getTransposed(), op.getBlockFormat(),
                                op.getBlockLayout()});
  });
  if (!planned)
    return fileError(where, "weights without moe.offset: run moe-plan-weights");
  return contents;
}

Error moec::writeArtifact(const ArtifactContents &contents,
                          const ArtifactOptions &options,
                          llvm::StringRef path) {
  uint64_t weightBytes = 0, weightSegment = 0;
  for (const PlannedWeight &w : contents.weights) {
    weightBytes += w.size();
    weightSegment = std::max(weightSegment, w.offset + w.size());
  }

  // Segment placement, from the header's size with placeholder values.
  std::vector<SegmentRecord> segments;
  if (!options.code.empty())
    segments.push_back({artifact::SegmentKind::Code, 0, options.code.size(), 0});
  if (!options.deviceAssembly.empty())
    segments.push_back({artifact::SegmentKind::DeviceAssembly, 0,
                        options.deviceAssembly.size(), 0});
  if (!options.deviceCode.empty())
    segments.push_back({artifact::SegmentKind::DeviceCode, 0,
                        options.deviceCode.size(), 0});
  if (!options.tokenizer.bytes.empty())
    segments.push_back({artifact::SegmentKind::Tokenizer, 0,
                        options.tokenizer.bytes.size(), 0});
  segments.push_back({artifact::SegmentKind::Weights, 0, weightSegment, 0});
  size_t headerSize = buildHeader(contents, options, segments).size();
  uint64_t cursor = kPrefixBytes + headerSize;
  for (SegmentRecord &s : segments) {
    s.offset = llvm::alignTo(cursor, kSegmentAlignment);
    cursor = s.offset + s.size;
  }

  // Write to a temporary beside the output, then rename.
  llvm::SmallString<256> temp;
  int fd;
  if (std::error_code ec = llvm::sys::fs::createUniqueFile(
          path + ".tmp-%%%%%%", fd, temp))
    return fileError(path, "cannot create: " + ec.message());
  llvm::FileRemover removeTemp(temp);
  // Also on SIGINT and SIGTERM: no temporary as large as the model is left.
  llvm::sys::RemoveFileOnSignal(temp);
  llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
  // A write error (a full disk) is reported below with the file's name; an
  // early return must not leave it for the stream's destructor, which would
  // abort with a message naming nothing.
  llvm::scope_exit clearError([&] {
    if (os.has_error())
      os.clear_error();
    llvm::sys::DontRemoveFileOnSignal(temp);
  });

  std::vector<char> prefix(kPrefixBytes + headerSize, '\0');
  os.write(prefix.data(), prefix.size());
  SourceFiles sources(contents.checkpointDir);
  uint64_t copied = 0;
  for (SegmentRecord &s : segments) {
    os.seek(s.offset);
    SegmentStream stream(os);
    if (const std::vector<char> *blob = options.blob(s.kind)) {
      stream.write(blob->data(), blob->size());
    } else {
      for (const PlannedWeight &w : contents.weights) {
        stream.pad(w.offset);
        for (moe::WeightRefAttr part : w.parts) {
          llvm::Expected<llvm::StringRef> data = sources.bytes(part);
          if (!data)
            return data.takeError();
          if (!options.allowNonFinite)
            if (std::optional<size_t> at =
                    firstNonFinite(*data, part.getDtype())) {
              llvm::SmallString<256> source(contents.checkpointDir);
              llvm::sys::path::append(source, part.getFile());
              return fileError(source,
                               "tensor '" + part.getTensor() + "' holds NaN "
                               "or infinity (element " + llvm::Twine(*at) +
                               "); the checkpoint is damaged "
                               "(--allow-nonfinite writes it anyway)");
            }
          if (w.format) {
            if (Error e = writeQuantized(stream, *data, part, w.transposed,
                                         *w.format, w.layout))
              return fileError(path, toString(std::move(e)));
          } else if (part.getDtype() != w.type.getElementType()) {
            if (Error e = writeConverted(stream, *data, part, w.transposed,
                                         w.type.getElementType()))
              return fileError(path, toString(std::move(e)));
          } else if (w.transposed) {
            std::vector<char> swapped = transposedBytes(*data, part);
            stream.write(swapped.data(), swapped.size());
          } else
            stream.write(data->data(), data->size());
          copied += data->size();
          if (options.progress)
            options.progress(copied, weightBytes);
        }
      }
      stream.pad(s.size);
    }
    s.checksum = stream.checksum();
  }

  flatbuffers::DetachedBuffer header =
      buildHeader(contents, options, segments);
  if (header.size() != headerSize)
    return fileError(path, "internal error: the header changed size");
  // The prefix (magic, size, the header's checksum) and the header.
  std::vector<uint8_t> start(kPrefixBytes + headerSize);
  std::memcpy(start.data(), kArtifactMagic, 8);
  writeLe64(start.data() + 8, headerSize);
  std::memcpy(start.data() + kPrefixBytes, header.data(), header.size());
  writeLe64(start.data() + 16, headerChecksum(start.data(), headerSize));
  os.pwrite(reinterpret_cast<const char *>(start.data()), start.size(), 0);
  if (options.signingKey) {
    // Signed: every byte written so far, read back as the runtime will.
    os.flush();
    if (os.has_error())
      return fileError(path, "write failed: " + os.error().message());
    auto written = llvm::MemoryBuffer::getFile(
        temp, /*IsText=*/false, /*RequiresNullTerminator=*/false);
    if (!written || (*written)->getBufferSize() != cursor)
      return fileError(path, "cannot read back the file to sign it");
    Signature signature = signBytes(
        reinterpret_cast<const uint8_t *>((*written)->getBufferStart()),
        cursor, *options.signingKey);
    os.seek(cursor);
    os.write(kSignatureMagic, sizeof(kSignatureMagic));
    // The public key is the secret key's second half (libsodium's layout).
    os.write(reinterpret_cast<const char *>(options.signingKey->data()) +
                 crypto_sign_SEEDBYTES,
             crypto_sign_PUBLICKEYBYTES);
    os.write(reinterpret_cast<const char *>(signature.data()),
             signature.size());
  }
  os.close();
  if (os.has_error())
    return fileError(path, "write failed: " + os.error().message());
  if (std::error_code ec = llvm::sys::fs::rename(temp, path))
    return fileError(path, "cannot rename the temporary file: " +
                               ec.message());
  removeTemp.releaseFile();
  return Error::success();
}
