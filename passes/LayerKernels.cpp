//===- LayerKernels.cpp - norm, RoPE, KV cache and attention on tensors ---===//

#include "passes/LayerKernels.h"
#include "dialects/moe/IR/MoeOps.h"
#include "passes/LinalgBuilder.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/ADT/STLExtras.h"

#include <cmath>

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

Value mlir::moe::buildLayerNorm(OpBuilder &builder, Location loc, Value x,
                                Value weight, Value bias, double eps) {
  ImplicitLocOpBuilder b(loc, builder);
  LinalgBuilder l(b, /*kernels=*/nullptr);
  auto type = cast<RankedTensorType>(x.getType());
  unsigned rank = type.getRank();
  float n = float(type.getShape().back());
  SmallVector<unsigned> outerDims;
  for (unsigned d = 0; d + 1 < rank; ++d)
    outerDims.push_back(d);
  SmallVector<IteratorType> par(rank, kPar);
  AffineMap row = l.proj(rank, outerDims);
  // The mean, then the mean square of x - mean (two passes, as torch: no
  // cancellation of large means).
  Value sum =
      l.reduceLast(x, 0.0, [](OpBuilder &nb, Location loc, Value acc, Value v) {
        return addStep(nb, loc, acc, widenToF32(nb, loc, v));
      });
  SmallVector<IteratorType> reduce(rank, kPar);
  reduce.back() = kRed;
  SmallVector<OpFoldResult> outer = l.sizes(x);
  outer.pop_back();
  Value sumSq = l.generic(
      l.filled(outer, 0.0), {x, sum}, {l.identity(rank), row, row}, reduce,
      [&](OpBuilder &nb, Location loc, ValueRange a) -> Value {
        Value mean = arith::DivFOp::create(nb, loc, a[1], cF32(nb, loc, n));
        Value d = arith::SubFOp::create(nb, loc, widenToF32(nb, loc, a[0]),
                                        mean);
        return mulAdd(nb, loc, a[2], d, d);
      });
  return l.generic(
      tensor::EmptyOp::create(l.b, l.sizes(x), l.f32),
      {x, sum, sumSq, weight, bias},
      {l.identity(rank), row, row, l.proj(rank, {rank - 1}),
       l.proj(rank, {rank - 1}), l.identity(rank)},
      par, [&](OpBuilder &nb, Location loc, ValueRange a) -> Value {
        Value count = cF32(nb, loc, n);
        Value mean = arith::DivFOp::create(nb, loc, a[1], count);
        Value var = arith::DivFOp::create(nb, loc, a[2], count);
        Value r = math::RsqrtOp::create(
            nb, loc, arith::AddFOp::create(nb, loc, var, cF32(nb, loc, eps)));
        Value normed = arith::MulFOp::create(
            nb, loc,
            arith::SubFOp::create(nb, loc, widenToF32(nb, loc, a[0]), mean), r);
        return arith::AddFOp::create(
            nb, loc,
            arith::MulFOp::create(nb, loc, normed, widenToF32(nb, loc, a[3])),
            widenToF32(nb, loc, a[4]));
      });
}

