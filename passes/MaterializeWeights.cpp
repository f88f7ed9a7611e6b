//===- MaterializeWeights.cpp - weights as views of one segment ---------===//

#include "dialects/moe/IR/MoeOps.h"
#include "passes/Passes.h"

namespace mlir::moe {
#define GEN_PASS_DEF_MATERIALIZEWEIGHTS
#include "passes/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

struct MaterializeWeightsPass
    : public moe::impl::MaterializeWeightsBase<MaterializeWeightsPass> {
  void runOnOperation() override {
    auto segmentType = MemRefType::get({ShapedType::kDynamic},
                                       IntegerType::get(&getContext(), 8));
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      SmallVector<WeightOp> weights;
      func.walk([&](WeightOp op) { weights.push_back(op); });
      if (weights.empty())
        continue;
      // The segment comes first, so the entry point's signature starts the
      // same way for every model.
      if (failed(func.insertArgument(0, segmentType,
                                     DictionaryAttr::get(
                                         &getContext(),
                                         {NamedAttribute(
                                             StringAttr::get(&getContext(),
                                                             "moe.name"),
                                             StringAttr::get(&getContext(),
                                                             "weights"))}),
                                     func.getLoc())))
        return signalPassFailure();
      Value segment = func.getArgument(0);
      OpBuilder b(func.getBody());
      for (WeightOp op : weights) {
        auto offset = op->getAttrOfType<IntegerAttr>(kWeightOffsetAttrName);
        if (!offset) {
          op.emitOpError("has no moe.offset; run the weight planner first");
          return signalPassFailure();
        }
        b.setInsertionPoint(op);
        RankedTensorType type = op.getResult().getType();
        // A quantized weight is its blocks, read through moe.dequantize.
        RankedTensorType stored = type;
        if (std::optional<BlockFormat> format = op.getBlockFormat())
          stored = blocksType(&getContext(), type.getShape(), *format,
                              op.getBlockLayout());
        Value byteShift = arith::ConstantIndexOp::create(b, op.getLoc(),
                                                         offset.getInt());
        Value view = memref::ViewOp::create(
            b, op.getLoc(),
            MemRefType::get(stored.getShape(), stored.getElementType()),
            segment, byteShift, ValueRange());
        // restrict: nothing else aliases it; not writable: it is mapped
        // read-only.
        Value tensor = bufferization::ToTensorOp::create(
            b, op.getLoc(), stored, view, /*restrict=*/b.getUnitAttr(),
            /*writable=*/UnitAttr());
        if (stored != type)
          tensor = DequantizeOp::create(b, op.getLoc(), type, tensor);
        op.replaceAllUsesWith(tensor);
        op.erase();
      }
    }
  }
};

} // namespace
