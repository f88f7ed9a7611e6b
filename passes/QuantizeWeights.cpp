//===- QuantizeWeights.cpp - the weights the artifact stores in blocks ---===//
//
// A weight's kind is what reads it: the pass follows its uses through
// slices to the ops that consume it, and quantizes it when every consumer
// is a product of a kind not kept.
//
//===----------------------------------------------------------------------===//

#include "dialects/moe/IR/MoeOps.h"
#include "passes/Passes.h"

#include "llvm/ADT/StringSwitch.h"

#include <set>

namespace mlir::moe {
#define GEN_PASS_DEF_QUANTIZEWEIGHTS
#include "passes/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

enum class Kind { Stored, LmHead, Attention, Predictors, Experts };

/// The kind of weight `use` makes its value: Stored where only the stored
/// type will do (the embedding, the router, norms, anything else).
Kind kindOfUse(OpOperand &use, WeightOp weight) {
  Operation *user = use.getOwner();
  if (isa<LmHeadOp>(user))
    return Kind::LmHead;
  if (isa<FusedDReluOp, SparseMatvecOp>(user))
    return Kind::Experts;
  if (auto ffn = dyn_cast<ExpertFfnOp>(user)) {
    Value v = use.get();
    return v == ffn.getPredictorFc1() || v == ffn.getPredictorFc2()
               ? Kind::Predictors
               : Kind::Experts;
  }
  if (isa<LinearOp>(user)) {
    bool predictor = llvm::any_of(
        weight.getParts().getAsRange<WeightRefAttr>(),
        [](WeightRefAttr p) { return p.getTensor().contains(".predictor."); });
    return predictor ? Kind::Predictors : Kind::Attention;
  }
  return Kind::Stored;
}

/// The kind of `weight`: the one kind all its consumers (seen through
/// tensor slices) agree on, else Stored.
Kind kindOf(WeightOp weight) {
  std::optional<Kind> kind;
  SmallVector<Value> values = {weight.getResult()};
  while (!values.empty()) {
    Value v = values.pop_back_val();
    for (OpOperand &use : v.getUses()) {
      if (auto slice = dyn_cast<tensor::ExtractSliceOp>(use.getOwner())) {
        values.push_back(slice.getResult());
        continue;
      }
      Kind k = kindOfUse(use, weight);
      if (kind && *kind != k)
        return Kind::Stored;
      kind = k;
    }
  }
  return kind.value_or(Kind::Stored);
}

struct QuantizeWeightsPass
    : public moe::impl::QuantizeWeightsBase<QuantizeWeightsPass> {
  using QuantizeWeightsBase::QuantizeWeightsBase;

  void runOnOperation() override {
    auto *context = &getContext();
    std::optional<BlockFormat> format = symbolizeBlockFormat(weights);
    Type element = llvm::StringSwitch<Type>(weights)
                       .Case("bf16", BFloat16Type::get(context))
                       .Case("f16", Float16Type::get(context))
                       .Case("f32", Float32Type::get(context))
                       .Default(format ? Float32Type::get(context) : Type());
    if (!element) {
      getOperation().emitError() << "moe-quantize-weights: unknown storage '"
                                 << weights
                                 << "' (q8_0, q4_0, bf16, f16 or f32)";
      return signalPassFailure();
    }
    std::set<Kind> kept;
    for (const std::string &name : keep) {
      std::optional<Kind> k = llvm::StringSwitch<std::optional<Kind>>(name)
                                  .Case("lm_head", Kind::LmHead)
                                  .Case("attention", Kind::Attention)
                                  .Case("predictors", Kind::Predictors)
                                  .Case("experts", Kind::Experts)
                                  // Always kept: naming them changes nothing.
                                  .Cases({"router", "embed", "norms"},
                                         Kind::Stored)
                                  .Default(std::nullopt);
      if (!k) {
        getOperation().emitError()
            << "moe-quantize-weights: unknown kind of weight '" << name
            << "' to keep (lm_head, attention, predictors, experts; "
               "router, embed and norms are always kept)";
        return signalPassFailure();
      }
      kept.insert(*k);
    }
    WalkResult result = getOperation().walk([&](WeightOp op) {
      Kind kind = kindOf(op);
      if (kind == Kind::Stored || kept.count(kind) || op.getFormat())
        return WalkResult::advance();
      RankedTensorType type = op.getType();
      if (type.getRank() < 2)
        return WalkResult::advance();
      if (format && type.getShape().back() % kBlockValues != 0) {
        op.emitError() << "cannot store weight '"
                       << cast<WeightRefAttr>(op.getParts()[0]).getTensor()
                       << "' as " << weights << ": its rows of "
                       << type.getShape().back()
                       << " values are not whole blocks of " << kBlockValues
                       << " (keep its kind with --keep-precision)";
        return WalkResult::interrupt();
      }
      if (format) {
        BlockLayout layout =
            interleave && !op.getTransposed() &&
                    interleavable(type.getShape().back())
                ? BlockLayout::Interleaved
                : BlockLayout::Grouped;
        op.setFormatAttr(BlockFormatAttr::get(context, *format, layout));
      }
      op.getResult().setType(type.clone(element));
      // Slices of it change type with it.
      SmallVector<Value> values = {op.getResult()};
      while (!values.empty()) {
        Value v = values.pop_back_val();
        for (Operation *user : v.getUsers())
          if (auto slice = dyn_cast<tensor::ExtractSliceOp>(user)) {
            slice.getResult().setType(slice.getType().clone(element));
            values.push_back(slice.getResult());
          }
      }
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
