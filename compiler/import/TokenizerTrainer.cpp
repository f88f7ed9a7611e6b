//===- TokenizerTrainer.cpp - tokenizers for synthesised checkpoints ----===//

#include "compiler/import/TokenizerTrainer.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <nlohmann/json.hpp>
#include <sentencepiece_trainer.h>

#include <unordered_map>

using namespace llvm;

namespace {

const char *const kChatMLTemplate =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + "
    "'\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
    "{% endif %}";
const char *const kMistralTemplate =
    "{{ bos_token }}{% for message in messages %}{% if message['role'] == "
    "'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% else %}"
    "{{ message['content'] + eos_token }}{% endif %}{% endfor %}";

/// The corpus, one sentence per non-empty line.
class Lines : public sentencepiece::SentenceIterator {
public:
  explicit Lines(StringRef text) { SplitString(text, lines, "\n"); }
  bool done() const override { return index >= lines.size(); }
  void Next() override { ++index; }
  const std::string &value() const override {
    return current = lines[index].str();
  }
  sentencepiece::util::Status status() const override { return {}; }

private:
  SmallVector<StringRef> lines;
  size_t index = 0;
  mutable std::string current;
};

Error writeFile(StringRef path, StringRef bytes) {
  return writeToOutput(path, [&](raw_ostream &os) {
    os << bytes;
    return Error::success();
  });
}

} // namespace

Expected<moec::TrainedTokenizer>
moec::trainTokenizer(StringRef corpus, int64_t vocabSize, ChatFormat chat) {
  auto text = MemoryBuffer::getFile(corpus, /*IsText=*/true);
  if (!text)
    return createStringError(text.getError(), corpus + ": cannot read: " +
                                                  text.getError().message());
  Lines lines((*text)->getBuffer());
  // A map, not a command line: the latter is echoed to stderr.
  std::unordered_map<std::string, std::string> args = {
      {"model_type", "bpe"},
      {"vocab_size", std::to_string(vocabSize)},
      {"byte_fallback", "true"},
      {"split_digits", "true"},
      {"allow_whitespace_only_pieces", "true"},
      {"normalization_rule_name", "identity"},
      {"remove_extra_whitespaces", "false"},
      {"character_coverage", "1.0"},
      {"unk_id", "0"},
      {"bos_id", "1"},
      {"eos_id", "2"},
      {"pad_id", "-1"},
      {"user_defined_symbols", "<|im_end|>,<|im_start|>"},
      {"minloglevel", "2"}};
  std::string model;
  if (sentencepiece::util::Status status =
          sentencepiece::SentencePieceTrainer::Train(args, &lines, &model);
      !status.ok())
    return createStringError(
        inconvertibleErrorCode(),
        corpus + ": cannot train a tokenizer on it: " + status.ToString());

  // As HuggingFace writes it: the special tokens, the template.
  nlohmann::json config;
  config["add_bos_token"] = true;
  config["add_eos_token"] = false;
  config["bos_token"] = "<s>";
  config["eos_token"] = "</s>";
  config["unk_token"] = "<unk>";
  config["tokenizer_class"] = "LlamaTokenizer";
  const char *names[] = {"<unk>", "<s>", "</s>", "<|im_end|>", "<|im_start|>"};
  for (int id = 0; id < 5; ++id)
    config["added_tokens_decoder"][std::to_string(id)] = {
        {"content", names[id]}, {"special", true}, {"normalized", false}};
  if (chat != ChatFormat::None)
    config["chat_template"] =
        chat == ChatFormat::ChatML ? kChatMLTemplate : kMistralTemplate;

  return TrainedTokenizer{std::move(model), config.dump(2) + "\n"};
}

Error moec::TrainedTokenizer::write(StringRef dir) const {
  SmallString<256> modelPath(dir), configPath(dir);
  sys::path::append(modelPath, "tokenizer.model");
  sys::path::append(configPath, "tokenizer_config.json");
  if (Error error = writeFile(modelPath, model))
    return error;
  return writeFile(configPath, config);
}
