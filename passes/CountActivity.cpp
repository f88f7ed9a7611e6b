//===- CountActivity.cpp - counters of what each forward call reads -------===//
//
// The code adds, after every op that streams weights or the KV cache, the
// bytes that op read in this call, and the multiply-adds it did, to a
// global the runtime can read. Static
// sizes come from the types; what depends on the run (the experts chosen,
// the active neurons, the cache length) from the op's own operands and
// results, so a benchmark reports what was read, not what might have been.
//
//===----------------------------------------------------------------------===//

#include "dialects/moe/IR/MoeOps.h"
#include "passes/Passes.h"
#include "runtime/format/Activity.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::moe {
#define GEN_PASS_DEF_COUNTACTIVITY
#include "passes/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;
using namespace moec;

namespace {

/// Elements of a statically shaped tensor.
int64_t elementsOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getNumElements();
}

/// The checkpoint weight `v` is (or is a slice of), if any.
WeightOp weightOf(Value v) {
  while (auto slice = v.getDefiningOp<tensor::ExtractSliceOp>())
    v = slice.getSource();
  return v.getDefiningOp<WeightOp>();
}

/// Bytes of `v` as stored: a quantized weight's (or slice's) blocks.
int64_t bytesOf(Value v) {
  WeightOp weight = weightOf(v);
  return storedBytes(cast<ShapedType>(v.getType()),
                     weight ? weight.getBlockFormat() : std::nullopt);
}

/// The loop over the decoder layers that `op` is in, if any.
scf::ForOp layerLoop(Operation *op) {
  for (auto loop = op->getParentOfType<scf::ForOp>(); loop;
       loop = loop->getParentOfType<scf::ForOp>())
    if (loop->hasAttr(kLayerLoopAttrName))
      return loop;
  return nullptr;
}

int64_t layerCount(scf::ForOp loop) {
  return cast<IntegerAttr>(loop->getAttr(kLayerLoopAttrName)).getInt();
}

/// Emits `counters[row, column] += amount` after the op the builder is set
/// after.
class Counters {
public:
  Counters(OpBuilder &b, memref::GlobalOp global) : b(b), global(global) {}

  void add(Location loc, Value row, ActivityColumn column, Value amount) {
    Value all = memref::GetGlobalOp::create(b, loc, global.getType(),
                                            global.getSymName());
    SmallVector<Value> at = {
        row, arith::ConstantIndexOp::create(b, loc, int64_t(column))};
    Value old = memref::LoadOp::create(b, loc, all, at);
    memref::StoreOp::create(
        b, loc, arith::AddIOp::create(b, loc, old, toI64(loc, amount)), all,
        at);
  }
  void add(Location loc, Value row, ActivityColumn column, int64_t amount) {
    if (amount)
      add(loc, row, column,
          arith::ConstantIntOp::create(b, loc, b.getI64Type(), amount));
  }

  /// amount * scale, as i64.
  Value times(Location loc, Value amount, int64_t scale) {
    return arith::MulIOp::create(
        b, loc, toI64(loc, amount),
        arith::ConstantIntOp::create(b, loc, b.getI64Type(), scale));
  }
  /// The number of rows (dimension 0) of `tensor`, as i64.
  Value rows(Location loc, Value tensor) {
    return toI64(loc, tensor::DimOp::create(b, loc, tensor, 0));
  }
  /// The tokens of an activation: its rows, or one for a vector.
  Value tokens(Location loc, Value activation) {
    if (cast<RankedTensorType>(activation.getType()).getRank() == 1)
      return arith::ConstantIntOp::create(b, loc, b.getI64Type(), 1);
    return rows(loc, activation);
  }

private:
  Value toI64(Location loc, Value v) {
    if (v.getType().isIndex())
      return arith::IndexCastOp::create(b, loc, b.getI64Type(), v);
    return v;
  }

  OpBuilder &b;
  memref::GlobalOp global;
};

