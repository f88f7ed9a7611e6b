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

    With `predicted` [I] (drelu only: an activation predictor's logits),
    neurons whose logit is below `threshold` are zero and their gate and up
    rows are not read.

    ```mlir
    %a, %idx, %n, %p = kernel.gate_up %x, %w1, %w3 drelu
        : tensor<4096xf32>, tensor<14336x4096xbf16> -> tensor<14336xf32>, tensor<14336xi32>
    ```
  }];
  let arguments = (ins Kernel_F32Tensor:$input, Kernel_FloatTensor:$gate,
                       Kernel_FloatTensor:$up,
                       Optional<Kernel_F32Tensor>:$predicted,
                       OptionalAttr<F32Attr>:$threshold,
                       Kernel_GatedActivationAttr:$activation,
                       OptionalAttr<Kernel_MappingAttr>:$mapping);
  let results = (outs Kernel_F32Tensor:$result, RankedTensorOf<[I32]>:$indices,
                      Index:$count, Index:$gate_positive);
  let assemblyFormat = [{
    $input `,` $gate `,` $up $activation
    (`predicted` `(` $predicted^ `:` type($predicted) `,` `threshold` `=` $threshold `)`)?
    (`mapping` `(` $mapping^ `)`)? attr-dict
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
  let summary = "learned router: logits, top-k and weights";
  let description = [{
    For each token row of `input` [tokens, K] (f32): the logits
    `gate [E, K] . x`, their probabilities in f32 by `selection` (a softmax
    over the E experts, or a sigmoid of each), the `top_k` largest (the
    lower expert id first on ties) and their ids. The weights are those
    probabilities or, with `weighting`, that function's values at the chosen
    experts; with `renormalize` they are divided by their sum, plus
    `null_expert_bias` when given. Results: `weights` [tokens, top_k] (f32)
    and `expert_ids` [tokens, top_k].

    ```mlir
    %w, %ids = kernel.router_top_k %x, %g top_k = 2 renormalize
        : tensor<?x4096xf32>, tensor<8x4096xbf16> -> tensor<?x2xf32>, tensor<?x2xi32>
    %v, %jds = kernel.router_top_k %x, %h top_k = 1 selection = sigmoid
        weighting = softmax renormalize null_expert_bias = 1.1
        : tensor<?x768xf32>, tensor<4x768xf32> -> tensor<?x1xf32>, tensor<?x1xi32>
    ```
  }];
  let arguments = (ins Kernel_F32Tensor:$input, Kernel_FloatTensor:$gate,
                       I64Attr:$top_k,
                       DefaultValuedAttr<Kernel_RouterScoresAttr,
                           "::mlir::kernel::RouterScores::Softmax">:$selection,
                       OptionalAttr<Kernel_RouterScoresAttr>:$weighting,
                       UnitAttr:$renormalize,
                       OptionalAttr<F64Attr>:$null_expert_bias,
                       OptionalAttr<Kernel_MappingAttr>:$mapping);
  let results = (outs Kernel_F32Tensor:$weights,
                      RankedTensorOf<[AnySignlessInteger]>:$expert_ids);
  let assemblyFormat = [{
    $input `,` $gate `top_k` `=` $top_k (`selection` `=` $selection^)?
    (`weighting` `=` $weighting^)? (`renormalize` $renormalize^)?
    (`null_expert_bias` `=` $null_expert_bias^)?
    (`mapping` `(` $mapping^ `)`)? attr-dict `:` type($input) `,` type($gate) `->`
    type($weights) `,` type($expert_ids)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The function a token's weights are read from.
    ::mlir::kernel::RouterScores getWeightingOrSelection() {
      return getWeighting().value_or(getSelection());
    }
  }];
}

//===----------------------------------------------------------------------===//
// Layer kernels: norm, RoPE, the KV cache and attention
//===----------------------------------------------------------------------===//

def Kernel_RmsNormOp : Kernel_Op<"rms_norm", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "root-mean-square normalisation of each row";
  let description = [{
    For each row x of `input` (f32, normalised over its last dimension):
    `x * rsqrt(mean(x^2) + eps) * weight`, in f32, `weight` widened from
    its stored type.

    ```mlir
    %y = kernel.rms_norm %x, %w eps = 1.000000e-05 : tensor<?x4096xf32>, tensor<4096xbf16>
    ```
  }];
  let arguments = (ins Kernel_F32Tensor:$input, Kernel_FloatTensor:$weight,
                       F64Attr:$eps, OptionalAttr<Kernel_MappingAttr>:$mapping);
  let results = (outs Kernel_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `eps` `=` $eps (`mapping` `(` $mapping^ `)`)? attr-dict
    `:` type($input) `,` type($weight)
  }];
  let hasVerifier = 1;
}

