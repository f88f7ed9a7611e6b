//===- ModelConfigAttr.h - a model config as an MLIR attribute --*- C++ -*-===//
//
// The `moe.config` module attribute holds the config as config.json would:
// the same keys and values, as a dictionary. Reading it back goes through
// ModelConfig::parse, so a module carries a config that is checked the same
// way as a checkpoint's.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_COMPILER_IMPORT_MODELCONFIGATTR_H
#define MOEC_COMPILER_IMPORT_MODELCONFIGATTR_H

#include "compiler/import/ModelConfig.h"

#include "mlir/IR/BuiltinAttributes.h"

namespace moec {

/// The name of the module attribute.
inline constexpr llvm::StringLiteral kConfigAttrName = "moe.config";

mlir::DictionaryAttr configToAttr(const ModelConfig &config,
                                  mlir::MLIRContext *context);

/// Reads a `moe.config` dictionary; `where` names it in errors.
llvm::Expected<ModelConfig> configFromAttr(mlir::DictionaryAttr attr,
                                           llvm::StringRef where);

} // namespace moec

#endif // MOEC_COMPILER_IMPORT_MODELCONFIGATTR_H
