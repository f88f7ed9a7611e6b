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
#include <memory>
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

/// Text (with a tokenizer) or token ids (without) as it becomes final;
/// returning false cancels the generation.
using TextFn = std::function<bool(const std::string &)>;

/// What follows each row of logits of one answer, whether its sequence
/// runs alone (Generator) or among others (Batcher): the sampler, the end
/// tokens, the stop strings, the token budget and the text callback.
class Continuation {
public:
  Continuation(const Tokenizer *tokenizer, const GenerationOptions &options,
               std::vector<int32_t> ends, TextFn onText, Generation &out);

  /// Takes the row of logits after the last token run and chooses the next
  /// token. `more`: whether the answer goes on with `next` (to be run);
  /// otherwise out.reason says why it ended and the text is flushed.
  /// `room`: whether the sequence's cache has a position left for `next`.
  /// An error when the row cannot be sampled; `where` names the model.
  Status step(const float *row, int64_t vocab, bool room, bool &more,
              int32_t &next, const std::string &where);

private:
  /// Passes text on; false (out.reason Cancelled) when the callback says
  /// stop.
  bool emit(const std::string &text);
  /// The text held back for a stop string, at the end.
  void flush();

  GenerationOptions options;
  std::vector<int32_t> ends;
  TextFn onText;
  Generation &out;
  Sampler sampler;
  std::unique_ptr<TextStream> stream;
};

class Generator {
public:
  using TextFn = moec::TextFn;

  Generator(Model &model, const Tokenizer *tokenizer,
            const GenerationOptions &options)
      : model(model), tokenizer(tokenizer), options(options) {}

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
};

} // namespace moec

#endif // MOEC_RUNTIME_GENERATOR_H
