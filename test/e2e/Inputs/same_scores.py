#!/usr/bin/env python3
"""same_scores.py A B: the comma-separated scores in files A and B agree to
1e-5 of the largest |score| (the summation order of a reduction may depend
on its length, so the last bit may differ), and there are as many."""
import sys

a, b = ([float(v) for v in open(p).read().split(",")] for p in sys.argv[1:3])
if len(a) != len(b):
    sys.exit(f"{len(a)} scores against {len(b)}")
bound = 1e-5 * max(abs(v) for v in a + b)
worst = max(abs(x - y) for x, y in zip(a, b))
if worst > bound:
    sys.exit(f"scores differ by {worst:g} (bound {bound:g}): {a} vs {b}")
print(f"{len(a)} scores agree")
