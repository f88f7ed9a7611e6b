//===- BlockFormatsTest.cpp - Q8_0/Q4_0 against the numpy reference -------===//
//
// test/reference/block_formats/ holds rows and their Q8_0 and Q4_0 bytes as
// test/reference/block_formats.py (numpy, from ggml's reference rows) makes
// them; lit's block-formats.test checks that the files still are that.
// moec's quantizer must give the same bytes.
//
//===----------------------------------------------------------------------===//

#include "compiler/quant/BlockFormats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

using namespace moec::quant;

namespace {

const std::string kDir = MOEC_BLOCK_FORMATS_GOLDEN_DIR;

std::vector<uint8_t> readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

/// The f32 rows of a little-endian .npy file of shape [rows, width].
std::vector<float> readRows(const std::string &path, int64_t &width) {
  std::vector<uint8_t> bytes = readFile(path);
  EXPECT_GT(bytes.size(), 10u);
  uint16_t headerLength = uint16_t(bytes[8] | bytes[9] << 8);
  std::string header(bytes.begin() + 10, bytes.begin() + 10 + headerLength);
  EXPECT_NE(header.find("'<f4'"), std::string::npos) << header;
  size_t shape = header.find("'shape': (");
  width = std::stoll(header.substr(header.find(", ", shape) + 2));
  std::vector<float> rows((bytes.size() - 10 - headerLength) / 4);
  std::memcpy(rows.data(), bytes.data() + 10 + headerLength, rows.size() * 4);
  return rows;
}

void expectReference(BlockFormat f) {
  int64_t width = 0;
  std::vector<float> rows = readRows(kDir + "/rows.npy", width);
  ASSERT_EQ(width % kBlockValues, 0);
  std::vector<uint8_t> expected =
      readFile(kDir + "/" + std::string(name(f)) + ".bin");
  int64_t count = int64_t(rows.size()) / width;
  ASSERT_EQ(int64_t(expected.size()), count * rowBytes(f, width));
  std::vector<uint8_t> got(expected.size());
  for (int64_t r = 0; r < count; ++r)
    quantizeRow(f, rows.data() + r * width, width,
                got.data() + r * rowBytes(f, width));
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_EQ(got[i], expected[i])
        << name(f) << ": byte " << i << " (block " << i / blockBytes(f)
        << ") differs from the numpy reference";
}

TEST(BlockFormatsTest, Q8_0MatchesReferenceBitForBit) {
  expectReference(BlockFormat::Q8_0);
}

TEST(BlockFormatsTest, Q4_0MatchesReferenceBitForBit) {
  expectReference(BlockFormat::Q4_0);
}

TEST(BlockFormatsTest, LayoutAndDequantization) {
  // One block, values chosen so that every quant is known: Q8_0's scale is
  // 127/127 = 1, Q4_0's -8/-8 = 1 (peak -8 at element 3).
  float x[32];
  for (int j = 0; j < 32; ++j)
    x[j] = float(j % 15) - 7.0f;
  x[0] = 127.0f;
  uint8_t q8[34];
  quantizeRow(BlockFormat::Q8_0, x, 32, q8);
  EXPECT_EQ(q8[0] | q8[1] << 8, 0x3c00); // f16 1.0
  EXPECT_EQ(int8_t(q8[2]), 127);
  EXPECT_EQ(int8_t(q8[2 + 5]), -2);
  x[0] = 1.0f;
  x[3] = -8.0f;
  uint8_t q4[18];
  quantizeRow(BlockFormat::Q4_0, x, 32, q4);
  EXPECT_EQ(q4[0] | q4[1] << 8, 0x3c00);
  // Byte j: element j low, element j + 16 high; quant = x + 8.
  EXPECT_EQ(q4[2 + 3] & 0xf, 0);                 // -8
  EXPECT_EQ(q4[2 + 3] >> 4, int(x[19]) + 8);
  EXPECT_EQ(q4[2 + 0] & 0xf, 9);                 // 1
  float back[32];
  dequantizeRow(BlockFormat::Q4_0, q4, 32, back);
  for (int j = 0; j < 32; ++j)
    EXPECT_EQ(back[j], std::fmin(x[j], 7.0f)) << j; // 15 - 8 at the top
  dequantizeRow(BlockFormat::Q8_0, q8, 32, back);
  EXPECT_EQ(back[3], -4.0f); // quantized before x[3] became -8
}

TEST(BlockFormatsTest, Names) {
  EXPECT_EQ(parseBlockFormat("q8_0"), BlockFormat::Q8_0);
  EXPECT_EQ(parseBlockFormat("q4_0"), BlockFormat::Q4_0);
  EXPECT_FALSE(parseBlockFormat("q4_1"));
  EXPECT_EQ(rowBytes(BlockFormat::Q8_0, 4096), 128 * 34);
  EXPECT_EQ(rowBytes(BlockFormat::Q4_0, 4096), 128 * 18);
}

} // namespace
