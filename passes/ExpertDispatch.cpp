//===- ExpertDispatch.cpp - expert blocks as products of their experts ---===//

#include "passes/ExpertDispatch.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::moe;

StackedExperts mlir::moe::routedExperts(ExpertFfnOp op) {
  StackedExperts routed{op.getGate(),         op.getUp(),
                        op.getDown(),         op.getDownNeuronMajor(),
                        op.getPredictorFc1(), op.getPredictorFc2()};
  routed.gateBias = op.getGateBias();
  routed.upBias = op.getUpBias();
  routed.downBias = op.getDownBias();
  return routed;
}

StackedExperts mlir::moe::sharedExperts(ExpertFfnOp op) {
  StackedExperts shared{op.getSharedGate(), op.getSharedUp(),
                        op.getSharedDown()};
  shared.gateBias = op.getSharedGateBias();
  shared.upBias = op.getSharedUpBias();
  shared.downBias = op.getSharedDownBias();
  return shared;
}

Value mlir::moe::addExpertsOfToken(ImplicitLocOpBuilder &b, ExpertFfnOp op,
                                   Value t, Value sum, AddExpertFn add) {
  StackedExperts routed = routedExperts(op);
  if (Value input = op.getPredictorInput()) {
    int64_t hidden = cast<RankedTensorType>(input.getType()).getDimSize(1);
    routed.predictorRow = tensor::ExtractSliceOp::create(
        b, RankedTensorType::get({hidden}, b.getF32Type()), input,
        ArrayRef<OpFoldResult>{t, b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(hidden)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
  }
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
  StackedExperts shared = sharedExperts(op);
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

namespace {

/// Row `t` of the [T, H] tensor `acc` plus `weight` (null: 1) times row
/// `j` of y [N, H].
Value addRowWeighted(ImplicitLocOpBuilder &b, Value acc, Value t, Value y,
                     Value j, Value weight) {
  auto type = cast<RankedTensorType>(acc.getType());
  int64_t hidden = type.getDimSize(1);
  auto rowType = RankedTensorType::get({hidden}, b.getF32Type());
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1), b.getIndexAttr(hidden)};
  SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
  auto rowAt = [&](Value of, Value r) -> Value {
    return tensor::ExtractSliceOp::create(
        b, rowType, of, ArrayRef<OpFoldResult>{r, b.getIndexAttr(0)}, sizes,
        strides);
  };
  Value sum = addWeighted(b, rowAt(acc, t), rowAt(y, j), weight);
  return tensor::InsertSliceOp::create(
      b, sum, acc, ArrayRef<OpFoldResult>{t, b.getIndexAttr(0)}, sizes,
      strides);
}

} // namespace

Value mlir::moe::buildExpertsGrouped(ImplicitLocOpBuilder &b, ExpertFfnOp op,
                                     ExpertRowsFn rows) {
  Value x = op.getInput();
  auto xType = cast<RankedTensorType>(x.getType());
  int64_t hidden = xType.getDimSize(1);
  Type f32 = b.getF32Type(), index = b.getIndexType();
  Value tokens = tensor::DimOp::create(b, x, 0);
  Value c0 = arith::ConstantIndexOp::create(b, 0);
  Value c1 = arith::ConstantIndexOp::create(b, 1);
  StackedExperts routed = routedExperts(op);
  routed.predictorFc1 = routed.predictorFc2 = Value();
  Value sum;
  if (Value weights = op.getRoutingWeights()) {
    Value ids = op.getExpertIds();
    int64_t topK = cast<RankedTensorType>(weights.getType()).getDimSize(1);
    int64_t experts =
        cast<RankedTensorType>(op.getGate().getType()).getDimSize(0);
    Type idType = cast<RankedTensorType>(ids.getType()).getElementType();
    Value zero = arith::ConstantOp::create(b, b.getF32FloatAttr(0.0));
    Value init = tensor::SplatOp::create(b, zero, xType, ValueRange{tokens});
    auto perExpert = scf::ForOp::create(
        b, c0, arith::ConstantIndexOp::create(b, experts), c1, ValueRange{init},
        [&](OpBuilder &nb, Location loc, Value e, ValueRange acc) {
          ImplicitLocOpBuilder eb(loc, nb);
          Value id = arith::IndexCastOp::create(eb, idType, e);
          // The tokens routed to e, in order, with their weights: each
          // token is written at the count, which moves on where it is
          // routed to e (a token picks an expert at most once).
          Value slots = tensor::EmptyOp::create(
              eb, ArrayRef<OpFoldResult>{tokens}, index);
          Value scales =
              tensor::EmptyOp::create(eb, ArrayRef<OpFoldResult>{tokens}, f32);
          auto gather = scf::ForOp::create(
              eb, c0, tokens, c1, ValueRange{slots, scales, c0},
              [&](OpBuilder &tb, Location tl, Value t, ValueRange st) {
                ImplicitLocOpBuilder ib(tl, tb);
                Value routedHere =
                    arith::ConstantOp::create(ib, ib.getBoolAttr(false));
                Value weight = zero;
                for (int64_t k = 0; k < topK; ++k) {
                  Value kk = arith::ConstantIndexOp::create(ib, k);
                  Value is = arith::CmpIOp::create(
                      ib, arith::CmpIPredicate::eq,
                      tensor::ExtractOp::create(ib, ids, ValueRange{t, kk}),
                      id);
                  weight = arith::SelectOp::create(
                      ib, is,
                      tensor::ExtractOp::create(ib, weights, ValueRange{t, kk}),
                      weight);
                  routedHere = arith::OrIOp::create(ib, routedHere, is);
                }
                Value n = st[2];
                Value next = arith::AddIOp::create(
                    ib, n, arith::SelectOp::create(ib, routedHere, c1, c0));
                scf::YieldOp::create(
                    ib, ValueRange{tensor::InsertOp::create(ib, t, st[0],
                                                            ValueRange{n}),
                                   tensor::InsertOp::create(ib, weight, st[1],
                                                            ValueRange{n}),
                                   next});
              });
          Value picked = gather.getResult(0), scale = gather.getResult(1);
          Value count = gather.getResult(2);
          Value any =
              arith::CmpIOp::create(eb, arith::CmpIPredicate::ugt, count, c0);
          auto ifAny = scf::IfOp::create(
              eb, any,
              [&](OpBuilder &tb, Location tl) {
                ImplicitLocOpBuilder ib(tl, tb);
                // The routed rows [count, H].
                auto rowsType = RankedTensorType::get(
                    {ShapedType::kDynamic, hidden}, xType.getElementType());
                Value empty = tensor::EmptyOp::create(
                    ib, ArrayRef<OpFoldResult>{count, ib.getIndexAttr(hidden)},
                    xType.getElementType());
                AffineMap id2 =
                    AffineMap::getMultiDimIdentityMap(2, ib.getContext());
                Value in = linalg::GenericOp::create(
                               ib, rowsType, ValueRange{}, ValueRange{empty},
                               ArrayRef<AffineMap>{id2},
                               ArrayRef<utils::IteratorType>{
                                   utils::IteratorType::parallel,
                                   utils::IteratorType::parallel},
                               [&](OpBuilder &gb, Location gl, ValueRange) {
                                 Value j = linalg::IndexOp::create(gb, gl, 0);
                                 Value h = linalg::IndexOp::create(gb, gl, 1);
                                 Value t = tensor::ExtractOp::create(
                                     gb, gl, picked, ValueRange{j});
                                 linalg::YieldOp::create(
                                     gb, gl,
                                     ValueRange{tensor::ExtractOp::create(
                                         gb, gl, x, ValueRange{t, h})});
                               })
                               .getResult(0);
                Value y = rows(ib, in, e, routed);
                auto scatter = scf::ForOp::create(
                    ib, c0, count, c1, ValueRange{acc[0]},
                    [&](OpBuilder &sb, Location sl, Value j, ValueRange out) {
                      ImplicitLocOpBuilder jb(sl, sb);
                      Value t =
                          tensor::ExtractOp::create(jb, picked, ValueRange{j});
                      Value w =
                          tensor::ExtractOp::create(jb, scale, ValueRange{j});
                      scf::YieldOp::create(
                          jb, addRowWeighted(jb, out[0], t, y, j, w));
                    });
                scf::YieldOp::create(ib, scatter.getResults());
              },
              [&](OpBuilder &tb, Location tl) {
                scf::YieldOp::create(tb, tl, acc[0]);
              });
          scf::YieldOp::create(eb, ifAny.getResults());
        });
    sum = perExpert.getResult(0);
  } else {
    sum = rows(b, x, b.getIndexAttr(0), routed);
  }
  StackedExperts shared = sharedExperts(op);
  for (int64_t s = 0; s < op.getNumSharedExperts(); ++s)
    sum = arith::AddFOp::create(b, sum, rows(b, x, b.getIndexAttr(s), shared));
  return sum;
}
