//===- KernelAttrs.td - kernel enums and mapping attributes -*- tablegen -*-===//

#ifndef KERNEL_ATTRS
#define KERNEL_ATTRS

include "dialects/kernel/IR/KernelDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Kernel_GatedActivationAttr : I32EnumAttr<"GatedActivation",
    "activation of an expert's gate and up products", [
    // silu(g) * u
    I32EnumAttrCase<"SwiGLU", 0, "swiglu">,
    // relu(g) * u
    I32EnumAttrCase<"ReGLU", 1, "reglu">,
    // gelu(g) * u
    I32EnumAttrCase<"GeGLU", 2, "geglu">,
    // relu(g) * relu(u): the up row is needed only where g > 0.
    I32EnumAttrCase<"DReLU", 3, "drelu">
  ]> {
  let cppNamespace = "::mlir::kernel";
}

def Kernel_WeightLayoutAttr : I32EnumAttr<"WeightLayout",
    "how a weight matrix's bytes are ordered", [
    // [out, in] as the checkpoint stores it: one output's weights contiguous.
    I32EnumAttrCase<"RowMajor", 0, "row_major">,
    // [in, out]: one input neuron's weights contiguous, so skipping an
    // inactive neuron skips its bytes.
    I32EnumAttrCase<"NeuronMajor", 1, "neuron_major">
  ]> {
  let cppNamespace = "::mlir::kernel";
}

def Kernel_RopeLayoutAttr : I32EnumAttr<"RopeLayout",
    "which dimensions of a head RoPE rotates together", [
    // Dimension i pairs with i + head_dim/2 (HF's rotate_half).
    I32EnumAttrCase<"RotateHalf", 0, "rotate_half">,
    // Dimension 2i pairs with 2i + 1 (GPT-J's layout).
    I32EnumAttrCase<"Interleaved", 1, "interleaved">
  ]> {
  let cppNamespace = "::mlir::kernel";
}

def Kernel_RouterScoresAttr : I32EnumAttr<"RouterScores",
    "how a router's logits become per-expert probabilities", [
    // A softmax over the experts.
    I32EnumAttrCase<"Softmax", 0, "softmax">,
    // A sigmoid of each logit.
    I32EnumAttrCase<"Sigmoid", 1, "sigmoid">
  ]> {
  let cppNamespace = "::mlir::kernel";
}

def Kernel_CpuMappingAttr : AttrDef<Kernel_Dialect, "CpuMapping"> {
  let mnemonic = "cpu";
  let summary = "how a kernel runs on a CPU";
  let description = [{
    `lanes`: f32 lanes of one vector register (16 for AVX-512, 8 for AVX2);
    `accumulators`: independent vector partial sums per dot product, to
    hide the FMA latency; `tasks`: parallel tasks a sparse product splits
    its active neurons into (each with a partial output); `bf16_dot`:
    products with bf16 weights round the activation to bf16 and use the
    AVX-512 BF16 pair dot product. `row_tile` x `token_tile`: the register
    block of a product of several tokens, weight rows by token rows, one
    accumulator each, so that every vector of weights loaded serves
    `token_tile` tokens and every vector of activations `row_tile` rows
    (1 x 1: one dot product at a time). `int8_dot`: products with
    quantized weights quantize the activation row to Q8_0 blocks once and
    multiply blocks with the 8-bit integer dot product (`vpdpbusd`, AVX-512
    VNNI or AVX-VNNI), as llama.cpp does; 8 lanes or more.

    ```mlir
    #kernel.cpu<lanes = 16, accumulators = 2, tasks = 16, row_tile = 4, token_tile = 4>
    ```
  }];
  let parameters = (ins "int64_t":$lanes, "int64_t":$accumulators,
                        "int64_t":$tasks,
                        DefaultValuedParameter<"bool", "false">:$bf16_dot,
                        DefaultValuedParameter<"int64_t", "1">:$row_tile,
                        DefaultValuedParameter<"int64_t", "1">:$token_tile,
                        DefaultValuedParameter<"bool", "false">:$int8_dot);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Kernel_GpuMappingAttr : AttrDef<Kernel_Dialect, "GpuMapping"> {
  let mnemonic = "gpu";
  let summary = "how a kernel runs on an NVIDIA GPU";
  let description = [{
    `warps`: warps per thread block, each computing one weight row at a
    time; `unroll`: independent 16-byte loads in flight per lane;
    `splits`: thread blocks that split the neurons of a sparse product
    (about one per SM).

    ```mlir
    #kernel.gpu<warps = 8, unroll = 4, splits = 132>
    ```
  }];
  let parameters = (ins "int64_t":$warps, "int64_t":$unroll,
                        "int64_t":$splits);
  let assemblyFormat = [{
    `<` `warps` `=` $warps `,` `unroll` `=` $unroll `,` `splits` `=` $splits `>`
  }];
  let genVerifyDecl = 1;
}

def Kernel_MappingAttr : AnyAttrOf<[Kernel_CpuMappingAttr, Kernel_GpuMappingAttr]>;

#endif // KERNEL_ATTRS
