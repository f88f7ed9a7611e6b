// RUN: moec-opt %s --split-input-file --verify-diagnostics

func.func @weight_ref_empty_file() -> tensor<4xf32> {
  // expected-error @+1 {{weight reference has an empty file name}}
  %w = moe.weight [#moe.weight_ref<"", "w", f32, [4], offset = 0>] : tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

func.func @weight_ref_empty_tensor() -> tensor<4xf32> {
  // expected-error @+1 {{weight reference has an empty tensor name}}
  %w = moe.weight [#moe.weight_ref<"model.safetensors", "", f32, [4], offset = 0>] : tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

func.func @weight_ref_bad_dtype() -> tensor<4xf64> {
  // expected-error @+1 {{weight 'w' has unsupported dtype 'f64' (expected bf16, f16 or f32)}}
  %w = moe.weight [#moe.weight_ref<"model.safetensors", "w", f64, [4], offset = 0>] : tensor<4xf64>
  return %w : tensor<4xf64>
}

// -----

func.func @weight_ref_zero_dim() -> tensor<4x0xf32> {
  // expected-error @+1 {{weight 'w' has a non-positive dimension 0}}
  %w = moe.weight [#moe.weight_ref<"model.safetensors", "w", f32, [4, 0], offset = 0>] : tensor<4x0xf32>
  return %w : tensor<4x0xf32>
}

// -----

func.func @weight_no_parts() -> tensor<4xf32> {
  // expected-error @+1 {{needs at least one weight reference}}
  %w = moe.weight [] : tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

func.func @weight_unequal_parts() -> tensor<2x4xf32> {
  // expected-error @+1 {{stacked weights must have equal shapes: 'b' differs from 'a'}}
  %w = moe.weight [#moe.weight_ref<"m", "a", f32, [4], offset = 0>, #moe.weight_ref<"m", "b", f32, [5], offset = 16>] : tensor<2x4xf32>
  return %w : tensor<2x4xf32>
}

// -----

func.func @weight_bad_result_shape() -> tensor<3x4xf32> {
  // expected-error @+1 {{result type 'tensor<3x4xf32>' does not match 2 stacked part(s) of shape [4]}}
  %w = moe.weight [#moe.weight_ref<"m", "a", f32, [4], offset = 0>, #moe.weight_ref<"m", "b", f32, [4], offset = 16>] : tensor<3x4xf32>
  return %w : tensor<3x4xf32>
}

// -----

func.func @embedding_table_rank(%t: tensor<100xf32>, %ids: tensor<?xi32>) -> tensor<?x16xf32> {
  // expected-error @+1 {{table must have rank 2, got 'tensor<100xf32>'}}
  %h = moe.embedding %t[%ids] : tensor<100xf32>, tensor<?xi32> -> tensor<?x16xf32>
  return %h : tensor<?x16xf32>
}

// -----

func.func @embedding_result(%t: tensor<100x16xf32>, %ids: tensor<3xi32>) -> tensor<3x8xf32> {
  // expected-error @+1 {{result dimension 1 must be 16, got 'tensor<3x8xf32>'}}
  %h = moe.embedding %t[%ids] : tensor<100x16xf32>, tensor<3xi32> -> tensor<3x8xf32>
  return %h : tensor<3x8xf32>
}

// -----

func.func @embedding_float_ids(%t: tensor<100x16xf32>, %ids: tensor<3xf32>) -> tensor<3x16xf32> {
  // expected-error @+1 {{operand #1 must be ranked tensor of signless integer values}}
  %h = moe.embedding %t[%ids] : tensor<100x16xf32>, tensor<3xf32> -> tensor<3x16xf32>
  return %h : tensor<3x16xf32>
}

// -----

func.func @rms_norm_eps(%x: tensor<?x16xf32>, %w: tensor<16xf32>) -> tensor<?x16xf32> {
  // expected-error @+1 {{eps must be positive and finite, got 0}}
  %y = moe.rms_norm %x, %w eps = 0.0 : tensor<?x16xf32>, tensor<16xf32>
  return %y : tensor<?x16xf32>
}

// -----

func.func @rms_norm_weight(%x: tensor<?x16xf32>, %w: tensor<8xf32>) -> tensor<?x16xf32> {
  // expected-error @+1 {{weight dimension 0 must be 16, got 'tensor<8xf32>'}}
  %y = moe.rms_norm %x, %w eps = 1.0e-5 : tensor<?x16xf32>, tensor<8xf32>
  return %y : tensor<?x16xf32>
}

// -----

func.func @rms_norm_scalar(%x: tensor<f32>, %w: tensor<1xf32>) -> tensor<f32> {
  // expected-error @+1 {{input must have rank >= 1}}
  %y = moe.rms_norm %x, %w eps = 1.0e-5 : tensor<f32>, tensor<1xf32>
  return %y : tensor<f32>
}

// -----

func.func @rope_inv_freq_size(%q: tensor<?x4x8xf32>, %pos: tensor<?xi32>) -> tensor<?x4x8xf32> {
  // expected-error @+1 {{inv_freq has 3 values, not head_dim / 2 = 4}}
  %0 = moe.rope %q[%pos] theta = 1.0e4 head_dim = 8 rotate_half inv_freq [1.0, 0.1, 0.01] : tensor<?x4x8xf32>, tensor<?xi32>
  return %0 : tensor<?x4x8xf32>
}

// -----

func.func @rope_odd_head_dim(%q: tensor<?x4x7xf32>, %pos: tensor<?xi32>) -> tensor<?x4x7xf32> {
  // expected-error @+1 {{head_dim must be even, got 7}}
  %0 = moe.rope %q[%pos] theta = 1.0e4 head_dim = 7 rotate_half : tensor<?x4x7xf32>, tensor<?xi32>
  return %0 : tensor<?x4x7xf32>
}

// -----

func.func @rope_head_dim_mismatch(%q: tensor<?x4x8xf32>, %pos: tensor<?xi32>) -> tensor<?x4x8xf32> {
  // expected-error @+1 {{input dimension 2 must be 16, got 'tensor<?x4x8xf32>'}}
  %0 = moe.rope %q[%pos] theta = 1.0e4 head_dim = 16 rotate_half : tensor<?x4x8xf32>, tensor<?xi32>
  return %0 : tensor<?x4x8xf32>
}

// -----

func.func @rope_theta(%q: tensor<?x4x8xf32>, %pos: tensor<?xi32>) -> tensor<?x4x8xf32> {
  // expected-error @+1 {{theta must be positive and finite, got -1}}
  %0 = moe.rope %q[%pos] theta = -1.0 head_dim = 8 rotate_half : tensor<?x4x8xf32>, tensor<?xi32>
  return %0 : tensor<?x4x8xf32>
}

// -----

func.func @rope_positions(%q: tensor<2x4x8xf32>, %pos: tensor<3xi32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{positions dimension 0 must be 2, got 'tensor<3xi32>'}}
  %0 = moe.rope %q[%pos] theta = 1.0e4 head_dim = 8 rotate_half : tensor<2x4x8xf32>, tensor<3xi32>
  return %0 : tensor<2x4x8xf32>
}

// -----

func.func @linear_in_dim(%x: tensor<?x16xf32>, %w: tensor<32x8xf32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{weight dimension 1 must be 16, got 'tensor<32x8xf32>'}}
  %0 = moe.linear %x, %w : (tensor<?x16xf32>, tensor<32x8xf32>) -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}

// -----

func.func @linear_bias(%x: tensor<?x16xf32>, %w: tensor<32x16xf32>, %b: tensor<16xf32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{bias dimension 0 must be 32, got 'tensor<16xf32>'}}
  %0 = moe.linear %x, %w bias(%b) : (tensor<?x16xf32>, tensor<32x16xf32>, tensor<16xf32>) -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}

// -----

func.func @linear_result(%x: tensor<?x16xf32>, %w: tensor<32x16xf32>) -> tensor<?x16xf32> {
  // expected-error @+1 {{result dimension 1 must be 32, got 'tensor<?x16xf32>'}}
  %0 = moe.linear %x, %w : (tensor<?x16xf32>, tensor<32x16xf32>) -> tensor<?x16xf32>
  return %0 : tensor<?x16xf32>
}

// -----

func.func @attention_kv_heads(%q: tensor<1x4x8xf32>, %k: tensor<1x3x8xf32>, %c: tensor<2x64x3x8xf32>, %pos: tensor<1xi32>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{kv_heads (3) must divide heads (4)}}
  %o, %kv = moe.attention %q, %k, %k cache(%c) positions(%pos) heads = 4 kv_heads = 3 head_dim = 8 causal
      : tensor<1x4x8xf32>, tensor<1x3x8xf32>, tensor<2x64x3x8xf32>, tensor<1xi32>
  return %o : tensor<1x4x8xf32>
}

// -----

func.func @attention_zero_heads(%q: tensor<1x4x8xf32>, %k: tensor<1x2x8xf32>, %c: tensor<2x64x2x8xf32>, %pos: tensor<1xi32>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{heads must be positive, got 0}}
  %o, %kv = moe.attention %q, %k, %k cache(%c) positions(%pos) heads = 0 kv_heads = 2 head_dim = 8 causal
      : tensor<1x4x8xf32>, tensor<1x2x8xf32>, tensor<2x64x2x8xf32>, tensor<1xi32>
  return %o : tensor<1x4x8xf32>
}

// -----

func.func @attention_q_shape(%q: tensor<1x4x16xf32>, %k: tensor<1x2x8xf32>, %c: tensor<2x64x2x8xf32>, %pos: tensor<1xi32>) -> tensor<1x4x16xf32> {
  // expected-error @+1 {{q dimension 2 must be 8, got 'tensor<1x4x16xf32>'}}
  %o, %kv = moe.attention %q, %k, %k cache(%c) positions(%pos) heads = 4 kv_heads = 2 head_dim = 8 causal
      : tensor<1x4x16xf32>, tensor<1x2x8xf32>, tensor<2x64x2x8xf32>, tensor<1xi32>
  return %o : tensor<1x4x16xf32>
}

// -----

func.func @attention_k_tokens(%q: tensor<1x4x8xf32>, %k: tensor<2x2x8xf32>, %c: tensor<2x64x2x8xf32>, %pos: tensor<1xi32>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{k dimension 0 must be 1, got 'tensor<2x2x8xf32>'}}
  %o, %kv = moe.attention %q, %k, %k cache(%c) positions(%pos) heads = 4 kv_heads = 2 head_dim = 8 causal
      : tensor<1x4x8xf32>, tensor<2x2x8xf32>, tensor<2x64x2x8xf32>, tensor<1xi32>
  return %o : tensor<1x4x8xf32>
}

// -----

func.func @attention_cache(%q: tensor<1x4x8xf32>, %k: tensor<1x2x8xf32>, %c: tensor<2x64x4x8xf32>, %pos: tensor<1xi32>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{kv_cache dimension 2 must be 2, got 'tensor<2x64x4x8xf32>'}}
  %o, %kv = moe.attention %q, %k, %k cache(%c) positions(%pos) heads = 4 kv_heads = 2 head_dim = 8 causal
      : tensor<1x4x8xf32>, tensor<1x2x8xf32>, tensor<2x64x4x8xf32>, tensor<1xi32>
  return %o : tensor<1x4x8xf32>
}

// -----

func.func @attention_cache_halves(%q: tensor<1x4x8xf32>, %k: tensor<1x2x8xf32>, %c: tensor<3x64x2x8xf32>, %pos: tensor<1xi32>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{kv_cache dimension 0 must be 2, got 'tensor<3x64x2x8xf32>'}}
  %o, %kv = moe.attention %q, %k, %k cache(%c) positions(%pos) heads = 4 kv_heads = 2 head_dim = 8 causal
      : tensor<1x4x8xf32>, tensor<1x2x8xf32>, tensor<3x64x2x8xf32>, tensor<1xi32>
  return %o : tensor<1x4x8xf32>
}

// -----

func.func @attention_window(%q: tensor<1x4x8xf32>, %k: tensor<1x2x8xf32>, %c: tensor<2x64x2x8xf32>, %pos: tensor<1xi32>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{window must be positive, got 0}}
  %o, %kv = moe.attention %q, %k, %k cache(%c) positions(%pos) heads = 4 kv_heads = 2 head_dim = 8 causal window = 0
      : tensor<1x4x8xf32>, tensor<1x2x8xf32>, tensor<2x64x2x8xf32>, tensor<1xi32>
  return %o : tensor<1x4x8xf32>
}

