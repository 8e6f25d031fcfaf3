#!/usr/bin/env python3
"""check-conform-failures.py EXPECTED -- CMD...: runs CMD (`umb conform
--json`) and passes only if the rules that fail are exactly those listed in
the file EXPECTED (one rule a line, # comments): an implementation known to
differ from Linux is held to its known differences, no more, no fewer.
Exit 77 (skip) when CMD does."""
import json
import subprocess
import sys

expected_file, sep, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
assert sep == "--" and argv, __doc__
with open(expected_file) as f:
    expected = {line.strip() for line in f
                if line.strip() and not line.startswith("#")}
run = subprocess.run(argv, stdout=subprocess.PIPE, text=True)
if run.returncode == 77:
    sys.exit(77)
verdicts = json.loads(run.stdout)
failed = {r["rule"] for r in verdicts["rules"] if r["verdict"] == "FAIL"}
for r in verdicts["rules"]:
    if r["verdict"] == "FAIL":
        print(f"fails (expected={r['expected']} got={r['got']}): {r['rule']}")
for rule in sorted(failed - expected):
    print("FAIL: newly failing:", rule)
for rule in sorted(expected - failed):
    print("FAIL: no longer failing:", rule)
assert verdicts["passed"] > 0, "no rule passed: conform did not run"
sys.exit(0 if failed == expected else 1)
