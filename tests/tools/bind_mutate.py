#!/usr/bin/env python3
"""Seeded mutation of the tables symbol binding reads (.gnu.hash, .hash, .dynsym,
.gnu.version*, .dynamic, relocations) in real libraries, then `dockergate bind`.

usage: bind_mutate.py ROOT DOCKERGATE EXE LIB[,LIB...] ITERATIONS SEED

Each iteration damages a few words in one of the LIBs (paths inside ROOT; the
originals are restored afterwards) and runs `dockergate bind --json --all dir:ROOT EXE`.
Every run must end with status 0, 3 (unresolved/missing) or 4 (refused as malformed)
and no sanitizer report. Prints "RUNS BOUND FAILURES": BOUND counts the runs where
the damaged library was loaded and bound (its object has a path), so the damage
reached the binder rather than being refused by the ELF reader.
"""
import json
import os
import random
import shutil
import struct
import subprocess
import sys

root, dg, exe, libs, iters, seed = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(","), int(sys.argv[5]), int(sys.argv[6])
rnd = random.Random(seed)
WANT = {".gnu.hash", ".hash", ".dynsym", ".gnu.version", ".gnu.version_d", ".gnu.version_r", ".dynamic",
        ".rela.dyn", ".rela.plt", ".dynstr"}


def regions(b):
    shoff = struct.unpack_from("<Q", b, 40)[0]
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", b, 58)
    secs = [struct.unpack_from("<IIQQQQIIQQ", b, shoff + i * shentsize) for i in range(shnum)]
    stro = secs[shstrndx][4]
    out = []
    for s in secs:
        name = bytes(b[stro + s[0]:b.index(0, stro + s[0])]).decode()
        if name in WANT and s[5] >= 4:
            out.append((name, s[4], s[5]))
    return out


orig = {lib: open(root + lib, "rb").read() for lib in libs}
runs = bound = fails = 0
try:
    for it in range(iters):
        lib = rnd.choice(libs)
        b = bytearray(orig[lib])
        regs = regions(b)
        for _ in range(rnd.randint(1, 4)):
            name, off, size = rnd.choice(regs)
            at = off + rnd.randrange(0, size - 3) // 4 * 4
            v = rnd.choice([0, 1, 2, 3, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0xffffffff, rnd.getrandbits(32),
                            struct.unpack_from("<I", b, at)[0] ^ (1 << rnd.randrange(32))])
            struct.pack_into("<I", b, at, v & 0xffffffff)
        with open(root + lib, "wb") as f:
            f.write(b)
        p = subprocess.run([dg, "bind", "--json", "--all", "dir:" + root, exe], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120)
        runs += 1
        err = p.stderr.decode("utf-8", "replace")
        if p.returncode not in (0, 3, 4) or "Sanitizer" in err or "runtime error" in err:
            fails += 1
            bad = os.path.join(os.environ.get("DG_MUTATE_KEEP", "/tmp"), "bind-mutant-%d-%d.so" % (seed, it))
            shutil.copy(root + lib, bad)
            sys.stderr.write("iteration %d (%s, kept as %s): status %d\n%s\n" % (it, lib, bad, p.returncode, err[:2000]))
            continue
        if p.returncode in (0, 3) and p.stdout:
            doc = json.loads(p.stdout)[exe]
            if any(o["path"] == lib for o in doc["objects"]):
                bound += 1
finally:
    for lib, data in orig.items():
        with open(root + lib, "wb") as f:
            f.write(data)
print(runs, bound, fails)
