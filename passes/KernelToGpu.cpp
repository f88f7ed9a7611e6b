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

#include "mlir/Dialect/UB/IR/UBOps.h"

namespace mlir::moe {
#define GEN_PASS_DEF_KERNELTOGPU
#include "passes/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

/// The op's GPU mapping as builder options, or failure.
FailureOr<GpuKernelOptions> gpuOptions(Operation *op,
                                       ConversionPatternRewriter &rewriter) {
  auto mapping = dyn_cast_or_null<kernel::GpuMappingAttr>(op->getAttr("mapping"));
  if (!mapping)
    return rewriter.notifyMatchFailure(op, "no #kernel.gpu mapping");
  GpuKernelOptions options;
  options.warpsPerBlock = mapping.getWarps();
  options.unroll = mapping.getUnroll();
  options.sparseSplits = mapping.getSplits();
  return options;
}

/// y [T, N] = x [T, K] w^T, or y [N] for x [K].
Value matvec(OpBuilder &b, Location loc, Value x, Value w, Type type,
             const GpuKernelOptions &options) {
  return fromRowMatrix(
      b, loc, buildGpuMatvec(b, loc, asRowMatrix(b, loc, x), w, options), type);
}

struct MatvecToGpu : OpConversionPattern<kernel::MatvecOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(kernel::MatvecOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<GpuKernelOptions> options = gpuOptions(op, rewriter);
    if (failed(options))
      return failure();
    rewriter.replaceOp(op, buildGpuMatvec(rewriter, op.getLoc(),
                                          adaptor.getInput(),
                                          adaptor.getWeight(), *options));
    return success();
  }
};

/// The GPU gate/up kernel computes the activation only. Its active set is
/// then the activation's non-zeros, which is what the GPU sparse product
/// skips by: the op lowers where only such products read the set and
/// nothing reads `gate_positive` (which the GPU does not count).
struct GateUpToGpu : OpConversionPattern<kernel::GateUpOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(kernel::GateUpOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (op.getActivation() != kernel::GatedActivation::DReLU)
      return rewriter.notifyMatchFailure(op, "only drelu has a GPU kernel");
    if (!op.getGatePositive().use_empty())
      return rewriter.notifyMatchFailure(op, "gate_positive is read");
    for (Value set : ValueRange{op.getIndices(), op.getCount()})
      for (Operation *user : set.getUsers())
        if (!isa<kernel::SparseMatvecOp>(user))
          return rewriter.notifyMatchFailure(
              op, "the active set is read by other than a sparse product");
    FailureOr<GpuKernelOptions> options = gpuOptions(op, rewriter);
    if (failed(options))
      return failure();
    Location loc = op.getLoc();
    Value act = buildGpuFusedDRelu(rewriter, loc, adaptor.getInput(),
                                   adaptor.getGate(), adaptor.getUp(), *options);
    auto unread = [&](Value v) {
      return ub::PoisonOp::create(rewriter, loc, v.getType()).getResult();
    };
    rewriter.replaceOp(op, ValueRange{act, unread(op.getIndices()),
                                      unread(op.getCount()),
                                      unread(op.getGatePositive())});
    return success();
  }
};

/// The input is non-zero only at the listed neurons, so the GPU products
/// find them by testing the activation (neuron-major: only their rows are
/// read) or multiply the zeros (row-major).
struct SparseMatvecToGpu : OpConversionPattern<kernel::SparseMatvecOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(kernel::SparseMatvecOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<GpuKernelOptions> options = gpuOptions(op, rewriter);
    if (failed(options))
      return failure();
    Location loc = op.getLoc();
    Value y = op.getLayout() == kernel::WeightLayout::NeuronMajor
                  ? buildGpuSparseMatvecNeuronMajor(rewriter, loc,
                                                    adaptor.getWeight(),
                                                    adaptor.getInput(), *options)
                  : matvec(rewriter, loc, adaptor.getInput(),
                           adaptor.getWeight(), op.getType(), *options);
    rewriter.replaceOp(op, y);
    return success();
  }
};

struct RouterTopKToGpu : OpConversionPattern<kernel::RouterTopKOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(kernel::RouterTopKOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<GpuKernelOptions> options = gpuOptions(op, rewriter);
    if (failed(options))
      return failure();
    auto [weights, ids] = buildGpuRouter(
        rewriter, op.getLoc(), adaptor.getInput(), adaptor.getGate(),
        op.getTopK(), op.getRenormalize(),
        op.getExpertIds().getType().getElementType(), *options);
    rewriter.replaceOp(op, ValueRange{weights, ids});
    return success();
  }
};

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
  patterns.add<MatvecToGpu, GateUpToGpu, SparseMatvecToGpu, RouterTopKToGpu>(
      patterns.getContext());
}
