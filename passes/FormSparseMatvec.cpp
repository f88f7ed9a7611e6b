//===- FormSparseMatvec.cpp - down projections over active neurons -------===//

#include "dialects/moe/IR/MoeOps.h"
#include "passes/Passes.h"

namespace mlir::moe {
#define GEN_PASS_DEF_FORMSPARSEMATVEC
#include "passes/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

struct FormSparseMatvecPass
    : public moe::impl::FormSparseMatvecBase<FormSparseMatvecPass> {
  void runOnOperation() override {
    getOperation().walk([&](LinearOp linear) {
      auto activation = linear.getInput().getDefiningOp<FusedDReluOp>();
      if (!activation || linear.getBias() ||
          activation.getResult() != linear.getInput())
        return;
      OpBuilder b(linear);
      auto sparse = SparseMatvecOp::create(
          b, linear.getLoc(), linear.getResult().getType(), linear.getWeight(),
          activation.getResult(), activation.getIndices(),
          activation.getCount(), /*neuron_major=*/UnitAttr());
      linear.replaceAllUsesWith(sparse.getResult());
      linear.erase();
    });
  }
};

} // namespace
