//===- QuantizedReads.cpp - kernels reading quantized blocks ------------===//

#include "passes/QuantizedReads.h"
#include "passes/Kernels.h"

#include "dialects/moe/IR/MoeOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::moe;

namespace {

Value splatI8(OpBuilder &b, Location loc, int64_t lanes, int64_t v) {
  auto type = VectorType::get({lanes}, b.getI8Type());
  return arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, b.getI8IntegerAttr(int8_t(v))));
}

SmallVector<Value> concatIndices(ValueRange prefix, ArrayRef<Value> rest) {
  SmallVector<Value> all(prefix.begin(), prefix.end());
  all.append(rest.begin(), rest.end());
  return all;
}

/// quantOffset and scaleOffset for a row of `blocks`.
Value quantAt(OpBuilder &b, Location loc, Value blocks, Value kb, Value j) {
  return quantOffset(b, loc, *blockFormatOf(blocks.getType()), kb, j);
}

Value scaleAt(OpBuilder &b, Location loc, Value blocks, Value kb) {
  auto type = cast<RankedTensorType>(blocks.getType());
  BlockFormat format = *blockFormatOf(type);
  return scaleOffset(b, loc, format,
                     type.getShape().back() / blockBytes(format), kb);
}

/// The f16 scales of `count` blocks from `kb` on (contiguous in the row of
/// `from` at `at`), read and converted to f32 at once.
Value readScales(OpBuilder &b, Location loc, Value from, ValueRange at,
                 Value kb, int64_t count) {
  Value pad = arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0));
  Value bytes = vector::TransferReadOp::create(
      b, loc, VectorType::get({2 * count}, b.getI8Type()), from,
      concatIndices(at, {scaleAt(b, loc, from, kb)}), pad,
      ArrayRef<bool>{true});
  Value halves = vector::BitCastOp::create(
      b, loc, VectorType::get({count}, b.getF16Type()), bytes);
  return arith::ExtFOp::create(
      b, loc, VectorType::get({count}, b.getF32Type()), halves);
}

/// Block `kb`'s scale d of the row at `indices`, as f32.
Value readScale(OpBuilder &b, Location loc, Value blocks, ValueRange indices,
                Value kb) {
  return vector::ExtractOp::create(
      b, loc, readScales(b, loc, blocks, indices, kb, /*count=*/1),
      ArrayRef<int64_t>{0});
}

/// The quants of values `inBlock` .. inBlock + lanes - 1 of block `kb`, as
/// f32 (not yet scaled): Q8_0's bytes sign-extended; Q4_0's nibbles (low
/// for values 0-15, high for 16-31) less 8. `inBlock` may be dynamic.
Value readQuants(OpBuilder &b, Location loc, Value blocks, BlockFormat format,
                 ValueRange indices, Value kb, Value inBlock, int64_t lanes) {
  auto bytesType = VectorType::get({lanes}, b.getI8Type());
  auto f32s = VectorType::get({lanes}, b.getF32Type());
  Value pad = arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0));
  auto readBytes = [&](Value at) -> Value {
    return vector::TransferReadOp::create(
        b, loc, bytesType, blocks,
        concatIndices(indices, {quantAt(b, loc, blocks, kb, at)}), pad,
        ArrayRef<bool>{true});
  };
  if (format == BlockFormat::Q8_0)
    return arith::SIToFPOp::create(b, loc, f32s, readBytes(inBlock));
  // Byte j holds value j (low nibble) and j + 16 (high).
  Value byte = arith::RemUIOp::create(b, loc, inBlock, cIndex(b, loc, 16));
  Value high = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge,
                                     inBlock, cIndex(b, loc, 16));
  Value shift = arith::SelectOp::create(b, loc, high, splatI8(b, loc, lanes, 4),
                                        splatI8(b, loc, lanes, 0));
  Value nibbles = arith::AndIOp::create(
      b, loc, arith::ShRUIOp::create(b, loc, readBytes(byte), shift),
      splatI8(b, loc, lanes, 15));
  return arith::SIToFPOp::create(
      b, loc, f32s,
      arith::SubIOp::create(b, loc, nibbles, splatI8(b, loc, lanes, 8)));
}

/// Block `kb` of row `row` of activations x (f32) as Q8_0: d = its
/// largest magnitude / 127, and its 32 quants, x / d rounded to nearest
/// even, as two vectors of 16.
struct QuantizedBlock {
  Value d;
  SmallVector<Value, 2> quants;
};

