#!/usr/bin/env python3
"""Function starts from .eh_frame, against binutils' readelf --debug-dump=frames.

For every ELF file of real Debian packages (the packages test_elf_readelf.py uses, plus
libc6, busybox-static, dash, libstdc++6 and libgcc-s1 of i386, arm64 and s390x (64-bit
big-endian) and libstdc++6/libgcc-s1 of amd64, fetched with a private apt state by
tests/tools/foreign.sh), the set of FDE ranges `dockergate elf --fdes` finds must equal the
pc=START..END lines of readelf's .eh_frame dump, the .eh_frame_hdr table must agree with it,
and copies with the section headers stripped must give the same FDEs (the .eh_frame is then
found through .eh_frame_hdr). Then damaged copies: a truncated .eh_frame, absurd augmentation
lengths, an FDE whose CIE pointer names itself or another FDE, extended-length overflow,
reserved lengths, and seeded random damage inside .eh_frame: each must still give a model
(rc 0) with eh_frame_error set, or a clean refusal, never a sanitizer report or a hang.
Prints TAP. Usage: test_ehframe.py DOCKERGATE"""
import json, os, random, re, shutil, struct, subprocess, sys, tempfile
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from realroot import elves_under, real_rootfs  # noqa: E402

DG = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
N = FAILED = 0
TMP = tempfile.mkdtemp(prefix="dg-ehframe-")
ENV = dict(os.environ, LC_ALL="C", ASAN_OPTIONS="detect_leaks=1")


def ok(cond, name, diag=()):
    global N, FAILED
    N += 1
    FAILED += not cond
    print(("ok" if cond else "not ok") + f" {N} - ehframe: {name}")
    if not cond:
        for l in list(diag)[:12]:
            print("#   " + str(l))


def skip(name, why):
    global N
    N += 1
    print(f"ok {N} - ehframe: {name} # SKIP {why}")


def readelf_fdes(path):
    """FDE (start, end) pairs of the .eh_frame section only (not .debug_frame)."""
    fr = subprocess.run(["readelf", "-W", "--debug-dump=frames", path], capture_output=True,
                        text=True, env=ENV).stdout
    fdes = set()
    section = None
    for line in fr.splitlines():
        m = re.match(r"Contents of the (\S+) section", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"\S+ \S+ \S+ FDE cie=\S+ pc=([0-9a-f]+)\.\.([0-9a-f]+)", line)
        if m and section == ".eh_frame":
            fdes.add((int(m.group(1), 16), int(m.group(2), 16)))
    return fdes


def dg_models(root, paths):
    p = subprocess.run([DG, "elf", "--fdes", "dir:" + root, *paths], capture_output=True, text=True,
                       env=ENV, timeout=600)
    return p, (json.loads(p.stdout) if p.returncode == 0 else {})


def ranges(m):
    out = set()
    for r in m.get("fde_ranges", []):
        a, b = r.split("..")
        out.add((int(a, 16), int(b, 16)))
    return out


