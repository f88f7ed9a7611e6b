//===- Checkpoint.cpp - a HuggingFace checkpoint directory --------------===//

#include "compiler/import/Checkpoint.h"
#include "compiler/import/Diagnostics.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <nlohmann/json.hpp>

#include <map>

using namespace moec;
using llvm::Expected;
using llvm::StringRef;
using json = nlohmann::json;


static std::string join(StringRef dir, StringRef name) {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, name);
  return std::string(path);
}

Expected<std::map<std::string, std::string>>
Checkpoint::parseIndex(StringRef path, StringRef text) {
  json root = json::parse(text.begin(), text.end(), nullptr,
                          /*allow_exceptions=*/false);
  if (root.is_discarded())
    return fileError(path, "malformed JSON");
  auto map = root.is_object() ? root.find("weight_map") : root.end();
  if (map == root.end() || !map->is_object())
    return fileError(path, "no 'weight_map' object");
  std::map<std::string, std::string> out;
  for (auto &[tensor, shard] : map->items()) {
    if (!shard.is_string())
      return fileError(path, "shard of tensor '" + tensor +
                                 "' is not a file name");
    std::string name = shard.get<std::string>();
    // Shards sit beside the index.
    if (name.empty() || name != llvm::sys::path::filename(name) ||
        name == "." || name == "..")
      return fileError(path, "shard '" + name + "' of tensor '" + tensor +
                                 "' is not a file name in the directory");
    out[tensor] = name;
  }
  if (out.empty())
    return fileError(path, "the weight_map is empty");
  return out;
}

/// Reads model.safetensors.index.json: tensor name -> shard file name.
static Expected<std::map<std::string, std::string>>
readIndex(StringRef path) {
  auto buffer = readRegularFile(path, 256 << 20);
  if (!buffer)
    return buffer.takeError();
  return Checkpoint::parseIndex(path, (*buffer)->getBuffer());
}

Expected<Checkpoint> Checkpoint::open(StringRef directory) {
  if (!llvm::sys::fs::is_directory(directory))
    return fileError(directory, "not a checkpoint directory");
  Checkpoint checkpoint;
  checkpoint.dir = directory.str();

  Expected<ModelConfig> config =
      ModelConfig::read(join(directory, "config.json"));
  if (!config)
    return config.takeError();
  checkpoint.modelConfig = std::move(*config);

  auto addShard = [&](const std::string &name) -> Expected<size_t> {
    for (auto [i, shard] : llvm::enumerate(checkpoint.shards))
      if (shard->name == name)
        return i;
    Expected<SafeTensorsFile> file =
        SafeTensorsFile::open(join(directory, name));
    if (!file)
      return file.takeError();
    checkpoint.shards.push_back(
        std::make_unique<Shard>(Shard{name, std::move(*file)}));
    return checkpoint.shards.size() - 1;
  };

  std::string single = join(directory, "model.safetensors");
  std::string indexPath = join(directory, "model.safetensors.index.json");
  if (llvm::sys::fs::exists(single)) {
    Expected<size_t> shard = addShard("model.safetensors");
    if (!shard)
      return shard.takeError();
    for (const TensorInfo &tensor : checkpoint.shards[*shard]->file.tensors())
      checkpoint.shardOf[tensor.name] = *shard;
    return checkpoint;
  }
  if (!llvm::sys::fs::exists(indexPath))
    return fileError(directory,
                     "no model.safetensors or model.safetensors.index.json");

  Expected<std::map<std::string, std::string>> index = readIndex(indexPath);
  if (!index)
    return index.takeError();
  for (auto &[tensor, name] : *index) {
    if (!llvm::sys::fs::exists(join(directory, name)))
      return fileError(indexPath, "shard '" + name + "' of tensor '" +
                                      tensor + "' does not exist");
    Expected<size_t> shard = addShard(name);
    if (!shard)
      return shard.takeError();
    if (!checkpoint.shards[*shard]->file.find(tensor))
      return fileError(indexPath, "tensor '" + tensor + "' is not in shard '" +
                                      name + "'");
    checkpoint.shardOf[tensor] = *shard;
  }
  for (const auto &shard : checkpoint.shards)
    for (const TensorInfo &tensor : shard->file.tensors())
      if (!index->count(tensor.name))
        checkpoint.notes.push_back(shard->file.path() + ": tensor '" +
                                   tensor.name +
                                   "' is not in the index; ignored");
  return checkpoint;
}

std::optional<TensorLocation> Checkpoint::lookup(StringRef name) {
  auto it = shardOf.find(name);
  if (it == shardOf.end())
    return std::nullopt;
  used.insert(name);
  const Shard &shard = *shards[it->second];
  return TensorLocation{shard.file.find(name), shard.name, shard.file.path()};
}

std::vector<TensorLocation> Checkpoint::unusedTensors() const {
  std::vector<TensorLocation> out;
  for (const auto &shard : shards)
    for (const TensorInfo &tensor : shard->file.tensors()) {
      auto it = shardOf.find(tensor.name);
      if (it != shardOf.end() && shards[it->second].get() == shard.get() &&
          !used.contains(tensor.name))
        out.push_back({&tensor, shard->name, shard->file.path()});
    }
  return out;
}
