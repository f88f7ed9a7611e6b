//===- MoeToLinalg.cpp - the reference lowering of moe ops --------------===//
//
// Every moe compute op becomes linalg.generic ops (dense products, norms,
// softmaxes) and scf.for loops over tensors (cache writes, top-k, expert
// dispatch, sparse index sets). Weights are widened to f32 where they are
// read; all arithmetic is f32.
//
//===----------------------------------------------------------------------===//

#include "dialects/moe/IR/MoeOps.h"
#include "passes/ExpertDispatch.h"
#include "passes/KernelPatterns.h"
#include "passes/Kernels.h"
#include "passes/LayerKernels.h"
#include "passes/LinalgBuilder.h"
#include "passes/Passes.h"
#include "passes/QuantizedReads.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"

#include <cmath>
#include <limits>

namespace mlir::moe {
#define GEN_PASS_DEF_MOETOLINALG
#include "passes/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

//===----------------------------------------------------------------------===//
// Op lowerings
//===----------------------------------------------------------------------===//

Value lowerEmbedding(LinalgBuilder &l, EmbeddingOp op) {
  Value table = op.getTable();
  Value init = tensor::EmptyOp::create(
      l.b, {l.size(op.getIds(), 0), l.size(table, 1)}, l.f32);
  return l.generic(init, {op.getIds()}, {l.proj(2, {0}), l.identity(2)},
                   {kPar, kPar},
                   [&](OpBuilder &nb, Location loc, ValueRange a) -> Value {
                     Value id = arith::IndexCastOp::create(
                         nb, loc, nb.getIndexType(), a[0]);
                     Value h = linalg::IndexOp::create(nb, loc, 1);
                     Value v = tensor::ExtractOp::create(nb, loc, table,
                                                         ValueRange{id, h});
                     return widenToF32(nb, loc, v);
                   });
}

Value lowerRmsNorm(LinalgBuilder &l, RmsNormOp op) {
  return buildRmsNorm(l.b, l.b.getLoc(), op.getInput(), op.getWeight(),
                      op.getEps().convertToDouble());
}

Value lowerRope(LinalgBuilder &l, RopeOp op) {
  return buildRope(l.b, l.b.getLoc(), op.getInput(), op.getPositions(),
                   op.getTheta().convertToDouble(),
                   op.getHeadDimAttr().getInt(),
                   op.getLayout() == RopeLayout::Interleaved, op.getInvFreq());
}

Value lowerLinear(LinalgBuilder &l, LinearOp op) {
  Location loc = l.b.getLoc();
  Value y = l.matmulTransposed(asRowMatrix(l.b, loc, op.getInput()),
                               op.getWeight());
  if (op.getBias())
    y = l.addBias(y, op.getBias());
  return fromRowMatrix(l.b, loc, y, op.getResult().getType());
}

AttentionShape attentionShapeOf(AttentionOp op) {
  std::optional<int64_t> window;
  if (auto w = op.getSlidingWindowAttr())
    window = w.getInt();
  AttentionShape shape{op.getNumHeadsAttr().getInt(),
                       op.getNumKvHeadsAttr().getInt(),
                       op.getHeadDimAttr().getInt(),
                       op.getScaleOrDefault(),
                       op.getCausal(),
                       window,
                       {}};
  if (auto slopes = op.getAlibiSlopes())
    shape.alibiSlopes.assign(slopes->begin(), slopes->end());
  return shape;
}

/// Writes k and v at their positions, then attends over the cache prefix
/// up to the last position (positions are ascending and contiguous), or
/// over each query's own sequence's rows (a batch, with offsets).
SmallVector<Value> lowerAttention(LinalgBuilder &l, AttentionOp op,
                                  bool wholeCache) {
  Location loc = l.b.getLoc();
  Value cache = buildCacheWrite(l.b, loc, op.getK(), op.getV(), op.getKvCache(),
                                op.getPositions(), op.getOffsets());
  AttentionShape shape = attentionShapeOf(op);
  if (!wholeCache)
    shape.lanes = l.kernels.getLanes();
  Value out =
      buildAttention(l.b, loc, op.getQ(), cache, op.getPositions(),
                     op.getOffsets(), shape);
  return {out, cache};
}

/// log(sum(exp(x))) over dimension `dim` (0 or 1) of x [T, E]: [E] or [T].
Value logSumExp(LinalgBuilder &l, Value x, unsigned dim) {
  SmallVector<IteratorType> iters = {kPar, kPar};
  iters[dim] = kRed;
  AffineMap kept = l.proj(2, {1 - dim});
  auto reduce = [&](Value in, double init,
                    function_ref<Value(OpBuilder &, Location, Value, Value)>
                        step) {
    return l.generic(l.filled({l.size(x, 1 - dim)}, init), {in},
                     {l.identity(2), kept}, iters,
                     [&](OpBuilder &nb, Location loc, ValueRange a) {
                       return step(nb, loc, a[1], a[0]);
                     });
  };
  Value max = reduce(x, -std::numeric_limits<double>::infinity(),
                     [](OpBuilder &nb, Location loc, Value acc, Value v) {
                       return arith::MaximumFOp::create(nb, loc, acc, v);
                     });
  // exp(x - max) summed, then max + log(sum).
  Value sum = l.generic(
      l.filled({l.size(x, 1 - dim)}, 0.0), {x, max},
      {l.identity(2), kept, kept}, iters,
      [&](OpBuilder &nb, Location loc, ValueRange a) -> Value {
        Value d = arith::SubFOp::create(nb, loc, a[0], a[1]);
        return addStep(nb, loc, a[2], math::ExpOp::create(nb, loc, d));
      });
  return l.generic(sum, {max}, {l.proj(1, {0}), l.identity(1)}, {kPar},
                   [&](OpBuilder &nb, Location loc, ValueRange a) -> Value {
                     return arith::AddFOp::create(
                         nb, loc, a[0], math::LogOp::create(nb, loc, a[1]));
                   });
}

/// Sinkhorn's probabilities of logits [T, E]: `iterations` rounds of
/// r -= logsumexp over the experts, then r -= logsumexp over the tokens;
/// exp(r). With one token the token-wise step is skipped (it would set
/// every r to 0): the softmax.
Value sinkhorn(LinalgBuilder &l, Value logits, int64_t iterations) {
  ImplicitLocOpBuilder &b = l.b;
  Value many = arith::CmpIOp::create(b, arith::CmpIPredicate::ugt,
                                     l.sizeValue(logits, 0), cIndex(b, 1));
  Value r = logits;
  auto subtract = [&](Value x, Value lse, AffineMap map, Value when) {
    return l.generic(
        tensor::EmptyOp::create(b, l.sizes(x), l.f32), {x, lse},
        {l.identity(2), map, l.identity(2)}, {kPar, kPar},
        [&](OpBuilder &nb, Location loc, ValueRange a) -> Value {
          Value d = a[1];
          if (when)
            d = arith::SelectOp::create(nb, loc, when, d, cF32(nb, loc, 0));
          return arith::SubFOp::create(nb, loc, a[0], d);
        });
  };
  for (int64_t i = 0; i < iterations; ++i) {
    r = subtract(r, logSumExp(l, r, 1), l.proj(2, {0}), Value());
    r = subtract(r, logSumExp(l, r, 0), l.proj(2, {1}), many);
  }
  return l.generic(tensor::EmptyOp::create(b, l.sizes(r), l.f32), {r},
                   {l.identity(2), l.identity(2)}, {kPar, kPar},
                   [&](OpBuilder &nb, Location loc, ValueRange a) -> Value {
                     return math::ExpOp::create(nb, loc, a[0]);
                   });
}

/// 1 / (1 + exp(-x)).
Value sigmoid(OpBuilder &b, Location loc, Value x) {
  Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
  return arith::DivFOp::create(
      b, loc, cF32(b, loc, 1), arith::AddFOp::create(b, loc, cF32(b, loc, 1), e));
}

/// A router's probabilities of logits [T, E] by `f`, in f32.
Value routerProbabilities(LinalgBuilder &l, Value logits, RouterNonlinearity f,
                          int64_t iterations) {
  switch (f) {
  case RouterNonlinearity::Softmax:
    return l.softmaxLast(logits);
  case RouterNonlinearity::Sigmoid:
    return l.generic(tensor::EmptyOp::create(l.b, l.sizes(logits), l.f32),
                     {logits}, {l.identity(2), l.identity(2)}, {kPar, kPar},
                     [&](OpBuilder &nb, Location loc, ValueRange a) -> Value {
                       return sigmoid(nb, loc, a[0]);
                     });
  case RouterNonlinearity::Sinkhorn:
    return sinkhorn(l, logits, iterations);
  }
  llvm_unreachable("unknown router nonlinearity");
}

/// Divides each token's weights [T, K] by their sum plus `nullBias`.
Value normalizeWeights(LinalgBuilder &l, Value weights,
                       std::optional<double> nullBias) {
  Value sum = l.reduceLast(weights, nullBias.value_or(0.0),
                           [](OpBuilder &nb, Location loc, Value acc, Value v) {
                             return addStep(nb, loc, acc, v);
                           });
  return l.generic(weights, {sum}, {l.proj(2, {0}), l.identity(2)},
                   {kPar, kPar},
                   [&](OpBuilder &nb, Location loc, ValueRange a) -> Value {
                     return arith::DivFOp::create(nb, loc, a[1], a[0]);
                   });
}

/// The top-k of `select` [T, E] (first index on ties): ids [T, topK] of
/// `idType`, and weights [T, topK] read from `weigh` [T, E] at them.
SmallVector<Value> routeTopK(LinalgBuilder &l, Value select, Value weigh,
                             int64_t topK, Type idType) {
  ImplicitLocOpBuilder &b = l.b;
  int64_t experts = cast<RankedTensorType>(select.getType()).getDimSize(1);
  Value tokens = l.sizeValue(select, 0);
  Value weights = l.filled({l.size(select, 0), b.getIndexAttr(topK)}, 0.0);
  Value ids = tensor::EmptyOp::create(
      b, ArrayRef<OpFoldResult>{l.size(select, 0), b.getIndexAttr(topK)},
      idType);
  // For each token, the k largest probabilities.
  auto perToken = scf::ForOp::create(
      b, cIndex(l.b, 0), tokens, cIndex(l.b, 1), ValueRange{weights, ids},
      [&](OpBuilder &nb, Location loc, Value t, ValueRange outputs) {
        SmallVector<Value> picked = buildTopK(
            nb, loc, experts, topK, outputs,
            [&](OpBuilder &eb, Location el, Value e) -> Value {
              return tensor::ExtractOp::create(eb, el, select, ValueRange{t, e});
            },
            [&](OpBuilder &kb, Location kl, Value k, Value p, Value e,
                ValueRange out) -> SmallVector<Value> {
              if (weigh != select)
                p = tensor::ExtractOp::create(kb, kl, weigh, ValueRange{t, e});
              Value w =
                  tensor::InsertOp::create(kb, kl, p, out[0], ValueRange{t, k});
              Value id = tensor::InsertOp::create(
                  kb, kl, arith::IndexCastOp::create(kb, kl, idType, e), out[1],
                  ValueRange{t, k});
              return {w, id};
            });
        scf::YieldOp::create(nb, loc, picked);
      });
  return {perToken.getResult(0), perToken.getResult(1)};
}

/// Routing that reads no scores: hash (expert = token id mod E) and uniform
/// (expert k = (position + k) mod E), with weights 1 and 1 / top_k.
SmallVector<Value> routeFixed(LinalgBuilder &l, RouterOp op) {
  ImplicitLocOpBuilder &b = l.b;
  bool hash = op.getRouting() == RoutingAlgorithm::Hash;
  Value from = hash ? op.getTokenIds() : op.getPositions();
  int64_t topK = op.getTopK(), experts = op.getNumExperts();
  Type idType = op.getExpertIds().getType().getElementType();
  SmallVector<OpFoldResult> shape = {l.size(from, 0), b.getIndexAttr(topK)};
  Value weights = l.filled(shape, 1.0 / double(topK));
  Value ids = l.generic(
      tensor::EmptyOp::create(b, shape, idType), {from},
      {l.proj(2, {0}), l.identity(2)}, {kPar, kPar},
      [&](OpBuilder &nb, Location loc, ValueRange a) -> Value {
        Value v = arith::IndexCastUIOp::create(nb, loc, nb.getIndexType(), a[0]);
        v = arith::AddIOp::create(nb, loc, v, linalg::IndexOp::create(nb, loc, 1));
        v = arith::RemUIOp::create(nb, loc, v, cIndex(nb, loc, experts));
        return arith::IndexCastUIOp::create(nb, loc, idType, v);
      });
  return {weights, ids};
}

/// The reference router: scores (the gate's logits, or the input when it
/// is the logits) through the selection and weighting nonlinearities,
/// top-k, or fixed routing; then the optional normalisation.
FailureOr<SmallVector<Value>> lowerRouter(LinalgBuilder &l, RouterOp op) {
  SmallVector<Value> routed;
  if (op.getRouting() == RoutingAlgorithm::Learned) {
    Value logits = op.getGate() ? l.matmulTransposed(op.getInput(), op.getGate())
                                : op.getInput();
    int64_t iterations = op.getIterationsOrDefault();
    Value select =
        routerProbabilities(l, logits, op.getNonlinearity(), iterations);
    Value weigh = select;
    if (op.getWeightingOrSelection() != op.getNonlinearity())
      weigh = routerProbabilities(l, logits, op.getWeightingOrSelection(),
                                  iterations);
    routed = routeTopK(l, select, weigh, op.getTopK(),
                       op.getExpertIds().getType().getElementType());
  } else {
    routed = routeFixed(l, op);
  }
  if (op.getRenormalize()) {
    std::optional<double> bias;
    if (auto attr = op.getNullExpertBiasAttr())
      bias = attr.getValueAsDouble();
    routed[0] = normalizeWeights(l, routed[0], bias);
  }
  return routed;
}

/// act [T, I] times the down matrix of expert e: [T, H].
Value downProduct(LinalgBuilder &l, Value act, OpFoldResult e,
                  const StackedExperts &experts) {
  Value down = l.matrix(experts.down, e);
  if (experts.downNeuronMajor)
    return buildMatmulNeuronMajor(l.b, l.b.getLoc(), act, down, l.kernels);
  return l.matmulTransposed(act, down);
}

/// One expert's MLP of rows [N, H], with its biases: [N, H].
Value expertRows(LinalgBuilder &l, Activation act, Value rows, OpFoldResult e,
                 const StackedExperts &experts) {
  Value g = l.addStackedBias(
      l.matmulTransposed(rows, l.matrix(experts.gate, e)), experts.gateBias, e);
  Value u = l.addStackedBias(
      l.matmulTransposed(rows, l.matrix(experts.up, e)), experts.upBias, e);
  return l.addStackedBias(downProduct(l, l.activate(act, g, u), e, experts),
                          experts.downBias, e);
}

/// acc[t] += weight * down_e(act(gate_e x_t, up_e x_t)), for one expert e
/// of stacked weights.
Value addExpert(LinalgBuilder &l, Activation act, Value x, Value acc, Value t,
                OpFoldResult e, Value weight, const StackedExperts &experts) {
  ImplicitLocOpBuilder &b = l.b;
  Value y = expertRows(l, act, l.row(x, t), e, experts);
  if (!weight)
    weight = cF32(l.b, 1);
  Value sum = l.generic(l.row(acc, t), {y}, {l.identity(2), l.identity(2)},
                        {kPar, kPar},
                        [&](OpBuilder &nb, Location loc, ValueRange a) -> Value {
                          Value s = arith::MulFOp::create(nb, loc, a[0], weight);
                          return arith::AddFOp::create(nb, loc, a[1], s);
                        });
  return tensor::InsertSliceOp::create(
      b, sum, acc, ArrayRef<OpFoldResult>{t, b.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1), l.size(x, 1)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
}

/// For each token, the weighted sum of its experts' MLPs, plus the shared
/// experts' with weight 1. The predictor does not change the value. With
/// `grouped`, each expert's MLP runs once on all the tokens routed to it.
Value lowerExpertFfn(LinalgBuilder &l, ExpertFfnOp op, bool grouped) {
  Value x = op.getInput();
  Activation act = op.getActivation();
  if (grouped)
    return buildExpertsGrouped(
        l.b, op,
        [&](ImplicitLocOpBuilder &b, Value rows, OpFoldResult e,
            const StackedExperts &experts) {
          LinalgBuilder in(b, l.kernels);
          return expertRows(in, act, rows, e, experts);
        });
  auto loop = scf::ForOp::create(
      l.b, cIndex(l.b, 0), l.sizeValue(x, 0), cIndex(l.b, 1),
      ValueRange{l.filled(l.sizes(x), 0.0)},
      [&](OpBuilder &nb, Location loc, Value t, ValueRange acc) {
        ImplicitLocOpBuilder ib(loc, nb);
        LinalgBuilder in(ib, l.kernels);
        Value sum = addExpertsOfToken(
            ib, op, t, acc[0],
            [&](ImplicitLocOpBuilder &, Value sum, OpFoldResult e, Value w,
                const StackedExperts &experts) {
              return addExpert(in, act, x, sum, t, e, w, experts);
            });
        scf::YieldOp::create(ib, sum);
      });
  return loop.getResult(0);
}

Value lowerDRelu(LinalgBuilder &l, DReluOp op) {
  return l.activate(Activation::DReLU, op.getGate(), op.getUp());
}

SmallVector<Value> lowerFusedDRelu(LinalgBuilder &l, FusedDReluOp op) {
  ActiveSet set = buildFusedDRelu(l.b, l.b.getLoc(), op.getInput(),
                                  op.getGate(), op.getUp(), op.getPredicted(),
                                  op.getThresholdAttr(), l.kernels);
  return {set.activation, set.indices, set.count, set.gatePositive};
}

/// y += x[n] * W[:, n] for the first `count` active neurons n.
Value lowerSparseMatvec(LinalgBuilder &l, SparseMatvecOp op) {
  Location loc = l.b.getLoc();
  if (op.getNeuronMajor())
    return buildSparseMatvecNeuronMajor(l.b, loc, op.getWeight(),
                                        op.getInput(), op.getIndices(),
                                        op.getCount(), l.kernels);
  return buildSparseMatvecRowMajor(l.b, loc, op.getWeight(), op.getInput(),
                                   op.getIndices(), op.getCount());
}

Value lowerLmHead(LinalgBuilder &l, LmHeadOp op) {
  return l.matmulTransposed(op.getInput(), op.getWeight());
}

/// Token scores for every row; sequence scores at the last row whose token
/// is not the pad token (the last row without a pad token).
Value lowerScoreHead(LinalgBuilder &l, ScoreHeadOp op) {
  ImplicitLocOpBuilder &b = l.b;
  Value x = op.getInput();
  if (op.getKind() == ScoreKind::Token) {
    Value y = l.matmulTransposed(x, op.getWeight());
    return op.getBias() ? l.addBias(y, op.getBias()) : y;
  }
  Value tokens = l.sizeValue(x, 0);
  Value last = arith::SubIOp::create(b, tokens, cIndex(l.b, 1));
  if (Value ids = op.getTokenIds()) {
    auto idType = cast<RankedTensorType>(ids.getType()).getElementType();
    Value pad = arith::ConstantOp::create(
        b, b.getIntegerAttr(idType, op.getPadTokenIdAttr().getInt()));
    last = scf::ForOp::create(
               b, cIndex(l.b, 0), tokens, cIndex(l.b, 1), ValueRange{last},
               [&](OpBuilder &nb, Location loc, Value t, ValueRange acc) {
                 Value id = tensor::ExtractOp::create(nb, loc, ids,
                                                      ValueRange{t});
                 Value real = arith::CmpIOp::create(
                     nb, loc, arith::CmpIPredicate::ne, id, pad);
                 scf::YieldOp::create(
                     nb, loc,
                     arith::SelectOp::create(nb, loc, real, t, acc[0])
                         .getResult());
               })
               .getResult(0);
  }
  Value y = l.matmulTransposed(l.row(x, last), op.getWeight());
  if (op.getBias())
    y = l.addBias(y, op.getBias());
  // [1, labels] to [labels], as a copy into a buffer of its own: the
  // entry point's result must be an allocation the caller can provide.
  MLIRContext *ctx = b.getContext();
  return l.generic(
      tensor::EmptyOp::create(b, ArrayRef<OpFoldResult>{l.size(y, 1)}, l.f32),
      {y},
      {AffineMap::get(1, 0, {getAffineConstantExpr(0, ctx),
                             getAffineDimExpr(0, ctx)},
                      ctx),
       l.identity(1)},
      {kPar}, [](OpBuilder &, Location, ValueRange a) { return a[0]; });
}

} // namespace

std::pair<Value, Value> mlir::moe::buildRouterTopK(
    OpBuilder &builder, Location loc, Value x, Value gate, int64_t topK,
    kernel::RouterScores selection, kernel::RouterScores weighting,
    bool renormalize, std::optional<double> nullBias, Type idType,
    kernel::CpuMappingAttr mapping) {
  ImplicitLocOpBuilder b(loc, builder);
  LinalgBuilder l(b, mapping);
  Value logits = l.matmulTransposed(x, gate);
  Value select = routerProbabilities(l, logits, toMoe(selection), 1);
  Value weigh = weighting == selection
                    ? select
                    : routerProbabilities(l, logits, toMoe(weighting), 1);
  SmallVector<Value> r = routeTopK(l, select, weigh, topK, idType);
  if (renormalize)
    r[0] = normalizeWeights(l, r[0], nullBias);
  return {r[0], r[1]};
}

namespace {

using Lowered = FailureOr<SmallVector<Value>>;

/// A single-result lowering's value; null is a failure.
Lowered one(Value v) {
  if (!v)
    return failure();
  return SmallVector<Value>{v};
}

/// One op's reference lowering as a conversion pattern, at benefit 1 so
/// that a faster pattern for the same op wins where both are added.
template <typename OpTy>
class ReferencePattern : public OpConversionPattern<OpTy> {
public:
  using Fn = Lowered (*)(LinalgBuilder &, OpTy, const ReferenceOptions &);
  ReferencePattern(MLIRContext *context, Fn fn, kernel::CpuMappingAttr kernels,
                   const ReferenceOptions &options)
      : OpConversionPattern<OpTy>(context, /*benefit=*/1), fn(fn),
        kernels(kernels), options(options) {}

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    LinalgBuilder l(b, kernels);
    Lowered replacement = fn(l, op, options);
    if (failed(replacement))
      return failure();
    rewriter.replaceOp(op, *replacement);
    return success();
  }

private:
  Fn fn;
  kernel::CpuMappingAttr kernels;
  ReferenceOptions options;
};

struct MoeToLinalgPass : public moe::impl::MoeToLinalgBase<MoeToLinalgPass> {
  using MoeToLinalgBase::MoeToLinalgBase;

