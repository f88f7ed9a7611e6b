//===- MoeOps.cpp - moe dialect ops -------------------------------------===//

#include "dialects/moe/IR/MoeOps.h"
#include "dialects/ShapeChecks.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

#include <cmath>

using namespace mlir;
using namespace mlir::moe;

using namespace moec::verify;

//===----------------------------------------------------------------------===//
// WeightOp
//===----------------------------------------------------------------------===//

LogicalResult WeightOp::verify() {
  ArrayRef<Attribute> parts = getParts().getValue();
  if (parts.empty())
    return emitOpError("needs at least one weight reference");
  auto first = cast<WeightRefAttr>(parts.front());
  RankedTensorType type = getResult().getType();
  std::optional<BlockFormat> format = getBlockFormat();
  if (format) {
    if (!type.getElementType().isF32())
      return emitOpError("a quantized weight's result is f32, not ")
             << type.getElementType();
    if (type.getShape().back() % kBlockValues != 0)
      return emitOpError() << "weight '" << first.getTensor()
                           << "': rows of " << type.getShape().back()
                           << " values are not whole " << stringifyEnum(*format)
                           << " blocks of " << kBlockValues;
    if (getBlockLayout() == BlockLayout::Interleaved &&
        !interleavable(type.getShape().back()))
      return emitOpError() << "weight '" << first.getTensor()
                           << "': interleaved rows are whole groups of "
                           << kGroupBlocks << " blocks, not "
                           << type.getShape().back() << " values";
  }
  for (Attribute attr : parts) {
    auto part = cast<WeightRefAttr>(attr);
    if (part.getShape() != first.getShape())
      return emitOpError() << "stacked weights must have equal shapes: '"
                           << part.getTensor() << "' differs from '"
                           << first.getTensor() << "'";
  }
  // Result shape: the part's shape, or [number of parts] + the part's shape;
  // transposed parts have their two dimensions swapped.
  ArrayRef<int64_t> shape = type.getShape();
  SmallVector<int64_t> partShape(first.getShape());
  if (getTransposed()) {
    if (partShape.size() != 2)
      return emitOpError("only matrices can be transposed");
    std::swap(partShape[0], partShape[1]);
  }
  if (parts.size() == 1 && shape == ArrayRef<int64_t>(partShape))
    return success();
  if (shape.size() == partShape.size() + 1 &&
      shape.front() == static_cast<int64_t>(parts.size()) &&
      shape.drop_front() == ArrayRef<int64_t>(partShape))
    return success();
  return emitOpError() << "result type " << type << " does not match "
                       << parts.size() << " stacked part(s) of shape ["
                       << ArrayRef<int64_t>(partShape) << "]";
}

uint64_t WeightOp::getStoredBytes() {
  return storedBytes(getResult().getType(), getBlockFormat());
}

std::optional<BlockFormat> WeightOp::getBlockFormat() {
  if (BlockFormatAttr attr = getFormatAttr())
    return attr.getValue();
  return std::nullopt;
}

BlockLayout WeightOp::getBlockLayout() {
  BlockFormatAttr attr = getFormatAttr();
  return attr ? attr.getLayout() : BlockLayout::Grouped;
}

//===----------------------------------------------------------------------===//
// DequantizeOp
//===----------------------------------------------------------------------===//

BlockFormat DequantizeOp::getFormat() {
  return *blockFormatOf(getBlocks().getType());
}

LogicalResult DequantizeOp::verify() {
  RankedTensorType blocks = getBlocks().getType();
  std::optional<BlockFormat> format = blockFormatOf(blocks);
  if (!format)
    return emitOpError("blocks need a #moe.blocks encoding, not ")
           << blocks.getEncoding();
  if (blocks.getRank() < 2 ||
      blocks.getShape().back() % blockBytes(*format) != 0)
    return emitOpError() << "blocks of " << stringifyEnum(*format)
                         << " are [..., rows, blocks * "
                         << blockBytes(*format) << "], not " << blocks;
  RankedTensorType result = getResult().getType();
  BlockLayout layout = cast<BlockFormatAttr>(blocks.getEncoding()).getLayout();
  if (blocksType(getContext(), result.getShape(), *format, layout) != blocks ||
      result.getShape().back() % kBlockValues != 0)
    return emitOpError() << "result " << result << " is not the values of "
                         << blocks;
  return success();
}

