//===- CpuModel.cpp - running a CPU artifact ----------------------------===//

#include "runtime/CpuModel.h"
#include "runtime/MemRef.h"
#include "runtime/Progress.h"

#include <algorithm>
#include <cstdlib>
#include <dlfcn.h>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>

using namespace moec;

std::string moec::missingCpuFeatures(const std::string &features) {
  // Features whose absence would make the code fault. /proc/cpuinfo names
  // them as LLVM does, but for underscores (avx512_bf16, avx512bf16), so
  // both sides are compared without them.
  static const std::set<std::string> checked = {
      "avx",        "avx2",       "fma",        "f16c",
      "avx512f",    "avx512bw",   "avx512cd",   "avx512dq",
      "avx512vl",   "avx512bf16", "avx512vnni", "avx512fp16",
      "avx512vbmi", "avx512ifma", "amxtile",    "amxbf16"};
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

Status CpuModel::loadCode(const Artifact &art) {
  const artifact::Header &h = art.header();
  if (h.target()->kind() != artifact::TargetKind::Cpu)
    return Status::error(StatusCode::WrongDevice,
                         "compiled for CUDA, not for a CPU");
  std::string features =
      h.target()->features() ? h.target()->features()->str() : "";
  std::string missing = missingCpuFeatures(features);
  if (!missing.empty())
    return Status::error(StatusCode::MissingCpuFeatures,
                         "compiled for CPU features this machine lacks (%s)",
                         missing.c_str());
  if (Status status = openCode(art); !status)
    return status;
  // Zeroed pages on first touch: no row is read before it is written, so
  // a large --max-seq-len costs memory only as the sequence fills it.
  // A cache larger than the machine's memory is refused up front, saying
  // what it would need.
  double perPosition = double(kvBytes()) / double(kvRows());
  double memory = double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGE_SIZE));
  if (double(kvBytes()) > memory || kvBytes() <= 0)
    return Status::error(
        StatusCode::InvalidMaxSeqLen,
        "a KV cache of %lld positions%s needs %.1f GiB (%.0f bytes a "
        "position); this machine has %.1f GiB",
        (long long)kvRows(),
        sequences() > 1 ? (" (" + std::to_string(sequences()) +
                           " sequences of " + std::to_string(maxSeq) + ")")
                              .c_str()
                        : "",
        perPosition * double(kvRows()) / double(1 << 30), perPosition,
        memory / double(1 << 30));
  kvCache.reset(static_cast<uint8_t *>(std::calloc(size_t(kvBytes()), 1)));
  if (!kvCache)
    return Status::error(StatusCode::InvalidMaxSeqLen,
                         "cannot allocate the KV cache (%lld positions, %lld "
                         "bytes)",
                         (long long)kvRows(), (long long)kvBytes());
  weights = art.segment(artifact::SegmentKind::Weights);
  populateWeights();
  return Status();
}

void CpuModel::populateWeights() {
  // Mapping every page now, as llama.cpp does, keeps page faults out of
  // the decode steps: an expert first chosen at step 40 would otherwise
  // fault in its 4 KiB pages then (86,000 for an expert of 352 MB).
  long page = sysconf(_SC_PAGESIZE);
  uintptr_t begin =
      reinterpret_cast<uintptr_t>(weights.data) & ~uintptr_t(page - 1);
  uintptr_t end = reinterpret_cast<uintptr_t>(weights.data) + weights.size;
  constexpr uintptr_t kPiece = uintptr_t(256) << 20;
  Progress progress("reading weights");
  for (uintptr_t at = begin; at < end; at += kPiece) {
    size_t n = std::min(kPiece, end - at);
    // Kernels before 5.14 lack MADV_POPULATE_READ; they read ahead at least.
    if (madvise(reinterpret_cast<void *>(at), n, MADV_POPULATE_READ) != 0)
      madvise(reinterpret_cast<void *>(at), n, MADV_WILLNEED);
    progress.update(at + n - begin, end - begin);
  }
}

