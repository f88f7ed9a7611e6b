//===- KvCacheTypeOption.h - the --kv-cache-type flag -----------*- C++ -*-===//
//
// One definition of the flag for the tools that import a checkpoint
// (moec-import, moec-compile).
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_COMPILER_IMPORT_KVCACHETYPEOPTION_H
#define MOEC_COMPILER_IMPORT_KVCACHETYPEOPTION_H

#include "compiler/import/Importer.h"

#include "llvm/Support/CommandLine.h"

namespace moec {

struct KvCacheTypeOption : llvm::cl::opt<KvCacheType> {
  explicit KvCacheTypeOption(llvm::cl::OptionCategory &category)
      : llvm::cl::opt<KvCacheType>(
            "kv-cache-type",
            llvm::cl::desc("Element type of the KV cache (default f32)"),
            llvm::cl::values(
                clEnumValN(KvCacheType::F32, "f32", "4 bytes, exact"),
                clEnumValN(KvCacheType::F16, "f16",
                           "2 bytes, 11 significant bits"),
                clEnumValN(KvCacheType::BF16, "bf16",
                           "2 bytes, 8 significant bits")),
            llvm::cl::init(kDefaultKvCacheType), llvm::cl::cat(category)) {}
};

} // namespace moec

#endif // MOEC_COMPILER_IMPORT_KVCACHETYPEOPTION_H
