//===- MergeGpuModules.cpp - one gpu.module per model -------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::moe {
#define GEN_PASS_DEF_MERGEGPUMODULES
#include "passes/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

struct MergeGpuModulesPass
    : public moe::impl::MergeGpuModulesBase<MergeGpuModulesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<gpu::GPUModuleOp> kernelModules(
        module.getOps<gpu::GPUModuleOp>());
    if (kernelModules.size() < 2)
      return;
    gpu::GPUModuleOp into = kernelModules.front();
    SymbolTable symbols(into);
    for (gpu::GPUModuleOp from : llvm::drop_begin(kernelModules)) {
      // Outlining names every kernel after its function and its module
      // uniquely: the kernel takes the module's name.
      StringAttr fromName = from.getNameAttr();
      auto kernels = from.getOps<gpu::GPUFuncOp>();
      if (!llvm::hasSingleElement(kernels)) {
        from.emitOpError("moe-merge-gpu-modules: expected one kernel per "
                         "outlined module");
        return signalPassFailure();
      }
      (*kernels.begin()).setName(fromName);
      for (Operation &op :
           llvm::make_early_inc_range(from.getBody()->getOperations())) {
        auto symbol = dyn_cast<SymbolOpInterface>(op);
        if (!symbol)
          continue;
        // Outlining copies a global each kernel uses into its module: keep
        // one.
        if (Operation *existing = symbols.lookup(symbol.getName())) {
          if (isa<gpu::GPUFuncOp>(op) ||
              !OperationEquivalence::isEquivalentTo(
                  existing, &op, OperationEquivalence::ignoreValueEquivalence,
                  nullptr, OperationEquivalence::IgnoreLocations)) {
            op.emitOpError("moe-merge-gpu-modules: another symbol of the "
                           "kernel modules has this name");
            return signalPassFailure();
          }
          continue;
        }
        op.moveBefore(into.getBody(), into.getBody()->end());
        symbols.insert(&op);
      }
      module.walk([&](gpu::LaunchFuncOp launch) {
        if (launch.getKernelModuleName() == fromName)
          launch.setKernelAttr(SymbolRefAttr::get(
              into.getNameAttr(), {FlatSymbolRefAttr::get(fromName)}));
      });
      from.erase();
    }
  }
};

} // namespace
