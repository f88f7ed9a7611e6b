//===- TokenizerTrainer.h - tokenizers for synthesised checkpoints -*- C++
//-*-===//

#ifndef MOEC_COMPILER_IMPORT_TOKENIZERTRAINER_H
#define MOEC_COMPILER_IMPORT_TOKENIZERTRAINER_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>

namespace moec {

enum class ChatFormat { None, ChatML, Mistral };

/// Trains a SentencePiece BPE tokenizer of `vocabSize` pieces on the text
/// of `corpus`, with the options of Mistral's (byte fallback, digits
/// split, no normalisation) and ChatML's tokens as user-defined pieces, and
/// writes it as `dir`/tokenizer.model with a tokenizer_config.json that
/// names `chat`'s template.
llvm::Error trainTokenizer(llvm::StringRef corpus, int64_t vocabSize,
                           ChatFormat chat, llvm::StringRef dir);

} // namespace moec

#endif // MOEC_COMPILER_IMPORT_TOKENIZERTRAINER_H
