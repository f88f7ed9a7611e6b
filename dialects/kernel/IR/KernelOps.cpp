//===- KernelOps.cpp - kernel dialect ops ---------------------------------===//

#include "dialects/kernel/IR/KernelOps.h"
#include "dialects/ShapeChecks.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

#include <cmath>

using namespace mlir;
using namespace mlir::kernel;
using namespace moec::verify;

#define GET_OP_CLASSES
#include "dialects/kernel/IR/KernelOps.cpp.inc"

LogicalResult MatvecOp::verify() {
  return verifyRowProduct(*this, getInput(), getWeight(), getResult());
}

LogicalResult GateUpOp::verify() {
  if (getPredicted() && getActivation() != GatedActivation::DReLU)
    return emitOpError("predicted neurons need the drelu activation");
  return verifyGateUp(*this, getInput(), getGate(), getResult(), getIndices(),
                      getPredicted(), getThresholdAttr());
}

LogicalResult SparseMatvecOp::verify() {
  if (failed(verifyShape(*this, "weight", getWeight(), {kAny, kAny})))
    return failure();
  unsigned inDim = getLayout() == WeightLayout::NeuronMajor ? 0 : 1;
  int64_t in = dim(getWeight(), inDim);
  if (failed(verifyShape(*this, "input", getInput(), {in})) ||
      failed(verifyShape(*this, "indices", getIndices(), {in})))
    return failure();
  return verifyShape(*this, "result", getResult(),
                     {dim(getWeight(), 1 - inDim)});
}

LogicalResult RouterTopKOp::verify() {
  if (failed(verifyShape(*this, "input", getInput(), {kAny, kAny})) ||
      failed(verifyShape(*this, "gate", getGate(),
                         {kAny, dim(getInput(), 1)})))
    return failure();
  int64_t experts = dim(getGate(), 0);
  int64_t topK = getTopK();
  if (topK < 1 || (!ShapedType::isDynamic(experts) && topK > experts))
    return emitOpError() << "top_k must be in [1, " << experts << "], got "
                         << topK;
  if (failed(verifyNullExpertBias(*this, getNullExpertBiasAttr(),
                                  getRenormalize())))
    return failure();
  if (failed(verifyShape(*this, "weights", getWeights(),
                         {dim(getInput(), 0), topK})))
    return failure();
  return verifyShape(*this, "expert_ids", getExpertIds(),
                     {dim(getInput(), 0), topK});
}

LogicalResult RmsNormOp::verify() {
  return verifyRmsNorm(*this, getInput(), getWeight(),
                       getEps().convertToDouble());
}

LogicalResult RopeOp::verify() {
  return verifyRope(*this, getInput(), getPositions(), getHeadDim(),
                    getTheta().convertToDouble(), getInvFreq());
}

LogicalResult CacheWriteOp::verify() {
  return verifyCacheRows(*this, getK(), getKvCache(), getPositions(),
                         getOffsets());
}

LogicalResult AttentionOp::verify() {
  int64_t heads = getNumHeads(), kvHeads = getNumKvHeads();
  int64_t headDim = getHeadDim();
  if (failed(verifyAttentionHeads(*this, heads, kvHeads, headDim,
                                  getSlidingWindow(),
                                  getScale().convertToDouble())) ||
      failed(verifyAlibiSlopes(*this, heads, getAlibiSlopes())))
    return failure();
  if (failed(verifyShape(*this, "q", getQ(), {kAny, heads, headDim})) ||
      failed(verifyShape(*this, "kv_cache", getKvCache(),
                         {2, kAny, kvHeads, headDim})))
    return failure();
  if (failed(verifyShape(*this, "positions", getPositions(),
                         {dim(getQ(), 0)})) ||
      (getOffsets() && failed(verifyShape(*this, "offsets", getOffsets(),
                                          {dim(getQ(), 0)}))))
    return failure();
  return verifyBatchedAttention(*this, getOffsets(), getCausal());
}

LogicalResult DotU8S8Op::verify() {
  int64_t bytes = getA().getType().getNumElements();
  if (getB().getType().getNumElements() != bytes ||
      getType().getNumElements() * 4 != bytes)
    return emitOpError("takes two vectors of the same 32 or 64 bytes and "
                       "gives one i32 per 4 of them");
  return success();
}
