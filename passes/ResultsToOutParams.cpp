//===- ResultsToOutParams.cpp - caller-provided result buffers ----------===//

#include "passes/Passes.h"

namespace mlir::moe {
#define GEN_PASS_DEF_RESULTSTOOUTPARAMS
#include "passes/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;

namespace {

/// The buffer `v` is: a loop result whose iteration argument the body
/// yields unchanged (a buffer updated in place, layer after layer) is the
/// loop's initial buffer.
Value throughLoops(Value v) {
  while (auto result = dyn_cast<OpResult>(v)) {
    auto loop = dyn_cast<scf::ForOp>(result.getOwner());
    if (!loop)
      break;
    unsigned i = result.getResultNumber();
    if (loop.getYieldedValues()[i] != loop.getRegionIterArgs()[i])
      break;
    v = loop.getInitArgs()[i];
  }
  return v;
}

struct ResultsToOutParamsPass
    : public moe::impl::ResultsToOutParamsBase<ResultsToOutParamsPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal() || !func.isPublic())
        continue;
      auto ret = cast<func::ReturnOp>(func.getBody().back().getTerminator());
      SmallVector<Value> kept;
      SmallVector<memref::AllocOp> outputs;
      for (Value v : ret.getOperands()) {
        v = throughLoops(v);
        if (auto arg = dyn_cast<BlockArgument>(v);
            arg && arg.getOwner()->isEntryBlock())
          continue; // updated in place
        auto alloc = v.getDefiningOp<memref::AllocOp>();
        if (!alloc || (alloc.getType().getLayout() &&
                       !alloc.getType().getLayout().isIdentity())) {
          kept.push_back(v);
          continue;
        }
        outputs.push_back(alloc);
      }
      if (!kept.empty()) {
        func.emitError("returns a buffer that is neither an argument nor an "
                       "allocation of its own");
        return signalPassFailure();
      }
      for (memref::AllocOp alloc : outputs) {
        unsigned index = func.getNumArguments();
        if (failed(func.insertArgument(index, alloc.getType(), {},
                                       alloc.getLoc())))
          return signalPassFailure();
        alloc.replaceAllUsesWith(func.getArgument(index));
        alloc.erase();
      }
      ret->setOperands({});
      func.setType(FunctionType::get(&getContext(),
                                     func.getArgumentTypes(), {}));
    }
  }
};

} // namespace
