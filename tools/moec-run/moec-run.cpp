//===- moec-run.cpp - run .moec artifacts -------------------------------===//
//
// moec-run MODEL.moec --prompt TEXT      text in, text streamed out
// moec-run MODEL.moec --chat             a conversation on stdin
// moec-run MODEL.moec --tokens 1,2,3     token ids in and out
// moec-run --info MODEL.moec
//
// Part of the runtime: links no LLVM or MLIR.
//
//===----------------------------------------------------------------------===//

#include "runtime/Artifact.h"
#include "runtime/ChatTemplate.h"
#include "runtime/CommandLine.h"
#include "runtime/Generator.h"
#include "runtime/Model.h"
#include "runtime/Npy.h"
#include "runtime/OutputFile.h"
#include "runtime/Sampler.h"
#include "runtime/Tokenizer.h"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <csignal>
#include <climits>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

void printInfo(const moec::Artifact &artifact, bool listWeights) {
  namespace a = moec::artifact;
  const a::Header &h = artifact.header();
  // Header strings as printable text: a byte outside printable ASCII
  // (or an invalid one) shows as \xNN, not as raw bytes on the terminal.
  // (A deque: earlier strings stay where they are while later ones are
  // added, for printf calls that take several.)
  std::deque<std::string> kept;
  auto s = [&](const flatbuffers::String *str) -> const char * {
    std::string out;
    if (str)
      for (unsigned char ch : str->string_view()) {
        if (ch >= 0x20 && ch < 0x7f) {
          out += char(ch);
          continue;
        }
        char escaped[8];
        std::snprintf(escaped, sizeof(escaped), "\\x%02x", ch);
        out += escaped;
      }
    kept.push_back(std::move(out));
    return kept.back().c_str();
  };
  std::printf("%s: moec artifact, format %u, %" PRIu64 " bytes, compiled by "
              "moec %s\n",
              artifact.path().c_str(), h.format_version(), artifact.fileSize(),
              s(h.compiler_version()));
  const a::ModelConfig &c = *h.config();
  std::printf("model:    %s, %" PRId64 " layers, hidden %" PRId64
              ", vocab %" PRId64 ", KV %" PRId64 " heads x %" PRId64 "\n",
              s(c.architecture()), c.num_layers(), c.hidden_size(),
              c.vocab_size(), c.num_kv_heads(), c.head_dim());
  // Keys and values of every layer: what one position of --max-seq-len
  // costs.
  std::printf("kv cache: %s, %" PRId64 " bytes per position\n",
              moec::dtypeName(c.kv_cache_dtype()),
              c.num_layers() * 2 * c.num_kv_heads() * c.head_dim() *
                  moec::dtypeBytes(c.kv_cache_dtype()));
  const a::Target &t = *h.target();
  std::printf("target:   %s %s, cpu %s, features %s\n",
              a::EnumNameTargetKind(t.kind()), s(t.triple()), s(t.cpu()),
              t.features() && t.features()->size() ? s(t.features())
                                                   : "(none)");
  if (std::optional<moec::PublicKey> key = artifact.signer())
    std::printf("signed:   by key %s (checked only with --trusted-keys)\n",
                moec::toHex(key->data(), key->size()).c_str());
  else
    std::printf("signed:   no\n");
  if (h.segments())
    for (const a::Segment *seg : *h.segments())
      std::printf("segment:  %-9s offset %" PRIu64 ", %" PRIu64
                  " bytes, xxh3 %016" PRIx64 "\n",
                  a::EnumNameSegmentKind(seg->kind()), seg->offset(),
                  seg->size(), seg->checksum());
  uint64_t weightBytes = 0;
  size_t weightCount = h.weights() ? h.weights()->size() : 0;
  // Tensors and bytes per stored type, in the enum's order.
  std::map<a::DType, std::pair<size_t, uint64_t>> byType;
  if (h.weights())
    for (const a::Weight *w : *h.weights()) {
      weightBytes += w->size();
      auto &[count, bytes] = byType[w->dtype()];
      ++count;
      bytes += w->size();
    }
  std::printf("weights:  %zu tensors, %" PRIu64 " bytes", weightCount,
              weightBytes);
  const char *separator = " (";
  for (const auto &[type, stats] : byType) {
    std::printf("%s%s: %zu, %" PRIu64 " bytes", separator,
                moec::dtypeName(type), stats.first, stats.second);
    separator = "; ";
  }
  std::printf("%s\n", byType.empty() ? "" : ")");
  if (listWeights && h.weights())
    for (const a::Weight *w : *h.weights()) {
      std::string shape;
      if (w->shape())
        for (int64_t d : *w->shape())
          shape += (shape.empty() ? "" : "x") + std::to_string(d);
      std::printf("weight:   %s %s [%s] %s, offset %" PRIu64 ", %" PRIu64
                  " bytes\n",
                  s(w->name()), moec::dtypeName(w->dtype()), shape.c_str(),
                  w->layout() == a::WeightLayout::NeuronMajor
                      ? "neuron-major"
                  : w->blocks() == a::BlockLayout::Interleaved
                      ? "row-major/interleaved"
                      : "row-major",
                  w->offset(), w->size());
    }
  if (const a::TokenizerInfo *tok = h.tokenizer())
    std::printf("tokenizer: %s (%s)%s\n", s(tok->file_name()),
                a::EnumNameTokenizerFormat(tok->format()),
                tok->config_json() && tok->config_json()->size()
                    ? ", with tokenizer_config.json"
                    : "");
  else
    std::printf("tokenizer: none (token ids only)\n");
  if (!h.entry_points() || h.entry_points()->size() == 0)
    std::printf("code:     none (compiled without a code generator)\n");
  else
    for (const a::EntryPoint *e : *h.entry_points())
      std::printf("entry:    %s -> %s\n", s(e->name()), s(e->symbol()));
}

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Options {
  std::string path, logitsPath, device = "auto";
  std::vector<int32_t> tokens;
  bool haveTokens = false;
  std::string prompt, promptFile, system, chatTemplate = "auto";
  std::string trustedKeys;
  bool havePrompt = false, chat = false, json = false, info = false,
       listWeights = false;
  std::vector<std::string> stops;
  int64_t maxNewTokens = 16, maxSeqLen = 0, threads = 0;
  int64_t prefillChunk = moec::Model::kDefaultPrefillChunk;
  moec::SamplerOptions sampling;
};

