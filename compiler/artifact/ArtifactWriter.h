//===- ArtifactWriter.h - writing .moec artifacts ---------------*- C++ -*-===//
//
// Lays out a module's weights in the artifact's weights segment and writes
// the artifact: header, code, and the weights copied from the checkpoint
// files the module references, in the layout the passes chose.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_COMPILER_ARTIFACT_ARTIFACTWRITER_H
#define MOEC_COMPILER_ARTIFACT_ARTIFACTWRITER_H

#include "compiler/import/ModelConfig.h"
#include "dialects/moe/IR/MoeAttrs.h"
#include "runtime/format/Format.h"
#include "runtime/Signature.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace moec {

/// A weight placed in the weights segment by the moe-plan-weights pass.
struct PlannedWeight {
  std::string name;
  uint64_t offset;
  mlir::RankedTensorType type;
  /// The checkpoint bytes it is made of, in order.
  std::vector<mlir::moe::WeightRefAttr> parts;
  /// Each part (a matrix) is stored transposed: neuron-major.
  bool transposed = false;
  /// Each stored row is quantized in this block format.
  std::optional<mlir::moe::BlockFormat> format;
  /// How a quantized row's blocks are ordered.
  mlir::moe::BlockLayout layout = mlir::moe::BlockLayout::Grouped;
  uint64_t size() const;
};

/// What the artifact holds besides code, read off a module whose weights
/// are planned but not yet lowered.
struct ArtifactContents {
  ModelConfig config;
  /// The directory weight references are relative to.
  std::string checkpointDir;
  std::vector<PlannedWeight> weights;
  /// The element type of the KV cache (the entry point's third argument).
  mlir::Type kvCacheType;
};

struct ArtifactTarget {
  bool cuda = false;
  std::string triple;
  std::string cpu;
  std::string features;
};

/// The checkpoint's tokenizer, stored as it is (TokenizerFiles.h).
struct ArtifactTokenizer {
  artifact::TokenizerFormat format = artifact::TokenizerFormat::SentencePiece;
  std::string fileName;
  std::vector<char> bytes;
  /// tokenizer_config.json's text; may be empty.
  std::string configJson;
};

struct ArtifactOptions {
  ArtifactTarget target;
  /// None when empty bytes: the artifact then runs on token ids only.
  ArtifactTokenizer tokenizer;
  /// The code segment (a shared object: the model for CPU targets, the
  /// host side that launches the kernels for CUDA); empty: none.
  std::vector<char> code;
  /// CUDA: the kernels as PTX, and as a cubin for the target's SM (empty
  /// when no ptxas was used).
  std::vector<char> deviceAssembly, deviceCode;
  /// The bytes of a segment of `kind` other than the weights.
  const std::vector<char> *blob(artifact::SegmentKind kind) const {
    switch (kind) {
    case artifact::SegmentKind::Code:
      return &code;
    case artifact::SegmentKind::DeviceAssembly:
      return &deviceAssembly;
    case artifact::SegmentKind::DeviceCode:
      return &deviceCode;
    case artifact::SegmentKind::Tokenizer:
      return &tokenizer.bytes;
    default:
      return nullptr;
    }
  }
  /// Entry points of the code: (name, symbol).
  std::vector<std::pair<std::string, std::string>> entryPoints;
  /// Called with (bytes written, total bytes) while weights are copied.
  std::function<void(uint64_t, uint64_t)> progress;
  /// When set, the artifact ends with this key's signature of all it holds
  /// (runtime/Signature.h).
  std::optional<SecretKey> signingKey;
  /// Write weights holding NaN or infinities (otherwise an error naming the
  /// tensor).
  bool allowNonFinite = false;
};

/// The Ed25519 secret key of a file moec-keygen wrote (128 hex digits),
/// which only its owner may read; an error naming the file otherwise.
llvm::Expected<SecretKey> readSecretKey(llvm::StringRef path);

/// Reads the config, checkpoint directory and planned weights of `module`;
/// `where` names it in errors.
llvm::Expected<ArtifactContents> collectArtifactContents(mlir::ModuleOp module,
                                                         llvm::StringRef where);

/// Writes the artifact to `path`: to a temporary file first, renamed at the
/// end, so that a failure leaves nothing behind.
llvm::Error writeArtifact(const ArtifactContents &contents,
                          const ArtifactOptions &options, llvm::StringRef path);

} // namespace moec

#endif // MOEC_COMPILER_ARTIFACT_ARTIFACTWRITER_H
