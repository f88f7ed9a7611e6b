// RUN: moec-opt %s --split-input-file | FileCheck %s --enable-var-scope
// Printing, then parsing the printed form, must give the same IR.
// RUN: moec-opt %s --split-input-file | moec-opt --split-input-file | FileCheck %s --enable-var-scope
// The generic form must round-trip too.
// RUN: moec-opt %s --split-input-file --mlir-print-op-generic | moec-opt --split-input-file | FileCheck %s --enable-var-scope

// CHECK-LABEL: func.func @matvec
// CHECK: kernel.matvec %{{.*}}, %{{.*}} mapping(#kernel.cpu<lanes = 16, accumulators = 2, tasks = 16>) : tensor<?x64xf32>, tensor<32x64xbf16> -> tensor<?x32xf32>
// CHECK: kernel.matvec %{{.*}}, %{{.*}} mapping(#kernel.cpu<lanes = 16, accumulators = 4, tasks = 8, bf16_dot = true, row_tile = 2, token_tile = 3>) : tensor<?x64xf32>, tensor<32x64xbf16> -> tensor<?x32xf32>
// CHECK: kernel.matvec %{{.*}}, %{{.*}} mapping(#kernel.gpu<warps = 8, unroll = 4, splits = 132>) : tensor<1x64xf32>, tensor<32x64xf16> -> tensor<1x32xf32>
// CHECK: kernel.matvec %{{.*}}, %{{.*}} : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
func.func @matvec(%x: tensor<?x64xf32>, %x1: tensor<1x64xf32>, %w: tensor<32x64xbf16>, %h: tensor<32x64xf16>, %f: tensor<32x64xf32>) {
  %0 = kernel.matvec %x, %w mapping(#kernel.cpu<lanes = 16, accumulators = 2, tasks = 16>) : tensor<?x64xf32>, tensor<32x64xbf16> -> tensor<?x32xf32>
  %1 = kernel.matvec %x, %w mapping(#kernel.cpu<lanes = 16, accumulators = 4, tasks = 8, bf16_dot = true, row_tile = 2, token_tile = 3>) : tensor<?x64xf32>, tensor<32x64xbf16> -> tensor<?x32xf32>
  %2 = kernel.matvec %x1, %h mapping(#kernel.gpu<warps = 8, unroll = 4, splits = 132>) : tensor<1x64xf32>, tensor<32x64xf16> -> tensor<1x32xf32>
  %3 = kernel.matvec %x, %f : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  return
}

// -----

// CHECK-LABEL: func.func @gate_up
// CHECK: %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} = kernel.gate_up %{{.*}}, %{{.*}}, %{{.*}} drelu : tensor<64xf32>, tensor<128x64xbf16> -> tensor<128xf32>, tensor<128xi32>
// CHECK: kernel.gate_up %{{.*}}, %{{.*}}, %{{.*}} swiglu mapping(#kernel.gpu<warps = 4, unroll = 2, splits = 8>)
// CHECK: kernel.gate_up %{{.*}}, %{{.*}}, %{{.*}} reglu
// CHECK: kernel.gate_up %{{.*}}, %{{.*}}, %{{.*}} geglu
func.func @gate_up(%x: tensor<64xf32>, %g: tensor<128x64xbf16>, %u: tensor<128x64xbf16>) {
  %a, %i, %n, %p = kernel.gate_up %x, %g, %u drelu : tensor<64xf32>, tensor<128x64xbf16> -> tensor<128xf32>, tensor<128xi32>
  %b:4 = kernel.gate_up %x, %g, %u swiglu mapping(#kernel.gpu<warps = 4, unroll = 2, splits = 8>) : tensor<64xf32>, tensor<128x64xbf16> -> tensor<128xf32>, tensor<128xi32>
  %c:4 = kernel.gate_up %x, %g, %u reglu : tensor<64xf32>, tensor<128x64xbf16> -> tensor<128xf32>, tensor<128xi32>
  %d:4 = kernel.gate_up %x, %g, %u geglu : tensor<64xf32>, tensor<128x64xbf16> -> tensor<128xf32>, tensor<128xi32>
  return
}

// -----

// CHECK-LABEL: func.func @gate_up_predicted
// CHECK: kernel.gate_up %{{.*}}, %{{.*}}, %{{.*}} drelu predicted(%{{.*}} : tensor<128xf32>, threshold = -2.500000e-01) : tensor<64xf32>
func.func @gate_up_predicted(%x: tensor<64xf32>, %g: tensor<128x64xbf16>, %l: tensor<128xf32>) {
  %a:4 = kernel.gate_up %x, %g, %g drelu predicted(%l : tensor<128xf32>, threshold = -0.25) : tensor<64xf32>, tensor<128x64xbf16> -> tensor<128xf32>, tensor<128xi32>
  return
}

// -----

// CHECK-LABEL: func.func @sparse_matvec
// CHECK: kernel.sparse_matvec %{{.*}}, %{{.*}} active(%{{.*}}, %{{.*}}) neuron_major : tensor<128x64xbf16>, tensor<128xf32>, tensor<128xi32> -> tensor<64xf32>
// CHECK: kernel.sparse_matvec %{{.*}}, %{{.*}} active(%{{.*}}, %{{.*}}) row_major mapping(#kernel.cpu<lanes = 8, accumulators = 2, tasks = 4>) : tensor<64x128xbf16>, tensor<128xf32>, tensor<128xi32> -> tensor<64xf32>
func.func @sparse_matvec(%wt: tensor<128x64xbf16>, %w: tensor<64x128xbf16>, %a: tensor<128xf32>, %i: tensor<128xi32>, %n: index) {
  %0 = kernel.sparse_matvec %wt, %a active(%i, %n) neuron_major : tensor<128x64xbf16>, tensor<128xf32>, tensor<128xi32> -> tensor<64xf32>
  %1 = kernel.sparse_matvec %w, %a active(%i, %n) row_major mapping(#kernel.cpu<lanes = 8, accumulators = 2, tasks = 4>) : tensor<64x128xbf16>, tensor<128xf32>, tensor<128xi32> -> tensor<64xf32>
  return
}

// -----

// CHECK-LABEL: func.func @router_top_k
// CHECK: kernel.router_top_k %{{.*}}, %{{.*}} top_k = 1 selection = sigmoid weighting = softmax renormalize null_expert_bias = 1.100000e+00 : tensor<?x64xf32>, tensor<8x64xbf16> -> tensor<?x1xf32>, tensor<?x1xi32>
// CHECK: kernel.router_top_k %{{.*}}, %{{.*}} top_k = 2 renormalize : tensor<?x64xf32>, tensor<8x64xbf16> -> tensor<?x2xf32>, tensor<?x2xi32>
// CHECK: kernel.router_top_k %{{.*}}, %{{.*}} top_k = 1 mapping(#kernel.gpu<warps = 8, unroll = 2, splits = 108>) : tensor<?x64xf32>, tensor<8x64xbf16> -> tensor<?x1xf32>, tensor<?x1xi64>
func.func @router_top_k(%x: tensor<?x64xf32>, %g: tensor<8x64xbf16>) {
  %w2, %ids2 = kernel.router_top_k %x, %g top_k = 1 selection = sigmoid weighting = softmax renormalize null_expert_bias = 1.1 : tensor<?x64xf32>, tensor<8x64xbf16> -> tensor<?x1xf32>, tensor<?x1xi32>
  %w, %ids = kernel.router_top_k %x, %g top_k = 2 renormalize : tensor<?x64xf32>, tensor<8x64xbf16> -> tensor<?x2xf32>, tensor<?x2xi32>
  %w1, %ids1 = kernel.router_top_k %x, %g top_k = 1 mapping(#kernel.gpu<warps = 8, unroll = 2, splits = 108>) : tensor<?x64xf32>, tensor<8x64xbf16> -> tensor<?x1xf32>, tensor<?x1xi64>
  return
}

// -----

// CHECK-LABEL: func.func @layer_kernels
// CHECK: kernel.rms_norm %{{.*}}, %{{.*}} eps = 1.000000e-05 : tensor<?x64xf32>, tensor<64xbf16>
// CHECK: kernel.rope %{{.*}}[%{{.*}}] theta = 1.000000e+06 head_dim = 16 rotate_half mapping(#kernel.cpu<lanes = 8, accumulators = 2, tasks = 16>) : tensor<?x4x16xf32>, tensor<?xi32>
// CHECK: kernel.rope %{{.*}}[%{{.*}}] theta = 1.000000e+04 head_dim = 16 interleaved : tensor<?x2x16xf32>, tensor<?xi32>
// CHECK: %[[KV:.*]] = kernel.cache_write %{{.*}}, %{{.*}} into(%{{.*}}) positions(%{{.*}}) : tensor<?x2x16xf32>, tensor<2x128x2x16xbf16>, tensor<?xi32>
// CHECK: kernel.attention %{{.*}} cache(%[[KV]]) positions(%{{.*}}) heads = 4 kv_heads = 2 head_dim = 16 scale = 2.500000e-01 causal window = 32 mapping(#kernel.gpu<warps = 8, unroll = 4, splits = 132>) : tensor<?x4x16xf32>, tensor<2x128x2x16xbf16>, tensor<?xi32>
// CHECK: kernel.attention %{{.*}} cache(%[[KV]]) positions(%{{.*}}) heads = 4 kv_heads = 2 head_dim = 16 scale = 1.250000e-01 : tensor<?x4x16xf32>, tensor<2x128x2x16xbf16>, tensor<?xi32>
// CHECK: %[[KVB:.*]] = kernel.cache_write %{{.*}}, %{{.*}} into(%[[KV]]) positions(%{{.*}}) offsets(%[[OFF:.*]]) : tensor<?x2x16xf32>, tensor<2x128x2x16xbf16>, tensor<?xi32>, tensor<?xi32>
// CHECK: kernel.attention %{{.*}} cache(%[[KVB]]) positions(%{{.*}}) offsets(%[[OFF]]) heads = 4 kv_heads = 2 head_dim = 16 scale = 2.500000e-01 causal : tensor<?x4x16xf32>, tensor<2x128x2x16xbf16>, tensor<?xi32>, tensor<?xi32>
func.func @layer_kernels(%x: tensor<?x64xf32>, %w: tensor<64xbf16>, %q: tensor<?x4x16xf32>, %k: tensor<?x2x16xf32>, %v: tensor<?x2x16xf32>, %kv: tensor<2x128x2x16xbf16>, %pos: tensor<?xi32>, %off: tensor<?xi32>) {
  %0 = kernel.rms_norm %x, %w eps = 1.000000e-05 : tensor<?x64xf32>, tensor<64xbf16>
  %1 = kernel.rope %q[%pos] theta = 1.000000e+06 head_dim = 16 rotate_half mapping(#kernel.cpu<lanes = 8, accumulators = 2, tasks = 16>) : tensor<?x4x16xf32>, tensor<?xi32>
  %2 = kernel.rope %k[%pos] theta = 1.000000e+04 head_dim = 16 interleaved : tensor<?x2x16xf32>, tensor<?xi32>
  %kv1 = kernel.cache_write %k, %v into(%kv) positions(%pos) : tensor<?x2x16xf32>, tensor<2x128x2x16xbf16>, tensor<?xi32>
  %3 = kernel.attention %q cache(%kv1) positions(%pos) heads = 4 kv_heads = 2 head_dim = 16 scale = 2.500000e-01 causal window = 32 mapping(#kernel.gpu<warps = 8, unroll = 4, splits = 132>) : tensor<?x4x16xf32>, tensor<2x128x2x16xbf16>, tensor<?xi32>
  %4 = kernel.attention %q cache(%kv1) positions(%pos) heads = 4 kv_heads = 2 head_dim = 16 scale = 1.250000e-01 : tensor<?x4x16xf32>, tensor<2x128x2x16xbf16>, tensor<?xi32>
  %kv2 = kernel.cache_write %k, %v into(%kv1) positions(%pos) offsets(%off) : tensor<?x2x16xf32>, tensor<2x128x2x16xbf16>, tensor<?xi32>, tensor<?xi32>
  %5 = kernel.attention %q cache(%kv2) positions(%pos) offsets(%off) heads = 4 kv_heads = 2 head_dim = 16 scale = 2.500000e-01 causal : tensor<?x4x16xf32>, tensor<2x128x2x16xbf16>, tensor<?xi32>, tensor<?xi32>
  return
}
