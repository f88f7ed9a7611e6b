//===- MoeToLinalg.cpp - the reference lowering of moe ops --------------===//
//
// Every moe compute op becomes linalg.generic ops (dense products, norms,
// softmaxes) and scf.for loops over tensors (cache writes, top-k, expert
// dispatch, sparse index sets). Weights are widened to f32 where they are
// read; all arithmetic is f32.
//
//===----------------------------------------------------------------------===//

#include "dialects/moe/IR/MoeOps.h"
#include "passes/ExpertDispatch.h"
#include "passes/KernelPatterns.h"
#include "passes/Kernels.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"

#include <cmath>
#include <limits>

namespace mlir::moe {
#define GEN_PASS_DEF_MOETOLINALG
#include "passes/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;
using utils::IteratorType;

namespace {

constexpr IteratorType kPar = IteratorType::parallel;
constexpr IteratorType kRed = IteratorType::reduction;

/// acc + x, as a reduction step.
Value addStep(OpBuilder &b, Location loc, Value acc, Value x) {
  return arith::AddFOp::create(b, loc, acc, x, kReductionFlags);
}

/// Builders shared by the op lowerings.
class Lowering {
public:
  Lowering(ImplicitLocOpBuilder &b, const KernelOptions &kernels)
      : b(b), f32(b.getF32Type()), kernels(kernels) {}

  Value f32Const(double v) {
    return arith::ConstantOp::create(b, b.getF32FloatAttr(v));
  }
  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, v); }

  SmallVector<OpFoldResult> sizes(Value t) {
    return tensor::getMixedSizes(b, b.getLoc(), t);
  }
  OpFoldResult size(Value t, int64_t dim) {
    return tensor::getMixedSize(b, b.getLoc(), t, dim);
  }
  Value sizeValue(Value t, int64_t dim) {
    return getValueOrCreateConstantIndexOp(b, b.getLoc(), size(t, dim));
  }

  Value filled(ArrayRef<OpFoldResult> shape, double value) {
    Value empty = tensor::EmptyOp::create(b, shape, f32);
    return linalg::FillOp::create(b, ValueRange{f32Const(value)},
                                  ValueRange{empty})
        .getResult(0);
  }

  /// (d0, ..., d{n-1}) -> (d{dims[0]}, ...).
  AffineMap proj(unsigned n, ArrayRef<unsigned> dims) {
    SmallVector<AffineExpr> exprs;
    for (unsigned d : dims)
      exprs.push_back(b.getAffineDimExpr(d));
    return AffineMap::get(n, 0, exprs, b.getContext());
  }
  AffineMap identity(unsigned n) {
    return AffineMap::getMultiDimIdentityMap(n, b.getContext());
  }

  Value generic(Value init, ValueRange ins, ArrayRef<AffineMap> maps,
                ArrayRef<IteratorType> iters,
                function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
    return linalg::GenericOp::create(
               b, init.getType(), ins, ValueRange{init}, maps, iters,
               [&](OpBuilder &nb, Location loc, ValueRange args) {
                 linalg::YieldOp::create(nb, loc, body(nb, loc, args));
               })
        .getResult(0);
  }

  /// x [T, K] (f32) times w [N, K] (any float) transposed: [T, N].
  Value matmulTransposed(Value x, Value w) {
    return buildMatvec(b, b.getLoc(), x, w, kernels);
  }

  /// Adds a bias [N] (any float) to every row of y [T, N].
  Value addBias(Value y, Value bias) {
    return generic(y, {bias}, {proj(2, {1}), identity(2)}, {kPar, kPar},
                   [&](OpBuilder &nb, Location loc, ValueRange a) -> Value {
                     return arith::AddFOp::create(nb, loc, a[1],
                                                  widenToF32(nb, loc, a[0]));
                   });
  }

  /// Reduces x over its last dimension with `combine`, starting at `init`.
  Value reduceLast(Value x, double init,
                   function_ref<Value(OpBuilder &, Location, Value, Value)>
                       combine) {
    auto type = cast<RankedTensorType>(x.getType());
    unsigned rank = type.getRank();
    SmallVector<OpFoldResult> outer = sizes(x);
    outer.pop_back();
    SmallVector<unsigned> outerDims;
    SmallVector<IteratorType> iters(rank, kPar);
    iters.back() = kRed;
    for (unsigned d = 0; d + 1 < rank; ++d)
      outerDims.push_back(d);
    return generic(filled(outer, init), {x},
                   {identity(rank), proj(rank, outerDims)}, iters,
                   [&](OpBuilder &nb, Location loc, ValueRange a) {
                     return combine(nb, loc, a[1], a[0]);
                   });
  }

