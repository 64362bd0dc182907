#!/usr/bin/env python3
"""Hybrid profiles (issue 8): `dockergate trace` runs each end-to-end image's workload (the same
programs as test_e2e_images.py: nginx serving and quitting, redis SET/GET/BGSAVE/SHUTDOWN, python's
stdlib checksum, the busybox and tools pipelines) with runc and records what the container made;
then for each image:
 1. the workload's own results are in trace's stdout, and the trace shows the calls that prove the
    whole process tree was followed (test_e2e_images.SEEN);
 2. `generate IMAGE --hybrid TRACE --report R`, with the image scope and with the entrypoint scope
    (ARGS: the workload), reports no syscall seen at run time but absent from the static result:
    every call the container really made was found by the analysis (a listed one is a soundness
    bug of the analysis and fails the test, naming the syscall and the executable);
 3. the hybrid profile allows every traced call, and `--from-trace TRACE --runtime-base none`
    allows exactly the traced calls (the dynamic method), fewer than the static profile;
then, on the busybox trace: a call the analysis cannot know (kexec_load added to the trace) is
reported with the executable that made it, in text, --json and --report; bad inputs fail cleanly.
Usage: test_hybrid.py DOCKERGATE    (TAP; root, runc, skopeo, umoci, mmdebstrap needed, else SKIP)
  DG_E2E_ONLY=a,b    only these images
"""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(HERE, "..", "tools")
E2EIMAGE = os.path.join(TOOLS, "e2eimage.py")
spec = importlib.util.spec_from_file_location("e2e_images", os.path.join(HERE, "test_e2e_images.py"))
E = importlib.util.module_from_spec(spec)
spec.loader.exec_module(E)

n = 0
failed = 0


def ok(good, name, diag=None):
    global n, failed
    n += 1
    print(("ok %d - hybrid: %s" if good else "not ok %d - hybrid: %s") % (n, name))
    if not good:
        failed += 1
        for line in str(diag or "").splitlines()[:30]:
            print("#   " + line)
    sys.stdout.flush()
    return good


def note(s):
    for line in s.splitlines():
        print("# " + line)
    sys.stdout.flush()


def run(cmd, env, timeout=900):
    return subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)


def summary(stderr):
    try:
        return json.loads(stderr[stderr.index("{"):])
    except ValueError:
        return None


def names(profile):
    p = json.load(open(profile))
    return {x for r in p["syscalls"] if r["action"] == "SCMP_ACT_ALLOW" for x in r["names"]}


def traced(trace):
    t = json.load(open(trace))
    return {k for e in t["executables"] for k in e["syscalls"]}, t


def workload_ok(want, out):
    if callable(want):
        return want(out)
    missing = [w for w in want if w not in out]
    return "missing in stdout: %s" % missing if missing else None


def main():
    if len(sys.argv) != 2:
        print("usage: test_hybrid.py DOCKERGATE", file=sys.stderr)
        return 2
    dg = os.path.abspath(sys.argv[1])
    need = ["runc", "skopeo", "umoci", "mmdebstrap"]
    if os.geteuid() != 0 or any(not shutil.which(x) for x in need):
        print("1..0 # SKIP needs root and %s" % ", ".join(need))
        return 0
    T = tempfile.mkdtemp(prefix="dg-hybrid.")
    try:
        body(dg, T)
    finally:
        shutil.rmtree(T, ignore_errors=True)
    print("1..%d" % n)
    return 1 if failed else 0


