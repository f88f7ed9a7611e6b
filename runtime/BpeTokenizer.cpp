//===- BpeTokenizer.cpp - HuggingFace tokenizer.json --------------------===//
//
// The tokenizer.json of the Llama/Mistral family: a BPE model over
// SentencePiece-style pieces ('▁' for space) with byte fallback, the
// normaliser Prepend('▁') + Replace(' ', '▁') or the Metaspace
// pre-tokeniser, and added tokens matched before either. Other families'
// files (byte-level BPE, WordPiece, Unigram) are refused by name.
//
//===----------------------------------------------------------------------===//

#include "runtime/TokenizerModels.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <queue>
#include <unordered_map>

using namespace moec;
using json = nlohmann::json;

namespace {

const char *const kMetaSpace = "\xE2\x96\x81";

class BpeTokenizer : public Tokenizer {
public:
  Status init(std::string_view bytes, const std::string &where);

protected:
  void encodeText(std::string_view text, bool first,
                  std::vector<int32_t> &ids) const override;

private:
  /// One step of the normaliser.
  struct Rewrite {
    bool prepend; // else replace `from` by `to`
    std::string from, to;
  };
  enum class Prepend { Always, First, Never };

  Status readNormalizer(const json &node, const std::string &where);
  Status readPreTokenizer(const json &node, const std::string &where);
  Status readDecoder(const json &node, const std::string &where);
  void encodeWord(std::string_view word, std::vector<int32_t> &ids) const;

  std::vector<Rewrite> normalizer;
  bool metaspace = false, splitWords = false;
  std::string replacement = kMetaSpace;
  Prepend prependScheme = Prepend::Always;

