//===- CudaDriver.cpp - the CUDA driver API, opened at run time ---------===//

#include "runtime/CudaDriver.h"

#include <dlfcn.h>

using namespace moec;
using namespace moec::cuda;

namespace {

Status load(Driver &d) {
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib)
    return Status::error("no CUDA driver on this machine (%s)", dlerror());
  Status status;
  auto bind = [&](auto &fn, const char *name) {
    if (!status)
      return;
    void *symbol = dlsym(lib, name);
    if (!symbol)
      status = Status::error("the CUDA driver lacks %s", name);
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(symbol);
  };
  bind(d.cuInit, "cuInit");
  bind(d.cuDeviceGetCount, "cuDeviceGetCount");
  bind(d.cuDeviceGet, "cuDeviceGet");
  bind(d.cuDeviceGetName, "cuDeviceGetName");
  bind(d.cuDeviceGetAttribute, "cuDeviceGetAttribute");
  bind(d.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
  bind(d.cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2");
  bind(d.cuCtxSetCurrent, "cuCtxSetCurrent");
  bind(d.cuModuleLoadData, "cuModuleLoadData");
  bind(d.cuModuleUnload, "cuModuleUnload");
  bind(d.cuModuleGetFunction, "cuModuleGetFunction");
  bind(d.cuLaunchKernel, "cuLaunchKernel");
  bind(d.cuMemAlloc, "cuMemAlloc_v2");
  bind(d.cuMemFree, "cuMemFree_v2");
  bind(d.cuMemcpyHtoD, "cuMemcpyHtoD_v2");
  bind(d.cuMemcpyDtoH, "cuMemcpyDtoH_v2");
  bind(d.cuMemcpyDtoD, "cuMemcpyDtoD_v2");
  bind(d.cuMemsetD8, "cuMemsetD8_v2");
  bind(d.cuStreamCreate, "cuStreamCreate");
  bind(d.cuStreamDestroy, "cuStreamDestroy_v2");
  bind(d.cuStreamSynchronize, "cuStreamSynchronize");
  bind(d.cuStreamBeginCapture, "cuStreamBeginCapture_v2");
  bind(d.cuStreamEndCapture, "cuStreamEndCapture");
  bind(d.cuGraphInstantiateWithFlags, "cuGraphInstantiateWithFlags");
  bind(d.cuGraphLaunch, "cuGraphLaunch");
  bind(d.cuGraphDestroy, "cuGraphDestroy");
  bind(d.cuGraphExecDestroy, "cuGraphExecDestroy");
  bind(d.cuGetErrorString, "cuGetErrorString");
  return status;
}

} // namespace

Status cuda::openDriver(const Driver *&driver) {
  static Driver table;
  static Status status = load(table);
  driver = status ? &table : nullptr;
  return status;
}

std::string cuda::errorString(const Driver &driver, Result result) {
  const char *text = nullptr;
  if (driver.cuGetErrorString(result, &text) != 0 || !text)
    return "CUDA error " + std::to_string(result);
  return text;
}
