// RUN: moec-opt %s --split-input-file --pass-pipeline='builtin.module(moe-count-activity)' | FileCheck %s --enable-var-scope
// RUN: moec-opt %s --split-input-file --pass-pipeline='builtin.module(moe-count-activity{exact-active-sets=true})' | FileCheck %s --check-prefix=EXACT --enable-var-scope

// Columns (runtime/format/Activity.h): weight bytes by part 0-7
// (attention, router, predictor, gate, up, down, head, other), cache bytes
// 8, neurons 9, computed neurons 10, positive gates 11, active neurons 12,
// exact active neurons 13, multiply-adds 14.

// A projection in layer 3 reads its whole weight (64 x 32 bf16 = 4096
// bytes): an attention weight, into row 3, column 0; four layers and the
// row outside them make five rows of 15 counters. Each token multiplies
// the weight: 1 x 64 x 32 = 2048 multiply-adds, in column 14.
// CHECK: memref.global "public" @moec_activity : memref<5x15xi64> = dense<0>
// CHECK: memref.global "public" constant @moec_activity_rows : memref<i64> = dense<5>
// CHECK-LABEL: func.func @linear_in_layer(
// CHECK: %[[Y:.+]] = moe.linear
// CHECK-DAG: %[[BYTES:.+]] = arith.constant 4096 : i64
// CHECK-DAG: %[[ROW:.+]] = arith.constant 3 : index
// CHECK-DAG: %[[COL:.+]] = arith.constant 0 : index
// CHECK-DAG: %[[ALL:.+]] = memref.get_global @moec_activity : memref<5x15xi64>
// CHECK: %[[OLD:.+]] = memref.load %[[ALL]][%[[ROW]], %[[COL]]]
// CHECK: %[[NEW:.+]] = arith.addi %[[OLD]], %[[BYTES]] : i64
// CHECK: memref.store %[[NEW]], %[[ALL]][%[[ROW]], %[[COL]]]
// CHECK: %[[MACS:.+]] = arith.constant 2048 : i64
// CHECK: %[[ONE:.+]] = arith.muli %{{.+}}, %[[MACS]] : i64
// CHECK: %[[MACCOL:.+]] = arith.constant 14 : index
// CHECK: memref.load %{{.+}}[%[[ROW]], %[[MACCOL]]]
// CHECK: arith.addi %{{.+}}, %[[ONE]] : i64
// CHECK: return %[[Y]]
func.func @linear_in_layer(%x: tensor<1x32xf32>) -> tensor<1x64xf32> {
  %w = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.3.self_attn.q_proj.weight", bf16, [64, 32], offset = 0>] : tensor<64x32xbf16>
  %y = moe.linear %x, %w : (tensor<1x32xf32>, tensor<64x32xbf16>) -> tensor<1x64xf32> loc("model.layers.3")
  return %y : tensor<1x64xf32>
}

// -----

