// RUN: moec-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(moe-neuron-major-down))' | FileCheck %s --enable-var-scope

// A stacked down weight read only by sparse products, through expert
// slices, is stored transposed; the slices and products follow.
// CHECK-LABEL: func.func @stacked(
// CHECK: %[[D:.+]] = moe.weight [#moe.weight_ref<"m", "d0", bf16, [16, 32], offset = 0>, #moe.weight_ref<"m", "d1", bf16, [16, 32], offset = 1024>] transposed : tensor<2x32x16xbf16>
// CHECK: %[[E:.+]] = tensor.extract_slice %[[D]][%{{.+}}, 0, 0] [1, 32, 16] [1, 1, 1] : tensor<2x32x16xbf16> to tensor<32x16xbf16>
// CHECK: moe.sparse_matvec %[[E]], %{{.+}} active(%{{.+}}, %{{.+}}) neuron_major : tensor<32x16xbf16>, tensor<32xf32>, tensor<32xi32> -> tensor<16xf32>
// CHECK-NOT: moe.weight
func.func @stacked(%a: tensor<32xf32>, %idx: tensor<32xi32>, %n: index, %e: index) -> tensor<16xf32> {
  %d = moe.weight [#moe.weight_ref<"m", "d0", bf16, [16, 32], offset = 0>, #moe.weight_ref<"m", "d1", bf16, [16, 32], offset = 1024>] : tensor<2x16x32xbf16>
  %de = tensor.extract_slice %d[%e, 0, 0] [1, 16, 32] [1, 1, 1] : tensor<2x16x32xbf16> to tensor<16x32xbf16>
  %y = moe.sparse_matvec %de, %a active(%idx, %n) : tensor<16x32xbf16>, tensor<32xf32>, tensor<32xi32> -> tensor<16xf32>
  return %y : tensor<16xf32>
}

// -----

// A matrix weight used directly.
// CHECK-LABEL: func.func @matrix(
// CHECK: %[[D:.+]] = moe.weight [#moe.weight_ref<"m", "d", f16, [16, 32], offset = 0>] transposed : tensor<32x16xf16>
// CHECK: moe.sparse_matvec %[[D]], %{{.+}} neuron_major
func.func @matrix(%a: tensor<32xf32>, %idx: tensor<32xi32>, %n: index) -> tensor<16xf32> {
  %d = moe.weight [#moe.weight_ref<"m", "d", f16, [16, 32], offset = 0>] : tensor<16x32xf16>
  %y = moe.sparse_matvec %d, %a active(%idx, %n) : tensor<16x32xf16>, tensor<32xf32>, tensor<32xi32> -> tensor<16xf32>
  return %y : tensor<16xf32>
}

// -----

// A weight any dense op reads keeps its layout.
// CHECK-LABEL: func.func @mixed(
// CHECK-NOT: transposed
// CHECK-NOT: neuron_major
func.func @mixed(%a: tensor<32xf32>, %idx: tensor<32xi32>, %n: index) -> (tensor<16xf32>, tensor<16xf32>) {
  %d = moe.weight [#moe.weight_ref<"m", "d", bf16, [16, 32], offset = 0>] : tensor<16x32xbf16>
  %y = moe.sparse_matvec %d, %a active(%idx, %n) : tensor<16x32xbf16>, tensor<32xf32>, tensor<32xi32> -> tensor<16xf32>
  %z = moe.linear %a, %d : (tensor<32xf32>, tensor<16x32xbf16>) -> tensor<16xf32>
  return %y, %z : tensor<16xf32>, tensor<16xf32>
}

// -----

// A prompt's dense block reading the stacked weight as its routed down,
// beside the sparse products of the decode path: the block reads the
// transposed weight too, marked down_neuron_major.
// CHECK-LABEL: func.func @prompt_block(
// CHECK: %[[D:.+]] = moe.weight [#moe.weight_ref<"m", "d0", bf16, [16, 32], offset = 0>, #moe.weight_ref<"m", "d1", bf16, [16, 32], offset = 1024>] transposed : tensor<2x32x16xbf16>
// CHECK: moe.expert_ffn %{{.+}} experts(%{{.+}}, %{{.+}}, %[[D]]) drelu down_neuron_major : ({{.+}}, tensor<2x32x16xbf16>) -> tensor<?x16xf32>
// CHECK: moe.sparse_matvec %{{.+}} neuron_major
func.func @prompt_block(%x: tensor<?x16xf32>, %w: tensor<?x1xf32>, %ids: tensor<?x1xi32>, %g: tensor<2x32x16xbf16>, %a: tensor<32xf32>, %idx: tensor<32xi32>, %n: index, %e: index) -> (tensor<?x16xf32>, tensor<16xf32>) {
  %d = moe.weight [#moe.weight_ref<"m", "d0", bf16, [16, 32], offset = 0>, #moe.weight_ref<"m", "d1", bf16, [16, 32], offset = 1024>] : tensor<2x16x32xbf16>
  %y = moe.expert_ffn %x routing(%w, %ids) experts(%g, %g, %d) drelu
      : (tensor<?x16xf32>, tensor<?x1xf32>, tensor<?x1xi32>, tensor<2x32x16xbf16>, tensor<2x32x16xbf16>, tensor<2x16x32xbf16>) -> tensor<?x16xf32>
  %de = tensor.extract_slice %d[%e, 0, 0] [1, 16, 32] [1, 1, 1] : tensor<2x16x32xbf16> to tensor<16x32xbf16>
  %z = moe.sparse_matvec %de, %a active(%idx, %n) : tensor<16x32xbf16>, tensor<32xf32>, tensor<32xi32> -> tensor<16xf32>
  return %y, %z : tensor<?x16xf32>, tensor<16xf32>
}

// -----

// Expert blocks alone (a SwiGLU model's downs) keep their layout, and so
// does a block with shared experts.
// CHECK-LABEL: func.func @blocks_only(
// CHECK-NOT: transposed
// CHECK-NOT: down_neuron_major
func.func @blocks_only(%x: tensor<?x16xf32>, %w: tensor<?x1xf32>, %ids: tensor<?x1xi32>, %g: tensor<2x32x16xbf16>, %sg: tensor<1x32x16xbf16>, %sd: tensor<1x16x32xbf16>, %a: tensor<32xf32>, %idx: tensor<32xi32>, %n: index, %e: index) -> (tensor<?x16xf32>, tensor<?x16xf32>, tensor<16xf32>) {
  %d = moe.weight [#moe.weight_ref<"m", "d0", bf16, [16, 32], offset = 0>, #moe.weight_ref<"m", "d1", bf16, [16, 32], offset = 1024>] : tensor<2x16x32xbf16>
  %y = moe.expert_ffn %x routing(%w, %ids) experts(%g, %g, %d) swiglu
      : (tensor<?x16xf32>, tensor<?x1xf32>, tensor<?x1xi32>, tensor<2x32x16xbf16>, tensor<2x32x16xbf16>, tensor<2x16x32xbf16>) -> tensor<?x16xf32>
  %s = moe.weight [#moe.weight_ref<"m", "s0", bf16, [16, 32], offset = 2048>, #moe.weight_ref<"m", "s1", bf16, [16, 32], offset = 3072>] : tensor<2x16x32xbf16>
  %v = moe.expert_ffn %x routing(%w, %ids) experts(%g, %g, %s) shared(%sg, %sg, %sd) drelu
      : (tensor<?x16xf32>, tensor<?x1xf32>, tensor<?x1xi32>, tensor<2x32x16xbf16>, tensor<2x32x16xbf16>, tensor<2x16x32xbf16>, tensor<1x32x16xbf16>, tensor<1x32x16xbf16>, tensor<1x16x32xbf16>) -> tensor<?x16xf32>
  %se = tensor.extract_slice %s[%e, 0, 0] [1, 16, 32] [1, 1, 1] : tensor<2x16x32xbf16> to tensor<16x32xbf16>
  %z = moe.sparse_matvec %se, %a active(%idx, %n) : tensor<16x32xbf16>, tensor<32xf32>, tensor<32xi32> -> tensor<16xf32>
  return %y, %v, %z : tensor<?x16xf32>, tensor<?x16xf32>, tensor<16xf32>
}
