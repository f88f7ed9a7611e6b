//===- QuantizedReads.h - kernels reading quantized blocks ------*- C++ -*-===//
//
// Kernels read a quantized weight's blocks themselves: its value is a
// moe.dequantize of blocks (or a slice of one), and these helpers find the
// blocks behind it and read them, one block of 32 values of a row at a time
// (llama.cpp's Q8_0 and Q4_0; dialects/moe/IR/MoeAttrs.td).
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_PASSES_QUANTIZEDREADS_H
#define MOEC_PASSES_QUANTIZEDREADS_H

#include "dialects/kernel/IR/KernelOps.h"
#include "dialects/moe/IR/MoeAttrs.h"

#include "mlir/IR/Builders.h"

namespace mlir::moe {

/// The blocks behind `w` when it is moe.dequantize of blocks, or a slice of
/// one that keeps whole rows (the same slice of the blocks is built at the
/// builder's insertion point); null otherwise.
Value quantizedBlocks(OpBuilder &b, Location loc, Value w);

/// Whether `w` is (a slice of) moe.dequantize of blocks.
bool isQuantized(Value w);

/// Where byte `j` of block `kb`'s quants is in a row of `format` blocks
/// (#moe.blocks: groups of kGroupBlocks blocks, each its blocks' quants,
/// then their f16 scales); j may run on into the group's next blocks.
Value quantOffset(OpBuilder &b, Location loc, BlockFormat format, Value kb,
                  Value j);

/// Where block `kb`'s f16 scale is in a row of `rowBlocks` blocks of
/// `format`.
Value scaleOffset(OpBuilder &b, Location loc, BlockFormat format,
                  int64_t rowBlocks, Value kb);

/// x [K] or [T, K] (f32, K a multiple of 32) as Q8_0 blocks [..., K / 32,
/// 34] (the products' other operand under int8_dot): per block d = the
/// largest magnitude / 127 and the quants rounded to nearest even.
Value quantizeActivations(OpBuilder &b, Location loc, Value x);

/// x [K] or [T, K] (f32, K a multiple of 512) quantized for products with
/// interleaved blocks of `weights`: per group of 16 blocks of 32 values,
/// 640 bytes: the quants (d = the block's largest magnitude / 127, rounded
/// to nearest even) interleaved as the weights' (#moe.blocks), then the 16
/// blocks' d (f32), then their sums times -8 (Q4_0) or -128 (Q8_0), as
/// i32: the weights' bytes are q plus that bias.
Value quantizeInterleavedActivations(OpBuilder &b, Location loc, Value x,
                                     BlockFormat weights);

/// The blocks type of quantized `w` ((a slice of) moe.dequantize), or null.
RankedTensorType quantizedBlocksType(Value w);

/// `lanes` values of a row of quantized `blocks` from value `k` on (k a
/// multiple of lanes, lanes dividing 16): `indices` are the row's leading
/// indices. As f32: d * q.
Value readBlockValues(OpBuilder &b, Location loc, Value blocks,
                      ValueRange indices, Value k, int64_t lanes);

/// sum_k w[wAt[r]..., k] * x[xAt[t]..., k] over rows of `size` values, as
/// buildDots computes it, for a quantized w given by its `blocks`: per
/// block of 32 the products of its quants with x in f32 vectors, scaled
/// once by the block's d into `chains` accumulators. When x is itself Q8_0
/// blocks (quantizeActivations), 8-bit integer dot products instead.
SmallVector<Value> buildQuantizedDots(OpBuilder &b, Location loc, Value blocks,
                                      ArrayRef<SmallVector<Value>> wAt, Value x,
                                      ArrayRef<SmallVector<Value>> xAt,
                                      int64_t size,
                                      kernel::CpuMappingAttr mapping,
                                      int64_t chains);

/// Every value of quantized `blocks` as a tensor of `type` (f32): the
/// lowering of a moe.dequantize that no kernel reads through.
Value buildDequantize(OpBuilder &b, Location loc, Value blocks,
                      RankedTensorType type);

} // namespace mlir::moe

#endif // MOEC_PASSES_QUANTIZEDREADS_H
