//===- CpuModel.cpp - running a CPU artifact ----------------------------===//

#include "runtime/CpuModel.h"

#include <algorithm>
#include <dlfcn.h>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

using namespace moec;

namespace {

/// A ranked memref descriptor, as MLIR's C interface passes it.
template <typename T, int Rank> struct MemRef {
  T *allocated;
  T *aligned;
  int64_t offset;
  int64_t sizes[Rank];
  int64_t strides[Rank];
};

template <typename T, int Rank>
MemRef<T, Rank> describe(T *data, const int64_t (&sizes)[Rank]) {
  MemRef<T, Rank> m{data, data, 0, {}, {}};
  int64_t stride = 1;
  for (int i = Rank - 1; i >= 0; --i) {
    m.sizes[i] = sizes[i];
    m.strides[i] = stride;
    stride *= sizes[i];
  }
  return m;
}

/// forward(weights, tokens, positions, kv_cache, out): `out` has rank 2
/// ([T, vocab] or [T, labels]) or, for sequence classification, rank 1.
template <int OutRank>
using ForwardFn = void (*)(MemRef<uint8_t, 1> *, MemRef<int32_t, 1> *,
                           MemRef<int32_t, 1> *, MemRef<float, 5> *,
                           MemRef<float, OutRank> *);

} // namespace

std::string moec::missingCpuFeatures(const std::string &features) {
  // Features whose absence would make the code fault. /proc/cpuinfo names
  // them as LLVM does, but for underscores (avx512_bf16, avx512bf16), so
  // both sides are compared without them.
  static const std::set<std::string> checked = {
      "avx",        "avx2",         "fma",         "f16c",
      "avx512f",    "avx512bw",     "avx512cd",    "avx512dq",
      "avx512vl",   "avx512bf16",   "avx512vnni",  "avx512fp16",
      "avx512vbmi", "avx512ifma",   "amxtile",     "amxbf16"};
  auto normal = [](std::string name) {
    name.erase(std::remove_if(name.begin(), name.end(),
                              [](char c) { return c == '_' || c == '-'; }),
               name.end());
    return name;
  };
  std::set<std::string> host;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("flags", 0) != 0)
      continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    for (std::string w; words >> w;)
      host.insert(normal(w));
    break;
  }
  std::string missing;
  std::istringstream list(features);
  for (std::string f; std::getline(list, f, ',');) {
    if (f.size() < 2 || f[0] != '+')
      continue;
    std::string name = normal(f.substr(1));
    if (checked.count(name) && !host.empty() && !host.count(name))
      missing += (missing.empty() ? "" : ",") + f;
  }
  return missing;
}

CpuModel::~CpuModel() {
  if (library)
    dlclose(library);
}

Status CpuModel::load(const Artifact &art, int64_t maxSeqLen) {
  const artifact::Header &h = art.header();
  auto fail = [&](Status s) { return s.withContext(art.path()); };
  if (h.target()->kind() != artifact::TargetKind::Cpu)
    return fail(Status::error("compiled for %s, not for a CPU",
                              artifact::EnumNameTargetKind(h.target()->kind())));
  std::string features =
      h.target()->features() ? h.target()->features()->str() : "";
  std::string missing = missingCpuFeatures(features);
  if (!missing.empty())
    return fail(Status::error("compiled for CPU features this machine lacks "
                              "(%s); recompile with --target-cpu=native",
                              missing.c_str()));
  Bytes code = art.segment(artifact::SegmentKind::Code);
  if (!code.size)
    return fail(Status::error("holds no code (it was compiled without a code "
                              "generator)"));
  const char *symbol = nullptr;
  if (h.entry_points())
    for (const artifact::EntryPoint *e : *h.entry_points())
      if (e->name() && e->name()->str() == "forward" && e->symbol())
        symbol = e->symbol()->c_str();
  if (!symbol)
    return fail(Status::error("has no 'forward' entry point"));

  // The shared object is loaded from memory: a memfd named after the model.
  int fd = memfd_create("moec-code", MFD_CLOEXEC);
  if (fd < 0)
    return fail(Status::error("cannot create a memfd for the code"));
  size_t done = 0;
  while (done < code.size) {
    ssize_t n = write(fd, code.data + done, code.size - done);
    if (n <= 0) {
      close(fd);
      return fail(Status::error("cannot write the code to a memfd"));
    }
    done += size_t(n);
  }
  std::string fdPath = "/proc/self/fd/" + std::to_string(fd);
  library = dlopen(fdPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  close(fd);
  if (!library)
    return fail(Status::error("cannot load the code: %s", dlerror()));
  entry = dlsym(library, symbol);
  if (!entry)
    return fail(Status::error("the code has no symbol %s", symbol));

  const artifact::ModelConfig &c = *h.config();
  vocab = c.vocab_size();
  layers = c.num_layers();
  kvHeads = c.num_kv_heads();
  headDim = c.head_dim();
  outputHead = c.head();
  labels = c.num_labels();
  if (maxSeqLen <= 0)
    return fail(Status::error("--max-seq-len must be positive"));
  maxSeq = maxSeqLen;
  kvCache.assign(size_t(layers) * 2 * maxSeq * kvHeads * headDim, 0.0f);
  weights = art.segment(artifact::SegmentKind::Weights);
  cached = 0;
  return Status();
}

Status CpuModel::setThreads(int threads) {
  if (threads <= 0)
    return Status::error("--threads must be positive");
  // dlsym on the code's handle searches its dependencies: libomp.
  auto set = reinterpret_cast<void (*)(int)>(
      dlsym(library, "omp_set_num_threads"));
  if (!set)
    return Status::error("the code was compiled without parallel loops");
  set(threads);
  return Status();
}

int64_t CpuModel::outputWidth() const {
  return outputHead == artifact::Head::CausalLM ? vocab : labels;
}

int64_t CpuModel::outputSize(int64_t count) const {
  return outputHead == artifact::Head::SequenceClassification
             ? labels
             : count * outputWidth();
}

Status CpuModel::forward(const int32_t *tokens, int64_t count, float *out) {
  if (count <= 0)
    return Status::error("no tokens to run");
  if (cached + count > maxSeq)
    return Status::error("the sequence would be %lld tokens, longer than "
                         "--max-seq-len %lld",
                         (long long)(cached + count), (long long)maxSeq);
  for (int64_t i = 0; i < count; ++i)
    if (tokens[i] < 0 || tokens[i] >= vocab)
      return Status::error("token %d is outside the vocabulary (%lld ids)",
                           tokens[i], (long long)vocab);
  std::vector<int32_t> positions(count);
  for (int64_t i = 0; i < count; ++i)
    positions[i] = int32_t(cached + i);

  auto w = describe(const_cast<uint8_t *>(weights.data),
                    {int64_t(weights.size)});
  auto t = describe(const_cast<int32_t *>(tokens), {count});
  auto p = describe(positions.data(), {count});
  auto kv = describe(kvCache.data(), {layers, 2, maxSeq, kvHeads, headDim});
  if (outputHead == artifact::Head::SequenceClassification) {
    auto scores = describe(out, {labels});
    reinterpret_cast<ForwardFn<1>>(entry)(&w, &t, &p, &kv, &scores);
  } else {
    auto rows = describe(out, {count, outputWidth()});
    reinterpret_cast<ForwardFn<2>>(entry)(&w, &t, &p, &kv, &rows);
  }
  cached += count;
  return Status();
}
