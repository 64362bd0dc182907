#!/usr/bin/env python3
"""Hostile and broken images: every case must end with the documented exit
status, a one-line message naming the problem, and no crash or sanitizer
report. Prints TAP. Usage: test_hostile.py DOCKERGATE"""
import gzip, hashlib, io, json, os, struct, subprocess, sys, tarfile, tempfile

DG = sys.argv[1]
N = 0
FAILED = 0
TMP = tempfile.mkdtemp(prefix="dg-hostile-")


def ok(cond, name, diag=""):
    global N, FAILED
    N += 1
    if not cond:
        FAILED += 1
    print(("ok" if cond else "not ok") + f" {N} - hostile: {name}")
    if not cond and diag:
        for line in diag.splitlines()[:15]:
            print("#   " + line)


def run(*args, env=None):
    e = dict(os.environ)
    e.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    if env:
        e.update(env)
    p = subprocess.run([DG, *args], capture_output=True, text=True, errors="replace", env=e, timeout=300)
    return p.returncode, p.stdout, p.stderr


def sane(err):
    return ("Sanitizer" not in err and "runtime error" not in err and "Segmentation" not in err)


def expect(name, args, status, needle, env=None):
    rc, out, err = run(*args, env=env)
    lines = [l for l in err.splitlines() if l.strip()]
    good = rc == status and needle in err and sane(err) and len(lines) == 1
    ok(good, f"{name} -> exit {status}", f"rc={rc}\nstderr={err}\nstdout={out[:500]}")


def ti(name, data=b"", type_=tarfile.REGTYPE, linkname="", mode=0o644):
    i = tarfile.TarInfo(name)
    i.type = type_
    i.mode = mode
    i.linkname = linkname
    i.size = len(data) if type_ == tarfile.REGTYPE else 0
    return i, data


def layer(entries):
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=tarfile.PAX_FORMAT) as t:
        for i, d in entries:
            t.addfile(i, io.BytesIO(d) if i.type == tarfile.REGTYPE else None)
    return bio.getvalue()


def sha(b):
    return hashlib.sha256(b).hexdigest()


def config(diff_ids, extra=None, cfg=None):
    c = {"architecture": "amd64", "os": "linux",
         "config": cfg if cfg is not None else {"Entrypoint": ["/bin/sh"]},
         "rootfs": {"type": "layers", "diff_ids": ["sha256:" + d for d in diff_ids]}}
    if extra:
        c.update(extra)
    return json.dumps(c).encode()


def outer(path, members):
    with tarfile.open(path, "w") as t:
        for name, data in members:
            i = tarfile.TarInfo(name)
            i.size = len(data)
            t.addfile(i, io.BytesIO(data))
    return path


def docker_archive(name, layers, cfg_bytes=None, manifest=None, tags=("localhost/t:1",)):
    diff = [sha(l) for l in layers]
    cfg = cfg_bytes if cfg_bytes is not None else config(diff)
    members = [(f"l{i}/layer.tar", l) for i, l in enumerate(layers)]
    members.append((sha(cfg) + ".json", cfg))
    man = manifest if manifest is not None else json.dumps(
        [{"Config": sha(cfg) + ".json", "RepoTags": list(tags),
          "Layers": [f"l{i}/layer.tar" for i in range(len(layers))]}]).encode()
    members.append(("manifest.json", man))
    return outer(os.path.join(TMP, name), members)


