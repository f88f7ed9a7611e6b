//===- Pipelines.h - moec's pass pipelines ----------------------*- C++ -*-===//
//
// Three named pipelines, registered for moec-opt and built the same way by
// moec-compile:
//   moe-front-pipeline   model-level passes, ending with the weights placed
//   moe-cpu-pipeline     the placed module to the LLVM dialect for a CPU
//   moe-cuda-pipeline    the placed module to host code and one gpu.binary
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_COMPILER_PIPELINES_H
#define MOEC_COMPILER_PIPELINES_H

#include "mlir/Pass/PassOptions.h"

#include <cstdint>
#include <string>

namespace mlir {
class OpPassManager;
} // namespace mlir

namespace moec {

struct FrontPipelineOptions
    : public mlir::PassPipelineOptions<FrontPipelineOptions> {
  Option<bool> sparse{*this, "sparse",
                      llvm::cl::desc("dReLU blocks as fused gate/up products "
                                     "and sparse down products over "
                                     "neuron-major weights"),
                      llvm::cl::init(true)};
  Option<int64_t> denseMinTokens{
      *this, "dense-min-tokens",
      llvm::cl::desc("With sparse, calls of at least this many tokens run "
                     "dReLU blocks dense (0: never)"),
      llvm::cl::init(0)};
  Option<bool> predictors{
      *this, "predictors",
      llvm::cl::desc("With sparse, dReLU blocks with an activation predictor "
                     "compute only the neurons it predicts (approximate)"),
      llvm::cl::init(false)};
  Option<double> predictorThreshold{
      *this, "predictor-threshold",
      llvm::cl::desc("Predictor logit from which a neuron is computed"),
      llvm::cl::init(0.0)};
  Option<bool> rollLayers{*this, "roll-layers",
                          llvm::cl::desc("Identical decoder layers as one "
                                         "loop over stacked weights"),
                          llvm::cl::init(true)};
  Option<std::string> weights{
      *this, "weights",
      llvm::cl::desc("Store the products' weights in this block format "
                     "(q8_0, q4_0; empty: as stored)"),
      llvm::cl::init("")};
  ListOption<std::string> keepPrecision{
      *this, "keep-precision",
      llvm::cl::desc("With weights, kinds of weights left as stored "
                     "(lm_head, attention, predictors, experts)")};
  Option<bool> interleaveBlocks{
      *this, "interleave-blocks",
      llvm::cl::desc("Block weights read along their rows in the "
                     "interleaved layout (for the CPU's integer products)"),
      llvm::cl::init(false)};
};

struct CpuPipelineOptions
    : public mlir::PassPipelineOptions<CpuPipelineOptions> {
  Option<int64_t> lanes{*this, "lanes",
                        llvm::cl::desc("f32 lanes of the target's vectors"),
                        llvm::cl::init(8)};
  Option<bool> countActivity{
      *this, "count-activity",
      llvm::cl::desc("Count the bytes each call reads (moe-count-activity)"),
      llvm::cl::init(true)};
  Option<bool> predictorStats{
      *this, "predictor-stats",
      llvm::cl::desc("With count-activity, also compute each predicted "
                     "block's exact active set, for the predictor's recall "
                     "and precision (a diagnostic build: it reads every "
                     "gate row)"),
      llvm::cl::init(false)};
  Option<bool> bf16Dot{*this, "bf16-dot",
                       llvm::cl::desc("AVX-512 BF16 dot products on "
                                      "activations rounded to bf16"),
                       llvm::cl::init(false)};
  Option<bool> int8Dot{*this, "int8-dot",
                       llvm::cl::desc("Quantized weights meet activations "
                                      "quantized to Q8_0 blocks in 8-bit "
                                      "integer dot products (VNNI)"),
                       llvm::cl::init(false)};
};

struct CudaPipelineOptions
    : public mlir::PassPipelineOptions<CudaPipelineOptions> {
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("SM architecture: sm_80, sm_86, "
                                          "sm_89 or sm_90"),
                           llvm::cl::init("sm_90")};
  Option<std::string> features{*this, "features",
                               llvm::cl::desc("PTX features"),
                               llvm::cl::init("+ptx80")};
  Option<std::string> toolkit{*this, "toolkit",
                              llvm::cl::desc("CUDA toolkit (libdevice)"),
                              llvm::cl::init("/usr/local/cuda")};
  Option<int64_t> warps{*this, "warps",
                        llvm::cl::desc("Warps per block of the products"),
                        llvm::cl::init(8)};
  Option<int64_t> unroll{*this, "unroll",
                         llvm::cl::desc("16-byte loads in flight per lane "
                                        "(0: the chip's)"),
                         llvm::cl::init(0)};
  Option<int64_t> splits{*this, "splits",
                         llvm::cl::desc("Blocks of a sparse product (0: the "
                                        "chip's)"),
                         llvm::cl::init(0)};
  Option<bool> gluExperts{
      *this, "glu-experts",
      llvm::cl::desc("GLU expert blocks as gate/up and down kernels (a warp "
                     "per row) instead of the generic mapping"),
      llvm::cl::init(false)};
  Option<int64_t> blockSize{*this, "block-size",
                            llvm::cl::desc("Threads per block of the "
                                           "launches made from loops"),
                            llvm::cl::init(256)};
};

/// The router's projection fused into it; with `sparse`, dReLU blocks as
/// fused gate/up products and sparse down products over neuron-major
/// weights; then the weights placed (moe-plan-weights).
void buildFrontPipeline(mlir::OpPassManager &pm,
                        const FrontPipelineOptions &options);

/// Activity counters, weights as views of the segment argument, moe ->
/// kernel with the CPU mapping, kernel -> loops, the reference lowering for
/// the rest, one-shot bufferization, OpenMP loops, and the conversions to
/// LLVM.
void buildCpuPipeline(mlir::OpPassManager &pm,
                      const CpuPipelineOptions &options);

/// moe -> kernel with the GPU mapping, kernel -> gpu.launch, the reference
/// lowering for the rest, every buffer access in a launch, kernels
/// outlined into one module, NVVM, and the launches as calls to the
/// runtime's mgpu* functions.
void buildCudaPipeline(mlir::OpPassManager &pm,
                       const CudaPipelineOptions &options);

/// Registers the three for --pass-pipeline.
void registerPipelines();

} // namespace moec

#endif // MOEC_COMPILER_PIPELINES_H
