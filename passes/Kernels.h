//===- Kernels.h - vectorised loop nests of the CPU lowering ----*- C++ -*-===//
//
// Builders for the memory-bound kernels of a decode step, on tensors: dense
// matrix-vector products, the fused dReLU gate/up product with its active
// set, and the neuron-major sparse product. Work is split across threads
// with scf.forall; the inner loops read weights as stored, widen them to
// f32 in vector registers and accumulate in several f32 vectors.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_PASSES_KERNELS_H
#define MOEC_PASSES_KERNELS_H

#include "dialects/kernel/IR/KernelOps.h"
#include "dialects/moe/IR/MoeAttrs.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::moe {

/// Reductions may be reassociated (so that LLVM vectorises them) and
/// multiply-adds contracted; accumulation stays in f32.
constexpr arith::FastMathFlags kReductionFlags =
    arith::FastMathFlags::reassoc | arith::FastMathFlags::contract;

/// The constants every lowering builds: an index, an f32.
Value cIndex(OpBuilder &b, Location loc, int64_t v);
Value cF32(OpBuilder &b, Location loc, double v);
inline Value cIndex(ImplicitLocOpBuilder &b, int64_t v) {
  return cIndex(b, b.getLoc(), v);
}
inline Value cF32(ImplicitLocOpBuilder &b, double v) {
  return cF32(b, b.getLoc(), v);
}

/// `v`, a float or a vector of floats (weights are bf16, f16 or f32), as f32.
Value widenToF32(OpBuilder &b, Location loc, Value v);

/// acc + x * y, as a reduction step.
Value mulAdd(OpBuilder &b, Location loc, Value acc, Value x, Value y);

/// x as rows [T, K]: a vector [K] becomes [1, K]; a matrix is itself.
Value asRowMatrix(OpBuilder &b, Location loc, Value x);

/// y [T, N] as `type`: [N] when a vector was made rows by asRowMatrix.
Value fromRowMatrix(OpBuilder &b, Location loc, Value y, Type type);

/// Matrix `expert` of a stacked [E, A, B] weight, as [A, B].
Value expertMatrix(OpBuilder &b, Location loc, Value stacked,
                   OpFoldResult expert);

/// What a task of buildForall wrote into one output: the slice `value`
/// and where it goes.
struct Tile {
  Value value;
  SmallVector<OpFoldResult> offsets, sizes;
};

/// A parallel loop (scf.forall) over `count` tasks with shared outputs
/// `inits`: the body gets the task index and the outputs, and returns, for
/// each output, the slice of it that the task wrote.
SmallVector<Value> buildForall(
    OpBuilder &b, Location loc, OpFoldResult count, ValueRange inits,
    function_ref<SmallVector<Tile>(OpBuilder &, Location, Value, ValueRange)>
        body);

/// The same with one output.
Value buildForall(OpBuilder &b, Location loc, OpFoldResult count, Value init,
                  function_ref<Tile(OpBuilder &, Location, Value, Value)> body);

/// y [T, N] = x [T, K] (f32) times w [N, K] transposed: one parallel task
/// per row of w.
Value buildMatvec(OpBuilder &b, Location loc, Value x, Value w,
                  kernel::CpuMappingAttr mapping);

struct ActiveSet {
  Value activation; ///< [I] f32: relu(gate x) * relu(up x)
  Value indices;    ///< [I] i32: the non-zero entries, ascending, first `count`
  Value count;      ///< index
  Value gatePositive; ///< index: neurons whose gate is positive
};

/// The dReLU gate and up products of x [K] (f32) with gate and up [I, K] in
/// one parallel pass over the neurons: the up row is read only where the
/// gate is positive. Then the active neurons are listed in order. With
/// `predicted` [I] (a predictor's logits), only neurons whose logit is at
/// least `threshold` are computed; the others are zero.
ActiveSet buildFusedDRelu(OpBuilder &b, Location loc, Value x, Value gate,
                          Value up, Value predicted, FloatAttr threshold,
                          kernel::CpuMappingAttr mapping);

/// y [H] = sum over the first `count` indices n of act[n] * w[n, :], for a
/// neuron-major w [I, H]: parallel tasks split the active neurons, each
/// streams its neurons' whole rows into a partial output of its own, and
/// the partial outputs are summed.
Value buildSparseMatvecNeuronMajor(OpBuilder &b, Location loc, Value w,
                                   Value activation, Value indices, Value count,
                                   kernel::CpuMappingAttr mapping);

/// The same product for a row-major w [H, I]: a loop over the active
/// neurons adding act[n] times column n.
Value buildSparseMatvecRowMajor(OpBuilder &b, Location loc, Value w,
                                Value activation, Value indices, Value count);

/// y [T, H] = x [T, I] (f32) times a neuron-major w [I, H]: the dense
/// product of many tokens with a weight stored for sparse products (a
/// prompt's dReLU down projection). A task per block of row_tile vectors of
/// columns; in it, blocks of neurons, and for each, tiles of token_tile
/// tokens whose block of the output stays in registers.
Value buildMatmulNeuronMajor(OpBuilder &b, Location loc, Value x, Value w,
                             kernel::CpuMappingAttr mapping);

/// act(g, u) for f32 scalars or vectors: silu(g) u, relu(g) u, gelu(g) u
/// (exact, with erf) or relu(g) relu(u). One statement of the expert
/// activations, for the reference lowering and the CPU and GPU kernels.
Value gatedActivation(OpBuilder &b, Location loc, Activation act, Value g,
                      Value u);

/// The top-k selection of every router lowering: `topK` rounds, each the
/// largest of `experts` f32 scores read by `score(e)` (the lower index on
/// ties) among those after the previous round's pick in that order. The
/// scores are only read, so none has to be struck out of a copy.
/// `emit(k, value, index, state)` records round k's pick and returns the
/// updated loop-carried `state` (the output tensors, or a running sum);
/// the final state is returned.
SmallVector<Value>
buildTopK(OpBuilder &b, Location loc, int64_t experts, int64_t topK,
          ValueRange state,
          function_ref<Value(OpBuilder &, Location, Value)> score,
          function_ref<SmallVector<Value>(OpBuilder &, Location, Value, Value,
                                          Value, ValueRange)>
              emit);

/// act(g, u) [T, n] for f32 g, u [T, n], in vectors of the mapping's lanes:
/// a parallel task per row for a prompt's many rows, a plain loop for a
/// few (a decode step opens no parallel region for it).
Value buildGatedActivation(OpBuilder &b, Location loc, Activation act, Value g,
                           Value u, kernel::CpuMappingAttr mapping);

/// act(gate x, up x) [I] for x [K] (f32) and gate, up [I, K]: the GLU
/// family reads every up row, so as two matrix-vector products, then the
/// activation.
Value buildGateUp(OpBuilder &b, Location loc, Value x, Value gate, Value up,
                  Activation act, kernel::CpuMappingAttr mapping);

} // namespace mlir::moe

#endif // MOEC_PASSES_KERNELS_H
