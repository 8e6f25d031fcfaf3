#!/usr/bin/env python3
"""Reads `umb probe --json` on stdin; fails unless it is valid and complete."""
import json
import sys

probe = json.load(sys.stdin)
for key in ("backend", "query_mask", "commands", "registrations", "seccomp",
            "gvisor", "cpus", "kernel_release"):
    assert key in probe, f"missing key {key}"
names = {c["name"] for c in probe["commands"]}
assert len(probe["commands"]) == 11, names
for c in probe["commands"]:
    assert {"name", "value", "supported"} <= c.keys(), c
    if c["supported"] and c["value"]:
        assert probe["query_mask"] & c["value"], c
assert probe["cpus"] >= 1
print("probe JSON: ok,", len(names), "commands, backend", probe["backend"])
