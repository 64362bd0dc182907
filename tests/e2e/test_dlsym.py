#!/usr/bin/env python3
"""dlsym and dlvsym (issue 17, item 0): a function whose address a program looks up by name is
called through the pointer, so the analysis must count it. Programs compiled here
(tests/e2e/dlsym/*.c), in a root filesystem holding this machine's glibc:

  const   dlsym(RTLD_DEFAULT, "pkey_alloc"/"pkey_free"), as V8 in libnode does
  wrap    a lookup function of its own (RTLD_NEXT, then RTLD_DEFAULT) given constant names,
          and dlvsym(RTLD_DEFAULT, "pkey_mprotect", "GLIBC_2.27")
  any     a name chosen at run time, in the global scope: every exported function of the load
          set counts (reported as dlsym_unknown_name)
  handle  a lookup function given RTLD_DEFAULT and a name chosen at run time by its caller: the
          same
  module  a name chosen at run time in a handle dlopen returned: that library's exports count
          (its own analysis, all exports as roots), reported as dlsym_unknown_name_in_dlopened
  none    the control: no lookup, no pkey_* call
  lighttpd  a program named lighttpd composing "<module>_plugin_init" at run time, as lighttpd's
          plugin.c does: only exports with that suffix count (the lookup rule for lighttpd)

Checks the computed sets, `explain` (the chain names the function taking the address), and
runs each program under strace: everything it made is in the image's computed set.
Usage: test_dlsym.py DOCKERGATE     (prints TAP; needs gcc and strace)
"""
import functools
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from tap import Tap, run as tap_run, tap_main  # noqa: E402
from hostroot import make_root, copy_libs, strace_calls  # noqa: E402

TAP = Tap("dlsym")
ok, note = TAP.ok, TAP.note
run = functools.partial(tap_run, timeout=300)  # this test's bound per command
PROGS = ("const", "wrap", "any", "handle", "module", "none", "lighttpd")
PKEY = {"pkey_alloc", "pkey_free", "pkey_mprotect"}


