#!/usr/bin/env python3
"""check-fallback.py CASE -- CMD...: runs CMD (`umb probe --json` in a box)
and checks which mechanism serves each barrier command there.

  filtered          membarrier filtered by seccomp (ENOSYS or EPERM): the
                    kernel is rejected for every command, each is served by
                    a user-space mechanism
  filtered-mprotect same box, x86-64: auto picks mprotect for PRIVATE_EXPEDITED
  gvisor            inside gVisor: the kernel serves what QUERY lists (31),
                    the rest is served elsewhere, mprotect never
  gvisor-mprotect   inside gVisor with UMB_BACKEND=mprotect: it serves nothing

Exit 77 (skip) when CMD does, or when the case does not apply here.
"""
import json
import subprocess
import sys

BARRIERS = ("GLOBAL", "GLOBAL_EXPEDITED", "PRIVATE_EXPEDITED",
            "PRIVATE_EXPEDITED_SYNC_CORE", "PRIVATE_EXPEDITED_RSEQ")
GVISOR_KERNEL = ("GLOBAL", "GLOBAL_EXPEDITED", "PRIVATE_EXPEDITED")


def rejection(cmd, mechanism):
    for r in cmd["rejected_by"]:
        if r["mechanism"] == mechanism:
            return r["why"]
    return None


def main():
    case, sep, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
    assert sep == "--" and argv, __doc__
    run = subprocess.run(argv, stdout=subprocess.PIPE, text=True)
    if run.returncode == 77:
        sys.exit(77)
    probe = json.loads(run.stdout)
    cmds = {c["name"]: c for c in probe["commands"] if c["name"] in BARRIERS}
    for name, c in cmds.items():
        print(f"{name:30} {c['mechanism']}", c["rejected_by"])
    errors = []

    def expect(cond, what):
        if not cond:
            errors.append(what)

    if case.startswith("filtered"):
        expect(probe["seccomp"] == "filter", "no seccomp filter in force")
        expect(probe["kernel_query_mask"] in (-38, -1),
               "kernel QUERY is not -ENOSYS/-EPERM")
        for name, c in cmds.items():
            why = rejection(c, "kernel") or ""
            expect("seccomp" in why, f"{name}: kernel not rejected for seccomp")
    if case == "filtered":
        expect(probe["backend"] not in ("kernel", "none"),
               f"umb_heavy() uses {probe['backend']}")
        for name, c in cmds.items():
            expect(c["mechanism"] not in (None, "kernel"),
                   f"{name} served by {c['mechanism']}")
    elif case == "filtered-mprotect":
        if probe["machine"] != "x86_64":
            print("skip: mprotect is x86-64 only", file=sys.stderr)
            sys.exit(77)
        expect(cmds["PRIVATE_EXPEDITED"]["mechanism"] == "mprotect",
               "auto did not pick mprotect for PRIVATE_EXPEDITED")
    elif case.startswith("gvisor"):
        expect(probe["gvisor"], "not detected as gVisor")
        for name, c in cmds.items():
            expect(c["mechanism"] != "mprotect", f"{name} served by mprotect")
            expect("gVisor" in (rejection(c, "mprotect") or ""),
                   f"{name}: mprotect not rejected for gVisor")
        if case == "gvisor":
            for name, c in cmds.items():
                if name in GVISOR_KERNEL:
                    expect(c["mechanism"] == "kernel",
                           f"{name} served by {c['mechanism']}, not kernel")
                else:
                    expect(c["mechanism"] not in (None, "kernel"),
                           f"{name} served by {c['mechanism']}, not a fallback")
        else:
            expect(probe["forced"] == "mprotect", "UMB_BACKEND not mprotect")
    else:
        sys.exit(f"unknown case {case}")
    for e in errors:
        print("FAIL:", e)
    sys.exit(1 if errors else 0)


main()
