//===- Kernels.cpp - vectorised loop nests of the CPU lowering ----------===//

#include "passes/Kernels.h"
#include "passes/QuantizedReads.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/bit.h"

#include <algorithm>
#include <limits>

using namespace mlir;
using namespace mlir::moe;

Value mlir::moe::cIndex(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

Value mlir::moe::cF32(OpBuilder &b, Location loc, double v) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
}

namespace {

/// A vector of `lanes` f32 zeros.
Value zeroVector(OpBuilder &b, Location loc, int64_t lanes) {
  auto type = VectorType::get({lanes}, b.getF32Type());
  return arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, b.getF32FloatAttr(0.0)));
}

/// `lanes` elements of `source` at `indices`, widened to f32; the caller
/// guarantees they are in bounds.
Value readF32(OpBuilder &b, Location loc, Value source, ValueRange indices,
              int64_t lanes) {
  Type elem = cast<ShapedType>(source.getType()).getElementType();
  Value pad = arith::ConstantOp::create(b, loc, b.getZeroAttr(elem));
  Value v = vector::TransferReadOp::create(
      b, loc, VectorType::get({lanes}, elem), source, indices, pad,
      ArrayRef<bool>{true});
  return widenToF32(b, loc, v);
}

/// `lanes` values of weight `w` at `indices` (leading indices, then the
/// first value's), as f32: read from `blocks` when `w` is quantized
/// (quantizedBlocks), else from `w` itself.
Value readWeight(OpBuilder &b, Location loc, Value w, Value blocks,
                 ValueRange indices, int64_t lanes) {
  if (blocks)
    return readBlockValues(b, loc, blocks, indices.drop_back(),
                           indices.back(), lanes);
  return readF32(b, loc, w, indices, lanes);
}

/// Whether products of `w` take the bf16 pair dot product.
bool usesBf16Dot(Value w, kernel::CpuMappingAttr mapping) {
  return mapping.getBf16Dot() &&
         cast<ShapedType>(w.getType()).getElementType().isBF16();
}

/// Whether products of `w` with f32 activations widen its bf16 weights in
/// pairs: one load of 2 * lanes weights gives the even ones (shifted left
/// 16 bits) and the odd ones (the high halves masked), two operations
/// where widening each half costs two, while the activations are
/// deinterleaved once per product (deinterleavePairs) to match.
bool usesSplitPairs(Value w, kernel::CpuMappingAttr mapping) {
  return !mapping.getBf16Dot() &&
         cast<ShapedType>(w.getType()).getElementType().isBF16();
}

/// The even and the odd of 2 * lanes bf16 elements of `w` at `indices`,
/// each as `lanes` f32.
std::pair<Value, Value> readSplitPairs(OpBuilder &b, Location loc, Value w,
                                       ValueRange indices, int64_t lanes) {
  Value pad = arith::ConstantOp::create(b, loc, b.getZeroAttr(b.getBF16Type()));
  Value v = vector::TransferReadOp::create(
      b, loc, VectorType::get({2 * lanes}, b.getBF16Type()), w, indices, pad,
      ArrayRef<bool>{true});
  auto i32s = VectorType::get({lanes}, b.getI32Type());
  auto f32s = VectorType::get({lanes}, b.getF32Type());
  Value words = vector::BitCastOp::create(b, loc, i32s, v);
  auto splat = [&](int64_t c) -> Value {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(i32s, b.getI32IntegerAttr(int32_t(c))));
  };
  // Little-endian: element 2i is the low half of word i, 2i + 1 the high.
  Value even = arith::ShLIOp::create(b, loc, words, splat(16));
  Value odd = arith::AndIOp::create(b, loc, words, splat(int32_t(0xffff0000)));
  return {vector::BitCastOp::create(b, loc, f32s, even),
          vector::BitCastOp::create(b, loc, f32s, odd)};
}

/// Where element k of a row of `size` is after deinterleavePairs: in each
/// whole block of 2 * lanes, the even elements first, then the odd; the
/// elements past the last whole block stay.
Value splitPairsPosition(OpBuilder &b, Location loc, Value k, int64_t size,
                         int64_t lanes) {
  int64_t block = 2 * lanes, end = size / block * block;
  Value inBlock = arith::RemUIOp::create(b, loc, k, cIndex(b, loc, block));
  Value start = arith::SubIOp::create(b, loc, k, inBlock);
  Value odd = arith::RemUIOp::create(b, loc, k, cIndex(b, loc, 2));
  Value moved = arith::AddIOp::create(
      b, loc,
      arith::AddIOp::create(
          b, loc, start,
          arith::MulIOp::create(b, loc, odd, cIndex(b, loc, lanes))),
      arith::DivUIOp::create(b, loc, inBlock, cIndex(b, loc, 2)));
  Value blocked = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, k,
                                        cIndex(b, loc, end));
  return arith::SelectOp::create(b, loc, blocked, moved, k);
}

SmallVector<Value> concat(ValueRange prefix, Value last) {
  SmallVector<Value> all(prefix.begin(), prefix.end());
  all.push_back(last);
  return all;
}

/// sum_k w[wAt[r]..., k] * x[xAt[t]..., k] over the last dimension (size
/// k), in f32, for every pair of a weight row r and an activation row t:
/// result[r * xAt.size() + t]. Each pair has `chains` vector partial sums
/// over the largest multiple of their width, then scalars. A step loads
/// each row's vector once: a weight vector serves every activation row,
/// an activation vector every weight row.
SmallVector<Value> buildDots(OpBuilder &b, Location loc, Value w,
                             ArrayRef<SmallVector<Value>> wAt, Value x,
                             ArrayRef<SmallVector<Value>> xAt, int64_t size,
                             kernel::CpuMappingAttr mapping, int64_t chains) {
  if (Value blocks = quantizedBlocks(b, loc, w))
    return buildQuantizedDots(b, loc, blocks, wAt, x, xAt, size, mapping,
                              chains);
  int64_t lanes = mapping.getLanes();
  int64_t ws = wAt.size(), xs = xAt.size(), pairs = ws * xs;
  // With x in bf16 (usesBf16Dot), each step takes pairs of elements:
  // 2 * lanes per partial sum. With x deinterleaved (usesSplitPairs), so
  // does each step: the even and the odd elements of 2 * lanes bf16
  // weights, widened by a shift and a mask of the same load.
  bool bf16Pairs = cast<ShapedType>(x.getType()).getElementType().isBF16();
  bool split = usesSplitPairs(w, mapping);
  int64_t perChain = bf16Pairs || split ? 2 * lanes : lanes;
  // No more chains than the row has vectors for.
  chains = std::clamp<int64_t>(size / perChain, 1, chains);
  int64_t step = perChain * chains, vectorEnd = size / step * step;
  SmallVector<Value> sums(pairs, cF32(b, loc, 0.0));
  if (vectorEnd > 0) {
    SmallVector<Value> inits(pairs * chains, zeroVector(b, loc, lanes));
    auto loop = scf::ForOp::create(
        b, loc, cIndex(b, loc, 0), cIndex(b, loc, vectorEnd),
        cIndex(b, loc, step), inits,
        [&](OpBuilder &nb, Location l, Value k, ValueRange accs) {
          SmallVector<Value> next(accs.begin(), accs.end());
          Value pad;
          if (bf16Pairs)
            pad = arith::ConstantOp::create(nb, l,
                                            nb.getZeroAttr(nb.getBF16Type()));
          auto load = [&](Value from, ValueRange indices) -> Value {
            if (!bf16Pairs)
              return readF32(nb, l, from, indices, lanes);
            return vector::TransferReadOp::create(
                nb, l, VectorType::get({2 * lanes}, nb.getBF16Type()), from,
                indices, pad, ArrayRef<bool>{true});
          };
          for (int64_t c = 0; c < chains; ++c) {
            Value at =
                arith::AddIOp::create(nb, l, k, cIndex(nb, l, c * perChain));
            if (split) {
              Value atOdd =
                  arith::AddIOp::create(nb, l, at, cIndex(nb, l, lanes));
              SmallVector<Value> even, odd;
              for (const SmallVector<Value> &row : xAt) {
                even.push_back(readF32(nb, l, x, concat(row, at), lanes));
                odd.push_back(readF32(nb, l, x, concat(row, atOdd), lanes));
              }
              for (int64_t r = 0; r < ws; ++r) {
                auto [we, wo] =
                    readSplitPairs(nb, l, w, concat(wAt[r], at), lanes);
                for (int64_t t = 0; t < xs; ++t) {
                  Value &acc = next[(r * xs + t) * chains + c];
                  acc = vector::FMAOp::create(nb, l, we, even[t], acc);
                  acc = vector::FMAOp::create(nb, l, wo, odd[t], acc);
                }
              }
              continue;
            }
            SmallVector<Value> xv;
            for (const SmallVector<Value> &row : xAt)
              xv.push_back(load(x, concat(row, at)));
            for (int64_t r = 0; r < ws; ++r) {
              Value wv = load(w, concat(wAt[r], at));
              for (int64_t t = 0; t < xs; ++t) {
                Value &acc = next[(r * xs + t) * chains + c];
                acc = bf16Pairs ? x86vector::DotBF16Op::create(
                                      nb, l, acc.getType(), acc, wv, xv[t])
                                      .getResult()
                                : vector::FMAOp::create(nb, l, wv, xv[t], acc)
                                      .getResult();
              }
            }
          }
          scf::YieldOp::create(nb, l, next);
        });
    for (int64_t p = 0; p < pairs; ++p) {
      Value total = loop.getResult(p * chains);
      for (int64_t c = 1; c < chains; ++c)
        total = arith::AddFOp::create(
            b, loc, total, loop.getResult(p * chains + c), kReductionFlags);
      sums[p] = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD,
                                            total, kReductionFlags);
    }
  }
  if (vectorEnd == size)
    return sums;
  auto tail = scf::ForOp::create(
      b, loc, cIndex(b, loc, vectorEnd), cIndex(b, loc, size),
      cIndex(b, loc, 1), sums,
      [&](OpBuilder &nb, Location l, Value k, ValueRange acc) {
        Value xk = split ? splitPairsPosition(nb, l, k, size, lanes) : k;
        SmallVector<Value> xv;
        for (const SmallVector<Value> &row : xAt)
          xv.push_back(widenToF32(
              nb, l, tensor::ExtractOp::create(nb, l, x, concat(row, xk))));
        SmallVector<Value> next;
        for (int64_t r = 0; r < ws; ++r) {
          Value wv = widenToF32(
              nb, l, tensor::ExtractOp::create(nb, l, w, concat(wAt[r], k)));
          for (int64_t t = 0; t < xs; ++t)
            next.push_back(mulAdd(nb, l, acc[r * xs + t], wv, xv[t]));
        }
        scf::YieldOp::create(nb, l, next);
      });
  return SmallVector<Value>(tail.getResults());
}

