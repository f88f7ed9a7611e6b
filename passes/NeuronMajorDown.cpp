//===- NeuronMajorDown.cpp - neuron-major weights for sparse products ----===//

#include "dialects/moe/IR/MoeOps.h"
#include "passes/Passes.h"

namespace mlir::moe {
#define GEN_PASS_DEF_NEURONMAJORDOWN
#include "passes/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

/// A sparse product that reads `weight` as it is stored.
bool isRowMajorSparseWeight(OpOperand &use) {
  auto sparse = dyn_cast<SparseMatvecOp>(use.getOwner());
  return sparse && !sparse.getNeuronMajor() &&
         use.get() == sparse.getWeight();
}

/// The routed down weight of an expert block without shared experts: the
/// dense product of a prompt's tokens that a dReLU block keeps beside its
/// sparse decode path reads the neuron-major layout as well.
bool isExpertBlockDown(OpOperand &use) {
  auto block = dyn_cast<ExpertFfnOp>(use.getOwner());
  return block && !block.getDownNeuronMajor() &&
         block.getNumSharedExperts() == 0 && &use == &block.getDownMutable();
}

/// One whole expert matrix [1, A, B] of a stacked weight, rank-reduced.
bool isExpertSlice(tensor::ExtractSliceOp slice) {
  auto source = slice.getSourceType();
  return source.getRank() == 3 && slice.getType().getRank() == 2 &&
         slice.hasUnitStride() &&
         llvm::equal(slice.getStaticSizes(),
                     ArrayRef<int64_t>{1, source.getDimSize(1),
                                       source.getDimSize(2)}) &&
         llvm::equal(slice.getStaticOffsets().drop_front(),
                     ArrayRef<int64_t>{0, 0});
}

/// Whether `weight` has sparse products, directly or through an expert
/// slice, and no other uses but expert blocks reading it as their down.
bool onlySparseUses(WeightOp weight) {
  bool sparse = false;
  for (OpOperand &use : weight->getUses()) {
    if (isExpertBlockDown(use))
      continue;
    sparse = true;
    if (isRowMajorSparseWeight(use))
      continue;
    auto slice = dyn_cast<tensor::ExtractSliceOp>(use.getOwner());
    if (!slice || !isExpertSlice(slice) ||
        !llvm::all_of(slice->getUses(), isRowMajorSparseWeight))
      return false;
  }
  return sparse;
}

/// The same shape with its last two dimensions swapped.
RankedTensorType swapLast(RankedTensorType type) {
  SmallVector<int64_t> shape(type.getShape());
  std::swap(shape[shape.size() - 2], shape.back());
  return RankedTensorType::get(shape, type.getElementType());
}

void makeNeuronMajor(OpOperand &use, Value weight) {
  use.set(weight);
  cast<SparseMatvecOp>(use.getOwner()).setNeuronMajor(true);
}

struct NeuronMajorDownPass
    : public moe::impl::NeuronMajorDownBase<NeuronMajorDownPass> {
  void runOnOperation() override {
    SmallVector<WeightOp> weights;
    getOperation().walk([&](WeightOp op) {
      if (!op.getTransposed() && op.getType().getRank() >= 2 &&
          onlySparseUses(op))
        weights.push_back(op);
    });
    for (WeightOp down : weights) {
      OpBuilder b(down);
      auto transposed =
          WeightOp::create(b, down.getLoc(), swapLast(down.getType()),
                           down.getParts(), b.getUnitAttr(),
                           down.getFormatAttr());
      for (OpOperand &use : llvm::make_early_inc_range(down->getUses())) {
        if (auto block = dyn_cast<ExpertFfnOp>(use.getOwner())) {
          use.set(transposed);
          block.setDownNeuronMajor(true);
          continue;
        }
        auto slice = dyn_cast<tensor::ExtractSliceOp>(use.getOwner());
        if (!slice) {
          makeNeuronMajor(use, transposed);
          continue;
        }
        b.setInsertionPoint(slice);
        SmallVector<OpFoldResult> sizes = slice.getMixedSizes();
        std::swap(sizes[1], sizes[2]);
        auto expert = tensor::ExtractSliceOp::create(
            b, slice.getLoc(), swapLast(slice.getType()), transposed,
            slice.getMixedOffsets(), sizes, slice.getMixedStrides());
        for (OpOperand &sliceUse :
             llvm::make_early_inc_range(slice->getUses()))
          makeNeuronMajor(sliceUse, expert);
        slice.erase();
      }
      down.erase();
    }
  }
};

} // namespace
