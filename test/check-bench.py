#!/usr/bin/env python3
"""Runs a tiny `umb bench --json --svg` and checks the shape of both outputs.

Shape only, never timings: a list of objects with the documented keys and
types, every mechanism with the thread counts and kinds asked for, and an
SVG that is well-formed XML with a line per series.
usage: check-bench.py UMB_TOOL
"""
import json
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

tool = sys.argv[1]
with tempfile.NamedTemporaryFile(suffix=".svg") as svg:
    run = subprocess.run([tool, "bench", "--json", "--repeat", "1", "--threads", "0,1",
                          "--svg", svg.name], capture_output=True, text=True, timeout=240)
    sys.stderr.write(run.stderr)
    assert run.returncode == 0, f"exit {run.returncode}"
    rows = json.loads(run.stdout)
    tree = ET.parse(svg.name)

assert isinstance(rows, list) and rows, "expected a non-empty list"
keys = {"mechanism": str, "peer": bool, "command": str, "threads": int,
        "thread_kind": str, "median_ns": int, "p10_ns": int, "p90_ns": int,
        "samples": int}
for r in rows:
    for k, t in keys.items():
        assert isinstance(r.get(k), t), f"{k} missing or not {t.__name__}: {r}"
    assert r["thread_kind"] in ("running", "sleeping"), r
    assert r["threads"] in (0, 1), r
    assert 0 <= r["p10_ns"] <= r["median_ns"] <= r["p90_ns"], r
    assert r["samples"] >= 1, r

series = {}
for r in rows:
    series.setdefault((r["mechanism"], r["command"]), set()).add(
        (r["threads"], r["thread_kind"]))
for s, configs in series.items():
    assert configs == {(0, "running"), (0, "sleeping"), (1, "running"),
                       (1, "sleeping")}, (s, configs)
mechanisms = {m for m, _ in series}

ns = "{http://www.w3.org/2000/svg}"
root = tree.getroot()
assert root.tag == ns + "svg", root.tag
lines = root.findall(f"{ns}polyline")
assert len(lines) == 2 * len(series), (len(lines), len(series))
texts = " ".join(t.text or "" for t in root.iter(f"{ns}text"))
for m, c in series:
    assert m in texts and c in texts, f"legend lacks {m} {c}"
print(f"bench JSON and SVG: ok, {len(series)} series over "
      f"{len(mechanisms)} mechanisms: {', '.join(sorted(mechanisms))}")
