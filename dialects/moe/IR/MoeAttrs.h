//===- MoeAttrs.h - moe enums and attributes --------------------*- C++ -*-===//

#ifndef MOEC_DIALECTS_MOE_IR_MOEATTRS_H
#define MOEC_DIALECTS_MOE_IR_MOEATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"

#include <optional>

#include "dialects/moe/IR/MoeEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/moe/IR/MoeAttrs.h.inc"

namespace mlir::moe {

/// Values of a row per quantized block (every block format).
constexpr int64_t kBlockValues = 32;

/// Bytes of one block: its f16 scale and its quants.
constexpr int64_t blockBytes(BlockFormat f) {
  return f == BlockFormat::Q8_0 ? 2 + 32 : 2 + 16;
}

/// Blocks of a row stored together in #moe.blocks: their quants, then their
/// scales (a row's last group may have fewer).
constexpr int64_t kGroupBlocks = 16;

/// Bytes of one block's quants.
constexpr int64_t quantBytes(BlockFormat f) { return blockBytes(f) - 2; }

/// The block format `type`'s encoding names (a tensor of blocks), if any.
std::optional<BlockFormat> blockFormatOf(Type type);

/// Whether `type` is a tensor of blocks in the interleaved layout.
bool isInterleaved(Type type);

/// Whether rows of `values` values may take the interleaved layout: whole
/// groups of kGroupBlocks blocks.
constexpr bool interleavable(int64_t values) {
  return values % (kBlockValues * kGroupBlocks) == 0;
}

/// Bytes the artifact stores for values of `type`: blocks of `format`, or
/// the element type's bytes each.
uint64_t storedBytes(ShapedType type, std::optional<BlockFormat> format);

/// `[..., rows, values]` stored as blocks of `format`: the i8 tensor type
/// `[..., rows, values / 32 * blockBytes]` with the format as its encoding
/// (each row's quants, then its scales: #moe.blocks).
RankedTensorType blocksType(MLIRContext *context, ArrayRef<int64_t> shape,
                            BlockFormat format,
                            BlockLayout layout = BlockLayout::Grouped);

} // namespace mlir::moe

#endif // MOEC_DIALECTS_MOE_IR_MOEATTRS_H
