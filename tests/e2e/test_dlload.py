#!/usr/bin/env python3
"""dlopen's fallback keeps only what can be loaded (issue 17, item 1), proved against the real
loader. In a copy of the python image's root filesystem (tests/tools/e2eimage.py: minbase +
python3, perl-base's and python's extension modules, gconv, libsystemd, ...), a probe compiled
here (tests/e2e/dlload/probe.c) dlopens whatever its arguments name, so `--scope entrypoint`
with the probe as the entrypoint falls back to every library no program loads, filtered by the
loadability rule (dlrules.h dg_dl_loadable).

 1. the rule drops something (python's and perl's extension modules need their interpreter's
    symbols) and keeps the rest, each drop with its reason;
 2. the real loader (the probe, each library in its own process, RTLD_LAZY, in a chroot of the
    same tree): every library that really loads is one the rule kept (soundness), and what the
    rule kept but does not load is counted (tightness);
 3. with python3 itself as the entrypoint, python's extension modules are kept (they load into
    python3).

Usage: test_dlload.py DOCKERGATE     (prints TAP; root, gcc, unshare and chroot needed, else SKIP)
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from tap import Tap, run, tap_main  # noqa: E402

TAP = Tap("dlload")
ok, note = TAP.ok, TAP.note
E2EIMAGE = os.path.join(HERE, "..", "tools", "e2eimage.py")


def scope(dg, root, env, entry):
    r = run([dg, "syscalls", root, "--scope", "entrypoint", "--exec-fallback", "none", "--json", "--"] + entry, env=env)
    try:
        s = json.loads(r.stdout)["scope"]
    except (ValueError, KeyError):
        return r, None, [], {}
    kept = [i["path"] for i in s["items"] if i["why"] == s.get("all_libraries") and i["kind"] == "library"]
    refused = dict(line.split(": ", 1) for line in s.get("all_libraries_not_loadable", []))
    return r, s, kept, refused


def body(dg, T):
    r = run([sys.executable, E2EIMAGE, "rootfs", "python"], timeout=1800)
    src = r.stdout.strip()
    if not ok(r.returncode == 0 and os.path.isdir(src), "the python image's root filesystem", r.stderr):
        return
    root = os.path.join(T, "root")
    r = run(["cp", "-a", src, root])
    r2 = run(["gcc", "-O2", "-Wall", "-o", os.path.join(root, "probe"), os.path.join(HERE, "dlload", "probe.c")])
    if not ok(r.returncode == 0 and r2.returncode == 0, "a copy of it with the probe (gcc -O2)", r.stderr + r2.stderr):
        return
    env = dict(os.environ, XDG_CACHE_HOME=os.path.join(T, "cache"))

    # 1. the rule, with the probe as the process that dlopens
    r, s, kept, refused = scope(dg, root, env, ["/probe"])
    if not ok(r.returncode == 0 and s and s.get("all_libraries"), "syscalls --scope entrypoint -- /probe: the dlopen "
              "fallback fires (%s)" % (s or {}).get("all_libraries"), r.stderr[-2000:]):
        return
    cand, loadable = s.get("all_libraries_candidates", 0), s.get("all_libraries_loadable", 0)
    pyext = [p for p in refused if "/lib-dynload/" in p]
    perlext = [p for p in refused if "/perl" in p]
    ok(refused and loadable + len(refused) == cand and pyext and
       all("needs symbol Py" in refused[p] or "needs " in refused[p] for p in pyext),
       "the rule keeps %d of %d libraries, drops %d (python extension modules: %d, perl's: %d), each with its reason"
       % (loadable, cand, len(refused), len(pyext), len(perlext)),
       json.dumps(dict(list(refused.items())[:5]), indent=1))
    note("e.g. %s" % "; ".join("%s: %s" % kv for kv in list(refused.items())[:2]))

    # 2. the real loader on everything the fallback considered anew
    cands = kept + list(refused)
    r = run(["unshare", "-m", "-n", "sh", "-c", 'mount -t tmpfs tmpfs "$0/tmp" && exec chroot "$0" /probe "$@"', root]
            + cands, timeout=1800)
    res = {}
    for line in r.stdout.splitlines():
        st, _, rest = line.partition(" ")
        res[rest.split(": ", 1)[0]] = (st, rest)
    ok(r.returncode == 0 and len(res) == len(cands), "the probe ran each of the %d in its own process in a chroot"
       % len(cands), r.stderr[-1500:] + r.stdout[-500:])
    really = {p for p, (st, _) in res.items() if st == "ok"}
    bad = sorted(really & set(refused))
    ok(not bad, "sound: every library the real loader loads (%d) is one the rule kept" % len(really),
       "\n".join("LOADS BUT DROPPED: %s (rule: %s)" % (p, refused[p]) for p in bad))
    over = [p for p in kept if res.get(p, ("?",))[0] != "ok"]
    fails = [p for p in refused if res.get(p, ("?",))[0] == "fail"]
    ok(len(fails) == len(refused), "every library the rule drops, the real loader refuses too (%d of %d: %s)"
       % (len(fails), len(refused), res.get(pyext[0], ("", ""))[1][:120] if pyext else ""),
       "\n".join(str(res.get(p)) for p in refused if p not in fails))
    note("tightness: the rule kept %d libraries anew, %d of them do not load for real (%s)"
         % (len(kept), len(over), "; ".join(str(res.get(p)) for p in over[:3])))

    # 3. python3 as the process: its extension modules load into it
    r, s3, kept3, refused3 = scope(dg, root, env, ["python3", "-c", "pass"])
    py3 = [p for p in refused3 if "/lib-dynload/" in p]
    ok(r.returncode == 0 and s3 is not None and not py3,
       "with python3 as the entrypoint, its extension modules are not dropped (%d dropped in all)" % len(refused3),
       "\n".join(py3[:10]) + r.stderr[-1000:])


if __name__ == "__main__":
    sys.exit(tap_main(TAP, __doc__, "dlload", body, tools=("gcc", "unshare", "chroot"), need_root=True, tmp_dir="/var/tmp"))
