// One KV head shared by all query heads, and an explicit head_dim that is
// not hidden / heads.
//
// RUN: rm -rf %t && moec-synth -o %t --num-kv-heads=1 --head-dim=32
// RUN: moec-import %t | FileCheck %s --enable-var-scope

// CHECK: head_dim = 32 : i64
// CHECK-SAME: num_key_value_heads = 1 : i64
// CHECK-LABEL: func.func @forward(
// CHECK-SAME: %{{[^:]+}}: tensor<2x2x?x1x32xf32> {moe.name = "kv_cache"}
// CHECK: "model.layers.0.self_attn.q_proj.weight", bf16, [128, 64]
// CHECK: "model.layers.0.self_attn.k_proj.weight", bf16, [32, 64]
// CHECK: moe.rope {{.+}} head_dim = 32 rotate_half : tensor<?x4x32xf32>
// CHECK: moe.rope {{.+}} head_dim = 32 rotate_half : tensor<?x1x32xf32>
// CHECK: moe.attention {{.+}} heads = 4 kv_heads = 1 head_dim = 32 causal : tensor<?x4x32xf32>, tensor<?x1x32xf32>, tensor<2x?x1x32xf32>, tensor<?xi32>
// CHECK: "model.layers.0.self_attn.o_proj.weight", bf16, [64, 128]
