"""Checks moec-run's text mode on MODEL against its token-id mode.

usage: check_run_text.py MODEL.moec PROMPT

Prints one line per check that holds; exits 1 on the first that does not.
"""
import json
import subprocess
import sys


def fail(message):
    print("FAILED:", message)
    sys.exit(1)


def run(*args, stdin=None):
    done = subprocess.run(["moec-run", *args], input=stdin,
                          capture_output=True)
    if done.returncode != 0:
        fail(f"moec-run {' '.join(args)}: exit {done.returncode}: "
             f"{done.stderr.decode(errors='replace')}")
    return done.stdout, done.stderr.decode(errors="replace")


def check_ids_generate(prompt_ids, tokens, count, what):
    """--tokens PROMPT_IDS must generate `tokens` first."""
    ids = ",".join(map(str, prompt_ids))
    out, _ = run(model, "--tokens", ids, "--max-new-tokens", str(count))
    generated = [int(t) for t in out.decode().strip().split(",") if t]
    if generated[:len(tokens)] != tokens:
        fail(f"{what}: {tokens}, but --tokens {ids} generates {generated}")


model, prompt = sys.argv[1], sys.argv[2]

# Streamed text, then the same generation as JSON.
out, err = run(model, "--prompt", prompt, "--max-new-tokens", "12")
if not out.endswith(b"\n"):
    fail("the streamed text does not end in a newline")
text = out[:-1].decode()
report = json.loads(run(model, "--prompt", prompt, "--max-new-tokens", "12",
                        "--json")[0])
if report["text"] != text:
    fail(f"--json text {report['text']!r} != streamed {text!r}")
if report["generated_tokens"] != len(report["tokens"]):
    fail("generated_tokens does not count tokens")
print("json: same text as streamed,", report["stop_reason"])

# Text in is the tokenizer's ids in: --tokens gives the same ids.
check_ids_generate(report["prompt_ids"], report["tokens"], 12, "text mode")
print("tokens: prompt ids generate the same ids")

# --stop ends the text before the stop string, which is not printed.
# (ASCII letters: a replacement character stands for bytes, not itself.)
stop = next((text[i:i + 2] for i in range(2, len(text) - 2)
             if text[i:i + 2].isascii() and text[i:i + 2].isalnum()
             and text.find(text[i:i + 2]) == i), None)
if stop is None:
    fail(f"no stop string to try in {text!r}")
out, err = run(model, "--prompt", prompt, "--max-new-tokens", "12",
               "--stop", "never generated", "--stop", stop)
if out.decode() != text[:text.find(stop)] + "\n":
    fail(f"--stop {stop!r}: {out.decode()!r}")
if "stopped by stop" not in err:
    fail(f"--stop: the timings line says {err!r}")
print("stop: the text ends before the stop string")

# A conversation keeps the cache: turn 2 continues what turn 1 left.
out, _ = run(model, "--chat", "--json", "--max-new-tokens", "5",
             stdin=b"first question\nsecond question\n")
turns = [json.loads(line) for line in out.decode().splitlines()]
if len(turns) != 2:
    fail(f"--chat: {len(turns)} turns for 2 lines")
first, second = turns
# A turn cut short leaves its last token to the next; one that ended
# leaves its end token, which no report shows: the whole run below checks it.
if first["stop_reason"] != "eos" and \
        second["prompt_ids"][:1] != first["tokens"][-1:]:
    fail("--chat: turn 2 does not start with the token turn 1 left")
cached = first["prompt_ids"] + (first["tokens"] if first["stop_reason"] == "eos"
                                else first["tokens"][:-1])
check_ids_generate(cached + second["prompt_ids"], second["tokens"], 5,
                   "--chat turn 2")
print("chat: turn 2 equals the whole conversation run at once")