/// The part of the model a checkpoint weight belongs to, from its name
/// (for ops whose kind does not say it).
ActivityColumn partOfWeight(WeightOp weight) {
  StringRef name = cast<WeightRefAttr>(weight.getParts()[0]).getTensor();
  if (name.contains(".predictor."))
    return kPredictorBytes;
  if (name.contains("self_attn."))
    return kAttentionBytes;
  if (name.starts_with("lm_head") || name.starts_with("score."))
    return kHeadBytes;
  if (name.ends_with(".gate.weight"))
    return kRouterBytes;
  if (name.contains("down_proj") || name.contains(".w2."))
    return kDownBytes;
  if (name.contains("up_proj") || name.contains(".w3."))
    return kUpBytes;
  if (name.contains("gate_proj") || name.contains(".w1."))
    return kGateBytes;
  return kOtherBytes;
}

/// Adds the bytes of the weight operands `op` reads whole, each to its
/// part; `part` (when given) for all of them.
void countWholeWeights(Counters &c, Operation *op, Value row,
                       std::optional<ActivityColumn> part = std::nullopt) {
  for (Value operand : op->getOperands())
    if (WeightOp weight = weightOf(operand))
      c.add(op->getLoc(), row, part.value_or(partOfWeight(weight)),
            bytesOf(operand));
}

/// Elements of the weight matrices (not the vectors: norms, biases) `op`
/// multiplies each token with.
int64_t matrixElements(Operation *op) {
  int64_t elements = 0;
  for (Value operand : op->getOperands())
    if (weightOf(operand) &&
        cast<RankedTensorType>(operand.getType()).getRank() >= 2)
      elements += elementsOf(operand);
  return elements;
}

/// The cache bytes attention reads: keys and values up to the last query's
/// position (within the window, if any).
void countAttention(Counters &c, AttentionOp op, Value row, OpBuilder &b) {
  Location loc = op.getLoc();
  auto cacheType = cast<RankedTensorType>(op.getKvCache().getType());
  int64_t perPosition = 2 * cacheType.getDimSize(2) * cacheType.getDimSize(3) *
                        cacheType.getElementTypeBitWidth() / 8;
  Value positions = op.getPositions();
  Value last =
      arith::SubIOp::create(b, loc, tensor::DimOp::create(b, loc, positions, 0),
                            arith::ConstantIndexOp::create(b, loc, 1));
  Value position = tensor::ExtractOp::create(b, loc, positions, last);
  // The live rows 0 .. last.
  Value live = arith::AddIOp::create(
      b, loc, arith::ExtSIOp::create(b, loc, b.getI64Type(), position),
      arith::ConstantIntOp::create(b, loc, b.getI64Type(), 1));
  Value length = live;
  if (std::optional<uint64_t> window = op.getSlidingWindow())
    length = arith::MinSIOp::create(
        b, loc, live,
        arith::ConstantIntOp::create(b, loc, b.getI64Type(), *window));
  c.add(loc, row, kCacheBytes, c.times(loc, length, perPosition));
  // The kernel computes each query's scores and sum over all the live
  // rows, masked or not.
  int64_t perRow = 2 * op.getNumHeads() * op.getHeadDim();
  c.add(loc, row, kMultiplyAdds,
        arith::MulIOp::create(b, loc, c.tokens(loc, op.getQ()),
                              c.times(loc, live, perRow)));
}

/// Routed experts: one expert's weights per (token, expert); shared
/// experts, the predictor and a dense block: whole.
void countExpertFfn(Counters &c, ExpertFfnOp op, Value row) {
  Location loc = op.getLoc();
  Value tokens = c.tokens(loc, op.getInput());
  std::pair<Value, ActivityColumn> parts[] = {
      {op.getGate(), kGateBytes},
      {op.getUp(), kUpBytes},
      {op.getDown(), kDownBytes},
      {op.getSharedGate(), kGateBytes},
      {op.getSharedUp(), kUpBytes},
      {op.getSharedDown(), kDownBytes},
      {op.getPredictorFc1(), kPredictorBytes},
      {op.getPredictorFc2(), kPredictorBytes}};
  int64_t topK =
      op.getExpertIds()
          ? cast<RankedTensorType>(op.getExpertIds().getType()).getDimSize(1)
          : 0;
  int64_t elements = 0;
  for (auto [index, part] : llvm::enumerate(parts)) {
    auto [weight, column] = part;
    if (!weight)
      continue;
    // The routed experts' weights count per (token, expert) chosen.
    if (index < 3 && topK) {
      int64_t perExpert = bytesOf(weight) / op.getNumExperts();
      c.add(loc, row, column, c.times(loc, tokens, topK * perExpert));
      elements += topK * elementsOf(weight) / op.getNumExperts();
      continue;
    }
    c.add(loc, row, column, bytesOf(weight));
    elements += elementsOf(weight);
  }
  c.add(loc, row, kMultiplyAdds, c.times(loc, tokens, elements));
}

