//===- ChatTemplate.cpp - the chat formats moec-run speaks --------------===//

#include "runtime/ChatTemplate.h"

using namespace moec;

Status ChatTemplate::get(const std::string &name, const Tokenizer &tokenizer,
                         const std::string &where, ChatTemplate &out) {
  std::string chosen = name;
  if (chosen == "auto") {
    const std::string &text = tokenizer.chatTemplate();
    if (text.find("<|im_start|>") != std::string::npos)
      chosen = "chatml";
    else if (text.find("[INST]") != std::string::npos)
      chosen = "mistral";
    else if (text.find("<|start_header_id|>") != std::string::npos)
      chosen = "llama3";
    else if (text.empty())
      return Status::error(StatusCode::NoChatTemplate,
                           "%s: the tokenizer names no chat template",
                           where.c_str());
    else
      return Status::error(StatusCode::NoChatTemplate,
                           "%s: the tokenizer's chat template is not one moec "
                           "knows (ChatML, Mistral's [INST] or Llama 3's "
                           "headers)",
                           where.c_str());
  }
  if (chosen == "chatml") {
    out.kind = Format::ChatML;
    // A default system turn written out as text in the template,
    // "<|im_start|>system" and a newline (itself, or Jinja's "\n"), then
    // text with no expression in it up to "<|im_end|>".
    const std::string &text = tokenizer.chatTemplate();
    const std::string open = "<|im_start|>system";
    for (size_t at = text.find(open); at != std::string::npos;
         at = text.find(open, at + 1)) {
      size_t start = at + open.size();
      if (text.compare(start, 1, "\n") == 0)
        start += 1;
      else if (text.compare(start, 2, "\\n") == 0)
        start += 2;
      else
        continue;
      size_t stop = text.find("<|im_end|>", start);
      if (stop == std::string::npos)
        break;
      std::string candidate = text.substr(start, stop - start);
      if (!candidate.empty() &&
          candidate.find_first_of("{}'\"") == std::string::npos) {
        out.defaultSystem = candidate;
        break;
      }
    }
    out.end = "<|im_end|>";
    out.endId = tokenizer.specialId(out.end);
    if (out.endId < 0)
      return Status::error("%s: the tokenizer has no <|im_end|> token, which "
                           "ChatML needs",
                           where.c_str());
  } else if (chosen == "mistral") {
    out.kind = Format::Mistral;
    out.endId = tokenizer.eos();
    if (out.endId < 0 || tokenizer.bos() < 0)
      return Status::error("%s: the tokenizer has no BOS or EOS token, which "
                           "Mistral's template needs",
                           where.c_str());
    out.end = tokenizer.piece(out.endId);
    out.bos = tokenizer.piece(tokenizer.bos());
  } else if (chosen == "llama3") {
    out.kind = Format::Llama3;
    out.end = "<|eot_id|>";
    out.endId = tokenizer.specialId(out.end);
    if (out.endId < 0 || tokenizer.specialId("<|start_header_id|>") < 0 ||
        tokenizer.specialId("<|end_header_id|>") < 0)
      return Status::error("%s: the tokenizer lacks <|eot_id|> or the header "
                           "tokens, which Llama 3's template needs",
                           where.c_str());
    if (tokenizer.bos() >= 0)
      out.bos = tokenizer.piece(tokenizer.bos());
  } else {
    return Status::error("unknown chat template '%s' (%s)", name.c_str(),
                         names());
  }
  return Status();
}

std::string ChatTemplate::userTurn(const std::string &user,
                                   const std::string &system, bool first,
                                   bool answerClosed) const {
  std::string text = first || answerClosed ? "" : end;
  if (kind == Format::ChatML) {
    if (!first)
      text += "\n";
    const std::string &prompt = system.empty() ? defaultSystem : system;
    if (first && !prompt.empty())
      text += "<|im_start|>system\n" + prompt + "<|im_end|>\n";
    return text + "<|im_start|>user\n" + user +
           "<|im_end|>\n<|im_start|>assistant\n";
  }
  if (kind == Format::Llama3) {
    auto header = [](const char *role) {
      return std::string("<|start_header_id|>") + role +
             "<|end_header_id|>\n\n";
    };
    if (first)
      text += bos;
    if (first && !system.empty())
      text += header("system") + system + end;
    return text + header("user") + user + end + header("assistant");
  }
  // Mistral's template puts the system prompt before the first message.
  if (first)
    text += bos;
  return text + "[INST] " + (first && !system.empty() ? system + "\n\n" : "") +
         user + " [/INST]";
}
