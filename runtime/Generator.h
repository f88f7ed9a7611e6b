//===- Generator.h - tokens after a prompt ----------------------*- C++ -*-===//
//
// The loop every front end runs: a prompt through the model, then a token at
// a time through the sampler and back, until an end token, a stop string,
// the token budget or the KV cache's end. moec-run streams its text to a
// terminal; a server streams it to a client, which may go away (the
// callback then stops the loop).
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_RUNTIME_GENERATOR_H
#define MOEC_RUNTIME_GENERATOR_H

#include "runtime/Model.h"
#include "runtime/Sampler.h"
#include "runtime/Status.h"
#include "runtime/Tokenizer.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace moec {

/// Why a generation ended.
enum class StopReason {
  Eos,       ///< an end-of-sequence token
  Stop,      ///< a stop string
  Length,    ///< the token budget
  Context,   ///< the KV cache is full
  Cancelled, ///< the text callback asked to stop
};

/// The tokens that end an answer: the model's end-of-sequence ids, the
/// tokenizer's, and the chat template's end of turn (`endOfTurn`, -1:
/// none), each once and inside the vocabulary.
std::vector<int32_t> endTokens(const artifact::ModelConfig &config,
                               const Tokenizer *tokenizer, int32_t endOfTurn);

/// The name front ends give a stop reason ("eos", "stop", ...).
const char *stopReasonName(StopReason reason);

struct GenerationOptions {
  int64_t maxNewTokens = 16;
  /// Texts that end the answer (not included in it).
  std::vector<std::string> stops;
  SamplerOptions sampling;
};

struct Generation {
  std::vector<int32_t> tokens;
  std::string text;
  StopReason reason = StopReason::Length;
  std::vector<int32_t> promptIds;
  int64_t promptTokens = 0, decodeSteps = 0;
  double promptSeconds = 0, decodeSeconds = 0;
  /// The last token chosen, not yet in the KV cache; -1 when none.
  int32_t pending = -1;
};

class Generator {
public:
  /// Text (with a tokenizer) or token ids (without) as it becomes final;
  /// returning false cancels the generation.
  using TextFn = std::function<bool(const std::string &)>;

  Generator(Model &model, const Tokenizer *tokenizer,
            const GenerationOptions &options)
      : model(model), tokenizer(tokenizer), options(options),
        sampler(options.sampling) {}

  /// Generates after `input` (appended to what the model's cache holds);
  /// `ends` are the tokens that end the answer. With `promptLogits`, the
  /// logits of every prompt position are kept there. `where` names the
  /// model in errors.
  Status generate(const std::vector<int32_t> &input,
                  const std::vector<int32_t> &ends, Generation &out,
                  const TextFn &onText, const std::string &where,
                  std::vector<float> *promptLogits = nullptr);

private:
  Model &model;
  const Tokenizer *tokenizer;
  GenerationOptions options;
  Sampler sampler;
};

} // namespace moec

#endif // MOEC_RUNTIME_GENERATOR_H
