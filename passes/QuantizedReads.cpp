//===- QuantizedReads.cpp - kernels reading quantized blocks ------------===//

#include "passes/QuantizedReads.h"
#include "passes/Kernels.h"

#include "dialects/moe/IR/MoeOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
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

/// Block `kb`'s scale d of the row at `indices`, as f32.
Value readScale(OpBuilder &b, Location loc, Value blocks, ValueRange indices,
                Value kb) {
  Value pad = arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0));
  Value bytes = vector::TransferReadOp::create(
      b, loc, VectorType::get({2}, b.getI8Type()), blocks,
      concatIndices(indices, {kb, cIndex(b, loc, 0)}), pad,
      ArrayRef<bool>{true});
  Value half = vector::ExtractOp::create(
      b, loc,
      vector::BitCastOp::create(b, loc, VectorType::get({1}, b.getF16Type()),
                                bytes),
      ArrayRef<int64_t>{0});
  return arith::ExtFOp::create(b, loc, b.getF32Type(), half);
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
        concatIndices(indices,
                      {kb, arith::AddIOp::create(b, loc, at,
                                                 cIndex(b, loc, 2))}),
        pad, ArrayRef<bool>{true});
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

} // namespace

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
  offsets.push_back(b.getIndexAttr(0));
  sizes.push_back(b.getIndexAttr(sourceBlocks.getShape().back()));
  strides.push_back(b.getIndexAttr(1));
  RankedTensorType type =
      blocksType(b.getContext(), slice.getType().getShape(),
                 *blockFormatOf(sourceBlocks));
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
      readQuants(b, loc, blocks, format, indices, kb, inBlock, lanes);
  Value d = vector::BroadcastOp::create(
      b, loc, VectorType::get({lanes}, b.getF32Type()),
      readScale(b, loc, blocks, indices, kb));
  return arith::MulFOp::create(b, loc, quants, d);
}

SmallVector<Value> mlir::moe::buildQuantizedDots(
    OpBuilder &b, Location loc, Value blocks, ArrayRef<SmallVector<Value>> wAt,
    Value x, ArrayRef<SmallVector<Value>> xAt, int64_t size,
    kernel::CpuMappingAttr mapping, int64_t chains) {
  BlockFormat format = *blockFormatOf(blocks.getType());
  int64_t lanes = std::min<int64_t>(mapping.getLanes(), 16);
  int64_t pieces = kBlockValues / lanes, count = size / kBlockValues;
  int64_t ws = wAt.size(), xs = xAt.size(), pairs = ws * xs;
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
          Value kb = arith::AddIOp::create(nb, l, first, cIndex(nb, l, c));
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
              Value pad = cF32(nb, l, 0.0);
              xv[t].push_back(vector::TransferReadOp::create(
                  nb, l, f32s, x, idx, pad, ArrayRef<bool>{true}));
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
              Value &acc = next[(r * xs + t) * chains + c];
              acc = vector::FMAOp::create(nb, l, block, d, acc);
            }
          }
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