def oci_archive(name, layers, blobs_override=None, man_size_delta=0, cfg_size=None, index=None,
                extra_blobs=()):
    blobs = {}
    diff = [sha(l) for l in layers]
    comp = [gzip.compress(l, mtime=0) for l in layers]
    for c in comp:
        blobs[sha(c)] = c
    cfg = config(diff)
    blobs[sha(cfg)] = cfg
    man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                 "digest": "sha256:" + sha(cfg), "size": cfg_size or len(cfg)},
                      "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                  "digest": "sha256:" + sha(c), "size": len(c)} for c in comp]}).encode()
    blobs[sha(man)] = man
    for b in extra_blobs:
        blobs[sha(b)] = b
    idx = index if index is not None else json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + sha(man),
         "size": len(man) + man_size_delta, "annotations": {"org.opencontainers.image.ref.name": "1"}}]}).encode()
    if blobs_override:
        blobs_override(blobs, comp)
    members = [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", idx)]
    members += [("blobs/sha256/" + k, v) for k, v in blobs.items()]
    return outer(os.path.join(TMP, name), members), man


BASIC = layer([ti("bin/", type_=tarfile.DIRTYPE, mode=0o755), ti("bin/sh", b"\x7fELF" + b"\0" * 60, mode=0o755),
               ti("etc/hostname", b"box\n")])

# --- archives and documents ---
good = docker_archive("good.tar", [BASIC])
rc, out, err = run("inspect", good)
ok(rc == 0 and sane(err), "control: a well-formed archive loads", err)

data = open(good, "rb").read()
open(os.path.join(TMP, "trunc.tar"), "wb").write(data[: len(data) // 3])
expect("truncated archive", ["inspect", os.path.join(TMP, "trunc.tar")], 4, "truncated")
open(os.path.join(TMP, "short.tar"), "wb").write(data[:100])
expect("archive cut inside the first header", ["inspect", os.path.join(TMP, "short.tar")], 3, "not a tar archive")
expect("tar without manifest.json or index.json",
       ["inspect", outer(os.path.join(TMP, "nomani.tar"), [("foo", b"bar")])], 3, "without manifest.json")
expect("malformed manifest.json", ["inspect", docker_archive("badman.tar", [BASIC], manifest=b"[{")], 4,
       "manifest.json: invalid JSON")
expect("manifest.json with wrong types",
       ["inspect", docker_archive("badtypes.tar", [BASIC], manifest=b'[{"Config":"x.json","Layers":"l0"}]')], 4,
       "Layers missing or not an array")
expect("manifest names a missing config",
       ["inspect", docker_archive("nocfg.tar", [BASIC], manifest=b'[{"Config":"nope.json","Layers":[]}]')], 4,
       "missing from the archive")
expect("malformed config field",
       ["inspect", docker_archive("badcfg.tar", [BASIC], cfg_bytes=config([sha(BASIC)], cfg={"Entrypoint": "sh"}))],
       4, "Entrypoint: expected an array")
expect("duplicate JSON keys refused",
       ["inspect", docker_archive("dupkey.tar", [BASIC], cfg_bytes=b'{"os":"linux","os":"windows","rootfs":{"diff_ids":[]}}')],
       4, "duplicate")
expect("diff_id mismatch", ["inspect", docker_archive("diffid.tar", [BASIC], cfg_bytes=config([sha(b"other")]))], 4,
       "digest mismatch")
expect("layer count differs from diff_ids",
       ["inspect", docker_archive("count.tar", [BASIC], cfg_bytes=config([]))], 4, "diff_ids")
expect("unsupported digest algorithm",
       ["inspect", docker_archive("sha512.tar", [BASIC], cfg_bytes=json.dumps(
           {"os": "linux", "architecture": "amd64", "rootfs": {"diff_ids": ["sha512:" + "a" * 128]}}).encode())],
       4, "unsupported digest algorithm")
expect("layer that is not a tar",
       ["inspect", docker_archive("nottar.tar", [b"this is not a tar archive at all" * 40])], 4, "layer 1")


def corrupt(blobs, comp):
    k = sha(comp[0])
    b = bytearray(blobs[k])
    b[len(b) // 2] ^= 0xFF
    blobs[k] = bytes(b)


p, _ = oci_archive("blobcorrupt.tar", [BASIC], blobs_override=corrupt)
expect("OCI layer blob digest mismatch", ["inspect", p], 4, "layer 1")
p, _ = oci_archive("mansize.tar", [BASIC], man_size_delta=5)
expect("OCI manifest size differs from its descriptor", ["inspect", p], 4, "size")
p, _ = oci_archive("hugecfg.tar", [BASIC], cfg_size=10**12)
expect("absurd declared config size", ["inspect", p], 5, "over the limit")
nested = json.dumps({"schemaVersion": 2, "manifests": []}).encode()
chain = nested
for _ in range(10):
    chain = json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + sha(chain),
         "size": len(chain)}]}).encode()
    # each level must be stored: collect them
deep = []
c = nested
for _ in range(10):
    deep.append(c)
    c = json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + sha(c), "size": len(c)}]}).encode()
p, _ = oci_archive("deepidx.tar", [BASIC], index=c, extra_blobs=deep)
expect("indexes nested too deeply", ["inspect", p], 5, "nested deeper")

