//===- NeuronMajorDown.cpp - neuron-major down projections --------------===//

#include "dialects/moe/IR/MoeOps.h"
#include "passes/Passes.h"

namespace mlir::moe {
#define GEN_PASS_DEF_NEURONMAJORDOWN
#include "passes/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

struct NeuronMajorDownPass
    : public moe::impl::NeuronMajorDownBase<NeuronMajorDownPass> {
  void runOnOperation() override {
    getOperation().walk([&](ExpertFfnOp op) {
      if (op.getActivation() != Activation::DReLU || op.getDownNeuronMajor())
        return;
      auto down = op.getDown().getDefiningOp<WeightOp>();
      if (!down || down.getTransposed())
        return;
      // [experts, hidden, inter] -> [experts, inter, hidden].
      RankedTensorType type = down.getResult().getType();
      SmallVector<int64_t> shape(type.getShape());
      std::swap(shape[1], shape[2]);
      OpBuilder b(down);
      auto transposed = WeightOp::create(
          b, down.getLoc(), RankedTensorType::get(shape, type.getElementType()),
          down.getParts(), b.getUnitAttr());
      op.getDownMutable().assign(transposed);
      op.setDownNeuronMajor(true);
      if (down->use_empty())
        down.erase();
    });
  }
};

} // namespace