def body(dg, T):
    env = dict(os.environ, XDG_CACHE_HOME=os.path.join(T, "cache"), SOURCE_DATE_EPOCH="1700000000")
    only = [x for x in os.environ.get("DG_E2E_ONLY", "").split(",") if x]
    r = subprocess.run([sys.executable, E2EIMAGE, "list"], capture_output=True, text=True)
    images = [x for x in r.stdout.split() if not only or x in only]
    if not ok(r.returncode == 0 and bool(images), "e2eimage.py list: %s" % " ".join(images), r.stderr):
        return
    rows = []
    busybox = None
    for name in images:
        args, want = E.WORKLOADS[name]
        if want is None:
            exp = E.python_expected()
            want = [exp] if exp.startswith("CHECKSUM ") else ["CHECKSUM (python3 in a chroot of the image failed)"]
        r = subprocess.run([sys.executable, E2EIMAGE, "build", name, "--format", "docker-archive"],
                           capture_output=True, text=True, timeout=1800)
        image = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
        if not ok(r.returncode == 0 and os.path.exists(image), "%s: e2eimage.py build" % name, r.stderr):
            continue
        trace = os.path.join(T, name + ".trace")
        r = run([dg, "trace", image, "--engine", "runc", "--network", "none", "--timeout", "180", "-o", trace,
                 "--"] + args, env)
        bad = workload_ok(want, r.stdout)
        if not ok(r.returncode == 0 and os.path.exists(trace) and not bad,
                  "%s: trace with runc, the workload's results in its stdout" % name,
                  (bad or "") + "\n" + r.stdout[-1500:] + r.stderr[-1500:]):
            continue
        seen, t = traced(trace)
        ok(t["exit_status"] == 0 and t["lost"] == 0 and E.SEEN[name] <= seen,
           "%s: the trace has the whole process tree (%s), exit 0, nothing lost (%d syscalls, %d executables)"
           % (name, " ".join(sorted(E.SEEN[name])), len(seen), len(t["executables"])),
           "missing: %s; exit %s; lost %s" % (sorted(E.SEEN[name] - seen), t["exit_status"], t["lost"]))
        if name == "busybox":
            busybox = (image, trace)
        row = {"name": name, "seen": len(seen)}
        for scope in ("image", "entrypoint"):
            prof, rep = os.path.join(T, "%s-%s.json" % (name, scope)), os.path.join(T, "%s-%s.rep" % (name, scope))
            cmd = [dg, "generate", image, "-o", prof, "--hybrid", trace, "--report", rep, "--json"]
            if scope == "entrypoint":
                cmd += ["--scope", "entrypoint", "--"] + args
            r = run(cmd, env)
            s = summary(r.stderr)
            if not ok(r.returncode == 0 and s is not None and os.path.exists(rep),
                      "%s: generate --hybrid --scope %s" % (name, scope), r.stderr[-2000:]):
                continue
            h = json.load(open(rep))
            miss = ["%s by %s" % (m["syscall"] or m["number"], ", ".join(m["executables"])) for m in h["seen_not_static"]]
            ok(not miss and s["hybrid"]["seen_not_static"] == [],
               "%s, %s scope: every syscall the container made was found by the analysis" % (name, scope),
               "seen at run time, not found statically: %s" % miss)
            allowed = names(prof)
            ok(seen <= allowed, "%s, %s scope: the hybrid profile allows every traced call" % (name, scope),
               "not allowed: %s" % sorted(seen - allowed))
            beyond = {e["path"]: e["beyond_its_analysis"] for e in h["executables"] if e["beyond_its_analysis"]}
            unmapped = [e["path"] for e in h["executables"] if e["unmapped"]]
            row[scope] = s["allowed_x86_64"]
            row[scope + "_unseen"] = len(h["static_not_seen_x86_64"])
            if beyond or unmapped:
                note("%s, %s scope: beyond their program's own analysis (dlopen'd modules): %s; unmapped: %s"
                     % (name, scope, json.dumps(beyond), unmapped))
        ft = os.path.join(T, name + "-trace.json")
        r = run([dg, "generate", "--from-trace", trace, "--runtime-base", "none", "-o", ft, "--json"], env)
        s = summary(r.stderr)
        ok(r.returncode == 0 and s is not None and names(ft) == seen and s["method"] == "trace"
           and json.load(open(ft))["dockergate"]["method"] == "trace",
           "%s: --from-trace --runtime-base none allows exactly the traced calls (%d)" % (name, len(seen)),
           r.stderr[-1500:] + "\ndiff: %s" % sorted(names(ft) ^ seen if os.path.exists(ft) else seen))
        row["trace"] = s["allowed_x86_64"] if s else None
        rows.append(row)
    note("image: traced (x86-64) / from-trace profile / hybrid image scope (never seen) / hybrid entrypoint scope (never seen)")
    for w in rows:
        note("%s: %s / %s / %s (%s) / %s (%s)" % (w["name"], w["seen"], w.get("trace"), w.get("image"),
                                                  w.get("image_unseen"), w.get("entrypoint"), w.get("entrypoint_unseen")))
    if busybox:
        synthetic(dg, T, env, *busybox)