/// One dot product, with the mapping's accumulators.
Value buildDot(OpBuilder &b, Location loc, Value w, ValueRange wAt, Value x,
               ValueRange xAt, int64_t size, kernel::CpuMappingAttr mapping) {
  SmallVector<Value> wRow(wAt.begin(), wAt.end()), xRow(xAt.begin(), xAt.end());
  return buildDots(b, loc, w, {wRow}, x, {xRow}, size, mapping,
                   mapping.getAccumulators())
      .front();
}

Value sliceOf(OpBuilder &b, Location loc, Value t, ArrayRef<OpFoldResult> offsets,
              ArrayRef<OpFoldResult> sizes) {
  SmallVector<OpFoldResult> strides(offsets.size(), b.getIndexAttr(1));
  return tensor::ExtractSliceOp::create(b, loc, t, offsets, sizes, strides);
}

/// The fewest tasks a product's rows are split into, so that threads
/// finishing at different times even out.
constexpr int64_t kMinTasks = 64;

/// Rows of a row-by-row kernel worth a parallel region: below, a decode
/// step's or a small expert group's, the region would cost more than the
/// work.
constexpr int64_t kParallelRows = 8;

/// A [T, n] of `element` (f32 when null) of the shape of `like` ([T, n]),
/// row by row:
/// `body(t, row)` writes row t into `row` (its [1, n] slice of the output)
/// and returns it. A parallel task per row for 8 rows or more (a prompt's),
/// a plain loop for fewer, so that a decode step opens no parallel region.
Value buildRows(
    OpBuilder &b, Location loc, Value like,
    function_ref<Value(OpBuilder &, Location, Value t, Value row)> body,
    Type element = {}) {
  int64_t n = cast<RankedTensorType>(like.getType()).getDimSize(1);
  auto rowOf = [&](OpBuilder &rb, Location rl, Value of, Value t) {
    return sliceOf(rb, rl, of, {t, rb.getIndexAttr(0)},
                   {rb.getIndexAttr(1), rb.getIndexAttr(n)});
  };
  OpFoldResult rows = tensor::getMixedSize(b, loc, like, 0);
  Value rowCount = getValueOrCreateConstantIndexOp(b, loc, rows);
  Value init = tensor::EmptyOp::create(
      b, loc, ArrayRef<OpFoldResult>{rows, b.getIndexAttr(n)},
      element ? element : b.getF32Type());
  auto serial = [&](OpBuilder &sb, Location sl) -> Value {
    return scf::ForOp::create(
               sb, sl, cIndex(sb, sl, 0), rowCount, cIndex(sb, sl, 1),
               ValueRange{init},
               [&](OpBuilder &rb, Location rl, Value t, ValueRange acc) {
                 Value row = body(rb, rl, t, rowOf(rb, rl, acc[0], t));
                 Value all = tensor::InsertSliceOp::create(
                     rb, rl, row, acc[0],
                     ArrayRef<OpFoldResult>{t, rb.getIndexAttr(0)},
                     ArrayRef<OpFoldResult>{rb.getIndexAttr(1),
                                            rb.getIndexAttr(n)},
                     ArrayRef<OpFoldResult>{rb.getIndexAttr(1),
                                            rb.getIndexAttr(1)});
                 scf::YieldOp::create(rb, rl, ValueRange{all});
               })
        .getResult(0);
  };
  auto parallel = [&](OpBuilder &pb, Location pl) -> Value {
    return buildForall(
        pb, pl, rows, init,
        [&](OpBuilder &rb, Location rl, Value t, Value outs) -> Tile {
          return {body(rb, rl, t, rowOf(rb, rl, outs, t)),
                  {t, rb.getIndexAttr(0)},
                  {rb.getIndexAttr(1), rb.getIndexAttr(n)}};
        });
  };
  if (std::optional<int64_t> known = getConstantIntValue(rows))
    return *known < kParallelRows ? serial(b, loc) : parallel(b, loc);
  Value many = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge,
                                     rowCount, cIndex(b, loc, kParallelRows));
  return scf::IfOp::create(
             b, loc, many,
             [&](OpBuilder &tb, Location tl) {
               scf::YieldOp::create(tb, tl, parallel(tb, tl));
             },
             [&](OpBuilder &eb, Location el) {
               scf::YieldOp::create(eb, el, serial(eb, el));
             })
      .getResult(0);
}

/// `row` ([1, n]) with its elements [from, n) set to `element(k)`.
Value scalarTail(OpBuilder &b, Location loc, int64_t from, int64_t n, Value row,
                 function_ref<Value(OpBuilder &, Location, Value k)> element) {
  if (from == n)
    return row;
  return scf::ForOp::create(
             b, loc, cIndex(b, loc, from), cIndex(b, loc, n), cIndex(b, loc, 1),
             ValueRange{row},
             [&](OpBuilder &sb, Location sl, Value k, ValueRange acc) {
               scf::YieldOp::create(
                   sb, sl,
                   tensor::InsertOp::create(sb, sl, element(sb, sl, k), acc[0],
                                            ValueRange{cIndex(sb, sl, 0), k})
                       .getResult());
             })
      .getResult(0);
}

/// x [T, K] f32 with each whole block of 2 * lanes elements of a row
/// deinterleaved: its even elements, then its odd ones (the order
/// readSplitPairs widens bf16 weights in); the elements past the last
/// whole block stay.
Value deinterleavePairs(OpBuilder &b, Location loc, Value x,
                        kernel::CpuMappingAttr mapping) {
  int64_t size = cast<RankedTensorType>(x.getType()).getDimSize(1);
  int64_t lanes = mapping.getLanes(), block = 2 * lanes;
  int64_t end = size / block * block;
  auto vecType = VectorType::get({lanes}, b.getF32Type());
  SmallVector<int64_t> evens, odds;
  for (int64_t i = 0; i < lanes; ++i) {
    evens.push_back(2 * i);
    odds.push_back(2 * i + 1);
  }
  return buildRows(
      b, loc, x, [&](OpBuilder &rb, Location rl, Value t, Value row) {
        Value zero = cIndex(rb, rl, 0), pad = cF32(rb, rl, 0.0);
        auto blocks = scf::ForOp::create(
            rb, rl, zero, cIndex(rb, rl, end), cIndex(rb, rl, block),
            ValueRange{row},
            [&](OpBuilder &vb, Location vl, Value k, ValueRange acc) {
              Value k1 =
                  arith::AddIOp::create(vb, vl, k, cIndex(vb, vl, lanes));
              auto read = [&](Value at) -> Value {
                return vector::TransferReadOp::create(vb, vl, vecType, x,
                                                      ValueRange{t, at}, pad,
                                                      ArrayRef<bool>{true});
              };
              Value lo = read(k), hi = read(k1);
              auto write = [&](ArrayRef<int64_t> mask, Value at, Value into) {
                return vector::TransferWriteOp::create(
                           vb, vl,
                           vector::ShuffleOp::create(vb, vl, lo, hi, mask),
                           into, ValueRange{zero, at}, ArrayRef<bool>{true})
                    .getResult();
              };
              scf::YieldOp::create(vb, vl,
                                   write(odds, k1, write(evens, k, acc[0])));
            });
        return scalarTail(
            rb, rl, end, size, blocks.getResult(0),
            [&](OpBuilder &sb, Location sl, Value k) -> Value {
              return tensor::ExtractOp::create(sb, sl, x, ValueRange{t, k});
            });
      });
}

