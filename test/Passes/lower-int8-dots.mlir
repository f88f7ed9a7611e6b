// RUN: moec-opt %s --split-input-file --moe-lower-int8-dots | FileCheck %s --enable-var-scope

// Each dot_u8s8 becomes vpdpbusd on its accumulator.
// CHECK-LABEL: func.func @dots
// CHECK-SAME: (%[[ACC:.*]]: vector<8xi32>, %[[A:.*]]: vector<32xi8>, %[[B:.*]]: vector<32xi8>)
// CHECK: %[[D:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%[[ACC]], %[[A]], %[[B]]) : (vector<8xi32>, vector<32xi8>, vector<32xi8>) -> vector<8xi32>
// CHECK-NOT: kernel.dot_u8s8
// CHECK: return %[[D]]
func.func @dots(%acc: vector<8xi32>, %a: vector<32xi8>, %b: vector<32xi8>) -> vector<8xi32> {
  %d = kernel.dot_u8s8 %acc, %a, %b : vector<32xi8>, vector<32xi8> -> vector<8xi32>
  return %d : vector<8xi32>
}

// -----

// 64 bytes: the 512-bit form.
// CHECK-LABEL: func.func @wide
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.*}}, %{{.*}}, %{{.*}}) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
func.func @wide(%acc: vector<16xi32>, %a: vector<64xi8>, %b: vector<64xi8>) -> vector<16xi32> {
  %d = kernel.dot_u8s8 %acc, %a, %b : vector<64xi8>, vector<64xi8> -> vector<16xi32>
  return %d : vector<16xi32>
}
