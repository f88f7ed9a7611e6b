// RUN: moec-opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(func.func(moe-to-linalg{vector-width=4}))' | FileCheck %s --enable-var-scope
// RUN: moec-opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(func.func(moe-to-linalg{vector-width=16 bf16-dot=true}))' | FileCheck %s --check-prefix=BF16 --enable-var-scope
// RUN: not moec-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(moe-to-linalg{vector-width=8 bf16-dot=true}))' 2>&1 | FileCheck %s --check-prefix=WIDTH
// RUN: moec-opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(func.func(moe-to-linalg{vector-width=4 group-experts=true}))' | FileCheck %s --check-prefix=GROUP --enable-var-scope
// WIDTH: moe-to-linalg: bf16-dot needs vector-width 16 (AVX-512)

// CHECK-DAG: #[[$ROWS:.+]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[$ID2:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @embedding(
// CHECK-SAME: %[[T:[^:]+]]: tensor<10x4xbf16>, %[[IDS:[^:]+]]: tensor<?xi32>)
// CHECK: linalg.generic {indexing_maps = [#[[$ROWS]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[IDS]] : tensor<?xi32>)
// CHECK: %[[ROW:.+]] = arith.index_cast %{{.+}} : i32 to index
// CHECK: %[[COL:.+]] = linalg.index 1 : index
// CHECK: %[[V:.+]] = tensor.extract %[[T]][%[[ROW]], %[[COL]]] : tensor<10x4xbf16>
// CHECK: arith.extf %[[V]] : bf16 to f32
func.func @embedding(%t: tensor<10x4xbf16>, %ids: tensor<?xi32>) -> tensor<?x4xf32> {
  %h = moe.embedding %t[%ids] : tensor<10x4xbf16>, tensor<?xi32> -> tensor<?x4xf32>
  return %h : tensor<?x4xf32>
}

// -----

// Sum of squares over the last dimension, then x * rsqrt(mean + eps) * w.
// CHECK-LABEL: func.func @rms_norm(
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "reduction"]
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "parallel"]
// CHECK: arith.constant 1.600000e+01 : f32
// CHECK: arith.constant 9.99999997E-7 : f32
// CHECK: math.rsqrt
// CHECK: arith.extf %{{.+}} : f16 to f32
// CHECK-NOT: moe.rms_norm
func.func @rms_norm(%x: tensor<?x16xf32>, %w: tensor<16xf16>) -> tensor<?x16xf32> {
  %y = moe.rms_norm %x, %w eps = 1.0e-6 : tensor<?x16xf32>, tensor<16xf16>
  return %y : tensor<?x16xf32>
}

// -----

