// A one-layer TurboSparse-Mixtral decode step with tiny dimensions (vocab 64,
// hidden 16, 4 heads / 2 kv heads of 4, 4 dReLU experts of 32 neurons,
// top-2, predictor rank 4), as moec-import writes it: weights are references
// into model.safetensors, never data.
//
// RUN: moec-opt %s | moec-opt | FileCheck %s --enable-var-scope
// RUN: moec-opt %s --moe-strip-predictors | FileCheck %s --check-prefix=STRIP
//
// CHECK-LABEL: func.func @decode
// CHECK-COUNT-15: moe.weight
// CHECK: moe.embedding
// CHECK: moe.attention
// CHECK: moe.router {{.+}} experts = 4 top_k = 2 learned softmax renormalize
// CHECK: moe.expert_ffn {{.+}} predictor({{.+}}) drelu
// CHECK: moe.lm_head
//
// STRIP-LABEL: func.func @decode
// STRIP-NOT: predictor
// STRIP: moe.expert_ffn {{.+}} experts({{[^)]+}}) drelu
// STRIP-NOT: predictor

func.func @decode(%tokens: tensor<1xi32>, %pos: tensor<1xi32>,
                  %kv_cache: tensor<2x64x2x4xf32>)
    -> (tensor<1x64xf32>, tensor<2x64x2x4xf32>) {
  %embed = moe.weight [#moe.weight_ref<"model.safetensors", "model.embed_tokens.weight", bf16, [64, 16], offset = 0>] : tensor<64x16xbf16>
  %ln1 = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.input_layernorm.weight", bf16, [16], offset = 2048>] : tensor<16xbf16>
  %wq = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.self_attn.q_proj.weight", bf16, [16, 16], offset = 2080>] : tensor<16x16xbf16>
  %wk = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.self_attn.k_proj.weight", bf16, [8, 16], offset = 2592>] : tensor<8x16xbf16>
  %wv = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.self_attn.v_proj.weight", bf16, [8, 16], offset = 2848>] : tensor<8x16xbf16>
  %wo = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.self_attn.o_proj.weight", bf16, [16, 16], offset = 3104>] : tensor<16x16xbf16>
  %ln2 = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.post_attention_layernorm.weight", bf16, [16], offset = 3616>] : tensor<16xbf16>
  %gate = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.block_sparse_moe.gate.weight", bf16, [4, 16], offset = 3648>] : tensor<4x16xbf16>
  %w1 = moe.weight [
      #moe.weight_ref<"model.safetensors", "model.layers.0.block_sparse_moe.experts.0.w1.weight", bf16, [32, 16], offset = 3776>,
      #moe.weight_ref<"model.safetensors", "model.layers.0.block_sparse_moe.experts.1.w1.weight", bf16, [32, 16], offset = 4800>,
      #moe.weight_ref<"model.safetensors", "model.layers.0.block_sparse_moe.experts.2.w1.weight", bf16, [32, 16], offset = 5824>,
      #moe.weight_ref<"model.safetensors", "model.layers.0.block_sparse_moe.experts.3.w1.weight", bf16, [32, 16], offset = 6848>] : tensor<4x32x16xbf16>
  %w3 = moe.weight [
      #moe.weight_ref<"model.safetensors", "model.layers.0.block_sparse_moe.experts.0.w3.weight", bf16, [32, 16], offset = 7872>,
      #moe.weight_ref<"model.safetensors", "model.layers.0.block_sparse_moe.experts.1.w3.weight", bf16, [32, 16], offset = 8896>,
      #moe.weight_ref<"model.safetensors", "model.layers.0.block_sparse_moe.experts.2.w3.weight", bf16, [32, 16], offset = 9920>,
      #moe.weight_ref<"model.safetensors", "model.layers.0.block_sparse_moe.experts.3.w3.weight", bf16, [32, 16], offset = 10944>] : tensor<4x32x16xbf16>
  %w2 = moe.weight [
      #moe.weight_ref<"model.safetensors", "model.layers.0.block_sparse_moe.experts.0.w2.weight", bf16, [16, 32], offset = 11968>,
      #moe.weight_ref<"model.safetensors", "model.layers.0.block_sparse_moe.experts.1.w2.weight", bf16, [16, 32], offset = 12992>,
      #moe.weight_ref<"model.safetensors", "model.layers.0.block_sparse_moe.experts.2.w2.weight", bf16, [16, 32], offset = 14016>,
      #moe.weight_ref<"model.safetensors", "model.layers.0.block_sparse_moe.experts.3.w2.weight", bf16, [16, 32], offset = 15040>] : tensor<4x16x32xbf16>
  %fc1 = moe.weight [
      #moe.weight_ref<"model.safetensors", "model.layers.0.block_sparse_moe.experts.0.predictor.fc1.weight", bf16, [4, 16], offset = 16064>,
      #moe.weight_ref<"model.safetensors", "model.layers.0.block_sparse_moe.experts.1.predictor.fc1.weight", bf16, [4, 16], offset = 16192>,
      #moe.weight_ref<"model.safetensors", "model.layers.0.block_sparse_moe.experts.2.predictor.fc1.weight", bf16, [4, 16], offset = 16320>,
      #moe.weight_ref<"model.safetensors", "model.layers.0.block_sparse_moe.experts.3.predictor.fc1.weight", bf16, [4, 16], offset = 16448>] : tensor<4x4x16xbf16>
  %fc2 = moe.weight [
      #moe.weight_ref<"model.safetensors", "model.layers.0.block_sparse_moe.experts.0.predictor.fc2.weight", bf16, [32, 4], offset = 16576>,
      #moe.weight_ref<"model.safetensors", "model.layers.0.block_sparse_moe.experts.1.predictor.fc2.weight", bf16, [32, 4], offset = 16832>,
      #moe.weight_ref<"model.safetensors", "model.layers.0.block_sparse_moe.experts.2.predictor.fc2.weight", bf16, [32, 4], offset = 17088>,
      #moe.weight_ref<"model.safetensors", "model.layers.0.block_sparse_moe.experts.3.predictor.fc2.weight", bf16, [32, 4], offset = 17344>] : tensor<4x32x4xbf16>
  %norm = moe.weight [#moe.weight_ref<"model.safetensors", "model.norm.weight", bf16, [16], offset = 17600>] : tensor<16xbf16>
  %head = moe.weight [#moe.weight_ref<"model.safetensors", "lm_head.weight", bf16, [64, 16], offset = 17632>] : tensor<64x16xbf16>

  // Attention block.
  %h = moe.embedding %embed[%tokens] : tensor<64x16xbf16>, tensor<1xi32> -> tensor<1x16xf32>
  %x = moe.rms_norm %h, %ln1 eps = 1.0e-5 : tensor<1x16xf32>, tensor<16xbf16>
  %q = moe.linear %x, %wq : (tensor<1x16xf32>, tensor<16x16xbf16>) -> tensor<1x16xf32>
  %k = moe.linear %x, %wk : (tensor<1x16xf32>, tensor<8x16xbf16>) -> tensor<1x8xf32>
  %v = moe.linear %x, %wv : (tensor<1x16xf32>, tensor<8x16xbf16>) -> tensor<1x8xf32>
  %q3 = tensor.expand_shape %q [[0], [1, 2]] output_shape [1, 4, 4] : tensor<1x16xf32> into tensor<1x4x4xf32>
  %k3 = tensor.expand_shape %k [[0], [1, 2]] output_shape [1, 2, 4] : tensor<1x8xf32> into tensor<1x2x4xf32>
  %v3 = tensor.expand_shape %v [[0], [1, 2]] output_shape [1, 2, 4] : tensor<1x8xf32> into tensor<1x2x4xf32>
  %qr = moe.rope %q3[%pos] theta = 1.0e6 head_dim = 4 rotate_half : tensor<1x4x4xf32>, tensor<1xi32>
  %kr = moe.rope %k3[%pos] theta = 1.0e6 head_dim = 4 rotate_half : tensor<1x2x4xf32>, tensor<1xi32>
  %o, %kv = moe.attention %qr, %kr, %v3 cache(%kv_cache) positions(%pos)
      heads = 4 kv_heads = 2 head_dim = 4 causal
      : tensor<1x4x4xf32>, tensor<1x2x4xf32>, tensor<2x64x2x4xf32>, tensor<1xi32>
  %o2 = tensor.collapse_shape %o [[0], [1, 2]] : tensor<1x4x4xf32> into tensor<1x16xf32>
  %attn = moe.linear %o2, %wo : (tensor<1x16xf32>, tensor<16x16xbf16>) -> tensor<1x16xf32>
  %h1 = arith.addf %h, %attn : tensor<1x16xf32>

  // MoE block: dReLU experts, top-2 of a softmax router.
  %x2 = moe.rms_norm %h1, %ln2 eps = 1.0e-5 : tensor<1x16xf32>, tensor<16xbf16>
  %rw, %ids = moe.router %x2 gate(%gate) experts = 4 top_k = 2 learned softmax renormalize
      : (tensor<1x16xf32>, tensor<4x16xbf16>) -> (tensor<1x2xf32>, tensor<1x2xi32>)
  %ffn = moe.expert_ffn %x2 routing(%rw, %ids) experts(%w1, %w3, %w2) predictor(%fc1, %fc2) drelu
      : (tensor<1x16xf32>, tensor<1x2xf32>, tensor<1x2xi32>, tensor<4x32x16xbf16>,
         tensor<4x32x16xbf16>, tensor<4x16x32xbf16>, tensor<4x4x16xbf16>,
         tensor<4x32x4xbf16>) -> tensor<1x16xf32>
  %h2 = arith.addf %h1, %ffn : tensor<1x16xf32>

  // Output.
  %y = moe.rms_norm %h2, %norm eps = 1.0e-5 : tensor<1x16xf32>, tensor<16xbf16>
  %logits = moe.lm_head %y, %head : tensor<1x16xf32>, tensor<64x16xbf16> -> tensor<1x64xf32>
  return %logits, %kv : tensor<1x64xf32>, tensor<2x64x2x4xf32>
}
