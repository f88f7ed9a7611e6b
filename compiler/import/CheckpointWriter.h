//===- CheckpointWriter.h - random HF checkpoints ---------------*- C++ -*-===//
//
// Writes a HuggingFace-format checkpoint (config.json, safetensors, index)
// for any config, with random weights that depend only on the seed and each
// tensor's name: the same model whatever the sharding.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_COMPILER_IMPORT_CHECKPOINTWRITER_H
#define MOEC_COMPILER_IMPORT_CHECKPOINTWRITER_H

#include "compiler/import/CheckpointLayout.h"
#include "compiler/import/SafeTensors.h"

#include <functional>

namespace moec {

struct CheckpointWriterOptions {
  DType dtype = DType::BF16;
  /// 1: model.safetensors; more: model-0000K-of-0000N.safetensors + index.
  int64_t shards = 1;
  ExpertStorage expertStorage = ExpertStorage::PerExpert;
  /// Rank of the dReLU predictors to add; 0 adds none. The gates are then
  /// low-rank (but for a little noise), so that the predictors predict.
  int64_t predictorRank = 0;
  /// For dReLU models: the fraction of neurons active on typical tokens
  /// (see Shaper in CheckpointWriter.cpp); 0 leaves the weights random.
  double activeFraction = 0;
  uint64_t seed = 0;
  /// Write headers only: the data are zeros, left as holes in sparse files.
  bool headersOnly = false;
  /// Called with (bytes written, total bytes) as data is written.
  std::function<void(uint64_t, uint64_t)> progress;
};

/// Writes the checkpoint into `directory`, creating it if needed.
llvm::Error writeCheckpoint(llvm::StringRef directory,
                            const ModelConfig &config,
                            const CheckpointWriterOptions &options);

} // namespace moec

#endif // MOEC_COMPILER_IMPORT_CHECKPOINTWRITER_H
