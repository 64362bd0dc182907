#!/usr/bin/env python3
"""The entrypoint scope's tiers (issue 17, item 2), on the node image of tests/tools/e2eimage.py
(Debian's nodejs: libuv's uv_spawn runs programs chosen at run time, so the exec fallback adds
every executable of the image):

 1. `syscalls --scope entrypoint --json`: "tiers" splits the union into what the closure itself
    reaches and what only the fallback's programs and libraries reach, and lists what each of
    those adds (tar's mkdirat, ...); the text output says the same;
 2. `generate --fallback allow|log|deny`: the same allowed set with the fallback tier as an
    SCMP_ACT_LOG rule (log), or without it (deny), the tier listed in the summary; every output
    format compiles with the log tier (BPF and PFC through libseccomp); usage errors;
 3. `diff` and `merge` keep the logged tier (a plain allow wins in a merge);
 4. `explain` names the tier of a syscall;
 5. on runc: node's own workload passes under the deny profile; a workload running tar through
    /bin/sh passes under the log profile, and `verify --diagnose always` names the logged
    syscalls it used (the kernel's records).

Usage: test_tiers.py DOCKERGATE     (prints TAP; the verify part needs root and runc)
"""
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from tap import Tap, run, tap_main  # noqa: E402

TAP = Tap("tiers")
ok, note = TAP.ok, TAP.note
E2EIMAGE = os.path.join(HERE, "..", "tools", "e2eimage.py")


def summary(stderr):
    try:
        return json.loads(stderr[stderr.index("{"):])
    except ValueError:
        return {}


def rules(path):
    try:
        d = json.load(open(path))
    except (OSError, ValueError):
        return {}
    out = {}
    for r in d.get("syscalls", []):
        out.setdefault(r["action"], set()).update(r["names"])
    return out


