#!/usr/bin/env python3
"""Fraction of active (non-zero) dReLU neurons of a checkpoint, per layer.

Runs the transformers reference (make_golden.load) on the given token ids
and counts, over every token and routed expert, the neurons whose
relu(gate) * relu(up) is non-zero: the rows moec's sparse path reads of
the up and down projections.

    active_fraction.py CHECKPOINT_DIR --tokens 1,2,3,4
"""

import argparse

import torch

import make_golden


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--tokens", default="1,2,3,4,5,6,7,8")
    args = parser.parse_args()
    model, raw = make_golden.load(args.checkpoint)
    layers = raw["num_hidden_layers"]
    tokens = torch.tensor([[int(t) for t in args.tokens.split(",")]])
    make_golden.ACTIVATIONS = []
    with torch.no_grad():
        model(tokens)
    calls = make_golden.ACTIVATIONS
    if not calls:
        raise SystemExit(f"{args.checkpoint}: not a dReLU model")
    layer_of = {}
    for index, layer in enumerate(model.model.layers):
        for module in layer.modules():
            layer_of[id(module)] = index
    total_active = total = 0
    for layer in range(layers):
        acts = [a for module, a in calls if layer_of[id(module)] == layer]
        active = sum(int((a != 0).sum()) for a in acts)
        count = sum(a.numel() for a in acts)
        total_active += active
        total += count
        print(f"layer {layer}: {active / count:.3f} of {count} neuron evaluations active")
    print(f"all layers: {total_active / total:.3f}")


if __name__ == "__main__":
    main()
