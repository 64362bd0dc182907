#!/usr/bin/env python3
"""Compares `dockergate bind --json --all` with what the real glibc loader logs.

usage: bind_compare.py [--run] ROOT DOCKERGATE OUTDIR EXE...

For each EXE, the oracle is
    chroot ROOT /usr/bin/env LD_TRACE_LOADED_OBJECTS=1 LD_WARN=yes LD_BIND_NOW=yes \
        LD_DEBUG=bindings /lib64/ld-linux-x86-64.so.2 EXE
(what `ldd -r` runs): ld.so relocates every object except itself and the missing
(faked) ones and logs each symbol lookup a relocation makes,
    binding file REF [0] to DEF [0]: normal|protected symbol `NAME' [VERSION]
and "undefined symbol: NAME[, version V]\t(REF)" for failed non-weak lookups.

Compared set, per executable: (REF, NAME, VERSION, DEF) for every relocation-driven
lookup, and ("UNDEFINED", REF, NAME, VERSION) for the failed ones. dockergate's side is
built from its references that relocations name (the "relocations" classes and their
"by_class" targets): ld.so only looks up what relocations reference, so undefined
symbols no relocation names cannot be checked against it. Excluded on the oracle side,
by name: the vDSO's own self-bindings (linux-vdso.so.1 is the kernel's, not in the image).
Excluded on dockergate's side: the loader's own references (trace mode never relocates
ld.so; it was relocated by itself at start-up).

With --run, each EXE is run for real instead (LD_DEBUG=bindings LD_BIND_NOW=1, no
arguments: only for programs that are harmless to run), and ld.so's own references
are compared too: a normal start re-relocates ld.so in the global scope once libc
(which DT_NEEDs it) is loaded, so libc's definitions interpose its PLT entries.

Writes OUTDIR/diff (unified per-executable diffs) and prints one line:
"EXES BAD TUPLES" (executables, executables that disagree, tuples compared).
"""
import json
import os
import re
import subprocess
import sys

run = len(sys.argv) > 1 and sys.argv[1] == "--run"
if run:
    del sys.argv[1]
root, dg, outdir, exes = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
BIND = re.compile(r"binding file (.*) \[\d+\] to (.*) \[\d+\]: (?:normal|protected) symbol `([^']*)'(?: \[([^\]]*)\])?$")
UNDEF = re.compile(r"^undefined symbol: (.*?)(?:, version (\S+))?\t\((.*)\)$")


def oracle(exe):
    env = ["LD_TRACE_LOADED_OBJECTS=1", "LD_WARN=yes", "LD_BIND_NOW=yes", "LD_DEBUG=bindings"]
    cmd = ["chroot", root, "/usr/bin/env"] + env + ["/lib64/ld-linux-x86-64.so.2", exe]
    if run:
        cmd = ["chroot", root, "/usr/bin/env", "LD_BIND_NOW=1", "LD_DEBUG=bindings", exe]
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    got = set()
    for raw in p.stdout.decode("utf-8", "replace").splitlines():
        line = raw.split(":\t", 1)[1] if re.match(r"^\s*\d+:\t", raw) else raw
        m = BIND.search(line)
        if m:
            ref, d, name, ver = m.groups()
            if ref == "linux-vdso.so.1" and d == "linux-vdso.so.1":
                continue  # the kernel's vDSO relocating itself
            got.add((ref, name, ver or "", d))
            continue
        m = UNDEF.match(line)
        if m:
            name, ver, ref = m.groups()
            got.add(("UNDEFINED", ref, name, ver or ""))
    return got


def ours(doc):
    got = set()
    for o in doc["objects"]:
        if (o.get("via") == "interp" and not run) or not o["path"]:
            continue
        for r in o["references"]:
            for c in r["relocations"]:
                t = r["by_class"][c]
                if t is not None:
                    got.add((o["path"], r["symbol"], r["version"] or "", t["path"]))
                elif not r["weak"]:
                    got.add(("UNDEFINED", o["path"], r["symbol"], r["version"] or ""))
    if run:  # ld.so's own lookups of its malloc family, made for the executable
        for r in doc.get("loader_lookups", []):
            if r["definition"] is not None:
                got.add((doc["executable"], r["symbol"], r["version"], r["definition"]["path"]))
    return got


p = subprocess.run([dg, "bind", "--json", "--all", "dir:" + root] + exes, stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE)
with open(os.path.join(outdir, "dg.json"), "wb") as f:
    f.write(p.stdout)
try:
    doc = json.loads(p.stdout)
except ValueError:
    sys.stderr.buffer.write(p.stderr)
    print(len(exes), len(exes), 0)
    sys.exit(0)
bad = tuples = 0
with open(os.path.join(outdir, "diff"), "w") as out:
    for exe in exes:
        want = oracle(exe)
        got = ours(doc[exe]) if exe in doc else set()
        tuples += len(want)
        if want != got:
            bad += 1
            out.write("== %s (- only ld.so, + only dockergate)\n" % exe)
            for t in sorted(want - got):
                out.write("- %s\n" % " | ".join(t))
            for t in sorted(got - want):
                out.write("+ %s\n" % " | ".join(t))
print(len(exes), bad, tuples)
