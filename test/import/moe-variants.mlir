// Cerebras model zoo MoE options, as extra config.json fields: shared
// experts, hash and uniform routing, sigmoid and sinkhorn selection (with
// the zoo's default softmax weighting), null-expert bias; and the zoo's
// GPT-2-style block (CerebrasMoeForCausalLM).
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
// RUN: moec-synth -o %t/uniform --routing=uniform --weighting=sigmoid --sinkhorn-iterations=3
// RUN: moec-import %t/uniform | FileCheck %s --check-prefix=UNIFORM --enable-var-scope
// RUN: moec-synth -o %t/zoo --arch=CerebrasMoeForCausalLM --num-heads=12 --hidden-size=96 --top-k=1 --null-expert-bias=1.1 --embeddings-scale=9.1706 --output-logits-scale=0.3651 --scale-qk-by-head-dim --attention-bias --mlp-bias --num-shared-experts=1
// RUN: moec-import %t/zoo | FileCheck %s --check-prefix=ZOO --enable-var-scope
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

// SIGMOID-COUNT-2: moe.router %{{.+}} experts = 4 top_k = 2 learned sigmoid weighting = softmax renormalize : (tensor<?x4xf32>)
// SINKHORN-COUNT-2: moe.router %{{.+}} experts = 4 top_k = 1 learned sinkhorn weighting = softmax iterations = 1 renormalize : (tensor<?x4xf32>)

// Uniform routing reads the positions, no gate and no scores (the
// weighting and iterations are moot).
// UNIFORM-LABEL: func.func @forward(
// UNIFORM-SAME: %[[POS:[^:]+]]: tensor<?xi32> {moe.name = "positions"}
// UNIFORM-NOT: block_sparse_moe.gate.weight
// UNIFORM: moe.router %{{.+}} positions(%[[POS]]) experts = 4 top_k = 2 uniform softmax renormalize :

// The zoo's block: embeddings scaled, LayerNorm with its bias, biased
// q/k/v/o, no RoPE but ALiBi's 12 slopes and a 1/head_dim scale, biased
// experts (routed [4, n], shared [1, n]), the logits scaled, the head tied.
// ZOO: position_embedding_type = "alibi"
// ZOO-LABEL: func.func @forward(
// ZOO: %[[E:.+]] = moe.embedding
// ZOO: %[[S:.+]] = tensor.splat %{{.+}}[%{{.+}}] : tensor<?x96xf32>
// ZOO: arith.mulf %[[E]], %[[S]]
// ZOO: moe.layer_norm %{{.+}}, %{{.+}}, %{{.+}} eps = 1.000000e-05
// ZOO: moe.linear %{{.+}}, %{{.+}} bias(%{{.+}})
// ZOO-NOT: moe.rope
// ZOO: moe.attention {{.+}} scale = 1.250000e-01 alibi [5.000000e-01, 2.500000e-01, 1.250000e-01, 6.250000e-02, 3.125000e-02, 1.562500e-02, 7.812500e-03, 3.906250e-03, 7.071068e-01, 3.535534e-01, 1.767767e-01, 8.838835e-02] :
// ZOO: moe.weight {{.+}}experts.0.w1.bias{{.+}} : tensor<4x128xbf16>
// ZOO: moe.expert_ffn {{.+}} shared({{.+}}) biases({{.+}}) shared_biases({{.+}}) swiglu : {{.+}}tensor<4x128xbf16>, tensor<4x128xbf16>, tensor<4x96xbf16>, tensor<1x128xbf16>, tensor<1x128xbf16>, tensor<1x96xbf16>
// ZOO: moe.layer_norm
// ZOO: %[[L:.+]] = moe.lm_head %{{.+}}, %{{.+}} : tensor<?x96xf32>, tensor<256x96xbf16>
// ZOO: arith.mulf %[[L]]

// HASH-TOPK: error: moec-synth options: hash routing needs top_k 1, got 2
// ROUTING: error: moec-synth options: unknown routing_algorithm 'random' (expected learned, hash or uniform)
