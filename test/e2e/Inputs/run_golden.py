#!/usr/bin/env python3
"""For each golden case: moec-synth, moec-compile, moec-run --logits, and a
comparison with test/reference (compare_logits.py).

run_golden.py [--cuda] [--compile-flag=F]... [--tolerance=T]
              [--quantized=q8_0|q4_0|bf16|f16|f32] [--cases=FILE]
              [--compile-only | --run-only] WORK CASE...
(--cuda: compiled for and run on the GPU, and its greedy tokens compared
with the CPU build's. --compile-only makes the artifacts, and with --cuda
the CPU build's tokens, in WORK; --run-only runs and checks what a
--compile-only left there: the GPU machine then needs only the runtime.
--cases: a JSON file of further cases, each its moec-synth flags and its
token ids, with no transformers logits: for --quantized only, whose
reference is the float64 forward.)"""

import argparse
import json
import os
import subprocess
import sys

REFERENCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                         "reference")
sys.path.insert(0, REFERENCE)
import npy  # noqa: E402


class Failed(Exception):
    pass


# Tokens generated greedily by each causal case.
GENERATED = 6


def run(*args):
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        raise Failed(f"{' '.join(args)} exited {done.returncode}: "
                     f"{done.stderr.strip()}")
    return done.stdout


def generate(artifact, tokens, *extra):
    return run("moec-run", artifact, "--tokens", ",".join(tokens), *extra).strip()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cuda", action="store_true")
    parser.add_argument("--compile-flag", action="append", default=[],
                        help="passed to moec-compile (repeatable)")
    parser.add_argument("--tolerance", help="passed to compare_logits.py")
    parser.add_argument("--quantized", choices=["q8_0", "q4_0", "bf16", "f16", "f32"],
                        help="compile with --weights=FORMAT and compare with "
                        "a float64 forward of the dequantized weights "
                        "(quantized_forward.py); the error against the "
                        "unquantized golden logits is printed too")
    phase = parser.add_mutually_exclusive_group()
    phase.add_argument("--compile-only", action="store_true")
    phase.add_argument("--run-only", action="store_true")
    parser.add_argument("--cases", dest="cases_file",
                        help="a JSON file of cases without transformers "
                        "logits (synth flags, token ids)")
    parser.add_argument("work")
    parser.add_argument("cases", nargs="+")
    args = parser.parse_args()
    cases = args.cases
    with open(os.path.join(REFERENCE, "cases.json")) as f:
        table = json.load(f)
    if args.cases_file:
        if not args.quantized:
            sys.exit("--cases: such cases have no golden logits; "
                     "use --quantized")
        with open(args.cases_file) as f:
            table.update(json.load(f))
    failed = []
    for case in cases:
        try:
            check_case(args, table, case)
        except (Failed, subprocess.CalledProcessError) as e:
            print(f"{case}: FAILED: {e}", flush=True)
            failed.append(case)
    if failed:
        sys.exit(f"failed: {' '.join(failed)}")


