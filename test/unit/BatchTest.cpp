//===- BatchTest.cpp - sequences run together equal sequences alone ------===//
//
// On small compiled models (the artifacts named by MOEC_BATCH_ARTIFACTS,
// made by a ctest fixture): a step of several sequences gives each the
// logits it gets alone, prompts read in chunks among others' decode steps
// included; the Batcher's answers equal the Generator's, whatever joins or
// leaves; bad steps are refused.
//
//===----------------------------------------------------------------------===//

#include "runtime/Artifact.h"
#include "runtime/Batcher.h"
#include "runtime/Generator.h"
#include "runtime/Model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace moec;

namespace {

std::vector<std::string> artifactPaths() {
  std::vector<std::string> paths;
  const char *list = std::getenv("MOEC_BATCH_ARTIFACTS");
  std::istringstream in(list ? list : "");
  for (std::string path; std::getline(in, path, ':');)
    if (!path.empty())
      paths.push_back(path);
  return paths;
}

std::vector<int32_t> randomPrompt(int64_t vocab, size_t length, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::vector<int32_t> ids(length);
  for (int32_t &id : ids)
    id = int32_t(1 + random() % uint64_t(vocab - 1));
  return ids;
}

/// The largest |a - b| over max |b|.
double relativeError(const float *a, const float *b, int64_t n) {
  double diff = 0, scale = 0;
  for (int64_t i = 0; i < n; ++i) {
    diff = std::max(diff, double(std::fabs(a[i] - b[i])));
    scale = std::max(scale, double(std::fabs(b[i])));
  }
  return diff / scale;
}

class BatchTest : public ::testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    ASSERT_TRUE(bool(Artifact::open(GetParam(), artifact)));
  }
  std::unique_ptr<Model> open(int64_t sequences, int64_t maxSeqLen = 64) {
    std::unique_ptr<Model> model;
    Status s = openModel(artifact, "cpu", maxSeqLen, model, sequences);
    EXPECT_TRUE(bool(s)) << s.message();
    return model;
  }
  /// Greedy tokens and every row of logits after `prompt`, alone.
  void alone(const std::vector<int32_t> &prompt, int64_t steps,
             std::vector<int32_t> &tokens, std::vector<float> &rows) {
    std::unique_ptr<Model> model = open(1);
    int64_t vocab = model->vocabSize();
    std::vector<float> row(vocab);
    ASSERT_TRUE(bool(model->forward(prompt.data(), int64_t(prompt.size()),
                                    row.data(), Model::Outputs::Last)));
    for (int64_t n = 0;; ++n) {
      rows.insert(rows.end(), row.begin(), row.end());
      int32_t next =
          int32_t(std::max_element(row.begin(), row.end()) - row.begin());
      tokens.push_back(next);
      if (n + 1 == steps)
        break;
      ASSERT_TRUE(
          bool(model->forward(&next, 1, row.data(), Model::Outputs::Last)));
    }
  }
  Artifact artifact;
};

