#!/usr/bin/env python3
"""Runs a command and fails if its peak resident memory exceeds LIMIT MiB.
    max_rss.py LIMIT_MIB COMMAND..."""

import resource
import subprocess
import sys

limit = int(sys.argv[1])
status = subprocess.run(sys.argv[2:]).returncode
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
print(f"peak RSS {peak} MiB")
if status != 0:
    sys.exit(status)
if peak > limit:
    sys.exit(f"peak RSS {peak} MiB exceeds {limit} MiB")
