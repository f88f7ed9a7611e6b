// RUN: moec-opt %s --split-input-file --verify-diagnostics

func.func @matvec_width(%x: tensor<?x32xf32>, %w: tensor<32x64xbf16>) {
  // expected-error @+1 {{weight dimension 1 must be 32, got 'tensor<32x64xbf16>'}}
  %0 = kernel.matvec %x, %w : tensor<?x32xf32>, tensor<32x64xbf16> -> tensor<?x32xf32>
  return
}

// -----

func.func @matvec_result(%x: tensor<?x64xf32>, %w: tensor<32x64xbf16>) {
  // expected-error @+1 {{result dimension 1 must be 32, got 'tensor<?x16xf32>'}}
  %0 = kernel.matvec %x, %w : tensor<?x64xf32>, tensor<32x64xbf16> -> tensor<?x16xf32>
  return
}

// -----

func.func @matvec_bf16_input(%x: tensor<?x64xbf16>, %w: tensor<32x64xbf16>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of 32-bit float values}}
  %0 = kernel.matvec %x, %w : tensor<?x64xbf16>, tensor<32x64xbf16> -> tensor<?x32xf32>
  return
}

// -----

func.func @gate_up_types(%x: tensor<64xf32>, %g: tensor<128x64xbf16>, %u: tensor<128x64xf16>) {
  // expected-error @+1 {{all of {gate, up} have same type}}
  %a:4 = "kernel.gate_up"(%x, %g, %u) {activation = 3 : i32} : (tensor<64xf32>, tensor<128x64xbf16>, tensor<128x64xf16>) -> (tensor<128xf32>, tensor<128xi32>, index, index)
  return
}

// -----

func.func @gate_up_indices(%x: tensor<64xf32>, %g: tensor<128x64xbf16>, %u: tensor<128x64xbf16>) {
  // expected-error @+1 {{indices dimension 0 must be 128, got 'tensor<64xi32>'}}
  %a:4 = kernel.gate_up %x, %g, %u drelu : tensor<64xf32>, tensor<128x64xbf16> -> tensor<128xf32>, tensor<64xi32>
  return
}

// -----

func.func @gate_up_predicted_swiglu(%x: tensor<64xf32>, %g: tensor<128x64xbf16>, %l: tensor<128xf32>) {
  // expected-error @+1 {{predicted neurons need the drelu activation}}
  %a:4 = kernel.gate_up %x, %g, %g swiglu predicted(%l : tensor<128xf32>, threshold = 0.0) : tensor<64xf32>, tensor<128x64xbf16> -> tensor<128xf32>, tensor<128xi32>
  return
}

// -----

func.func @gate_up_predicted_shape(%x: tensor<64xf32>, %g: tensor<128x64xbf16>, %l: tensor<64xf32>) {
  // expected-error @+1 {{predicted dimension 0 must be 128, got 'tensor<64xf32>'}}
  %a:4 = kernel.gate_up %x, %g, %g drelu predicted(%l : tensor<64xf32>, threshold = 0.0) : tensor<64xf32>, tensor<128x64xbf16> -> tensor<128xf32>, tensor<128xi32>
  return
}

// -----

func.func @sparse_layout(%w: tensor<64x128xbf16>, %a: tensor<128xf32>, %i: tensor<128xi32>, %n: index) {
  // expected-error @+1 {{input dimension 0 must be 64, got 'tensor<128xf32>'}}
  %0 = kernel.sparse_matvec %w, %a active(%i, %n) neuron_major : tensor<64x128xbf16>, tensor<128xf32>, tensor<128xi32> -> tensor<128xf32>
  return
}

// -----

func.func @router_top_k_too_many(%x: tensor<?x64xf32>, %g: tensor<4x64xbf16>) {
  // expected-error @+1 {{top_k must be in [1, 4], got 5}}
  %w, %ids = kernel.router_top_k %x, %g top_k = 5 : tensor<?x64xf32>, tensor<4x64xbf16> -> tensor<?x5xf32>, tensor<?x5xi32>
  return
}

// -----

