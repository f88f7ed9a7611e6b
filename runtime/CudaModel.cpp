//===- CudaModel.cpp - running a CUDA artifact --------------------------===//

#include "runtime/CudaModel.h"
#include "runtime/MemRef.h"
#include "runtime/Progress.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

using namespace moec;

namespace {

/// The model whose generated host code is running on this thread: the
/// mgpu* functions below serve it. It is set only while the code runs
/// (being loaded, a forward step), so models on other threads, or loaded
/// one after another, never serve each other's calls.
thread_local CudaModel *current = nullptr;

/// Makes `model` the current one for a scope.
class Serving {
public:
  explicit Serving(CudaModel *model) : saved(current) { current = model; }
  ~Serving() { current = saved; }
  Serving(const Serving &) = delete;
  Serving &operator=(const Serving &) = delete;

private:
  CudaModel *saved;
};

/// Prefill runs in chunks of this many tokens, which bounds what a step
/// allocates.
constexpr int64_t kMaxChunk = 64;
constexpr uint64_t kAlignment = 256;

template <typename T> T *devicePointer(cuda::DevicePtr p) {
  return reinterpret_cast<T *>(static_cast<uintptr_t>(p));
}

} // namespace

CudaModel::~CudaModel() {
  if (!driver)
    return;
  if (decodeGraph)
    driver->cuGraphExecDestroy(decodeGraph);
  for (cuda::DevicePtr p : overflow)
    driver->cuMemFree(p);
  for (cuda::DevicePtr p : {arena, weights, kvCache, inputs, outBuffer})
    if (p)
      driver->cuMemFree(p);
  if (module)
    driver->cuModuleUnload(module);
  if (mainStream)
    driver->cuStreamDestroy(mainStream);
  if (context)
    driver->cuDevicePrimaryCtxRelease(dev);
}

void CudaModel::keepFirst(Status status) {
  if (!status && deferred)
    deferred = std::move(status);
}

Status CudaModel::check(cuda::Result result, const char *what) {
  if (result == 0)
    return Status();
  return Status::error("%s: %s", what,
                       cuda::errorString(*driver, result).c_str());
}

Status CudaModel::loadCode(const Artifact &art) {
  const artifact::Header &h = art.header();
  if (h.target()->kind() != artifact::TargetKind::Cuda)
    return Status::error(StatusCode::WrongDevice,
                         "compiled for a CPU, not for CUDA");
  if (Status status = cuda::openDriver(driver); !status)
    return Status::error("compiled for CUDA, but %s", status.message().c_str());
  int devices = 0;
  if (driver->cuInit(0) != 0 || driver->cuDeviceGetCount(&devices) != 0 ||
      devices == 0)
    return Status::error("compiled for CUDA, but this machine has no CUDA "
                         "GPU");
  if (Status s = check(driver->cuDeviceGet(&dev, 0), "cuDeviceGet"); !s)
    return s;
  char name[256] = {};
  driver->cuDeviceGetName(name, sizeof name, dev);
  deviceName = name;
  int major = 0, minor = 0;
  driver->cuDeviceGetAttribute(&major, cuda::kAttributeComputeCapabilityMajor,
                               dev);
  driver->cuDeviceGetAttribute(&minor, cuda::kAttributeComputeCapabilityMinor,
                               dev);
  if (Status s = check(driver->cuDevicePrimaryCtxRetain(&context, dev),
                       "cannot create a CUDA context");
      !s)
    return s;
  if (Status s = check(driver->cuCtxSetCurrent(context), "cuCtxSetCurrent"); !s)
    return s;
  if (Status s =
          check(driver->cuStreamCreate(&mainStream, 0), "cuStreamCreate");
      !s)
    return s;

  // The cubin when it is for this SM, else the PTX for the driver to
  // compile (a newer GPU than the artifact's).
  std::string sm = "sm_" + std::to_string(major) + std::to_string(minor);
  std::string chip = h.target()->cpu() ? h.target()->cpu()->str() : "";
  Bytes cubin = art.segment(artifact::SegmentKind::DeviceCode);
  Bytes ptx = art.segment(artifact::SegmentKind::DeviceAssembly);
  if (cubin.size && chip == sm)
    image = cubin.data;
  else if (ptx.size)
    image = ptx.data;
  else
    return Status::error("holds a cubin for %s only; this GPU is %s",
                         chip.c_str(), sm.c_str());

  // Buffers the entry point is given.
  Bytes w = art.segment(artifact::SegmentKind::Weights);
  weightBytes = int64_t(w.size);
  maxChunk =
      outputHead == artifact::Head::SequenceClassification ? maxSeq : kMaxChunk;
  staged.assign(3 * size_t(maxChunk), 0);
  useGraphs = !std::getenv("MOEC_NO_CUDA_GRAPH");
  size_t outBytes = sizeof(float) * size_t(outputSize(maxChunk, Outputs::All));
  struct {
    cuda::DevicePtr *ptr;
    size_t bytes;
  } buffers[] = {{&weights, w.size},
                 {&kvCache, size_t(kvBytes())},
                 {&inputs, sizeof(int32_t) * 3 * size_t(maxChunk)},
                 {&outBuffer, outBytes}};
  for (auto &b : buffers)
    if (Status s = check(driver->cuMemAlloc(b.ptr, b.bytes ? b.bytes : 1),
                         "cannot allocate device memory");
        !s)
      return s;
  // Masked cache entries are multiplied by zero: they must not be NaN.
  if (Status s = check(driver->cuMemsetD8(kvCache, 0, size_t(kvBytes())),
                       "cuMemsetD8");
      !s)
    return s;
  constexpr size_t kPiece = size_t(64) << 20;
  Progress progress("uploading weights");
  for (size_t done = 0; done < w.size;) {
    size_t n = std::min(kPiece, w.size - done);
    if (Status s = check(driver->cuMemcpyHtoD(weights + done, w.data + done, n),
                         "cannot upload the weights");
        !s)
      return s;
    done += n;
    progress.update(done, w.size);
  }

  // The host code loads its kernels when it is loaded.
  {
    Serving serving(this);
    if (Status status = openCode(art); !status)
      return status;
  }
  if (!deferred)
    return deferred;
  if (!module)
    return Status::error("the code loaded no kernels");
  return Status();
}

