#!/usr/bin/env python3
"""Checks that moec-synth still writes, byte for byte, the checkpoints the
golden data in this folder was computed from (files.json of each case), and
that the golden files are there and well-formed.

    check_synth.py MOEC_SYNTH WORKDIR
"""

import hashlib
import json
import os
import subprocess
import sys

import npy

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    synth, work = sys.argv[1], sys.argv[2]
    with open(os.path.join(HERE, "cases.json")) as f:
        cases = {k: v for k, v in json.load(f).items() if not k.startswith("_")}
    for name, case in cases.items():
        out = os.path.join(work, name)
        subprocess.run([synth, "-o", out] + case["synth"], check=True)
        with open(os.path.join(HERE, name, "files.json")) as f:
            expected = json.load(f)
        got = {n: hashlib.sha256(open(os.path.join(out, n), "rb").read()).hexdigest()
               for n in sorted(os.listdir(out))}
        if got != expected:
            sys.exit(f"{name}: moec-synth no longer writes the golden checkpoint "
                     f"({sorted(k for k in got if got.get(k) != expected.get(k))} differ); "
                     "rerun make_golden.py")
        tokens, tdtype, _ = npy.read(os.path.join(HERE, name, "tokens.npy"))
        logits, ldtype, _ = npy.read(os.path.join(HERE, name, "logits.npy"))
        if tokens != (case["tokens"],) or tdtype != "<i4" or ldtype != "<f4":
            sys.exit(f"{name}: golden files have unexpected shapes or dtypes")
        print(f"{name}: checkpoint matches, tokens {tokens}, logits {logits}")


if __name__ == "__main__":
    main()
