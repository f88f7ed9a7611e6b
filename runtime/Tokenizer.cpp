//===- Tokenizer.cpp - text to token ids and back -----------------------===//

#include "runtime/Tokenizer.h"
#include "runtime/TokenizerModels.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

using namespace moec;
using json = nlohmann::json;

Tokenizer::~Tokenizer() = default;

Status Tokenizer::load(TokenizerFormat format, std::string_view bytes,
                       std::string_view config, const std::string &where,
                       std::unique_ptr<Tokenizer> &out) {
  Status status = format == TokenizerFormat::SentencePiece
                      ? loadSentencePiece(bytes, where, out)
                      : loadHuggingFaceJson(bytes, where, out);
  if (!status)
    return status;
  return out->applyConfig(config, where);
}

Status Tokenizer::load(const Artifact &artifact,
                       std::unique_ptr<Tokenizer> &out) {
  const artifact::TokenizerInfo *info = artifact.header().tokenizer();
  Bytes bytes = artifact.segment(artifact::SegmentKind::Tokenizer);
  if (!info || !bytes.data)
    return Status::error("%s: the artifact holds no tokenizer (its checkpoint "
                         "had no tokenizer.model or tokenizer.json): give "
                         "token ids with --tokens",
                         artifact.path().c_str());
  std::string where = artifact.path() + ": " +
                      (info->file_name() ? info->file_name()->str() : "");
  std::string_view config =
      info->config_json() ? info->config_json()->string_view() : "";
  return load(
      info->format() == artifact::TokenizerFormat::SentencePiece
          ? TokenizerFormat::SentencePiece
          : TokenizerFormat::HuggingFaceJson,
      std::string_view(reinterpret_cast<const char *>(bytes.data), bytes.size),
      config, where, out);
}

void Tokenizer::addPiece(std::string text, Kind kind) {
  if (kind == Kind::Byte) {
    // "<0xE6>" stands for the byte itself.
    unsigned value = 0;
    if (std::sscanf(text.c_str(), "<0x%2X>", &value) == 1)
      text = std::string(1, char(value));
  } else if (kind == Kind::Text) {
    // SentencePiece's meta space, U+2581, is a space in text.
    for (size_t at; (at = text.find("\xE2\x96\x81")) != std::string::npos;)
      text.replace(at, 3, " ");
  }
  pieces.push_back(std::move(text));
  kinds.push_back(kind);
}

void Tokenizer::addSpecial(std::string text, int32_t id) {
  if (text.empty() || specialId(text) >= 0)
    return;
  specials.emplace_back(std::move(text), id);
  // Longest first, so that a special token that begins another never wins.
  std::sort(specials.begin(), specials.end(), [](const auto &a, const auto &b) {
    return a.first.size() != b.first.size() ? a.first.size() > b.first.size()
                                            : a.second < b.second;
  });
}

int32_t Tokenizer::specialId(std::string_view text) const {
  for (const auto &[special, id] : specials)
    if (special == text)
      return id;
  return -1;
}

const std::string &Tokenizer::piece(int32_t id) const {
  static const std::string none;
  return id < 0 || id >= size() ? none : pieces[id];
}

const std::string &Tokenizer::bytes(int32_t id) const {
  static const std::string none;
  if (id < 0 || id >= size() || kinds[id] == Kind::Control)
    return none;
  return pieces[id];
}

void Tokenizer::encode(std::string_view text, std::vector<int32_t> &ids) const {
  size_t pos = 0;
  while (pos < text.size()) {
    // The earliest special token, the longest at that place.
    size_t match = std::string_view::npos;
    const std::pair<std::string, int32_t> *found = nullptr;
    for (const auto &special : specials) {
      size_t at = text.find(special.first, pos);
      if (at < match) {
        match = at;
        found = &special;
      }
    }
    size_t end = found ? match : text.size();
    if (end > pos)
      encodeText(text.substr(pos, end - pos), pos == 0, ids);
    if (!found)
      break;
    ids.push_back(found->second);
    pos = match + found->first.size();
  }
}

std::string Tokenizer::decode(const std::vector<int32_t> &ids) const {
  std::string text;
  for (int32_t id : ids)
    if (id >= 0 && id < size())
      text += pieces[id];
  if (stripLeadingSpace && !text.empty() && text[0] == ' ')
    text.erase(0, 1);
  return validUtf8(text);
}

namespace {

/// A special token's text: a string, or an object with "content".
std::string tokenContent(const json &value) {
  if (value.is_string())
    return value.get<std::string>();
  if (value.is_object() && value.contains("content") &&
      value["content"].is_string())
    return value["content"].get<std::string>();
  return "";
}

} // namespace