void *CudaModel::loadKernels(const void *) {
  // The host code embeds the PTX; the artifact may hold a better image.
  if (!module)
    keepFirst(check(driver->cuModuleLoadData(&module, image),
                    "cannot load the kernels"));
  return module;
}

void *CudaModel::kernel(void *, const char *name) {
  auto [it, inserted] = functions.try_emplace(name, nullptr);
  if (inserted)
    keepFirst(check(driver->cuModuleGetFunction(&it->second, module, name),
                    "cuModuleGetFunction"));
  return it->second;
}

void CudaModel::launch(void *function, const unsigned (&grid)[3],
                       const unsigned (&block)[3], unsigned sharedBytes,
                       void **params, void **extra) {
  if (!function)
    return;
  keepFirst(check(driver->cuLaunchKernel(static_cast<cuda::Function>(function),
                                         grid[0], grid[1], grid[2], block[0],
                                         block[1], block[2], sharedBytes,
                                         mainStream, params, extra),
                  "cuLaunchKernel"));
}

void *CudaModel::allocate(uint64_t bytes) {
  bytes = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  stepBytes += bytes;
  if (arenaUsed + bytes <= arenaSize) {
    void *p = devicePointer<void>(arena + arenaUsed);
    arenaUsed += bytes;
    return p;
  }
  cuda::DevicePtr p = 0;
  keepFirst(check(driver->cuMemAlloc(&p, bytes ? bytes : 1),
                  "cannot allocate device memory"));
  overflow.push_back(p);
  return devicePointer<void>(p);
}

void CudaModel::synchronize() {
  // Inside a capture, work is recorded, not run: there is nothing to wait
  // for.
  if (capturing)
    return;
  keepFirst(
      check(driver->cuStreamSynchronize(mainStream), "cuStreamSynchronize"));
}

Status CudaModel::measureBandwidth(uint64_t bytes, double &bytesPerSecond) {
  cuda::DevicePtr from = 0, to = 0;
  Status status = check(driver->cuMemAlloc(&from, bytes), "cuMemAlloc");
  if (status)
    status = check(driver->cuMemAlloc(&to, bytes), "cuMemAlloc");
  // A first copy warms up; then the best of five, each byte read and
  // written.
  if (status)
    status = bestRate(
        /*warmup=*/1, /*passes=*/5, 2.0 * double(bytes),
        [&] {
          Status s =
              check(driver->cuMemcpyDtoD(to, from, bytes), "cuMemcpyDtoD");
          return s ? check(driver->cuStreamSynchronize(nullptr),
                           "cuStreamSynchronize")
                   : s;
        },
        bytesPerSecond);
  if (to)
    driver->cuMemFree(to);
  if (from)
    driver->cuMemFree(from);
  return status;
}

Status CudaModel::resetArena() {
  if (overflow.empty()) {
    arenaUsed = stepBytes = 0;
    return Status();
  }
  // Grow: one block for the largest step so far. A captured graph points
  // into the old one.
  if (Status s =
          check(driver->cuStreamSynchronize(mainStream), "cuStreamSynchronize");
      !s)
    return s;
  for (cuda::DevicePtr p : overflow)
    driver->cuMemFree(p);
  overflow.clear();
  if (arena)
    driver->cuMemFree(arena);
  arena = 0;
  arenaSize = std::max(arenaSize, stepBytes);
  arenaUsed = stepBytes = 0;
  if (decodeGraph) {
    driver->cuGraphExecDestroy(decodeGraph);
    decodeGraph = nullptr;
  }
  decodeSteps = 0;
  return check(driver->cuMemAlloc(&arena, arenaSize),
               "cannot allocate device memory");
}