def shdrs(data):
    """Section headers of an ELF image: list of (name, header offset, sh_offset, sh_size), the
    byte order and the class."""
    b64, be = data[4] == 2, data[5] == 2
    e = ">" if be else "<"
    if b64:
        shoff, = struct.unpack_from(e + "Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from(e + "HHH", data, 0x3a)
    else:
        shoff, = struct.unpack_from(e + "I", data, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from(e + "HHH", data, 0x2e)
    def hdr(i):
        o = shoff + i * shentsize
        if b64:
            name, = struct.unpack_from(e + "I", data, o)
            off, size = struct.unpack_from(e + "QQ", data, o + 24)
        else:
            name, = struct.unpack_from(e + "I", data, o)
            off, size = struct.unpack_from(e + "II", data, o + 16)
        return name, o, off, size
    stroff = hdr(shstrndx)[2]
    out = []
    for i in range(shnum):
        name, o, off, size = hdr(i)
        nm = data[stroff + name:data.index(b"\0", stroff + name)].decode()
        out.append((nm, o, off, size))
    return out, b64, be


def strip_shdrs(data):
    d = bytearray(data)
    be = ">" if d[5] == 2 else "<"
    if d[4] == 2:
        struct.pack_into(be + "Q", d, 0x28, 0)
        struct.pack_into(be + "HH", d, 0x3c, 0, 0)
    else:
        struct.pack_into(be + "I", d, 0x20, 0)
        struct.pack_into(be + "HH", d, 0x30, 0, 0)
    return bytes(d)


# --- the files: native packages (as test_elf_readelf.py) and other architectures --------------
roots = []
native = os.path.join(TMP, "amd64")
os.mkdir(native)
real_rootfs(native)
roots.append(("amd64", native))
PKGS = ["libc6", "busybox-static", "dash", "libstdc++6", "libgcc-s1"]
for arch, pkgs in (("amd64", ["libstdc++6", "libgcc-s1"]), ("i386", PKGS), ("arm64", PKGS), ("s390x", PKGS)):
    p = subprocess.run(["bash", os.path.join(here, "..", "tools", "foreign.sh"), arch, *pkgs],
                       capture_output=True, text=True)
    if p.returncode == 0:
        roots.append((arch + ("" if arch != "amd64" else " (C++)"), p.stdout.strip()))
    else:
        skip(f"{arch} packages", "cannot fetch them: " + p.stderr.strip()[:200])

total_files = total_fdes = 0
arches = set()
for label, root in roots:
    elves = elves_under(root)
    p, model = dg_models(root, elves)
    ok(p.returncode == 0 and len(model) == len(elves), f"{label}: dockergate elf reads all {len(elves)} ELF files",
       [p.stderr[:2000]])
    bad, nfdes, nwith = [], 0, 0
    for path in elves:
        m = model.get(path)
        if m is None:
            continue
        want = readelf_fdes(root + path)
        got = ranges(m)
        nfdes += len(want)
        nwith += bool(want)
        if got != want:
            bad.append(f"{path}: {len(got)} FDEs vs readelf {len(want)}; only dockergate: "
                       f"{sorted(got - want)[:3]}; only readelf: {sorted(want - got)[:3]}")
        if m["eh_frame_error"]:
            bad.append(f"{path}: eh_frame_error {m['eh_frame_error']}")
        starts = {a for a, b in want}
        if m["fde_starts"] != len(starts) or m["fde_disagreements"]:
            bad.append(f"{path}: fde_starts {m['fde_starts']} (disagreements {m['fde_disagreements']}) "
                       f"vs {len(starts)} readelf starts")
        if m["eh_frame_hdr_table"] and m["eh_frame_hdr_table"] != len(starts):
            bad.append(f"{path}: .eh_frame_hdr table {m['eh_frame_hdr_table']} vs {len(starts)}")
    ok(not bad and nfdes > 0, f"{label}: FDE ranges equal readelf's on {len(elves)} files "
       f"({nwith} with FDEs, {nfdes} FDEs)", bad)
    total_files += len(elves)
    total_fdes += nfdes
    arches.add(label.split()[0])
    # static, stripped: function starts from .eh_frame alone (no .eh_frame_hdr)
    bb = model.get("/bin/busybox")
    if bb:
        ok(bb["eh_frame_hdr_table"] == 0 and bb["fdes"] > 1000 and bb["fde_starts"] == len({a for a, b in ranges(bb)}),
           f"{label}: static stripped busybox: {bb['fdes']} function starts from .eh_frame, no search table",
           [json.dumps({k: bb[k] for k in ("fdes", "fde_starts", "eh_frame_hdr_table")})])
    # section headers stripped: .eh_frame found through .eh_frame_hdr's eh_frame_ptr
    sroot = os.path.join(TMP, "noshdr-" + label.split()[0])
    os.makedirs(sroot, exist_ok=True)
    picks = [x for x in elves if re.search(r"/(dash|libc\.so\.6|libstdc\+\+\.so\.6[.0-9]*|ld-linux[^/]*|ld64\.so\.1)$", x)]
    for x in picks:
        with open(root + x, "rb") as fh:
            data = fh.read()
        dst = os.path.join(sroot, x.strip("/").replace("/", "_"))
        with open(dst, "wb") as fh:
            fh.write(strip_shdrs(data))
    p2, m2 = dg_models(sroot, ["/" + x.strip("/").replace("/", "_") for x in picks])
    bad = []
    for x in picks:
        m = m2.get("/" + x.strip("/").replace("/", "_"))
        if not m or ranges(m) != ranges(model[x]) or m["eh_frame_error"] or m["fde_disagreements"]:
            bad.append(f"{x}: {m and (m['fdes'], m['eh_frame_error'], m['fde_disagreements'])} vs {model[x]['fdes']}")
    ok(p2.returncode == 0 and picks and not bad,
       f"{label}: without section headers, {len(picks)} files give the same FDEs through .eh_frame_hdr",
       [p2.stderr[:1000]] + bad)
    # ... and when the linker wrote no zero terminator, the walk ends after the last FDE the
    # search table names without counting what follows as damage
    if "/bin/dash" in model:
        with open(root + "/bin/dash", "rb") as fh:
            data = bytearray(fh.read())
        _, _, eoff, esize = [x for x in shdrs(data)[0] if x[0] == ".eh_frame"][0]
        if data[eoff + esize - 4:eoff + esize] == bytes(4):
            data[eoff + esize - 4:eoff + esize] = struct.pack(">I" if data[5] == 2 else "<I", 1)
            with open(os.path.join(sroot, "dash-noterm"), "wb") as fh:
                fh.write(strip_shdrs(bytes(data)))
            p3, m3 = dg_models(sroot, ["/dash-noterm"])
            m3 = m3.get("/dash-noterm", {})
            ok(ranges(m3) == ranges(model["/bin/dash"]) and not m3.get("eh_frame_error"),
               f"{label}: without section headers nor terminator, dash gives the same FDEs",
               [p3.stderr[:500], m3.get("eh_frame_error"), m3.get("fdes")])
print(f"# {total_files} ELF files, {total_fdes} FDEs, architectures: {' '.join(sorted(arches))}")


# --- damaged copies -------------------------------------------------------------------------
def run_one(data, name):
    d = os.path.join(TMP, "hostile")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "x"), "wb") as fh:
        fh.write(data)
    try:
        p = subprocess.run([DG, "elf", "dir:" + d, "/x"], capture_output=True, text=True, errors="replace",
                           env=ENV, timeout=60)
    except subprocess.TimeoutExpired:
        return None, "hang (60 s)"
    if "Sanitizer" in p.stderr or "runtime error" in p.stderr or p.returncode not in (0, 4):
        keep = os.path.join(tempfile.gettempdir(), f"dg-ehframe-{name}")
        shutil.copy(os.path.join(d, "x"), keep)
        return None, f"rc={p.returncode} {p.stderr[:1500]} (kept as {keep})"
    return (json.loads(p.stdout)["/x"] if p.returncode == 0 else None), p.stderr.strip()


