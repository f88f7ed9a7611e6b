//===- MoeToKernel.cpp - model-level ops to kernel ops -------------------===//
//
// The ops whose cost is a weight stream become kernel ops, which every
// backend lowers with the same meaning: projections and the LM head to
// kernel.matvec, the fused dReLU block to kernel.gate_up, its down product
// to kernel.sparse_matvec (the layout an attribute), the router to
// kernel.router_top_k. The rest stays for the reference lowering.
//
//===----------------------------------------------------------------------===//

#include "dialects/kernel/IR/KernelOps.h"
#include "dialects/moe/IR/MoeOps.h"
#include "passes/KernelPatterns.h"
#include "passes/Passes.h"

namespace mlir::moe {
#define GEN_PASS_DEF_MOETOKERNEL
#include "passes/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

struct LinearToMatvec : OpConversionPattern<LinearOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(LinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (op.getBias())
      return rewriter.notifyMatchFailure(op, "a bias: the reference lowering");
    Location loc = op.getLoc();
    Value x = asRowMatrix(rewriter, loc, adaptor.getInput());
    auto w = cast<RankedTensorType>(adaptor.getWeight().getType());
    auto xType = cast<RankedTensorType>(x.getType());
    auto type = RankedTensorType::get(
        {xType.getDimSize(0), w.getDimSize(0)}, rewriter.getF32Type());
    Value y = kernel::MatvecOp::create(rewriter, loc, type, x,
                                       adaptor.getWeight(), nullptr);
    rewriter.replaceOp(op, fromRowMatrix(rewriter, loc, y, op.getType()));
    return success();
  }
};

struct LmHeadToMatvec : OpConversionPattern<LmHeadOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(LmHeadOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<kernel::MatvecOp>(
        op, op.getType(), adaptor.getInput(), adaptor.getWeight(), nullptr);
    return success();
  }
};

struct FusedDReluToGateUp : OpConversionPattern<FusedDReluOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(FusedDReluOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<kernel::GateUpOp>(
        op, op->getResultTypes(), adaptor.getInput(), adaptor.getGate(),
        adaptor.getUp(), kernel::GatedActivation::DReLU, nullptr);
    return success();
  }
};

struct SparseMatvecToKernel : OpConversionPattern<SparseMatvecOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SparseMatvecOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<kernel::SparseMatvecOp>(
        op, op.getType(), adaptor.getWeight(), adaptor.getInput(),
        adaptor.getIndices(), adaptor.getCount(),
        op.getNeuronMajor() ? kernel::WeightLayout::NeuronMajor
                            : kernel::WeightLayout::RowMajor,
        nullptr);
    return success();
  }
};

struct RouterToTopK : OpConversionPattern<RouterOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RouterOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (!isSupportedRouter(op) || !op.getGate())
      return rewriter.notifyMatchFailure(op, "not a learned softmax gate");
    rewriter.replaceOpWithNewOp<kernel::RouterTopKOp>(
        op, op->getResultTypes(), adaptor.getInput(), adaptor.getGate(),
        op.getTopKAttr(), op.getRenormalizeAttr(), nullptr);
    return success();
  }
};

struct MoeToKernelPass : public moe::impl::MoeToKernelBase<MoeToKernelPass> {
  void runOnOperation() override {
    ConversionTarget target(getContext());
    RewritePatternSet patterns(&getContext());
    populateMoeToKernelPatterns(patterns, target);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mlir::moe::populateMoeToKernelPatterns(RewritePatternSet &patterns,
                                            ConversionTarget &target) {
  target.addLegalDialect<kernel::KernelDialect, tensor::TensorDialect,
                         arith::ArithDialect>();
  target.addDynamicallyLegalOp<LinearOp>(
      [](LinearOp op) { return bool(op.getBias()); });
  target.addDynamicallyLegalOp<RouterOp>(
      [](RouterOp op) { return !isSupportedRouter(op) || !op.getGate(); });
  target.addIllegalOp<LmHeadOp, FusedDReluOp, SparseMatvecOp>();
  patterns.add<LinearToMatvec, LmHeadToMatvec, FusedDReluToGateUp,
               SparseMatvecToKernel, RouterToTopK>(patterns.getContext());
}
