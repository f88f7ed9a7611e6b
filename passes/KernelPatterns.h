//===- KernelPatterns.h - conversions into and out of `kernel` --*- C++ -*-===//
//
// moe -> kernel (target-independent), kernel -> CPU (scf.forall and the
// vector dialect, passes/Kernels.h) and kernel -> GPU (gpu.launch,
// passes/GpuKernels.h), as pattern sets for a ConversionTarget.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_PASSES_KERNELPATTERNS_H
#define MOEC_PASSES_KERNELPATTERNS_H

#include "dialects/kernel/IR/KernelOps.h"
#include "passes/Kernels.h"

#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::moe {

/// moe.linear (no bias), moe.lm_head, moe.fused_drelu, moe.sparse_matvec and
/// learned moe.routers of per-token scores to their kernel ops; marks those illegal in
/// `target`.
/// With `gluExperts`, also the GLU family's expert blocks, per token and
/// expert, as kernel.gate_up and kernel.matvec.
void populateMoeToKernelPatterns(RewritePatternSet &patterns,
                                 ConversionTarget &target,
                                 bool gluExperts = true);

/// Every kernel op with a #kernel.cpu mapping to loops on tensors.
void populateKernelToCpuPatterns(RewritePatternSet &patterns);

/// Every kernel op with a #kernel.gpu mapping to gpu.launch kernels (the
/// layer kernels to loops that moe-map-to-gpu maps to threads).
void populateKernelToGpuPatterns(RewritePatternSet &patterns);

/// kernel.rms_norm, kernel.rope, kernel.cache_write and kernel.attention
/// with a #kernel.cpu mapping (or, with `gpu`, #kernel.gpu) to loops on
/// tensors: one lowering for both targets.
void populateLayerKernelPatterns(RewritePatternSet &patterns, bool gpu);

/// How moe-to-linalg lowers what a target can run more than one way.
struct ReferenceOptions {
  /// Attention takes a score per cache row (attend-whole-cache).
  bool wholeCache = false;
  /// Expert blocks run expert by expert over the tokens routed to each
  /// (group-experts), else token by token.
  bool groupExperts = false;
};

/// The reference lowering of every moe compute op (moe-to-linalg) to
/// linalg, tensor, scf and the CPU kernels, at benefit 1: the patterns to
/// test the fast kernels against.
void populateMoeToLinalgPatterns(RewritePatternSet &patterns,
                                 kernel::CpuMappingAttr kernels,
                                 const ReferenceOptions &options);

/// The router of kernel.router_top_k on tensors: logits x gate^T [T, E],
/// probabilities by `selection` in f32, top-k (first index on ties), the
/// weights by `weighting` at the chosen experts, optionally divided by
/// their sum plus `nullBias`. Weights [T, topK] (f32) and ids [T, topK] of
/// `idType`.
std::pair<Value, Value>
buildRouterTopK(OpBuilder &b, Location loc, Value x, Value gate, int64_t topK,
                kernel::RouterScores selection, kernel::RouterScores weighting,
                bool renormalize, std::optional<double> nullBias, Type idType,
                kernel::CpuMappingAttr mapping);

/// A kernel router's null-expert bias, if it has one.
inline std::optional<double> nullExpertBias(kernel::RouterTopKOp op) {
  if (auto bias = op.getNullExpertBiasAttr())
    return bias.getValueAsDouble();
  return std::nullopt;
}

/// A router's score function as the moe dialect names it.
inline RouterNonlinearity toMoe(kernel::RouterScores f) {
  return f == kernel::RouterScores::Sigmoid ? RouterNonlinearity::Sigmoid
                                            : RouterNonlinearity::Softmax;
}

/// A gate/up's activation as the moe dialect names it, and back (the two
/// enums list the same cases in the same order).
static_assert(uint32_t(kernel::GatedActivation::SwiGLU) ==
                  uint32_t(Activation::SwiGLU) &&
              uint32_t(kernel::GatedActivation::ReGLU) ==
                  uint32_t(Activation::ReGLU) &&
              uint32_t(kernel::GatedActivation::GeGLU) ==
                  uint32_t(Activation::GeGLU) &&
              uint32_t(kernel::GatedActivation::DReLU) ==
                  uint32_t(Activation::DReLU));
inline Activation activationOf(kernel::GatedActivation act) {
  return static_cast<Activation>(static_cast<uint32_t>(act));
}
inline kernel::GatedActivation gatedActivationOf(Activation act) {
  return static_cast<kernel::GatedActivation>(static_cast<uint32_t>(act));
}

/// The replacement of a gate/up whose kernel makes the activation only:
/// its active set and gate count as poison, for callers that checked that
/// nothing reads them (or only products that need no list).
inline SmallVector<Value> activationOnly(OpBuilder &b, kernel::GateUpOp op,
                                         Value activation) {
  SmallVector<Value> values = {activation};
  for (Value unread : op->getResults().drop_front())
    values.push_back(
        ub::PoisonOp::create(b, op.getLoc(), unread.getType()).getResult());
  return values;
}

/// Whether only `allowed` ops read the active set and nothing the gate
/// count of `op`.
template <typename... Allowed>
bool activeSetReadOnlyBy(kernel::GateUpOp op) {
  if (!op.getGatePositive().use_empty())
    return false;
  Value activeSet[] = {op.getIndices(), op.getCount()};
  for (Value set : activeSet)
    for (Operation *user : set.getUsers()) {
      if constexpr (sizeof...(Allowed) == 0)
        return false;
      else if (!isa<Allowed...>(user))
        return false;
    }
  return true;
}

/// The lowering of kernel op `OpTy` for one target: the op's mapping, of
/// the target's `Mapping` attribute (a failure to match when the op is not
/// mapped for this target), is what `build` reads to make the replacement
/// values. One skeleton for the CPU and GPU patterns, which differ only in
/// their builders.
template <typename OpTy, typename Mapping>
class MappedKernelPattern : public OpConversionPattern<OpTy> {
public:
  using Build = FailureOr<SmallVector<Value>> (*)(
      OpTy op, typename OpTy::Adaptor adaptor, Mapping mapping,
      ConversionPatternRewriter &rewriter);

  MappedKernelPattern(MLIRContext *context, Build build)
      : OpConversionPattern<OpTy>(context), build(build) {}

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto mapping =
        dyn_cast_or_null<Mapping>(op->getAttr(kernel::kMappingAttrName));
    if (!mapping)
      return rewriter.notifyMatchFailure(op, "not mapped for this target");
    FailureOr<SmallVector<Value>> values =
        build(op, adaptor, mapping, rewriter);
    if (failed(values))
      return failure();
    rewriter.replaceOp(op, *values);
    return success();
  }

private:
  Build build;
};

} // namespace mlir::moe

#endif // MOEC_PASSES_KERNELPATTERNS_H
