#!/usr/bin/env python3
"""End-to-end: real images keep working under the profiles dockergate generates, on a real engine.

For every image of tests/tools/e2eimage.py (nginx, redis, python, node, busybox, tools) and both image
forms (docker-archive tar, OCI layout directory):
 1. `generate IMAGE -o PROFILE --json` with a fresh, empty analysis cache (cold) and again (warm),
    both timed; the profile must be byte-identical (SOURCE_DATE_EPOCH fixed), and the two forms
    must give the same rules;
 2. the image's workload (a whole `sh -c` or `python3 -c` program inside the container) runs with
    `dockergate verify IMAGE --profile PROFILE` through podman (`--network none`, runc under a
    strace wrapper, noNewPrivileges false) and through runc directly (`--no-new-privileges`,
    same wrapper): verify must pass AND the workload's own results must be in its stdout;
 3. the strace trace of each run (the container's process tree only: tests/tools/e2e.py) must
    show no syscall the profile neither allows nor answers with an errno on purpose; any other
    is a soundness bug of dockergate and fails the test, naming the syscall and the executable;
 4. negative control: busybox with the mkdir syscall its workload really made (mkdir for
    busybox-static) removed from its profile must fail verify (exit 8), the report naming it
    as denied, made by busybox;
 5. a results table (TAP comments, build/e2e/results.md and .json) and a chart
    (build/e2e/results.png, gnuplot), with the entrypoint scope's count (`generate --scope
    entrypoint` of the image's Cmd; its profiles run in test_scope_images.sh and test_tiers.py)
    beside the image scope's.
Usage: test_e2e_images.py DOCKERGATE     (prints TAP; root, podman, runc, strace needed, else SKIP)
  DG_E2E_ONLY=a,b     only these images        DG_E2E_ENGINES=podman,runc   only these engines
  DG_E2E_OUT=DIR      where results go (default: build/e2e of the checkout)
  DG_E2EIMAGE=FILE    another e2eimage.py (default: tests/tools/e2eimage.py)
  DG_E2E_TIMING_DG=F  the binary whose generate is timed (default: build/dockergate when it is
                      newer than the sources, else DOCKERGATE); DOCKERGATE then re-generates
                      warm from the same cache and must write the same profile
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(HERE, "..", "tools")
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, TOOLS)
import e2e  # noqa: E402

E2EIMAGE = os.environ.get("DG_E2EIMAGE") or os.path.join(TOOLS, "e2eimage.py")
FORMS = ("docker-archive", "oci")
VERIFY_TIMEOUT = 120

# ---------------------------------------------------------------- workloads
# args replace the image's Cmd (the images have no Entrypoint); want: lines stdout must contain,
# or a function of stdout returning an error string or None.

NGINX = r"""
nginx || { echo "nginx did not start"; exit 10; }
pid=$(cat /run/nginx.pid) || exit 11
out=$(curl -sS -o /tmp/body -w '%{http_code}' http://127.0.0.1/) || { echo "curl failed"; exit 12; }
echo "HTTP $out"
grep -o 'Welcome to nginx!' /tmp/body | head -1
nginx -s quit || exit 13
i=0
while [ -e /proc/$pid ] && ! grep -q '^State:.*Z' /proc/$pid/status 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 100 ] && { echo "master $pid still running"; exit 14; }
    sleep 0.1
done
echo "master exited"
"""

REDIS = r"""
redis-server --daemonize yes --dir /tmp --pidfile /tmp/redis.pid --logfile /tmp/redis.log --save '' || exit 10
i=0
until redis-cli ping 2>/dev/null | grep -q PONG; do
    i=$((i + 1)); [ $i -gt 100 ] && { echo "no PONG"; cat /tmp/redis.log; exit 11; }
    sleep 0.1
