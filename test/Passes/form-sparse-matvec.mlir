// RUN: moec-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(moe-form-sparse-matvec))' | FileCheck %s --enable-var-scope

// The down projection of a fused dReLU's activation runs over its active set.
// CHECK-LABEL: func.func @down(
// CHECK-SAME: %{{[^:]+}}: tensor<16xf32>, %{{[^:]+}}: tensor<32x16xbf16>, %[[D:[^:]+]]: tensor<16x32xbf16>)
// CHECK: %[[A:[^,]+]], %[[I:[^,]+]], %[[N:[^,]+]], %{{[^,]+}} = moe.fused_drelu
// CHECK-NOT: moe.linear
// CHECK: %[[Y:.+]] = moe.sparse_matvec %[[D]], %[[A]] active(%[[I]], %[[N]]) : tensor<16x32xbf16>, tensor<32xf32>, tensor<32xi32> -> tensor<16xf32>
// CHECK: return %[[Y]]
func.func @down(%x: tensor<16xf32>, %g: tensor<32x16xbf16>, %d: tensor<16x32xbf16>) -> tensor<16xf32> {
  %a, %idx, %n, %p = moe.fused_drelu %x, %g, %g : tensor<16xf32>, tensor<32x16xbf16> -> tensor<32xf32>, tensor<32xi32>
  %y = moe.linear %a, %d : (tensor<32xf32>, tensor<16x32xbf16>) -> tensor<16xf32>
  return %y : tensor<16xf32>
}

// -----

// Other inputs, and products with a bias, stay dense.
// CHECK-LABEL: func.func @dense(
// CHECK-NOT: moe.sparse_matvec
// CHECK: moe.linear %{{.+}}, %{{.+}} :
// CHECK: moe.linear %{{.+}}, %{{.+}} bias
func.func @dense(%v: tensor<32xf32>, %x: tensor<16xf32>, %g: tensor<32x16xbf16>, %d: tensor<16x32xbf16>, %b: tensor<16xf32>) -> (tensor<16xf32>, tensor<16xf32>) {
  %y = moe.linear %v, %d : (tensor<32xf32>, tensor<16x32xbf16>) -> tensor<16xf32>
  %a, %idx, %n, %p = moe.fused_drelu %x, %g, %g : tensor<16xf32>, tensor<32x16xbf16> -> tensor<32xf32>, tensor<32xi32>
  %z = moe.linear %a, %d bias(%b) : (tensor<32xf32>, tensor<16x32xbf16>, tensor<16xf32>) -> tensor<16xf32>
  return %y, %z : tensor<16xf32>, tensor<16xf32>
}