# --- layer entries ---
expect("entry with '..'", ["inspect", docker_archive("dotdot.tar", [layer([ti("a/../../evil", b"x")])])], 4,
       "'..' refused")
expect("absolute entry", ["inspect", docker_archive("abs.tar", [layer([ti("/etc/evil", b"x")])])], 4,
       "absolute path")
expect("hardlink escaping the root",
       ["inspect", docker_archive("hlesc.tar", [layer([ti("x", type_=tarfile.LNKTYPE, linkname="../../etc/passwd")])])],
       4, "hardlink target")
expect("hardlink to a missing file",
       ["inspect", docker_archive("hlmiss.tar", [layer([ti("x", type_=tarfile.LNKTYPE, linkname="etc/passwd")])])],
       4, "does not exist in the image")
esc = docker_archive("symesc.tar", [layer([
    ti("etc/hostname", b"image\n"),
    ti("up", type_=tarfile.SYMTYPE, linkname="../../../../../../etc/hostname"),
    ti("host", type_=tarfile.SYMTYPE, linkname="/proc/self/root/etc/shadow"),
    ti("root", type_=tarfile.SYMTYPE, linkname="/"),
    ti("loop1", type_=tarfile.SYMTYPE, linkname="loop2"),
    ti("loop2", type_=tarfile.SYMTYPE, linkname="/loop1"),
    ti("dev/evil", type_=tarfile.CHRTYPE),
])])
rc, out, err = run("resolve", esc, "/up")
ok(rc == 0 and "/up -> /etc/hostname (file)" in out, "symlink climbing with '..' stays in the image root", out + err)
rc, out, err = run("resolve", esc, "/host")
ok(rc == 3 and "No such file" in out, "symlink to a host path never reaches the host", out + err)
rc, out, err = run("resolve", esc, "/root/root/root/etc/hostname")
ok(rc == 0 and "-> /etc/hostname" in out, "symlink to / resolves to the image root", out + err)
rc, out, err = run("resolve", esc, "/loop1")
ok(rc == 3 and "Too many levels of symbolic links" in out and sane(err), "symlink loop ends with an error", out + err)
rc, out, err = run("files", esc)
ok(rc == 0 and "c 0644 0 /dev/evil" in out, "device node recorded as metadata, never created", out + err)
through = docker_archive("through.tar", [layer([ti("evil", type_=tarfile.SYMTYPE, linkname="/"),
                                              ti("evil/etc/planted", b"x")])])
rc, out, err = run("files", through)
ok(rc == 0 and "f 0644 1 /etc/planted" in out, "entry written through a symlinked parent lands inside the root",
   out + err)

# --- sizes and bombs ---
bomb_layer = layer([ti("big", b"\x7fELF" + b"\0" * (40 << 20))])
gz = gzip.compress(bomb_layer, compresslevel=9, mtime=0)
members = [("l0/layer.tar", gz)]
cfg = config([sha(bomb_layer)])
members += [(sha(cfg) + ".json", cfg), ("manifest.json", json.dumps(
    [{"Config": sha(cfg) + ".json", "RepoTags": ["b:1"], "Layers": ["l0/layer.tar"]}]).encode())]
bomb = outer(os.path.join(TMP, "bomb.tar"), members)
expect("decompression bomb over --max-bytes", ["inspect", "--max-bytes", "10M", bomb], 5, "exceeds the limit")
rc, out, err = run("inspect", bomb)
ok(rc == 0 and sane(err), "the same image loads under the default cap", err)
hdr = bytearray(layer([ti("huge", b"abc")]))
# claim a 8 GiB size in the octal size field of the first header
hdr[124:136] = b"%011o\0" % (8 << 30)
expect("absurd entry size in a truncated layer", ["inspect", docker_archive("hugeent.tar", [bytes(hdr)])], 4, "layer 1")

# --- selection and environment ---
multi = os.path.join(TMP, "multi.tar")
l = BASIC
c1 = config([sha(l)])
c2 = config([sha(l)], extra={"author": "x"})
outer(multi, [("l0/layer.tar", l), (sha(c1) + ".json", c1), (sha(c2) + ".json", c2), ("manifest.json", json.dumps([
    {"Config": sha(c1) + ".json", "RepoTags": ["localhost/a:1"], "Layers": ["l0/layer.tar"]},
    {"Config": sha(c2) + ".json", "RepoTags": ["localhost/b:2"], "Layers": ["l0/layer.tar"]}]).encode())])
