//===- ExpertDispatch.h - the experts of one token --------------*- C++ -*-===//
//
// How a `moe.expert_ffn` block is expanded into the products of its experts:
// token by token (the order in which a token visits its experts), or expert
// by expert over the tokens routed to each; shared by the passes that expand
// the block (dReLU fusion, lowering).
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_PASSES_EXPERTDISPATCH_H
#define MOEC_PASSES_EXPERTDISPATCH_H

#include "dialects/moe/IR/MoeOps.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::moe {

/// Gate, up and down weights of a stack of experts ([E, I, H], [E, I, H],
/// [E, H, I]; with `downNeuronMajor`, down is [E, I, H]).
struct StackedExperts {
  Value gate, up, down;
  bool downNeuronMajor = false;
  /// The routed experts' activation predictor, if the block has one:
  /// fc1 [E, R, H], fc2 [E, I, R], and the token's row it reads ([H]; null:
  /// the token's input row).
  Value predictorFc1, predictorFc2, predictorRow;
  /// Biases of the linears, if any: gate and up [E, I], down [E, H].
  Value gateBias, upBias, downBias;
};

/// The routed experts of `op` (predictor and biases included, no predictor
/// row), and its shared experts.
StackedExperts routedExperts(ExpertFfnOp op);
StackedExperts sharedExperts(ExpertFfnOp op);

/// Adds one expert's output to `sum`: expert index `expert` of `experts`,
/// scaled by `weight` (null: 1).
using AddExpertFn =
    function_ref<Value(ImplicitLocOpBuilder &, Value sum, OpFoldResult expert,
                       Value weight, const StackedExperts &experts)>;

/// Threads `sum` through `add` for every expert of token `t` of `op`: its
/// routed experts with their routing weights (the one expert with weight 1
/// when the block is not routed), then each shared expert with weight 1.
Value addExpertsOfToken(ImplicitLocOpBuilder &b, ExpertFfnOp op, Value t,
                        Value sum, AddExpertFn add);

/// Adds one expert's output y to `sum`: sum + weight * y (null weight: 1).
Value addWeighted(ImplicitLocOpBuilder &b, Value sum, Value y, Value weight);

/// One expert's contribution to a token's row: `row` is the token's input
/// [H], `sum` the output so far [H].
using AddExpertToRowFn =
    function_ref<Value(ImplicitLocOpBuilder &, Value row, Value sum,
                       OpFoldResult expert, Value weight,
                       const StackedExperts &experts)>;

/// The block's output [T, H] built token by token: for each row of the
/// input, the sum over its experts (addExpertsOfToken) of `add`. The
/// expansion of a block into per-token, per-expert products.
Value buildExpertsPerToken(ImplicitLocOpBuilder &b, ExpertFfnOp op,
                           AddExpertToRowFn add);

/// The outputs [N, H] of one expert for `rows` [N, H] of the block's
/// input, N tokens at once.
using ExpertRowsFn =
    function_ref<Value(ImplicitLocOpBuilder &, Value rows, OpFoldResult expert,
                       const StackedExperts &experts)>;

/// The block's output [T, H] built expert by expert, as products of many
/// tokens: for each routed expert, the input rows of the tokens routed to
/// it gathered (none: skipped), `rows` of them, and each output row added
/// to its token's with the routing weight; a block that is not routed, and
/// each shared expert, takes all rows at once.
Value buildExpertsGrouped(ImplicitLocOpBuilder &b, ExpertFfnOp op,
                          ExpertRowsFn rows);

} // namespace mlir::moe

#endif // MOEC_PASSES_EXPERTDISPATCH_H
