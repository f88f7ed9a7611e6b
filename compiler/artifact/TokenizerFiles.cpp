//===- TokenizerFiles.cpp - the tokenizer a checkpoint ships ------------===//

#include "compiler/artifact/TokenizerFiles.h"
#include "compiler/import/Diagnostics.h"

#include "runtime/Tokenizer.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace llvm;

namespace {

Error fail(const Twine &message) {
  return createStringError(inconvertibleErrorCode(), message);
}

Expected<std::string> readFile(StringRef path) {
  // Tokenizer files are megabytes; 1 GiB bounds a hostile one.
  auto buffer = moec::readRegularFile(path, 1 << 30);
  if (!buffer)
    return buffer.takeError();
  return (*buffer)->getBuffer().str();
}

} // namespace

Expected<moec::ArtifactTokenizer>
moec::readTokenizer(StringRef dir, StringRef file, int64_t vocabSize) {
  SmallString<256> path(file);
  if (path.empty())
    for (const char *name : {"tokenizer.model", "tokenizer.json"}) {
      SmallString<256> candidate(dir);
      sys::path::append(candidate, name);
      if (sys::fs::exists(candidate)) {
        path = candidate;
        break;
      }
    }
  ArtifactTokenizer tokenizer;
  if (path.empty())
    return tokenizer;

  Expected<std::string> bytes = readFile(path);
  if (!bytes)
    return bytes.takeError();
  SmallString<256> configPath(sys::path::parent_path(path));
  sys::path::append(configPath, "tokenizer_config.json");
  if (sys::fs::exists(configPath)) {
    Expected<std::string> config = readFile(configPath);
    if (!config)
      return config.takeError();
    tokenizer.configJson = std::move(*config);
  }
  bool json = path.str().ends_with(".json");
  tokenizer.format = json ? artifact::TokenizerFormat::HuggingFaceJson
                          : artifact::TokenizerFormat::SentencePiece;
  tokenizer.fileName = sys::path::filename(path).str();

  std::unique_ptr<Tokenizer> loaded;
  if (Status status = Tokenizer::load(json ? TokenizerFormat::HuggingFaceJson
                                           : TokenizerFormat::SentencePiece,
                                      *bytes, tokenizer.configJson,
                                      path.str().str(), loaded);
      !status)
    return fail(status.message());
  if (loaded->size() > vocabSize)
    return fail(path + ": the tokenizer has " + Twine(loaded->size()) +
                " tokens, more than the model's vocab_size " +
                Twine(vocabSize));
  tokenizer.bytes.assign(bytes->begin(), bytes->end());
  return tokenizer;
}
