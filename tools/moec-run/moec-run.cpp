//===- moec-run.cpp - run .moec artifacts -------------------------------===//
//
// moec-run model.moec --tokens 1,2,3 [--max-new-tokens N] [--logits out.npy]
// moec-run --info model.moec
//
// Part of the runtime: links no LLVM or MLIR.
//
//===----------------------------------------------------------------------===//

#include "runtime/Artifact.h"
#include "runtime/CommandLine.h"
#include "runtime/Model.h"
#include "runtime/Npy.h"
#include "runtime/Sampler.h"

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cinttypes>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

const char *kUsage =
    "usage: moec-run MODEL.moec --tokens IDS [options]\n"
    "       moec-run --info MODEL.moec\n"
    "\n"
    "  --tokens 1,2,3         prompt token ids\n"
    "  --max-new-tokens N     tokens to generate (default 16; stops early\n"
    "                         at EOS)\n"
    "  --temperature T        sample at temperature T (default 0: greedy)\n"
    "  --top-k K              sample among the K most likely tokens\n"
    "  --top-p P              sample within the nucleus of mass P\n"
    "  --seed S               random seed for sampling (default 0)\n"
    "  --logits FILE.npy      write the logits of every prompt position,\n"
    "                         float32 [T, vocab]\n"
    "  --device D             auto (the artifact's target), cpu or cuda\n"
    "  --threads N            threads for the generated CPU code (default:\n"
    "                         all cores)\n"
    "  --max-seq-len N        KV cache length (default: the model's maximum,\n"
    "                         at most 4096)\n"
    "  --info                 print the artifact's header and check its "
    "segments\n"
    "  --help                 print this text\n";

void printInfo(const moec::Artifact &artifact) {
  namespace a = moec::artifact;
  const a::Header &h = artifact.header();
  auto s = [](const flatbuffers::String *str) {
    return str ? str->c_str() : "";
  };
  std::printf("%s: moec artifact, format %u, %" PRIu64 " bytes, compiled by "
              "moec %s\n",
              artifact.path().c_str(), h.format_version(),
              artifact.fileSize(), s(h.compiler_version()));
  const a::ModelConfig &c = *h.config();
  std::printf("model:    %s, %" PRId64 " layers, hidden %" PRId64
              ", vocab %" PRId64 ", KV %" PRId64 " heads x %" PRId64 "\n",
              s(c.architecture()), c.num_layers(), c.hidden_size(),
              c.vocab_size(), c.num_kv_heads(), c.head_dim());
  const a::Target &t = *h.target();
  std::printf("target:   %s %s, cpu %s, features %s\n",
              a::EnumNameTargetKind(t.kind()), s(t.triple()), s(t.cpu()),
              t.features() && t.features()->size() ? t.features()->c_str()
                                                   : "(none)");
  if (h.segments())
    for (const a::Segment *seg : *h.segments())
      std::printf("segment:  %-9s offset %" PRIu64 ", %" PRIu64
                  " bytes, xxh3 %016" PRIx64 "\n",
                  a::EnumNameSegmentKind(seg->kind()), seg->offset(),
                  seg->size(), seg->checksum());
  uint64_t weightBytes = 0;
  size_t weightCount = h.weights() ? h.weights()->size() : 0;
  if (h.weights())
    for (const a::Weight *w : *h.weights())
      weightBytes += w->size();
  std::printf("weights:  %zu tensors, %" PRIu64 " bytes\n", weightCount,
              weightBytes);
  if (!h.entry_points() || h.entry_points()->size() == 0)
    std::printf("code:     none (compiled without a code generator)\n");
  else
    for (const a::EntryPoint *e : *h.entry_points())
      std::printf("entry:    %s -> %s\n", s(e->name()), s(e->symbol()));
}

} // namespace

int usage(const char *message, const char *arg = "") {
  std::fprintf(stderr, "moec-run: error: %s%s\n%s", message, arg, kUsage);
  return 2;
}