  /// Softmax over the last dimension, in f32; -inf entries get 0.
  Value softmaxLast(Value x) {
    unsigned rank = cast<RankedTensorType>(x.getType()).getRank();
    SmallVector<unsigned> outerDims;
    for (unsigned d = 0; d + 1 < rank; ++d)
      outerDims.push_back(d);
    SmallVector<IteratorType> par(rank, kPar);
    Value max = reduceLast(x, -std::numeric_limits<double>::infinity(),
                           [](OpBuilder &nb, Location loc, Value acc, Value v) {
                             return arith::MaximumFOp::create(nb, loc, acc, v);
                           });
    Value exps = generic(
        tensor::EmptyOp::create(b, sizes(x), f32), {x, max},
        {identity(rank), proj(rank, outerDims), identity(rank)}, par,
        [&](OpBuilder &nb, Location loc, ValueRange a) -> Value {
          Value d = arith::SubFOp::create(nb, loc, a[0], a[1]);
          return math::ExpOp::create(nb, loc, d);
        });
    Value sum = reduceLast(exps, 0.0,
                           [](OpBuilder &nb, Location loc, Value acc, Value v) {
                             return addStep(nb, loc, acc, v);
                           });
    return generic(exps, {sum}, {proj(rank, outerDims), identity(rank)}, par,
                   [&](OpBuilder &nb, Location loc, ValueRange a) -> Value {
                     return arith::DivFOp::create(nb, loc, a[1], a[0]);
                   });
  }

  /// act(g, u) elementwise for tensors of equal shape.
  Value activate(Activation act, Value g, Value u) {
    unsigned rank = cast<RankedTensorType>(g.getType()).getRank();
    SmallVector<IteratorType> par(rank, kPar);
    return generic(tensor::EmptyOp::create(b, sizes(g), f32), {g, u},
                   {identity(rank), identity(rank), identity(rank)}, par,
                   [&](OpBuilder &nb, Location loc, ValueRange a) -> Value {
                     return gatedActivation(nb, loc, act, a[0], a[1]);
                   });
  }

