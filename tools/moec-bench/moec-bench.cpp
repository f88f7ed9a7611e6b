//===- moec-bench.cpp - decode speed against the memory's --------------===//
//
// moec-bench MODEL.moec [--context 128,1024] [--steps N] [--warmup N]
//            [--parallel N] [--prompt-tokens N] [--max-seq-len N] [--json]
//
// For each context length: fills the KV cache with that many random
// tokens, decodes warm-up steps, then times each of the decode steps (with
// --parallel N, N sequences each after its own context, a token of each
// per step, as a server's continuous batching runs them). The
// bytes a step reads come from the code's own activity counters (experts
// chosen, active neurons, cache length), and the device's memory bandwidth
// is measured in the same run, so the report says how close decoding is to
// the memory's limit. A prompt of random tokens is timed as one call
// (prefill), its multiply-adds counted by the code, against the peak rate
// of arithmetic measured in the same run.
//
// Part of the runtime: links no LLVM or MLIR.
//
//===----------------------------------------------------------------------===//

#include "runtime/format/Activity.h"
#include "runtime/Artifact.h"
#include "runtime/CommandLine.h"
#include "runtime/Model.h"
#include "runtime/Sampler.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <climits>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

/// The CPU's model name from /proc/cpuinfo, for the report.
std::string cpuName() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);)
    if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos)
      return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

/// `count` random token ids below `vocab`, from `seed`.
std::vector<int32_t> randomTokens(int64_t vocab, int64_t count, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::vector<int32_t> tokens(count);
  for (int32_t &t : tokens)
    t = int32_t(random() % uint64_t(vocab));
  return tokens;
}

/// The value at quantile q of ascending `sorted`, by nearest rank.
double quantile(const std::vector<double> &sorted, double q) {
  return sorted[size_t(q * double(sorted.size() - 1) + 0.5)];
}

void zeroCounters(moec::Model &model) {
  if (int64_t *counters = model.activity())
    std::fill(counters,
              counters + model.activityRows() * moec::kActivityColumns, 0);
}

struct ContextResult {
  int64_t context = 0;
  std::vector<double> seconds;
  /// Per step, from the counters; negative when the code keeps none.
  double weightBytes = -1, cacheBytes = -1;
  /// Per step, the weight bytes of each part (Activity.h's order).
  std::array<double, moec::kLastWeightBytes + 1> partBytes{};
  /// Per layer, over the timed steps, of fused dReLU products: neurons,
  /// computed (predicted) ones, positive gates, active neurons, and (in a
  /// diagnostic build) the exact active set of predicted blocks.
  struct Layer {
    int64_t neurons, computed, positive, active, exactActive;
  };
  std::vector<Layer> layers;

  /// What both reports print, from the above and the bandwidth: seconds per
  /// token at the quantiles, and with counters, bytes per second and their
  /// share of the bandwidth.
  double median = 0, p10 = 0, p90 = 0, min = 0, max = 0;
  double bytesPerSecond = 0, ofBandwidth = 0;
  bool counted() const { return weightBytes >= 0; }
  void summarize(double bandwidth) {
    std::vector<double> sorted = seconds;
    std::sort(sorted.begin(), sorted.end());
    median = quantile(sorted, 0.5), p10 = quantile(sorted, 0.1),
    p90 = quantile(sorted, 0.9);
    min = sorted.front(), max = sorted.back();
    bytesPerSecond = (weightBytes + cacheBytes) / median;
    ofBandwidth = bytesPerSecond / bandwidth;
  }
};

