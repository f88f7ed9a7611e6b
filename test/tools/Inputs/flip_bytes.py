#!/usr/bin/env python3
"""flip_bytes.py MODEL.moec FIRST END STEP [moec-run flags...]: for every
STEP-th byte in [FIRST, END) (END 'header': the end of the prefix and
header), a copy of the artifact with that byte's low bit flipped, run with
moec-run and the flags. Each run must fail cleanly: exit status 1 and one
line of error naming the file; a signal, another status or a success is
reported. Prints the counts."""

import os
import struct
import subprocess
import sys


def main():
    model, first, end, step = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    flags = sys.argv[5:]
    data = bytearray(open(model, "rb").read())
    if end == "header":
        end = 24 + struct.unpack_from("<Q", data, 8)[0]
    end = int(end)
    copy = model + ".flipped"
    bad = []
    runs = 0
    for at in range(first, end, step):
        data[at] ^= 1
        with open(copy, "wb") as f:
            f.write(data)
        data[at] ^= 1
        done = subprocess.run(["moec-run", copy] + flags, capture_output=True, text=True)
        runs += 1
        lines = done.stderr.strip().splitlines()
        if done.returncode != 1 or len(lines) != 1 or copy not in lines[0]:
            bad.append((at, done.returncode, done.stderr.strip()[:200]))
    os.remove(copy)
    print(f"{runs} flips, {runs - len(bad)} refused cleanly")
    for at, code, err in bad[:10]:
        print(f"  byte {at}: exit {code}: {err}")


if __name__ == "__main__":
    main()
