// MistralForCausalLM: the dense MLP is the one-expert case, without a
// router; a sliding window reaches the attention.
//
// RUN: rm -rf %t && moec-synth -o %t --arch=MistralForCausalLM --sliding-window=4 --dtype=f16
// RUN: moec-import %t -o %t.mlir
// RUN: FileCheck %s --enable-var-scope < %t.mlir
// RUN: %python %S/Inputs/check_offsets.py %t %t.mlir

// CHECK: architectures = ["MistralForCausalLM"]
// CHECK-NOT: num_local_experts
// CHECK-SAME: sliding_window = 4 : i64
// CHECK-LABEL: func.func @forward(
// CHECK: moe.attention {{.+}} heads = 4 kv_heads = 2 head_dim = 16 causal window = 4 :
// CHECK-NOT: moe.router
// CHECK: %[[G:.+]] = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.mlp.gate_proj.weight", f16, [128, 64], offset = {{[0-9]+}}>] : tensor<1x128x64xf16>
// CHECK: %[[U:.+]] = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.mlp.up_proj.weight", f16, [128, 64], offset = {{[0-9]+}}>] : tensor<1x128x64xf16>
// CHECK: %[[D:.+]] = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.mlp.down_proj.weight", f16, [64, 128], offset = {{[0-9]+}}>] : tensor<1x64x128xf16>
// CHECK: moe.expert_ffn %{{.+}} experts(%[[G]], %[[U]], %[[D]]) swiglu : (tensor<?x64xf32>, tensor<1x128x64xf16>, tensor<1x128x64xf16>, tensor<1x64x128xf16>) -> tensor<?x64xf32>
// CHECK: moe.attention {{.+}} window = 4 :
// CHECK-NOT: moe.router
// CHECK: moe.lm_head
