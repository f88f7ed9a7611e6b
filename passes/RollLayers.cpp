//===- RollLayers.cpp - identical decoder layers as one loop --------------===//
//
// A decoder emitted layer by layer repeats the same ops L times with other
// weights. This pass finds the layers (the ops the importer located at
// "model.layers.N"), checks that each is the same computation as layer 0
// up to its weights and the static offsets of its KV-cache slices (which
// must be affine in the layer index), and replaces them by one scf.for
// over the layers: each weight becomes one moe.weight stacking the layers'
// parts, sliced at the loop index; the values a layer passes to the next
// (the hidden state, the cache) are the loop's iteration arguments. Code
// size and compile time then no longer grow with the depth, as IREE's
// deduplicated dispatches. A function whose layers differ is left alone.
//
//===----------------------------------------------------------------------===//

#include "dialects/moe/IR/MoeOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::moe {
#define GEN_PASS_DEF_ROLLLAYERS
#include "passes/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

/// Where a value is made: the op's index in its layer's group (top-level
/// ops only) and the result number.
struct Producer {
  int64_t op, result;
  bool operator==(const Producer &o) const {
    return op == o.op && result == o.result;
  }
};

/// What layer l >= 1 reads where layer 0 reads `init`: the value that layer
/// l - 1 made at `from`.
struct Carry {
  Producer from;
  Value init;
};

/// A slice of the cache whose static offsets move with the layer:
/// offset[d] = base[d] + l * step[d].
struct MovingSlice {
  SmallVector<int64_t> base, step;
};

class Roller {
public:
  Roller(func::FuncOp func) : func(func) {}

  /// Rolls the layers of `func`; false (and nothing changed) when they are
  /// not identical or not contiguous.
  bool run();

private:
  bool collectGroups();
  bool compareLayer(int64_t l);
  bool compare(Operation *a, Operation *b, int64_t l);
  bool compareOperand(OpOperand &a, Value vb, int64_t l);
  void build();

  func::FuncOp func;
  /// Top-level ops of each layer, in order.
  SmallVector<SmallVector<Operation *>> groups;
  DenseMap<Operation *, std::pair<int64_t, int64_t>> position; // op -> (layer, index)
  /// Layer l's values -> layer 0's, for the layer being compared.
  IRMapping toLayer0;
  /// Uses in layer 0 (including nested ops) that read a carried value.
  DenseMap<OpOperand *, int64_t> carriedUses;
  SmallVector<Carry> carries;
  DenseMap<Operation *, SmallVector<WeightOp>> weights; // layer-0 op -> per layer
  DenseMap<Operation *, MovingSlice> slices;             // layer-0 op -> offsets
};

bool Roller::collectGroups() {
  Block &body = func.getBody().front();
  int64_t current = -1;
  bool after = false;
  for (Operation &op : body) {
    std::optional<int64_t> layer = layerOfLocation(op.getLoc());
    if (!layer) {
      if (current >= 0)
        after = true;
      continue;
    }
    // Layers in order, contiguous, nothing outside a layer between them.
    if (after || *layer < current || *layer > current + 1)
      return false;
    if (*layer == current + 1) {
      current = *layer;
      groups.emplace_back();
    }
    position[&op] = {current, int64_t(groups.back().size())};
    groups.back().push_back(&op);
  }
  return groups.size() >= 2;
}

/// The layer and index of the top-level op of a layer that defines `v`.
std::optional<std::pair<int64_t, int64_t>>
producerOf(Value v, const DenseMap<Operation *, std::pair<int64_t, int64_t>> &position,
           int64_t &result) {
  Operation *def = v.getDefiningOp();
  if (!def)
    return std::nullopt;
  auto it = position.find(def);
  if (it == position.end())
    return std::nullopt;
  result = cast<OpResult>(v).getResultNumber();
  return it->second;
}

