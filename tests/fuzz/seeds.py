#!/usr/bin/env python3
"""Seed corpus for the fuzz target, one folder per parser, from real files:
   seeds.py DOCKERGATE OUTDIR
ELF files of this machine's Debian packages; the analysis cache records (fnsum, dyn,
reach) that DOCKERGATE writes for a small root of real binaries; real shell scripts of
the machine's packages and of this repository; Docker's default profile and a generated
one; layers (plain, gzip, zstd) and images (docker-archive, oci-archive) of that root made
by tests/tools/mkimg.py; a trace file as `dockergate trace` writes it."""
import glob
import gzip
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile

DG, OUT = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
TMP = tempfile.mkdtemp(prefix="dg-seeds.")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def is_elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


# ---- ELF files: small ones (the fuzzer mutates them whole), executables and libraries
elfs = []
for pat in ["/usr/bin/*", "/usr/lib/x86_64-linux-gnu/*.so*", "/usr/lib/x86_64-linux-gnu/*/*.so*"]:
    for p in sorted(glob.glob(pat)):
        if os.path.isfile(p) and not os.path.islink(p) and is_elf(p) and os.path.getsize(p) <= 48 * 1024:
            elfs.append(p)
for p in elfs[:12] + elfs[-6:]:
    data = read(p)
    put("elf", os.path.basename(p), data)
    put("elfinfo", os.path.basename(p), data[:4096])

# ---- a small root of real binaries, analysed with a private cache
root = os.path.join(TMP, "root")
for rel in ["bin", "lib64", "lib/x86_64-linux-gnu"]:
    os.makedirs(os.path.join(root, rel))
shutil.copy("/usr/bin/true", os.path.join(root, "bin/true"))
shutil.copy("/usr/bin/env", os.path.join(root, "bin/env"))
shutil.copy("/lib64/ld-linux-x86-64.so.2", os.path.join(root, "lib64/ld-linux-x86-64.so.2"))
shutil.copy("/lib/x86_64-linux-gnu/libc.so.6", os.path.join(root, "lib/x86_64-linux-gnu/libc.so.6"))
os.symlink("env", os.path.join(root, "bin/sh-link"))
env = dict(os.environ, XDG_CACHE_HOME=os.path.join(TMP, "cache"))
prof = os.path.join(TMP, "profile.json")
subprocess.run([DG, "generate", root, "-o", prof], env=env, check=True, capture_output=True)
db = sqlite3.connect(os.path.join(TMP, "cache", "dockergate", "cache.sqlite"))
kinds = {"fnsum": "fnsum", "dyn": "dyninfo", "reach": "reach"}
for i, (kind, value) in enumerate(db.execute("SELECT kind, value FROM entries ORDER BY length(value)")):
    if kind in kinds and len(value) <= 256 * 1024:
        put(kinds[kind], f"{kind}-{i}", value)
db.close()

# ---- shell scripts: the machine's packages' and this repository's
n = 0
for p in sorted(glob.glob("/usr/bin/*") + glob.glob("/usr/sbin/*") + glob.glob(os.path.join(REPO, "tests", "*", "*.sh"))):
    try:
        if os.path.islink(p) or not os.path.isfile(p) or os.path.getsize(p) > 32 * 1024:
            continue
        head = read(p)[:64]
    except OSError:
        continue
    if head.startswith(b"#!") and b"sh" in head.split(b"\n")[0]:
        put("sh", f"{n:02d}-" + os.path.basename(p), read(p))
        n += 1
        if n >= 24:
            break

# ---- profiles
put("profile", "docker-default.json", read(os.path.join(REPO, "data", "docker-default.json")))
put("profile", "generated.json", read(prof))

# ---- a trace file in the format `dockergate trace` writes
trace = {"dockergate_trace": 1, "image": "dir:" + root, "engine": "runc", "args": ["/bin/true"], "arch": "x86_64",
         "executables": [{"path": "/bin/true", "syscalls": {"execve": 1, "brk": 3, "mmap": 6, "exit_group": 1},
                          "i386": {"getpid": 5}},
                         {"path": "/bin/env", "syscalls": {"read": 2, "write": 1}}],
         "runtime": {"syscalls": {"execve": 2, "openat": 4}}}
put("trace", "trace.json", json.dumps(trace).encode())

# ---- layers and images of the root
layer = os.path.join(TMP, "layer.tar")
with tarfile.open(layer, "w") as t:
    t.add(root, arcname=".")
    ti = tarfile.TarInfo("etc/.wh.passwd")
    t.addfile(ti)
    ti = tarfile.TarInfo("bin/hard")
    ti.type, ti.linkname = tarfile.LNKTYPE, "bin/true"
    t.addfile(ti)
small = os.path.join(TMP, "small.tar")
with tarfile.open(small, "w") as t:
    t.add(os.path.join(root, "bin", "sh-link"), arcname="bin/sh")
    ti = tarfile.TarInfo("etc/.wh..wh..opq")
    t.addfile(ti)
    ti = tarfile.TarInfo("bin/x")
    data = b"#!/bin/sh\nexec /bin/true\n"
    ti.size, ti.mode = len(data), 0o755
    import io
    t.addfile(ti, io.BytesIO(data))
put("layer", "small.tar", read(small))
put("layer", "small.tar.gz", gzip.compress(read(small)))
z = subprocess.run(["zstd", "-q", "-c", small], capture_output=True)
if z.returncode == 0:
    put("layer", "small.tar.zst", z.stdout)
for fmt in ["docker-archive", "oci-archive"]:
    img = os.path.join(TMP, fmt + ".tar")
    subprocess.run([sys.executable, os.path.join(REPO, "tests", "tools", "mkimg.py"), "--format", fmt, "--out", img,
                    "--entrypoint", '["/bin/x"]', small], check=True, capture_output=True)
    put("image", fmt + ".tar", read(img))
subprocess.run([sys.executable, os.path.join(REPO, "tests", "tools", "mkimg.py"), "--format", "docker-archive",
                "--compress", "gzip", "--out", os.path.join(TMP, "gz.tar"), small], check=True, capture_output=True)
put("image", "docker-archive-gzip.tar", read(os.path.join(TMP, "gz.tar")))

shutil.rmtree(TMP)
for d in sorted(os.listdir(OUT)):
    print(f"{d}: {len(os.listdir(os.path.join(OUT, d)))} seeds")
