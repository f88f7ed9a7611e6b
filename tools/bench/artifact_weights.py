#!/usr/bin/env python3
"""Moves an artifact to a machine without its weights, and gives it weights there.

    artifact_weights.py strip MODEL.moec SKELETON
    artifact_weights.py fill SKELETON MODEL.moec [--seed=S]

A GPU machine may have the runtime but not the compiler, and a model of real
dimensions is gigabytes of weights. `strip` writes the artifact less its
Weights segment (the code, PTX, cubin and header keep every offset); `fill`
puts the segment back, filled with random values of bounded magnitude
(2^-9..2^-6, random signs, as bf16 bit patterns: finite in f16 and f32 too),
and writes its XXH3-64 checksum into the header, and the header's own
checksum into the prefix (docs/artifact.md). A signed artifact's
signature no longer holds after `fill`. Timings of such a model are
those of the original; its outputs are not. `fill` needs numpy and xxhash.
"""

import argparse
import json
import os
import struct
import sys

WEIGHTS = 1  # SegmentKind.Weights in runtime/Artifact.fbs
PREFIX = 24  # magic, header size, header checksum (runtime/format/Format.h)


def u32(b, o):
    return struct.unpack_from("<I", b, o)[0]


def field(buf, table, index):
    """Absolute position of field `index` of the table at `table`, or None."""
    vtable = table - struct.unpack_from("<i", buf, table)[0]
    if 4 + 2 * index >= struct.unpack_from("<H", buf, vtable)[0]:
        return None
    rel = struct.unpack_from("<H", buf, vtable + 4 + 2 * index)[0]
    return table + rel if rel else None


def weights_segment(path):
    """(offset, size, checksum position in the file) of the Weights segment."""
    with open(path, "rb") as f:
        head = f.read(PREFIX)
        if head[:8] != b"MOEC\0ART":
            sys.exit(f"{path}: not a moec artifact")
        size = struct.unpack_from("<Q", head, 8)[0]
        buf = f.read(size)
    root = u32(buf, 0)
    segments = field(buf, root, 4)  # Header.segments
    vector = segments + u32(buf, segments)
    for i in range(u32(buf, vector)):
        slot = vector + 4 + 4 * i
        seg = slot + u32(buf, slot)
        kind_at, off_at, size_at, sum_at = (field(buf, seg, k) for k in range(4))
        if kind_at is not None and buf[kind_at] == WEIGHTS:
            offset = struct.unpack_from("<Q", buf, off_at)[0]
            length = struct.unpack_from("<Q", buf, size_at)[0]
            return offset, length, PREFIX + sum_at
    sys.exit(f"{path}: no Weights segment")


def copy(src, dst, n, chunk=1 << 26):
    while n:
        data = src.read(min(n, chunk))
        if not data:
            sys.exit("unexpected end of file")
        dst.write(data)
        n -= len(data)


def strip(model, skeleton):
    offset, length, _ = weights_segment(model)
    with open(model, "rb") as src, open(skeleton + ".tmp", "wb") as dst:
        copy(src, dst, offset)
        src.seek(offset + length)
        rest = os.path.getsize(model) - offset - length
        copy(src, dst, rest)
    with open(skeleton + ".json", "w") as f:
        json.dump({"offset": offset, "size": length}, f)
    os.replace(skeleton + ".tmp", skeleton)


def fill(skeleton, model, seed):
    import numpy as np
    import xxhash

    with open(skeleton + ".json") as f:
        meta = json.load(f)
    offset, length = meta["offset"], meta["size"]
    rng = np.random.default_rng(seed)
    digest = xxhash.xxh3_64()
    with open(skeleton, "rb") as src, open(model + ".tmp", "wb") as dst:
        copy(src, dst, offset)
        left = length
        while left:
            n = min(left, 1 << 27)
            r = rng.integers(0, 1 << 16, size=(n + 1) // 2, dtype=np.uint16)
            bits = (r & 0x807F) | ((0x76 + ((r >> 7) & 3)) << 7).astype(np.uint16)
            data = bits.tobytes()[:n]
            digest.update(data)
            dst.write(data)
            left -= n
        copy(src, dst, os.path.getsize(skeleton) - offset)
    _, _, sum_at = weights_segment(model + ".tmp")
    with open(model + ".tmp", "r+b") as f:
        f.seek(sum_at)
        f.write(struct.pack("<Q", digest.intdigest()))
        # The header's checksum: XXH3-64 of the magic and size, then the
        # header.
        f.seek(0)
        prefix = f.read(PREFIX)
        size = struct.unpack_from("<Q", prefix, 8)[0]
        f.seek(PREFIX)
        header = f.read(size)
        f.seek(16)
        f.write(struct.pack("<Q", xxhash.xxh3_64(prefix[:16] + header).intdigest()))
    os.replace(model + ".tmp", model)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("strip")
    s.add_argument("model")
    s.add_argument("skeleton")
    f = sub.add_parser("fill")
    f.add_argument("skeleton")
    f.add_argument("model")
    f.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.command == "strip":
        strip(args.model, args.skeleton)
    else:
        fill(args.skeleton, args.model, args.seed)


if __name__ == "__main__":
    main()
