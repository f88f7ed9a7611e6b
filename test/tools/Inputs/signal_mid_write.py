#!/usr/bin/env python3
"""signal_mid_write.py SIGNAL SECONDS COMMAND...: runs COMMAND, sends it
SIGNAL (INT or TERM) after SECONDS, and prints how it ended. The child
starts with default signal dispositions (unlike a shell's background job,
which ignores SIGINT)."""

import signal
import subprocess
import sys
import time


def main():
    name, seconds, command = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    time.sleep(seconds)
    if child.poll() is None:
        child.send_signal(getattr(signal, "SIG" + name))
        state = "signalled"
    else:
        state = "finished first"
    code = child.wait()
    print(f"{state}, exit {code}")


if __name__ == "__main__":
    main()
