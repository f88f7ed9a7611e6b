"""Checks a `moec-bench --json` report against the checkpoint it came from.

usage: check_bench.py REPORT.json CHECKPOINT_DIR [--sparse | --uncounted]

The weight bytes of a decode step of a dense (SwiGLU) model follow from its
config alone: every projection, norm and the router whole, one embedding
row, and top_k experts' gate, up and down. The cache bytes follow from the
positions the timed steps ran at. A dReLU model with sparse products reads
less than its dense bytes and reports per-layer neuron fractions.
Prints one line per check that holds; exits 1 on the first that does not.
"""
import json
import math
import sys


def fail(message):
    print("FAILED:", message)
    sys.exit(1)


def close(a, b, what):
    if not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9):
        fail(f"{what}: {a} != {b}")


def main():
    report = json.load(open(sys.argv[1]))
    config = json.load(open(sys.argv[2] + "/config.json"))
    mode = sys.argv[3] if len(sys.argv) > 3 else "--dense"

    for field in ("model", "architecture", "device", "threads",
                  "bandwidth_bytes_per_s", "peak_flop_per_s", "warmup_steps",
                  "steps", "contexts", "prompt"):
        if field not in report:
            fail(f"no field {field}")
    if not report["bandwidth_bytes_per_s"] > 0:
        fail("bandwidth not measured")
    print("fields: ok, bandwidth measured")

    hidden = config["hidden_size"]
    inter = config["intermediate_size"]
    heads = config["num_attention_heads"]
    kv_heads = config["num_key_value_heads"]
    head_dim = config.get("head_dim") or hidden // heads
    layers = config["num_hidden_layers"]
    experts = config["num_local_experts"]
    top_k = config["num_experts_per_tok"]
    vocab = config["vocab_size"]
    size = {"bfloat16": 2, "float16": 2, "float32": 4}[config["torch_dtype"]]

    attention = (2 * heads * head_dim * hidden + 2 * kv_heads * head_dim * hidden)
    per_layer = attention + 2 * hidden + experts * hidden
    expert = 3 * inter * hidden
    outside = hidden + hidden + vocab * hidden  # embedding row, norm, head
    dense = size * (layers * (per_layer + top_k * expert) + outside)
    gates_only = size * (layers * (per_layer + top_k * inter * hidden) + outside)

    warmup, steps = report["warmup_steps"], report["steps"]
    for c in report["contexts"]:
        t = c["seconds_per_token"]
        if not (0 < t["min"] <= t["p10"] <= t["median"] <= t["p90"] <= t["max"]):
            fail(f"context {c['context']}: time quantiles out of order: {t}")
        close(c["tokens_per_s"], 1 / t["median"], "tokens/s")
        if mode == "--uncounted":
            if c["weight_bytes_per_token"] is not None or c["layers"]:
                fail("bytes or layers reported without counters")
            continue
        if len(c["layers"]) != layers:
            fail(f"{len(c['layers'])} layers reported, {layers} expected")
        # Timed steps run at positions context + warmup ... + steps - 1 and
        # read the cache up to and including their own.
        first = c["context"] + warmup
        mean_length = first + (steps - 1) / 2 + 1
        cache = layers * 2 * kv_heads * head_dim * 4 * mean_length
        close(c["cache_bytes_per_token"], cache, "cache bytes per token")
        weights = c["weight_bytes_per_token"]
        total = weights + c["cache_bytes_per_token"]
        close(c["bytes_per_s"], total / t["median"], "bytes/s")
        close(c["of_bandwidth"], c["bytes_per_s"] / report["bandwidth_bytes_per_s"],
              "fraction of bandwidth")
        if mode == "--dense":
            close(weights, dense, "weight bytes per token")
            if any(l["active_neuron_fraction"] is not None for l in c["layers"]):
                fail("neuron fractions reported for a dense model")
        else:
            if not gates_only < weights < dense:
                fail(f"sparse weight bytes {weights} not within "
                     f"({gates_only}, {dense})")
            for l in c["layers"]:
                active, positive = (l["active_neuron_fraction"],
                                    l["positive_gate_fraction"])
                if not 0 < active <= positive < 1:
                    fail(f"layer {l['layer']}: fractions {active}, {positive}")
            # The bytes follow from the fractions: gate rows, up rows of
            # positive gates, down rows of active neurons.
            fractions = sum(l["positive_gate_fraction"] + l["active_neuron_fraction"]
                            for l in c["layers"])
            expected = gates_only + size * top_k * inter * hidden * fractions
            close(weights, expected, "sparse weight bytes from the fractions")
        print(f"context {c['context']}: bytes per token as expected")

    prompt = report.get("prompt")
    if prompt is not None:
        t = prompt["seconds"]
        if not 0 < t["min"] <= t["median"]:
            fail(f"prompt times out of order: {t}")
        close(prompt["tokens_per_s"], prompt["tokens"] / t["median"],
              "prompt tokens/s")
        if mode == "--dense":
            # Each token times every matrix of a layer it meets (top_k
            # experts), attention over the T rows of the prompt, q.k and
            # p.v, and the LM head for the last token only.
            tokens = prompt["tokens"]
            matrices = layers * (attention + experts * hidden + top_k * expert)
            macs = (tokens * matrices + vocab * hidden
                    + layers * tokens * tokens * 2 * heads * head_dim)
            close(prompt["multiply_adds"], macs, "prompt multiply-adds")
            close(prompt["flop_per_s"], 2 * macs / t["median"], "prompt FLOP/s")
            if report["peak_flop_per_s"] is not None:
                close(prompt["of_peak"],
                      prompt["flop_per_s"] / report["peak_flop_per_s"],
                      "prompt share of the peak")
        print(f"prompt of {prompt['tokens']} tokens: as expected")


if __name__ == "__main__":
    main()