/// How many of `logits` [n] are at least `threshold`.
Value countAtLeast(OpBuilder &b, Location loc, Value logits,
                   FloatAttr threshold) {
  int64_t n = cast<RankedTensorType>(logits.getType()).getDimSize(0);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value t = arith::ConstantOp::create(b, loc, threshold);
  auto loop = scf::ForOp::create(
      b, loc, zero, arith::ConstantIndexOp::create(b, loc, n), one,
      ValueRange{zero},
      [&](OpBuilder &lb, Location l, Value i, ValueRange acc) {
        Value v = tensor::ExtractOp::create(lb, l, logits, ValueRange{i});
        Value at =
            arith::CmpFOp::create(lb, l, arith::CmpFPredicate::OGE, v, t);
        Value step = arith::SelectOp::create(
            lb, l, at, arith::ConstantIndexOp::create(lb, l, 1),
            arith::ConstantIndexOp::create(lb, l, 0));
        scf::YieldOp::create(
            lb, l, ValueRange{arith::AddIOp::create(lb, l, acc[0], step)});
      });
  return loop.getResult(0);
}

/// The gate rows computed (all, or the predicted neurons'), the up rows of
/// positive gates and the neuron counts; with `exactSets`, a predicted
/// block's exact active set too, computed by an exact copy of the op.
void countFusedDRelu(Counters &c, FusedDReluOp op, Value row, OpBuilder &b,
                     bool exactSets) {
  Location loc = op.getLoc();
  auto gate = cast<RankedTensorType>(op.getGate().getType());
  int64_t neurons = gate.getDimSize(0), size = gate.getDimSize(1);
  int64_t rowBytes = bytesOf(op.getGate()) / neurons;
  if (Value predicted = op.getPredicted()) {
    Value computed = countAtLeast(b, loc, predicted, op.getThresholdAttr());
    c.add(loc, row, kGateBytes, c.times(loc, computed, rowBytes));
    c.add(loc, row, kMultiplyAdds, c.times(loc, computed, size));
    c.add(loc, row, kComputedNeurons, computed);
    if (exactSets) {
      auto exact = cast<FusedDReluOp>(b.clone(*op));
      exact.getPredictedMutable().clear();
      exact.removeThresholdAttr();
      c.add(loc, row, kExactActiveNeurons, exact.getCount());
    }
  } else {
    c.add(loc, row, kGateBytes, bytesOf(op.getGate()));
    c.add(loc, row, kMultiplyAdds, elementsOf(op.getGate()));
    c.add(loc, row, kComputedNeurons, neurons);
  }
  c.add(loc, row, kUpBytes, c.times(loc, op.getGatePositive(), rowBytes));
  c.add(loc, row, kMultiplyAdds, c.times(loc, op.getGatePositive(), size));
  c.add(loc, row, kNeurons, neurons);
  c.add(loc, row, kGatePositive, op.getGatePositive());
  c.add(loc, row, kActiveNeurons, op.getCount());
}

/// The weight's entries of the active input neurons only.
void countSparseMatvec(Counters &c, SparseMatvecOp op, Value row) {
  auto weight = cast<RankedTensorType>(op.getWeight().getType());
  int64_t perNeuron =
      bytesOf(op.getWeight()) / weight.getDimSize(op.getNeuronMajor() ? 0 : 1);
  c.add(op.getLoc(), row, kDownBytes,
        c.times(op.getLoc(), op.getCount(), perNeuron));
  c.add(op.getLoc(), row, kMultiplyAdds,
        c.times(op.getLoc(), op.getCount(),
                elementsOf(op.getWeight()) /
                    weight.getDimSize(op.getNeuronMajor() ? 0 : 1)));
}