QuantizedBlock quantizeBlock(OpBuilder &b, Location l, Value x, ValueRange row,
                             Value kb) {
  auto f32s = VectorType::get({16}, b.getF32Type());
  auto i8s = VectorType::get({16}, b.getI8Type());
  Value base = arith::MulIOp::create(b, l, kb, cIndex(b, l, kBlockValues));
  SmallVector<Value> halves;
  Value amax = cF32(b, l, 0.0);
  for (int64_t h = 0; h < 2; ++h) {
    Value at = arith::AddIOp::create(b, l, base, cIndex(b, l, 16 * h));
    halves.push_back(vector::TransferReadOp::create(
        b, l, f32s, x, concatIndices(row, {at}), cF32(b, l, 0.0),
        ArrayRef<bool>{true}));
    amax = arith::MaxNumFOp::create(
        b, l, amax,
        vector::ReductionOp::create(b, l, vector::CombiningKind::MAXNUMF,
                                    math::AbsFOp::create(b, l, halves.back())));
  }
  QuantizedBlock block;
  block.d = arith::DivFOp::create(b, l, amax, cF32(b, l, 127.0));
  Value nonzero = arith::CmpFOp::create(b, l, arith::CmpFPredicate::ONE,
                                        block.d, cF32(b, l, 0.0));
  Value id = arith::SelectOp::create(
      b, l, nonzero, arith::DivFOp::create(b, l, cF32(b, l, 1.0), block.d),
      cF32(b, l, 0.0));
  for (Value half : halves)
    block.quants.push_back(arith::FPToSIOp::create(
        b, l, i8s,
        math::RoundEvenOp::create(
            b, l,
            arith::MulFOp::create(
                b, l, half, vector::BroadcastOp::create(b, l, f32s, id)))));
  return block;
}

/// A fresh i8 tensor of x's rows, `bytes` a row (with `encoding`), written
/// by `writeBlock(row, kb, tensor)` for each of the row's `count` blocks
/// (row: no index for a vector).
Value overActivationBlocks(
    OpBuilder &b, Location loc, Value x, int64_t bytes, int64_t count,
    Attribute encoding,
    function_ref<Value(OpBuilder &, Location, ValueRange, Value, Value)>
        writeBlock) {
  auto type = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> shape(type.getShape().drop_back());
  shape.push_back(bytes);
  SmallVector<Value> dynamic;
  if (type.getRank() == 2 && type.isDynamicDim(0))
    dynamic.push_back(tensor::DimOp::create(b, loc, x, 0));
  Value init = tensor::EmptyOp::create(
      b, loc, RankedTensorType::get(shape, b.getI8Type(), encoding), dynamic);
  auto row = [&](OpBuilder &rb, Location rl, ValueRange at, Value out) {
    return scf::ForOp::create(
               rb, rl, cIndex(rb, rl, 0), cIndex(rb, rl, count),
               cIndex(rb, rl, 1), ValueRange{out},
               [&](OpBuilder &nb, Location l, Value kb, ValueRange in) {
                 scf::YieldOp::create(nb, l, writeBlock(nb, l, at, kb, in[0]));
               })
        .getResult(0);
  };
  if (type.getRank() == 1)
    return row(b, loc, {}, init);
  Value tokens = tensor::DimOp::create(b, loc, x, 0);
  return scf::ForOp::create(
             b, loc, cIndex(b, loc, 0), tokens, cIndex(b, loc, 1),
             ValueRange{init},
             [&](OpBuilder &nb, Location l, Value t, ValueRange in) {
               scf::YieldOp::create(nb, l, row(nb, l, {t}, in[0]));
             })
      .getResult(0);
}

/// The quant of value `inBlock` of block `kb` of interleaved `blocks`
/// (#moe.blocks), as f32 (not yet scaled): value 4 s + i of block b of a
/// group is byte 64 s + 4 b + i of Q8_0's quants, offset by 128; Q4_0's
/// byte 64 (s / 2) + 4 b + i holds it in its low (s even) or high nibble,
/// less 8. Only the integer products read such blocks by vectors: this
/// reads one value (`lanes` 1), for what dequantizes them.
Value readInterleavedQuant(OpBuilder &b, Location loc, Value blocks,
                           BlockFormat format, ValueRange indices, Value kb,
                           Value inBlock, int64_t lanes) {
  if (lanes != 1)
    llvm::report_fatal_error("interleaved blocks are read a value at a time "
                             "or by the integer products");
  auto c = [&](int64_t v) { return cIndex(b, loc, v); };
  Value inGroup = arith::RemUIOp::create(b, loc, kb, c(kGroupBlocks));
  Value slot = arith::DivUIOp::create(b, loc, inBlock, c(4));
  bool nibbles = format == BlockFormat::Q4_0;
  Value row = nibbles ? arith::DivUIOp::create(b, loc, slot, c(2)).getResult()
                      : slot;
  // The group's first quant byte, then this value's.
  Value first = arith::SubIOp::create(b, loc, kb, inGroup);
  Value at = arith::AddIOp::create(
      b, loc,
      arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, row, c(64)),
                            arith::MulIOp::create(b, loc, inGroup, c(4))),
      arith::RemUIOp::create(b, loc, inBlock, c(4)));
  Value pad = arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0));
  Value byte = vector::TransferReadOp::create(
      b, loc, VectorType::get({1}, b.getI8Type()), blocks,
      concatIndices(indices, {quantAt(b, loc, blocks, first, at)}), pad,
      ArrayRef<bool>{true});
  auto i32s = VectorType::get({1}, b.getI32Type());
  Value u = arith::ExtUIOp::create(b, loc, i32s, byte);
  int64_t bias = nibbles ? 8 : 128;
  if (nibbles) {
    Value high = arith::RemUIOp::create(b, loc, slot, c(2));
    Value shift = vector::BroadcastOp::create(
        b, loc, i32s,
        arith::IndexCastOp::create(
            b, loc, b.getI32Type(),
            arith::MulIOp::create(b, loc, high, c(4))));
    u = arith::AndIOp::create(
        b, loc, arith::ShRUIOp::create(b, loc, u, shift),
        arith::ConstantOp::create(
            b, loc, DenseElementsAttr::get(i32s, b.getI32IntegerAttr(15))));
  }
  Value q = arith::SubIOp::create(
      b, loc, u,
      arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(i32s, b.getI32IntegerAttr(bias))));
  return arith::SIToFPOp::create(
      b, loc, VectorType::get({1}, b.getF32Type()), q);
}

