// RUN: moec-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(moe-fuse-router))' | FileCheck %s --enable-var-scope

// The logit projection folds into the router as its gate.
// CHECK-LABEL: func.func @fold(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x16xf32>, %[[G:[^:]+]]: tensor<4x16xbf16>)
// CHECK-NOT: moe.linear
// CHECK: moe.router %[[X]] gate(%[[G]]) experts = 4 top_k = 2 learned softmax renormalize : (tensor<?x16xf32>, tensor<4x16xbf16>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
func.func @fold(%x: tensor<?x16xf32>, %g: tensor<4x16xbf16>) -> (tensor<?x2xf32>, tensor<?x2xi32>) {
  %l = moe.linear %x, %g : (tensor<?x16xf32>, tensor<4x16xbf16>) -> tensor<?x4xf32>
  %w, %ids = moe.router %l experts = 4 top_k = 2 learned softmax renormalize
      : (tensor<?x4xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return %w, %ids : tensor<?x2xf32>, tensor<?x2xi32>
}

// -----

// Logits someone else reads stay computed once.
// CHECK-LABEL: func.func @shared_logits(
// CHECK: %[[L:.+]] = moe.linear
// CHECK: moe.router %[[L]] experts = 4
func.func @shared_logits(%x: tensor<?x16xf32>, %g: tensor<4x16xbf16>) -> (tensor<?x2xf32>, tensor<?x4xf32>) {
  %l = moe.linear %x, %g : (tensor<?x16xf32>, tensor<4x16xbf16>) -> tensor<?x4xf32>
  %w, %ids = moe.router %l experts = 4 top_k = 2 learned softmax
      : (tensor<?x4xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return %w, %l : tensor<?x2xf32>, tensor<?x4xf32>
}

// -----

// A bias is not part of the router's product.
// CHECK-LABEL: func.func @bias(
// CHECK: %[[L:.+]] = moe.linear %{{.+}}, %{{.+}} bias
// CHECK: moe.router %[[L]] experts = 4
func.func @bias(%x: tensor<?x16xf32>, %g: tensor<4x16xbf16>, %b: tensor<4xf32>) -> tensor<?x2xf32> {
  %l = moe.linear %x, %g bias(%b) : (tensor<?x16xf32>, tensor<4x16xbf16>, tensor<4xf32>) -> tensor<?x4xf32>
  %w, %ids = moe.router %l experts = 4 top_k = 2 learned sigmoid
      : (tensor<?x4xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return %w : tensor<?x2xf32>
}

// -----

// Hash routing has no logits.
// CHECK-LABEL: func.func @hash(
// CHECK: moe.router %{{.+}} tokens(%{{.+}}) experts = 4 top_k = 1 hash
func.func @hash(%x: tensor<?x16xf32>, %t: tensor<?xi32>) -> tensor<?x1xf32> {
  %w, %ids = moe.router %x tokens(%t) experts = 4 top_k = 1 hash softmax
      : (tensor<?x16xf32>, tensor<?xi32>) -> (tensor<?x1xf32>, tensor<?x1xi32>)
  return %w : tensor<?x1xf32>
}
