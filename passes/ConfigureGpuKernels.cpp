//===- ConfigureGpuKernels.cpp - the GPU mapping of every kernel op -------===//
//
// Decides, once, how each kernel op runs on the target GPU and records it
// as #kernel.gpu<...>: from the SM architecture, the blocks that split a
// sparse product (about one per SM) and the loads in flight per lane
// (Hopper's HBM3 wants more), unless the options set them.
//
//===----------------------------------------------------------------------===//

#include "dialects/kernel/IR/KernelOps.h"
#include "passes/Passes.h"

namespace mlir::moe {
#define GEN_PASS_DEF_CONFIGUREGPUKERNELS
#include "passes/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;

std::optional<mlir::moe::GpuArchDefaults>
mlir::moe::gpuArchDefaults(llvm::StringRef chip) {
  // A100 108 SMs, A10/3090 84, L4/4090 128, H100/H200 132.
  static constexpr GpuArchDefaults table[] = {{"sm_80", 108, 2},
                                              {"sm_86", 84, 2},
                                              {"sm_89", 128, 2},
                                              {"sm_90", 132, 4}};
  for (const GpuArchDefaults &d : table)
    if (chip == d.chip)
      return d;
  return std::nullopt;
}

namespace {

struct ConfigureGpuKernelsPass
    : public moe::impl::ConfigureGpuKernelsBase<ConfigureGpuKernelsPass> {
  using ConfigureGpuKernelsBase::ConfigureGpuKernelsBase;

  void runOnOperation() override {
    std::optional<moe::GpuArchDefaults> arch = moe::gpuArchDefaults(chip);
    if (!arch) {
      getOperation().emitError() << "moe-configure-gpu-kernels: unknown chip '"
                                 << chip << "' (sm_80, sm_86, sm_89 or sm_90)";
      return signalPassFailure();
    }
    int64_t u = unroll ? int64_t(unroll) : arch->unroll;
    int64_t s = splits ? int64_t(splits) : arch->sparseSplits;
    auto emitError = [&] { return getOperation().emitError(); };
    if (failed(kernel::GpuMappingAttr::verify(emitError, warps, u, s)))
      return signalPassFailure();
    kernel::setMappings(getOperation(),
                        kernel::GpuMappingAttr::get(&getContext(), warps, u, s));
  }
};

} // namespace
