//===- CpuModel.h - running a CPU artifact ----------------------*- C++ -*-===//
//
// Loads an artifact's code (a shared object) from memory, keeps the KV
// cache, and calls the generated entry point. The model's math is all in
// the generated code; this only allocates and calls.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_RUNTIME_CPUMODEL_H
#define MOEC_RUNTIME_CPUMODEL_H

#include "runtime/Artifact.h"
#include "runtime/Status.h"

#include <cstdint>
#include <vector>

namespace moec {

class CpuModel {
public:
  CpuModel() = default;
  CpuModel(const CpuModel &) = delete;
  CpuModel &operator=(const CpuModel &) = delete;
  ~CpuModel();

  /// Checks that this machine has the CPU features the code was compiled
  /// for, loads the code, and allocates a KV cache for `maxSeqLen`
  /// positions. `artifact` must outlive the model.
  Status load(const Artifact &artifact, int64_t maxSeqLen);

  int64_t vocabSize() const { return vocab; }
  artifact::Head head() const { return outputHead; }
  /// Floats `forward` writes for `count` tokens: count x vocab (causal LM),
  /// labels (sequence classification) or count x labels (token
  /// classification).
  int64_t outputSize(int64_t count) const;
  /// Floats per output row: vocab or labels.
  int64_t outputWidth() const;
  int64_t maxSeqLen() const { return maxSeq; }
  /// Positions already in the KV cache.
  int64_t length() const { return cached; }

  /// Runs the code's parallel loops on `threads` threads (its OpenMP
  /// runtime's default: all cores).
  Status setThreads(int threads);

  /// Runs `count` tokens at the next positions; `out` receives
  /// outputSize(count) floats.
  Status forward(const int32_t *tokens, int64_t count, float *out);

private:
  Bytes weights;
  void *library = nullptr;
  void *entry = nullptr;
  int64_t vocab = 0, layers = 0, kvHeads = 0, headDim = 0, labels = 0;
  artifact::Head outputHead = artifact::Head::CausalLM;
  int64_t maxSeq = 0, cached = 0;
  std::vector<float> kvCache;
};

/// The CPU features (LLVM names, e.g. "avx512f") that `features` requires
/// and this machine lacks, comma separated; empty when it has them all.
std::string missingCpuFeatures(const std::string &features);

} // namespace moec

#endif // MOEC_RUNTIME_CPUMODEL_H
