#!/usr/bin/env python3
"""Fraction of active dReLU neurons of a checkpoint, per layer and expert,
from a float64 forward pass written with numpy from the published math
(Mixtral's and Mistral's decoder as transformers computes it, dReLU experts
relu(gate x) * relu(up x)), and how well the checkpoint's predictors
predict them.

Over typical tokens (random ids of the vocabulary, one sequence), it counts
for every layer and every routed expert the neurons whose gate product is
positive (the up rows a fused kernel reads), the active ones (gate and up
positive: the down rows read) and, where the checkpoint has predictors
(fc2(relu(fc1 x)), TurboSparse's), the predicted ones (logit >= the
threshold), with recall (active ones predicted) and precision (predicted
ones active). A dense MLP's predictor reads the residual stream before the
MLP norm, a routed expert's the expert's input.

    active_fraction.py CHECKPOINT_DIR [--tokens N] [--seed S]
        [--expect F --tolerance T] [--min-recall R]

With --expect, fails unless every layer's and every expert's active
fraction is within T of F; with --min-recall, unless every layer's recall
is at least R.
"""

import argparse
import json
import os
import struct
import sys

import numpy as np


def read_tensors(directory):
    """Every tensor of the checkpoint, as float64 arrays by name."""
    index = os.path.join(directory, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    tensors = {}
    for name in files:
        with open(os.path.join(directory, name), "rb") as f:
            data = f.read()
        length = struct.unpack("<Q", data[:8])[0]
        header = json.loads(data[8:8 + length])
        base = 8 + length
        for key, info in header.items():
            if key == "__metadata__":
                continue
            begin, end = info["data_offsets"]
            raw = data[base + begin:base + end]
            if info["dtype"] == "BF16":
                bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
                values = bits.view(np.float32)
            elif info["dtype"] == "F16":
                values = np.frombuffer(raw, dtype="<f2")
            elif info["dtype"] == "F32":
                values = np.frombuffer(raw, dtype="<f4")
            else:
                sys.exit(f"{name}: tensor {key} has unsupported dtype {info['dtype']}")
            tensors[key] = values.astype(np.float64).reshape(info["shape"])
    return tensors


def rms_norm(x, weight, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * weight


def rope(x, theta):
    """x [T, heads, d] at positions 0..T-1, rotate-half."""
    t, _, d = x.shape
    inv = 1.0 / theta ** (np.arange(0, d, 2, dtype=np.float64) / d)
    freqs = np.outer(np.arange(t, dtype=np.float64), inv)
    angles = np.concatenate([freqs, freqs], axis=-1)[:, None, :]
    rotated = np.concatenate([-x[..., d // 2:], x[..., :d // 2]], axis=-1)
    return x * np.cos(angles) + rotated * np.sin(angles)


def attention(x, w, prefix, config):
    heads = config["num_attention_heads"]
    kv = config.get("num_key_value_heads", heads)
    d = config.get("head_dim") or config["hidden_size"] // heads
    t = x.shape[0]
    q = (x @ w[prefix + "q_proj.weight"].T).reshape(t, heads, d)
    k = (x @ w[prefix + "k_proj.weight"].T).reshape(t, kv, d)
    v = (x @ w[prefix + "v_proj.weight"].T).reshape(t, kv, d)
    theta = config.get("rope_theta", 1e4)
    q, k = rope(q, theta), rope(k, theta)
    i = np.arange(t)[:, None]
    j = np.arange(t)[None, :]
    visible = j <= i
    window = config.get("sliding_window")
    if window:
        visible &= j > i - window
    out = np.empty((t, heads, d))
    for h in range(heads):
        g = h // (heads // kv)
        scores = q[:, h] @ k[:, g].T / np.sqrt(d)
        scores = np.where(visible, scores, -np.inf)
        p = np.exp(scores - scores.max(axis=-1, keepdims=True))
        p /= p.sum(axis=-1, keepdims=True)
        out[:, h] = p @ v[:, g]
    return out.reshape(t, heads * d) @ w[prefix + "o_proj.weight"].T


class Counts:
    """Neuron counts of one expert (or a dense MLP) of one layer."""

    def __init__(self):
        self.neurons = self.positive = self.active = 0
        self.predicted = self.hits = 0

    def add(self, x, gate, up, predictor_input, fc1, fc2, threshold):
        g = x @ gate.T
        u = x @ up.T
        active = (g > 0) & (u > 0)
        self.neurons += g.size
        self.positive += int((g > 0).sum())
        self.active += int(active.sum())
        if fc1 is not None:
            logits = np.maximum(predictor_input @ fc1.T, 0) @ fc2.T
            predicted = logits >= threshold
            self.predicted += int(predicted.sum())
            self.hits += int((predicted & active).sum())
        return (np.maximum(g, 0) * np.maximum(u, 0))

    def merge(self, other):
        for key in vars(self):
            setattr(self, key, getattr(self, key) + getattr(other, key))


def route(x, gate, top_k):
    """Mixtral's router: softmax over the experts, the top k (the lower
    index on ties), their weights renormalised. Returns (chosen, weights),
    each [T, top_k]."""
    logits = x @ gate.T
    probs = np.exp(logits - logits.max(axis=-1, keepdims=True))
    probs /= probs.sum(axis=-1, keepdims=True)
    chosen = np.argsort(-probs, axis=-1, kind="stable")[:, :top_k]
    weights = np.take_along_axis(probs, chosen, axis=-1)
    return chosen, weights / weights.sum(axis=-1, keepdims=True)


def ratio(a, b):
    return a / b if b else float("nan")


def forward(w, config, tokens, threshold):
    """Runs the tokens; returns, per layer, {expert: Counts}."""
    eps = config.get("rms_norm_eps", 1e-5)
    moe = "model.layers.0.block_sparse_moe.gate.weight" in w
    top_k = config.get("num_experts_per_tok", 1)
    h = w["model.embed_tokens.weight"][tokens]
    layers = []
    for layer in range(config["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        h = h + attention(rms_norm(h, w[p + "input_layernorm.weight"], eps), w,
                          p + "self_attn.", config)
        x = rms_norm(h, w[p + "post_attention_layernorm.weight"], eps)
        counts = {}
        out = np.zeros_like(x)
        if not moe:
            c = counts.setdefault(0, Counts())
            a = c.add(x, w[p + "mlp.gate_proj.weight"], w[p + "mlp.up_proj.weight"],
                      h, w.get(p + "mlp.predictor.fc1.weight"),
                      w.get(p + "mlp.predictor.fc2.weight"), threshold)
            out = a @ w[p + "mlp.down_proj.weight"].T
        else:
            q = p + "block_sparse_moe."
            chosen, weights = route(x, w[q + "gate.weight"], top_k)
            for e in range(w[q + "gate.weight"].shape[0]):
                rows, slots = np.nonzero(chosen == e)
                if rows.size == 0:
                    continue
                r = f"{q}experts.{e}."
                xe = x[rows]
                a = counts.setdefault(e, Counts()).add(
                    xe, w[r + "w1.weight"], w[r + "w3.weight"], xe,
                    w.get(r + "predictor.fc1.weight"),
                    w.get(r + "predictor.fc2.weight"), threshold)
                out[rows] += weights[rows, slots][:, None] * (a @ w[r + "w2.weight"].T)
            if q + "shared_experts.0.w1.weight" in w:
                sys.exit("shared experts are not in this reference")
        h = h + out
        layers.append(counts)
    return layers


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threshold", type=float, default=0.0)
    parser.add_argument("--expect", type=float)
    parser.add_argument("--tolerance", type=float, default=0.03)
    parser.add_argument("--min-recall", type=float)
    args = parser.parse_args()
    with open(os.path.join(args.checkpoint, "config.json")) as f:
        config = json.load(f)
    if config.get("hidden_act") != "relu":
        sys.exit(f"{args.checkpoint}: not a dReLU model")
    w = read_tensors(args.checkpoint)
    tokens = np.random.default_rng(args.seed).integers(
        0, config["vocab_size"], size=args.tokens)
    failures = []
    for layer, counts in enumerate(forward(w, config, tokens, args.threshold)):
        total = Counts()
        for c in counts.values():
            total.merge(c)
        fractions = {e: ratio(c.active, c.neurons) for e, c in counts.items()}
        line = (f"layer {layer}: active {ratio(total.active, total.neurons):.3f} "
                f"(experts {min(fractions.values()):.3f}-{max(fractions.values()):.3f}), "
                f"gate positive {ratio(total.positive, total.neurons):.3f}")
        recall = ratio(total.hits, total.active)
        if total.predicted:
            line += (f", predicted {ratio(total.predicted, total.neurons):.3f}, "
                     f"recall {recall:.3f}, "
                     f"precision {ratio(total.hits, total.predicted):.3f}")
        print(line)
        if args.expect is not None:
            for e, f in fractions.items():
                if abs(f - args.expect) > args.tolerance:
                    failures.append(f"layer {layer} expert {e}: active {f:.3f}, "
                                    f"not {args.expect} +- {args.tolerance}")
        if args.min_recall is not None and not recall >= args.min_recall:
            failures.append(f"layer {layer}: recall {recall:.3f} < {args.min_recall}")
    if failures:
        sys.exit(f"{args.checkpoint}: " + "; ".join(failures))


if __name__ == "__main__":
    main()
