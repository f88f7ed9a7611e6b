"""moec-serve for the tests: started on a free port of 127.0.0.1, returned
with its base URL once /health answers."""

import socket
import subprocess
import time
import urllib.request


def start_server(model, *flags, key=None, wait=20.0):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = ["moec-serve", model, "--port", str(port), *flags]
    if key:
        command += ["--api-key", key]
    server = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/health", timeout=1)
            break
        except OSError:
            time.sleep(0.05)
    return server, base
