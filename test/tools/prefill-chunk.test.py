"""Runs each model's prompt token by token and in chunks, and compares the
logits (test/reference/compare_logits.py, tolerance 1e-5)."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
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
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
