//===- ConfigureCpuKernels.cpp - the CPU mapping of every kernel op -------===//
//
// Decides, once, how each kernel op runs on the target CPU and records it
// as #kernel.cpu<...>: the vector lanes of its registers (from its
// features, given by the code generator), the accumulators of a dot
// product, the tasks of a sparse product, the bf16 dot product, and the
// register block of a product of several tokens.
//
//===----------------------------------------------------------------------===//

#include "dialects/kernel/IR/KernelOps.h"
#include "passes/Passes.h"

namespace mlir::moe {
#define GEN_PASS_DEF_CONFIGURECPUKERNELS
#include "passes/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;

namespace {

struct ConfigureCpuKernelsPass
    : public moe::impl::ConfigureCpuKernelsBase<ConfigureCpuKernelsPass> {
  using ConfigureCpuKernelsBase::ConfigureCpuKernelsBase;

  void runOnOperation() override {
    auto [rows, tokens] = kernel::defaultCpuTile(lanes);
    if (rowTile)
      rows = rowTile;
    if (tokenTile)
      tokens = tokenTile;
    auto emitError = [&] { return getOperation().emitError(); };
    if (failed(kernel::CpuMappingAttr::verify(emitError, lanes, accumulators,
                                              tasks, bf16Dot, rows, tokens,
                                              int8Dot)))
      return signalPassFailure();
    kernel::setMappings(getOperation(), kernel::CpuMappingAttr::get(
                                            &getContext(), lanes, accumulators,
                                            tasks, bf16Dot, rows, tokens,
                                            int8Dot));
  }
};

} // namespace