namespace {

/// The sum of n words: the streaming read of the bandwidth probe, in the
/// widest vectors this CPU loads (one clone per instruction set), since a
/// core streams fewer bytes when more instructions stand between its loads.
__attribute__((target_clones("avx512f", "avx2", "default"))) uint64_t
sumWords(const uint64_t *p, size_t n) {
  uint64_t sum = 0;
  for (size_t i = 0; i < n; ++i)
    sum += p[i];
  return sum;
}

/// Independent chains of multiply-adds in vectors of `Lanes` floats,
/// enough to keep every FMA unit busy through the latency of each (4
/// cycles, 2 units: 8 chains) while the chains and the two constants fit in
/// the registers; the result depends on all of them so that none is
/// optimised away. Returns the floating-point operations done.
template <int Lanes, int Chains>
__attribute__((always_inline)) inline double
multiplyAddChains(int64_t iterations, float seed, float &result) {
  typedef float Vector __attribute__((vector_size(Lanes * 4)));
  Vector acc[Chains];
  for (int c = 0; c < Chains; ++c)
    acc[c] = Vector{} + seed * float(c + 1);
  Vector scale = Vector{} + 0.999999f, step = Vector{} + 1e-7f;
  for (int64_t n = 0; n < iterations; ++n)
    for (int c = 0; c < Chains; ++c)
      acc[c] = acc[c] * scale + step;
  float sum = 0;
  for (int c = 0; c < Chains; ++c)
    for (int i = 0; i < Lanes; ++i)
      sum += acc[c][i];
  result = sum;
  return 2.0 * Lanes * Chains * double(iterations);
}

// One version per instruction set: 32 vector registers with AVX-512, 16
// with AVX2 and with SSE.
__attribute__((target("avx512f"))) double peakAvx512(int64_t n, float seed,
                                                     float &result) {
  return multiplyAddChains<16, 8>(n, seed, result);
}
__attribute__((target("avx2,fma"))) double peakAvx2(int64_t n, float seed,
                                                    float &result) {
  return multiplyAddChains<8, 12>(n, seed, result);
}
double peakSse(int64_t n, float seed, float &result) {
  return multiplyAddChains<4, 12>(n, seed, result);
}

/// The multiply-add loop in the widest vectors with FMA this CPU has.
double multiplyAdds(int64_t iterations, float seed, float &result) {
  if (__builtin_cpu_supports("avx512f"))
    return peakAvx512(iterations, seed, result);
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return peakAvx2(iterations, seed, result);
  return peakSse(iterations, seed, result);
}

/// Runs work(w) for w = 0 .. workers-1, each on a thread of its own (the
/// caller's is worker 0).
void onWorkers(int workers, const std::function<void(int)> &work) {
  std::vector<std::thread> pool;
  for (int w = 1; w < workers; ++w)
    pool.emplace_back(work, w);
  work(0);
  for (std::thread &t : pool)
    t.join();
}

} // namespace

Status CpuModel::setThreads(int threads) {
  if (threads <= 0)
    return Status::error(StatusCode::InvalidThreads,
                         "the thread count must be positive");
  // dlsym on the code's handle searches its dependencies: libomp.
  auto set =
      reinterpret_cast<void (*)(int)>(dlsym(library, "omp_set_num_threads"));
  if (!set)
    return Status::error("the code was compiled without parallel loops");
  set(threads);
  threadCount = threads;
  return Status();
}

int CpuModel::threads() const {
  return threadCount ? threadCount
                     : int(std::max(1u, std::thread::hardware_concurrency()));
}

Status CpuModel::measureBandwidth(uint64_t bytes, double &bytesPerSecond) {
  int workers = threads();
  size_t count = bytes / sizeof(uint64_t) / (64 * workers) * 64 * workers;
  if (!count)
    return Status::error("the bandwidth probe needs at least %zu bytes",
                         64 * workers * sizeof(uint64_t));
  std::unique_ptr<uint64_t[]> data(new (std::nothrow) uint64_t[count]);
  if (!data)
    return Status::error("cannot allocate %zu bytes for the bandwidth probe",
                         count * sizeof(uint64_t));
  for (size_t i = 0; i < count; ++i)
    data[i] = i;
  size_t perWorker = count / workers;
  return rateOnWorkers<uint64_t>(
      /*warmup=*/0, double(count * sizeof(uint64_t)),
      [&](int w) { return sumWords(data.get() + w * perWorker, perWorker); },
      bytesPerSecond);
}

Status CpuModel::measurePeakFlops(double &flopsPerSecond) {
  // About 20 ms a pass on one AVX-512 core.
  constexpr int64_t kIterations = int64_t(1) << 21;
  float ignored;
  double perWorker = multiplyAdds(1, 0.0f, ignored) * double(kIterations);
  return rateOnWorkers<float>(
      /*warmup=*/1, perWorker * threads(),
      [&](int w) {
        float result;
        multiplyAdds(kIterations, 1e-3f * float(w + 1), result);
        return result;
      },
      flopsPerSecond);
}

template <typename Result>
Status CpuModel::rateOnWorkers(int warmup, double amount,
                               const std::function<Result(int)> &work,
                               double &rate) {
  int workers = threads();
  std::vector<Result> results(workers);
  Status status = bestRate(
      warmup, /*passes=*/5, amount,
      [&] {
        onWorkers(workers, [&](int w) { results[w] = work(w); });
        return Status();
      },
      rate);
  volatile Result sink = 0;
  for (Result r : results)
    sink = sink + r;
  return status;
}

Status CpuModel::run(const int32_t *tokens, const int32_t *positions,
                     const int32_t *offsets, int64_t count, int64_t rows,
                     float *out) {
  auto w =
      describe(const_cast<uint8_t *>(weights.data), {int64_t(weights.size)});
  auto t = describe(const_cast<int32_t *>(tokens), {count});
  auto p = describe(const_cast<int32_t *>(positions), {count});
  auto o = describe(const_cast<int32_t *>(offsets), {count});
  auto kv = describe(reinterpret_cast<KvElement *>(kvCache.get()),
                     {layers, 2, kvRows(), kvHeads, headDim});
  if (outputHead == artifact::Head::SequenceClassification) {
    auto scores = describe(out, {labels});
    reinterpret_cast<ForwardFn<1>>(entry)(&w, &t, &p, &o, &kv, count, &scores);
  } else {
    auto table = describe(out, {rows, outputWidth()});
    reinterpret_cast<ForwardFn<2>>(entry)(&w, &t, &p, &o, &kv, rows, &table);
  }
  return Status();
}
