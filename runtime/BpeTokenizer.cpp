//===- BpeTokenizer.cpp - HuggingFace tokenizer.json --------------------===//
//
// HuggingFace tokenizer.json files with a BPE model:
// - the Llama 2/Mistral family's: SentencePiece-style pieces ('▁' for
//   space) with byte fallback, the normaliser Prepend('▁') +
//   Replace(' ', '▁') or the Metaspace pre-tokeniser;
// - byte-level BPE (GPT-2, Llama 3, SmolLM): the text split by regular
//   expressions (the ByteLevel pre-tokeniser's own, GPT-2's, or Split
//   steps, Llama 3's), each piece's bytes as GPT-2's printable characters,
//   and the ByteLevel decoder;
// with added tokens matched before either. Other models (WordPiece,
// Unigram) and steps are refused by name.
//
//===----------------------------------------------------------------------===//

#include "runtime/TokenizerModels.h"

#include <nlohmann/json.hpp>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <array>
#include <cstdio>
#include <memory>
#include <queue>
#include <unordered_map>

using namespace moec;
using json = nlohmann::json;

namespace {

const char *const kMetaSpace = "\xE2\x96\x81";

/// GPT-2's split pattern: what the ByteLevel pre-tokeniser uses by itself.
const char *const kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

/// A compiled pattern of a split step (PCRE2, Unicode properties).
struct SplitPattern {
  std::shared_ptr<pcre2_code> code;
  /// The pieces of `text`: each match, and each stretch between matches
  /// (the Split pre-tokeniser's "Isolated" behaviour).
  void split(std::string_view text, std::vector<std::string> &out) const {
    std::unique_ptr<pcre2_match_data, void (*)(pcre2_match_data *)> match(
        pcre2_match_data_create_from_pattern(code.get(), nullptr),
        pcre2_match_data_free);
    size_t at = 0, done = 0;
    while (at <= text.size()) {
      int found = pcre2_match(code.get(),
                              reinterpret_cast<PCRE2_SPTR>(text.data()),
                              text.size(), at, 0, match.get(), nullptr);
      if (found < 0)
        break;
      PCRE2_SIZE *range = pcre2_get_ovector_pointer(match.get());
      if (range[0] > done)
        out.emplace_back(text.substr(done, range[0] - done));
      if (range[1] > range[0])
        out.emplace_back(text.substr(range[0], range[1] - range[0]));
      done = range[1];
      // An empty match moves on by a character.
      at = range[1] > range[0] ? range[1] : range[1] + 1;
      while (at < text.size() && (text[at] & 0xC0) == 0x80)
        ++at;
    }
    if (done < text.size())
      out.emplace_back(text.substr(done));
  }
};

/// GPT-2's bytes_to_unicode: the printable Latin-1 bytes stand for
/// themselves, the others for U+0100 onwards in order.
std::array<uint32_t, 256> byteCharacters() {
  std::array<uint32_t, 256> chars{};
  uint32_t next = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) ||
                     (b >= 0xAE && b <= 0xFF);
    chars[b] = printable ? b : next++;
  }
  return chars;
}

