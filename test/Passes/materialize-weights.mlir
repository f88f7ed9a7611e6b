// RUN: moec-opt %s --split-input-file --verify-diagnostics --moe-materialize-weights | FileCheck %s --enable-var-scope

// The segment becomes the first argument; each weight a read-only view of it.
// CHECK-LABEL: func.func @views(
// CHECK-SAME: %[[SEG:[^:]+]]: memref<?xi8> {moe.name = "weights"}, %[[X:[^:]+]]: tensor<2xf32>)
// CHECK: %[[OFF:.+]] = arith.constant 128 : index
// CHECK: %[[VIEW:.+]] = memref.view %[[SEG]][%[[OFF]]][] : memref<?xi8> to memref<2x8x4xbf16>
// CHECK: %[[W:.+]] = bufferization.to_tensor %[[VIEW]] restrict : memref<2x8x4xbf16> to tensor<2x8x4xbf16>
// CHECK-NOT: moe.weight
// CHECK: return %[[W]]
func.func @views(%x: tensor<2xf32>) -> tensor<2x8x4xbf16> {
  %w = moe.weight [#moe.weight_ref<"m", "b0", bf16, [8, 4], offset = 8>, #moe.weight_ref<"m", "b1", bf16, [8, 4], offset = 72>] {moe.offset = 128 : i64} : tensor<2x8x4xbf16>
  return %w : tensor<2x8x4xbf16>
}

// -----

// Functions without weights keep their signature.
// CHECK-LABEL: func.func @no_weights(%{{[^:]+}}: tensor<2xf32>) -> tensor<2xf32>
func.func @no_weights(%x: tensor<2xf32>) -> tensor<2xf32> {
  return %x : tensor<2xf32>
}

// -----

func.func @unplanned() -> tensor<4xf32> {
  // expected-error @+1 {{has no moe.offset; run the weight planner first}}
  %w = moe.weight [#moe.weight_ref<"m", "a", f32, [4], offset = 0>] : tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

// A quantized weight is viewed as its blocks ([rows, row bytes], i8, the
// format as the encoding) and read through moe.dequantize.
// CHECK-LABEL: func.func @blocks(
// CHECK-SAME: %[[SEG:[^:]+]]: memref<?xi8> {moe.name = "weights"})
// CHECK: %[[VIEW:.+]] = memref.view %[[SEG]][%{{.+}}][] : memref<?xi8> to memref<2x8x36xi8>
// CHECK: %[[B:.+]] = bufferization.to_tensor %[[VIEW]] restrict : memref<2x8x36xi8> to tensor<2x8x36xi8, #moe.blocks<q4_0>>
// CHECK: %[[W:.+]] = moe.dequantize %[[B]] : tensor<2x8x36xi8, #moe.blocks<q4_0>> -> tensor<2x8x64xf32>
// CHECK: return %[[W]]
func.func @blocks() -> tensor<2x8x64xf32> {
  %w = moe.weight [#moe.weight_ref<"m", "b0", bf16, [8, 64], offset = 8>, #moe.weight_ref<"m", "b1", bf16, [8, 64], offset = 1032>] format(<q4_0>) {moe.offset = 0 : i64} : tensor<2x8x64xf32>
  return %w : tensor<2x8x64xf32>
}
