"""Runs each model's prompt token by token and in chunks, and compares the
logits (test/reference/compare_logits.py, tolerance 1e-5). Then generates
from the prompt without --logits, where the head runs for the last token of
the last chunk only: the greedy tokens are those of the run that computed
every row, and the first is the argmax of the reference's last row."""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import npy  # noqa: E402

COMPARE = os.path.join(HERE, "..", "reference", "compare_logits.py")
TOKENS = ",".join(str(7 + 13 * i % 200) for i in range(23))


def logits(work, model, chunk):
    out = os.path.join(work, f"{model}-{chunk}.npy")
    subprocess.run(["moec-run", os.path.join(work, model + ".moec"),
                    "--tokens", TOKENS, "--max-new-tokens", "0",
                    "--prefill-chunk", str(chunk), "--logits", out],
                   check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return out


def generate(work, model, chunk, out=None):
    command = ["moec-run", os.path.join(work, model + ".moec"),
               "--tokens", TOKENS, "--max-new-tokens", "4",
               "--prefill-chunk", str(chunk), "--json"]
    if out:
        command += ["--logits", out]
    result = subprocess.run(command, check=True, capture_output=True,
                            text=True)
    return json.loads(result.stdout)["tokens"]


def check_last_rows(work, model, reference):
    """Whether generation with the last row only agrees with every-row runs;
    prints what it found."""
    expected = generate(work, model, 1, os.path.join(work, "all.npy"))
    last = npy.rows(reference)[-1]
    first = max(range(len(last)), key=last.__getitem__)
    ok = expected[0] == first
    for chunk in (1, 5, 256):
        got = generate(work, model, chunk)
        if got != expected:
            print(f"{model} chunk {chunk}: last-row tokens {got}, "
                  f"every-row tokens {expected}")
            ok = False
    print(f"{model}: last-row generation "
          f"{'agrees' if ok else 'DIFFERS'} ({expected[0]} = argmax {first})")
    return ok


def main():
    work, models = sys.argv[1], sys.argv[2:]
    failed = False
    for model in models:
        one = logits(work, model, 1)
        for chunk in (5, 256):
            got = logits(work, model, chunk)
            result = subprocess.run(
                [sys.executable, COMPARE, f"{model} chunk {chunk}", got,
                 "--ref", one, "--tolerance", "1e-5"],
                capture_output=True, text=True)
            sys.stdout.write(result.stdout)
            sys.stderr.write(result.stderr)
            failed |= result.returncode != 0
        failed |= not check_last_rows(work, model, one)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
