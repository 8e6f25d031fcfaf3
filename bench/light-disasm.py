#!/usr/bin/env python3
"""Which instructions does umb_light() put on the fast path?

Disassembles light_path() (bench/light-path.c: store, umb_light(), load)
with objdump, then single-steps one call of it under gdb and marks which
instructions ran.  A fence is mfence/lfence/sfence, a lock-prefixed or
implicitly locked (xchg with memory) instruction, or a serializing one.
Exits 1 if a fence ran while umb_light_needs_fence was 0.
"""
import re
import subprocess
import sys
import tempfile

FENCE = re.compile(r"\b(mfence|lfence|sfence|lock\b|xchg\S*\s.*\(|cpuid|serialize|dmb|dsb|isb)")

GDB_SCRIPT = r"""
import gdb
gdb.execute("set pagination off")
gdb.execute("break light_path")
gdb.execute("run > /dev/null")
start = int(gdb.parse_and_eval("(long)&light_path"))
flag = int(gdb.parse_and_eval("umb_light_needs_fence"))
pcs = []
frame = gdb.selected_frame()
# The breakpoint sits after the prologue; step from there until we return.
while True:
    pc = int(gdb.parse_and_eval("$pc"))
    if pc < start or pc >= start + 4096:
        break
    pcs.append(pc - start)
    gdb.execute("stepi", to_string=True)
print("FLAG %d" % flag)
print("STEPPED " + " ".join("%x" % p for p in pcs))
gdb.execute("kill")
"""


def disassemble(binary):
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", binary],
                         capture_output=True, text=True, check=True).stdout
    insns, inside = [], False
    for line in out.splitlines():
        if re.match(r"^[0-9a-f]+ <light_path>:", line):
            inside = True
            continue
        if inside:
            m = re.match(r"^\s+([0-9a-f]+):\s+(.*)$", line)
            if not m:
                break
            insns.append((int(m.group(1), 16), m.group(2).strip()))
    if not insns:
        sys.exit("light_path not found in " + binary)
    return insns


def trace(binary):
    with tempfile.NamedTemporaryFile("w", suffix=".py") as script:
        script.write(GDB_SCRIPT)
        script.flush()
        try:
            out = subprocess.run(["gdb", "-q", "-batch", "-x", script.name, binary],
                                 capture_output=True, text=True, timeout=60).stdout
        except (OSError, subprocess.TimeoutExpired):
            return None, None
    flag = re.search(r"^FLAG (\d+)", out, re.M)
    stepped = re.search(r"^STEPPED (.*)$", out, re.M)
    if not flag or not stepped:
        return None, None
    return int(flag.group(1)), {int(x, 16) for x in stepped.group(1).split()}


def main():
    binary = sys.argv[1]
    insns = disassemble(binary)
    start = insns[0][0]
    flag, ran = trace(binary)
    print("\numb_light() on the fast path: light_path() = store; umb_light(); load")
    if ran is None:
        print("(gdb could not trace the call; static listing only)")
    else:
        # gdb stops after the prologue; count the instructions before it as run.
        first = min(ran) if ran else 0
        ran |= {a - start for a, _ in insns if a - start < first}
        print("umb_light_needs_fence = %d; '>' marks the instructions that ran" % flag)
    ran_fences, cold_fences = [], []
    for addr, text in insns:
        off = addr - start
        executed = ran is not None and off in ran
        fence = bool(FENCE.search(text))
        mark = ">" if executed else " "
        print("  %s %4x: %-50s%s" % (mark, off, text, "  <- fence" if fence else ""))
        if fence:
            (ran_fences if executed else cold_fences).append(text)
    if ran is None:
        print("fence instructions in the function: %s" % (cold_fences or "none"))
        return 0
    print("fence instructions that ran: %s" % (", ".join(ran_fences) or "none"))
    print("fence instructions present but not run: %s" % (", ".join(cold_fences) or "none"))
    print("instructions run: %d of %d" % (len(ran & {a - start for a, _ in insns}), len(insns)))
    return 1 if flag == 0 and ran_fences else 0


if __name__ == "__main__":
    sys.exit(main())
