//===- SafeTensors.h - safetensors headers ----------------------*- C++ -*-===//
//
// Reads and validates the header of a .safetensors file: an 8-byte
// little-endian length N, N bytes of JSON naming each tensor's dtype, shape
// and byte range, then the data. Only the header is read; the data stays on
// disk until the compiler maps it.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_COMPILER_IMPORT_SAFETENSORS_H
#define MOEC_COMPILER_IMPORT_SAFETENSORS_H

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace moec {

/// Element types a safetensors header may name.
enum class DType {
  Bool, U8, I8, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64,
  F8_E4M3, F8_E5M2, F8_E8M0, F6_E2M3, F6_E3M2, F4,
};

/// The name safetensors uses ("BF16"), and back.
llvm::StringRef dtypeName(DType dtype);
std::optional<DType> parseDType(llvm::StringRef name);
/// Bits per element.
unsigned dtypeBits(DType dtype);

struct TensorInfo {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  /// Absolute byte offset of the first element in the file.
  uint64_t offset;
  uint64_t size;

  int64_t numElements() const;
};

class SafeTensorsFile {
public:
  /// Reads and validates the header of the file at `path`.
  static llvm::Expected<SafeTensorsFile> open(llvm::StringRef path);

  /// Validates `bytes` as the whole content of a file named `path`.
  static llvm::Expected<SafeTensorsFile> parse(llvm::StringRef path,
                                               llvm::StringRef bytes);

  /// Largest header accepted, as in the reference implementation.
  static constexpr uint64_t kMaxHeaderSize = 100'000'000;

  const std::string &path() const { return filePath; }
  uint64_t fileSize() const { return size; }
  /// Tensors in file order.
  const std::vector<TensorInfo> &tensors() const { return tensorList; }
  const TensorInfo *find(llvm::StringRef name) const;
  /// `__metadata__`, if any.
  const llvm::StringMap<std::string> &metadata() const { return meta; }

private:
  static llvm::Expected<SafeTensorsFile>
  parseHeader(llvm::StringRef path, llvm::StringRef header, uint64_t fileSize);

  std::string filePath;
  uint64_t size = 0;
  std::vector<TensorInfo> tensorList;
  llvm::StringMap<size_t> byName;
  llvm::StringMap<std::string> meta;
};

} // namespace moec

#endif // MOEC_COMPILER_IMPORT_SAFETENSORS_H
