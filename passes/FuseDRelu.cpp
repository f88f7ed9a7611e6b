//===- FuseDRelu.cpp - dReLU expert blocks as fused gate/up products -----===//
//
// out[t] = sum_k w[t, k] * down_e(fused_drelu(x[t], gate_e, up_e)) over the
// routed experts e = ids[t, k], plus the shared experts with weight 1: a
// loop over tokens, the experts unrolled in it; optionally, for calls of
// many tokens, the dense block instead.
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

/// sum + weight * down_e(dReLU(gate_e x, up_e x)); a null weight is 1.
Value addExpert(ImplicitLocOpBuilder &b, Value x, Value sum, OpFoldResult e,
                Value weight, const StackedExperts &experts) {
  int64_t inter = cast<RankedTensorType>(experts.gate.getType()).getDimSize(1);
  auto fused = FusedDReluOp::create(
      b,
      TypeRange{RankedTensorType::get({inter}, b.getF32Type()),
                RankedTensorType::get({inter}, b.getI32Type()),
                b.getIndexType(), b.getIndexType()},
      x, expertMatrix(b, b.getLoc(), experts.gate, e),
      expertMatrix(b, b.getLoc(), experts.up, e));
  Value y = LinearOp::create(b, sum.getType(), fused.getResult(),
                             expertMatrix(b, b.getLoc(), experts.down, e),
                             Value());
  return addWeighted(b, sum, y, weight);
}

/// The block per token and expert with fused products; from `denseMinTokens`
/// tokens on (when positive), the block itself, dense.
void fuse(ExpertFfnOp op, int64_t denseMinTokens) {
  ImplicitLocOpBuilder b(op.getLoc(), op);
  if (denseMinTokens <= 0) {
    Value y = buildExpertsPerToken(b, op, addExpert);
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
        scf::YieldOp::create(tb, loc, tb.clone(*op)->getResults());
      },
      [&](OpBuilder &eb, Location loc) {
        ImplicitLocOpBuilder ib(loc, eb);
        scf::YieldOp::create(ib, buildExpertsPerToken(ib, op, addExpert));
      });
  op.replaceAllUsesWith(dispatch.getResult(0));
  op.erase();
}

struct FuseDReluPass : public moe::impl::FuseDReluBase<FuseDReluPass> {
  using FuseDReluBase::FuseDReluBase;

  void runOnOperation() override {
    SmallVector<ExpertFfnOp> blocks;
    getOperation().walk([&](ExpertFfnOp op) {
      if (op.getActivation() == Activation::DReLU && !op.getPredictorFc1())
        blocks.push_back(op);
    });
    for (ExpertFfnOp op : blocks)
      fuse(op, denseMinTokens);
  }
};

} // namespace