expect("several images without --ref", ["inspect", multi], 3, "choose one with --ref")
rc, out, err = run("inspect", "--ref", "b:2", multi)
ok(rc == 0 and "localhost/b:2" in out, "--ref picks the tagged image", err)
expect("--ref naming no image", ["inspect", "--ref", "c:3", multi], 3, "no image tagged")
expect("platform mismatch", ["inspect", "--platform", "linux/arm64", good], 3, "not the requested")
expect("missing input", ["inspect", os.path.join(TMP, "does-not-exist.tar")], 3, "No such file")
expect("directory passed as docker-archive", ["inspect", "docker-archive:" + TMP], 3, "is a directory")
expect("engine CLI not installed", ["inspect", "podman:alpine"], 6, "not installed", env={"PATH": "/nonexistent"})
rc, out, err = run("inspect", "docker:localhost/none:1")
ok(rc == 6 and sane(err) and len(err.strip().splitlines()) == 1 and
   ("save` failed" in err or "not installed" in err), "docker:REF without a daemon or CLI -> exit 6", err)
rc, out, err = run("inspect")
ok(rc == 2 and "expected exactly one IMAGE" in err, "usage error -> exit 2", err)
rc, out, err = run("inspect", "--max-bytes", "lots", good)
ok(rc == 2, "bad option value -> exit 2", err)



def elf_with_needed(count):
    """A minimal ELF64 shared object whose dynamic section has COUNT DT_NEEDED entries."""
    strtab = b"\0libx.so\0"
    ehsz, phsz = 64, 56
    dyn = b"".join(struct.pack("<qQ", 1, 1) for _ in range(count))
    dyn += struct.pack("<qQ", 5, 0) + struct.pack("<qQ", 10, len(strtab)) + struct.pack("<qQ", 0, 0)
    str_off = ehsz + 2 * phsz
    dyn_off = str_off + len(strtab)
    dyn = dyn.replace(struct.pack("<qQ", 5, 0), struct.pack("<qQ", 5, str_off))
    size = dyn_off + len(dyn)
    eh = b"\x7fELF\x02\x01\x01" + bytes(9) + struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, 0, ehsz, 0, 0, ehsz,
                                                        phsz, 2, 64, 0, 0)
    load = struct.pack("<IIQQQQQQ", 1, 4, 0, 0, 0, size, size, 0x1000)
    dynph = struct.pack("<IIQQQQQQ", 2, 4, dyn_off, dyn_off, dyn_off, len(dyn), len(dyn), 8)
    return eh + load + dynph + strtab + dyn


absurd = os.path.join(TMP, "needed-root")
os.makedirs(absurd)
with open(os.path.join(absurd, "many.so"), "wb") as f:
    f.write(elf_with_needed(5000))
with open(os.path.join(absurd, "few.so"), "wb") as f:
    f.write(elf_with_needed(3))
rc, out, err = run("elf", "dir:" + absurd, "/few.so")
ok(rc == 0 and '"libx.so"' in out, "a hand-made ELF with 3 DT_NEEDED entries parses", err)
expect("an ELF file with 5000 DT_NEEDED entries", ["elf", "dir:" + absurd, "/many.so"], 5, "more than 4096 DT_NEEDED")
rc, out, err = run("graph", "--no-cache", "dir:" + absurd)
ok(rc == 0 and "many.so: malformed ELF file" in err and "more than 4096" in err,
   "graph reports it as a problem and goes on", err)

# ---- code of machines no backend reads (issue 19): real Debian packages of other architectures
HERE = os.path.dirname(os.path.abspath(__file__))
FOREIGN = [("arm64", "aarch64", "SCMP_ARCH_AARCH64"), ("armhf", "arm", "SCMP_ARCH_ARM"),
           ("s390x", "s390x", "SCMP_ARCH_S390X"), ("ppc64el", "ppc64le", "SCMP_ARCH_PPC64LE"),
           ("mips64el", "mipsel64", "SCMP_ARCH_MIPSEL64")]