def synthetic(dg, T, env, image, trace):
    t = json.load(open(trace))
    exe = t["executables"][0]["path"]
    t["executables"][0]["syscalls"]["kexec_load"] = 2
    bad = os.path.join(T, "kexec.trace")
    json.dump(t, open(bad, "w"))
    prof, rep = os.path.join(T, "kexec.json"), os.path.join(T, "kexec.rep")
    r = run([dg, "generate", image, "-o", prof, "--hybrid", bad, "--report", rep], env)
    line = "kexec_load (246) by %s, 2 times" % exe
    ok(r.returncode == 0 and line in r.stderr and "1 seen but not found by the analysis" in r.stderr,
       "a call the analysis cannot know is reported in text with its executable (%s)" % line, r.stderr[-2000:])
    h = json.load(open(rep)) if os.path.exists(rep) else {}
    m = h.get("seen_not_static", [])
    ok(len(m) == 1 and m[0]["syscall"] == "kexec_load" and m[0]["number"] == 246 and m[0]["executables"] == [exe]
       and m[0]["count"] == 2 and m[0]["allowed_by_runtime_base"] is False,
       "--report: the same as JSON", json.dumps(m))
    ok("kexec_load" in names(prof) and json.load(open(prof))["dockergate"]["method"] == "hybrid",
       "the hybrid profile allows it (the traces are part of the union); the provenance says hybrid")
    r = run([dg, "generate", image, "-o", prof, "--hybrid", bad, "--json"], env)
    s = summary(r.stderr)
    ok(r.returncode == 0 and s and [x["syscall"] for x in s["hybrid"]["seen_not_static"]] == ["kexec_load"]
       and any(e["path"] == exe and "kexec_load" in e["beyond_its_analysis"] for e in s["hybrid"]["executables"]),
       "--json: the report in the summary, and the executable made it beyond its own analysis", r.stderr[-2000:])
    # bad inputs: one line each, the documented exit status, nothing written
    broken = os.path.join(T, "broken.trace")
    open(broken, "w").write('{"dockergate_trace": 1, "executables": [{"path": 7}]}')
    out = os.path.join(T, "never.json")
    cases = [
        ([dg, "generate", image, "-o", out, "--hybrid", broken], 3, "broken.trace"),
        ([dg, "generate", image, "-o", out, "--hybrid", os.path.join(T, "absent.trace")], 3, "absent.trace"),
        ([dg, "generate", image, "-o", out, "--from-trace", trace], 2, "--from-trace"),
        ([dg, "generate", image, "-o", out, "--report", rep], 2, "--report"),
        ([dg, "generate", "-o", out, "--from-trace", trace, "--hybrid", trace], 2, "choose one"),
    ]
    for cmd, code, word in cases:
        r = run(cmd, env)
        ok(r.returncode == code and word in r.stderr and len(r.stderr.strip().splitlines()) == 1 and not os.path.exists(out),
           "%s: exit %d naming %s, nothing written (got %d)" % (" ".join(cmd[2:]).replace(T + "/", "").replace(image, "IMAGE"), code, word,
                                                               r.returncode), r.stderr)


if __name__ == "__main__":
    sys.exit(main())
