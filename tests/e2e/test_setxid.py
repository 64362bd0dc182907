#!/usr/bin/env python3
"""glibc's setxid broadcast (docs/design.md, "the setxid rule"): in a multi-threaded process
glibc's set*id and setgroups wrappers hand the call to __nptl_setxid, which makes it and has
every other thread's SIGSETXID handler make it again, both taking the number from a struct
xid_command. Those two sites in libc.so.6 make only calls a reachable wrapper's own site makes:
they are neither unknown sites nor new numbers. The program tests/e2e/setxid/setxid.c, compiled
here into a root filesystem holding this machine's glibc:

  - its set holds setuid, setgid, setresuid (and setgroups), and no unknown site is left in
    libc.so.6, so `--strict` exits 0;
  - the same for it built -static (glibc's sites are then in the program, which its
    NT_GNU_ABI_TAG note marks as glibc's);
  - run under strace (a second thread alive), every syscall any of its threads made, the
    handler's repeats included, is in its set.
Usage: test_setxid.py DOCKERGATE     (prints TAP; needs gcc and strace)
"""
import functools
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from tap import Tap, run as tap_run, tap_main  # noqa: E402
from hostroot import make_root, copy_libs, lib_env, strace_calls  # noqa: E402

TAP = Tap("setxid")
ok, note = TAP.ok, TAP.note
run = functools.partial(tap_run, timeout=300)
WANT = {"setuid", "setgid", "setresuid", "setgroups"}


def body(dg, T):
    img = os.path.join(T, "img")
    make_root(img)
    prog = os.path.join(img, "usr/bin/setxid")
    r = run(["gcc", "-O2", "-Wall", "-pthread", "-o", prog, os.path.join(HERE, "setxid", "setxid.c")])
    if not ok(r.returncode == 0, "compile the test program (gcc -O2 -pthread)", r.stderr):
        return
    copy_libs(img, prog)
    static = os.path.join(img, "usr/bin/setxid-static")
    r = run(["gcc", "-O2", "-Wall", "-static", "-pthread", "-o", static, os.path.join(HERE, "setxid", "setxid.c")])
    ok(r.returncode == 0, "compile it static too (gcc -static: glibc inside the program)", r.stderr)
    env = dict(os.environ, XDG_CACHE_HOME=os.path.join(T, "cache"))
    r = run([dg, "syscalls", img, "/usr/bin/setxid", "--json"], env=env)
    try:
        x = json.loads(r.stdout)["executables"][0]
        got, unk = set(x["syscalls"]), x["unknown_sites"]
    except (ValueError, KeyError, TypeError, IndexError):
        got, unk = set(), ["?"]
    libc_unk = [u for u in unk if "libc.so" in json.dumps(u)]
    ok(r.returncode == 0 and WANT <= got and not libc_unk,
       "the set holds %s; no unknown site in libc.so.6 (%d syscalls)" % (", ".join(sorted(WANT)), len(got)),
       "missing %s; libc's unknown sites %s\n%s" % (sorted(WANT - got), libc_unk, r.stderr[-1000:]))
    r = run([dg, "syscalls", img, "/usr/bin/setxid", "--strict"], env=env)
    ok(r.returncode == 0, "--strict: exit 0 (no unknown site left; got %d)" % r.returncode, r.stdout[-1500:] + r.stderr)
    r = run([dg, "syscalls", img, "/usr/bin/setxid", "--json", "--precision", "object"], env=env)
    try:
        unk_obj = [u for u in json.loads(r.stdout)["executables"][0]["unknown_sites"] if "libc.so" in json.dumps(u)]
    except (ValueError, KeyError, TypeError, IndexError):
        unk_obj = ["?"]
    note("at object precision libc.so.6 has %d unknown sites (its syscall(2) entered with unknown arguments, ...)"
         % len(unk_obj))
    r = run([dg, "syscalls", img, "/usr/bin/setxid-static", "--json", "--strict"], env=env)
    try:
        x = json.loads(r.stdout)["executables"][0]
        sgot, sunk = set(x["syscalls"]), x["unknown_sites"]
    except (ValueError, KeyError, TypeError, IndexError):
        sgot, sunk = set(), ["?"]
    ok(r.returncode == 0 and WANT <= sgot and not sunk,
       "static: the same (glibc's setxid sites in the program itself, known by its ABI note), --strict exit 0",
       "rc %d missing %s unknown %s\n%s" % (r.returncode, sorted(WANT - sgot), sunk, r.stderr[-800:]))
    for exe, arg, want in ((prog, [], got), (prog, ["groups"], got), (static, ["groups"], sgot)):
        tr = os.path.join(T, "trace-%s-%d" % (os.path.basename(exe), len(arg)))
        r = run(["strace", "-f", "-qq", "-o", tr, exe] + arg, env=lib_env(img))
        per = strace_calls(tr)
        miss = sorted(set(per) - want)
        ok(r.returncode == 0 and "setxid-ok" in r.stdout and not miss and len(per.get("setuid", ())) >= 2,
           "%s %s under strace: setuid made by %d threads (the broadcast); the %d syscalls made are all counted"
           % (os.path.basename(exe), " ".join(arg), len(per.get("setuid", ())), len(per)),
           "NOT COUNTED: %s\n%s" % (" ".join(miss), r.stdout + r.stderr))

if __name__ == "__main__":
    sys.exit(tap_main(TAP, __doc__, "setxid", body, tools=("gcc", "strace")))