int main(int argc, char **argv) {
  bool info = false;
  std::string path, logitsPath, device = "auto";
  std::vector<int32_t> tokens;
  int64_t maxNewTokens = 16, maxSeqLen = 0, threads = 0;
  moec::SamplerOptions sampling;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> const char * {
      return i + 1 < argc ? argv[++i] : nullptr;
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg == "--info") {
      info = true;
    } else if (arg == "--tokens") {
      const char *v = value();
      std::vector<int64_t> ids;
      if (!v || !moec::parseCountList(v, INT32_MAX, ids))
        return usage("--tokens needs comma-separated token ids");
      tokens.assign(ids.begin(), ids.end());
    } else if (arg == "--max-new-tokens") {
      const char *v = value();
      if (!v || !moec::parseCount(v, maxNewTokens))
        return usage("--max-new-tokens needs a count");
    } else if (arg == "--threads") {
      const char *v = value();
      if (!v || !moec::parseCount(v, threads) || threads == 0 || threads > 4096)
        return usage("--threads needs a positive count");
    } else if (arg == "--device" || arg.rfind("--device=", 0) == 0) {
      const char *v = arg == "--device" ? value() : argv[i] + 9;
      if (!v || (std::string(v) != "auto" && std::string(v) != "cpu" &&
                 std::string(v) != "cuda"))
        return usage("--device needs auto, cpu or cuda");
      device = v;
    } else if (arg == "--max-seq-len") {
      const char *v = value();
      if (!v || !moec::parseCount(v, maxSeqLen) || maxSeqLen == 0)
        return usage("--max-seq-len needs a positive count");
    } else if (arg == "--temperature") {
      const char *v = value();
      if (!v || !moec::parseReal(v, sampling.temperature))
        return usage("--temperature needs a non-negative number");
    } else if (arg == "--top-k") {
      const char *v = value();
      if (!v || !moec::parseCount(v, sampling.topK))
        return usage("--top-k needs a count");
    } else if (arg == "--top-p") {
      const char *v = value();
      if (!v || !moec::parseReal(v, sampling.topP) || sampling.topP > 1.0f ||
          sampling.topP == 0.0f)
        return usage("--top-p needs a number in (0, 1]");
    } else if (arg == "--seed") {
      const char *v = value();
      int64_t seed;
      if (!v || !moec::parseCount(v, seed))
        return usage("--seed needs a non-negative integer");
      sampling.seed = uint64_t(seed);
    } else if (arg == "--logits") {
      const char *v = value();
      if (!v)
        return usage("--logits needs a file name");
      logitsPath = v;
    } else if (std::string refused = moec::takeModelPath(arg, path);
               !refused.empty()) {
      return usage(refused.c_str());
    }
  }
  if (path.empty())
    return usage("no model given");
  if (!info && tokens.empty())
    return usage("no prompt: give --tokens");

  moec::Artifact artifact;
  if (moec::Status status = moec::Artifact::open(path, artifact); !status) {
    std::fprintf(stderr, "moec-run: error: %s\n", status.message().c_str());
    return 1;
  }
  if (info) {
    printInfo(artifact);
    return 0;
  }

  const auto &config = *artifact.header().config();
  if (maxSeqLen == 0)
    maxSeqLen = std::min<int64_t>(config.max_position_embeddings(), 4096);
  std::unique_ptr<moec::Model> loaded;
  if (moec::Status status =
          moec::openModel(artifact, device, maxSeqLen, loaded);
      !status) {
    std::fprintf(stderr, "moec-run: error: %s\n", status.message().c_str());
    return 1;
  }
  moec::Model &model = *loaded;
  if (threads)
    if (moec::Status status = model.setThreads(int(threads)); !status) {
      std::fprintf(stderr, "moec-run: error: %s\n", status.message().c_str());
      return 1;
    }
  std::fprintf(stderr, "moec-run: %s on the %s backend\n", path.c_str(),
               model.device().c_str());

  using Clock = std::chrono::steady_clock;
  auto seconds = [](Clock::duration d) {
    return std::chrono::duration<double>(d).count();
  };
  int64_t vocab = model.vocabSize();
  std::vector<float> logits(model.outputSize(tokens.size()));
  Clock::time_point start = Clock::now();
  moec::Status prefill =
      model.forward(tokens.data(), tokens.size(), logits.data());
  double prefillSeconds = seconds(Clock::now() - start);
  if (moec::Status status = std::move(prefill); !status) {
    std::fprintf(stderr, "moec-run: error: %s\n", status.message().c_str());
    return 1;
  }
  bool scores = model.head() != moec::artifact::Head::CausalLM;
  if (!logitsPath.empty()) {
    std::vector<int64_t> shape = {int64_t(tokens.size()), model.outputWidth()};
    if (model.head() == moec::artifact::Head::SequenceClassification)
      shape = {model.outputWidth()};
    if (moec::Status status = moec::writeNpy(logitsPath, shape, logits.data());
        !status) {
      std::fprintf(stderr, "moec-run: error: %s\n",
                   status.message().c_str());
      return 1;
    }
  }
  // Classification heads: the scores, one row per line, and no decoding.
  if (scores) {
    int64_t width = model.outputWidth();
    for (size_t i = 0; i < logits.size(); ++i) {
      std::printf(i % width ? ",%g" : "%g", logits[i]);
      if ((i + 1) % width == 0)
        std::printf("\n");
    }
    std::fprintf(stderr, "moec-run: scored %zu tokens in %.1f ms\n",
                 tokens.size(), prefillSeconds * 1e3);
    return 0;
  }

  // Decoding, one token per step.
  moec::Sampler sampler(sampling);
  int64_t eos = config.eos_token_id();
  int32_t next = sampler.sample(&logits[(tokens.size() - 1) * vocab], vocab);
  std::vector<float> row(vocab);
  int64_t decoded = 0;
  start = Clock::now();
  for (int64_t n = 0; n < maxNewTokens; ++n) {
    std::printf(n ? ",%d" : "%d", next);
    std::fflush(stdout);
    if (next == eos || n + 1 == maxNewTokens)
      break;
    ++decoded;
    if (moec::Status status = model.forward(&next, 1, row.data()); !status) {
      std::fprintf(stderr, "\nmoec-run: error: %s\n",
                   status.message().c_str());
      return 1;
    }
    next = sampler.sample(row.data(), vocab);
  }
  double decodeSeconds = seconds(Clock::now() - start);
  if (maxNewTokens)
    std::printf("\n");
  std::fflush(stdout);
  // Timings, as llama.cpp prints them.
  std::fprintf(stderr,
               "moec-run: prompt %zu tokens in %.1f ms (%.2f tokens/s), "
               "decode %lld tokens in %.1f ms (%.2f tokens/s, %.1f ms/token)\n",
               tokens.size(), prefillSeconds * 1e3,
               tokens.size() / prefillSeconds, (long long)decoded,
               decodeSeconds * 1e3,
               decoded ? decoded / decodeSeconds : 0.0,
               decoded ? decodeSeconds * 1e3 / decoded : 0.0);
  return 0;
}
