//===- LinalgBuilder.h - loop nests on tensors as linalg ops ----*- C++ -*-===//
//
// The builders of the reference lowering (moe-to-linalg) and of the layer
// kernels (passes/LayerKernels.h): linalg.generic ops for elementwise work,
// reductions over the last dimension and softmaxes, all in f32. Their
// parallel dimensions become threads on a GPU; on a CPU they are plain
// loops between the kernels' OpenMP regions.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_PASSES_LINALGBUILDER_H
#define MOEC_PASSES_LINALGBUILDER_H

#include "passes/Kernels.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <limits>

namespace mlir::moe {

using utils::IteratorType;
inline constexpr IteratorType kPar = IteratorType::parallel;
inline constexpr IteratorType kRed = IteratorType::reduction;

/// acc + x, as a reduction step.
inline Value addStep(OpBuilder &b, Location loc, Value acc, Value x) {
  return arith::AddFOp::create(b, loc, acc, x, kReductionFlags);
}

/// Builders of linalg ops at one location, for the reference lowering and
/// the layer kernels.
class LinalgBuilder {
public:
  LinalgBuilder(ImplicitLocOpBuilder &b, kernel::CpuMappingAttr kernels)
      : b(b), f32(b.getF32Type()), kernels(kernels) {}

  SmallVector<OpFoldResult> sizes(Value t) {
    return tensor::getMixedSizes(b, b.getLoc(), t);
  }
  OpFoldResult size(Value t, int64_t dim) {
    return tensor::getMixedSize(b, b.getLoc(), t, dim);
  }
  Value sizeValue(Value t, int64_t dim) {
    return getValueOrCreateConstantIndexOp(b, b.getLoc(), size(t, dim));
  }

  Value filled(ArrayRef<OpFoldResult> shape, double value) {
    Value empty = tensor::EmptyOp::create(b, shape, f32);
    return linalg::FillOp::create(b, ValueRange{cF32(b, value)},
                                  ValueRange{empty})
        .getResult(0);
  }

  /// (d0, ..., d{n-1}) -> (d{dims[0]}, ...).
  AffineMap proj(unsigned n, ArrayRef<unsigned> dims) {
    SmallVector<AffineExpr> exprs;
    for (unsigned d : dims)
      exprs.push_back(b.getAffineDimExpr(d));
    return AffineMap::get(n, 0, exprs, b.getContext());
  }
  AffineMap identity(unsigned n) {
    return AffineMap::getMultiDimIdentityMap(n, b.getContext());
  }

  Value generic(Value init, ValueRange ins, ArrayRef<AffineMap> maps,
                ArrayRef<IteratorType> iters,
                function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
    return linalg::GenericOp::create(
               b, init.getType(), ins, ValueRange{init}, maps, iters,
               [&](OpBuilder &nb, Location loc, ValueRange args) {
                 linalg::YieldOp::create(nb, loc, body(nb, loc, args));
               })
        .getResult(0);
  }

  /// x [T, K] (f32) times w [N, K] (any float) transposed: [T, N].
  Value matmulTransposed(Value x, Value w) {
    return buildMatvec(b, b.getLoc(), x, w, kernels);
  }

  /// Adds a bias [N] (any float) to every row of y [T, N].
  Value addBias(Value y, Value bias) {
    return generic(y, {bias}, {proj(2, {1}), identity(2)}, {kPar, kPar},
                   [&](OpBuilder &nb, Location loc, ValueRange a) -> Value {
                     return arith::AddFOp::create(nb, loc, a[1],
                                                  widenToF32(nb, loc, a[0]));
                   });
  }

