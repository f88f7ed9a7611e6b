//===- LowerInt8Dots.cpp - kernel.dot_u8s8 to vpdpbusd -------------------===//

#include "dialects/kernel/IR/KernelOps.h"
#include "passes/Passes.h"

namespace mlir::moe {
#define GEN_PASS_DEF_LOWERINT8DOTS
#include "passes/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

struct LowerInt8DotsPass
    : public moe::impl::LowerInt8DotsBase<LowerInt8DotsPass> {
  void runOnOperation() override {
    SmallVector<kernel::DotU8S8Op> dots;
    getOperation().walk([&](kernel::DotU8S8Op op) { dots.push_back(op); });
    for (kernel::DotU8S8Op op : dots) {
      OpBuilder b(op);
      auto type = op.getType();
      Value dot =
          LLVM::CallIntrinsicOp::create(
              b, op.getLoc(), type,
              b.getStringAttr(type.getNumElements() == 16
                                  ? "llvm.x86.avx512.vpdpbusd.512"
                                  : "llvm.x86.avx512.vpdpbusd.256"),
              ValueRange{op.getAcc(), op.getA(), op.getB()})
              .getResult(0);
      op.replaceAllUsesWith(dot);
      op.erase();
    }
  }
};

} // namespace
