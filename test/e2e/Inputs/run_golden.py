#!/usr/bin/env python3
"""For each golden case: moec-synth, moec-compile, moec-run --logits, and a
comparison with test/reference (compare_logits.py).

run_golden.py [--cuda] [--compile-flag=F]... [--tolerance=T] WORK CASE...
(--cuda: compiled for and run on the GPU, and its greedy tokens compared
with the CPU build's)"""

import argparse
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
    parser = argparse.ArgumentParser()
    parser.add_argument("--cuda", action="store_true")
    parser.add_argument("--compile-flag", action="append", default=[],
                        help="passed to moec-compile (repeatable)")
    parser.add_argument("--tolerance", help="passed to compare_logits.py")
    parser.add_argument("work")
    parser.add_argument("cases", nargs="+")
    args = parser.parse_args()
    cuda, work, cases = args.cuda, args.work, args.cases
    target = (["--target=cuda"] if cuda else []) + args.compile_flag
    with open(os.path.join(REFERENCE, "cases.json")) as f:
        table = json.load(f)
    for case in cases:
        d = os.path.join(work, case)
        run("moec-synth", "-o", d, *table[case]["synth"])
        run("moec-compile", d, "-o", d + ".moec", *target)
        tokens = [str(t) for t in npy.rows(
            os.path.join(REFERENCE, case, "tokens.npy"))[0]]
        compare = [sys.executable, os.path.join(REFERENCE, "compare_logits.py"),
                   case, d + ".npy"]
        if args.tolerance:
            compare += ["--tolerance", args.tolerance]
        if "ForCausalLM" in "".join(table[case]["synth"]):
            generated = run("moec-run", d + ".moec", "--tokens", ",".join(tokens),
                            "--logits", d + ".npy", "--max-new-tokens", "6").strip()
            rescore = tokens + generated.split(",")[:-1]
            run("moec-run", d + ".moec", "--tokens", ",".join(rescore),
                "--logits", d + ".rescored.npy", "--max-new-tokens", "0")
            compare += ["--generated", generated, "--rescored", d + ".rescored.npy"]
            if cuda:
                run("moec-compile", d, "-o", d + ".cpu.moec")
                on_cpu = run("moec-run", d + ".cpu.moec", "--tokens",
                             ",".join(tokens), "--max-new-tokens", "6").strip()
                same = "the same" if on_cpu == generated else "different"
                print(f"{case}: cpu and cuda generate {same} tokens "
                      f"({on_cpu} / {generated})")
        else:
            # Classification heads score the tokens; nothing is generated.
            run("moec-run", d + ".moec", "--tokens", ",".join(tokens),
                "--logits", d + ".npy")
        sys.stdout.flush()
        subprocess.run(compare, check=True)


if __name__ == "__main__":
    main()
