// Sequence and token classification heads.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: moec-synth -o %t/seq --arch=MixtralForSequenceClassification --num-labels=3 --pad-token-id=0
// RUN: moec-import %t/seq | FileCheck %s --check-prefix=SEQ --enable-var-scope
// RUN: moec-synth -o %t/seq-nopad --arch=TurboSparseMixtralForSequenceClassification --num-labels=2
// RUN: moec-import %t/seq-nopad | FileCheck %s --check-prefix=SEQ-NOPAD
// RUN: moec-synth -o %t/tok --arch=MistralForTokenClassification --num-labels=5
// RUN: moec-import %t/tok | FileCheck %s --check-prefix=TOK --enable-var-scope

// SEQ: id2label = {"0" = "LABEL_0", "1" = "LABEL_1", "2" = "LABEL_2"}
// SEQ-SAME: pad_token_id = 0 : i64
// SEQ-LABEL: func.func @forward(
// SEQ-SAME: %[[TOKENS:[^:]+]]: tensor<?xi32>
// SEQ-SAME: -> (tensor<3xf32>,
// SEQ-NOT: lm_head
// SEQ: %[[SCORE:.+]] = moe.weight [#moe.weight_ref<"model.safetensors", "score.weight", bf16, [3, 64]
// SEQ: moe.score_head %{{.+}}, %[[SCORE]] tokens(%[[TOKENS]]) sequence pad_token_id = 0 : (tensor<?x64xf32>, tensor<3x64xbf16>, tensor<?xi32>) -> tensor<3xf32>

// SEQ-NOPAD: moe.expert_ffn {{.+}} drelu
// SEQ-NOPAD: moe.score_head %{{.+}}, %{{.+}} sequence : (tensor<?x64xf32>, tensor<2x64xbf16>) -> tensor<2xf32>

// TOK-LABEL: func.func @forward(
// TOK-SAME: -> (tensor<?x5xf32>,
// TOK: %[[SCORE:.+]] = moe.weight [#moe.weight_ref<"model.safetensors", "score.weight", bf16, [5, 64]
// TOK: %[[BIAS:.+]] = moe.weight [#moe.weight_ref<"model.safetensors", "score.bias", bf16, [5]
// TOK: moe.score_head %{{.+}}, %[[SCORE]] bias(%[[BIAS]]) token : (tensor<?x64xf32>, tensor<5x64xbf16>, tensor<5xbf16>) -> tensor<?x5xf32>
