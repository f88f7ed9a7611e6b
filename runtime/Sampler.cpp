//===- Sampler.cpp - choosing the next token ----------------------------===//

#include "runtime/Sampler.h"

#include <algorithm>
#include <cmath>

using namespace moec;

Status Sampler::sample(const float *logits, int64_t vocab, int32_t &next) {
  // One pass finds a non-finite logit and the greedy choice (the first
  // largest): greedy decoding reads the row once.
  int64_t best = 0;
  for (int64_t i = 0; i < vocab; ++i) {
    if (!std::isfinite(logits[i]))
      return Status::error("the model's logits are not finite (%g at id "
                           "%lld): its weights are damaged; nothing is "
                           "sampled from them",
                           double(logits[i]), (long long)i);
    if (logits[i] > logits[best])
      best = i;
  }
  next = options.temperature <= 0.0f || options.topK == 1
             ? int32_t(best)
             : sampleAtTemperature(logits, vocab);
  return Status();
}

int32_t Sampler::sampleAtTemperature(const float *logits, int64_t vocab) {
  // Most likely first, cut to top-k.
  candidates.resize(vocab);
  for (int64_t i = 0; i < vocab; ++i)
    candidates[i] = {logits[i], int32_t(i)};
  int64_t keep = options.topK > 0 ? std::min(options.topK, vocab) : vocab;
  std::partial_sort(candidates.begin(), candidates.begin() + keep,
                    candidates.end(), [](const auto &a, const auto &b) {
                      return a.first > b.first ||
                             (a.first == b.first && a.second < b.second);
                    });
  candidates.resize(keep);

  // Softmax at the temperature, then the nucleus.
  float max = candidates.front().first;
  double total = 0;
  for (auto &c : candidates) {
    c.first = std::exp((c.first - max) / options.temperature);
    total += c.first;
  }
  double mass = 0;
  size_t nucleus = candidates.size();
  for (size_t i = 0; i < candidates.size(); ++i) {
    mass += candidates[i].first / total;
    if (mass >= options.topP) {
      nucleus = i + 1;
      break;
    }
  }
  candidates.resize(nucleus);
  double sum = 0;
  for (const auto &c : candidates)
    sum += c.first;

  double u = std::uniform_real_distribution<double>(0.0, sum)(random);
  for (const auto &c : candidates) {
    if (u < c.first)
      return c.second;
    u -= c.first;
  }
  return candidates.back().second;
}
