//===- MoeOps.td - moe dialect ops -------------------------*- tablegen -*-===//

#ifndef MOE_OPS
#define MOE_OPS

include "dialects/moe/IR/MoeAttrs.td"
include "mlir/IR/OpBase.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Moe_FloatTensor : RankedTensorOf<[AnyFloat]>;
def Moe_IntTensor : RankedTensorOf<[AnySignlessInteger]>;

//===----------------------------------------------------------------------===//
// Weights and embeddings
//===----------------------------------------------------------------------===//

def Moe_WeightOp : Moe_Op<"weight", [Pure]> {
  let summary = "a weight tensor read from the checkpoint";
  let description = [{
    Produces a weight tensor from one or more checkpoint references. With one
    part, the result has the part's shape (or that shape with a leading 1).
    With n parts of equal shape S, the result is the parts stacked along a new
    leading dimension, shape `[n] + S`: this is how per-expert tensors become
    one `[E, I, H]` operand whether the checkpoint stores them per expert or
    fused. With `transposed`, each part (a matrix) is transposed: the
    artifact stores `[E, I, H]` from `[H, I]` parts, so that one neuron's
    weights are contiguous. A result element type other than the parts'
    dtype (f32, f16 or bf16) makes the artifact store the values converted
    to it, rounded to nearest even. With `format`, the artifact stores each row (the
    last dimension, after any transposition) quantized in that block
    format, and the result is f32 (the values the blocks stand for, which
    f32 holds exactly); `moe-materialize-weights` then reads the blocks
    through `moe.dequantize`.

    ```mlir
    %w1 = moe.weight [#moe.weight_ref<"model.safetensors",
        "model.layers.0.block_sparse_moe.experts.0.w1.weight", bf16, [14336, 4096], offset = 0>,
        #moe.weight_ref<...>] : tensor<2x14336x4096xbf16>
    ```
  }];
  let arguments = (ins Moe_WeightRefArrayAttr:$parts, UnitAttr:$transposed,
                       OptionalAttr<Moe_BlockFormatAttr>:$format);
  let results = (outs Moe_FloatTensor:$result);
  let assemblyFormat = [{
    $parts (`transposed` $transposed^)? (`format` `(` $format^ `)`)? attr-dict
    `:` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Bytes the artifact stores for the weight (blocks when quantized).
    uint64_t getStoredBytes();
    /// The block format of a quantized weight.
    std::optional<::mlir::moe::BlockFormat> getBlockFormat();
    /// The layout of a quantized weight's blocks.
    ::mlir::moe::BlockLayout getBlockLayout();
  }];
}

