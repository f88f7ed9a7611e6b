//===- Checkpoint.h - a HuggingFace checkpoint directory --------*- C++ -*-===//
//
// config.json plus the safetensors headers of a checkpoint directory: one
// model.safetensors, or the shards a model.safetensors.index.json names.
// Only headers are read.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_COMPILER_IMPORT_CHECKPOINT_H
#define MOEC_COMPILER_IMPORT_CHECKPOINT_H

#include "compiler/import/ModelConfig.h"
#include "compiler/import/SafeTensors.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace moec {

/// A tensor and the file that holds it.
struct TensorLocation {
  const TensorInfo *tensor;
  /// The file's name relative to the checkpoint directory.
  llvm::StringRef file;
  /// The file's path, for messages.
  llvm::StringRef path;
};

class Checkpoint {
public:
  static llvm::Expected<Checkpoint> open(llvm::StringRef directory);
  /// The weight_map of model.safetensors.index.json's text: tensor name ->
  /// shard file name (a plain name in the index's directory). `path` names
  /// the file in errors.
  static llvm::Expected<std::map<std::string, std::string>>
  parseIndex(llvm::StringRef path, llvm::StringRef text);

  const std::string &directory() const { return dir; }
  const ModelConfig &config() const { return modelConfig; }

  /// The tensor called `name`, or nullopt; marks it used.
  std::optional<TensorLocation> lookup(llvm::StringRef name);

  /// Tensors never looked up, in file order.
  std::vector<TensorLocation> unusedTensors() const;

  /// Notes made while reading (tensors in a shard but not in the index).
  const std::vector<std::string> &warnings() const { return notes; }

private:
  struct Shard {
    std::string name;
    SafeTensorsFile file;
  };

  std::string dir;
  ModelConfig modelConfig;
  std::vector<std::unique_ptr<Shard>> shards;
  /// Tensor name -> index of its shard.
  llvm::StringMap<size_t> shardOf;
  llvm::StringSet<> used;
  std::vector<std::string> notes;
};

} // namespace moec

#endif // MOEC_COMPILER_IMPORT_CHECKPOINT_H