/// acc + sum_j a_j b_j in i32 lanes of 4 products each, for 32 or 64
/// unsigned bytes a and as many signed bytes b.
Value dotU8S8(OpBuilder &b, Location loc, Value acc, Value a, Value s) {
  return kernel::DotU8S8Op::create(b, loc, acc.getType(), acc, a, s);
}

} // namespace

Value mlir::moe::quantOffset(OpBuilder &b, Location loc, BlockFormat format,
                             Value kb, Value j) {
  Value group = arith::ShRUIOp::create(
      b, loc, kb, cIndex(b, loc, llvm::Log2_64(kGroupBlocks)));
  // Each whole group before adds its scales.
  Value scalesBefore =
      arith::MulIOp::create(b, loc, group, cIndex(b, loc, 2 * kGroupBlocks));
  Value quants =
      arith::MulIOp::create(b, loc, kb, cIndex(b, loc, quantBytes(format)));
  return arith::AddIOp::create(
      b, loc, arith::AddIOp::create(b, loc, quants, scalesBefore), j);
}

Value mlir::moe::scaleOffset(OpBuilder &b, Location loc, BlockFormat format,
                             int64_t rowBlocks, Value kb) {
  Value group = arith::ShRUIOp::create(
      b, loc, kb, cIndex(b, loc, llvm::Log2_64(kGroupBlocks)));
  Value first = arith::MulIOp::create(b, loc, group,
                                      cIndex(b, loc, kGroupBlocks));
  Value start = arith::MulIOp::create(b, loc, first,
                                      cIndex(b, loc, blockBytes(format)));
  Value inGroup = arith::SubIOp::create(b, loc, kb, first);
  // A last group may have fewer blocks.
  Value count = cIndex(b, loc, kGroupBlocks);
  if (rowBlocks % kGroupBlocks != 0)
    count = arith::MinSIOp::create(
        b, loc, count,
        arith::SubIOp::create(b, loc, cIndex(b, loc, rowBlocks), first));
  Value quants =
      arith::MulIOp::create(b, loc, count, cIndex(b, loc, quantBytes(format)));
  return arith::AddIOp::create(
      b, loc, arith::AddIOp::create(b, loc, start, quants),
      arith::MulIOp::create(b, loc, inGroup, cIndex(b, loc, 2)));
}

bool mlir::moe::isQuantized(Value w) {
  return bool(quantizedBlocksType(w));
}

RankedTensorType mlir::moe::quantizedBlocksType(Value w) {
  while (auto slice = w.getDefiningOp<tensor::ExtractSliceOp>())
    w = slice.getSource();
  auto dequantize = w.getDefiningOp<DequantizeOp>();
  return dequantize ? dequantize.getBlocks().getType() : RankedTensorType();
}

Value mlir::moe::quantizeActivations(OpBuilder &b, Location loc, Value x) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t count = type.getShape().back() / kBlockValues;
  RankedTensorType blocks =
      blocksType(b.getContext(), type.getShape(), BlockFormat::Q8_0);
  // Per block of a row: its quants, then its d as f16, where #moe.blocks
  // puts them.
  return overActivationBlocks(
      b, loc, x, blocks.getShape().back(), count, blocks.getEncoding(),
      [&](OpBuilder &nb, Location l, ValueRange row, Value kb, Value out) {
        QuantizedBlock block = quantizeBlock(nb, l, x, row, kb);
        auto write = [&](Value v, Value at, Value into) -> Value {
          return vector::TransferWriteOp::create(
                     nb, l, v, into, concatIndices(row, {at}),
                     ArrayRef<bool>{true})
              .getResult();
        };
        for (int64_t h = 0; h < 2; ++h)
          out = write(block.quants[h],
                      quantAt(nb, l, out, kb, cIndex(nb, l, 16 * h)), out);
        Value half = vector::FromElementsOp::create(
            nb, l, VectorType::get({1}, nb.getF16Type()),
            ValueRange{arith::TruncFOp::create(nb, l, nb.getF16Type(),
                                               block.d)});
        Value bytes = vector::BitCastOp::create(
            nb, l, VectorType::get({2}, nb.getI8Type()), half);
        return write(bytes, scaleAt(nb, l, out, kb), out);
      });
}

