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

template <typename Mapping>
Values rmsNorm(kernel::RmsNormOp op, kernel::RmsNormOp::Adaptor a, Mapping,
               ConversionPatternRewriter &rewriter) {
  return SmallVector<Value>{buildRmsNorm(rewriter, op.getLoc(), a.getInput(),
                                         a.getWeight(),
                                         op.getEps().convertToDouble())};
}

template <typename Mapping>
Values rope(kernel::RopeOp op, kernel::RopeOp::Adaptor a, Mapping,
            ConversionPatternRewriter &rewriter) {
  return SmallVector<Value>{
      buildRope(rewriter, op.getLoc(), a.getInput(), a.getPositions(),
                op.getTheta().convertToDouble(), op.getHeadDim(),
                op.getLayout() == kernel::RopeLayout::Interleaved,
                op.getInvFreq())};
}

template <typename Mapping>
Values cacheWrite(kernel::CacheWriteOp op, kernel::CacheWriteOp::Adaptor a,
                  Mapping, ConversionPatternRewriter &rewriter) {
  return SmallVector<Value>{buildCacheWrite(rewriter, op.getLoc(), a.getK(),
                                            a.getV(), a.getKvCache(),
                                            a.getPositions(), a.getOffsets())};
}

template <typename Mapping>
Values attention(kernel::AttentionOp op, kernel::AttentionOp::Adaptor a,
                 Mapping mapping, ConversionPatternRewriter &rewriter) {
  std::optional<int64_t> window;
  if (auto w = op.getSlidingWindowAttr())
    window = w.getInt();
  AttentionShape shape{op.getNumHeadsAttr().getInt(),
                       op.getNumKvHeadsAttr().getInt(),
                       op.getHeadDimAttr().getInt(),
                       op.getScale().convertToDouble(),
                       op.getCausal(),
                       window,
                       {}};
  if (auto slopes = op.getAlibiSlopes())
    shape.alibiSlopes.assign(slopes->begin(), slopes->end());
  // On a GPU (no lanes) attention covers the whole cache (see above).
  if constexpr (std::is_same_v<Mapping, kernel::CpuMappingAttr>)
    shape.lanes = mapping.getLanes();
  return SmallVector<Value>{buildAttention(rewriter, op.getLoc(), a.getQ(),
                                           a.getKvCache(), a.getPositions(),
                                           a.getOffsets(), shape)};
}

template <typename Mapping>
void addLayerKernelPatterns(RewritePatternSet &patterns) {
  MLIRContext *context = patterns.getContext();
  patterns.add<MappedKernelPattern<kernel::RmsNormOp, Mapping>>(
      context, rmsNorm<Mapping>);
  patterns.add<MappedKernelPattern<kernel::RopeOp, Mapping>>(context,
                                                             rope<Mapping>);
  patterns.add<MappedKernelPattern<kernel::CacheWriteOp, Mapping>>(
      context, cacheWrite<Mapping>);
  patterns.add<MappedKernelPattern<kernel::AttentionOp, Mapping>>(
      context, attention<Mapping>);
}

} // namespace

void mlir::moe::populateLayerKernelPatterns(RewritePatternSet &patterns,
                                            bool gpu) {
  if (gpu)
    addLayerKernelPatterns<kernel::GpuMappingAttr>(patterns);
  else
    addLayerKernelPatterns<kernel::CpuMappingAttr>(patterns);
}
