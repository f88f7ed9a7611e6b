//===- SafeTensorsFuzzer.cpp - fuzz the safetensors header reader -------===//

#include "compiler/import/SafeTensors.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  auto file = moec::SafeTensorsFile::parse("fuzz.safetensors", bytes);
  if (!file) {
    llvm::consumeError(file.takeError());
    return 0;
  }
  // Whatever was accepted must describe bytes inside the file.
  for (const moec::TensorInfo &tensor : file->tensors())
    if (tensor.offset > size || tensor.size > size - tensor.offset)
      __builtin_trap();
  return 0;
}