// -----

func.func @attention_scale(%q: tensor<1x4x8xf32>, %k: tensor<1x2x8xf32>, %c: tensor<2x64x2x8xf32>, %pos: tensor<1xi32>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{scale must be positive and finite, got 0}}
  %o, %kv = moe.attention %q, %k, %k cache(%c) positions(%pos) heads = 4 kv_heads = 2 head_dim = 8 scale = 0.0
      : tensor<1x4x8xf32>, tensor<1x2x8xf32>, tensor<2x64x2x8xf32>, tensor<1xi32>
  return %o : tensor<1x4x8xf32>
}

// -----

func.func @attention_positions(%q: tensor<1x4x8xf32>, %k: tensor<1x2x8xf32>, %c: tensor<2x64x2x8xf32>, %pos: tensor<2xi32>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{positions dimension 0 must be 1, got 'tensor<2xi32>'}}
  %o, %kv = moe.attention %q, %k, %k cache(%c) positions(%pos) heads = 4 kv_heads = 2 head_dim = 8 causal
      : tensor<1x4x8xf32>, tensor<1x2x8xf32>, tensor<2x64x2x8xf32>, tensor<2xi32>
  return %o : tensor<1x4x8xf32>
}

// -----

func.func @router_top_k(%x: tensor<1x16xf32>, %g: tensor<4x16xf32>) {
  // expected-error @+1 {{top_k (5) must not exceed the number of experts (4)}}
  %w, %ids = moe.router %x gate(%g) experts = 4 top_k = 5 learned softmax
      : (tensor<1x16xf32>, tensor<4x16xf32>) -> (tensor<1x5xf32>, tensor<1x5xi32>)
  return
}

