//===- Batcher.cpp - continuous batching of answers ---------------------===//

#include "runtime/Batcher.h"

#include <algorithm>
#include <chrono>

using namespace moec;

namespace {

double now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

} // namespace

Batcher::Batcher(Model &model, const Tokenizer *tokenizer, std::string where)
    : model(model), tokenizer(tokenizer), where(std::move(where)),
      slots(size_t(model.sequences())) {}

bool Batcher::submit(std::shared_ptr<BatchRequest> request,
                     int64_t maxWaiting) {
  {
    std::lock_guard<std::mutex> guard(lock);
    // Requests wait only when every sequence is taken.
    int64_t free = int64_t(slots.size()) - busy.load();
    if (stopping || int64_t(queue.size()) >= maxWaiting + free)
      return false;
    queue.push_back(std::move(request));
  }
  wake.notify_one();
  return true;
}

void Batcher::stop(bool cancel) {
  {
    std::lock_guard<std::mutex> guard(lock);
    stopping = true;
    cancelling = cancel;
  }
  wake.notify_all();
}

int64_t Batcher::waiting() const {
  std::lock_guard<std::mutex> guard(lock);
  return int64_t(queue.size());
}

int64_t Batcher::running() const { return busy.load(); }

BatcherStats Batcher::stats() const {
  std::lock_guard<std::mutex> guard(lock);
  return totals;
}

void Batcher::run() {
  for (;;) {
    {
      std::unique_lock<std::mutex> guard(lock);
      if (!admit(guard))
        return;
    }
    step();
  }
}

bool Batcher::admit(std::unique_lock<std::mutex> &guard) {
  for (;;) {
    if (cancelling) {
      for (const auto &request : queue)
        request->cancelled = true;
      for (Active &a : slots)
        if (a.request)
          a.request->cancelled = true;
    }
    for (size_t s = 0; s < slots.size() && !queue.empty(); ++s) {
      Active &a = slots[s];
      if (a.request)
        continue;
      a.request = std::move(queue.front());
      queue.pop_front();
      a.generation = Generation();
      a.generation.promptIds = a.request->prompt;
      a.generation.promptTokens = int64_t(a.request->prompt.size());
      a.continuation = std::make_unique<Continuation>(
          tokenizer, a.request->options, a.request->ends, a.request->onText,
          a.generation);
      a.read = 0;
      a.next = -1;
      a.decoding = false;
      a.joined = now();
      model.reset(int64_t(s));
      // A prompt that cannot run (too long for a sequence, or ids outside
      // the vocabulary) fails at the next step, alone.
      const std::vector<int32_t> &prompt = a.request->prompt;
      a.rejected = model.checkTokens(int64_t(s), prompt.data(),
                                     int64_t(prompt.size()));
      ++busy;
    }
    if (busy > 0)
      return true;
    if (stopping)
      return false;
    wake.wait(guard);
  }
}

void Batcher::finish(Active &a, const Status &status) {
  if (a.decoding)
    a.generation.decodeSeconds = now() - a.started;
  std::shared_ptr<BatchRequest> request = std::move(a.request);
  a.continuation.reset();
  --busy;
  if (request->onDone)
    request->onDone(status, a.generation);
}

void Batcher::step() {
  int64_t vocab = model.vocabSize();
  // Answers cancelled, or whose prompt cannot run, leave first.
  for (Active &a : slots) {
    if (!a.request)
      continue;
    if (a.request->cancelled) {
      a.generation.reason = StopReason::Cancelled;
      finish(a, Status());
    } else if (!a.rejected) {
      finish(a, a.rejected.withContext(where));
    }
  }

  // A chunk of the prompt that has waited longest, first (a call's first
  // part may have many tokens), then a token of each decoding answer.
  std::vector<Model::BatchPart> decodes;
  int64_t reading = -1;
  for (size_t s = 0; s < slots.size(); ++s) {
    const Active &a = slots[s];
    if (!a.request)
      continue;
    if (a.decoding)
      decodes.push_back({int64_t(s), &a.next, 1});
    else if (reading < 0 || a.joined < slots[reading].joined)
      reading = int64_t(s);
  }
  std::vector<Model::BatchPart> parts;
  if (reading >= 0) {
    // The chunk leaves room in the call for every decoding answer's token.
    const Active &r = slots[reading];
    const std::vector<int32_t> &prompt = r.request->prompt;
    int64_t n = std::min({model.prefillChunk(),
                          model.maxTokensPerRun() - int64_t(decodes.size()),
                          int64_t(prompt.size()) - r.read});
    parts.push_back({reading, prompt.data() + r.read, n});
  }
  parts.insert(parts.end(), decodes.begin(), decodes.end());
  if (parts.empty())
    return;

  logits.resize(parts.size() * size_t(vocab));
  double start = now();
  Status status = model.forwardBatch(parts, logits.data());
  double end = now();
  {
    std::lock_guard<std::mutex> guard(lock);
    ++totals.steps;
    totals.stepSeconds += end - start;
    for (const Model::BatchPart &p : parts)
      (slots[p.sequence].decoding ? totals.decodeTokens
                                  : totals.promptTokens) += p.count;
  }
  if (!status) {
    for (const Model::BatchPart &p : parts)
      finish(slots[p.sequence], Status(status).withContext(where));
    return;
  }

  for (size_t i = 0; i < parts.size(); ++i) {
    Active &a = slots[parts[i].sequence];
    if (a.decoding) {
      ++a.generation.decodeSteps;
      a.generation.pending = -1;
    } else {
      a.read += parts[i].count;
      // A prompt's chunk before its last has no row to sample.
      if (a.read < int64_t(a.request->prompt.size()))
        continue;
      a.decoding = true;
      a.started = end;
      a.generation.promptSeconds = end - a.joined;
      if (a.request->options.maxNewTokens <= 0) {
        a.generation.reason = StopReason::Length;
        finish(a, Status());
        continue;
      }
    }
    bool more = false;
    int32_t next = 0;
    Status st = a.continuation->step(
        logits.data() + i * size_t(vocab), vocab,
        model.length(parts[i].sequence) < model.maxSeqLen(), more, next, where);
    if (!st || !more)
      finish(a, st);
    else
      a.next = next;
  }
}