  /// Adds row e of a stacked bias [E, N] to every row of y [T, N]; y as it
  /// is without a bias.
  Value addStackedBias(Value y, Value stacked, OpFoldResult e) {
    if (!stacked)
      return y;
    auto type = cast<RankedTensorType>(stacked.getType());
    int64_t n = type.getDimSize(1);
    Value bias = tensor::ExtractSliceOp::create(
        b, RankedTensorType::get({n}, type.getElementType()), stacked,
        ArrayRef<OpFoldResult>{e, b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(n)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
    return addBias(y, bias);
  }

  /// Reduces x over its last dimension with `combine`, starting at `init`.
  Value
  reduceLast(Value x, double init,
             function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
    auto type = cast<RankedTensorType>(x.getType());
    unsigned rank = type.getRank();
    SmallVector<OpFoldResult> outer = sizes(x);
    outer.pop_back();
    SmallVector<unsigned> outerDims;
    SmallVector<IteratorType> iters(rank, kPar);
    iters.back() = kRed;
    for (unsigned d = 0; d + 1 < rank; ++d)
      outerDims.push_back(d);
    return generic(filled(outer, init), {x},
                   {identity(rank), proj(rank, outerDims)}, iters,
                   [&](OpBuilder &nb, Location loc, ValueRange a) {
                     return combine(nb, loc, a[1], a[0]);
                   });
  }

  /// Softmax over the last dimension, in f32; -inf entries get 0.
  Value softmaxLast(Value x) {
    unsigned rank = cast<RankedTensorType>(x.getType()).getRank();
    SmallVector<unsigned> outerDims;
    for (unsigned d = 0; d + 1 < rank; ++d)
      outerDims.push_back(d);
    SmallVector<IteratorType> par(rank, kPar);
    Value max = reduceLast(x, -std::numeric_limits<double>::infinity(),
                           [](OpBuilder &nb, Location loc, Value acc, Value v) {
                             return arith::MaximumFOp::create(nb, loc, acc, v);
                           });
    Value exps =
        generic(tensor::EmptyOp::create(b, sizes(x), f32), {x, max},
                {identity(rank), proj(rank, outerDims), identity(rank)}, par,
                [&](OpBuilder &nb, Location loc, ValueRange a) -> Value {
                  Value d = arith::SubFOp::create(nb, loc, a[0], a[1]);
                  return math::ExpOp::create(nb, loc, d);
                });
    Value sum = reduceLast(exps, 0.0,
                           [](OpBuilder &nb, Location loc, Value acc, Value v) {
                             return addStep(nb, loc, acc, v);
                           });
    return generic(exps, {sum}, {proj(rank, outerDims), identity(rank)}, par,
                   [&](OpBuilder &nb, Location loc, ValueRange a) -> Value {
                     return arith::DivFOp::create(nb, loc, a[1], a[0]);
                   });
  }

  /// act(g, u) elementwise for tensors of equal shape; with a CPU mapping,
  /// rows [T, n] as buildGatedActivation's vector kernel.
  Value activate(Activation act, Value g, Value u) {
    unsigned rank = cast<RankedTensorType>(g.getType()).getRank();
    if (kernels && rank == 2)
      return buildGatedActivation(b, b.getLoc(), act, g, u, kernels);
    SmallVector<IteratorType> par(rank, kPar);
    return generic(tensor::EmptyOp::create(b, sizes(g), f32), {g, u},
                   {identity(rank), identity(rank), identity(rank)}, par,
                   [&](OpBuilder &nb, Location loc, ValueRange a) -> Value {
                     return gatedActivation(nb, loc, act, a[0], a[1]);
                   });
  }

  /// Row `row` of a [T, H] tensor, as [1, H].
  Value row(Value x, Value rowIndex) {
    auto type = cast<RankedTensorType>(x.getType());
    return tensor::ExtractSliceOp::create(
        b,
        RankedTensorType::get({1, type.getDimSize(1)}, type.getElementType()),
        x, ArrayRef<OpFoldResult>{rowIndex, b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), size(x, 1)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
  }

  /// Matrix `e` of a stacked [E, A, B] weight, as [A, B].
  Value matrix(Value stacked, OpFoldResult e) {
    return expertMatrix(b, b.getLoc(), stacked, e);
  }

  ImplicitLocOpBuilder &b;
  Type f32;
  /// The mapping of the products the builder makes (null where it makes
  /// none).
  kernel::CpuMappingAttr kernels;
};

} // namespace mlir::moe

#endif // MOEC_PASSES_LINALGBUILDER_H