  /// Row `row` of a [T, H] tensor, as [1, H].
  Value row(Value x, Value rowIndex) {
    auto type = cast<RankedTensorType>(x.getType());
    return tensor::ExtractSliceOp::create(
        b, RankedTensorType::get({1, type.getDimSize(1)}, type.getElementType()),
        x, ArrayRef<OpFoldResult>{rowIndex, b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), size(x, 1)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
  }

  /// Matrix `e` of a stacked [E, A, B] weight, as [A, B].
  Value matrix(Value stacked, OpFoldResult e) {
    return expertMatrix(b, b.getLoc(), stacked, e);
  }

  ImplicitLocOpBuilder &b;
  Type f32;
  const KernelOptions &kernels;
  /// Attention reads the whole cache (attend-whole-cache).
  bool wholeCache = false;
};

//===----------------------------------------------------------------------===//
// Op lowerings
//===----------------------------------------------------------------------===//

Value lowerEmbedding(Lowering &l, EmbeddingOp op) {
  Value table = op.getTable();
  Value init = tensor::EmptyOp::create(
      l.b, {l.size(op.getIds(), 0), l.size(table, 1)}, l.f32);
  return l.generic(init, {op.getIds()}, {l.proj(2, {0}), l.identity(2)},
                   {kPar, kPar},
                   [&](OpBuilder &nb, Location loc, ValueRange a) -> Value {
                     Value id = arith::IndexCastOp::create(
                         nb, loc, nb.getIndexType(), a[0]);
                     Value h = linalg::IndexOp::create(nb, loc, 1);
                     Value v = tensor::ExtractOp::create(nb, loc, table,
                                                         ValueRange{id, h});
                     return widenToF32(nb, loc, v);
                   });
}

Value lowerRmsNorm(Lowering &l, RmsNormOp op) {
  Value x = op.getInput();
  unsigned rank = op.getInput().getType().getRank();
  int64_t hidden = op.getInput().getType().getShape().back();
  Value sumSq = l.reduceLast(x, 0.0,
                             [](OpBuilder &nb, Location loc, Value acc, Value v) {
                               return mulAdd(nb, loc, acc, v, v);
                             });
  SmallVector<unsigned> outerDims;
  for (unsigned d = 0; d + 1 < rank; ++d)
    outerDims.push_back(d);
  SmallVector<IteratorType> par(rank, kPar);
  double eps = op.getEps().convertToDouble();
  return l.generic(
      tensor::EmptyOp::create(l.b, l.sizes(x), l.f32),
      {x, sumSq, op.getWeight()},
      {l.identity(rank), l.proj(rank, outerDims), l.proj(rank, {rank - 1}),
       l.identity(rank)},
      par, [&](OpBuilder &nb, Location loc, ValueRange a) -> Value {
        Value n = arith::ConstantOp::create(nb, loc,
                                            nb.getF32FloatAttr(float(hidden)));
        Value e = arith::ConstantOp::create(nb, loc,
                                            nb.getF32FloatAttr(float(eps)));
        Value mean = arith::DivFOp::create(nb, loc, a[1], n);
        Value r = math::RsqrtOp::create(nb, loc,
                                        arith::AddFOp::create(nb, loc, mean, e));
        Value normed = arith::MulFOp::create(nb, loc, a[0], r);
        return arith::MulFOp::create(nb, loc, normed, widenToF32(nb, loc, a[2]));
      });
}

Value lowerRope(Lowering &l, RopeOp op) {
  Value x = op.getInput();
  int64_t d = op.getHeadDimAttr().getInt();
  double theta = op.getTheta().convertToDouble();
  bool interleaved = op.getLayout() == RopeLayout::Interleaved;
  return l.generic(
      tensor::EmptyOp::create(l.b, l.sizes(x), l.f32), {op.getPositions()},
      {l.proj(3, {0}), l.identity(3)}, {kPar, kPar, kPar},
      [&](OpBuilder &nb, Location loc, ValueRange a) -> Value {
        auto c = [&](int64_t v) {
          return arith::ConstantIndexOp::create(nb, loc, v).getResult();
        };
        auto f = [&](double v) {
          return arith::ConstantOp::create(nb, loc, nb.getF32FloatAttr(v))
              .getResult();
        };
        Value t = linalg::IndexOp::create(nb, loc, 0);
        Value h = linalg::IndexOp::create(nb, loc, 1);
        Value i = linalg::IndexOp::create(nb, loc, 2);
        // Frequency index and partner element of dimension i.
        Value freqIndex, partner, first;
        if (interleaved) {
          freqIndex = arith::DivUIOp::create(nb, loc, i, c(2));
          Value odd = arith::RemUIOp::create(nb, loc, i, c(2));
          first = arith::CmpIOp::create(nb, loc, arith::CmpIPredicate::eq, odd,
                                        c(0));
          partner = arith::SelectOp::create(
              nb, loc, first, arith::AddIOp::create(nb, loc, i, c(1)),
              arith::SubIOp::create(nb, loc, i, c(1)));
        } else {
          freqIndex = arith::RemUIOp::create(nb, loc, i, c(d / 2));
          first = arith::CmpIOp::create(nb, loc, arith::CmpIPredicate::ult, i,
                                        c(d / 2));
          partner = arith::SelectOp::create(
              nb, loc, first, arith::AddIOp::create(nb, loc, i, c(d / 2)),
              arith::SubIOp::create(nb, loc, i, c(d / 2)));
        }
        // inv_freq = 1 / theta^(2k / d), in f32 as HF computes it.
        Value k = arith::UIToFPOp::create(
            nb, loc, nb.getF32Type(),
            arith::IndexCastUIOp::create(nb, loc, nb.getI32Type(), freqIndex));
        Value exponent = arith::MulFOp::create(nb, loc, k, f(2.0 / double(d)));
        Value invFreq = arith::DivFOp::create(
            nb, loc, f(1.0), math::PowFOp::create(nb, loc, f(theta), exponent));
        Value pos = arith::SIToFPOp::create(nb, loc, nb.getF32Type(), a[0]);
        Value angle = arith::MulFOp::create(nb, loc, pos, invFreq);
        Value cos = math::CosOp::create(nb, loc, angle);
        Value sin = math::SinOp::create(nb, loc, angle);
        Value xi = widenToF32(nb, loc,
                           tensor::ExtractOp::create(nb, loc, x,
                                                     ValueRange{t, h, i}));
        Value xp = widenToF32(nb, loc,
                           tensor::ExtractOp::create(nb, loc, x,
                                                     ValueRange{t, h, partner}));
        // rotate: the first of a pair takes -partner, the second +partner.
        Value rotated = arith::SelectOp::create(
            nb, loc, first, arith::NegFOp::create(nb, loc, xp), xp);
        return arith::AddFOp::create(nb, loc,
                                     arith::MulFOp::create(nb, loc, xi, cos),
                                     arith::MulFOp::create(nb, loc, rotated, sin));
      });
}

Value lowerLinear(Lowering &l, LinearOp op) {
  Location loc = l.b.getLoc();
  Value y = l.matmulTransposed(asRowMatrix(l.b, loc, op.getInput()),
                               op.getWeight());
  if (op.getBias())
    y = l.addBias(y, op.getBias());
  return fromRowMatrix(l.b, loc, y, op.getResult().getType());
}

/// Writes k and v at their positions, then attends over the cache prefix
/// up to the last position (positions are ascending and contiguous).
SmallVector<Value> lowerAttention(Lowering &l, AttentionOp op) {
  ImplicitLocOpBuilder &b = l.b;
  int64_t heads = op.getNumHeadsAttr().getInt();
  int64_t kvHeads = op.getNumKvHeadsAttr().getInt();
  int64_t d = op.getHeadDimAttr().getInt();
  int64_t group = heads / kvHeads;
  Value positions = op.getPositions();
  Value tokens = l.sizeValue(op.getQ(), 0);

  // Cache writes: cache[pos[t]] = k[t].
  auto rowType = RankedTensorType::get({kvHeads, d}, l.f32);
  auto write = scf::ForOp::create(
      b, l.index(0), tokens, l.index(1),
      ValueRange{op.getKCache(), op.getVCache()},
      [&](OpBuilder &nb, Location loc, Value t, ValueRange caches) {
        Value p = arith::IndexCastOp::create(
            nb, loc, nb.getIndexType(),
            tensor::ExtractOp::create(nb, loc, positions, ValueRange{t}));
        SmallVector<Value> updated;
        SmallVector<Value, 2> sources = {op.getK(), op.getV()};
        for (auto [src, cache] : llvm::zip(sources, caches)) {
          SmallVector<OpFoldResult> unit = {nb.getIndexAttr(1),
                                            nb.getIndexAttr(kvHeads),
                                            nb.getIndexAttr(d)};
          SmallVector<OpFoldResult> strides(3, nb.getIndexAttr(1));
          Value slice = tensor::ExtractSliceOp::create(
              nb, loc, rowType, src,
              ArrayRef<OpFoldResult>{t, nb.getIndexAttr(0), nb.getIndexAttr(0)},
              unit, strides);
          auto cacheElem =
              cast<RankedTensorType>(cache.getType()).getElementType();
          if (cacheElem != l.f32)
            slice = arith::TruncFOp::create(
                nb, loc, RankedTensorType::get({kvHeads, d}, cacheElem), slice);
          updated.push_back(tensor::InsertSliceOp::create(
              nb, loc, slice, cache,
              ArrayRef<OpFoldResult>{p, nb.getIndexAttr(0), nb.getIndexAttr(0)},
              unit, strides));
        }
        scf::YieldOp::create(nb, loc, updated);
      });
  Value kCache = write.getResult(0), vCache = write.getResult(1);

  // Keys 0 .. pos[T-1] are the ones any query can see; with
  // attend-whole-cache, all of them, the mask hiding the rest.
  Value length;
  if (l.wholeCache) {
    length = l.sizeValue(kCache, 0);
  } else {
    Value last = arith::SubIOp::create(b, tokens, l.index(1));
    length = arith::AddIOp::create(
        b,
        arith::IndexCastOp::create(
            b, b.getIndexType(),
            tensor::ExtractOp::create(b, positions, ValueRange{last})),
        l.index(1));
  }
  auto prefix = [&](Value cache) -> Value {
    auto elem = cast<RankedTensorType>(cache.getType()).getElementType();
    return tensor::ExtractSliceOp::create(
        b, RankedTensorType::get({ShapedType::kDynamic, kvHeads, d}, elem),
        cache,
        ArrayRef<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(0),
                               b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{length, b.getIndexAttr(kvHeads),
                               b.getIndexAttr(d)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1),
                               b.getIndexAttr(1)});
  };
  Value keys = prefix(kCache), values = prefix(vCache);

