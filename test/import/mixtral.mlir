// MixtralForCausalLM with per-expert tensors: module attributes, signature,
// one layer's ops, and weight references checked against the files.
//
// RUN: rm -rf %t && moec-synth -o %t --seed=1
// RUN: moec-import %t -o %t.mlir
// RUN: FileCheck %s --enable-var-scope < %t.mlir
// RUN: %python %S/Inputs/check_offsets.py %t %t.mlir

// The config, with config.json's keys and values.
// CHECK: module attributes {moe.checkpoint = "{{.*}}", moe.config = {architectures = ["MixtralForCausalLM"], bos_token_id = 1 : i64, eos_token_id = 2 : i64, head_dim = 16 : i64, hidden_act = "silu", hidden_size = 64 : i64, intermediate_size = 128 : i64, max_position_embeddings = 4096 : i64, model_type = "mixtral", num_attention_heads = 4 : i64, num_experts_per_tok = 2 : i64, num_hidden_layers = 2 : i64, num_key_value_heads = 2 : i64, num_local_experts = 4 : i64, rms_norm_eps = 1.000000e-05 : f64, rope_theta = 1.000000e+06 : f64, tie_word_embeddings = false, torch_dtype = "bfloat16", vocab_size = 256 : i64}}
// CHECK-LABEL: func.func @forward(
// CHECK-SAME: %[[TOKENS:[^:]+]]: tensor<?xi32> {moe.name = "tokens"}{{( loc\(unknown\))?}}, %[[POS:[^:]+]]: tensor<?xi32> {moe.name = "positions"}{{( loc\(unknown\))?}},
// CHECK-SAME: %[[OFFSETS:[^:]+]]: tensor<?xi32> {moe.name = "cache_offsets"}{{( loc\(unknown\))?}},
// CHECK-SAME: %[[CACHE:[^:]+]]: tensor<2x2x?x2x16xf32> {moe.name = "kv_cache"}{{( loc\(unknown\))?}},
// CHECK-SAME: %[[ROWS:[^:]+]]: index {moe.name = "output_rows"}{{( loc\(unknown\))?}})
// CHECK-SAME: -> (tensor<?x256xf32>, tensor<2x2x?x2x16xf32>)
// CHECK: %[[S:.+]] = tensor.dim %[[CACHE]], %{{.+}} : tensor<2x2x?x2x16xf32>

