#!/usr/bin/env python3
"""Prints a directory tree in `dockergate files` form (the oracle side):
TYPE MODE SIZE PATH[ -> TARGET], sorted by raw path bytes, root excluded."""
import os, stat, sys


def esc(b):
    return "".join(chr(c) if 0x20 <= c < 0x7f and c != 0x5c else "\\x%02x" % c for c in b)


root = os.fsencode(sys.argv[1])
out = []
for dp, dns, fns in os.walk(root):
    for n in dns + fns:
        p = os.path.join(dp, n)
        st = os.lstat(p)
        rel = b"/" + os.path.relpath(p, root)
        m = st.st_mode
        t = ("f" if stat.S_ISREG(m) else "d" if stat.S_ISDIR(m) else "l" if stat.S_ISLNK(m) else
             "c" if stat.S_ISCHR(m) else "b" if stat.S_ISBLK(m) else "p" if stat.S_ISFIFO(m) else "s")
        mode = 0o777 if t == "l" else stat.S_IMODE(m)
        size = st.st_size if t == "f" else 0
        line = "%s %04o %d %s" % (t, mode, size, esc(rel))
        if t == "l":
            line += " -> " + esc(os.readlink(p))
        out.append((rel, line))
    dns[:] = [d for d in dns if not os.path.islink(os.path.join(dp, d))]
for _, line in sorted(out):
    print(line)
