//===- StripPredictors.cpp - drop dReLU activation predictors -----------===//

#include "dialects/moe/IR/MoeOps.h"
#include "passes/Passes.h"

#include "llvm/ADT/SetVector.h"

namespace mlir::moe {
#define GEN_PASS_DEF_STRIPPREDICTORS
#include "passes/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

struct StripPredictorsPass
    : public moe::impl::StripPredictorsBase<StripPredictorsPass> {
  void runOnOperation() override {
    // A weight may feed several blocks: collect each once.
    llvm::SetVector<Operation *> maybeDead;
    getOperation()->walk([&](ExpertFfnOp op) {
      if (!op.getPredictorFc1())
        return;
      for (Value v : {op.getPredictorFc1(), op.getPredictorFc2()})
        if (Operation *def = v.getDefiningOp<WeightOp>())
          maybeDead.insert(def);
      op.getPredictorFc1Mutable().clear();
      op.getPredictorFc2Mutable().clear();
      op.getPredictorInputMutable().clear();
    });
    for (Operation *def : maybeDead)
      if (def->use_empty())
        def->erase();
  }
};

} // namespace
