//===- SamplerTest.cpp - next-token sampling ----------------------------===//

#include "runtime/Sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

using moec::Sampler;
using moec::SamplerOptions;

namespace {

const std::vector<float> kLogits = {0.5f, 2.0f, -1.0f, 1.5f, 0.0f};

/// The sampler's next token from `logits`, which must be finite.
int32_t draw(Sampler &sampler, const std::vector<float> &logits = kLogits) {
  int32_t next = -1;
  moec::Status status = sampler.sample(logits.data(), logits.size(), next);
  EXPECT_TRUE(status) << status.message();
  return next;
}

TEST(SamplerTest, GreedyIsArgmax) {
  Sampler sampler(SamplerOptions{});
  EXPECT_EQ(draw(sampler), 1);
}

TEST(SamplerTest, NonFiniteLogitsAreAnError) {
  for (float bad : {NAN, INFINITY, -INFINITY}) {
    std::vector<float> logits = kLogits;
    logits[3] = bad;
    for (SamplerOptions options : {SamplerOptions{}, SamplerOptions{1.0f, 0, 1.0f, 1}}) {
      Sampler sampler(options);
      int32_t next = -1;
      moec::Status status = sampler.sample(logits.data(), logits.size(), next);
      EXPECT_FALSE(status);
      EXPECT_NE(status.message().find("at id 3"), std::string::npos)
          << status.message();
      EXPECT_EQ(next, -1);
    }
  }
}

TEST(SamplerTest, TopOneIsArgmaxAtAnyTemperature) {
  Sampler sampler(SamplerOptions{5.0f, 1, 1.0f, 7});
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(draw(sampler), 1);
}

TEST(SamplerTest, TopKKeepsOnlyTheKMostLikely) {
  Sampler sampler(SamplerOptions{10.0f, 2, 1.0f, 3});
  for (int i = 0; i < 200; ++i) {
    int32_t t = draw(sampler);
    EXPECT_TRUE(t == 1 || t == 3) << t;
  }
}

TEST(SamplerTest, SmallTopPKeepsTheMostLikely) {
  Sampler sampler(SamplerOptions{1.0f, 0, 0.01f, 3});
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(draw(sampler), 1);
}

TEST(SamplerTest, SameSeedSameTokens) {
  Sampler a(SamplerOptions{1.0f, 0, 1.0f, 42});
  Sampler b(SamplerOptions{1.0f, 0, 1.0f, 42});
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(draw(a),
              draw(b));
}

TEST(SamplerTest, FrequenciesFollowTheSoftmax) {
  // p = softmax(logits): 0.1419, 0.6364, 0.0317, 0.3860... normalised.
  Sampler sampler(SamplerOptions{1.0f, 0, 1.0f, 11});
  std::map<int32_t, int> counts;
  const int n = 20000;
  for (int i = 0; i < n; ++i)
    ++counts[draw(sampler)];
  double z = 0;
  for (float l : kLogits)
    z += std::exp(l);
  for (size_t t = 0; t < kLogits.size(); ++t)
    EXPECT_NEAR(double(counts[t]) / n, std::exp(kLogits[t]) / z, 0.015) << t;
}

} // namespace
