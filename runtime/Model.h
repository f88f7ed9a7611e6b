//===- Model.h - a loaded artifact, on any device ---------------*- C++ -*-===//
//
// What every backend shares: the model's numbers from the artifact header,
// the checks on a forward call's tokens, the positions, and loading the
// artifact's code segment (a shared object) from memory. Backends (CPU,
// CUDA) provide the buffers and call the generated entry point.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_RUNTIME_MODEL_H
#define MOEC_RUNTIME_MODEL_H

#include "runtime/Artifact.h"
#include "runtime/Status.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace moec {

class Model {
public:
  Model() = default;
  Model(const Model &) = delete;
  Model &operator=(const Model &) = delete;
  virtual ~Model();

  /// Loads the code of `artifact` (which must outlive the model) and
  /// allocates a KV cache of `sequences` regions of `maxSeqLen` positions,
  /// one per sequence that may run at once (forwardBatch).
  Status load(const Artifact &artifact, int64_t maxSeqLen,
              int64_t sequences = 1);

  int64_t vocabSize() const { return vocab; }
  artifact::Head head() const { return outputHead; }
  /// The tokens of a forward call that get an output row: the last (what
  /// generation needs; the head runs for it alone) or every one.
  enum class Outputs { Last, All };
  /// Floats `forward` writes for `count` tokens: rows x vocab (causal LM),
  /// labels (sequence classification) or rows x labels (token
  /// classification), where rows is 1 or `count` by `outputs`.
  int64_t outputSize(int64_t count, Outputs outputs) const {
    return outputFloats(outputs == Outputs::All ? count : 1);
  }
  /// Floats of `rows` output rows (a sequence classifier's labels whatever
  /// the count).
  int64_t outputFloats(int64_t rows) const;
  /// Floats per output row: vocab or labels.
  int64_t outputWidth() const;
  int64_t maxSeqLen() const { return maxSeq; }
  /// The sequences the KV cache has room for.
  int64_t sequences() const { return int64_t(lengths.size()); }
  /// Positions of sequence `sequence` already in the KV cache (forward()
  /// runs sequence 0).
  int64_t length(int64_t sequence = 0) const { return lengths[sequence]; }
  /// The device the model runs on, for messages ("cpu", "cuda (NAME)").
  virtual std::string device() const = 0;

  /// CPU threads for the code's parallel loops.
  virtual Status setThreads(int threads);
  /// The threads the code's parallel loops run on; 0 on a GPU.
  virtual int threads() const { return 0; }

  /// Runs `count` tokens at the next positions of sequence `sequence`;
  /// `out` receives outputSize(count, outputs) floats. A prompt runs in
  /// chunks of at most prefillChunk() tokens (a sequence classifier's in
  /// one), which bounds a step's memory; the outputs are those of one call.
  Status forward(const int32_t *tokens, int64_t count, float *out,
                 Outputs outputs, int64_t sequence = 0);
  /// Tokens per call of the code when a prompt is read (positive).
  Status setPrefillChunk(int64_t tokens);
  int64_t prefillChunk() const { return chunk; }
  /// The chunk a model starts with: the register blocks of the products
  /// take many tokens, and a chunk's activations (the largest the LM
  /// head's, chunk x vocab floats) stay a few tens of MB.
  static constexpr int64_t kDefaultPrefillChunk = 256;
  /// Starts sequence `sequence` anew at position 0 (its cache rows are
  /// overwritten as it fills again).
  void reset(int64_t sequence = 0) { lengths[sequence] = 0; }

  /// The most tokens one call of the code takes (prompts are chunked to
  /// it; a batched step's tokens must fit it).
  virtual int64_t maxTokensPerRun() const { return INT64_MAX; }
  /// Whether `count` tokens of `sequence` fit its cache and the vocabulary.
  Status checkTokens(int64_t sequence, const int32_t *tokens,
                     int64_t count) const;

