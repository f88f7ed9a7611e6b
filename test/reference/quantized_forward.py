#!/usr/bin/env python3
"""Logits of a checkpoint whose weights are stored as moec-compile
--weights=FORMAT stores them: a float64 forward (Mixtral's and Mistral's
decoder as transformers computes it, SwiGLU or dReLU experts; the layers of
active_fraction.py) over the values the Q8_0 or Q4_0 blocks stand for
(block_formats.py, ggml's reference rows), or the values rounded to bf16,
f16 or f32, so that moec's build is compared with the same weights and only
its arithmetic differs.

moec quantizes the weights that products read (moe-quantize-weights): the
attention projections, the FFN's gate, up and down, and an untied LM head;
the embedding, the router and the norms stay as stored. Rows are quantized
as the artifact stores them: a dReLU model's down projection neuron-major
([I, H], blocks along H) when it is compiled sparse (the default), every
other weight row-major (blocks along its input).

    quantized_forward.py CHECKPOINT FORMAT TOKENS OUT.npy [--dense-down]
                         [--greedy=N]

TOKENS: comma-separated ids. Writes the logits [T, vocab] as f32 .npy.
--dense-down: the dReLU down projection stored row-major (--no-sparse).
--greedy=N: also continues TOKENS greedily by N tokens, over the quantized
and over the unquantized weights, and prints one line of JSON: both
continuations, and how many of their first tokens the two agree on
("agree"), each of those chosen by a margin over the runner-up of at least
1e-3 of the largest logit ("clear"): the tokens a quantized build must
generate as the unquantized one does.
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import block_formats  # noqa: E402
from active_fraction import attention, read_tensors, rms_norm, route  # noqa: E402


def rounded(values, fmt):
    """`values` (each exact in f32) as moec-compile --weights=bf16|f16|f32
    stores them: rounded to nearest even."""
    values = values.astype(np.float32)
    if fmt == "f16":
        return values.astype(np.float16).astype(np.float64)
    if fmt == "bf16":
        bits = values.view(np.uint32).astype(np.uint64)
        bits = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16 << 16
        return bits.astype(np.uint32).view(np.float32).astype(np.float64)
    return values.astype(np.float64)


FLOATS = ("bf16", "f16", "f32")


def dequantized(matrix, fmt):
    """The values moec stores for `matrix` [rows, k], blocks along k."""
    if fmt in FLOATS:
        return rounded(matrix, fmt)
    rows = matrix.astype(np.float32)
    data = block_formats.QUANTIZE[fmt](rows)
    return block_formats.dequantize(fmt, data, rows.shape[1]).astype(np.float64)


def quantize_checkpoint(w, config, fmt, neuron_major_down):
    """The checkpoint's tensors with moec's quantized ones replaced."""
    relu = config.get("hidden_act") == "relu"
    out = dict(w)
    for name, value in w.items():
        if value.ndim != 2:
            continue
        attention_weight = ".self_attn." in name
        head = name == "lm_head.weight" and not config.get("tie_word_embeddings")
        ffn = (".mlp." in name or ".experts." in name) and ".predictor." not in name
        if not (attention_weight or head or ffn):
            continue
        down = name.endswith(("w2.weight", "down_proj.weight"))
        if ffn and down and relu and neuron_major_down:
            out[name] = dequantized(value.T, fmt).T
        else:
            out[name] = dequantized(value, fmt)
    return out


def logits(w, config, tokens):
    eps = config.get("rms_norm_eps", 1e-5)
    relu = config.get("hidden_act") == "relu"
    top_k = config.get("num_experts_per_tok", 1)

    def ffn(x, gate, up, down):
        g, u = x @ gate.T, x @ up.T
        a = (np.maximum(g, 0) * np.maximum(u, 0) if relu
             else g / (1 + np.exp(-g)) * u)
        return a @ down.T

    h = w["model.embed_tokens.weight"][tokens]
    for layer in range(config["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        h = h + attention(rms_norm(h, w[p + "input_layernorm.weight"], eps), w,
                          p + "self_attn.", config)
        x = rms_norm(h, w[p + "post_attention_layernorm.weight"], eps)
        q = p + "block_sparse_moe."
        if q + "gate.weight" not in w:
            out = ffn(x, w[p + "mlp.gate_proj.weight"], w[p + "mlp.up_proj.weight"],
                      w[p + "mlp.down_proj.weight"])
        else:
            chosen, weights = route(x, w[q + "gate.weight"], top_k)
            out = np.zeros_like(x)
            for e in range(w[q + "gate.weight"].shape[0]):
                rows, slots = np.nonzero(chosen == e)
                if rows.size:
                    ex = f"{q}experts.{e}."
                    out[rows] += weights[rows, slots][:, None] * ffn(
                        x[rows], w[ex + "w1.weight"], w[ex + "w3.weight"],
                        w[ex + "w2.weight"])
        h = h + out
    h = rms_norm(h, w["model.norm.weight"], eps)
    head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    return h @ head.T


def greedy(w, config, tokens, count):
    """count tokens continuing `tokens`, each the argmax of the last
    position's logits, and each one's margin over the runner-up, relative
    to that row's largest |logit|."""
    tokens, margins = list(tokens), []
    for _ in range(count):
        last = logits(w, config, np.array(tokens))[-1]
        top2 = np.sort(last)[-2:]
        margins.append(float((top2[1] - top2[0]) / np.abs(last).max()))
        tokens.append(int(np.argmax(last)))
    return tokens[len(tokens) - count:], margins


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("format", choices=sorted(block_formats.QUANTIZE) + list(FLOATS))
    parser.add_argument("tokens")
    parser.add_argument("out")
    parser.add_argument("--dense-down", action="store_true")
    parser.add_argument("--greedy", type=int, default=0)
    args = parser.parse_args()
    with open(os.path.join(args.checkpoint, "config.json")) as f:
        config = json.load(f)
    w = read_tensors(args.checkpoint)
    if any("gate_up_proj" in k for k in w):
        sys.exit("fused expert tensors are not in this reference")
    quantized = quantize_checkpoint(w, config, args.format, not args.dense_down)
    tokens = np.array([int(t) for t in args.tokens.split(",")])
    np.save(args.out, logits(quantized, config, tokens).astype(np.float32))
    if args.greedy:
        ours, our_margins = greedy(quantized, config, tokens, args.greedy)
        theirs, their_margins = greedy(w, config, tokens, args.greedy)
        agree = clear = 0
        while agree < args.greedy and ours[agree] == theirs[agree]:
            agree += 1
        while (clear < agree and
               min(our_margins[clear], their_margins[clear]) >= 1e-3):
            clear += 1
        print(json.dumps({"quantized": ours, "unquantized": theirs,
                          "agree": agree, "clear": clear}))


if __name__ == "__main__":
    main()