def Moe_DequantizeOp : Moe_Op<"dequantize", [Pure]> {
  let summary = "the values of quantized weight blocks";
  let description = [{
    `blocks` is an i8 tensor `[..., R, B S]` whose encoding names its block
    format: row r's values k = 32 b .. 32 b + 31 are its block b, S bytes
    (34 for q8_0, 18 for q4_0): groups of 16 blocks, each its blocks'
    quants, then their f16 scales (`#moe.blocks`). The result `[..., R, 32 B]` (f32) holds
    the values they stand for. The kernels that read weights read the blocks
    themselves (their lowerings look through this op and through slices of
    it); what is left is lowered to a loop that writes every value.

    ```mlir
    %w = moe.dequantize %b : tensor<4096x4352xi8, #moe.blocks<q8_0>> -> tensor<4096x4096xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[I8]>:$blocks);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = "$blocks attr-dict `:` type($blocks) `->` type($result)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The format the encoding of `blocks` names.
    ::mlir::moe::BlockFormat getFormat();
  }];
}

def Moe_EmbeddingOp : Moe_Op<"embedding", [Pure]> {
  let summary = "embedding table lookup";
  let description = [{
    Gathers rows of `table` ([vocab, hidden]) for each token id, converting
    them to the result's element type.

    ```mlir
    %h = moe.embedding %table[%ids] : tensor<32000x4096xbf16>, tensor<?xi32> -> tensor<?x4096xf32>
    ```
  }];
  let arguments = (ins Moe_FloatTensor:$table, Moe_IntTensor:$ids);
  let results = (outs Moe_FloatTensor:$result);
  let assemblyFormat = [{
    $table `[` $ids `]` attr-dict `:` type($table) `,` type($ids) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Normalisation and positional encoding
//===----------------------------------------------------------------------===//

def Moe_RmsNormOp : Moe_Op<"rms_norm", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "root-mean-square normalisation over the last dimension";
  let description = [{
    `x * rsqrt(mean(x^2) + eps)` computed in f32, cast to the input's element
    type, then multiplied by `weight` (HF's order).

    ```mlir
    %y = moe.rms_norm %x, %w eps = 1.000000e-05 : tensor<?x4096xf32>, tensor<4096xbf16>
    ```
  }];
  let arguments = (ins Moe_FloatTensor:$input, Moe_FloatTensor:$weight, F64Attr:$eps);
  let results = (outs Moe_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `eps` `=` $eps attr-dict `:` type($input) `,` type($weight)
  }];
  let hasVerifier = 1;
}

def Moe_LayerNormOp : Moe_Op<"layer_norm", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "layer normalisation over the last dimension, with a bias";
  let description = [{
    `(x - mean(x)) * rsqrt(var(x) + eps) * weight + bias`, in f32 (the
    variance the biased one, as torch's LayerNorm): the norm of GPT-2-style
    blocks (the Cerebras model zoo's `norm_type: layernorm`).

    ```mlir
    %y = moe.layer_norm %x, %w, %b eps = 1.000000e-05
        : tensor<?x768xf32>, tensor<768xbf16>, tensor<768xbf16>
    ```
  }];
  let arguments = (ins Moe_FloatTensor:$input, Moe_FloatTensor:$weight,
                       Moe_FloatTensor:$bias, F64Attr:$eps);
  let results = (outs Moe_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias `eps` `=` $eps attr-dict `:` type($input) `,`
    type($weight) `,` type($bias)
  }];
  let hasVerifier = 1;
}

def Moe_RopeOp : Moe_Op<"rope", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "rotary position embedding";
  let description = [{
    Rotates each head of `input` ([tokens, heads, head_dim]) by the angle
    `position / theta^(2i / head_dim)`, or `position * inv_freq[i]` when a
    scaled RoPE (Llama 3's, linear) gives the head_dim / 2 inverse
    frequencies. With `rotate_half`, dimension i is paired with i +
    head_dim/2 (HF's `rotate_half`); with `interleaved`, 2i with 2i+1.

    ```mlir
    %q2 = moe.rope %q[%pos] theta = 1.000000e+06 head_dim = 128 rotate_half
        : tensor<?x32x128xf32>, tensor<?xi32>
    ```
  }];
  let arguments = (ins Moe_FloatTensor:$input, Moe_IntTensor:$positions,
                       F64Attr:$theta, I64Attr:$head_dim,
                       Moe_RopeLayoutAttr:$layout,
                       OptionalAttr<DenseF32ArrayAttr>:$inv_freq);
  let results = (outs Moe_FloatTensor:$result);
  let assemblyFormat = [{
    $input `[` $positions `]` `theta` `=` $theta `head_dim` `=` $head_dim $layout
    (`inv_freq` $inv_freq^)? attr-dict `:` type($input) `,` type($positions)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Projections and attention
//===----------------------------------------------------------------------===//

def Moe_LinearOp : Moe_Op<"linear", [Pure]> {
  let summary = "dense projection x * W^T (+ bias)";
  let description = [{
    `input` [tokens, in], `weight` [out, in] as HF stores `nn.Linear`, optional
    `bias` [out]; the result is [tokens, out]. A single vector `input` [in]
    gives [out].

    ```mlir
    %q = moe.linear %x, %wq : (tensor<?x4096xf32>, tensor<4096x4096xbf16>) -> tensor<?x4096xf32>
    ```
  }];
  let arguments = (ins Moe_FloatTensor:$input, Moe_FloatTensor:$weight,
                       Optional<Moe_FloatTensor>:$bias);
  let results = (outs Moe_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`bias` `(` $bias^ `)`)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Moe_AttentionOp : Moe_Op<"attention", [Pure,
    AllTypesMatch<["q", "result"]>, AllTypesMatch<["k", "v"]>,
    AllTypesMatch<["kv_cache", "kv_cache_out"]>]> {
  let summary = "grouped-query attention over a KV cache";
  let description = [{
    `q` is [tokens, heads, head_dim]; `k` and `v` are [tokens, kv_heads,
    head_dim], already rotated. They are written into the layer's KV cache
    `kv_cache` ([2, max_seq, kv_heads, head_dim]: keys at index 0, values at
    index 1) at `positions`, and each query attends to
    the cached keys up to its own position (when `causal`), restricted to the
    last `window` positions when a sliding window is given: key j is visible
    from query i iff i - window < j <= i. Query head h reads kv head
    h / (heads / kv_heads). Scores are scaled by `scale` (default
    head_dim^-0.5) and normalised with a softmax in f32. Returns the output
    [tokens, heads, head_dim] and the updated cache. Keys and values of one
    layer share one operand so that writing both halves is one in-place
    update of one buffer. With `offsets` the tokens may belong to several
    sequences sharing the cache (a batch): token t's sequence keeps position
    p at row offsets[t] + p and t attends to its own sequence's rows only;
    attention must then be `causal`.

    ```mlir
    %o, %kv1 = moe.attention %q, %k, %v cache(%kv) positions(%pos)
        heads = 32 kv_heads = 8 head_dim = 128 causal window = 4096
        : tensor<?x32x128xf32>, tensor<?x8x128xf32>, tensor<2x4096x8x128xf32>, tensor<?xi32>
    ```
  }];
  let arguments = (ins Moe_FloatTensor:$q, Moe_FloatTensor:$k, Moe_FloatTensor:$v,
                       Moe_FloatTensor:$kv_cache, Moe_IntTensor:$positions,
                       Optional<Moe_IntTensor>:$offsets,
                       I64Attr:$num_heads, I64Attr:$num_kv_heads, I64Attr:$head_dim,
                       UnitAttr:$causal, OptionalAttr<I64Attr>:$sliding_window,
                       OptionalAttr<F64Attr>:$scale,
                       OptionalAttr<DenseF32ArrayAttr>:$alibi_slopes);
  let results = (outs Moe_FloatTensor:$result, Moe_FloatTensor:$kv_cache_out);
  let assemblyFormat = [{
    $q `,` $k `,` $v `cache` `(` $kv_cache `)` `positions` `(` $positions `)`
    (`offsets` `(` $offsets^ `)`)?
    `heads` `=` $num_heads `kv_heads` `=` $num_kv_heads `head_dim` `=` $head_dim
    (`causal` $causal^)? (`window` `=` $sliding_window^)? (`scale` `=` $scale^)?
    (`alibi` $alibi_slopes^)? attr-dict `:` type($q) `,` type($k) `,` type($kv_cache) `,` type($positions)
    (`,` type($offsets)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The softmax scale: the `scale` attribute, or head_dim^-0.5.
    double getScaleOrDefault();
  }];
}

//===----------------------------------------------------------------------===//
// Mixture of experts
//===----------------------------------------------------------------------===//

def Moe_RouterOp : Moe_Op<"router", [Pure, AttrSizedOperandSegments]> {
  let summary = "selects the experts of each token and their weights";
  let description = [{
    With `learned` routing, the scores are `gate` ([experts, hidden]) times
    the input, or, without `gate`, the input itself (the router logits
    [tokens, experts]). The selection nonlinearity turns them into
    probabilities in f32, and the `top_k` largest pick the experts (the lower
    expert id first on ties):
    - `softmax` over the experts (Mixtral);
    - `sigmoid` per expert;
    - `sinkhorn`: `iterations` rounds (default 1) of r -= logsumexp over the
      experts, then r -= logsumexp over the tokens of the call; the
      probabilities are exp(r). It mixes the tokens of a call: a prompt's
      chunk is normalised over its own tokens. With one token (decode) the
      token-wise step would make every probability 1, so there the
      probabilities are the expert-wise step's alone, the softmax.
    A token's weights are the chosen probabilities or, with `weighting`, that
    nonlinearity's values at the chosen experts (the Cerebras model zoo's
    `expert_weighting_nonlinearity`).

    With `hash` routing (`token_ids` given) the expert is `token_id mod
    experts`, weight 1, and top_k must be 1; with `uniform` routing
    (`positions` given) a token's k-th expert is `(position + k) mod
    experts`, weight 1 / top_k.

    With `renormalize` the weights are divided by their sum, plus
    `null_expert_bias` when given (the probability of a null expert, which
    makes a token's experts weigh less than 1 in all).

    Results: weights [tokens, top_k] (f32) and expert ids [tokens, top_k].
    The importer emits the logits as a `moe.linear`; `moe-fuse-router` folds
    it into the router, which then lowers to one kernel.

    ```mlir
    %w, %ids = moe.router %x gate(%g) experts = 8 top_k = 2 learned softmax renormalize
        : (tensor<?x4096xf32>, tensor<8x4096xbf16>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
    %v, %jds = moe.router %x gate(%g) experts = 4 top_k = 1 learned sigmoid
        weighting = softmax renormalize null_expert_bias = 1.1
        : (tensor<?x768xf32>, tensor<4x768xf32>) -> (tensor<?x1xf32>, tensor<?x1xi32>)
    ```
  }];
  let arguments = (ins Moe_FloatTensor:$input, Optional<Moe_FloatTensor>:$gate,
                       Optional<Moe_IntTensor>:$token_ids,
                       Optional<Moe_IntTensor>:$positions,
                       I64Attr:$num_experts, I64Attr:$top_k,
                       Moe_RoutingAlgorithmAttr:$routing,
                       Moe_RouterNonlinearityAttr:$nonlinearity,
                       OptionalAttr<Moe_RouterNonlinearityAttr>:$weighting,
                       OptionalAttr<I64Attr>:$iterations,
                       UnitAttr:$renormalize,
                       OptionalAttr<F64Attr>:$null_expert_bias);
  let results = (outs RankedTensorOf<[F32]>:$weights, Moe_IntTensor:$expert_ids);
  let assemblyFormat = [{
    $input (`gate` `(` $gate^ `)`)? (`tokens` `(` $token_ids^ `)`)?
    (`positions` `(` $positions^ `)`)?
    `experts` `=` $num_experts `top_k` `=` $top_k $routing $nonlinearity
    (`weighting` `=` $weighting^)? (`iterations` `=` $iterations^)?
    (`renormalize` $renormalize^)? (`null_expert_bias` `=` $null_expert_bias^)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The nonlinearity a token's weights are read from.
    ::mlir::moe::RouterNonlinearity getWeightingOrSelection() {
      return getWeighting().value_or(getNonlinearity());
    }
    /// Sinkhorn's rounds (1 unless given).
    int64_t getIterationsOrDefault() {
      return getIterations().value_or(1);
    }
    /// Whether a token's experts depend on the other tokens of the call.
    bool mixesTokens() {
      return getRouting() == ::mlir::moe::RoutingAlgorithm::Learned &&
             (getNonlinearity() == ::mlir::moe::RouterNonlinearity::Sinkhorn ||
              getWeightingOrSelection() ==
                  ::mlir::moe::RouterNonlinearity::Sinkhorn);
    }
  }];
}

def Moe_ExpertFfnOp : Moe_Op<"expert_ffn", [Pure, AttrSizedOperandSegments]> {
  let summary = "the MoE block: routed (and shared) gated expert MLPs";
  let description = [{
    For each token, `sum_k weight_k * down_e(act(gate_e x, up_e x))` over the
    routed experts e = expert_ids[k], plus the same MLP of every shared expert
    with weight 1. Expert weights are stacked: `gate` and `up` are
    [experts, inter, hidden], `down` is [experts, hidden, inter]; shared
    experts likewise with their own count and inter size. With `biases`
    (`gate_bias`, `up_bias` [experts, inter], `down_bias` [experts, hidden]),
    and `shared_biases` for the shared experts, each linear adds its bias
    (an expert's output includes its down bias before it is weighted). Without `routing`
    the block is a dense MLP (one expert, weight 1): Mistral's layout.

    `act` is `swiglu` (silu(g) * u), `reglu` (relu(g) * u), `geglu`
    (gelu(g) * u) or `drelu` (relu(g) * relu(u)); `moe-fuse-drelu` rewrites
    dReLU blocks into `moe.fused_drelu` per token and expert. A dReLU block
    may carry the
    activation predictor of its checkpoint (`fc1` [experts, rank, hidden],
    `fc2` [experts, inter, rank]), which reads `predictor_input` [tokens,
    hidden] where given (TurboSparse-Mistral's: the residual stream before
    the MLP norm) and the block's input otherwise; it does not change the
    block's value, but moe-fuse-drelu may use it to skip neurons it
    predicts inactive (moec-compile --predictors).
    With `down_neuron_major` the routed `down` is stored [experts, inter,
    hidden], as the sparse products of `moe-neuron-major-down` read it (a
    prompt's dense dReLU block shares that weight with its decode path).

    ```mlir
    %y = moe.expert_ffn %x routing(%w, %ids) experts(%w1, %w3, %w2) swiglu
        : (tensor<?x4096xf32>, tensor<?x2xf32>, tensor<?x2xi32>, tensor<8x14336x4096xbf16>,
           tensor<8x14336x4096xbf16>, tensor<8x4096x14336xbf16>) -> tensor<?x4096xf32>
    ```
  }];
  let arguments = (ins Moe_FloatTensor:$input,
                       Optional<RankedTensorOf<[F32]>>:$routing_weights,
                       Optional<Moe_IntTensor>:$expert_ids,
                       Moe_FloatTensor:$gate, Moe_FloatTensor:$up, Moe_FloatTensor:$down,
                       Optional<Moe_FloatTensor>:$shared_gate,
                       Optional<Moe_FloatTensor>:$shared_up,
                       Optional<Moe_FloatTensor>:$shared_down,
                       Optional<Moe_FloatTensor>:$gate_bias,
                       Optional<Moe_FloatTensor>:$up_bias,
                       Optional<Moe_FloatTensor>:$down_bias,
                       Optional<Moe_FloatTensor>:$shared_gate_bias,
                       Optional<Moe_FloatTensor>:$shared_up_bias,
                       Optional<Moe_FloatTensor>:$shared_down_bias,
                       Optional<Moe_FloatTensor>:$predictor_fc1,
                       Optional<Moe_FloatTensor>:$predictor_fc2,
                       Optional<RankedTensorOf<[F32]>>:$predictor_input,
                       Moe_ActivationAttr:$activation,
                       UnitAttr:$down_neuron_major);
  let results = (outs Moe_FloatTensor:$result);
  let assemblyFormat = [{
    $input (`routing` `(` $routing_weights^ `,` $expert_ids `)`)?
    `experts` `(` $gate `,` $up `,` $down `)`
    (`shared` `(` $shared_gate^ `,` $shared_up `,` $shared_down `)`)?
    (`biases` `(` $gate_bias^ `,` $up_bias `,` $down_bias `)`)?
    (`shared_biases` `(` $shared_gate_bias^ `,` $shared_up_bias `,`
      $shared_down_bias `)`)?
    (`predictor` `(` $predictor_fc1^ `,` $predictor_fc2 `)`)?
    (`predictor_input` `(` $predictor_input^ `)`)?
    $activation (`down_neuron_major` $down_neuron_major^)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getNumExperts() { return getGate().getType().getDimSize(0); }
    int64_t getNumSharedExperts() {
      return getSharedGate() ? getSharedGate().getType().getDimSize(0) : 0;
    }
    /// Whether any of the block's linears has a bias.
    bool hasBiases() { return getGateBias() || getSharedGateBias(); }
  }];
}

//===----------------------------------------------------------------------===//
// Activation sparsity
//===----------------------------------------------------------------------===//

def Moe_DReluOp : Moe_Op<"drelu", [Pure, Elementwise, SameOperandsAndResultType]> {
  let summary = "relu(gate) * relu(up)";
  let description = [{
    The dReLU product of the gate and up projections. Every element where
    either input is not positive is exactly zero, which the sparse passes
    exploit.

    ```mlir
    %a = moe.drelu %g, %u : tensor<14336xf32>
    ```
  }];
  let arguments = (ins Moe_FloatTensor:$gate, Moe_FloatTensor:$up);
  let results = (outs Moe_FloatTensor:$result);
  let assemblyFormat = "$gate `,` $up attr-dict `:` type($result)";
}

def Moe_FusedDReluOp : Moe_Op<"fused_drelu", [Pure, AllTypesMatch<["gate", "up"]>]> {
  let summary = "gate and up projections with dReLU, and the active neurons";
  let description = [{
    For one input vector x [hidden] and one expert's `gate` and `up`
    [inter, hidden]: `result = relu(gate x) * relu(up x)`, computed in one
    pass over the neurons that reads a neuron's `up` row only when its gate
    is positive. `indices` lists the neurons where the result is non-zero,
    in ascending order, in its first `count` entries (the rest is
    unspecified): the active set a `moe.sparse_matvec` consumes.
    `gate_positive` counts the neurons whose gate product is positive, the
    up rows the product reads (what moe-count-activity reports).

    With `predicted` [inter] (an activation predictor's logits) only the
    neurons whose logit is at least `threshold` are computed: the others
    are zero, and neither their gate nor their up row is read. The result
    is then that of the predicted neurons only, an approximation.

    ```mlir
    %a, %idx, %n, %p = moe.fused_drelu %x, %w1, %w3
        : tensor<4096xf32>, tensor<14336x4096xbf16> -> tensor<14336xf32>, tensor<14336xi32>
    %b, %jdx, %m, %q = moe.fused_drelu %x, %w1, %w3 predicted(%logits : tensor<14336xf32>, threshold = 0.0)
        : tensor<4096xf32>, tensor<14336x4096xbf16> -> tensor<14336xf32>, tensor<14336xi32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$input, Moe_FloatTensor:$gate,
                       Moe_FloatTensor:$up,
                       Optional<RankedTensorOf<[F32]>>:$predicted,
                       OptionalAttr<F32Attr>:$threshold);
  let results = (outs RankedTensorOf<[F32]>:$result,
                      RankedTensorOf<[I32]>:$indices, Index:$count,
                      Index:$gate_positive);
  let assemblyFormat = [{
    $input `,` $gate `,` $up
    (`predicted` `(` $predicted^ `:` type($predicted) `,` `threshold` `=` $threshold `)`)?
    attr-dict `:` type($input) `,` type($gate) `->` type($result) `,` type($indices)
  }];
  let hasVerifier = 1;
}

def Moe_SparseMatvecOp : Moe_Op<"sparse_matvec", [Pure]> {
  let summary = "matrix-vector product over the active input neurons";
  let description = [{
    `result[m] = sum_{j < count} W[m, idx[j]] * input[idx[j]]`: the product of
    a weight matrix with a vector whose only non-zero entries are listed in
    `active` (the first `count` entries of `indices`). `weight` is [out, in]
    as HF stores it, or with `neuron_major` [in, out], so that the weights of
    one input neuron are contiguous and skipping the neuron skips its bytes.

    ```mlir
    %y = moe.sparse_matvec %w2t, %a active(%idx, %n) neuron_major
        : tensor<14336x4096xbf16>, tensor<14336xf32>, tensor<14336xi32> -> tensor<4096xf32>
    ```
  }];
  let arguments = (ins Moe_FloatTensor:$weight, Moe_FloatTensor:$input,
                       Moe_IntTensor:$indices, Index:$count, UnitAttr:$neuron_major);
  let results = (outs Moe_FloatTensor:$result);
  let assemblyFormat = [{
    $weight `,` $input `active` `(` $indices `,` $count `)` (`neuron_major` $neuron_major^)?
    attr-dict `:` type($weight) `,` type($input) `,` type($indices) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Heads
//===----------------------------------------------------------------------===//

def Moe_LmHeadOp : Moe_Op<"lm_head", [Pure]> {
  let summary = "vocabulary logits";
  let description = [{
    `input` [tokens, hidden] times `weight` [vocab, hidden] transposed: the
    next-token logits [tokens, vocab]. The weight may be the embedding table
    when the checkpoint ties them.

    ```mlir
    %l = moe.lm_head %h, %w : tensor<?x4096xf32>, tensor<32000x4096xbf16> -> tensor<?x32000xf32>
    ```
  }];
  let arguments = (ins Moe_FloatTensor:$input, Moe_FloatTensor:$weight);
  let results = (outs Moe_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` type($input) `,` type($weight) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Moe_ScoreHeadOp : Moe_Op<"score_head", [Pure, AttrSizedOperandSegments]> {
  let summary = "classification scores";
  let description = [{
    `weight` is [labels, hidden] with an optional `bias` [labels]. `token`
    scores every token ([tokens, labels]). `sequence` scores one position
    ([labels]): the last token whose id is not `pad_token_id` when the token
    ids and the pad id are given, else the last token.

    ```mlir
    %s = moe.score_head %h, %w tokens(%ids) sequence pad_token_id = 0
        : (tensor<?x4096xf32>, tensor<2x4096xbf16>, tensor<?xi32>) -> tensor<2xf32>
    ```
  }];
  let arguments = (ins Moe_FloatTensor:$input, Moe_FloatTensor:$weight,
                       Optional<Moe_FloatTensor>:$bias,
                       Optional<Moe_IntTensor>:$token_ids,
                       Moe_ScoreKindAttr:$kind,
                       OptionalAttr<I64Attr>:$pad_token_id);
  let results = (outs Moe_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`bias` `(` $bias^ `)`)? (`tokens` `(` $token_ids^ `)`)? $kind
    (`pad_token_id` `=` $pad_token_id^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // MOE_OPS
