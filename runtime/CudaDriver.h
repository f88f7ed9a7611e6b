//===- CudaDriver.h - the CUDA driver API, opened at run time ---*- C++ -*-===//
//
// libcuda.so.1 is opened with dlopen when a CUDA model is loaded, so that
// the runtime builds and runs where no GPU or driver exists. Only the
// entry points the CUDA backend calls are declared, with the driver's ABI.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_RUNTIME_CUDADRIVER_H
#define MOEC_RUNTIME_CUDADRIVER_H

#include "runtime/Status.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace moec::cuda {

using Result = int;
using Device = int;
using DevicePtr = unsigned long long;
using Context = struct CUctx_st *;
using Module = struct CUmod_st *;
using Function = struct CUfunc_st *;
using Stream = struct CUstream_st *;
using Graph = struct CUgraph_st *;
using GraphExec = struct CUgraphExec_st *;

constexpr int kAttributeComputeCapabilityMajor = 75;
constexpr int kAttributeComputeCapabilityMinor = 76;
/// cuStreamBeginCapture: other threads' and this thread's unsafe calls are
/// allowed (allocation happens during capture).
constexpr int kCaptureModeRelaxed = 2;

struct Driver {
  Result (*cuInit)(unsigned);
  Result (*cuDeviceGetCount)(int *);
  Result (*cuDeviceGet)(Device *, int);
  Result (*cuDeviceGetName)(char *, int, Device);
  Result (*cuDeviceGetAttribute)(int *, int, Device);
  Result (*cuDevicePrimaryCtxRetain)(Context *, Device);
  Result (*cuDevicePrimaryCtxRelease)(Device);
  Result (*cuCtxSetCurrent)(Context);
  Result (*cuModuleLoadData)(Module *, const void *);
  Result (*cuModuleUnload)(Module);
  Result (*cuModuleGetFunction)(Function *, Module, const char *);
  Result (*cuLaunchKernel)(Function, unsigned, unsigned, unsigned, unsigned,
                           unsigned, unsigned, unsigned, Stream, void **,
                           void **);
  Result (*cuMemAlloc)(DevicePtr *, size_t);
  Result (*cuMemFree)(DevicePtr);
  Result (*cuMemcpyHtoD)(DevicePtr, const void *, size_t);
  Result (*cuMemcpyDtoH)(void *, DevicePtr, size_t);
  Result (*cuMemcpyDtoD)(DevicePtr, DevicePtr, size_t);
  Result (*cuMemsetD8)(DevicePtr, unsigned char, size_t);
  Result (*cuStreamCreate)(Stream *, unsigned);
  Result (*cuStreamDestroy)(Stream);
  Result (*cuStreamSynchronize)(Stream);
  Result (*cuStreamBeginCapture)(Stream, int);
  Result (*cuStreamEndCapture)(Stream, Graph *);
  Result (*cuGraphInstantiateWithFlags)(GraphExec *, Graph, unsigned long long);
  Result (*cuGraphLaunch)(GraphExec, Stream);
  Result (*cuGraphDestroy)(Graph);
  Result (*cuGraphExecDestroy)(GraphExec);
  Result (*cuGetErrorString)(Result, const char **);
};

/// The driver, opened once; an error says why there is none (no
/// libcuda.so.1, or an entry point missing).
Status openDriver(const Driver *&driver);

/// "CUDA_ERROR_...: description" of `result`, for messages.
std::string errorString(const Driver &driver, Result result);

} // namespace moec::cuda

#endif // MOEC_RUNTIME_CUDADRIVER_H
