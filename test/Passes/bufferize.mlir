// RUN: moec-opt %s --split-input-file --moe-bufferize | FileCheck %s --enable-var-scope

// Identity layouts at the boundary; the copy that reading %x after writing
// its slice forces is a linalg.copy, not a runtime call.
// CHECK-LABEL: func.func @forward(
// CHECK-SAME: %[[X:[^:]+]]: memref<4x8xf32>, %[[ROW:[^:]+]]: memref<8xf32>) -> (memref<4x8xf32>, memref<4x8xf32>)
// CHECK: %[[COPY:.+]] = memref.alloc() {{.*}}: memref<4x8xf32>
// CHECK: linalg.copy ins(%[[X]] : memref<4x8xf32>) outs(%[[COPY]] : memref<4x8xf32>)
// CHECK-NOT: memref.copy
func.func @forward(%x: tensor<4x8xf32>, %row: tensor<8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %y = tensor.insert_slice %row into %x[1, 0] [1, 8] [1, 1] : tensor<8xf32> into tensor<4x8xf32>
  return %y, %x : tensor<4x8xf32>, tensor<4x8xf32>
}
