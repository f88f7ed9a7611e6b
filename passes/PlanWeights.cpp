//===- PlanWeights.cpp - weight offsets in the weights segment ----------===//

#include "dialects/moe/IR/MoeOps.h"
#include "passes/Passes.h"

#include "llvm/Support/MathExtras.h"

namespace mlir::moe {
#define GEN_PASS_DEF_PLANWEIGHTS
#include "passes/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

struct PlanWeightsPass : public moe::impl::PlanWeightsBase<PlanWeightsPass> {
  using PlanWeightsBase::PlanWeightsBase;

  void runOnOperation() override {
    if (!llvm::isPowerOf2_64(alignment)) {
      getOperation().emitError("moe-plan-weights: alignment must be a power "
                               "of two, got ")
          << uint64_t(alignment);
      return signalPassFailure();
    }
    Builder b(&getContext());
    uint64_t cursor = 0;
    getOperation().walk([&](WeightOp op) {
      cursor = llvm::alignTo(cursor, alignment);
      op->setAttr(kWeightOffsetAttrName, b.getI64IntegerAttr(cursor));
      cursor += op.getStoredBytes();
    });
  }
};

} // namespace