for deb_arch, machine, scmp in FOREIGN:
    p = subprocess.run(["bash", os.path.join(HERE, "..", "tools", "foreign.sh"), deb_arch, "libc6", "coreutils"],
                       capture_output=True, text=True)
    root = p.stdout.strip()
    ok(p.returncode == 0 and os.path.isfile(os.path.join(root, "bin", "ls")),
       f"{deb_arch}: Debian's libc6 and coreutils unpacked (dpkg-deb -x)", p.stderr)
    if p.returncode != 0:
        continue
    out = os.path.join(TMP, f"{deb_arch}.json")
    expect(f"{deb_arch}: generate refuses a profile for {machine} code it cannot read",
           ["generate", "--no-cache", root, "-o", out], 9, f"of {machine} code are not analysed")
    ok(not os.path.exists(out), f"{deb_arch}: nothing written")
    rc, so, err = run("generate", "--no-cache", root, "-o", out, "--unanalysed", "allow", "--json")
    prof = json.load(open(out)) if rc == 0 and os.path.exists(out) else {}
    names = sum((r.get("names", []) for r in prof.get("syscalls", []) if r.get("action") == "SCMP_ACT_ALLOW"), [])
    prov = prof.get("dockergate", {}).get("not_analysed", "")
    try:
        summ = json.loads(err)
    except ValueError:
        summ = {}
    ok(rc == 0 and scmp in prof.get("architectures", []) and len(names) > 250 and machine in prov
       and "--unanalysed allow" in prov and summ.get("not_analysed") and sane(err),
       f"{deb_arch}: --unanalysed allow: {scmp} listed, every syscall of it allowed ({len(names)} names), "
       "said in the provenance and the summary", f"rc={rc}\n{err[:800]}\n{prov}")
    rc, so, err = run("syscalls", "--no-cache", "--json", root, "/bin/ls")
    try:
        j = json.loads(so)
    except ValueError:
        j = {}
    t = (j.get("executables") or [{}])[0]
    na = {x["path"]: x["machine"] for x in t.get("not_analysed", [])}
    ok(rc == 0 and na.get("/bin/ls") == machine and any("libc.so.6" in k for k in na) and
       j.get("not_analysed") and sane(err),
       f"{deb_arch}: syscalls --json lists /bin/ls and libc as {machine} code not analysed", so[:800] + err[:400])
    rc, so, err = run("syscalls", "--no-cache", "--strict", root, "/bin/ls")
    ok(rc == 7 and "not analysed" in err and sane(err), f"{deb_arch}: syscalls --strict: exit 7", f"rc={rc}\n{err}")
    rc, so, err = run("explain", "--no-cache", root, "openat", "/bin/ls")
    ok(rc == 0 and f"of {machine} code are not analysed" in so and "whether they make openat is not known" in so,
       f"{deb_arch}: explain says the answer does not cover the {machine} code", so + err)

# an image whose config names one architecture while its code is another's
arm = subprocess.run(["bash", os.path.join(HERE, "..", "tools", "foreign.sh"), "arm64", "libc6", "coreutils"],
                     capture_output=True, text=True).stdout.strip()
if arm:
    lay = os.path.join(TMP, "arm-layer.tar")
    with tarfile.open(lay, "w") as t:
        for rel in ["bin/true", "lib/ld-linux-aarch64.so.1", "lib/aarch64-linux-gnu/libc.so.6"]:
            t.add(os.path.join(arm, rel), arcname=rel)
    img = os.path.join(TMP, "mismatch.tar")
    p = subprocess.run([sys.executable, os.path.join(HERE, "..", "tools", "mkimg.py"), "--format", "docker-archive",
                        "--out", img, "--arch", "amd64", "--entrypoint", '["/bin/true"]', lay],
                       capture_output=True, text=True)
    rc, so, err = run("syscalls", "--no-cache", img)
    ok(p.returncode == 0 and rc == 0 and "the image config says linux/amd64, but" in so and "aarch64 code" in so,
       "an amd64 image of aarch64 code: syscalls says so", p.stderr + so + err)
    rc, so, err = run("generate", "--no-cache", img, "-o", os.path.join(TMP, "mm.json"), "--unanalysed", "allow")
    ok(rc == 0 and "the image config says linux/amd64, but" in err and sane(err),
       "generate warns of it too", err)

subprocess.run(["rm", "-rf", TMP])
print(f"1..{N}")
sys.exit(1 if FAILED else 0)
