#!/usr/bin/env python3
"""A PyTorch forward of the Cerebras model zoo's MoE models, for golden logits.

transformers has no class for the zoo's MoE options, nor for its GPT-2-style
111M MoE models, so make_golden.py scores those checkpoints with this file. It
is written from the published math (../../../shared/REFERENCE.md, "Cerebras
model zoo MoE models"), not from the zoo's code; it follows these files of
Cerebras/modelzoo (release 2.10):

  src/cerebras/modelzoo/layers/SparseMoEBlock.py   routers (softmax, sigmoid,
      sinkhorn, hash), expert_weighting_nonlinearity, the null-expert bias,
      shared experts added with weight 1
  src/cerebras/modelzoo/layers/FeedForwardNetwork.py   MoEConfig's defaults
  src/cerebras/modelzoo/layers/AlibiPositionEmbeddingLayer.py   ALiBi slopes
  src/cerebras/modelzoo/models/nlp/gpt2   the pre-LN block, LayerNorm,
      embeddings_scale, output_logits_scale, scale_qk_dot_by_d

Two checkpoint kinds are read, as moec reads them (docs/import.md):
MixtralForCausalLM with the zoo's router keys (RMSNorm, RoPE, Mixtral's
tensor names), and CerebrasMoeForCausalLM (the zoo's YAML keys, LayerNorm or
RMSNorm, ALiBi or RoPE, biases).

Where the zoo leaves a case undefined moec's definition is used, and so here:
sinkhorn over a call of one token (the zoo's formula would give every expert
probability 1) is the softmax; uniform routing (newer than 2.10) picks experts
(position + k) mod E with weight 1 / top_k.

All arithmetic is float32, as the zoo computes routers (router_fp32) and
attention softmaxes.
"""

import json
import math
import os

import torch
from safetensors.torch import load_file

F = torch.nn.functional


def load_tensors(directory):
    tensors = {}
    for name in sorted(os.listdir(directory)):
        if name.endswith(".safetensors"):
            tensors.update({k: v.float() for k, v in load_file(os.path.join(directory, name)).items()})
    return tensors


def settings(raw):
    """The model's hyperparameters from config.json, under one set of names."""
    c = dict(raw)
    c.update(c.pop("moe", {}))
    zoo = c["architectures"][0] == "CerebrasMoeForCausalLM"
    s = {
        "vocab": c["vocab_size"],
        "hidden": c["hidden_size"],
        "layers": c["num_hidden_layers"],
        "experts": c.get("num_experts", c.get("num_local_experts")),
        "top_k": c.get("top_k", c.get("num_experts_per_tok")),
        "shared": c.get("num_shared_experts") or 0,
        "routing": c.get("routing_algorithm", "learned"),
        "selection": c.get("router_selection_nonlinearity", "softmax"),
        "weighting": c.get("expert_weighting_nonlinearity", "softmax"),
        "normalize": c.get("expert_weighting_normalization", c.get("norm_topk_prob", True)),
        "null_bias": c.get("null_expert_bias") or 0.0,
        "sinkhorn_iters": c.get("sinkhorn_n_iters", 1),
    }
    if zoo:
        heads = c["num_heads"]
        s.update({
            "heads": heads,
            "kv_heads": heads,
            "head_dim": c["hidden_size"] // heads,
            "norm": c.get("norm_type", "layernorm"),
            "eps": c.get("layer_norm_epsilon", 1e-5),
            "alibi": c.get("position_embedding_type", "alibi") == "alibi",
            "rope_theta": c.get("rope_theta", 10000.0),
            "embeddings_scale": c.get("embeddings_scale", 1.0),
            "logits_scale": c.get("output_logits_scale") or 1.0,
            "qk_scale_by_d": c.get("scale_qk_dot_by_d", False),
            "tied": c.get("share_embedding_weights", True),
        })
    else:
        s.update({
            "heads": c["num_attention_heads"],
            "kv_heads": c["num_key_value_heads"],
            "head_dim": c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"],
            "norm": "rmsnorm",
            "eps": c["rms_norm_eps"],
            "alibi": False,
            "rope_theta": c["rope_theta"],
            "embeddings_scale": 1.0,
            "logits_scale": 1.0,
            "qk_scale_by_d": False,
            "tied": c.get("tie_word_embeddings", False),
        })
    return s


def alibi_slopes(n):
    """The zoo's slopes: for a power of 2, start^(h+1) with start = 2^(-8/n);
    otherwise those of the power of 2 below n, then every other slope of
    twice that count."""
    def power_of_2(m):
        start = 2.0 ** (-8.0 / m)
        return [start ** (h + 1) for h in range(m)]
    if math.log2(n).is_integer():
        return power_of_2(n)
    below = 2 ** math.floor(math.log2(n))
    return power_of_2(below) + power_of_2(2 * below)[0::2][: n - below]


def norm(s, t, prefix, x):
    w = t[prefix + ".weight"]
    if s["norm"] == "layernorm":
        return F.layer_norm(x, (x.shape[-1],), w, t[prefix + ".bias"], s["eps"])
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + s["eps"]) * w