  /// The tokens of one sequence in a batched call.
  struct BatchPart {
    int64_t sequence;
    const int32_t *tokens;
    int64_t count;
  };
  /// Runs the parts in one call of the code, each at its sequence's next
  /// positions: a step of continuous batching, whose products take every
  /// part's tokens at once. Every part but the first has one token (a
  /// decode step); the first may have up to prefillChunk() (a prompt's
  /// chunk). `out` receives one row per part, its last token's. The
  /// sequences differ; a causal LM only.
  Status forwardBatch(const std::vector<BatchPart> &parts, float *out);

  /// The code's activity counters (runtime/format/Activity.h): activityRows() rows
  /// of kActivityColumns, added to by every forward call; null when the
  /// code keeps none (CUDA, or compiled with --count-activity=false).
  int64_t *activity() const { return counters; }
  int64_t activityRows() const { return counterRows; }

  /// The device memory's bandwidth in bytes per second, measured now over
  /// `bytes` of memory (CPU: a streaming read on every thread the code
  /// uses; CUDA: a device-to-device copy, reads and writes counted).
  virtual Status measureBandwidth(uint64_t bytes, double &bytesPerSecond) = 0;
  /// The device's peak rate of f32 arithmetic in floating-point operations
  /// per second (a multiply-add is two), measured now (CPU: independent
  /// multiply-adds in the widest vectors, on every thread the code uses);
  /// an error where it is not measured.
  virtual Status measurePeakFlops(double &flopsPerSecond);

protected:
  /// The highest rate, `bytes` over the seconds one call of `pass` takes,
  /// of `passes` timed calls after `warmup` untimed ones; the first
  /// failure ends it.
  static Status bestRate(int warmup, int passes, double bytes,
                         const std::function<Status()> &pass, double &rate);

  /// Backend part of load(): the numbers below are set.
  virtual Status loadCode(const Artifact &artifact) = 0;
  /// Runs the entry point on `count` checked tokens at `positions` of the
  /// sequences whose rows start at `offsets`; `out` receives the rows of
  /// the last `rows` of them (0 .. count; a sequence classifier's scores
  /// whatever `rows` is).
  virtual Status run(const int32_t *tokens, const int32_t *positions,
                     const int32_t *offsets, int64_t count, int64_t rows,
                     float *out) = 0;

  /// dlopens the artifact's code segment from memory; the library handle
  /// (closed by ~Model) and the 'forward' entry point.
  Status openCode(const Artifact &artifact);

  void *library = nullptr;
  void *entry = nullptr;
  int64_t *counters = nullptr;
  int64_t counterRows = 0;
  int64_t vocab = 0, layers = 0, kvHeads = 0, headDim = 0, labels = 0;
  artifact::Head outputHead = artifact::Head::CausalLM;
  int64_t maxSeq = 0, chunk = kDefaultPrefillChunk;
  /// Each sequence's positions in the cache.
  std::vector<int64_t> lengths;
  /// The cache's rows: maxSeq for each sequence, one after another.
  int64_t kvRows() const { return maxSeq * sequences(); }
  /// Elements of the KV cache: layers x 2 x kvRows x kvHeads x headDim.
  int64_t kvElements() const {
    return layers * 2 * kvRows() * kvHeads * headDim;
  }
  /// Bytes of one cache element (kv_cache_dtype: 4 for f32, 2 for f16 and
  /// bf16) and of the whole cache.
  int64_t kvElementBytes = 4;
  int64_t kvBytes() const { return kvElements() * kvElementBytes; }
};

/// A model for `artifact` on `device`: "cpu", "cuda", or "auto" (the
/// device the artifact was compiled for).
Status openModel(const Artifact &artifact, const std::string &device,
                 int64_t maxSeqLen, std::unique_ptr<Model> &model,
                 int64_t sequences = 1);

} // namespace moec

#endif // MOEC_RUNTIME_MODEL_H