Value mlir::moe::quantizedBlocks(OpBuilder &b, Location loc, Value w) {
  if (auto dequantize = w.getDefiningOp<DequantizeOp>())
    return dequantize.getBlocks();
  auto slice = w.getDefiningOp<tensor::ExtractSliceOp>();
  if (!slice)
    return Value();
  auto sourceType = slice.getSourceType();
  int64_t last = sourceType.getRank() - 1;
  // Whole rows only: the last dimension untouched.
  if (!slice.isDynamicOffset(last) && slice.getStaticOffset(last) != 0)
    return Value();
  if (slice.isDynamicOffset(last) || slice.isDynamicSize(last) ||
      slice.getStaticSize(last) != sourceType.getShape().back() ||
      slice.isDynamicStride(last) || slice.getStaticStride(last) != 1)
    return Value();
  Value source = quantizedBlocks(b, loc, slice.getSource());
  if (!source)
    return Value();
  auto sourceBlocks = cast<RankedTensorType>(source.getType());
  SmallVector<OpFoldResult> offsets = slice.getMixedOffsets(),
                            sizes = slice.getMixedSizes(),
                            strides = slice.getMixedStrides();
  offsets.back() = b.getIndexAttr(0);
  sizes.back() = b.getIndexAttr(sourceBlocks.getDimSize(last));
  RankedTensorType type = blocksType(
      b.getContext(), slice.getType().getShape(), *blockFormatOf(sourceBlocks),
      cast<BlockFormatAttr>(sourceBlocks.getEncoding()).getLayout());
  return tensor::ExtractSliceOp::create(b, loc, type, source, offsets, sizes,
                                        strides);
}

Value mlir::moe::readBlockValues(OpBuilder &b, Location loc, Value blocks,
                                 ValueRange indices, Value k, int64_t lanes) {
  BlockFormat format = *blockFormatOf(blocks.getType());
  Value kb = arith::DivUIOp::create(b, loc, k, cIndex(b, loc, kBlockValues));
  Value inBlock =
      arith::RemUIOp::create(b, loc, k, cIndex(b, loc, kBlockValues));
  Value quants =
      isInterleaved(blocks.getType())
          ? readInterleavedQuant(b, loc, blocks, format, indices, kb, inBlock,
                                 lanes)
          : readQuants(b, loc, blocks, format, indices, kb, inBlock, lanes);
  Value d = vector::BroadcastOp::create(
      b, loc, VectorType::get({lanes}, b.getF32Type()),
      readScale(b, loc, blocks, indices, kb));
  return arith::MulFOp::create(b, loc, quants, d);
}

namespace {

/// What both block products share: the `size / 32` blocks of the rows, in
/// units of `group` blocks and steps of `chains` units, each pair (weight
/// row, activation row) with `chains` accumulators of `lanes` f32, unit c of
/// a step into the c-th; `step(b, loc, kb, c, accs)` adds the unit whose
/// first block is kb into accs[pair]. Returns each pair's sum.
SmallVector<Value> overBlocks(
    OpBuilder &b, Location loc, int64_t size, int64_t pairs, int64_t chains,
    int64_t lanes, int64_t group,
    function_ref<void(OpBuilder &, Location, Value, int64_t,
                      MutableArrayRef<Value>)>
        step) {
  int64_t count = size / kBlockValues / group;
  // Blocks a step takes, one accumulator each: a divisor of the count.
  chains = std::max<int64_t>(1, std::min(chains, count));
  while (count % chains != 0)
    --chains;
  auto f32s = VectorType::get({lanes}, b.getF32Type());
  Value zero = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(f32s, b.getF32FloatAttr(0)));
  SmallVector<Value> inits(pairs * chains, zero);
  auto loop = scf::ForOp::create(
      b, loc, cIndex(b, loc, 0), cIndex(b, loc, count),
      cIndex(b, loc, chains), inits,
      [&](OpBuilder &nb, Location l, Value first, ValueRange accs) {
        SmallVector<Value> next(accs.begin(), accs.end());
        for (int64_t c = 0; c < chains; ++c) {
          Value unit = c == 0 ? first
                              : arith::AddIOp::create(nb, l, first,
                                                      cIndex(nb, l, c))
                                    .getResult();
          Value kb = group == 1 ? unit
                                : arith::MulIOp::create(nb, l, unit,
                                                        cIndex(nb, l, group))
                                      .getResult();
          // This step's accumulators, one per pair.
          SmallVector<Value> mine;
          for (int64_t p = 0; p < pairs; ++p)
            mine.push_back(next[p * chains + c]);
          step(nb, l, kb, c, mine);
          for (int64_t p = 0; p < pairs; ++p)
            next[p * chains + c] = mine[p];
        }
        scf::YieldOp::create(nb, l, next);
      });
  SmallVector<Value> sums;
  for (int64_t p = 0; p < pairs; ++p) {
    Value total = loop.getResult(p * chains);
    for (int64_t c = 1; c < chains; ++c)
      total = arith::AddFOp::create(b, loc, total,
                                    loop.getResult(p * chains + c),
                                    kReductionFlags);
    sums.push_back(vector::ReductionOp::create(
        b, loc, vector::CombiningKind::ADD, total, kReductionFlags));
  }
  return sums;
}

/// `parts` (vectors of equal type) end to end.
Value concatVectors(OpBuilder &b, Location loc, ArrayRef<Value> parts) {
  Value all = parts.front();
  for (Value part : parts.drop_front()) {
    int64_t n = cast<VectorType>(all.getType()).getNumElements() +
                cast<VectorType>(part.getType()).getNumElements();
    SmallVector<int64_t> order(n);
    for (int64_t i = 0; i < n; ++i)
      order[i] = i;
    all = vector::ShuffleOp::create(b, loc, all, part, order);
  }
  return all;
}