  // scores[t, h, j] = q[t, h] . k[j, h / group]
  MLIRContext *ctx = b.getContext();
  AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx),
             d2 = getAffineDimExpr(2, ctx), d3 = getAffineDimExpr(3, ctx);
  Value scores = l.generic(
      l.filled({l.size(op.getQ(), 0), b.getIndexAttr(heads), length}, 0.0),
      {op.getQ(), keys},
      {AffineMap::get(4, 0, {d0, d1, d3}, ctx),
       AffineMap::get(4, 0, {d2, d1.floorDiv(group), d3}, ctx),
       AffineMap::get(4, 0, {d0, d1, d2}, ctx)},
      {kPar, kPar, kPar, kRed},
      [&](OpBuilder &nb, Location loc, ValueRange a) -> Value {
        return mulAdd(nb, loc, a[2], a[0], widenToF32(nb, loc, a[1]));
      });

  // Scale, and mask what a query may not see: j > pos, or j <= pos - window.
  double scale = op.getScaleOrDefault();
  std::optional<int64_t> window;
  if (auto w = op.getSlidingWindowAttr())
    window = w.getInt();
  bool causal = op.getCausal();
  Value masked = l.generic(
      scores, {positions}, {l.proj(3, {0}), l.identity(3)}, {kPar, kPar, kPar},
      [&](OpBuilder &nb, Location loc, ValueRange a) -> Value {
        Value j = arith::IndexCastOp::create(nb, loc, nb.getI64Type(),
                                             linalg::IndexOp::create(nb, loc, 2));
        Value p = arith::ExtSIOp::create(nb, loc, nb.getI64Type(), a[0]);
        Value visible = arith::ConstantOp::create(nb, loc, nb.getBoolAttr(true));
        if (causal)
          visible = arith::CmpIOp::create(nb, loc, arith::CmpIPredicate::sle, j,
                                          p);
        if (window) {
          Value lo = arith::SubIOp::create(
              nb, loc, p,
              arith::ConstantOp::create(nb, loc, nb.getI64IntegerAttr(*window)));
          visible = arith::AndIOp::create(
              nb, loc, visible,
              arith::CmpIOp::create(nb, loc, arith::CmpIPredicate::sgt, j, lo));
        }
        Value scaled = arith::MulFOp::create(
            nb, loc, a[1],
            arith::ConstantOp::create(nb, loc, nb.getF32FloatAttr(scale)));
        Value ninf = arith::ConstantOp::create(
            nb, loc,
            nb.getF32FloatAttr(-std::numeric_limits<float>::infinity()));
        return arith::SelectOp::create(nb, loc, visible, scaled, ninf);
      });
  Value probs = l.softmaxLast(masked);

  // out[t, h, :] = sum_j probs[t, h, j] v[j, h / group, :]
  Value out = l.generic(
      l.filled({l.size(op.getQ(), 0), b.getIndexAttr(heads), b.getIndexAttr(d)},
               0.0),
      {probs, values},
      {AffineMap::get(4, 0, {d0, d1, d3}, ctx),
       AffineMap::get(4, 0, {d3, d1.floorDiv(group), d2}, ctx),
       AffineMap::get(4, 0, {d0, d1, d2}, ctx)},
      {kPar, kPar, kPar, kRed},
      [&](OpBuilder &nb, Location loc, ValueRange a) -> Value {
        return mulAdd(nb, loc, a[2], a[0], widenToF32(nb, loc, a[1]));
      });
  return {out, kCache, vCache};
}

