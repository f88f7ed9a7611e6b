//===- Model.cpp - a loaded artifact, on any device ---------------------===//

#include "runtime/Model.h"
#include "runtime/format/Manifest.h"
#include "runtime/format/Activity.h"
#include "runtime/CpuModel.h"
#include "runtime/CudaModel.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

using namespace moec;

Status Model::bestRate(int warmup, int passes, double bytes,
                       const std::function<Status()> &pass, double &rate) {
  rate = 0;
  for (int n = 0; n < warmup + passes; ++n) {
    auto start = std::chrono::steady_clock::now();
    if (Status status = pass(); !status)
      return status;
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    if (n >= warmup)
      rate = std::max(rate, bytes / seconds);
  }
  return Status();
}

namespace {

static_assert(int64_t(artifact::DType::BF16) == kManifestCacheBF16 &&
                  int64_t(artifact::DType::F16) == kManifestCacheF16 &&
                  int64_t(artifact::DType::F32) == kManifestCacheF32,
              "the manifest states cache types as artifact::DType does");

/// The shapes the code was compiled for (its manifest) against those the
/// header states, which size every buffer.
Status checkManifest(const int64_t *manifest, const artifact::ModelConfig &c) {
  if (!manifest)
    return Status::error("the code states no shapes (no %s); was it "
                         "compiled by this moec?",
                         kManifestSymbol);
  if (manifest[kManifestLayout] != kManifestVersion)
    return Status::error("the code's manifest has layout %lld, this runtime "
                         "reads %lld; recompile the model",
                         (long long)manifest[kManifestLayout],
                         (long long)kManifestVersion);
  bool sequence = c.head() == artifact::Head::SequenceClassification;
  int64_t width =
      c.head() == artifact::Head::CausalLM ? c.vocab_size() : c.num_labels();
  struct Entry {
    const char *what;
    int64_t header;
    ManifestEntry code;
  } entries[] = {
      {"vocab_size", c.vocab_size(), kManifestEmbeddingRows},
      {"the output's rank", sequence ? 1 : 2, kManifestOutputRank},
      {"the output's width", width, kManifestOutputWidth},
      {"num_layers", c.num_layers(), kManifestLayers},
      {"num_kv_heads", c.num_kv_heads(), kManifestKvHeads},
      {"head_dim", c.head_dim(), kManifestHeadDim},
      {"the KV cache's type", int64_t(c.kv_cache_dtype()),
       kManifestKvCacheDType},
  };
  for (const Entry &e : entries)
    if (e.header != manifest[e.code])
      return Status::error("the header says %s is %lld, the code was "
                           "compiled for %lld: the artifact is corrupt or "
                           "was altered",
                           e.what, (long long)e.header,
                           (long long)manifest[e.code]);
  return Status();
}

} // namespace

Model::~Model() {
  if (library)
    dlclose(library);
}