/// Where byte `p` of a unit's integer operand comes from, as the index of
/// a value among the unit's `32 * group`: Q4_0's nibbles are taken from
/// the group's bytes end to end (one load), the low ones of every block,
/// then the high ones, so 16-byte chunk c holds block c % group's values
/// 16 (c / group) onwards; Q8_0's are in order.
int64_t unitValue(bool nibbles, int64_t group, int64_t p) {
  if (!nibbles)
    return p;
  int64_t chunk = p / 16;
  return chunk % group * kBlockValues + chunk / group * 16 + p % 16;
}

/// buildQuantizedDots with x given as Q8_0 blocks (quantizeActivations):
/// per unit of `group` blocks (two on AVX-512: one 512-bit product for 64
/// values) and pair, the integer dot product of the quants
/// (kernel.dot_u8s8 takes unsigned bytes against signed: Q8_0's |w| against
/// x with w's sign; Q4_0's nibbles as they are, less 8 times the sum of x,
/// which one dot product with ones gives per activation unit and which is
/// the product's accumulator), converted once to f32 and scaled by each
/// block's two d into the accumulators. The activation unit is read in the
/// weights' order (unitValue) once for all rows; a step takes `span` units,
/// whose scales a row reads and converts at once.
SmallVector<Value> buildInt8Dots(OpBuilder &b, Location loc, Value blocks,
                                 BlockFormat format,
                                 ArrayRef<SmallVector<Value>> wAt, Value x,
                                 ArrayRef<SmallVector<Value>> xAt,
                                 int64_t size, int64_t chains, int64_t group) {
  int64_t ws = wAt.size(), xs = xAt.size();
  int64_t width = kBlockValues * group, lanes = 8 * group;
  auto f32s = VectorType::get({lanes}, b.getF32Type());
  auto i32s = VectorType::get({lanes}, b.getI32Type());
  bool nibbles = format == BlockFormat::Q4_0;
  SmallVector<int64_t> order(width);
  for (int64_t p = 0; p < width; ++p)
    order[p] = unitValue(nibbles, group, p);
  bool permuted = !llvm::equal(order, llvm::seq<int64_t>(0, width));
  // Units a step takes: a row's scales for all of them are one read, one
  // conversion and one multiplication by the activations' (then a shuffle
  // a unit), up to 16 scales; the activation units of a step stay in
  // registers, so fewer when there are several activation rows.
  int64_t units = size / kBlockValues / group, span = 1;
  for (int64_t s : {16 / group, int64_t(4), int64_t(2)})
    if (units % s == 0 && s * xs <= 8 && s * group <= 16) {
      span = s;
      break;
    }
  Value pad = arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0));
  return overBlocks(
      b, loc, size, ws * xs, chains, lanes, group * span,
      [&](OpBuilder &nb, Location l, Value kb, int64_t,
          MutableArrayRef<Value> accs) {
        // The quants of unit u's blocks: contiguous, one read (at a
        // constant offset from the span's, which the address folds).
        auto unitBytes = [&](Value from, ValueRange at, int64_t u,
                             int64_t n) -> Value {
          return vector::TransferReadOp::create(
              nb, l, VectorType::get({n * group}, nb.getI8Type()), from,
              concatIndices(at, {quantAt(nb, l, from, kb,
                                         cIndex(nb, l, u * group * n))}),
              pad, ArrayRef<bool>{true});
        };
        // Unit u's scales (of `scales`, the span's) over the i32 lanes of
        // its product: lane i sums bytes 4 i .. 4 i + 3, all of one block.
        auto spread = [&](Value scales, int64_t u) -> Value {
          SmallVector<int64_t> blockOfLane(lanes);
          for (int64_t i = 0; i < lanes; ++i)
            blockOfLane[i] =
                u * group + unitValue(nibbles, group, 4 * i) / kBlockValues;
          return vector::ShuffleOp::create(nb, l, scales, scales, blockOfLane);
        };
        Value zero = arith::ConstantOp::create(
            nb, l, DenseElementsAttr::get(i32s, nb.getI32IntegerAttr(0)));
        SmallVector<SmallVector<Value>> xq(xs), offsets(xs);
        SmallVector<Value> xd;
        for (int64_t t = 0; t < xs; ++t) {
          xd.push_back(readScales(nb, l, x, xAt[t], kb, group * span));
          for (int64_t u = 0; u < span; ++u) {
            Value q = unitBytes(x, xAt[t], u, kBlockValues);
            if (permuted)
              q = vector::ShuffleOp::create(nb, l, q, q, order);
            xq[t].push_back(q);
            // -8 sum(x) over each lane's bytes: Q4_0's quants less 8.
            if (nibbles)
              offsets[t].push_back(arith::MulIOp::create(
                  nb, l, dotU8S8(nb, l, zero, splatI8(nb, l, width, 1), q),
                  arith::ConstantOp::create(
                      nb, l,
                      DenseElementsAttr::get(i32s, nb.getI32IntegerAttr(-8)))));
          }
        }
        for (int64_t r = 0; r < ws; ++r) {
          Value dw = readScales(nb, l, blocks, wAt[r], kb, group * span);
          SmallVector<Value> scales;
          for (int64_t t = 0; t < xs; ++t)
            scales.push_back(arith::MulFOp::create(nb, l, dw, xd[t]));
          for (int64_t u = 0; u < span; ++u) {
            Value wq, magnitude, negative;
            if (nibbles) {
              // One load of the unit's nibble bytes, twice end to end (a
              // broadcast load); the second copy's 16-bit words shifted
              // right by 4, then every byte masked: low nibbles, then high.
              Value raw = unitBytes(blocks, wAt[r], u, kBlockValues / 2);
              Value twice = concatVectors(nb, l, {raw, raw});
              auto words = VectorType::get({width / 2}, nb.getI16Type());
              SmallVector<int16_t> shifts(width / 2, 0);
              std::fill(shifts.begin() + width / 4, shifts.end(), 4);
              Value shifted = vector::BitCastOp::create(
                  nb, l, VectorType::get({width}, nb.getI8Type()),
                  arith::ShRUIOp::create(
                      nb, l, vector::BitCastOp::create(nb, l, words, twice),
                      arith::ConstantOp::create(
                          nb, l,
                          DenseElementsAttr::get(words,
                                                 ArrayRef<int16_t>(shifts)))));
              wq = arith::AndIOp::create(nb, l, shifted,
                                         splatI8(nb, l, width, 15));
            } else {
              wq = unitBytes(blocks, wAt[r], u, kBlockValues);
              magnitude = math::AbsIOp::create(nb, l, wq);
              negative = arith::CmpIOp::create(
                  nb, l, arith::CmpIPredicate::slt, wq,
                  splatI8(nb, l, width, 0));
            }
            for (int64_t t = 0; t < xs; ++t) {
              Value dotI32;
              if (nibbles) {
                dotI32 = dotU8S8(nb, l, offsets[t][u], wq, xq[t][u]);
              } else {
                Value signedX = arith::SelectOp::create(
                    nb, l, negative,
                    arith::SubIOp::create(nb, l, splatI8(nb, l, width, 0),
                                          xq[t][u]),
                    xq[t][u]);
                dotI32 = dotU8S8(nb, l, zero, magnitude, signedX);
              }
              Value dot = arith::SIToFPOp::create(nb, l, f32s, dotI32);
              Value &acc = accs[r * xs + t];
              acc = vector::FMAOp::create(nb, l, dot, spread(scales[t], u),
                                          acc);
            }
          }
        }
      });
}