/// out[t, :] = fn(inputs[t, :], ...) for f32 inputs [T, n], rows as
/// buildRows makes them: fn gets vectors of `lanes` over the largest
/// multiple of lanes, then scalars, and returns values of `element` (or
/// vectors of them).
Value buildElementwiseRows(
    OpBuilder &b, Location loc, ValueRange inputs, Type element,
    kernel::CpuMappingAttr mapping,
    function_ref<Value(OpBuilder &, Location, ValueRange)> fn) {
  int64_t n = cast<RankedTensorType>(inputs[0].getType()).getDimSize(1);
  int64_t lanes = mapping.getLanes(), end = n / lanes * lanes;
  auto vecType = VectorType::get({lanes}, b.getF32Type());
  return buildRows(
      b, loc, inputs[0],
      [&](OpBuilder &rb, Location rl, Value t, Value row) {
        Value zero = cIndex(rb, rl, 0), pad = cF32(rb, rl, 0.0);
        auto vectors = scf::ForOp::create(
            rb, rl, zero, cIndex(rb, rl, end), cIndex(rb, rl, lanes),
            ValueRange{row},
            [&](OpBuilder &vb, Location vl, Value k, ValueRange acc) {
              SmallVector<Value> args;
              for (Value in : inputs)
                args.push_back(vector::TransferReadOp::create(
                    vb, vl, vecType, in, ValueRange{t, k}, pad,
                    ArrayRef<bool>{true}));
              scf::YieldOp::create(
                  vb, vl,
                  vector::TransferWriteOp::create(vb, vl, fn(vb, vl, args),
                                                  acc[0], ValueRange{zero, k},
                                                  ArrayRef<bool>{true})
                      .getResult());
            });
        return scalarTail(rb, rl, end, n, vectors.getResult(0),
                          [&](OpBuilder &sb, Location sl, Value k) -> Value {
                            SmallVector<Value> args;
                            for (Value in : inputs)
                              args.push_back(tensor::ExtractOp::create(
                                  sb, sl, in, ValueRange{t, k}));
                            return fn(sb, sl, args);
                          });
      },
      element);
}

/// x [T, K] f32 rounded to bf16 (to nearest even), in vectors.
Value roundToBf16(OpBuilder &b, Location loc, Value x,
                  kernel::CpuMappingAttr mapping) {
  Type bf16 = b.getBF16Type();
  return buildElementwiseRows(
      b, loc, x, bf16, mapping,
      [&](OpBuilder &eb, Location el, ValueRange a) -> Value {
        Type type = bf16;
        if (auto vec = dyn_cast<VectorType>(a[0].getType()))
          type = vec.clone(bf16);
        return arith::TruncFOp::create(eb, el, type, a[0]);
      });
}

/// x rounded to bf16 (to nearest even) when products with `w` take the
/// bf16 dot product; x deinterleaved when they widen weights in pairs; x
/// itself otherwise.
Value dotOperand(OpBuilder &b, Location loc, Value x, Value w,
                 kernel::CpuMappingAttr mapping) {
  auto type = cast<RankedTensorType>(x.getType());
  if (mapping.getInt8Dot() && isQuantized(w)) {
    RankedTensorType blocks = quantizedBlocksType(w);
    if (isInterleaved(blocks))
      return quantizeInterleavedActivations(b, loc, x,
                                            *blockFormatOf(blocks));
    return quantizeActivations(b, loc, x);
  }
  if (usesSplitPairs(w, mapping))
    return fromRowMatrix(
        b, loc, deinterleavePairs(b, loc, asRowMatrix(b, loc, x), mapping),
        type);
  if (!usesBf16Dot(w, mapping))
    return x;
  return fromRowMatrix(b, loc,
                       roundToBf16(b, loc, asRowMatrix(b, loc, x), mapping),
                       type.clone(b.getBF16Type()));
}

/// The tokens [0, count) in tiles of `tile` (when above 1), what is left
/// in the largest smaller tiles of powers of two (a decode step of a few
/// sequences meets each weight row with all of its tokens at once, not one
/// token at a time), then the tokens left one at a time (all of them at a
/// single sequence's decode): `step(from, to, tile, acc)` loops over one of
/// the ranges and returns acc updated.
Value overTokenTiles(
    OpBuilder &b, Location loc, Value count, int64_t tile, Value acc,
    function_ref<Value(Value from, Value to, int64_t tile, Value acc)> step) {
  SmallVector<int64_t> tiles;
  if (tile > 1)
    tiles.push_back(tile);
  for (int64_t k = int64_t(llvm::bit_floor(uint64_t(std::max<int64_t>(
           tile - 1, 1))));
       k > 1; k /= 2)
    tiles.push_back(k);
  Value from = cIndex(b, loc, 0);
  for (int64_t k : tiles) {
    Value kv = cIndex(b, loc, k);
    Value left = arith::SubIOp::create(b, loc, count, from);
    Value to = arith::AddIOp::create(
        b, loc, from,
        arith::MulIOp::create(b, loc, arith::DivUIOp::create(b, loc, left, kv),
                              kv));
    acc = step(from, to, k, acc);
    from = to;
  }
  return step(from, count, 1, acc);
}

/// An f32 output [T, n] (T the rows of x) made by parallel tasks, one per
/// block of `width` columns: `body(c0, block, count)` gets the block's
/// first column, its slice [T, width] and T, and returns the block
/// written.
Value buildColumnBlocks(OpBuilder &b, Location loc, Value x, int64_t n,
                        int64_t width,
                        function_ref<Value(OpBuilder &, Location, Value c0,
                                           Value block, Value count)>
                            body) {
  OpFoldResult tokens = tensor::getMixedSize(b, loc, x, 0);
  Value init = tensor::EmptyOp::create(
      b, loc, ArrayRef<OpFoldResult>{tokens, b.getIndexAttr(n)},
      b.getF32Type());
  return buildForall(
      b, loc, b.getIndexAttr(n / width), init,
      [&](OpBuilder &nb, Location l, Value p, Value out) -> Tile {
        Value c0 = arith::MulIOp::create(nb, l, p, cIndex(nb, l, width));
        SmallVector<OpFoldResult> offsets = {nb.getIndexAttr(0), c0};
        SmallVector<OpFoldResult> sizes = {tokens, nb.getIndexAttr(width)};
        Value block = sliceOf(nb, l, out, offsets, sizes);
        Value count = getValueOrCreateConstantIndexOp(nb, l, tokens);
        return {body(nb, l, c0, block, count), offsets, sizes};
      });
}

} // namespace

