// RUN: moec-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(moe-roll-layers))' | FileCheck %s --enable-var-scope

// Three layers that differ only in their weights and in the layer offset
// of their cache slice: one loop over the layers, each weight stacked and
// sliced at the layer index, the cache offset affine in it, the hidden
// state and the cache carried from layer to layer.
// CHECK-LABEL: func.func @three_layers
// CHECK-SAME: (%[[X:.*]]: tensor<?x8xf32>, %[[CACHE:.*]]: tensor<3x4x8xf32>)
// CHECK: %[[NORMS:.*]] = moe.weight [#moe.weight_ref<"m.safetensors", "model.layers.0.norm", bf16, [8], offset = 0>, #moe.weight_ref<"m.safetensors", "model.layers.1.norm", bf16, [8], offset = 16>, #moe.weight_ref<"m.safetensors", "model.layers.2.norm", bf16, [8], offset = 32>] : tensor<3x8xbf16>
// CHECK: %[[PROJ:.*]] = moe.weight [{{.*}}"model.layers.0.proj"{{.*}}"model.layers.1.proj"{{.*}}"model.layers.2.proj"{{.*}}] : tensor<3x8x8xbf16>
// CHECK: %[[C3:.*]] = arith.constant 3 : index
// CHECK: %[[OUT:.*]]:2 = scf.for %[[L:.*]] = %{{.*}} to %[[C3]] step %{{.*}} iter_args(%[[H:.*]] = %[[X]], %[[KV:.*]] = %[[CACHE]])
// CHECK: %[[NORM:.*]] = tensor.extract_slice %[[NORMS]][%{{.*}}, 0] [1, 8] [1, 1] : tensor<3x8xbf16> to tensor<8xbf16>
// CHECK: %[[Y:.*]] = moe.rms_norm %[[H]], %[[NORM]]
// CHECK: %[[W:.*]] = tensor.extract_slice %[[PROJ]][%{{.*}}, 0, 0] [1, 8, 8] [1, 1, 1] : tensor<3x8x8xbf16> to tensor<8x8xbf16>
// CHECK: %[[Z:.*]] = moe.linear %[[Y]], %[[W]]
// CHECK: %[[SUM:.*]] = arith.addf %[[H]], %[[Z]]
// CHECK: %[[AT:.*]] = arith.addi %{{.*}}, %{{.*}} : index
// CHECK: %[[KV2:.*]] = tensor.insert_slice %{{.*}} into %[[KV]][%[[AT]], 0, 0] [1, 4, 8] [1, 1, 1]
// CHECK: scf.yield %[[SUM]], %[[KV2]]
// CHECK: } {moe.layers = 3 : i64}
// CHECK: return %[[OUT]]#0, %[[OUT]]#1
func.func @three_layers(%x: tensor<?x8xf32>, %cache: tensor<3x4x8xf32>) -> (tensor<?x8xf32>, tensor<3x4x8xf32>) {
  %n0 = moe.weight [#moe.weight_ref<"m.safetensors", "model.layers.0.norm", bf16, [8], offset = 0>] : tensor<8xbf16> loc("model.layers.0")
  %y0 = moe.rms_norm %x, %n0 eps = 1.000000e-05 : tensor<?x8xf32>, tensor<8xbf16> loc("model.layers.0")
  %w0 = moe.weight [#moe.weight_ref<"m.safetensors", "model.layers.0.proj", bf16, [8, 8], offset = 48>] : tensor<8x8xbf16> loc("model.layers.0")
  %z0 = moe.linear %y0, %w0 : (tensor<?x8xf32>, tensor<8x8xbf16>) -> tensor<?x8xf32> loc("model.layers.0")
  %h0 = arith.addf %x, %z0 : tensor<?x8xf32> loc("model.layers.0")
  %e0 = tensor.empty() : tensor<4x8xf32> loc("model.layers.0")
  %kv0 = tensor.insert_slice %e0 into %cache[0, 0, 0] [1, 4, 8] [1, 1, 1] : tensor<4x8xf32> into tensor<3x4x8xf32> loc("model.layers.0")
  %n1 = moe.weight [#moe.weight_ref<"m.safetensors", "model.layers.1.norm", bf16, [8], offset = 16>] : tensor<8xbf16> loc("model.layers.1")
  %y1 = moe.rms_norm %h0, %n1 eps = 1.000000e-05 : tensor<?x8xf32>, tensor<8xbf16> loc("model.layers.1")
  %w1 = moe.weight [#moe.weight_ref<"m.safetensors", "model.layers.1.proj", bf16, [8, 8], offset = 176>] : tensor<8x8xbf16> loc("model.layers.1")
  %z1 = moe.linear %y1, %w1 : (tensor<?x8xf32>, tensor<8x8xbf16>) -> tensor<?x8xf32> loc("model.layers.1")
  %h1 = arith.addf %h0, %z1 : tensor<?x8xf32> loc("model.layers.1")
  %e1 = tensor.empty() : tensor<4x8xf32> loc("model.layers.1")
  %kv1 = tensor.insert_slice %e1 into %kv0[1, 0, 0] [1, 4, 8] [1, 1, 1] : tensor<4x8xf32> into tensor<3x4x8xf32> loc("model.layers.1")
  %n2 = moe.weight [#moe.weight_ref<"m.safetensors", "model.layers.2.norm", bf16, [8], offset = 32>] : tensor<8xbf16> loc("model.layers.2")
  %y2 = moe.rms_norm %h1, %n2 eps = 1.000000e-05 : tensor<?x8xf32>, tensor<8xbf16> loc("model.layers.2")
  %w2 = moe.weight [#moe.weight_ref<"m.safetensors", "model.layers.2.proj", bf16, [8, 8], offset = 304>] : tensor<8x8xbf16> loc("model.layers.2")
  %z2 = moe.linear %y2, %w2 : (tensor<?x8xf32>, tensor<8x8xbf16>) -> tensor<?x8xf32> loc("model.layers.2")
  %h2 = arith.addf %h1, %z2 : tensor<?x8xf32> loc("model.layers.2")
  %e2 = tensor.empty() : tensor<4x8xf32> loc("model.layers.2")
  %kv2 = tensor.insert_slice %e2 into %kv1[2, 0, 0] [1, 4, 8] [1, 1, 1] : tensor<4x8xf32> into tensor<3x4x8xf32> loc("model.layers.2")
  return %h2, %kv2 : tensor<?x8xf32>, tensor<3x4x8xf32>
}

// -----

// Layers that differ in anything but weights and cache offsets (here the
// norm's epsilon) keep their own code.
// CHECK-LABEL: func.func @different_layers
// CHECK-NOT: scf.for
// CHECK-COUNT-2: moe.rms_norm
func.func @different_layers(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %n0 = moe.weight [#moe.weight_ref<"m.safetensors", "model.layers.0.norm", bf16, [8], offset = 0>] : tensor<8xbf16> loc("model.layers.0")
  %y0 = moe.rms_norm %x, %n0 eps = 1.000000e-05 : tensor<?x8xf32>, tensor<8xbf16> loc("model.layers.0")
  %n1 = moe.weight [#moe.weight_ref<"m.safetensors", "model.layers.1.norm", bf16, [8], offset = 16>] : tensor<8xbf16> loc("model.layers.1")
  %y1 = moe.rms_norm %y0, %n1 eps = 1.000000e-06 : tensor<?x8xf32>, tensor<8xbf16> loc("model.layers.1")
  return %y1 : tensor<?x8xf32>
}

// -----

// A value of a layer other than the last that is read after the layers
// (here layer 0's output) keeps the layers apart.
// CHECK-LABEL: func.func @escaping_value
// CHECK-NOT: scf.for
func.func @escaping_value(%x: tensor<?x8xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  %n0 = moe.weight [#moe.weight_ref<"m.safetensors", "model.layers.0.norm", bf16, [8], offset = 0>] : tensor<8xbf16> loc("model.layers.0")
  %y0 = moe.rms_norm %x, %n0 eps = 1.000000e-05 : tensor<?x8xf32>, tensor<8xbf16> loc("model.layers.0")
  %n1 = moe.weight [#moe.weight_ref<"m.safetensors", "model.layers.1.norm", bf16, [8], offset = 16>] : tensor<8xbf16> loc("model.layers.1")
  %y1 = moe.rms_norm %y0, %n1 eps = 1.000000e-05 : tensor<?x8xf32>, tensor<8xbf16> loc("model.layers.1")
  return %y0, %y1 : tensor<?x8xf32>, tensor<?x8xf32>
}