/// How far ahead of its reads the interleaved products prefetch each row.
constexpr int64_t kPrefetchBytes = 1024;

/// Bytes a group of 16 blocks of activations takes in the interleaved
/// form (quantizeInterleavedActivations): 512 quants, 16 f32 scales, 16
/// i32 offsets.
constexpr int64_t kActivationGroupBytes =
    kGroupBlocks * kBlockValues + 2 * 4 * kGroupBlocks;

/// buildQuantizedDots for interleaved weight blocks and activations in the
/// interleaved form: a vector lane per block (`lanes` of 16 or 8 i32, so a
/// group in one or two halves), each lane's integer dot product of 4 bytes
/// summing 4 of its block's values; 8 of them (one per 4 values of the
/// block) make the block's dot product of its unsigned weight bytes with the
/// signed activations, starting from the activations' offset (-bias times
/// their sum: the bytes are q + bias). Then one conversion to f32 and one
/// multiply-add by the product of the two scales, for the group's 16 blocks.
/// Per 4 values of the blocks (a slot), every row's weight bytes (Q4_0: a
/// load gives two slots, the low and the high nibbles) meet every
/// activation row's before the next slot, so that only the slot's vectors
/// and the integer sums stay in registers.
SmallVector<Value> buildInterleavedDots(OpBuilder &b, Location loc,
                                        Value blocks, BlockFormat format,
                                        ArrayRef<SmallVector<Value>> wAt,
                                        Value x,
                                        ArrayRef<SmallVector<Value>> xAt,
                                        int64_t size, int64_t chains,
                                        int64_t lanes) {
  int64_t ws = wAt.size(), xs = xAt.size();
  int64_t halves = kGroupBlocks / lanes, bytes = 4 * lanes;
  constexpr int64_t kSlots = kBlockValues / 4;
  bool nibbles = format == BlockFormat::Q4_0;
  auto byteType = VectorType::get({bytes}, b.getI8Type());
  auto f32s = VectorType::get({lanes}, b.getF32Type());
  auto i32s = VectorType::get({lanes}, b.getI32Type());
  Value pad = arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0));
  auto blocksType = cast<RankedTensorType>(blocks.getType());
  int64_t rowBytes = blocksType.getShape().back();
  Value view = bufferization::ToBufferOp::create(
      b, loc,
      bufferization::getMemRefTypeWithFullyDynamicLayout(blocksType), blocks,
      b.getUnitAttr());
  int64_t groupBytes = kGroupBlocks * blockBytes(format);
  return overBlocks(
      b, loc, size, ws * xs, chains, lanes, kGroupBlocks,
      [&](OpBuilder &nb, Location l, Value kb, int64_t,
          MutableArrayRef<Value> accs) {
        auto read = [&](Value from, ValueRange at, Value offset) -> Value {
          return vector::TransferReadOp::create(
              nb, l, byteType, from, concatIndices(at, {offset}), pad,
              ArrayRef<bool>{true});
        };
        // The activations' group starts at 640 bytes a group.
        Value xGroup = arith::MulIOp::create(
            nb, l,
            arith::DivUIOp::create(nb, l, kb, cIndex(nb, l, kGroupBlocks)),
            cIndex(nb, l, kActivationGroupBytes));
        auto xAtByte = [&](int64_t byte) -> Value {
          return arith::AddIOp::create(nb, l, xGroup, cIndex(nb, l, byte));
        };
        // Each row's lines kPrefetchBytes ahead (at most its last byte).
        Value start = quantAt(nb, l, blocks, kb, cIndex(nb, l, 0));
        for (int64_t line = 0; line < groupBytes; line += 64) {
          Value at = arith::MinUIOp::create(
              nb, l,
              arith::AddIOp::create(nb, l, start,
                                    cIndex(nb, l, kPrefetchBytes + line)),
              cIndex(nb, l, rowBytes - 1));
          for (int64_t r = 0; r < ws; ++r)
            memref::PrefetchOp::create(nb, l, view, concatIndices(wAt[r], {at}),
                                       /*isWrite=*/false, /*localityHint=*/3,
                                       /*isDataCache=*/true);
        }
        for (int64_t h = 0; h < halves; ++h) {
          int64_t lane0 = h * bytes;
          // Per activation row: the blocks' scales and offsets.
          SmallVector<Value> dx, sums;
          for (int64_t t = 0; t < xs; ++t) {
            dx.push_back(vector::BitCastOp::create(
                nb, l, f32s,
                read(x, xAt[t], xAtByte(kGroupBlocks * kBlockValues + lane0))));
            sums.push_back(vector::BitCastOp::create(
                nb, l, i32s,
                read(x, xAt[t],
                     xAtByte(kGroupBlocks * (kBlockValues + 4) + lane0))));
          }
          SmallVector<Value> dots;
          for (int64_t r = 0; r < ws; ++r)
            for (int64_t t = 0; t < xs; ++t)
              dots.push_back(sums[t]);
          SmallVector<Value> loaded(ws);
          for (int64_t s = 0; s < kSlots; ++s) {
            SmallVector<Value> wq;
            for (int64_t r = 0; r < ws; ++r) {
              if (!nibbles) {
                wq.push_back(read(blocks, wAt[r],
                                  quantAt(nb, l, blocks, kb,
                                          cIndex(nb, l, 64 * s + lane0))));
                continue;
              }
              // Slots 2 k and 2 k + 1 are the low and high nibbles of the
              // same bytes.
              if (s % 2 == 0)
                loaded[r] = read(blocks, wAt[r],
                                 quantAt(nb, l, blocks, kb,
                                         cIndex(nb, l, 64 * (s / 2) + lane0)));
              Value q = loaded[r];
              if (s % 2 == 1)
                q = arith::ShRUIOp::create(nb, l, q, splatI8(nb, l, bytes, 4));
              wq.push_back(
                  arith::AndIOp::create(nb, l, q, splatI8(nb, l, bytes, 15)));
            }
            for (int64_t t = 0; t < xs; ++t) {
              Value xq = read(x, xAt[t], xAtByte(64 * s + lane0));
              for (int64_t r = 0; r < ws; ++r)
                dots[r * xs + t] =
                    dotU8S8(nb, l, dots[r * xs + t], wq[r], xq);
            }
          }
          Value first = h == 0 ? kb
                               : arith::AddIOp::create(nb, l, kb,
                                                       cIndex(nb, l, lanes))
                                     .getResult();
          for (int64_t r = 0; r < ws; ++r) {
            Value dw = readScales(nb, l, blocks, wAt[r], first, lanes);
            for (int64_t t = 0; t < xs; ++t) {
              Value &acc = accs[r * xs + t];
              acc = vector::FMAOp::create(
                  nb, l, arith::SIToFPOp::create(nb, l, f32s, dots[r * xs + t]),
                  arith::MulFOp::create(nb, l, dw, dx[t]), acc);
            }
          }
        }
      });
}

} // namespace

