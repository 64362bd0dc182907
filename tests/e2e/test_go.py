#!/usr/bin/env python3
"""Go programs from Debian's packages, analysed statically and checked against what they really do
(issue 16): caddy, age, prometheus (+ promtool), etcd (+ etcdctl), docker-registry, runc and
skopeo (both cgo: Go and libc in one process), in one image built from the packages
(tests/tools/realimage.sh goapps), each with a real workload (tests/tools/gocases.py).

 1. every Go program is recognised (`elf --json`: Go version, function table) and has no
    syscall site of unknown number in its own code (`syscalls --json`);
 2. each workload runs under strace in a chroot of the image (tests/tools/stracecheck.py --cases
    go): every syscall each executable really made is in the set dockergate computed for it;
 3. each workload runs as a container on a real engine (podman with --network none, and runc
    directly with no_new_privileges) under the profile `generate --scope entrypoint` writes for
    that command line: verify passes, the workload's answer is in its stdout, and an strace of
    the container shows nothing the profile does not allow.
Prints a table per program: allowed (the program's own set), observed, Docker's default.

Usage: test_go.py DOCKERGATE     (prints TAP; root, podman, runc, strace needed, else SKIP)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "tools"))
import e2e  # noqa: E402
import gocases  # noqa: E402

VERIFY_TIMEOUT = 120
n = failed = 0


def ok(good, name, diag=None):
    global n, failed
    n += 1
    if not good:
        failed += 1
    print("%s %d - go: %s" % ("ok" if good else "not ok", n, name))
    if not good and diag:
        for line in str(diag).splitlines()[-40:]:
            print("#   " + line)
    sys.stdout.flush()
    return good


def note(s):
    print("# " + s)
    sys.stdout.flush()


def run(cmd, env=None, timeout=900):
    t0 = time.time()
    r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    return r, time.time() - t0


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    dg = os.path.abspath(sys.argv[1])
    if os.getuid() != 0:
        print("1..0 # SKIP needs root")
        return 0
    for tool in ("podman", "runc", "strace", "skopeo", "umoci"):
        if not shutil.which(tool):
            print("1..0 # SKIP needs %s (scripts/deps.sh --test)" % tool)
            return 0
    T = tempfile.mkdtemp(prefix="dg-go.", dir=os.environ.get("TMPDIR", "/tmp"))
    env = dict(os.environ, **e2e.podman_env(os.path.join(T, "podman")))
    env["XDG_CACHE_HOME"] = os.path.join(T, "cache")
    try:
        body(dg, T, env)
    finally:
        subprocess.run(["podman", "rm", "-a", "-f"], env=env, capture_output=True)
        subprocess.run(["podman", "rmi", "-a", "-f"], env=env, capture_output=True)
        shutil.rmtree(T, ignore_errors=True)
    print("1..%d" % n)
    return 1 if failed else 0


def body(dg, T, env):
    r, dt = run(["bash", os.path.join(TOP, "tests", "tools", "realimage.sh"), "goapps"])
    d = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
    root, image = os.path.join(d, "rootfs"), os.path.join(d, "goapps.tar")
    if not ok(r.returncode == 0 and os.path.isfile(image), "the image of Debian's Go packages (%.0f s)" % dt, r.stderr):
        return
    programs = [p for ps in gocases.PROGRAMS.values() for p in ps]

    # 1. recognised as Go, no unknown syscall site in the program's own code
    r, dt = run([dg, "syscalls", image, "--json"] + programs, env=env)
    try:
        doc = {x["path"]: x for x in json.loads(r.stdout)["executables"]}
    except (ValueError, KeyError, TypeError):
        doc = {}
    ok(r.returncode == 0 and len(doc) == len(programs), "syscalls --json for %d Go programs (%.1f s)" % (len(programs), dt),
       r.stderr[-2000:])
    allowed = {}
    for p in programs:
        re_, _ = run([dg, "elf", "--json", image, p], env=env)
        try:
            ej = json.loads(re_.stdout)[p]
        except (ValueError, KeyError):
            ej = {}
        go = ej.get("go") or {}
        ok(re_.returncode == 0 and str(go.get("version", "")).startswith("go1.") and go.get("functions", 0) > 1000,
           "%s: a Go program (%s, %s functions, pclntab %s)" % (p, go.get("version"), go.get("functions"),
                                                                   go.get("pclntab")), re_.stdout[:1500] + re_.stderr)
        x = doc.get(p, {})
        own = [u for u in x.get("unknown_sites", []) if u.get("object", u.get("path")) == p]
        allowed[p] = set(x.get("syscalls", []))
        ok(p in doc and not own, "%s: %d syscalls, no site of unknown number in its own code" % (p, len(allowed[p])),
           json.dumps(own[:5]))

    r, dt = run([dg, "inspect", "--json", image], env=env)
    try:
        gp = {g["path"]: g for g in json.loads(r.stdout)["go_programs"]}
    except (ValueError, KeyError, TypeError):
        gp = {}
    # runc and skopeo are also reached through /usr/bin symlinks; inspect lists regular files
    ok(all(any(k.endswith(os.path.basename(p)) for k in gp) for p in programs) and
       all(str(g.get("go_version", "")).startswith("go1.") for g in gp.values()),
       "inspect --json lists the %d Go programs with their Go version (%s)" % (len(gp), ", ".join(sorted(gp))[:300]),
       r.stdout[-1500:] + r.stderr[-500:])

    # 2. strace of each workload in a chroot: observed within computed
    save = os.path.join(T, "observed.json")
    r, dt = run([sys.executable, os.path.join(TOP, "tests", "tools", "stracecheck.py"), "--cases", "go", "--dg", dg,
                 "--save", save, root, image], env=env, timeout=1800)
    lines = r.stdout.splitlines()
    if any(line.startswith("1..0 # SKIP") for line in lines):
        note("stracecheck skipped: " + " ".join(lines))
    for line in lines:
        if line.startswith("ok ") or line.startswith("not ok "):
            good = line.startswith("ok ")
            ok(good, line.split(" - ", 1)[1] if " - " in line else line)
        elif line.startswith("#") and failed:
            print(line)
    ok(r.returncode == 0, "stracecheck --cases go (%.0f s)" % dt, r.stderr[-2000:])
    try:
        observed = json.load(open(save))["observed"]
    except (OSError, ValueError, KeyError):
        observed = {}

    # 3. the real engines under the entrypoint-scope profile of each workload
    docker_default = None
    rows = []
    for name, script in gocases.WORKLOADS.items():
        prof = os.path.join(T, name + ".json")
        r, dt = run([dg, "generate", image, "-o", prof, "--json", "--scope", "entrypoint", "--", script], env=env)
        try:
            summ = json.loads(r.stderr[r.stderr.index("{"):])
        except ValueError:
            summ = {}
        if not ok(r.returncode == 0 and summ, "%s: generate --scope entrypoint (%.1f s, %s allowed)"
                  % (name, dt, summ.get("allowed_x86_64")), r.stderr[-3000:]):
            continue
        docker_default = summ.get("docker_default_x86_64", docker_default)
        profile = e2e.Profile(prof)
        for engine in ("podman", "runc"):
            trace = os.path.join(T, "trace-%s-%s" % (name, engine))
            wrapper = os.path.join(T, "wrap-%s-%s" % (name, engine))
            e2e.write_wrapper(wrapper, trace)
            report = os.path.join(T, "report-%s-%s.json" % (name, engine))
            cmd = [dg, "verify", image, "--profile", prof, "--engine", engine, "--timeout", str(VERIFY_TIMEOUT),
                   "--report", report, "--runtime", wrapper]
            cmd += ["--network", "none"] if engine == "podman" else ["--no-new-privileges"]
            r, dt = run(cmd + ["--", script], env=env, timeout=VERIFY_TIMEOUT + 120)
            try:
                rep = json.load(open(report))
            except (OSError, ValueError):
                rep = {}
            what = "%s, %s" % (name, engine)
            ok(r.returncode == 0 and rep.get("result") == "pass" and not rep.get("timed_out"),
               "%s: verify passes under the profile (%.1f s)" % (what, dt),
               "exit %d\n--- stderr\n%s\n--- stdout\n%s" % (r.returncode, r.stderr[-2500:], r.stdout[-1500:]))
            ok("%s-ok" % name.replace("docker-", "") in r.stdout, "%s: the workload's answer" % what, r.stdout[-1500:])
            e2e.wait_closed(trace)
            if not os.path.exists(trace):
                ok(False, "%s: strace trace of the container written" % what)
                continue
            t = e2e.load_trace(trace)
            miss = e2e.unhandled(t, profile)
            ok(t.root is not None and not miss, "%s: every syscall of the container (%d distinct) is in the profile"
               % (what, len(t.used())), "\n".join("NOT IN PROFILE: %s by %s (%d calls)" % m for m in miss))
        for p in gocases.PROGRAMS[name]:
            rows.append((p, len(allowed.get(p, ())), len(observed.get(p, ())), summ.get("allowed_x86_64")))
    note("")
    note("%-26s %8s %9s %11s %15s" % ("program", "allowed", "observed", "entrypoint", "docker default"))
    for p, a, o, e in rows:
        note("%-26s %8d %9d %11s %15s" % (p, a, o, e, docker_default))


if __name__ == "__main__":
    sys.exit(main())
