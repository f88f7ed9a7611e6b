#!/usr/bin/env python3
"""overwrite_in_chat.py MODEL.moec OTHER.moec: starts `moec-run MODEL --chat`,
sends a turn, waits for its answer, overwrites MODEL in place with OTHER's
bytes (same file, new contents), sends a second turn and prints moec-run's
exit status and last line of stderr."""

import subprocess
import sys


def main():
    model, other = sys.argv[1], sys.argv[2]
    run = subprocess.Popen(["moec-run", model, "--chat", "--max-new-tokens", "4"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    run.stdin.write("hello\n")
    run.stdin.flush()
    # The first turn's stats line ends it.
    for line in run.stderr:
        if line.startswith("moec-run: prompt"):
            break
    with open(other, "rb") as f:
        data = f.read()
    with open(model, "r+b") as f:
        f.write(data)
        f.truncate()
    run.stdin.write("again\n")
    run.stdin.close()
    rest = run.stderr.read().strip().splitlines()
    run.wait(timeout=60)
    print(f"exit {run.returncode}")
    print(rest[-1] if rest else "(no message)")


if __name__ == "__main__":
    main()