Status Tokenizer::applyConfig(std::string_view config,
                              const std::string &where) {
  if (config.empty())
    return Status();
  std::string file = where + ": tokenizer_config.json";
  json root = json::parse(config.begin(), config.end(), nullptr,
                          /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object())
    return Status::error("%s: not a JSON object", file.c_str());

  // Added tokens the model file does not have (ChatML's, for example).
  if (root.contains("added_tokens_decoder")) {
    const json &added = root["added_tokens_decoder"];
    if (!added.is_object())
      return Status::error("%s: added_tokens_decoder is not an object",
                           file.c_str());
    for (const auto &[key, token] : added.items()) {
      char *end = nullptr;
      long id = std::strtol(key.c_str(), &end, 10);
      std::string content = tokenContent(token);
      if (*end || id < 0 || id > (1 << 24) || content.empty())
        return Status::error("%s: added token '%s' has no valid id or "
                             "content",
                             file.c_str(), key.c_str());
      while (size() <= id)
        addPiece("", Kind::Text);
      if (pieces[id].empty() || kinds[id] == Kind::Control ||
          pieces[id] == content)
        pieces[id] = content;
      bool special = token.contains("special") && token["special"].is_boolean()
                         ? token["special"].get<bool>()
                         : true;
      if (special)
        kinds[id] = Kind::Control;
      addSpecial(content, id);
    }
  }

  auto idOf = [&](const std::string &text) -> int32_t {
    if (int32_t id = specialId(text); id >= 0)
      return id;
    for (int32_t id = 0; id < size(); ++id)
      if (pieces[id] == text)
        return id;
    return -1;
  };
  for (auto [key, target] :
       {std::pair{"bos_token", &bosId}, std::pair{"eos_token", &eosId}}) {
    if (!root.contains(key) || root[key].is_null())
      continue;
    std::string content = tokenContent(root[key]);
    int32_t id = idOf(content);
    if (id < 0)
      return Status::error("%s: %s '%s' is not in the vocabulary", file.c_str(),
                           key, content.c_str());
    *target = id;
  }
  if (root.contains("add_bos_token") && root["add_bos_token"].is_boolean())
    addBos = root["add_bos_token"].get<bool>();

  // One template, or a list of named ones of which "default" is used.
  if (root.contains("chat_template")) {
    const json &chat = root["chat_template"];
    if (chat.is_string())
      templateText = chat.get<std::string>();
    else if (chat.is_array())
      for (const json &named : chat)
        if (named.is_object() && named.contains("name") &&
            named["name"] == "default" && named.contains("template") &&
            named["template"].is_string())
          templateText = named["template"].get<std::string>();
  }
  return Status();
}

std::string moec::validUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    unsigned char c = text[i];
    size_t len = c < 0x80                ? 1
                 : c >= 0xC2 && c < 0xE0 ? 2
                 : c >= 0xE0 && c < 0xF0 ? 3
                 : c >= 0xF0 && c < 0xF5 ? 4
                                         : 0;
    bool valid = len && i + len <= text.size();
    for (size_t k = 1; valid && k < len; ++k)
      valid = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    if (valid && len >= 3) {
      // No overlong forms, surrogates or code points past U+10FFFF.
      unsigned char d = text[i + 1];
      valid = !(c == 0xE0 && d < 0xA0) && !(c == 0xED && d >= 0xA0) &&
              !(c == 0xF0 && d < 0x90) && !(c == 0xF4 && d >= 0x90);
    }
    if (!valid) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    out.append(text, i, len);
    i += len;
  }
  return out;
}

size_t moec::completeUtf8(std::string_view text) {
  size_t n = text.size();
  // Look back at most 3 bytes for the lead byte of a cut character.
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    unsigned char c = text[n - back];
    if ((c & 0xC0) == 0x80)
      continue; // a continuation byte
    size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return need > back ? n - back : n;
  }
  return n;
}

std::string TextStream::push(int32_t id) {
  if (hitStop)
    return "";
  held += tokenizer.bytes(id);
  size_t whole = completeUtf8(held);
  std::string_view text(held.data(), whole);
  // A stop string ends the text before it.
  size_t stopAt = std::string_view::npos;
  for (const std::string &stop : stops)
    if (!stop.empty())
      stopAt = std::min(stopAt, text.find(stop));
  if (stopAt != std::string_view::npos) {
    hitStop = true;
    std::string out = validUtf8(text.substr(0, stopAt));
    held.clear();
    return out;
  }
  // Keep back an end that may begin a stop string.
  size_t keep = 0;
  for (const std::string &stop : stops)
    for (size_t len = std::min(stop.size(), text.size() + 1) - 1; len > keep;
         --len)
      if (text.substr(text.size() - len) == stop.substr(0, len)) {
        keep = len;
        break;
      }
  std::string out = validUtf8(text.substr(0, whole - keep));
  held.erase(0, whole - keep);
  return out;
}

std::string TextStream::flush() {
  std::string out;
  if (!hitStop)
    out = validUtf8(held);
  held.clear();
  return out;
}
