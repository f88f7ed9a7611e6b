// RUN: moec-opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(func.func(moe-kernel-to-cpu))' | FileCheck %s --enable-var-scope

// The mapping drives the loops: a parallel task per weight row, vectors of
// `lanes` f32, `accumulators` independent partial sums (as many as the row
// has vectors for). bf16 weights are widened in pairs: the activations'
// blocks of 32 are first deinterleaved (even elements, then odd; a task per
// row for 8 rows or more), then each load of 32 weights gives the even 16
// (shifted) and the odd 16 (masked), one FMA with each half.
// CHECK-LABEL: func.func @matvec
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf32>, %[[W:.*]]: tensor<32x64xbf16>)
// CHECK: %[[XD:.*]] = scf.if %{{.*}} -> (tensor<?x64xf32>)
// CHECK: scf.forall
// CHECK: %[[LO:.*]] = vector.transfer_read %[[X]]{{.*}} : tensor<?x64xf32>, vector<16xf32>
// CHECK: %[[HI:.*]] = vector.transfer_read %[[X]]{{.*}} : tensor<?x64xf32>, vector<16xf32>
// CHECK: vector.shuffle %[[LO]], %[[HI]] [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]
// CHECK: vector.shuffle %[[LO]], %[[HI]] [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31]
// CHECK: } else {
// CHECK: scf.forall (%{{.*}}) in (32)
// CHECK: scf.for {{.*}} step %c64{{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (vector<16xf32>, vector<16xf32>)
// CHECK: %[[XE:.*]] = vector.transfer_read %[[XD]]{{.*}} : tensor<?x64xf32>, vector<16xf32>
// CHECK: %[[XO:.*]] = vector.transfer_read %[[XD]]{{.*}} : tensor<?x64xf32>, vector<16xf32>
// CHECK: %[[WV:.*]] = vector.transfer_read %[[W]]{{.*}} : tensor<32x64xbf16>, vector<32xbf16>
// CHECK: %[[WORDS:.*]] = vector.bitcast %[[WV]] : vector<32xbf16> to vector<16xi32>
// CHECK: %[[EVEN:.*]] = arith.shli %[[WORDS]], %{{.*}} : vector<16xi32>
// CHECK: %[[ODD:.*]] = arith.andi %[[WORDS]], %{{.*}} : vector<16xi32>
// CHECK: %[[WE:.*]] = vector.bitcast %[[EVEN]] : vector<16xi32> to vector<16xf32>
// CHECK: %[[WO:.*]] = vector.bitcast %[[ODD]] : vector<16xi32> to vector<16xf32>
// CHECK: %[[A:.*]] = vector.fma %[[WE]], %[[XE]], %{{.*}} : vector<16xf32>
// CHECK: vector.fma %[[WO]], %[[XO]], %[[A]] : vector<16xf32>
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

