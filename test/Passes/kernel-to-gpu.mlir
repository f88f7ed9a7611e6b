// RUN: moec-opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(func.func(moe-kernel-to-gpu))' | FileCheck %s --enable-var-scope

// Every kernel reads its shape from its #kernel.gpu mapping: 4 warps per
// block, 2 loads in flight, 8 blocks for a sparse product.

// A projection: a warp per weight row (4 warps, 128 threads per block, 8
// blocks for 32 rows, a block row per token), 16-byte loads of bf16
// widened in registers, a shuffle butterfly, lane 0 writes.
// CHECK-LABEL: func.func @linear
// CHECK: bufferization.to_buffer %{{.*}} read_only : tensor<32x64xbf16> to memref<32x64xbf16, strided<[?, 1], offset: ?>>
// CHECK: %[[OUT:.*]] = memref.alloc(%{{.*}}) : memref<?x32xf32>
// CHECK: gpu.launch blocks(%{{.*}}, %[[T:.*]], %{{.*}}) in (%{{.*}} = %c8{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %c1{{.*}}) threads(%{{.*}}) in (%{{.*}} = %c128
// CHECK: scf.for
// CHECK: vector.load %{{.*}} {alignment = 16 : i64} : memref<32x64xbf16, strided<[?, 1], offset: ?>>, vector<8xbf16>
// CHECK: arith.extf %{{.*}} : vector<8xbf16> to vector<8xf32>
// CHECK: vector.fma
// CHECK: vector.reduction <add>
// CHECK-COUNT-5: gpu.shuffle xor
// CHECK: memref.store %{{.*}}, %[[OUT]][%[[T]], %{{.*}}]
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
func.func @linear(%x: tensor<?x64xf32>, %w: tensor<32x64xbf16>) -> tensor<?x32xf32> {
  %y = kernel.matvec %x, %w mapping(#kernel.gpu<warps = 4, unroll = 2, splits = 8>) : tensor<?x64xf32>, tensor<32x64xbf16> -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// The fused dReLU block: the up row is read only where the gate product is
// positive, and the down product reads only rows of non-zero activations.
// Neither needs the active set on the host: the list of indices is gone.
// CHECK-LABEL: func.func @drelu
// CHECK: gpu.launch
// CHECK-COUNT-5: gpu.shuffle xor
// CHECK: %[[POS:.*]] = arith.cmpf ogt
// CHECK: scf.if %[[POS]] -> (f32)
// CHECK-COUNT-5: gpu.shuffle xor
// CHECK: arith.maximumf
// CHECK: } else {
// The sparse product: 8 blocks of 16 neurons, partial rows, then their
// sum. Each block compacts its neurons' active set on the device: warp 0
// ballots 32 activations at a time, each active lane writes its neuron and
// activation at the count so far plus the active lanes below it; after a
// barrier every thread reads the listed rows only, four loads before the
// four multiply-adds, then one at a time.
// CHECK: %[[PART:.*]] = memref.alloc() : memref<8x64xf32>
// CHECK: gpu.launch {{.*}} workgroup(%[[LIST:.*]] : memref<16xi32, #gpu.address_space<workgroup>>, %[[VALS:.*]] : memref<16xf32, #gpu.address_space<workgroup>>, %[[LEN:.*]] : memref<1xi32, #gpu.address_space<workgroup>>)
// CHECK: %[[LANE:.*]] = arith.remui
// CHECK: %[[BELOW:.*]] = arith.subi
// CHECK: %[[COUNT:.*]] = scf.for {{.*}} iter_args(%[[SOFAR:.*]] = %{{.*}}) -> (i32)
// CHECK: %[[A:.*]] = scf.if
// CHECK: memref.load
// CHECK: %[[NZ:.*]] = arith.cmpf une, %[[A]]
// CHECK: %[[BALLOT:.*]] = nvvm.vote.sync  ballot %{{.*}}, %[[NZ]] -> i32
// CHECK: %[[LOWER:.*]] = arith.andi %[[BALLOT]], %[[BELOW]]
// CHECK: %[[RANK:.*]] = math.ctpop %[[LOWER]]
// CHECK: %[[PLACE:.*]] = arith.addi %[[SOFAR]], %[[RANK]]
// CHECK: scf.if %[[NZ]] {
// CHECK: %[[AT:.*]] = arith.index_cast %[[PLACE]]
// CHECK: memref.store %{{.*}}, %[[LIST]][%[[AT]]]
// CHECK: memref.store %[[A]], %[[VALS]][%[[AT]]]
// CHECK: math.ctpop %[[BALLOT]]
// CHECK: memref.store %[[COUNT]], %[[LEN]]
// CHECK: gpu.barrier
// CHECK: memref.load %[[LEN]]
// CHECK: scf.for
// CHECK-COUNT-4: vector.load {{.*}} vector<8xbf16>
// CHECK-COUNT-4: vector.fma
// CHECK: scf.yield
// CHECK: scf.for
// CHECK: memref.load %[[LIST]]
// CHECK: vector.load {{.*}} vector<8xbf16>
// CHECK: vector.store {{.*}}, %[[PART]]
// CHECK: gpu.launch
// CHECK: memref.load %[[PART]]
// CHECK: memref.dealloc %[[PART]]
// CHECK-NOT: kernel.
func.func @drelu(%x: tensor<64xf32>, %g: tensor<128x64xbf16>, %u: tensor<128x64xbf16>, %wt: tensor<128x64xbf16>) -> tensor<64xf32> {
  %a, %idx, %n, %p = kernel.gate_up %x, %g, %u drelu mapping(#kernel.gpu<warps = 4, unroll = 2, splits = 8>) : tensor<64xf32>, tensor<128x64xbf16> -> tensor<128xf32>, tensor<128xi32>
  %y = kernel.sparse_matvec %wt, %a active(%idx, %n) neuron_major mapping(#kernel.gpu<warps = 4, unroll = 2, splits = 8>) : tensor<128x64xbf16>, tensor<128xf32>, tensor<128xi32> -> tensor<64xf32>
  return %y : tensor<64xf32>
}

// -----

// With a predictor's logits, every lane of a neuron's warp loads its logit:
// a uniform branch around both rows.
// CHECK-LABEL: func.func @drelu_predicted
// CHECK: gpu.launch
// CHECK: %[[LOGIT:.*]] = memref.load
// CHECK: %[[TAKE:.*]] = arith.cmpf oge, %[[LOGIT]], %{{.*}} : f32
// CHECK: scf.if %[[TAKE]] -> (f32)
// CHECK: vector.load {{.*}} vector<8xbf16>
// CHECK: %[[POS:.*]] = arith.cmpf ogt
// CHECK: scf.if %[[POS]] -> (f32)
// CHECK: vector.load {{.*}} vector<8xbf16>
func.func @drelu_predicted(%x: tensor<64xf32>, %g: tensor<128x64xbf16>, %u: tensor<128x64xbf16>, %wt: tensor<128x64xbf16>, %l: tensor<128xf32>) -> tensor<64xf32> {
  %a, %idx, %n, %p = kernel.gate_up %x, %g, %u drelu predicted(%l : tensor<128xf32>, threshold = 0.0) mapping(#kernel.gpu<warps = 4, unroll = 2, splits = 8>) : tensor<64xf32>, tensor<128x64xbf16> -> tensor<128xf32>, tensor<128xi32>
  %y = kernel.sparse_matvec %wt, %a active(%idx, %n) neuron_major mapping(#kernel.gpu<warps = 4, unroll = 2, splits = 8>) : tensor<128x64xbf16>, tensor<128xf32>, tensor<128xi32> -> tensor<64xf32>
  return %y : tensor<64xf32>
}

// -----

// The router: a block per token, a warp per expert into workgroup memory,
// then softmax, top-k and renormalisation on one thread.
// CHECK-LABEL: func.func @router
// CHECK: gpu.launch {{.*}} threads({{.*}}) in ({{.*}} = %c128{{.*}}) workgroup(%[[P:.*]] : memref<4xf32, #gpu.address_space<workgroup>>)
// CHECK: gpu.shuffle xor
// CHECK: gpu.barrier
// CHECK: math.exp
// CHECK: arith.cmpf ogt
// CHECK: arith.divf
// CHECK-NOT: kernel.router_top_k
func.func @router(%x: tensor<?x64xf32>, %g: tensor<4x64xbf16>) -> (tensor<?x2xf32>, tensor<?x2xi32>) {
  %w, %ids = kernel.router_top_k %x, %g top_k = 2 renormalize mapping(#kernel.gpu<warps = 4, unroll = 2, splits = 8>) : tensor<?x64xf32>, tensor<4x64xbf16> -> tensor<?x2xf32>, tensor<?x2xi32>
  return %w, %ids : tensor<?x2xf32>, tensor<?x2xi32>
}

// -----

// Sigmoid selection with softmax weights and a null-expert bias: the
// softmax's max and sum once, the sigmoid of each logit for the top-k, the
// softmax's value at each chosen expert, and the sum the weights are
// divided by starting at the bias.
// CHECK-LABEL: func.func @router_sigmoid
// CHECK: gpu.barrier
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: arith.constant 1.100000e+00 : f32
// CHECK: arith.negf
// CHECK: arith.cmpf ogt
// CHECK: arith.subf
// CHECK: math.exp
// CHECK: arith.divf
// CHECK-NOT: kernel.router_top_k
func.func @router_sigmoid(%x: tensor<?x64xf32>, %g: tensor<4x64xbf16>) -> (tensor<?x2xf32>, tensor<?x2xi32>) {
  %w, %ids = kernel.router_top_k %x, %g top_k = 2 selection = sigmoid weighting = softmax renormalize null_expert_bias = 1.1 mapping(#kernel.gpu<warps = 4, unroll = 2, splits = 8>) : tensor<?x64xf32>, tensor<4x64xbf16> -> tensor<?x2xf32>, tensor<?x2xi32>
  return %w, %ids : tensor<?x2xf32>, tensor<?x2xi32>
}

// -----

// A GLU gate/up: a warp per neuron sums both rows (no branch: every up row
// is needed), then silu(g) * u.
// CHECK-LABEL: func.func @gate_up_swiglu
// CHECK: gpu.launch
// CHECK-COUNT-10: gpu.shuffle xor
// CHECK-NOT: scf.if
// CHECK: math.exp
// CHECK: arith.divf
// CHECK-NOT: kernel.
func.func @gate_up_swiglu(%x: tensor<64xf32>, %g: tensor<128x64xbf16>, %u: tensor<128x64xbf16>) -> tensor<128xf32> {
  %a, %idx, %n, %p = kernel.gate_up %x, %g, %u swiglu mapping(#kernel.gpu<warps = 4, unroll = 2, splits = 8>) : tensor<64xf32>, tensor<128x64xbf16> -> tensor<128xf32>, tensor<128xi32>
  return %a : tensor<128xf32>
}

// -----

// An active set that something else reads has no GPU lowering: the error
// names the op.
func.func @active_set_used(%x: tensor<64xf32>, %g: tensor<128x64xbf16>, %u: tensor<128x64xbf16>) -> index {
  // expected-error @+1 {{failed to legalize operation 'kernel.gate_up'}}
  %a, %idx, %n, %p = kernel.gate_up %x, %g, %u drelu mapping(#kernel.gpu<warps = 4, unroll = 2, splits = 8>) : tensor<64xf32>, tensor<128x64xbf16> -> tensor<128xf32>, tensor<128xi32>
  return %n : index
}

// -----

// A kernel without a GPU mapping is not lowered.
func.func @unmapped(%x: tensor<?x64xf32>, %w: tensor<32x64xbf16>) -> tensor<?x32xf32> {
  // expected-error @+1 {{failed to legalize operation 'kernel.matvec'}}
  %y = kernel.matvec %x, %w : tensor<?x64xf32>, tensor<32x64xbf16> -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// The layer kernels on a GPU: the same loops as on a CPU (moe-map-to-gpu
// makes them threads), but the scores run over all 64 rows of the cache so
// that no launch's size depends on the positions. A row's key is read only
// where the query may see it (never past the live rows); the product with
// the values, a loop in each thread, runs over the live rows only.
// CHECK-LABEL: func.func @attention
// CHECK-SAME: %[[POS:[^:]*]]: tensor<?xi32>)
// CHECK: scf.for
// CHECK: tensor.insert_slice
// CHECK: tensor.insert_slice
// CHECK: %[[LP:.*]] = tensor.extract %[[POS]][%{{.*}}] : tensor<?xi32>
// CHECK: %[[LPI:.*]] = arith.index_cast %[[LP]] : i32 to index
// CHECK: %[[LIVE:.*]] = arith.addi %[[LPI]], %{{.*}} : index
// CHECK: %[[ALL:.*]] = arith.constant 64 : index
// CHECK: %[[KEYS:.*]] = tensor.extract_slice %{{.*}}[0, 0, 0, 0] [1, %[[ALL]], 1, 4] [1, 1, 1, 1] : tensor<2x64x1x4xbf16> to tensor<?x1x4xbf16>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]
// CHECK: %[[SEE:.*]] = arith.cmpi sle
// CHECK: scf.if %[[SEE]]
// CHECK: scf.for
// CHECK: tensor.extract %[[KEYS]]
// CHECK: math.exp
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 0] [%{{.*}}, 2, %[[LIVE]]]
// CHECK: tensor.extract_slice %{{.*}}[1, 0, 0, 0] [1, %[[LIVE]], 1, 4] [1, 1, 1, 1] : tensor<2x64x1x4xbf16> to tensor<?x1x4xbf16>
// CHECK-NOT: kernel.
func.func @attention(%q: tensor<?x2x4xf32>, %k: tensor<?x1x4xf32>, %kv: tensor<2x64x1x4xbf16>, %pos: tensor<?xi32>) -> tensor<?x2x4xf32> {
  %kv1 = kernel.cache_write %k, %k into(%kv) positions(%pos) mapping(#kernel.gpu<warps = 4, unroll = 2, splits = 8>) : tensor<?x1x4xf32>, tensor<2x64x1x4xbf16>, tensor<?xi32>
  %o = kernel.attention %q cache(%kv1) positions(%pos) heads = 2 kv_heads = 1 head_dim = 4 scale = 5.000000e-01 causal mapping(#kernel.gpu<warps = 4, unroll = 2, splits = 8>) : tensor<?x2x4xf32>, tensor<2x64x1x4xbf16>, tensor<?xi32>
  return %o : tensor<?x2x4xf32>
}

// -----

// Without a causal mask, a bound at the last position hides the rows past
// the live ones.
// CHECK-LABEL: func.func @attention_bidirectional
// CHECK-SAME: %[[POS:[^:]*]]: tensor<?xi32>)
// CHECK: %[[LP:.*]] = tensor.extract %[[POS]][%{{.*}}] : tensor<?xi32>
// CHECK: linalg.generic
// CHECK: %[[J:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK: %[[END:.*]] = arith.extsi %[[LP]] : i32 to i64
// CHECK: %[[SEE:.*]] = arith.cmpi sle, %[[J]], %[[END]] : i64
// CHECK: scf.if %[[SEE]]
func.func @attention_bidirectional(%q: tensor<?x2x4xf32>, %kv: tensor<2x64x1x4xbf16>, %pos: tensor<?xi32>) -> tensor<?x2x4xf32> {
  %o = kernel.attention %q cache(%kv) positions(%pos) heads = 2 kv_heads = 1 head_dim = 4 scale = 5.000000e-01 mapping(#kernel.gpu<warps = 4, unroll = 2, splits = 8>) : tensor<?x2x4xf32>, tensor<2x64x1x4xbf16>, tensor<?xi32>
  return %o : tensor<?x2x4xf32>
}

// -----

// A quantized weight (moe.dequantize of Q4_0 blocks, rows of 256 values:
// 8 blocks of 18 bytes, 16-byte aligned) is read as blocks: a lane's
// 16-byte piece is one block's quants, whose 32-bit words give the low
// nibbles (values 0-15) by a mask and the high ones (16-31) by a shift and
// the mask, less 8, widened to f32; their products with 32 activations are
// summed in 4 lanes, then scaled once by the block's f16 scale (after the
// quants of its group of 8 blocks) into the lane's accumulator.
// CHECK-LABEL: func.func @matvec_q4_0
// CHECK-SAME: %[[B:[a-z0-9]+]]: tensor<32x144xi8, #moe.blocks<q4_0>>
// CHECK: %[[BUF:.*]] = bufferization.to_buffer %[[B]] read_only : tensor<32x144xi8, #moe.blocks<q4_0>> to memref<32x144xi8, strided<[?, 1], offset: ?>>
// CHECK: gpu.launch
// CHECK: scf.for {{.*}} -> (vector<4xf32>)
// CHECK: %[[X:.*]] = vector.load {{.*}} {alignment = 16 : i64} : memref<?x256xf32, {{.*}}>, vector<32xf32>
// CHECK: %[[BYTES:.*]] = vector.load %[[BUF]][{{.*}}] {alignment = 16 : i64} : memref<32x144xi8, {{.*}}>, vector<16xi8>
// CHECK: %[[WORDS:.*]] = vector.bitcast %[[BYTES]] : vector<16xi8> to vector<4xi32>
// CHECK: %[[LOW:.*]] = arith.andi %[[WORDS]], %[[MASK:.*]] : vector<4xi32>
// CHECK: %[[SHIFTED:.*]] = arith.shrui %[[WORDS]], %{{.*}} : vector<4xi32>
// CHECK: %[[HIGH:.*]] = arith.andi %[[SHIFTED]], %[[MASK]] : vector<4xi32>
// CHECK: %[[NIBBLES:.*]] = vector.shuffle {{.*}} [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31] : vector<16xi8>, vector<16xi8>
// CHECK: %[[Q:.*]] = arith.subi %[[NIBBLES]], %{{.*}} : vector<32xi8>
// CHECK: %[[F:.*]] = arith.sitofp %[[Q]] : vector<32xi8> to vector<32xf32>
// CHECK: arith.minsi %c16{{.*}}, %{{.*}} : index
// CHECK: %[[D2:.*]] = vector.load %[[BUF]][{{.*}}] {alignment = 2 : i64} : memref<32x144xi8, {{.*}}>, vector<2xi8>
// CHECK: %[[DH:.*]] = vector.bitcast %[[D2]] : vector<2xi8> to vector<1xf16>
// CHECK: %[[D:.*]] = arith.extf %{{.*}} : f16 to f32
// CHECK-COUNT-8: vector.fma %{{.*}}, %{{.*}}, %{{.*}} : vector<4xf32>
// CHECK: %[[DV:.*]] = vector.broadcast %[[D]] : f32 to vector<4xf32>
// CHECK: vector.fma %[[DV]], %{{.*}}, %{{.*}} : vector<4xf32>
// CHECK: vector.reduction <add>
// CHECK-COUNT-5: gpu.shuffle xor
// CHECK-NOT: moe.dequantize
func.func @matvec_q4_0(%x: tensor<?x256xf32>, %b: tensor<32x144xi8, #moe.blocks<q4_0>>) -> tensor<?x32xf32> {
  %w = moe.dequantize %b : tensor<32x144xi8, #moe.blocks<q4_0>> -> tensor<32x256xf32>
  %y = kernel.matvec %x, %w mapping(#kernel.gpu<warps = 4, unroll = 2, splits = 8>) : tensor<?x256xf32>, tensor<32x256xf32> -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// Q8_0 rows of 64 values (2 blocks of 34 bytes: rows not 16-byte aligned,
// so the pieces are loaded without the alignment): a piece is half a
// block's quants, 16 values.
// CHECK-LABEL: func.func @matvec_q8_0
// CHECK: gpu.launch
// CHECK: vector.load {{.*}} : memref<32x68xi8, {{.*}}>, vector<16xi8>
// CHECK-NOT: alignment = 16
// CHECK: arith.sitofp %{{.*}} : vector<16xi8> to vector<16xf32>
// CHECK: vector.load {{.*}} {alignment = 2 : i64} : memref<32x68xi8, {{.*}}>, vector<2xi8>
// CHECK-COUNT-4: vector.fma %{{.*}}, %{{.*}}, %{{.*}} : vector<4xf32>
// CHECK: vector.broadcast
// CHECK: vector.fma
func.func @matvec_q8_0(%x: tensor<?x64xf32>, %b: tensor<32x68xi8, #moe.blocks<q8_0>>) -> tensor<?x32xf32> {
  %w = moe.dequantize %b : tensor<32x68xi8, #moe.blocks<q8_0>> -> tensor<32x64xf32>
  %y = kernel.matvec %x, %w mapping(#kernel.gpu<warps = 4, unroll = 2, splits = 8>) : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// The sparse product over neuron-major Q8_0 rows (blocks along the hidden
// size): a thread's 16 columns are half a block of the listed neuron's
// row; the block's scale multiplies the neuron's activation once, which
// then multiplies the 16 widened quants.
// CHECK-LABEL: func.func @sparse_neuron_major_q8_0
// CHECK: %[[PART:.*]] = memref.alloc() : memref<8x256xf32>
// CHECK: gpu.launch
// CHECK: nvvm.vote.sync  ballot
// CHECK: gpu.barrier
// CHECK: %[[Q:.*]] = vector.load {{.*}} {alignment = 16 : i64} : memref<128x272xi8, {{.*}}>, vector<16xi8>
// CHECK: %[[F:.*]] = arith.sitofp %[[Q]] : vector<16xi8> to vector<16xf32>
// CHECK: vector.load {{.*}} {alignment = 2 : i64} : memref<128x272xi8, {{.*}}>, vector<2xi8>
// CHECK: %[[D:.*]] = arith.extf %{{.*}} : f16 to f32
// CHECK: %[[AD:.*]] = arith.mulf %{{.*}}, %[[D]] : f32
// CHECK: vector.broadcast %[[AD]] : f32 to vector<16xf32>
// CHECK: vector.fma {{.*}} : vector<16xf32>
// CHECK: vector.store {{.*}}, %[[PART]]
// CHECK-NOT: moe.dequantize
func.func @sparse_neuron_major_q8_0(%b: tensor<128x272xi8, #moe.blocks<q8_0>>, %a: tensor<128xf32>, %i: tensor<128xi32>, %n: index) -> tensor<256xf32> {
  %wt = moe.dequantize %b : tensor<128x272xi8, #moe.blocks<q8_0>> -> tensor<128x256xf32>
  %y = kernel.sparse_matvec %wt, %a active(%i, %n) neuron_major mapping(#kernel.gpu<warps = 4, unroll = 2, splits = 8>) : tensor<128x256xf32>, tensor<128xf32>, tensor<128xi32> -> tensor<256xf32>
  return %y : tensor<256xf32>
}

// -----

// ALiBi on a GPU: the term added to each visible score before the mask.
// CHECK-LABEL: func.func @attention_alibi
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]
// CHECK: scf.if
// CHECK: arith.constant -6.250000e-02 : f32
// CHECK: arith.select
// CHECK: arith.sitofp
// CHECK: arith.addf
// CHECK: arith.select
// CHECK-NOT: kernel.
func.func @attention_alibi(%q: tensor<?x2x4xf32>, %kv: tensor<2x64x1x4xbf16>, %pos: tensor<?xi32>) -> tensor<?x2x4xf32> {
  %o = kernel.attention %q cache(%kv) positions(%pos) heads = 2 kv_heads = 1 head_dim = 4 scale = 2.500000e-01 causal alibi [0.25, 0.0625] mapping(#kernel.gpu<warps = 4, unroll = 2, splits = 8>) : tensor<?x2x4xf32>, tensor<2x64x1x4xbf16>, tensor<?xi32>
  return %o : tensor<?x2x4xf32>
}

// -----

// A batch of sequences: a score per row of the whole cache still, row j
// visible to token t only inside its sequence's rows, as the position
// j - offsets[t] (which the causal mask then bounds); the product with the
// values runs up to the furthest row a query reads, max(offsets + positions).
// CHECK-LABEL: func.func @attention_batch
// CHECK-SAME: %[[POS:[^:]*]]: tensor<?xi32>, %[[OFF:[^:]*]]: tensor<?xi32>)
// CHECK: %[[FAR:.*]] = linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%[[POS]], %[[OFF]] : tensor<?xi32>, tensor<?xi32>) outs(%{{.*}} : tensor<i64>)
// CHECK: arith.maxsi
// CHECK: %[[FARX:.*]] = tensor.extract %[[FAR]][] : tensor<i64>
// CHECK: %[[FARI:.*]] = arith.index_cast %[[FARX]] : i64 to index
// CHECK: %[[LIVE:.*]] = arith.addi %[[FARI]], %c1{{.*}} : index
// CHECK: linalg.generic {{.*}} ins(%[[POS]], %[[OFF]] : tensor<?xi32>, tensor<?xi32>)
// CHECK: ^bb0(%[[P:.*]]: i32, %[[O:.*]]: i32, %{{.*}}: f32):
// CHECK: %[[J:.*]] = linalg.index 2 : index
// CHECK: %[[FIRST:.*]] = arith.index_cast %[[O]] : i32 to index
// CHECK: %[[REL:.*]] = arith.subi %[[J]], %[[FIRST]] : index
// CHECK: %[[MINE:.*]] = arith.cmpi uge, %[[J]], %[[FIRST]] : index
// CHECK: %[[REL64:.*]] = arith.index_cast %[[REL]] : index to i64
// CHECK: %[[P64:.*]] = arith.extsi %[[P]] : i32 to i64
// CHECK: %[[CAUSAL:.*]] = arith.cmpi sle, %[[REL64]], %[[P64]] : i64
// CHECK: %[[SEE:.*]] = arith.andi %[[MINE]], %[[CAUSAL]] : i1
// CHECK: scf.if %[[SEE]]
// CHECK: tensor.extract_slice %{{.*}}[1, 0, 0, 0] [1, %[[LIVE]], 1, 4]
func.func @attention_batch(%q: tensor<?x2x4xf32>, %k: tensor<?x1x4xf32>, %kv: tensor<2x?x1x4xf32>, %pos: tensor<?xi32>, %off: tensor<?xi32>) -> (tensor<?x2x4xf32>, tensor<2x?x1x4xf32>) {
  %kv1 = kernel.cache_write %k, %k into(%kv) positions(%pos) offsets(%off) mapping(#kernel.gpu<warps = 4, unroll = 2, splits = 8>) : tensor<?x1x4xf32>, tensor<2x?x1x4xf32>, tensor<?xi32>, tensor<?xi32>
  %o = kernel.attention %q cache(%kv1) positions(%pos) offsets(%off) heads = 2 kv_heads = 1 head_dim = 4 scale = 5.000000e-01 causal mapping(#kernel.gpu<warps = 4, unroll = 2, splits = 8>) : tensor<?x2x4xf32>, tensor<2x?x1x4xf32>, tensor<?xi32>, tensor<?xi32>
  return %o, %kv1 : tensor<?x2x4xf32>, tensor<2x?x1x4xf32>
}