  void runOnOperation() override {
    if (vectorWidth < 1 || accumulators < 1) {
      getOperation().emitError("moe-to-linalg: vector-width and accumulators "
                               "must be positive");
      return signalPassFailure();
    }
    if (bf16Dot && vectorWidth != 16) {
      getOperation().emitError("moe-to-linalg: bf16-dot needs vector-width "
                               "16 (AVX-512)");
      return signalPassFailure();
    }
    // The reference lowering's products run as the CPU kernels, mapped by
    // the pass's options (and the default tasks of a sparse product and
    // register block).
    auto [rowTile, tokenTile] = kernel::defaultCpuTile(vectorWidth);
    auto kernels =
        kernel::CpuMappingAttr::get(&getContext(), vectorWidth, accumulators,
                                    /*tasks=*/16, bf16Dot, rowTile, tokenTile,
                                    int8Dot);
    // Every moe op but the weights (which moe-materialize-weights owns)
    // must lower: one that no pattern lowers is an error naming it.
    ConversionTarget target(getContext());
    target.addIllegalDialect<MoeDialect>();
    // Quantized weights stay until the ops that read them have read their
    // blocks (QuantizedReads.h).
    target.addLegalOp<WeightOp, DequantizeOp>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    RewritePatternSet patterns(&getContext());
    populateMoeToLinalgPatterns(patterns, kernels,
                                {attendWholeCache, groupExperts});
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      return signalPassFailure();
    lowerDequantizations();
  }