// Three sequences: A's prompt first; then B's prompt in two chunks beside
// A's decode steps; then C's beside both. Every row is the one the
// sequence gets alone, within float rounding of a different summation
// order (the products of several tokens are blocked differently).
TEST_P(BatchTest, StepsOfSeveralSequencesEqualEachAlone) {
  std::unique_ptr<Model> model = open(3);
  int64_t vocab = model->vocabSize();
  std::vector<std::vector<int32_t>> prompts = {randomPrompt(vocab, 5, 1),
                                               randomPrompt(vocab, 9, 2),
                                               randomPrompt(vocab, 3, 3)};
  constexpr int64_t kSteps = 6;
  std::vector<std::vector<int32_t>> tokens(3);
  std::vector<std::vector<float>> rows(3);
  for (int q = 0; q < 3; ++q)
    alone(prompts[q], kSteps, tokens[q], rows[q]);

  // The token each sequence runs next, and the rows it has got.
  std::vector<int32_t> next(3);
  std::vector<int64_t> got(3, 0);
  std::vector<float> out(4 * size_t(vocab));
  auto check = [&](int64_t q, const float *row) {
    ASSERT_LT(got[q], kSteps);
    const float *expected = rows[q].data() + got[q] * vocab;
    EXPECT_LT(relativeError(row, expected, vocab), 1e-5)
        << "sequence " << q << ", row " << got[q];
    next[q] = tokens[q][got[q]];
    ++got[q];
  };
  auto decode = [&](int64_t q) { return Model::BatchPart{q, &next[q], 1}; };

  ASSERT_TRUE(
      bool(model->forwardBatch({{0, prompts[0].data(), 5}}, out.data())));
  check(0, out.data());
  // B's first chunk (no row of its own is sampled), A's decode step.
  ASSERT_TRUE(bool(
      model->forwardBatch({{1, prompts[1].data(), 4}, decode(0)}, out.data())));
  check(0, out.data() + vocab);
  ASSERT_TRUE(bool(model->forwardBatch(
      {{1, prompts[1].data() + 4, 5}, decode(0)}, out.data())));
  check(1, out.data());
  check(0, out.data() + vocab);
  ASSERT_TRUE(bool(model->forwardBatch(
      {{2, prompts[2].data(), 3}, decode(0), decode(1)}, out.data())));
  check(2, out.data());
  check(0, out.data() + vocab);
  check(1, out.data() + 2 * vocab);
  // Decode steps of those with rows to come, in another order.
  for (;;) {
    std::vector<Model::BatchPart> parts;
    for (int64_t q : {2, 1, 0})
      if (got[q] < kSteps)
        parts.push_back(decode(q));
    if (parts.empty())
      break;
    ASSERT_TRUE(bool(model->forwardBatch(parts, out.data())));
    for (size_t i = 0; i < parts.size(); ++i)
      check(parts[i].sequence, out.data() + i * vocab);
  }
  EXPECT_EQ(model->length(2), 3 + kSteps - 1);
}

TEST_P(BatchTest, BadStepsAreRefused) {
  std::unique_ptr<Model> model = open(2);
  std::vector<float> out(3 * size_t(model->vocabSize()));
  int32_t ids[3] = {1, 2, 3};
  Status twice =
      model->forwardBatch({{0, ids, 1}, {0, ids + 1, 1}}, out.data());
  EXPECT_FALSE(bool(twice));
  EXPECT_NE(twice.message().find("runs twice"), std::string::npos);
  Status outside = model->forwardBatch({{2, ids, 1}}, out.data());
  EXPECT_NE(outside.message().find("not one of the 2"), std::string::npos);
  Status many = model->forwardBatch({{0, ids, 1}, {1, ids, 2}}, out.data());
  EXPECT_NE(many.message().find("first sequence"), std::string::npos);
  int32_t bad = int32_t(model->vocabSize());
  EXPECT_FALSE(bool(model->forwardBatch({{1, &bad, 1}}, out.data())));
  // Nothing ran: both sequences are still empty.
  EXPECT_EQ(model->length(0), 0);
  EXPECT_EQ(model->length(1), 0);
}

/// The Batcher's answers to `prompts` on a model of `sequences`, submitted
/// at once; the one at `cancelAt` cancels itself after two tokens.
std::vector<Generation>
batched(Model &model, const std::vector<std::vector<int32_t>> &prompts,
        int64_t newTokens, int cancelAt = -1) {
  Batcher batcher(model, nullptr, "test");
  std::vector<Generation> answers(prompts.size());
  std::vector<std::shared_ptr<BatchRequest>> requests;
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto r = std::make_shared<BatchRequest>();
    r->prompt = prompts[i];
    r->options.maxNewTokens = newTokens;
    int pieces = 0;
    if (int(i) == cancelAt)
      r->onText = [pieces](const std::string &) mutable {
        return ++pieces < 2;
      };
    r->onDone = [&answers, i](const Status &s, Generation &g) {
      EXPECT_TRUE(bool(s)) << s.message();
      answers[i] = g;
    };
    EXPECT_TRUE(batcher.submit(r, 64));
    requests.push_back(r);
  }
  batcher.stop(/*cancel=*/false);
  batcher.run();
  EXPECT_EQ(batcher.running(), 0);
  return answers;
}

