//===- MoeToKernel.cpp - model-level ops to kernel ops -------------------===//
//
// The ops whose cost is a weight stream become kernel ops, which every
// backend lowers with the same meaning: projections and the LM head to
// kernel.matvec, the fused dReLU block to kernel.gate_up, its down product
// to kernel.sparse_matvec (the layout an attribute), the router to
// kernel.router_top_k; norms, RoPE and attention (as the cache write and
// the attention over the live positions) to the layer kernels. The rest
// stays for the reference lowering.
//
//===----------------------------------------------------------------------===//

#include "dialects/kernel/IR/KernelOps.h"
#include "dialects/moe/IR/MoeOps.h"
#include "passes/ExpertDispatch.h"
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
        adaptor.getUp(), adaptor.getPredicted(), op.getThresholdAttr(),
        kernel::GatedActivation::DReLU, nullptr);
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

/// A router score function that reads one token's logits only.
std::optional<kernel::RouterScores> perTokenScores(RouterNonlinearity f) {
  switch (f) {
  case RouterNonlinearity::Softmax:
    return kernel::RouterScores::Softmax;
  case RouterNonlinearity::Sigmoid:
    return kernel::RouterScores::Sigmoid;
  case RouterNonlinearity::Sinkhorn:
    break;
  }
  return std::nullopt;
}

/// The routers kernel.router_top_k computes: learned, with a gate, whose
/// scores are per token (sinkhorn's mix the tokens of a call and stay with
/// the reference lowering).
bool isTopKRouter(RouterOp op) {
  return op.getRouting() == RoutingAlgorithm::Learned && op.getGate() &&
         perTokenScores(op.getNonlinearity()) &&
         perTokenScores(op.getWeightingOrSelection());
}

struct RouterToTopK : OpConversionPattern<RouterOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RouterOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (!isTopKRouter(op))
      return rewriter.notifyMatchFailure(op, "not a learned per-token gate");
    kernel::RouterScores selection = *perTokenScores(op.getNonlinearity());
    kernel::RouterScores weighting =
        *perTokenScores(op.getWeightingOrSelection());
    rewriter.replaceOpWithNewOp<kernel::RouterTopKOp>(
        op, op->getResultTypes(), adaptor.getInput(), adaptor.getGate(),
        op.getTopKAttr(),
        kernel::RouterScoresAttr::get(op.getContext(), selection),
        weighting == selection
            ? kernel::RouterScoresAttr()
            : kernel::RouterScoresAttr::get(op.getContext(), weighting),
        op.getRenormalizeAttr(), op.getNullExpertBiasAttr(), nullptr);
    return success();
  }
};

/// The GLU family's expert blocks (SwiGLU, ReGLU, GeGLU) as, per token and
/// expert, a kernel.gate_up and a kernel.matvec for the down projection:
/// the same weight-streaming kernels as every projection, on every
/// backend. dReLU blocks are moe-fuse-drelu's (or, with --no-sparse,
/// stay dense for comparison); a block with a predictor keeps it.
bool isGluBlock(ExpertFfnOp op) {
  return op.getActivation() != Activation::DReLU && !op.getPredictorFc1() &&
         !op.getDownNeuronMajor() && !op.hasBiases();
}

struct GluExpertsToKernels : OpConversionPattern<ExpertFfnOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ExpertFfnOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (!isGluBlock(op))
      return rewriter.notifyMatchFailure(op, "not a GLU block");
    kernel::GatedActivation act = gatedActivationOf(op.getActivation());
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value y = buildExpertsPerToken(
        b, op,
        [&](ImplicitLocOpBuilder &eb, Value row, Value sum, OpFoldResult e,
            Value weight, const StackedExperts &experts) {
          Location loc = eb.getLoc();
          int64_t inter =
              cast<RankedTensorType>(experts.gate.getType()).getDimSize(1);
          auto gateUp = kernel::GateUpOp::create(
              eb,
              TypeRange{RankedTensorType::get({inter}, eb.getF32Type()),
                        RankedTensorType::get({inter}, eb.getI32Type()),
                        eb.getIndexType(), eb.getIndexType()},
              row, expertMatrix(eb, loc, experts.gate, e),
              expertMatrix(eb, loc, experts.up, e), /*predicted=*/Value(),
              /*threshold=*/FloatAttr(), act, nullptr);
          Value down = expertMatrix(eb, loc, experts.down, e);
          auto downType = cast<RankedTensorType>(down.getType());
          Value y = kernel::MatvecOp::create(
              eb,
              RankedTensorType::get({1, downType.getDimSize(0)},
                                    eb.getF32Type()),
              asRowMatrix(eb, loc, gateUp.getResult()), down, nullptr);
          return addWeighted(eb, sum, fromRowMatrix(eb, loc, y, sum.getType()),
                             weight);
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// The layer kernels: norm and RoPE of f32 rows as they are; attention as
/// the cache write and the attention over the live positions, two kernels
/// with one meaning each.
bool isF32Tensor(Value v) {
  return cast<RankedTensorType>(v.getType()).getElementType().isF32();
}

struct RmsNormToKernel : OpConversionPattern<RmsNormOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RmsNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<kernel::RmsNormOp>(
        op, op.getType(), adaptor.getInput(), adaptor.getWeight(),
        op.getEpsAttr(), nullptr);
    return success();
  }
};