/// Decodes `warmup` then `steps` tokens after `context` random ones, in
/// each of the model's sequences at once.
moec::Status runContext(moec::Model &model, int64_t context, int64_t warmup,
                        int64_t steps, uint64_t seed, ContextResult &result) {
  result.context = context;
  int64_t vocab = model.vocabSize();
  int64_t sequences = model.sequences();
  std::vector<float> logits(static_cast<size_t>(sequences * vocab));
  std::vector<int32_t> next(static_cast<size_t>(sequences));
  moec::Sampler greedy({});
  for (int64_t q = 0; q < sequences; ++q) {
    std::vector<int32_t> prompt = randomTokens(
        vocab, context, seed + uint64_t(context) + uint64_t(q) * 7919);
    model.reset(q);
    if (moec::Status s =
            model.forward(prompt.data(), context, logits.data() + q * vocab,
                          moec::Model::Outputs::Last, q);
        !s)
      return s;
    if (moec::Status s = greedy.sample(logits.data() + q * vocab, vocab, next[q]);
        !s)
      return s;
  }
  std::vector<moec::Model::BatchPart> step;
  for (int64_t q = 0; q < sequences; ++q)
    step.push_back({q, &next[q], 1});
  int64_t *counters = model.activity();
  int64_t rows = model.activityRows();
  for (int64_t n = 0; n < warmup + steps; ++n) {
    if (n == warmup)
      zeroCounters(model);
    auto start = std::chrono::steady_clock::now();
    if (moec::Status s = model.forwardBatch(step, logits.data()); !s)
      return s;
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    if (n >= warmup)
      result.seconds.push_back(seconds);
    for (int64_t q = 0; q < sequences; ++q)
      if (moec::Status s =
              greedy.sample(logits.data() + q * vocab, vocab, next[q]);
          !s)
        return s;
  }
  if (!counters)
    return moec::Status();
  int64_t weight = 0, cache = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t *c = counters + r * moec::kActivityColumns;
    for (int part = moec::kFirstWeightBytes; part <= moec::kLastWeightBytes;
         ++part) {
      weight += c[part];
      result.partBytes[part] += double(c[part]) / double(steps);
    }
    cache += c[moec::kCacheBytes];
    // The last row holds what no layer owns.
    if (r + 1 < rows)
      result.layers.push_back({c[moec::kNeurons], c[moec::kComputedNeurons],
                               c[moec::kGatePositive], c[moec::kActiveNeurons],
                               c[moec::kExactActiveNeurons]});
  }
  result.weightBytes = double(weight) / double(steps);
  result.cacheBytes = double(cache) / double(steps);
  return moec::Status();
}

struct PromptResult {
  int64_t tokens = 0;
  std::vector<double> seconds;
  /// Per run, from the counters; negative when the code keeps none.
  double multiplyAdds = -1;
  double median = 0, min = 0;
};

/// Reads `tokens` random tokens from an empty cache, once untimed (the
/// first call's buffers), then `runs` times timed.
moec::Status runPrompt(moec::Model &model, int64_t tokens, int64_t runs,
                       uint64_t seed, PromptResult &result) {
  result.tokens = tokens;
  std::vector<int32_t> prompt =
      randomTokens(model.vocabSize(), tokens, seed ^ 0x9e3779b97f4a7c15ull);
  // The last token's logits, as a prompt of a generation needs.
  std::vector<float> out(model.outputSize(tokens, moec::Model::Outputs::Last));
  for (int64_t n = 0; n <= runs; ++n) {
    if (n == 1)
      zeroCounters(model);
    model.reset();
    auto start = std::chrono::steady_clock::now();
    if (moec::Status s = model.forward(prompt.data(), tokens, out.data(),
                                       moec::Model::Outputs::Last);
        !s)
      return s;
    if (n >= 1)
      result.seconds.push_back(std::chrono::duration<double>(
                                   std::chrono::steady_clock::now() - start)
                                   .count());
  }
  std::vector<double> sorted = result.seconds;
  std::sort(sorted.begin(), sorted.end());
  result.median = quantile(sorted, 0.5);
  result.min = sorted.front();
  if (const int64_t *counters = model.activity()) {
    int64_t macs = 0;
    for (int64_t r = 0; r < model.activityRows(); ++r)
      macs += counters[r * moec::kActivityColumns + moec::kMultiplyAdds];
    result.multiplyAdds = double(macs) / double(runs);
  }
  return moec::Status();
}

double fraction(int64_t part, int64_t whole) {
  return whole ? double(part) / double(whole) : 0.0;
}

} // namespace