//===----------------------------------------------------------------------===//
// EmbeddingOp
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::verify() {
  if (failed(verifyShape(*this, "table", getTable(), {kAny, kAny})) ||
      failed(verifyShape(*this, "ids", getIds(), {kAny})))
    return failure();
  return verifyShape(*this, "result", getResult(),
                     {dim(getIds(), 0), dim(getTable(), 1)});
}

//===----------------------------------------------------------------------===//
// RmsNormOp
//===----------------------------------------------------------------------===//

LogicalResult RmsNormOp::verify() {
  return verifyRmsNorm(*this, getInput(), getWeight(),
                       getEps().convertToDouble());
}

//===----------------------------------------------------------------------===//
// RopeOp
//===----------------------------------------------------------------------===//

SmallVector<float> mlir::moe::ropeInverseFrequencies(double theta,
                                                     int64_t headDim) {
  SmallVector<float> inv;
  for (int64_t k = 0; k < headDim / 2; ++k)
    inv.push_back(1.0f / std::pow(float(theta),
                                  float(k) * float(2.0 / double(headDim))));
  return inv;
}

LogicalResult RopeOp::verify() {
  return verifyRope(*this, getInput(), getPositions(),
                    getHeadDimAttr().getInt(), getTheta().convertToDouble(),
                    getInvFreq());
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::verify() {
  // [tokens, in] -> [tokens, out], or one vector [in] -> [out].
  bool vector = getInput().getType().getRank() == 1;
  if (failed(verifyShape(*this, "input", getInput(),
                         vector ? ArrayRef<int64_t>{kAny}
                                : ArrayRef<int64_t>{kAny, kAny})))
    return failure();
  int64_t in = dim(getInput(), vector ? 0 : 1);
  if (failed(verifyShape(*this, "weight", getWeight(), {kAny, in})))
    return failure();
  if (getBias() &&
      failed(verifyShape(*this, "bias", getBias(), {dim(getWeight(), 0)})))
    return failure();
  if (vector)
    return verifyShape(*this, "result", getResult(), {dim(getWeight(), 0)});
  return verifyShape(*this, "result", getResult(),
                     {dim(getInput(), 0), dim(getWeight(), 0)});
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

LogicalResult LayerNormOp::verify() {
  if (failed(verifyShape(*this, "input", getInput(), {kAny, kAny})))
    return failure();
  int64_t hidden = dim(getInput(), 1);
  if (failed(verifyShape(*this, "weight", getWeight(), {hidden})) ||
      failed(verifyShape(*this, "bias", getBias(), {hidden})))
    return failure();
  double eps = getEps().convertToDouble();
  if (!(eps > 0) || !std::isfinite(eps))
    return emitOpError() << "eps must be positive, got " << eps;
  return success();
}

LogicalResult AttentionOp::verify() {
  int64_t heads = getNumHeadsAttr().getInt();
  int64_t kvHeads = getNumKvHeadsAttr().getInt();
  int64_t headDim = getHeadDimAttr().getInt();
  std::optional<int64_t> window;
  if (auto w = getSlidingWindowAttr())
    window = w.getInt();
  std::optional<double> scale;
  if (auto s = getScaleAttr())
    scale = s.getValueAsDouble();
  if (failed(
          verifyAttentionHeads(*this, heads, kvHeads, headDim, window, scale)) ||
      failed(verifyAlibiSlopes(*this, heads, getAlibiSlopes())))
    return failure();
  if (failed(verifyShape(*this, "q", getQ(), {kAny, heads, headDim})) ||
      failed(verifyShape(*this, "k", getK(), {dim(getQ(), 0), kAny, kAny})) ||
      failed(verifyShape(*this, "kv_cache", getKvCache(),
                         {2, kAny, kvHeads, headDim})))
    return failure();
  if (failed(verifyBatchedAttention(*this, getOffsets(), getCausal())))
    return failure();
  return verifyCacheRows(*this, getK(), getKvCache(), getPositions(),
                         getOffsets());
}

double AttentionOp::getScaleOrDefault() {
  if (auto scale = getScaleAttr())
    return scale.getValueAsDouble();
  return 1.0 / std::sqrt(static_cast<double>(getHeadDimAttr().getInt()));
}

//===----------------------------------------------------------------------===//
// RouterOp
//===----------------------------------------------------------------------===//

LogicalResult RouterOp::verify() {
  int64_t experts = getNumExpertsAttr().getInt();
  int64_t topK = getTopKAttr().getInt();
  if (failed(verifyPositive(*this, "experts", experts)) ||
      failed(verifyPositive(*this, "top_k", topK)))
    return failure();
  if (topK > experts)
    return emitOpError() << "top_k (" << topK
                         << ") must not exceed the number of experts ("
                         << experts << ")";
  if (failed(verifyShape(*this, "input", getInput(), {kAny, kAny})))
    return failure();
  int64_t tokens = dim(getInput(), 0);

  RoutingAlgorithm routing = getRouting();
  if (getTokenIds() && routing != RoutingAlgorithm::Hash)
    return emitOpError("token ids are only used by hash routing");
  if (getPositions() && routing != RoutingAlgorithm::Uniform)
    return emitOpError("positions are only used by uniform routing");
  if (routing != RoutingAlgorithm::Learned) {
    if (getGate())
      return emitOpError() << stringifyRoutingAlgorithm(routing)
                           << " routing takes no gate weight";
    if (getWeighting())
      return emitOpError("weighting only applies to learned routing");
  }
  switch (routing) {
  case RoutingAlgorithm::Hash:
    if (topK != 1)
      return emitOpError() << "hash routing needs top_k = 1, got " << topK;
    if (!getTokenIds())
      return emitOpError("hash routing needs the token ids");
    if (failed(verifyShape(*this, "token ids", getTokenIds(), {tokens})))
      return failure();
    break;
  case RoutingAlgorithm::Uniform:
    if (!getPositions())
      return emitOpError("uniform routing needs the positions");
    if (failed(verifyShape(*this, "positions", getPositions(), {tokens})))
      return failure();
    break;
  case RoutingAlgorithm::Learned:
    // Without a gate the input is the router logits, one per expert.
    if (getGate() ? failed(verifyShape(*this, "gate", getGate(),
                                       {experts, dim(getInput(), 1)}))
                  : failed(verifyShape(*this, "logits", getInput(),
                                       {kAny, experts})))
      return failure();
    break;
  }
  if (auto iterations = getIterationsAttr()) {
    if (!mixesTokens())
      return emitOpError("iterations only apply to sinkhorn");
    if (iterations.getInt() < 1)
      return emitOpError() << "sinkhorn needs at least 1 iteration, got "
                           << iterations.getInt();
  }

  if (failed(verifyNullExpertBias(*this, getNullExpertBiasAttr(),
                                  getRenormalize())))
    return failure();
  if (failed(verifyShape(*this, "weights", getWeights(), {tokens, topK})))
    return failure();
  return verifyShape(*this, "expert ids", getExpertIds(), {tokens, topK});
}

//===----------------------------------------------------------------------===//
// ExpertFfnOp
//===----------------------------------------------------------------------===//

/// Checks a stacked gate/up/down triple against the input's hidden size and
/// returns the number of experts it holds.
static FailureOr<int64_t> verifyExpertWeights(Operation *op, StringRef prefix,
                                              Value gate, Value up, Value down,
                                              int64_t hidden,
                                              bool downNeuronMajor = false) {
  std::string gateName = (prefix + "gate").str();
  if (failed(verifyShape(op, gateName, gate, {kAny, kAny, hidden})))
    return failure();
  int64_t experts = dim(gate, 0);
  int64_t inter = dim(gate, 1);
  if (failed(verifyShape(op, (prefix + "up").str(), up,
                         {experts, inter, hidden})) ||
      failed(verifyShape(op, (prefix + "down").str(), down,
                         downNeuronMajor
                             ? ArrayRef<int64_t>{experts, inter, hidden}
                             : ArrayRef<int64_t>{experts, hidden, inter})))
    return failure();
  return experts;
}

LogicalResult ExpertFfnOp::verify() {
  if (failed(verifyShape(*this, "input", getInput(), {kAny, kAny})))
    return failure();
  int64_t tokens = dim(getInput(), 0);
  int64_t hidden = dim(getInput(), 1);

  FailureOr<int64_t> experts = verifyExpertWeights(
      *this, "", getGate(), getUp(), getDown(), hidden, getDownNeuronMajor());
  if (failed(experts))
    return failure();

  if (!getRoutingWeights() != !getExpertIds())
    return emitOpError("routing weights and expert ids go together");
  if (getRoutingWeights()) {
    if (failed(verifyShape(*this, "routing weights", getRoutingWeights(),
                           {tokens, kAny})))
      return failure();
    int64_t topK = dim(getRoutingWeights(), 1);
    if (!ShapedType::isDynamic(topK) && topK > *experts)
      return emitOpError() << "routes " << topK << " experts per token but has "
                           << *experts;
    if (failed(verifyShape(*this, "expert ids", getExpertIds(),
                           {tokens, topK})))
      return failure();
  } else if (*experts != 1) {
    return emitOpError() << "without routing there must be exactly one "
                            "expert, got "
                         << *experts;
  }

  if (!getSharedGate() != !getSharedUp() || !getSharedGate() != !getSharedDown())
    return emitOpError("shared experts need gate, up and down weights");
  if (getSharedGate() &&
      failed(verifyExpertWeights(*this, "shared ", getSharedGate(),
                                 getSharedUp(), getSharedDown(), hidden)))
    return failure();
  // Biases: [E, inter] for gate and up, [E, hidden] for down.
  auto verifyBiases = [&](StringRef prefix, Value gate, Value gateBias,
                          Value upBias, Value downBias) -> LogicalResult {
    if (!gateBias != !upBias || !gateBias != !downBias)
      return emitOpError() << prefix
                           << "biases need gate, up and down biases";
    if (!gateBias)
      return success();
    if (!gate)
      return emitOpError() << prefix << "biases need " << prefix << "experts";
    int64_t count = dim(gate, 0), inter = dim(gate, 1);
    if (failed(verifyShape(*this, (prefix + "gate bias").str(), gateBias,
                           {count, inter})) ||
        failed(verifyShape(*this, (prefix + "up bias").str(), upBias,
                           {count, inter})) ||
        failed(verifyShape(*this, (prefix + "down bias").str(), downBias,
                           {count, hidden})))
      return failure();
    return success();
  };
  if (failed(verifyBiases("", getGate(), getGateBias(), getUpBias(),
                          getDownBias())) ||
      failed(verifyBiases("shared ", getSharedGate(), getSharedGateBias(),
                          getSharedUpBias(), getSharedDownBias())))
    return failure();

  if (!getPredictorFc1() != !getPredictorFc2())
    return emitOpError("the predictor needs fc1 and fc2 weights");
  if (getPredictorFc1()) {
    if (getActivation() != Activation::DReLU)
      return emitOpError("an activation predictor needs the drelu activation");
    if (failed(verifyShape(*this, "predictor fc1", getPredictorFc1(),
                           {*experts, kAny, hidden})) ||
        failed(verifyShape(*this, "predictor fc2", getPredictorFc2(),
                           {*experts, dim(getGate(), 1),
                            dim(getPredictorFc1(), 1)})))
      return failure();
  }
  if (getPredictorInput()) {
    if (!getPredictorFc1())
      return emitOpError("a predictor input needs a predictor");
    if (failed(verifyShape(*this, "predictor input", getPredictorInput(),
                           {tokens, hidden})))
      return failure();
  }
  return verifyShape(*this, "result", getResult(), {tokens, hidden});
}

//===----------------------------------------------------------------------===//
// FusedDReluOp
//===----------------------------------------------------------------------===//

LogicalResult FusedDReluOp::verify() {
  return verifyGateUp(*this, getInput(), getGate(), getResult(), getIndices(),
                      getPredicted(), getThresholdAttr());
}

//===----------------------------------------------------------------------===//
// SparseMatvecOp
//===----------------------------------------------------------------------===//

LogicalResult SparseMatvecOp::verify() {
  if (failed(verifyShape(*this, "weight", getWeight(), {kAny, kAny})))
    return failure();
  unsigned inDim = getNeuronMajor() ? 0 : 1;
  int64_t in = dim(getWeight(), inDim);
  int64_t out = dim(getWeight(), 1 - inDim);
  if (failed(verifyShape(*this, "input", getInput(), {in})) ||
      failed(verifyShape(*this, "indices", getIndices(), {kAny})))
    return failure();
  int64_t capacity = dim(getIndices(), 0);
  if (!ShapedType::isDynamic(capacity) && !ShapedType::isDynamic(in) &&
      capacity > in)
    return emitOpError() << "indices hold " << capacity
                         << " entries but the input has only " << in;
  return verifyShape(*this, "result", getResult(), {out});
}

//===----------------------------------------------------------------------===//
// LmHeadOp
//===----------------------------------------------------------------------===//

LogicalResult LmHeadOp::verify() {
  return verifyRowProduct(*this, getInput(), getWeight(), getResult());
}

//===----------------------------------------------------------------------===//
// ScoreHeadOp
//===----------------------------------------------------------------------===//

LogicalResult ScoreHeadOp::verify() {
  if (failed(verifyShape(*this, "input", getInput(), {kAny, kAny})) ||
      failed(verifyShape(*this, "weight", getWeight(),
                         {kAny, dim(getInput(), 1)})))
    return failure();
  int64_t labels = dim(getWeight(), 0);
  int64_t tokens = dim(getInput(), 0);
  if (getBias() && failed(verifyShape(*this, "bias", getBias(), {labels})))
    return failure();

  if (getKind() == ScoreKind::Token) {
    if (getTokenIds() || getPadTokenIdAttr())
      return emitOpError("token scoring takes no token ids or pad token");
    return verifyShape(*this, "result", getResult(), {tokens, labels});
  }
  if (!getTokenIds() != !getPadTokenIdAttr())
    return emitOpError("the token ids and pad_token_id go together");
  if (auto pad = getPadTokenIdAttr())
    if (pad.getInt() < 0)
      return emitOpError() << "pad_token_id must be non-negative, got "
                           << pad.getInt();
  if (getTokenIds() &&
      failed(verifyShape(*this, "token ids", getTokenIds(), {tokens})))
    return failure();
  return verifyShape(*this, "result", getResult(), {labels});
}

#define GET_OP_CLASSES
#include "dialects/moe/IR/MoeOps.cpp.inc"

std::optional<int64_t> mlir::moe::layerOfLocation(Location loc) {
  std::optional<int64_t> layer;
  loc->walk([&](Location inner) {
    auto name = dyn_cast<NameLoc>(inner);
    if (!name)
      return WalkResult::advance();
    StringRef text = name.getName().getValue();
    int64_t n;
    if (!text.consume_front(kLayerLocationPrefix) || text.getAsInteger(10, n))
      return WalkResult::advance();
    layer = n;
    return WalkResult::interrupt();
  });
  return layer;
}