void appendUtf8(std::string &out, uint32_t c) {
  if (c < 0x80) {
    out += char(c);
  } else if (c < 0x800) {
    out += char(0xC0 | c >> 6);
    out += char(0x80 | (c & 0x3F));
  } else {
    out += char(0xE0 | c >> 12);
    out += char(0x80 | (c >> 6 & 0x3F));
    out += char(0x80 | (c & 0x3F));
  }
}

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
  Status addSplit(const std::string &pattern, const std::string &where);
  /// A vocabulary piece of a byte-level model as the bytes it stands for.
  std::string pieceBytes(const std::string &piece) const;
  Status readPreTokenizer(const json &node, const std::string &where);
  Status readDecoder(const json &node, const std::string &where);
  void encodeWord(std::string_view word, std::vector<int32_t> &ids) const;

  std::vector<Rewrite> normalizer;
  bool metaspace = false, splitWords = false;
  /// Byte-level BPE: split steps, then each piece's bytes as characters.
  bool byteLevel = false, byteLevelPrefixSpace = false;
  std::vector<SplitPattern> splits;
  std::array<uint32_t, 256> byteChars = byteCharacters();
  /// The byte each of those characters stands for (-1: none); they are
  /// below U+0144.
  std::array<int16_t, 0x144> charBytes = [&] {
    std::array<int16_t, 0x144> bytes;
    bytes.fill(-1);
    for (int b = 0; b < 256; ++b)
      bytes[byteChars[b]] = int16_t(b);
    return bytes;
  }();
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
  return Status::error("%s: %s '%s' is not supported (moec reads BPE: the "
                       "Llama/Mistral family's and byte-level)",
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
  if (type == "ByteLevel") {
    byteLevel = true;
    byteLevelPrefixSpace = node.contains("add_prefix_space") &&
                           node["add_prefix_space"].is_boolean() &&
                           node["add_prefix_space"].get<bool>();
    bool useRegex = !node.contains("use_regex") ||
                    (node["use_regex"].is_boolean() &&
                     node["use_regex"].get<bool>());
    return useRegex ? addSplit(kGpt2Pattern, where) : Status();
  }
  if (type == "Split") {
    std::string behavior = stringField(node, "behavior");
    bool invert = node.contains("invert") && node["invert"].is_boolean() &&
                  node["invert"].get<bool>();
    if (behavior != "Isolated" || invert)
      return unsupported(where, "Split behaviour",
                         behavior + (invert ? " (inverted)" : ""));
    const json &pattern =
        node.contains("pattern") ? node["pattern"] : json();
    if (pattern.is_object() && pattern.contains("Regex") &&
        pattern["Regex"].is_string())
      return addSplit(pattern["Regex"].get<std::string>(), where);
    if (pattern.is_object() && pattern.contains("String") &&
        pattern["String"].is_string()) {
      // A literal: its characters quoted.
      return addSplit("\\Q" + pattern["String"].get<std::string>() + "\\E",
                      where);
    }
    return Status::error("%s: a Split pre_tokenizer has no pattern",
                         where.c_str());
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

Status BpeTokenizer::addSplit(const std::string &pattern,
                              const std::string &where) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code *code = pcre2_compile(
      reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
      PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error, &offset,
      nullptr);
  if (!code) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof(message));
    return Status::error("%s: the split pattern '%s' does not compile at "
                         "offset %zu: %s",
                         where.c_str(), pattern.c_str(), size_t(offset),
                         reinterpret_cast<const char *>(message));
  }
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  splits.push_back({std::shared_ptr<pcre2_code>(code, pcre2_code_free)});
  return Status();
}

std::string BpeTokenizer::pieceBytes(const std::string &piece) const {
  std::string out;
  for (size_t at = 0; at < piece.size();) {
    unsigned char lead = piece[at];
    size_t len = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    len = std::min(len, piece.size() - at);
    uint32_t c = len == 1 ? lead : lead & (0x7F >> len);
    for (size_t i = 1; i < len; ++i)
      c = c << 6 | (piece[at + i] & 0x3F);
    // A character no byte stands for is kept as it is.
    if (c < charBytes.size() && charBytes[c] >= 0)
      out += char(charBytes[c]);
    else
      out += piece.substr(at, len);
    at += len;
  }
  return out;
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
    // Pieces are stored as the bytes they stand for (pieceBytes).
    if (type == "ByteLevel" && byteLevel)
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
  // The pre-tokeniser says whether pieces are byte-level.
  if (Status status = readPreTokenizer(
          root.contains("pre_tokenizer") ? root["pre_tokenizer"] : json(),
          where);
      !status)
    return status;
  if (byteLevel && (byteFallback || unkId >= 0))
    return unsupported(where, "byte-level model with",
                       byteFallback ? "byte_fallback" : "unk_token");
  for (size_t id = 0; id < byId.size(); ++id) {
    const std::string &piece = byId[id];
    if (byteLevel) {
      addPiece(pieceBytes(piece), Kind::Raw);
      continue;
    }
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
  if (byteLevel) {
    std::string s(text);
    if (byteLevelPrefixSpace && !s.empty() && s[0] != ' ')
      s = " " + s;
    // Each split step refines the pieces of the one before.
    std::vector<std::string> pieces = {s}, next;
    for (const SplitPattern &pattern : splits) {
      next.clear();
      for (const std::string &piece : pieces)
        pattern.split(piece, next);
      pieces.swap(next);
    }
    for (const std::string &piece : pieces) {
      std::string chars;
      for (unsigned char c : piece)
        appendUtf8(chars, byteChars[c]);
      encodeWord(chars, ids);
    }
    return;
  }
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
