#!/usr/bin/env python3
"""Checks every #moe.weight_ref of an imported module against the
checkpoint's own safetensors headers, read here independently of moec:
the tensor exists in that file, the dtype is its dtype, and the referenced
bytes lie inside the tensor's data.  check_offsets.py DIR MODULE.mlir"""

import json
import re
import struct
import sys

DTYPES = {"bf16": ("BF16", 2), "f16": ("F16", 2), "f32": ("F32", 4)}
REF = re.compile(r'#moe\.weight_ref<"([^"]+)", "([^"]+)", (\w+), \[([0-9, ]+)\], offset = (\d+)>')


def header(path, cache={}):
    if path not in cache:
        with open(path, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            cache[path] = (8 + n, json.loads(f.read(n)))
    return cache[path]


def main():
    directory, module = sys.argv[1], sys.argv[2]
    refs = REF.findall(open(module).read())
    if not refs:
        sys.exit("no weight references found")
    for file, tensor, dtype, shape, offset in refs:
        start, entries = header(f"{directory}/{file}")
        entry = entries.get(tensor)
        if entry is None:
            sys.exit(f"{file} has no tensor {tensor}")
        name, size = DTYPES[dtype]
        if entry["dtype"] != name:
            sys.exit(f"{tensor}: dtype {dtype}, file says {entry['dtype']}")
        count = 1
        for dim in shape.split(","):
            count *= int(dim)
        begin, end = (start + o for o in entry["data_offsets"])
        if not (begin <= int(offset) and int(offset) + count * size <= end):
            sys.exit(f"{tensor}: bytes [{offset}, +{count * size}) outside [{begin}, {end})")
    print(f"{len(refs)} weight references match the checkpoint")


if __name__ == "__main__":
    main()
