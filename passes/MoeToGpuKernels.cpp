//===- MoeToGpuKernels.cpp - the memory-bound moe ops as GPU kernels -----===//
//
// Replaces the products that stream weights (projections, LM head, the
// router, the fused dReLU block and its sparse down product) with the
// kernels of GpuKernels.h. Everything else is left to moe-to-linalg.
//
//===----------------------------------------------------------------------===//

#include "dialects/moe/IR/MoeOps.h"
#include "passes/GpuKernels.h"
#include "passes/Kernels.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::moe {
#define GEN_PASS_DEF_MOETOGPUKERNELS
#include "passes/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

struct MoeToGpuKernelsPass
    : public moe::impl::MoeToGpuKernelsBase<MoeToGpuKernelsPass> {
  using MoeToGpuKernelsBase::MoeToGpuKernelsBase;

  void runOnOperation() override {
    if (warpsPerBlock < 1 || warpsPerBlock > 32 || unroll < 1 ||
        sparseSplits < 1) {
      getOperation().emitError(
          "moe-to-gpu-kernels: warps-per-block must be in [1, 32], unroll "
          "and sparse-splits positive");
      return signalPassFailure();
    }
    GpuKernelOptions options;
    options.warpsPerBlock = warpsPerBlock;
    options.unroll = unroll;
    options.sparseSplits = sparseSplits;
    IRRewriter rewriter(&getContext());

    // Sparse products first: the fused dReLU op may go once its active set
    // has no readers left (the GPU product finds active neurons itself).
    getOperation().walk([&](SparseMatvecOp op) {
      rewriter.setInsertionPoint(op);
      Value y;
      if (op.getNeuronMajor())
        y = buildGpuSparseMatvecNeuronMajor(
            rewriter, op.getLoc(), op.getWeight(), op.getInput(), options);
      else
        y = fromRowMatrix(
            rewriter, op.getLoc(),
            buildGpuMatvec(rewriter, op.getLoc(),
                           asRowMatrix(rewriter, op.getLoc(), op.getInput()),
                           op.getWeight(), options),
            op.getType());
      rewriter.replaceOp(op, y);
    });

    getOperation().walk([&](Operation *op) {
      rewriter.setInsertionPoint(op);
      Location loc = op->getLoc();
      if (auto linear = dyn_cast<LinearOp>(op)) {
        if (linear.getBias())
          return;
        Value y = buildGpuMatvec(rewriter, loc,
                                 asRowMatrix(rewriter, loc, linear.getInput()),
                                 linear.getWeight(), options);
        rewriter.replaceOp(op,
                           fromRowMatrix(rewriter, loc, y, linear.getType()));
      } else if (auto head = dyn_cast<LmHeadOp>(op)) {
        rewriter.replaceOp(op, buildGpuMatvec(rewriter, loc, head.getInput(),
                                              head.getWeight(), options));
      } else if (auto fused = dyn_cast<FusedDReluOp>(op)) {
        // The kernel makes the activation only: the sparse kernel finds
        // the active neurons itself.
        if (!llvm::all_of(fused->getResults().drop_front(),
                          [](Value v) { return v.use_empty(); }))
          return;
        Value act = buildGpuFusedDRelu(rewriter, loc, fused.getInput(),
                                       fused.getGate(), fused.getUp(), options);
        rewriter.replaceAllUsesWith(fused.getResult(), act);
        rewriter.eraseOp(op);
      } else if (auto router = dyn_cast<RouterOp>(op)) {
        if (!router.getGate() ||
            router.getRouting() != RoutingAlgorithm::Learned ||
            router.getNonlinearity() != RouterNonlinearity::Softmax ||
            router.getNullExpertBiasAttr())
          return;
        auto [weights, ids] = buildGpuRouter(
            rewriter, loc, router.getInput(), router.getGate(),
            router.getTopKAttr().getInt(), router.getRenormalize(),
            router.getExpertIds().getType().getElementType(), options);
        rewriter.replaceOp(op, ValueRange{weights, ids});
      }
    });
  }
};

} // namespace
