// RUN: moec-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(moe-neuron-major-down))' | FileCheck %s --enable-var-scope

// A dReLU block's down weight becomes transposed, [E, I, H].
// CHECK-LABEL: func.func @drelu(
// CHECK: %[[D:.+]] = moe.weight [#moe.weight_ref<"m", "d0", bf16, [16, 32], offset = 0>, #moe.weight_ref<"m", "d1", bf16, [16, 32], offset = 1024>] transposed : tensor<2x32x16xbf16>
// CHECK: moe.expert_ffn %{{.+}} experts(%{{.+}}, %{{.+}}, %[[D]]) drelu down_neuron_major : ({{.+}}, tensor<2x32x16xbf16>) -> tensor<1x16xf32>
func.func @drelu(%x: tensor<1x16xf32>, %w: tensor<1x1xf32>, %ids: tensor<1x1xi32>, %g: tensor<2x32x16xbf16>) -> tensor<1x16xf32> {
  %d = moe.weight [#moe.weight_ref<"m", "d0", bf16, [16, 32], offset = 0>, #moe.weight_ref<"m", "d1", bf16, [16, 32], offset = 1024>] : tensor<2x16x32xbf16>
  %y = moe.expert_ffn %x routing(%w, %ids) experts(%g, %g, %d) drelu
      : (tensor<1x16xf32>, tensor<1x1xf32>, tensor<1x1xi32>, tensor<2x32x16xbf16>, tensor<2x32x16xbf16>, tensor<2x16x32xbf16>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

// SwiGLU blocks keep the dense layout.
// CHECK-LABEL: func.func @swiglu(
// CHECK-NOT: transposed
// CHECK-NOT: down_neuron_major
func.func @swiglu(%x: tensor<1x16xf32>, %g: tensor<1x32x16xbf16>) -> tensor<1x16xf32> {
  %d = moe.weight [#moe.weight_ref<"m", "d", bf16, [16, 32], offset = 0>] : tensor<1x16x32xbf16>
  %y = moe.expert_ffn %x experts(%g, %g, %d) swiglu
      : (tensor<1x16xf32>, tensor<1x32x16xbf16>, tensor<1x32x16xbf16>, tensor<1x16x32xbf16>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}
