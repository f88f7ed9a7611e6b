//===- ExpertDispatch.cpp - the experts of one token ---------------------===//

#include "passes/ExpertDispatch.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::moe;

Value mlir::moe::addExpertsOfToken(ImplicitLocOpBuilder &b, ExpertFfnOp op,
                                   Value t, Value sum, AddExpertFn add) {
  StackedExperts routed{op.getGate(), op.getUp(), op.getDown()};
  if (Value weights = op.getRoutingWeights()) {
    int64_t topK = cast<RankedTensorType>(weights.getType()).getDimSize(1);
    for (int64_t k = 0; k < topK; ++k) {
      Value kk = arith::ConstantIndexOp::create(b, k);
      Value e = arith::IndexCastOp::create(
          b, b.getIndexType(),
          tensor::ExtractOp::create(b, op.getExpertIds(), ValueRange{t, kk}));
      Value w = tensor::ExtractOp::create(b, weights, ValueRange{t, kk});
      sum = add(b, sum, e, w, routed);
    }
  } else {
    sum = add(b, sum, b.getIndexAttr(0), Value(), routed);
  }
  StackedExperts shared{op.getSharedGate(), op.getSharedUp(),
                        op.getSharedDown()};
  for (int64_t s = 0; s < op.getNumSharedExperts(); ++s)
    sum = add(b, sum, b.getIndexAttr(s), Value(), shared);
  return sum;
}