/// Softmax of the logits [T, E], top-k (first index on ties) and optional
/// renormalisation: weights [T, topK] and ids [T, topK] of `idType`.
SmallVector<Value> routeTopK(Lowering &l, Value logits, int64_t topK,
                             bool renormalize, Type idType) {
  ImplicitLocOpBuilder &b = l.b;
  int64_t experts = cast<RankedTensorType>(logits.getType()).getDimSize(1);
  Value probs = l.softmaxLast(logits);
  Value tokens = l.sizeValue(logits, 0);
  Value weights = l.filled({l.size(logits, 0), b.getIndexAttr(topK)}, 0.0);
  Value ids = tensor::EmptyOp::create(
      b, ArrayRef<OpFoldResult>{l.size(logits, 0), b.getIndexAttr(topK)},
      idType);
  float ninf = -std::numeric_limits<float>::infinity();

  // For each token, k times: the largest remaining probability (the first
  // on ties), then taken out.
  auto perToken = scf::ForOp::create(
      b, l.index(0), tokens, l.index(1), ValueRange{probs, weights, ids},
      [&](OpBuilder &nb, Location loc, Value t, ValueRange state) {
        auto perK = scf::ForOp::create(
            nb, loc, arith::ConstantIndexOp::create(nb, loc, 0),
            arith::ConstantIndexOp::create(nb, loc, topK),
            arith::ConstantIndexOp::create(nb, loc, 1), state,
            [&](OpBuilder &kb, Location loc, Value k, ValueRange st) {
              Value work = st[0];
              auto best = scf::ForOp::create(
                  kb, loc, arith::ConstantIndexOp::create(kb, loc, 0),
                  arith::ConstantIndexOp::create(kb, loc, experts),
                  arith::ConstantIndexOp::create(kb, loc, 1),
                  ValueRange{arith::ConstantOp::create(
                                 kb, loc, kb.getF32FloatAttr(ninf)),
                             arith::ConstantIndexOp::create(kb, loc, 0)},
                  [&](OpBuilder &eb, Location loc, Value e, ValueRange acc) {
                    Value v = tensor::ExtractOp::create(eb, loc, work,
                                                        ValueRange{t, e});
                    Value better = arith::CmpFOp::create(
                        eb, loc, arith::CmpFPredicate::OGT, v, acc[0]);
                    scf::YieldOp::create(
                        eb, loc,
                        ValueRange{
                            arith::SelectOp::create(eb, loc, better, v, acc[0]),
                            arith::SelectOp::create(eb, loc, better, e,
                                                    acc[1])});
                  });
              Value p = best.getResult(0), e = best.getResult(1);
              Value w = tensor::InsertOp::create(kb, loc, p, st[1],
                                                 ValueRange{t, k});
              Value id = tensor::InsertOp::create(
                  kb, loc,
                  arith::IndexCastOp::create(kb, loc, idType, e),
                  st[2], ValueRange{t, k});
              Value taken = tensor::InsertOp::create(
                  kb, loc,
                  arith::ConstantOp::create(kb, loc, kb.getF32FloatAttr(ninf)),
                  work, ValueRange{t, e});
              scf::YieldOp::create(kb, loc, ValueRange{taken, w, id});
            });
        scf::YieldOp::create(nb, loc, perK.getResults());
      });
  Value chosen = perToken.getResult(1);
  Value expertIds = perToken.getResult(2);
  if (renormalize) {
    Value sum = l.reduceLast(chosen, 0.0,
                             [](OpBuilder &nb, Location loc, Value acc, Value v) {
                               return addStep(nb, loc, acc, v);
                             });
    chosen = l.generic(chosen, {sum}, {l.proj(2, {0}), l.identity(2)},
                       {kPar, kPar},
                       [&](OpBuilder &nb, Location loc, ValueRange a) -> Value {
                         return arith::DivFOp::create(nb, loc, a[1], a[0]);
                       });
  }
  return SmallVector<Value>{chosen, expertIds};
}

