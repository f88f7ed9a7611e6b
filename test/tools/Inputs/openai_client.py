#!/usr/bin/env python3
"""openai_client.py MODEL.moec: moec-serve as the `openai` package sees it.

Starts moec-serve (4 sequences decoded together, prompts read 4 tokens a
step) on a free port with an API key and prints one line per check:
models, a completion equal to what moec-run generates alone, chat, a stream
that adds up to the chat answer, a stop string, eight concurrent requests
from threads each equal to its prompt run alone, a client that goes away
mid-stream (its sequence freed), the errors the API defines (401, 400 with
codes, 429 from a full queue), memory after many requests, and SIGTERM
finishing a stream in flight.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import openai

from serving import start_server

KEY = "sk-test"


def start(model, *flags):
    server, base = start_server(model, *flags, key=KEY)
    client = openai.OpenAI(base_url=base + "/v1", api_key=KEY, max_retries=0, timeout=60)
    return server, base, client


def metrics(base):
    text = urllib.request.urlopen(base + "/metrics", timeout=5).read().decode()
    return {line.split()[0]: float(line.split()[1])
            for line in text.splitlines() if line and not line.startswith("#")}


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def alone(model, prompt, tokens):
    """What moec-run generates for `prompt`, greedy, on its own."""
    return subprocess.run(["moec-run", model, "--prompt", prompt, "--max-new-tokens", str(tokens)],
                          capture_output=True, text=True, check=True).stdout.rstrip("\n")


def main():
    model = sys.argv[1]
    # Prompts in chunks of 4 tokens: the concurrent ones are read in
    # steps beside the others' decode tokens.
    server, base, client = start(model, "--parallel", "4", "--prefill-chunk", "4")

    print("models:", [m.id for m in client.models.list().data] == [os.path.basename(model)])

    prompt = "The router reads"
    c = client.completions.create(model="m", prompt=prompt, max_tokens=8, temperature=0)
    print("completion:", c.object, c.usage.completion_tokens, c.choices[0].finish_reason,
          c.choices[0].text == alone(model, prompt, 8))

    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}]
    chat = client.chat.completions.create(model="m", messages=messages, max_tokens=6,
                                          temperature=0)
    answer = chat.choices[0].message.content
    print("chat:", chat.object, chat.choices[0].message.role, chat.usage.prompt_tokens > 0)

    pieces, finish, usage = [], None, None
    for event in client.chat.completions.create(model="m", messages=messages, max_tokens=6,
                                                temperature=0, stream=True,
                                                stream_options={"include_usage": True}):
        if event.usage:
            usage = event.usage
        for choice in event.choices:
            pieces.append(choice.delta.content or "")
            finish = choice.finish_reason or finish
    print("stream:", "".join(pieces) == answer, finish, usage.completion_tokens)

    # A stop string from the middle of the answer (two letters) ends it
    # just before the string's first occurrence.
    full = alone(model, prompt, 8)
    at = next(i for i in range(1, len(full) - 1) if full[i:i + 2].isascii()
              and full[i:i + 2].isalpha())
    stop = full[at:at + 2]
    s = client.completions.create(model="m", prompt=prompt, max_tokens=8, temperature=0,
                                  stop=[stop])
    print("stop:", s.choices[0].finish_reason, s.choices[0].text == full[:full.index(stop)])

    # Eight at once on four sequences: each equals its prompt alone.
    prompts = [f"The experts of layer {i} read" for i in range(8)]
    results = [None] * len(prompts)

    def ask(i):
        r = client.completions.create(model="m", prompt=prompts[i], max_tokens=12,
                                      temperature=0)
        results[i] = r.choices[0].text
    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(prompts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("concurrent equal alone:", all(results[i] == alone(model, p, 12)
                                         for i, p in enumerate(prompts)))
    print("batched:", metrics(base)["moec_steps_total"] <
          metrics(base)["moec_batch_decode_tokens_total"])

    # A client that goes away mid-stream: its answer is cancelled and its
    # sequence freed.
    # (A budget long enough that the answer cannot end first.)
    stream = client.completions.create(model="m", prompt=prompt, max_tokens=3000,
                                       temperature=0, stream=True)
    next(iter(stream))
    stream.close()
    for _ in range(100):
        m = metrics(base)
        if m["moec_requests_cancelled_total"] >= 1 and m["moec_sequences_running"] == 0:
            break
        time.sleep(0.05)
    print("disconnect: cancelled", int(m["moec_requests_cancelled_total"]),
          "running", int(m["moec_sequences_running"]))

    # Errors, each in the API's format; the server keeps serving.
    def error(call):
        try:
            call()
        except openai.APIStatusError as e:
            body = e.body if isinstance(e.body, dict) else {}
            return e.status_code, body.get("type"), body.get("code")
        return None
    bad_key = openai.OpenAI(base_url=base + "/v1", api_key="sk-wrong", max_retries=0)
    print("wrong key:", error(lambda: bad_key.models.list()))
    print("too long:", error(lambda: client.completions.create(
        model="m", prompt="word " * 5000, max_tokens=4)))
    print("max_tokens past the context:", error(lambda: client.completions.create(
        model="m", prompt=prompt, max_tokens=1 << 20)))
    print("unknown field:", error(lambda: client.completions.create(
        model="m", prompt=prompt, max_tokens=2, extra_body={"best_of_all": 3})))
    print("n = 2:", error(lambda: client.completions.create(
        model="m", prompt=prompt, max_tokens=2, n=2)))
    print("still serving:", client.completions.create(
        model="m", prompt=prompt, max_tokens=2, temperature=0).choices[0].finish_reason)

    # Memory after many requests, against after the first 200 (by which the
    # handler threads and the allocator's arenas have all been used: the
    # resident size grows over the first 180 or so, then stays).
    def requests(n):
        for _ in range(n):
            client.completions.create(model="m", prompt=prompt, max_tokens=16, temperature=0.8)
    requests(200)
    before = rss_kib(server.pid)
    requests(100)
    grown = rss_kib(server.pid) - before
    print("memory grows under 1 MiB:", grown < 1024)
    if grown >= 1024:
        print(f"  grew {grown} KiB", file=sys.stderr)
    server.send_signal(signal.SIGTERM)
    print("stopped, exit", server.wait(timeout=60))

    # One sequence and no queue: a second request while the first streams
    # gets 429; SIGTERM lets the first finish before the server exits.
    server, base, client = start(model, "--parallel", "1", "--queue", "0")
    stream = client.completions.create(model="m", prompt=prompt, max_tokens=1000,
                                       temperature=0, stream=True)
    events = iter(stream)
    first = next(events)
    print("queue full:", error(lambda: client.completions.create(
        model="m", prompt=prompt, max_tokens=2)))
    server.send_signal(signal.SIGTERM)
    text = first.choices[0].text + "".join(e.choices[0].text for e in events)
    print("in flight at SIGTERM finished:", text == alone(model, prompt, 1000))
    print("stopped, exit", server.wait(timeout=60))


if __name__ == "__main__":
    main()
