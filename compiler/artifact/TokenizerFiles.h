//===- TokenizerFiles.h - the tokenizer a checkpoint ships ------*- C++ -*-===//

#ifndef MOEC_COMPILER_ARTIFACT_TOKENIZERFILES_H
#define MOEC_COMPILER_ARTIFACT_TOKENIZERFILES_H

#include "compiler/artifact/ArtifactWriter.h"

namespace moec {

/// Reads the tokenizer of checkpoint directory `dir`: tokenizer.model when
/// there is one (SentencePiece, the format the Mistral family was trained
/// with), else tokenizer.json; or `file` when it is not empty. With it
/// goes tokenizer_config.json from the same directory, when present. The
/// tokenizer is loaded as the runtime will load it, and its ids must fit
/// the model's `vocabSize`. Empty bytes when the directory has none.
llvm::Expected<ArtifactTokenizer>
readTokenizer(llvm::StringRef dir, llvm::StringRef file, int64_t vocabSize);

} // namespace moec

#endif // MOEC_COMPILER_ARTIFACT_TOKENIZERFILES_H