int main(int argc, char **argv) {
  std::string path, device = "auto";
  std::vector<int64_t> contexts;
  int64_t steps = 16, warmup = 2, threads = 0, bandwidthMiB = 1024, seed = 0;
  int64_t maxSeqLen = 0, promptTokens = 128, promptRuns = 3, parallel = 1;
  int64_t prefillChunk = moec::Model::kDefaultPrefillChunk;
  bool json = false;
  moec::OptionParser parser(
      "moec-bench", "[options] MODEL.moec",
      "decode speed of a .moec artifact against the memory's bandwidth");
  parser.positional("MODEL.moec", path);
  parser.group("Measurement");
  parser.value("context", "n,...",
               "Tokens in the KV cache before the timed "
               "steps (default 128)",
               "comma-separated positive counts", [&](const std::string &v) {
                 contexts.clear();
                 return moec::parseCountList(v.c_str(), INT32_MAX, contexts) &&
                        !std::count(contexts.begin(), contexts.end(), 0);
               });
  parser.value("steps", "n", "Timed decode steps per context (default 16)",
               "a positive count", moec::countIn(steps, 1, 1 << 20));
  parser.value("warmup", "n", "Untimed decode steps before them (default 2)",
               "a count", moec::countIn(warmup, 0, 1 << 20));
  parser.value("parallel", "n",
               "Sequences decoded together, a token of each per step "
               "(default 1)",
               "a positive count", moec::countIn(parallel, 1, 256));
  parser.value("prompt-tokens", "n",
               "Tokens of the timed prompt (default 128; 0: none)", "a count",
               moec::countIn(promptTokens, 0, INT32_MAX));
  parser.value("prompt-runs", "n",
               "Timed prompt runs, after an untimed one (default 3)",
               "a positive count", moec::countIn(promptRuns, 1, 1 << 20));
  parser.value("prefill-chunk", "n",
               "Prompt tokens per call of the code (default " +
                   std::to_string(prefillChunk) + ")",
               "a positive count", moec::countIn(prefillChunk, 1, INT32_MAX));
  parser.value("bandwidth-mib", "n",
               "Memory the bandwidth probe reads "
               "(default 1024)",
               "a positive count", moec::countIn(bandwidthMiB, 1, 1 << 20));
  parser.value("seed", "s", "Seed of the random context tokens (default 0)",
               "a non-negative integer", moec::countIn(seed, 0, INT64_MAX));
  parser.value("max-seq-len", "n",
               "KV cache positions (default: the longest context plus the "
               "warm-up and timed steps; moec-run's default is the model's "
               "maximum, at most 4096)",
               "a positive count", moec::countIn(maxSeqLen, 1, INT32_MAX));
  parser.group("Device");
  parser.value("device", "d", "auto (the artifact's target), cpu or cuda",
               "auto, cpu or cuda",
               moec::oneOf(device, {"auto", "cpu", "cuda"}));
  parser.value("threads", "n",
               "Threads for the generated CPU code and the "
               "bandwidth probe (default: all cores)",
               "a positive count", moec::countIn(threads, 1, 4096));
  parser.group("Output");
  parser.flag("json", "Print one JSON object instead of the table", json);
  if (int code = parser.parse(argc, argv); code >= 0)
    return code;
  if (path.empty())
    return parser.usageError("no model given");
  if (contexts.empty())
    contexts = {128};

  moec::Artifact artifact;
  if (moec::Status s = moec::Artifact::open(path, artifact); !s)
    return parser.failure(s);
  if (artifact.header().config()->head() != moec::artifact::Head::CausalLM)
    return parser.failure(path +
                          ": decoding needs a causal language model head");
  // The positions the measurement writes: a larger cache measures what a
  // decode step costs at the cache a user runs with.
  int64_t needed =
      *std::max_element(contexts.begin(), contexts.end()) + warmup + steps;
  if (!maxSeqLen)
    maxSeqLen = std::max(needed, promptTokens);
  else if (maxSeqLen < needed)
    return parser.usageError(
        "--max-seq-len " + std::to_string(maxSeqLen) +
        " is less than the longest context plus the warm-up and timed steps (" +
        std::to_string(needed) + ")");
  else if (maxSeqLen < promptTokens)
    return parser.usageError("--max-seq-len " + std::to_string(maxSeqLen) +
                             " is less than the prompt (" +
                             std::to_string(promptTokens) + " tokens)");
  std::unique_ptr<moec::Model> model;
  if (moec::Status s =
          moec::openModel(artifact, device, maxSeqLen, model, parallel);
      !s)
    return parser.failure(s);
  if (threads)
    if (moec::Status s = model->setThreads(int(threads)); !s)
      return parser.failure(s);
  if (moec::Status s = model->setPrefillChunk(prefillChunk); !s)
    return parser.failure(s);

  bool cpu = model->device() == "cpu";
  threads = model->threads();

  double bandwidth = 0;
  if (moec::Status s =
          model->measureBandwidth(uint64_t(bandwidthMiB) << 20, bandwidth);
      !s)
    return parser.failure(s);

  // Not every device measures it: the prompt is then reported without.
  double peak = 0;
  if (promptTokens && !model->measurePeakFlops(peak))
    peak = 0;

  std::vector<ContextResult> results(contexts.size());
  for (size_t i = 0; i < contexts.size(); ++i) {
    if (moec::Status s = runContext(*model, contexts[i], warmup, steps,
                                    uint64_t(seed), results[i]);
        !s)
      return parser.failure(s.withContext(path));
    results[i].summarize(bandwidth);
  }
  PromptResult prompt;
  if (promptTokens)
    if (moec::Status s =
            runPrompt(*model, promptTokens, promptRuns, uint64_t(seed), prompt);
        !s)
      return parser.failure(s.withContext(path));
  double promptFlops =
      prompt.multiplyAdds >= 0 ? 2 * prompt.multiplyAdds / prompt.median : -1;

  std::string deviceName = model->device();
  if (cpu)
    deviceName += " (" + cpuName() + ")";
  if (json) {
    nlohmann::ordered_json out;
    out["model"] = path;
    out["architecture"] =
        artifact.header().config()->architecture()
            ? artifact.header().config()->architecture()->str()
            : "";
    out["device"] = deviceName;
    if (cpu)
      out["threads"] = threads;
    else
      out["threads"] = nullptr;
    out["bandwidth_bytes_per_s"] = bandwidth;
    if (peak > 0)
      out["peak_flop_per_s"] = peak;
    else
      out["peak_flop_per_s"] = nullptr;
    out["max_seq_len"] = maxSeqLen;
    out["parallel"] = parallel;
    out["warmup_steps"] = warmup;
    out["steps"] = steps;
    out["contexts"] = nlohmann::json::array();
    for (const ContextResult &r : results) {
      nlohmann::ordered_json c;
      c["context"] = r.context;
      // A step decodes a token of each of the parallel sequences: per
      // token, its time and bytes over their count.
      double n = double(parallel);
      c["seconds_per_step"] = {{"median", r.median},
                               {"min", r.min},
                               {"p10", r.p10},
                               {"p90", r.p90},
                               {"max", r.max}};
      c["seconds_per_token"] = {{"median", r.median / n},
                                {"min", r.min / n},
                                {"p10", r.p10 / n},
                                {"p90", r.p90 / n},
                                {"max", r.max / n}};
      c["tokens_per_s"] = n / r.median;
      if (r.counted()) {
        c["weight_bytes_per_token"] = r.weightBytes / n;
        nlohmann::ordered_json parts;
        for (int part = moec::kFirstWeightBytes; part <= moec::kLastWeightBytes;
             ++part)
          parts[moec::kWeightPartNames[part]] = r.partBytes[part] / n;
        c["weight_bytes_by_part"] = parts;
        c["cache_bytes_per_token"] = r.cacheBytes / n;
        c["bytes_per_s"] = r.bytesPerSecond;
        c["of_bandwidth"] = r.ofBandwidth;
      } else {
        c["weight_bytes_per_token"] = nullptr;
        c["weight_bytes_by_part"] = nullptr;
        c["cache_bytes_per_token"] = nullptr;
        c["bytes_per_s"] = nullptr;
        c["of_bandwidth"] = nullptr;
      }
      c["layers"] = nlohmann::json::array();
      for (size_t l = 0; l < r.layers.size(); ++l) {
        const ContextResult::Layer &counts = r.layers[l];
        nlohmann::ordered_json layer;
        layer["layer"] = l;
        // Dense blocks compute every neuron and report no fractions; only
        // a diagnostic build's predicted blocks know the exact active set
        // the predicted one is measured against.
        auto share = [](bool known, int64_t part,
                        int64_t whole) -> nlohmann::json {
          return known ? nlohmann::json(fraction(part, whole)) : nullptr;
        };
        bool fused = counts.neurons != 0, stats = counts.exactActive != 0;
        layer["active_neuron_fraction"] =
            share(fused, counts.active, counts.neurons);
        layer["positive_gate_fraction"] =
            share(fused, counts.positive, counts.neurons);
        layer["computed_neuron_fraction"] =
            share(fused, counts.computed, counts.neurons);
        layer["predictor_recall"] =
            share(stats, counts.active, counts.exactActive);
        layer["predictor_precision"] =
            share(stats, counts.active, counts.computed);
        c["layers"].push_back(layer);
      }
      out["contexts"].push_back(c);
    }
    if (promptTokens) {
      nlohmann::ordered_json p;
      p["tokens"] = prompt.tokens;
      p["runs"] = promptRuns;
      p["seconds"] = {{"median", prompt.median}, {"min", prompt.min}};
      p["tokens_per_s"] = double(prompt.tokens) / prompt.median;
      if (promptFlops >= 0) {
        p["multiply_adds"] = prompt.multiplyAdds;
        p["flop_per_s"] = promptFlops;
      } else {
        p["multiply_adds"] = nullptr;
        p["flop_per_s"] = nullptr;
      }
      if (promptFlops >= 0 && peak > 0)
        p["of_peak"] = promptFlops / peak;
      else
        p["of_peak"] = nullptr;
      out["prompt"] = p;
    } else {
      out["prompt"] = nullptr;
    }
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }

  std::printf("moec-bench: %s on %s%s, KV cache of %lld positions%s\n",
              path.c_str(), deviceName.c_str(),
              cpu ? (", " + std::to_string(threads) + " threads").c_str() : "",
              (long long)maxSeqLen,
              parallel > 1 ? (" for each of " + std::to_string(parallel) +
                              " sequences decoded together")
                                 .c_str()
                           : "");
  std::printf("memory bandwidth: %.1f GB/s (%s over %lld MiB)\n",
              bandwidth / 1e9, cpu ? "streaming read" : "device copy",
              (long long)bandwidthMiB);
  // A step is a token of each sequence: per token when there is one.
  bool one = parallel == 1;
  std::printf("%8s %10s %19s %9s %12s %10s %8s %6s\n", "context",
              one ? "ms/token" : "ms/step", "p10-p90 (min-max)", "tokens/s",
              one ? "weights/tok" : "weights/step",
              one ? "cache/tok" : "cache/step", "GB/s", "of bw");
  for (const ContextResult &r : results) {
    char spread[64];
    std::snprintf(spread, sizeof(spread), "%.1f-%.1f (%.1f-%.1f)", r.p10 * 1e3,
                  r.p90 * 1e3, r.min * 1e3, r.max * 1e3);
    if (r.counted()) {
      std::printf("%8lld %10.2f %19s %9.2f %9.1f MB %7.2f MB %8.2f %6.2f\n",
                  (long long)r.context, r.median * 1e3, spread,
                  double(parallel) / r.median, r.weightBytes / 1e6,
                  r.cacheBytes / 1e6,
                  r.bytesPerSecond / 1e9, r.ofBandwidth);
    } else {
      std::printf("%8lld %10.2f %19s %9.2f %12s %10s %8s %6s\n",
                  (long long)r.context, r.median * 1e3, spread,
                  double(parallel) / r.median, "-", "-", "-", "-");
    }
  }
  if (promptTokens) {
    std::printf("prompt: %lld tokens in %.2f ms (min %.2f), %.2f tokens/s",
                (long long)prompt.tokens, prompt.median * 1e3, prompt.min * 1e3,
                double(prompt.tokens) / prompt.median);
    if (promptFlops >= 0)
      std::printf(", %.1f GFLOP/s", promptFlops / 1e9);
    if (promptFlops >= 0 && peak > 0)
      std::printf(" of %.1f peak (%.2f)", peak / 1e9, promptFlops / peak);
    std::printf("\n");
  }
  if (!results.front().counted())
    std::printf("bytes read: not counted by this artifact's code (CPU "
                "artifacts count them unless compiled with "
                "--count-activity=false)\n");
  for (const ContextResult &r : results) {
    if (!r.counted())
      continue;
    std::printf("weights per %s by part, context %lld:",
                one ? "token" : "step", (long long)r.context);
    for (int part = moec::kFirstWeightBytes; part <= moec::kLastWeightBytes;
         ++part)
      if (r.partBytes[part] > 0)
        std::printf(" %s %.2f MB", moec::kWeightPartNames[part],
                    r.partBytes[part] / 1e6);
    std::printf("\n");
    bool fused = std::any_of(r.layers.begin(), r.layers.end(),
                             [](const auto &l) { return l.neurons != 0; });
    if (!fused)
      continue;
    bool predicted =
        std::any_of(r.layers.begin(), r.layers.end(),
                    [](const auto &l) { return l.computed != l.neurons; });
    std::printf("active neurons (positive gates%s), context %lld:",
                predicted ? ", computed" : "", (long long)r.context);
    for (size_t l = 0; l < r.layers.size(); ++l) {
      const ContextResult::Layer &c = r.layers[l];
      std::printf(" %zu: %.1f%% (%.1f%%", l,
                  100 * fraction(c.active, c.neurons),
                  100 * fraction(c.positive, c.neurons));
      if (predicted)
        std::printf(", %.1f%%", 100 * fraction(c.computed, c.neurons));
      std::printf(")");
    }
    std::printf("\n");
    bool stats = std::any_of(r.layers.begin(), r.layers.end(),
                             [](const auto &l) { return l.exactActive != 0; });
    if (!stats)
      continue;
    std::printf("predictor recall / precision, context %lld:",
                (long long)r.context);
    for (size_t l = 0; l < r.layers.size(); ++l)
      std::printf(" %zu: %.3f / %.3f", l,
                  fraction(r.layers[l].active, r.layers[l].exactActive),
                  fraction(r.layers[l].active, r.layers[l].computed));
    std::printf("\n");
  }
  return 0;
}