Value mlir::moe::quantizeInterleavedActivations(OpBuilder &b, Location loc,
                                                Value x, BlockFormat weights) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t count = type.getShape().back() / kBlockValues;
  // The weights' bytes are q + bias: each block's sum times -bias corrects.
  int64_t bias = weights == BlockFormat::Q4_0 ? 8 : 128;
  // Per block: its 8 words of 4 quants to their slots (64 bytes apart),
  // then its d and its offset after the group's quants.
  return overActivationBlocks(
      b, loc, x, count / kGroupBlocks * kActivationGroupBytes, count,
      Attribute(),
      [&](OpBuilder &nb, Location l, ValueRange row, Value kb, Value out) {
        QuantizedBlock block = quantizeBlock(nb, l, x, row, kb);
        Value quants = concatVectors(nb, l, block.quants);
        Value group =
            arith::DivUIOp::create(nb, l, kb, cIndex(nb, l, kGroupBlocks));
        Value inGroup =
            arith::RemUIOp::create(nb, l, kb, cIndex(nb, l, kGroupBlocks));
        Value start = arith::AddIOp::create(
            nb, l,
            arith::MulIOp::create(nb, l, group,
                                  cIndex(nb, l, kActivationGroupBytes)),
            arith::MulIOp::create(nb, l, inGroup, cIndex(nb, l, 4)));
        auto write = [&](Value bytes, int64_t offset, Value into) -> Value {
          Value at =
              arith::AddIOp::create(nb, l, start, cIndex(nb, l, offset));
          return vector::TransferWriteOp::create(
                     nb, l, bytes, into, concatIndices(row, {at}),
                     ArrayRef<bool>{true})
              .getResult();
        };
        for (int64_t s = 0; s < kBlockValues / 4; ++s) {
          SmallVector<int64_t> word = {4 * s, 4 * s + 1, 4 * s + 2, 4 * s + 3};
          out = write(vector::ShuffleOp::create(nb, l, quants, quants, word),
                      64 * s, out);
        }
        auto asBytes = [&](Value scalar) -> Value {
          Value one = vector::FromElementsOp::create(
              nb, l, VectorType::get({1}, scalar.getType()),
              ValueRange{scalar});
          return vector::BitCastOp::create(
              nb, l, VectorType::get({4}, nb.getI8Type()), one);
        };
        out = write(asBytes(block.d), kGroupBlocks * kBlockValues, out);
        Value sum = vector::ReductionOp::create(
            nb, l, vector::CombiningKind::ADD,
            arith::ExtSIOp::create(
                nb, l, VectorType::get({kBlockValues}, nb.getI32Type()),
                quants));
        Value offset = arith::MulIOp::create(
            nb, l, sum,
            arith::ConstantIntOp::create(nb, l, nb.getI32Type(), -bias));
        return write(asBytes(offset), kGroupBlocks * (kBlockValues + 4), out);
      });
}

