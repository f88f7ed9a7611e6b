// RUN: moec-opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(func.func(moe-kernel-to-cpu))' | FileCheck %s --enable-var-scope

// The mapping drives the loops: a parallel task per weight row, vectors of
// `lanes` f32, `accumulators` independent partial sums.
// CHECK-LABEL: func.func @matvec
// CHECK: scf.forall (%{{.*}}) in (32)
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK: vector.transfer_read {{.*}} : tensor<32x64xbf16>, vector<16xbf16>
// CHECK: arith.extf %{{.*}} : vector<16xbf16> to vector<16xf32>
// CHECK: vector.fma
// CHECK: vector.reduction <add>
// CHECK-NOT: kernel.
func.func @matvec(%x: tensor<?x64xf32>, %w: tensor<32x64xbf16>) -> tensor<?x32xf32> {
  %0 = kernel.matvec %x, %w mapping(#kernel.cpu<lanes = 16, accumulators = 3, tasks = 4>) : tensor<?x64xf32>, tensor<32x64xbf16> -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}

// -----

// The same product with 4 lanes and 1 accumulator.
// CHECK-LABEL: func.func @matvec_narrow
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %{{.*}}) -> (vector<4xf32>)
// CHECK: vector.transfer_read {{.*}} : tensor<32x64xf16>, vector<4xf16>
func.func @matvec_narrow(%x: tensor<?x64xf32>, %w: tensor<32x64xf16>) -> tensor<?x32xf32> {
  %0 = kernel.matvec %x, %w mapping(#kernel.cpu<lanes = 4, accumulators = 1, tasks = 4>) : tensor<?x64xf32>, tensor<32x64xf16> -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}

// -----

// The fused dReLU gate/up: a task per neuron, the up row only under a
// positive gate; then the active set in order.
// CHECK-LABEL: func.func @gate_up
// CHECK: scf.forall (%{{.*}}) in (128)
// CHECK: %[[POS:.*]] = arith.cmpf ogt
// CHECK: scf.if %[[POS]] -> (f32)
// CHECK: vector<8xbf16>
// CHECK: scf.for {{.*}} -> (tensor<128xi32>, index, index)
// CHECK-NOT: kernel.
func.func @gate_up(%x: tensor<64xf32>, %g: tensor<128x64xbf16>, %u: tensor<128x64xbf16>) -> (tensor<128xf32>, tensor<128xi32>, index, index) {
  %a, %i, %n, %p = kernel.gate_up %x, %g, %u drelu mapping(#kernel.cpu<lanes = 8, accumulators = 2, tasks = 4>) : tensor<64xf32>, tensor<128x64xbf16> -> tensor<128xf32>, tensor<128xi32>
  return %a, %i, %n, %p : tensor<128xf32>, tensor<128xi32>, index, index
}

// -----

// The neuron-major sparse product: `tasks` parallel tasks split the active
// neurons, each streams whole rows into a partial output; then the sum.
// CHECK-LABEL: func.func @sparse_neuron_major
// CHECK: scf.forall (%{{.*}}) in (4) shared_outs(%{{.*}} = %{{.*}}) -> (tensor<4x64xf32>)
// CHECK: vector.broadcast %{{.*}} : f32 to vector<8xf32>
// CHECK-NOT: kernel.
func.func @sparse_neuron_major(%wt: tensor<128x64xbf16>, %a: tensor<128xf32>, %i: tensor<128xi32>, %n: index) -> tensor<64xf32> {
  %y = kernel.sparse_matvec %wt, %a active(%i, %n) neuron_major mapping(#kernel.cpu<lanes = 8, accumulators = 2, tasks = 4>) : tensor<128x64xbf16>, tensor<128xf32>, tensor<128xi32> -> tensor<64xf32>
  return %y : tensor<64xf32>
}

// -----

// Row-major: a loop over the active neurons adds their columns.
// CHECK-LABEL: func.func @sparse_row_major
// CHECK: linalg.fill
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step
// CHECK: tensor.extract %{{.*}}[%{{.*}}] : tensor<128xi32>
// CHECK: linalg.generic
func.func @sparse_row_major(%w: tensor<64x128xbf16>, %a: tensor<128xf32>, %i: tensor<128xi32>, %n: index) -> tensor<64xf32> {
  %y = kernel.sparse_matvec %w, %a active(%i, %n) row_major mapping(#kernel.cpu<lanes = 8, accumulators = 2, tasks = 4>) : tensor<64x128xbf16>, tensor<128xf32>, tensor<128xi32> -> tensor<64xf32>
  return %y : tensor<64xf32>
}

// -----

// The router: logits by the matvec kernel, softmax, top-k.
// CHECK-LABEL: func.func @router
// CHECK: scf.forall (%{{.*}}) in (4)
// CHECK: math.exp
// CHECK: scf.for
// CHECK: arith.cmpf ogt
// CHECK: arith.divf
// CHECK-NOT: kernel.
func.func @router(%x: tensor<?x64xf32>, %g: tensor<4x64xbf16>) -> (tensor<?x2xf32>, tensor<?x2xi32>) {
  %w, %ids = kernel.router_top_k %x, %g top_k = 2 renormalize mapping(#kernel.cpu<lanes = 8, accumulators = 2, tasks = 4>) : tensor<?x64xf32>, tensor<4x64xbf16> -> tensor<?x2xf32>, tensor<?x2xi32>
  return %w, %ids : tensor<?x2xf32>, tensor<?x2xi32>
}

// -----

// The GLU family: the gate and up products as two weight streams, then the
// activation (silu by exp); the active set is not listed, so nothing may
// read it.
// CHECK-LABEL: func.func @gate_up_swiglu
// CHECK: scf.forall (%{{.*}}) in (128)
// CHECK: vector.transfer_read {{.*}} : tensor<128x64xbf16>, vector<8xbf16>
// CHECK: vector.transfer_read {{.*}} : tensor<128x64xbf16>, vector<8xbf16>
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: arith.mulf
// CHECK-NOT: kernel.
func.func @gate_up_swiglu(%x: tensor<64xf32>, %g: tensor<128x64xbf16>, %u: tensor<128x64xbf16>) -> tensor<128xf32> {
  %a, %i, %n, %p = kernel.gate_up %x, %g, %u swiglu mapping(#kernel.cpu<lanes = 8, accumulators = 2, tasks = 4>) : tensor<64xf32>, tensor<128x64xbf16> -> tensor<128xf32>, tensor<128xi32>
  return %a : tensor<128xf32>
}

// -----

// An op the CPU cannot lower (a GLU gate/up whose active set is read) is a
// legalization error naming it.
func.func @no_lowering(%x: tensor<64xf32>, %g: tensor<128x64xbf16>) -> index {
  // expected-error @+1 {{failed to legalize operation 'kernel.gate_up'}}
  %a, %i, %n, %p = kernel.gate_up %x, %g, %g swiglu mapping(#kernel.cpu<lanes = 8, accumulators = 2, tasks = 4>) : tensor<64xf32>, tensor<128x64xbf16> -> tensor<128xf32>, tensor<128xi32>
  return %n : index
}

// -----

// So is an op that was never configured for the CPU.
func.func @gpu_mapped(%x: tensor<?x64xf32>, %w: tensor<32x64xbf16>) -> tensor<?x32xf32> {
  // expected-error @+1 {{failed to legalize operation 'kernel.matvec'}}
  %0 = kernel.matvec %x, %w mapping(#kernel.gpu<warps = 8, unroll = 4, splits = 132>) : tensor<?x64xf32>, tensor<32x64xbf16> -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}
