#!/usr/bin/env python3
"""A bounded load test of moec-serve on the loopback interface.

    serve_load.py MODEL.moec [--clients=1,4,16] [--requests=32] [--max-tokens=32]
                  [--parallel=4] [--max-seq-len=N]

Starts moec-serve on a free port of 127.0.0.1, then for each client count
sends --requests completion requests from that many threads (greedy, a
fixed prompt, --max-tokens each), and prints requests/s and generated
tokens/s, and the aggregate tokens/s against one client's. Standard
library only; nothing leaves the machine.
"""

import argparse
import json
import socket
import subprocess
import threading
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--clients", default="1,4,16")
    parser.add_argument("--requests", type=int, default=32)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--parallel", type=int, default=4,
                        help="moec-serve --parallel: answers decoded together")
    parser.add_argument("--max-seq-len", type=int,
                        help="moec-serve --max-seq-len (default: its own)")
    parser.add_argument("--server", default="moec-serve")
    args = parser.parse_args()
    port = free_port()
    command = [args.server, args.model, "--port", str(port), "--queue", "4096",
               "--parallel", str(args.parallel)]
    if args.max_seq_len:
        command += ["--max-seq-len", str(args.max_seq_len)]
    server = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    # A large model's weights take a while to map.
    for _ in range(1200):
        try:
            urllib.request.urlopen(base + "/health", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    body = json.dumps({"prompt": "The router reads the token and",
                       "max_tokens": args.max_tokens, "temperature": 0}).encode()

    def one():
        req = urllib.request.Request(base + "/v1/completions", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=600) as r:
            return json.loads(r.read())["usage"]["completion_tokens"]

    try:
        one()  # warm-up
        single = None
        print("clients  requests/s  tokens/s  against one client")
        for clients in [int(c) for c in args.clients.split(",")]:
            done, lock = [0], threading.Lock()
            per = [args.requests // clients + (i < args.requests % clients)
                   for i in range(clients)]

            def worker(n):
                for _ in range(n):
                    tokens = one()
                    with lock:
                        done[0] += tokens

            threads = [threading.Thread(target=worker, args=(n,)) for n in per]
            start = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            seconds = time.perf_counter() - start
            rate = done[0] / seconds
            single = single or rate
            print(f"{clients:7d}  {args.requests / seconds:10.2f}  {rate:8.1f}  "
                  f"{rate / single:.2f}x")
    finally:
        server.terminate()
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