SmallVector<Value> mlir::moe::buildForall(
    OpBuilder &b, Location loc, OpFoldResult count, ValueRange inits,
    function_ref<SmallVector<Tile>(OpBuilder &, Location, Value, ValueRange)>
        body) {
  auto forall = scf::ForallOp::create(b, loc, ArrayRef<OpFoldResult>{count},
                                      inits, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(forall.getTerminator());
  SmallVector<Tile> tiles =
      body(b, loc, forall.getInductionVar(0), forall.getRegionIterArgs());
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  for (auto [tile, out] : llvm::zip_equal(tiles, forall.getRegionIterArgs())) {
    SmallVector<OpFoldResult> strides(tile.offsets.size(), b.getIndexAttr(1));
    tensor::ParallelInsertSliceOp::create(b, loc, tile.value, out, tile.offsets,
                                          tile.sizes, strides);
  }
  return SmallVector<Value>(forall.getResults());
}

Value mlir::moe::buildForall(
    OpBuilder &b, Location loc, OpFoldResult count, Value init,
    function_ref<Tile(OpBuilder &, Location, Value, Value)> body) {
  return buildForall(b, loc, count, ValueRange{init},
                     [&](OpBuilder &nb, Location l, Value i, ValueRange outs) {
                       return SmallVector<Tile>{body(nb, l, i, outs[0])};
                     })
      .front();
}

Value mlir::moe::widenToF32(OpBuilder &b, Location loc, Value v) {
  Type f32 = b.getF32Type();
  Type target = f32;
  if (auto vec = dyn_cast<VectorType>(v.getType()))
    target = VectorType::get(vec.getShape(), f32);
  return v.getType() == target ? v : arith::ExtFOp::create(b, loc, target, v);
}

Value mlir::moe::mulAdd(OpBuilder &b, Location loc, Value acc, Value x,
                        Value y) {
  Value p = arith::MulFOp::create(b, loc, x, y, kReductionFlags);
  return arith::AddFOp::create(b, loc, acc, p, kReductionFlags);
}

Value mlir::moe::asRowMatrix(OpBuilder &b, Location loc, Value x) {
  auto type = cast<RankedTensorType>(x.getType());
  if (type.getRank() == 2)
    return x;
  return tensor::ExpandShapeOp::create(
      b, loc,
      RankedTensorType::get({1, type.getDimSize(0)}, type.getElementType()),
      x, SmallVector<ReassociationIndices>{{0, 1}});
}

Value mlir::moe::fromRowMatrix(OpBuilder &b, Location loc, Value y,
                               Type type) {
  if (y.getType() == type)
    return y;
  return tensor::CollapseShapeOp::create(
      b, loc, type, y, SmallVector<ReassociationIndices>{{0, 1}});
}

Value mlir::moe::expertMatrix(OpBuilder &b, Location loc, Value stacked,
                              OpFoldResult expert) {
  auto type = cast<RankedTensorType>(stacked.getType());
  auto matrix = RankedTensorType::get(type.getShape().drop_front(),
                                      type.getElementType());
  return tensor::ExtractSliceOp::create(
      b, loc, matrix, stacked,
      ArrayRef<OpFoldResult>{expert, b.getIndexAttr(0), b.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1),
                             b.getIndexAttr(type.getDimSize(1)),
                             b.getIndexAttr(type.getDimSize(2))},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1),
                             b.getIndexAttr(1)});
}

Value mlir::moe::buildMatvec(OpBuilder &b, Location loc, Value x, Value w,
                             kernel::CpuMappingAttr mapping) {
  auto wType = cast<RankedTensorType>(w.getType());
  int64_t rows = wType.getDimSize(0), size = wType.getDimSize(1);
  // Blocks of row_tile rows (rows one by one where they do not divide);
  // for each, blocks of token_tile tokens, then the tokens left one by one
  // (all of them at decode), the block's rows together.
  int64_t rowTile = rows % mapping.getRowTile() == 0 ? mapping.getRowTile() : 1;
  int64_t tokenTile = mapping.getTokenTile();
  // Integer block products keep each token's activation unit and Q4_0
  // offset in registers beside the rows x tokens accumulators: 4 x 4 fit
  // AVX-512's 32 registers, 4 x 5 spilled (q4_0 prompts 99-105 against
  // 113-115 tokens/s, docs/perf.md).
  if (mapping.getInt8Dot() && isQuantized(w))
    tokenTile = std::min<int64_t>(tokenTile, 4);
  // Alone, a dot product hides the FMA latency with its own accumulators;
  // rows together are independent chains already.
  int64_t chains = std::max<int64_t>(1, mapping.getAccumulators() / rowTile);
  Value xd = dotOperand(b, loc, x, w, mapping);
  // A task takes `group` row blocks, and each token block meets all of
  // them before the next: the token block's activations are read from
  // cache `group` times instead of once per row block (an expert's 100
  // tokens of 14336 activations are 6 MB, past L2), as long as there stay
  // 64 tasks or more to balance (a decode step's tasks are these too).
  int64_t blocks = rows / rowTile, group = 1;
  for (int64_t g : {16, 8, 4, 2})
    if (blocks % g == 0 && blocks / g >= kMinTasks) {
      group = g;
      break;
    }
  return buildColumnBlocks(
      b, loc, x, rows, rowTile * group,
      [&](OpBuilder &nb, Location l, Value c0, Value block,
          Value count) -> Value {
        // Tokens [from, to) in steps of `tile`, each step's rows x tokens
        // dot products, block by block of rows, written into the block.
        return overTokenTiles(
            nb, l, count, tokenTile, block,
            [&](Value from, Value to, int64_t tile, Value acc) {
              int64_t chainsPerPair = tile > 1 ? 1 : chains;
              return scf::ForOp::create(
                         nb, l, from, to, cIndex(nb, l, tile), ValueRange{acc},
                         [&](OpBuilder &bb, Location bl, Value t0,
                             ValueRange blockIn) {
                           SmallVector<SmallVector<Value>> xRows;
                           for (int64_t t = 0; t < tile; ++t)
                             xRows.push_back({arith::AddIOp::create(
                                 bb, bl, t0, cIndex(bb, bl, t))});
                           auto rowBlocks = scf::ForOp::create(
                               bb, bl, cIndex(bb, bl, 0),
                               cIndex(bb, bl, group * rowTile),
                               cIndex(bb, bl, rowTile), blockIn,
                               [&](OpBuilder &rb, Location rl, Value j0,
                                   ValueRange in) {
                                 SmallVector<Value> columns;
                                 SmallVector<SmallVector<Value>> wRows;
                                 for (int64_t r = 0; r < rowTile; ++r) {
                                   columns.push_back(arith::AddIOp::create(
                                       rb, rl, j0, cIndex(rb, rl, r)));
                                   wRows.push_back({arith::AddIOp::create(
                                       rb, rl, c0, columns.back())});
                                 }
                                 SmallVector<Value> dots =
                                     buildDots(rb, rl, w, wRows, xd, xRows,
                                               size, mapping, chainsPerPair);
                                 Value written = in[0];
                                 for (int64_t r = 0; r < rowTile; ++r)
                                   for (int64_t t = 0; t < tile; ++t)
                                     written = tensor::InsertOp::create(
                                         rb, rl, dots[r * tile + t], written,
                                         ValueRange{xRows[t][0], columns[r]});
                                 scf::YieldOp::create(rb, rl, written);
                               });
                           scf::YieldOp::create(bb, bl, rowBlocks.getResults());
                         })
                  .getResult(0);
            });
      });
}

