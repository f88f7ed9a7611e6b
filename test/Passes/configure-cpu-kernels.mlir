// RUN: moec-opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(func.func(moe-configure-cpu-kernels{lanes=16 accumulators=3 tasks=4}))' | FileCheck %s --enable-var-scope
// RUN: moec-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(moe-configure-cpu-kernels{lanes=16 bf16-dot=true}))' | FileCheck %s --check-prefix=DOT
// RUN: not moec-opt %s --pass-pipeline='builtin.module(func.func(moe-configure-cpu-kernels{lanes=8 bf16-dot=true}))' 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: moec-opt %s --pass-pipeline='builtin.module(func.func(moe-configure-cpu-kernels))' | FileCheck %s --check-prefix=AVX2
// RUN: moec-opt %s --pass-pipeline='builtin.module(func.func(moe-configure-cpu-kernels{row-tile=2 token-tile=5}))' | FileCheck %s --check-prefix=TILE
// RUN: not moec-opt %s --pass-pipeline='builtin.module(func.func(moe-configure-cpu-kernels{token-tile=-1}))' 2>&1 | FileCheck %s --check-prefix=ZERO

// Every kernel op gets the one mapping the options describe; other ops are
// untouched.
// CHECK-LABEL: func.func @mapped
// CHECK: kernel.matvec {{.*}} mapping(#kernel.cpu<lanes = 16, accumulators = 3, tasks = 4, row_tile = 4, token_tile = 5>)
// CHECK: kernel.gate_up {{.*}} mapping(#kernel.cpu<lanes = 16, accumulators = 3, tasks = 4, row_tile = 4, token_tile = 5>)
// CHECK: kernel.sparse_matvec {{.*}} mapping(#kernel.cpu<lanes = 16, accumulators = 3, tasks = 4, row_tile = 4, token_tile = 5>)
// CHECK: kernel.router_top_k {{.*}} mapping(#kernel.cpu<lanes = 16, accumulators = 3, tasks = 4, row_tile = 4, token_tile = 5>)
// CHECK: kernel.rms_norm {{.*}} mapping(#kernel.cpu<lanes = 16, accumulators = 3, tasks = 4, row_tile = 4, token_tile = 5>)
// CHECK: kernel.cache_write {{.*}} mapping(#kernel.cpu<lanes = 16, accumulators = 3, tasks = 4, row_tile = 4, token_tile = 5>)
// CHECK: kernel.attention {{.*}} mapping(#kernel.cpu<lanes = 16, accumulators = 3, tasks = 4, row_tile = 4, token_tile = 5>)
// CHECK-NOT: mapping
// CHECK: return
// DOT: kernel.matvec {{.*}} mapping(#kernel.cpu<lanes = 16, accumulators = 2, tasks = 16, bf16_dot = true, row_tile = 4, token_tile = 5>)
// AVX2's 16 registers hold a 4 x 2 block (activations and weights in even and odd halves); a block can be given.
// AVX2: kernel.matvec {{.*}} mapping(#kernel.cpu<lanes = 8, accumulators = 2, tasks = 16, row_tile = 4, token_tile = 2>)
// TILE: kernel.matvec {{.*}} mapping(#kernel.cpu<lanes = 8, accumulators = 2, tasks = 16, row_tile = 2, token_tile = 5>)
// ZERO: error: #kernel.cpu: lanes, accumulators, tasks and tiles must be positive
// BAD: error: #kernel.cpu: bf16_dot needs 16 lanes (AVX-512)
func.func @mapped(%x: tensor<?x64xf32>, %v: tensor<64xf32>, %w: tensor<32x64xbf16>, %g: tensor<128x64xbf16>, %wt: tensor<128x64xbf16>, %r: tensor<4x64xbf16>, %nw: tensor<64xbf16>, %q: tensor<?x4x16xf32>, %k: tensor<?x2x16xf32>, %c: tensor<2x128x2x16xf32>, %pos: tensor<?xi32>) -> tensor<?x32xf32> {
  %0 = kernel.matvec %x, %w : tensor<?x64xf32>, tensor<32x64xbf16> -> tensor<?x32xf32>
  %a, %i, %n, %p = kernel.gate_up %v, %g, %g drelu : tensor<64xf32>, tensor<128x64xbf16> -> tensor<128xf32>, tensor<128xi32>
  %y = kernel.sparse_matvec %wt, %a active(%i, %n) neuron_major : tensor<128x64xbf16>, tensor<128xf32>, tensor<128xi32> -> tensor<64xf32>
  %rw, %ids = kernel.router_top_k %x, %r top_k = 2 : tensor<?x64xf32>, tensor<4x64xbf16> -> tensor<?x2xf32>, tensor<?x2xi32>
  %h = kernel.rms_norm %x, %nw eps = 1.000000e-05 : tensor<?x64xf32>, tensor<64xbf16>
  %kv = kernel.cache_write %k, %k into(%c) positions(%pos) : tensor<?x2x16xf32>, tensor<2x128x2x16xf32>, tensor<?xi32>
  %o = kernel.attention %q cache(%kv) positions(%pos) heads = 4 kv_heads = 2 head_dim = 16 scale = 2.500000e-01 causal : tensor<?x4x16xf32>, tensor<2x128x2x16xf32>, tensor<?xi32>
  %1 = arith.addf %0, %0 : tensor<?x32xf32>
  return %1 : tensor<?x32xf32>
}
