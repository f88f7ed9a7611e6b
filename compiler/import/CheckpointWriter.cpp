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
#include <thread>

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

uint64_t numElements(const TensorSpec &spec) {
  uint64_t n = 1;
  for (int64_t dim : spec.shape)
    n *= dim;
  return n;
}

/// The tensor's own random values, a stream from the seed and its name.
std::vector<float> randomValues(const TensorSpec &spec, uint64_t seed) {
  Random random{seed ^ hashName(spec.name)};
  ValueScale scale = scaleFor(spec);
  std::vector<float> values(numElements(spec));
  for (float &v : values)
    v = scale.offset + scale.range * random.uniform();
  return values;
}

/// The quantile of the standard normal distribution at p in (0, 1).
double normalQuantile(double p) {
  double lo = -40, hi = 40;
  for (int i = 0; i < 200; ++i) {
    double mid = (lo + hi) / 2;
    (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

/// What --active-fraction and --predictor-rank make of the random weights.
///
/// Active fraction F: channel 0 of the residual stream holds the same value
/// for every token (the embedding's, as large as the other channels
/// together), no layer writes it (the output projections' row 0 is zero)
/// and only the gate and up rows read it (every other product's column 0
/// is zero). After the MLP norm it is x0 = sqrt(H/2), while a random row's
/// product with the other channels is about normal with variance 1/2, so a
/// gate entry b in channel 0 makes P(gate > 0) = Phi(b sqrt(H)): 2F with up
/// rows unbiased (F <= 1/2), or sqrt(F) for both. The output projections
/// are scaled down so that what the layers add to the stream does not
/// drift that balance from layer to layer.
///
/// Predictors of rank R: the gate is low-rank, u v (K directions) plus a
/// little noise, so that fc2(relu(fc1 x)) with fc1 = [e0; v; -v] and
/// fc2 = [b, u, -u] (relu(z) - relu(-z) = z) reproduces its product but
/// for that noise: the predicted set is the gate-positive set but for
/// neurons near the threshold.
class Shaper {
public:
  Shaper(const ModelConfig &config, const CheckpointLayout &layout,
         const CheckpointWriterOptions &options)
      : config(config), layout(layout), options(options) {
    hidden = config.hiddenSize;
    inter = config.intermediateSize;
    fraction = options.activeFraction;
    lowRank = options.predictorRank > 0 &&
              config.activation == mlir::moe::Activation::DReLU;
    directions = lowRank ? (options.predictorRank - (fraction > 0)) / 2 : 0;
    if (fraction > 0) {
      double gateP = fraction <= 0.5 ? 2 * fraction : std::sqrt(fraction);
      double upP = fraction <= 0.5 ? 0.5 : std::sqrt(fraction);
      // The norm weights (1 +- 0.1) add 1/300 to the other channels'
      // variance.
      double unit = std::sqrt((1 + 1.0 / 300) / double(hidden));
      gateBias = float(normalQuantile(gateP) * unit);
      upBias = float(normalQuantile(upP) * unit);
      stream = float(std::sqrt(double(hidden - 1) / 3));
      outputScale = float(0.25 / std::sqrt(double(config.numLayers)));
    }
  }

  /// The values of `spec`, in its row-major order.
  std::vector<float> values(const TensorSpec &spec) const {
    std::vector<float> v = randomValues(spec, options.seed);
    if (lowRank && (spec.role == TensorRole::Gate ||
                    spec.role == TensorRole::PredictorFc1 ||
                    spec.role == TensorRole::PredictorFc2))
      lowRankValues(spec, v);
    if (fraction > 0)
      fractionValues(spec, v);
    return v;
  }

private:
  /// Noise left in a low-rank gate, as a share of its standard deviation.
  static constexpr float kNoise = 0.03f;

  struct Factors {
    std::vector<float> u, v; ///< [inter, K], [K, hidden]
  };

  Factors factors(int64_t layer, int64_t expert) const {
    std::string gate = layout.expert(layer, expert, Proj::Gate).name;
    Factors f{std::vector<float>(inter * directions),
              std::vector<float>(directions * hidden)};
    Random ru{options.seed ^ hashName(gate + "#u")};
    Random rv{options.seed ^ hashName(gate + "#v")};
    // Unit-variance directions; u scaled so that the gate's entries keep
    // variance 1/H.
    for (float &x : f.v)
      x = std::sqrt(3.0f) * rv.uniform();
    float uRange = std::sqrt(3.0f * (1 - kNoise * kNoise) /
                             float(hidden * std::max<int64_t>(directions, 1)));
    for (float &x : f.u)
      x = uRange * ru.uniform();
    if (fraction > 0)
      for (int64_t k = 0; k < directions; ++k)
        f.v[k * hidden] = 0; // channel 0 is the bias's
    return f;
  }

  void lowRankValues(const TensorSpec &spec, std::vector<float> &v) const {
    Factors f = factors(spec.layer, spec.expert);
    int64_t first = fraction > 0 ? 1 : 0; // fc1 row / fc2 column of e0
    if (spec.role == TensorRole::Gate) {
      // gate = u v + noise, rows split between threads.
      unsigned threads = std::max(1u, std::thread::hardware_concurrency());
      std::vector<std::thread> pool;
      for (unsigned t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
          std::vector<float> row(hidden);
          for (int64_t i = t; i < inter; i += threads) {
            for (int64_t j = 0; j < hidden; ++j)
              row[j] = kNoise * v[i * hidden + j];
            for (int64_t k = 0; k < directions; ++k) {
              float a = f.u[i * directions + k];
              const float *d = f.v.data() + k * hidden;
              for (int64_t j = 0; j < hidden; ++j)
                row[j] += a * d[j];
            }
            std::copy(row.begin(), row.end(), v.begin() + i * hidden);
          }
        });
      for (std::thread &t : pool)
        t.join();
      return;
    }
    int64_t rank = options.predictorRank;
    std::fill(v.begin(), v.end(), 0.0f);
    if (spec.role == TensorRole::PredictorFc1) {
      // A dense MLP's predictor reads the stream before the MLP norm: its
      // rows carry the norm's weights, which leaves the signs alone.
      std::vector<float> norm(hidden, 1.0f);
      if (config.layout == Layout::Dense)
        norm = values(layout.postAttentionNorm(spec.layer));
      if (first)
        v[0] = norm[0];
      for (int64_t k = 0; k < directions; ++k)
        for (int64_t j = 0; j < hidden; ++j) {
          float d = f.v[k * hidden + j] * norm[j];
          v[(first + 2 * k) * hidden + j] = d;
          v[(first + 2 * k + 1) * hidden + j] = -d;
        }
      return;
    }
    for (int64_t i = 0; i < inter; ++i) {
      float *row = v.data() + i * rank;
      if (first)
        row[0] = gateBias;
      for (int64_t k = 0; k < directions; ++k) {
        row[first + 2 * k] = f.u[i * directions + k];
        row[first + 2 * k + 1] = -f.u[i * directions + k];
      }
    }
  }

  void fractionValues(const TensorSpec &spec, std::vector<float> &v) const {
    int64_t cols = spec.shape.empty() ? 0 : spec.shape.back();
    auto setColumn0 = [&](int64_t firstRow, int64_t rows, float value) {
      for (int64_t r = firstRow; r < firstRow + rows; ++r)
        v[r * cols] = value;
    };
    auto outputRows = [&](int64_t matrices, int64_t rows) {
      // Row 0 of each matrix is channel 0's: zero; the rest scaled.
      for (float &x : v)
        x *= outputScale;
      for (int64_t m = 0; m < matrices; ++m)
        std::fill_n(v.begin() + m * rows * cols, cols, 0.0f);
    };
    int64_t rows = v.size() / std::max<int64_t>(cols, 1);
    switch (spec.role) {
    case TensorRole::Embedding:
      setColumn0(0, rows, stream);
      break;
    case TensorRole::MlpNorm:
      v[0] = 1.0f;
      break;
    case TensorRole::AttentionIn:
    case TensorRole::Router:
    case TensorRole::Head:
      setColumn0(0, rows, 0.0f);
      break;
    case TensorRole::Gate:
    case TensorRole::SharedGate:
      setColumn0(0, rows, gateBias);
      break;
    case TensorRole::Up:
    case TensorRole::SharedUp:
      setColumn0(0, rows, upBias);
      break;
    case TensorRole::FusedGateUp:
      for (int64_t e = 0; e < spec.shape[0]; ++e) {
        setColumn0(e * 2 * inter, inter, gateBias);
        setColumn0(e * 2 * inter + inter, inter, upBias);
      }
      break;
    case TensorRole::AttentionOut:
    case TensorRole::Down:
    case TensorRole::SharedDown:
      outputRows(1, rows);
      break;
    case TensorRole::FusedDown:
      outputRows(spec.shape[0], spec.shape[1]);
      break;
    default:
      break;
    }
  }

  const ModelConfig &config;
  const CheckpointLayout &layout;
  const CheckpointWriterOptions &options;
  int64_t hidden = 0, inter = 0, directions = 0;
  double fraction = 0;
  bool lowRank = false;
  float gateBias = 0, upBias = 0, stream = 0, outputScale = 1;
};

/// Writes `values` in `dtype` to `out`.
void writeData(llvm::raw_ostream &out, llvm::ArrayRef<float> values,
               DType dtype) {
  std::vector<char> buffer;
  constexpr uint64_t kChunk = 1 << 16;
  unsigned bytes = dtypeBits(dtype) / 8;
  for (uint64_t done = 0; done < values.size(); done += kChunk) {
    uint64_t n = std::min<uint64_t>(kChunk, values.size() - done);
    buffer.resize(n * bytes);
    for (uint64_t i = 0; i < n; ++i) {
      float value = values[done + i];
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

/// Writes one safetensors file holding `specs`.
Error writeShard(StringRef path, llvm::ArrayRef<TensorSpec> specs,
                 const CheckpointWriterOptions &options, const Shaper &shaper,
                 uint64_t &written, uint64_t total) {
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
      writeData(out, shaper.values(spec), options.dtype);
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
  bool drelu = config.activation == mlir::moe::Activation::DReLU;
  if (options.activeFraction != 0 &&
      (!drelu || !(options.activeFraction > 0 && options.activeFraction < 1)))
    return fileError(directory, "an active fraction needs a dReLU model and "
                                "a value between 0 and 1");
  if (options.activeFraction > 0 && config.hiddenSize < 2)
    return fileError(directory, "an active fraction needs a hidden size of "
                                "2 or more");
  if (drelu && options.predictorRank > 0 &&
      options.predictorRank < (options.activeFraction > 0 ? 3 : 2))
    return fileError(directory,
                     "predictors of a low-rank gate need a rank of at least "
                     "2 (3 with an active fraction: one is the bias's)");
  if (drelu && options.predictorRank > 0 &&
      options.expertStorage == ExpertStorage::Fused)
    return fileError(directory, "predictors need experts stored one by one "
                                "(not --fused-experts)");
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

  CheckpointLayout layout(config, options.expertStorage);
  std::vector<TensorSpec> specs = layout.allTensors(options.predictorRank);
  Shaper shaper(config, layout, options);
  unsigned bytes = dtypeBits(options.dtype) / 8;
  uint64_t total = 0;
  for (const TensorSpec &spec : specs)
    total += numElements(spec) * bytes;

  uint64_t done = 0;
  if (options.shards == 1)
    return writeShard(join("model.safetensors"), specs, options, shaper, done,
                      total);

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
    if (Error error =
            writeShard(join(name), part, options, shaper, done, total))
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
