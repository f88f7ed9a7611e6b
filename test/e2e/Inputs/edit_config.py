#!/usr/bin/env python3
"""Sets keys of a config.json: edit_config.py FILE KEY=JSON... (a value
that is not JSON is taken as a string; KEY=! deletes the key)."""

import json
import sys


def main():
    path, edits = sys.argv[1], sys.argv[2:]
    with open(path) as f:
        config = json.load(f)
    for edit in edits:
        key, value = edit.split("=", 1)
        if value == "!":
            config.pop(key, None)
            continue
        try:
            config[key] = json.loads(value)
        except json.JSONDecodeError:
            config[key] = value
    with open(path, "w") as f:
        json.dump(config, f, indent=2)


if __name__ == "__main__":
    main()
