// Cerebras model zoo MoE options, as extra config.json fields: shared
// experts, hash routing, sigmoid and sinkhorn selection, null-expert bias.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: moec-synth -o %t/shared --num-shared-experts=2
// RUN: moec-import %t/shared | FileCheck %s --check-prefix=SHARED --enable-var-scope
// RUN: moec-synth -o %t/shared1 --num-shared-experts=1
// RUN: moec-import %t/shared1 | FileCheck %s --check-prefix=SHARED1
// RUN: moec-synth -o %t/hash --routing=hash --top-k=1 --null-expert-bias=1.1
// RUN: moec-import %t/hash | FileCheck %s --check-prefix=HASH --enable-var-scope
// RUN: moec-synth -o %t/sigmoid --nonlinearity=sigmoid
// RUN: moec-import %t/sigmoid | FileCheck %s --check-prefix=SIGMOID
// RUN: moec-synth -o %t/sinkhorn --nonlinearity=sinkhorn --top-k=1
// RUN: moec-import %t/sinkhorn | FileCheck %s --check-prefix=SINKHORN
// The Cerebras names num_experts / top_k work as well as HF's.
// RUN: %python -c "import json,sys; p=sys.argv[1]+'/config.json'; c=json.load(open(p)); c['num_experts']=c.pop('num_local_experts'); c['top_k']=c.pop('num_experts_per_tok'); json.dump(c, open(p,'w'))" %t/sigmoid
// RUN: moec-import %t/sigmoid | FileCheck %s --check-prefix=SIGMOID
// RUN: not moec-synth -o %t/bad --routing=hash --top-k=2 2>&1 | FileCheck %s --check-prefix=HASH-TOPK
// RUN: not moec-synth -o %t/bad --routing=random 2>&1 | FileCheck %s --check-prefix=ROUTING

// SHARED: num_shared_experts = 2 : i64
// SHARED-LABEL: func.func @forward(
// SHARED: %[[SG:.+]] = moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.block_sparse_moe.shared_experts.0.w1.weight", bf16, [128, 64], offset = {{[0-9]+}}>, #moe.weight_ref<"model.safetensors", "model.layers.0.block_sparse_moe.shared_experts.1.w1.weight", bf16, [128, 64], offset = {{[0-9]+}}>] : tensor<2x128x64xbf16>
// SHARED: %[[SU:.+]] = moe.weight {{.+}}shared_experts.0.w3.weight
// SHARED: %[[SD:.+]] = moe.weight {{.+}}shared_experts.0.w2.weight{{.+}} : tensor<2x64x128xbf16>
// SHARED: moe.expert_ffn {{.+}} shared(%[[SG]], %[[SU]], %[[SD]]) swiglu

// SHARED1: moe.weight [#moe.weight_ref<"model.safetensors", "model.layers.0.block_sparse_moe.shared_experts.0.w1.weight", bf16, [128, 64], offset = {{[0-9]+}}>] : tensor<1x128x64xbf16>
// SHARED1: moe.expert_ffn {{.+}} shared(

// HASH: null_expert_bias = 1.100000e+00 : f64
// HASH-SAME: routing_algorithm = "hash"
// HASH-LABEL: func.func @forward(
// HASH-SAME: %[[TOKENS:[^:]+]]: tensor<?xi32>
// HASH-NOT: block_sparse_moe.gate.weight
// HASH: moe.router %{{.+}} tokens(%[[TOKENS]]) experts = 4 top_k = 1 hash softmax renormalize null_expert_bias = 1.100000e+00 : (tensor<?x64xf32>, tensor<?xi32>) -> (tensor<?x1xf32>, tensor<?x1xi32>)

// SIGMOID-COUNT-2: moe.router %{{.+}} experts = 4 top_k = 2 learned sigmoid renormalize : (tensor<?x4xf32>)
// SINKHORN-COUNT-2: moe.router %{{.+}} experts = 4 top_k = 1 learned sinkhorn renormalize : (tensor<?x4xf32>)

// HASH-TOPK: error: moec-synth options: hash routing needs top_k 1, got 2
// ROUTING: error: moec-synth options: unknown routing_algorithm 'random' (expected learned or hash)
