//===- FuseDRelu.cpp - dReLU expert blocks as fused gate/up products -----===//
//
// out[t] = sum_k w[t, k] * down_e(fused_drelu(x[t], gate_e, up_e)) over the
// routed experts e = ids[t, k], plus the shared experts with weight 1: a
// loop over tokens, the experts unrolled in it.
//
//===----------------------------------------------------------------------===//

#include "dialects/moe/IR/MoeOps.h"
#include "passes/ExpertDispatch.h"
#include "passes/Kernels.h"
#include "passes/Passes.h"

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
  if (weight)
    y = arith::MulFOp::create(
        b, y, tensor::SplatOp::create(b, weight, sum.getType()));
  return arith::AddFOp::create(b, sum, y);
}

void fuse(ExpertFfnOp op) {
  ImplicitLocOpBuilder b(op.getLoc(), op);
  Value x = op.getInput();
  auto xType = cast<RankedTensorType>(x.getType());
  int64_t hidden = xType.getDimSize(1);
  auto rowType = RankedTensorType::get({hidden}, b.getF32Type());
  Value tokens = tensor::DimOp::create(b, x, 0);
  Value zero = arith::ConstantOp::create(b, b.getF32FloatAttr(0.0));
  Value init = tensor::SplatOp::create(b, zero, xType, ValueRange{tokens});
  Value c0 = arith::ConstantIndexOp::create(b, 0);
  Value c1 = arith::ConstantIndexOp::create(b, 1);
  auto loop = scf::ForOp::create(
      b, c0, tokens, c1, ValueRange{init},
      [&](OpBuilder &nb, Location loc, Value t, ValueRange acc) {
        ImplicitLocOpBuilder ib(loc, nb);
        SmallVector<OpFoldResult> offsets = {t, ib.getIndexAttr(0)};
        SmallVector<OpFoldResult> sizes = {ib.getIndexAttr(1),
                                           ib.getIndexAttr(hidden)};
        SmallVector<OpFoldResult> strides(2, ib.getIndexAttr(1));
        Value row = tensor::ExtractSliceOp::create(ib, rowType, x, offsets,
                                                   sizes, strides);
        Value sum = addExpertsOfToken(
            ib, op, t,
            arith::ConstantOp::create(
                ib, DenseElementsAttr::get(rowType, ib.getF32FloatAttr(0.0))),
            [&](ImplicitLocOpBuilder &eb, Value sum, OpFoldResult e, Value w,
                const StackedExperts &experts) {
              return addExpert(eb, row, sum, e, w, experts);
            });
        scf::YieldOp::create(ib, ValueRange{tensor::InsertSliceOp::create(
                                     ib, sum, acc[0], offsets, sizes, strides)
                                     .getResult()});
      });
  op.replaceAllUsesWith(loop.getResult(0));
  op.erase();
}

struct FuseDReluPass : public moe::impl::FuseDReluBase<FuseDReluPass> {
  void runOnOperation() override {
    SmallVector<ExpertFfnOp> blocks;
    getOperation().walk([&](ExpertFfnOp op) {
      if (op.getActivation() == Activation::DReLU && !op.getPredictorFc1())
        blocks.push_back(op);
    });
    for (ExpertFfnOp op : blocks)
      fuse(op);
  }
};

} // namespace