done
pid=$(cat /tmp/redis.pid)
redis-cli set dgkey dockergate-value >/dev/null
echo "GET $(redis-cli get dgkey)"
redis-cli bgsave
i=0
until redis-cli info persistence | grep -q 'rdb_bgsave_in_progress:0' && [ -s /tmp/dump.rdb ]; do
    i=$((i + 1)); [ $i -gt 100 ] && { echo "BGSAVE did not finish"; exit 12; }
    sleep 0.1
done
redis-cli info persistence | grep -q 'rdb_last_bgsave_status:ok' && echo "bgsave ok, dump $(wc -c </tmp/dump.rdb) bytes"
redis-cli shutdown nosave >/dev/null 2>&1
i=0
while [ -e /proc/$pid ] && ! grep -q '^State:.*Z' /proc/$pid/status 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 100 ] && { echo "server $pid still running"; exit 13; }
    sleep 0.1
done
echo "server exited"
"""

PYTHON = r"""
import datetime, hashlib, json, os, re, shutil, socket, subprocess, tempfile, threading, zlib
h = hashlib.sha256()
def add(tag, v):
    h.update(("%s=%r\n" % (tag, v)).encode())
add("json", json.dumps(json.loads('{"b": [1, 2, {"c": null}], "a": "\u00e9"}'), sort_keys=True))
add("re", re.findall(r"(\w+)@(\w+)\.org", "ann@x.org, bob@y.org"))
add("md5", hashlib.md5(b"dockergate").hexdigest())
try:
    import sqlite3
    c = sqlite3.connect(":memory:")
    c.execute("create table t(k text, v int)")
    c.executemany("insert into t values (?, ?)", [("a", 1), ("b", 2), ("c", 3)])
    add("sqlite", c.execute("select group_concat(k), sum(v) from t").fetchone())
    with tempfile.TemporaryDirectory() as d:
        db = sqlite3.connect(os.path.join(d, "x.db"))
        db.execute("create table t(x)"); db.execute("insert into t values (42)"); db.commit()
        add("sqlite-file", db.execute("select x from t").fetchall()); db.close()
except ImportError:
    add("sqlite", "absent")
out, lock = [], threading.Lock()
def work(i):
    with lock:
        out.append(hashlib.sha1(str(i).encode()).hexdigest()[:8])
ts = [threading.Thread(target=work, args=(i,)) for i in range(8)]
[t.start() for t in ts]; [t.join() for t in ts]
add("threads", sorted(out))
r = subprocess.run(["sh", "-c", "echo sub; exit 3"], capture_output=True, text=True)
add("subprocess", (r.stdout, r.returncode))
add("true", subprocess.call(["/bin/true"]))
d = tempfile.mkdtemp()
p = os.path.join(d, "f")
with open(p, "w") as f:
    f.write("x" * 100)
