//===- Sampler.h - choosing the next token ----------------------*- C++ -*-===//

#ifndef MOEC_RUNTIME_SAMPLER_H
#define MOEC_RUNTIME_SAMPLER_H

#include "runtime/Status.h"

#include <cstdint>

#include <random>
#include <vector>

namespace moec {

struct SamplerOptions {
  /// 0 picks the most likely token (greedy); otherwise logits are divided
  /// by it before the softmax.
  float temperature = 0.0f;
  /// Keep only the k most likely tokens; 0 keeps all.
  int64_t topK = 0;
  /// Keep the smallest set of most likely tokens whose probability reaches
  /// p; 1 keeps all.
  float topP = 1.0f;
  uint64_t seed = 0;
};

class Sampler {
public:
  explicit Sampler(const SamplerOptions &options)
      : options(options), random(options.seed) {}

  /// The next token from one row of `vocab` logits, into `next`; an error
  /// (and no token) when a logit is NaN or infinite: a model whose weights
  /// are damaged gives such rows, and any choice from them would be noise.
  Status sample(const float *logits, int64_t vocab, int32_t &next);

private:
  /// A token drawn from the top-k / top-p softmax at the temperature.
  int32_t sampleAtTemperature(const float *logits, int64_t vocab);

  SamplerOptions options;
  std::mt19937_64 random;
  std::vector<std::pair<float, int32_t>> candidates;
};

} // namespace moec

#endif // MOEC_RUNTIME_SAMPLER_H