struct CountActivityPass
    : public moe::impl::CountActivityBase<CountActivityPass> {
  using CountActivityBase::CountActivityBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Each op's layer, from the location the importer gave it, or the
    // index of the loop that runs the layers (moe-roll-layers).
    struct Counted {
      Operation *op;
      int64_t layer;
      scf::ForOp loop;
    };
    SmallVector<Counted> ops;
    int64_t layers = 0;
    module.walk([&](Operation *op) {
      if (!isa<MoeDialect>(op->getDialect()) || isa<WeightOp>(op))
        return;
      int64_t layer = layerOfLocation(op->getLoc()).value_or(-1);
      scf::ForOp loop = layerLoop(op);
      if (loop)
        layers = std::max(layers, layerCount(loop));
      layers = std::max(layers, layer + 1);
      ops.push_back({op, layer, loop});
    });
    if (ops.empty())
      return;
    int64_t rows = layers + 1;

    OpBuilder b(module.getBodyRegion());
    b.setInsertionPointToStart(module.getBody());
    Location loc = module.getLoc();
    auto i64 = b.getI64Type();
    auto countersType = MemRefType::get({rows, kActivityColumns}, i64);
    auto counters = memref::GlobalOp::create(
        b, loc, kActivitySymbol, /*sym_visibility=*/b.getStringAttr("public"),
        countersType,
        DenseElementsAttr::get(
            RankedTensorType::get(countersType.getShape(), i64),
            b.getI64IntegerAttr(0).getValue()),
        /*constant=*/false, /*alignment=*/b.getI64IntegerAttr(64));
    auto rowsType = MemRefType::get({}, i64);
    memref::GlobalOp::create(
        b, loc, kActivityRowsSymbol, b.getStringAttr("public"), rowsType,
        DenseElementsAttr::get(RankedTensorType::get({}, i64),
                               b.getI64IntegerAttr(rows).getValue()),
        /*constant=*/true, /*alignment=*/IntegerAttr());

    Counters c(b, counters);
    for (auto [op, layer, loop] : ops) {
      b.setInsertionPointAfter(op);
      Location opLoc = op->getLoc();
      Value row = loop ? loop.getInductionVar()
                       : arith::ConstantIndexOp::create(
                             b, opLoc, layer >= 0 ? layer : rows - 1)
                             .getResult();
      if (auto embedding = dyn_cast<EmbeddingOp>(op)) {
        auto table = cast<RankedTensorType>(embedding.getTable().getType());
        c.add(opLoc, row, kOtherBytes,
              c.times(opLoc, c.rows(opLoc, embedding.getIds()),
                      bytesOf(embedding.getTable()) / table.getDimSize(0)));
      } else if (auto attention = dyn_cast<AttentionOp>(op)) {
        countAttention(c, attention, row, b);
      } else if (auto ffn = dyn_cast<ExpertFfnOp>(op)) {
        countExpertFfn(c, ffn, row);
      } else if (auto fused = dyn_cast<FusedDReluOp>(op)) {
        countFusedDRelu(c, fused, row, b, exactActiveSets);
      } else if (auto sparse = dyn_cast<SparseMatvecOp>(op)) {
        countSparseMatvec(c, sparse, row);
      } else {
        std::optional<ActivityColumn> part;
        if (isa<RouterOp>(op))
          part = kRouterBytes;
        else if (isa<LmHeadOp, ScoreHeadOp>(op))
          part = kHeadBytes;
        countWholeWeights(c, op, row, part);
        if (int64_t elements = matrixElements(op))
          c.add(opLoc, row, kMultiplyAdds,
                c.times(opLoc, c.tokens(opLoc, op->getOperand(0)), elements));
      }
    }
  }
};

} // namespace
