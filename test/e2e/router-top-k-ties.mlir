// The top-k of every router lowering (buildTopK) picks the lower expert id
// first among equal scores, at every round. Run on this CPU through the
// kernel (kernel.router_top_k) and the reference lowering (moe.router).
//
// RUN: moec-opt %s --pass-pipeline='builtin.module(func.func(moe-kernel-to-cpu, moe-to-linalg{vector-width=4}), one-shot-bufferize{bufferize-function-boundaries}, func.func(scf-forall-to-parallel, convert-linalg-to-loops), convert-scf-to-cf, convert-vector-to-llvm, expand-strided-metadata, lower-affine, finalize-memref-to-llvm, convert-math-to-llvm, convert-arith-to-llvm, convert-index-to-llvm, convert-cf-to-llvm, convert-func-to-llvm, reconcile-unrealized-casts)' \
// RUN:   | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_lib_dir/libmlir_runner_utils.so,%mlir_lib_dir/libmlir_c_runner_utils.so \
// RUN:   | FileCheck %s
//
// Token 0: experts 1 and 2 share the gate row with the largest logit, 0 and
// 3 share the next; token 1 (the input negated): the other way round. The
// renormalised weights of a tied pair are equal.
// CHECK: sizes = [2, 3]
// CHECK-NEXT: {{\[\[}}[[W:0\.[0-9]+]], [[W]], [[R:[0-9.e-]+]]],
// CHECK-NEXT: {{\[}}[[W]], [[W]], [[R]]]]
// CHECK: sizes = [2, 3]
// CHECK-NEXT: {{\[\[}}[[W]], [[W]], [[R]]],
// CHECK-NEXT: {{\[}}[[W]], [[W]], [[R]]]]
// CHECK: sizes = [2, 3]
// CHECK-NEXT: {{\[\[}}1, 2, 0],
// CHECK-NEXT: {{\[}}0, 3, 1]]
// CHECK: sizes = [2, 3]
// CHECK-NEXT: {{\[\[}}1, 2, 0],
// CHECK-NEXT: {{\[}}0, 3, 1]]

func.func private @printMemrefF32(tensor<*xf32>)
func.func private @printMemrefI32(tensor<*xi32>)

func.func @main() {
  %x = arith.constant dense<[[0.5, -1.25, 2.0, 0.75, -0.5, 1.5, -2.0, 0.25],
                             [-0.5, 1.25, -2.0, -0.75, 0.5, -1.5, 2.0, -0.25]]> : tensor<2x8xf32>
  %g = arith.constant dense<[[-0.3, 0.2, -0.6, 0.1, 0.4, -0.2, 0.5, 0.0],
                             [0.7, -0.4, 0.9, 0.2, -0.1, 0.6, -0.8, 0.3],
                             [0.7, -0.4, 0.9, 0.2, -0.1, 0.6, -0.8, 0.3],
                             [-0.3, 0.2, -0.6, 0.1, 0.4, -0.2, 0.5, 0.0]]> : tensor<4x8xf32>
  %w, %ids = kernel.router_top_k %x, %g top_k = 3 renormalize mapping(#kernel.cpu<lanes = 4, accumulators = 1, tasks = 2>) : tensor<2x8xf32>, tensor<4x8xf32> -> tensor<2x3xf32>, tensor<2x3xi32>
  %rw, %rids = moe.router %x gate(%g) experts = 4 top_k = 3 learned softmax renormalize : (tensor<2x8xf32>, tensor<4x8xf32>) -> (tensor<2x3xf32>, tensor<2x3xi32>)
  %wu = tensor.cast %w : tensor<2x3xf32> to tensor<*xf32>
  %rwu = tensor.cast %rw : tensor<2x3xf32> to tensor<*xf32>
  %iu = tensor.cast %ids : tensor<2x3xi32> to tensor<*xi32>
  %riu = tensor.cast %rids : tensor<2x3xi32> to tensor<*xi32>
  call @printMemrefF32(%wu) : (tensor<*xf32>) -> ()
  call @printMemrefF32(%rwu) : (tensor<*xf32>) -> ()
  call @printMemrefI32(%iu) : (tensor<*xi32>) -> ()
  call @printMemrefI32(%riu) : (tensor<*xi32>) -> ()
  return
}
