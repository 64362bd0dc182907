#!/usr/bin/env python3
"""Function pointers held in data (issue 17, item 3; docs/design.md "Data-held function
pointers"): a pointer that data holds counts once reachable code, or data that counts, refers to
that data, for files whose symbol table delimits their data objects. The program
tests/e2e/dataobj/prog.c (and its library lib.c), compiled here in several ways into a root
filesystem holding this machine's glibc:

  dobj-pie       gcc -O2 (PIE): the tables only unused code refers to must not count (acct,
                 pivot_root); those main refers to, directly, through data pointing to data, and
                 through a section walked with __start_/__stop_, must (swapoff, io_destroy,
                 mq_unlink, lookup_dcookie); with --precision held (the earlier rule) all count
  dobj-nopie     -no-pie: absolute addresses beside index registers name objects with a window
  dobj-stripped  the PIE without its symbol table: nothing delimits the data, every pointer counts
  dobj-static    -static (glibc's own objects delimited by its symbols)
  dobj-lib       links libdobj.so: its exported object's pointer counts (quotactl), its table
                 only an uncalled export refers to does not (uselib)

and dockergate's own plain build (a real C program with its symbol table) analysing an image
under strace.

Checks the sets at function and held precision, that a warm cache gives the same sets,
`explain`, and runs each program under strace: everything it made is in its computed set.
Usage: test_dataobj.py DOCKERGATE     (prints TAP; needs gcc and strace)
"""
import functools
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from tap import Tap, run as tap_run, tap_main  # noqa: E402
from hostroot import make_root, copy_libs, lib_env, strace_calls  # noqa: E402

TAP = Tap("dataobj")
ok, note = TAP.ok, TAP.note
run = functools.partial(tap_run, timeout=300)
REACHED = {"swapoff", "io_destroy", "mq_unlink", "lookup_dcookie"}
NEVER = {"acct", "pivot_root"}
PROGS = ("pie", "nopie", "stripped", "static", "lib")


def sets(dg, img, env, precision):
    r = run([dg, "syscalls", img, "--json", "--precision", precision], env=env)
    try:
        doc = {x["path"]: set(x["syscalls"]) for x in json.loads(r.stdout)["executables"]}
    except (ValueError, KeyError, TypeError):
        doc = {}
    return r, {p: doc.get("/usr/bin/dobj-" + p) for p in PROGS}


def body(dg, T):
    img = os.path.join(T, "img")
    make_root(img)
    src, lib = os.path.join(HERE, "dataobj", "prog.c"), os.path.join(HERE, "dataobj", "lib.c")
    out = lambda p: os.path.join(img, "usr/bin", "dobj-" + p)  # noqa: E731
    cmds = [["gcc", "-O2", "-Wall", "-o", out("pie"), src],
            ["gcc", "-O2", "-Wall", "-no-pie", "-o", out("nopie"), src],
            ["gcc", "-O2", "-Wall", "-o", out("stripped"), src],
            ["strip", out("stripped")],
            ["gcc", "-O2", "-Wall", "-static", "-o", out("static"), src],
            ["gcc", "-O2", "-Wall", "-shared", "-fPIC", "-o", os.path.join(img, "usr/lib/libdobj.so"), lib],
            ["gcc", "-O2", "-Wall", "-DWITH_LIB", "-o", out("lib"), src, "-L" + os.path.join(img, "usr/lib"), "-ldobj"]]
    errs = ""
    for c in cmds:
        r = run(c)
        errs += r.stderr if r.returncode else ""
    if not ok(not errs, "compile the test programs (gcc -O2: PIE, -no-pie, stripped, -static, with a library)", errs):
        return
    copy_libs(img, out("pie"))

    env = dict(os.environ, XDG_CACHE_HOME=os.path.join(T, "cache"))
    r, fn = sets(dg, img, env, "function")
    if not ok(r.returncode == 0 and all(fn.values()), "syscalls --json (function precision)", r.stderr[-2000:]):
        return
    r2, held = sets(dg, img, env, "held")
    if not ok(r2.returncode == 0 and all(held.values()), "syscalls --json --precision held", r2.stderr[-2000:]):
        return
    pie = fn["pie"]
    ok(REACHED <= pie and not (NEVER & pie),
       "PIE: the tables main refers to count (directly, data pointing to data, a __start_/__stop_ section); "
       "those only unused code refers to do not (%d syscalls)" % len(pie),
       "missing %s, wrongly counted %s" % (sorted(REACHED - pie), sorted(NEVER & pie)))
    ok(REACHED | NEVER <= held["pie"] and fn["pie"] <= held["pie"],
       "PIE, --precision held: every pointer data holds counts, acct and pivot_root too (%d syscalls)" % len(held["pie"]),
       sorted((REACHED | NEVER) - held["pie"]))
    ok(REACHED | NEVER <= fn["stripped"],
       "the PIE stripped: no symbol table delimits its data, every pointer counts (%d syscalls)" % len(fn["stripped"]),
       sorted((REACHED | NEVER) - fn["stripped"]))
    for p in ("nopie", "static"):
        ok(REACHED <= fn[p] and fn[p] <= held[p],
           "%s: the tables main refers to count; function %d <= held %d syscalls (not counted: %s)"
           % (p, len(fn[p]), len(held[p]), ", ".join(sorted(held[p] - fn[p])) or "nothing more"),
           "missing %s; only at function precision: %s" % (sorted(REACHED - fn[p]), sorted(fn[p] - held[p])))
    ok("quotactl" in fn["lib"] and "uselib" not in fn["lib"] and "uselib" in held["lib"] and REACHED <= fn["lib"],
       "with a library: the exported object's pointer counts (quotactl), the table only an uncalled export "
       "refers to does not (uselib; counted with --precision held)",
       "quotactl %s uselib %s held uselib %s" % ("quotactl" in fn["lib"], "uselib" in fn["lib"], "uselib" in held["lib"]))
    r3, warm = sets(dg, img, env, "function")
    ok(r3.returncode == 0 and warm == fn, "a warm cache gives the same sets (the summaries' data objects decode)",
       r3.stderr[-1500:] + str({p: sorted(fn[p] ^ (warm[p] or set())) for p in PROGS}))
    r = run([dg, "explain", img, "mq_unlink", "/usr/bin/dobj-pie"], env=env)
    ok(r.returncode == 0 and "inner_fn" in r.stdout and
       "data object inner_tbl (0x" in r.stdout and "which used_ops (0x" in r.stdout and "which opsp (0x" in r.stdout
       and "which main refers to" in r.stdout,
       "explain mq_unlink: inner_fn, held in inner_tbl, which used_ops points to, which opsp points to, "
       "which main refers to", r.stdout + r.stderr)
    r = run([dg, "explain", img, "acct", "/usr/bin/dobj-pie"], env=env)
    ok("never_a" not in r.stdout and "is not allowed" in r.stdout + r.stderr,
       "explain acct: not allowed (never_a's table is referred to by nothing reachable)", r.stdout + r.stderr)
    runs = (("pie", "0"), ("pie", "1"), ("nopie", "1"), ("stripped", "0"), ("static", "1"), ("lib", "0"))
    for p, arg in runs:
        tr = os.path.join(T, "trace-%s-%s" % (p, arg))
        env_run = lib_env(img)
        env_run["LD_LIBRARY_PATH"] += ":" + os.path.join(img, "usr/lib")  # libdobj.so
        r = run(["strace", "-f", "-qq", "-o", tr, out(p), arg], env=env_run)
        seen = set(strace_calls(tr))
        miss = sorted(seen - fn[p])
        ok(r.returncode == 0 and "dataobj-ok" in r.stdout and not miss and (REACHED - {"swapoff", "io_destroy"}) <= seen,
           "dobj-%s %s under strace: the %d syscalls it made are all counted" % (p, arg, len(seen)),
           "NOT COUNTED: %s\n%s" % (" ".join(miss), r.stdout + r.stderr))
    note("allowed (function / held): " + ", ".join("%s %d/%d" % (p, len(fn[p]), len(held[p])) for p in PROGS))
    self_check(dg, T, img)


