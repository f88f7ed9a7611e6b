//===- KernelToGpu.cpp - kernel ops to GPU kernels ------------------------===//
//
// Each pattern reads the op's #kernel.gpu mapping and calls the kernel
// builder of passes/GpuKernels.h with it.
//
//===----------------------------------------------------------------------===//

#include "dialects/kernel/IR/KernelOps.h"
#include "passes/GpuKernels.h"
#include "passes/KernelPatterns.h"
#include "passes/Passes.h"

namespace mlir::moe {
#define GEN_PASS_DEF_KERNELTOGPU
#include "passes/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

using Values = FailureOr<SmallVector<Value>>;
template <typename OpTy>
using GpuPattern = MappedKernelPattern<OpTy, kernel::GpuMappingAttr>;

Values matvec(kernel::MatvecOp op, kernel::MatvecOp::Adaptor a,
              kernel::GpuMappingAttr o, ConversionPatternRewriter &rewriter) {
  return SmallVector<Value>{
      buildGpuMatvec(rewriter, op.getLoc(), a.getInput(), a.getWeight(), o)};
}

/// The GPU gate/up kernel computes the activation only. For dReLU its
/// active set is then the activation's non-zeros, which is what the GPU
/// sparse product skips by: the op lowers where only such products read the
/// set (the GLU family: nothing) and nothing reads `gate_positive` (which
/// the GPU does not count).
Values gateUp(kernel::GateUpOp op, kernel::GateUpOp::Adaptor a,
              kernel::GpuMappingAttr o, ConversionPatternRewriter &rewriter) {
  bool drelu = op.getActivation() == kernel::GatedActivation::DReLU;
  if (drelu ? !activeSetReadOnlyBy<kernel::SparseMatvecOp>(op)
            : !activeSetReadOnlyBy<>(op))
    return rewriter.notifyMatchFailure(
        op, "its active set or gate count is read; the GPU kernel makes "
            "the activation only");
  Value act = buildGpuGateUp(rewriter, op.getLoc(), a.getInput(), a.getGate(),
                             a.getUp(), activationOf(op.getActivation()),
                             a.getPredicted(), op.getThresholdAttr(), o);
  return activationOnly(rewriter, op, act);
}

/// The input is non-zero only at the listed neurons, so the GPU products
/// find them by testing the activation (neuron-major: only their rows are
/// read) or multiply the zeros (row-major).
Values sparseMatvec(kernel::SparseMatvecOp op,
                    kernel::SparseMatvecOp::Adaptor a, kernel::GpuMappingAttr o,
                    ConversionPatternRewriter &rewriter) {
  Location loc = op.getLoc();
  if (op.getLayout() == kernel::WeightLayout::NeuronMajor)
    return SmallVector<Value>{buildGpuSparseMatvecNeuronMajor(
        rewriter, loc, a.getWeight(), a.getInput(), o)};
  Value y = buildGpuMatvec(rewriter, loc,
                           asRowMatrix(rewriter, loc, a.getInput()),
                           a.getWeight(), o);
  return SmallVector<Value>{fromRowMatrix(rewriter, loc, y, op.getType())};
}

Values routerTopK(kernel::RouterTopKOp op, kernel::RouterTopKOp::Adaptor a,
                  kernel::GpuMappingAttr o,
                  ConversionPatternRewriter &rewriter) {
  auto [weights, ids] = buildGpuRouter(
      rewriter, op.getLoc(), a.getInput(), a.getGate(), op.getTopK(),
      op.getSelection(), op.getWeightingOrSelection(), op.getRenormalize(),
      nullExpertBias(op), op.getExpertIds().getType().getElementType(), o);
  return SmallVector<Value>{weights, ids};
}

struct KernelToGpuPass : public moe::impl::KernelToGpuBase<KernelToGpuPass> {
  void runOnOperation() override {
    ConversionTarget target(getContext());
    target.addIllegalDialect<kernel::KernelDialect>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    RewritePatternSet patterns(&getContext());
    populateKernelToGpuPatterns(patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mlir::moe::populateKernelToGpuPatterns(RewritePatternSet &patterns) {
  MLIRContext *context = patterns.getContext();
  patterns.add<GpuPattern<kernel::MatvecOp>>(context, matvec);
  patterns.add<GpuPattern<kernel::GateUpOp>>(context, gateUp);
  patterns.add<GpuPattern<kernel::SparseMatvecOp>>(context, sparseMatvec);
  patterns.add<GpuPattern<kernel::RouterTopKOp>>(context, routerTopK);
  populateLayerKernelPatterns(patterns, /*gpu=*/true);
}
