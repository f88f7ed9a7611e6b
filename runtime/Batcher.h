//===- Batcher.h - continuous batching of answers ---------------*- C++ -*-===//
//
// Several answers decode together on one model: each holds one of the
// model's sequences (its own region of the KV cache), and a step runs a
// token of every decoding answer in one call of the code, whose products
// then read each weight once for all of them. New answers join between
// steps; a prompt is read in chunks, one chunk a step in the same call as
// the others' tokens, so that a long prompt does not stall them; finished
// or cancelled answers leave and free their sequence at once.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_RUNTIME_BATCHER_H
#define MOEC_RUNTIME_BATCHER_H

#include "runtime/Generator.h"
#include "runtime/Model.h"
#include "runtime/Status.h"
#include "runtime/Tokenizer.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace moec {

/// One answer for the batcher to generate.
struct BatchRequest {
  std::vector<int32_t> prompt;
  GenerationOptions options;
  /// The tokens that end the answer.
  std::vector<int32_t> ends;
  /// Text as it becomes final, on the batcher's thread; false cancels.
  TextFn onText;
  /// Called once, on the batcher's thread, when the answer ends (or fails,
  /// or is cancelled).
  std::function<void(const Status &, Generation &)> onDone;
  /// Set from any thread to end the answer before its next step.
  std::atomic<bool> cancelled{false};
};

/// The batcher's figures so far, for a server's metrics.
struct BatcherStats {
  int64_t steps = 0, decodeTokens = 0, promptTokens = 0;
  double stepSeconds = 0;
};

class Batcher {
public:
  /// Answers on `model`, as many at once as it has sequences; `where`
  /// names the model in errors.
  Batcher(Model &model, const Tokenizer *tokenizer, std::string where);

  /// Queues a request; false when every sequence is taken and
  /// `maxWaiting` requests already wait for one.
  bool submit(std::shared_ptr<BatchRequest> request, int64_t maxWaiting);
  /// Runs steps until stop(): on one thread of its own.
  void run();
  /// Ends run() once the answers in flight and those queued are done
  /// (`cancel`: they are cancelled instead).
  void stop(bool cancel);

  int64_t waiting() const;
  int64_t running() const;
  BatcherStats stats() const;

private:
  struct Active;
  /// Admits queued requests into free sequences; false when there is
  /// nothing to run and run() should end.
  bool admit(std::unique_lock<std::mutex> &lock);
  /// One call of the code: a chunk of the oldest prompt not yet read and
  /// the next token of every decoding answer.
  void step();
  /// Ends `active`'s answer with `status` and frees its sequence.
  void finish(Active &active, const Status &status);

  Model &model;
  const Tokenizer *tokenizer;
  std::string where;

  mutable std::mutex lock;
  std::condition_variable wake;
  std::deque<std::shared_ptr<BatchRequest>> queue;
  bool stopping = false, cancelling = false;
  BatcherStats totals;

  /// One per sequence; an empty request where it is free.
  struct Active {
    std::shared_ptr<BatchRequest> request;
    Generation generation;
    std::unique_ptr<Continuation> continuation;
    /// Prompt tokens in the cache; the token to run next when decoding.
    int64_t read = 0;
    int32_t next = -1;
    bool decoding = false;
    /// Why the prompt cannot run, found when the answer joined.
    Status rejected;
    /// When the answer joined, and when its prompt was read.
    double joined = 0, started = 0;
  };
  std::vector<Active> slots;
  /// A step's rows of logits, a part's each.
  std::vector<float> logits;
  std::atomic<int64_t> busy{0};
};

} // namespace moec

#endif // MOEC_RUNTIME_BATCHER_H
