//===- Tokenizer.h - text to token ids and back -----------------*- C++ -*-===//
//
// The two tokenizer files checkpoints of the Llama/Mistral family ship:
// SentencePiece's tokenizer.model (read by libsentencepiece) and
// HuggingFace's tokenizer.json (BPE with byte fallback, read by our own
// loader). Both share special-token splitting, the piece table decoding
// uses, and tokenizer_config.json's BOS/EOS settings.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_RUNTIME_TOKENIZER_H
#define MOEC_RUNTIME_TOKENIZER_H

#include "runtime/Artifact.h"
#include "runtime/Status.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace moec {

enum class TokenizerFormat { SentencePiece, HuggingFaceJson };

class Tokenizer {
public:
  virtual ~Tokenizer();

  /// Reads a tokenizer.model (SentencePiece) or tokenizer.json
  /// (HuggingFace) from `bytes`, with tokenizer_config.json's text
  /// `config` (may be empty). `where` names the file in errors.
  static Status load(TokenizerFormat format, std::string_view bytes,
                     std::string_view config, const std::string &where,
                     std::unique_ptr<Tokenizer> &out);
  /// The tokenizer an artifact carries; an error naming the artifact when
  /// it has none.
  static Status load(const Artifact &artifact, std::unique_ptr<Tokenizer> &out);

  /// Appends the ids of `text`. Special tokens written in the text
  /// ("<|im_start|>", "</s>") become their ids; the text between them is
  /// encoded by the model. No BOS is added: see addsBos().
  void encode(std::string_view text, std::vector<int32_t> &ids) const;
  /// The text of `ids`, special tokens included, with the leading space
  /// that SentencePiece's dummy prefix adds removed.
  std::string decode(const std::vector<int32_t> &ids) const;

  /// The bytes token `id` stands for in generated text: a byte for byte
  /// pieces, the piece with '▁' as space otherwise, nothing for control
  /// tokens (BOS, EOS). Not always whole UTF-8 characters.
  const std::string &bytes(int32_t id) const;
  /// The text of token `id` as decode() writes it ("<s>" for BOS).
  const std::string &piece(int32_t id) const;
  /// The id of special token `text`, or -1.
  int32_t specialId(std::string_view text) const;

  int64_t size() const { return int64_t(pieces.size()); }
  int32_t bos() const { return bosId; }
  int32_t eos() const { return eosId; }
  /// Prompts start with BOS (tokenizer_config.json's add_bos_token).
  bool addsBos() const { return addBos; }
  /// tokenizer_config.json's chat_template; empty when it has none.
  const std::string &chatTemplate() const { return templateText; }

protected:
  /// Encodes text between special tokens; `first` when it starts the text.
  virtual void encodeText(std::string_view text, bool first,
                          std::vector<int32_t> &ids) const = 0;

  /// Raw: the text is the bytes themselves (byte-level BPE).
  enum class Kind : uint8_t { Text, Byte, Control, Unknown, Raw };
  /// Called by the loaders for every id in order.
  void addPiece(std::string text, Kind kind);
  /// Special tokens matched in text before the model sees it.
  void addSpecial(std::string text, int32_t id);
  /// Applies tokenizer_config.json (BOS/EOS, added tokens, template).
  Status applyConfig(std::string_view config, const std::string &where);

  std::vector<std::string> pieces;
  std::vector<Kind> kinds;
  std::vector<std::pair<std::string, int32_t>> specials;
  int32_t bosId = -1, eosId = -1;
  bool addBos = true;
  /// decode() drops one leading space (the dummy prefix).
  bool stripLeadingSpace = true;
  std::string templateText;
};

/// Turns generated tokens into text as they come: holds back bytes until
/// they make whole UTF-8 characters, and text that may begin one of the
/// stop strings, so that what it returns is final.
class TextStream {
public:
  explicit TextStream(const Tokenizer &tokenizer,
                      std::vector<std::string> stops = {})
      : tokenizer(tokenizer), stops(std::move(stops)) {}

  /// The new text that token `id` makes final; empty while held back.
  std::string push(int32_t id);
  /// The text still held back (at the end of generation).
  std::string flush();
  /// A stop string was generated: push() returned the text before it.
  bool stopped() const { return hitStop; }

private:
  const Tokenizer &tokenizer;
  std::vector<std::string> stops;
  std::string held;
  bool hitStop = false;
};

/// `text` with every byte that begins no valid UTF-8 character replaced by
/// U+FFFD, as HuggingFace's byte-fallback decoder does: byte tokens can
/// make any byte sequence.
std::string validUtf8(std::string_view text);

/// Length of the longest prefix of `text` that is whole UTF-8 characters
/// (invalid bytes count as whole, so that nothing is held forever).
size_t completeUtf8(std::string_view text);

} // namespace moec

#endif // MOEC_RUNTIME_TOKENIZER_H
