#!/usr/bin/env python3
"""Golden outputs for moec's test checkpoints, computed by HF transformers.

    pip install transformers torch safetensors numpy
    python3 test/reference/make_golden.py build/bin/moec-synth [CASE ...]

For every case in cases.json (or the cases named) this writes moec-synth's checkpoint to a
temporary directory, loads it with transformers (eager attention, weights as
stored, arithmetic in float32), and writes into test/reference/<case>/:

  tokens.npy   int32 [T]      the token ids scored (random, seeded)
  logits.npy   float32 [T, V] the logits (causal LM and token classification:
                              [T, labels]; sequence classification: [labels])
  files.json   sha256 of every file moec-synth wrote, so that CI can check
               the synthesiser still makes this very checkpoint

transformers has no class for the Cerebras model zoo's MoE options (other
routers, null-expert bias, shared experts) nor for its GPT-2-style MoE models:
those checkpoints are scored by cerebras_moe.py, a PyTorch forward written
from the zoo's published math.

transformers has no TurboSparse classes. TurboSparse-Mixtral is loaded as
Mixtral and Bamboo (TurboSparse-Mistral) as Mistral, with the MLP's forward
replaced by the dReLU one, w2(relu(w1 x) * relu(w3 x)); the predictor tensors
are left unloaded (they do not change the model's value).
"""

import hashlib
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import transformers

import cerebras_moe
from transformers.models.mistral import modeling_mistral
from transformers.models.mixtral import modeling_mixtral

HERE = os.path.dirname(os.path.abspath(__file__))


# When a list, every dReLU activation computed is appended to it with the
# module that computed it (active_fraction.py reads them).
ACTIVATIONS = None


def record(module, act):
    if ACTIVATIONS is not None:
        ACTIVATIONS.append((module, act.detach()))
    return act


def drelu_mixtral_experts(self, hidden_states, top_k_index, top_k_weights):
    """MixtralExperts.forward with relu on both the gate and the up rows."""
    out = torch.zeros_like(hidden_states)
    for expert in range(self.num_experts):
        token_idx, k_pos = torch.where(top_k_index == expert)
        if token_idx.numel() == 0:
            continue
        x = hidden_states[token_idx]
        gate, up = torch.nn.functional.linear(x, self.gate_up_proj[expert]).chunk(2, dim=-1)
        act = record(self, torch.relu(gate) * torch.relu(up))
        y = torch.nn.functional.linear(act, self.down_proj[expert])
        out.index_add_(0, token_idx, y * top_k_weights[token_idx, k_pos, None])
    return out


def drelu_mistral_mlp(self, x):
    """MistralMLP.forward with relu on both the gate and the up projection."""
    return self.down_proj(record(self, torch.relu(self.gate_proj(x)) * torch.relu(self.up_proj(x))))


# Architecture -> (transformers class, dReLU?).
CLASSES = {
    "MixtralForCausalLM": (transformers.MixtralForCausalLM, False),
    "MixtralForSequenceClassification": (transformers.MixtralForSequenceClassification, False),
    "MixtralForTokenClassification": (transformers.MixtralForTokenClassification, False),
    "MistralForCausalLM": (transformers.MistralForCausalLM, False),
    "LlamaForCausalLM": (transformers.LlamaForCausalLM, False),
    "TurboSparseMixtralForCausalLM": (transformers.MixtralForCausalLM, True),
    "BambooForCausalLM": (transformers.MistralForCausalLM, True),
}


def load(directory):
    with open(os.path.join(directory, "config.json")) as f:
        raw = json.load(f)
    cls, drelu = CLASSES[raw["architectures"][0]]
    raw["model_type"] = cls.config_class.model_type
    config = cls.config_class(**{k: v for k, v in raw.items() if k != "model_type"})
    model, info = cls.from_pretrained(
        directory, config=config, dtype=torch.float32,
        attn_implementation="eager", output_loading_info=True)
    if info["missing_keys"]:
        sys.exit(f"{directory}: transformers did not find {info['missing_keys']}")
    unexpected = [k for k in info["unexpected_keys"] if "predictor" not in k]
    if unexpected:
        sys.exit(f"{directory}: transformers did not use {unexpected}")
    if drelu:
        for module in model.modules():
            if isinstance(module, modeling_mixtral.MixtralExperts):
                module.forward = drelu_mixtral_experts.__get__(module)
            if isinstance(module, modeling_mistral.MistralMLP):
                module.forward = drelu_mistral_mlp.__get__(module)
    model.eval()
    return model, raw


def uses_zoo_options(raw):
    """Whether transformers would ignore some of the model's math: the zoo's
    architecture, or its MoE options on a Mixtral checkpoint."""
    c = dict(raw)
    c.update(c.get("moe", {}))
    return (raw["architectures"][0] == "CerebrasMoeForCausalLM"
            or c.get("num_shared_experts")
            or c.get("routing_algorithm", "learned") != "learned"
            or c.get("router_selection_nonlinearity", "softmax") != "softmax"
            or c.get("expert_weighting_nonlinearity", "softmax") != "softmax"
            or (c.get("null_expert_bias") or 0) > 0
            or c.get("expert_weighting_normalization") is False)


def file_hashes(directory):
    return {name: hashlib.sha256(open(os.path.join(directory, name), "rb").read()).hexdigest()
            for name in sorted(os.listdir(directory))}


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    synth, wanted = sys.argv[1], sys.argv[2:]
    with open(os.path.join(HERE, "cases.json")) as f:
        cases = {k: v for k, v in json.load(f).items()
                 if not k.startswith("_") and (not wanted or k in wanted)}
    if wanted and len(cases) != len(set(wanted)):
        sys.exit(f"unknown cases among {wanted}")
    for name, case in cases.items():
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([synth, "-o", tmp] + case["synth"], check=True)
            with open(os.path.join(tmp, "config.json")) as f:
                raw = json.load(f)
            seed = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)
            # Ids 3.. avoid the pad, BOS and EOS ids.
            tokens = np.random.RandomState(seed).randint(3, raw["vocab_size"], size=case["tokens"])
            with torch.no_grad():
                if uses_zoo_options(raw):
                    logits = cerebras_moe.forward(tmp, torch.tensor(tokens, dtype=torch.long))
                else:
                    model, raw = load(tmp)
                    logits = model(torch.tensor(tokens[None], dtype=torch.long)).logits[0]
            out = os.path.join(HERE, name)
            os.makedirs(out, exist_ok=True)
            np.save(os.path.join(out, "tokens.npy"), tokens.astype(np.int32))
            np.save(os.path.join(out, "logits.npy"), logits.numpy().astype(np.float32))
            with open(os.path.join(out, "files.json"), "w") as f:
                json.dump(file_hashes(tmp), f, indent=2)
                f.write("\n")
            print(f"{name}: logits {tuple(logits.shape)}, argmax {logits.argmax(-1).tolist()}")


if __name__ == "__main__":
    main()
