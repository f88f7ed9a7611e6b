//===- LayerKernelsToLoops.cpp - layer kernel ops to loops on tensors -----===//
//
// kernel.rms_norm, kernel.rope, kernel.cache_write and kernel.attention
// lower to the same loops on every target (passes/LayerKernels.h): their
// parallel dimensions become OpenMP loops on a CPU and threads on a GPU.
// What the target changes is read from the op's mapping: on a GPU the
// attention products run over the whole cache, the mask hiding the rows
// past the live ones, so that no buffer size depends on the positions and
// a captured CUDA graph replays every decode step.
//
//===----------------------------------------------------------------------===//

#include "dialects/kernel/IR/KernelOps.h"
#include "passes/KernelPatterns.h"
#include "passes/LayerKernels.h"

using namespace mlir;
using namespace mlir::moe;

namespace {

using Values = FailureOr<SmallVector<Value>>;

/// What the layer kernels take from a mapping: whether attention reads the
/// whole cache.
struct LayerOptions {
  bool wholeCache;
};

std::optional<LayerOptions> cpuLayerOptions(Attribute mapping) {
  if (!isa_and_nonnull<kernel::CpuMappingAttr>(mapping))
    return std::nullopt;
  return LayerOptions{/*wholeCache=*/false};
}

std::optional<LayerOptions> gpuLayerOptions(Attribute mapping) {
  if (!isa_and_nonnull<kernel::GpuMappingAttr>(mapping))
    return std::nullopt;
  return LayerOptions{/*wholeCache=*/true};
}

Values rmsNorm(kernel::RmsNormOp op, kernel::RmsNormOp::Adaptor a,
               const LayerOptions &, ConversionPatternRewriter &rewriter) {
  return SmallVector<Value>{buildRmsNorm(rewriter, op.getLoc(), a.getInput(),
                                         a.getWeight(),
                                         op.getEps().convertToDouble())};
}

Values rope(kernel::RopeOp op, kernel::RopeOp::Adaptor a, const LayerOptions &,
            ConversionPatternRewriter &rewriter) {
  return SmallVector<Value>{
      buildRope(rewriter, op.getLoc(), a.getInput(), a.getPositions(),
                op.getTheta().convertToDouble(), op.getHeadDim(),
                op.getLayout() == kernel::RopeLayout::Interleaved)};
}

Values cacheWrite(kernel::CacheWriteOp op, kernel::CacheWriteOp::Adaptor a,
                  const LayerOptions &, ConversionPatternRewriter &rewriter) {
  auto [k, v] = buildCacheWrite(rewriter, op.getLoc(), a.getK(), a.getV(),
                                a.getKCache(), a.getVCache(), a.getPositions());
  return SmallVector<Value>{k, v};
}

Values attention(kernel::AttentionOp op, kernel::AttentionOp::Adaptor a,
                 const LayerOptions &o, ConversionPatternRewriter &rewriter) {
  std::optional<int64_t> window;
  if (auto w = op.getSlidingWindowAttr())
    window = w.getInt();
  AttentionShape shape{op.getNumHeadsAttr().getInt(),
                       op.getNumKvHeadsAttr().getInt(),
                       op.getHeadDimAttr().getInt(),
                       op.getScale().convertToDouble(),
                       op.getCausal(),
                       window};
  return SmallVector<Value>{
      buildAttention(rewriter, op.getLoc(), a.getQ(), a.getKCache(),
                     a.getVCache(), a.getPositions(), shape, o.wholeCache)};
}

} // namespace

void mlir::moe::populateLayerKernelPatterns(RewritePatternSet &patterns,
                                            bool gpu) {
  MLIRContext *context = patterns.getContext();
  auto optionsOf = gpu ? gpuLayerOptions : cpuLayerOptions;
  patterns.add<MappedKernelPattern<kernel::RmsNormOp, LayerOptions>>(
      context, optionsOf, rmsNorm);
  patterns.add<MappedKernelPattern<kernel::RopeOp, LayerOptions>>(
      context, optionsOf, rope);
  patterns.add<MappedKernelPattern<kernel::CacheWriteOp, LayerOptions>>(
      context, optionsOf, cacheWrite);
  patterns.add<MappedKernelPattern<kernel::AttentionOp, LayerOptions>>(
      context, optionsOf, attention);
}