// -----

func.func @router_zero_top_k(%x: tensor<1x16xf32>, %g: tensor<4x16xf32>) {
  // expected-error @+1 {{top_k must be positive, got 0}}
  %w, %ids = moe.router %x gate(%g) experts = 4 top_k = 0 learned softmax
      : (tensor<1x16xf32>, tensor<4x16xf32>) -> (tensor<1x0xf32>, tensor<1x0xi32>)
  return
}

// -----

func.func @router_hash_top_k(%x: tensor<1x16xf32>, %t: tensor<1xi32>) {
  // expected-error @+1 {{hash routing needs top_k = 1, got 2}}
  %w, %ids = moe.router %x tokens(%t) experts = 4 top_k = 2 hash softmax
      : (tensor<1x16xf32>, tensor<1xi32>) -> (tensor<1x2xf32>, tensor<1x2xi32>)
  return
}

// -----

func.func @router_hash_gate(%x: tensor<1x16xf32>, %g: tensor<4x16xf32>, %t: tensor<1xi32>) {
  // expected-error @+1 {{hash routing takes no gate weight}}
  %w, %ids = moe.router %x gate(%g) tokens(%t) experts = 4 top_k = 1 hash softmax
      : (tensor<1x16xf32>, tensor<4x16xf32>, tensor<1xi32>) -> (tensor<1x1xf32>, tensor<1x1xi32>)
  return
}

// -----

func.func @router_hash_no_tokens(%x: tensor<1x16xf32>) {
  // expected-error @+1 {{hash routing needs the token ids}}
  %w, %ids = moe.router %x experts = 4 top_k = 1 hash softmax
      : (tensor<1x16xf32>) -> (tensor<1x1xf32>, tensor<1x1xi32>)
  return
}

// -----

func.func @router_learned_no_gate(%x: tensor<1x16xf32>) {
  // expected-error @+1 {{logits dimension 1 must be 4, got 'tensor<1x16xf32>'}}
  %w, %ids = moe.router %x experts = 4 top_k = 1 learned softmax
      : (tensor<1x16xf32>) -> (tensor<1x1xf32>, tensor<1x1xi32>)
  return
}

// -----

func.func @router_learned_tokens(%x: tensor<1x16xf32>, %g: tensor<4x16xf32>, %t: tensor<1xi32>) {
  // expected-error @+1 {{token ids are only used by hash routing}}
  %w, %ids = moe.router %x gate(%g) tokens(%t) experts = 4 top_k = 1 learned softmax
      : (tensor<1x16xf32>, tensor<4x16xf32>, tensor<1xi32>) -> (tensor<1x1xf32>, tensor<1x1xi32>)
  return
}

// -----

func.func @router_gate_shape(%x: tensor<1x16xf32>, %g: tensor<8x16xf32>) {
  // expected-error @+1 {{gate dimension 0 must be 4, got 'tensor<8x16xf32>'}}
  %w, %ids = moe.router %x gate(%g) experts = 4 top_k = 2 learned softmax
      : (tensor<1x16xf32>, tensor<8x16xf32>) -> (tensor<1x2xf32>, tensor<1x2xi32>)
  return
}

// -----

func.func @router_null_bias_negative(%x: tensor<1x16xf32>, %g: tensor<4x16xf32>) {
  // expected-error @+1 {{null_expert_bias must be non-negative, got -1}}
  %w, %ids = moe.router %x gate(%g) experts = 4 top_k = 1 learned softmax renormalize null_expert_bias = -1.0
      : (tensor<1x16xf32>, tensor<4x16xf32>) -> (tensor<1x1xf32>, tensor<1x1xi32>)
  return
}

