//===- CpuModel.h - running a CPU artifact ----------------------*- C++ -*-===//
//
// Runs a CPU artifact's code in this process: weights are the mapped
// segment, the KV cache is host memory. The model's math is all in the
// generated code; this only allocates and calls.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_RUNTIME_CPUMODEL_H
#define MOEC_RUNTIME_CPUMODEL_H

#include "runtime/Model.h"

#include <cstdlib>
#include <functional>
#include <memory>
#include <vector>

namespace moec {

class CpuModel : public Model {
public:
  std::string device() const override { return "cpu"; }
  /// Runs the code's parallel loops on `threads` threads (its OpenMP
  /// runtime's default: all cores).
  Status setThreads(int threads) override;
  int threads() const override;
  Status measureBandwidth(uint64_t bytes, double &bytesPerSecond) override;
  Status measurePeakFlops(double &flopsPerSecond) override;

protected:
  /// Checks that this machine has the CPU features the code was compiled
  /// for, and loads the code.
  Status loadCode(const Artifact &artifact) override;
  Status run(const int32_t *tokens, const int32_t *positions,
             const int32_t *offsets, int64_t count, int64_t rows,
             float *out) override;

private:
  /// Maps the weights' pages into this process (reading them if needed).
  void populateWeights();
  /// The best rate of `amount` per pass, a pass being work(w) on every
  /// worker w at once; the workers' results are used, so that no work is
  /// optimised away.
  template <typename Result>
  Status rateOnWorkers(int warmup, double amount,
                       const std::function<Result(int)> &work, double &rate);

  Bytes weights;
  struct Free {
    void operator()(void *p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t[], Free> kvCache;
  /// setThreads' count; 0: OpenMP's default, all cores.
  int threadCount = 0;
};

/// The CPU features (LLVM names, e.g. "avx512f") that `features` requires
/// and this machine lacks, comma separated; empty when it has them all.
std::string missingCpuFeatures(const std::string &features);

} // namespace moec

#endif // MOEC_RUNTIME_CPUMODEL_H