Status CudaModel::run(const int32_t *tokens, const int32_t *positions,
                      const int32_t *offsets, int64_t count, int64_t rows,
                      float *out) {
  std::copy(tokens, tokens + count, staged.begin());
  std::copy(positions, positions + count, staged.begin() + maxChunk);
  std::copy(offsets, offsets + count, staged.begin() + 2 * maxChunk);
  if (Status s = check(
          driver->cuMemcpyHtoD(inputs, staged.data(),
                               sizeof(int32_t) * size_t(2 * maxChunk + count)),
          "cuMemcpyHtoD");
      !s)
    return s;

  // Decode steps have the same launches every time (attention covers the
  // whole cache): the second is captured, the later ones replay it.
  bool decode = count == 1 && useGraphs &&
                outputHead != artifact::Head::SequenceClassification;
  if (!(decode && decodeGraph)) {
    if (Status s = resetArena(); !s)
      return s;
    bool capture = decode && decodeSteps == 1;
    if (capture) {
      if (Status s = check(driver->cuStreamBeginCapture(
                               mainStream, cuda::kCaptureModeRelaxed),
                           "cuStreamBeginCapture");
          !s)
        return s;
      capturing = true;
    }
    Serving serving(this);
    auto w = describe(devicePointer<uint8_t>(weights), {weightBytes});
    auto t = describe(devicePointer<int32_t>(inputs), {count});
    auto p = describe(devicePointer<int32_t>(inputs) + maxChunk, {count});
    auto o = describe(devicePointer<int32_t>(inputs) + 2 * maxChunk, {count});
    auto kv = describe(devicePointer<KvElement>(kvCache),
                       {layers, 2, kvRows(), kvHeads, headDim});
    if (outputHead == artifact::Head::SequenceClassification) {
      auto scores = describe(devicePointer<float>(outBuffer), {labels});
      reinterpret_cast<ForwardFn<1>>(entry)(&w, &t, &p, &o, &kv, count,
                                            &scores);
    } else {
      auto table =
          describe(devicePointer<float>(outBuffer), {rows, outputWidth()});
      reinterpret_cast<ForwardFn<2>>(entry)(&w, &t, &p, &o, &kv, rows, &table);
    }
    if (capture) {
      capturing = false;
      cuda::Graph graph = nullptr;
      if (Status s = check(driver->cuStreamEndCapture(mainStream, &graph),
                           "cuStreamEndCapture");
          !s)
        return s;
      Status s =
          check(driver->cuGraphInstantiateWithFlags(&decodeGraph, graph, 0),
                "cuGraphInstantiate");
      driver->cuGraphDestroy(graph);
      if (!s)
        return s;
      if (!overflow.empty()) {
        // Blocks outside the arena are freed at the next step: run the
        // graph this once.
        s = check(driver->cuGraphLaunch(decodeGraph, mainStream),
                  "cuGraphLaunch");
        driver->cuStreamSynchronize(mainStream);
        driver->cuGraphExecDestroy(decodeGraph);
        decodeGraph = nullptr;
        if (!s)
          return s;
      }
    }
    if (decode)
      ++decodeSteps;
  }
  if (decode && decodeGraph)
    if (Status s = check(driver->cuGraphLaunch(decodeGraph, mainStream),
                         "cuGraphLaunch");
        !s)
      return s;
  if (!deferred)
    return deferred;
  if (Status s =
          check(driver->cuStreamSynchronize(mainStream), "running the model");
      !s)
    return s;
  int64_t floats = outputFloats(rows);
  if (!floats)
    return Status();
  return check(
      driver->cuMemcpyDtoH(out, outBuffer, sizeof(float) * size_t(floats)),
      "cuMemcpyDtoH");
}

//===----------------------------------------------------------------------===//
// The runtime functions the generated host code calls (MLIR's gpu-to-llvm
// lowering names them), served by the current model.
//===----------------------------------------------------------------------===//

extern "C" {

void *mgpuModuleLoad(void *data, size_t) {
  return current ? current->loadKernels(data) : nullptr;
}

void *mgpuModuleLoadJIT(void *data, int) {
  return current ? current->loadKernels(data) : nullptr;
}

void mgpuModuleUnload(void *) {}

void *mgpuModuleGetFunction(void *module, const char *name) {
  return current ? current->kernel(module, name) : nullptr;
}

void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t sharedBytes, void *,
                      void **params, void **extra, size_t) {
  if (current)
    current->launch(function,
                    {unsigned(gridX), unsigned(gridY), unsigned(gridZ)},
                    {unsigned(blockX), unsigned(blockY), unsigned(blockZ)},
                    unsigned(sharedBytes), params, extra);
}

void *mgpuStreamCreate() { return current ? current->stream() : nullptr; }

void mgpuStreamDestroy(void *) {}

void mgpuStreamSynchronize(void *) {
  if (current)
    current->synchronize();
}

void *mgpuMemAlloc(uint64_t bytes, void *, bool) {
  return current ? current->allocate(bytes) : nullptr;
}

// Step allocations are taken back together when the next step starts.
void mgpuMemFree(void *, void *) {}

} // extern "C"
