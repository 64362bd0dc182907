#!/usr/bin/env python3
"""Mutation fuzzing with a fixed seed: damaged layer tars and JSON documents,
re-sealed with correct digests so the damage reaches the parsers instead of
stopping at the digest check. Every run must end with a documented status
(0, 3, 4 or 5), at most one line on stderr, and no sanitizer report.
Usage: test_mutate.py DOCKERGATE [ROUNDS]"""
import shutil, hashlib, io, json, os, random, subprocess, sys, tarfile, tempfile

DG = sys.argv[1]
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 120
rng = random.Random(20261122)
TMP = tempfile.mkdtemp(prefix="dg-mutate-")
N = FAILED = 0


def ok(cond, name, diag=""):
    global N, FAILED
    N += 1
    FAILED += not cond
    print(("ok" if cond else "not ok") + f" {N} - {name}")
    if not cond:
        for l in diag.splitlines()[:12]:
            print("#   " + l)


def sha(b):
    return hashlib.sha256(b).hexdigest()


def layer():
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=tarfile.PAX_FORMAT) as t:
        def add(name, type_=tarfile.REGTYPE, data=b"", link=""):
            i = tarfile.TarInfo(name)
            i.type, i.linkname, i.mode = type_, link, 0o755
            i.size = len(data) if type_ == tarfile.REGTYPE else 0
            t.addfile(i, io.BytesIO(data) if type_ == tarfile.REGTYPE else None)
        add("bin", tarfile.DIRTYPE)
        add("bin/sh", data=b"\x7fELF\x02\x01\x01" + bytes(200))
        add("bin/ls", tarfile.SYMTYPE, link="/bin/sh")
        add("usr/bin/run", data=b"#!/bin/sh\nexec ls\n")
        add("usr/bin/hl", tarfile.LNKTYPE, link="bin/sh")
        add("usr/.wh.gone")
        add("opt/.wh..wh..opq")
        add("a/very/" + "long/" * 30 + "name", data=b"x" * 300)
    return bio.getvalue()


BASE = layer()
CFG = {"architecture": "amd64", "os": "linux", "config": {"Entrypoint": ["/bin/sh"], "Env": ["PATH=/bin"]},
       "rootfs": {"type": "layers", "diff_ids": []}}