// The embedding reads one row (16 bf16 = 32 bytes) per token, counted in
// the row outside the layers (the only row here), in column 7 (other).
// CHECK-LABEL: func.func @embedding_rows(
// CHECK-SAME: %[[IDS:[^:]+]]: tensor<?xi32>
// CHECK: moe.embedding
// CHECK: %[[N:.+]] = tensor.dim %[[IDS]], %{{.+}} : tensor<?xi32>
// CHECK: %[[N64:.+]] = arith.index_cast %[[N]] : index to i64
// CHECK: %[[BYTES:.+]] = arith.muli %[[N64]], %{{.+}} : i64
// CHECK: %[[COL:.+]] = arith.constant 7 : index
// CHECK: memref.load %{{.+}}[%[[ROW:.+]], %[[COL]]] : memref<1x15xi64>
// CHECK: arith.addi %{{.+}}, %[[BYTES]] : i64
// CHECK: memref.store
func.func @embedding_rows(%ids: tensor<?xi32>) -> tensor<?x16xf32> {
  %table = moe.weight [#moe.weight_ref<"model.safetensors", "model.embed_tokens.weight", bf16, [100, 16], offset = 0>] : tensor<100x16xbf16>
  %h = moe.embedding %table[%ids] : tensor<100x16xbf16>, tensor<?xi32> -> tensor<?x16xf32>
  return %h : tensor<?x16xf32>
}

// -----

// A fused dReLU product of one expert's slice (layer 0): the whole gate
// (32 x 16 bf16 = 1024 bytes) into column 3, all 32 neurons computed
// (column 10), then 32 bytes per positive gate into column 4 (up); the
// neurons (32), positive gates and active neurons into columns 9, 11 and
// 12. The sparse product then reads 32 bytes (a row of 16 bf16) per active
// neuron of its neuron-major weight, into column 5 (down).
// CHECK-LABEL: func.func @fused_and_sparse(
// CHECK: %[[A:[^,]+]], %[[I:[^,]+]], %[[N:[^,]+]], %[[P:[^,]+]] = moe.fused_drelu
// CHECK-DAG: %[[GATE:.+]] = arith.constant 1024 : i64
// CHECK-DAG: %[[GATECOL:.+]] = arith.constant 3 : index
// CHECK: memref.load %{{.+}}[%{{.+}}, %[[GATECOL]]]
// CHECK: arith.addi %{{.+}}, %[[GATE]] : i64
// CHECK: %[[COL10:.+]] = arith.constant 10 : index
// CHECK: memref.load %{{.+}}[%{{.+}}, %[[COL10]]]
// CHECK: %[[P64:.+]] = arith.index_cast %[[P]] : index to i64
// CHECK: %[[UP:.+]] = arith.muli %[[P64]], %{{.+}} : i64
// CHECK: %[[UPCOL:.+]] = arith.constant 4 : index
// CHECK: memref.load %{{.+}}[%{{.+}}, %[[UPCOL]]]
// CHECK: arith.addi %{{.+}}, %[[UP]] : i64
// CHECK: %[[COL9:.+]] = arith.constant 9 : index
// CHECK: memref.load %{{.+}}[%{{.+}}, %[[COL9]]]
// CHECK: %[[COL11:.+]] = arith.constant 11 : index
// CHECK: %[[OLDP:.+]] = memref.load %{{.+}}[%{{.+}}, %[[COL11]]]
// CHECK: %[[P64B:.+]] = arith.index_cast %[[P]] : index to i64
// CHECK: arith.addi %[[OLDP]], %[[P64B]] : i64
// CHECK: %[[COL12:.+]] = arith.constant 12 : index
// CHECK: %[[OLDN:.+]] = memref.load %{{.+}}[%{{.+}}, %[[COL12]]]
// CHECK: %[[N64:.+]] = arith.index_cast %[[N]] : index to i64
// CHECK: arith.addi %[[OLDN]], %[[N64]] : i64
// CHECK: moe.sparse_matvec
// CHECK: %[[N64B:.+]] = arith.index_cast %[[N]] : index to i64
// CHECK: %[[ROWBYTES:.+]] = arith.constant 32 : i64
// CHECK: %[[DOWN:.+]] = arith.muli %[[N64B]], %[[ROWBYTES]] : i64
// CHECK: %[[DOWNCOL:.+]] = arith.constant 5 : index
// CHECK: memref.load %{{.+}}[%{{.+}}, %[[DOWNCOL]]]
// CHECK: arith.addi %{{.+}}, %[[DOWN]] : i64
// EXACT-LABEL: func.func @fused_and_sparse(
// EXACT-COUNT-1: moe.fused_drelu
// EXACT-NOT: moe.fused_drelu
func.func @fused_and_sparse(%x: tensor<16xf32>, %e: index) -> tensor<16xf32> {
  %g = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.mlp.experts.0.w1.weight", bf16, [32, 16], offset = 0>, #moe.weight_ref<"model.safetensors", "model.layers.0.mlp.experts.1.w1.weight", bf16, [32, 16], offset = 1024>] : tensor<2x32x16xbf16>
  %u = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.mlp.experts.0.w3.weight", bf16, [32, 16], offset = 2048>, #moe.weight_ref<"model.safetensors", "model.layers.0.mlp.experts.1.w3.weight", bf16, [32, 16], offset = 3072>] : tensor<2x32x16xbf16>
  %d = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.mlp.experts.0.w2.weight", bf16, [16, 32], offset = 4096>, #moe.weight_ref<"model.safetensors", "model.layers.0.mlp.experts.1.w2.weight", bf16, [16, 32], offset = 5120>] transposed : tensor<2x32x16xbf16>
  %ge = tensor.extract_slice %g[%e, 0, 0] [1, 32, 16] [1, 1, 1] : tensor<2x32x16xbf16> to tensor<32x16xbf16>
  %ue = tensor.extract_slice %u[%e, 0, 0] [1, 32, 16] [1, 1, 1] : tensor<2x32x16xbf16> to tensor<32x16xbf16>
  %de = tensor.extract_slice %d[%e, 0, 0] [1, 32, 16] [1, 1, 1] : tensor<2x32x16xbf16> to tensor<32x16xbf16>
  %a, %idx, %n, %p = moe.fused_drelu %x, %ge, %ue : tensor<16xf32>, tensor<32x16xbf16> -> tensor<32xf32>, tensor<32xi32> loc(fused["model.layers.0", "cse"])
  %y = moe.sparse_matvec %de, %a active(%idx, %n) neuron_major : tensor<32x16xbf16>, tensor<32xf32>, tensor<32xi32> -> tensor<16xf32> loc("model.layers.0")
  return %y : tensor<16xf32>
}

// -----

// With predicted neurons: the predictor's products count as predictor
// bytes (column 2); the gate rows read are those of the neurons whose
// logit is at least the threshold, counted by a loop over the logits, 32
// bytes each, and they are the computed neurons (column 10). A diagnostic
// build (exact-active-sets) also runs the product exactly and counts its
// active set in column 13.
// CHECK-LABEL: func.func @predicted(
// CHECK-SAME: %[[X:[^:]+]]: tensor<16xf32>, %[[L:[^:]+]]: tensor<32xf32>
// CHECK: moe.linear
// CHECK: %[[PCOL:.+]] = arith.constant 2 : index
// CHECK: memref.load %{{.+}}[%{{.+}}, %[[PCOL]]]
// CHECK: moe.fused_drelu {{.+}} predicted(%[[L]] : tensor<32xf32>, threshold = 5.000000e-01)
// CHECK: %[[T:.+]] = arith.constant 5.000000e-01 : f32
// CHECK: %[[COMPUTED:.+]] = scf.for {{.+}} -> (index) {
// CHECK: %[[V:.+]] = tensor.extract %[[L]]
// CHECK: arith.cmpf oge, %[[V]], %[[T]] : f32
// CHECK: }
// CHECK: %[[C64:.+]] = arith.index_cast %[[COMPUTED]] : index to i64
// CHECK: %[[GATE:.+]] = arith.muli %[[C64]], %{{.+}} : i64
// CHECK: %[[GATECOL:.+]] = arith.constant 3 : index
// CHECK: memref.load %{{.+}}[%{{.+}}, %[[GATECOL]]]
// CHECK: arith.addi %{{.+}}, %[[GATE]] : i64
// CHECK: %[[COL10:.+]] = arith.constant 10 : index
// CHECK: memref.load %{{.+}}[%{{.+}}, %[[COL10]]]
// CHECK-NOT: arith.constant 13 : index
// CHECK: return
// EXACT-LABEL: func.func @predicted(
// EXACT: moe.fused_drelu {{.+}} predicted(
// EXACT: %{{[^,]+}}, %{{[^,]+}}, %[[EXACTN:[^,]+]], %{{[^ ]+}} = moe.fused_drelu %{{[^,]+}}, %{{[^,]+}}, %{{[^ ]+}} :
// EXACT: %[[COL13:.+]] = arith.constant 13 : index
// EXACT: memref.load %{{.+}}[%{{.+}}, %[[COL13]]]
// EXACT: %[[E64:.+]] = arith.index_cast %[[EXACTN]] : index to i64
// EXACT: arith.addi %{{.+}}, %[[E64]] : i64
func.func @predicted(%x: tensor<16xf32>, %l: tensor<32xf32>) -> tensor<32xf32> {
  %f = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.mlp.experts.0.predictor.fc1.weight", bf16, [4, 16], offset = 0>] : tensor<4x16xbf16>
  %h = moe.linear %x, %f : (tensor<16xf32>, tensor<4x16xbf16>) -> tensor<4xf32> loc("model.layers.0")
  %g = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.mlp.experts.0.w1.weight", bf16, [32, 16], offset = 128>] : tensor<32x16xbf16>
  %a, %idx, %n, %p = moe.fused_drelu %x, %g, %g predicted(%l : tensor<32xf32>, threshold = 0.5) : tensor<16xf32>, tensor<32x16xbf16> -> tensor<32xf32>, tensor<32xi32> loc("model.layers.0")
  return %a : tensor<32xf32>
}

// -----

// Attention reads keys and values up to the last query's position: (last + 1)
// positions of 2 kv heads x 8 f32, twice (K and V) = 128 bytes each, no
// more than the window; it counts in the layer its location names (layer
// 1), in the cache column (8).
// CHECK-LABEL: func.func @attention_window(
// CHECK-SAME: %[[POS:[^:]+]]: tensor<?xi32>
// CHECK: moe.attention
// CHECK-NEXT: %[[ROW:.+]] = arith.constant 1 : index
// CHECK: %[[T:.+]] = tensor.dim %[[POS]]
// CHECK: %[[LAST:.+]] = arith.subi %[[T]], %{{.+}} : index
// CHECK: %[[P:.+]] = tensor.extract %[[POS]][%[[LAST]]] : tensor<?xi32>
// CHECK: %[[P64:.+]] = arith.extsi %[[P]] : i32 to i64
// CHECK: %[[LEN:.+]] = arith.addi %[[P64]], %{{.+}} : i64
// CHECK: %[[WINDOW:.+]] = arith.constant 16 : i64
// CHECK: %[[SEEN:.+]] = arith.minsi %[[LEN]], %[[WINDOW]] : i64
// CHECK: %[[PER:.+]] = arith.constant 128 : i64
// CHECK: %[[BYTES:.+]] = arith.muli %[[SEEN]], %[[PER]] : i64
// CHECK: %[[COL:.+]] = arith.constant 8 : index
// CHECK: memref.load %{{.+}}[%[[ROW]], %[[COL]]] : memref<3x15xi64>
// CHECK: arith.addi %{{.+}}, %[[BYTES]] : i64
// Multiply-adds: each of the T queries against the rows 0 .. last (the
// kernel covers them all, masked or not), 2 x 4 heads x 8 per row.
// CHECK: %[[T2:.+]] = tensor.dim %{{.+}}, %{{.+}} : tensor<?x4x8xf32>
// CHECK: %[[TOK:.+]] = arith.index_cast %[[T2]] : index to i64
// CHECK: %[[ROWMACS:.+]] = arith.constant 64 : i64
// CHECK: %[[COVERED:.+]] = arith.muli %{{.+}}, %[[ROWMACS]] : i64
// CHECK: %[[ALLMACS:.+]] = arith.muli %[[TOK]], %[[COVERED]] : i64
// CHECK: arith.addi %{{.+}}, %[[ALLMACS]] : i64
func.func @attention_window(%x: tensor<?x8xf32>, %pos: tensor<?xi32>, %kv: tensor<2x64x2x8xf32>) -> tensor<?x4x8xf32> {
  %w = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.1.input_layernorm.weight", bf16, [8], offset = 0>] : tensor<8xbf16>
  %h = moe.rms_norm %x, %w eps = 1.000000e-05 : tensor<?x8xf32>, tensor<8xbf16> loc("model.layers.1")
  %c0 = arith.constant 0 : index
  %t = tensor.dim %x, %c0 : tensor<?x8xf32>
  %q = tensor.empty(%t) : tensor<?x4x8xf32>
  %k = tensor.empty(%t) : tensor<?x2x8xf32>
  %o, %kv1 = moe.attention %q, %k, %k cache(%kv) positions(%pos)
      heads = 4 kv_heads = 2 head_dim = 8 causal window = 16 : tensor<?x4x8xf32>, tensor<?x2x8xf32>, tensor<2x64x2x8xf32>, tensor<?xi32> loc("model.layers.1")
  return %o : tensor<?x4x8xf32>
}

// -----

// A routed SwiGLU block reads one expert's gate, up and down (512 bf16 =
// 1024 bytes each) per token and routed expert (top 2): 2048 bytes per
// token into each of columns 3, 4 and 5; it has no fused products, so the
// neuron columns stay untouched.
// CHECK-LABEL: func.func @routed_experts(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x16xf32>
// CHECK: moe.expert_ffn
// CHECK: %[[T:.+]] = tensor.dim %[[X]], %{{.+}} : tensor<?x16xf32>
// CHECK: %[[T64:.+]] = arith.index_cast %[[T]] : index to i64
// CHECK: %[[PER:.+]] = arith.constant 2048 : i64
// CHECK: %[[BYTES:.+]] = arith.muli %[[T64]], %[[PER]] : i64
// CHECK: %[[GATECOL:.+]] = arith.constant 3 : index
// CHECK: memref.load %{{.+}}[%{{.+}}, %[[GATECOL]]]
// CHECK: arith.addi %{{.+}}, %[[BYTES]] : i64
// CHECK: arith.constant 4 : index
// CHECK: arith.constant 5 : index
// CHECK-NOT: arith.constant 9 : index
// CHECK: return
func.func @routed_experts(%x: tensor<?x16xf32>, %w: tensor<?x2xf32>, %ids: tensor<?x2xi32>) -> tensor<?x16xf32> {
  %g = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.mlp.gate_up.weight", bf16, [4, 32, 16], offset = 0>] : tensor<4x32x16xbf16>
  %u = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.mlp.up.weight", bf16, [4, 32, 16], offset = 4096>] : tensor<4x32x16xbf16>
  %d = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.mlp.down.weight", bf16, [4, 16, 32], offset = 8192>] : tensor<4x16x32xbf16>
  %y = moe.expert_ffn %x routing(%w, %ids) experts(%g, %u, %d) swiglu
      : (tensor<?x16xf32>, tensor<?x2xf32>, tensor<?x2xi32>, tensor<4x32x16xbf16>, tensor<4x32x16xbf16>, tensor<4x16x32xbf16>) -> tensor<?x16xf32> loc("model.layers.0")
  return %y : tensor<?x16xf32>
}

// -----

// The router and the LM head count by their op: columns 1 and 6.
// CHECK-LABEL: func.func @router_and_head(
// CHECK: moe.router
// CHECK: %[[RCOL:.+]] = arith.constant 1 : index
// CHECK: memref.load %{{.+}}[%{{.+}}, %[[RCOL]]]
// CHECK: moe.lm_head
// CHECK: %[[HCOL:.+]] = arith.constant 6 : index
// CHECK: memref.load %{{.+}}[%{{.+}}, %[[HCOL]]]
func.func @router_and_head(%x: tensor<?x16xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>, tensor<?x64xf32>) {
  %r = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.block_sparse_moe.gate.weight", bf16, [4, 16], offset = 0>] : tensor<4x16xbf16>
  %w, %ids = moe.router %x gate(%r) experts = 4 top_k = 2 learned softmax renormalize : (tensor<?x16xf32>, tensor<4x16xbf16>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  %h = moe.weight [#moe.weight_ref<"model.safetensors", "lm_head.weight", bf16, [64, 16], offset = 128>] : tensor<64x16xbf16>
  %y = moe.lm_head %x, %h : tensor<?x16xf32>, tensor<64x16xbf16> -> tensor<?x64xf32>
  return %w, %ids, %y : tensor<?x2xf32>, tensor<?x2xi32>, tensor<?x64xf32>
}
