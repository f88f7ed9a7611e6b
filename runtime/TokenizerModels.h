//===- TokenizerModels.h - the loaders of each tokenizer file ---*- C++ -*-===//
//
// Internal to the tokenizer: Tokenizer::load picks one by format.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_RUNTIME_TOKENIZERMODELS_H
#define MOEC_RUNTIME_TOKENIZERMODELS_H

#include "runtime/Tokenizer.h"

namespace moec {

/// SentencePiece's tokenizer.model, through libsentencepiece.
Status loadSentencePiece(std::string_view bytes, const std::string &where,
                         std::unique_ptr<Tokenizer> &out);

/// HuggingFace's tokenizer.json: BPE with byte fallback and the
/// normalisers, pre-tokenisers and decoders of the Llama/Mistral family.
Status loadHuggingFaceJson(std::string_view bytes, const std::string &where,
                           std::unique_ptr<Tokenizer> &out);

} // namespace moec

#endif // MOEC_RUNTIME_TOKENIZERMODELS_H
