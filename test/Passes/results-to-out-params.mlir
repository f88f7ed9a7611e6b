// RUN: moec-opt %s --split-input-file --moe-results-to-out-params | FileCheck %s --enable-var-scope

// An argument returned is dropped (updated in place); an allocation returned
// becomes a caller-provided argument.
// CHECK-LABEL: func.func @forward(
// CHECK-SAME: %[[CACHE:[^:]+]]: memref<2x?xf32>, %[[N:[^:]+]]: index, %[[OUT:[^:]+]]: memref<?x4xf32>) {
// CHECK-NOT: memref.alloc
// CHECK: linalg.fill ins(%{{.+}} : f32) outs(%[[OUT]] : memref<?x4xf32>)
// CHECK: return{{$}}
func.func @forward(%cache: memref<2x?xf32>, %n: index) -> (memref<?x4xf32>, memref<2x?xf32>) {
  %c = arith.constant 1.0 : f32
  %out = memref.alloc(%n) : memref<?x4xf32>
  linalg.fill ins(%c : f32) outs(%out : memref<?x4xf32>)
  return %out, %cache : memref<?x4xf32>, memref<2x?xf32>
}

// -----

// Private functions are left alone: their callers see the change.
// CHECK-LABEL: func.func private @helper(%{{[^:]+}}: index) -> memref<?xf32>
func.func private @helper(%n: index) -> memref<?xf32> {
  %out = memref.alloc(%n) : memref<?xf32>
  return %out : memref<?xf32>
}
