//===- Generator.cpp - tokens after a prompt ----------------------------===//

#include "runtime/Generator.h"

#include <algorithm>
#include <chrono>
#include <memory>

using namespace moec;

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

} // namespace

std::vector<int32_t> moec::endTokens(const artifact::ModelConfig &config,
                                     const Tokenizer *tokenizer,
                                     int32_t endOfTurn) {
  std::vector<int64_t> candidates = {
      config.eos_token_id(), int64_t(tokenizer ? tokenizer->eos() : -1),
      int64_t(endOfTurn)};
  if (config.eos_token_ids())
    candidates.insert(candidates.end(), config.eos_token_ids()->begin(),
                      config.eos_token_ids()->end());
  std::vector<int32_t> ends;
  for (int64_t id : candidates)
    if (id >= 0 && id < config.vocab_size() &&
        std::find(ends.begin(), ends.end(), int32_t(id)) == ends.end())
      ends.push_back(int32_t(id));
  return ends;
}

const char *moec::stopReasonName(StopReason reason) {
  switch (reason) {
  case StopReason::Eos:
    return "eos";
  case StopReason::Stop:
    return "stop";
  case StopReason::Length:
    return "length";
  case StopReason::Context:
    return "context";
  case StopReason::Cancelled:
    return "cancelled";
  }
  return "?";
}

Continuation::Continuation(const Tokenizer *tokenizer,
                           const GenerationOptions &options,
                           std::vector<int32_t> ends, TextFn onText,
                           Generation &out)
    : options(options), ends(std::move(ends)), onText(std::move(onText)),
      out(out), sampler(options.sampling) {
  if (tokenizer)
    stream = std::make_unique<TextStream>(*tokenizer, options.stops);
}

bool Continuation::emit(const std::string &text) {
  if (text.empty() || !onText || onText(text))
    return true;
  out.reason = StopReason::Cancelled;
  return false;
}

void Continuation::flush() {
  if (!stream || out.reason == StopReason::Cancelled)
    return;
  std::string rest = stream->flush();
  out.text += rest;
  emit(rest);
}

Status Continuation::step(const float *row, int64_t vocab, bool room,
                          bool &more, int32_t &next,
                          const std::string &where) {
  more = false;
  if (Status s = sampler.sample(row, vocab, next); !s)
    return s.withContext(where);
  out.pending = next;
  auto ended = [&](StopReason reason) {
    out.reason = reason;
    flush();
    return Status();
  };
  if (std::find(ends.begin(), ends.end(), next) != ends.end())
    return ended(StopReason::Eos);
  int64_t n = int64_t(out.tokens.size());
  out.tokens.push_back(next);
  if (stream) {
    std::string text = stream->push(next);
    out.text += text;
    if (!emit(text))
      return Status();
    if (stream->stopped())
      return ended(StopReason::Stop);
  } else if (!emit((n ? "," : "") + std::to_string(next))) {
    return Status();
  }
  if (n + 1 >= options.maxNewTokens)
    return ended(StopReason::Length);
  if (!room)
    return ended(StopReason::Context);
  more = true;
  return Status();
}

Status Generator::generate(const std::vector<int32_t> &input,
                           const std::vector<int32_t> &ends, Generation &out,
                           const TextFn &onText, const std::string &where,
                           std::vector<float> *promptLogits) {
  int64_t vocab = model.vocabSize();
  if (model.length() + int64_t(input.size()) > model.maxSeqLen())
    return Status::error("%zu more tokens do not fit the KV cache (%lld of "
                         "%lld positions used; --max-seq-len)",
                         input.size(), (long long)model.length(),
                         (long long)model.maxSeqLen());
  // Every position's logits only where they are written out.
  auto outputs = promptLogits ? Model::Outputs::All : Model::Outputs::Last;
  std::vector<float> logits(model.outputSize(input.size(), outputs));
  Clock::time_point start = Clock::now();
  if (Status s = model.forward(input.data(), input.size(), logits.data(),
                               outputs);
      !s)
    return s;
  out.promptSeconds = secondsSince(start);
  out.promptTokens = int64_t(input.size());
  out.promptIds = input;

  std::vector<float> row(logits.end() - vocab, logits.end());
  if (promptLogits)
    *promptLogits = std::move(logits);
  Continuation continuation(tokenizer, options, ends, onText, out);
  start = Clock::now();
  // No token at all: the budget is spent before the first.
  if (options.maxNewTokens <= 0)
    out.reason = StopReason::Length;
  for (bool more = options.maxNewTokens > 0; more;) {
    int32_t next = 0;
    if (Status s = continuation.step(row.data(), vocab,
                                     model.length() < model.maxSeqLen(), more,
                                     next, where);
        !s)
      return s;
    if (!more)
      break;
    ++out.decodeSteps;
    if (Status s = model.forward(&next, 1, row.data(), Model::Outputs::Last);
        !s)
      return s;
    out.pending = -1;
  }
  out.decodeSeconds = secondsSince(start);
  return Status();
}
