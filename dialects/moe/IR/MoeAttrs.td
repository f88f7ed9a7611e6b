//===- MoeAttrs.td - moe enums and attributes --------------*- tablegen -*-===//

#ifndef MOE_ATTRS
#define MOE_ATTRS

include "dialects/moe/IR/MoeDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

//===----------------------------------------------------------------------===//
// Enums
//
// Stored as integers so that ops print them as bare keywords (`drelu`).
//===----------------------------------------------------------------------===//

def Moe_ActivationAttr : I32EnumAttr<"Activation", "expert FFN activation", [
    // silu(gate x) * (up x): Mixtral, Mistral.
    I32EnumAttrCase<"SwiGLU", 0, "swiglu">,
    // relu(gate x) * (up x): HF's gated MLP with hidden_act "relu". Not dReLU.
    I32EnumAttrCase<"ReGLU", 1, "reglu">,
    // gelu(gate x) * (up x).
    I32EnumAttrCase<"GeGLU", 2, "geglu">,
    // relu(gate x) * relu(up x): TurboSparse. Most products are exactly zero.
    I32EnumAttrCase<"DReLU", 3, "drelu">
  ]> {
  let cppNamespace = "::mlir::moe";
}

def Moe_RouterNonlinearityAttr : I32EnumAttr<"RouterNonlinearity",
    "router selection nonlinearity", [
    I32EnumAttrCase<"Softmax", 0, "softmax">,
    I32EnumAttrCase<"Sigmoid", 1, "sigmoid">,
    I32EnumAttrCase<"Sinkhorn", 2, "sinkhorn">
  ]> {
  let cppNamespace = "::mlir::moe";
}

def Moe_RoutingAlgorithmAttr : I32EnumAttr<"RoutingAlgorithm", "expert selection", [
    // Top-k of a learned gate's scores.
    I32EnumAttrCase<"Learned", 0, "learned">,
    // expert = token id mod number of experts, weight 1.
    I32EnumAttrCase<"Hash", 1, "hash">,
    // expert k of a token = (position + k) mod number of experts, weight
    // 1 / top_k.
    I32EnumAttrCase<"Uniform", 2, "uniform">
  ]> {
  let cppNamespace = "::mlir::moe";
}

def Moe_RopeLayoutAttr : I32EnumAttr<"RopeLayout", "pairing of rotated dimensions", [
    // Dimension i pairs with i + d/2 (HF rotate_half).
    I32EnumAttrCase<"RotateHalf", 0, "rotate_half">,
    // Dimension 2i pairs with 2i + 1 (GPT-J style).
    I32EnumAttrCase<"Interleaved", 1, "interleaved">
  ]> {
  let cppNamespace = "::mlir::moe";
}

def Moe_ScoreKindAttr : I32EnumAttr<"ScoreKind", "classification granularity", [
    // One score vector per sequence, read at the last non-pad token.
    I32EnumAttrCase<"Sequence", 0, "sequence">,
    // One score vector per token.
    I32EnumAttrCase<"Token", 1, "token">
  ]> {
  let cppNamespace = "::mlir::moe";
}

def Moe_BlockFormat : I32EnumAttr<"BlockFormat", "quantized weight blocks", [
    // llama.cpp's Q8_0: 32 values a block, f16 scale d, int8 q; x = d q.
    I32EnumAttrCase<"Q8_0", 0, "q8_0">,
    // llama.cpp's Q4_0: 32 values a block, f16 scale d, 16 bytes of
    // nibbles (element j low in byte j, element j + 16 high); x = d (q - 8).
    I32EnumAttrCase<"Q4_0", 1, "q4_0">
  ]> {
  let cppNamespace = "::mlir::moe";
  let genSpecializedAttr = 0;
}