namespace {

/// Weight rows a sparse kernel reads at once: four streams from memory keep
/// more lines in flight than one (a row at a time measured 0.65 of the
/// bandwidth on the up rows of positive gates).
constexpr int64_t kRowStreams = 4;

/// Cache lines at the start of each listed row asked for ahead of its
/// read: a row that starts anywhere is one the hardware prefetcher has not
/// seen, and it needs a few misses in it before it runs ahead.
constexpr int64_t kPrefetchLines = 8;

/// A read-only view of the weight tensor `w` as a buffer, for prefetches.
Value prefetchView(OpBuilder &b, Location loc, Value w) {
  return bufferization::ToBufferOp::create(
      b, loc,
      bufferization::getMemRefTypeWithFullyDynamicLayout(
          cast<RankedTensorType>(w.getType())),
      w, b.getUnitAttr());
}

/// Prefetches the first kPrefetchLines cache lines of row `row` of `view`
/// (a matrix; rows shorter than that, whole).
void prefetchRowStart(OpBuilder &b, Location loc, Value view, Value row) {
  auto type = cast<MemRefType>(view.getType());
  int64_t perLine = std::max<unsigned>(
      1, 512 / type.getElementType().getIntOrFloatBitWidth());
  for (int64_t c = 0; c < std::min(type.getDimSize(1), kPrefetchLines * perLine);
       c += perLine)
    memref::PrefetchOp::create(b, loc, view, ValueRange{row, cIndex(b, loc, c)},
                               /*isWrite=*/false, /*localityHint=*/3,
                               /*isDataCache=*/true);
}

/// `n` rounded down to whole groups of kRowStreams.
Value wholeGroups(OpBuilder &b, Location loc, Value n) {
  return arith::MulIOp::create(
      b, loc, arith::DivUIOp::create(b, loc, n, cIndex(b, loc, kRowStreams)),
      cIndex(b, loc, kRowStreams));
}

/// The last index before `end` (0 when there is none), which a prefetch
/// ahead is clamped to.
Value lastBefore(OpBuilder &b, Location loc, Value end) {
  return arith::SubIOp::create(
      b, loc, arith::MaxUIOp::create(b, loc, end, cIndex(b, loc, 1)),
      cIndex(b, loc, 1));
}

/// For the first `count` entries of `list` ([n] index: neurons numbered
/// from `base`), the products of their rows of `w` with `x`, kRowStreams
/// rows at a time (each group asking for the starts of the next group's
/// rows), then one at a time; `update(neuron, dot, state)` folds each into
/// `state`, which is returned.
Value overListedRows(
    OpBuilder &b, Location loc, Value w, Value x, Value list, Value count,
    Value base, int64_t size, kernel::CpuMappingAttr mapping, Value state,
    function_ref<Value(OpBuilder &, Location, Value, Value, Value)> update) {
  Value blocks = quantizedBlocks(b, loc, w);
  Value view = prefetchView(b, loc, blocks ? blocks : w);
  Value last = lastBefore(b, loc, count);
  Value groups = wholeGroups(b, loc, count);
  int64_t chains =
      std::max<int64_t>(1, mapping.getAccumulators() / kRowStreams);
  auto grouped = scf::ForOp::create(
      b, loc, cIndex(b, loc, 0), groups, cIndex(b, loc, kRowStreams),
      ValueRange{state},
      [&](OpBuilder &nb, Location l, Value j, ValueRange in) {
        SmallVector<Value> neurons;
        SmallVector<SmallVector<Value>> rows;
        for (int64_t k = 0; k < kRowStreams; ++k) {
          Value at = arith::AddIOp::create(nb, l, j, cIndex(nb, l, k));
          neurons.push_back(tensor::ExtractOp::create(nb, l, list, at));
          rows.push_back({arith::AddIOp::create(nb, l, base, neurons.back())});
          Value ahead = arith::MinUIOp::create(
              nb, l,
              arith::AddIOp::create(nb, l, at, cIndex(nb, l, kRowStreams)),
              last);
          Value next = tensor::ExtractOp::create(nb, l, list, ahead);
          prefetchRowStart(nb, l, view,
                           arith::AddIOp::create(nb, l, base, next));
        }
        SmallVector<Value> dots =
            buildDots(nb, l, w, rows, x, {{}}, size, mapping, chains);
        Value next = in[0];
        for (int64_t k = 0; k < kRowStreams; ++k)
          next = update(nb, l, neurons[k], dots[k], next);
        scf::YieldOp::create(nb, l, next);
      });
  auto rest = scf::ForOp::create(
      b, loc, groups, count, cIndex(b, loc, 1), grouped.getResults(),
      [&](OpBuilder &nb, Location l, Value j, ValueRange in) {
        Value neuron = tensor::ExtractOp::create(nb, l, list, j);
        Value row = arith::AddIOp::create(nb, l, base, neuron);
        Value dot = buildDot(nb, l, w, row, x, {}, size, mapping);
        scf::YieldOp::create(nb, l, update(nb, l, neuron, dot, in[0]));
      });
  return rest.getResult(0);
}

/// The entries i < n of [n] index tensor `list` for which `keep(i)`, in
/// order, in its first entries: (list, how many).
std::pair<Value, Value>
listWhere(OpBuilder &b, Location loc, int64_t n, Value from, Value count,
          function_ref<Value(OpBuilder &, Location, Value)> entry,
          function_ref<Value(OpBuilder &, Location, Value)> keep) {
  Value list =
      tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{n}, b.getIndexType());
  auto loop = scf::ForOp::create(
      b, loc, from, count, cIndex(b, loc, 1),
      ValueRange{list, cIndex(b, loc, 0)},
      [&](OpBuilder &nb, Location l, Value i, ValueRange st) {
        Value e = entry(nb, l, i);
        Value written =
            tensor::InsertOp::create(nb, l, e, st[0], ValueRange{st[1]});
        Value step = arith::SelectOp::create(
            nb, l, keep(nb, l, e), cIndex(nb, l, 1), cIndex(nb, l, 0));
        scf::YieldOp::create(
            nb, l,
            ValueRange{written, arith::AddIOp::create(nb, l, st[1], step)});
      });
  return {loop.getResult(0), loop.getResult(1)};
}

} // namespace

ActiveSet mlir::moe::buildFusedDRelu(OpBuilder &b, Location loc, Value x,
                                     Value gate, Value up, Value predicted,
                                     FloatAttr threshold,
                                     kernel::CpuMappingAttr mapping) {
  auto gType = cast<RankedTensorType>(gate.getType());
  int64_t inter = gType.getDimSize(0), size = gType.getDimSize(1);
  Type f32 = b.getF32Type(), i1 = b.getI1Type();
  Value init =
      tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{inter}, f32);
  Value xd = dotOperand(b, loc, x, gate, mapping);
  Value flags = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{inter}, i1);
  // A task per block of neurons: its gate rows (the predicted neurons'
  // only, with a predictor) read as one stream, several rows at a time;
  // then the up rows of the positive gates, listed first, the same way.
  int64_t block = 1;
  for (int64_t n : {64, 32, 16, 8, 4, 2})
    if (inter % n == 0) {
      block = n;
      break;
    }
  SmallVector<Value> perNeuron = buildForall(
      b, loc, b.getIndexAttr(inter / block), ValueRange{init, flags},
      [&](OpBuilder &nb, Location l, Value p,
          ValueRange outs) -> SmallVector<Tile> {
        Value base = arith::MulIOp::create(nb, l, p, cIndex(nb, l, block));
        Value zero = cF32(nb, l, 0.0);
        auto identity = [](OpBuilder &, Location, Value i) { return i; };
        // The neurons whose gate is computed.
        Value candidates, computed;
        std::tie(candidates, computed) = listWhere(
            nb, l, block, cIndex(nb, l, 0), cIndex(nb, l, block), identity,
            [&](OpBuilder &cb, Location cl, Value i) -> Value {
              if (!predicted)
                return arith::ConstantIntOp::create(cb, cl, 1, 1);
              Value at = arith::AddIOp::create(cb, cl, base, i);
              Value logit = tensor::ExtractOp::create(cb, cl, predicted, at);
              return arith::CmpFOp::create(
                  cb, cl, arith::CmpFPredicate::OGE, logit,
                  arith::ConstantOp::create(cb, cl, threshold));
            });
        Value gates =
            tensor::EmptyOp::create(nb, l, ArrayRef<int64_t>{block}, f32);
        gates = overListedRows(
            nb, l, gate, xd, candidates, computed, base, size, mapping, gates,
            [](OpBuilder &ub, Location ul, Value n, Value dot, Value in) {
              return tensor::InsertOp::create(ub, ul, dot, in, n).getResult();
            });
        // The positive ones among them, and every neuron's flag: false
        // where its gate was not computed.
        Value blockFlags =
            linalg::FillOp::create(
                nb, l, ValueRange{arith::ConstantIntOp::create(nb, l, 0, 1)},
                ValueRange{tensor::EmptyOp::create(
                    nb, l, ArrayRef<int64_t>{block}, i1)})
                .getResult(0);
        auto positiveOf = [&](OpBuilder &cb, Location cl, Value n) -> Value {
          return arith::CmpFOp::create(
              cb, cl, arith::CmpFPredicate::OGT,
              tensor::ExtractOp::create(cb, cl, gates, n), cF32(cb, cl, 0.0));
        };
        Value positive, positives;
        std::tie(positive, positives) = listWhere(
            nb, l, block, cIndex(nb, l, 0), computed,
            [&](OpBuilder &cb, Location cl, Value j) -> Value {
              return tensor::ExtractOp::create(cb, cl, candidates, j);
            },
            positiveOf);
        blockFlags =
            scf::ForOp::create(
                nb, l, cIndex(nb, l, 0), positives, cIndex(nb, l, 1),
                ValueRange{blockFlags},
                [&](OpBuilder &fb, Location fl, Value j, ValueRange in) {
                  Value n = tensor::ExtractOp::create(fb, fl, positive, j);
                  scf::YieldOp::create(
                      fb, fl,
                      ValueRange{tensor::InsertOp::create(
                          fb, fl, arith::ConstantIntOp::create(fb, fl, 1, 1),
                          in[0], n)});
                })
                .getResult(0);
        // act = g relu(u) where the gate is positive, zero elsewhere.
        Value act =
            linalg::FillOp::create(nb, l, ValueRange{zero},
                                   ValueRange{tensor::EmptyOp::create(
                                       nb, l, ArrayRef<int64_t>{block}, f32)})
                .getResult(0);
        act = overListedRows(
            nb, l, up, xd, positive, positives, base, size, mapping, act,
            [&](OpBuilder &ub, Location ul, Value n, Value u, Value in) {
              Value g = tensor::ExtractOp::create(ub, ul, gates, n);
              Value relu =
                  arith::MaximumFOp::create(ub, ul, u, cF32(ub, ul, 0));
              return tensor::InsertOp::create(
                         ub, ul, arith::MulFOp::create(ub, ul, g, relu), in, n)
                  .getResult();
            });
        SmallVector<OpFoldResult> offsets = {base},
                                  sizes = {nb.getIndexAttr(block)};
        return {Tile{act, offsets, sizes}, Tile{blockFlags, offsets, sizes}};
      });
  Value act = perNeuron[0], gatePositive = perNeuron[1];

  // The active neurons, in order: each i is written at the current count,
  // which moves on only where the product is non-zero; and the positive
  // gates, counted.
  Type i32 = b.getI32Type();
  Value slots = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{inter}, i32);
  Value zero = cIndex(b, loc, 0);
  auto compact = scf::ForOp::create(
      b, loc, zero, cIndex(b, loc, inter), cIndex(b, loc, 1),
      ValueRange{slots, zero, zero},
      [&](OpBuilder &nb, Location l, Value i, ValueRange st) {
        Value v = tensor::ExtractOp::create(nb, l, act, ValueRange{i});
        auto countIf = [&](Value condition, Value counter) -> Value {
          Value step = arith::SelectOp::create(
              nb, l, condition, cIndex(nb, l, 1), cIndex(nb, l, 0));
          return arith::AddIOp::create(nb, l, counter, step);
        };
        Value active = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::ONE,
                                             v, cF32(nb, l, 0.0));
        Value positive =
            tensor::ExtractOp::create(nb, l, gatePositive, ValueRange{i});
        Value id = arith::IndexCastOp::create(nb, l, i32, i);
        Value written =
            tensor::InsertOp::create(nb, l, id, st[0], ValueRange{st[1]});
        scf::YieldOp::create(nb, l,
                             ValueRange{written, countIf(active, st[1]),
                                        countIf(positive, st[2])});
      });
  return {act, compact.getResult(0), compact.getResult(1),
          compact.getResult(2)};
}

