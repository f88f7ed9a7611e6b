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

/// The op's CPU mapping as builder options, or failure.
FailureOr<KernelOptions> cpuOptions(Operation *op,
                                    ConversionPatternRewriter &rewriter) {
  auto mapping = dyn_cast_or_null<kernel::CpuMappingAttr>(op->getAttr("mapping"));
  if (!mapping)
    return rewriter.notifyMatchFailure(op, "no #kernel.cpu mapping");
  KernelOptions options;
  options.vectorWidth = mapping.getLanes();
  options.accumulators = mapping.getAccumulators();
  options.tasks = mapping.getTasks();
  options.bf16Dot = mapping.getBf16Dot();
  return options;
}

struct MatvecToCpu : OpConversionPattern<kernel::MatvecOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(kernel::MatvecOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<KernelOptions> options = cpuOptions(op, rewriter);
    if (failed(options))
      return failure();
    rewriter.replaceOp(op, buildMatvec(rewriter, op.getLoc(), adaptor.getInput(),
                                       adaptor.getWeight(), *options));
    return success();
  }
};

struct GateUpToCpu : OpConversionPattern<kernel::GateUpOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(kernel::GateUpOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (op.getActivation() != kernel::GatedActivation::DReLU)
      return rewriter.notifyMatchFailure(op, "only drelu has a CPU kernel");
    FailureOr<KernelOptions> options = cpuOptions(op, rewriter);
    if (failed(options))
      return failure();
    ActiveSet set =
        buildFusedDRelu(rewriter, op.getLoc(), adaptor.getInput(),
                        adaptor.getGate(), adaptor.getUp(), *options);
    rewriter.replaceOp(op, ValueRange{set.activation, set.indices, set.count,
                                      set.gatePositive});
    return success();
  }
};

struct SparseMatvecToCpu : OpConversionPattern<kernel::SparseMatvecOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(kernel::SparseMatvecOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<KernelOptions> options = cpuOptions(op, rewriter);
    if (failed(options))
      return failure();
    Location loc = op.getLoc();
    Value y = op.getLayout() == kernel::WeightLayout::NeuronMajor
                  ? buildSparseMatvecNeuronMajor(
                        rewriter, loc, adaptor.getWeight(), adaptor.getInput(),
                        adaptor.getIndices(), adaptor.getCount(), *options)
                  : buildSparseMatvecRowMajor(
                        rewriter, loc, adaptor.getWeight(), adaptor.getInput(),
                        adaptor.getIndices(), adaptor.getCount());
    rewriter.replaceOp(op, y);
    return success();
  }
};

struct RouterTopKToCpu : OpConversionPattern<kernel::RouterTopKOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(kernel::RouterTopKOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<KernelOptions> options = cpuOptions(op, rewriter);
    if (failed(options))
      return failure();
    auto [weights, ids] = buildRouterTopK(
        rewriter, op.getLoc(), adaptor.getInput(), adaptor.getGate(),
        op.getTopK(), op.getRenormalize(),
        op.getExpertIds().getType().getElementType(), *options);
    rewriter.replaceOp(op, ValueRange{weights, ids});
    return success();
  }
};

struct KernelToCpuPass : public moe::impl::KernelToCpuBase<KernelToCpuPass> {
  void runOnOperation() override {
    ConversionTarget target(getContext());
    target.addIllegalDialect<kernel::KernelDialect>();
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
  patterns.add<MatvecToCpu, GateUpToCpu, SparseMatvecToCpu, RouterTopKToCpu>(
      patterns.getContext());
}
