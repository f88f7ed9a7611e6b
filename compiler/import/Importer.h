//===- Importer.h - HF checkpoints into the moe dialect ---------*- C++ -*-===//

#ifndef MOEC_COMPILER_IMPORT_IMPORTER_H
#define MOEC_COMPILER_IMPORT_IMPORTER_H

#include "compiler/import/Checkpoint.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <functional>

namespace moec {

/// Receives the importer's warnings (unused tensors, ignored predictors).
using WarningHandler = std::function<void(const std::string &)>;

/// Builds the `moe` module of a checkpoint: one function, `@forward`, that
/// takes token ids, their positions and each layer's K and V caches, and
/// returns the logits (or class scores) and the updated caches. Weights are
/// `moe.weight` references into the checkpoint's files; the module's
/// `moe.checkpoint` attribute holds the directory they are relative to, and
/// `moe.config` the model's hyper-parameters.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importCheckpoint(mlir::MLIRContext &context, Checkpoint &checkpoint,
                 const WarningHandler &warn);

} // namespace moec

#endif // MOEC_COMPILER_IMPORT_IMPORTER_H