// -----

func.func @router_null_bias_no_renormalize(%x: tensor<1x16xf32>, %g: tensor<4x16xf32>) {
  // expected-error @+1 {{null_expert_bias only applies with renormalize}}
  %w, %ids = moe.router %x gate(%g) experts = 4 top_k = 1 learned softmax null_expert_bias = 1.1
      : (tensor<1x16xf32>, tensor<4x16xf32>) -> (tensor<1x1xf32>, tensor<1x1xi32>)
  return
}

// -----

func.func @router_result_shape(%x: tensor<1x16xf32>, %g: tensor<4x16xf32>) {
  // expected-error @+1 {{weights dimension 1 must be 2, got 'tensor<1x3xf32>'}}
  %w, %ids = moe.router %x gate(%g) experts = 4 top_k = 2 learned softmax
      : (tensor<1x16xf32>, tensor<4x16xf32>) -> (tensor<1x3xf32>, tensor<1x2xi32>)
  return
}

// -----

func.func @router_weights_f32(%x: tensor<1x16xf32>, %g: tensor<4x16xf32>) {
  // expected-error @+1 {{result #0 must be ranked tensor of 32-bit float values}}
  %w, %ids = moe.router %x gate(%g) experts = 4 top_k = 2 learned softmax
      : (tensor<1x16xf32>, tensor<4x16xf32>) -> (tensor<1x2xbf16>, tensor<1x2xi32>)
  return
}

// -----

