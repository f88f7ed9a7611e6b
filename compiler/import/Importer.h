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

/// The element type of the KV cache (`--kv-cache-type`): attention widens
/// what it reads to f32, and the cache write rounds to it.
enum class KvCacheType { F32, F16, BF16 };
/// The default: f32. An f16 cache halves the memory and keeps the logits
/// within 5e-4 of the largest on nine of the ten golden models, but on one
/// its rounding flips a router's near-tied choice (docs/perf.md), so it is
/// a choice, not the default.
inline constexpr KvCacheType kDefaultKvCacheType = KvCacheType::F32;
/// The MLIR element type of a cache type.
mlir::Type kvCacheElementType(mlir::MLIRContext &context, KvCacheType type);

/// The arguments of the `@forward` the importer makes, in order.
enum ForwardArgument : unsigned {
  kTokensArgument,
  kPositionsArgument,
  kCacheOffsetsArgument,
  kKvCacheArgument,
  kOutputRowsArgument,
  kForwardArguments
};

/// Builds the `moe` module of a checkpoint: one function, `@forward`, that
/// takes token ids, their positions, their cache offsets (the row of their
/// sequence's position 0), each layer's K and V caches and the count of
/// output rows, and returns the logits (or class scores) of the
/// last that many tokens (a sequence score whatever the count) and the
/// updated caches, whose elements are `kvCacheType`. Weights are
/// `moe.weight` references into the checkpoint's files; the module's
/// `moe.checkpoint` attribute holds the directory they are relative to, and
/// `moe.config` the model's hyper-parameters.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importCheckpoint(mlir::MLIRContext &context, Checkpoint &checkpoint,
                 const WarningHandler &warn,
                 KvCacheType kvCacheType = kDefaultKvCacheType);

} // namespace moec

#endif // MOEC_COMPILER_IMPORT_IMPORTER_H
