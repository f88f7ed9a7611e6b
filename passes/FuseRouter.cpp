//===- FuseRouter.cpp - the router's logits folded into moe.router -------===//

#include "dialects/moe/IR/MoeOps.h"
#include "passes/Passes.h"

namespace mlir::moe {
#define GEN_PASS_DEF_FUSEROUTER
#include "passes/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

struct FuseRouterPass : public moe::impl::FuseRouterBase<FuseRouterPass> {
  void runOnOperation() override {
    getOperation().walk([&](RouterOp router) {
      if (router.getGate() || router.getRouting() != RoutingAlgorithm::Learned)
        return;
      // Only logits nothing else reads, from a projection without bias.
      auto logits = router.getInput().getDefiningOp<LinearOp>();
      if (!logits || logits.getBias() || !logits->hasOneUse() ||
          logits.getInput().getType().getRank() != 2)
        return;
      router.getInputMutable().assign(logits.getInput());
      router.getGateMutable().assign(logits.getWeight());
      logits.erase();
    });
  }
};

} // namespace