struct RopeToKernel : OpConversionPattern<RopeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RopeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<kernel::RopeOp>(
        op, op.getType(), adaptor.getInput(), adaptor.getPositions(),
        op.getThetaAttr(), op.getHeadDimAttr(),
        kernel::RopeLayoutAttr::get(op.getContext(),
                                    op.getLayout() == RopeLayout::Interleaved
                                        ? kernel::RopeLayout::Interleaved
                                        : kernel::RopeLayout::RotateHalf),
        op.getInvFreqAttr(), nullptr);
    return success();
  }
};

struct AttentionToKernels : OpConversionPattern<AttentionOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(AttentionOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value cache = kernel::CacheWriteOp::create(
        rewriter, loc, adaptor.getKvCache().getType(), adaptor.getK(),
        adaptor.getV(), adaptor.getKvCache(), adaptor.getPositions(),
        adaptor.getOffsets(), nullptr);
    Value out = kernel::AttentionOp::create(
        rewriter, loc, op.getResult().getType(), adaptor.getQ(), cache,
        adaptor.getPositions(), adaptor.getOffsets(), op.getNumHeadsAttr(),
        op.getNumKvHeadsAttr(),
        op.getHeadDimAttr(), rewriter.getF64FloatAttr(op.getScaleOrDefault()),
        op.getCausalAttr(), op.getSlidingWindowAttr(), op.getAlibiSlopesAttr(),
        nullptr);
    rewriter.replaceOp(op, {out, cache});
    return success();
  }
};

struct MoeToKernelPass : public moe::impl::MoeToKernelBase<MoeToKernelPass> {
  using MoeToKernelBase::MoeToKernelBase;
  void runOnOperation() override {
    ConversionTarget target(getContext());
    RewritePatternSet patterns(&getContext());
    populateMoeToKernelPatterns(patterns, target, gluExperts);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mlir::moe::populateMoeToKernelPatterns(RewritePatternSet &patterns,
                                            ConversionTarget &target,
                                            bool gluExperts) {
  target.addLegalDialect<kernel::KernelDialect, tensor::TensorDialect,
                         arith::ArithDialect, scf::SCFDialect>();
  target.addDynamicallyLegalOp<LinearOp>(
      [](LinearOp op) { return bool(op.getBias()); });
  target.addDynamicallyLegalOp<RouterOp>(
      [](RouterOp op) { return !isTopKRouter(op); });
  target.addIllegalOp<LmHeadOp, FusedDReluOp, SparseMatvecOp>();
  target.addDynamicallyLegalOp<RmsNormOp>(
      [](RmsNormOp op) { return !isF32Tensor(op.getInput()); });
  target.addDynamicallyLegalOp<RopeOp>(
      [](RopeOp op) { return !isF32Tensor(op.getInput()); });
  target.addDynamicallyLegalOp<AttentionOp>([](AttentionOp op) {
    return !isF32Tensor(op.getQ()) || !isF32Tensor(op.getK());
  });
  patterns.add<LinearToMatvec, LmHeadToMatvec, FusedDReluToGateUp,
               SparseMatvecToKernel, RouterToTopK, RmsNormToKernel,
               RopeToKernel, AttentionToKernels>(patterns.getContext());
  if (gluExperts) {
    target.addDynamicallyLegalOp<ExpertFfnOp>(
        [](ExpertFfnOp op) { return !isGluBlock(op); });
    patterns.add<GluExpertsToKernels>(patterns.getContext());
  }
}
