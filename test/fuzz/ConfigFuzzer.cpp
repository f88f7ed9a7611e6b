//===- ConfigFuzzer.cpp - fuzz the config.json reader -------------------===//

#include "compiler/import/ModelConfig.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  auto config = moec::ModelConfig::parse("config.json", text);
  if (!config) {
    llvm::consumeError(config.takeError());
    return 0;
  }
  // Whatever was accepted must pass its own checks and write valid JSON.
  if (config->verify("config.json"))
    __builtin_trap();
  auto again = moec::ModelConfig::parse("again.json", config->toJson());
  if (!again)
    __builtin_trap();
  return 0;
}