def body(dg, T):
    img = os.path.join(T, "img")
    make_root(img)
    errs = ""
    for p in PROGS:
        r = run(["gcc", "-O2", "-Wall", "-o", os.path.join(img, "usr/bin", p), os.path.join(HERE, "dlsym", p + ".c"), "-ldl"]
                + (["-rdynamic"] if p == "lighttpd" else []))
        errs += r.stderr if r.returncode else ""
    r = run(["gcc", "-O2", "-Wall", "-shared", "-fPIC", "-o", os.path.join(img, "usr/lib/libmod.so"),
             os.path.join(HERE, "dlsym", "libmod.c")])
    errs += r.stderr if r.returncode else ""
    if not ok(not errs, "compile the test programs (gcc -O2)", errs):
        return
    copy_libs(img, os.path.join(img, "usr/bin/const"))

    env = dict(os.environ, XDG_CACHE_HOME=os.path.join(T, "cache"))
    r = run([dg, "syscalls", img, "--json"], env=env)
    try:
        j = json.loads(r.stdout)
        doc = {x["path"]: x for x in j["executables"]}
    except (ValueError, KeyError, TypeError):
        j, doc = {}, {}
    if not ok(r.returncode == 0 and all("/usr/bin/" + p in doc for p in PROGS), "syscalls --json", r.stderr[-2000:]):
        return
    got = {p: set(doc["/usr/bin/" + p]["syscalls"]) for p in PROGS}
    flag = {p: (doc["/usr/bin/" + p].get("dlsym_unknown_name"), doc["/usr/bin/" + p].get("dlsym_unknown_name_in_dlopened"))
            for p in PROGS}
    ok({"pkey_alloc", "pkey_free"} <= got["const"] and flag["const"] == (False, False),
       "constant names in the global scope: pkey_alloc and pkey_free counted (%d syscalls)" % len(got["const"]),
       "%s %s" % (sorted(got["const"] & PKEY), flag["const"]))
    ok({"pkey_alloc", "pkey_mprotect"} <= got["wrap"] and "pkey_free" not in got["wrap"] and flag["wrap"] == (False, False),
       "names passed to a lookup function of the program's, and dlvsym: exactly those counted (%s)"
       % ", ".join(sorted(got["wrap"] & PKEY)), "%s %s" % (sorted(got["wrap"] & PKEY), flag["wrap"]))
    ok(not (got["none"] & PKEY) and flag["none"] == (False, False), "the control: no lookup, no pkey_* (%d syscalls)"
       % len(got["none"]), sorted(got["none"] & PKEY))
    ok(flag["any"][0] is True and PKEY <= got["any"] and len(got["any"]) > len(got["none"]) + 100,
       "a name chosen at run time in the global scope: every export counts (%d syscalls, reported)" % len(got["any"]),
       "%s %d" % (flag["any"], len(got["any"])))
    ok(flag["handle"][0] is True and PKEY <= got["handle"],
       "RTLD_DEFAULT and a run-time name passed to a lookup function: every export counts (%d syscalls)"
       % len(got["handle"]), "%s %d" % (flag["handle"], len(got["handle"])))
    mod = doc.get("/usr/lib/libmod.so", {})
    ok(flag["module"] == (False, True) and not (got["module"] & PKEY) and "getcpu" in set(mod.get("syscalls", [])),
       "a name chosen at run time in a dlopen'd library: its exports count, analysed as dlopen'd (%d syscalls; libmod.so %d)"
       % (len(got["module"]), len(mod.get("syscalls", []))), "%s %s" % (flag["module"], sorted(mod.get("syscalls", []))))
    ok(flag["lighttpd"] == (False, False) and "getcpu" in got["lighttpd"] and "pkey_alloc" not in got["lighttpd"] and
       len(got["lighttpd"]) < len(got["any"]) - 50,
       "lighttpd's \"<module>_plugin_init\" lookups: its *_plugin_init exports count, not every export "
       "(%d syscalls, not reported as a name not known)" % len(got["lighttpd"]),
       "%s getcpu=%s pkey_alloc=%s %d" % (flag["lighttpd"], "getcpu" in got["lighttpd"], "pkey_alloc" in got["lighttpd"],
                                          len(got["lighttpd"])))
    r = run([dg, "syscalls", img, "/usr/bin/any", "/usr/bin/module"], env=env)
    ok(r.returncode == 0 and "looks up a symbol by a name not known statically (dlsym)" in r.stdout and
       "in libraries it dlopens" in r.stdout, "syscalls (text) says which lookups widened what", r.stdout[-1500:])
    r = run([dg, "explain", img, "pkey_alloc", "/usr/bin/const"], env=env)
    ok(r.returncode == 0 and "address is taken by main" in r.stdout and "libc.so.6" in r.stdout,
       "explain pkey_alloc: libc's pkey_alloc, its address taken by main", r.stdout + r.stderr)

    # ground truth: every syscall each run made is in the image's set (the union: module's
    # lookup lands in libmod.so, a library no program loads)
    union = set(j.get("union", []))
    runs = {"const": [], "wrap": [], "any": ["pkey_alloc"], "handle": ["pkey_alloc"], "module": ["/usr/lib/libmod.so", "mod_init"],
            "none": [], "lighttpd": ["mod_demo"]}
    for p, args in runs.items():
        tr = os.path.join(T, "trace-" + p)
        r = run(["strace", "-f", "-qq", "-o", tr, os.path.join(img, "usr/bin", p)] + args,
                env={"PATH": "/usr/bin:/bin", "LD_LIBRARY_PATH": os.path.join(img, "usr/lib")})
        seen = set(strace_calls(tr))
        want = union if p == "module" else got[p]
        miss = sorted(seen - want)
        ok(r.returncode == 0 and "dlsym-ok" in r.stdout and not miss,
           "%s %s under strace: the %d syscalls it made are all counted" % (p, " ".join(args), len(seen)),
           "NOT COUNTED: %s\n%s" % (" ".join(miss), r.stdout + r.stderr))


if __name__ == "__main__":
    sys.exit(tap_main(TAP, __doc__, "dlsym", body, tools=("gcc", "strace")))
