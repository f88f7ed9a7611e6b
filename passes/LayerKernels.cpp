//===- LayerKernels.cpp - norm, RoPE, KV cache and attention on tensors ---===//

#include "passes/LayerKernels.h"
#include "passes/LinalgBuilder.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::moe;

Value mlir::moe::buildRmsNorm(OpBuilder &builder, Location loc, Value x,
                              Value weight, double eps) {
  ImplicitLocOpBuilder b(loc, builder);
  LinalgBuilder l(b, /*kernels=*/nullptr);
  auto type = cast<RankedTensorType>(x.getType());
  unsigned rank = type.getRank();
  int64_t hidden = type.getShape().back();
  Value sumSq =
      l.reduceLast(x, 0.0, [](OpBuilder &nb, Location loc, Value acc, Value v) {
        return mulAdd(nb, loc, acc, v, v);
      });
  SmallVector<unsigned> outerDims;
  for (unsigned d = 0; d + 1 < rank; ++d)
    outerDims.push_back(d);
  SmallVector<IteratorType> par(rank, kPar);
  return l.generic(
      tensor::EmptyOp::create(l.b, l.sizes(x), l.f32), {x, sumSq, weight},
      {l.identity(rank), l.proj(rank, outerDims), l.proj(rank, {rank - 1}),
       l.identity(rank)},
      par, [&](OpBuilder &nb, Location loc, ValueRange a) -> Value {
        Value n = arith::ConstantOp::create(nb, loc,
                                            nb.getF32FloatAttr(float(hidden)));
        Value e =
            arith::ConstantOp::create(nb, loc, nb.getF32FloatAttr(float(eps)));
        Value mean = arith::DivFOp::create(nb, loc, a[1], n);
        Value r = math::RsqrtOp::create(
            nb, loc, arith::AddFOp::create(nb, loc, mean, e));
        Value normed = arith::MulFOp::create(nb, loc, a[0], r);
        return arith::MulFOp::create(nb, loc, normed,
                                     widenToF32(nb, loc, a[2]));
      });
}

Value mlir::moe::buildRope(OpBuilder &builder, Location loc, Value x,
                           Value positions, double theta, int64_t d,
                           bool interleaved) {
  ImplicitLocOpBuilder b(loc, builder);
  LinalgBuilder l(b, /*kernels=*/nullptr);
  return l.generic(
      tensor::EmptyOp::create(l.b, l.sizes(x), l.f32), {positions},
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
        Value xi = widenToF32(
            nb, loc,
            tensor::ExtractOp::create(nb, loc, x, ValueRange{t, h, i}));
        Value xp = widenToF32(
            nb, loc,
            tensor::ExtractOp::create(nb, loc, x, ValueRange{t, h, partner}));
        // rotate: the first of a pair takes -partner, the second +partner.
        Value rotated = arith::SelectOp::create(
            nb, loc, first, arith::NegFOp::create(nb, loc, xp), xp);
        return arith::AddFOp::create(
            nb, loc, arith::MulFOp::create(nb, loc, xi, cos),
            arith::MulFOp::create(nb, loc, rotated, sin));
      });
}

