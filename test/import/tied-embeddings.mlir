// With tie_word_embeddings the LM head reads the embedding table, and the
// checkpoint has no lm_head.weight.
//
// RUN: rm -rf %t && moec-synth -o %t --tie-word-embeddings
// RUN: moec-import %t | FileCheck %s --enable-var-scope

// CHECK: tie_word_embeddings = true
// CHECK-LABEL: func.func @forward(
// CHECK: %[[EMBED:.+]] = moe.weight [#moe.weight_ref<"model.safetensors", "model.embed_tokens.weight", bf16, [256, 64]
// CHECK-NOT: lm_head.weight
// CHECK: moe.lm_head %{{.+}}, %[[EMBED]] : tensor<?x64xf32>, tensor<256x64xbf16> -> tensor<?x256xf32>
