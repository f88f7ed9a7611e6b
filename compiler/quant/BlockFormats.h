//===- BlockFormats.h - llama.cpp's Q8_0 and Q4_0 weight blocks -*- C++ -*-===//
//
// The two block formats moec stores quantized weights in, bit for bit as
// llama.cpp's ggml defines them, so that the same quantized weights run in
// both and compare exactly. A row of k values (k a multiple of 32) is k / 32
// blocks along the row; each block is an f16 scale d (little-endian) and
// then its quants:
//
//   Q8_0 (34 bytes): int8 q[32];  x = d * q[j]
//   Q4_0 (18 bytes): uint8 qs[16], element j in the low nibble of qs[j] and
//                    element j + 16 in its high nibble;  x = d * (nibble - 8)
//
// Quantizing follows ggml's reference rows (quantize_row_q8_0_ref,
// quantize_row_q4_0_ref): the scale and its inverse in f32, the scale stored
// rounded to f16 (to nearest even), the quants from the f32 inverse.
// test/reference/block_formats.py is the numpy statement of the same.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_COMPILER_QUANT_BLOCKFORMATS_H
#define MOEC_COMPILER_QUANT_BLOCKFORMATS_H

#include <cstdint>
#include <optional>
#include <string_view>

namespace moec::quant {

enum class BlockFormat { Q8_0, Q4_0 };

/// Values per block, along a row.
constexpr int64_t kBlockValues = 32;

/// Bytes of one block: the f16 scale and the quants.
constexpr int64_t blockBytes(BlockFormat f) {
  return f == BlockFormat::Q8_0 ? 2 + 32 : 2 + 16;
}

/// Bytes of a row of `values` values (a multiple of kBlockValues).
constexpr int64_t rowBytes(BlockFormat f, int64_t values) {
  return values / kBlockValues * blockBytes(f);
}

/// "q8_0" / "q4_0" (as llama.cpp and `moec-compile --weights` name them).
std::string_view name(BlockFormat f);
std::optional<BlockFormat> parseBlockFormat(std::string_view name);

/// Quantizes the `values` floats of `row` (a multiple of kBlockValues) into
/// rowBytes(f, values) bytes at `out`.
void quantizeRow(BlockFormat f, const float *row, int64_t values,
                 uint8_t *out);

/// The `values` floats that the blocks at `in` stand for.
void dequantizeRow(BlockFormat f, const uint8_t *in, int64_t values,
                   float *out);

} // namespace moec::quant

#endif // MOEC_COMPILER_QUANT_BLOCKFORMATS_H
