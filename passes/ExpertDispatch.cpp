//===- ExpertDispatch.cpp - the experts of one token ---------------------===//

#include "passes/ExpertDispatch.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::moe;

Value mlir::moe::addExpertsOfToken(ImplicitLocOpBuilder &b, ExpertFfnOp op,
                                   Value t, Value sum, AddExpertFn add) {
  StackedExperts routed{op.getGate(), op.getUp(), op.getDown()};
  if (Value weights = op.getRoutingWeights()) {
    int64_t topK = cast<RankedTensorType>(weights.getType()).getDimSize(1);
    for (int64_t k = 0; k < topK; ++k) {
      Value kk = arith::ConstantIndexOp::create(b, k);
      Value e = arith::IndexCastOp::create(
          b, b.getIndexType(),
          tensor::ExtractOp::create(b, op.getExpertIds(), ValueRange{t, kk}));
      Value w = tensor::ExtractOp::create(b, weights, ValueRange{t, kk});
      sum = add(b, sum, e, w, routed);
    }
  } else {
    sum = add(b, sum, b.getIndexAttr(0), Value(), routed);
  }
  StackedExperts shared{op.getSharedGate(), op.getSharedUp(),
                        op.getSharedDown()};
  for (int64_t s = 0; s < op.getNumSharedExperts(); ++s)
    sum = add(b, sum, b.getIndexAttr(s), Value(), shared);
  return sum;
}

Value mlir::moe::addWeighted(ImplicitLocOpBuilder &b, Value sum, Value y,
                             Value weight) {
  if (weight)
    y = arith::MulFOp::create(
        b, y, tensor::SplatOp::create(b, weight, sum.getType()));
  return arith::AddFOp::create(b, sum, y);
}

Value mlir::moe::buildExpertsPerToken(ImplicitLocOpBuilder &b, ExpertFfnOp op,
                                      AddExpertToRowFn add) {
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
              return add(eb, row, sum, e, w, experts);
            });
        scf::YieldOp::create(ib, ValueRange{tensor::InsertSliceOp::create(
                                     ib, sum, acc[0], offsets, sizes, strides)
                                     .getResult()});
      });
  return loop.getResult(0);
}
