#!/usr/bin/env python3
"""Differential test of the ELF reader against binutils' readelf, over every
ELF file of real Debian packages (libc6, busybox-static, dash, coreutils and
its libraries): DT_NEEDED, SONAME, RPATH/RUNPATH, PT_INTERP, dynamic symbols
with their versions, dynamic relocation counts (DT_RELR expanded), build IDs, init/fini arrays and
the function starts of .eh_frame and its .eh_frame_hdr table (test_ehframe.py
compares every FDE range). Prints TAP. Usage: test_elf_readelf.py DOCKERGATE"""
import json, os, re, subprocess, sys, tempfile
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from realroot import elves_under, real_rootfs  # noqa: E402

DG = sys.argv[1]
N = FAILED = 0


def ok(cond, name, diag=()):
    global N, FAILED
    N += 1
    FAILED += not cond
    print(("ok" if cond else "not ok") + f" {N} - readelf: {name}")
    if not cond:
        for l in list(diag)[:12]:
            print("#   " + str(l))


root = tempfile.mkdtemp(prefix="dg-elf-")
real_rootfs(root)
elves = elves_under(root)
ok(len(elves) > 60, f"{len(elves)} ELF files found in the real packages")

p = subprocess.run([DG, "elf", "dir:" + root, *elves], capture_output=True, text=True)
ok(p.returncode == 0, "dockergate elf reads every file", [p.stderr])
model = json.loads(p.stdout) if p.returncode == 0 else {}


def readelf(*args):
    return subprocess.run(["readelf", "-W", *args], capture_output=True, text=True,
                          env=dict(os.environ, LC_ALL="C")).stdout


checks = {k: [] for k in ("needed", "soname", "rpath", "runpath", "interp", "dynsyms", "relocs",
                          "build_id", "init_array", "fde")}
for path in elves:
    m = model.get(path)
    if not m:
        continue
    f = root + path
    d = readelf("-d", f)
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.*)\]", d)
    if needed != m["needed"]:
        checks["needed"].append(f"{path}: {m['needed']} != {needed}")
    for key, tag in (("soname", "SONAME"), ("rpath", "RPATH"), ("runpath", "RUNPATH")):
        x = re.findall(r"\(%s\)\s+Library \w+: \[(.*)\]" % tag, d)
        if (x[0] if x else None) != m[key]:
            checks[key].append(f"{path}: {m[key]} != {x}")
    ia = re.findall(r"\(INIT_ARRAYSZ\)\s+(\d+) \(bytes\)", d)
    if "There is no dynamic section" in d:  # a static program: from its INIT_ARRAY section
        ia = [str(int(x, 16)) for x in re.findall(r"\sINIT_ARRAY\s+[0-9a-f]+ [0-9a-f]+ ([0-9a-f]+) ",
                                                   readelf("-SW", f))]
    if (int(ia[0]) // (m["class"] // 8) if ia else 0) != len(m["init_array"]):
        checks["init_array"].append(f"{path}: {len(m['init_array'])} != {ia}")
    l = readelf("-l", f)
    interp = re.findall(r"\[Requesting program interpreter: (.*)\]", l)
    if (interp[0] if interp else None) != m["interp"]:
        checks["interp"].append(f"{path}: {m['interp']} != {interp}")
    syms = []
    for line in readelf("--dyn-syms", f).splitlines():
        mm = re.match(r"\s*\d+: [0-9a-f]+\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s*(.*)$", line)
        if mm:
            syms.append(re.sub(r" \(\d+\)$", "", mm.group(1)))
    if syms != m["dynsyms"]:
        diff = [f"{path}: {len(m['dynsyms'])} vs {len(syms)} symbols"] + \
               [f"  {a!r} != {b!r}" for a, b in zip(m["dynsyms"], syms) if a != b][:5]
        checks["dynsyms"].append("\n".join(diff))
    r = readelf("-r", f)
    # dynamic relocations, and in a static program the IRELATIVE ones in .rela.plt/.rela.iplt
    nrel = sum(int(x) for x in re.findall(r"Relocation section '\.rel[a]?\.(?:dyn|plt|iplt)' at offset \S+ contains (\d+) entr", r))
    # DT_RELR (glibc >= 2.36): readelf lists the relocated offsets the packed words encode
    nrel += sum(int(x) for x in re.findall(r"Relocation section '\.relr\.dyn' at offset \S+ contains \d+ entr\S*:\s*\n\s*(\d+) offsets", r))
    if nrel != m["relocations"]:
        checks["relocs"].append(f"{path}: {m['relocations']} != {nrel}")
    bid = re.findall(r"Build ID: ([0-9a-f]+)", readelf("-n", f))
    if (bid[0] if bid else None) != m["build_id"]:
        checks["build_id"].append(f"{path}: {m['build_id']} != {bid}")
    fr = readelf("--debug-dump=frames", f)
    starts = {int(x, 16) for x in re.findall(r" FDE cie=\S+ pc=([0-9a-f]+)\.\.", fr)}
    hdr = bool(re.findall(r"\.eh_frame_hdr", readelf("-S", f)))
    if len(starts) != m["fde_starts"] or (hdr and len(starts) != m["eh_frame_hdr_table"]) or m["fde_disagreements"]:
        checks["fde"].append(f"{path}: {m['fde_starts']} (table {m['eh_frame_hdr_table']}) != {len(starts)}")

for k, v in checks.items():
    ok(not v, f"{k} agrees on all {len(model)} files", v)
subprocess.run(["rm", "-rf", root])
print(f"1..{N}")
sys.exit(1 if FAILED else 0)
