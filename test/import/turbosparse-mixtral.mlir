// TurboSparse-Mixtral: dReLU experts with their per-expert predictors, from
// a checkpoint sharded in three files with an index.
//
// RUN: rm -rf %t && moec-synth -o %t --arch=TurboSparseMixtralForCausalLM --shards=3 --predictor-rank=8 --dtype=f16
// RUN: moec-import %t -o %t.mlir
// RUN: FileCheck %s --enable-var-scope < %t.mlir
// RUN: %python %S/Inputs/check_offsets.py %t %t.mlir
// The predictors can be dropped again.
// RUN: moec-opt --moe-strip-predictors %t.mlir | FileCheck %s --check-prefix=STRIPPED

// CHECK: architectures = ["TurboSparseMixtralForCausalLM"]
// CHECK-SAME: model_type = "turbosparsemixtral"
// CHECK-LABEL: func.func @forward(
// CHECK: moe.weight [#moe.weight_ref<"model-00001-of-00003.safetensors", "model.embed_tokens.weight", f16, [256, 64]
// CHECK: moe.router {{.+}} experts = 4 top_k = 2 learned softmax renormalize
// CHECK: %[[FC1:.+]] = moe.weight [#moe.weight_ref<"model-0000{{[1-3]}}-of-00003.safetensors", "model.layers.0.block_sparse_moe.experts.0.predictor.fc1.weight", f16, [8, 64]{{.+}}"model.layers.0.block_sparse_moe.experts.3.predictor.fc1.weight", f16, [8, 64], offset = {{[0-9]+}}>] : tensor<4x8x64xf16>
// CHECK: %[[FC2:.+]] = moe.weight [#moe.weight_ref<"model-0000{{[1-3]}}-of-00003.safetensors", "model.layers.0.block_sparse_moe.experts.0.predictor.fc2.weight", f16, [128, 8]{{.+}} : tensor<4x128x8xf16>
// CHECK: moe.expert_ffn %{{.+}} routing(%{{.+}}, %{{.+}}) experts(%{{.+}}, %{{.+}}, %{{.+}}) predictor(%[[FC1]], %[[FC2]]) drelu
// CHECK: "model-00003-of-00003.safetensors", "lm_head.weight"
// CHECK: moe.lm_head

// STRIPPED-NOT: predictor
// STRIPPED: moe.expert_ffn {{.+}} drelu
// STRIPPED-NOT: predictor
