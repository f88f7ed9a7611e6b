#!/usr/bin/env python3
"""poison_tensor.py FILE.safetensors TENSOR INDEX: sets element INDEX of a
tensor (bf16, f16 or f32) to NaN in place, without numpy."""

import json
import struct
import sys

path, name, index = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(path, "r+b") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(n))
    info = header[name]
    size = {"BF16": 2, "F16": 2, "F32": 4}[info["dtype"]]
    nan = {"BF16": b"\xc0\x7f", "F16": b"\x00\x7e", "F32": b"\x00\x00\xc0\x7f"}[info["dtype"]]
    f.seek(8 + n + info["data_offsets"][0] + index * size)
    f.write(nan)
