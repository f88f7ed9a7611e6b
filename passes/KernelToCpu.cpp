//===- KernelToCpu.cpp - kernel ops to vectorised CPU loops --------------===//
//
// Each pattern reads the op's #kernel.cpu mapping and calls the kernel
// builder of passes/Kernels.h with it.
//
//===----------------------------------------------------------------------===//

#include "dialects/kernel/IR/KernelOps.h"
#include "passes/KernelPatterns.h"
#include "passes/Passes.h"

namespace mlir::moe {
#define GEN_PASS_DEF_KERNELTOCPU
#include "passes/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

using Values = FailureOr<SmallVector<Value>>;
template <typename OpTy>
using CpuPattern = MappedKernelPattern<OpTy, kernel::CpuMappingAttr>;

Values matvec(kernel::MatvecOp op, kernel::MatvecOp::Adaptor a,
              kernel::CpuMappingAttr o, ConversionPatternRewriter &rewriter) {
  return SmallVector<Value>{
      buildMatvec(rewriter, op.getLoc(), a.getInput(), a.getWeight(), o)};
}

/// dReLU: the fused kernel with its active set. The GLU family: the
/// activation only, where nothing reads the set (every neuron is active).
Values gateUp(kernel::GateUpOp op, kernel::GateUpOp::Adaptor a,
              kernel::CpuMappingAttr o, ConversionPatternRewriter &rewriter) {
  if (op.getActivation() == kernel::GatedActivation::DReLU) {
    ActiveSet set =
        buildFusedDRelu(rewriter, op.getLoc(), a.getInput(), a.getGate(),
                        a.getUp(), a.getPredicted(), op.getThresholdAttr(), o);
    return SmallVector<Value>{set.activation, set.indices, set.count,
                              set.gatePositive};
  }
  if (!activeSetReadOnlyBy<>(op))
    return rewriter.notifyMatchFailure(
        op, "the active set of a GLU gate/up is not listed");
  Value act = buildGateUp(rewriter, op.getLoc(), a.getInput(), a.getGate(),
                          a.getUp(), activationOf(op.getActivation()), o);
  return activationOnly(rewriter, op, act);
}

Values sparseMatvec(kernel::SparseMatvecOp op,
                    kernel::SparseMatvecOp::Adaptor a, kernel::CpuMappingAttr o,
                    ConversionPatternRewriter &rewriter) {
  if (op.getLayout() == kernel::WeightLayout::NeuronMajor)
    return SmallVector<Value>{buildSparseMatvecNeuronMajor(
        rewriter, op.getLoc(), a.getWeight(), a.getInput(), a.getIndices(),
        a.getCount(), o)};
  return SmallVector<Value>{
      buildSparseMatvecRowMajor(rewriter, op.getLoc(), a.getWeight(),
                                a.getInput(), a.getIndices(), a.getCount())};
}

Values routerTopK(kernel::RouterTopKOp op, kernel::RouterTopKOp::Adaptor a,
                  kernel::CpuMappingAttr o,
                  ConversionPatternRewriter &rewriter) {
  auto [weights, ids] = buildRouterTopK(
      rewriter, op.getLoc(), a.getInput(), a.getGate(), op.getTopK(),
      op.getSelection(), op.getWeightingOrSelection(), op.getRenormalize(),
      nullExpertBias(op), op.getExpertIds().getType().getElementType(), o);
  return SmallVector<Value>{weights, ids};
}

struct KernelToCpuPass : public moe::impl::KernelToCpuBase<KernelToCpuPass> {
  void runOnOperation() override {
    ConversionTarget target(getContext());
    target.addIllegalDialect<kernel::KernelDialect>();
    // What the quantized kernels emit, for moe-lower-int8-dots.
    target.addLegalOp<kernel::DotU8S8Op>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    RewritePatternSet patterns(&getContext());
    populateKernelToCpuPatterns(patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mlir::moe::populateKernelToCpuPatterns(RewritePatternSet &patterns) {
  MLIRContext *context = patterns.getContext();
  patterns.add<CpuPattern<kernel::MatvecOp>>(context, matvec);
  patterns.add<CpuPattern<kernel::GateUpOp>>(context, gateUp);
  patterns.add<CpuPattern<kernel::SparseMatvecOp>>(context, sparseMatvec);
  patterns.add<CpuPattern<kernel::RouterTopKOp>>(context, routerTopK);
  populateLayerKernelPatterns(patterns, /*gpu=*/false);
}
