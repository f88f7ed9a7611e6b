// A predictor the importer cannot use is left out with a warning; the
// import never fails because predictor tensors are there.
//
// RUN: rm -rf %t && moec-synth -o %t --arch=TurboSparseMixtralForCausalLM --predictor-rank=8 --dtype=f32
// RUN: %python -c "import sys; sys.path.insert(0, sys.argv[1]); import corrupt; p = sys.argv[2] + '/model.safetensors'; h, b = corrupt.read(p); n = 'model.layers.1.block_sparse_moe.experts.2.predictor.fc2.weight'; h[n]['shape'] = [8, 128]; corrupt.write(p, h, b)" %S/Inputs %t
// RUN: moec-import %t -o %t.mlir 2>&1 | FileCheck %s --check-prefix=WARN
// RUN: FileCheck %s < %t.mlir
// A non-dReLU model's predictor tensors are unused, hence a warning too.
// RUN: rm -rf %t && moec-synth -o %t --arch=TurboSparseMixtralForCausalLM --predictor-rank=8
// RUN: %python -c "import json,sys; p=sys.argv[1]+'/config.json'; c=json.load(open(p)); c['architectures']=['MixtralForCausalLM']; c['model_type']='mixtral'; c['hidden_act']='silu'; json.dump(c, open(p,'w'))" %t
// RUN: moec-import %t -o %t.mlir 2>&1 | FileCheck %s --check-prefix=UNUSED

// WARN: warning: {{.*}}: ignoring the predictor of layer 1: tensor 'model.layers.1.block_sparse_moe.experts.2.predictor.fc2.weight' is not [128, 8] of a float dtype
// CHECK: moe.expert_ffn {{.+}} predictor({{.+}}) drelu
// CHECK-NOT: predictor(
// CHECK: moe.expert_ffn {{.+}} experts({{[^)]+}}) drelu
// UNUSED: warning: {{.*}}model.safetensors: unused tensor 'model.layers.0.block_sparse_moe.experts.0.predictor.fc1.weight'