namespace {

/// The bf16 pair form of the neuron-major down product (--bf16-dot): two
/// neurons' rows of 2 * lanes weights interleaved in registers (an unpack of
/// the low and of the high quarter of each 128-bit lane, vpunpck{l,h}wd)
/// meet their two activations, rounded to bf16, in one vdpbf16ps each. The
/// partial outputs then hold each block of 2 * lanes columns permuted:
/// `unpack` gives the shuffles into that order, `restore` the shuffle that
/// puts a block back.
struct PairOrder {
  /// The shuffles of two rows' blocks a, b into the low and the high pairs.
  static SmallVector<int64_t> unpack(int64_t lanes, bool high) {
    SmallVector<int64_t> mask;
    for (int64_t q = 0; q < 2 * lanes / 8; ++q)
      for (int64_t j = 0; j < 4; ++j) {
        int64_t col = 8 * q + j + (high ? 4 : 0);
        mask.push_back(col);
        mask.push_back(2 * lanes + col);
      }
    return mask;
  }
  /// For each column of a block, its position among the low (first
  /// `lanes`) and high results: the shuffle of (low, high) that restores
  /// the columns' order.
  static SmallVector<int64_t> restore(int64_t lanes) {
    SmallVector<int64_t> mask;
    for (int64_t m = 0; m < 2 * lanes; ++m) {
      int64_t q = m / 8, r = m % 8;
      mask.push_back(r < 4 ? 4 * q + r : lanes + 4 * q + r - 4);
    }
    return mask;
  }
};

/// c + by (c itself when by is 0).
Value offsetBy(OpBuilder &b, Location loc, Value c, int64_t by) {
  return by == 0 ? c : arith::AddIOp::create(b, loc, c, cIndex(b, loc, by));
}

/// A vector of 2 * lanes bf16: the pair (a, b) of f32 activations, rounded,
/// repeated.
Value broadcastPair(OpBuilder &b, Location loc, Value a, Value bv,
                    int64_t lanes) {
  Type bf16 = b.getBF16Type();
  Value pair = vector::FromElementsOp::create(
      b, loc, VectorType::get({2}, bf16),
      ValueRange{arith::TruncFOp::create(b, loc, bf16, a),
                 arith::TruncFOp::create(b, loc, bf16, bv)});
  Value word = vector::ExtractOp::create(
      b, loc,
      vector::BitCastOp::create(b, loc, VectorType::get({1}, b.getI32Type()),
                                pair),
      ArrayRef<int64_t>{0});
  Value words = vector::BroadcastOp::create(
      b, loc, VectorType::get({lanes}, b.getI32Type()), word);
  return vector::BitCastOp::create(b, loc, VectorType::get({2 * lanes}, bf16),
                                   words);
}

} // namespace

Value mlir::moe::buildSparseMatvecNeuronMajor(OpBuilder &b, Location loc,
                                              Value w, Value activation,
                                              Value indices, Value count,
                                              kernel::CpuMappingAttr mapping) {
  auto wType = cast<RankedTensorType>(w.getType());
  int64_t cols = wType.getDimSize(1);
  Value blocks = quantizedBlocks(b, loc, w);
  // Quantized rows are read a block's half (or less) at a time.
  int64_t lanes = blocks ? std::min<int64_t>(mapping.getLanes(), 16)
                         : mapping.getLanes();
  while (cols % lanes != 0)
    lanes /= 2;
  // The pair product needs whole blocks of 2 * lanes columns made of whole
  // 128-bit lanes.
  bool pairs = usesBf16Dot(w, mapping) && lanes >= 4 && cols % (2 * lanes) == 0;
  // Each step of a row covers `blockCols` columns, as `perStep` vectors.
  int64_t perStep = pairs ? 2 : 1, blockCols = perStep * lanes;
  Type f32 = b.getF32Type();
  auto vecType = VectorType::get({lanes}, f32);
  auto rowType = RankedTensorType::get({cols}, f32);
  Value zeroVec = zeroVector(b, loc, lanes);

  // row[c + i lanes] = f(row)[i] for every block c of a [cols] tensor.
  auto overColumns = [&](OpBuilder &nb, Location l, Value row,
                         function_ref<SmallVector<Value>(OpBuilder &, Location,
                                                         Value, Value)>
                             update) {
    return scf::ForOp::create(
               nb, l, cIndex(nb, l, 0), cIndex(nb, l, cols),
               cIndex(nb, l, blockCols), ValueRange{row},
               [&](OpBuilder &bb, Location bl, Value c, ValueRange r) {
                 SmallVector<Value> vs = update(bb, bl, c, r[0]);
                 Value written = r[0];
                 for (auto [i, v] : llvm::enumerate(vs)) {
                   Value at = offsetBy(
                       bb, bl, c,
                       int64_t(i) *
                           cast<VectorType>(v.getType()).getNumElements());
                   written = vector::TransferWriteOp::create(
                                 bb, bl, v, written, ValueRange{at},
                                 ArrayRef<bool>{true})
                                 .getResult();
                 }
                 scf::YieldOp::create(bb, bl, written);
               })
        .getResult(0);
  };
  // The `perStep` f32 vectors of `row` at block c.
  auto readBlock = [&](OpBuilder &nb, Location l, Value row,
                       ValueRange prefix, Value c) {
    SmallVector<Value> vs;
    for (int64_t i = 0; i < perStep; ++i)
      vs.push_back(readF32(nb, l, row,
                           concat(prefix, offsetBy(nb, l, c, i * lanes)),
                           lanes));
    return vs;
  };

  // Each task takes a contiguous share of the active neurons, reads their
  // whole rows and sums them into a partial output of its own.
  int64_t tasks = mapping.getTasks();
  Value view = prefetchView(b, loc, blocks ? blocks : w);
  Value init = tensor::EmptyOp::create(
      b, loc, ArrayRef<int64_t>{tasks, cols}, f32);
  Value partials = buildForall(
      b, loc, b.getIndexAttr(tasks), init,
      [&](OpBuilder &nb, Location l, Value p, Value out) -> Tile {
        auto share = [&](Value task) {
          Value scaled = arith::MulIOp::create(nb, l, task, count);
          return arith::DivUIOp::create(nb, l, scaled, cIndex(nb, l, tasks))
              .getResult();
        };
        Value lo = share(p);
        Value hi = share(arith::AddIOp::create(nb, l, p, cIndex(nb, l, 1)));
        SmallVector<OpFoldResult> offsets = {p, nb.getIndexAttr(0)};
        SmallVector<OpFoldResult> sizes = {nb.getIndexAttr(1),
                                           nb.getIndexAttr(cols)};
        Value row = tensor::ExtractSliceOp::create(
            nb, l, rowType, out, offsets, sizes,
            SmallVector<OpFoldResult>(2, nb.getIndexAttr(1)));
        row = overColumns(nb, l, row,
                          [&](OpBuilder &, Location, Value, Value) {
                            return SmallVector<Value>(perStep, zeroVec);
                          });
        Value lastOfShare = lastBefore(nb, l, hi);
        // Neurons `neurons` at a time: their rows are as many streams from
        // memory, and the partial row is read and written once for them.
        auto addNeurons = [&](Value from, Value to, int64_t neurons,
                              Value acc) {
          return scf::ForOp::create(
                     nb, l, from, to, cIndex(nb, l, neurons), ValueRange{acc},
                     [&](OpBuilder &bb, Location bl, Value j, ValueRange in) {
                       SmallVector<Value> ns, as;
                       for (int64_t k = 0; k < neurons; ++k) {
                         Value at = arith::AddIOp::create(bb, bl, j,
                                                          cIndex(bb, bl, k));
                         ns.push_back(arith::IndexCastOp::create(
                             bb, bl, bb.getIndexType(),
                             tensor::ExtractOp::create(bb, bl, indices, at)));
                         // The start of the row `neurons` entries on, while
                         // the share lasts.
                         Value ahead = arith::MinUIOp::create(
                             bb, bl,
                             arith::AddIOp::create(bb, bl, at,
                                                   cIndex(bb, bl, neurons)),
                             lastOfShare);
                         prefetchRowStart(bb, bl, view,
                                          arith::IndexCastOp::create(
                                              bb, bl, bb.getIndexType(),
                                              tensor::ExtractOp::create(
                                                  bb, bl, indices, ahead)));
                         as.push_back(tensor::ExtractOp::create(
                             bb, bl, activation, ns.back()));
                       }
                       SmallVector<Value> activations;
                       if (pairs) {
                         // Neurons in pairs; a lone one pairs with itself
                         // at activation 0 (its row is read once).
                         for (int64_t k = 0; k < neurons; k += 2) {
                           Value second = k + 1 < neurons
                                              ? as[k + 1]
                                              : cF32(bb, bl, 0.0);
                           activations.push_back(
                               broadcastPair(bb, bl, as[k], second, lanes));
                         }
                       } else {
                         for (Value a : as)
                           activations.push_back(
                               vector::BroadcastOp::create(bb, bl, vecType, a));
                       }
                       Value next = overColumns(
                           bb, bl, in[0],
                           [&](OpBuilder &cb, Location cl, Value c,
                               Value r) -> SmallVector<Value> {
                             SmallVector<Value> v =
                                 readBlock(cb, cl, r, {}, c);
                             if (!pairs) {
                               for (int64_t k = 0; k < neurons; ++k)
                                 v[0] = vector::FMAOp::create(
                                     cb, cl,
                                     readWeight(cb, cl, w, blocks,
                                                ValueRange{ns[k], c}, lanes),
                                     activations[k], v[0]);
                               return v;
                             }
                             Value pad = arith::ConstantOp::create(
                                 cb, cl, cb.getZeroAttr(cb.getBF16Type()));
                             auto rowBlock = [&](Value n) -> Value {
                               return vector::TransferReadOp::create(
                                   cb, cl,
                                   VectorType::get({2 * lanes},
                                                   cb.getBF16Type()),
                                   w, ValueRange{n, c}, pad,
                                   ArrayRef<bool>{true});
                             };
                             for (int64_t k = 0; k < neurons; k += 2) {
                               Value first = rowBlock(ns[k]);
                               Value second =
                                   k + 1 < neurons ? rowBlock(ns[k + 1]) : first;
                               for (int64_t h = 0; h < 2; ++h) {
                                 Value interleaved = vector::ShuffleOp::create(
                                     cb, cl, first, second,
                                     PairOrder::unpack(lanes, h == 1));
                                 v[h] = x86vector::DotBF16Op::create(
                                     cb, cl, vecType, v[h], interleaved,
                                     activations[k / 2]);
                               }
                             }
                             return v;
                           });
                       scf::YieldOp::create(bb, bl, next);
                     })
              .getResult(0);
        };
        Value whole = arith::AddIOp::create(
            nb, l, lo,
            wholeGroups(nb, l, arith::SubIOp::create(nb, l, hi, lo)));
        Value sum =
            addNeurons(whole, hi, 1, addNeurons(lo, whole, kRowStreams, row));
        return {sum, offsets, sizes};
      });

  // The partial outputs summed (and, after the pair product, each block's
  // columns put back in order).
  Value result = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{cols}, f32);
  return overColumns(b, loc, result, [&](OpBuilder &nb, Location l, Value c,
                                         Value) -> SmallVector<Value> {
    SmallVector<Value> total(perStep, zeroVec);
    for (int64_t p = 0; p < tasks; ++p) {
      SmallVector<Value> part =
          readBlock(nb, l, partials, ValueRange{cIndex(nb, l, p)}, c);
      for (int64_t i = 0; i < perStep; ++i)
        total[i] = arith::AddFOp::create(nb, l, total[i], part[i]);
    }
    if (!pairs)
      return total;
    return {vector::ShuffleOp::create(nb, l, total[0], total[1],
                                      PairOrder::restore(lanes))};
  });
}