/// The reference router: the gate's logits (or the input, when it is the
/// logits), then routeTopK.
FailureOr<SmallVector<Value>> lowerRouter(Lowering &l, RouterOp op) {
  if (!isSupportedRouter(op))
    return op.emitOpError(kUnsupportedRouter), failure();
  Value logits = op.getGate() ? l.matmulTransposed(op.getInput(), op.getGate())
                              : op.getInput();
  return routeTopK(l, logits, op.getTopKAttr().getInt(), op.getRenormalize(),
                   op.getExpertIds().getType().getElementType());
}

/// acc[t] += weight * down_e(act(gate_e x_t, up_e x_t)), for one expert e
/// of stacked weights.
Value addExpert(Lowering &l, Activation act, Value x, Value acc, Value t,
                OpFoldResult e, Value weight, const StackedExperts &experts) {
  ImplicitLocOpBuilder &b = l.b;
  Value xt = l.row(x, t);
  Value g = l.matmulTransposed(xt, l.matrix(experts.gate, e));
  Value u = l.matmulTransposed(xt, l.matrix(experts.up, e));
  Value y = l.matmulTransposed(l.activate(act, g, u),
                               l.matrix(experts.down, e));
  if (!weight)
    weight = l.f32Const(1);
  Value sum = l.generic(l.row(acc, t), {y}, {l.identity(2), l.identity(2)},
                        {kPar, kPar},
                        [&](OpBuilder &nb, Location loc, ValueRange a) -> Value {
                          Value s = arith::MulFOp::create(nb, loc, a[0], weight);
                          return arith::AddFOp::create(nb, loc, a[1], s);
                        });
  return tensor::InsertSliceOp::create(
      b, sum, acc, ArrayRef<OpFoldResult>{t, b.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1), l.size(x, 1)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
}

/// For each token, the weighted sum of its experts' MLPs, plus the shared
/// experts' with weight 1. The predictor does not change the value.
Value lowerExpertFfn(Lowering &l, ExpertFfnOp op) {
  Value x = op.getInput();
  Activation act = op.getActivation();
  auto loop = scf::ForOp::create(
      l.b, l.index(0), l.sizeValue(x, 0), l.index(1),
      ValueRange{l.filled(l.sizes(x), 0.0)},
      [&](OpBuilder &nb, Location loc, Value t, ValueRange acc) {
        ImplicitLocOpBuilder ib(loc, nb);
        Lowering in(ib, l.kernels);
        Value sum = addExpertsOfToken(
            ib, op, t, acc[0],
            [&](ImplicitLocOpBuilder &, Value sum, OpFoldResult e, Value w,
                const StackedExperts &experts) {
              return addExpert(in, act, x, sum, t, e, w, experts);
            });
        scf::YieldOp::create(ib, sum);
      });
  return loop.getResult(0);
}

Value lowerDRelu(Lowering &l, DReluOp op) {
  return l.activate(Activation::DReLU, op.getGate(), op.getUp());
}

SmallVector<Value> lowerFusedDRelu(Lowering &l, FusedDReluOp op) {
  ActiveSet set = buildFusedDRelu(l.b, l.b.getLoc(), op.getInput(),
                                  op.getGate(), op.getUp(), l.kernels);
  return {set.activation, set.indices, set.count, set.gatePositive};
}

/// y += x[n] * W[:, n] for the first `count` active neurons n.
Value lowerSparseMatvec(Lowering &l, SparseMatvecOp op) {
  Location loc = l.b.getLoc();
  if (op.getNeuronMajor())
    return buildSparseMatvecNeuronMajor(l.b, loc, op.getWeight(),
                                        op.getInput(), op.getIndices(),
                                        op.getCount(), l.kernels);
  return buildSparseMatvecRowMajor(l.b, loc, op.getWeight(), op.getInput(),
                                   op.getIndices(), op.getCount());
}

Value lowerLmHead(Lowering &l, LmHeadOp op) {
  return l.matmulTransposed(op.getInput(), op.getWeight());
}

/// Token scores for every row; sequence scores at the last row whose token
/// is not the pad token (the last row without a pad token).
Value lowerScoreHead(Lowering &l, ScoreHeadOp op) {
  ImplicitLocOpBuilder &b = l.b;
  Value x = op.getInput();
  if (op.getKind() == ScoreKind::Token) {
    Value y = l.matmulTransposed(x, op.getWeight());
    return op.getBias() ? l.addBias(y, op.getBias()) : y;
  }
  Value tokens = l.sizeValue(x, 0);
  Value last = arith::SubIOp::create(b, tokens, l.index(1));
  if (Value ids = op.getTokenIds()) {
    auto idType = cast<RankedTensorType>(ids.getType()).getElementType();
    Value pad = arith::ConstantOp::create(
        b, b.getIntegerAttr(idType, op.getPadTokenIdAttr().getInt()));
    last = scf::ForOp::create(
               b, l.index(0), tokens, l.index(1), ValueRange{last},
               [&](OpBuilder &nb, Location loc, Value t, ValueRange acc) {
                 Value id = tensor::ExtractOp::create(nb, loc, ids,
                                                      ValueRange{t});
                 Value real = arith::CmpIOp::create(
                     nb, loc, arith::CmpIPredicate::ne, id, pad);
                 scf::YieldOp::create(
                     nb, loc,
                     arith::SelectOp::create(nb, loc, real, t, acc[0])
                         .getResult());
               })
               .getResult(0);
  }
  Value y = l.matmulTransposed(l.row(x, last), op.getWeight());
  if (op.getBias())
    y = l.addBias(y, op.getBias());
  // [1, labels] to [labels], as a copy into a buffer of its own: the
  // entry point's result must be an allocation the caller can provide.
  MLIRContext *ctx = b.getContext();
  return l.generic(
      tensor::EmptyOp::create(b, ArrayRef<OpFoldResult>{l.size(y, 1)}, l.f32),
      {y},
      {AffineMap::get(1, 0, {getAffineConstantExpr(0, ctx),
                             getAffineDimExpr(0, ctx)},
                      ctx),
       l.identity(1)},
      {kPar}, [](OpBuilder &, Location, ValueRange a) { return a[0]; });
}

} // namespace

