//===- ApproximateMath.cpp - exp inline instead of a libm call ----------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::moe {
#define GEN_PASS_DEF_APPROXIMATEMATH
#include "passes/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;

namespace {

struct ApproximateMathPass
    : public moe::impl::ApproximateMathBase<ApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns, [](StringRef name) {
      name.consume_front("math.");
      return name == "exp";
    });
    // Only the exps and what their rewrites make: nothing else of the
    // function is folded here.
    SmallVector<Operation *> exps;
    getOperation().walk([&](math::ExpOp op) { exps.push_back(op); });
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
    config.enableFolding(false);
    if (failed(applyOpPatternsGreedily(exps, std::move(patterns), config)))
      signalPassFailure();
  }
};

} // namespace
