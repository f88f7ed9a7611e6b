// RUN: moec-opt %s --split-input-file --moe-strip-predictors | FileCheck %s --enable-var-scope

// The predictor operands go, and so do their weights.
// CHECK-LABEL: func.func @strips_predictor
// CHECK-NOT: predictor
// CHECK: %[[G:.+]] = moe.weight [#moe.weight_ref<"m", "gate"
// CHECK-NOT: moe.weight
// CHECK: moe.expert_ffn %{{.+}} experts(%[[G]], %[[G]], %{{.+}}) drelu : (tensor<1x16xf32>, tensor<1x32x16xbf16>, tensor<1x32x16xbf16>, tensor<1x16x32xbf16>) -> tensor<1x16xf32>
func.func @strips_predictor(%x: tensor<1x16xf32>, %d: tensor<1x16x32xbf16>) -> tensor<1x16xf32> {
  %g = moe.weight [#moe.weight_ref<"m", "gate", bf16, [32, 16], offset = 0>] : tensor<1x32x16xbf16>
  %p1 = moe.weight [#moe.weight_ref<"m", "model.layers.0.mlp.predictor.fc1.weight", bf16, [4, 16], offset = 1024>] : tensor<1x4x16xbf16>
  %p2 = moe.weight [#moe.weight_ref<"m", "model.layers.0.mlp.predictor.fc2.weight", bf16, [32, 4], offset = 1152>] : tensor<1x32x4xbf16>
  %y = moe.expert_ffn %x experts(%g, %g, %d) predictor(%p1, %p2) drelu
      : (tensor<1x16xf32>, tensor<1x32x16xbf16>, tensor<1x32x16xbf16>, tensor<1x16x32xbf16>, tensor<1x4x16xbf16>, tensor<1x32x4xbf16>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

// A predictor weight feeding two blocks is erased once, after both let go.
// CHECK-LABEL: func.func @shared_predictor_weight
// CHECK-NOT: predictor
// CHECK-NOT: moe.weight
// CHECK: moe.expert_ffn
// CHECK-NOT: predictor
// CHECK: moe.expert_ffn
func.func @shared_predictor_weight(%x: tensor<1x16xf32>, %g: tensor<1x32x16xbf16>, %d: tensor<1x16x32xbf16>) -> tensor<1x16xf32> {
  %p1 = moe.weight [#moe.weight_ref<"m", "fc1", bf16, [4, 16], offset = 0>] : tensor<1x4x16xbf16>
  %p2 = moe.weight [#moe.weight_ref<"m", "fc2", bf16, [32, 4], offset = 128>] : tensor<1x32x4xbf16>
  %y = moe.expert_ffn %x experts(%g, %g, %d) predictor(%p1, %p2) drelu
      : (tensor<1x16xf32>, tensor<1x32x16xbf16>, tensor<1x32x16xbf16>, tensor<1x16x32xbf16>, tensor<1x4x16xbf16>, tensor<1x32x4xbf16>) -> tensor<1x16xf32>
  %z = moe.expert_ffn %y experts(%g, %g, %d) predictor(%p1, %p2) drelu
      : (tensor<1x16xf32>, tensor<1x32x16xbf16>, tensor<1x32x16xbf16>, tensor<1x16x32xbf16>, tensor<1x4x16xbf16>, tensor<1x32x4xbf16>) -> tensor<1x16xf32>
  return %z : tensor<1x16xf32>
}

// -----

// A weight with another user stays; blocks without a predictor are untouched.
// CHECK-LABEL: func.func @keeps_used_weight
// CHECK: %[[P1:.+]] = moe.weight [#moe.weight_ref<"m", "fc1"
// CHECK-NOT: moe.weight
// CHECK: %[[Y:.+]] = moe.expert_ffn %{{.+}} routing(%{{.+}}, %{{.+}}) experts(%{{.+}}, %{{.+}}, %{{.+}}) drelu :
// CHECK: %[[Z:.+]] = moe.expert_ffn %[[Y]] routing(%{{.+}}, %{{.+}}) experts(%{{.+}}, %{{.+}}, %{{.+}}) swiglu :
// CHECK: return %[[Z]], %[[P1]]
func.func @keeps_used_weight(%x: tensor<1x16xf32>, %w: tensor<1x1xf32>, %ids: tensor<1x1xi32>,
                             %g: tensor<2x32x16xbf16>, %d: tensor<2x16x32xbf16>)
    -> (tensor<1x16xf32>, tensor<2x4x16xbf16>) {
  %p1 = moe.weight [#moe.weight_ref<"m", "fc1", bf16, [2, 4, 16], offset = 0>] : tensor<2x4x16xbf16>
  %p2 = moe.weight [#moe.weight_ref<"m", "fc2", bf16, [2, 32, 4], offset = 256>] : tensor<2x32x4xbf16>
  %y = moe.expert_ffn %x routing(%w, %ids) experts(%g, %g, %d) predictor(%p1, %p2) drelu
      : (tensor<1x16xf32>, tensor<1x1xf32>, tensor<1x1xi32>, tensor<2x32x16xbf16>, tensor<2x32x16xbf16>, tensor<2x16x32xbf16>, tensor<2x4x16xbf16>, tensor<2x32x4xbf16>) -> tensor<1x16xf32>
  %z = moe.expert_ffn %y routing(%w, %ids) experts(%g, %g, %d) swiglu
      : (tensor<1x16xf32>, tensor<1x1xf32>, tensor<1x1xi32>, tensor<2x32x16xbf16>, tensor<2x32x16xbf16>, tensor<2x16x32xbf16>) -> tensor<1x16xf32>
  return %z, %p1 : tensor<1x16xf32>, tensor<2x4x16xbf16>
}
