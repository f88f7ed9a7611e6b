#!/usr/bin/env python3
"""Breaks a checkpoint written by moec-synth in one named way, for the
importer's bad-input tests:  corrupt.py DIR KIND."""

import json
import os
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8:8 + n]), data[8 + n:]


def write(path, header, body, raw_header=None):
    text = raw_header if raw_header is not None else json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + body)


def edit_config(directory, **changes):
    path = os.path.join(directory, "config.json")
    with open(path) as f:
        config = json.load(f)
    for key, value in changes.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    with open(path, "w") as f:
        json.dump(config, f)


def first_shard(directory):
    single = os.path.join(directory, "model.safetensors")
    if os.path.exists(single):
        return single
    return os.path.join(directory, sorted(n for n in os.listdir(directory)
                                          if n.endswith(".safetensors"))[0])


def main():
    directory, kind = sys.argv[1], sys.argv[2]
    path = first_shard(directory)
    header, body = read(path)
    tensors = sorted((k for k in header if k != "__metadata__"),
                     key=lambda k: header[k]["data_offsets"][0])
    first, last = tensors[0], tensors[-1]

    if kind == "truncated":
        with open(path, "r+b") as f:
            f.truncate(os.path.getsize(path) - 16)
    elif kind == "tiny-file":
        with open(path, "wb") as f:
            f.write(b"\x10\x00\x00")
    elif kind == "huge-header":
        with open(path, "r+b") as f:
            f.write(struct.pack("<Q", 1 << 40))
    elif kind == "header-past-eof":
        with open(path, "r+b") as f:
            f.write(struct.pack("<Q", os.path.getsize(path)))
    elif kind == "bad-json":
        write(path, None, body, raw_header=b'{"a": [1, 2')
    elif kind == "offsets-out-of-range":
        begin, end = header[last]["data_offsets"]
        header[last]["data_offsets"] = [begin + 64, end + 64]
        write(path, header, body)
    elif kind == "overlap":
        second = tensors[1]
        b0, e0 = header[first]["data_offsets"]
        b1, e1 = header[second]["data_offsets"]
        header[second]["data_offsets"] = [b1 - 2, e1 - 2]
        write(path, header, body)
    elif kind == "size-mismatch":
        header[first]["shape"][0] += 1
        write(path, header, body)
    elif kind == "bad-dtype":
        # Same byte size, a dtype moec does not read.
        header[first]["dtype"] = "I16" if header[first]["dtype"] != "F32" else "I32"
        write(path, header, body)
    elif kind == "missing-shard":
        os.remove(path)
    elif kind == "index-missing-tensor":
        index_path = os.path.join(directory, "model.safetensors.index.json")
        with open(index_path) as f:
            index = json.load(f)
        index["weight_map"]["model.layers.0.not_there.weight"] = os.path.basename(path)
        with open(index_path, "w") as f:
            json.dump(index, f)
    elif kind == "missing-tensor":
        del header["model.layers.1.post_attention_layernorm.weight"]
        # Keep the data tiled: give the hole to the tensor before it.
        write(path, rebuild(header, body)[0], rebuild(header, body)[1])
    elif kind == "wrong-shape":
        name = "model.layers.0.self_attn.q_proj.weight"
        header[name]["shape"] = header[name]["shape"][::-1] if header[name]["shape"][0] != header[name]["shape"][1] else [header[name]["shape"][0] // 2, header[name]["shape"][1] * 2]
        write(path, header, body)
    elif kind == "extra-tensor":
        header["model.layers.0.self_attn.rotary_emb.inv_freq"] = {
            "dtype": "F32", "shape": [2], "data_offsets": [len(body), len(body) + 8]}
        write(path, header, body + b"\0" * 8)
    elif kind == "unknown-arch":
        edit_config(directory, architectures=["GPTNeoXForCausalLM"], model_type="gpt_neox")
    elif kind == "heads-not-dividing-hidden":
        edit_config(directory, num_attention_heads=5, head_dim=None)
    elif kind == "kv-not-dividing-heads":
        edit_config(directory, num_key_value_heads=3)
    elif kind == "top-k-over-experts":
        edit_config(directory, num_experts_per_tok=9)
    elif kind == "zero-size":
        edit_config(directory, intermediate_size=0)
    elif kind == "config-not-json":
        with open(os.path.join(directory, "config.json"), "w") as f:
            f.write("{ not json")
    else:
        sys.exit(f"unknown corruption {kind}")


def rebuild(header, body):
    """Repacks the tensors of `header` densely, copying their data."""
    out, data = {"__metadata__": header.get("__metadata__", {})}, b""
    for name in sorted((k for k in header if k != "__metadata__"),
                       key=lambda k: header[k]["data_offsets"][0]):
        begin, end = header[name]["data_offsets"]
        out[name] = dict(header[name], data_offsets=[len(data), len(data) + end - begin])
        data += body[begin:end]
    return out, data


if __name__ == "__main__":
    main()
