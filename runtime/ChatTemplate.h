//===- ChatTemplate.h - the chat formats moec-run speaks --------*- C++ -*-===//
//
// tokenizer_config.json names its chat template as Jinja text; moec reads
// no Jinja but recognises the formats its models use and writes their
// turns itself: ChatML (TurboSparse, SmolLM), Mistral's [INST] ... [/INST]
// and Llama 3's role headers.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_RUNTIME_CHATTEMPLATE_H
#define MOEC_RUNTIME_CHATTEMPLATE_H

#include "runtime/Tokenizer.h"

#include <string>

namespace moec {

class ChatTemplate {
public:
  enum class Format { ChatML, Mistral, Llama3 };

  /// The template called `name` ("chatml", "mistral"), or the one the
  /// tokenizer's chat_template is written in when `name` is "auto"; an
  /// error naming `where` when there is none or it is not one of these.
  static Status get(const std::string &name, const Tokenizer &tokenizer,
                    const std::string &where, ChatTemplate &out);
  /// The names get() takes, for messages.
  static const char *names() { return "auto, chatml, mistral or llama3"; }

  /// The text of a user turn, with its special tokens written out: the
  /// first turn carries `system` (or the template's default) and BOS where
  /// the format has them; a later turn closes the previous answer first,
  /// `answerClosed` telling whether the model ended it itself.
  std::string userTurn(const std::string &user, const std::string &system,
                       bool first, bool answerClosed) const;
  /// The token that ends the model's answer.
  int32_t endOfAnswer() const { return endId; }

private:
  Format kind = Format::ChatML;
  int32_t endId = -1;
  std::string bos, end;
  /// ChatML: the system prompt the template writes when the messages have
  /// none (SmolLM's, Qwen's).
  std::string defaultSystem;
};

} // namespace moec

#endif // MOEC_RUNTIME_CHATTEMPLATE_H