bool Roller::compareOperand(OpOperand &a, Value vb, int64_t l) {
  Value va = a.get();
  if (toLayer0.contains(vb))
    return toLayer0.lookup(vb) == va;
  int64_t rb = 0, ra = 0;
  auto fromB = producerOf(vb, position, rb);
  auto fromA = producerOf(va, position, ra);
  if (!fromB)
    // Made before the layers (or a block argument above them): the same
    // value in every layer.
    return !fromA && va == vb;
  // Layer l reads what layer l - 1 made; layer 0 reads a value made before
  // the layers.
  if (fromB->first != l - 1 || fromA)
    return false;
  Producer from{fromB->second, rb};
  for (auto [i, carry] : llvm::enumerate(carries)) {
    if (!(carry.from == from))
      continue;
    if (carry.init != va)
      return false;
    auto [it, inserted] = carriedUses.try_emplace(&a, int64_t(i));
    return inserted || it->second == int64_t(i);
  }
  if (l != 1)
    return false; // every carry shows up between layers 0 and 1
  carries.push_back({from, va});
  carriedUses[&a] = int64_t(carries.size() - 1);
  return true;
}

bool Roller::compare(Operation *a, Operation *b, int64_t l) {
  if (a->getName() != b->getName() || a->getNumOperands() != b->getNumOperands() ||
      a->getNumRegions() != b->getNumRegions() ||
      a->getResultTypes() != b->getResultTypes())
    return false;
  bool sameAttrs =
      a->getPropertiesAsAttribute() == b->getPropertiesAsAttribute() &&
      a->getDiscardableAttrDictionary() == b->getDiscardableAttrDictionary();
  if (auto wa = dyn_cast<WeightOp>(a)) {
    // Another layer's weight: stacked with layer 0's.
    auto wb = cast<WeightOp>(b);
    if (wa.getTransposed() != wb.getTransposed() ||
        wa.getParts().size() != wb.getParts().size() ||
        a->getDiscardableAttrDictionary() != b->getDiscardableAttrDictionary())
      return false;
    weights[a].push_back(wb);
  } else if (!sameAttrs) {
    // A slice of the cache at this layer's offsets.
    auto offsetsOf = [](Operation *op) -> std::optional<ArrayRef<int64_t>> {
      if (auto s = dyn_cast<tensor::ExtractSliceOp>(op))
        return s.getStaticOffsets();
      if (auto s = dyn_cast<tensor::InsertSliceOp>(op))
        return s.getStaticOffsets();
      return std::nullopt;
    };
    auto oa = offsetsOf(a), ob = offsetsOf(b);
    if (!oa || !ob ||
        a->getDiscardableAttrDictionary() != b->getDiscardableAttrDictionary() ||
        llvm::is_contained(*oa, ShapedType::kDynamic) ||
        llvm::is_contained(*ob, ShapedType::kDynamic))
      return false;
    auto sizes = [](Operation *op) {
      if (auto s = dyn_cast<tensor::ExtractSliceOp>(op))
        return std::pair{s.getStaticSizes(), s.getStaticStrides()};
      auto s = cast<tensor::InsertSliceOp>(op);
      return std::pair{s.getStaticSizes(), s.getStaticStrides()};
    };
    if (sizes(a) != sizes(b))
      return false;
    MovingSlice &moving = slices[a];
    if (l == 1) {
      moving.base.assign(oa->begin(), oa->end());
      for (auto [x, y] : llvm::zip(*oa, *ob))
        moving.step.push_back(y - x);
    }
    for (auto [d, y] : llvm::enumerate(*ob))
      if (moving.step.size() != ob->size() ||
          y != moving.base[d] + l * moving.step[d])
        return false;
  }
  for (auto [oa, vb] : llvm::zip(a->getOpOperands(), b->getOperands()))
    if (!compareOperand(oa, vb, l))
      return false;
  for (auto [ra, rb] : llvm::zip(a->getRegions(), b->getRegions())) {
    if (ra.getBlocks().size() != rb.getBlocks().size())
      return false;
    for (auto [ba, bb] : llvm::zip(ra, rb)) {
      if (ba.getArgumentTypes() != bb.getArgumentTypes())
        return false;
      for (auto [xa, xb] : llvm::zip(ba.getArguments(), bb.getArguments()))
        toLayer0.map(xb, xa);
      if (std::distance(ba.begin(), ba.end()) != std::distance(bb.begin(), bb.end()))
        return false;
      for (auto [na, nb] : llvm::zip(ba, bb))
        if (!compare(&na, &nb, l))
          return false;
    }
  }
  for (auto [xa, xb] : llvm::zip(a->getResults(), b->getResults()))
    toLayer0.map(xb, xa);
  return true;
}

