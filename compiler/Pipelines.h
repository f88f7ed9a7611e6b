//===- Pipelines.h - moec's pass pipelines ----------------------*- C++ -*-===//

#ifndef MOEC_COMPILER_PIPELINES_H
#define MOEC_COMPILER_PIPELINES_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>

namespace moec {

/// Model-level passes, ending with the weights placed (moe-plan-weights).
/// The router's projection is fused into it; with `sparse`, dReLU blocks
/// become fused gate/up products and sparse down products over
/// neuron-major weights, reading only their active neurons' rows.
std::string cpuFrontPipeline(bool sparse = true);

/// From the planned `moe` module to the LLVM dialect: with
/// `countActivity`, counters of the bytes each call reads
/// (moe-count-activity); weights as views of the segment argument, the
/// lowering with kernels of `vectorWidth` f32 lanes, one-shot
/// bufferization, OpenMP loops, and the conversions to LLVM. With
/// `bf16Dot`, products with bf16 weights use the AVX-512 BF16 dot product
/// on activations rounded to bf16.
std::string cpuLoweringPipeline(int64_t vectorWidth, bool countActivity = true,
                                bool bf16Dot = false);

struct CudaPipelineOptions {
  /// SM architecture, e.g. sm_90, and PTX features, e.g. +ptx80.
  std::string chip = "sm_90";
  std::string features = "+ptx80";
  /// The CUDA toolkit, for libdevice (math functions).
  std::string toolkit = "/usr/local/cuda";
  /// Kernel shapes (moe-to-gpu-kernels).
  int64_t warpsPerBlock = 8;
  int64_t unroll = 2;
  int64_t sparseSplits = 128;
  /// Threads per block of the launches made from loops (moe-map-to-gpu).
  int64_t blockSize = 256;
};

/// The options of `chip` (sm_80, sm_86, sm_89, sm_90) with its kernel
/// shapes; none for other chips.
std::optional<CudaPipelineOptions> cudaDefaults(const std::string &chip);

/// From the planned `moe` module to host code in the LLVM dialect and one
/// `gpu.binary` holding the kernels' PTX: GPU kernels for the
/// weight-streaming ops, the reference lowering for the rest, every buffer
/// access in a launch, kernels outlined into one module, NVVM, and the
/// launches as calls to the runtime's mgpu* functions.
std::string cudaLoweringPipeline(const CudaPipelineOptions &options);

} // namespace moec

#endif // MOEC_COMPILER_PIPELINES_H
