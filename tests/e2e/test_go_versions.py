#!/usr/bin/env python3
"""Go programs of every Go toolchain Debian ships (issue 16, item 1): tests/tools/gover/main.go
built by Go 1.15 (bullseye: pclntab 1.2, ABI0 only), 1.19 (bookworm: pclntab 1.18, register
ABI), 1.21-1.23 (bookworm-backports: pclntab 1.20) and 1.24 (trixie, the newest), each twice:
static and stripped (CGO_ENABLED=0, -ldflags='-s -w') and with cgo (dynamically linked with
libc). The toolchains come from Debian's archive (tests/tools/gotoolchains.sh).

For every binary:
 1. `elf --json` recognises it: the Go version it was built with, the function table's layout
    (1.2 / 1.18 / 1.20) and its function count;
 2. `syscalls --json` finds no syscall site of unknown number in the program's own code, and
    the numbers main.main passes to syscall.Syscall, Syscall6 and RawSyscall (getcpu, getrusage,
    getpid) and the syscall package's wrappers (sysinfo) are in its set;
 3. the program runs under strace (files, symlinks, a loopback TCP server and client,
    goroutines, timers): it answers, and every syscall it made is in the computed set.
Prints a table: version, layout, build, functions, allowed, observed.

Usage: test_go_versions.py DOCKERGATE     (prints TAP; needs strace and Debian's archive)
"""
import hashlib
import functools
import json
import os
import re
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from tap import Tap, run as tap_run  # noqa: E402

TAP = Tap("go versions")
ok, note = TAP.ok, TAP.note
run = functools.partial(tap_run, timeout=600)  # this test's bound per command
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
SRC = os.path.join(TOP, "tests", "tools", "gover", "main.go")
CACHE = os.environ.get("DG_GO_CACHE", "/var/tmp/dockergate-go")
LAYOUT = {"1.15": "1.2", "1.19": "1.18"}  # 1.20 and later: "1.20"
DIRECT = {"getcpu", "getrusage", "getpid", "sysinfo"}
IMPLICIT = {"restart_syscall"}


def build(version, goroot, tag, bindir):
    """The two builds of main.go by one toolchain, kept in the cache by the source's hash."""
    outs = {m: os.path.join(bindir, "gover-%s-%s" % (version, m)) for m in ("static", "cgo")}
    if all(os.path.exists(p) for p in outs.values()):
        return outs, ""
    env = dict(os.environ, GOROOT=goroot, GOCACHE=os.path.join(CACHE, "gocache-" + version),
               GOPATH=os.path.join(CACHE, "gopath"), GOTOOLCHAIN="local", GO111MODULE="off", GOFLAGS="",
               GOPROXY="off", HOME=CACHE)
    go = os.path.join(goroot, "bin", "go")
    src = os.path.dirname(SRC)
    for m, p in outs.items():
        args = ["-trimpath", "-ldflags=-s -w"] if m == "static" else ["-trimpath"]
        e = dict(env, CGO_ENABLED="0" if m == "static" else "1")
        r = run([go, "build"] + args + ["-o", p + ".tmp", "main.go"], env=e, cwd=src)
        if r.returncode != 0:
            return None, r.stderr
        os.rename(p + ".tmp", p)
    return outs, ""


def traced(exe, T):
    """Runs EXE under strace -f: its stdout and the set of syscalls it made."""
    tr = os.path.join(T, "trace-" + os.path.basename(exe))
    env = {"PATH": "/usr/bin:/bin", "TMPDIR": T, "HOME": T}
    r = run(["strace", "-f", "-qq", "-o", tr, exe], env=env, timeout=120)
    seen = set()
    for line in open(tr, errors="replace"):
        m = re.match(r"^\d+\s+(?:<\.\.\. )?([a-z0-9_]+)[( ]", line)
        if m and not line.split(None, 1)[1].startswith("+++") and not line.split(None, 1)[1].startswith("---"):
            seen.add(m.group(1))
    seen.discard("execve")  # strace's own exec of the program: the runtime's part
    return r, seen - IMPLICIT


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    dg = os.path.abspath(sys.argv[1])
    if not shutil.which("strace"):
        print("1..0 # SKIP needs strace (scripts/deps.sh --test)")
        return 0
    r = run(["bash", os.path.join(TOP, "tests", "tools", "gotoolchains.sh")], timeout=1800)
    chains = [line.split() for line in r.stdout.splitlines() if len(line.split()) == 2]
    if not ok(r.returncode == 0 and len(chains) >= 6, "Debian's Go toolchains (%s)" % " ".join(v for v, _ in chains),
              r.stderr[-2000:]):
        return 1
    T = tempfile.mkdtemp(prefix="dg-gover.", dir=os.environ.get("TMPDIR", "/tmp"))
    try:
        body(dg, T, chains)
    finally:
        shutil.rmtree(T, ignore_errors=True)
    return 1 if TAP.failed else 0


