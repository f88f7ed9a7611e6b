//===- IndexFuzzer.cpp - fuzz the shard index reader --------------------===//

#include "compiler/import/Checkpoint.h"

#include "llvm/Support/Path.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  auto index = moec::Checkpoint::parseIndex("model.safetensors.index.json",
                                            text);
  if (!index) {
    llvm::consumeError(index.takeError());
    return 0;
  }
  // Whatever was accepted names files beside the index, nothing else.
  for (const auto &[tensor, shard] : *index)
    if (shard.empty() || shard == "." || shard == ".." ||
        shard != llvm::sys::path::filename(shard))
      __builtin_trap();
  return 0;
}
