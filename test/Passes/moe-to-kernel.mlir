// RUN: moec-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(moe-to-kernel))' | FileCheck %s --enable-var-scope

// Projections and the LM head stream their weights: kernel.matvec, a
// vector input as one row.
// CHECK-LABEL: func.func @products
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf32>, %[[V:.*]]: tensor<64xf32>, %[[W:.*]]: tensor<32x64xbf16>, %[[B:.*]]: tensor<32xbf16>)
// CHECK: %[[Y:.*]] = kernel.matvec %[[X]], %[[W]] : tensor<?x64xf32>, tensor<32x64xbf16> -> tensor<?x32xf32>
// CHECK: %[[ROW:.*]] = tensor.expand_shape %[[V]] {{\[\[}}0, 1]] output_shape [1, 64]
// CHECK: %[[R:.*]] = kernel.matvec %[[ROW]], %[[W]] : tensor<1x64xf32>, tensor<32x64xbf16> -> tensor<1x32xf32>
// CHECK: tensor.collapse_shape %[[R]]
// CHECK: kernel.matvec %[[X]], %[[W]] : tensor<?x64xf32>, tensor<32x64xbf16> -> tensor<?x32xf32>
// A bias is left to the reference lowering.
// CHECK: moe.linear %[[X]], %[[W]] bias(%[[B]])
func.func @products(%x: tensor<?x64xf32>, %v: tensor<64xf32>, %w: tensor<32x64xbf16>, %b: tensor<32xbf16>) -> (tensor<?x32xf32>, tensor<32xf32>, tensor<?x32xf32>, tensor<?x32xf32>) {
  %0 = moe.linear %x, %w : (tensor<?x64xf32>, tensor<32x64xbf16>) -> tensor<?x32xf32>
  %1 = moe.linear %v, %w : (tensor<64xf32>, tensor<32x64xbf16>) -> tensor<32xf32>
  %2 = moe.lm_head %x, %w : tensor<?x64xf32>, tensor<32x64xbf16> -> tensor<?x32xf32>
  %3 = moe.linear %x, %w bias(%b) : (tensor<?x64xf32>, tensor<32x64xbf16>, tensor<32xbf16>) -> tensor<?x32xf32>
  return %0, %1, %2, %3 : tensor<?x32xf32>, tensor<32xf32>, tensor<?x32xf32>, tensor<?x32xf32>
}

// -----

// The fused dReLU block and its down product: the active set passes from
// one kernel to the other, the layout is an attribute.
// CHECK-LABEL: func.func @drelu
// CHECK: %[[A:.*]], %[[I:.*]], %[[N:.*]], %{{.*}} = kernel.gate_up %{{.*}}, %{{.*}}, %{{.*}} drelu : tensor<64xf32>, tensor<128x64xbf16> -> tensor<128xf32>, tensor<128xi32>
// CHECK: kernel.sparse_matvec %{{.*}}, %[[A]] active(%[[I]], %[[N]]) neuron_major : tensor<128x64xbf16>
// CHECK: kernel.sparse_matvec %{{.*}}, %[[A]] active(%[[I]], %[[N]]) row_major : tensor<64x128xbf16>
func.func @drelu(%x: tensor<64xf32>, %g: tensor<128x64xbf16>, %u: tensor<128x64xbf16>, %wt: tensor<128x64xbf16>, %w: tensor<64x128xbf16>) -> (tensor<64xf32>, tensor<64xf32>) {
  %a, %idx, %n, %p = moe.fused_drelu %x, %g, %u : tensor<64xf32>, tensor<128x64xbf16> -> tensor<128xf32>, tensor<128xi32>
  %y = moe.sparse_matvec %wt, %a active(%idx, %n) neuron_major : tensor<128x64xbf16>, tensor<128xf32>, tensor<128xi32> -> tensor<64xf32>
  %z = moe.sparse_matvec %w, %a active(%idx, %n) : tensor<64x128xbf16>, tensor<128xf32>, tensor<128xi32> -> tensor<64xf32>
  return %y, %z : tensor<64xf32>, tensor<64xf32>
}

// -----