Status Model::openCode(const Artifact &art) {
  const artifact::Header &h = art.header();
  Bytes code = art.segment(artifact::SegmentKind::Code);
  if (!code.size)
    return Status::error("holds no code (it was compiled without a code "
                         "generator)");
  const char *symbol = nullptr;
  if (h.entry_points())
    for (const artifact::EntryPoint *e : *h.entry_points())
      if (e->name() && e->name()->str() == "forward" && e->symbol())
        symbol = e->symbol()->c_str();
  if (!symbol)
    return Status::error("has no 'forward' entry point");

  // The shared object is loaded from memory: a memfd named after the model.
  int fd = memfd_create("moec-code", MFD_CLOEXEC);
  if (fd < 0)
    return Status::error("cannot create a memfd for the code");
  size_t done = 0;
  while (done < code.size) {
    ssize_t n = write(fd, code.data + done, code.size - done);
    if (n <= 0) {
      close(fd);
      return Status::error("cannot write the code to a memfd");
    }
    done += size_t(n);
  }
  std::string fdPath = "/proc/self/fd/" + std::to_string(fd);
  library = dlopen(fdPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  close(fd);
  if (!library)
    return Status::error("cannot load the code: %s", dlerror());
  if (Status status = checkManifest(static_cast<const int64_t *>(
                                        dlsym(library, kManifestSymbol)),
                                    *h.config());
      !status)
    return status;
  entry = dlsym(library, symbol);
  if (!entry)
    return Status::error("the code has no symbol %s", symbol);
  auto *rows =
      static_cast<const int64_t *>(dlsym(library, kActivityRowsSymbol));
  counters = static_cast<int64_t *>(dlsym(library, kActivitySymbol));
  counterRows = counters && rows ? *rows : 0;
  if (!counterRows)
    counters = nullptr;
  return Status();
}

Status Model::load(const Artifact &art, int64_t maxSeqLen,
                   int64_t sequences) {
  const artifact::ModelConfig &c = *art.header().config();
  vocab = c.vocab_size();
  layers = c.num_layers();
  kvHeads = c.num_kv_heads();
  headDim = c.head_dim();
  outputHead = c.head();
  labels = c.num_labels();
  kvElementBytes = dtypeBytes(c.kv_cache_dtype());
  if (maxSeqLen <= 0)
    return Status::error(StatusCode::InvalidMaxSeqLen,
                         "the maximum sequence length must be positive");
  if (sequences <= 0 || sequences > INT32_MAX / maxSeqLen)
    return Status::error(StatusCode::InvalidMaxSeqLen,
                         "%lld sequences of %lld positions do not fit a KV "
                         "cache",
                         (long long)sequences, (long long)maxSeqLen);
  // Such a router would route each sequence by the others' tokens.
  if (sequences > 1 && c.router_mixes_tokens())
    return Status::error("its router mixes the tokens of a call (sinkhorn), "
                         "so sequences cannot run together; use one")
        .withContext(art.path());
  maxSeq = maxSeqLen;
  lengths.assign(size_t(sequences), 0);
  return loadCode(art).withContext(art.path());
}

Status Model::setThreads(int) {
  return Status::error(StatusCode::ThreadsNeedCpu,
                       "a thread count applies to the cpu device only");
}

int64_t Model::outputWidth() const {
  return outputHead == artifact::Head::CausalLM ? vocab : labels;
}

int64_t Model::outputFloats(int64_t rows) const {
  return outputHead == artifact::Head::SequenceClassification
             ? labels
             : rows * outputWidth();
}

Status Model::measurePeakFlops(double &) {
  return Status::error("the peak arithmetic rate is not measured on %s",
                       device().c_str());
}

Status Model::checkTokens(int64_t sequence, const int32_t *tokens,
                          int64_t count) const {
  if (count <= 0)
    return Status::error("no tokens to run");
  int64_t cached = lengths[sequence];
  if (cached + count > maxSeq)
    return Status::error(StatusCode::SequenceTooLong,
                         "the sequence would be %lld tokens, longer than the "
                         "maximum sequence length %lld",
                         (long long)(cached + count), (long long)maxSeq);
  for (int64_t i = 0; i < count; ++i)
    if (tokens[i] < 0 || tokens[i] >= vocab)
      return Status::error("token %d is outside the vocabulary (%lld ids)",
                           tokens[i], (long long)vocab);
  return Status();
}

Status Model::forward(const int32_t *tokens, int64_t count, float *out,
                      Outputs outputs, int64_t sequence) {
  if (sequence < 0 || sequence >= sequences())
    return Status::error("sequence %lld is not one of the %lld",
                         (long long)sequence, (long long)sequences());
  if (Status s = checkTokens(sequence, tokens, count); !s)
    return s;
  int64_t &cached = lengths[sequence];
  std::vector<int32_t> positions(count),
      offsets(count, int32_t(sequence * maxSeq));
  for (int64_t i = 0; i < count; ++i)
    positions[i] = int32_t(cached + i);
  // A sequence score is the last token's: its chunk is the whole prompt.
  bool whole = outputHead == artifact::Head::SequenceClassification;
  for (int64_t done = 0; done < count;) {
    int64_t n =
        whole ? count : std::min({chunk, maxTokensPerRun(), count - done});
    bool last = done + n == count;
    int64_t rows = outputs == Outputs::All ? n : last;
    float *at = outputs == Outputs::All ? out + done * outputWidth() : out;
    if (Status status = run(tokens + done, positions.data() + done,
                            offsets.data(), n, rows, at);
        !status)
      return status;
    done += n;
    cached += n;
  }
  return Status();
}

Status Model::forwardBatch(const std::vector<BatchPart> &parts, float *out) {
  if (parts.empty())
    return Status::error("no sequences to run");
  if (outputHead != artifact::Head::CausalLM)
    return Status::error("only a causal LM runs sequences together");
  std::vector<int32_t> tokens, positions, offsets;
  std::vector<bool> seen(lengths.size());
  for (size_t i = 0; i < parts.size(); ++i) {
    const BatchPart &p = parts[i];
    if (p.sequence < 0 || p.sequence >= sequences() || seen[p.sequence])
      return Status::error("sequence %lld is not one of the %lld, or runs "
                           "twice in a step",
                           (long long)p.sequence, (long long)sequences());
    seen[p.sequence] = true;
    if (i > 0 && p.count != 1)
      return Status::error("only a step's first sequence may run more than "
                           "one token");
    if (Status s = checkTokens(p.sequence, p.tokens, p.count); !s)
      return s;
    for (int64_t t = 0; t < p.count; ++t) {
      tokens.push_back(p.tokens[t]);
      positions.push_back(int32_t(lengths[p.sequence] + t));
      offsets.push_back(int32_t(p.sequence * maxSeq));
    }
  }
  if (int64_t(tokens.size()) > maxTokensPerRun())
    return Status::error("a step of %zu tokens is more than the %lld one call "
                         "takes",
                         tokens.size(), (long long)maxTokensPerRun());
  if (Status s = run(tokens.data(), positions.data(), offsets.data(),
                     int64_t(tokens.size()), int64_t(parts.size()), out);
      !s)
    return s;
  for (const BatchPart &p : parts)
    lengths[p.sequence] += p.count;
  return Status();
}

Status Model::setPrefillChunk(int64_t tokens) {
  if (tokens <= 0)
    return Status::error("the prefill chunk must be a positive token count");
  chunk = tokens;
  return Status();
}

Status moec::openModel(const Artifact &art, const std::string &device,
                       int64_t maxSeqLen, std::unique_ptr<Model> &model,
                       int64_t sequences) {
  artifact::TargetKind target = art.header().target()->kind();
  bool cuda;
  if (device == "auto")
    cuda = target == artifact::TargetKind::Cuda;
  else if (device == "cpu" || device == "cuda")
    cuda = device == "cuda";
  else
    return Status::error(StatusCode::UnknownDevice,
                         "unknown device '%s' (auto, cpu or cuda)",
                         device.c_str());
  if (cuda)
    model = std::make_unique<CudaModel>();
  else
    model = std::make_unique<CpuModel>();
  return model->load(art, maxSeqLen, sequences);
}