bool mlir::moe::isSupportedRouter(RouterOp op) {
  return op.getRouting() == RoutingAlgorithm::Learned &&
         op.getNonlinearity() == RouterNonlinearity::Softmax &&
         !op.getNullExpertBiasAttr();
}

std::pair<Value, Value>
mlir::moe::buildRouterTopK(OpBuilder &builder, Location loc, Value x,
                           Value gate, int64_t topK, bool renormalize,
                           Type idType, const KernelOptions &options) {
  ImplicitLocOpBuilder b(loc, builder);
  Lowering l(b, options);
  SmallVector<Value> r =
      routeTopK(l, l.matmulTransposed(x, gate), topK, renormalize, idType);
  return {r[0], r[1]};
}

namespace {

using Lowered = FailureOr<SmallVector<Value>>;

/// A single-result lowering's value; null is a failure.
Lowered one(Value v) {
  if (!v)
    return failure();
  return SmallVector<Value>{v};
}

/// One op's reference lowering as a conversion pattern, at benefit 1 so
/// that a faster pattern for the same op wins where both are added.
template <typename OpTy>
class ReferencePattern : public OpConversionPattern<OpTy> {
public:
  using Fn = Lowered (*)(Lowering &, OpTy);
  ReferencePattern(MLIRContext *context, Fn fn, const KernelOptions &kernels,
                   bool wholeCache)
      : OpConversionPattern<OpTy>(context, /*benefit=*/1), fn(fn),
        kernels(kernels), wholeCache(wholeCache) {}

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Lowering l(b, kernels);
    l.wholeCache = wholeCache;
    Lowered replacement = fn(l, op);
    if (failed(replacement))
      return failure();
    rewriter.replaceOp(op, *replacement);
    return success();
  }

private:
  Fn fn;
  KernelOptions kernels;
  bool wholeCache;
};