Value mlir::moe::buildRope(OpBuilder &builder, Location loc, Value x,
                           Value positions, double theta, int64_t d,
                           bool interleaved,
                           std::optional<ArrayRef<float>> given) {
  ImplicitLocOpBuilder b(loc, builder);
  LinalgBuilder l(b, /*kernels=*/nullptr);
  int64_t half = d / 2;
  // inv_freq[k] = 1 / theta^(2k / d), in f32 as HF computes it, folded
  // here; cos and sin of position * inv_freq in a table [T, d/2] that
  // depends on the positions only, so that the q and k of every layer
  // share one (cse, then hoisted out of the layer loop).
  // A scaled RoPE's as the importer computed them, else theta's.
  SmallVector<float> invFreq =
      given ? SmallVector<float>(given->begin(), given->end())
            : ropeInverseFrequencies(theta, d);
  auto freqType = RankedTensorType::get({half}, l.f32);
  Value freqs = arith::ConstantOp::create(
      b, DenseElementsAttr::get(freqType, ArrayRef<float>(invFreq)));
  SmallVector<OpFoldResult> tableShape = {l.size(positions, 0),
                                          b.getIndexAttr(half)};
  auto table = [&](auto trig) {
    return l.generic(
        tensor::EmptyOp::create(b, tableShape, l.f32), {positions, freqs},
        {l.proj(2, {0}), l.proj(2, {1}), l.identity(2)}, {kPar, kPar},
        [&](OpBuilder &nb, Location tl, ValueRange a) -> Value {
          Value pos = arith::SIToFPOp::create(nb, tl, nb.getF32Type(), a[0]);
          Value angle = arith::MulFOp::create(nb, tl, pos, a[1]);
          return decltype(trig)::create(nb, tl, angle);
        });
  };
  Value cosTable = table(math::CosOp());
  Value sinTable = table(math::SinOp());
  return l.generic(
      tensor::EmptyOp::create(l.b, l.sizes(x), l.f32), {}, {l.identity(3)},
      {kPar, kPar, kPar},
      [&](OpBuilder &nb, Location loc, ValueRange) -> Value {
        auto c = [&](int64_t v) {
          return arith::ConstantIndexOp::create(nb, loc, v).getResult();
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
          freqIndex = arith::RemUIOp::create(nb, loc, i, c(half));
          first = arith::CmpIOp::create(nb, loc, arith::CmpIPredicate::ult, i,
                                        c(half));
          partner = arith::SelectOp::create(
              nb, loc, first, arith::AddIOp::create(nb, loc, i, c(half)),
              arith::SubIOp::create(nb, loc, i, c(half)));
        }
        Value cos = tensor::ExtractOp::create(nb, loc, cosTable,
                                              ValueRange{t, freqIndex});
        Value sin = tensor::ExtractOp::create(nb, loc, sinTable,
                                              ValueRange{t, freqIndex});
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

namespace {
/// Element t of an integer vector, as an index.
Value indexAt(OpBuilder &b, Location loc, Value vector, Value t) {
  return arith::IndexCastOp::create(
      b, loc, b.getIndexType(),
      tensor::ExtractOp::create(b, loc, vector, ValueRange{t}));
}
} // namespace

Value mlir::moe::buildCacheWrite(OpBuilder &builder, Location loc, Value k,
                                 Value v, Value cache, Value positions,
                                 Value offsets) {
  ImplicitLocOpBuilder b(loc, builder);
  LinalgBuilder l(b, /*kernels=*/nullptr);
  auto kType = cast<RankedTensorType>(k.getType());
  int64_t kvHeads = kType.getDimSize(1), d = kType.getDimSize(2);
  Value tokens = l.sizeValue(k, 0);
  Type cacheElem = cast<RankedTensorType>(cache.getType()).getElementType();

  // cache[0, off[t] + pos[t]] = k[t], cache[1, off[t] + pos[t]] = v[t]: one
  // buffer updated in place, row by row.
  auto rowType = RankedTensorType::get({kvHeads, d}, l.f32);
  auto write = scf::ForOp::create(
      b, cIndex(l.b, 0), tokens, cIndex(l.b, 1), ValueRange{cache},
      [&](OpBuilder &nb, Location loc, Value t, ValueRange iter) {
        Value p = indexAt(nb, loc, positions, t);
        if (offsets)
          p = arith::AddIOp::create(nb, loc, p, indexAt(nb, loc, offsets, t));
        Value updated = iter[0];
        SmallVector<Value, 2> sources = {k, v};
        for (auto [half, src] : llvm::enumerate(sources)) {
          SmallVector<OpFoldResult> rowSize = {
              nb.getIndexAttr(1), nb.getIndexAttr(kvHeads), nb.getIndexAttr(d)};
          Value row = tensor::ExtractSliceOp::create(
              nb, loc, rowType, src,
              ArrayRef<OpFoldResult>{t, nb.getIndexAttr(0), nb.getIndexAttr(0)},
              rowSize, SmallVector<OpFoldResult>(3, nb.getIndexAttr(1)));
          if (cacheElem != l.f32)
            row = arith::TruncFOp::create(
                nb, loc, RankedTensorType::get({kvHeads, d}, cacheElem), row);
          updated = tensor::InsertSliceOp::create(
              nb, loc, row, updated,
              ArrayRef<OpFoldResult>{nb.getIndexAttr(half), p,
                                     nb.getIndexAttr(0), nb.getIndexAttr(0)},
              ArrayRef<OpFoldResult>{nb.getIndexAttr(1), nb.getIndexAttr(1),
                                     nb.getIndexAttr(kvHeads),
                                     nb.getIndexAttr(d)},
              SmallVector<OpFoldResult>(4, nb.getIndexAttr(1)));
        }
        scf::YieldOp::create(nb, loc, updated);
      });
  return write.getResult(0);
}

namespace {

/// ALiBi's -slopes[h] for an index value h, chosen among the constants.
Value negatedAlibiSlope(OpBuilder &b, Location loc, ArrayRef<float> slopes,
                        Value h) {
  Value slope = cF32(b, loc, -slopes.back());
  for (int64_t k = int64_t(slopes.size()) - 2; k >= 0; --k)
    slope = arith::SelectOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, h,
                              cIndex(b, loc, k)),
        cF32(b, loc, -slopes[k]), slope);
  return slope;
}

/// ALiBi's term of a score, negSlope * (position - j), for index values
/// position and j.
Value alibiTerm(OpBuilder &b, Location loc, Value negSlope, Value position,
                Value j) {
  Value distance = arith::IndexCastOp::create(
      b, loc, b.getI64Type(), arith::SubIOp::create(b, loc, position, j));
  return arith::MulFOp::create(
      b, loc, negSlope,
      arith::SIToFPOp::create(b, loc, b.getF32Type(), distance));
}

/// Attention on a CPU, a task per query and head: over the rows the query
/// may see only (j <= positions[t], and inside the window), a score per
/// row (q . k in vectors of f32, the key widened in registers), folded
/// block by block into a running maximum, sum of exponentials and vector
/// sum of value rows (online softmax), so that neither masked rows nor a
/// [T, heads, live] score tensor cost anything. keys, values: [live,
/// kvHeads, d]; with `offsets`, query t's rows start at offsets[t].
Value buildAttentionRows(ImplicitLocOpBuilder &b, Value q, Value keys,
                         Value values, Value positions, Value offsets,
                         Value live, const AttentionShape &shape) {
  int64_t heads = shape.heads, d = shape.headDim;
  int64_t group = heads / shape.kvHeads;
  int64_t lanes = shape.lanes;
  while (d % lanes != 0)
    lanes /= 2;
  int64_t vectors = d / lanes;
  Type f32 = b.getF32Type();
  auto vecType = VectorType::get({lanes}, f32);
  Value tokens = tensor::DimOp::create(b, q, 0);
  Value init = tensor::EmptyOp::create(
      b,
      ArrayRef<OpFoldResult>{tokens, b.getIndexAttr(heads), b.getIndexAttr(d)},
      f32);
  Value tasks = arith::MulIOp::create(b, tokens, cIndex(b, heads));
  return buildForall(
      b, b.getLoc(), tasks, init,
      [&](OpBuilder &nb, Location loc, Value th, Value outs) -> Tile {
        ImplicitLocOpBuilder b(loc, nb);
        Value t = arith::DivUIOp::create(b, th, cIndex(b, heads));
        Value h = arith::RemUIOp::create(b, th, cIndex(b, heads));
        Value kvHead = arith::DivUIOp::create(b, h, cIndex(b, group));
        Value position = indexAt(b, b.getLoc(), positions, t);
        Value base = offsets ? indexAt(b, b.getLoc(), offsets, t) : Value();
        Value next = arith::AddIOp::create(b, position, cIndex(b, 1));
        Value end = shape.causal
                        ? arith::MinUIOp::create(b, next, live).getResult()
                        : live;
        Value begin = cIndex(b, 0);
        if (shape.window) {
          // Rows past next - window; none before 0.
          Value w = cIndex(b, *shape.window);
          Value later =
              arith::CmpIOp::create(b, arith::CmpIPredicate::ugt, next, w);
          begin = arith::SelectOp::create(
              b, later, arith::SubIOp::create(b, next, w), begin);
        }
        Value zero = arith::ConstantOp::create(
            b, DenseElementsAttr::get(vecType, b.getF32FloatAttr(0.0)));
        Type elem = cast<ShapedType>(keys.getType()).getElementType();
        Value pad = arith::ConstantOp::create(b, b.getZeroAttr(elem));
        Value f32Pad = cF32(b, 0.0);
        SmallVector<Value> query;
        for (int64_t c = 0; c < vectors; ++c)
          query.push_back(vector::TransferReadOp::create(
              b, vecType, q, ValueRange{t, h, cIndex(b, c * lanes)}, f32Pad,
              ArrayRef<bool>{true}));
        // The rows' key and value vectors, widened.
        auto rowVector = [&](OpBuilder &rb, Location l, Value of, Value j,
                             int64_t c) {
          Value row = base ? arith::AddIOp::create(rb, l, base, j) : j;
          return widenToF32(
              rb, l,
              vector::TransferReadOp::create(
                  rb, l, VectorType::get({lanes}, elem), of,
                  ValueRange{row, kvHead, cIndex(rb, l, c * lanes)}, pad,
                  ArrayRef<bool>{true}));
        };
        // ALiBi's slope: the task's head is fixed, so once per task.
        Value negSlope;
        if (!shape.alibiSlopes.empty())
          negSlope = negatedAlibiSlope(b, b.getLoc(), shape.alibiSlopes, h);
        auto score = [&](OpBuilder &rb, Location l, Value j) -> Value {
          Value dot = zero;
          for (int64_t c = 0; c < vectors; ++c)
            dot = vector::FMAOp::create(rb, l, query[c],
                                        rowVector(rb, l, keys, j, c), dot);
          Value scaled = arith::MulFOp::create(
              rb, l,
              vector::ReductionOp::create(rb, l, vector::CombiningKind::ADD,
                                          dot, kReductionFlags),
              cF32(rb, l, shape.scale));
          if (!negSlope)
            return scaled;
          return arith::AddFOp::create(
              rb, l, scaled, alibiTerm(rb, l, negSlope, position, j));
        };
        // The state (max, sum, value sums) after rows whose exponentials
        // relative to the new maximum are p (scalars, or one vector p of
        // them for rows j0 ..): the old state scaled by exp(old max - new).
        auto fold = [&](OpBuilder &rb, Location l, ValueRange st, Value max,
                        Value sumOfP, function_ref<Value(int64_t)> pAt,
                        function_ref<Value(int64_t)> rowAt, int64_t count) {
          Value rescale = math::ExpOp::create(
              rb, l, arith::SubFOp::create(rb, l, st[0], max));
          SmallVector<Value> next = {
              max,
              arith::AddFOp::create(
                  rb, l, arith::MulFOp::create(rb, l, st[1], rescale), sumOfP)};
          Value rescaleV = vector::BroadcastOp::create(rb, l, vecType, rescale);
          for (int64_t c = 0; c < vectors; ++c)
            next.push_back(arith::MulFOp::create(rb, l, st[2 + c], rescaleV));
          for (int64_t r = 0; r < count; ++r) {
            Value pV = vector::BroadcastOp::create(rb, l, vecType, pAt(r));
            for (int64_t c = 0; c < vectors; ++c)
              next[2 + c] = vector::FMAOp::create(
                  rb, l, rowVector(rb, l, values, rowAt(r), c), pV,
                  next[2 + c]);
          }
          return next;
        };
        SmallVector<Value> inits = {
            cF32(b, -std::numeric_limits<float>::infinity()), cF32(b, 0.0)};
        inits.append(vectors, zero);
        // Blocks of `lanes` rows: their scores in one vector, whose
        // exponentials are one vector exp, so that the running maximum and
        // sum wait on each other once per block, not once per row.
        Value blockEnd = arith::AddIOp::create(
            b, begin,
            arith::MulIOp::create(
                b,
                arith::DivUIOp::create(b, arith::SubIOp::create(b, end, begin),
                                       cIndex(b, lanes)),
                cIndex(b, lanes)));
        auto blocks = scf::ForOp::create(
            b, begin, blockEnd, cIndex(b, lanes), inits,
            [&](OpBuilder &rb, Location l, Value j0, ValueRange st) {
              SmallVector<Value> rows;
              Value scores = zero;
              for (int64_t r = 0; r < lanes; ++r) {
                rows.push_back(
                    arith::AddIOp::create(rb, l, j0, cIndex(rb, l, r)));
                scores = vector::InsertOp::create(
                    rb, l, score(rb, l, rows.back()), scores, r);
              }
              Value max = arith::MaximumFOp::create(
                  rb, l, st[0],
                  vector::ReductionOp::create(
                      rb, l, vector::CombiningKind::MAXIMUMF, scores));
              Value p = math::ExpOp::create(
                  rb, l,
                  arith::SubFOp::create(
                      rb, l, scores,
                      vector::BroadcastOp::create(rb, l, vecType, max)));
              Value sumOfP = vector::ReductionOp::create(
                  rb, l, vector::CombiningKind::ADD, p, kReductionFlags);
              scf::YieldOp::create(
                  rb, l,
                  fold(
                      rb, l, st, max, sumOfP,
                      [&](int64_t r) -> Value {
                        return vector::ExtractOp::create(rb, l, p, r);
                      },
                      [&](int64_t r) { return rows[r]; }, lanes));
            });
        // The rows left, one at a time.
        auto rows = scf::ForOp::create(
            b, blockEnd, end, cIndex(b, 1), blocks.getResults(),
            [&](OpBuilder &rb, Location l, Value j, ValueRange st) {
              Value s = score(rb, l, j);
              Value max = arith::MaximumFOp::create(rb, l, st[0], s);
              Value p = math::ExpOp::create(
                  rb, l, arith::SubFOp::create(rb, l, s, max));
              scf::YieldOp::create(rb, l,
                                   fold(
                                       rb, l, st, max, p,
                                       [&](int64_t) { return p; },
                                       [&](int64_t) { return j; }, 1));
            });
        // Every query sees at least one row (itself, when causal).
        Value norm = vector::BroadcastOp::create(
            b, vecType,
            arith::DivFOp::create(b, cF32(b, 1.0), rows.getResult(1)));
        SmallVector<OpFoldResult> offsets = {t, h, b.getIndexAttr(0)};
        SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1), b.getIndexAttr(1),
                                           b.getIndexAttr(d)};
        Value out = tensor::ExtractSliceOp::create(
            b, RankedTensorType::get({d}, f32), outs, offsets, sizes,
            SmallVector<OpFoldResult>(3, b.getIndexAttr(1)));
        for (int64_t c = 0; c < vectors; ++c)
          out = vector::TransferWriteOp::create(
                    b, arith::MulFOp::create(b, rows.getResult(2 + c), norm),
                    out, ValueRange{cIndex(b, c * lanes)}, ArrayRef<bool>{true})
                    .getResult();
        return {out, offsets, sizes};
      });
}

} // namespace

