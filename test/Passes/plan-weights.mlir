// RUN: moec-opt %s --split-input-file --moe-plan-weights | FileCheck %s --enable-var-scope
// RUN: moec-opt %s --split-input-file --moe-plan-weights=alignment=4096 | FileCheck %s --check-prefix=PAGE
// RUN: not moec-opt %s --moe-plan-weights=alignment=48 2>&1 | FileCheck %s --check-prefix=BAD

// Offsets in op order, each rounded up to 64 bytes; stacked parts contiguous.
// CHECK-LABEL: func.func @offsets
// CHECK: moe.weight {{.+}} {moe.offset = 0 : i64} : tensor<3xbf16>
// CHECK: moe.weight {{.+}} {moe.offset = 64 : i64} : tensor<2x8x4xf32>
// CHECK: moe.weight {{.+}} {moe.offset = 320 : i64} : tensor<4xf16>
// PAGE-LABEL: func.func @offsets
// PAGE: moe.offset = 0 : i64
// PAGE: moe.offset = 4096 : i64
// PAGE: moe.offset = 8192 : i64
func.func @offsets() -> (tensor<3xbf16>, tensor<2x8x4xf32>, tensor<4xf16>) {
  %a = moe.weight [#moe.weight_ref<"m", "a", bf16, [3], offset = 0>] : tensor<3xbf16>
  %b = moe.weight [#moe.weight_ref<"m", "b0", f32, [8, 4], offset = 8>, #moe.weight_ref<"m", "b1", f32, [8, 4], offset = 136>] : tensor<2x8x4xf32>
  %c = moe.weight [#moe.weight_ref<"m", "c", f16, [4], offset = 264>] : tensor<4xf16>
  return %a, %b, %c : tensor<3xbf16>, tensor<2x8x4xf32>, tensor<4xf16>
}

// BAD: moe-plan-weights: alignment must be a power of two, got 48
