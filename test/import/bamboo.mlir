// TurboSparse-Mistral (BambooForCausalLM): a dense dReLU MLP with the
// per-layer predictor (which reads the residual stream before the MLP
// norm), and the published sliding window.
//
// RUN: rm -rf %t && moec-synth -o %t --arch=BambooForCausalLM --predictor-rank=8 --sliding-window=4096 --vocab-size=320
// RUN: moec-import %t -o %t.mlir
// RUN: FileCheck %s --enable-var-scope < %t.mlir
// RUN: %python %S/Inputs/check_offsets.py %t %t.mlir
// A config naming only model_type "bamboo" is the same model.
// RUN: %python -c "import json,sys; p=sys.argv[1]+'/config.json'; c=json.load(open(p)); del c['architectures']; json.dump(c, open(p,'w'))" %t
// RUN: moec-import %t | FileCheck %s --enable-var-scope

// CHECK: architectures = ["BambooForCausalLM"]
// CHECK-SAME: model_type = "bamboo"
// CHECK-SAME: sliding_window = 4096 : i64
// CHECK-SAME: vocab_size = 320 : i64
// CHECK-LABEL: func.func @forward(
// CHECK: moe.attention {{.+}} window = 4096 :
// CHECK-NOT: moe.router
// The predictor reads the residual stream before the MLP norm.
// CHECK: %[[RESIDUAL:.+]] = arith.addf
// CHECK: moe.rms_norm %[[RESIDUAL]]
// CHECK: %[[FC1:.+]] = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.mlp.predictor.fc1.weight", bf16, [8, 64], offset = {{[0-9]+}}>] : tensor<1x8x64xbf16>
// CHECK: %[[FC2:.+]] = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.mlp.predictor.fc2.weight", bf16, [128, 8], offset = {{[0-9]+}}>] : tensor<1x128x8xbf16>
// CHECK: moe.expert_ffn %{{.+}} experts(%{{.+}}, %{{.+}}, %{{.+}}) predictor(%[[FC1]], %[[FC2]]) predictor_input(%[[RESIDUAL]]) drelu : (tensor<?x64xf32>, tensor<1x128x64xbf16>, tensor<1x128x64xbf16>, tensor<1x64x128xbf16>, tensor<1x8x64xbf16>, tensor<1x128x8xbf16>, tensor<?x64xf32>) -> tensor<?x64xf32>