struct MoeToLinalgPass : public moe::impl::MoeToLinalgBase<MoeToLinalgPass> {
  using MoeToLinalgBase::MoeToLinalgBase;

  void runOnOperation() override {
    KernelOptions kernels;
    kernels.vectorWidth = vectorWidth;
    kernels.accumulators = accumulators;
    kernels.bf16Dot = bf16Dot;
    if (vectorWidth < 1 || accumulators < 1) {
      getOperation().emitError("moe-to-linalg: vector-width and accumulators "
                               "must be positive");
      return signalPassFailure();
    }
    if (bf16Dot && vectorWidth != 16) {
      getOperation().emitError("moe-to-linalg: bf16-dot needs vector-width "
                               "16 (AVX-512)");
      return signalPassFailure();
    }
    // Every moe op but the weights (which moe-materialize-weights owns)
    // must lower: one that no pattern lowers is an error naming it.
    ConversionTarget target(getContext());
    target.addIllegalDialect<MoeDialect>();
    target.addLegalOp<WeightOp>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    RewritePatternSet patterns(&getContext());
    populateMoeToLinalgPatterns(patterns, kernels, attendWholeCache);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mlir::moe::populateMoeToLinalgPatterns(RewritePatternSet &patterns,
                                            const KernelOptions &kernels,
                                            bool attendWholeCache) {
  MLIRContext *context = patterns.getContext();
  auto add = [&](auto fn) {
    using OpTy = typename llvm::function_traits<decltype(fn)>::template arg_t<1>;
    patterns.add<ReferencePattern<OpTy>>(context, fn, kernels,
                                         attendWholeCache);
  };
  add(+[](Lowering &l, EmbeddingOp o) { return one(lowerEmbedding(l, o)); });
  add(+[](Lowering &l, RmsNormOp o) { return one(lowerRmsNorm(l, o)); });
  add(+[](Lowering &l, RopeOp o) { return one(lowerRope(l, o)); });
  add(+[](Lowering &l, LinearOp o) { return one(lowerLinear(l, o)); });
  add(+[](Lowering &l, AttentionOp o) -> Lowered {
    return lowerAttention(l, o);
  });
  add(+[](Lowering &l, RouterOp o) { return lowerRouter(l, o); });
  add(+[](Lowering &l, ExpertFfnOp o) { return one(lowerExpertFfn(l, o)); });
  add(+[](Lowering &l, DReluOp o) { return one(lowerDRelu(l, o)); });
  add(+[](Lowering &l, FusedDReluOp o) -> Lowered {
    return lowerFusedDRelu(l, o);
  });
  add(+[](Lowering &l, SparseMatvecOp o) {
    return one(lowerSparseMatvec(l, o));
  });
  add(+[](Lowering &l, LmHeadOp o) { return one(lowerLmHead(l, o)); });
  add(+[](Lowering &l, ScoreHeadOp o) { return one(lowerScoreHead(l, o)); });
}
