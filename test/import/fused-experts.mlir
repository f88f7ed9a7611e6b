// Experts stored fused, as newer transformers hold them: expert e's gate is
// rows [0, I) of gate_up_proj[e] and its up rows [I, 2I); each becomes a
// slice reference (I = 128, H = 64, bf16: 16384 bytes per slice).
//
// RUN: rm -rf %t && moec-synth -o %t --fused-experts
// RUN: moec-import %t -o %t.mlir
// RUN: FileCheck %s --enable-var-scope < %t.mlir
// RUN: %python %S/Inputs/check_offsets.py %t %t.mlir

// CHECK-LABEL: func.func @forward(
// CHECK: %[[GATE:.+]] = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.mlp.gate.weight", bf16, [4, 64]
// CHECK: %[[LOGITS:.+]] = moe.linear %{{.+}}, %[[GATE]]
// CHECK: moe.router %[[LOGITS]] experts = 4 top_k = 2
// CHECK: %[[W1:.+]] = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.mlp.experts.gate_up_proj", bf16, [128, 64], offset = [[#BASE:]]>,
// CHECK-SAME: #moe.weight_ref<"model.safetensors", "model.layers.0.mlp.experts.gate_up_proj", bf16, [128, 64], offset = [[#BASE + 32768]]>, #moe.weight_ref<{{[^>]+}}offset = [[#BASE + 65536]]>, #moe.weight_ref<{{[^>]+}}offset = [[#BASE + 98304]]>] : tensor<4x128x64xbf16>
// CHECK: %[[W3:.+]] = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.mlp.experts.gate_up_proj", bf16, [128, 64], offset = [[#BASE + 16384]]>, #moe.weight_ref<{{[^>]+}}offset = [[#BASE + 49152]]>, #moe.weight_ref<{{[^>]+}}offset = [[#BASE + 81920]]>, #moe.weight_ref<{{[^>]+}}offset = [[#BASE + 114688]]>] : tensor<4x128x64xbf16>
// CHECK: %[[W2:.+]] = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.mlp.experts.down_proj", bf16, [4, 64, 128], offset = [[#BASE + 131072]]>] : tensor<4x64x128xbf16>
// CHECK: moe.expert_ffn %{{.+}} routing(%{{.+}}, %{{.+}}) experts(%[[W1]], %[[W3]], %[[W2]]) swiglu