// The fused dReLU gate/up: a task per block of 64 neurons; their gate rows
// four at a time (four streams, each asking for the start of the row after
// the group), then the rest one by one; the positive
// gates listed, and their up rows read the same way; then the active set
// in order.
// CHECK-LABEL: func.func @gate_up
// CHECK: scf.forall (%[[P:.*]]) in (2)
// CHECK: %[[BASE:.*]] = arith.muli %[[P]], %{{.*}} : index
// CHECK: %[[CAND:.*]]:2 = scf.for {{.*}} -> (tensor<64xindex>, index)
// CHECK: %[[VIEW:.*]] = bufferization.to_buffer %{{.*}} read_only : tensor<128x64xbf16> to memref<128x64xbf16, strided<[?, ?], offset: ?>>
// CHECK: %[[GROUPS:.*]] = arith.muli
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[GROUPS]] step %c4{{.*}} -> (tensor<64xf32>)
// Each row of the group asks for the first cache lines (here the whole
// 128-byte row: two) of the row four entries on.
// CHECK-COUNT-4: memref.prefetch %[[VIEW]][%{{.*}}, %c32{{.*}}], read, locality<3>, data
// CHECK: scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK-COUNT-4: vector.transfer_read %{{.*}} : tensor<128x64xbf16>, vector<16xbf16>
// CHECK: scf.for %{{.*}} = %[[GROUPS]] to %[[CAND]]#1 step %{{.*}} -> (tensor<64xf32>)
// CHECK: %[[POS:.*]]:2 = scf.for {{.*}} -> (tensor<64xindex>, index)
// CHECK: arith.cmpf ogt
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c4{{.*}} -> (tensor<64xf32>)
// CHECK-COUNT-4: tensor.extract %[[POS]]#0
// CHECK: arith.maximumf
// CHECK: scf.for {{.*}} -> (tensor<128xi32>, index, index)
// CHECK-NOT: kernel.
func.func @gate_up(%x: tensor<64xf32>, %g: tensor<128x64xbf16>, %u: tensor<128x64xbf16>) -> (tensor<128xf32>, tensor<128xi32>, index, index) {
  %a, %i, %n, %p = kernel.gate_up %x, %g, %u drelu mapping(#kernel.cpu<lanes = 8, accumulators = 2, tasks = 4>) : tensor<64xf32>, tensor<128x64xbf16> -> tensor<128xf32>, tensor<128xi32>
  return %a, %i, %n, %p : tensor<128xf32>, tensor<128xi32>, index, index
}

// -----

// With a predictor's logits, a neuron's gate and up rows are read only when
// its logit is at least the threshold: only those neurons are listed.
// CHECK-LABEL: func.func @gate_up_predicted
// CHECK-SAME: %[[L:[^:]+]]: tensor<128xf32>
// CHECK: scf.forall (%[[P:.*]]) in (2)
// CHECK: %[[BASE:.*]] = arith.muli %[[P]], %{{.*}} : index
// CHECK: %[[CAND:.*]]:2 = scf.for %[[I:[^ ]+]] = {{.*}} -> (tensor<64xindex>, index)
// CHECK: %[[N:.*]] = arith.addi %[[BASE]], %[[I]] : index
// CHECK: %[[LOGIT:.*]] = tensor.extract %[[L]][%[[N]]]
// CHECK: %[[T:.*]] = arith.constant 5.000000e-01 : f32
// CHECK: %[[TAKE:.*]] = arith.cmpf oge, %[[LOGIT]], %[[T]] : f32
// CHECK: arith.select %[[TAKE]]
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[CAND]]#1 step %{{.*}} -> (tensor<64xf32>)
// CHECK-NOT: kernel.
func.func @gate_up_predicted(%x: tensor<64xf32>, %g: tensor<128x64xbf16>, %u: tensor<128x64xbf16>, %l: tensor<128xf32>) -> (tensor<128xf32>, tensor<128xi32>, index, index) {
  %a, %i, %n, %p = kernel.gate_up %x, %g, %u drelu predicted(%l : tensor<128xf32>, threshold = 0.5) mapping(#kernel.cpu<lanes = 8, accumulators = 2, tasks = 4>) : tensor<64xf32>, tensor<128x64xbf16> -> tensor<128xf32>, tensor<128xi32>
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

// With bf16_dot the product takes active neurons in pairs: one block of
// 32 weights of each row, interleaved within each 128-bit lane (low and
// high quarters), meets the pair of activations rounded to bf16 in one
// avx512.dot per half; a lone neuron pairs with its own row at activation
// 0. The partial rows hold each block's columns in that order; the sum
// restores it with one shuffle.
// CHECK-LABEL: func.func @sparse_neuron_major_bf16_dot
// CHECK: scf.forall (%{{.*}}) in (2) shared_outs(%{{.*}} = %{{.*}}) -> (tensor<2x64xf32>)
// CHECK: %[[A0:.*]] = arith.truncf %{{.*}} : f32 to bf16
// CHECK: %[[A1:.*]] = arith.truncf %{{.*}} : f32 to bf16
// CHECK: %[[PAIR:.*]] = vector.from_elements %[[A0]], %[[A1]] : vector<2xbf16>
// CHECK: %[[WORD:.*]] = vector.bitcast %[[PAIR]] : vector<2xbf16> to vector<1xi32>
// CHECK: %[[AS:.*]] = vector.bitcast %{{.*}} : vector<16xi32> to vector<32xbf16>
// CHECK: scf.for %[[C:.*]] = %{{.*}} to %{{.*}} step %c32
// CHECK: %[[W0:.*]] = vector.transfer_read %{{.*}}[%{{.*}}, %[[C]]]{{.*}} : tensor<128x64xbf16>, vector<32xbf16>
// CHECK: %[[W1:.*]] = vector.transfer_read %{{.*}}[%{{.*}}, %[[C]]]{{.*}} : tensor<128x64xbf16>, vector<32xbf16>
// CHECK: %[[LO:.*]] = vector.shuffle %[[W0]], %[[W1]] [0, 32, 1, 33, 2, 34, 3, 35, 8, 40,
// CHECK: x86vector.avx512.dot %{{.*}}, %[[LO]], %[[AS]] : vector<32xbf16> -> vector<16xf32>
// CHECK: %[[HI:.*]] = vector.shuffle %[[W0]], %[[W1]] [4, 36, 5, 37, 6, 38, 7, 39, 12, 44,
// CHECK: x86vector.avx512.dot %{{.*}}, %[[HI]], %[[AS]] : vector<32xbf16> -> vector<16xf32>
// The lone neurons' loop: the row with itself, activation 0 beside it.
// CHECK: scf.for
// CHECK: %[[ZERO:.*]] = arith.truncf %cst{{.*}} : f32 to bf16
// CHECK: vector.from_elements %{{.*}}, %[[ZERO]] : vector<2xbf16>
// CHECK: %[[W:.*]] = vector.transfer_read {{.*}} vector<32xbf16>
// CHECK: vector.shuffle %[[W]], %[[W]] [0, 32,
// The sum: the partial rows' halves, back in column order.
// CHECK: scf.forall.in_parallel
// CHECK: scf.for
// CHECK: vector.shuffle %{{.*}}, %{{.*}} [0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23, 8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31] : vector<16xf32>, vector<16xf32>
// CHECK-NOT: kernel.
func.func @sparse_neuron_major_bf16_dot(%wt: tensor<128x64xbf16>, %a: tensor<128xf32>, %i: tensor<128xi32>, %n: index) -> tensor<64xf32> {
  %y = kernel.sparse_matvec %wt, %a active(%i, %n) neuron_major mapping(#kernel.cpu<lanes = 16, accumulators = 4, tasks = 2, bf16_dot = true>) : tensor<128x64xbf16>, tensor<128xf32>, tensor<128xi32> -> tensor<64xf32>
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

// Sigmoid selection and weights (no softmax), not normalised.
// CHECK-LABEL: func.func @router_sigmoid
// CHECK: scf.forall (%{{.*}}) in (4)
// CHECK: arith.negf
// CHECK: math.exp
// CHECK: arith.divf
// CHECK-NOT: arith.maximumf
// CHECK: scf.for
// CHECK: arith.cmpf ogt
// CHECK-NOT: kernel.
func.func @router_sigmoid(%x: tensor<?x64xf32>, %g: tensor<4x64xbf16>) -> (tensor<?x2xf32>, tensor<?x2xi32>) {
  %w, %ids = kernel.router_top_k %x, %g top_k = 2 selection = sigmoid mapping(#kernel.cpu<lanes = 8, accumulators = 2, tasks = 4>) : tensor<?x64xf32>, tensor<4x64xbf16> -> tensor<?x2xf32>, tensor<?x2xi32>
  return %w, %ids : tensor<?x2xf32>, tensor<?x2xi32>
}

// -----

// The GLU family: the gate and up products as two weight streams (128
// rows: 64 tasks of 2), then the activation (silu by exp); the active set
// is not listed, so nothing may read it.
// CHECK-LABEL: func.func @gate_up_swiglu
// CHECK: scf.forall (%{{.*}}) in (64)
// CHECK: vector.transfer_read {{.*}} : tensor<128x64xbf16>, vector<16xbf16>
// CHECK: vector.transfer_read {{.*}} : tensor<128x64xbf16>, vector<16xbf16>
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

// -----

// The layer kernels on a CPU: the cache write stores each token's key and
// value rows at its position in the two halves of the one cache (narrowed
// to the cache's bf16), and attention reads the live rows only, 0 ..
// positions[T-1], with the causal and window masks.
// CHECK-LABEL: func.func @attention
// CHECK-SAME: (%[[Q:.*]]: tensor<?x2x4xf32>, %[[K:.*]]: tensor<?x1x4xf32>, %{{.*}}: tensor<2x64x1x4xbf16>, %[[POS:.*]]: tensor<?xi32>)
// CHECK: %[[W:.*]] = scf.for
// CHECK: %[[P:.*]] = tensor.extract %[[POS]][%{{.*}}] : tensor<?xi32>
// CHECK: %[[AT:.*]] = arith.index_cast %[[P]] : i32 to index
// CHECK: arith.truncf %{{.*}} : tensor<1x4xf32> to tensor<1x4xbf16>
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, %[[AT]], 0, 0] [1, 1, 1, 4]
// CHECK: arith.truncf %{{.*}} : tensor<1x4xf32> to tensor<1x4xbf16>
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[1, %[[AT]], 0, 0] [1, 1, 1, 4]
// CHECK: %[[T:.*]] = tensor.dim %[[Q]], %{{.*}} : tensor<?x2x4xf32>
// CHECK: %[[LAST:.*]] = arith.subi %[[T]], %{{.*}} : index
// CHECK: %[[LP:.*]] = tensor.extract %[[POS]][%[[LAST]]] : tensor<?xi32>
// CHECK: %[[LPI:.*]] = arith.index_cast %[[LP]] : i32 to index
// CHECK: %[[LIVE:.*]] = arith.addi %[[LPI]], %{{.*}} : index
// Then a task per query and head, over the rows it may see only (j <= its
// position, j > its position - 3): blocks of 4 rows (the vector width
// head_dim allows), whose 4 scores q . k (the bf16 key widened) are one
// vector: its maximum folded into the running one, its exponentials one
// vector exp, the old sums rescaled once per block, each value row added
// with its row's exponential. The rows left one at a time, the same way.
// The sum divided by the exponentials' at the end. No [T, heads, live]
// scores, no masked row.
// CHECK: %[[KEYS:.*]] = tensor.extract_slice %[[W]][0, 0, 0, 0] [1, %[[LIVE]], 1, 4] [1, 1, 1, 1] : tensor<2x64x1x4xbf16> to tensor<?x1x4xbf16>
// CHECK: %[[V:.*]] = tensor.extract_slice %[[W]][1, 0, 0, 0] [1, %[[LIVE]], 1, 4] [1, 1, 1, 1] : tensor<2x64x1x4xbf16> to tensor<?x1x4xbf16>
// CHECK: %[[TASKS:.*]] = arith.muli %{{.*}}, %c2{{.*}} : index
// CHECK: scf.forall (%{{.*}}) in (%[[TASKS]]) shared_outs(%[[OUT:.*]] = %{{.*}}) -> (tensor<?x2x4xf32>)
// CHECK: %[[NEXT:.*]] = arith.addi %{{.*}}, %c1{{.*}} : index
// CHECK: %[[END:.*]] = arith.minui %[[NEXT]], %[[LIVE]] : index
// CHECK: %[[LATER:.*]] = arith.cmpi ugt, %[[NEXT]], %c3{{.*}} : index
// CHECK: %[[FROM:.*]] = arith.subi %[[NEXT]], %c3{{.*}} : index
// CHECK: %[[BEGIN:.*]] = arith.select %[[LATER]], %[[FROM]], %c0{{.*}} : index
// CHECK: %[[QV:.*]] = vector.transfer_read %[[Q]]
// CHECK: %[[SPAN:.*]] = arith.subi %[[END]], %[[BEGIN]] : index
// CHECK: %[[NB:.*]] = arith.divui %[[SPAN]], %c4{{.*}} : index
// CHECK: %[[NR:.*]] = arith.muli %[[NB]], %c4{{.*}} : index
// CHECK: %[[BEND:.*]] = arith.addi %[[BEGIN]], %[[NR]] : index
// CHECK: %[[BLOCKS:.*]]:3 = scf.for %[[J0:.*]] = %[[BEGIN]] to %[[BEND]] step %c4{{.*}} iter_args(%[[BM:.*]] = %{{.*}}, %[[BL:.*]] = %{{.*}}, %[[BACC:.*]] = %{{.*}}) -> (f32, f32, vector<4xf32>)
// CHECK-COUNT-4: vector.insert %{{.*}}, %{{.*}} [{{[0-3]}}] : f32 into vector<4xf32>
// CHECK: %[[BMAX:.*]] = vector.reduction <maximumf>, %{{.*}} : vector<4xf32> into f32
// CHECK: %[[NEWMAX:.*]] = arith.maximumf %[[BM]], %[[BMAX]] : f32
// CHECK: %[[PV:.*]] = math.exp %{{.*}} : vector<4xf32>
// CHECK: %[[PSUM:.*]] = vector.reduction <add>, %[[PV]]
// CHECK: %[[BD:.*]] = arith.subf %[[BM]], %[[NEWMAX]] : f32
// CHECK: %[[BRESCALE:.*]] = math.exp %[[BD]] : f32
// CHECK: %[[BSL:.*]] = arith.mulf %[[BL]], %[[BRESCALE]] : f32
// CHECK: arith.addf %[[BSL]], %[[PSUM]] : f32
// CHECK: arith.mulf %[[BACC]], %{{.*}} : vector<4xf32>
// CHECK-COUNT-4: vector.extract %[[PV]][{{[0-3]}}] : f32 from vector<4xf32>
// CHECK: %[[ROWS:.*]]:3 = scf.for %[[J:.*]] = %[[BEND]] to %[[END]] step %{{.*}} iter_args(%[[M:.*]] = %[[BLOCKS]]#0, %[[L:.*]] = %[[BLOCKS]]#1, %[[ACC:.*]] = %[[BLOCKS]]#2) -> (f32, f32, vector<4xf32>)
// CHECK: %[[KR:.*]] = vector.transfer_read %[[KEYS]][%[[J]], %{{.*}}, %{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<?x1x4xbf16>, vector<4xbf16>
// CHECK: %[[KF:.*]] = arith.extf %[[KR]] : vector<4xbf16> to vector<4xf32>
// CHECK: %[[DOT:.*]] = vector.fma %[[QV]], %[[KF]], %{{.*}} : vector<4xf32>
// CHECK: %[[S:.*]] = vector.reduction <add>, %[[DOT]]
// CHECK: %[[SCORE:.*]] = arith.mulf %[[S]], %cst{{.*}} : f32
// CHECK: %[[MAX:.*]] = arith.maximumf %[[M]], %[[SCORE]] : f32
// CHECK: %[[D2:.*]] = arith.subf %[[SCORE]], %[[MAX]] : f32
// CHECK: %[[PR:.*]] = math.exp %[[D2]] : f32
// CHECK: %[[D1:.*]] = arith.subf %[[M]], %[[MAX]] : f32
// CHECK: %[[RESCALE:.*]] = math.exp %[[D1]] : f32
// CHECK: %[[SL:.*]] = arith.mulf %[[L]], %[[RESCALE]] : f32
// CHECK: arith.addf %[[SL]], %[[PR]] : f32
// CHECK: %[[SA:.*]] = arith.mulf %[[ACC]], %{{.*}} : vector<4xf32>
// CHECK: %[[VR:.*]] = vector.transfer_read %[[V]][%[[J]], %{{.*}}, %{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<?x1x4xbf16>, vector<4xbf16>
// CHECK: %[[VF:.*]] = arith.extf %[[VR]] : vector<4xbf16> to vector<4xf32>
// CHECK: vector.fma %[[VF]], %{{.*}}, %[[SA]] : vector<4xf32>
// CHECK: arith.divf %cst{{.*}}, %[[ROWS]]#1 : f32
// CHECK: vector.transfer_write
// CHECK: tensor.parallel_insert_slice %{{.*}} into %[[OUT]]
// CHECK-NOT: kernel.
func.func @attention(%q: tensor<?x2x4xf32>, %k: tensor<?x1x4xf32>, %kv: tensor<2x64x1x4xbf16>, %pos: tensor<?xi32>) -> (tensor<?x2x4xf32>, tensor<2x64x1x4xbf16>) {
  %kv1 = kernel.cache_write %k, %k into(%kv) positions(%pos) mapping(#kernel.cpu<lanes = 8, accumulators = 2, tasks = 16>) : tensor<?x1x4xf32>, tensor<2x64x1x4xbf16>, tensor<?xi32>
  %o = kernel.attention %q cache(%kv1) positions(%pos) heads = 2 kv_heads = 1 head_dim = 4 scale = 5.000000e-01 causal window = 3 mapping(#kernel.cpu<lanes = 8, accumulators = 2, tasks = 16>) : tensor<?x2x4xf32>, tensor<2x64x1x4xbf16>, tensor<?xi32>
  return %o, %kv1 : tensor<?x2x4xf32>, tensor<2x64x1x4xbf16>
}

// -----

// RMS norm: the sum of squares of each row, then x * rsqrt(mean + eps) * w
// with the weight widened; RoPE: tables of cos and sin of position *
// inv_freq.
// CHECK-LABEL: func.func @norm_rope
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK: math.rsqrt
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: math.cos
// CHECK: math.sin
// CHECK-NOT: kernel.
func.func @norm_rope(%x: tensor<?x8xf32>, %w: tensor<8xbf16>, %q: tensor<?x2x4xf32>, %pos: tensor<?xi32>) -> (tensor<?x8xf32>, tensor<?x2x4xf32>) {
  %n = kernel.rms_norm %x, %w eps = 1.000000e-05 mapping(#kernel.cpu<lanes = 8, accumulators = 2, tasks = 16>) : tensor<?x8xf32>, tensor<8xbf16>
  %r = kernel.rope %q[%pos] theta = 1.000000e+04 head_dim = 4 rotate_half mapping(#kernel.cpu<lanes = 8, accumulators = 2, tasks = 16>) : tensor<?x2x4xf32>, tensor<?xi32>
  return %n, %r : tensor<?x8xf32>, tensor<?x2x4xf32>
}

// -----

// A layer kernel mapped for another target is not lowered here: an error
// naming it.
func.func @norm_gpu(%x: tensor<?x8xf32>, %w: tensor<8xbf16>) -> tensor<?x8xf32> {
  // expected-error @+1 {{failed to legalize operation 'kernel.rms_norm'}}
  %n = kernel.rms_norm %x, %w eps = 1.000000e-05 mapping(#kernel.gpu<warps = 4, unroll = 2, splits = 8>) : tensor<?x8xf32>, tensor<8xbf16>
  return %n : tensor<?x8xf32>
}

// -----

// A quantized weight (moe.dequantize of Q8_0 blocks) is read as blocks:
// per block of 32, its f16 scale (two bytes after the quants of its group
// of 16 blocks, here a short group of 2: the count is min(16, blocks left),
// bitcast, widened) and its 32 int8 quants as two vectors of 16 converted
// to f32; their products with
// the activations (a multiply, a multiply-add) are scaled once into the
// accumulator.
// CHECK-LABEL: func.func @matvec_q8_0
// CHECK-SAME: (%{{.*}}: tensor<?x64xf32>, %[[B:.*]]: tensor<32x68xi8, #moe.blocks<q8_0>>)
// CHECK: scf.forall
// CHECK: scf.for %{{.*}} = %{{.*}} to %c2 step %{{.*}} iter_args(%[[ACC0:.*]] = %{{.*}}, %[[ACC1:.*]] = %{{.*}}) -> (vector<16xf32>, vector<16xf32>)
// CHECK: %[[GROUP:.*]] = arith.shrui %{{.*}}, %c4 : index
// CHECK: %[[FIRST:.*]] = arith.muli %[[GROUP]], %c16{{.*}} : index
// CHECK: %[[COUNT:.*]] = arith.minsi %c16{{.*}}, %{{.*}} : index
// CHECK: arith.muli %[[COUNT]], %c32{{.*}} : index
// CHECK: %[[D2:.*]] = vector.transfer_read %[[B]][%{{.*}}, %{{.*}}]{{.*}} vector<2xi8>
// CHECK: %[[DH:.*]] = vector.bitcast %[[D2]] : vector<2xi8> to vector<1xf16>
// CHECK: %[[Q0:.*]] = vector.transfer_read %[[B]]{{.*}} vector<16xi8>
// CHECK: %[[F0:.*]] = arith.sitofp %[[Q0]] : vector<16xi8> to vector<16xf32>
// CHECK: %[[Q1:.*]] = vector.transfer_read %[[B]]{{.*}} vector<16xi8>
// CHECK: %[[F1:.*]] = arith.sitofp %[[Q1]] : vector<16xi8> to vector<16xf32>
// CHECK: %[[P:.*]] = arith.mulf %[[F0]], %{{.*}} : vector<16xf32>
// CHECK: %[[S:.*]] = vector.fma %[[F1]], %{{.*}}, %[[P]] : vector<16xf32>
// CHECK: vector.fma %[[S]], %{{.*}}, %[[ACC0]] : vector<16xf32>
// CHECK-NOT: moe.dequantize
// CHECK-NOT: kernel.
func.func @matvec_q8_0(%x: tensor<?x64xf32>, %b: tensor<32x68xi8, #moe.blocks<q8_0>>) -> tensor<?x32xf32> {
  %w = moe.dequantize %b : tensor<32x68xi8, #moe.blocks<q8_0>> -> tensor<32x64xf32>
  %0 = kernel.matvec %x, %w mapping(#kernel.cpu<lanes = 16, accumulators = 2, tasks = 4>) : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}

// -----

// Neuron-major Q4_0 rows (blocks along the output): a row's 16 values at a
// column are the low or the high nibbles of a block's 16 bytes (shifted by
// 0 or 4 as the column says), less 8, scaled by the block's d; the row
// prefetches read the blocks.
// CHECK-LABEL: func.func @sparse_neuron_major_q4_0
// CHECK: bufferization.to_buffer %{{.*}} read_only : tensor<128x36xi8, #moe.blocks<q4_0>>
// CHECK: scf.forall
// CHECK: %[[BYTES:.*]] = vector.transfer_read {{.*}} : tensor<128x36xi8, #moe.blocks<q4_0>>, vector<16xi8>
// CHECK: %[[SH:.*]] = arith.shrui %[[BYTES]], %{{.*}} : vector<16xi8>
// CHECK: %[[NIB:.*]] = arith.andi %[[SH]], %{{.*}} : vector<16xi8>
// CHECK: %[[Q:.*]] = arith.subi %[[NIB]], %{{.*}} : vector<16xi8>
// CHECK: arith.sitofp %[[Q]] : vector<16xi8> to vector<16xf32>
// CHECK: vector.transfer_read {{.*}} : tensor<128x36xi8, #moe.blocks<q4_0>>, vector<2xi8>
// CHECK: vector.fma
// CHECK-NOT: moe.dequantize
func.func @sparse_neuron_major_q4_0(%b: tensor<128x36xi8, #moe.blocks<q4_0>>, %a: tensor<128xf32>, %i: tensor<128xi32>, %n: index) -> tensor<64xf32> {
  %wt = moe.dequantize %b : tensor<128x36xi8, #moe.blocks<q4_0>> -> tensor<128x64xf32>
  %y = kernel.sparse_matvec %wt, %a active(%i, %n) neuron_major mapping(#kernel.cpu<lanes = 16, accumulators = 2, tasks = 4>) : tensor<128x64xf32>, tensor<128xf32>, tensor<128xi32> -> tensor<64xf32>
  return %y : tensor<64xf32>
}

// -----

// int8_dot on interleaved Q4_0 blocks (rows of 512 values: one group of 16
// blocks). The activation row is quantized for them once: per block, d =
// the largest magnitude / 127, its quants (rounded to nearest even) as 8
// words of 4 bytes, each to its slot (64 bytes apart), then d and -8 times
// the quants' sum after the group's 512 quant bytes (640 bytes a group).
// A row's group is then 4 loads of 64 bytes, each the low nibbles (a mask)
// and the high ones (a shift and the mask) of 4 values of every block: 8
// integer dot products, a lane per block, from the activations' offsets;
// one conversion, and one multiply-add by the 16 blocks' scales (one read
// after the quants) times the activations'.
// CHECK-LABEL: func.func @matvec_q4_0_interleaved
// CHECK: scf.for {{.*}} -> (tensor<?x640xi8>)
// CHECK: math.roundeven %{{.*}} : vector<16xf32>
// CHECK-COUNT-8: vector.transfer_write %{{.*}} : vector<4xi8>, tensor<?x640xi8>
// CHECK: vector.bitcast %{{.*}} : vector<1xf32> to vector<4xi8>
// CHECK: vector.transfer_write
// CHECK: %[[SUM:.*]] = vector.reduction <add>, %{{.*}} : vector<32xi32> into i32
// CHECK: arith.muli %[[SUM]], %c-8_i32 : i32
// CHECK: vector.transfer_write
// CHECK: scf.forall
// Each row's 5 lines of the group 1024 bytes on (at most its last byte)
// are prefetched.
// CHECK: %[[AHEAD:.*]] = arith.minui %{{.*}}, %c287 : index
// CHECK: memref.prefetch %{{.*}}[%{{.*}}, %[[AHEAD]]], read, locality<3>, data
// CHECK-COUNT-4: memref.prefetch
// CHECK: %[[DX:.*]] = vector.bitcast %{{.*}} : vector<64xi8> to vector<16xf32>
// CHECK: %[[OFF:.*]] = vector.bitcast %{{.*}} : vector<64xi8> to vector<16xi32>
// CHECK: %[[RAW:.*]] = vector.transfer_read %{{.*}} : tensor<32x288xi8, #moe.blocks<q4_0, interleaved>>, vector<64xi8>
// CHECK: %[[LOW:.*]] = arith.andi %[[RAW]], %{{.*}} : vector<64xi8>
// CHECK: %[[X0:.*]] = vector.transfer_read %{{.*}} : tensor<?x640xi8>, vector<64xi8>
// CHECK: %[[D0:.*]] = kernel.dot_u8s8 %[[OFF]], %[[LOW]], %[[X0]]
// CHECK: %[[SH:.*]] = arith.shrui %[[RAW]], %{{.*}} : vector<64xi8>
// CHECK: %[[HIGH:.*]] = arith.andi %[[SH]], %{{.*}} : vector<64xi8>
// CHECK: %[[X1:.*]] = vector.transfer_read %{{.*}} : tensor<?x640xi8>, vector<64xi8>
// CHECK: %[[D1:.*]] = kernel.dot_u8s8 %[[D0]], %[[HIGH]], %[[X1]]
// CHECK-COUNT-6: kernel.dot_u8s8
// CHECK: %[[WB:.*]] = vector.transfer_read %{{.*}} : tensor<32x288xi8, #moe.blocks<q4_0, interleaved>>, vector<32xi8>
// CHECK: %[[WH:.*]] = vector.bitcast %[[WB]] : vector<32xi8> to vector<16xf16>
// CHECK: %[[DW:.*]] = arith.extf %[[WH]] : vector<16xf16> to vector<16xf32>
// CHECK: %[[F:.*]] = arith.sitofp %{{.*}} : vector<16xi32> to vector<16xf32>
// CHECK: %[[S:.*]] = arith.mulf %[[DW]], %[[DX]] : vector<16xf32>
// CHECK: vector.fma %[[F]], %[[S]], %{{.*}} : vector<16xf32>
// CHECK-NOT: moe.dequantize
func.func @matvec_q4_0_interleaved(%x: tensor<?x512xf32>, %b: tensor<32x288xi8, #moe.blocks<q4_0, interleaved>>) -> tensor<?x32xf32> {
  %w = moe.dequantize %b : tensor<32x288xi8, #moe.blocks<q4_0, interleaved>> -> tensor<32x512xf32>
  %0 = kernel.matvec %x, %w mapping(#kernel.cpu<lanes = 16, accumulators = 2, tasks = 4, int8_dot = true>) : tensor<?x512xf32>, tensor<32x512xf32> -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}

// -----

// Interleaved Q8_0 with 8 lanes (AVX-VNNI): a group is two halves of 8
// blocks, each slot's 32 bytes the unsigned quants of 8 blocks, from the
// activations' offsets of -128 times their sums.
// CHECK-LABEL: func.func @matvec_q8_0_interleaved_8_lanes
// CHECK: arith.muli %{{.*}}, %c-128_i32 : i32
// CHECK: scf.forall
// CHECK-COUNT-8: kernel.dot_u8s8 %{{.*}} : vector<32xi8>, vector<32xi8> -> vector<8xi32>
// CHECK: vector.fma %{{.*}} : vector<8xf32>
// CHECK-COUNT-8: kernel.dot_u8s8 %{{.*}} : vector<32xi8>, vector<32xi8> -> vector<8xi32>
// CHECK: vector.fma %{{.*}} : vector<8xf32>
func.func @matvec_q8_0_interleaved_8_lanes(%x: tensor<?x512xf32>, %b: tensor<32x544xi8, #moe.blocks<q8_0, interleaved>>) -> tensor<?x32xf32> {
  %w = moe.dequantize %b : tensor<32x544xi8, #moe.blocks<q8_0, interleaved>> -> tensor<32x512xf32>
  %0 = kernel.matvec %x, %w mapping(#kernel.cpu<lanes = 8, accumulators = 2, tasks = 4, int8_dot = true>) : tensor<?x512xf32>, tensor<32x512xf32> -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}

// -----

// int8_dot: the activation row is quantized once to Q8_0 blocks (d = the
// largest magnitude / 127, quants rounded to nearest even, d stored as
// f16). With 16 lanes a product takes two blocks (64 values) at once: per
// row, the two blocks' nibble bytes (contiguous: one 32-byte read, twice
// end to end: a broadcast load), the second copy's words shifted right by
// 4 and every byte masked: their low nibbles then their high ones (three
// instructions), so that 16-byte chunks hold block 0's
// values 0-15, block 1's 0-15, block 0's 16-31, block 1's 16-31; the
// activation unit is shuffled into that order once for all rows, and -8
// times its sums (a dot product with ones) is the accumulator of the
// row's kernel.dot_u8s8: the dot products of (q - 8) with x, each i32
// lane of one block, converted once to f32 and scaled by the two d (one
// 4-byte read after the group's quants), times the activations', spread
// over the lanes in the same order.
// CHECK-LABEL: func.func @matvec_q4_0_int8_dot
// CHECK: math.absf %{{.*}} : vector<16xf32>
// CHECK: vector.reduction <maxnumf>
// CHECK: %[[R:.*]] = math.roundeven %{{.*}} : vector<16xf32>
// CHECK: %[[XQ:.*]] = arith.fptosi %[[R]] : vector<16xf32> to vector<16xi8>
// CHECK: vector.transfer_write %[[XQ]], {{.*}} : vector<16xi8>, tensor<?x68xi8, #moe.blocks<q8_0>>
// CHECK: arith.truncf %{{.*}} : f32 to f16
// CHECK: scf.forall
// CHECK: %[[ZERO:.*]] = arith.constant dense<0> : vector<16xi32>
// CHECK: %[[XB:.*]] = vector.transfer_read {{.*}} : tensor<?x68xi8, #moe.blocks<q8_0>>, vector<4xi8>
// CHECK: %[[XH:.*]] = vector.bitcast %[[XB]] : vector<4xi8> to vector<2xf16>
// CHECK: %[[XS:.*]] = arith.extf %[[XH]] : vector<2xf16> to vector<2xf32>
// CHECK: %[[XU:.*]] = vector.transfer_read {{.*}} : tensor<?x68xi8, #moe.blocks<q8_0>>, vector<64xi8>
// CHECK: %[[X:.*]] = vector.shuffle %[[XU]], %[[XU]] [0, 1, {{.*}}, 15, 32, 33, {{.*}}, 47, 16, 17, {{.*}}, 31, 48, {{.*}}, 63] : vector<64xi8>, vector<64xi8>
// CHECK: %[[ONES:.*]] = arith.constant dense<1> : vector<64xi8>
// CHECK: %[[SUM:.*]] = kernel.dot_u8s8 %[[ZERO]], %[[ONES]], %[[X]] : vector<64xi8>, vector<64xi8> -> vector<16xi32>
// CHECK: %[[OFFSET:.*]] = arith.muli %[[SUM]], %{{.*}} : vector<16xi32>
// CHECK: %[[WB:.*]] = vector.transfer_read {{.*}} : tensor<32x36xi8, #moe.blocks<q4_0>>, vector<4xi8>
// CHECK: %[[WH:.*]] = vector.bitcast %[[WB]] : vector<4xi8> to vector<2xf16>
// CHECK: %[[WS:.*]] = arith.extf %[[WH]] : vector<2xf16> to vector<2xf32>
// CHECK: %[[S:.*]] = arith.mulf %[[WS]], %[[XS]] : vector<2xf32>
// CHECK: %[[RAW:.*]] = vector.transfer_read {{.*}} : tensor<32x36xi8, #moe.blocks<q4_0>>, vector<32xi8>
// CHECK: %[[TWICE:.*]] = vector.shuffle %[[RAW]], %[[RAW]] [0, 1, {{.*}}, 31, 32, 33, {{.*}}, 63] : vector<32xi8>, vector<32xi8>
// CHECK: %[[WORDS:.*]] = vector.bitcast %[[TWICE]] : vector<64xi8> to vector<32xi16>
// CHECK: %[[SHIFTS:.*]] = arith.constant dense<[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4]> : vector<32xi16>
// CHECK: %[[SHIFTED:.*]] = arith.shrui %[[WORDS]], %[[SHIFTS]] : vector<32xi16>
// CHECK: %[[BYTES:.*]] = vector.bitcast %[[SHIFTED]] : vector<32xi16> to vector<64xi8>
// CHECK: %[[NIB:.*]] = arith.andi %[[BYTES]], %{{.*}} : vector<64xi8>
// CHECK: %[[DOT:.*]] = kernel.dot_u8s8 %[[OFFSET]], %[[NIB]], %[[X]] : vector<64xi8>, vector<64xi8> -> vector<16xi32>
// CHECK: %[[F:.*]] = arith.sitofp %[[DOT]] : vector<16xi32> to vector<16xf32>
// CHECK: %[[SCALE:.*]] = vector.shuffle %[[S]], %[[S]] [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1] : vector<2xf32>, vector<2xf32>
// CHECK: vector.fma %[[F]], %[[SCALE]], %{{.*}} : vector<16xf32>
// CHECK-NOT: moe.dequantize
func.func @matvec_q4_0_int8_dot(%x: tensor<?x64xf32>, %b: tensor<32x36xi8, #moe.blocks<q4_0>>) -> tensor<?x32xf32> {
  %w = moe.dequantize %b : tensor<32x36xi8, #moe.blocks<q4_0>> -> tensor<32x64xf32>
  %0 = kernel.matvec %x, %w mapping(#kernel.cpu<lanes = 16, accumulators = 2, tasks = 4, int8_dot = true>) : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}

// -----

// A row of 512 values is 8 units of two blocks: a step takes all 8, and a
// row's 16 scales are one 32-byte read and one conversion, multiplied by
// the activations' 16 at once; each unit then takes its two (a shuffle)
// and reads its 64 quants at a constant offset from the span's.
// CHECK-LABEL: func.func @matvec_q8_0_int8_dot_span
// CHECK: scf.forall
// CHECK: %[[XB:.*]] = vector.transfer_read {{.*}} : tensor<?x544xi8, #moe.blocks<q8_0>>, vector<32xi8>
// CHECK: %[[XH:.*]] = vector.bitcast %[[XB]] : vector<32xi8> to vector<16xf16>
// CHECK: %[[XD:.*]] = arith.extf %[[XH]] : vector<16xf16> to vector<16xf32>
// CHECK: %[[WB:.*]] = vector.transfer_read {{.*}} : tensor<32x544xi8, #moe.blocks<q8_0>>, vector<32xi8>
// CHECK: %[[WH:.*]] = vector.bitcast %[[WB]] : vector<32xi8> to vector<16xf16>
// CHECK: %[[WD:.*]] = arith.extf %[[WH]] : vector<16xf16> to vector<16xf32>
// CHECK: %[[S:.*]] = arith.mulf %[[WD]], %[[XD]] : vector<16xf32>
// CHECK-COUNT-8: kernel.dot_u8s8
// CHECK: vector.shuffle %[[S]], %[[S]] [14, 14, 14, 14, 14, 14, 14, 14, 15, 15, 15, 15, 15, 15, 15, 15] : vector<16xf32>, vector<16xf32>
func.func @matvec_q8_0_int8_dot_span(%x: tensor<?x512xf32>, %b: tensor<32x544xi8, #moe.blocks<q8_0>>) -> tensor<?x32xf32> {
  %w = moe.dequantize %b : tensor<32x544xi8, #moe.blocks<q8_0>> -> tensor<32x512xf32>
  %0 = kernel.matvec %x, %w mapping(#kernel.cpu<lanes = 16, accumulators = 1, tasks = 4, int8_dot = true>) : tensor<?x512xf32>, tensor<32x512xf32> -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}

// -----

// int8_dot with 8 lanes (AVX-VNNI): a block a product, 32 bytes; Q8_0's
// |w| against x with w's sign.
// CHECK-LABEL: func.func @matvec_q8_0_int8_dot_avx
// CHECK: scf.forall
// CHECK: %[[WQ:.*]] = vector.transfer_read {{.*}} : tensor<32x68xi8, #moe.blocks<q8_0>>, vector<32xi8>
// CHECK: %[[ABS:.*]] = math.absi %[[WQ]] : vector<32xi8>
// CHECK: %[[NEG:.*]] = arith.cmpi slt, %[[WQ]], %{{.*}} : vector<32xi8>
// CHECK: %[[SX:.*]] = arith.select %[[NEG]], %{{.*}}, %{{.*}} : vector<32xi1>, vector<32xi8>
// CHECK: %[[DOT:.*]] = kernel.dot_u8s8 %{{.*}}, %[[ABS]], %[[SX]] : vector<32xi8>, vector<32xi8> -> vector<8xi32>
// CHECK: arith.sitofp %[[DOT]] : vector<8xi32> to vector<8xf32>
func.func @matvec_q8_0_int8_dot_avx(%x: tensor<?x64xf32>, %b: tensor<32x68xi8, #moe.blocks<q8_0>>) -> tensor<?x32xf32> {
  %w = moe.dequantize %b : tensor<32x68xi8, #moe.blocks<q8_0>> -> tensor<32x64xf32>
  %0 = kernel.matvec %x, %w mapping(#kernel.cpu<lanes = 8, accumulators = 2, tasks = 4, int8_dot = true>) : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}

// -----

// ALiBi: each score gets -slope_h * (position - j), the slope chosen by
// the head once per task.
// CHECK-LABEL: func.func @attention_alibi
// CHECK: scf.forall
// CHECK: arith.select
// CHECK: arith.subi
// CHECK: arith.sitofp
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK-NOT: kernel.
func.func @attention_alibi(%q: tensor<?x2x4xf32>, %kv: tensor<2x64x1x4xbf16>, %pos: tensor<?xi32>) -> tensor<?x2x4xf32> {
  %o = kernel.attention %q cache(%kv) positions(%pos) heads = 2 kv_heads = 1 head_dim = 4 scale = 2.500000e-01 causal alibi [0.25, 0.0625] mapping(#kernel.cpu<lanes = 8, accumulators = 2, tasks = 16>) : tensor<?x2x4xf32>, tensor<2x64x1x4xbf16>, tensor<?xi32>
  return %o : tensor<?x2x4xf32>
}

// -----

// A batch of sequences: token t's rows start at offsets[t]. The cache write
// stores at offsets[t] + positions[t]; attention slices the whole cache
// (its rows belong to many sequences) and each task reads its query's rows
// from offsets[t], up to its own position.
// CHECK-LABEL: func.func @attention_batch
// CHECK-SAME: %[[POS:[^:]*]]: tensor<?xi32>, %[[OFF:[^:]*]]: tensor<?xi32>)
// CHECK: %[[W:.*]] = scf.for
// CHECK: %[[P:.*]] = arith.index_cast %{{.*}} : i32 to index
// CHECK: %[[O:.*]] = tensor.extract %[[OFF]][%{{.*}}] : tensor<?xi32>
// CHECK: %[[OI:.*]] = arith.index_cast %[[O]] : i32 to index
// CHECK: %[[ROW:.*]] = arith.addi %[[P]], %[[OI]] : index
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, %[[ROW]], 0, 0] [1, 1, 1, 4]
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[1, %[[ROW]], 0, 0] [1, 1, 1, 4]
// CHECK: %[[ROWS:.*]] = tensor.dim %[[W]], %c1{{.*}} : tensor<2x?x1x4xf32>
// CHECK: %[[KEYS:.*]] = tensor.extract_slice %[[W]][0, 0, 0, 0] [1, %[[ROWS]], 1, 4]
// CHECK: scf.forall
// CHECK: %[[TP:.*]] = tensor.extract %[[POS]][%[[T:.*]]] : tensor<?xi32>
// CHECK: %[[TO:.*]] = tensor.extract %[[OFF]][%[[T]]] : tensor<?xi32>
// CHECK: %[[BASE:.*]] = arith.index_cast %[[TO]] : i32 to index
// CHECK: scf.for %[[J0:[^ ]*]] =
// CHECK: %[[J:.*]] = arith.addi %[[J0]], %c0{{.*}} : index
// CHECK: %[[R:.*]] = arith.addi %[[BASE]], %[[J]] : index
// CHECK: vector.transfer_read %[[KEYS]][%[[R]], %{{.*}}, %{{.*}}]
func.func @attention_batch(%q: tensor<?x2x4xf32>, %k: tensor<?x1x4xf32>, %kv: tensor<2x?x1x4xf32>, %pos: tensor<?xi32>, %off: tensor<?xi32>) -> (tensor<?x2x4xf32>, tensor<2x?x1x4xf32>) {
  %kv1 = kernel.cache_write %k, %k into(%kv) positions(%pos) offsets(%off) mapping(#kernel.cpu<lanes = 8, accumulators = 2, tasks = 16>) : tensor<?x1x4xf32>, tensor<2x?x1x4xf32>, tensor<?xi32>, tensor<?xi32>
  %o = kernel.attention %q cache(%kv1) positions(%pos) offsets(%off) heads = 2 kv_heads = 1 head_dim = 4 scale = 5.000000e-01 causal mapping(#kernel.cpu<lanes = 8, accumulators = 2, tasks = 16>) : tensor<?x2x4xf32>, tensor<2x?x1x4xf32>, tensor<?xi32>, tensor<?xi32>
  return %o, %kv1 : tensor<?x2x4xf32>, tensor<2x?x1x4xf32>
}

// -----

// Token tiles: blocks of token_tile (5) tokens, what is left in blocks of
// 4 and 2 (a decode step of a few sequences meets each row block with all
// of its tokens: 4 rows x 4 and 4 x 2 accumulators), then one at a time.
// CHECK-LABEL: func.func @matvec_token_tiles
// CHECK: %[[T:.*]] = tensor.dim %{{.*}}, %c0
// CHECK: %[[N5:.*]] = arith.divui %{{.*}}, %c5 : index
// CHECK: %[[E5:.*]] = arith.addi %c0{{.*}}, %{{.*}} : index
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %[[E5]] step %c5
// CHECK: %{{.*}}:20 = scf.for {{.*}} -> (vector<16xf32>,
// CHECK: %[[L4:.*]] = arith.subi %[[T]], %[[E5]] : index
// CHECK: arith.divui %[[L4]], %c4{{.*}} : index
// CHECK: %[[E4:.*]] = arith.addi %[[E5]], %{{.*}} : index
// CHECK: scf.for %{{.*}} = %[[E5]] to %[[E4]] step %c4
// CHECK: %{{.*}}:16 = scf.for {{.*}} -> (vector<16xf32>,
// CHECK: %[[L2:.*]] = arith.subi %[[T]], %[[E4]] : index
// CHECK: arith.divui %[[L2]], %c2 : index
// CHECK: %[[E2:.*]] = arith.addi %[[E4]], %{{.*}} : index
// CHECK: scf.for %{{.*}} = %[[E4]] to %[[E2]] step %c2
// CHECK: %{{.*}}:8 = scf.for {{.*}} -> (vector<16xf32>,
// CHECK: scf.for %{{.*}} = %[[E2]] to %[[T]] step %c1
// CHECK: %{{.*}}:4 = scf.for {{.*}} -> (vector<16xf32>,
func.func @matvec_token_tiles(%x: tensor<?x64xf32>, %w: tensor<32x64xf32>) -> tensor<?x32xf32> {
  %0 = kernel.matvec %x, %w mapping(#kernel.cpu<lanes = 16, accumulators = 2, tasks = 4, row_tile = 4, token_tile = 5>) : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}
