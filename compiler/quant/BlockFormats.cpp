//===- BlockFormats.cpp - llama.cpp's Q8_0 and Q4_0 weight blocks --------===//

#include "compiler/quant/BlockFormats.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace moec::quant;

namespace {

void storeHalf(uint8_t *at, float v) {
  // _Float16's conversion rounds to nearest even, as F16C and ggml's
  // reference conversion do.
  _Float16 h = static_cast<_Float16>(v);
  uint16_t bits;
  std::memcpy(&bits, &h, 2);
  at[0] = uint8_t(bits);
  at[1] = uint8_t(bits >> 8);
}

float loadHalf(const uint8_t *at) {
  uint16_t bits = uint16_t(at[0] | at[1] << 8);
  _Float16 h;
  std::memcpy(&h, &bits, 2);
  return static_cast<float>(h);
}

void quantizeQ8_0(const float *x, uint8_t *block) {
  float amax = 0.0f;
  for (int64_t j = 0; j < kBlockValues; ++j)
    amax = std::max(amax, std::fabs(x[j]));
  float d = amax / 127.0f;
  float id = d != 0.0f ? 1.0f / d : 0.0f;
  storeHalf(block, d);
  for (int64_t j = 0; j < kBlockValues; ++j)
    // roundf: halves away from zero.
    block[2 + j] = uint8_t(int8_t(std::roundf(x[j] * id)));
}

void quantizeQ4_0(const float *x, uint8_t *block) {
  // The value of largest magnitude, with its sign (the first such).
  float amax = 0.0f, max = 0.0f;
  for (int64_t j = 0; j < kBlockValues; ++j)
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  float d = max / -8.0f;
  float id = d != 0.0f ? 1.0f / d : 0.0f;
  storeHalf(block, d);
  auto quant = [&](float v) {
    // Truncated toward zero after the +8.5, then at most 15.
    return uint8_t(std::min<int>(15, int8_t(v * id + 8.5f)));
  };
  for (int64_t j = 0; j < kBlockValues / 2; ++j)
    block[2 + j] =
        uint8_t(quant(x[j]) | quant(x[j + kBlockValues / 2]) << 4);
}

} // namespace

std::string_view moec::quant::name(BlockFormat f) {
  return f == BlockFormat::Q8_0 ? "q8_0" : "q4_0";
}

std::optional<BlockFormat> moec::quant::parseBlockFormat(std::string_view n) {
  if (n == "q8_0")
    return BlockFormat::Q8_0;
  if (n == "q4_0")
    return BlockFormat::Q4_0;
  return std::nullopt;
}

void moec::quant::quantizeRow(BlockFormat f, const float *row, int64_t values,
                              uint8_t *out) {
  for (int64_t b = 0; b < values / kBlockValues; ++b) {
    const float *x = row + b * kBlockValues;
    uint8_t *block = out + b * blockBytes(f);
    if (f == BlockFormat::Q8_0)
      quantizeQ8_0(x, block);
    else
      quantizeQ4_0(x, block);
  }
}

void moec::quant::dequantizeRow(BlockFormat f, const uint8_t *in,
                                int64_t values, float *out) {
  for (int64_t b = 0; b < values / kBlockValues; ++b) {
    const uint8_t *block = in + b * blockBytes(f);
    float d = loadHalf(block);
    float *y = out + b * kBlockValues;
    for (int64_t j = 0; j < kBlockValues; ++j) {
      int q = f == BlockFormat::Q8_0
                  ? int(int8_t(block[2 + j]))
                  : int(j < 16 ? block[2 + j] & 0xf : block[2 + j - 16] >> 4) -
                        8;
      y[j] = float(q) * d;
    }
  }
}