  /// The slices of quantized weights that only the replaced ops read go;
  /// a dequantization still read becomes a loop writing every value.
  void lowerDequantizations() {
    SmallVector<DequantizeOp> ops;
    getOperation().walk([&](DequantizeOp op) { ops.push_back(op); });
    for (DequantizeOp op : ops) {
      eraseDeadSlices(op.getResult());
      if (op->use_empty()) {
        op->erase();
        continue;
      }
      OpBuilder b(op);
      op.replaceAllUsesWith(
          buildDequantize(b, op.getLoc(), op.getBlocks(), op.getType()));
      op->erase();
    }
  }

  static void eraseDeadSlices(Value v) {
    for (Operation *user : llvm::make_early_inc_range(v.getUsers())) {
      auto slice = dyn_cast<tensor::ExtractSliceOp>(user);
      if (!slice)
        continue;
      eraseDeadSlices(slice.getResult());
      if (slice->use_empty())
        slice->erase();
    }
  }
};

} // namespace

void mlir::moe::populateMoeToLinalgPatterns(RewritePatternSet &patterns,
                                            kernel::CpuMappingAttr kernels,
                                            const ReferenceOptions &options) {
  MLIRContext *context = patterns.getContext();
  auto add = [&](auto fn) {
    using OpTy = typename llvm::function_traits<decltype(fn)>::template arg_t<1>;
    patterns.add<ReferencePattern<OpTy>>(context, fn, kernels, options);
  };
  add(+[](LinalgBuilder &l, EmbeddingOp o, const ReferenceOptions &) {
    return one(lowerEmbedding(l, o));
  });
  add(+[](LinalgBuilder &l, RmsNormOp o, const ReferenceOptions &) {
    return one(lowerRmsNorm(l, o));
  });
  add(+[](LinalgBuilder &l, LayerNormOp o, const ReferenceOptions &) {
    return one(buildLayerNorm(l.b, l.b.getLoc(), o.getInput(), o.getWeight(),
                              o.getBias(), o.getEps().convertToDouble()));
  });
  add(+[](LinalgBuilder &l, RopeOp o, const ReferenceOptions &) {
    return one(lowerRope(l, o));
  });
  add(+[](LinalgBuilder &l, LinearOp o, const ReferenceOptions &) {
    return one(lowerLinear(l, o));
  });
  add(+[](LinalgBuilder &l, AttentionOp o,
          const ReferenceOptions &options) -> Lowered {
    return lowerAttention(l, o, options.wholeCache);
  });
  add(+[](LinalgBuilder &l, RouterOp o, const ReferenceOptions &) {
    return lowerRouter(l, o);
  });
  add(+[](LinalgBuilder &l, ExpertFfnOp o, const ReferenceOptions &options) {
    return one(lowerExpertFfn(l, o, options.groupExperts));
  });
  add(+[](LinalgBuilder &l, DReluOp o, const ReferenceOptions &) {
    return one(lowerDRelu(l, o));
  });
  add(+[](LinalgBuilder &l, FusedDReluOp o,
          const ReferenceOptions &) -> Lowered {
    return lowerFusedDRelu(l, o);
  });
  add(+[](LinalgBuilder &l, SparseMatvecOp o, const ReferenceOptions &) {
    return one(lowerSparseMatvec(l, o));
  });
  add(+[](LinalgBuilder &l, LmHeadOp o, const ReferenceOptions &) {
    return one(lowerLmHead(l, o));
  });
  add(+[](LinalgBuilder &l, ScoreHeadOp o, const ReferenceOptions &) {
    return one(lowerScoreHead(l, o));
  });
}