namespace {
/// max over t of offsets[t] + positions[t], as an index: the last cache row
/// a batch's queries read.
Value furthestRow(LinalgBuilder &l, Value positions, Value offsets) {
  ImplicitLocOpBuilder &b = l.b;
  Type i64 = b.getI64Type();
  auto widen = [&](OpBuilder &nb, Location loc, Value v) -> Value {
    return v.getType() == i64 ? v : arith::ExtSIOp::create(nb, loc, i64, v);
  };
  Value init = linalg::FillOp::create(
                   b, ValueRange{arith::ConstantOp::create(
                          b, b.getI64IntegerAttr(0))},
                   ValueRange{tensor::EmptyOp::create(
                       b, ArrayRef<int64_t>{}, i64)})
                   .getResult(0);
  AffineMap scalar = AffineMap::get(1, 0, {}, b.getContext());
  Value furthest = l.generic(
      init, {positions, offsets}, {l.identity(1), l.identity(1), scalar},
      {kRed}, [&](OpBuilder &nb, Location loc, ValueRange a) -> Value {
        Value row = arith::AddIOp::create(nb, loc, widen(nb, loc, a[0]),
                                          widen(nb, loc, a[1]));
        return arith::MaxSIOp::create(nb, loc, a[2], row);
      });
  return arith::IndexCastOp::create(
      b, b.getIndexType(), tensor::ExtractOp::create(b, furthest, ValueRange{}));
}
} // namespace