def body(dg, T, chains):
    tag = hashlib.sha256(open(SRC, "rb").read()).hexdigest()[:16]
    bindir = os.path.join(CACHE, "gover-" + tag)
    os.makedirs(bindir, exist_ok=True)
    # a root filesystem: the binaries and the libc the cgo builds load (this machine's)
    img = os.path.join(T, "img")
    for d in ("usr/bin", "usr/lib/x86_64-linux-gnu", "usr/lib64", "tmp"):
        os.makedirs(os.path.join(img, d))
    for link, to in (("bin", "usr/bin"), ("lib", "usr/lib"), ("lib64", "usr/lib64")):
        os.symlink(to, os.path.join(img, link))
    exes = []
    for version, goroot in chains:
        outs, err = build(version, goroot, tag, bindir)
        if not ok(outs is not None, "go%s builds the program, static and with cgo" % version, err):
            continue
        for m in ("static", "cgo"):
            shutil.copy(outs[m], os.path.join(img, "usr", "bin"))
            exes.append((version, m, "/usr/bin/" + os.path.basename(outs[m])))
    cgo = [os.path.join(img, p.lstrip("/")) for v, m, p in exes if m == "cgo"]
    if cgo:
        r = run(["ldd", cgo[0]])
        for lib in sorted(set(re.findall(r"(/\S+\.so[.\d]*)", r.stdout))):
            real = os.path.realpath(lib)
            dst = os.path.join(img, "usr/lib/x86_64-linux-gnu", os.path.basename(lib))
            if not os.path.exists(dst):
                shutil.copy(real, dst)
        os.symlink("../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", os.path.join(img, "usr/lib64/ld-linux-x86-64.so.2"))

    r = run([dg, "syscalls", img, "--json"] + [p for _, _, p in exes])
    try:
        doc = {x["path"]: x for x in json.loads(r.stdout)["executables"]}
    except (ValueError, KeyError, TypeError):
        doc = {}
    ok(r.returncode == 0 and len(doc) == len(exes), "syscalls --json for %d Go programs" % len(exes), r.stderr[-2000:])
    rows = []
    for version, m, p in exes:
        what = "go%s %s" % (version, m)
        re_ = run([dg, "elf", "--json", img, p])
        try:
            go = json.loads(re_.stdout)[p].get("go") or {}
        except (ValueError, KeyError, AttributeError):
            go = {}
        want = LAYOUT.get(version, "1.20")
        ok(re_.returncode == 0 and str(go.get("version", "")).startswith("go%s." % version) and
           go.get("pclntab") == want and go.get("functions", 0) > 1000 and not go.get("pclntab_error"),
           "%s: recognised (%s, pclntab %s, %s functions)" % (what, go.get("version"), go.get("pclntab"),
                                                               go.get("functions")), re_.stdout[:1500] + re_.stderr)
        x = doc.get(p, {})
        allowed = set(x.get("syscalls", []))
        own = [u for u in x.get("unknown_sites", []) if u.get("object", u.get("path")) == p]
        ok(x and not own, "%s: no syscall site of unknown number in its own code" % what, json.dumps(own[:5]))
        ok(DIRECT <= allowed, "%s: the numbers main passes to syscall.Syscall/Syscall6/RawSyscall are found (%s)"
           % (what, ", ".join(sorted(DIRECT & allowed))), "missing: %s" % sorted(DIRECT - allowed))
        rr, seen = traced(os.path.join(img, p.lstrip("/")), T)
        ok(rr.returncode == 0 and "gover-ok d/b" in rr.stdout and "pong" in rr.stdout,
           "%s: runs under strace and answers" % what, rr.stdout + rr.stderr)
        miss = sorted(seen - allowed)
        ok(seen and not miss, "%s: every syscall it made (%d) is in the computed set (%d)" % (what, len(seen), len(allowed)),
           "NOT COMPUTED: %s" % " ".join(miss))
        rows.append((go.get("version"), go.get("pclntab"), m, go.get("functions"), len(allowed), len(seen)))
    note("")
    note("%-10s %-8s %-7s %10s %8s %9s" % ("go", "pclntab", "build", "functions", "allowed", "observed"))
    for row in rows:
        note("%-10s %-8s %-7s %10s %8d %9d" % row)
    TAP.plan()


if __name__ == "__main__":
    sys.exit(main())