def mutate(b, text=False):
    b = bytearray(b)
    for _ in range(rng.randint(1, 6)):
        op = rng.random()
        pos = rng.randrange(len(b)) if b else 0
        if op < 0.45 and b:
            b[pos] = rng.randrange(256) if not text else rng.choice(b'{}[]":,0123456789aZ\\ \x00\xff-')
        elif op < 0.6:
            b = b[:pos]
        elif op < 0.8:
            b[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        elif b:
            n = rng.randint(1, 64)
            del b[pos:pos + n]
    return bytes(b)


def seal(layer_bytes, cfg_bytes=None, manifest_bytes=None):
    cfg = cfg_bytes if cfg_bytes is not None else json.dumps(
        dict(CFG, rootfs={"type": "layers", "diff_ids": ["sha256:" + sha(layer_bytes)]})).encode()
    man = manifest_bytes if manifest_bytes is not None else json.dumps(
        [{"Config": sha(cfg) + ".json", "RepoTags": ["m:1"], "Layers": ["l/layer.tar"]}]).encode()
    path = os.path.join(TMP, "img.tar")
    with tarfile.open(path, "w") as t:
        for n, d in (("l/layer.tar", layer_bytes), (sha(cfg) + ".json", cfg), ("manifest.json", man)):
            i = tarfile.TarInfo(n)
            i.size = len(d)
            t.addfile(i, io.BytesIO(d))
    return path


def check(kind, k, path):
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1")
    bad = []
    for cmd in (["inspect", path], ["files", path]):
        p = subprocess.run([DG, *cmd], capture_output=True, text=True, errors="replace", env=env, timeout=120)
        err = p.stderr
        if p.returncode not in (0, 3, 4, 5) or "Sanitizer" in err or "runtime error" in err or \
                len([l for l in err.splitlines() if l.strip()]) > 1:
            bad.append(f"{cmd[0]}: rc={p.returncode}\n{err[:1500]}")
    if bad:
        keep = os.path.join(tempfile.gettempdir(), f"dg-mutate-{kind}-{k}.tar")
        os.replace(path, keep)
        bad.append("kept as " + keep)
    return bad


failures = {}
for kind in ("layer", "config", "manifest"):
    fails = []
    for k in range(ROUNDS):
        if kind == "layer":
            path = seal(mutate(BASE))
        elif kind == "config":
            cfg = json.dumps(dict(CFG, rootfs={"type": "layers", "diff_ids": ["sha256:" + sha(BASE)]})).encode()
            path = seal(BASE, cfg_bytes=mutate(cfg, text=True))
        else:
            cfg = json.dumps(dict(CFG, rootfs={"type": "layers", "diff_ids": ["sha256:" + sha(BASE)]})).encode()
            man = json.dumps([{"Config": sha(cfg) + ".json", "RepoTags": ["m:1"], "Layers": ["l/layer.tar"]}]).encode()
            path = seal(BASE, cfg_bytes=cfg, manifest_bytes=mutate(man, text=True))
        fails += check(kind, k, path)
        if fails:
            break
    ok(not fails, f"{ROUNDS} mutated {kind}s: documented status, one-line errors, no sanitizer report",
       "\n".join(fails))
# damaged ELF files (a real dash and libselinux), read by the ELF model
here = os.path.dirname(os.path.abspath(__file__))
lay = subprocess.run(["bash", os.path.join(here, "..", "tools", "realimage.sh"), "layers"],
                     capture_output=True, text=True, check=True).stdout.strip()
real = [open(os.path.join(lay, "layer1", "bin", "dash"), "rb").read()]
with tarfile.open(os.path.join(lay, "layer2.tar")) as t:
    for m in t.getmembers():
        if m.isfile() and m.name.endswith("libselinux.so.1"):
            real.append(t.extractfile(m).read())


def elf_mutate(b):
    b = bytearray(b)
    for _ in range(rng.randint(1, 8)):
        r = rng.random()
        # aim at the ELF header, the program headers, the dynamic data and the section headers
        if r < 0.4:
            pos = rng.randrange(min(len(b), 0x400))
        elif r < 0.7:
            pos = len(b) - 1 - rng.randrange(min(len(b), 0x1000))
        else:
            pos = rng.randrange(len(b))
        if rng.random() < 0.8:
            b[pos] = rng.choice([0, 0xff, 0x7f, 0x80, rng.randrange(256)])
        else:
            b = b[:pos]
    return bytes(b)


def elf_layer(data):
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w") as t:
        i = tarfile.TarInfo("x")
        i.size, i.mode = len(data), 0o755
        t.addfile(i, io.BytesIO(data))
    return bio.getvalue()


fails = []
sc_fails = []
for k in range(ROUNDS):
    path = seal(elf_layer(elf_mutate(real[k % len(real)])))
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1")
    p = subprocess.run([DG, "elf", path, "/x"], capture_output=True, text=True, errors="replace", env=env, timeout=120)
    # the disassembler and the syscall analysis read damaged files too
    q = subprocess.run([DG, "syscalls", path, "/x", "--no-cache", "--json"], capture_output=True, text=True,
                       errors="replace", env=env, timeout=120)
    for rr, out in ((p, fails), (q, sc_fails)):
        if rr.returncode not in (0, 3, 4, 5) or "Sanitizer" in rr.stderr or "runtime error" in rr.stderr:
            keep = os.path.join(tempfile.gettempdir(), f"dg-mutate-elf-{k}.tar")
            shutil.copyfile(path, keep)
            out.append(f"rc={rr.returncode}\n{rr.stderr[:1500]}\nkept as {keep}")
    if fails or sc_fails:
        break
ok(not fails, f"{ROUNDS} damaged ELF files: refused or read, never a crash", "\n".join(fails))
ok(not sc_fails, f"{ROUNDS} damaged ELF files through the disassembler and syscall analysis: no crash",
   "\n".join(sc_fails))

# the outer archive itself, digests left as they are
good = seal(BASE)
data = open(good, "rb").read()
fails = []
for k in range(ROUNDS):
    p = os.path.join(TMP, "outer.tar")
    open(p, "wb").write(mutate(data))
    fails += check("outer", k, p)
    if fails:
        break
ok(not fails, f"{ROUNDS} mutated outer archives", "\n".join(fails))
subprocess.run(["rm", "-rf", TMP])
print(f"1..{N}")
sys.exit(1 if FAILED else 0)
