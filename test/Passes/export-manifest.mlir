// RUN: moec-opt %s --split-input-file --verify-diagnostics --moe-export-manifest | FileCheck %s --enable-var-scope

// The shapes @forward was compiled for, as a public constant: layout 1,
// 256 embedding rows, output rank 2 and width 256, 3 layers, 2 kv heads,
// head dim 16, an f16 cache (artifact::DType F16 = 1).
// CHECK-LABEL: module
// CHECK: memref.global "public" constant @moec_manifest : memref<8xi64> = dense<[1, 256, 2, 256, 3, 2, 16, 1]>
// CHECK-LABEL: func.func @forward
module {
  func.func @forward(%tokens: tensor<?xi32>, %positions: tensor<?xi32>,
                     %offsets: tensor<?xi32>,
                     %cache: tensor<3x2x?x2x16xf16> {moe.name = "kv_cache"},
                     %rows: index)
      -> (tensor<?x256xf32>, tensor<3x2x?x2x16xf16>) {
    %table = arith.constant dense<1.0> : tensor<256x32xbf16>
    %h = moe.embedding %table[%tokens] : tensor<256x32xbf16>, tensor<?xi32> -> tensor<?x32xf32>
    %c0 = arith.constant 0 : index
    %n = tensor.dim %h, %c0 : tensor<?x32xf32>
    %out = tensor.empty(%n) : tensor<?x256xf32>
    return %out, %cache : tensor<?x256xf32>, tensor<3x2x?x2x16xf16>
  }
}

// -----

// A sequence classifier: one score vector of 3 labels, rank 1.
// CHECK-LABEL: module
// CHECK: memref.global "public" constant @moec_manifest : memref<8xi64> = dense<[1, 100, 1, 3, 1, 1, 8, 2]>
module {
  func.func @forward(%tokens: tensor<?xi32>, %positions: tensor<?xi32>,
                     %offsets: tensor<?xi32>,
                     %cache: tensor<1x2x?x1x8xf32> {moe.name = "kv_cache"},
                     %rows: index)
      -> (tensor<3xf32>, tensor<1x2x?x1x8xf32>) {
    %table = arith.constant dense<1.0> : tensor<100x8xf32>
    %h = moe.embedding %table[%tokens] : tensor<100x8xf32>, tensor<?xi32> -> tensor<?x8xf32>
    %s = arith.constant dense<0.0> : tensor<3xf32>
    return %s, %cache : tensor<3xf32>, tensor<1x2x?x1x8xf32>
  }
}

// -----

// expected-error @+1 {{moe-export-manifest: no @forward(..., kv_cache {moe.name = "kv_cache"}, ...) -> (output, ...)}}
module {
  func.func @main() {
    return
  }
}

// -----

// A @forward whose cache argument is not named so.
// expected-error @+1 {{moe-export-manifest: no @forward(..., kv_cache {moe.name = "kv_cache"}, ...) -> (output, ...)}}
module {
  func.func @forward(%tokens: tensor<?xi32>, %cache: tensor<1x2x?x1x8xf32>)
      -> (tensor<3xf32>, tensor<1x2x?x1x8xf32>) {
    %s = arith.constant dense<0.0> : tensor<3xf32>
    return %s, %cache : tensor<3xf32>, tensor<1x2x?x1x8xf32>
  }
}