bool Roller::compareLayer(int64_t l) {
  if (groups[l].size() != groups[0].size())
    return false;
  toLayer0.clear();
  for (auto [a, b] : llvm::zip(groups[0], groups[l]))
    if (!compare(a, b, l))
      return false;
  return true;
}

void Roller::build() {
  int64_t layers = groups.size();
  Operation *first = groups[0].front();
  OpBuilder b(first);
  Location loc = NameLoc::get(b.getStringAttr("model.layers"));

  // One weight per layer-0 weight, its parts the layers' in order.
  DenseMap<Operation *, WeightOp> stacked;
  for (Operation *op : groups[0]) {
    auto w = dyn_cast<WeightOp>(op);
    if (!w)
      continue;
    SmallVector<Attribute> parts(w.getParts().begin(), w.getParts().end());
    for (WeightOp other : weights[op])
      parts.append(other.getParts().begin(), other.getParts().end());
    auto type = w.getType();
    int64_t partRank = cast<WeightRefAttr>(parts.front()).getShape().size();
    ArrayRef<int64_t> perPart =
        type.getRank() == partRank + 1 ? type.getShape().drop_front()
                                       : type.getShape();
    SmallVector<int64_t> shape = {int64_t(parts.size())};
    shape.append(perPart.begin(), perPart.end());
    stacked[op] = WeightOp::create(
        b, w.getLoc(), RankedTensorType::get(shape, type.getElementType()),
        b.getArrayAttr(parts), w.getTransposedAttr(), w.getFormatAttr());
  }

  // Loop-carried values: what each carry's producer makes in the last
  // layer leaves the loop.
  SmallVector<Value> inits;
  for (const Carry &c : carries)
    inits.push_back(c.init);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value count = arith::ConstantIndexOp::create(b, loc, layers);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  auto loop = scf::ForOp::create(b, loc, zero, count, one, inits);
  loop->setAttr(kLayerLoopAttrName, b.getI64IntegerAttr(layers));

  OpBuilder in = OpBuilder::atBlockBegin(loop.getBody());
  Value l = loop.getInductionVar();
  IRMapping map;
  for (Operation *op : groups[0]) {
    if (auto w = dyn_cast<WeightOp>(op)) {
      // This layer's part of the stacked weight.
      WeightOp all = stacked[op];
      auto allType = all.getType();
      int64_t per = allType.getDimSize(0) / layers;
      bool keepsRank = w.getType().getRank() == allType.getRank();
      SmallVector<OpFoldResult> offsets(allType.getRank(), in.getIndexAttr(0));
      offsets[0] = arith::MulIOp::create(in, loc, l,
                                         arith::ConstantIndexOp::create(in, loc, per))
                       .getResult();
      SmallVector<OpFoldResult> sizes, strides(allType.getRank(),
                                              in.getIndexAttr(1));
      sizes.push_back(in.getIndexAttr(per));
      for (int64_t d : allType.getShape().drop_front())
        sizes.push_back(in.getIndexAttr(d));
      Value slice =
          keepsRank
              ? tensor::ExtractSliceOp::create(in, loc, all, offsets, sizes,
                                               strides)
                    .getResult()
              : tensor::ExtractSliceOp::create(in, loc, w.getType(), all,
                                               offsets, sizes, strides)
                    .getResult();
      map.map(w.getResult(), slice);
      continue;
    }
    Operation *clone = in.clone(*op, map);
    // Carried operands read the iteration arguments.
    SmallVector<Operation *> original, copied;
    op->walk([&](Operation *o) { original.push_back(o); });
    clone->walk([&](Operation *o) { copied.push_back(o); });
    for (auto [o, c] : llvm::zip(original, copied)) {
      c->setLoc(loc);
      for (auto [oo, co] : llvm::zip(o->getOpOperands(), c->getOpOperands())) {
        auto it = carriedUses.find(&oo);
        if (it != carriedUses.end())
          co.set(loop.getRegionIterArgs()[it->second]);
      }
    }
    // Slices of the cache at this layer's offsets.
    auto it = slices.find(op);
    if (it != slices.end()) {
      OpBuilder sb(clone);
      SmallVector<OpFoldResult> offsets;
      for (auto [base, step] : llvm::zip(it->second.base, it->second.step)) {
        if (!step) {
          offsets.push_back(sb.getIndexAttr(base));
          continue;
        }
        Value v = arith::AddIOp::create(
            sb, loc, arith::ConstantIndexOp::create(sb, loc, base),
            arith::MulIOp::create(sb, loc, l,
                                  arith::ConstantIndexOp::create(sb, loc, step)));
        offsets.push_back(v);
      }
      Operation *moved;
      if (auto extract = dyn_cast<tensor::ExtractSliceOp>(clone)) {
        moved = tensor::ExtractSliceOp::create(
            sb, loc, extract.getType(), extract.getSource(), offsets,
            extract.getMixedSizes(), extract.getMixedStrides());
      } else {
        auto insert = cast<tensor::InsertSliceOp>(clone);
        moved = tensor::InsertSliceOp::create(
            sb, loc, insert.getSource(), insert.getDest(), offsets,
            insert.getMixedSizes(), insert.getMixedStrides());
      }
      clone->replaceAllUsesWith(moved);
      for (auto [from, to] : llvm::zip(op->getResults(), moved->getResults()))
        map.map(from, to);
      clone->erase();
    }
  }
  SmallVector<Value> yielded;
  for (const Carry &c : carries)
    yielded.push_back(map.lookup(groups[0][c.from.op]->getResult(c.from.result)));
  scf::YieldOp::create(in, loc, yielded);

  // After the loop, the last layer's carried values are the loop's results.
  for (auto [i, c] : llvm::enumerate(carries))
    groups.back()[c.from.op]->getResult(c.from.result).replaceAllUsesWith(
        loop.getResult(i));
  for (auto &group : llvm::reverse(groups))
    for (Operation *op : llvm::reverse(group)) {
      op->dropAllUses();
      op->erase();
    }
}

