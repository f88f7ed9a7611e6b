#!/usr/bin/env python3
"""For each golden case: moec-synth, moec-compile, moec-run --logits, and a
comparison with test/reference (compare_logits.py).  run_golden.py WORK CASE..."""

import json
import os
import subprocess
import sys

REFERENCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                         "reference")
sys.path.insert(0, REFERENCE)
import npy  # noqa: E402


def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def main():
    work, cases = sys.argv[1], sys.argv[2:]
    with open(os.path.join(REFERENCE, "cases.json")) as f:
        table = json.load(f)
    for case in cases:
        d = os.path.join(work, case)
        run("moec-synth", "-o", d, *table[case]["synth"])
        run("moec-compile", d, "-o", d + ".moec")
        tokens = [str(t) for t in npy.rows(
            os.path.join(REFERENCE, case, "tokens.npy"))[0]]
        compare = [sys.executable, os.path.join(REFERENCE, "compare_logits.py"),
                   case, d + ".npy"]
        if "ForCausalLM" in "".join(table[case]["synth"]):
            generated = run("moec-run", d + ".moec", "--tokens", ",".join(tokens),
                            "--logits", d + ".npy", "--max-new-tokens", "6").strip()
            rescore = tokens + generated.split(",")[:-1]
            run("moec-run", d + ".moec", "--tokens", ",".join(rescore),
                "--logits", d + ".rescored.npy", "--max-new-tokens", "0")
            compare += ["--generated", generated, "--rescored", d + ".rescored.npy"]
        else:
            # Classification heads score the tokens; nothing is generated.
            run("moec-run", d + ".moec", "--tokens", ",".join(tokens),
                "--logits", d + ".npy")
        sys.stdout.flush()
        subprocess.run(compare, check=True)


if __name__ == "__main__":
    main()