using moec::Generation;
using moec::StopReason;
using moec::stopReasonName;

/// moec-run's generation: the runtime's loop, its text streamed to stdout
/// unless --json.
class Runner {
public:
  Runner(const Options &options, moec::Model &model,
         const moec::Tokenizer *tokenizer)
      : options(options),
        generator(model, tokenizer,
                  {options.maxNewTokens, options.stops, options.sampling}) {}

  /// Generates after `input`; `ends` are the tokens that end the answer.
  /// With `promptLogits`, the logits of every prompt position are kept
  /// there.
  moec::Status generate(const std::vector<int32_t> &input,
                        const std::vector<int32_t> &ends, Generation &out,
                        std::vector<float> *promptLogits = nullptr) {
    moec::Status status = generator.generate(
        input, ends, out,
        [&](const std::string &text) {
          emit(text);
          return true;
        },
        options.path, promptLogits);
    if (status && !options.json && options.maxNewTokens)
      emit("\n");
    return status;
  }

private:
  void emit(const std::string &text) {
    if (options.json || text.empty())
      return;
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  }

  const Options &options;
  moec::Generator generator;
};

/// The report of one generation: a JSON line, or the timings on stderr
/// as llama.cpp prints them.
void report(const Options &options, const Generation &g) {
  double promptRate = g.promptTokens / g.promptSeconds;
  double decodeRate = g.decodeSteps ? g.decodeSteps / g.decodeSeconds : 0.0;
  if (options.json) {
    nlohmann::ordered_json out;
    out["prompt_tokens"] = g.promptTokens;
    out["prompt_ids"] = g.promptIds;
    out["generated_tokens"] = g.tokens.size();
    out["tokens"] = g.tokens;
    if (!options.haveTokens)
      out["text"] = g.text;
    out["stop_reason"] = stopReasonName(g.reason);
    out["prompt_ms"] = g.promptSeconds * 1e3;
    out["decode_ms"] = g.decodeSeconds * 1e3;
    out["prompt_tokens_per_s"] = promptRate;
    out["decode_tokens_per_s"] = decodeRate;
    // Invalid UTF-8 (a cut byte sequence) is replaced, not an error.
    std::printf("%s\n", out.dump(-1, ' ', false,
                                 nlohmann::json::error_handler_t::replace)
                            .c_str());
    std::fflush(stdout);
    return;
  }
  std::fprintf(stderr,
               "moec-run: prompt %lld tokens in %.1f ms (%.2f tokens/s), "
               "generated %zu tokens, decode %lld steps in %.1f ms (%.2f "
               "tokens/s, %.1f ms/token), stopped by %s\n",
               (long long)g.promptTokens, g.promptSeconds * 1e3, promptRate,
               g.tokens.size(), (long long)g.decodeSteps, g.decodeSeconds * 1e3,
               decodeRate,
               g.decodeSteps ? g.decodeSeconds * 1e3 / g.decodeSteps : 0.0,
               stopReasonName(g.reason));
}

