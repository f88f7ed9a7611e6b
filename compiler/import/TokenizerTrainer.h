//===- TokenizerTrainer.h - tokenizers for synthesised checkpoints -*- C++
//-*-===//

#ifndef MOEC_COMPILER_IMPORT_TOKENIZERTRAINER_H
#define MOEC_COMPILER_IMPORT_TOKENIZERTRAINER_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>

namespace moec {

enum class ChatFormat { None, ChatML, Mistral };

/// A trained tokenizer: tokenizer.model and tokenizer_config.json.
struct TrainedTokenizer {
  std::string model, config;
  /// Writes both files into `dir`.
  llvm::Error write(llvm::StringRef dir) const;
};

/// Trains a SentencePiece BPE tokenizer of `vocabSize` pieces on the text
/// of `corpus`, with the options of Mistral's (byte fallback, digits
/// split, no normalisation) and ChatML's tokens as user-defined pieces,
/// with a tokenizer_config.json that names `chat`'s template.
llvm::Expected<TrainedTokenizer>
trainTokenizer(llvm::StringRef corpus, int64_t vocabSize, ChatFormat chat);

} // namespace moec

#endif // MOEC_COMPILER_IMPORT_TOKENIZERTRAINER_H