// x W^T: a parallel task per block of 4 rows of W (the register block of
// vector-width 4 is 4 rows x 2 tokens); in it, blocks of 2 tokens, then
// the tokens left one at a time with the 4 rows together. bf16 weights
// are widened in pairs: x's blocks of 8 columns deinterleaved first (even
// columns, then odd; columns 16 .. 22 stay), then each step reads 2
// vectors of each of 2 activation rows and, per weight row, 8 bf16
// weights split into their even and odd halves for 8 accumulators; a
// scalar tail for the last 6 of the 22 columns.
// CHECK-LABEL: func.func @linear(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x22xf32>, %[[W:[^:]+]]: tensor<8x22xbf16>
// CHECK: %[[T:.+]] = tensor.dim %[[X]], %c0
// CHECK: %[[XD:.+]] = scf.if %{{.+}} -> (tensor<?x22xf32>)
// CHECK: vector.shuffle %{{.+}}, %{{.+}} [0, 2, 4, 6] : vector<4xf32>, vector<4xf32>
// CHECK: vector.shuffle %{{.+}}, %{{.+}} [1, 3, 5, 7] : vector<4xf32>, vector<4xf32>
// CHECK: scf.for %{{.+}} = %c16{{.*}} to %c22 step %c1
// CHECK: } else {
// CHECK: %[[Y:.+]] = scf.forall (%[[P:.+]]) in (2) shared_outs(%[[OUT:.+]] = %{{.+}}) -> (tensor<?x8xf32>)
// CHECK: %[[R0:.+]] = arith.muli %[[P]], %c4
// CHECK: %[[BLOCK:.+]] = tensor.extract_slice %[[OUT]][0, %[[R0]]] [%{{.+}}, 4] [1, 1] : tensor<?x8xf32> to tensor<?x4xf32>
// CHECK: %[[TILES:.+]] = arith.divui %{{.+}}, %[[C2:.+]] : index
// CHECK: %[[INTILES:.+]] = arith.muli %[[TILES]], %[[C2]] : index
// CHECK: %[[BLOCKED:.+]] = arith.addi %{{.+}}, %[[INTILES]] : index
// CHECK: %[[FULL:.+]] = scf.for %[[T0:.+]] = %{{.+}} to %[[BLOCKED]] step %{{.+}} iter_args(%{{.+}} = %[[BLOCK]]) -> (tensor<?x4xf32>)
// CHECK: %[[T1:.+]] = arith.addi %[[T0]], %c1
// The task's one block of rows (8 rows make fewer than 64 tasks of more).
// CHECK: scf.for %[[J0:.+]] = %{{.+}} to %c4{{.*}} step %c4{{.*}} iter_args
// CHECK: %[[J3:.+]] = arith.addi %[[J0]], %c3
// CHECK: %[[R3:.+]] = arith.addi %[[R0]], %[[J3]]
// CHECK: %{{.+}}:8 = scf.for %{{.+}} = %{{.+}} to %c16 step %c8{{.*}} -> (vector<4xf32>,
// CHECK: %[[X0:.+]] = vector.transfer_read %[[XD]][%{{.+}}, %[[K:[a-z0-9_]+]]], %{{.+}} : tensor<?x22xf32>, vector<4xf32>
// CHECK: %[[X0O:.+]] = vector.transfer_read %[[XD]][%{{.+}}, %[[KO:[a-z0-9_]+]]], %{{.+}} : tensor<?x22xf32>, vector<4xf32>
// CHECK: %[[X1:.+]] = vector.transfer_read %[[XD]][%[[T1]], %[[K]]]
// CHECK: %[[WV:.+]] = vector.transfer_read %[[W]][%{{.+}}, %[[K]]], %{{.+}} {in_bounds = [true]} : tensor<8x22xbf16>, vector<8xbf16>
// CHECK: vector.bitcast %[[WV]] : vector<8xbf16> to vector<4xi32>
// CHECK: %[[WE:.+]] = vector.bitcast %{{.+}} : vector<4xi32> to vector<4xf32>
// CHECK: %[[WO:.+]] = vector.bitcast %{{.+}} : vector<4xi32> to vector<4xf32>
// CHECK: %[[A0:.+]] = vector.fma %[[WE]], %[[X0]], %{{.+}} : vector<4xf32>
// CHECK: vector.fma %[[WO]], %[[X0O]], %[[A0]] : vector<4xf32>
// CHECK: vector.fma %[[WE]], %[[X1]], %{{.+}} : vector<4xf32>
// CHECK: vector.transfer_read %[[W]][%[[R3]], %[[K]]]
// CHECK-COUNT-8: vector.reduction <add>
// CHECK: scf.for %{{.+}} = %c16{{.*}} to %c22 step %c1
// CHECK-COUNT-8: arith.addf
// CHECK: tensor.insert %{{.+}} into %{{.+}}[%[[T1]], %[[J3]]] : tensor<?x4xf32>
// CHECK: %[[LEFT:.+]] = scf.for %[[TL:.+]] = %[[BLOCKED]] to %{{.+}} step %c1{{.*}} iter_args(%{{.+}} = %[[FULL]]) -> (tensor<?x4xf32>)
// CHECK: %{{.+}}:4 = scf.for %{{.+}} = %{{.+}} to %c16 step %c8{{.*}} -> (vector<4xf32>,
// CHECK-COUNT-8: vector.fma
// CHECK: scf.forall.in_parallel
// CHECK: tensor.parallel_insert_slice %[[LEFT]] into %[[OUT]][0, %[[R0]]] [%{{.+}}, 4] [1, 1]
// CHECK: linalg.generic {{.+}} ins(%{{.+}} : tensor<8xf32>) outs(%[[Y]] : tensor<?x8xf32>)
func.func @linear(%x: tensor<?x22xf32>, %w: tensor<8x22xbf16>, %b: tensor<8xf32>) -> tensor<?x8xf32> {
  %y = moe.linear %x, %w bias(%b) : (tensor<?x22xf32>, tensor<8x22xbf16>, tensor<8xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// With bf16-dot, bf16 weights meet the activation rounded to bf16 once per
// call, in vectors (a task per row for 8 rows or more): in the 4 x 5
// register block, each step takes 32 pairs of a row with the AVX-512 BF16
// dot product into 20 f32 sums; the last 8 columns are scalar.
// BF16-LABEL: func.func @linear_bf16_dot(
// BF16-SAME: %[[X:[^:]+]]: tensor<?x136xf32>, %[[W:[^:]+]]: tensor<8x136xbf16>
// BF16: %[[XB:.+]] = scf.if %{{.+}} -> (tensor<?x136xbf16>)
// BF16: scf.forall
// BF16: %[[XV16:.+]] = vector.transfer_read %[[X]]{{.+}} : tensor<?x136xf32>, vector<16xf32>
// BF16: arith.truncf %[[XV16]] : vector<16xf32> to vector<16xbf16>
// BF16: scf.for %{{.+}} = %c128{{.*}} to %c136
// BF16: arith.truncf %{{.+}} : f32 to bf16
// BF16: } else {
// BF16: scf.forall (%{{.+}}) in (2)
// BF16: %{{.+}}:20 = scf.for %{{.+}} = %{{.+}} to %c128 step %c32{{.*}} iter_args(%[[A0:[^ ]+]] = %{{.+}}) -> (vector<16xf32>,
// BF16: %[[XV:.+]] = vector.transfer_read %[[XB]][%{{.+}}, %{{.+}}], %{{.+}} {in_bounds = [true]} : tensor<?x136xbf16>, vector<32xbf16>
// BF16: %[[WV:.+]] = vector.transfer_read %[[W]][%{{.+}}, %{{.+}}], %{{.+}} {in_bounds = [true]} : tensor<8x136xbf16>, vector<32xbf16>
// BF16: x86vector.avx512.dot %[[A0]], %[[WV]], %[[XV]] : vector<32xbf16> -> vector<16xf32>
// BF16-COUNT-19: x86vector.avx512.dot
// BF16: vector.reduction <add>
// BF16: scf.for %{{.+}} = %c128{{.*}} to %c136 step %c1
// f16 weights keep the widening product.
// BF16: scf.forall
// BF16-NOT: x86vector
// BF16: vector.transfer_read {{.+}} : tensor<8x136xf16>, vector<16xf16>
// BF16: vector.fma
// BF16: return
// CHECK-LABEL: func.func @linear_bf16_dot(
// CHECK-NOT: x86vector
// CHECK: return
func.func @linear_bf16_dot(%x: tensor<?x136xf32>, %w: tensor<8x136xbf16>, %h: tensor<8x136xf16>) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  %y = moe.linear %x, %w : (tensor<?x136xf32>, tensor<8x136xbf16>) -> tensor<?x8xf32>
  %z = moe.linear %x, %h : (tensor<?x136xf32>, tensor<8x136xf16>) -> tensor<?x8xf32>
  return %y, %z : tensor<?x8xf32>, tensor<?x8xf32>
}

// -----

// One vector is the one row of a matrix.
// CHECK-LABEL: func.func @linear_vector(
// CHECK: tensor.expand_shape %{{.+}} {{\[\[}}0, 1]] output_shape [1, 16] : tensor<16xf32> into tensor<1x16xf32>
// CHECK: scf.forall
// CHECK: tensor.collapse_shape %{{.+}} {{\[\[}}0, 1]] : tensor<1x8xf32> into tensor<8xf32>
func.func @linear_vector(%x: tensor<16xf32>, %w: tensor<8x16xf16>) -> tensor<8xf32> {
  %y = moe.linear %x, %w : (tensor<16xf32>, tensor<8x16xf16>) -> tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

// Each element with its rotate_half partner, at angle pos / theta^(2k/d).
// RoPE: inv_freq = 1 / theta^(2k / d) folded into a constant; cos and sin
// of position * inv_freq in tables [T, d/2] (depending on the positions
// only, shared by q and k and hoisted out of a layer loop); then each
// element, paired with the one d/2 away, rotated by its table entries.
// CHECK-LABEL: func.func @rope(
// CHECK-SAME: %[[Q:[^:]+]]: tensor<?x2x8xf32>, %[[POS:[^:]+]]: tensor<?xi32>)
// CHECK: %[[FREQ:.+]] = arith.constant dense<[1.000000e+00, 1.000000e-01, 0.00999999977, 1.000000e-03]> : tensor<4xf32>
// CHECK: %[[COS:.+]] = linalg.generic {{.+}} ins(%[[POS]], %[[FREQ]] : tensor<?xi32>, tensor<4xf32>) outs(%{{.+}} : tensor<?x4xf32>)
// CHECK: arith.sitofp
// CHECK: math.cos
// CHECK: %[[SIN:.+]] = linalg.generic {{.+}} ins(%[[POS]], %[[FREQ]] : tensor<?xi32>, tensor<4xf32>) outs(%{{.+}} : tensor<?x4xf32>)
// CHECK: math.sin
// CHECK: linalg.generic
// CHECK: %[[I:.+]] = linalg.index 2
// CHECK: %[[K:.+]] = arith.remui %[[I]], %c4
// CHECK: arith.cmpi ult
// CHECK: tensor.extract %[[COS]][%{{.+}}, %[[K]]]
// CHECK: tensor.extract %[[SIN]][%{{.+}}, %[[K]]]
// CHECK-NOT: math.powf
// CHECK: arith.negf
func.func @rope(%q: tensor<?x2x8xf32>, %pos: tensor<?xi32>) -> tensor<?x2x8xf32> {
  %r = moe.rope %q[%pos] theta = 1.0e4 head_dim = 8 rotate_half : tensor<?x2x8xf32>, tensor<?xi32>
  return %r : tensor<?x2x8xf32>
}

// -----

// Cache writes in a loop over tokens (a key row into half 0, a value row
// into half 1 of one cache), then the CPU attention kernel over the keys'
// and values' prefixes (test/Passes/kernel-to-cpu.mlir has it whole).
// CHECK-LABEL: func.func @attention(
// CHECK: %[[KV:.+]] = scf.for {{.+}} iter_args(%[[ACC:.+]] = %{{.+}})
// CHECK: %[[KEY:.+]] = tensor.insert_slice %{{.+}} into %[[ACC]][0, %{{.+}}, 0, 0] [1, 1, 1, 4]
// CHECK: %[[BOTH:.+]] = tensor.insert_slice %{{.+}} into %[[KEY]][1, %{{.+}}, 0, 0] [1, 1, 1, 4]
// CHECK: scf.yield %[[BOTH]]
// CHECK: tensor.extract_slice %[[KV]][0, 0, 0, 0] [1, %{{.+}}, 1, 4]
// CHECK: tensor.extract_slice %[[KV]][1, 0, 0, 0] [1, %{{.+}}, 1, 4]
// CHECK: scf.forall
// CHECK: scf.for {{.+}} -> (f32, f32, vector<4xf32>)
// CHECK: math.exp
// CHECK: vector.fma %{{.+}} : vector<4xf32>
// CHECK-NOT: moe.attention
func.func @attention(%q: tensor<?x2x4xf32>, %k: tensor<?x1x4xf32>, %kv: tensor<2x?x1x4xf32>, %pos: tensor<?xi32>)
    -> (tensor<?x2x4xf32>, tensor<2x?x1x4xf32>) {
  %o, %kv1 = moe.attention %q, %k, %k cache(%kv) positions(%pos)
      heads = 2 kv_heads = 1 head_dim = 4 causal window = 3
      : tensor<?x2x4xf32>, tensor<?x1x4xf32>, tensor<2x?x1x4xf32>, tensor<?xi32>
  return %o, %kv1 : tensor<?x2x4xf32>, tensor<2x?x1x4xf32>
}

// -----

// The fused router: logits of the gate, softmax in f32, k rounds of argmax
// per token, then renormalisation.
// CHECK-LABEL: func.func @router(
// CHECK: scf.forall (%{{.+}}) in (3)
// CHECK: math.exp
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.for
// CHECK: arith.cmpf ogt
// CHECK: tensor.insert
// CHECK: arith.index_cast %{{.+}} : index to i32
// CHECK: arith.divf
func.func @router(%x: tensor<?x4xf32>, %g: tensor<3x4xbf16>) -> (tensor<?x2xf32>, tensor<?x2xi32>) {
  %w, %ids = moe.router %x gate(%g) experts = 3 top_k = 2 learned softmax renormalize
      : (tensor<?x4xf32>, tensor<3x4xbf16>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return %w, %ids : tensor<?x2xf32>, tensor<?x2xi32>
}

// -----

// Given logits: no product.
// CHECK-LABEL: func.func @router_logits(
// CHECK-NOT: scf.forall
// CHECK: math.exp
func.func @router_logits(%l: tensor<?x3xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>) {
  %w, %ids = moe.router %l experts = 3 top_k = 2 learned softmax renormalize
      : (tensor<?x3xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return %w, %ids : tensor<?x2xf32>, tensor<?x2xi32>
}

// -----

// Sigmoid selection, softmax weights read at the chosen experts, and the
// null-expert bias starting the sum the weights are divided by.
// CHECK-LABEL: func.func @router_sigmoid(
// CHECK: arith.negf
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: arith.maximumf
// CHECK: scf.for
// CHECK: tensor.extract
// CHECK: tensor.extract
// CHECK: arith.constant 1.100000e+00 : f32
// CHECK: linalg.fill
// CHECK: linalg.generic
// CHECK: arith.addf
// CHECK: arith.divf
func.func @router_sigmoid(%x: tensor<?x4xf32>, %g: tensor<3x4xbf16>) -> tensor<?x1xf32> {
  %w, %ids = moe.router %x gate(%g) experts = 3 top_k = 1 learned sigmoid
      weighting = softmax renormalize null_expert_bias = 1.1
      : (tensor<?x4xf32>, tensor<3x4xbf16>) -> (tensor<?x1xf32>, tensor<?x1xi32>)
  return %w : tensor<?x1xf32>
}

// -----

// Sinkhorn: per round, logsumexp over the experts (reduced along d1) taken
// off, then logsumexp over the tokens (reduced along d0), taken off only
// when the call has more than one token; then exp.
// CHECK-LABEL: func.func @router_sinkhorn(
// CHECK: %[[T:.+]] = tensor.dim %{{.+}}, %c0
// CHECK: %[[MANY:.+]] = arith.cmpi ugt, %[[T]], %c1
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "reduction"]
// CHECK: linalg.generic {{.+}} iterator_types = ["reduction", "parallel"]
// CHECK: math.log
// CHECK: arith.select %[[MANY]]
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "reduction"]
// CHECK: linalg.generic {{.+}} iterator_types = ["reduction", "parallel"]
// CHECK: arith.select %[[MANY]]
// CHECK: math.exp
// CHECK: scf.for
func.func @router_sinkhorn(%l: tensor<?x4xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>) {
  %w, %ids = moe.router %l experts = 4 top_k = 2 learned sinkhorn iterations = 2
      renormalize : (tensor<?x4xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return %w, %ids : tensor<?x2xf32>, tensor<?x2xi32>
}

// -----

// Hash routing: the token id mod the experts, weight 1; normalised with a
// null bias of 0.5, 1 / 1.5.
// CHECK-LABEL: func.func @router_hash(
// CHECK: arith.constant 1.000000e+00 : f32
// CHECK: linalg.generic
// CHECK: arith.index_castui
// CHECK: linalg.index 1
// CHECK: arith.remui %{{.+}}, %c5
// CHECK: arith.constant 5.000000e-01 : f32
func.func @router_hash(%x: tensor<?x4xf32>, %t: tensor<?xi32>) -> (tensor<?x1xf32>, tensor<?x1xi32>) {
  %w, %ids = moe.router %x tokens(%t) experts = 5 top_k = 1 hash softmax
      renormalize null_expert_bias = 0.5
      : (tensor<?x4xf32>, tensor<?xi32>) -> (tensor<?x1xf32>, tensor<?x1xi32>)
  return %w, %ids : tensor<?x1xf32>, tensor<?x1xi32>
}

// -----

// Uniform routing: expert k of a token is (position + k) mod the experts,
// weight 1 / top_k.
// CHECK-LABEL: func.func @router_uniform(
// CHECK: arith.constant 5.000000e-01 : f32
// CHECK: linalg.index 1
// CHECK: arith.addi
// CHECK: arith.remui %{{.+}}, %c4
func.func @router_uniform(%x: tensor<?x4xf32>, %p: tensor<?xi32>) -> (tensor<?x2xf32>, tensor<?x2xi32>) {
  %w, %ids = moe.router %x positions(%p) experts = 4 top_k = 2 uniform softmax
      : (tensor<?x4xf32>, tensor<?xi32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return %w, %ids : tensor<?x2xf32>, tensor<?x2xi32>
}

// -----

// Per token and routed expert: gate and up products of the expert's slice,
// dReLU, down product, accumulated with the routing weight.
// CHECK-LABEL: func.func @expert_ffn(
// CHECK: scf.for
// CHECK: tensor.extract %{{.+}} : tensor<?x1xi32>
// CHECK: tensor.extract_slice %{{.+}}[%{{.+}}, 0, 0] [1, 8, 4] [1, 1, 1] : tensor<2x8x4xbf16> to tensor<8x4xbf16>
// CHECK: arith.maximumf
// CHECK: arith.maximumf
// CHECK: tensor.extract_slice %{{.+}}[%{{.+}}, 0, 0] [1, 4, 8] [1, 1, 1] : tensor<2x4x8xbf16> to tensor<4x8xbf16>
// CHECK: tensor.insert_slice
// CHECK: scf.yield
// With group-experts, expert by expert: the tokens routed to e listed
// with their weights (a token is written at the count, which moves on
// where its id is e); none, and the expert is skipped; else its rows
// gathered, gate, up and down as products of all of them at once, and
// each output row added to its token's row with its weight.
// GROUP-LABEL: func.func @expert_ffn(
// GROUP-SAME: %[[X:[^:]+]]: tensor<?x4xf32>, %[[W:[^:]+]]: tensor<?x1xf32>, %[[IDS:[^:]+]]: tensor<?x1xi32>, %[[G:[^:]+]]: tensor<2x8x4xbf16>, %[[D:[^:]+]]: tensor<2x4x8xbf16>
// GROUP: %[[T:.+]] = tensor.dim %[[X]], %c0
// GROUP: scf.for %[[E:.+]] = %{{.+}} to %c2 step %{{.+}} iter_args(%[[ACC:.+]] = %{{.+}}) -> (tensor<?x4xf32>)
// GROUP: %[[EID:.+]] = arith.index_cast %[[E]] : index to i32
// GROUP: %[[P:.+]]:3 = scf.for %[[TT:.+]] = %{{.+}} to %[[T]] step %{{.+}} iter_args({{.+}}) -> (tensor<?xindex>, tensor<?xf32>, index)
// GROUP: %[[ID:.+]] = tensor.extract %[[IDS]][%[[TT]], %{{.+}}] : tensor<?x1xi32>
// GROUP: %[[IS:.+]] = arith.cmpi eq, %[[ID]], %[[EID]] : i32
// GROUP: tensor.extract %[[W]][%[[TT]], %{{.+}}] : tensor<?x1xf32>
// GROUP: arith.select %[[IS]]
// GROUP: %[[ANY:.+]] = arith.cmpi ugt, %[[P]]#2, %{{.+}} : index
// GROUP: scf.if %[[ANY]] -> (tensor<?x4xf32>)
// GROUP: %[[ROWS:.+]] = linalg.generic {{.+}} outs(%{{.+}} : tensor<?x4xf32>)
// GROUP: %[[TOKEN:.+]] = tensor.extract %[[P]]#0[%{{.+}}] : tensor<?xindex>
// GROUP: tensor.extract %[[X]][%[[TOKEN]], %{{.+}}] : tensor<?x4xf32>
// GROUP: tensor.extract_slice %[[G]][%[[E]], 0, 0] [1, 8, 4]
// GROUP: scf.forall (%{{.+}}) in (2) shared_outs(%{{.+}}) -> (tensor<?x8xf32>)
// GROUP: vector.transfer_read %[[ROWS]]
// GROUP: arith.maximumf
// GROUP: tensor.extract_slice %[[D]][%[[E]], 0, 0] [1, 4, 8]
// GROUP: scf.for %[[J:.+]] = %{{.+}} to %[[P]]#2 step %{{.+}} iter_args(%{{.+}} = %[[ACC]]) -> (tensor<?x4xf32>)
// GROUP: %[[TJ:.+]] = tensor.extract %[[P]]#0[%[[J]]] : tensor<?xindex>
// GROUP: %[[WJ:.+]] = tensor.extract %[[P]]#1[%[[J]]] : tensor<?xf32>
// GROUP: tensor.extract_slice %{{.+}}[%[[TJ]], 0] [1, 4]
// GROUP: tensor.splat %[[WJ]]
// GROUP: tensor.insert_slice %{{.+}} into %{{.+}}[%[[TJ]], 0] [1, 4]
// GROUP: } else {
// GROUP-NEXT: scf.yield %[[ACC]] : tensor<?x4xf32>
func.func @expert_ffn(%x: tensor<?x4xf32>, %w: tensor<?x1xf32>, %ids: tensor<?x1xi32>,
                      %g: tensor<2x8x4xbf16>, %d: tensor<2x4x8xbf16>) -> tensor<?x4xf32> {
  %y = moe.expert_ffn %x routing(%w, %ids) experts(%g, %g, %d) drelu
      : (tensor<?x4xf32>, tensor<?x1xf32>, tensor<?x1xi32>, tensor<2x8x4xbf16>, tensor<2x8x4xbf16>, tensor<2x4x8xbf16>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

// A neuron-major down weight [E, I, H]: per expert, a task per block of
// 4 x 4 output columns, the neurons in blocks, and in each, tiles of 2
// tokens (then single tokens) holding 2 x 4 vector sums while every
// neuron's piece of row, read once, is multiplied with each token's
// activation.
// GROUP-LABEL: func.func @expert_ffn_down_neuron_major(
// GROUP-SAME: %[[G:[^:]+]]: tensor<2x8x32xbf16>)
// GROUP: scf.if
// GROUP: arith.maximumf
// GROUP: arith.maximumf
// GROUP: %[[DE:.+]] = tensor.extract_slice %[[G]][%{{.+}}, 0, 0] [1, 8, 32] [1, 1, 1] : tensor<2x8x32xbf16> to tensor<8x32xbf16>
// GROUP: scf.forall (%[[P:.+]]) in (2) shared_outs(%{{.+}}) -> (tensor<?x32xf32>)
// GROUP: %[[C0:.+]] = arith.muli %[[P]], %c16
// GROUP: linalg.fill {{.+}} -> tensor<?x16xf32>
// GROUP: scf.for %[[I0:.+]] = %{{.+}} to %c8{{.*}} step %c8
// GROUP: scf.for %{{.+}} step %c2
// GROUP: %{{.+}}:8 = scf.for %[[I:.+]] = %[[I0]] to %{{.+}} step %{{.+}} iter_args({{.+}}) -> (vector<4xf32>,
// GROUP: tensor.extract %{{.+}}[%{{.+}}, %[[I]]] : tensor<?x8xf32>
// GROUP: vector.broadcast
// GROUP: vector.transfer_read %[[DE]][%[[I]], %{{.+}}], %{{.+}} {in_bounds = [true]} : tensor<8x32xbf16>, vector<4xbf16>
// GROUP-COUNT-2: vector.fma
// GROUP: scf.yield
// GROUP-COUNT-8: vector.transfer_write
// GROUP: %{{.+}}:4 = scf.for %{{.+}} iter_args({{.+}}) -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>)
// CHECK-LABEL: func.func @expert_ffn_down_neuron_major(
// CHECK: scf.forall (%{{.+}}) in (2) shared_outs(%{{.+}}) -> (tensor<1x32xf32>)
// CHECK: vector.transfer_read %{{.+}} : tensor<8x32xbf16>, vector<4xbf16>
func.func @expert_ffn_down_neuron_major(%x: tensor<?x32xf32>, %w: tensor<?x1xf32>, %ids: tensor<?x1xi32>,
                                        %g: tensor<2x8x32xbf16>) -> tensor<?x32xf32> {
  %y = moe.expert_ffn %x routing(%w, %ids) experts(%g, %g, %g) drelu down_neuron_major
      : (tensor<?x32xf32>, tensor<?x1xf32>, tensor<?x1xi32>, tensor<2x8x32xbf16>, tensor<2x8x32xbf16>, tensor<2x8x32xbf16>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// CHECK-LABEL: func.func @swiglu_dense(
// CHECK: math.exp
// CHECK: arith.divf
// CHECK-LABEL: func.func @gelu_dense(
// CHECK: math.erf
// A block that is not routed takes all rows in one product each.
// GROUP-LABEL: func.func @swiglu_dense(
// GROUP-NOT: scf.for %{{.+}} = %{{.+}} to %c1 step
// GROUP: math.exp
// GROUP: return
func.func @swiglu_dense(%x: tensor<1x4xf32>, %g: tensor<1x8x4xf32>, %d: tensor<1x4x8xf32>) -> tensor<1x4xf32> {
  %y = moe.expert_ffn %x experts(%g, %g, %d) swiglu
      : (tensor<1x4xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x8xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}
func.func @gelu_dense(%x: tensor<1x4xf32>, %g: tensor<1x8x4xf32>, %d: tensor<1x4x8xf32>) -> tensor<1x4xf32> {
  %y = moe.expert_ffn %x experts(%g, %g, %d) geglu
      : (tensor<1x4xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x8xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

// The activation of a group's rows in vectors: a task per row when there
// are 8 rows or more (a prompt's), a plain loop for fewer (a decode step
// opens no parallel region for it).
// GROUP-LABEL: func.func @swiglu_rows(
// GROUP: %[[N:.+]] = tensor.dim %{{.+}}, %{{.+}} : tensor<?x8xf32>
// GROUP: %[[MANY:.+]] = arith.cmpi uge, %[[N]], %c8{{.*}} : index
// GROUP: scf.if %[[MANY]] -> (tensor<?x8xf32>)
// GROUP: scf.forall (%[[R:.+]]) in (%[[N]]) shared_outs(%{{.+}}) -> (tensor<?x8xf32>)
// GROUP: scf.for %{{.+}} = %c0{{.*}} to %c8{{.*}} step %c4
// GROUP: vector.transfer_read {{.+}} : tensor<?x8xf32>, vector<4xf32>
// GROUP: math.exp %{{.+}} : vector<4xf32>
// GROUP: tensor.parallel_insert_slice
// GROUP: } else {
// GROUP: scf.for %{{.+}} = %c0{{.*}} to %[[N]] step
// GROUP: math.exp %{{.+}} : vector<4xf32>
// GROUP: tensor.insert_slice
func.func @swiglu_rows(%x: tensor<?x4xf32>, %g: tensor<1x8x4xf32>, %d: tensor<1x4x8xf32>) -> tensor<?x4xf32> {
  %y = moe.expert_ffn %x experts(%g, %g, %d) swiglu
      : (tensor<?x4xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x8xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

// CHECK-LABEL: func.func @drelu(
// CHECK: linalg.generic
// CHECK: arith.maximumf
// CHECK: arith.maximumf
// CHECK: arith.mulf
func.func @drelu(%g: tensor<8xf32>, %u: tensor<8xf32>) -> tensor<8xf32> {
  %a = moe.drelu %g, %u : tensor<8xf32>
  return %a : tensor<8xf32>
}

// -----

// Neuron-major: 16 tasks split the active neurons; each zeroes its own
// partial output, adds its neurons' whole rows (4-lane vectors over the 128
// columns), four neurons at a time (four rows streamed, the partial row
// read and written once for them), then one at a time, and the partial
// outputs are summed at the end.
// CHECK-LABEL: func.func @sparse_matvec(
// CHECK-SAME: %[[W:[^:]+]]: tensor<8x128xbf16>, %[[A:[^:]+]]: tensor<8xf32>, %[[IDX:[^:]+]]: tensor<8xi32>, %[[N:[^:]+]]: index)
// CHECK: %[[PARTIALS:.+]] = scf.forall (%[[P:.+]]) in (16) shared_outs(%[[OUT:.+]] = %{{.+}}) -> (tensor<16x128xf32>)
// CHECK: %[[LO:.+]] = arith.divui %{{.+}}, %c16
// CHECK: %[[HI:.+]] = arith.divui %{{.+}}, %c16
// CHECK: %[[ROW:.+]] = tensor.extract_slice %[[OUT]][%[[P]], 0] [1, 128] [1, 1] : tensor<16x128xf32> to tensor<128xf32>
// CHECK: vector.transfer_write
// CHECK: %[[WHOLE:.+]] = arith.addi %[[LO]], %{{.+}} : index
// CHECK: scf.for %[[J:[^ ]+]] = %[[LO]] to %[[WHOLE]] step %c4{{.*}} iter_args
// CHECK-COUNT-4: arith.index_cast %{{.+}} : i32 to index
// CHECK: scf.for %[[C:[^ ]+]] = %{{.+}} to %c128{{.*}} step %c4
// CHECK: %[[V:.+]] = vector.transfer_read %{{.+}}[%[[C]]]
// CHECK-COUNT-4: vector.fma %{{.+}}, %{{.+}}, %{{.+}} : vector<4xf32>
// CHECK: scf.for %[[K:[^ ]+]] = %[[WHOLE]] to %[[HI]] step %{{.+}} iter_args
// CHECK: %[[NEURON:.+]] = arith.index_cast %{{.+}} : i32 to index
// CHECK: %[[AN:.+]] = tensor.extract %[[A]][%[[NEURON]]]
// CHECK: %[[SPLAT:.+]] = vector.broadcast %[[AN]] : f32 to vector<4xf32>
// CHECK: scf.for %[[C1:[^ ]+]] = %{{.+}} to %c128{{.*}} step %c4
// CHECK: %[[V1:.+]] = vector.transfer_read %{{.+}}[%[[C1]]]
// CHECK: %[[WV:.+]] = vector.transfer_read %[[W]][%[[NEURON]], %[[C1]]], %{{.+}} {in_bounds = [true]} : tensor<8x128xbf16>, vector<4xbf16>
// CHECK: %[[WF:.+]] = arith.extf %[[WV]]
// CHECK: vector.fma %[[WF]], %[[SPLAT]], %[[V1]] : vector<4xf32>
// CHECK: tensor.parallel_insert_slice %{{.+}} into %[[OUT]][%[[P]], 0] [1, 128] [1, 1]
// CHECK: vector.transfer_read %[[PARTIALS]][%c0{{.*}}, %{{.+}}]
// CHECK: vector.transfer_read %[[PARTIALS]][%c15, %{{.+}}]
func.func @sparse_matvec(%w: tensor<8x128xbf16>, %a: tensor<8xf32>, %idx: tensor<8xi32>, %n: index) -> tensor<128xf32> {
  %y = moe.sparse_matvec %w, %a active(%idx, %n) neuron_major : tensor<8x128xbf16>, tensor<8xf32>, tensor<8xi32> -> tensor<128xf32>
  return %y : tensor<128xf32>
}

// -----

// As stored ([out, in]): a loop over the active columns.
// CHECK-LABEL: func.func @sparse_matvec_rows(
// CHECK-SAME: %[[W:[^:]+]]: tensor<4x8xbf16>, %{{[^:]+}}: tensor<8xf32>, %[[IDX:[^:]+]]: tensor<8xi32>, %[[N:[^:]+]]: index)
// CHECK: scf.for %{{.+}} = %{{.+}} to %[[N]]
// CHECK: tensor.extract %[[IDX]]
// CHECK: linalg.generic
// CHECK: tensor.extract %[[W]][%{{.+}}, %{{.+}}] : tensor<4x8xbf16>
func.func @sparse_matvec_rows(%w: tensor<4x8xbf16>, %a: tensor<8xf32>, %idx: tensor<8xi32>, %n: index) -> tensor<4xf32> {
  %y = moe.sparse_matvec %w, %a active(%idx, %n) : tensor<4x8xbf16>, tensor<8xf32>, tensor<8xi32> -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @lm_head(
// CHECK: scf.forall (%{{.+}}) in (10)
// CHECK-NOT: moe.lm_head
func.func @lm_head(%h: tensor<?x4xf32>, %w: tensor<10x4xbf16>) -> tensor<?x10xf32> {
  %l = moe.lm_head %h, %w : tensor<?x4xf32>, tensor<10x4xbf16> -> tensor<?x10xf32>
  return %l : tensor<?x10xf32>
}

// -----

// The last row whose token is not the pad token, scored.
// CHECK-LABEL: func.func @score_sequence(
// CHECK: scf.for
// CHECK: arith.cmpi ne
// CHECK: arith.select
// CHECK: tensor.extract_slice
// CHECK: scf.forall (%{{.+}}) in (3)
// CHECK: linalg.generic {{.+}} ins(%{{.+}} : tensor<1x3xf32>) outs(%{{.+}} : tensor<3xf32>)
func.func @score_sequence(%h: tensor<?x4xf32>, %w: tensor<3x4xf32>, %ids: tensor<?xi32>) -> tensor<3xf32> {
  %s = moe.score_head %h, %w tokens(%ids) sequence pad_token_id = 0 : (tensor<?x4xf32>, tensor<3x4xf32>, tensor<?xi32>) -> tensor<3xf32>
  return %s : tensor<3xf32>
}

// -----

// The fused dReLU: a task per block of 32 neurons (here one); the neurons
// listed, their gate rows four at a time, then one at a time; the positive
// gates listed, their flags set, and their up rows read the same way for
// act = g relu(u); then the active neurons listed in order and the positive
// gates counted from those flags.
// CHECK-LABEL: func.func @fused_drelu(
// CHECK-SAME: %[[X:[^:]+]]: tensor<16xf32>, %[[G:[^:]+]]: tensor<32x16xbf16>, %[[U:[^:]+]]: tensor<32x16xbf16>)
// CHECK: %[[PER:.+]]:2 = scf.forall (%[[B:.+]]) in (1) shared_outs(%[[OUT:.+]] = %{{.+}}, %[[FLAGS:.+]] = %{{.+}}) -> (tensor<32xf32>, tensor<32xi1>)
// CHECK: %[[LIST:.+]]:2 = scf.for {{.+}} -> (tensor<32xindex>, index)
// CHECK: scf.for {{.+}} step %c4{{.*}} iter_args({{.+}}) -> (tensor<32xf32>)
// CHECK-COUNT-4: vector.transfer_read %[[G]]
// CHECK-COUNT-4: vector.reduction <add>
// CHECK: scf.for {{.+}} to %[[LIST]]#1 step %{{.+}} -> (tensor<32xf32>)
// CHECK: vector.transfer_read %[[G]]
// CHECK: %[[POS:.+]]:2 = scf.for {{.+}} to %[[LIST]]#1 step {{.+}} -> (tensor<32xindex>, index)
// CHECK: arith.cmpf ogt
// CHECK: scf.for {{.+}} to %[[POS]]#1 step {{.+}} -> (tensor<32xi1>)
// CHECK: scf.for {{.+}} step %c4{{.*}} iter_args({{.+}}) -> (tensor<32xf32>)
// CHECK-COUNT-4: vector.transfer_read %[[U]]
// CHECK: %[[RELU:.+]] = arith.maximumf %{{.+}}, %{{.+}} : f32
// CHECK: arith.mulf %{{.+}}, %[[RELU]] : f32
// CHECK: tensor.parallel_insert_slice %{{.+}} into %[[OUT]][%{{.+}}] [32] [1]
// CHECK: tensor.parallel_insert_slice %{{.+}} into %[[FLAGS]][%{{.+}}] [32] [1]
// CHECK: %[[SET:.+]]:3 = scf.for %[[J:[^ ]+]] = {{.+}} iter_args(%[[L:.+]] = %{{.+}}, %[[C:.+]] = %{{.+}}, %[[P:.+]] = %{{.+}}) -> (tensor<32xi32>, index, index)
// CHECK: %[[V:.+]] = tensor.extract %[[PER]]#0[%[[J]]]
// CHECK: %[[ON:.+]] = arith.cmpf one, %[[V]]
// CHECK: %[[GATE:.+]] = tensor.extract %[[PER]]#1[%[[J]]] : tensor<32xi1>
// CHECK: tensor.insert %{{.+}} into %[[L]][%[[C]]]
// CHECK: arith.select %[[ON]]
// CHECK: arith.select %[[GATE]]
// CHECK: return %[[PER]]#0, %[[SET]]#0, %[[SET]]#1, %[[SET]]#2
func.func @fused_drelu(%x: tensor<16xf32>, %g: tensor<32x16xbf16>, %u: tensor<32x16xbf16>) -> (tensor<32xf32>, tensor<32xi32>, index, index) {
  %a, %idx, %n, %p = moe.fused_drelu %x, %g, %u : tensor<16xf32>, tensor<32x16xbf16> -> tensor<32xf32>, tensor<32xi32>
  return %a, %idx, %n, %p : tensor<32xf32>, tensor<32xi32>, index, index
}

// -----

// A moe.dequantize of interleaved blocks that no kernel reads is a loop
// over every value: value v of block kb is in byte 64 (v / 8) + 4 (kb % 16)
// + v % 4 of its group's quants, in the low or the high nibble as
// (v / 4) % 2 says, less 8; then times the block's scale.
// CHECK-LABEL: func.func @dequantize_interleaved
// CHECK: tensor.generate
// CHECK: ^bb0(%[[ROW:.*]]: index, %[[K:.*]]: index):
// CHECK: %[[KB:.*]] = arith.divui %[[K]], %c32
// CHECK: %[[V:.*]] = arith.remui %[[K]], %c32
// CHECK: %[[B:.*]] = arith.remui %[[KB]], %c16
// CHECK: %[[SLOT:.*]] = arith.divui %[[V]], %c4
// CHECK: %[[PAIR:.*]] = arith.divui %[[SLOT]], %c2
// CHECK: arith.muli %[[PAIR]], %c64
// CHECK: arith.muli %[[B]], %c4
// CHECK: arith.remui %[[V]], %c4
// CHECK: %[[BYTE:.*]] = vector.transfer_read %{{.*}}[%[[ROW]], %{{.*}}]{{.*}} : tensor<2x288xi8, #moe.blocks<q4_0, interleaved>>, vector<1xi8>
// CHECK: %[[U:.*]] = arith.extui %[[BYTE]] : vector<1xi8> to vector<1xi32>
// CHECK: %[[HIGH:.*]] = arith.remui %[[SLOT]], %c2
// CHECK: arith.muli %[[HIGH]], %c4
// CHECK: %[[SH:.*]] = arith.shrui %[[U]], %{{.*}} : vector<1xi32>
// CHECK: %[[NIB:.*]] = arith.andi %[[SH]], %{{.*}} : vector<1xi32>
// CHECK: arith.subi %[[NIB]], %{{.*}} : vector<1xi32>
// CHECK: arith.sitofp
// CHECK: vector<2xi8>
// CHECK: arith.mulf
// CHECK-NOT: moe.dequantize
func.func @dequantize_interleaved(%b: tensor<2x288xi8, #moe.blocks<q4_0, interleaved>>) -> tensor<2x512xf32> {
  %w = moe.dequantize %b : tensor<2x288xi8, #moe.blocks<q4_0, interleaved>> -> tensor<2x512xf32>
  return %w : tensor<2x512xf32>
}

// -----

// LayerNorm: the row sum, the sum of squared deviations from the mean,
// then (x - mean) * rsqrt(var + eps) * w + b.
// CHECK-LABEL: func.func @layer_norm(
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "reduction"]
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "reduction"]
// CHECK: arith.subf
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "parallel"]
// CHECK: math.rsqrt
// CHECK: arith.mulf
// CHECK: arith.addf
func.func @layer_norm(%x: tensor<?x16xf32>, %w: tensor<16xbf16>, %b: tensor<16xbf16>) -> tensor<?x16xf32> {
  %n = moe.layer_norm %x, %w, %b eps = 1.0e-5 : tensor<?x16xf32>, tensor<16xbf16>, tensor<16xbf16>
  return %n : tensor<?x16xf32>
}

// -----

// A biased expert: each product's row of its stacked bias (the expert's
// slice) added; the down bias before the routing weight.
// CHECK-LABEL: func.func @expert_biases(
// CHECK: tensor.extract_slice %{{.+}}[%{{.+}}, 0] [1, 8] [1, 1] : tensor<2x8xbf16> to tensor<8xbf16>
// CHECK: tensor.extract_slice %{{.+}}[%{{.+}}, 0] [1, 8] [1, 1] : tensor<2x8xbf16> to tensor<8xbf16>
// CHECK: tensor.extract_slice %{{.+}}[%{{.+}}, 0] [1, 4] [1, 1] : tensor<2x4xbf16> to tensor<4xbf16>
// CHECK: arith.mulf
func.func @expert_biases(%x: tensor<?x4xf32>, %w: tensor<?x1xf32>, %ids: tensor<?x1xi32>, %g: tensor<2x8x4xbf16>, %d: tensor<2x4x8xbf16>, %bg: tensor<2x8xbf16>, %bd: tensor<2x4xbf16>) -> tensor<?x4xf32> {
  %y = moe.expert_ffn %x routing(%w, %ids) experts(%g, %g, %d) biases(%bg, %bg, %bd) swiglu
      : (tensor<?x4xf32>, tensor<?x1xf32>, tensor<?x1xi32>, tensor<2x8x4xbf16>, tensor<2x8x4xbf16>,
         tensor<2x4x8xbf16>, tensor<2x8xbf16>, tensor<2x8xbf16>, tensor<2x4xbf16>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}