def Kernel_RopeOp : Kernel_Op<"rope", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "rotary position embedding of each head";
  let description = [{
    `input` [tokens, heads, head_dim] (f32): token t's heads rotated by the
    angles `positions[t] / theta^(2i / head_dim)`, the pairs of dimensions
    as `layout` says (`rotate_half`: i with i + head_dim/2; `interleaved`:
    2i with 2i+1). The inverse frequencies are computed in f32, as HF does,
    or given (`inv_freq`, head_dim / 2 of them) for a scaled RoPE.

    ```mlir
    %q2 = kernel.rope %q[%pos] theta = 1.000000e+06 head_dim = 128 rotate_half
        : tensor<?x32x128xf32>, tensor<?xi32>
    ```
  }];
  let arguments = (ins Kernel_F32Tensor:$input,
                       RankedTensorOf<[AnySignlessInteger]>:$positions,
                       F64Attr:$theta, I64Attr:$head_dim,
                       Kernel_RopeLayoutAttr:$layout,
                       OptionalAttr<DenseF32ArrayAttr>:$inv_freq,
                       OptionalAttr<Kernel_MappingAttr>:$mapping);
  let results = (outs Kernel_F32Tensor:$result);
  let assemblyFormat = [{
    $input `[` $positions `]` `theta` `=` $theta `head_dim` `=` $head_dim $layout
    (`inv_freq` $inv_freq^)? (`mapping` `(` $mapping^ `)`)? attr-dict `:`
    type($input) `,` type($positions)
  }];
  let hasVerifier = 1;
}

def Kernel_CacheWriteOp : Kernel_Op<"cache_write", [Pure,
    AllTypesMatch<["k", "v"]>, AllTypesMatch<["kv_cache", "kv_cache_out"]>]> {
  let summary = "writes a chunk's keys and values into the KV cache";
  let description = [{
    `k` and `v` [tokens, kv_heads, head_dim] (f32) are stored at rows
    `offsets[t] + positions[t]` (`offsets` absent: 0) of the keys (index 0)
    and values (index 1) of a layer's `kv_cache` [2, rows, kv_heads,
    head_dim], converted to the cache's element type; no other row is read
    or written. Returns the updated cache. `offsets` place the tokens of a
    batch of sequences in their own sequences' rows.

    ```mlir
    %kv1 = kernel.cache_write %k, %v into(%kv) positions(%pos)
        : tensor<?x8x128xf32>, tensor<2x4096x8x128xf32>, tensor<?xi32>
    %kv2 = kernel.cache_write %k, %v into(%kv) positions(%pos) offsets(%off)
        : tensor<?x8x128xf32>, tensor<2x?x8x128xf32>, tensor<?xi32>, tensor<?xi32>
    ```
  }];
  let arguments = (ins Kernel_F32Tensor:$k, Kernel_F32Tensor:$v,
                       Kernel_FloatTensor:$kv_cache,
                       RankedTensorOf<[AnySignlessInteger]>:$positions,
                       Optional<RankedTensorOf<[AnySignlessInteger]>>:$offsets,
                       OptionalAttr<Kernel_MappingAttr>:$mapping);
  let results = (outs Kernel_FloatTensor:$kv_cache_out);
  let assemblyFormat = [{
    $k `,` $v `into` `(` $kv_cache `)` `positions` `(` $positions `)`
    (`offsets` `(` $offsets^ `)`)?
    (`mapping` `(` $mapping^ `)`)? attr-dict `:` type($k) `,` type($kv_cache) `,`
    type($positions) (`,` type($offsets)^)?
  }];
  let hasVerifier = 1;
}