os.rename(p, p + "2"); os.chmod(p + "2", 0o600); os.symlink(p + "2", p + "3")
add("files", (os.stat(p + "3").st_size, sorted(os.listdir(d)), os.path.basename(os.readlink(p + "3"))))
shutil.rmtree(d)
add("zlib", zlib.crc32(zlib.decompress(zlib.compress(b"dockergate" * 100))))
a, b = socket.socketpair(); a.sendall(b"ping"); add("socketpair", b.recv(4)); a.close(); b.close()
t = datetime.datetime(2024, 2, 29, 12, 0, tzinfo=datetime.timezone.utc)
add("datetime", (t.isoformat(), str(datetime.date(2024, 3, 1) - datetime.date(2024, 2, 1))))
datetime.datetime.now()
print("CHECKSUM", h.hexdigest())
"""

BUSYBOX = r"""
set -e
mkdir -p /tmp/w/a
cd /tmp/w
touch a/t
echo hello >a/f
cat a/f
cp a/f a/g
mv a/g b
ls a | tr '\n' ' '; echo
ls
rm a/f a/t b
rmdir a
cd /
rmdir /tmp/w
echo 'one two three' | tr ' ' '\n' | sort -r | head -2 | wc -l
echo DONE
"""

TOOLS_SH = r"""
set -e
seq 1 1000 | gawk '{s += $1} END {print "sum", s}'
sqlite3 /tmp/db "create table t(k, v); insert into t values ('a', 1), ('b', 2);"
sqlite3 /tmp/db 'select sum(v) from t'
echo data | xz | xz -d | bzip2 | bzip2 -d | gzip | gzip -d
tar -C /etc -cf /tmp/e.tar passwd group
tar -tf /tmp/e.tar | sort | tr '\n' ' '; echo
find /etc -maxdepth 1 -name passwd
sha256sum /tmp/e.tar | cut -c1-3 | grep -c .
echo DONE
"""

NODE = r"""
const fs = require("fs"), http = require("http"), crypto = require("crypto"), zlib = require("zlib");
fs.writeFileSync("/tmp/n.txt", "node data");
const h = crypto.createHash("sha256").update(fs.readFileSync("/tmp/n.txt")).digest("hex").slice(0, 8);
const z = zlib.gunzipSync(zlib.gzipSync("zipped")).toString();
const srv = http.createServer((q, r) => r.end("served " + q.url));
srv.listen(8081, "127.0.0.1", () => {
  http.get("http://127.0.0.1:8081/x", (res) => {
    let b = "";
    res.on("data", (d) => { b += d; });
    res.on("end", () => {
      console.log("HTTP " + res.statusCode + " " + b);
      console.log("sha " + h + " " + z);
      srv.close(() => console.log("node done"));
    });
  });
});
"""
NODE_SHA = hashlib.sha256(b"node data").hexdigest()[:8]

# syscalls each workload must have been seen making (union of its runs): proof that the trace
# follows the container's whole process tree (forked workers, BGSAVE's child, threads)
SEEN = {
    "nginx": {"listen", "accept4", "setuid", "kill"},          # workers drop privileges; -s quit
    "redis": {"listen", "rename", "fsync"},                    # the BGSAVE child renames its temp file
    "python": {"socketpair", "pipe2", "wait4", "symlink"},
    "node": {"listen", "accept4", "pkey_alloc"},               # V8's pkey_alloc, looked up with dlsym
    "busybox": {"mkdir", "rmdir", "rename", "pipe2"},
    "tools": {"pipe2", "wait4", "fdatasync"},                  # sqlite3's journal
}


def python_expected():
    """The same program run by the image's own python3 without any container or profile
    (chroot into the image's rootfs), so the oracle does not depend on the host's python."""
    r = subprocess.run([sys.executable, E2EIMAGE, "rootfs", "python"], capture_output=True, text=True)
    root = r.stdout.strip()
    if r.returncode or not os.path.isdir(root):
        return "(no rootfs: %s)" % r.stderr.strip()
    chroot = shutil.which("chroot") or "/usr/sbin/chroot"
    r = subprocess.run([chroot, root, "python3", "-c", PYTHON], capture_output=True, text=True, timeout=60,
                       env={"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"})
    return r.stdout.strip()


def exact(text):
    want = text.strip("\n")
    return lambda out: None if out.strip("\n") == want else "stdout is not %r" % want


WORKLOADS = {
    "nginx": (["sh", "-c", NGINX], ["HTTP 200", "Welcome to nginx!", "master exited"]),
    "redis": (["sh", "-c", REDIS], ["GET dockergate-value", "Background saving started", "bgsave ok",
                                    "server exited"]),
    "python": (["python3", "-c", PYTHON], None),  # the checksum the image's python3 prints in a chroot
    "node": (["node", "-e", NODE], ["HTTP 200 served /x", "sha %s zipped" % NODE_SHA, "node done"]),
    "busybox": (["sh", "-c", BUSYBOX], exact("hello\nf t \na\nb\n2\nDONE")),
    "tools": (["sh", "-c", TOOLS_SH], exact("sum 500500\n3\ndata\ngroup passwd \n/etc/passwd\n1\nDONE")),
}

# ---------------------------------------------------------------- TAP

n = 0
failed = 0


def ok(good, name, diag=None):
    global n, failed
    n += 1
    print(("ok %d - e2e: %s" if good else "not ok %d - e2e: %s") % (n, name))
    if not good:
        failed += 1
        if diag:
            for line in str(diag).splitlines()[:30]:
                print("#   " + line)
    sys.stdout.flush()
    return good


def note(s):
    for line in s.splitlines():
        print("# " + line)
    sys.stdout.flush()


def skip(why):
    print("1..0 # SKIP " + why)
    sys.exit(0)


# ---------------------------------------------------------------- steps

def run(cmd, env=None, timeout=600, **kw):
    t0 = time.time()
    r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout, **kw)
    return r, time.time() - t0


def generate(dg, image, profile, cache, extra=()):
    env = dict(os.environ, XDG_CACHE_HOME=cache, SOURCE_DATE_EPOCH="1700000000")
    r, dt = run([dg, "generate", image, "-o", profile, "--json"] + list(extra), env=env)
    summary = None
    if r.returncode == 0:
        try:
            summary = json.loads(r.stderr[r.stderr.index("{"):])
        except ValueError:
            pass
    return r, dt, summary


def timing_binary(dg):
    """The optimized build times the analysis (ASan's is 3x slower and not what users run):
    $DG_E2E_TIMING_DG, else build/dockergate of this checkout when it is newer than every
    source; else the ASan binary itself."""
    cand = os.environ.get("DG_E2E_TIMING_DG") or os.path.join(TOP, "build", "dockergate")
    if not os.access(cand, os.X_OK):
        return dg
    if not os.environ.get("DG_E2E_TIMING_DG"):
        newest = 0
        for d in ("src", "include", "data"):
            for root, _, files in os.walk(os.path.join(TOP, d)):
                for f in files:
                    newest = max(newest, os.path.getmtime(os.path.join(root, f)))
        newest = max(newest, os.path.getmtime(os.path.join(TOP, "VERSION")))
        if os.path.getmtime(cand) < newest:
            return dg
    return os.path.abspath(cand)


def rules(profile):
    return json.load(open(profile))["syscalls"]


def verify(dg, image, profile, engine, wrapper, args, env, report, extra=()):
    cmd = [dg, "verify", image, "--profile", profile, "--engine", engine, "--timeout", str(VERIFY_TIMEOUT),
           "--report", report]
    if wrapper:
        cmd += ["--runtime", wrapper]
    if engine == "podman":
        cmd += ["--network", "none"]
    else:
        cmd += ["--no-new-privileges"]
    cmd += list(extra) + ["--"] + args
    return run(cmd, env=env, timeout=VERIFY_TIMEOUT + 60)


def check_stdout(out, want):
    if callable(want):
        return want(out)
    missing = [w for w in want if w not in out]
    return "missing in stdout: %s" % missing if missing else None


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    dg = os.path.abspath(sys.argv[1])
    if os.getuid() != 0:
        skip("needs root")
    for tool in ("podman", "runc", "strace", "skopeo", "umoci"):
        if not shutil.which(tool):
            skip("needs %s (scripts/deps.sh --test)" % tool)
    if not os.path.exists(E2EIMAGE):
        skip("tests/tools/e2eimage.py is missing")
    r = subprocess.run([dg, "help", "verify"], capture_output=True, text=True)
    if r.returncode != 0:
        skip("this dockergate has no verify command")
    out_dir = os.environ.get("DG_E2E_OUT") or os.path.join(TOP, "build", "e2e")
    only = [x for x in os.environ.get("DG_E2E_ONLY", "").split(",") if x]
    engines = [x for x in os.environ.get("DG_E2E_ENGINES", "podman,runc").split(",") if x]
    t_start = time.time()
    T = tempfile.mkdtemp(prefix="dg-e2e.", dir=os.environ.get("TMPDIR", "/tmp"))
    env = dict(os.environ, **e2e.podman_env(os.path.join(T, "podman")))
    try:
        body(dg, T, env, only, engines, out_dir)
    finally:
        subprocess.run(["podman", "rm", "-a", "-f"], env=env, capture_output=True)
        subprocess.run(["podman", "rmi", "-a", "-f"], env=env, capture_output=True)
        shutil.rmtree(T, ignore_errors=True)
    note("total %.0f s" % (time.time() - t_start))
    print("1..%d" % n)
    return 1 if failed else 0


def body(dg, T, env, only, engines, out_dir):
    good, msg = e2e.selftest()
    ok(good, "e2e.py selftest: the trace parser on a hand-written runtime trace", msg)
    r = subprocess.run([sys.executable, E2EIMAGE, "list"], capture_output=True, text=True)
    names = r.stdout.split() if r.returncode == 0 else []
    if not ok(bool(names), "e2eimage.py list: %s" % " ".join(names), r.stderr):
        return
    names = [x for x in names if not only or x in only]
    rows = []
    docker_default = None
    tdg = timing_binary(dg)
    note("generate is timed with %s" % tdg)
    for name in names:
        args, want = WORKLOADS.get(name, (None, None))
        if args is None:
            ok(False, "%s: no workload in test_e2e_images.py for this image" % name)
            continue
        if want is None:  # python: the same program outside any container gives the checksum
            exp = python_expected()
            want = [exp] if exp.startswith("CHECKSUM ") else ["CHECKSUM (python3 in a chroot of the image failed)"]
            note("%s: expecting %s" % (name, exp))
        row = {"image": name, "used_names": set(), "unhandled": [], "by_executable": {}}
        allowed = {}
        for form in FORMS:
            t0 = time.time()
            r = subprocess.run([sys.executable, E2EIMAGE, "build", name, "--format", form],
                               capture_output=True, text=True, timeout=1800)
            image = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
            if not ok(r.returncode == 0 and os.path.exists(image), "%s %s: e2eimage.py build" % (name, form), r.stderr):
                continue
            note("%s %s: image %s (%.1f s)" % (name, form, image, time.time() - t0))
            tag = "%s-%s" % (name, form)
            prof = os.path.join(T, tag + ".json")
            cache = os.path.join(T, "cache-" + tag)
            os.makedirs(cache)
            r1, cold, summ = generate(tdg, image, prof, cache)
            if not ok(r1.returncode == 0 and summ is not None, "%s: generate, cold cache (%.1f s)" % (tag, cold),
                      r1.stderr[-3000:]):
                continue
            first = open(prof, "rb").read()
            r2, warm, _ = generate(tdg, image, prof, cache)
            ok(r2.returncode == 0 and open(prof, "rb").read() == first,
               "%s: generate, warm cache (%.1f s), the same profile" % (tag, warm), r2.stderr[-2000:])
            if tdg != dg:  # the binary under test (ASan) on the same cache: the same profile
                r3, dt3, _ = generate(dg, image, prof, cache)
                ok(r3.returncode == 0 and open(prof, "rb").read() == first,
                   "%s: generate (ASan build, warm, %.1f s), the same profile" % (tag, dt3), r3.stderr[-2000:])
            if form == "docker-archive":  # the headline table's entrypoint column (the image's Cmd)
                rep, dte, summe = generate(tdg, image, os.path.join(T, tag + ".ep.json"), cache, ["--scope", "entrypoint"])
                if ok(rep.returncode == 0 and summe is not None and summe["allowed_x86_64"] <= summ["allowed_x86_64"],
                      "%s: generate --scope entrypoint (%.1f s): %s allowed, image scope %d"
                      % (tag, dte, summe and summe["allowed_x86_64"], summ["allowed_x86_64"]), rep.stderr[-2000:]):
                    row["allowed_entrypoint"] = summe["allowed_x86_64"]
            form_key = "archive" if form == "docker-archive" else "oci"
            row["cold_" + form_key], row["warm_" + form_key] = round(cold, 2), round(warm, 2)
            keep = os.path.join(T, tag + ".kept.json")
            shutil.copy(prof, keep)
            allowed[form] = (summ, keep)
            docker_default = summ.get("docker_default_x86_64", docker_default)
            profile = e2e.Profile(keep)
            note("%s: %d allowed, errno on purpose: %s" % (tag, len(profile.allowed),
                 " ".join("%s=%s" % kv for kv in sorted(profile.errno.items())) or "none"))
            for engine in engines:
                trace = os.path.join(T, "trace-%s-%s" % (tag, engine))
                wrapper = os.path.join(T, "wrap-%s-%s" % (tag, engine))
                e2e.write_wrapper(wrapper, trace)
                report = os.path.join(T, "report-%s-%s.json" % (tag, engine))
                r, dt = verify(dg, image, keep, engine, wrapper, args, env, report)
                what = "%s, %s%s" % (tag, engine, " (nnp)" if engine == "runc" else " (network none)")
                verdict = [l for l in r.stderr.splitlines() if l.startswith("dockergate verify: ")]
                try:
                    rep = json.load(open(report))
                except (OSError, ValueError):
                    rep = {}
                if rep.get("timed_out"):  # verify passes a server still running at --timeout: not us
                    verdict.append("timed out after %d s" % VERIFY_TIMEOUT)
                ok(r.returncode == 0 and rep.get("result") == "pass" and not rep.get("timed_out"),
                   "%s: verify passes (%.1f s): %s" % (what, dt, verdict[-1] if verdict else "?"),
                   "exit %d\n--- stderr\n%s\n--- stdout\n%s" % (r.returncode, r.stderr[-2500:], r.stdout[-1500:]))
                err = check_stdout(r.stdout, want)
                ok(err is None, "%s: the workload's results" % what,
                   "%s\n--- stdout\n%s\n--- stderr\n%s" % (err, r.stdout[-2000:], r.stderr[-1500:]))
                if not e2e.wait_closed(trace):
                    note("%s: strace still writing %s after 30 s" % (what, trace))
                if not os.path.exists(trace):
                    ok(False, "%s: strace trace written (%s)" % (what, "verify exited %d before the runtime ran"
                       % r.returncode if r.returncode else "is --runtime passed on?"))
                    continue
                t = e2e.load_trace(trace)
                used = t.used()
                miss = e2e.unhandled(t, profile)
                row["used_names"] |= used
                for exe, d in t.by_executable().items():
                    row["by_executable"].setdefault(exe, set()).update(d)
                row["unhandled"] += [{"syscall": s, "exe": x, "count": c, "run": what} for s, x, c in miss]
                ok(t.root is not None and not miss,
                   "%s: every syscall of the container (%d distinct, entrypoint %s) is handled by the profile"
                   % (what, len(used), t.root_path),
                   "\n".join("NOT IN PROFILE: %s by %s (%d calls)" % m for m in miss)
                   or "no container execve found in the trace: %s" % t.runtime_execs)
                if t.unparsed:
                    note("%s: %d trace lines not understood, e.g. %s" % (what, len(t.unparsed), t.unparsed[0][:100]))
        if name in SEEN and allowed:
            lack = SEEN[name] - row["used_names"]
            ok(not lack, "%s: the traces show the workload's characteristic syscalls (%s)" % (name, " ".join(sorted(SEEN[name]))),
               "not seen: %s" % " ".join(sorted(lack)))
        if len(allowed) == 2:
            a, b = (rules(allowed[f][1]) for f in FORMS)
            ok(a == b, "%s: docker-archive and OCI forms give the same rules" % name)
        if allowed:
            summ, keep = allowed.get("docker-archive") or allowed["oci"]
            row["allowed"] = summ["allowed_x86_64"]
            row["docker_default"] = summ["docker_default_x86_64"]
            row["reduction"] = round(100.0 * (1 - row["allowed"] / row["docker_default"]), 1)
            row["used"] = len(row["used_names"])
            row["used_names"] = sorted(row["used_names"])
            row["by_executable"] = {k: sorted(v) for k, v in sorted(row["by_executable"].items())}
            row["not_in_docker_default"] = summ.get("not_in_docker_default")
            rows.append(row)
    negative(dg, T, env, names, next((r["used_names"] for r in rows if r["image"] == "busybox"), []))
    results = {"date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "host": os.uname().nodename,
               "kernel": os.uname().release, "engines": engines, "rows": rows, "timed_with": tdg}
    problems = e2e.write_report(results, out_dir)
    note("")
    for line in e2e.table_lines(rows):
        note(line)
    ok(not problems, "results written to %s (results.md, results.json, results.png)" % out_dir, "\n".join(problems))


def negative(dg, T, env, names, used):
    """busybox without the mkdir syscall its workload really used (busybox-static calls mkdir,
    a glibc program mkdirat): verify must fail (exit 8) and name it, made by busybox."""
    if "busybox" not in names:
        return
    t0 = time.time()
    image = subprocess.run([sys.executable, E2EIMAGE, "build", "busybox", "--format", "docker-archive"],
                           capture_output=True, text=True).stdout.strip()
    src = os.path.join(T, "busybox-docker-archive.kept.json")
    if not os.path.exists(src):
        ok(False, "negative control: no busybox profile")
        return
    p = json.load(open(src))
    drop = {"mkdir", "mkdirat"} & set(used)
    if not drop:
        ok(False, "negative control: the busybox workload made neither mkdir nor mkdirat (traced: %s)" % " ".join(used))
        return
    for r in p["syscalls"]:
        r["names"] = [x for x in r["names"] if x not in drop]
    p["syscalls"] = [r for r in p["syscalls"] if r["names"]]
    prof = os.path.join(T, "busybox-no-mkdir.json")
    json.dump(p, open(prof, "w"), indent=1)
    report = os.path.join(T, "report-negative.json")
    trace, wrapper = os.path.join(T, "trace-negative"), os.path.join(T, "wrap-negative")
    e2e.write_wrapper(wrapper, trace)
    r, dt = verify(dg, image, prof, "podman", wrapper, ["sh", "-c", "mkdir /tmp/x && echo made"], env, report)
    ok(r.returncode == 8, "negative control: busybox without %s, verify exits 8 (got %d, %.1f s)" % ("/".join(sorted(drop)), r.returncode, dt),
       r.stderr[-2000:])
    try:
        rep = json.load(open(report))
    except (OSError, ValueError) as e:
        rep = {"error": str(e)}
    denied = rep.get("denied") or []
    hit = [d for d in denied if d.get("syscall") in drop]
    ok(rep.get("result") == "fail" and bool(hit),
       "negative control: the report names %s as denied%s" % ("/".join(sorted(drop)),
           " (by %s)" % hit[0].get("exe") if hit else ""), json.dumps(rep, indent=1)[:2000])
    ok(bool(hit) and "busybox" in (hit[0].get("exe") or "") + (hit[0].get("comm") or ""),
       "negative control: the denied %s is busybox's" % "/".join(sorted(drop)), json.dumps(hit)[:500])
    # the suite's own check must see it too (it is not vacuous)
    e2e.wait_closed(trace)
    miss = e2e.unhandled(e2e.load_trace(trace), e2e.Profile(prof)) if os.path.exists(trace) else []
    hit = [m for m in miss if m[0] in drop]
    ok(bool(hit), "negative control: the trace check reports %s as not in the profile%s" % (
       "/".join(sorted(drop)), " (by %s)" % hit[0][1] if hit else ""),
       "unhandled: %s" % miss)
    note("negative control (dropped %s): %.1f s" % (" ".join(sorted(drop)), time.time() - t0))


if __name__ == "__main__":
    sys.exit(main())
