//===- ShapeChecks.h - shape checks shared by the op verifiers --*- C++ -*-===//

#ifndef MOEC_DIALECTS_SHAPECHECKS_H
#define MOEC_DIALECTS_SHAPECHECKS_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"

#include <cmath>
#include <optional>

namespace moec::verify {

/// Matches any extent in an expected shape.
inline constexpr int64_t kAny = mlir::ShapedType::kDynamic;

/// Checks that `type` has exactly the rank of `expected` and that every
/// static extent agrees with it. An expected or actual dynamic extent matches
/// anything, so callers may pass extents read off other operands as they are.
inline mlir::LogicalResult verifyShape(mlir::Operation *op, llvm::StringRef name,
                                 mlir::Type type,
                                 llvm::ArrayRef<int64_t> expected) {
  auto ranked = llvm::cast<mlir::RankedTensorType>(type);
  if (ranked.getRank() != static_cast<int64_t>(expected.size()))
    return op->emitOpError() << name << " must have rank " << expected.size()
                             << ", got " << type;
  for (auto [i, got, want] : llvm::enumerate(ranked.getShape(), expected)) {
    if (want == kAny || mlir::ShapedType::isDynamic(got) || got == want)
      continue;
    return op->emitOpError() << name << " dimension " << i << " must be "
                             << want << ", got " << type;
  }
  return mlir::success();
}

inline mlir::LogicalResult verifyShape(mlir::Operation *op, llvm::StringRef name,
                                 mlir::Value value,
                                 llvm::ArrayRef<int64_t> expected) {
  return verifyShape(op, name, value.getType(), expected);
}

inline mlir::LogicalResult verifyPositive(mlir::Operation *op, llvm::StringRef name,
                                    int64_t value) {
  if (value <= 0)
    return op->emitOpError() << name << " must be positive, got " << value;
  return mlir::success();
}

inline mlir::LogicalResult verifyPositive(mlir::Operation *op, llvm::StringRef name,
                                    double value) {
  if (!(value > 0.0) || !std::isfinite(value))
    return op->emitOpError() << name << " must be positive and finite, got "
                             << value;
  return mlir::success();
}

/// Extent `i` of a ranked tensor value.
inline int64_t dim(mlir::Value value, unsigned i) {
  return llvm::cast<mlir::RankedTensorType>(value.getType()).getDimSize(i);
}

/// input [T, K] times weight [N, K] transposed is result [T, N].
inline mlir::LogicalResult verifyRowProduct(mlir::Operation *op,
                                            mlir::Value input,
                                            mlir::Value weight,
                                            mlir::Value result) {
  if (failed(verifyShape(op, "input", input, {kAny, kAny})) ||
      failed(verifyShape(op, "weight", weight, {kAny, dim(input, 1)})))
    return mlir::failure();
  return verifyShape(op, "result", result, {dim(input, 0), dim(weight, 0)});
}

/// An expert's gate/up product: input [K], gate [I, K] (up is checked
/// equal by the op's traits), result and indices [I], and the optional
/// predictor logits [I], which come with a threshold.
inline mlir::LogicalResult verifyGateUp(mlir::Operation *op, mlir::Value input,
                                        mlir::Value gate, mlir::Value result,
                                        mlir::Value indices,
                                        mlir::Value predicted,
                                        mlir::Attribute threshold) {
  if (!predicted != !threshold)
    return op->emitOpError("predicted logits and a threshold go together");
  if (predicted &&
      failed(verifyShape(op, "predicted", predicted, {dim(gate, 0)})))
    return mlir::failure();
  if (failed(verifyShape(op, "input", input, {kAny})) ||
      failed(verifyShape(op, "gate", gate, {kAny, dim(input, 0)})))
    return mlir::failure();
  int64_t inter = dim(gate, 0);
  if (failed(verifyShape(op, "result", result, {inter})))
    return mlir::failure();
  return verifyShape(op, "indices", indices, {inter});
}

/// RMS normalisation: a positive eps, input of rank >= 1, weight [last dim].
inline mlir::LogicalResult verifyRmsNorm(mlir::Operation *op, mlir::Value input,
                                         mlir::Value weight, double eps) {
  if (failed(verifyPositive(op, "eps", eps)))
    return mlir::failure();
  auto type = llvm::cast<mlir::RankedTensorType>(input.getType());
  if (type.getRank() < 1)
    return op->emitOpError("input must have rank >= 1");
  return verifyShape(op, "weight", weight, {type.getShape().back()});
}

/// RoPE: input [T, heads, head_dim] with an even, positive head_dim, a
/// positive theta, positions [T].
inline mlir::LogicalResult
verifyRope(mlir::Operation *op, mlir::Value input, mlir::Value positions,
           int64_t headDim, double theta,
           std::optional<llvm::ArrayRef<float>> invFreq) {
  if (failed(verifyPositive(op, "head_dim", headDim)) ||
      failed(verifyPositive(op, "theta", theta)))
    return mlir::failure();
  if (headDim % 2 != 0)
    return op->emitOpError() << "head_dim must be even, got " << headDim;
  if (invFreq && int64_t(invFreq->size()) != headDim / 2)
    return op->emitOpError() << "inv_freq has " << invFreq->size()
                             << " values, not head_dim / 2 = " << headDim / 2;
  if (failed(verifyShape(op, "input", input, {kAny, kAny, headDim})))
    return mlir::failure();
  return verifyShape(op, "positions", positions, {dim(input, 0)});
}

/// The head counts of grouped-query attention: positive, kv_heads dividing
/// heads; a window and a scale, when given, positive.
inline mlir::LogicalResult verifyAttentionHeads(mlir::Operation *op,
                                                int64_t heads, int64_t kvHeads,
                                                int64_t headDim,
                                                std::optional<int64_t> window,
                                                std::optional<double> scale) {
  if (failed(verifyPositive(op, "heads", heads)) ||
      failed(verifyPositive(op, "kv_heads", kvHeads)) ||
      failed(verifyPositive(op, "head_dim", headDim)))
    return mlir::failure();
  if (heads % kvHeads != 0)
    return op->emitOpError() << "kv_heads (" << kvHeads
                             << ") must divide heads (" << heads << ")";
  if (window && failed(verifyPositive(op, "window", *window)))
    return mlir::failure();
  if (scale && failed(verifyPositive(op, "scale", *scale)))
    return mlir::failure();
  return mlir::success();
}

/// A router's null-expert bias: non-negative and finite, and only where the
/// weights are normalised (it is part of their divisor).
inline mlir::LogicalResult verifyNullExpertBias(mlir::Operation *op,
                                                mlir::FloatAttr bias,
                                                bool renormalize) {
  if (!bias)
    return mlir::success();
  double b = bias.getValueAsDouble();
  if (!(b >= 0.0) || !std::isfinite(b))
    return op->emitOpError() << "null_expert_bias must be non-negative, got "
                             << b;
  if (!renormalize)
    return op->emitOpError("null_expert_bias only applies with renormalize");
  return mlir::success();
}

/// ALiBi's slopes: one per head, each positive and finite.
inline mlir::LogicalResult
verifyAlibiSlopes(mlir::Operation *op, int64_t heads,
                  std::optional<llvm::ArrayRef<float>> slopes) {
  if (!slopes)
    return mlir::success();
  if (int64_t(slopes->size()) != heads)
    return op->emitOpError() << "alibi needs " << heads
                             << " slopes (one per head), got "
                             << slopes->size();
  for (float s : *slopes)
    if (!(s > 0) || !std::isfinite(s))
      return op->emitOpError() << "alibi slopes must be positive, got " << s;
  return mlir::success();
}

/// A layer's KV cache [2, S, kv_heads, head_dim]: keys at index 0, values
/// at index 1.
inline mlir::LogicalResult verifyLayerCache(mlir::Operation *op,
                                            mlir::Value cache) {
  return verifyShape(op, "kv_cache", cache, {2, kAny, kAny, kAny});
}

/// A chunk's keys (or values) [T, kv_heads, head_dim] at positions [T] and
/// a layer's KV cache [2, S, kv_heads, head_dim].
inline mlir::LogicalResult verifyCacheRows(mlir::Operation *op, mlir::Value k,
                                           mlir::Value cache,
                                           mlir::Value positions,
                                           mlir::Value offsets) {
  if (failed(verifyLayerCache(op, cache)) ||
      failed(verifyShape(op, "k", k, {kAny, dim(cache, 2), dim(cache, 3)})) ||
      failed(verifyShape(op, "positions", positions, {dim(k, 0)})))
    return mlir::failure();
  return offsets ? verifyShape(op, "offsets", offsets, {dim(k, 0)})
                 : mlir::success();
}

/// A batch's cache offsets are for causal attention only: a query of a
/// sequence that sees its whole sequence would need the sequence's length.
inline mlir::LogicalResult verifyBatchedAttention(mlir::Operation *op,
                                                  mlir::Value offsets,
                                                  bool causal) {
  if (offsets && !causal)
    return op->emitOpError("with offsets (a batch of sequences) must be "
                           "causal");
  return mlir::success();
}

} // namespace moec::verify

#endif // MOEC_DIALECTS_SHAPECHECKS_H