  std::unordered_map<std::string, int32_t> vocab;
  /// (left id, right id) -> (rank, merged id).
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges;
  int32_t unkId = -1;
  bool byteFallback = false, fuseUnk = false, ignoreMerges = false;
  int32_t byteIds[256];
};

uint64_t pairKey(int32_t left, int32_t right) {
  return uint64_t(uint32_t(left)) << 32 | uint32_t(right);
}

std::string typeOf(const json &node) {
  return node.is_object() && node.contains("type") && node["type"].is_string()
             ? node["type"].get<std::string>()
             : "";
}

std::string stringField(const json &node, const char *key) {
  return node.contains(key) && node[key].is_string()
             ? node[key].get<std::string>()
             : "";
}

/// Replace's pattern: {"String": s}; regex patterns are not read.
bool replacePattern(const json &node, std::string &from, std::string &to) {
  if (!node.contains("pattern") || !node["pattern"].is_object() ||
      !node["pattern"].contains("String") ||
      !node["pattern"]["String"].is_string() || !node.contains("content") ||
      !node["content"].is_string())
    return false;
  from = node["pattern"]["String"].get<std::string>();
  to = node["content"].get<std::string>();
  return !from.empty();
}

Status unsupported(const std::string &where, const char *what,
                   const std::string &type) {
  return Status::error("%s: %s '%s' is not supported (moec reads the "
                       "SentencePiece-style BPE of the Llama/Mistral family)",
                       where.c_str(), what, type.c_str());
}

Status BpeTokenizer::readNormalizer(const json &node,
                                    const std::string &where) {
  if (node.is_null())
    return Status();
  std::string type = typeOf(node);
  if (type == "Sequence" && node.contains("normalizers") &&
      node["normalizers"].is_array()) {
    for (const json &step : node["normalizers"])
      if (Status status = readNormalizer(step, where); !status)
        return status;
    return Status();
  }
  if (type == "Prepend" && !stringField(node, "prepend").empty()) {
    normalizer.push_back({true, "", stringField(node, "prepend")});
    return Status();
  }
  Rewrite rewrite{false, "", ""};
  if (type == "Replace" && replacePattern(node, rewrite.from, rewrite.to)) {
    normalizer.push_back(rewrite);
    return Status();
  }
  return unsupported(where, "normalizer", type);
}

Status BpeTokenizer::readPreTokenizer(const json &node,
                                      const std::string &where) {
  if (node.is_null())
    return Status();
  std::string type = typeOf(node);
  if (type == "Sequence" && node.contains("pretokenizers") &&
      node["pretokenizers"].is_array()) {
    for (const json &step : node["pretokenizers"])
      if (Status status = readPreTokenizer(step, where); !status)
        return status;
    return Status();
  }
  if (type != "Metaspace")
    return unsupported(where, "pre_tokenizer", type);
  metaspace = true;
  if (std::string r = stringField(node, "replacement"); !r.empty())
    replacement = r;
  // Older files say add_prefix_space instead of prepend_scheme.
  std::string scheme = stringField(node, "prepend_scheme");
  if (scheme.empty() && node.contains("add_prefix_space") &&
      node["add_prefix_space"].is_boolean())
    scheme = node["add_prefix_space"].get<bool>() ? "always" : "never";
  if (scheme == "first")
    prependScheme = Prepend::First;
  else if (scheme == "never")
    prependScheme = Prepend::Never;
  else if (!scheme.empty() && scheme != "always")
    return unsupported(where, "Metaspace prepend_scheme", scheme);
  splitWords = !node.contains("split") ||
               (node["split"].is_boolean() && node["split"].get<bool>());
  return Status();
}

Status BpeTokenizer::readDecoder(const json &node, const std::string &where) {
  stripLeadingSpace = false;
  auto visit = [&](const json &step, auto &self) -> Status {
    std::string type = typeOf(step);
    std::string from, to;
    if (type == "Sequence" && step.contains("decoders") &&
        step["decoders"].is_array()) {
      for (const json &inner : step["decoders"])
        if (Status status = self(inner, self); !status)
          return status;
      return Status();
    }
    if (type == "ByteFallback" || type == "Fuse")
      return Status();
    if (type == "Replace" && replacePattern(step, from, to) &&
        from == replacement && to == " ")
      return Status();
    if (type == "Strip") {
      stripLeadingSpace = step.contains("start") &&
                          step["start"].is_number_integer() &&
                          step["start"].get<int64_t>() > 0;
      return Status();
    }
    if (type == "Metaspace") {
      std::string scheme = stringField(step, "prepend_scheme");
      stripLeadingSpace = scheme != "never";
      return Status();
    }
    return unsupported(where, "decoder", type);
  };
  if (node.is_null())
    return Status();
  return visit(node, visit);
}

Status BpeTokenizer::init(std::string_view bytes, const std::string &where) {
  json root = json::parse(bytes.begin(), bytes.end(), nullptr,
                          /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object())
    return Status::error("%s: not a JSON object", where.c_str());
  const json &model = root.contains("model") ? root["model"] : json();
  std::string type = typeOf(model);
  if (type != "BPE")
    return unsupported(where, "model type", type.empty() ? "(none)" : type);
  if (!model.contains("vocab") || !model["vocab"].is_object() ||
      !model.contains("merges") || !model["merges"].is_array())
    return Status::error("%s: the BPE model has no vocab or merges",
                         where.c_str());
  for (const char *key : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (model.contains(key) && !model[key].is_null() &&
        !(model[key].is_string() && model[key].get<std::string>().empty()))
      return unsupported(where, key, stringField(model, key));

  // The vocabulary, by id.
  constexpr int64_t kMaxVocab = 1 << 24;
  std::vector<std::string> byId;
  for (const auto &[piece, value] : model["vocab"].items()) {
    if (!value.is_number_integer() || value.get<int64_t>() < 0 ||
        value.get<int64_t>() >= kMaxVocab)
      return Status::error("%s: vocab entry '%s' has no valid id",
                           where.c_str(), piece.c_str());
    int32_t id = value.get<int32_t>();
    if (size_t(id) >= byId.size())
      byId.resize(id + 1);
    byId[id] = piece;
    vocab[piece] = id;
  }
  byteFallback = model.contains("byte_fallback") &&
                 model["byte_fallback"].is_boolean() &&
                 model["byte_fallback"].get<bool>();
  fuseUnk = model.contains("fuse_unk") && model["fuse_unk"].is_boolean() &&
            model["fuse_unk"].get<bool>();
  ignoreMerges = model.contains("ignore_merges") &&
                 model["ignore_merges"].is_boolean() &&
                 model["ignore_merges"].get<bool>();
  if (std::string unk = stringField(model, "unk_token"); !unk.empty()) {
    auto it = vocab.find(unk);
    if (it == vocab.end())
      return Status::error("%s: unk_token '%s' is not in the vocab",
                           where.c_str(), unk.c_str());
    unkId = it->second;
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    auto it = vocab.find(name);
    byteIds[b] = byteFallback && it != vocab.end() ? it->second : -1;
  }
  for (size_t id = 0; id < byId.size(); ++id) {
    const std::string &piece = byId[id];
    Kind kind = Kind::Text;
    if (int32_t(id) == unkId)
      kind = Kind::Unknown;
    else if (piece.size() == 6 && piece.rfind("<0x", 0) == 0 && byteFallback &&
             byteIds[std::strtol(piece.c_str() + 3, nullptr, 16) & 255] ==
                 int32_t(id))
      kind = Kind::Byte;
    addPiece(piece, kind);
  }

  // Merges: "a b" (older files) or ["a", "b"]; rank is the position.
  int32_t rank = 0;
  for (const json &merge : model["merges"]) {
    std::string left, right;
    if (merge.is_string()) {
      std::string text = merge.get<std::string>();
      size_t space = text.find(' ', 1);
      if (space == std::string::npos)
        return Status::error("%s: merge '%s' is not two pieces", where.c_str(),
                             text.c_str());
      left = text.substr(0, space);
      right = text.substr(space + 1);
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() &&
               merge[1].is_string()) {
      left = merge[0].get<std::string>();
      right = merge[1].get<std::string>();
    } else {
      return Status::error("%s: merge %d is not two pieces", where.c_str(),
                           rank);
    }
    auto l = vocab.find(left), r = vocab.find(right),
         m = vocab.find(left + right);
    if (l == vocab.end() || r == vocab.end() || m == vocab.end())
      return Status::error("%s: merge '%s %s' names a piece not in the vocab",
                           where.c_str(), left.c_str(), right.c_str());
    merges.emplace(pairKey(l->second, r->second), std::pair{rank++, m->second});
  }

  // Added tokens: matched in text before normalisation.
  if (root.contains("added_tokens") && root["added_tokens"].is_array())
    for (const json &token : root["added_tokens"]) {
      std::string content = stringField(token, "content");
      if (!token.contains("id") || !token["id"].is_number_integer() ||
          token["id"].get<int64_t>() < 0 ||
          token["id"].get<int64_t>() >= kMaxVocab || content.empty())
        return Status::error("%s: an added token has no valid id or content",
                             where.c_str());
      int32_t id = token["id"].get<int32_t>();
      while (size() <= id)
        addPiece("", Kind::Text);
      bool special = token.contains("special") &&
                     token["special"].is_boolean() &&
                     token["special"].get<bool>();
      pieces[id] = content;
      if (special)
        kinds[id] = Kind::Control;
      addSpecial(content, id);
    }

  if (Status status = readNormalizer(
          root.contains("normalizer") ? root["normalizer"] : json(), where);
      !status)
    return status;
  if (Status status = readPreTokenizer(
          root.contains("pre_tokenizer") ? root["pre_tokenizer"] : json(),
          where);
      !status)
    return status;
  if (Status status = readDecoder(
          root.contains("decoder") ? root["decoder"] : json(), where);
      !status)
    return status;
  // The family's ids; tokenizer_config.json may say otherwise.
  for (auto [name, target] :
       {std::pair{"<s>", &bosId}, std::pair{"</s>", &eosId}})
    if (auto it = vocab.find(name); it != vocab.end())
      *target = it->second;
    else if (int32_t id = specialId(name); id >= 0)
      *target = id;
  return Status();
}

void replaceAll(std::string &text, const std::string &from,
                const std::string &to) {
  for (size_t at = 0; (at = text.find(from, at)) != std::string::npos;
       at += to.size())
    text.replace(at, from.size(), to);
}

void BpeTokenizer::encodeText(std::string_view text, bool first,
                              std::vector<int32_t> &ids) const {
  std::string s(text);
  for (const Rewrite &step : normalizer) {
    if (step.prepend) {
      if (!s.empty())
        s = step.to + s;
    } else {
      replaceAll(s, step.from, step.to);
    }
  }
  if (!metaspace) {
    encodeWord(s, ids);
    return;
  }
  replaceAll(s, " ", replacement);
  bool prepend = prependScheme == Prepend::Always ||
                 (prependScheme == Prepend::First && first);
  if (prepend && s.rfind(replacement, 0) != 0)
    s = replacement + s;
  if (!splitWords) {
    encodeWord(s, ids);
    return;
  }
  // Each replacement begins a word.
  size_t start = 0;
  while (start < s.size()) {
    size_t next = s.find(replacement, start + 1);
    if (next == std::string::npos)
      next = s.size();
    encodeWord(std::string_view(s).substr(start, next - start), ids);
    start = next;
  }
}

void BpeTokenizer::encodeWord(std::string_view word,
                              std::vector<int32_t> &ids) const {
  if (word.empty())
    return;
  if (ignoreMerges)
    if (auto it = vocab.find(std::string(word)); it != vocab.end()) {
      ids.push_back(it->second);
      return;
    }
  // Symbols: one per character, or per byte when the character is not in
  // the vocabulary; a doubly linked list that merges shorten.
  struct Symbol {
    int32_t id;
    int32_t prev, next;
  };
  std::vector<Symbol> symbols;
  for (size_t at = 0; at < word.size();) {
    unsigned char lead = word[at];
    size_t len = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    len = std::min(len, word.size() - at);
    std::string ch(word.substr(at, len));
    at += len;
    auto it = vocab.find(ch);
    if (it != vocab.end()) {
      symbols.push_back({it->second, 0, 0});
      continue;
    }
    bool bytesKnown = byteFallback;
    for (unsigned char c : ch)
      bytesKnown = bytesKnown && byteIds[c] >= 0;
    if (bytesKnown) {
      for (unsigned char c : ch)
        symbols.push_back({byteIds[c], 0, 0});
    } else if (unkId >= 0 &&
               !(fuseUnk && !symbols.empty() && symbols.back().id == unkId)) {
      symbols.push_back({unkId, 0, 0});
    }
  }
  int32_t n = int32_t(symbols.size());
  for (int32_t i = 0; i < n; ++i) {
    symbols[i].prev = i - 1;
    symbols[i].next = i + 1 < n ? i + 1 : -1;
  }
  // Lowest rank first, then leftmost: HuggingFace's order of merges.
  struct Candidate {
    int32_t rank, left, merged, leftId, rightId;
    bool operator>(const Candidate &o) const {
      return rank != o.rank ? rank > o.rank : left > o.left;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>,
                      std::greater<Candidate>>
      queue;
  auto consider = [&](int32_t left) {
    if (left < 0 || symbols[left].next < 0)
      return;
    const Symbol &l = symbols[left], &r = symbols[l.next];
    auto it = merges.find(pairKey(l.id, r.id));
    if (it != merges.end())
      queue.push({it->second.first, left, it->second.second, l.id, r.id});
  };
  for (int32_t i = 0; i < n; ++i)
    consider(i);
  while (!queue.empty()) {
    Candidate c = queue.top();
    queue.pop();
    Symbol &l = symbols[c.left];
    // Stale: either side has merged since.
    if (l.id != c.leftId || l.next < 0 || symbols[l.next].id != c.rightId)
      continue;
    Symbol &r = symbols[l.next];
    l.id = c.merged;
    r.id = -1;
    l.next = r.next;
    if (r.next >= 0)
      symbols[r.next].prev = c.left;
    consider(l.prev);
    consider(c.left);
  }
  for (int32_t i = n ? 0 : -1; i >= 0; i = symbols[i].next)
    ids.push_back(symbols[i].id);
}

} // namespace

Status moec::loadHuggingFaceJson(std::string_view bytes,
                                 const std::string &where,
                                 std::unique_ptr<Tokenizer> &out) {
  auto tokenizer = std::make_unique<BpeTokenizer>();
  if (Status status = tokenizer->init(bytes, where); !status)
    return status;
  out = std::move(tokenizer);
  return Status();
}