/// The prompt's text from `path` ("" or "-": stdin), at most `limit`
/// bytes: a directory, an unreadable file or a longer text (an endless
/// stream, /dev/zero) is an error naming it, found before anything is
/// tokenized. FIFOs are read: `--prompt-file <(...)` is one.
moec::Status readPrompt(const std::string &path, uint64_t limit,
                        std::string &out) {
  bool standardInput = path.empty() || path == "-";
  std::string name = standardInput ? "stdin" : path;
  int fd = standardInput ? STDIN_FILENO
                         : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return moec::Status::error("cannot read the prompt: %s",
                               std::strerror(errno))
        .withContext(name);
  struct stat info;
  if (fstat(fd, &info) == 0 && S_ISDIR(info.st_mode)) {
    if (!standardInput)
      ::close(fd);
    return moec::Status::error("is a directory, not a prompt")
        .withContext(name);
  }
  out.clear();
  char buffer[1 << 16];
  moec::Status status;
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      status = moec::Status::error("cannot read the prompt: %s",
                                   std::strerror(errno));
      break;
    }
    if (n == 0)
      break;
    if (out.size() + size_t(n) > limit) {
      status = moec::Status::error(
          "the prompt is longer than %llu bytes, more than the KV cache's "
          "positions could hold (--max-seq-len)",
          (unsigned long long)limit);
      break;
    }
    out.append(buffer, size_t(n));
  }
  if (!standardInput)
    ::close(fd);
  return status.withContext(name);
}

/// A conversation: --prompt, then one user turn per line of stdin.
int chat(const Options &options, const moec::Artifact &artifact,
         moec::Model &model, const moec::Tokenizer &tokenizer,
         const moec::ChatTemplate &format, const std::vector<int32_t> &ends) {
  Runner runner(options, model, &tokenizer);
  bool interactive = isatty(STDIN_FILENO);
  bool first = true, closed = true;
  int32_t pending = -1;
  std::string line = options.prompt;
  bool fromPrompt = options.havePrompt;
  while (true) {
    if (!fromPrompt) {
      if (interactive)
        std::fputs("> ", stderr);
      if (!std::getline(std::cin, line))
        break;
      if (line.empty())
        continue;
    }
    fromPrompt = false;
    // The weights are mapped from the file: one changed between turns must
    // not be mixed with the cache of the old.
    if (moec::Status s = artifact.checkUnchanged(); !s) {
      std::fprintf(stderr, "moec-run: error: %s\n", s.message().c_str());
      return 1;
    }
    std::vector<int32_t> input;
    if (pending >= 0)
      input.push_back(pending);
    tokenizer.encode(format.userTurn(line, options.system, first, closed),
                     input);
    Generation turn;
    if (moec::Status s = runner.generate(input, ends, turn); !s) {
      std::fprintf(stderr, "moec-run: error: %s\n",
                   moec::OptionParser::describe(s).c_str());
      return 1;
    }
    report(options, turn);
    first = false;
    closed = turn.reason == StopReason::Eos;
    pending = turn.pending;
    if (turn.reason == StopReason::Context) {
      std::fprintf(stderr, "moec-run: the KV cache is full; the conversation "
                           "ends here (--max-seq-len)\n");
      return 1;
    }
  }
  return 0;
}

} // namespace

