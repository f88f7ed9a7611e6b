//===- ArtifactWriter.h - writing .moec artifacts ---------------*- C++ -*-===//
//
// Lays out a module's weights in the artifact's weights segment and writes
// the artifact: header, code, and the weights copied from the checkpoint
// files the module references, in the layout the passes chose.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_COMPILER_ARTIFACT_ARTIFACTWRITER_H
#define MOEC_COMPILER_ARTIFACT_ARTIFACTWRITER_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <string>
#include <vector>

namespace moec {

/// Where each `moe.weight` of the module lives in the weights segment; the
/// planner also records it on the op as `moe.offset`, for code generation.
inline constexpr llvm::StringLiteral kWeightOffsetAttrName = "moe.offset";

struct ArtifactTarget {
  bool cuda = false;
  std::string triple;
  std::string cpu;
  std::string features;
};

struct ArtifactOptions {
  ArtifactTarget target;
  /// The code segment (a shared object for CPU targets); empty: none.
  std::vector<char> code;
  /// Entry points of the code: (name, symbol).
  std::vector<std::pair<std::string, std::string>> entryPoints;
  /// Called with (bytes written, total bytes) while weights are copied.
  std::function<void(uint64_t, uint64_t)> progress;
};

/// Assigns every `moe.weight` op its offset in the weights segment (in op
/// order, each aligned to kWeightAlignment) and returns the segment's size.
uint64_t planWeights(mlir::ModuleOp module);

/// Writes the artifact for `module`, whose weights must be planned, to
/// `path`: to a temporary file first, renamed at the end, so that a failure
/// leaves nothing behind.
llvm::Error writeArtifact(mlir::ModuleOp module, const ArtifactOptions &options,
                          llvm::StringRef path);

} // namespace moec

#endif // MOEC_COMPILER_ARTIFACT_ARTIFACTWRITER_H