SmallVector<Value> mlir::moe::buildQuantizedDots(
    OpBuilder &b, Location loc, Value blocks, ArrayRef<SmallVector<Value>> wAt,
    Value x, ArrayRef<SmallVector<Value>> xAt, int64_t size,
    kernel::CpuMappingAttr mapping, int64_t chains) {
  BlockFormat format = *blockFormatOf(blocks.getType());
  if (isInterleaved(blocks.getType())) {
    if (!cast<ShapedType>(x.getType()).getElementType().isInteger(8))
      llvm::report_fatal_error("interleaved blocks meet activations "
                               "quantized for them only");
    return buildInterleavedDots(b, loc, blocks, format, wAt, x, xAt, size,
                                chains,
                                std::min<int64_t>(mapping.getLanes(), 16));
  }
  if (blockFormatOf(x.getType())) {
    // Two blocks a product with 512-bit vectors.
    int64_t group =
        mapping.getLanes() >= 16 && size % (2 * kBlockValues) == 0 ? 2 : 1;
    return buildInt8Dots(b, loc, blocks, format, wAt, x, xAt, size, chains,
                         group);
  }
  int64_t lanes = std::min<int64_t>(mapping.getLanes(), 16);
  int64_t pieces = kBlockValues / lanes;
  int64_t ws = wAt.size(), xs = xAt.size();
  auto f32s = VectorType::get({lanes}, b.getF32Type());
  return overBlocks(
      b, loc, size, ws * xs, chains, lanes, /*group=*/1,
      [&](OpBuilder &nb, Location l, Value kb, int64_t,
          MutableArrayRef<Value> accs) {
        Value base =
            arith::MulIOp::create(nb, l, kb, cIndex(nb, l, kBlockValues));
        // The block's activations, once for every weight row.
        SmallVector<SmallVector<Value>> xv(xs);
        for (int64_t t = 0; t < xs; ++t)
          for (int64_t p = 0; p < pieces; ++p) {
            Value at =
                arith::AddIOp::create(nb, l, base, cIndex(nb, l, p * lanes));
            SmallVector<Value> idx(xAt[t].begin(), xAt[t].end());
            idx.push_back(at);
            xv[t].push_back(vector::TransferReadOp::create(
                nb, l, f32s, x, idx, cF32(nb, l, 0.0), ArrayRef<bool>{true}));
          }
        for (int64_t r = 0; r < ws; ++r) {
          Value d = vector::BroadcastOp::create(
              nb, l, f32s, readScale(nb, l, blocks, wAt[r], kb));
          SmallVector<Value> q;
          for (int64_t p = 0; p < pieces; ++p)
            q.push_back(readQuants(nb, l, blocks, format, wAt[r], kb,
                                   cIndex(nb, l, p * lanes), lanes));
          for (int64_t t = 0; t < xs; ++t) {
            Value block = arith::MulFOp::create(nb, l, q[0], xv[t][0]);
            for (int64_t p = 1; p < pieces; ++p)
              block = vector::FMAOp::create(nb, l, q[p], xv[t][p], block);
            Value &acc = accs[r * xs + t];
            acc = vector::FMAOp::create(nb, l, block, d, acc);
          }
        }
      });
}

Value mlir::moe::buildDequantize(OpBuilder &b, Location loc, Value blocks,
                                 RankedTensorType type) {
  return tensor::GenerateOp::create(
      b, loc, type, ValueRange{},
      [&](OpBuilder &gb, Location gl, ValueRange at) {
        Value v = readBlockValues(gb, gl, blocks, at.drop_back(), at.back(),
                                  /*lanes=*/1);
        tensor::YieldOp::create(
            gb, gl,
            vector::ExtractOp::create(gb, gl, v, ArrayRef<int64_t>{0})
                .getResult());
      });
}
