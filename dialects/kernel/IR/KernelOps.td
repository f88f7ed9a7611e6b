//===- KernelOps.td - kernel dialect ops -------------------*- tablegen -*-===//

#ifndef KERNEL_OPS
#define KERNEL_OPS

include "dialects/kernel/IR/KernelAttrs.td"
include "mlir/IR/OpBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Kernel_FloatTensor : RankedTensorOf<[AnyFloat]>;
def Kernel_F32Tensor : RankedTensorOf<[F32]>;

def Kernel_MatvecOp : Kernel_Op<"matvec", [Pure]> {
  let summary = "weight-streaming product: y = x W^T";
  let description = [{
    `input` [tokens, K] (f32) times `weight` [N, K] (bf16, f16 or f32, rows
    as the checkpoint stores them) transposed: `result` [tokens, N] in f32,
    each dot product accumulated in f32. At batch 1 it reads every weight
    byte once; that read is its cost.

    ```mlir
    %y = kernel.matvec %x, %w mapping(#kernel.cpu<lanes = 16, accumulators = 2, tasks = 16>)
        : tensor<?x4096xf32>, tensor<14336x4096xbf16> -> tensor<?x14336xf32>
    ```
  }];
  let arguments = (ins Kernel_F32Tensor:$input, Kernel_FloatTensor:$weight,
                       OptionalAttr<Kernel_MappingAttr>:$mapping);
  let results = (outs Kernel_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`mapping` `(` $mapping^ `)`)? attr-dict `:` type($input) `,`
    type($weight) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Kernel_GateUpOp : Kernel_Op<"gate_up", [Pure, AllTypesMatch<["gate", "up"]>]> {
  let summary = "an expert's gate and up products, activated, with the active set";
  let description = [{
    For one input vector x [K] (f32) and one expert's `gate` and `up`
    [I, K]: `result[n] = act(gate[n] . x, up[n] . x)` in f32, with
    `act` one of swiglu (silu(g) u), reglu (relu(g) u), geglu (gelu(g) u)
    and drelu (relu(g) relu(u)). `indices` lists in its first `count`
    entries, ascending, the neurons whose result is non-zero (the rest is
    unspecified): the active set a `kernel.sparse_matvec` consumes.
    `gate_positive` counts the neurons whose gate product is positive: for
    drelu, the up rows the kernel has to read.

    ```mlir
    %a, %idx, %n, %p = kernel.gate_up %x, %w1, %w3 drelu
        : tensor<4096xf32>, tensor<14336x4096xbf16> -> tensor<14336xf32>, tensor<14336xi32>
    ```
  }];
  let arguments = (ins Kernel_F32Tensor:$input, Kernel_FloatTensor:$gate,
                       Kernel_FloatTensor:$up,
                       Kernel_GatedActivationAttr:$activation,
                       OptionalAttr<Kernel_MappingAttr>:$mapping);
  let results = (outs Kernel_F32Tensor:$result, RankedTensorOf<[I32]>:$indices,
                      Index:$count, Index:$gate_positive);
  let assemblyFormat = [{
    $input `,` $gate `,` $up $activation (`mapping` `(` $mapping^ `)`)? attr-dict
    `:` type($input) `,` type($gate) `->` type($result) `,` type($indices)
  }];
  let hasVerifier = 1;
}

def Kernel_SparseMatvecOp : Kernel_Op<"sparse_matvec", [Pure]> {
  let summary = "product of a weight matrix with a vector over its active set";
  let description = [{
    `result[m] = sum_{j < count} W[m, n_j] * input[n_j]` with
    `n_j = indices[j]`, where the first `count` entries of `indices` list
    every neuron at which `input` is non-zero. With the `row_major` layout
    `weight` is [out, in]; with `neuron_major` it is [in, out], one input
    neuron's weights contiguous, so an inactive neuron's bytes are not read.

    ```mlir
    %y = kernel.sparse_matvec %w2t, %a active(%idx, %n) neuron_major
        : tensor<14336x4096xbf16>, tensor<14336xf32>, tensor<14336xi32> -> tensor<4096xf32>
    ```
  }];
  let arguments = (ins Kernel_FloatTensor:$weight, Kernel_F32Tensor:$input,
                       RankedTensorOf<[I32]>:$indices, Index:$count,
                       Kernel_WeightLayoutAttr:$layout,
                       OptionalAttr<Kernel_MappingAttr>:$mapping);
  let results = (outs Kernel_F32Tensor:$result);
  let assemblyFormat = [{
    $weight `,` $input `active` `(` $indices `,` $count `)` $layout
    (`mapping` `(` $mapping^ `)`)? attr-dict `:` type($weight) `,` type($input) `,`
    type($indices) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Kernel_RouterTopKOp : Kernel_Op<"router_top_k", [Pure]> {
  let summary = "learned softmax router: logits, top-k and weights";
  let description = [{
    For each token row of `input` [tokens, K] (f32): the logits
    `gate [E, K] . x`, a softmax over the E experts in f32, the `top_k`
    largest probabilities (the lower expert id first on ties) and their
    ids; with `renormalize` the chosen probabilities are divided by their
    sum. Results: `weights` [tokens, top_k] (f32) and `expert_ids`
    [tokens, top_k].

    ```mlir
    %w, %ids = kernel.router_top_k %x, %g top_k = 2 renormalize
        : tensor<?x4096xf32>, tensor<8x4096xbf16> -> tensor<?x2xf32>, tensor<?x2xi32>
    ```
  }];
  let arguments = (ins Kernel_F32Tensor:$input, Kernel_FloatTensor:$gate,
                       I64Attr:$top_k, UnitAttr:$renormalize,
                       OptionalAttr<Kernel_MappingAttr>:$mapping);
  let results = (outs Kernel_F32Tensor:$weights,
                      RankedTensorOf<[AnySignlessInteger]>:$expert_ids);
  let assemblyFormat = [{
    $input `,` $gate `top_k` `=` $top_k (`renormalize` $renormalize^)?
    (`mapping` `(` $mapping^ `)`)? attr-dict `:` type($input) `,` type($gate) `->`
    type($weights) `,` type($expert_ids)
  }];
  let hasVerifier = 1;
}

#endif // KERNEL_OPS