Value mlir::moe::buildMatmulNeuronMajor(OpBuilder &b, Location loc, Value x,
                                        Value w,
                                        kernel::CpuMappingAttr mapping) {
  auto wType = cast<RankedTensorType>(w.getType());
  int64_t inter = wType.getDimSize(0), cols = wType.getDimSize(1);
  Value blocks = quantizedBlocks(b, loc, w);
  // A task per block of row_tile vectors of output columns; the block of
  // weights a task reads is a contiguous piece of every neuron's row.
  int64_t lanes = blocks ? std::min<int64_t>(mapping.getLanes(), 16)
                         : mapping.getLanes();
  while (cols % lanes != 0)
    lanes /= 2;
  int64_t vecs = std::max<int64_t>(1, mapping.getRowTile());
  while (cols % (vecs * lanes) != 0)
    --vecs;
  int64_t width = vecs * lanes;
  int64_t tokenTile = std::max<int64_t>(1, mapping.getTokenTile());
  // Neurons per step of a task: their pieces of rows (at most
  // kNeuronBlock * width weights) stay in the L1 cache while every token
  // tile reads them, and so do their pages in the L1 TLB (each piece is on
  // a page of its own: 256 neurons measured 10 % slower).
  constexpr int64_t kNeuronBlock = 64;
  int64_t neurons = std::min(inter, kNeuronBlock);
  auto vecType = VectorType::get({lanes}, b.getF32Type());
  return buildColumnBlocks(
      b, loc, x, cols, width,
      [&](OpBuilder &nb, Location l, Value c0, Value block,
          Value count) -> Value {
        Value zeros =
            linalg::FillOp::create(nb, l, ValueRange{cF32(nb, l, 0.0)},
                                   ValueRange{block})
                .getResult(0);
        SmallVector<Value> columns;
        for (int64_t v = 0; v < vecs; ++v)
          columns.push_back(
              arith::AddIOp::create(nb, l, c0, cIndex(nb, l, v * lanes)));
        // Neurons [i0, i1), for each tile of tokens: the tile's rows of
        // the block loaded into registers, the neurons added, stored.
        auto overNeurons = [&](OpBuilder &ob, Location ol, Value i0,
                               Value acc) {
          Value i1 = arith::MinUIOp::create(
              ob, ol,
              arith::AddIOp::create(ob, ol, i0, cIndex(ob, ol, neurons)),
              cIndex(ob, ol, inter));
          return overTokenTiles(
              ob, ol, count, tokenTile, acc,
              [&](Value from, Value to, int64_t tile, Value in) -> Value {
                return scf::ForOp::create(
                           ob, ol, from, to, cIndex(ob, ol, tile),
                           ValueRange{in},
                           [&](OpBuilder &tb, Location tl, Value t0,
                               ValueRange blockIn) {
                             SmallVector<Value> rows, accs;
                             for (int64_t t = 0; t < tile; ++t)
                               rows.push_back(arith::AddIOp::create(
                                   tb, tl, t0, cIndex(tb, tl, t)));
                             for (Value t : rows)
                               for (int64_t v = 0; v < vecs; ++v)
                                 accs.push_back(readF32(
                                     tb, tl, blockIn[0],
                                     ValueRange{t, cIndex(tb, tl, v * lanes)},
                                     lanes));
                             auto sum = scf::ForOp::create(
                                 tb, tl, i0, i1, cIndex(tb, tl, 1), accs,
                                 [&](OpBuilder &ib, Location il, Value i,
                                     ValueRange a) {
                                   SmallVector<Value> xs,
                                       next(a.begin(), a.end());
                                   for (Value t : rows)
                                     xs.push_back(vector::BroadcastOp::create(
                                         ib, il, vecType,
                                         tensor::ExtractOp::create(
                                             ib, il, x, ValueRange{t, i})));
                                   for (int64_t v = 0; v < vecs; ++v) {
                                     Value wv = readWeight(
                                         ib, il, w, blocks,
                                         ValueRange{i, columns[v]}, lanes);
                                     for (int64_t t = 0; t < tile; ++t) {
                                       Value &acc = next[t * vecs + v];
                                       acc = vector::FMAOp::create(ib, il, wv,
                                                                   xs[t], acc);
                                     }
                                   }
                                   scf::YieldOp::create(ib, il, next);
                                 });
                             Value written = blockIn[0];
                             for (int64_t t = 0; t < tile; ++t)
                               for (int64_t v = 0; v < vecs; ++v)
                                 written =
                                     vector::TransferWriteOp::create(
                                         tb, tl, sum.getResult(t * vecs + v),
                                         written,
                                         ValueRange{rows[t],
                                                    cIndex(tb, tl, v * lanes)},
                                         ArrayRef<bool>{true})
                                         .getResult();
                             scf::YieldOp::create(tb, tl, written);
                           })
                    .getResult(0);
              });
        };
        return scf::ForOp::create(
                   nb, l, cIndex(nb, l, 0), cIndex(nb, l, inter),
                   cIndex(nb, l, neurons), ValueRange{zeros},
                   [&](OpBuilder &ob, Location ol, Value i0, ValueRange acc) {
                     scf::YieldOp::create(ob, ol,
                                          overNeurons(ob, ol, i0, acc[0]));
                   })
            .getResult(0);
      });
}

