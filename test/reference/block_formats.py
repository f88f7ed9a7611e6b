#!/usr/bin/env python3
"""llama.cpp's Q8_0 and Q4_0 weight blocks in numpy, from ggml's reference
rows (ggml-quants.c: quantize_row_q8_0_ref, quantize_row_q4_0_ref,
dequantize_row_q8_0, dequantize_row_q4_0): the statement moec's quantizer
(compiler/quant/BlockFormats.cpp) must equal bit for bit.

A row of k values (k a multiple of 32) is k / 32 blocks; a block is its f16
scale d (little-endian), then
  Q8_0: 32 int8 quants,                 x = d * q
  Q4_0: 16 bytes, element j in the low nibble of byte j and element j + 16
        in its high nibble,             x = d * (nibble - 8)
The scale and its inverse are f32; d is stored rounded to f16 (to nearest
even); the quants come from the f32 inverse.

  block_formats.py golden DIR   writes DIR/rows.npy (f32 rows: random
                                values and the edge cases below) and
                                DIR/q8_0.bin, DIR/q4_0.bin
  block_formats.py check DIR    exits 1 unless DIR's files are what
                                `golden` writes
"""

import sys
from pathlib import Path

import numpy as np

BLOCK = 32


def _blocks(rows):
    rows = np.asarray(rows, dtype=np.float32)
    if rows.shape[-1] % BLOCK:
        raise ValueError(f"rows of {rows.shape[-1]} values: not whole blocks "
                         f"of {BLOCK}")
    return rows.reshape(-1, BLOCK)


def _inverse(d):
    with np.errstate(divide="ignore"):
        return np.where(d != 0, np.float32(1) / d, np.float32(0)).astype(np.float32)


def _scale_bytes(d):
    # A scale past f16's range is stored as inf, as ggml stores it.
    with np.errstate(over="ignore"):
        return d.astype(np.float16).view(np.uint8).reshape(-1, 2)


def quantize_q8_0(rows):
    x = _blocks(rows)
    amax = np.abs(x).max(axis=1)
    d = (amax / np.float32(127)).astype(np.float32)
    q = x * _inverse(d)[:, None]
    # C's roundf: halves away from zero.
    q = (np.sign(q) * np.floor(np.abs(q) + np.float32(0.5))).astype(np.int8)
    return np.concatenate([_scale_bytes(d), q.view(np.uint8)], axis=1).tobytes()


def quantize_q4_0(rows):
    x = _blocks(rows)
    # The value of largest magnitude with its sign; the first of equals.
    at = np.argmax(np.abs(x), axis=1)
    peak = x[np.arange(len(x)), at]
    d = (peak / np.float32(-8)).astype(np.float32)
    v = (x * _inverse(d)[:, None]).astype(np.float32) + np.float32(8.5)
    q = np.minimum(15, np.trunc(v).astype(np.int8)).astype(np.uint8)
    qs = q[:, :16] | (q[:, 16:] << 4)
    return np.concatenate([_scale_bytes(d), qs], axis=1).tobytes()


def dequantize(fmt, data, values):
    width = 34 if fmt == "q8_0" else 18
    b = np.frombuffer(data, dtype=np.uint8).reshape(-1, width)
    d = b[:, :2].copy().view(np.float16).astype(np.float32)
    if fmt == "q8_0":
        q = b[:, 2:].view(np.int8).astype(np.float32)
    else:
        qs = b[:, 2:]
        q = np.concatenate([qs & 15, qs >> 4], axis=1).astype(np.float32) - 8
    return (q * d).reshape(-1, values)


QUANTIZE = {"q8_0": quantize_q8_0, "q4_0": quantize_q4_0}


def golden_rows():
    """Random rows of several scales, and blocks that probe the edges: all
    zeros, a negative peak, ties of magnitude, halves, a peak that rounds
    to f16 subnormal, and values past f16's range."""
    rng = np.random.default_rng(20261204)
    rows = [rng.standard_normal(256) * s for s in (1.0, 0.02, 30.0)]
    edge = np.zeros(256)
    edge[32:64] = rng.uniform(-1, 1, 32)
    edge[40] = -3.0                                   # negative peak
    edge[64:96] = np.tile([2.0, -2.0, 0.5, -0.25], 8)  # tied magnitudes
    edge[96:128] = (np.arange(32) - 16) * 127 / 32.0  # quants at .5 steps
    edge[128:160] = rng.uniform(-1, 1, 32) * 1e-6     # subnormal f16 scale
    edge[160:192] = rng.uniform(-1, 1, 32) * 1e6      # Q4_0's scale past f16's
    edge[192:224] = np.linspace(-8, 8, 32)
    edge[224:256] = -np.linspace(-8, 8, 32)
    rows.append(edge)
    return np.stack(rows).astype(np.float32)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("golden", "check"):
        sys.exit(__doc__)
    out = Path(sys.argv[2])
    rows = golden_rows()
    files = {"q8_0.bin": quantize_q8_0(rows), "q4_0.bin": quantize_q4_0(rows)}
    if sys.argv[1] == "golden":
        out.mkdir(parents=True, exist_ok=True)
        np.save(out / "rows.npy", rows)
        for name, data in files.items():
            (out / name).write_bytes(data)
        return
    ok = np.array_equal(np.load(out / "rows.npy"), rows)
    for name, data in files.items():
        ok &= (out / name).read_bytes() == data
    print("block formats: golden files match the reference" if ok else
          "block formats: golden files differ from the reference")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
