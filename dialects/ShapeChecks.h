//===- ShapeChecks.h - shape checks shared by the op verifiers --*- C++ -*-===//

#ifndef MOEC_DIALECTS_SHAPECHECKS_H
#define MOEC_DIALECTS_SHAPECHECKS_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"

#include <cmath>

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
/// equal by the op's traits), result and indices [I].
inline mlir::LogicalResult verifyGateUp(mlir::Operation *op, mlir::Value input,
                                        mlir::Value gate, mlir::Value result,
                                        mlir::Value indices) {
  if (failed(verifyShape(op, "input", input, {kAny})) ||
      failed(verifyShape(op, "gate", gate, {kAny, dim(input, 0)})))
    return mlir::failure();
  int64_t inter = dim(gate, 0);
  if (failed(verifyShape(op, "result", result, {inter})))
    return mlir::failure();
  return verifyShape(op, "indices", indices, {inter});
}

} // namespace moec::verify

#endif // MOEC_DIALECTS_SHAPECHECKS_H
