//===- Passes.td - moe passes ------------------------------*- tablegen -*-===//
//
// Every moec pass is declared here, with its options, and implemented in a
// file of its own with GEN_PASS_DEF_<NAME>. Names share the prefix `moe-`.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_PASSES
#define MOEC_PASSES

include "mlir/Pass/PassBase.td"

def StripPredictors : Pass<"moe-strip-predictors"> {
  let summary = "Drops the activation predictors of dReLU expert blocks";
  let description = [{
    A dReLU checkpoint may carry a low-rank predictor of the active neurons.
    The exact value of the block does not depend on it, and using it is an
    approximation that must be asked for. Unless it is, this pass removes the
    predictor operands from every `moe.expert_ffn` and erases the
    `moe.weight` ops left without users, so their bytes never reach the
    artifact.
  }];
  let dependentDialects = ["::mlir::moe::MoeDialect"];
}

#endif // MOEC_PASSES
