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

namespace mlir::moe {
#define GEN_PASS_DEF_COUNTACTIVITY
#include "passes/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;
using namespace moec;

namespace {

/// Bytes of a statically shaped tensor.
int64_t bytesOf(Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  return type.getNumElements() * type.getElementTypeBitWidth() / 8;
}

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

/// Bytes of the weight operands `op` reads whole.
int64_t wholeWeightBytes(Operation *op) {
  int64_t bytes = 0;
  for (Value operand : op->getOperands())
    if (weightOf(operand))
      bytes += bytesOf(operand);
  return bytes;
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
  int64_t perExpert =
      (bytesOf(op.getGate()) + bytesOf(op.getUp()) + bytesOf(op.getDown())) /
      op.getNumExperts();
  int64_t whole = wholeWeightBytes(op);
  int64_t wholeElements = matrixElements(op);
  Value tokens = c.tokens(loc, op.getInput());
  if (!op.getExpertIds()) {
    c.add(loc, row, kWeightBytes, whole);
    c.add(loc, row, kMultiplyAdds, c.times(loc, tokens, wholeElements));
    return;
  }
  int64_t topK =
      cast<RankedTensorType>(op.getExpertIds().getType()).getDimSize(1);
  int64_t expertElements = (elementsOf(op.getGate()) + elementsOf(op.getUp()) +
                            elementsOf(op.getDown())) /
                           op.getNumExperts();
  whole -= perExpert * op.getNumExperts();
  wholeElements -= expertElements * op.getNumExperts();
  c.add(loc, row, kWeightBytes, whole);
  c.add(loc, row, kWeightBytes, c.times(loc, tokens, topK * perExpert));
  c.add(loc, row, kMultiplyAdds,
        c.times(loc, tokens, wholeElements + topK * expertElements));
}

void countFusedDRelu(Counters &c, FusedDReluOp op, Value row) {
  Location loc = op.getLoc();
  auto gate = cast<RankedTensorType>(op.getGate().getType());
  int64_t rowBytes = bytesOf(op.getGate()) / gate.getDimSize(0);
  c.add(loc, row, kWeightBytes, bytesOf(op.getGate()));
  c.add(loc, row, kWeightBytes, c.times(loc, op.getGatePositive(), rowBytes));
  c.add(loc, row, kMultiplyAdds, elementsOf(op.getGate()));
  c.add(loc, row, kMultiplyAdds,
        c.times(loc, op.getGatePositive(), gate.getDimSize(1)));
  c.add(loc, row, kNeurons, gate.getDimSize(0));
  c.add(loc, row, kGatePositive, op.getGatePositive());
  c.add(loc, row, kActiveNeurons, op.getCount());
}

/// The weight's entries of the active input neurons only.
void countSparseMatvec(Counters &c, SparseMatvecOp op, Value row) {
  auto weight = cast<RankedTensorType>(op.getWeight().getType());
  int64_t perNeuron =
      bytesOf(op.getWeight()) / weight.getDimSize(op.getNeuronMajor() ? 0 : 1);
  c.add(op.getLoc(), row, kWeightBytes,
        c.times(op.getLoc(), op.getCount(), perNeuron));
  c.add(op.getLoc(), row, kMultiplyAdds,
        c.times(op.getLoc(), op.getCount(),
                elementsOf(op.getWeight()) /
                    weight.getDimSize(op.getNeuronMajor() ? 0 : 1)));
}

struct CountActivityPass
    : public moe::impl::CountActivityBase<CountActivityPass> {
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
        c.add(opLoc, row, kWeightBytes,
              c.times(opLoc, c.rows(opLoc, embedding.getIds()),
                      bytesOf(embedding.getTable()) / table.getDimSize(0)));
      } else if (auto attention = dyn_cast<AttentionOp>(op)) {
        countAttention(c, attention, row, b);
      } else if (auto ffn = dyn_cast<ExpertFfnOp>(op)) {
        countExpertFfn(c, ffn, row);
      } else if (auto fused = dyn_cast<FusedDReluOp>(op)) {
        countFusedDRelu(c, fused, row);
      } else if (auto sparse = dyn_cast<SparseMatvecOp>(op)) {
        countSparseMatvec(c, sparse, row);
      } else {
        c.add(opLoc, row, kWeightBytes, wholeWeightBytes(op));
        if (int64_t elements = matrixElements(op))
          c.add(opLoc, row, kMultiplyAdds,
                c.times(opLoc, c.tokens(opLoc, op->getOperand(0)), elements));
      }
    }
  }
};

} // namespace