def self_check(dg, T, img):
    """A real C program with its symbol table: dockergate's own build (build/dockergate, the
    plain one `make test` builds beside the ASan one the suite runs), analysing an image under
    strace: everything it made is counted."""
    plain = os.path.realpath(os.path.join(HERE, "..", "..", "build", "dockergate"))
    if not os.path.exists(plain):
        note("no build/dockergate: the self check is skipped")
        return
    simg = os.path.join(T, "self")
    make_root(simg)
    shutil.copy(plain, os.path.join(simg, "usr/bin/dockergate"))
    copy_libs(simg, plain)
    env = dict(os.environ, XDG_CACHE_HOME=os.path.join(T, "cache"))
    got = {}
    for prec in ("function", "held"):
        r = run([dg, "syscalls", simg, "/usr/bin/dockergate", "--json", "--precision", prec], env=env)
        try:
            got[prec] = set(json.loads(r.stdout)["executables"][0]["syscalls"])
        except (ValueError, KeyError, TypeError, IndexError):
            got[prec] = set()
    if not ok(got["function"] and got["function"] <= got["held"],
              "dockergate's own build (symbol table kept): function %d <= held %d syscalls"
              % (len(got["function"]), len(got["held"])), r.stderr[-1500:]):
        return
    # libseccomp's syscall(2) calls pass the number it resolves for "seccomp": the library rule
    r = run([dg, "syscalls", simg, "/usr/bin/dockergate", "--json"], env=env)
    try:
        unk = [u for u in json.loads(r.stdout)["executables"][0]["unknown_sites"] if "libseccomp" in json.dumps(u)]
    except (ValueError, KeyError, TypeError, IndexError):
        unk = ["?"]
    ok("seccomp" in got["function"] and not unk,
       "libseccomp's syscall(2) calls with the number it resolves for \"seccomp\": seccomp counted, "
       "no unknown site left in libseccomp", unk)
    r = run([dg, "explain", simg, "seccomp", "/usr/bin/dockergate"], env=env)
    ok(r.returncode == 0 and "libseccomp.so.2" in r.stdout and "passes the number to a wrapper" in r.stdout,
       "explain seccomp: the chain ends at libseccomp's call of syscall(2)", r.stdout + r.stderr)
    sub = lib_env(simg)
    dgself = os.path.join(simg, "usr/bin/dockergate")
    cases = (("syscalls", [dgself, "syscalls", "--no-cache", img, "/usr/bin/dobj-pie"], "dobj-pie"),
             ("generate", [dgself, "generate", "--no-cache", img, "-o", os.path.join(T, "self-profile.json")], ""))
    for name, cmd, want in cases:
        tr = os.path.join(T, "trace-self-" + name)
        r = run(["strace", "-f", "-qq", "-o", tr] + cmd, env=sub)
        seen = set(strace_calls(tr))
        miss = sorted(seen - got["function"])
        ok(r.returncode == 0 and want in r.stdout and not miss,
           "dockergate's own build running `%s` under strace: the %d syscalls it made are all counted%s"
           % (name, len(seen), " (seccomp among them)" if "seccomp" in seen else ""),
           "NOT COUNTED: %s\n%s" % (" ".join(miss), r.stdout[-500:] + r.stderr[-1000:]))


if __name__ == "__main__":
    sys.exit(tap_main(TAP, __doc__, "dataobj", body, tools=("gcc", "strace", "strip")))
