#!/usr/bin/env python3
"""Checks that an artifact's quantized weights are the blocks the numpy
statement of ggml's rules (test/reference/block_formats.py) makes of the
checkpoint's tensors, byte for byte, in the rows of #moe.blocks (groups of
16 blocks, each their quants block after block, or interleaved 4 values of
each block at a time, then their f16 scales).

    stored_blocks.py ARTIFACT CHECKPOINT

Reads the weight list of `moec-run --info --list-weights`; a stacked
weight's parts are named by its first part's name with the last ".0."
counted up (experts; compile with --roll-layers=false). Prints one line per format and exits 1 on a difference.
"""

import os
import re
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "reference"))
import block_formats  # noqa: E402
from active_fraction import read_tensors  # noqa: E402

WIDTH = {"q8_0": 34, "q4_0": 18}


GROUP = 16  # blocks a group of #moe.blocks


def values_of(quants, fmt):
    """A group's quants [rows, blocks, bytes] as unsigned values [rows,
    blocks, 32]: Q8_0's bytes; Q4_0's nibbles (value j low in byte j, value
    j + 16 high)."""
    if fmt == "q8_0":
        return quants
    return np.concatenate([quants & 15, quants >> 4], axis=2)


def interleave(quants, fmt):
    """The interleaved layout of a group of 16 blocks' quants: 4 values of
    every block in turn (slot s: values 4 s .. 4 s + 3); Q8_0's offset by
    128, Q4_0's slots 2 k and 2 k + 1 the low and high nibbles of the same
    bytes."""
    rows = quants.shape[0]
    values = values_of(quants, fmt)  # [rows, 16, 32]
    slots = values.reshape(rows, GROUP, 8, 4).transpose(0, 2, 1, 3)  # [rows, 8, 16, 4]
    if fmt == "q8_0":
        return (slots ^ 0x80).reshape(rows, -1)
    return (slots[:, 0::2] | (slots[:, 1::2] << 4)).reshape(rows, -1)


def split_rows(data, fmt, rows, interleaved=False):
    """ggml's rows of blocks as #moe.blocks stores them: groups of 16
    blocks (fewer at a row's end), each their quants, then their scales."""
    width = WIDTH[fmt]
    blocks = np.frombuffer(data, dtype=np.uint8).reshape(rows, -1, width)
    parts = []
    for first in range(0, blocks.shape[1], GROUP):
        group = blocks[:, first:first + GROUP]
        quants = (interleave(group[:, :, 2:], fmt) if interleaved
                  else group[:, :, 2:].reshape(rows, -1))
        parts += [quants, group[:, :, :2].reshape(rows, -1)]
    return np.concatenate(parts, axis=1).tobytes()


def main():
    artifact, checkpoint = sys.argv[1], sys.argv[2]
    info = subprocess.run(["moec-run", "--info", "--list-weights", artifact],
                          capture_output=True, text=True, check=True).stdout
    segment = int(re.search(r"segment:  Weights\s+offset (\d+)", info).group(1))
    tensors = read_tensors(checkpoint)
    with open(artifact, "rb") as f:
        data = f.read()
    checked, differ = {}, []
    interleaved = 0
    for m in re.finditer(r"^weight:   (\S+)(?: \(\+(\d+) stacked\))? (q8_0|q4_0) "
                         r"\[[0-9x]+\] (\S+), offset (\d+), (\d+) bytes$", info,
                         re.MULTILINE):
        name, more, fmt, layout, offset, size = m.groups()
        head, _, tail = name.rpartition(".0.")
        names = [name] + [f"{head}.{i}.{tail}"
                          for i in range(1, int(more or 0) + 1)]
        expected = b""
        for part in names:
            matrix = tensors[part].astype(np.float32)
            if layout == "neuron-major":
                matrix = np.ascontiguousarray(matrix.T)
            expected += split_rows(block_formats.QUANTIZE[fmt](matrix), fmt,
                                   matrix.shape[0],
                                   layout.endswith("/interleaved"))
        at = segment + int(offset)
        stored = data[at:at + int(size)]
        checked[fmt] = checked.get(fmt, 0) + 1
        interleaved += layout.endswith("/interleaved")
        if stored != expected:
            differ.append(name)
    for fmt, count in sorted(checked.items()):
        print(f"{fmt}: {count} weights checked")
    if interleaved:
        print(f"{interleaved} of them interleaved")
    if differ or not checked:
        sys.exit(f"stored blocks differ from block_formats.py: {differ or 'none checked'}")
    print("stored blocks equal block_formats.py's")


if __name__ == "__main__":
    main()
