// RUN: moec-opt %s --split-input-file | FileCheck %s --enable-var-scope
// Printing, then parsing the printed form, must give the same IR.
// RUN: moec-opt %s --split-input-file | moec-opt --split-input-file | FileCheck %s --enable-var-scope
// The generic form must round-trip too.
// RUN: moec-opt %s --split-input-file --mlir-print-op-generic | moec-opt --split-input-file | FileCheck %s --enable-var-scope

// CHECK-LABEL: func.func @weight_single
// CHECK: moe.weight [#moe.weight_ref<"model.safetensors", "model.embed_tokens.weight", bf16, [32000, 4096], offset = 1024>] : tensor<32000x4096xbf16>
func.func @weight_single() -> tensor<32000x4096xbf16> {
  %w = moe.weight [#moe.weight_ref<"model.safetensors", "model.embed_tokens.weight", bf16, [32000, 4096], offset = 1024>] : tensor<32000x4096xbf16>
  return %w : tensor<32000x4096xbf16>
}

// -----

// One part may also gain a leading unit dimension (a dense MLP as one expert).
// CHECK-LABEL: func.func @weight_single_leading_one
// CHECK: moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.mlp.up_proj.weight", f16, [64, 16], offset = 8>] : tensor<1x64x16xf16>
func.func @weight_single_leading_one() -> tensor<1x64x16xf16> {
  %w = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.mlp.up_proj.weight", f16, [64, 16], offset = 8>] : tensor<1x64x16xf16>
  return %w : tensor<1x64x16xf16>
}

// -----

// Stored converted: bf16 in the checkpoint, f16 in the artifact.
// CHECK-LABEL: func.func @weight_converted
// CHECK: moe.weight [#moe.weight_ref<"model.safetensors", "w", bf16, [64, 16], offset = 0>] : tensor<64x16xf16>
func.func @weight_converted() -> tensor<64x16xf16> {
  %w = moe.weight [#moe.weight_ref<"model.safetensors", "w", bf16, [64, 16], offset = 0>] : tensor<64x16xf16>
  return %w : tensor<64x16xf16>
}

// -----

// Per-expert tensors stacked into [experts, inter, hidden], from two shards.
// CHECK-LABEL: func.func @weight_stacked
// CHECK: moe.weight [#moe.weight_ref<"model-00001-of-00002.safetensors", "model.layers.0.block_sparse_moe.experts.0.w1.weight", f32, [64, 16], offset = 0>, #moe.weight_ref<"model-00002-of-00002.safetensors", "model.layers.0.block_sparse_moe.experts.1.w1.weight", f32, [64, 16], offset = 4096>] : tensor<2x64x16xf32>
func.func @weight_stacked() -> tensor<2x64x16xf32> {
  %w = moe.weight [#moe.weight_ref<"model-00001-of-00002.safetensors", "model.layers.0.block_sparse_moe.experts.0.w1.weight", f32, [64, 16], offset = 0>,
                   #moe.weight_ref<"model-00002-of-00002.safetensors", "model.layers.0.block_sparse_moe.experts.1.w1.weight", f32, [64, 16], offset = 4096>] : tensor<2x64x16xf32>
  return %w : tensor<2x64x16xf32>
}

// -----

// CHECK-LABEL: func.func @embedding
// CHECK-SAME: (%[[TABLE:.+]]: tensor<100x16xbf16>, %[[IDS:.+]]: tensor<?xi32>)
// CHECK: moe.embedding %[[TABLE]][%[[IDS]]] : tensor<100x16xbf16>, tensor<?xi32> -> tensor<?x16xf32>
func.func @embedding(%table: tensor<100x16xbf16>, %ids: tensor<?xi32>) -> tensor<?x16xf32> {
  %h = moe.embedding %table[%ids] : tensor<100x16xbf16>, tensor<?xi32> -> tensor<?x16xf32>
  return %h : tensor<?x16xf32>
}

// -----

// CHECK-LABEL: func.func @rms_norm
// CHECK-SAME: (%[[X:.+]]: tensor<?x16xf32>, %[[W:.+]]: tensor<16xbf16>)
// CHECK: moe.rms_norm %[[X]], %[[W]] eps = 1.000000e-05 : tensor<?x16xf32>, tensor<16xbf16>
func.func @rms_norm(%x: tensor<?x16xf32>, %w: tensor<16xbf16>) -> tensor<?x16xf32> {
  %y = moe.rms_norm %x, %w eps = 1.0e-5 : tensor<?x16xf32>, tensor<16xbf16>
  return %y : tensor<?x16xf32>
}

// -----

// CHECK-LABEL: func.func @rope
// CHECK-SAME: (%[[Q:.+]]: tensor<?x4x8xf32>, %[[POS:.+]]: tensor<?xi32>)
// CHECK: moe.rope %[[Q]][%[[POS]]] theta = 1.000000e+06 head_dim = 8 rotate_half : tensor<?x4x8xf32>, tensor<?xi32>
// CHECK: moe.rope %{{.+}}[%[[POS]]] theta = 1.000000e+04 head_dim = 8 interleaved : tensor<?x4x8xf32>, tensor<?xi32>
// A scaled RoPE gives its inverse frequencies.
// CHECK: moe.rope %{{.+}}[%[[POS]]] theta = 1.000000e+04 head_dim = 8 rotate_half inv_freq [2.500000e-01, 2.500000e-02, 2.500000e-03, 2.500000e-04] : tensor<?x4x8xf32>, tensor<?xi32>
func.func @rope(%q: tensor<?x4x8xf32>, %pos: tensor<?xi32>) -> tensor<?x4x8xf32> {
  %0 = moe.rope %q[%pos] theta = 1.0e6 head_dim = 8 rotate_half : tensor<?x4x8xf32>, tensor<?xi32>
  %1 = moe.rope %0[%pos] theta = 1.0e4 head_dim = 8 interleaved : tensor<?x4x8xf32>, tensor<?xi32>
  %2 = moe.rope %1[%pos] theta = 1.0e4 head_dim = 8 rotate_half inv_freq [0.25, 0.025, 0.0025, 0.00025] : tensor<?x4x8xf32>, tensor<?xi32>
  return %2 : tensor<?x4x8xf32>
}

// -----

// CHECK-LABEL: func.func @linear
// CHECK-SAME: (%[[X:.+]]: tensor<?x16xf32>, %[[W:.+]]: tensor<32x16xbf16>, %[[B:.+]]: tensor<32xf32>)
// CHECK: moe.linear %[[X]], %[[W]] : (tensor<?x16xf32>, tensor<32x16xbf16>) -> tensor<?x32xf32>
// CHECK: moe.linear %[[X]], %[[W]] bias(%[[B]]) : (tensor<?x16xf32>, tensor<32x16xbf16>, tensor<32xf32>) -> tensor<?x32xf32>
func.func @linear(%x: tensor<?x16xf32>, %w: tensor<32x16xbf16>, %b: tensor<32xf32>) -> (tensor<?x32xf32>, tensor<?x32xf32>) {
  %0 = moe.linear %x, %w : (tensor<?x16xf32>, tensor<32x16xbf16>) -> tensor<?x32xf32>
  %1 = moe.linear %x, %w bias(%b) : (tensor<?x16xf32>, tensor<32x16xbf16>, tensor<32xf32>) -> tensor<?x32xf32>
  return %0, %1 : tensor<?x32xf32>, tensor<?x32xf32>
}

// -----

// CHECK-LABEL: func.func @attention
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<1x4x8xf32>, %[[K:[^:]+]]: tensor<1x2x8xf32>, %[[V:[^:]+]]: tensor<1x2x8xf32>, %[[KV:[^:]+]]: tensor<2x64x2x8xbf16>, %[[POS:[^:]+]]: tensor<1xi32>)
// CHECK: %{{.+}}, %[[KV1:.+]] = moe.attention %[[Q]], %[[K]], %[[V]] cache(%[[KV]]) positions(%[[POS]]) heads = 4 kv_heads = 2 head_dim = 8 causal : tensor<1x4x8xf32>, tensor<1x2x8xf32>, tensor<2x64x2x8xbf16>, tensor<1xi32>
// CHECK: moe.attention {{.+}} cache(%[[KV1]]) {{.+}} heads = 4 kv_heads = 2 head_dim = 8 causal window = 16 scale = 2.500000e-01 :
func.func @attention(%q: tensor<1x4x8xf32>, %k: tensor<1x2x8xf32>, %v: tensor<1x2x8xf32>,
                     %kv: tensor<2x64x2x8xbf16>, %pos: tensor<1xi32>)
    -> (tensor<1x4x8xf32>, tensor<2x64x2x8xbf16>) {
  %o, %kv1 = moe.attention %q, %k, %v cache(%kv) positions(%pos)
      heads = 4 kv_heads = 2 head_dim = 8 causal
      : tensor<1x4x8xf32>, tensor<1x2x8xf32>, tensor<2x64x2x8xbf16>, tensor<1xi32>
  %o2, %kv2 = moe.attention %o, %k, %v cache(%kv1) positions(%pos)
      heads = 4 kv_heads = 2 head_dim = 8 causal window = 16 scale = 0.25
      : tensor<1x4x8xf32>, tensor<1x2x8xf32>, tensor<2x64x2x8xbf16>, tensor<1xi32>
  return %o2, %kv2 : tensor<1x4x8xf32>, tensor<2x64x2x8xbf16>
}

// -----

// CHECK-LABEL: func.func @router_learned
// CHECK-SAME: (%[[X:.+]]: tensor<?x16xf32>, %[[G:.+]]: tensor<8x16xbf16>)
// CHECK: moe.router %[[X]] gate(%[[G]]) experts = 8 top_k = 2 learned softmax renormalize : (tensor<?x16xf32>, tensor<8x16xbf16>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
// CHECK: moe.router %[[X]] gate(%[[G]]) experts = 8 top_k = 2 learned sigmoid : (tensor<?x16xf32>, tensor<8x16xbf16>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
// CHECK: moe.router %[[X]] gate(%[[G]]) experts = 8 top_k = 1 learned sinkhorn renormalize null_expert_bias = 1.100000e+00 : (tensor<?x16xf32>, tensor<8x16xbf16>) -> (tensor<?x1xf32>, tensor<?x1xi32>)
func.func @router_learned(%x: tensor<?x16xf32>, %g: tensor<8x16xbf16>)
    -> (tensor<?x2xi32>, tensor<?x2xf32>, tensor<?x1xf32>) {
  %w, %ids = moe.router %x gate(%g) experts = 8 top_k = 2 learned softmax renormalize
      : (tensor<?x16xf32>, tensor<8x16xbf16>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  %w2, %ids2 = moe.router %x gate(%g) experts = 8 top_k = 2 learned sigmoid
      : (tensor<?x16xf32>, tensor<8x16xbf16>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  %w3, %ids3 = moe.router %x gate(%g) experts = 8 top_k = 1 learned sinkhorn renormalize null_expert_bias = 1.1
      : (tensor<?x16xf32>, tensor<8x16xbf16>) -> (tensor<?x1xf32>, tensor<?x1xi32>)
  return %ids, %w2, %w3 : tensor<?x2xi32>, tensor<?x2xf32>, tensor<?x1xf32>
}

// -----

// CHECK-LABEL: func.func @router_hash
// CHECK-SAME: (%[[X:.+]]: tensor<?x16xf32>, %[[T:.+]]: tensor<?xi32>)
// CHECK: moe.router %[[X]] tokens(%[[T]]) experts = 4 top_k = 1 hash softmax : (tensor<?x16xf32>, tensor<?xi32>) -> (tensor<?x1xf32>, tensor<?x1xi32>)
// CHECK: moe.router %[[X]] positions(%[[T]]) experts = 4 top_k = 2 uniform softmax renormalize : (tensor<?x16xf32>, tensor<?xi32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
func.func @router_hash(%x: tensor<?x16xf32>, %t: tensor<?xi32>) -> (tensor<?x1xi32>, tensor<?x2xi32>) {
  %w, %ids = moe.router %x tokens(%t) experts = 4 top_k = 1 hash softmax
      : (tensor<?x16xf32>, tensor<?xi32>) -> (tensor<?x1xf32>, tensor<?x1xi32>)
  %w2, %ids2 = moe.router %x positions(%t) experts = 4 top_k = 2 uniform softmax renormalize
      : (tensor<?x16xf32>, tensor<?xi32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return %ids, %ids2 : tensor<?x1xi32>, tensor<?x2xi32>
}

// -----

// CHECK-LABEL: func.func @router_weighting
// CHECK: moe.router %{{.+}} gate(%{{.+}}) experts = 8 top_k = 2 learned sigmoid weighting = softmax renormalize null_expert_bias = 1.100000e+00 :
// CHECK: moe.router %{{.+}} gate(%{{.+}}) experts = 8 top_k = 2 learned sinkhorn weighting = sigmoid iterations = 3 :
func.func @router_weighting(%x: tensor<?x16xf32>, %g: tensor<8x16xbf16>) -> (tensor<?x2xf32>, tensor<?x2xf32>) {
  %w, %ids = moe.router %x gate(%g) experts = 8 top_k = 2 learned sigmoid weighting = softmax
      renormalize null_expert_bias = 1.1
      : (tensor<?x16xf32>, tensor<8x16xbf16>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  %w2, %ids2 = moe.router %x gate(%g) experts = 8 top_k = 2 learned sinkhorn weighting = sigmoid
      iterations = 3 : (tensor<?x16xf32>, tensor<8x16xbf16>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return %w, %w2 : tensor<?x2xf32>, tensor<?x2xf32>
}

// -----

// CHECK-LABEL: func.func @expert_ffn_routed
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x16xf32>, %[[W:[^:]+]]: tensor<?x2xf32>, %[[IDS:[^:]+]]: tensor<?x2xi32>, %[[G:[^:]+]]: tensor<4x32x16xbf16>, %[[U:[^:]+]]: tensor<4x32x16xbf16>, %[[D:[^:]+]]: tensor<4x16x32xbf16>)
// CHECK: moe.expert_ffn %[[X]] routing(%[[W]], %[[IDS]]) experts(%[[G]], %[[U]], %[[D]]) swiglu : (tensor<?x16xf32>, tensor<?x2xf32>, tensor<?x2xi32>, tensor<4x32x16xbf16>, tensor<4x32x16xbf16>, tensor<4x16x32xbf16>) -> tensor<?x16xf32>
func.func @expert_ffn_routed(%x: tensor<?x16xf32>, %w: tensor<?x2xf32>, %ids: tensor<?x2xi32>,
                             %g: tensor<4x32x16xbf16>, %u: tensor<4x32x16xbf16>, %d: tensor<4x16x32xbf16>) -> tensor<?x16xf32> {
  %y = moe.expert_ffn %x routing(%w, %ids) experts(%g, %u, %d) swiglu
      : (tensor<?x16xf32>, tensor<?x2xf32>, tensor<?x2xi32>, tensor<4x32x16xbf16>, tensor<4x32x16xbf16>, tensor<4x16x32xbf16>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// A dense MLP is the one-expert case without routing.
// CHECK-LABEL: func.func @expert_ffn_dense
// CHECK: moe.expert_ffn %{{.+}} experts(%{{.+}}, %{{.+}}, %{{.+}}) reglu : (tensor<1x16xf32>, tensor<1x32x16xf16>, tensor<1x32x16xf16>, tensor<1x16x32xf16>) -> tensor<1x16xf32>
// CHECK: moe.expert_ffn %{{.+}} experts(%{{.+}}, %{{.+}}, %{{.+}}) geglu :
func.func @expert_ffn_dense(%x: tensor<1x16xf32>, %g: tensor<1x32x16xf16>, %d: tensor<1x16x32xf16>) -> tensor<1x16xf32> {
  %y = moe.expert_ffn %x experts(%g, %g, %d) reglu
      : (tensor<1x16xf32>, tensor<1x32x16xf16>, tensor<1x32x16xf16>, tensor<1x16x32xf16>) -> tensor<1x16xf32>
  %z = moe.expert_ffn %y experts(%g, %g, %d) geglu
      : (tensor<1x16xf32>, tensor<1x32x16xf16>, tensor<1x32x16xf16>, tensor<1x16x32xf16>) -> tensor<1x16xf32>
  return %z : tensor<1x16xf32>
}

// -----

// A dReLU block reading its down weight neuron-major ([experts, inter,
// hidden]).
// CHECK-LABEL: func.func @expert_ffn_down_neuron_major
// CHECK: moe.expert_ffn %{{.+}} routing(%{{.+}}, %{{.+}}) experts(%{{.+}}, %{{.+}}, %{{.+}}) drelu down_neuron_major : (tensor<?x16xf32>, tensor<?x2xf32>, tensor<?x2xi32>, tensor<4x32x16xbf16>, tensor<4x32x16xbf16>, tensor<4x32x16xbf16>) -> tensor<?x16xf32>
func.func @expert_ffn_down_neuron_major(%x: tensor<?x16xf32>, %w: tensor<?x2xf32>, %ids: tensor<?x2xi32>,
                                        %g: tensor<4x32x16xbf16>) -> tensor<?x16xf32> {
  %y = moe.expert_ffn %x routing(%w, %ids) experts(%g, %g, %g) drelu down_neuron_major
      : (tensor<?x16xf32>, tensor<?x2xf32>, tensor<?x2xi32>, tensor<4x32x16xbf16>, tensor<4x32x16xbf16>, tensor<4x32x16xbf16>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// dReLU experts with shared experts and a per-expert predictor (rank 4).
// CHECK-LABEL: func.func @expert_ffn_drelu_shared_predictor
// CHECK: moe.expert_ffn %{{.+}} routing(%{{.+}}, %{{.+}}) experts(%{{.+}}, %{{.+}}, %{{.+}}) shared(%{{.+}}, %{{.+}}, %{{.+}}) predictor(%{{.+}}, %{{.+}}) drelu : (tensor<?x16xf32>, tensor<?x2xf32>, tensor<?x2xi32>, tensor<4x32x16xbf16>, tensor<4x32x16xbf16>, tensor<4x16x32xbf16>, tensor<2x8x16xbf16>, tensor<2x8x16xbf16>, tensor<2x16x8xbf16>, tensor<4x4x16xbf16>, tensor<4x32x4xbf16>) -> tensor<?x16xf32>
func.func @expert_ffn_drelu_shared_predictor(
    %x: tensor<?x16xf32>, %w: tensor<?x2xf32>, %ids: tensor<?x2xi32>,
    %g: tensor<4x32x16xbf16>, %d: tensor<4x16x32xbf16>,
    %sg: tensor<2x8x16xbf16>, %sd: tensor<2x16x8xbf16>,
    %p1: tensor<4x4x16xbf16>, %p2: tensor<4x32x4xbf16>) -> tensor<?x16xf32> {
  %y = moe.expert_ffn %x routing(%w, %ids) experts(%g, %g, %d) shared(%sg, %sg, %sd) predictor(%p1, %p2) drelu
      : (tensor<?x16xf32>, tensor<?x2xf32>, tensor<?x2xi32>, tensor<4x32x16xbf16>, tensor<4x32x16xbf16>, tensor<4x16x32xbf16>,
         tensor<2x8x16xbf16>, tensor<2x8x16xbf16>, tensor<2x16x8xbf16>, tensor<4x4x16xbf16>, tensor<4x32x4xbf16>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// CHECK-LABEL: func.func @drelu
// CHECK-SAME: (%[[G:.+]]: tensor<32xf32>, %[[U:.+]]: tensor<32xf32>)
// CHECK: moe.drelu %[[G]], %[[U]] : tensor<32xf32>
func.func @drelu(%g: tensor<32xf32>, %u: tensor<32xf32>) -> tensor<32xf32> {
  %a = moe.drelu %g, %u : tensor<32xf32>
  return %a : tensor<32xf32>
}

// -----

// CHECK-LABEL: func.func @sparse_matvec
// CHECK-SAME: (%[[W:[^:]+]]: tensor<16x32xbf16>, %[[WT:[^:]+]]: tensor<32x16xbf16>, %[[A:[^:]+]]: tensor<32xf32>, %[[IDX:[^:]+]]: tensor<32xi32>, %[[N:[^:]+]]: index)
// CHECK: moe.sparse_matvec %[[W]], %[[A]] active(%[[IDX]], %[[N]]) : tensor<16x32xbf16>, tensor<32xf32>, tensor<32xi32> -> tensor<16xf32>
// CHECK: moe.sparse_matvec %[[WT]], %[[A]] active(%[[IDX]], %[[N]]) neuron_major : tensor<32x16xbf16>, tensor<32xf32>, tensor<32xi32> -> tensor<16xf32>
func.func @sparse_matvec(%w: tensor<16x32xbf16>, %wt: tensor<32x16xbf16>, %a: tensor<32xf32>,
                         %idx: tensor<32xi32>, %n: index) -> (tensor<16xf32>, tensor<16xf32>) {
  %0 = moe.sparse_matvec %w, %a active(%idx, %n) : tensor<16x32xbf16>, tensor<32xf32>, tensor<32xi32> -> tensor<16xf32>
  %1 = moe.sparse_matvec %wt, %a active(%idx, %n) neuron_major : tensor<32x16xbf16>, tensor<32xf32>, tensor<32xi32> -> tensor<16xf32>
  return %0, %1 : tensor<16xf32>, tensor<16xf32>
}

// -----

// CHECK-LABEL: func.func @lm_head
// CHECK-SAME: (%[[H:.+]]: tensor<?x16xf32>, %[[W:.+]]: tensor<100x16xbf16>)
// CHECK: moe.lm_head %[[H]], %[[W]] : tensor<?x16xf32>, tensor<100x16xbf16> -> tensor<?x100xf32>
func.func @lm_head(%h: tensor<?x16xf32>, %w: tensor<100x16xbf16>) -> tensor<?x100xf32> {
  %l = moe.lm_head %h, %w : tensor<?x16xf32>, tensor<100x16xbf16> -> tensor<?x100xf32>
  return %l : tensor<?x100xf32>
}

// -----

// CHECK-LABEL: func.func @score_head
// CHECK-SAME: (%[[H:[^:]+]]: tensor<?x16xf32>, %[[W:[^:]+]]: tensor<3x16xbf16>, %[[B:[^:]+]]: tensor<3xf32>, %[[IDS:[^:]+]]: tensor<?xi32>)
// CHECK: moe.score_head %[[H]], %[[W]] tokens(%[[IDS]]) sequence pad_token_id = 0 : (tensor<?x16xf32>, tensor<3x16xbf16>, tensor<?xi32>) -> tensor<3xf32>
// CHECK: moe.score_head %[[H]], %[[W]] sequence : (tensor<?x16xf32>, tensor<3x16xbf16>) -> tensor<3xf32>
// CHECK: moe.score_head %[[H]], %[[W]] bias(%[[B]]) token : (tensor<?x16xf32>, tensor<3x16xbf16>, tensor<3xf32>) -> tensor<?x3xf32>
func.func @score_head(%h: tensor<?x16xf32>, %w: tensor<3x16xbf16>, %b: tensor<3xf32>, %ids: tensor<?xi32>)
    -> (tensor<3xf32>, tensor<3xf32>, tensor<?x3xf32>) {
  %0 = moe.score_head %h, %w tokens(%ids) sequence pad_token_id = 0
      : (tensor<?x16xf32>, tensor<3x16xbf16>, tensor<?xi32>) -> tensor<3xf32>
  %1 = moe.score_head %h, %w sequence : (tensor<?x16xf32>, tensor<3x16xbf16>) -> tensor<3xf32>
  %2 = moe.score_head %h, %w bias(%b) token : (tensor<?x16xf32>, tensor<3x16xbf16>, tensor<3xf32>) -> tensor<?x3xf32>
  return %0, %1, %2 : tensor<3xf32>, tensor<3xf32>, tensor<?x3xf32>
}

// -----

// The fused dReLU of one expert and its sparse, neuron-major down product.
// CHECK-LABEL: func.func @fused_drelu
// CHECK: %[[D:.+]] = moe.weight [#moe.weight_ref<"m", "d", bf16, [16, 32], offset = 0>] transposed : tensor<32x16xbf16>
// CHECK: %[[A:[^,]+]], %[[I:[^,]+]], %[[N:[^,]+]], %{{[^,]+}} = moe.fused_drelu %{{.+}}, %{{.+}}, %{{.+}} : tensor<16xf32>, tensor<32x16xbf16> -> tensor<32xf32>, tensor<32xi32>
// CHECK: moe.sparse_matvec %[[D]], %[[A]] active(%[[I]], %[[N]]) neuron_major : tensor<32x16xbf16>, tensor<32xf32>, tensor<32xi32> -> tensor<16xf32>
func.func @fused_drelu(%x: tensor<16xf32>, %g: tensor<32x16xbf16>) -> tensor<16xf32> {
  %d = moe.weight [#moe.weight_ref<"m", "d", bf16, [16, 32], offset = 0>] transposed : tensor<32x16xbf16>
  %a, %idx, %n, %p = moe.fused_drelu %x, %g, %g : tensor<16xf32>, tensor<32x16xbf16> -> tensor<32xf32>, tensor<32xi32>
  %y = moe.sparse_matvec %d, %a active(%idx, %n) neuron_major : tensor<32x16xbf16>, tensor<32xf32>, tensor<32xi32> -> tensor<16xf32>
  return %y : tensor<16xf32>
}

// -----

// Predicted neurons, and a dense MLP's predictor reading its own input.
// CHECK-LABEL: func.func @predicted
// CHECK: moe.fused_drelu %{{.+}}, %{{.+}}, %{{.+}} predicted(%{{.+}} : tensor<32xf32>, threshold = 0.000000e+00) : tensor<16xf32>, tensor<32x16xbf16> -> tensor<32xf32>, tensor<32xi32>
// CHECK: moe.expert_ffn %{{.+}} experts(%{{.+}}, %{{.+}}, %{{.+}}) predictor(%{{.+}}, %{{.+}}) predictor_input(%{{.+}}) drelu
func.func @predicted(%x: tensor<16xf32>, %g: tensor<32x16xbf16>, %l: tensor<32xf32>, %h: tensor<?x16xf32>, %r: tensor<?x16xf32>, %w: tensor<1x32x16xbf16>, %d: tensor<1x16x32xbf16>, %f1: tensor<1x4x16xbf16>, %f2: tensor<1x32x4xbf16>) -> tensor<?x16xf32> {
  %a, %i, %n, %p = moe.fused_drelu %x, %g, %g predicted(%l : tensor<32xf32>, threshold = 0.0) : tensor<16xf32>, tensor<32x16xbf16> -> tensor<32xf32>, tensor<32xi32>
  %y = moe.expert_ffn %h experts(%w, %w, %d) predictor(%f1, %f2) predictor_input(%r) drelu
      : (tensor<?x16xf32>, tensor<1x32x16xbf16>, tensor<1x32x16xbf16>, tensor<1x16x32xbf16>, tensor<1x4x16xbf16>, tensor<1x32x4xbf16>, tensor<?x16xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// Router logits as an input, and a projection of one vector.
// CHECK-LABEL: func.func @router_logits
// CHECK: %[[L:.+]] = moe.linear %{{.+}}, %{{.+}} : (tensor<16xf32>, tensor<8x16xbf16>) -> tensor<8xf32>
// CHECK: moe.router %{{.+}} experts = 8 top_k = 2 learned softmax renormalize : (tensor<?x8xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
func.func @router_logits(%v: tensor<16xf32>, %w: tensor<8x16xbf16>, %l: tensor<?x8xf32>) -> (tensor<8xf32>, tensor<?x2xf32>) {
  %y = moe.linear %v, %w : (tensor<16xf32>, tensor<8x16xbf16>) -> tensor<8xf32>
  %rw, %ids = moe.router %l experts = 8 top_k = 2 learned softmax renormalize
      : (tensor<?x8xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return %y, %rw : tensor<8xf32>, tensor<?x2xf32>
}

// -----

// A quantized weight: its format, its f32 values; its blocks, read through
// moe.dequantize.
// CHECK-LABEL: func.func @quantized
// CHECK: moe.weight [#moe.weight_ref<"m", "w", bf16, [8, 64], offset = 0>] format(<q8_0>) : tensor<8x64xf32>
// CHECK: moe.dequantize %{{.+}} : tensor<2x8x36xi8, #moe.blocks<q4_0>> -> tensor<2x8x64xf32>
func.func @quantized(%b: tensor<2x8x36xi8, #moe.blocks<q4_0>>) -> (tensor<8x64xf32>, tensor<2x8x64xf32>) {
  %w = moe.weight [#moe.weight_ref<"m", "w", bf16, [8, 64], offset = 0>] format(<q8_0>) : tensor<8x64xf32>
  %d = moe.dequantize %b : tensor<2x8x36xi8, #moe.blocks<q4_0>> -> tensor<2x8x64xf32>
  return %w, %d : tensor<8x64xf32>, tensor<2x8x64xf32>
}

// -----

// The interleaved layout is part of the format: on the weight, and on the
// encoding of its blocks (rows of whole groups of 16 blocks).
// CHECK-LABEL: func.func @interleaved
// CHECK: moe.weight [#moe.weight_ref<"m", "w", bf16, [8, 512], offset = 0>] format(<q4_0, interleaved>) : tensor<8x512xf32>
// CHECK: moe.dequantize %{{.+}} : tensor<8x544xi8, #moe.blocks<q8_0, interleaved>> -> tensor<8x512xf32>
func.func @interleaved(%b: tensor<8x544xi8, #moe.blocks<q8_0, interleaved>>) -> (tensor<8x512xf32>, tensor<8x512xf32>) {
  %w = moe.weight [#moe.weight_ref<"m", "w", bf16, [8, 512], offset = 0>] format(<q4_0, interleaved>) : tensor<8x512xf32>
  %d = moe.dequantize %b : tensor<8x544xi8, #moe.blocks<q8_0, interleaved>> -> tensor<8x512xf32>
  return %w, %d : tensor<8x512xf32>, tensor<8x512xf32>
}

// -----

// The zoo's GPT-2-style block: LayerNorm with a bias, ALiBi slopes on
// attention, biased expert linears.
// CHECK-LABEL: func.func @gpt2_block
// CHECK: moe.layer_norm %{{.+}}, %{{.+}}, %{{.+}} eps = 1.000000e-05 : tensor<?x16xf32>, tensor<16xbf16>, tensor<16xbf16>
// CHECK: moe.attention {{.+}} heads = 2 kv_heads = 2 head_dim = 8 causal scale = 1.250000e-01 alibi [2.500000e-01, 6.250000e-02] :
// CHECK: moe.expert_ffn %{{.+}} routing(%{{.+}}, %{{.+}}) experts(%{{.+}}, %{{.+}}, %{{.+}}) shared(%{{.+}}, %{{.+}}, %{{.+}}) biases(%{{.+}}, %{{.+}}, %{{.+}}) shared_biases(%{{.+}}, %{{.+}}, %{{.+}}) swiglu
func.func @gpt2_block(%x: tensor<?x16xf32>, %w: tensor<16xbf16>, %q: tensor<?x2x8xf32>,
                      %kv: tensor<2x64x2x8xf32>, %pos: tensor<?xi32>, %rw: tensor<?x1xf32>,
                      %ids: tensor<?x1xi32>, %g: tensor<4x32x16xbf16>, %d: tensor<4x16x32xbf16>,
                      %sg: tensor<1x32x16xbf16>, %sd: tensor<1x16x32xbf16>,
                      %bg: tensor<4x32xbf16>, %bd: tensor<4x16xbf16>,
                      %sbg: tensor<1x32xbf16>, %sbd: tensor<1x16xbf16>)
    -> (tensor<?x16xf32>, tensor<?x2x8xf32>, tensor<?x16xf32>) {
  %n = moe.layer_norm %x, %w, %w eps = 1.0e-5 : tensor<?x16xf32>, tensor<16xbf16>, tensor<16xbf16>
  %o, %kv1 = moe.attention %q, %q, %q cache(%kv) positions(%pos)
      heads = 2 kv_heads = 2 head_dim = 8 causal scale = 0.125 alibi [0.25, 0.0625]
      : tensor<?x2x8xf32>, tensor<?x2x8xf32>, tensor<2x64x2x8xf32>, tensor<?xi32>
  %y = moe.expert_ffn %n routing(%rw, %ids) experts(%g, %g, %d) shared(%sg, %sg, %sd)
      biases(%bg, %bg, %bd) shared_biases(%sbg, %sbg, %sbd) swiglu
      : (tensor<?x16xf32>, tensor<?x1xf32>, tensor<?x1xi32>, tensor<4x32x16xbf16>,
         tensor<4x32x16xbf16>, tensor<4x16x32xbf16>, tensor<1x32x16xbf16>,
         tensor<1x32x16xbf16>, tensor<1x16x32xbf16>, tensor<4x32xbf16>, tensor<4x32xbf16>,
         tensor<4x16xbf16>, tensor<1x32xbf16>, tensor<1x32xbf16>, tensor<1x16xbf16>)
      -> tensor<?x16xf32>
  return %n, %o, %y : tensor<?x16xf32>, tensor<?x2x8xf32>, tensor<?x16xf32>
}

// -----

// A batch of sequences: each token's cache offset, the row of its
// sequence's position 0.
// CHECK-LABEL: func.func @attention_batch
// CHECK: moe.attention %{{.+}}, %{{.+}}, %{{.+}} cache(%{{.+}}) positions(%[[POS:[^)]+]]) offsets(%[[OFF:[^)]+]]) heads = 4 kv_heads = 2 head_dim = 8 causal : tensor<?x4x8xf32>, tensor<?x2x8xf32>, tensor<2x?x2x8xf32>, tensor<?xi32>, tensor<?xi32>
func.func @attention_batch(%q: tensor<?x4x8xf32>, %k: tensor<?x2x8xf32>,
                           %kv: tensor<2x?x2x8xf32>, %pos: tensor<?xi32>,
                           %off: tensor<?xi32>)
    -> (tensor<?x4x8xf32>, tensor<2x?x2x8xf32>) {
  %o, %kv1 = moe.attention %q, %k, %k cache(%kv) positions(%pos) offsets(%off)
      heads = 4 kv_heads = 2 head_dim = 8 causal
      : tensor<?x4x8xf32>, tensor<?x2x8xf32>, tensor<2x?x2x8xf32>, tensor<?xi32>, tensor<?xi32>
  return %o, %kv1 : tensor<?x4x8xf32>, tensor<2x?x2x8xf32>
}