Value mlir::moe::buildAttention(OpBuilder &builder, Location loc, Value q,
                                Value cache, Value positions, Value offsets,
                                const AttentionShape &shape) {
  ImplicitLocOpBuilder b(loc, builder);
  LinalgBuilder l(b, /*kernels=*/nullptr);
  int64_t heads = shape.heads, kvHeads = shape.kvHeads, d = shape.headDim;
  int64_t group = heads / kvHeads;
  Value tokens = l.sizeValue(q, 0);
  auto elem = cast<RankedTensorType>(cache.getType()).getElementType();

  // The live rows, the only ones any query reads: keys 0 .. pos[T-1] of
  // one sequence. A batch's sequences (with offsets, causal) have rows
  // anywhere in the cache and each query finds its own: a CPU task reads
  // from its query's first row, in the whole cache; on a GPU the product
  // with the values runs up to the furthest row any query reads (one
  // sequence alone reads as far as without offsets).
  Value lastPosition, live;
  if (!offsets) {
    lastPosition = tensor::ExtractOp::create(
        b, positions,
        ValueRange{arith::SubIOp::create(b, tokens, cIndex(l.b, 1))});
    live = arith::AddIOp::create(
        b, arith::IndexCastOp::create(b, b.getIndexType(), lastPosition),
        cIndex(l.b, 1));
  } else if (shape.lanes) {
    live = l.sizeValue(cache, 1);
  } else {
    live = arith::AddIOp::create(b, furthestRow(l, positions, offsets),
                                 cIndex(l.b, 1));
  }
  // Rows 0 .. rows-1 of the keys (half 0) or the values (half 1), read in
  // place.
  auto prefix = [&](int64_t half, OpFoldResult rows) -> Value {
    return tensor::ExtractSliceOp::create(
        b, RankedTensorType::get({ShapedType::kDynamic, kvHeads, d}, elem),
        cache,
        ArrayRef<OpFoldResult>{b.getIndexAttr(half), b.getIndexAttr(0),
                               b.getIndexAttr(0), b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), rows, b.getIndexAttr(kvHeads),
                               b.getIndexAttr(d)},
        SmallVector<OpFoldResult>(4, b.getIndexAttr(1)));
  };

  // A CPU runs the kernel of a task per query and head over its rows.
  if (shape.lanes)
    return buildAttentionRows(b, q, prefix(0, live), prefix(1, live), positions,
                              offsets, live, shape);

  // On a GPU, one score per row of the whole cache, so that no launch's
  // size depends on the positions; a row is read only where it is visible,
  // which it never is past the live ones.
  // Whether query t at position p may see key j: j <= p (causal), j >
  // p - window, and j < live.
  std::optional<int64_t> window = shape.window;
  bool causal = shape.causal;
  auto visibleAt = [&](OpBuilder &nb, Location loc, Value j, Value p) {
    auto i64 = nb.getI64Type();
    j = arith::IndexCastOp::create(nb, loc, i64, j);
    p = arith::ExtSIOp::create(nb, loc, i64, p);
    Value visible = arith::ConstantOp::create(nb, loc, nb.getBoolAttr(true));
    if (causal)
      visible = arith::CmpIOp::create(nb, loc, arith::CmpIPredicate::sle, j, p);
    else
      visible = arith::CmpIOp::create(
          nb, loc, arith::CmpIPredicate::sle, j,
          arith::ExtSIOp::create(nb, loc, i64, lastPosition));
    if (window) {
      Value lo = arith::SubIOp::create(
          nb, loc, p,
          arith::ConstantOp::create(nb, loc, nb.getI64IntegerAttr(*window)));
      visible = arith::AndIOp::create(
          nb, loc, visible,
          arith::CmpIOp::create(nb, loc, arith::CmpIPredicate::sgt, j, lo));
    }
    return visible;
  };
  auto scaledOrHidden = [&](OpBuilder &nb, Location loc, Value visible,
                            Value score, Value h, Value p,
                            Value j) -> Value {
    Value scaled = arith::MulFOp::create(
        nb, loc, score,
        arith::ConstantOp::create(nb, loc, nb.getF32FloatAttr(shape.scale)));
    if (!shape.alibiSlopes.empty())
      scaled = arith::AddFOp::create(
          nb, loc, scaled,
          alibiTerm(nb, loc, negatedAlibiSlope(nb, loc, shape.alibiSlopes, h),
                    arith::IndexCastOp::create(nb, loc, nb.getIndexType(), p),
                    j));
    Value ninf = arith::ConstantOp::create(
        nb, loc, nb.getF32FloatAttr(-std::numeric_limits<float>::infinity()));
    return arith::SelectOp::create(nb, loc, visible, scaled, ninf);
  };

  Value keys = prefix(0, l.sizeValue(cache, 1));
  // A batch's query t sees row j as its sequence's position j - offsets[t]
  // (none before its first row).
  SmallVector<Value> perToken = {positions};
  if (offsets)
    perToken.push_back(offsets);
  SmallVector<AffineMap> maps(perToken.size(), l.proj(3, {0}));
  maps.push_back(l.identity(3));
  Value masked = l.generic(
      tensor::EmptyOp::create(
          b, {l.size(q, 0), b.getIndexAttr(heads), l.size(cache, 1)}, l.f32),
      perToken, maps, {kPar, kPar, kPar},
      [&](OpBuilder &nb, Location loc, ValueRange a) -> Value {
        Value t = linalg::IndexOp::create(nb, loc, 0);
        Value h = linalg::IndexOp::create(nb, loc, 1);
        Value kvHead =
            arith::DivUIOp::create(nb, loc, h, cIndex(nb, loc, group));
        Value j = linalg::IndexOp::create(nb, loc, 2);
        Value position = j;
        Value visible;
        if (offsets) {
          Value first = arith::IndexCastOp::create(nb, loc, nb.getIndexType(),
                                                   a[1]);
          position = arith::SubIOp::create(nb, loc, j, first);
          visible = arith::AndIOp::create(
              nb, loc,
              arith::CmpIOp::create(nb, loc, arith::CmpIPredicate::uge, j,
                                    first),
              visibleAt(nb, loc, position, a[0]));
        } else {
          visible = visibleAt(nb, loc, j, a[0]);
        }
        auto guarded = scf::IfOp::create(
            nb, loc, visible,
            [&](OpBuilder &tb, Location loc) {
              auto dot = scf::ForOp::create(
                  tb, loc, cIndex(tb, loc, 0), cIndex(tb, loc, d),
                  cIndex(tb, loc, 1), ValueRange{cF32(tb, loc, 0.0)},
                  [&](OpBuilder &fb, Location loc, Value i, ValueRange acc) {
                    Value qi = tensor::ExtractOp::create(fb, loc, q,
                                                         ValueRange{t, h, i});
                    Value ki = tensor::ExtractOp::create(
                        fb, loc, keys, ValueRange{j, kvHead, i});
                    scf::YieldOp::create(
                        fb, loc,
                        mulAdd(fb, loc, acc[0], qi, widenToF32(fb, loc, ki)));
                  });
              scf::YieldOp::create(tb, loc, dot.getResult(0));
            },
            [&](OpBuilder &eb, Location loc) {
              scf::YieldOp::create(eb, loc, cF32(eb, loc, 0.0));
            });
        return scaledOrHidden(nb, loc, visible, guarded.getResult(0), h, a[0],
                              position);
      });
  Value probs = tensor::ExtractSliceOp::create(
      b, l.softmaxLast(masked),
      ArrayRef<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(0),
                             b.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{l.size(q, 0), b.getIndexAttr(heads), live},
      SmallVector<OpFoldResult>(3, b.getIndexAttr(1)));

  // out[t, h, i] = sum_j probs[t, h, j] v[j, h / group, i] over the live
  // rows, (d0, d1, d2) = (t, h, i) and d3 = j, the values widened to f32.
  MLIRContext *ctx = b.getContext();
  AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx),
             d2 = getAffineDimExpr(2, ctx), d3 = getAffineDimExpr(3, ctx);
  return l.generic(
      l.filled({l.size(q, 0), b.getIndexAttr(heads), b.getIndexAttr(d)}, 0.0),
      {probs, prefix(1, live)},
      {AffineMap::get(4, 0, {d0, d1, d3}, ctx),
       AffineMap::get(4, 0, {d3, d1.floorDiv(group), d2}, ctx),
       AffineMap::get(4, 0, {d0, d1, d2}, ctx)},
      {kPar, kPar, kPar, kRed},
      [&](OpBuilder &nb, Location loc, ValueRange args) -> Value {
        return mulAdd(nb, loc, args[2], args[0], widenToF32(nb, loc, args[1]));
      });
}