Value mlir::moe::buildSparseMatvecRowMajor(OpBuilder &b, Location loc, Value w,
                                           Value activation, Value indices,
                                           Value count) {
  // y += act[n] * w[:, n] for each active neuron n: a strided column, so
  // the reference loop, not a weight-streaming kernel.
  Type f32 = b.getF32Type();
  OpFoldResult rows = tensor::getMixedSize(b, loc, w, 0);
  Value empty = tensor::EmptyOp::create(b, loc, ArrayRef<OpFoldResult>{rows}, f32);
  Value out = linalg::FillOp::create(b, loc, ValueRange{cF32(b, loc, 0.0)},
                                     ValueRange{empty})
                  .getResult(0);
  AffineMap identity = AffineMap::getMultiDimIdentityMap(1, b.getContext());
  auto loop = scf::ForOp::create(
      b, loc, cIndex(b, loc, 0), count, cIndex(b, loc, 1), ValueRange{out},
      [&](OpBuilder &nb, Location l, Value j, ValueRange acc) {
        Value n = arith::IndexCastOp::create(
            nb, l, nb.getIndexType(),
            tensor::ExtractOp::create(nb, l, indices, ValueRange{j}));
        Value xn = tensor::ExtractOp::create(nb, l, activation, ValueRange{n});
        auto column = linalg::GenericOp::create(
            nb, l, acc[0].getType(), ValueRange{}, ValueRange{acc[0]},
            ArrayRef<AffineMap>{identity},
            ArrayRef<utils::IteratorType>{utils::IteratorType::parallel},
            [&](OpBuilder &bb, Location bl, ValueRange a) {
              Value m = linalg::IndexOp::create(bb, bl, 0);
              Value wv = tensor::ExtractOp::create(bb, bl, w, ValueRange{m, n});
              Value p = arith::MulFOp::create(bb, bl, xn, widenToF32(bb, bl, wv));
              linalg::YieldOp::create(
                  bb, bl, ValueRange{arith::AddFOp::create(bb, bl, a[0], p)});
            });
        scf::YieldOp::create(nb, l, column.getResult(0));
      });
  return loop.getResult(0);
}

/// An f32 constant of the type of `like`: a scalar, or a vector of it.
static Value constantLike(OpBuilder &b, Location loc, Value like, double v) {
  if (auto type = dyn_cast<VectorType>(like.getType()))
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, b.getF32FloatAttr(v)));
  return cF32(b, loc, v);
}

Value mlir::moe::gatedActivation(OpBuilder &b, Location loc, Activation act,
                                 Value g, Value u) {
  Value zero = constantLike(b, loc, g, 0.0), one = constantLike(b, loc, g, 1.0);
  switch (act) {
  case Activation::SwiGLU: {
    // silu(g) = g / (1 + exp(-g))
    Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, g));
    Value s =
        arith::DivFOp::create(b, loc, g, arith::AddFOp::create(b, loc, one, e));
    return arith::MulFOp::create(b, loc, s, u);
  }
  case Activation::ReGLU:
    return arith::MulFOp::create(b, loc,
                                 arith::MaximumFOp::create(b, loc, g, zero), u);
  case Activation::GeGLU: {
    // Exact gelu: g/2 (1 + erf(g / sqrt 2)).
    Value erf = math::ErfOp::create(
        b, loc,
        arith::MulFOp::create(b, loc, g, constantLike(b, loc, g, M_SQRT1_2)));
    Value gelu = arith::MulFOp::create(
        b, loc, arith::MulFOp::create(b, loc, constantLike(b, loc, g, 0.5), g),
        arith::AddFOp::create(b, loc, one, erf));
    return arith::MulFOp::create(b, loc, gelu, u);
  }
  case Activation::DReLU:
    return arith::MulFOp::create(b, loc,
                                 arith::MaximumFOp::create(b, loc, g, zero),
                                 arith::MaximumFOp::create(b, loc, u, zero));
  }
  llvm_unreachable("unknown activation");
}

Value mlir::moe::buildGatedActivation(OpBuilder &b, Location loc,
                                      Activation act, Value g, Value u,
                                      kernel::CpuMappingAttr mapping) {
  return buildElementwiseRows(b, loc, ValueRange{g, u}, b.getF32Type(), mapping,
                              [&](OpBuilder &eb, Location el, ValueRange a) {
                                return gatedActivation(eb, el, act, a[0], a[1]);
                              });
}

Value mlir::moe::buildGateUp(OpBuilder &b, Location loc, Value x, Value gate,
                             Value up, Activation act,
                             kernel::CpuMappingAttr mapping) {
  // Two weight streams, one matrix after the other: interleaving a gate
  // and an up row per task measured slower (docs/perf.md).
  auto type = RankedTensorType::get(
      {cast<RankedTensorType>(gate.getType()).getDimSize(0)}, b.getF32Type());
  Value row = asRowMatrix(b, loc, x);
  Value g = buildMatvec(b, loc, row, gate, mapping);
  Value u = buildMatvec(b, loc, row, up, mapping);
  return fromRowMatrix(b, loc, buildGatedActivation(b, loc, act, g, u, mapping),
                       type);
}

SmallVector<Value> mlir::moe::buildTopK(
    OpBuilder &b, Location loc, int64_t experts, int64_t topK, ValueRange state,
    function_ref<Value(OpBuilder &, Location, Value)> score,
    function_ref<SmallVector<Value>(OpBuilder &, Location, Value, Value, Value,
                                    ValueRange)>
        emit) {
  // Before the first round, the pick (+inf, -1) precedes every score.
  SmallVector<Value> init = {
      cF32(b, loc, std::numeric_limits<float>::infinity()), cIndex(b, loc, -1)};
  llvm::append_range(init, state);
  auto rounds = scf::ForOp::create(
      b, loc, cIndex(b, loc, 0), cIndex(b, loc, topK), cIndex(b, loc, 1), init,
      [&](OpBuilder &kb, Location kl, Value k, ValueRange carried) {
        Value prevValue = carried[0], prevIndex = carried[1];
        auto best = scf::ForOp::create(
            kb, kl, cIndex(kb, kl, 0), cIndex(kb, kl, experts),
            cIndex(kb, kl, 1),
            ValueRange{cF32(kb, kl, -std::numeric_limits<float>::infinity()),
                       cIndex(kb, kl, 0)},
            [&](OpBuilder &eb, Location el, Value e, ValueRange acc) {
              Value v = score(eb, el, e);
              // After the previous pick: lower, or equal at a higher index.
              Value lower = arith::CmpFOp::create(
                  eb, el, arith::CmpFPredicate::OLT, v, prevValue);
              Value tied = arith::AndIOp::create(
                  eb, el,
                  arith::CmpFOp::create(eb, el, arith::CmpFPredicate::OEQ, v,
                                        prevValue),
                  arith::CmpIOp::create(eb, el, arith::CmpIPredicate::sgt, e,
                                        prevIndex));
              Value better = arith::AndIOp::create(
                  eb, el, arith::OrIOp::create(eb, el, lower, tied),
                  arith::CmpFOp::create(eb, el, arith::CmpFPredicate::OGT, v,
                                        acc[0]));
              scf::YieldOp::create(
                  eb, el,
                  ValueRange{
                      arith::SelectOp::create(eb, el, better, v, acc[0]),
                      arith::SelectOp::create(eb, el, better, e, acc[1])});
            });
        Value value = best.getResult(0), index = best.getResult(1);
        SmallVector<Value> next = {value, index};
        llvm::append_range(
            next, emit(kb, kl, k, value, index, carried.drop_front(2)));
        scf::YieldOp::create(kb, kl, next);
      });
  return SmallVector<Value>(rounds.getResults().drop_front(2));
}
