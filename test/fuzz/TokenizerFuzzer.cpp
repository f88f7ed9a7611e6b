//===- TokenizerFuzzer.cpp - fuzz tokenizer.json, its config and templates ===//
//
// An input is a tokenizer_config.json text, a text to encode and a
// tokenizer.json (or, by its first byte, a tokenizer.model), split by
// FuzzedDataProvider. Loaded, the tokenizer encodes and decodes the text
// and the chat template is looked up; every id must be in the vocabulary.
//
//===----------------------------------------------------------------------===//

#include "runtime/ChatTemplate.h"
#include "runtime/Tokenizer.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FuzzedDataProvider input(data, size);
  bool sentencePiece = input.ConsumeBool();
  std::string config = input.ConsumeRandomLengthString(4096);
  std::string text = input.ConsumeRandomLengthString(1024);
  std::string model = input.ConsumeRemainingBytesAsString();
  std::unique_ptr<moec::Tokenizer> tokenizer;
  moec::Status status = moec::Tokenizer::load(
      sentencePiece ? moec::TokenizerFormat::SentencePiece
                    : moec::TokenizerFormat::HuggingFaceJson,
      model, config, "fuzz", tokenizer);
  if (!status)
    return 0;
  std::vector<int32_t> ids;
  tokenizer->encode(text, ids);
  for (int32_t id : ids)
    if (id < 0 || id >= tokenizer->size())
      __builtin_trap();
  std::string decoded = tokenizer->decode(ids);
  for (int32_t id : ids)
    (void)tokenizer->bytes(id);
  moec::ChatTemplate format;
  if (moec::ChatTemplate::get("auto", *tokenizer, "fuzz", format))
    (void)format.userTurn(text, "system", true, true);
  return 0;
}