bool Roller::run() {
  if (!collectGroups())
    return false;
  for (int64_t l = 1; l < int64_t(groups.size()); ++l)
    if (!compareLayer(l))
      return false;
  // Only carried values may leave the last layer; nothing else a layer
  // makes may be read outside its own and the next one.
  for (auto [l, group] : llvm::enumerate(groups))
    for (auto [index, op] : llvm::enumerate(group))
      for (OpResult r : op->getResults())
        for (Operation *user : r.getUsers()) {
          Operation *top = user;
          while (top->getParentOp() != func)
            top = top->getParentOp();
          auto it = position.find(top);
          int64_t userLayer = it == position.end() ? -1 : it->second.first;
          if (userLayer == int64_t(l))
            continue;
          Producer p{int64_t(index), int64_t(r.getResultNumber())};
          bool carried = llvm::any_of(
              carries, [&](const Carry &c) { return c.from == p; });
          bool next = userLayer == int64_t(l) + 1;
          bool out = userLayer == -1 && l + 1 == groups.size();
          if (!carried || !(next || out))
            return false;
        }
  build();
  return true;
}

struct RollLayersPass : public moe::impl::RollLayersBase<RollLayersPass> {
  void runOnOperation() override {
    Roller roller(getOperation());
    roller.run();
  }
};

} // namespace