func.func @ffn_gate_rank(%x: tensor<1x16xf32>, %g: tensor<32x16xf32>, %d: tensor<16x32xf32>) -> tensor<1x16xf32> {
  // expected-error @+1 {{gate must have rank 3, got 'tensor<32x16xf32>'}}
  %y = moe.expert_ffn %x experts(%g, %g, %d) swiglu
      : (tensor<1x16xf32>, tensor<32x16xf32>, tensor<32x16xf32>, tensor<16x32xf32>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

func.func @ffn_hidden(%x: tensor<1x16xf32>, %g: tensor<1x32x8xf32>, %d: tensor<1x16x32xf32>) -> tensor<1x16xf32> {
  // expected-error @+1 {{gate dimension 2 must be 16, got 'tensor<1x32x8xf32>'}}
  %y = moe.expert_ffn %x experts(%g, %g, %d) swiglu
      : (tensor<1x16xf32>, tensor<1x32x8xf32>, tensor<1x32x8xf32>, tensor<1x16x32xf32>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

func.func @ffn_up(%x: tensor<1x16xf32>, %g: tensor<1x32x16xf32>, %u: tensor<1x24x16xf32>, %d: tensor<1x16x32xf32>) -> tensor<1x16xf32> {
  // expected-error @+1 {{up dimension 1 must be 32, got 'tensor<1x24x16xf32>'}}
  %y = moe.expert_ffn %x experts(%g, %u, %d) swiglu
      : (tensor<1x16xf32>, tensor<1x32x16xf32>, tensor<1x24x16xf32>, tensor<1x16x32xf32>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

func.func @ffn_down(%x: tensor<1x16xf32>, %g: tensor<1x32x16xf32>, %d: tensor<1x32x16xf32>) -> tensor<1x16xf32> {
  // expected-error @+1 {{down dimension 1 must be 16, got 'tensor<1x32x16xf32>'}}
  %y = moe.expert_ffn %x experts(%g, %g, %d) swiglu
      : (tensor<1x16xf32>, tensor<1x32x16xf32>, tensor<1x32x16xf32>, tensor<1x32x16xf32>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

// Neuron-major, down is [experts, inter, hidden].
func.func @ffn_down_neuron_major(%x: tensor<1x16xf32>, %g: tensor<1x32x16xf32>, %d: tensor<1x16x32xf32>) -> tensor<1x16xf32> {
  // expected-error @+1 {{down dimension 1 must be 32, got 'tensor<1x16x32xf32>'}}
  %y = moe.expert_ffn %x experts(%g, %g, %d) drelu down_neuron_major
      : (tensor<1x16xf32>, tensor<1x32x16xf32>, tensor<1x32x16xf32>, tensor<1x16x32xf32>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

func.func @ffn_unrouted_experts(%x: tensor<1x16xf32>, %g: tensor<4x32x16xf32>, %d: tensor<4x16x32xf32>) -> tensor<1x16xf32> {
  // expected-error @+1 {{without routing there must be exactly one expert, got 4}}
  %y = moe.expert_ffn %x experts(%g, %g, %d) swiglu
      : (tensor<1x16xf32>, tensor<4x32x16xf32>, tensor<4x32x16xf32>, tensor<4x16x32xf32>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

func.func @ffn_top_k(%x: tensor<1x16xf32>, %w: tensor<1x3xf32>, %ids: tensor<1x3xi32>, %g: tensor<2x32x16xf32>, %d: tensor<2x16x32xf32>) -> tensor<1x16xf32> {
  // expected-error @+1 {{routes 3 experts per token but has 2}}
  %y = moe.expert_ffn %x routing(%w, %ids) experts(%g, %g, %d) swiglu
      : (tensor<1x16xf32>, tensor<1x3xf32>, tensor<1x3xi32>, tensor<2x32x16xf32>, tensor<2x32x16xf32>, tensor<2x16x32xf32>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

func.func @ffn_ids_shape(%x: tensor<1x16xf32>, %w: tensor<1x2xf32>, %ids: tensor<1x1xi32>, %g: tensor<2x32x16xf32>, %d: tensor<2x16x32xf32>) -> tensor<1x16xf32> {
  // expected-error @+1 {{expert ids dimension 1 must be 2, got 'tensor<1x1xi32>'}}
  %y = moe.expert_ffn %x routing(%w, %ids) experts(%g, %g, %d) swiglu
      : (tensor<1x16xf32>, tensor<1x2xf32>, tensor<1x1xi32>, tensor<2x32x16xf32>, tensor<2x32x16xf32>, tensor<2x16x32xf32>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

func.func @ffn_routing_pair(%x: tensor<1x16xf32>, %w: tensor<1x1xf32>, %g: tensor<1x32x16xf32>, %d: tensor<1x16x32xf32>) -> tensor<1x16xf32> {
  // expected-error @+1 {{routing weights and expert ids go together}}
  %y = "moe.expert_ffn"(%x, %w, %g, %g, %d) <{activation = 0 : i32, operandSegmentSizes = array<i32: 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0>}>
      : (tensor<1x16xf32>, tensor<1x1xf32>, tensor<1x32x16xf32>, tensor<1x32x16xf32>, tensor<1x16x32xf32>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

func.func @ffn_shared_shape(%x: tensor<1x16xf32>, %g: tensor<1x32x16xf32>, %d: tensor<1x16x32xf32>, %sg: tensor<2x8x16xf32>, %sd: tensor<2x16x4xf32>) -> tensor<1x16xf32> {
  // expected-error @+1 {{shared down dimension 2 must be 8, got 'tensor<2x16x4xf32>'}}
  %y = moe.expert_ffn %x experts(%g, %g, %d) shared(%sg, %sg, %sd) swiglu
      : (tensor<1x16xf32>, tensor<1x32x16xf32>, tensor<1x32x16xf32>, tensor<1x16x32xf32>, tensor<2x8x16xf32>, tensor<2x8x16xf32>, tensor<2x16x4xf32>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

func.func @ffn_shared_incomplete(%x: tensor<1x16xf32>, %g: tensor<1x32x16xf32>, %d: tensor<1x16x32xf32>, %sg: tensor<2x8x16xf32>) -> tensor<1x16xf32> {
  // expected-error @+1 {{shared experts need gate, up and down weights}}
  %y = "moe.expert_ffn"(%x, %g, %g, %d, %sg) <{activation = 0 : i32, operandSegmentSizes = array<i32: 1, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0>}>
      : (tensor<1x16xf32>, tensor<1x32x16xf32>, tensor<1x32x16xf32>, tensor<1x16x32xf32>, tensor<2x8x16xf32>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

func.func @ffn_predictor_swiglu(%x: tensor<1x16xf32>, %g: tensor<1x32x16xf32>, %d: tensor<1x16x32xf32>, %p1: tensor<1x4x16xf32>, %p2: tensor<1x32x4xf32>) -> tensor<1x16xf32> {
  // expected-error @+1 {{an activation predictor needs the drelu activation}}
  %y = moe.expert_ffn %x experts(%g, %g, %d) predictor(%p1, %p2) swiglu
      : (tensor<1x16xf32>, tensor<1x32x16xf32>, tensor<1x32x16xf32>, tensor<1x16x32xf32>, tensor<1x4x16xf32>, tensor<1x32x4xf32>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

func.func @ffn_predictor_shape(%x: tensor<1x16xf32>, %g: tensor<1x32x16xf32>, %d: tensor<1x16x32xf32>, %p1: tensor<1x4x16xf32>, %p2: tensor<1x32x8xf32>) -> tensor<1x16xf32> {
  // expected-error @+1 {{predictor fc2 dimension 2 must be 4, got 'tensor<1x32x8xf32>'}}
  %y = moe.expert_ffn %x experts(%g, %g, %d) predictor(%p1, %p2) drelu
      : (tensor<1x16xf32>, tensor<1x32x16xf32>, tensor<1x32x16xf32>, tensor<1x16x32xf32>, tensor<1x4x16xf32>, tensor<1x32x8xf32>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

func.func @ffn_predictor_incomplete(%x: tensor<1x16xf32>, %g: tensor<1x32x16xf32>, %d: tensor<1x16x32xf32>, %p1: tensor<1x4x16xf32>) -> tensor<1x16xf32> {
  // expected-error @+1 {{the predictor needs fc1 and fc2 weights}}
  %y = "moe.expert_ffn"(%x, %g, %g, %d, %p1) <{activation = 3 : i32, operandSegmentSizes = array<i32: 1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0>}>
      : (tensor<1x16xf32>, tensor<1x32x16xf32>, tensor<1x32x16xf32>, tensor<1x16x32xf32>, tensor<1x4x16xf32>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

func.func @ffn_predictor_input_alone(%x: tensor<1x16xf32>, %g: tensor<1x32x16xf32>, %d: tensor<1x16x32xf32>) -> tensor<1x16xf32> {
  // expected-error @+1 {{a predictor input needs a predictor}}
  %y = moe.expert_ffn %x experts(%g, %g, %d) predictor_input(%x) drelu
      : (tensor<1x16xf32>, tensor<1x32x16xf32>, tensor<1x32x16xf32>, tensor<1x16x32xf32>, tensor<1x16xf32>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

func.func @ffn_predictor_input_shape(%x: tensor<1x16xf32>, %h: tensor<1x8xf32>, %g: tensor<1x32x16xf32>, %d: tensor<1x16x32xf32>, %p1: tensor<1x4x16xf32>, %p2: tensor<1x32x4xf32>) -> tensor<1x16xf32> {
  // expected-error @+1 {{predictor input dimension 1 must be 16, got 'tensor<1x8xf32>'}}
  %y = moe.expert_ffn %x experts(%g, %g, %d) predictor(%p1, %p2) predictor_input(%h) drelu
      : (tensor<1x16xf32>, tensor<1x32x16xf32>, tensor<1x32x16xf32>, tensor<1x16x32xf32>, tensor<1x4x16xf32>, tensor<1x32x4xf32>, tensor<1x8xf32>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

func.func @fused_drelu_predicted_shape(%x: tensor<16xf32>, %g: tensor<32x16xbf16>, %p: tensor<16xf32>) -> tensor<32xf32> {
  // expected-error @+1 {{predicted dimension 0 must be 32, got 'tensor<16xf32>'}}
  %a, %i, %n, %q = moe.fused_drelu %x, %g, %g predicted(%p : tensor<16xf32>, threshold = 0.0)
      : tensor<16xf32>, tensor<32x16xbf16> -> tensor<32xf32>, tensor<32xi32>
  return %a : tensor<32xf32>
}

// -----

func.func @fused_drelu_predicted_threshold(%x: tensor<16xf32>, %g: tensor<32x16xbf16>, %p: tensor<32xf32>) -> tensor<32xf32> {
  // expected-error @+1 {{predicted logits and a threshold go together}}
  %a, %i, %n, %q = "moe.fused_drelu"(%x, %g, %g, %p)
      : (tensor<16xf32>, tensor<32x16xbf16>, tensor<32x16xbf16>, tensor<32xf32>) -> (tensor<32xf32>, tensor<32xi32>, index, index)
  return %a : tensor<32xf32>
}

// -----

func.func @ffn_result(%x: tensor<1x16xf32>, %g: tensor<1x32x16xf32>, %d: tensor<1x16x32xf32>) -> tensor<1x32xf32> {
  // expected-error @+1 {{result dimension 1 must be 16, got 'tensor<1x32xf32>'}}
  %y = moe.expert_ffn %x experts(%g, %g, %d) swiglu
      : (tensor<1x16xf32>, tensor<1x32x16xf32>, tensor<1x32x16xf32>, tensor<1x16x32xf32>) -> tensor<1x32xf32>
  return %y : tensor<1x32xf32>
}

// -----

func.func @ffn_bad_activation(%x: tensor<1x16xf32>, %g: tensor<1x32x16xf32>, %d: tensor<1x16x32xf32>) -> tensor<1x16xf32> {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'activation' [swiglu, reglu, geglu, drelu]}}
  %y = moe.expert_ffn %x experts(%g, %g, %d) silu
      : (tensor<1x16xf32>, tensor<1x32x16xf32>, tensor<1x32x16xf32>, tensor<1x16x32xf32>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

func.func @drelu_types(%g: tensor<32xf32>, %u: tensor<16xf32>) -> tensor<32xf32> {
  // expected-error @+1 {{all non-scalar operands/results must have the same shape and base type}}
  %a = "moe.drelu"(%g, %u) : (tensor<32xf32>, tensor<16xf32>) -> tensor<32xf32>
  return %a : tensor<32xf32>
}

// -----

func.func @sparse_matvec_input(%w: tensor<16x32xf32>, %a: tensor<16xf32>, %idx: tensor<16xi32>, %n: index) -> tensor<16xf32> {
  // expected-error @+1 {{input dimension 0 must be 32, got 'tensor<16xf32>'}}
  %y = moe.sparse_matvec %w, %a active(%idx, %n) : tensor<16x32xf32>, tensor<16xf32>, tensor<16xi32> -> tensor<16xf32>
  return %y : tensor<16xf32>
}

// -----

func.func @sparse_matvec_capacity(%w: tensor<32x16xf32>, %a: tensor<32xf32>, %idx: tensor<64xi32>, %n: index) -> tensor<16xf32> {
  // expected-error @+1 {{indices hold 64 entries but the input has only 32}}
  %y = moe.sparse_matvec %w, %a active(%idx, %n) neuron_major : tensor<32x16xf32>, tensor<32xf32>, tensor<64xi32> -> tensor<16xf32>
  return %y : tensor<16xf32>
}

// -----

func.func @sparse_matvec_result(%w: tensor<32x16xf32>, %a: tensor<32xf32>, %idx: tensor<32xi32>, %n: index) -> tensor<32xf32> {
  // expected-error @+1 {{result dimension 0 must be 16, got 'tensor<32xf32>'}}
  %y = moe.sparse_matvec %w, %a active(%idx, %n) neuron_major : tensor<32x16xf32>, tensor<32xf32>, tensor<32xi32> -> tensor<32xf32>
  return %y : tensor<32xf32>
}

// -----

func.func @lm_head_hidden(%h: tensor<?x16xf32>, %w: tensor<100x8xf32>) -> tensor<?x100xf32> {
  // expected-error @+1 {{weight dimension 1 must be 16, got 'tensor<100x8xf32>'}}
  %l = moe.lm_head %h, %w : tensor<?x16xf32>, tensor<100x8xf32> -> tensor<?x100xf32>
  return %l : tensor<?x100xf32>
}

// -----

func.func @lm_head_vocab(%h: tensor<?x16xf32>, %w: tensor<100x16xf32>) -> tensor<?x99xf32> {
  // expected-error @+1 {{result dimension 1 must be 100, got 'tensor<?x99xf32>'}}
  %l = moe.lm_head %h, %w : tensor<?x16xf32>, tensor<100x16xf32> -> tensor<?x99xf32>
  return %l : tensor<?x99xf32>
}

// -----

func.func @score_token_ids(%h: tensor<?x16xf32>, %w: tensor<3x16xf32>, %ids: tensor<?xi32>) -> tensor<?x3xf32> {
  // expected-error @+1 {{token scoring takes no token ids or pad token}}
  %s = moe.score_head %h, %w tokens(%ids) token : (tensor<?x16xf32>, tensor<3x16xf32>, tensor<?xi32>) -> tensor<?x3xf32>
  return %s : tensor<?x3xf32>
}

// -----

func.func @score_pad_without_ids(%h: tensor<?x16xf32>, %w: tensor<3x16xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{the token ids and pad_token_id go together}}
  %s = moe.score_head %h, %w sequence pad_token_id = 0 : (tensor<?x16xf32>, tensor<3x16xf32>) -> tensor<3xf32>
  return %s : tensor<3xf32>
}

// -----

func.func @score_negative_pad(%h: tensor<?x16xf32>, %w: tensor<3x16xf32>, %ids: tensor<?xi32>) -> tensor<3xf32> {
  // expected-error @+1 {{pad_token_id must be non-negative, got -1}}
  %s = moe.score_head %h, %w tokens(%ids) sequence pad_token_id = -1 : (tensor<?x16xf32>, tensor<3x16xf32>, tensor<?xi32>) -> tensor<3xf32>
  return %s : tensor<3xf32>
}

// -----

func.func @score_sequence_result(%h: tensor<?x16xf32>, %w: tensor<3x16xf32>) -> tensor<?x3xf32> {
  // expected-error @+1 {{result must have rank 1, got 'tensor<?x3xf32>'}}
  %s = moe.score_head %h, %w sequence : (tensor<?x16xf32>, tensor<3x16xf32>) -> tensor<?x3xf32>
  return %s : tensor<?x3xf32>
}

// -----

func.func @score_bias(%h: tensor<?x16xf32>, %w: tensor<3x16xf32>, %b: tensor<2xf32>) -> tensor<?x3xf32> {
  // expected-error @+1 {{bias dimension 0 must be 3, got 'tensor<2xf32>'}}
  %s = moe.score_head %h, %w bias(%b) token : (tensor<?x16xf32>, tensor<3x16xf32>, tensor<2xf32>) -> tensor<?x3xf32>
  return %s : tensor<?x3xf32>
}

// -----

func.func @transposed_vector() -> tensor<4xf32> {
  // expected-error @+1 {{only matrices can be transposed}}
  %w = moe.weight [#moe.weight_ref<"m", "a", f32, [4], offset = 0>] transposed : tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

func.func @transposed_shape() -> tensor<4x8xf32> {
  // expected-error @+1 {{result type 'tensor<4x8xf32>' does not match 1 stacked part(s) of shape [8, 4]}}
  %w = moe.weight [#moe.weight_ref<"m", "a", f32, [4, 8], offset = 0>] transposed : tensor<4x8xf32>
  return %w : tensor<4x8xf32>
}

// -----

func.func @ffn_down_shape(%x: tensor<1x16xf32>, %g: tensor<1x32x16xf32>, %d: tensor<1x32x16xf32>) -> tensor<1x16xf32> {
  // expected-error @+1 {{down dimension 1 must be 16, got 'tensor<1x32x16xf32>'}}
  %y = moe.expert_ffn %x experts(%g, %g, %d) drelu
      : (tensor<1x16xf32>, tensor<1x32x16xf32>, tensor<1x32x16xf32>, tensor<1x32x16xf32>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

func.func @fused_drelu_up_shape(%x: tensor<16xf32>, %g: tensor<32x16xbf16>, %u: tensor<32x8xbf16>) {
  // expected-error @+1 {{all of {gate, up} have same type}}
  %a, %idx, %n, %p = "moe.fused_drelu"(%x, %g, %u) : (tensor<16xf32>, tensor<32x16xbf16>, tensor<32x8xbf16>) -> (tensor<32xf32>, tensor<32xi32>, index, index)
  return
}

// -----

func.func @fused_drelu_input(%x: tensor<8xf32>, %g: tensor<32x16xbf16>) {
  // expected-error @+1 {{gate dimension 1 must be 8, got 'tensor<32x16xbf16>'}}
  %a, %idx, %n, %p = moe.fused_drelu %x, %g, %g : tensor<8xf32>, tensor<32x16xbf16> -> tensor<32xf32>, tensor<32xi32>
  return
}

// -----

func.func @fused_drelu_indices(%x: tensor<16xf32>, %g: tensor<32x16xbf16>) {
  // expected-error @+1 {{indices dimension 0 must be 32, got 'tensor<16xi32>'}}
  %a, %idx, %n, %p = moe.fused_drelu %x, %g, %g : tensor<16xf32>, tensor<32x16xbf16> -> tensor<32xf32>, tensor<16xi32>
  return
}

// -----

func.func @linear_vector_result(%x: tensor<16xf32>, %w: tensor<8x16xbf16>) {
  // expected-error @+1 {{result dimension 0 must be 8, got 'tensor<16xf32>'}}
  %y = moe.linear %x, %w : (tensor<16xf32>, tensor<8x16xbf16>) -> tensor<16xf32>
  return
}

// -----

func.func @quantized_weight_not_f32() -> tensor<8x64xbf16> {
  // expected-error @+1 {{a quantized weight's result is f32, not 'bf16'}}
  %w = moe.weight [#moe.weight_ref<"m", "w", bf16, [8, 64], offset = 0>] format(<q8_0>) : tensor<8x64xbf16>
  return %w : tensor<8x64xbf16>
}

// -----

func.func @quantized_weight_odd_rows() -> tensor<8x40xf32> {
  // expected-error @+1 {{weight 'w': rows of 40 values are not whole q4_0 blocks of 32}}
  %w = moe.weight [#moe.weight_ref<"m", "w", bf16, [8, 40], offset = 0>] format(<q4_0>) : tensor<8x40xf32>
  return %w : tensor<8x40xf32>
}

// -----

func.func @interleaved_partial_group() -> tensor<8x256xf32> {
  // expected-error @+1 {{weight 'w': interleaved rows are whole groups of 16 blocks, not 256 values}}
  %w = moe.weight [#moe.weight_ref<"m", "w", bf16, [8, 256], offset = 0>] format(<q4_0, interleaved>) : tensor<8x256xf32>
  return %w : tensor<8x256xf32>
}

// -----

// expected-error @+2 {{expected one of [grouped, interleaved] for how a row's blocks are stored, got: diagonal}}
// expected-error @+1 {{failed to parse Moe_BlockFormatAttr parameter 'layout'}}
func.func @unknown_layout(%b: tensor<8x544xi8, #moe.blocks<q8_0, diagonal>>) {
  return
}

// -----

func.func @dequantize_no_encoding(%b: tensor<8x68xi8>) -> tensor<8x64xf32> {
  // expected-error @+1 {{blocks need a #moe.blocks encoding}}
  %d = moe.dequantize %b : tensor<8x68xi8> -> tensor<8x64xf32>
  return %d : tensor<8x64xf32>
}

// -----

func.func @dequantize_wrong_block(%b: tensor<8x68xi8, #moe.blocks<q4_0>>) -> tensor<8x64xf32> {
  // expected-error @+1 {{blocks of q4_0 are [..., rows, blocks * 18]}}
  %d = moe.dequantize %b : tensor<8x68xi8, #moe.blocks<q4_0>> -> tensor<8x64xf32>
  return %d : tensor<8x64xf32>
}

// -----

func.func @dequantize_wrong_result(%b: tensor<8x68xi8, #moe.blocks<q8_0>>) -> tensor<8x32xf32> {
  // expected-error @+1 {{is not the values of}}
  %d = moe.dequantize %b : tensor<8x68xi8, #moe.blocks<q8_0>> -> tensor<8x32xf32>
  return %d : tensor<8x32xf32>
}

// -----

func.func @router_uniform_no_positions(%x: tensor<1x16xf32>) {
  // expected-error @+1 {{uniform routing needs the positions}}
  %w, %ids = moe.router %x experts = 4 top_k = 2 uniform softmax
      : (tensor<1x16xf32>) -> (tensor<1x2xf32>, tensor<1x2xi32>)
  return
}

// -----

func.func @router_positions_learned(%x: tensor<1x16xf32>, %g: tensor<4x16xf32>, %p: tensor<1xi32>) {
  // expected-error @+1 {{positions are only used by uniform routing}}
  %w, %ids = moe.router %x gate(%g) positions(%p) experts = 4 top_k = 1 learned softmax
      : (tensor<1x16xf32>, tensor<4x16xf32>, tensor<1xi32>) -> (tensor<1x1xf32>, tensor<1x1xi32>)
  return
}

// -----

func.func @router_iterations_softmax(%x: tensor<1x16xf32>, %g: tensor<4x16xf32>) {
  // expected-error @+1 {{iterations only apply to sinkhorn}}
  %w, %ids = moe.router %x gate(%g) experts = 4 top_k = 1 learned softmax iterations = 2
      : (tensor<1x16xf32>, tensor<4x16xf32>) -> (tensor<1x1xf32>, tensor<1x1xi32>)
  return
}

// -----

func.func @router_iterations_zero(%x: tensor<1x16xf32>, %g: tensor<4x16xf32>) {
  // expected-error @+1 {{sinkhorn needs at least 1 iteration, got 0}}
  %w, %ids = moe.router %x gate(%g) experts = 4 top_k = 1 learned sinkhorn iterations = 0
      : (tensor<1x16xf32>, tensor<4x16xf32>) -> (tensor<1x1xf32>, tensor<1x1xi32>)
  return
}

// -----

func.func @router_hash_weighting(%x: tensor<1x16xf32>, %t: tensor<1xi32>) {
  // expected-error @+1 {{weighting only applies to learned routing}}
  %w, %ids = moe.router %x tokens(%t) experts = 4 top_k = 1 hash softmax weighting = sigmoid
      : (tensor<1x16xf32>, tensor<1xi32>) -> (tensor<1x1xf32>, tensor<1x1xi32>)
  return
}

// -----

func.func @layer_norm_bias(%x: tensor<?x16xf32>, %w: tensor<16xbf16>, %b: tensor<8xbf16>) {
  // expected-error @+1 {{bias dimension 0 must be 16, got 'tensor<8xbf16>'}}
  %n = moe.layer_norm %x, %w, %b eps = 1.0e-5 : tensor<?x16xf32>, tensor<16xbf16>, tensor<8xbf16>
  return
}

// -----

func.func @attention_alibi_count(%q: tensor<1x4x8xf32>, %kv: tensor<2x64x4x8xf32>, %pos: tensor<1xi32>) {
  // expected-error @+1 {{alibi needs 4 slopes (one per head), got 2}}
  %o, %kv1 = moe.attention %q, %q, %q cache(%kv) positions(%pos)
      heads = 4 kv_heads = 4 head_dim = 8 causal alibi [0.5, 0.25]
      : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<2x64x4x8xf32>, tensor<1xi32>
  return
}

// -----

func.func @expert_biases_shape(%x: tensor<?x16xf32>, %g: tensor<1x32x16xbf16>, %d: tensor<1x16x32xbf16>, %b: tensor<1x32xbf16>) {
  // expected-error @+1 {{down bias dimension 1 must be 16, got 'tensor<1x32xbf16>'}}
  %y = moe.expert_ffn %x experts(%g, %g, %d) biases(%b, %b, %b) swiglu
      : (tensor<?x16xf32>, tensor<1x32x16xbf16>, tensor<1x32x16xbf16>, tensor<1x16x32xbf16>,
         tensor<1x32xbf16>, tensor<1x32xbf16>, tensor<1x32xbf16>) -> tensor<?x16xf32>
  return
}

// -----

func.func @attention_batch_not_causal(%q: tensor<?x4x8xf32>, %k: tensor<?x2x8xf32>, %c: tensor<2x64x2x8xf32>, %pos: tensor<?xi32>, %off: tensor<?xi32>) {
  // expected-error @+1 {{with offsets (a batch of sequences) must be causal}}
  %o, %kv = moe.attention %q, %k, %k cache(%c) positions(%pos) offsets(%off) heads = 4 kv_heads = 2 head_dim = 8
      : tensor<?x4x8xf32>, tensor<?x2x8xf32>, tensor<2x64x2x8xf32>, tensor<?xi32>, tensor<?xi32>
  return
}

// -----

func.func @attention_batch_offsets(%q: tensor<3x4x8xf32>, %k: tensor<3x2x8xf32>, %c: tensor<2x64x2x8xf32>, %pos: tensor<3xi32>, %off: tensor<2xi32>) {
  // expected-error @+1 {{offsets dimension 0 must be 3, got 'tensor<2xi32>'}}
  %o, %kv = moe.attention %q, %k, %k cache(%c) positions(%pos) offsets(%off) heads = 4 kv_heads = 2 head_dim = 8 causal
      : tensor<3x4x8xf32>, tensor<3x2x8xf32>, tensor<2x64x2x8xf32>, tensor<3xi32>, tensor<2xi32>
  return
}
