//===- CudaModel.h - running a CUDA artifact --------------------*- C++ -*-===//
//
// Runs a CUDA artifact: weights and the KV cache in device memory, the
// kernels from the cubin (or the PTX, compiled by the driver, when the
// cubin is for another SM), and the generated host code, which allocates
// and launches through the mgpu* functions this backend implements. Decode
// steps (one token) are captured once as a CUDA graph and replayed.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_RUNTIME_CUDAMODEL_H
#define MOEC_RUNTIME_CUDAMODEL_H

#include "runtime/CudaDriver.h"
#include "runtime/Model.h"

#include <unordered_map>
#include <vector>

namespace moec {

class CudaModel : public Model {
public:
  ~CudaModel() override;
  std::string device() const override { return "cuda (" + deviceName + ")"; }

  /// Called by the mgpu* functions of the generated host code.
  void *loadKernels(const void *ptx);
  void *kernel(void *module, const char *name);
  void launch(void *function, const unsigned (&grid)[3],
              const unsigned (&block)[3], unsigned sharedBytes, void **params,
              void **extra);
  void *allocate(uint64_t bytes);
  void synchronize();
  cuda::Stream stream() const { return mainStream; }

  Status measureBandwidth(uint64_t bytes, double &bytesPerSecond) override;

protected:
  Status loadCode(const Artifact &artifact) override;
  /// One call of the entry point on at most maxTokensPerRun() tokens.
  Status run(const int32_t *tokens, const int32_t *positions,
             const int32_t *offsets, int64_t count, int64_t rows,
             float *out) override;
  /// The staging and output buffers hold a chunk of kMaxChunk tokens (a
  /// sequence classifier's prompt whole).
  int64_t maxTokensPerRun() const override { return maxChunk; }

private:
  Status check(cuda::Result result, const char *what);
  /// Frees what the last step allocated; one block big enough next time.
  Status resetArena();

  const cuda::Driver *driver = nullptr;
  cuda::Device dev = 0;
  cuda::Context context = nullptr;
  cuda::Stream mainStream = nullptr;
  cuda::Module module = nullptr;
  std::string deviceName;
  /// The kernel image to load: the cubin when it is for this device's SM,
  /// else the PTX.
  const void *image = nullptr;
  std::unordered_map<const char *, cuda::Function> functions;

  /// Records the first error of the mgpu* calls (which cannot return one).
  void keepFirst(Status status);

  cuda::DevicePtr weights = 0, kvCache = 0, outBuffer = 0;
  /// A step's tokens, at maxChunk its positions, at 2 maxChunk its cache
  /// offsets: one upload per step, from `staged`.
  cuda::DevicePtr inputs = 0;
  std::vector<int32_t> staged;
  int64_t maxChunk = 0, weightBytes = 0;

  /// Allocations of one step: a bump allocator over `arena`; what does not
  /// fit gets blocks of its own, and the arena grows before the next step.
  cuda::DevicePtr arena = 0;
  uint64_t arenaSize = 0, arenaUsed = 0, stepBytes = 0;
  std::vector<cuda::DevicePtr> overflow;

  /// The decode step as a graph: captured on the second one-token step
  /// (the first sizes the arena), replayed after.
  cuda::GraphExec decodeGraph = nullptr;
  int decodeSteps = 0;
  /// MOEC_NO_CUDA_GRAPH=1: every step runs eagerly.
  bool useGraphs = true;
  bool capturing = false;
  /// See keepFirst.
  Status deferred;
};

} // namespace moec

#endif // MOEC_RUNTIME_CUDAMODEL_H