func.func @router_top_k_null_bias(%x: tensor<?x64xf32>, %g: tensor<4x64xbf16>) {
  // expected-error @+1 {{null_expert_bias only applies with renormalize}}
  %w, %ids = kernel.router_top_k %x, %g top_k = 1 null_expert_bias = 1.1 : tensor<?x64xf32>, tensor<4x64xbf16> -> tensor<?x1xf32>, tensor<?x1xi32>
  return
}

// -----

func.func @cpu_mapping_bf16_dot(%x: tensor<?x64xf32>, %w: tensor<32x64xbf16>) {
  // expected-error @+1 {{#kernel.cpu: bf16_dot needs 16 lanes (AVX-512)}}
  %0 = kernel.matvec %x, %w mapping(#kernel.cpu<lanes = 8, accumulators = 2, tasks = 16, bf16_dot = true>) : tensor<?x64xf32>, tensor<32x64xbf16> -> tensor<?x32xf32>
  return
}

// -----

func.func @gpu_mapping_warps(%x: tensor<?x64xf32>, %w: tensor<32x64xbf16>) {
  // expected-error @+1 {{#kernel.gpu: warps must be in [1, 32]}}
  %0 = kernel.matvec %x, %w mapping(#kernel.gpu<warps = 64, unroll = 2, splits = 8>) : tensor<?x64xf32>, tensor<32x64xbf16> -> tensor<?x32xf32>
  return
}

// -----

func.func @mapping_kind(%x: tensor<?x64xf32>, %w: tensor<32x64xbf16>) {
  // expected-error @+1 {{attribute 'mapping' failed to satisfy constraint}}
  %0 = kernel.matvec %x, %w mapping(42 : i64) : tensor<?x64xf32>, tensor<32x64xbf16> -> tensor<?x32xf32>
  return
}

// -----

func.func @rms_norm_weight(%x: tensor<?x64xf32>, %w: tensor<32xbf16>) {
  // expected-error @+1 {{weight dimension 0 must be 64, got 'tensor<32xbf16>'}}
  %0 = kernel.rms_norm %x, %w eps = 1.000000e-05 : tensor<?x64xf32>, tensor<32xbf16>
  return
}

// -----

func.func @rms_norm_eps(%x: tensor<?x64xf32>, %w: tensor<64xbf16>) {
  // expected-error @+1 {{eps must be positive and finite, got 0}}
  %0 = kernel.rms_norm %x, %w eps = 0.000000e+00 : tensor<?x64xf32>, tensor<64xbf16>
  return
}

// -----

func.func @rope_head_dim(%q: tensor<?x4x16xf32>, %pos: tensor<?xi32>) {
  // expected-error @+1 {{input dimension 2 must be 8, got 'tensor<?x4x16xf32>'}}
  %0 = kernel.rope %q[%pos] theta = 1.000000e+04 head_dim = 8 rotate_half : tensor<?x4x16xf32>, tensor<?xi32>
  return
}

// -----

func.func @rope_odd(%q: tensor<?x4x7xf32>, %pos: tensor<?xi32>) {
  // expected-error @+1 {{head_dim must be even, got 7}}
  %0 = kernel.rope %q[%pos] theta = 1.000000e+04 head_dim = 7 rotate_half : tensor<?x4x7xf32>, tensor<?xi32>
  return
}

// -----

func.func @cache_write_heads(%k: tensor<?x4x16xf32>, %c: tensor<2x128x2x16xf32>, %pos: tensor<?xi32>) {
  // expected-error @+1 {{k dimension 1 must be 2, got 'tensor<?x4x16xf32>'}}
  %0 = kernel.cache_write %k, %k into(%c) positions(%pos) : tensor<?x4x16xf32>, tensor<2x128x2x16xf32>, tensor<?xi32>
  return
}

// -----

func.func @cache_write_halves(%k: tensor<?x2x16xf32>, %c: tensor<128x2x16xf32>, %pos: tensor<?xi32>) {
  // expected-error @+1 {{kv_cache must have rank 4, got 'tensor<128x2x16xf32>'}}
  %0 = kernel.cache_write %k, %k into(%c) positions(%pos) : tensor<?x2x16xf32>, tensor<128x2x16xf32>, tensor<?xi32>
  return
}

// -----

func.func @cache_write_positions(%k: tensor<3x2x16xf32>, %c: tensor<2x128x2x16xf32>, %pos: tensor<2xi32>) {
  // expected-error @+1 {{positions dimension 0 must be 3, got 'tensor<2xi32>'}}
  %0 = kernel.cache_write %k, %k into(%c) positions(%pos) : tensor<3x2x16xf32>, tensor<2x128x2x16xf32>, tensor<2xi32>
  return
}

// -----

func.func @attention_groups(%q: tensor<?x4x16xf32>, %c: tensor<2x128x3x16xf32>, %pos: tensor<?xi32>) {
  // expected-error @+1 {{kv_heads (3) must divide heads (4)}}
  %0 = kernel.attention %q cache(%c) positions(%pos) heads = 4 kv_heads = 3 head_dim = 16 scale = 2.500000e-01 causal : tensor<?x4x16xf32>, tensor<2x128x3x16xf32>, tensor<?xi32>
  return
}

// -----

func.func @attention_cache(%q: tensor<?x4x16xf32>, %c: tensor<2x128x2x8xf32>, %pos: tensor<?xi32>) {
  // expected-error @+1 {{kv_cache dimension 3 must be 16, got 'tensor<2x128x2x8xf32>'}}
  %0 = kernel.attention %q cache(%c) positions(%pos) heads = 4 kv_heads = 2 head_dim = 16 scale = 2.500000e-01 causal : tensor<?x4x16xf32>, tensor<2x128x2x8xf32>, tensor<?xi32>
  return
}

// -----

func.func @attention_window(%q: tensor<?x4x16xf32>, %c: tensor<2x128x2x16xf32>, %pos: tensor<?xi32>) {
  // expected-error @+1 {{window must be positive, got 0}}
  %0 = kernel.attention %q cache(%c) positions(%pos) heads = 4 kv_heads = 2 head_dim = 16 scale = 2.500000e-01 causal window = 0 : tensor<?x4x16xf32>, tensor<2x128x2x16xf32>, tensor<?xi32>
  return
}

// -----

func.func @attention_scale(%q: tensor<?x4x16xf32>, %c: tensor<2x128x2x16xf32>, %pos: tensor<?xi32>) {
  // expected-error @+1 {{scale must be positive and finite, got 0}}
  %0 = kernel.attention %q cache(%c) positions(%pos) heads = 4 kv_heads = 2 head_dim = 16 scale = 0.000000e+00 causal : tensor<?x4x16xf32>, tensor<2x128x2x16xf32>, tensor<?xi32>
  return
}

// -----

func.func @attention_alibi_slope(%q: tensor<?x2x4xf32>, %kv: tensor<2x64x1x4xbf16>, %pos: tensor<?xi32>) {
  // expected-error @+1 {{alibi slopes must be positive, got -1}}
  %o = kernel.attention %q cache(%kv) positions(%pos) heads = 2 kv_heads = 1 head_dim = 4 scale = 2.500000e-01 causal alibi [0.25, -1.0] : tensor<?x2x4xf32>, tensor<2x64x1x4xbf16>, tensor<?xi32>
  return
}

// -----

func.func @attention_batch_not_causal(%q: tensor<?x4x16xf32>, %c: tensor<2x128x2x16xf32>, %pos: tensor<?xi32>, %off: tensor<?xi32>) {
  // expected-error @+1 {{with offsets (a batch of sequences) must be causal}}
  %0 = kernel.attention %q cache(%c) positions(%pos) offsets(%off) heads = 4 kv_heads = 2 head_dim = 16 scale = 2.500000e-01 : tensor<?x4x16xf32>, tensor<2x128x2x16xf32>, tensor<?xi32>, tensor<?xi32>
  return
}

// -----

func.func @cache_write_offsets(%k: tensor<3x2x16xf32>, %c: tensor<2x128x2x16xf32>, %pos: tensor<3xi32>, %off: tensor<4xi32>) {
  // expected-error @+1 {{offsets dimension 0 must be 3, got 'tensor<4xi32>'}}
  %0 = kernel.cache_write %k, %k into(%c) positions(%pos) offsets(%off) : tensor<3x2x16xf32>, tensor<2x128x2x16xf32>, tensor<3xi32>, tensor<4xi32>
  return
}
