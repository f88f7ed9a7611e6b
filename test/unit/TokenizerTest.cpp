//===- TokenizerTest.cpp - tokenizer.model and tokenizer.json -----------===//
//
// Golden ids and decodings come from the sentencepiece and tokenizers
// packages (test/reference/tokenizer/make_tokenizer_golden.py); the
// round-trip tests train a SentencePiece model here.
//
//===----------------------------------------------------------------------===//

#include "runtime/ChatTemplate.h"
#include "runtime/Tokenizer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sentencepiece_trainer.h>

#include <fstream>
#include <sstream>

using namespace moec;
using json = nlohmann::json;

namespace {

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

const std::string kDir = MOEC_TOKENIZER_GOLDEN_DIR;

std::unique_ptr<Tokenizer> loadGolden(const std::string &file) {
  std::unique_ptr<Tokenizer> tokenizer;
  Status status =
      Tokenizer::load(file.rfind(".json") != std::string::npos
                          ? TokenizerFormat::HuggingFaceJson
                          : TokenizerFormat::SentencePiece,
                      readFile(kDir + "/" + file), "", file, tokenizer);
  EXPECT_TRUE(status) << status.message();
  return tokenizer;
}

json golden() { return json::parse(readFile(kDir + "/golden.json")); }

/// Encodes and decodes `texts` and `more` with `file`: the ids and
/// decodings of `expected`.
void checkTexts(const std::string &file, std::vector<std::string> texts,
                const json &more, const json &expected) {
  std::unique_ptr<Tokenizer> tokenizer = loadGolden(file);
  ASSERT_TRUE(tokenizer);
  for (const json &t : more)
    texts.push_back(t.get<std::string>());
  ASSERT_EQ(texts.size(), expected["ids"].size());
  for (size_t i = 0; i < texts.size(); ++i) {
    std::vector<int32_t> ids;
    tokenizer->encode(texts[i], ids);
    std::vector<int32_t> want = expected["ids"][i];
    EXPECT_EQ(ids, want) << file << ": '" << texts[i] << "'";
    std::string decoded = expected["decoded"][i];
    EXPECT_EQ(tokenizer->decode(want), decoded) << file << ": " << i;
  }
}

/// Every golden text of `key` with `file`.
void checkGolden(const std::string &file, const std::string &key,
                 bool specialTexts) {
  json data = golden();
  checkTexts(file, data["texts"],
             specialTexts ? data["special_texts"] : json::array(), data[key]);
}

TEST(Tokenizer, SentencePieceMatchesTheSentencepiecePackage) {
  checkGolden("tokenizer.model", "sentencepiece", false);
}

TEST(Tokenizer, HuggingFaceJsonMatchesTheTokenizersPackage) {
  checkGolden("tokenizer.json", "tokenizer.json", true);
}

TEST(Tokenizer, MetaspaceJsonMatchesTheTokenizersPackage) {
  checkGolden("tokenizer-metaspace.json", "tokenizer-metaspace.json", true);
}

/// The byte-level golden texts and the file's own special-token texts
/// (make_bytelevel_golden.py).
void checkByteLevelGolden(const std::string &file) {
  json data = json::parse(readFile(kDir + "/golden-bytelevel.json"));
  checkTexts(file, data["texts"], data[file]["special_texts"], data[file]);
}

TEST(Tokenizer, ByteLevelGpt2MatchesTheTokenizersPackage) {
  checkByteLevelGolden("tokenizer-gpt2.json");
}

TEST(Tokenizer, ByteLevelLlama3MatchesTheTokenizersPackage) {
  checkByteLevelGolden("tokenizer-llama3.json");
}

TEST(Tokenizer, ByteLevelStreamsWholeCharacters) {
  std::unique_ptr<Tokenizer> tokenizer = loadGolden("tokenizer-llama3.json");
  ASSERT_TRUE(tokenizer);
  // Pieces of multi-byte characters come out only once whole.
  std::string text = "emoji \U0001F642\U0001F44D end 漢字";
  std::vector<int32_t> ids;
  tokenizer->encode(text, ids);
  TextStream stream(*tokenizer);
  std::string out;
  for (int32_t id : ids) {
    std::string part = stream.push(id);
    EXPECT_EQ(completeUtf8(part), part.size());
    out += part;
  }
  out += stream.flush();
  EXPECT_EQ(out, text);
  EXPECT_EQ(tokenizer->specialId("<|eot_id|>"), 4);
}

/// Golden `file` with tokenizer_config.json `config`, and the chat
/// template its chat_template names.
std::unique_ptr<Tokenizer> loadChat(const std::string &file,
                                    const json &config, ChatTemplate &chat) {
  std::unique_ptr<Tokenizer> tokenizer;
  Status status =
      Tokenizer::load(TokenizerFormat::HuggingFaceJson,
                      readFile(kDir + "/" + file), config.dump(), "f", tokenizer);
  EXPECT_TRUE(status) << status.message();
  if (!status)
    return nullptr;
  status = ChatTemplate::get("auto", *tokenizer, "f", chat);
  EXPECT_TRUE(status) << status.message();
  return status ? std::move(tokenizer) : nullptr;
}

TEST(Tokenizer, Llama3ChatTurns) {
  json config = {{"bos_token", "<|begin_of_text|>"},
                 {"eos_token", "<|eot_id|>"},
                 {"chat_template",
                  "{{ '<|start_header_id|>' + message['role'] + "
                  "'<|end_header_id|>\n\n' }}"}};
  ChatTemplate chat;
  std::unique_ptr<Tokenizer> tokenizer =
      loadChat("tokenizer-llama3.json", config, chat);
  ASSERT_TRUE(tokenizer);
  EXPECT_EQ(chat.endOfAnswer(), 4);
  EXPECT_EQ(chat.userTurn("Hi", "Be brief.", true, false),
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
            "Be brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n"
            "Hi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
  // A later turn closes an answer the model did not end itself.
  EXPECT_EQ(chat.userTurn("More", "", false, false),
            "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nMore"
            "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
  std::vector<int32_t> ids;
  tokenizer->encode(chat.userTurn("Hi", "", true, false), ids);
  EXPECT_EQ(ids.front(), 0);
  EXPECT_EQ(ids[1], 2);
}

TEST(Tokenizer, ChatMLDefaultSystemPrompt) {
  // SmolLM's template writes a system turn when the messages have none
  // (a newline in the text); Qwen's writes Jinja's "\n".
  for (const char *chatTemplate :
       {"{% if messages[0]['role'] != 'system' %}{{ '<|im_start|>system\n"
        "You are a helpful AI assistant named SmolLM<|im_end|>\n' }}"
        "{% endif %}{{ '<|im_start|>' + message['role'] }}",
        "{%- else %}{{- '<|im_start|>system\\nYou are a helpful AI "
        "assistant named SmolLM<|im_end|>\\n' }}{%- endif %}"}) {
    ChatTemplate chat;
    ASSERT_TRUE(loadChat("tokenizer.json", {{"chat_template", chatTemplate}},
                         chat));
    EXPECT_EQ(chat.userTurn("Hi", "", true, false),
              "<|im_start|>system\nYou are a helpful AI assistant named "
              "SmolLM<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
              "<|im_start|>assistant\n");
    // --system replaces it; later turns have none.
    EXPECT_EQ(chat.userTurn("Hi", "Be brief.", true, false),
              "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n"
              "Hi<|im_end|>\n<|im_start|>assistant\n");
    EXPECT_EQ(chat.userTurn("More", "", false, true),
              "\n<|im_start|>user\nMore<|im_end|>\n<|im_start|>assistant\n");
  }
  // A system turn built from the messages is no default.
  json config = {{"chat_template",
                  "{{ '<|im_start|>system\n' + messages[0]['content'] + "
                  "'<|im_end|>' }}"}};
  ChatTemplate chat;
  ASSERT_TRUE(loadChat("tokenizer.json", config, chat));
  EXPECT_EQ(chat.userTurn("Hi", "", true, false),
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
}

TEST(Tokenizer, SpecialTokensOfTheJsonFile) {
  std::unique_ptr<Tokenizer> tokenizer = loadGolden("tokenizer.json");
  ASSERT_TRUE(tokenizer);
  EXPECT_EQ(tokenizer->bos(), 1);
  EXPECT_EQ(tokenizer->eos(), 2);
  EXPECT_EQ(tokenizer->specialId("<|im_end|>"), 400);
  EXPECT_EQ(tokenizer->specialId("<|im_start|>"), 401);
  // Control tokens make no text when streamed.
  EXPECT_EQ(tokenizer->bytes(2), "");
  EXPECT_EQ(tokenizer->size(), 402);
}

TEST(Tokenizer, ConfigSetsBosEosAndAddedTokens) {
  json config = {{"add_bos_token", false},
                 {"bos_token", {{"content", "<s>"}}},
                 {"eos_token", "<|im_end|>"},
                 {"chat_template", "{{ '<|im_start|>' }}"},
                 {"added_tokens_decoder",
                  {{"401", {{"content", "<|im_start|>"}, {"special", true}}},
                   {"402", {{"content", "<extra>"}, {"special", true}}}}}};
  std::unique_ptr<Tokenizer> tokenizer;
  ASSERT_TRUE(Tokenizer::load(TokenizerFormat::HuggingFaceJson,
                              readFile(kDir + "/tokenizer.json"), config.dump(),
                              "tokenizer.json", tokenizer));
  EXPECT_FALSE(tokenizer->addsBos());
  EXPECT_EQ(tokenizer->eos(), 400);
  EXPECT_EQ(tokenizer->specialId("<extra>"), 402);
  EXPECT_EQ(tokenizer->size(), 403);
  EXPECT_EQ(tokenizer->chatTemplate(), "{{ '<|im_start|>' }}");
  std::vector<int32_t> ids;
  tokenizer->encode("<extra>", ids);
  EXPECT_EQ(ids, std::vector<int32_t>{402});
}

TEST(Tokenizer, BadFilesGetOneLineErrors) {
  std::unique_ptr<Tokenizer> tokenizer;
  struct Case {
    TokenizerFormat format;
    std::string bytes, config, message;
  };
  std::string json = readFile(kDir + "/tokenizer.json");
  std::string byteLevel = json;
  byteLevel.replace(byteLevel.find("\"pre_tokenizer\": null"), 21,
                    "\"pre_tokenizer\": {\"type\": \"ByteLevel\"}");
  auto withSplit = [&](const std::string &split) {
    std::string file = readFile(kDir + "/tokenizer-gpt2.json");
    size_t at = file.find("\"pre_tokenizer\": {");
    size_t end = file.find("},", at) + 1;
    return file.replace(at, end - at, "\"pre_tokenizer\": " + split);
  };
  std::string badSplit = withSplit(
      R"({"type": "Split", "pattern": {"Regex": "(?<"}, "behavior": "Isolated", "invert": false})");
  std::string mergedSplit = withSplit(
      R"({"type": "Split", "pattern": {"Regex": "a"}, "behavior": "MergedWithPrevious", "invert": false})");
  Case cases[] = {
      {TokenizerFormat::SentencePiece, "not a model", "",
       "f: not a SentencePiece model"},
      {TokenizerFormat::HuggingFaceJson, "{", "", "f: not a JSON object"},
      {TokenizerFormat::HuggingFaceJson, json.substr(0, json.size() / 2), "",
       "f: not a JSON object"},
      {TokenizerFormat::HuggingFaceJson, R"({"model": {"type": "Unigram"}})",
       "", "f: model type 'Unigram' is not supported"},
      {TokenizerFormat::HuggingFaceJson, byteLevel, "",
       "f: byte-level model with 'byte_fallback' is not supported"},
      {TokenizerFormat::HuggingFaceJson, badSplit, "",
       "f: the split pattern '(?<' does not compile at offset"},
      {TokenizerFormat::HuggingFaceJson, mergedSplit, "",
       "f: Split behaviour 'MergedWithPrevious' is not supported"},
      {TokenizerFormat::HuggingFaceJson,
       R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}})",
       "", "f: merge 'a b' names a piece not in the vocab"},
      {TokenizerFormat::HuggingFaceJson, json, "[1]",
       "f: tokenizer_config.json: not a JSON object"},
      {TokenizerFormat::HuggingFaceJson, json, R"({"eos_token": "<eot>"})",
       "f: tokenizer_config.json: eos_token '<eot>' is not in the "
       "vocabulary"},
  };
  for (const Case &c : cases) {
    Status status =
        Tokenizer::load(c.format, c.bytes, c.config, "f", tokenizer);
    ASSERT_FALSE(status) << c.message;
    EXPECT_EQ(status.message().rfind(c.message, 0), 0u) << status.message();
    EXPECT_EQ(status.message().find('\n'), std::string::npos);
  }
}

/// A SentencePiece model trained on a few generated sentences.
std::unique_ptr<Tokenizer> trainSmall() {
  std::vector<std::string> lines;
  const char *words[] = {"sparse", "expert", "router", "token", "weights",
                         "the",    "reads",  "a",      "über",  "Größe"};
  for (int i = 0; i < 300; ++i) {
    std::string line;
    for (int w = 0; w < 8; ++w)
      line += std::string(w ? " " : "") + words[(i * 7 + w * 3) % 10];
    lines.push_back(line);
  }
  struct Iterator : sentencepiece::SentenceIterator {
    std::vector<std::string> *lines;
    size_t i = 0;
    bool done() const override { return i >= lines->size(); }
    void Next() override { ++i; }
    const std::string &value() const override { return (*lines)[i]; }
    sentencepiece::util::Status status() const override { return {}; }
  } iterator;
  iterator.lines = &lines;
  std::string model;
  auto status = sentencepiece::SentencePieceTrainer::Train(
      "--model_type=bpe --vocab_size=300 --byte_fallback=true "
      "--character_coverage=1.0 --normalization_rule_name=identity "
      "--remove_extra_whitespaces=false --minloglevel=2",
      &iterator, &model);
  EXPECT_TRUE(status.ok()) << status.ToString();
  std::unique_ptr<Tokenizer> tokenizer;
  EXPECT_TRUE(Tokenizer::load(TokenizerFormat::SentencePiece, model, "",
                              "trained", tokenizer));
  return tokenizer;
}

TEST(Tokenizer, RoundTripsUtf8AndByteFallback) {
  std::unique_ptr<Tokenizer> tokenizer = trainSmall();
  ASSERT_TRUE(tokenizer);
  for (std::string text :
       {"the sparse expert", "Größe über alles", "日本語 and 한국어",
        "emoji \xF0\x9F\x99\x82 ok", "tabs\tand\nnewlines", "  spaced  "}) {
    std::vector<int32_t> ids;
    tokenizer->encode(text, ids);
    EXPECT_EQ(tokenizer->decode(ids), text);
  }
  // Characters the model never saw are bytes.
  std::vector<int32_t> ids;
  tokenizer->encode("\xE6\x97\xA5", ids); // 日
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(tokenizer->bytes(ids[ids.size() - 3]), "\xE6");
}

TEST(Tokenizer, StreamsWholeCharacters) {
  std::unique_ptr<Tokenizer> tokenizer = trainSmall();
  ASSERT_TRUE(tokenizer);
  std::string text = " über 日本 \xF0\x9F\x99\x82 reads";
  std::vector<int32_t> ids;
  tokenizer->encode(text, ids);
  TextStream stream(*tokenizer);
  std::string streamed;
  for (int32_t id : ids) {
    std::string piece = stream.push(id);
    // Every piece handed out is whole UTF-8.
    EXPECT_EQ(completeUtf8(piece), piece.size());
    streamed += piece;
  }
  streamed += stream.flush();
  EXPECT_EQ(streamed, " " + text);
}

TEST(Tokenizer, StopStringsEndTheStream) {
  std::unique_ptr<Tokenizer> tokenizer = trainSmall();
  ASSERT_TRUE(tokenizer);
  std::vector<int32_t> ids;
  tokenizer->encode("the sparse expert reads the weights", ids);
  TextStream stream(*tokenizer, {"expert r", "never"});
  std::string streamed;
  for (int32_t id : ids) {
    streamed += stream.push(id);
    if (stream.stopped())
      break;
  }
  EXPECT_TRUE(stream.stopped());
  EXPECT_EQ(streamed, " the sparse ");
  EXPECT_EQ(stream.flush(), "");
}

TEST(Tokenizer, InvalidBytesBecomeReplacementCharacters) {
  EXPECT_EQ(validUtf8("ok \xC3\xBC"), "ok \xC3\xBC");
  EXPECT_EQ(validUtf8("a\xFF"
                      "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(validUtf8("\xE6\x97"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(validUtf8("\xED\xA0\x80"), // a surrogate
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(validUtf8("\xF0\x9F\x99\x82"), "\xF0\x9F\x99\x82");
}

TEST(Tokenizer, CompleteUtf8) {
  EXPECT_EQ(completeUtf8("abc"), 3u);
  EXPECT_EQ(completeUtf8("a\xC3"), 1u);
  EXPECT_EQ(completeUtf8("a\xC3\xBC"), 3u);
  EXPECT_EQ(completeUtf8("\xF0\x9F\x99"), 0u);
  EXPECT_EQ(completeUtf8("\xF0\x9F\x99\x82"), 4u);
}

} // namespace