def linear(t, prefix, x):
    return F.linear(x, t[prefix + ".weight"], t.get(prefix + ".bias"))


def rope(x, positions, theta):
    d = x.shape[-1]
    inv = 1.0 / theta ** (torch.arange(0, d, 2, dtype=torch.float32) / d)
    angles = positions[:, None].float() * inv[None, :]
    cos = torch.cat([angles.cos()] * 2, -1)[:, None, :]
    sin = torch.cat([angles.sin()] * 2, -1)[:, None, :]
    rotated = torch.cat([-x[..., d // 2:], x[..., : d // 2]], -1)
    return x * cos + rotated * sin


def attention(s, t, prefix, x):
    T, H, KV, D = x.shape[0], s["heads"], s["kv_heads"], s["head_dim"]
    q = linear(t, prefix + ".q_proj", x).view(T, H, D)
    k = linear(t, prefix + ".k_proj", x).view(T, KV, D)
    v = linear(t, prefix + ".v_proj", x).view(T, KV, D)
    positions = torch.arange(T)
    if not s["alibi"]:
        q, k = rope(q, positions, s["rope_theta"]), rope(k, positions, s["rope_theta"])
    k = k.repeat_interleave(H // KV, dim=1)
    v = v.repeat_interleave(H // KV, dim=1)
    scale = 1.0 / D if s["qk_scale_by_d"] else 1.0 / math.sqrt(D)
    scores = torch.einsum("ihd,jhd->hij", q, k) * scale
    distance = (positions[:, None] - positions[None, :]).float()
    if s["alibi"]:
        slopes = torch.tensor(alibi_slopes(H), dtype=torch.float32)
        scores = scores - slopes[:, None, None] * distance[None]
    scores = scores.masked_fill(distance[None] < 0, float("-inf"))
    out = torch.einsum("hij,jhd->ihd", scores.softmax(-1), v).reshape(T, H * D)
    return linear(t, prefix + ".o_proj", out)


def probabilities(logits, f, iterations):
    if f == "softmax":
        return logits.softmax(-1)
    if f == "sigmoid":
        return torch.sigmoid(logits)
    if f != "sinkhorn":
        raise ValueError(f)
    r = logits
    for _ in range(iterations):
        r = r - torch.logsumexp(r, dim=-1, keepdim=True)
        # Over the tokens of the call; with one token moec skips this step.
        if r.shape[0] > 1:
            r = r - torch.logsumexp(r, dim=0, keepdim=True)
    return r.exp()


def route(s, t, prefix, x, ids):
    """Expert ids [T, k] and weights [T, k]."""
    T, E, K = x.shape[0], s["experts"], s["top_k"]
    if s["routing"] == "hash":
        chosen = (ids % E)[:, None]
        weights = torch.ones(T, 1)
    elif s["routing"] == "uniform":
        chosen = (torch.arange(T)[:, None] + torch.arange(K)[None, :]) % E
        weights = torch.full((T, K), 1.0 / K)
    else:
        logits = F.linear(x, t[prefix + ".gate.weight"])
        select = probabilities(logits, s["selection"], s["sinkhorn_iters"])
        # The lower expert id first on ties.
        chosen = torch.sort(select, dim=-1, descending=True, stable=True).indices[:, :K]
        weigh = select
        if s["weighting"] != s["selection"]:
            weigh = probabilities(logits, s["weighting"], s["sinkhorn_iters"])
        weights = torch.gather(weigh, -1, chosen)
    if s["normalize"]:
        weights = weights / (weights.sum(-1, keepdim=True) + max(s["null_bias"], 0.0))
    return chosen, weights


def expert(t, prefix, x):
    """SwiGLU with biases: w2(silu(w1 x + b1) * (w3 x + b3)) + b2."""
    return linear(t, prefix + ".w2", F.silu(linear(t, prefix + ".w1", x)) * linear(t, prefix + ".w3", x))


def moe(s, t, prefix, x, ids):
    chosen, weights = route(s, t, prefix, x, ids)
    out = torch.zeros_like(x)
    for i in range(x.shape[0]):
        for k in range(chosen.shape[1]):
            e = int(chosen[i, k])
            out[i] += weights[i, k] * expert(t, f"{prefix}.experts.{e}", x[i])
    for j in range(s["shared"]):
        out += expert(t, f"{prefix}.shared_experts.{j}", x)
    return out


def forward(directory, ids):
    """The logits [T, vocab] of token ids [T] (a LongTensor)."""
    with open(os.path.join(directory, "config.json")) as f:
        s = settings(json.load(f))
    t = load_tensors(directory)
    h = t["model.embed_tokens.weight"][ids] * s["embeddings_scale"]
    for layer in range(s["layers"]):
        p = f"model.layers.{layer}"
        h = h + attention(s, t, p + ".self_attn", norm(s, t, p + ".input_layernorm", h))
        h = h + moe(s, t, p + ".block_sparse_moe", norm(s, t, p + ".post_attention_layernorm", h), ids)
    h = norm(s, t, "model.norm", h)
    head = t["model.embed_tokens.weight"] if s["tied"] else t["lm_head.weight"]
    return F.linear(h, head) * s["logits_scale"]