def uleb_len(b, i):
    n = 0
    while b[i + n] & 0x80:
        n += 1
    return n + 1


def entries(data, off, size, be):
    """(entry offset, length, id) of the first few .eh_frame entries (32-bit lengths)."""
    e = ">" if be else "<"
    out, p = [], off
    while p < off + size and len(out) < 8:
        ln, = struct.unpack_from(e + "I", data, p)
        if ln == 0:
            break
        cid, = struct.unpack_from(e + "I", data, p + 4)
        out.append((p, ln, cid))
        p += 4 + ln
    return out


def hostile_cases(label, data):
    secs, b64, be = shdrs(data)
    e = ">" if be else "<"
    sec = [s for s in secs if s[0] == ".eh_frame"][0]
    _, sho, off, size = sec
    ents = entries(data, off, size, be)
    cie = [x for x in ents if x[2] == 0][0]
    fdes = [x for x in ents if x[2] != 0]
    cases = {}

    def patch(at, raw):
        d = bytearray(data)
        d[at:at + len(raw)] = raw
        return d

    # .eh_frame cut inside its third entry (section size in the section header)
    d = bytearray(data)
    struct.pack_into(e + ("Q" if b64 else "I"), d, sho + (32 if b64 else 20), ents[2][0] - off + 6)
    cases["truncated .eh_frame"] = d
    # absurd augmentation data length: a one-byte 0x7f and an unterminated run of 0xff
    p = cie[0] + 9
    aug = data[p:data.index(b"\0", p)]
    p += len(aug) + 1
    p += uleb_len(data, p)  # code alignment
    p += uleb_len(data, p)  # data alignment
    p += 1 if data[cie[0] + 8] == 1 else uleb_len(data, p)
    assert aug.startswith(b"z"), aug
    cases["CIE augmentation length past its entry"] = patch(p, b"\x7f")
    cases["CIE augmentation length unterminated ULEB128"] = patch(p, b"\xff" * 11)
    cases["CIE augmentation string unterminated"] = patch(cie[0] + 9, b"z" * (cie[1] - 5))
    f1, f2 = fdes[0], fdes[1]
    cases["FDE whose CIE pointer names itself"] = patch(f1[0] + 4, struct.pack(e + "I", 4))
    cases["FDE whose CIE pointer names another FDE"] = patch(f2[0] + 4, struct.pack(e + "I", f2[0] - f1[0] + 4))
    cases["FDE whose CIE pointer points before the section"] = patch(f1[0] + 4, struct.pack(e + "I", 0x7fffffff))
    cases["extended length overflow"] = patch(cie[0], struct.pack(e + "IQ", 0xffffffff, 0xfffffffffffffff0))
    cases["extended length past the section"] = patch(cie[0], struct.pack(e + "IQ", 0xffffffff, size))
    cases["reserved length"] = patch(cie[0], struct.pack(e + "I", 0xfffffff0))
    cases["length past the section"] = patch(fdes[0][0], struct.pack(e + "I", size))
    cases["CIE version 9"] = patch(cie[0] + 8, b"\x09")
    cases["FDE pointer encoding 0x07"] = None
    if b"R" in aug:  # the 'R' byte: after personality data, if any; simplest when aug is "zR"
        if aug == b"zR":
            cases["FDE pointer encoding 0x07"] = patch(p + 1, b"\x07")
    bad = []
    for name, d in cases.items():
        if d is None:
            continue
        m, err = run_one(bytes(d), re.sub(r"\W+", "-", label + "-" + name))
        print(f"#   {label}, {name}: " + (f"{m['fdes']} FDEs kept, {m['eh_frame_error']}" if m else f"refused: {err}"))
        if m is None and err and err.startswith(("hang", "rc=")):
            bad.append(f"{name}: {err}")
        elif m is not None and not m["eh_frame_error"]:
            bad.append(f"{name}: no eh_frame_error ({m['fdes']} FDEs)")
        elif m is None and not err:
            bad.append(f"{name}: refused without a message")
    ok(not bad, f"{label}: {sum(d is not None for d in cases.values())} damaged .eh_frame copies give "
       "eh_frame_error (or a clean refusal)", bad)
    # seeded random damage inside .eh_frame
    rng = random.Random(20261123)
    bad = []
    for k in range(60):
        d = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            at = off + rng.randrange(min(size, 4096) if rng.random() < 0.7 else size)
            d[at] = rng.choice([0, 0xff, 0x7f, 0x80, 0x1b, rng.randrange(256)])
        m, err = run_one(bytes(d), f"{label}-random-{k}")
        if m is None and err and err.startswith(("hang", "rc=")):
            bad.append(f"round {k}: {err}")
            break
    ok(not bad, f"{label}: 60 randomly damaged .eh_frame sections: a model or a clean refusal, never a crash", bad)


for label, root, path in (("amd64 static busybox", native, "/bin/busybox"), ("amd64 dash", native, "/bin/dash"),
                          *[(f"{l} busybox", r, "/bin/busybox") for l, r in roots if l in ("i386", "s390x")]):
    if os.path.exists(root + path):
        with open(root + path, "rb") as fh:
            hostile_cases(label, fh.read())
shutil.rmtree(TMP, ignore_errors=True)
print(f"1..{N}")
sys.exit(1 if FAILED else 0)