def Moe_BlockLayout : I32EnumAttr<"BlockLayout", "how a row's blocks are stored", [
    // Groups of 16 blocks: their quants block after block, then their scales.
    I32EnumAttrCase<"Grouped", 0, "grouped">,
    // Groups of 16 blocks whose quants are interleaved 4 values at a time,
    // then their scales: one vector lane per block for integer products.
    I32EnumAttrCase<"Interleaved", 1, "interleaved">
  ]> {
  let cppNamespace = "::mlir::moe";
  let genSpecializedAttr = 0;
}

def Moe_BlockFormatAttr : AttrDef<Moe_Dialect, "BlockFormat"> {
  let mnemonic = "blocks";
  let parameters = (ins
    EnumParameter<Moe_BlockFormat>:$value,
    DefaultValuedParameter<"::mlir::moe::BlockLayout",
                           "::mlir::moe::BlockLayout::Grouped">:$layout);
  let assemblyFormat = "`<` $value (`,` $layout^)? `>`";
  let builders = [
    AttrBuilder<(ins "::mlir::moe::BlockFormat":$value), [{
      return $_get($_ctxt, value, ::mlir::moe::BlockLayout::Grouped);
    }]>
  ];
  let summary = "a block format of quantized weights, and its layout";
  let description = [{
    On `moe.weight` (`format`): the artifact stores the weight's rows in
    this format. As the encoding of an i8 tensor `[..., rows, bytes]`
    (`#moe.blocks<q8_0>`): each row's blocks of 32 values in groups of 16
    blocks (the last group of a row may have fewer), a group split: first
    the quants of its blocks, then their f16 scales. A row has the bytes of
    llama.cpp's (34 or 18 a block) and is read front to back; contiguous
    quants take one load for several blocks and a group's scales one
    conversion.

    The layout says how a group's quants are ordered:
    - `grouped` (the default): block after block, each block's bytes as
      llama.cpp's.
    - `interleaved` (`#moe.blocks<q4_0, interleaved>`, rows of whole groups
      only): 4 values of each of the 16 blocks in turn, so that 64 bytes
      hold values 4 s .. 4 s + 3 of every block and an integer dot product
      of 4 bytes a lane sums one block in each lane. For q8_0, byte
      64 s + 4 b + i is q_b[4 s + i] + 128 (unsigned); for q4_0, byte
      64 k + 4 b + i holds the nibble of value 8 k + i of block b (0..15,
      the value being d (q - 8)) in its low half and of value 8 k + 4 + i
      in its high half.
  }];
}

//===----------------------------------------------------------------------===//
// Weight references
//===----------------------------------------------------------------------===//

def Moe_WeightRefAttr : AttrDef<Moe_Dialect, "WeightRef"> {
  let mnemonic = "weight_ref";
  let summary = "a tensor stored in a checkpoint file";
  let description = [{
    Names where a weight lives instead of holding it: the checkpoint file
    (relative to the checkpoint directory), the tensor's name in that file,
    the element type and shape as stored, and the absolute byte offset of the
    first element in the file. A slice of a larger stored tensor (one expert
    of a fused `[E, 2I, H]` tensor, say) is a reference with the slice's own
    shape and offset.

    ```mlir
    #moe.weight_ref<"model.safetensors", "lm_head.weight", bf16, [32000, 4096], offset = 1024>
    ```
  }];
  let parameters = (ins
    StringRefParameter<"checkpoint file">:$file,
    StringRefParameter<"tensor name">:$tensor,
    "::mlir::Type":$dtype,
    ArrayRefParameter<"int64_t", "shape">:$shape,
    "uint64_t":$offset
  );
  let assemblyFormat = [{
    `<` $file `,` $tensor `,` $dtype `,` `[` $shape `]` `,` `offset` `=` $offset `>`
  }];
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Number of elements.
    int64_t getNumElements() const;
    /// Bytes of data referenced.
    uint64_t getSizeInBytes() const;
  }];
}

def Moe_WeightRefArrayAttr
    : TypedArrayAttrBase<Moe_WeightRefAttr, "array of weight references">;

#endif // MOE_ATTRS
