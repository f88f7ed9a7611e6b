#!/usr/bin/env python3
"""Compares moec's logits with the golden ones, without numpy.

    compare_logits.py CASE GOT.npy [--generated IDS --rescored RESCORED.npy]
                                   [--ref REF.npy --tolerance T]

Passes when the argmax agrees at every position and
max |logit - ref| <= T * max |ref| (T = 1e-3; the reference is the case's
golden logits unless --ref names another file). With --generated (the ids moec-run
printed when decoding greedily from the case's tokens) and --rescored (the
logits of the tokens followed by those ids, from one prefill), it also checks
that incremental decoding chose what a prefill of the same sequence would:
decode and prefill see the same KV cache.
"""

import argparse
import os
import sys

import npy

HERE = os.path.dirname(os.path.abspath(__file__))


def argmax(row):
    return max(range(len(row)), key=lambda i: row[i])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("case")
    parser.add_argument("got")
    parser.add_argument("--generated")
    parser.add_argument("--rescored")
    parser.add_argument("--ref")
    parser.add_argument("--tolerance", type=float, default=1e-3)
    args = parser.parse_args()

    ref = npy.rows(args.ref or os.path.join(HERE, args.case, "logits.npy"))
    got = npy.rows(args.got)
    if len(got) != len(ref) or len(got[0]) != len(ref[0]):
        sys.exit(f"{args.case}: shape {len(got)}x{len(got[0])}, expected "
                 f"{len(ref)}x{len(ref[0])}")
    scale = max(abs(v) for row in ref for v in row)
    err = max(abs(a - b) for ra, rb in zip(got, ref) for a, b in zip(ra, rb))
    mismatches = [i for i, (a, b) in enumerate(zip(got, ref)) if argmax(a) != argmax(b)]
    print(f"{args.case}: max |err| {err:.3g} = {err / scale:.3g} of max |ref|, "
          f"argmax differs at {len(mismatches)} of {len(ref)} positions")
    if mismatches or err > args.tolerance * scale:
        sys.exit(f"{args.case}: FAILED")

    if args.generated:
        ids = [int(x) for x in args.generated.split(",")]
        rescored = npy.rows(args.rescored)
        prompt = len(ref)
        # rescored holds prompt + ids[:-1]; position prompt-1+k predicts ids[k].
        expected = [argmax(rescored[prompt - 1 + k]) for k in range(len(ids))]
        if expected != ids:
            sys.exit(f"{args.case}: decoding chose {ids}, a prefill of the same "
                     f"sequence chooses {expected}")
        print(f"{args.case}: {len(ids)} decoded tokens match a prefill")


if __name__ == "__main__":
    main()
