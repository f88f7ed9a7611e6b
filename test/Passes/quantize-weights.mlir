// RUN: moec-opt %s --split-input-file --verify-diagnostics --moe-quantize-weights=weights=q4_0 | FileCheck %s --enable-var-scope
// RUN: moec-opt %s --split-input-file --verify-diagnostics --moe-quantize-weights="weights=q8_0 keep=lm_head,experts" | FileCheck %s --check-prefix=KEEP --enable-var-scope
// RUN: moec-opt %s --split-input-file --moe-quantize-weights=weights=f16 | FileCheck %s --check-prefix=F16 --enable-var-scope
// RUN: not moec-opt %s --split-input-file --moe-quantize-weights=weights=q5_0 2>&1 | FileCheck %s --check-prefix=FORMAT
// RUN: moec-opt %s --split-input-file --verify-diagnostics --moe-quantize-weights="weights=q4_0 interleave=true" | FileCheck %s --check-prefix=INTERLEAVE --enable-var-scope

// Products' weights take the format and an f32 result (slices of them
// follow); the embedding table, the router's gate and the norms stay as
// stored. With keep, the kept kinds stay too.
// CHECK-LABEL: func.func @kinds
// CHECK: %[[EMB:.+]] = moe.weight {{.+}}"embed"{{.+}} : tensor<16x64xbf16>
// CHECK: %[[Q:.+]] = moe.weight {{.+}}"q"{{.+}} format(<q4_0>) : tensor<2x64x64xf32>
// CHECK: tensor.extract_slice %[[Q]]{{.+}} : tensor<2x64x64xf32> to tensor<64x64xf32>
// CHECK: %[[HEAD:.+]] = moe.weight {{.+}}"head"{{.+}} format(<q4_0>) : tensor<16x64xf32>
// CHECK: %[[NORM:.+]] = moe.weight {{.+}}"norm"{{.+}} : tensor<64xbf16>
// CHECK: %[[GATE:.+]] = moe.weight {{.+}}"router"{{.+}} : tensor<4x64xbf16>
// CHECK: moe.weight {{.+}}"w1"{{.+}} format(<q4_0>) : tensor<4x32x64xf32>
// CHECK: moe.weight {{.+}}"w3"{{.+}} format(<q4_0>) : tensor<4x32x64xf32>
// CHECK: moe.weight {{.+}}"w2"{{.+}} format(<q4_0>) : tensor<4x64x32xf32>
// A float storage is the element type of the same weights (no format);
// rows of any length convert.
// F16-LABEL: func.func @kinds
// F16: moe.weight {{.+}}"embed"{{.+}} : tensor<16x64xbf16>
// F16: %[[Q:.+]] = moe.weight {{.+}}"q"{{.+}}, offset = 0>] : tensor<2x64x64xf16>
// F16: tensor.extract_slice %[[Q]]{{.+}} : tensor<2x64x64xf16> to tensor<64x64xf16>
// F16: moe.weight {{.+}}"head"{{.+}}, offset = 0>] : tensor<16x64xf16>
// F16: moe.weight {{.+}}"norm"{{.+}} : tensor<64xbf16>
// F16: moe.weight {{.+}}"router"{{.+}} : tensor<4x64xbf16>
// F16: moe.weight {{.+}}"w2"{{.+}}, offset = 0>] : tensor<4x64x32xf16>
// F16-LABEL: func.func @odd
// F16: moe.weight {{.+}} : tensor<64x72xf16>
// KEEP-LABEL: func.func @kinds
// KEEP: moe.weight {{.+}}"q"{{.+}} format(<q8_0>) : tensor<2x64x64xf32>
// KEEP: moe.weight {{.+}}"head"{{.+}} : tensor<16x64xbf16>
// KEEP: moe.weight {{.+}}"w1"{{.+}} : tensor<4x32x64xbf16>
func.func @kinds(%ids: tensor<?xi32>, %x: tensor<?x64xf32>, %i: index) -> (tensor<?x64xf32>, tensor<?x16xf32>, tensor<?x64xf32>, tensor<?x64xf32>) {
  %emb = moe.weight [#moe.weight_ref<"m", "embed", bf16, [16, 64], offset = 0>] : tensor<16x64xbf16>
  %h = moe.embedding %emb[%ids] : tensor<16x64xbf16>, tensor<?xi32> -> tensor<?x64xf32>
  %q = moe.weight [#moe.weight_ref<"m", "q", bf16, [64, 64], offset = 0>, #moe.weight_ref<"m", "q1", bf16, [64, 64], offset = 0>] : tensor<2x64x64xbf16>
  %q0 = tensor.extract_slice %q[%i, 0, 0] [1, 64, 64] [1, 1, 1] : tensor<2x64x64xbf16> to tensor<64x64xbf16>
  %a = moe.linear %x, %q0 : (tensor<?x64xf32>, tensor<64x64xbf16>) -> tensor<?x64xf32>
  %head = moe.weight [#moe.weight_ref<"m", "head", bf16, [16, 64], offset = 0>] : tensor<16x64xbf16>
  %l = moe.lm_head %a, %head : tensor<?x64xf32>, tensor<16x64xbf16> -> tensor<?x16xf32>
  %norm = moe.weight [#moe.weight_ref<"m", "norm", bf16, [64], offset = 0>] : tensor<64xbf16>
  %n = moe.rms_norm %x, %norm eps = 1.0e-05 : tensor<?x64xf32>, tensor<64xbf16>
  %gate = moe.weight [#moe.weight_ref<"m", "router", bf16, [4, 64], offset = 0>] : tensor<4x64xbf16>
  %w1 = moe.weight [#moe.weight_ref<"m", "w1", bf16, [32, 64], offset = 0>, #moe.weight_ref<"m", "w1", bf16, [32, 64], offset = 0>, #moe.weight_ref<"m", "w1", bf16, [32, 64], offset = 0>, #moe.weight_ref<"m", "w1", bf16, [32, 64], offset = 0>] : tensor<4x32x64xbf16>
  %w3 = moe.weight [#moe.weight_ref<"m", "w3", bf16, [32, 64], offset = 0>, #moe.weight_ref<"m", "w3", bf16, [32, 64], offset = 0>, #moe.weight_ref<"m", "w3", bf16, [32, 64], offset = 0>, #moe.weight_ref<"m", "w3", bf16, [32, 64], offset = 0>] : tensor<4x32x64xbf16>
  %w2 = moe.weight [#moe.weight_ref<"m", "w2", bf16, [64, 32], offset = 0>, #moe.weight_ref<"m", "w2", bf16, [64, 32], offset = 0>, #moe.weight_ref<"m", "w2", bf16, [64, 32], offset = 0>, #moe.weight_ref<"m", "w2", bf16, [64, 32], offset = 0>] : tensor<4x64x32xbf16>
  %rw, %eids = moe.router %n gate(%gate) experts = 4 top_k = 2 learned softmax renormalize
      : (tensor<?x64xf32>, tensor<4x64xbf16>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  %o = moe.expert_ffn %n routing(%rw, %eids) experts(%w1, %w3, %w2) swiglu : (tensor<?x64xf32>, tensor<?x2xf32>, tensor<?x2xi32>, tensor<4x32x64xbf16>, tensor<4x32x64xbf16>, tensor<4x64x32xbf16>) -> tensor<?x64xf32>
  return %h, %l, %n, %o : tensor<?x64xf32>, tensor<?x16xf32>, tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

// A table that is also the LM head (tied) is read by the embedding: kept.
// CHECK-LABEL: func.func @tied
// CHECK: moe.weight {{.+}} : tensor<16x64xbf16>
// CHECK-NOT: format
func.func @tied(%ids: tensor<?xi32>, %x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x16xf32>) {
  %emb = moe.weight [#moe.weight_ref<"m", "embed", bf16, [16, 64], offset = 0>] : tensor<16x64xbf16>
  %h = moe.embedding %emb[%ids] : tensor<16x64xbf16>, tensor<?xi32> -> tensor<?x64xf32>
  %l = moe.lm_head %x, %emb : tensor<?x64xf32>, tensor<16x64xbf16> -> tensor<?x16xf32>
  return %h, %l : tensor<?x64xf32>, tensor<?x16xf32>
}

// -----

// Rows that are not whole blocks of 32: an error naming the weight.
func.func @odd(%x: tensor<?x72xf32>) -> tensor<?x64xf32> {
  // expected-error-re @+1 {{cannot store weight 'model.layers.0.self_attn.q_proj.weight' as q{{[48]}}_0: its rows of 72 values are not whole blocks of 32 (keep its kind with --keep-precision)}}
  %w = moe.weight [#moe.weight_ref<"m", "model.layers.0.self_attn.q_proj.weight", bf16, [64, 72], offset = 0>] : tensor<64x72xbf16>
  %a = moe.linear %x, %w : (tensor<?x72xf32>, tensor<64x72xbf16>) -> tensor<?x64xf32>
  return %a : tensor<?x64xf32>
}

// -----

// With interleave, block weights read along rows of whole groups of 16
// blocks (512 values) are interleaved; shorter rows, and the transposed
// (neuron-major) down rows, keep the grouped layout.
// INTERLEAVE-LABEL: func.func @interleave
// CHECK-LABEL: func.func @interleave
// CHECK: moe.weight {{.+}}"q"{{.+}} format(<q4_0>) : tensor<64x512xf32>
// INTERLEAVE: moe.weight {{.+}}"q"{{.+}} format(<q4_0, interleaved>) : tensor<64x512xf32>
// INTERLEAVE: moe.weight {{.+}}"short"{{.+}} format(<q4_0>) : tensor<64x256xf32>
// INTERLEAVE: moe.weight {{.+}}"down"{{.+}} transposed format(<q4_0>) : tensor<1024x512xf32>
// INTERLEAVE: moe.weight {{.+}}"up"{{.+}} format(<q4_0, interleaved>) : tensor<1024x512xf32>
func.func @interleave(%x: tensor<?x512xf32>, %y: tensor<?x256xf32>, %a: tensor<1024xf32>, %i: tensor<1024xi32>, %n: index) -> (tensor<?x64xf32>, tensor<?x64xf32>, tensor<512xf32>, tensor<?x1024xf32>) {
  %q = moe.weight [#moe.weight_ref<"m", "q", bf16, [64, 512], offset = 0>] : tensor<64x512xbf16>
  %0 = moe.linear %x, %q : (tensor<?x512xf32>, tensor<64x512xbf16>) -> tensor<?x64xf32>
  %s = moe.weight [#moe.weight_ref<"m", "short", bf16, [64, 256], offset = 0>] : tensor<64x256xbf16>
  %1 = moe.linear %y, %s : (tensor<?x256xf32>, tensor<64x256xbf16>) -> tensor<?x64xf32>
  %d = moe.weight [#moe.weight_ref<"m", "down", bf16, [512, 1024], offset = 0>] transposed : tensor<1024x512xbf16>
  %2 = moe.sparse_matvec %d, %a active(%i, %n) neuron_major : tensor<1024x512xbf16>, tensor<1024xf32>, tensor<1024xi32> -> tensor<512xf32>
  %u = moe.weight [#moe.weight_ref<"m", "up", bf16, [1024, 512], offset = 0>] : tensor<1024x512xbf16>
  %3 = moe.linear %x, %u : (tensor<?x512xf32>, tensor<1024x512xbf16>) -> tensor<?x1024xf32>
  return %0, %1, %2, %3 : tensor<?x64xf32>, tensor<?x64xf32>, tensor<512xf32>, tensor<?x1024xf32>
}

// FORMAT: unknown storage 'q5_0' (q8_0, q4_0, bf16, f16 or f32)