def body(dg, T):
    r = run([sys.executable, E2EIMAGE, "build", "node", "--format", "docker-archive"], timeout=1800)
    image = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
    if not ok(r.returncode == 0 and os.path.exists(image), "the node image (e2eimage.py build node)", r.stderr):
        return
    env = dict(os.environ, XDG_CACHE_HOME=os.path.join(T, "cache"), SOURCE_DATE_EPOCH="1700000000")

    # 1. the tiers of the scope
    r = run([dg, "syscalls", image, "--scope", "entrypoint", "--json"], env=env)
    try:
        j = json.loads(r.stdout)
    except ValueError:
        j = {}
    t = j.get("tiers") or {}
    closure, fallback, union = set(t.get("closure", [])), set(t.get("fallback", [])), set(j.get("union", []))
    adds = {a["path"]: set(a["adds"]) for a in t.get("fallback_adds", [])}
    ok(r.returncode == 0 and closure and fallback and closure | fallback == union and not closure & fallback,
       "syscalls --scope entrypoint: the union (%d) is the closure's tier (%d) plus the fallback's (%d)"
       % (len(union), len(closure), len(fallback)), r.stderr[-2000:])
    ok("pkey_alloc" in closure and {"listen", "accept4", "epoll_wait"} <= closure,
       "node's own syscalls are in the closure's tier (pkey_alloc, listen, accept4, epoll_wait)", sorted(closure))
    items = {i["path"]: i for i in (j.get("scope") or {}).get("items", [])}
    ok(adds and all(a <= fallback for a in adds.values()) and set().union(*adds.values()) == fallback and
       all(p in items for p in adds) and "mkdirat" in adds.get("/usr/bin/tar", set()),
       "fallback_adds: %d programs and libraries, each with what it adds (tar: %s)"
       % (len(adds), " ".join(sorted(adds.get("/usr/bin/tar", set()))[:8])), json.dumps(t)[:2000])
    r = run([dg, "syscalls", image, "--scope", "entrypoint"], env=env)
    ok(r.returncode == 0 and ("tiers: %d syscalls for the closure itself, %d more only for what the fallback added"
                              % (len(closure), len(fallback))) in r.stdout and "fallback program /usr/bin/tar adds" in r.stdout,
       "the text output lists the tiers and what each fallback program adds", r.stdout[-2500:])

    # 2. generate, the three tiers
    prof, summ = {}, {}
    for m in ("allow", "log", "deny"):
        prof[m] = os.path.join(T, m + ".json")
        r = run([dg, "generate", image, "-o", prof[m], "--json", "--scope", "entrypoint", "--fallback", m], env=env)
        summ[m] = summary(r.stderr)
        ok(r.returncode == 0 and (summ[m].get("fallback_tier") or {}).get("mode") == m,
           "generate --fallback %s (%s allowed)" % (m, summ[m].get("allowed_x86_64")), r.stderr[-2000:])
    tier = set((summ["log"].get("fallback_tier") or {}).get("syscalls", []))
    ra, rl, rd = rules(prof["allow"]), rules(prof["log"]), rules(prof["deny"])
    allowed = ra.get("SCMP_ACT_ALLOW", set())
    ok(tier and tier <= fallback and "SCMP_ACT_LOG" not in ra and tier <= allowed,
       "allow: the fallback tier (%d names) is allowed plainly" % len(tier), sorted(tier))
    ok(rl.get("SCMP_ACT_LOG") == tier and rl.get("SCMP_ACT_ALLOW", set()) | tier == allowed and
       not rl.get("SCMP_ACT_ALLOW", set()) & tier,
       "log: the same allowed set, the tier as one SCMP_ACT_LOG rule", json.dumps({k: len(v) for k, v in rl.items()}))
    ok(rd.get("SCMP_ACT_ALLOW", set()) == allowed - tier and "SCMP_ACT_LOG" not in rd and
       summ["deny"].get("allowed_x86_64", 999) < summ["allow"].get("allowed_x86_64", 0),
       "deny: the tier left out (%s allowed instead of %s)" % (summ["deny"].get("allowed_x86_64"),
                                                                summ["allow"].get("allowed_x86_64")))
    ok(set(summ["allow"]["fallback_tier"]["syscalls"]) == tier == set(summ["deny"]["fallback_tier"]["syscalls"]),
       "the summary lists the same tier whatever the mode")
    for fmt in ("oci", "k8s", "bpf", "pfc"):
        out = os.path.join(T, "log." + fmt)
        r = run([dg, "generate", image, "-o", out, "--scope", "entrypoint", "--fallback", "log", "--format", fmt],
                env=env)
        body_ = open(out, "rb").read() if os.path.exists(out) else b""
        want = {"oci": b"SCMP_ACT_LOG", "k8s": b"SCMP_ACT_LOG", "pfc": b"action LOG;", "bpf": b""}[fmt]
        ok(r.returncode == 0 and body_ and want in body_, "generate --fallback log --format %s (%d bytes)"
           % (fmt, len(body_)), r.stderr[-1500:] + body_[:300].decode(errors="replace"))
    r = run([dg, "generate", image, "-o", os.path.join(T, "true.json"), "--json", "--scope", "entrypoint", "--fallback",
             "deny", "--", "true"], env=env)
    st = summary(r.stderr)
    ok(r.returncode == 0 and "fallback_tier" not in st and
       any("no fallback fired" in x for x in st.get("warnings", [])),
       "--fallback deny where no fallback fires (-- true): a warning, nothing changed", r.stderr[-1500:])
    for args, what in ((["--fallback", "maybe"], "--fallback maybe"),
                       (["--fallback", "log"], "--fallback log without --scope entrypoint")):
        r = run([dg, "generate", image, "-o", os.path.join(T, "x.json")] + args, env=env)
        ok(r.returncode == 2 and "--fallback" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
           "%s: a usage error (exit 2)" % what, r.stderr)

    # 3. diff and merge keep the tier
    r = run([dg, "diff", prof["log"], prof["allow"], "--json"], env=env)
    try:
        dj = json.loads(r.stdout)
    except ValueError:
        dj = {}
    ok(r.returncode == 0 and not dj.get("added") and not dj.get("removed"),
       "diff: a logged syscall is allowed (log vs allow: nothing added or removed)", r.stdout[-800:] + r.stderr)
    merged = os.path.join(T, "merged.json")
    r = run([dg, "merge", prof["log"], prof["deny"], "-o", merged], env=env)
    rm = rules(merged)
    ok(r.returncode == 0 and rm.get("SCMP_ACT_LOG") == tier, "merge of log and deny: the tier stays logged",
       r.stderr + json.dumps({k: len(v) for k, v in rm.items()}))
    r = run([dg, "merge", prof["log"], prof["allow"], "-o", merged], env=env)
    rm = rules(merged)
    ok(r.returncode == 0 and "SCMP_ACT_LOG" not in rm and rm.get("SCMP_ACT_ALLOW") == allowed,
       "merge of log and allow: a plain allow wins", r.stderr + json.dumps({k: len(v) for k, v in rm.items()}))

    # 4. explain
    some = sorted(adds.get("/usr/bin/tar", set()) & tier)
    for sc, want in (("pkey_alloc", "closure"), (some[0] if some else "mkdirat", "fallback")):
        r = run([dg, "explain", image, sc, "--scope", "entrypoint", "--json"], env=env)
        try:
            ej = json.loads(r.stdout)
        except ValueError:
            ej = {}
        r2 = run([dg, "explain", image, sc, "--scope", "entrypoint"], env=env)
        ok(r.returncode == 0 and ej.get("tier") == want and ("tier: %s" % want) in r2.stdout,
           "explain %s: tier %s" % (sc, want), r.stdout[-1000:] + r2.stdout[-1000:])

    # 5. a real engine
    if os.getuid() != 0 or not shutil.which("runc"):
        print("# runc part skipped: needs root and runc")
        return
    node_only = "require('fs').writeFileSync('/tmp/a', 'b'); console.log('node-only ok')"
    r = run([dg, "verify", image, "--profile", prof["deny"], "--engine", "runc", "--no-new-privileges", "--timeout",
             "120", "--", "node", "-e", node_only], env=env, timeout=400)
    ok(r.returncode == 0 and "node-only ok" in r.stdout, "runc: node's own workload passes under the deny profile",
       r.stderr[-2000:] + r.stdout[-500:])
    with_tar = ("console.log(require('child_process').execSync('mkdir -p /tmp/x && tar -cf /tmp/t.tar /etc/passwd && "
                "tar -xf /tmp/t.tar -C /tmp/x && echo tar-ok').toString())")
    rep = os.path.join(T, "report.json")
    r = run([dg, "verify", image, "--profile", prof["log"], "--engine", "runc", "--no-new-privileges", "--timeout",
             "120", "--diagnose", "always", "--report", rep, "--", "node", "-e", with_tar], env=env, timeout=600)
    try:
        vj = json.load(open(rep))
    except (OSError, ValueError):
        vj = {}
    used = vj.get("logged_tier_used", [])
    ok(r.returncode == 0 and "tar-ok" in r.stdout and vj.get("result") == "pass" and not vj.get("denied"),
       "runc: node running tar through /bin/sh passes under the log profile", r.stderr[-2000:])
    ok(any(u.endswith(" by /usr/bin/tar") for u in used) and
       "used, allowed by the profile's logged tier (SCMP_ACT_LOG)" in r.stderr,
       "verify --diagnose always names the logged syscalls the run used (%s)" % ", ".join(used), r.stderr[-2000:])


if __name__ == "__main__":
    sys.exit(tap_main(TAP, __doc__, "tiers", body))
