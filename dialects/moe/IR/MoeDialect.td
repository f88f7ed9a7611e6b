//===- MoeDialect.td - the moe dialect ---------------------*- tablegen -*-===//
//
// Model-level ops of Mixture-of-Experts decoders. Weights are referenced by
// #moe.weight_ref attributes and never embedded in the IR.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_DIALECT
#define MOE_DIALECT

include "mlir/IR/OpBase.td"

def Moe_Dialect : Dialect {
  let name = "moe";
  let cppNamespace = "::mlir::moe";
  let summary = "Model-level ops of Mixture-of-Experts language models";
  let description = [{
    The `moe` dialect describes a Mixtral-family decoder at the level of its
    layers: embedding lookup, RMSNorm, RoPE, attention with a KV cache, the
    router, expert FFNs (SwiGLU or dReLU, with optional shared experts and
    activation predictors), sparse matrix-vector products over the active
    neurons of a dReLU layer, and the output heads. Tensors are values; the
    checkpoint's weights enter through `moe.weight`, which names the file,
    tensor and byte offset instead of holding the data.
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    /// Registers the attributes; defined beside their storage classes.
    void registerAttributes();
  }];
}

class Moe_Op<string mnemonic, list<Trait> traits = []>
    : Op<Moe_Dialect, mnemonic, traits>;

#endif // MOE_DIALECT