// CHECK: %[[EMBED:.+]] = moe.weight [#moe.weight_ref<"model.safetensors", "model.embed_tokens.weight", bf16, [256, 64], offset = [[#EMBED_AT:]]>] : tensor<256x64xbf16>
// CHECK: %[[H0:.+]] = moe.embedding %[[EMBED]][%[[TOKENS]]] : tensor<256x64xbf16>, tensor<?xi32> -> tensor<?x64xf32>
// Layer 0's keys and values are one slice of the cache, written back after.
// CHECK: %[[KV0:.+]] = tensor.extract_slice %[[CACHE]][0, 0, 0, 0, 0] [1, 2, %[[S]], 2, 16] [1, 1, 1, 1, 1] : tensor<2x2x?x2x16xf32> to tensor<2x?x2x16xf32>
// CHECK-NOT: tensor.extract_slice %[[CACHE]]
// The next tensor in the file starts right after the embedding's 256 x 64 x 2 bytes.
// CHECK: %[[LN1:.+]] = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.input_layernorm.weight", bf16, [64], offset = [[#EMBED_AT + 32768]]>]
// Every op of layer N is located at "model.layers.N".
// CHECK: %[[X:.+]] = moe.rms_norm %[[H0]], %[[LN1]] eps = 1.000000e-05 : tensor<?x64xf32>, tensor<64xbf16> loc(#[[LAYER0:loc[0-9]+]])
// CHECK: "model.layers.0.self_attn.q_proj.weight", bf16, [64, 64]
// CHECK: moe.linear %[[X]], %{{.+}} : (tensor<?x64xf32>, tensor<64x64xbf16>) -> tensor<?x64xf32>
// CHECK: tensor.expand_shape {{.+}} into tensor<?x4x16xf32>
// CHECK: "model.layers.0.self_attn.k_proj.weight", bf16, [32, 64]
// CHECK: "model.layers.0.self_attn.v_proj.weight", bf16, [32, 64]
// CHECK: %[[Q:.+]] = moe.rope %{{.+}}[%[[POS]]] theta = 1.000000e+06 head_dim = 16 rotate_half : tensor<?x4x16xf32>, tensor<?xi32>
// CHECK: %[[K:.+]] = moe.rope %{{.+}}[%[[POS]]] theta = 1.000000e+06 head_dim = 16 rotate_half : tensor<?x2x16xf32>, tensor<?xi32>
// CHECK: %[[ATTN:[^,]+]], %[[KV0OUT:[^ ]+]] = moe.attention %[[Q]], %[[K]], %{{.+}} cache(%[[KV0]]) positions(%[[POS]]) offsets(%[[OFFSETS]]) heads = 4 kv_heads = 2 head_dim = 16 causal :
// CHECK: tensor.collapse_shape %[[ATTN]]
// CHECK: "model.layers.0.self_attn.o_proj.weight", bf16, [64, 64]
// CHECK: %[[H1:.+]] = arith.addf %[[H0]], %{{.+}} : tensor<?x64xf32>
// CHECK: %[[C1:.+]] = tensor.insert_slice %[[KV0OUT]] into %[[CACHE]][0, 0, 0, 0, 0] [1, 2, %[[S]], 2, 16]
// CHECK-NOT: tensor.insert_slice {{.+}} into %[[CACHE]]
// CHECK: "model.layers.0.post_attention_layernorm.weight"
// CHECK: %[[X2:.+]] = moe.rms_norm %[[H1]]
// CHECK: %[[GATE:.+]] = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.block_sparse_moe.gate.weight", bf16, [4, 64], offset = {{[0-9]+}}>] : tensor<4x64xbf16>
// CHECK: %[[LOGITS:.+]] = moe.linear %[[X2]], %[[GATE]] : (tensor<?x64xf32>, tensor<4x64xbf16>) -> tensor<?x4xf32>
// CHECK: %[[RW:.+]], %[[IDS:.+]] = moe.router %[[LOGITS]] experts = 4 top_k = 2 learned softmax renormalize : (tensor<?x4xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
// w1 (gate) of experts 0..3, stacked:
// CHECK: %[[W1:.+]] = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.block_sparse_moe.experts.0.w1.weight", bf16, [128, 64], offset = {{[0-9]+}}>, #moe.weight_ref<"model.safetensors", "model.layers.0.block_sparse_moe.experts.1.w1.weight", {{.+}}, #moe.weight_ref<"model.safetensors", "model.layers.0.block_sparse_moe.experts.3.w1.weight", bf16, [128, 64], offset = {{[0-9]+}}>] : tensor<4x128x64xbf16>
// CHECK: %[[W3:.+]] = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.block_sparse_moe.experts.0.w3.weight"
// CHECK: %[[W2:.+]] = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.block_sparse_moe.experts.0.w2.weight", bf16, [64, 128]{{.+}} : tensor<4x64x128xbf16>
// CHECK: %[[FFN:.+]] = moe.expert_ffn %[[X2]] routing(%[[RW]], %[[IDS]]) experts(%[[W1]], %[[W3]], %[[W2]]) swiglu
// CHECK: arith.addf %[[H1]], %[[FFN]]
// CHECK: %[[KV1:.+]] = tensor.extract_slice %[[C1]][1, 0, 0, 0, 0]
// CHECK: %{{.+}}, %[[KV1OUT:[^ ]+]] = moe.attention {{.+}} cache(%[[KV1]])
// CHECK: %[[C2:.+]] = tensor.insert_slice %[[KV1OUT]] into %[[C1]][1, 0, 0, 0, 0]
// CHECK: "model.norm.weight"
// The head multiplies the last output_rows tokens only.
// CHECK: %[[Y:.+]] = moe.rms_norm
// CHECK: %[[T:.+]] = tensor.dim %[[Y]], %{{.+}} : tensor<?x64xf32>
// CHECK: %[[FIRST:.+]] = arith.subi %[[T]], %[[ROWS]] : index
// CHECK: %[[LAST:.+]] = tensor.extract_slice %[[Y]][%[[FIRST]], 0] [%[[ROWS]], 64] [1, 1] : tensor<?x64xf32> to tensor<?x64xf32>
// CHECK: %[[HEAD:.+]] = moe.weight [#moe.weight_ref<"model.safetensors", "lm_head.weight", bf16, [256, 64], offset = {{[0-9]+}}>]
// CHECK: %[[LOGITS:.+]] = moe.lm_head %[[LAST]], %[[HEAD]] : tensor<?x64xf32>, tensor<256x64xbf16> -> tensor<?x256xf32>
// CHECK: return %[[LOGITS]], %[[C2]] : tensor<?x256xf32>, tensor<2x2x?x2x16xf32>
// CHECK: #[[LAYER0]] = loc("model.layers.0")