def Kernel_AttentionOp : Kernel_Op<"attention", [Pure, AllTypesMatch<["q", "result"]>]> {
  let summary = "grouped-query attention over the live positions of a KV cache";
  let description = [{
    `q` [tokens, heads, head_dim] (f32) at `positions`. Without `offsets`
    the positions are ascending and contiguous, and the keys and values of
    `kv_cache` [2, rows, kv_heads, head_dim] hold valid rows at positions
    0 .. positions[tokens - 1], the live ones. With `offsets` the tokens
    may come from several sequences: token t's sequence keeps position p at
    row offsets[t] + p, and its rows 0 .. positions[t] are live; attention
    must then be `causal`. No other row is read. Query t of head h attends
    to the live keys of kv head h / (heads / kv_heads) of its sequence that
    it may see: with `causal`, key j iff j <= positions[t]; with a
    `window`, also iff positions[t] - window < j. Scores are scaled by
    `scale`; with `alibi` slopes (one per head) query t's score of key j
    gets -slope_h * (positions[t] - j) added; then a softmax in f32. Rows
    past the live positions do not contribute.

    ```mlir
    %o = kernel.attention %q cache(%kv) positions(%pos) heads = 32 kv_heads = 8
        head_dim = 128 scale = 0.088388347648318 causal window = 4096
        : tensor<?x32x128xf32>, tensor<2x4096x8x128xf32>, tensor<?xi32>
    ```
  }];
  let arguments = (ins Kernel_F32Tensor:$q, Kernel_FloatTensor:$kv_cache,
                       RankedTensorOf<[AnySignlessInteger]>:$positions,
                       Optional<RankedTensorOf<[AnySignlessInteger]>>:$offsets,
                       I64Attr:$num_heads, I64Attr:$num_kv_heads, I64Attr:$head_dim,
                       F64Attr:$scale, UnitAttr:$causal,
                       OptionalAttr<I64Attr>:$sliding_window,
                       OptionalAttr<DenseF32ArrayAttr>:$alibi_slopes,
                       OptionalAttr<Kernel_MappingAttr>:$mapping);
  let results = (outs Kernel_F32Tensor:$result);
  let assemblyFormat = [{
    $q `cache` `(` $kv_cache `)` `positions` `(` $positions `)`
    (`offsets` `(` $offsets^ `)`)?
    `heads` `=` $num_heads `kv_heads` `=` $num_kv_heads `head_dim` `=` $head_dim
    `scale` `=` $scale (`causal` $causal^)? (`window` `=` $sliding_window^)?
    (`alibi` $alibi_slopes^)? (`mapping` `(` $mapping^ `)`)? attr-dict `:` type($q) `,` type($kv_cache) `,`
    type($positions) (`,` type($offsets)^)?
  }];
  let hasVerifier = 1;
}

def Kernel_DotU8S8Op : Kernel_Op<"dot_u8s8",
    [Pure, AllTypesMatch<["acc", "result"]>]> {
  let summary = "8-bit integer dot products in groups of four, accumulated";
  let description = [{
    `result[i] = acc[i] + sum_{j < 4} zext(a[4 i + j]) * sext(b[4 i + j])`
    in i32: what `vpdpbusd` computes (AVX-512 VNNI with VL, or AVX-VNNI), on
    32 bytes (256 bits) or 64 (AVX-512). The CPU kernels of quantized
    weights emit it; it stays until `moe-lower-int8-dots` turns it into the
    intrinsic, after bufferization (an intrinsic call has no known memory
    effects). The accumulator is the instruction's own: a term to add to
    every product (a Q4_0 block's offset) costs no further instruction.

    ```mlir
    %d = kernel.dot_u8s8 %acc, %a, %b : vector<32xi8>, vector<32xi8> -> vector<8xi32>
    ```
  }];
  let arguments = (ins VectorOfLengthAndType<[8, 16], [I32]>:$acc,
                       VectorOfLengthAndType<[32, 64], [I8]>:$a,
                       VectorOfLengthAndType<[32, 64], [I8]>:$b);
  let results = (outs VectorOfLengthAndType<[8, 16], [I32]>:$result);
  let assemblyFormat = [{
    $acc `,` $a `,` $b attr-dict `:` type($a) `,` type($b) `->` type($result)
  }];
  let hasVerifier = 1;
}

#endif // KERNEL_OPS
