#!/usr/bin/env python3
"""The floor for reading an image: hash every blob and decompress + hash its
content, with the same libraries dockergate links (zlib, libzstd through the
zstd CLI, OpenSSL's SHA-256 through hashlib), 1 MiB at a time.
Usage: floor.py BLOB..."""
import hashlib, subprocess, sys, zlib

CH = 1 << 20
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        head = f.read(4)
        f.seek(0)
        outer, inner = hashlib.sha256(), hashlib.sha256()
        if head[:2] == b"\x1f\x8b":
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            while True:
                b = f.read(CH)
                if not b:
                    break
                outer.update(b)
                inner.update(d.decompress(b))
            inner.update(d.flush())
        elif head == b"\x28\xb5\x2f\xfd":
            p = subprocess.Popen(["zstd", "-qdc", path], stdout=subprocess.PIPE)
            while True:
                b = p.stdout.read(CH)
                if not b:
                    break
                inner.update(b)
            p.wait()
            while True:
                b = f.read(CH)
                if not b:
                    break
                outer.update(b)
        else:
            while True:
                b = f.read(CH)
                if not b:
                    break
                outer.update(b)
                inner.update(b)