std::pair<Value, Value>
mlir::moe::buildCacheWrite(OpBuilder &builder, Location loc, Value k, Value v,
                           Value kCache, Value vCache, Value positions) {
  ImplicitLocOpBuilder b(loc, builder);
  LinalgBuilder l(b, /*kernels=*/nullptr);
  auto kType = cast<RankedTensorType>(k.getType());
  int64_t kvHeads = kType.getDimSize(1), d = kType.getDimSize(2);
  Value tokens = l.sizeValue(k, 0);

  // Cache writes: cache[pos[t]] = k[t].
  auto rowType = RankedTensorType::get({kvHeads, d}, l.f32);
  auto write = scf::ForOp::create(
      b, cIndex(l.b, 0), tokens, cIndex(l.b, 1), ValueRange{kCache, vCache},
      [&](OpBuilder &nb, Location loc, Value t, ValueRange caches) {
        Value p = arith::IndexCastOp::create(
            nb, loc, nb.getIndexType(),
            tensor::ExtractOp::create(nb, loc, positions, ValueRange{t}));
        SmallVector<Value> updated;
        SmallVector<Value, 2> sources = {k, v};
        for (auto [src, cache] : llvm::zip(sources, caches)) {
          SmallVector<OpFoldResult> unit = {
              nb.getIndexAttr(1), nb.getIndexAttr(kvHeads), nb.getIndexAttr(d)};
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
  return {write.getResult(0), write.getResult(1)};
}

Value mlir::moe::buildAttention(OpBuilder &builder, Location loc, Value q,
                                Value kCache, Value vCache, Value positions,
                                const AttentionShape &shape, bool wholeCache) {
  ImplicitLocOpBuilder b(loc, builder);
  LinalgBuilder l(b, /*kernels=*/nullptr);
  int64_t heads = shape.heads, kvHeads = shape.kvHeads, d = shape.headDim;
  int64_t group = heads / kvHeads;
  Value tokens = l.sizeValue(q, 0);

  // Keys 0 .. pos[T-1] are the ones any query can see; with the whole
  // cache, all of them, the mask hiding the rest.
  auto lastPosition = [&]() -> Value {
    Value last = arith::SubIOp::create(b, tokens, cIndex(l.b, 1));
    return tensor::ExtractOp::create(b, positions, ValueRange{last});
  };
  Value length, liveEnd;
  if (wholeCache) {
    length = l.sizeValue(kCache, 0);
    // A causal mask hides the rows past the live ones; without it, a
    // bound at the last position does.
    if (!shape.causal)
      liveEnd = arith::ExtSIOp::create(b, b.getI64Type(), lastPosition());
  } else {
    length = arith::AddIOp::create(
        b, arith::IndexCastOp::create(b, b.getIndexType(), lastPosition()),
        cIndex(l.b, 1));
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

  // Both products of attention: out[t, h, i] = sum_r a[t, h, r] *
  // kv[..., h / group, ...], over (d0, d1, d2) = (t, h, i) and d3 = r, the
  // cache rows widened to f32.
  MLIRContext *ctx = b.getContext();
  AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx),
             d2 = getAffineDimExpr(2, ctx), d3 = getAffineDimExpr(3, ctx);
  auto contract = [&](OpFoldResult columns, Value a, Value kv,
                      ArrayRef<AffineExpr> kvIndex) {
    return l.generic(
        l.filled({l.size(q, 0), b.getIndexAttr(heads), columns}, 0.0), {a, kv},
        {AffineMap::get(4, 0, {d0, d1, d3}, ctx),
         AffineMap::get(4, 0, kvIndex, ctx),
         AffineMap::get(4, 0, {d0, d1, d2}, ctx)},
        {kPar, kPar, kPar, kRed},
        [&](OpBuilder &nb, Location loc, ValueRange args) -> Value {
          return mulAdd(nb, loc, args[2], args[0],
                        widenToF32(nb, loc, args[1]));
        });
  };

  // scores[t, h, j] = q[t, h] . k[j, h / group]
  Value scores = contract(length, q, keys, {d2, d1.floorDiv(group), d3});

  // Scale, and mask what a query may not see: j > pos, or j <= pos - window.
  double scale = shape.scale;
  std::optional<int64_t> window = shape.window;
  bool causal = shape.causal;
  Value masked = l.generic(
      scores, {positions}, {l.proj(3, {0}), l.identity(3)}, {kPar, kPar, kPar},
      [&](OpBuilder &nb, Location loc, ValueRange a) -> Value {
        Value j = arith::IndexCastOp::create(
            nb, loc, nb.getI64Type(), linalg::IndexOp::create(nb, loc, 2));
        Value p = arith::ExtSIOp::create(nb, loc, nb.getI64Type(), a[0]);
        Value visible =
            arith::ConstantOp::create(nb, loc, nb.getBoolAttr(true));
        if (causal)
          visible =
              arith::CmpIOp::create(nb, loc, arith::CmpIPredicate::sle, j, p);
        else if (liveEnd)
          visible = arith::CmpIOp::create(nb, loc, arith::CmpIPredicate::sle, j,
                                          liveEnd);
        if (window) {
          Value lo = arith::SubIOp::create(
              nb, loc, p,
              arith::ConstantOp::create(nb, loc,
                                        nb.getI64IntegerAttr(*window)));
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
  return contract(b.getIndexAttr(d), probs, values,
                  {d3, d1.floorDiv(group), d2});
}
