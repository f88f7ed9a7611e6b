#!/usr/bin/env python3
"""serve_client.py MODEL.moec: starts moec-serve on a free port with an API
key, checks it as an OpenAI client would (stdlib HTTP only), prints one
line per check, and stops it with SIGTERM."""

import json
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

from serving import start_server

KEY = "sk-test"


def main():
    model = sys.argv[1]
    server, base = start_server(model, key=KEY)

    def call(path, body=None, key=KEY, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = "Bearer " + key
        req = urllib.request.Request(base + path, data=data, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    status, body = call("/v1/models")
    print("models", status, json.loads(body)["data"][0]["object"])
    prompt = "The router reads"
    status, body = call("/v1/completions", {"prompt": prompt, "max_tokens": 8, "temperature": 0})
    completion = json.loads(body)
    print("completion", status, completion["object"], completion["usage"]["completion_tokens"],
          completion["choices"][0]["finish_reason"])
    alone = subprocess.run(["moec-run", model, "--prompt", prompt, "--max-new-tokens", "8"],
                           capture_output=True, text=True).stdout.rstrip("\n")
    print("completion equals moec-run:", completion["choices"][0]["text"] == alone)
    chat = {"messages": [{"role": "system", "content": "be brief"},
                         {"role": "user", "content": "hello"}], "max_tokens": 6, "temperature": 0}
    status, body = call("/v1/chat/completions", chat)
    answer = json.loads(body)
    print("chat", status, answer["object"], answer["choices"][0]["message"]["role"])
    status, body = call("/v1/chat/completions", dict(chat, stream=True))
    events = [line[6:] for line in body.split("\n") if line.startswith("data: ")]
    streamed = "".join(json.loads(e)["choices"][0]["delta"]["content"] for e in events[:-1])
    print("stream", status, events[-1], "equals the whole answer:",
          streamed == answer["choices"][0]["message"]["content"])
    # A stop string: the first two ASCII letters after the first character
    # of the greedy text (random weights also make invalid bytes).
    text = completion["choices"][0]["text"]
    at = next(i for i in range(1, len(text) - 1)
              if text[i:i + 2].isascii() and text[i:i + 2].isalpha())
    stop = text[at:at + 2]
    status, body = call("/v1/completions", {"prompt": prompt, "max_tokens": 8,
                                            "temperature": 0, "stop": [stop]})
    stopped = json.loads(body)["choices"][0]
    print("stop string", status, stopped["finish_reason"],
          stopped["text"] == text[:text.index(stop)])
    for name, body, raw, key in [
            ("malformed", None, b"{not json", KEY),
            ("unknown field", {"prompt": "x", "logit_bias": {}}, None, KEY),
            ("too long", {"prompt": "x", "max_tokens": 10 ** 7}, None, KEY),
            ("wrong key", {"prompt": "x"}, None, "sk-wrong")]:
        status, text = call("/v1/completions", body, key=key, raw=raw)
        print(name, status, json.loads(text)["error"]["type"])
    # A client that goes away mid-stream: the server goes on serving.
    s = socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])))
    body = json.dumps({"prompt": prompt, "max_tokens": 200, "stream": True}).encode()
    s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY.encode() +
              b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() +
              b"\r\n\r\n" + body)
    s.recv(256)
    s.close()
    status, body = call("/v1/completions", {"prompt": prompt, "max_tokens": 2, "temperature": 0})
    print("after a disconnect", status)
    status, body = call("/metrics")
    print("metrics", status, "moec_requests_total" in body, "moec_queue_length" in body)
    server.send_signal(signal.SIGTERM)
    print("stopped, exit", server.wait(timeout=30))


if __name__ == "__main__":
    main()