def check_case(args, table, case):
    cuda, work = args.cuda, args.work
    target = (["--target=cuda"] if cuda else []) + args.compile_flag
    if args.quantized:
        target.append("--weights=" + args.quantized)
    d = os.path.join(work, case)
    causal = "ForCausalLM" in "".join(table[case]["synth"])
    if isinstance(table[case].get("tokens"), list):
        tokens = [str(t) for t in table[case]["tokens"]]
    else:
        tokens = [str(t) for t in npy.rows(
            os.path.join(REFERENCE, case, "tokens.npy"))[0]]
    cpu_tokens = d + ".cpu-tokens"
    # The integer products (--int8-dot, the default for blocks where the CPU
    # has them) round activations too, which the references do not: only
    # exact builds are held to the unquantized build's greedy tokens.
    exact = (cuda or "--int8-dot=false" in args.compile_flag
             or args.quantized not in ("q8_0", "q4_0"))
    plain = d + ".unquantized.moec"
    if not args.run_only:
        run("moec-synth", "-o", d, *table[case]["synth"])
        run("moec-compile", d, "-o", d + ".moec", *target)
        if cuda and causal:
            # The same weights with the exact CPU kernels (the GPU's widen
            # blocks to f32 too).
            same_weights = (["--weights=" + args.quantized, "--int8-dot=false"]
                            if args.quantized else [])
            run("moec-compile", d, "-o", d + ".cpu.moec", *same_weights)
            with open(cpu_tokens, "w") as f:
                f.write(generate(d + ".cpu.moec", tokens,
                                 "--max-new-tokens", str(GENERATED)))
        if args.quantized and causal and exact:
            cpu_flags = [f for f in args.compile_flag
                         if not f.startswith("--gpu-")]
            run("moec-compile", d, "-o", plain, *cpu_flags)
    if args.compile_only:
        return
    compare = [sys.executable, os.path.join(REFERENCE, "compare_logits.py"),
               case, d + ".npy"]
    if args.tolerance:
        compare += ["--tolerance", args.tolerance]
    if args.quantized:
        reference = d + "." + args.quantized + ".ref.npy"
        greedy = run(sys.executable, os.path.join(REFERENCE, "quantized_forward.py"),
                     d, args.quantized, ",".join(tokens), reference,
                     *(["--dense-down"] if "--no-sparse" in target else []),
                     f"--greedy={GENERATED}" if causal else "--greedy=0")
        compare += ["--ref", reference]
    if causal:
        generated = generate(d + ".moec", tokens, "--logits", d + ".npy",
                             "--max-new-tokens", str(GENERATED))
        rescore = tokens + generated.split(",")[:-1]
        generate(d + ".moec", rescore, "--logits", d + ".rescored.npy",
                 "--max-new-tokens", "0")
        if table[case].get("mixes_tokens"):
            # Sinkhorn routes a prompt's tokens together and a decode step
            # alone: a prefill of the same sequence need not agree.
            print(f"{case}: decoded {generated} (its router mixes a call's "
                  "tokens: not compared with a prefill)")
        else:
            compare += ["--generated", generated,
                        "--rescored", d + ".rescored.npy"]
        if cuda:
            with open(cpu_tokens) as f:
                on_cpu = f.read().strip()
            same = "the same" if on_cpu == generated else "different"
            print(f"{case}: cpu and cuda generate {same} tokens "
                  f"({on_cpu} / {generated})")
    else:
        # Classification heads score the tokens; nothing is generated.
        generate(d + ".moec", tokens, "--logits", d + ".npy")
    sys.stdout.flush()
    subprocess.run(compare, check=True)
    if args.quantized:
        # The format's cost: against the unquantized model's logits.
        cost = subprocess.run(
            [sys.executable, os.path.join(REFERENCE, "compare_logits.py"),
             case, d + ".npy", "--tolerance", "1e9"],
            capture_output=True, text=True).stdout.strip().splitlines()
        print(f"{case}: {args.quantized} against the unquantized model: "
              + (cost[0].split(": ", 1)[1] if cost else "no comparison"),
              flush=True)
        if causal and exact:
            check_greedy(case, plain, tokens, generated, json.loads(greedy))


def check_greedy(case, plain, tokens, generated, reference):
    """The quantized build's greedy tokens are the unquantized build's
    (`plain`, on the CPU) for as long as the float64 references over both
    sets of weights choose the same tokens by a clear margin
    (quantized_forward.py --greedy)."""
    ours = [int(t) for t in generated.split(",")]
    theirs = [int(t) for t in generate(plain, tokens, "--max-new-tokens",
                                       str(GENERATED)).split(",")]
    clear = reference["clear"]
    same = 0
    while same < GENERATED and ours[same] == theirs[same]:
        same += 1
    print(f"{case}: greedy tokens equal the unquantized build's for {same} of "
          f"{GENERATED}; the references agree clearly on {clear}", flush=True)
    if same < clear or theirs[:clear] != reference["unquantized"][:clear]:
        raise Failed(f"greedy tokens {ours} and unquantized {theirs}; the "
                     f"references: {reference}")


if __name__ == "__main__":
    main()
