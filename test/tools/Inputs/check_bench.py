"""Checks a `moec-bench --json` report against the checkpoint it came from.

usage: check_bench.py REPORT.json CHECKPOINT_DIR
           [--sparse | --predicted RANK [--stats] | --uncounted]
           [--active F]

The weight bytes of a decode step of a dense (SwiGLU) model follow from its
config alone, part by part: every projection, norm and the router whole,
one embedding row, and top_k experts' gate, up and down. The cache bytes
follow from the positions the timed steps ran at. A dReLU model with sparse
products reads less than its dense bytes and reports per-layer neuron
fractions, from which its gate, up and down bytes follow; with predictors
(of rank RANK) the gate rows read are the computed (predicted) neurons',
and a diagnostic build (--stats) reports each layer's recall and precision.
With --active F, every layer's active fraction is F +- 0.03.
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
    args = sys.argv[3:]
    mode = args[0] if args and args[0] != "--active" else "--dense"
    rank = int(args[1]) if mode == "--predicted" else 0
    stats = "--stats" in args
    active_target = float(args[args.index("--active") + 1]) if "--active" in args else None

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

    # Bytes of each part when every weight is read (a dense step).
    expected_parts = {
        "attention": size * layers * attention,
        "router": size * layers * experts * hidden,
        "predictor": size * layers * top_k * (rank * hidden + inter * rank),
        "gate": size * layers * top_k * inter * hidden,
        "up": size * layers * top_k * inter * hidden,
        "down": size * layers * top_k * inter * hidden,
        "head": size * vocab * hidden,
        "other": size * (2 * hidden + 2 * layers * hidden),
    }

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
        parts = c["weight_bytes_by_part"]
        if sorted(parts) != sorted(expected_parts):
            fail(f"parts {sorted(parts)}")
        close(sum(parts.values()), weights, "sum of the parts")
        if mode == "--dense":
            close(weights, dense, "weight bytes per token")
            for name, value in expected_parts.items():
                close(parts[name], value, f"{name} bytes per token")
            if any(l["active_neuron_fraction"] is not None for l in c["layers"]):
                fail("neuron fractions reported for a dense model")
        else:
            for name in ("attention", "router", "predictor", "head", "other"):
                close(parts[name], expected_parts[name], f"{name} bytes per token")
            if mode == "--sparse" and not gates_only < weights < dense:
                fail(f"sparse weight bytes {weights} not within "
                     f"({gates_only}, {dense})")
            for l in c["layers"]:
                active, positive, computed = (l["active_neuron_fraction"],
                                              l["positive_gate_fraction"],
                                              l["computed_neuron_fraction"])
                if not 0 < active <= positive <= computed <= 1 or positive == 1:
                    fail(f"layer {l['layer']}: fractions {active}, {positive}, {computed}")
                if mode == "--sparse" and computed != 1:
                    fail(f"layer {l['layer']}: computed {computed} without a predictor")
                if active_target is not None and abs(active - active_target) > 0.03:
                    fail(f"layer {l['layer']}: active {active}, not {active_target} +- 0.03")
                recall, precision = l["predictor_recall"], l["predictor_precision"]
                if stats:
                    if not (0.9 <= recall <= 1 and 0 < precision <= 1):
                        fail(f"layer {l['layer']}: recall {recall}, precision {precision}")
                elif recall is not None or precision is not None:
                    fail(f"layer {l['layer']}: recall without a diagnostic build")
            # The bytes follow from the fractions: gate rows computed, up
            # rows of positive gates, down rows of active neurons.
            row = size * top_k * inter * hidden
            for name, key in (("gate", "computed_neuron_fraction"),
                              ("up", "positive_gate_fraction"),
                              ("down", "active_neuron_fraction")):
                close(parts[name], row * sum(l[key] for l in c["layers"]),
                      f"{name} bytes from the fractions")
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