// A fused product over predicted neurons keeps its logits and threshold.
// CHECK-LABEL: func.func @drelu_predicted
// CHECK-SAME: %[[L:[^:]+]]: tensor<128xf32>
// CHECK: kernel.gate_up %{{.*}}, %{{.*}}, %{{.*}} drelu predicted(%[[L]] : tensor<128xf32>, threshold = 0.000000e+00) : tensor<64xf32>
func.func @drelu_predicted(%x: tensor<64xf32>, %g: tensor<128x64xbf16>, %wt: tensor<128x64xbf16>, %l: tensor<128xf32>) -> tensor<64xf32> {
  %a, %idx, %n, %p = moe.fused_drelu %x, %g, %g predicted(%l : tensor<128xf32>, threshold = 0.0) : tensor<64xf32>, tensor<128x64xbf16> -> tensor<128xf32>, tensor<128xi32>
  %y = moe.sparse_matvec %wt, %a active(%idx, %n) neuron_major : tensor<128x64xbf16>, tensor<128xf32>, tensor<128xi32> -> tensor<64xf32>
  return %y : tensor<64xf32>
}

// -----

// A learned router with its gate and per-token scores becomes one kernel,
// its selection, weighting and null-expert bias attributes of the kernel;
// routers given their logits, sinkhorn's (which mix the tokens of a call)
// and hash routing stay for the reference lowering.
// CHECK-LABEL: func.func @routers
// CHECK: kernel.router_top_k %{{.*}}, %{{.*}} top_k = 2 renormalize : tensor<?x64xf32>, tensor<4x64xbf16> -> tensor<?x2xf32>, tensor<?x2xi32>
// CHECK: moe.router %{{.*}} experts = 4 top_k = 2 learned softmax
// CHECK: kernel.router_top_k %{{.*}}, %{{.*}} top_k = 2 selection = sigmoid weighting = softmax renormalize null_expert_bias = 1.100000e+00 :
// CHECK: kernel.router_top_k %{{.*}}, %{{.*}} top_k = 2 selection = sigmoid :
// CHECK: moe.router %{{.*}} gate(%{{.*}}) experts = 4 top_k = 2 learned sinkhorn
// CHECK: moe.router %{{.*}} gate(%{{.*}}) experts = 4 top_k = 2 learned softmax weighting = sinkhorn
// CHECK: moe.router %{{.*}} tokens(%{{.*}}) experts = 4 top_k = 1 hash
func.func @routers(%x: tensor<?x64xf32>, %g: tensor<4x64xbf16>, %l: tensor<?x4xf32>, %t: tensor<?xi32>) -> (tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x1xf32>) {
  %w, %ids = moe.router %x gate(%g) experts = 4 top_k = 2 learned softmax renormalize : (tensor<?x64xf32>, tensor<4x64xbf16>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  %w1, %ids1 = moe.router %l experts = 4 top_k = 2 learned softmax : (tensor<?x4xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  %w2, %ids2 = moe.router %x gate(%g) experts = 4 top_k = 2 learned sigmoid weighting = softmax renormalize null_expert_bias = 1.1 : (tensor<?x64xf32>, tensor<4x64xbf16>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  %w3, %ids3 = moe.router %x gate(%g) experts = 4 top_k = 2 learned sigmoid : (tensor<?x64xf32>, tensor<4x64xbf16>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  %w4, %ids4 = moe.router %x gate(%g) experts = 4 top_k = 2 learned sinkhorn : (tensor<?x64xf32>, tensor<4x64xbf16>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  %w5, %ids5 = moe.router %x gate(%g) experts = 4 top_k = 2 learned softmax weighting = sinkhorn : (tensor<?x64xf32>, tensor<4x64xbf16>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  %w6, %ids6 = moe.router %x tokens(%t) experts = 4 top_k = 1 hash softmax : (tensor<?x64xf32>, tensor<?xi32>) -> (tensor<?x1xf32>, tensor<?x1xi32>)
  return %w, %w1, %w2, %w3, %w4, %w5, %w6 : tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x1xf32>
}

// -----

// A SwiGLU block: per token, per routed expert, the fused gate/up and the
// down product as kernels, weighted and summed; dReLU blocks are left to
// moe-fuse-drelu (or run densely with --no-sparse).
// CHECK-LABEL: func.func @swiglu_block
// CHECK: scf.for %[[T:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args
// CHECK: %[[ROW:.*]] = tensor.extract_slice %{{.*}}[%[[T]], 0] [1, 16] [1, 1]
// CHECK: %[[A:.*]], %{{.*}}, %{{.*}}, %{{.*}} = kernel.gate_up %[[ROW]], %{{.*}}, %{{.*}} swiglu : tensor<16xf32>, tensor<32x16xbf16> -> tensor<32xf32>, tensor<32xi32>
// CHECK: %[[AR:.*]] = tensor.expand_shape %[[A]]
// CHECK: kernel.matvec %[[AR]], %{{.*}} : tensor<1x32xf32>, tensor<16x32xbf16> -> tensor<1x16xf32>
// CHECK: arith.mulf
// CHECK: kernel.gate_up {{.*}} swiglu
// CHECK: moe.expert_ffn {{.*}} drelu
func.func @swiglu_block(%x: tensor<?x16xf32>, %w: tensor<?x2xf32>, %ids: tensor<?x2xi32>, %g: tensor<4x32x16xbf16>, %u: tensor<4x32x16xbf16>, %d: tensor<4x16x32xbf16>) -> (tensor<?x16xf32>, tensor<?x16xf32>) {
  %y = moe.expert_ffn %x routing(%w, %ids) experts(%g, %u, %d) swiglu
      : (tensor<?x16xf32>, tensor<?x2xf32>, tensor<?x2xi32>, tensor<4x32x16xbf16>, tensor<4x32x16xbf16>, tensor<4x16x32xbf16>) -> tensor<?x16xf32>
  %z = moe.expert_ffn %x routing(%w, %ids) experts(%g, %u, %d) drelu
      : (tensor<?x16xf32>, tensor<?x2xf32>, tensor<?x2xi32>, tensor<4x32x16xbf16>, tensor<4x32x16xbf16>, tensor<4x16x32xbf16>) -> tensor<?x16xf32>
  return %y, %z : tensor<?x16xf32>, tensor<?x16xf32>
}

// -----

// The layer kernels: norm and RoPE as they are, attention as the cache
// write and the attention over the live positions, the default scale made
// explicit (head_dim^-0.5); the cache the attention reads is the one the
// write returns, and that is the block's cache.
// CHECK-LABEL: func.func @layer
// CHECK-SAME: (%[[X:.*]]: tensor<?x8xf32>, %[[W:.*]]: tensor<8xbf16>, %[[Q:.*]]: tensor<?x2x4xf32>, %[[K:.*]]: tensor<?x1x4xf32>, %[[KV:.*]]: tensor<2x64x1x4xbf16>, %[[POS:.*]]: tensor<?xi32>)
// CHECK: %[[N:.*]] = kernel.rms_norm %[[X]], %[[W]] eps = 1.000000e-05 : tensor<?x8xf32>, tensor<8xbf16>
// CHECK: %[[R:.*]] = kernel.rope %[[Q]][%[[POS]]] theta = 1.000000e+04 head_dim = 4 rotate_half : tensor<?x2x4xf32>, tensor<?xi32>
// CHECK: %[[KV1:.*]] = kernel.cache_write %[[K]], %[[K]] into(%[[KV]]) positions(%[[POS]]) : tensor<?x1x4xf32>, tensor<2x64x1x4xbf16>, tensor<?xi32>
// CHECK: %[[O:.*]] = kernel.attention %[[R]] cache(%[[KV1]]) positions(%[[POS]]) heads = 2 kv_heads = 1 head_dim = 4 scale = 5.000000e-01 causal window = 3 : tensor<?x2x4xf32>, tensor<2x64x1x4xbf16>, tensor<?xi32>
// CHECK: return %[[N]], %[[O]], %[[KV1]]
// CHECK-NOT: moe.
func.func @layer(%x: tensor<?x8xf32>, %w: tensor<8xbf16>, %q: tensor<?x2x4xf32>, %k: tensor<?x1x4xf32>, %kv: tensor<2x64x1x4xbf16>, %pos: tensor<?xi32>)
    -> (tensor<?x8xf32>, tensor<?x2x4xf32>, tensor<2x64x1x4xbf16>) {
  %n = moe.rms_norm %x, %w eps = 1.000000e-05 : tensor<?x8xf32>, tensor<8xbf16>
  %r = moe.rope %q[%pos] theta = 1.000000e+04 head_dim = 4 rotate_half : tensor<?x2x4xf32>, tensor<?xi32>
  %o, %kv1 = moe.attention %r, %k, %k cache(%kv) positions(%pos)
      heads = 2 kv_heads = 1 head_dim = 4 causal window = 3
      : tensor<?x2x4xf32>, tensor<?x1x4xf32>, tensor<2x64x1x4xbf16>, tensor<?xi32>
  return %n, %o, %kv1 : tensor<?x8xf32>, tensor<?x2x4xf32>, tensor<2x64x1x4xbf16>
}

// -----

// A norm of a narrower type keeps the model-level op for the reference
// lowering.
// CHECK-LABEL: func.func @norm_bf16
// CHECK: moe.rms_norm
// CHECK-NOT: kernel.rms_norm
func.func @norm_bf16(%x: tensor<?x8xbf16>, %w: tensor<8xbf16>) -> tensor<?x8xbf16> {
  %n = moe.rms_norm %x, %w eps = 1.000000e-05 : tensor<?x8xbf16>, tensor<8xbf16>
  return %n : tensor<?x8xbf16>
}

// -----

// ALiBi's slopes go with the attention kernel; a GLU block with biased
// linears stays for the reference dispatch (the kernels have no bias).
// CHECK-LABEL: func.func @alibi_and_biases
// CHECK: kernel.attention {{.+}} heads = 2 kv_heads = 1 head_dim = 4 scale = 2.500000e-01 causal alibi [2.500000e-01, 6.250000e-02] :
// CHECK: moe.expert_ffn {{.+}} biases(
func.func @alibi_and_biases(%q: tensor<?x2x4xf32>, %k: tensor<?x1x4xf32>, %kv: tensor<2x64x1x4xbf16>, %pos: tensor<?xi32>,
                            %x: tensor<?x4xf32>, %g: tensor<1x8x4xbf16>, %d: tensor<1x4x8xbf16>, %bg: tensor<1x8xbf16>, %bd: tensor<1x4xbf16>)
    -> (tensor<?x2x4xf32>, tensor<?x4xf32>) {
  %o, %kv1 = moe.attention %q, %k, %k cache(%kv) positions(%pos)
      heads = 2 kv_heads = 1 head_dim = 4 causal scale = 0.25 alibi [0.25, 0.0625]
      : tensor<?x2x4xf32>, tensor<?x1x4xf32>, tensor<2x64x1x4xbf16>, tensor<?xi32>
  %y = moe.expert_ffn %x experts(%g, %g, %d) biases(%bg, %bg, %bd) swiglu
      : (tensor<?x4xf32>, tensor<1x8x4xbf16>, tensor<1x8x4xbf16>, tensor<1x4x8xbf16>,
         tensor<1x8xbf16>, tensor<1x8xbf16>, tensor<1x4xbf16>) -> tensor<?x4xf32>
  return %o, %y : tensor<?x2x4xf32>, tensor<?x4xf32>
}

// -----

// A batch's cache offsets go to both the cache write and the attention.
// CHECK-LABEL: func.func @attention_batch
// CHECK-SAME: %[[POS:[^:]+]]: tensor<?xi32>, %[[OFF:[^:]+]]: tensor<?xi32>)
// CHECK: %[[KV1:.*]] = kernel.cache_write %{{.+}}, %{{.+}} into(%{{.+}}) positions(%[[POS]]) offsets(%[[OFF]])
// CHECK: kernel.attention %{{.+}} cache(%[[KV1]]) positions(%[[POS]]) offsets(%[[OFF]]) heads = 2 kv_heads = 1 head_dim = 4 scale = 5.000000e-01 causal :
func.func @attention_batch(%q: tensor<?x2x4xf32>, %k: tensor<?x1x4xf32>, %kv: tensor<2x?x1x4xf32>, %pos: tensor<?xi32>, %off: tensor<?xi32>)
    -> (tensor<?x2x4xf32>, tensor<2x?x1x4xf32>) {
  %o, %kv1 = moe.attention %q, %k, %k cache(%kv) positions(%pos) offsets(%off)
      heads = 2 kv_heads = 1 head_dim = 4 causal
      : tensor<?x2x4xf32>, tensor<?x1x4xf32>, tensor<2x?x1x4xf32>, tensor<?xi32>, tensor<?xi32>
  return %o, %kv1 : tensor<?x2x4xf32>, tensor<2x?x1x4xf32>
}
