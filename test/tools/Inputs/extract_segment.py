#!/usr/bin/env python3
"""extract_segment.py MODEL.moec KIND OUT: writes one segment of an artifact
(Code, Weights, ...) to OUT, as `moec-run --info` places it."""

import re
import subprocess
import sys

model, kind, out = sys.argv[1:4]
info = subprocess.run(["moec-run", "--info", model], check=True,
                      capture_output=True, text=True).stdout
match = re.search(rf"^segment:\s+{kind}\s+offset (\d+), (\d+) bytes", info, re.M)
if not match:
    sys.exit(f"{model}: no {kind} segment")
offset, size = int(match.group(1)), int(match.group(2))
with open(model, "rb") as f:
    f.seek(offset)
    data = f.read(size)
with open(out, "wb") as f:
    f.write(data)