// Five answers on two sequences, prompts read in chunks of 4: each equals
// the Generator's alone; the cancelled one stops at once, its sequence
// taken by the next.
TEST_P(BatchTest, BatcherAnswersEqualGeneratorAnswers) {
  std::unique_ptr<Model> model = open(2);
  ASSERT_TRUE(bool(model->setPrefillChunk(4)));
  int64_t vocab = model->vocabSize();
  std::vector<std::vector<int32_t>> prompts;
  for (size_t i = 0; i < 5; ++i)
    prompts.push_back(randomPrompt(vocab, 3 + 3 * i, 10 + i));
  std::vector<Generation> answers = batched(*model, prompts, 7, /*cancelAt=*/3);
  for (size_t i = 0; i < prompts.size(); ++i) {
    std::unique_ptr<Model> single = open(1);
    GenerationOptions options;
    options.maxNewTokens = 7;
    Generator generator(*single, nullptr, options);
    Generation expected;
    ASSERT_TRUE(
        bool(generator.generate(prompts[i], {}, expected, nullptr, "test")));
    if (i == 3) {
      EXPECT_EQ(answers[i].reason, StopReason::Cancelled);
      ASSERT_EQ(answers[i].tokens.size(), 2u);
      expected.tokens.resize(2);
    } else {
      EXPECT_EQ(answers[i].reason, StopReason::Length);
    }
    EXPECT_EQ(answers[i].tokens, expected.tokens) << "answer " << i;
    EXPECT_EQ(answers[i].promptTokens, int64_t(prompts[i].size()));
  }
}

// A prompt that does not fit its sequence fails alone; the others answer.
TEST_P(BatchTest, BatcherRefusesAPromptPastTheCache) {
  std::unique_ptr<Model> model = open(2, /*maxSeqLen=*/16);
  Batcher batcher(*model, nullptr, "test");
  int64_t vocab = model->vocabSize();
  Status failed;
  Generation good;
  auto tooLong = std::make_shared<BatchRequest>();
  tooLong->prompt = randomPrompt(vocab, 17, 5);
  tooLong->onDone = [&](const Status &s, Generation &) { failed = s; };
  auto fine = std::make_shared<BatchRequest>();
  fine->prompt = randomPrompt(vocab, 4, 6);
  fine->options.maxNewTokens = 3;
  fine->onDone = [&](const Status &s, Generation &g) {
    EXPECT_TRUE(bool(s));
    good = g;
  };
  ASSERT_TRUE(batcher.submit(tooLong, 8));
  ASSERT_TRUE(batcher.submit(fine, 8));
  // Both sequences are spoken for: a third request waits, or is refused
  // where no request may wait.
  EXPECT_FALSE(batcher.submit(std::make_shared<BatchRequest>(), 0));
  batcher.stop(false);
  batcher.run();
  EXPECT_FALSE(bool(failed));
  EXPECT_NE(failed.message().find("longer than the maximum sequence length"),
            std::string::npos)
      << failed.message();
  EXPECT_EQ(good.tokens.size(), 3u);
}

INSTANTIATE_TEST_SUITE_P(Artifacts, BatchTest,
                         ::testing::ValuesIn(artifactPaths()),
                         [](const auto &info) {
                           std::string name = info.param;
                           name = name.substr(name.find_last_of('/') + 1);
                           name = name.substr(0, name.find('.'));
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

// The fixture names the artifacts: without them nothing above would run.
TEST(BatchArtifacts, AreGiven) { EXPECT_FALSE(artifactPaths().empty()); }

} // namespace
