//===- SafeTensorsTest.cpp - safetensors header validation --------------===//

#include "compiler/import/SafeTensors.h"

#include <gtest/gtest.h>

#include <string>

using moec::DType;
using moec::SafeTensorsFile;

namespace {

/// A file image: the length prefix, `header` padded to 8 bytes, then
/// `dataBytes` bytes of data.
std::string image(std::string header, size_t dataBytes) {
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i)
    out[i] = char(n >> (8 * i));
  return out + header + std::string(dataBytes, '\x01');
}

std::string error(const std::string &bytes) {
  auto file = SafeTensorsFile::parse("t.safetensors", bytes);
  return file ? "parsed" : llvm::toString(file.takeError());
}

TEST(SafeTensorsTest, ParsesTensorsAndMetadata) {
  std::string bytes = image(
      R"({"__metadata__": {"format": "pt"},
          "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]},
          "a": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}})",
      12);
  auto file = SafeTensorsFile::parse("t.safetensors", bytes);
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  ASSERT_EQ(file->tensors().size(), 2u);
  // File order, with absolute offsets.
  EXPECT_EQ(file->tensors()[0].name, "a");
  EXPECT_EQ(file->tensors()[1].name, "b");
  uint64_t dataStart = bytes.size() - 12;
  EXPECT_EQ(file->find("a")->offset, dataStart);
  EXPECT_EQ(file->find("b")->offset, dataStart + 4);
  EXPECT_EQ(file->find("b")->dtype, DType::F32);
  EXPECT_EQ(file->find("b")->size, 8u);
  EXPECT_EQ(file->metadata().lookup("format"), "pt");
  EXPECT_EQ(file->find("c"), nullptr);
}

TEST(SafeTensorsTest, EmptyAndSubByteTensors) {
  auto file = SafeTensorsFile::parse(
      "t.safetensors",
      image(R"({"e": {"dtype": "F16", "shape": [0, 3], "data_offsets": [0, 0]},
                "q": {"dtype": "F4", "shape": [4], "data_offsets": [0, 2]}})",
            2));
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  EXPECT_EQ(file->find("q")->size, 2u);
  EXPECT_EQ(error(image(
                R"({"q": {"dtype": "F4", "shape": [3], "data_offsets": [0, 2]}})",
                2)),
            "t.safetensors: tensor 'q': shape [3] does not fill whole bytes");
}

TEST(SafeTensorsTest, RejectsDuplicateNames) {
  EXPECT_EQ(error(image(R"({"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},
                            "a": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}})",
                        2)),
            "t.safetensors: tensor 'a' is listed twice");
}

TEST(SafeTensorsTest, RejectsGapsAndTrailingBytes) {
  EXPECT_EQ(error(image(R"({"a": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}})",
                        2)),
            "t.safetensors: 1 unused bytes before tensor 'a'");
  EXPECT_EQ(error(image(R"({"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}})",
                        3)),
            "t.safetensors: 2 bytes after the last tensor");
}

TEST(SafeTensorsTest, RejectsMalformedEntries) {
  EXPECT_EQ(error(image(R"({"a": {"dtype": "Q7", "shape": [1], "data_offsets": [0, 1]}})",
                        1)),
            "t.safetensors: tensor 'a': unknown dtype 'Q7'");
  EXPECT_EQ(error(image(R"({"a": {"dtype": "U8", "shape": [-1], "data_offsets": [0, 1]}})",
                        1)),
            "t.safetensors: tensor 'a': shape must hold non-negative integers");
  EXPECT_EQ(error(image(R"({"a": {"dtype": "U8", "shape": [1], "data_offsets": [1, 0]}})",
                        1)),
            "t.safetensors: tensor 'a': data_offsets [1, 0) run backwards");
  EXPECT_EQ(error(image(R"({"a": {"dtype": "U8", "shape": [4294967296, 4294967296, 16]},
                           "b": 1})",
                        0)),
            "t.safetensors: tensor 'a': shape [4294967296, 4294967296, 16] is "
            "too large");
  EXPECT_EQ(error(image(R"({"__metadata__": {"format": 1}})", 0)),
            "t.safetensors: __metadata__ value for 'format' is not a string");
  EXPECT_EQ(error(image("[]", 0)), "t.safetensors: header is not a JSON object");
}

TEST(SafeTensorsTest, RejectsBadLengths) {
  EXPECT_EQ(error(std::string("\x01\x02", 2)),
            "t.safetensors: truncated: 2 bytes, too short for the 8-byte "
            "header length");
  std::string bytes = image(R"({})", 0);
  bytes[0] = 100;
  EXPECT_EQ(error(bytes), "t.safetensors: truncated: header length 100 runs "
                          "past the end of the file (16 bytes)");
}

} // namespace