namespace {

/// The artifact's path for the SIGBUS handler (a fixed buffer: the handler
/// may only read memory and write).
char faultPath[4096];

/// A fault on the mapped artifact (the file truncated under the running
/// model) becomes an error naming it.
void onBusError(int) {
  const char head[] = "moec-run: error: ";
  const char tail[] = ": the artifact's file was truncated or changed "
                      "while the model was running\n";
  ssize_t ignored = write(STDERR_FILENO, head, sizeof(head) - 1);
  ignored = write(STDERR_FILENO, faultPath, strnlen(faultPath, sizeof(faultPath)));
  ignored = write(STDERR_FILENO, tail, sizeof(tail) - 1);
  (void)ignored;
  _exit(1);
}

} // namespace

int main(int argc, char **argv) {
  // Past a file-size limit a write fails (EFBIG, reported with the file's
  // name) instead of the process dying.
  std::signal(SIGXFSZ, SIG_IGN);
  Options o;
  moec::OptionParser parser(
      "moec-run", "[options] MODEL.moec",
      "runs a .moec artifact: text or token ids in, text or ids out");
  parser.positional("MODEL.moec", o.path);

  parser.group("Input");
  parser.value("prompt", "text", "The prompt (default: read from stdin)",
               "a text", [&](const std::string &v) {
                 o.prompt = v;
                 o.havePrompt = true;
                 return true;
               });
  parser.value("prompt-file", "file",
               "Read the prompt from a file (- for "
               "stdin)",
               "a file name", moec::nonEmpty(o.promptFile));
  parser.value("tokens", "ids",
               "Prompt token ids, e.g. 1,15,42; the output "
               "is ids too",
               "comma-separated token ids", [&](const std::string &v) {
                 std::vector<int64_t> ids;
                 if (!moec::parseCountList(v.c_str(), INT32_MAX, ids))
                   return false;
                 o.tokens.assign(ids.begin(), ids.end());
                 return o.haveTokens = true;
               });

  parser.group("Generation");
  parser.value("max-new-tokens", "n",
               "Tokens to generate (default 16; "
               "generation stops earlier at EOS)",
               "a count", moec::countIn(o.maxNewTokens, 0, INT32_MAX));
  parser.value("stop", "text",
               "Stop when the text generated contains this "
               "(repeatable); it is not printed",
               "a non-empty text", [&](const std::string &v) {
                 o.stops.push_back(v);
                 return !v.empty();
               });
  parser.value("temperature", "t",
               "Sample at this temperature (default 0: "
               "greedy)",
               "a non-negative number", [&](const std::string &v) {
                 return moec::parseReal(v.c_str(), o.sampling.temperature);
               });
  parser.value("top-k", "k", "Sample among the k most likely tokens", "a count",
               moec::countIn(o.sampling.topK, 0, INT32_MAX));
  parser.value("top-p", "p", "Sample within the nucleus of mass p",
               "a number in (0, 1]", [&](const std::string &v) {
                 return moec::parseReal(v.c_str(), o.sampling.topP) &&
                        o.sampling.topP > 0.0f && o.sampling.topP <= 1.0f;
               });
  parser.value("seed", "s", "Random seed for sampling (default 0)",
               "a non-negative integer", [&](const std::string &v) {
                 int64_t seed;
                 bool ok = moec::countIn(seed, 0, INT64_MAX)(v);
                 o.sampling.seed = uint64_t(seed);
                 return ok;
               });

  parser.group("Chat");
  parser.flag("chat",
              "Talk: --prompt, then each line of stdin, is a user "
              "turn; the KV cache is kept across turns",
              o.chat);
  parser.value("chat-template", "name",
               "auto (the tokenizer's), chatml, mistral or llama3",
               moec::ChatTemplate::names(),
               moec::oneOf(o.chatTemplate,
                           {"auto", "chatml", "mistral", "llama3"}));
  parser.value("system", "text", "A system prompt for the first turn", "a text",
               [&](const std::string &v) {
                 o.system = v;
                 return true;
               });

  parser.group("Output");
  parser.flag("json",
              "Print one JSON object per generation (tokens, text, "
              "stop reason, timings) instead of streaming",
              o.json);
  parser.value("logits", "file.npy",
               "Write the logits of every prompt "
               "position, float32 [T, vocab]",
               "a file name", moec::nonEmpty(o.logitsPath));
  parser.flag("info", "Print the artifact's header and check its segments",
              o.info);
  parser.flag("list-weights",
              "With --info, also list every weight: name, type, shape, "
              "layout, offset in the Weights segment and bytes",
              o.listWeights);

  parser.group("Trust");
  parser.value("trusted-keys", "dir",
               "Run only artifacts signed by a key of this directory (its "
               "*.pub files, from moec-keygen)",
               "a directory", moec::nonEmpty(o.trustedKeys));

  moec::deviceOptions(parser, o.device, o.threads, o.maxSeqLen);
  parser.value("prefill-chunk", "n",
               "Prompt tokens per call of the code (default " +
                   std::to_string(o.prefillChunk) +
                   "): a larger chunk reads the weights fewer times, a "
                   "smaller one needs less memory",
               "a positive count", moec::countIn(o.prefillChunk, 1, INT32_MAX));

  if (int code = parser.parse(argc, argv); code >= 0)
    return code;
  if (o.path.empty())
    return parser.usageError("no model given");
  int inputs = o.haveTokens + o.havePrompt + !o.promptFile.empty();
  if (inputs > 1)
    return parser.usageError("give one of --tokens, --prompt and "
                             "--prompt-file");
  if (o.chat && (o.haveTokens || !o.promptFile.empty()))
    return parser.usageError("--chat takes text: --prompt or stdin");
  if (o.chat && !o.logitsPath.empty())
    return parser.usageError("--logits is for one prompt, not --chat");

  // An output is checked before any work: a bad path is found now, not
  // after the generation.
  if (!o.logitsPath.empty())
    if (moec::Status status =
            moec::checkOutputPath(o.logitsPath, {o.path, o.promptFile});
        !status)
      return parser.failure(status);
  moec::Artifact artifact;
  if (moec::Status status = moec::Artifact::open(o.path, artifact); !status)
    return parser.failure(status);
  std::snprintf(faultPath, sizeof(faultPath), "%s", o.path.c_str());
  std::signal(SIGBUS, onBusError);
  if (o.listWeights && !o.info)
    return parser.usageError("--list-weights is a part of --info");
  // An artifact's code runs when it loads: with trusted keys, nothing is
  // loaded before its signature is checked.
  if (!o.trustedKeys.empty()) {
    std::vector<moec::PublicKey> trusted;
    if (moec::Status status = moec::readTrustedKeys(o.trustedKeys, trusted);
        !status)
      return parser.failure(status);
    if (moec::Status status = artifact.verifySignature(trusted); !status)
      return parser.failure(status);
  }
  if (o.info) {
    printInfo(artifact, o.listWeights);
    return 0;
  }

  // The prompt's text: an option, a file, or stdin.
  bool text = !o.haveTokens;
  if (text && !o.havePrompt && !o.chat) {
    if (o.promptFile.empty() && isatty(STDIN_FILENO))
      return parser.usageError("no prompt: give --prompt, --prompt-file, "
                               "--tokens or text on stdin");
    // No token is longer than 256 bytes: a longer text cannot fit the
    // cache, and is refused before it is tokenized.
    int64_t positions =
        o.maxSeqLen ? o.maxSeqLen
                    : std::min<int64_t>(
                          artifact.header().config()->max_position_embeddings(),
                          moec::kDefaultMaxSeqLen);
    if (moec::Status s = readPrompt(o.promptFile,
                                    uint64_t(std::max<int64_t>(positions, 1)) *
                                        256,
                                    o.prompt);
        !s)
      return parser.failure(s);
    if (o.prompt.empty() && o.promptFile.empty())
      return parser.usageError("no prompt: give --prompt, --prompt-file, "
                               "--tokens or text on stdin");
    o.havePrompt = true;
  }
  std::unique_ptr<moec::Tokenizer> tokenizer;
  if (text)
    if (moec::Status s = moec::Tokenizer::load(artifact, tokenizer); !s)
      return parser.failure(s);
  moec::ChatTemplate format;
  if (o.chat)
    if (moec::Status s =
            moec::ChatTemplate::get(o.chatTemplate, *tokenizer, o.path, format);
        !s)
      return parser.failure(s);

  const auto &config = *artifact.header().config();
  if (o.maxSeqLen == 0)
    o.maxSeqLen = std::min<int64_t>(config.max_position_embeddings(),
                                    moec::kDefaultMaxSeqLen);
  std::unique_ptr<moec::Model> loaded;
  if (moec::Status s = moec::openModel(artifact, o.device, o.maxSeqLen, loaded);
      !s)
    return parser.failure(s);
  moec::Model &model = *loaded;
  if (o.threads)
    if (moec::Status s = model.setThreads(int(o.threads)); !s)
      return parser.failure(s);
  if (moec::Status s = model.setPrefillChunk(o.prefillChunk); !s)
    return parser.failure(s);
  std::fprintf(stderr, "moec-run: %s on the %s backend\n", o.path.c_str(),
               model.device().c_str());

  // What ends an answer: the model's EOS, the tokenizer's, and in a chat
  // the template's end of turn.
  std::vector<int32_t> ends = moec::endTokens(
      config, tokenizer.get(), o.chat ? format.endOfAnswer() : -1);
  if (o.chat)
    return chat(o, artifact, model, *tokenizer, format, ends);

  std::vector<int32_t> input = o.tokens;
  if (text) {
    if (tokenizer->addsBos() && tokenizer->bos() >= 0)
      input.push_back(tokenizer->bos());
    tokenizer->encode(o.prompt, input);
  }
  if (input.empty())
    return parser.usageError("the prompt is empty");

  auto writeLogits = [&](const std::vector<float> &logits) {
    std::vector<int64_t> shape = {int64_t(input.size()), model.outputWidth()};
    if (model.head() == moec::artifact::Head::SequenceClassification)
      shape = {model.outputWidth()};
    return moec::writeNpy(o.logitsPath, shape, logits.data());
  };

  // Classification heads: the scores, one row per line, and no decoding.
  if (model.head() != moec::artifact::Head::CausalLM) {
    std::vector<float> logits(
        model.outputSize(input.size(), moec::Model::Outputs::All));
    Clock::time_point start = Clock::now();
    if (moec::Status s =
            model.forward(input.data(), input.size(), logits.data(),
                          moec::Model::Outputs::All);
        !s)
      return parser.failure(s);
    double seconds = secondsSince(start);
    if (!o.logitsPath.empty())
      if (moec::Status s = writeLogits(logits); !s)
        return parser.failure(s);
    int64_t width = model.outputWidth();
    for (size_t i = 0; i < logits.size(); ++i) {
      std::printf(i % width ? ",%g" : "%g", logits[i]);
      if ((i + 1) % width == 0)
        std::printf("\n");
    }
    std::fprintf(stderr, "moec-run: scored %zu tokens in %.1f ms\n",
                 input.size(), seconds * 1e3);
    return 0;
  }

  Runner runner(o, model, tokenizer.get());
  Generation generation;
  std::vector<float> promptLogits;
  if (moec::Status s =
          runner.generate(input, ends, generation,
                          o.logitsPath.empty() ? nullptr : &promptLogits);
      !s) {
    std::fflush(stdout);
    return parser.failure(s);
  }
  if (!o.logitsPath.empty())
    if (moec::Status s = writeLogits(promptLogits); !s)
      return parser.failure(s);
  report(o, generation);
  return 0;
}
