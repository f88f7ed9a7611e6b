//===- FuseDRelu.cpp - dReLU expert blocks as fused gate/up products -----===//
//
// out[t] = sum_k w[t, k] * down_e(fused_drelu(x[t], gate_e, up_e)) over the
// routed experts e = ids[t, k], plus the shared experts with weight 1: a
// loop over tokens, the experts unrolled in it; optionally, for calls of
// many tokens, the dense block instead. A routed expert with a predictor
// (kept by --predictors) computes only the neurons it predicts.
//
//===----------------------------------------------------------------------===//

#include "dialects/moe/IR/MoeOps.h"
#include "passes/ExpertDispatch.h"
#include "passes/Kernels.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::moe {
#define GEN_PASS_DEF_FUSEDRELU
#include "passes/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

/// The predictor's logits [I] of expert e for `row` [H]:
/// fc2_e relu(fc1_e row).
Value predictLogits(ImplicitLocOpBuilder &b, Value row, OpFoldResult e,
                    const StackedExperts &experts) {
  auto fc1 = cast<RankedTensorType>(experts.predictorFc1.getType());
  auto fc2 = cast<RankedTensorType>(experts.predictorFc2.getType());
  Type f32 = b.getF32Type();
  Value hidden = LinearOp::create(
      b, RankedTensorType::get({fc1.getDimSize(1)}, f32), row,
      expertMatrix(b, b.getLoc(), experts.predictorFc1, e), Value());
  Value zeros = arith::ConstantOp::create(
      b, DenseElementsAttr::get(cast<RankedTensorType>(hidden.getType()),
                                b.getF32FloatAttr(0.0)));
  Value relu = arith::MaximumFOp::create(b, hidden, zeros);
  return LinearOp::create(
      b, RankedTensorType::get({fc2.getDimSize(1)}, f32), relu,
      expertMatrix(b, b.getLoc(), experts.predictorFc2, e), Value());
}

/// sum + weight * down_e(dReLU(gate_e x, up_e x)); a null weight is 1.
/// With a predictor, over the neurons it predicts only.
Value addExpert(ImplicitLocOpBuilder &b, Value x, Value sum, OpFoldResult e,
                Value weight, const StackedExperts &experts, double threshold) {
  int64_t inter = cast<RankedTensorType>(experts.gate.getType()).getDimSize(1);
  Value predicted;
  FloatAttr thresholdAttr;
  if (experts.predictorFc1) {
    predicted = predictLogits(
        b, experts.predictorRow ? experts.predictorRow : x, e, experts);
    thresholdAttr = b.getF32FloatAttr(threshold);
  }
  auto fused = FusedDReluOp::create(
      b,
      TypeRange{RankedTensorType::get({inter}, b.getF32Type()),
                RankedTensorType::get({inter}, b.getI32Type()),
                b.getIndexType(), b.getIndexType()},
      x, expertMatrix(b, b.getLoc(), experts.gate, e),
      expertMatrix(b, b.getLoc(), experts.up, e), predicted, thresholdAttr);
  Value y = LinearOp::create(b, sum.getType(), fused.getResult(),
                             expertMatrix(b, b.getLoc(), experts.down, e),
                             Value());
  return addWeighted(b, sum, y, weight);
}

/// The block per token and expert with fused products; from `denseMinTokens`
/// tokens on (when positive), the block itself, dense and exact.
void fuse(ExpertFfnOp op, int64_t denseMinTokens, double threshold) {
  ImplicitLocOpBuilder b(op.getLoc(), op);
  auto addExpertPredicted = [&](ImplicitLocOpBuilder &eb, Value x, Value sum,
                                OpFoldResult e, Value weight,
                                const StackedExperts &experts) {
    return addExpert(eb, x, sum, e, weight, experts, threshold);
  };
  if (denseMinTokens <= 0) {
    Value y = buildExpertsPerToken(b, op, addExpertPredicted);
    op.replaceAllUsesWith(y);
    op.erase();
    return;
  }
  Value tokens = tensor::DimOp::create(b, op.getInput(), 0);
  Value many =
      arith::CmpIOp::create(b, arith::CmpIPredicate::uge, tokens,
                            arith::ConstantIndexOp::create(b, denseMinTokens));
  auto dispatch = scf::IfOp::create(
      b, many,
      [&](OpBuilder &tb, Location loc) {
        auto dense = cast<ExpertFfnOp>(tb.clone(*op));
        dense.getPredictorFc1Mutable().clear();
        dense.getPredictorFc2Mutable().clear();
        dense.getPredictorInputMutable().clear();
        scf::YieldOp::create(tb, loc, dense->getResults());
      },
      [&](OpBuilder &eb, Location loc) {
        ImplicitLocOpBuilder ib(loc, eb);
        scf::YieldOp::create(ib,
                             buildExpertsPerToken(ib, op, addExpertPredicted));
      });
  op.replaceAllUsesWith(dispatch.getResult(0));
  op.erase();
}

struct FuseDReluPass : public moe::impl::FuseDReluBase<FuseDReluPass> {
  using FuseDReluBase::FuseDReluBase;

  void runOnOperation() override {
    SmallVector<ExpertFfnOp> blocks;
    getOperation().walk([&](ExpertFfnOp op) {
      // Biased linears are not the sparse products' (relu(g + b) is not
      // zero where g is): such blocks stay dense.
      if (op.getActivation() == Activation::DReLU && !op.hasBiases())
        blocks.push_back(op);
    });
    for (ExpertFfnOp op : blocks)
      fuse(op, denseMinTokens, predictorThreshold);
  }
};

} // namespace
