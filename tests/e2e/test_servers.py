#!/usr/bin/env python3
"""The entrypoint scope on real servers (issue 17, item 4).

Builds the server images of tests/tools/e2eimage.py (`e2eimage.py servers`: haproxy, lighttpd,
apache2 through apache2ctl, mosquitto, memcached, git daemon, postgres behind an entrypoint
script that runs initdb as the postgres user through gosu; Debian bookworm packages, each image
with the Entrypoint/Cmd an official image would have and its server on 127.0.0.1:184xx), and for
each:

 1. `syscalls --scope entrypoint --json` (the closure's tier, the fallback's tier, which
    fallbacks fired), `generate --scope entrypoint` (the profile under test), the same with
    `--fallback deny`, and `generate --scope image`;
 2. runs the image with its own Entrypoint and Cmd under the entrypoint scope's profile with
    `dockergate verify` on podman and on runc (host network, --timeout: a server still up then
    passes), the runtime under strace (tests/tools/e2e.py's wrapper), while this test drives the
    server from the host: HTTP requests (haproxy, lighttpd, apache2), MQTT 3.1.1 subscribe and
    publish (mosquitto), set/get over the text protocol (memcached), `git clone` (git daemon),
    psql create/insert/select (postgres), each answer checked;
 3. checks that every syscall the container's process tree made (strace) is handled by the
    profile; a syscall outside it is a soundness bug of the analysis (the check fails and names
    the syscall, the executable and `explain`'s view of it);
 4. writes a table and a chart (TAP comments, $DG_E2E_OUT or build/e2e: servers.md, servers.json,
    servers.png): allowed
    with the entrypoint scope (total; the closure's and the fallback's tiers), with `--fallback
    deny`, with the image scope; really used (union of the runs); Docker's default; whether
    `--fallback deny` would have been enough for what the workload used; the fallbacks that fired.

The images are built in a background thread and analysed in another while the previous server
runs. DG_E2E_SERVERS=a,b limits the servers; DG_E2E_ENGINES=podman,runc the engines.

Usage: test_servers.py DOCKERGATE     (prints TAP; needs root, podman, runc, strace, skopeo,
umoci, mmdebstrap, and on the host git and psql: scripts/deps.sh --test)
"""
import concurrent.futures
import glob
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import e2e  # noqa: E402
from tap import Tap, run  # noqa: E402

TAP = Tap("servers")
ok, note = TAP.ok, TAP.note
E2EIMAGE = os.path.join(HERE, "..", "tools", "e2eimage.py")


# ---------------------------------------------------------------- workloads (host side)

def http(port, path, timeout=10):
    """(status, body) of GET http://127.0.0.1:PORT/PATH."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def expect(cond, what, log):
    log.append(("ok   " if cond else "FAIL ") + what)
    return cond


def wl_haproxy(port, log, tmp):
    good = True
    for i in range(5):
        st, body = http(port, "/hello")
        good &= expect(st == 200 and body == "hello from haproxy", "GET /hello #%d: %s %r" % (i + 1, st, body[:60]), log)
    st, body = http(port, "/elsewhere")  # proxied to a backend that is not there
    good &= expect(st == 503, "GET /elsewhere (backend down): %s" % st, log)
    return good


def wl_lighttpd(port, log, tmp):
    good = True
    for i in range(4):
        st, body = http(port, "/")
        good &= expect(st == 200 and body == "hello from lighttpd\n", "GET / #%d: %s %r" % (i + 1, st, body[:60]), log)
    st, _ = http(port, "/secret.inc")  # mod_access: url.access-deny
    good &= expect(st == 403, "GET /secret.inc (mod_access denies): %s" % st, log)
    st, _ = http(port, "/missing.html")
    good &= expect(st == 404, "GET /missing.html: %s" % st, log)
    return good


def wl_apache2(port, log, tmp):
    good = True
    for i in range(4):
        st, body = http(port, "/e2e.txt")
        good &= expect(st == 200 and body == "hello from apache2\n", "GET /e2e.txt #%d: %s %r" % (i + 1, st, body[:60]), log)
    st, _ = http(port, "/missing.html")
    good &= expect(st == 404, "GET /missing.html: %s" % st, log)
    return good


def mqtt_packet(kind, body):
    n, rem = len(body), b""
    while True:  # the remaining length, 7 bits a byte
        b = n % 128
        n //= 128
        rem += bytes([b | (0x80 if n else 0)])
        if not n:
            break
    return bytes([kind]) + rem + body


def mqtt_str(s):
    b = s.encode()
    return struct.pack("!H", len(b)) + b


def mqtt_read(sock):
    """(type byte, body) of the next packet."""
    def exact(n):
        buf = b""
        while len(buf) < n:
            c = sock.recv(n - len(buf))
            if not c:
                raise OSError("connection closed")
            buf += c
        return buf
    kind = exact(1)[0]
    n, mult = 0, 1
    while True:
        b = exact(1)[0]
        n += (b & 0x7F) * mult
        mult *= 128
        if not b & 0x80:
            break
    return kind, exact(n)


def mqtt_connect(port, client_id):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(mqtt_packet(0x10, mqtt_str("MQTT") + bytes([4, 0x02]) + struct.pack("!H", 30) + mqtt_str(client_id)))
    kind, body = mqtt_read(s)
    if kind != 0x20 or body[-1:] != b"\x00":
        raise OSError("CONNACK expected, got %02x %r" % (kind, body))
    return s


def wl_mosquitto(port, log, tmp):
    good = True
    sub = mqtt_connect(port, "dg-sub")
    sub.sendall(mqtt_packet(0x82, struct.pack("!H", 1) + mqtt_str("dg/e2e/#") + b"\x01"))
    kind, body = mqtt_read(sub)
    good &= expect(kind == 0x90 and body == b"\x00\x01\x01", "SUBSCRIBE dg/e2e/# (QoS 1): SUBACK %02x %r" % (kind, body), log)
    pub = mqtt_connect(port, "dg-pub")
    msgs = [("dg/e2e/a", b"hello over mqtt"), ("dg/e2e/b", b"second message")]
    for i, (topic, payload) in enumerate(msgs):  # QoS 1: PUBLISH, then PUBACK with its id
        pub.sendall(mqtt_packet(0x32, mqtt_str(topic) + struct.pack("!H", 10 + i) + payload))
        kind, body = mqtt_read(pub)
        good &= expect(kind == 0x40 and body == struct.pack("!H", 10 + i), "PUBLISH %s (QoS 1): PUBACK %02x" % (topic, kind), log)
    for topic, payload in msgs:
        kind, body = mqtt_read(sub)
        got_topic = body[2:2 + struct.unpack("!H", body[:2])[0]].decode(errors="replace")
        off = 2 + len(got_topic) + (2 if kind & 0x06 else 0)
        if kind & 0x06:  # QoS 1 delivery: acknowledge it
            sub.sendall(mqtt_packet(0x40, body[off - 2:off]))
        good &= expect(kind & 0xF0 == 0x30 and got_topic == topic and body[off:] == payload,
                       "subscriber received %s: %r" % (got_topic, body[off:]), log)
    for s in (pub, sub):
        s.sendall(b"\xe0\x00")  # DISCONNECT
        s.close()
    return good


def wl_memcached(port, log, tmp):
    good = True
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    f = s.makefile("rwb")

    def cmd(line, data=None):
        f.write(line.encode() + b"\r\n" + ((data.encode() + b"\r\n") if data is not None else b""))
        f.flush()

    values = {"dg:k%d" % i: "value-%d-%s" % (i, "x" * i) for i in range(5)}
    for k, v in values.items():
        cmd("set %s 0 0 %d" % (k, len(v)), v)
        good &= expect(f.readline() == b"STORED\r\n", "set %s" % k, log)
    for k, v in values.items():
        cmd("get " + k)
        lines = [f.readline(), f.readline(), f.readline()]
        good &= expect(lines == [("VALUE %s 0 %d\r\n" % (k, len(v))).encode(), v.encode() + b"\r\n", b"END\r\n"],
                       "get %s: %r" % (k, b"".join(lines)[:60]), log)
    cmd("incr dg:n 1")
    good &= expect(f.readline() == b"NOT_FOUND\r\n", "incr of a missing key: NOT_FOUND", log)
    cmd("delete dg:k0")
    good &= expect(f.readline() == b"DELETED\r\n", "delete dg:k0", log)
    cmd("get dg:k0")
    good &= expect(f.readline() == b"END\r\n", "get dg:k0 after delete: nothing", log)
    cmd("quit")
    s.close()
    return good


def wl_git(port, log, tmp):
    good = True
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", HOME=tmp)
    r = run(["git", "ls-remote", "git://127.0.0.1:%d/repo.git" % port], env=env, timeout=60)
    good &= expect(r.returncode == 0 and "refs/heads/main" in r.stdout, "git ls-remote: %s" % (r.stdout.strip() or r.stderr.strip())[:100], log)
    for i in range(2):
        dest = os.path.join(tmp, "clone%d" % i)
        r = run(["git", "clone", "-q", "git://127.0.0.1:%d/repo.git" % port, dest], env=env, timeout=60)
        body = open(os.path.join(dest, "README")).read() if os.path.exists(os.path.join(dest, "README")) else None
        src = os.path.exists(os.path.join(dest, "src", "main.c"))
        good &= expect(r.returncode == 0 and body == "served by git daemon\n" and src,
                       "git clone #%d: README %r, src/main.c %s %s" % (i + 1, body, src, r.stderr.strip()[:100]), log)
    return good


def wl_postgres(port, log, tmp):
    env = dict(os.environ, PGCONNECT_TIMEOUT="10", PGPASSWORD="e2e")
    base = ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", "postgres", "-X", "-v", "ON_ERROR_STOP=1",
            "-At"]
    r = run(base + ["-c", "create table dg_e2e (id int primary key, name text)",
                    "-c", "insert into dg_e2e values (1, 'one'), (2, 'two'), (3, 'three')",
                    "-c", "update dg_e2e set name = upper(name) where id = 2",
                    "-c", "select id || ':' || name from dg_e2e order by id"], env=env, timeout=60)
    rows = [l for l in r.stdout.splitlines() if ":" in l]
    good = expect(r.returncode == 0 and rows == ["1:one", "2:TWO", "3:three"],
                  "psql create/insert/update/select: %r %s" % (rows, r.stderr.strip()[:200]), log)
    r = run(base + ["-c", "select count(*) from pg_stat_activity where backend_type = 'client backend'"], env=env,
            timeout=60)
    good &= expect(r.returncode == 0 and r.stdout.strip() == "1", "psql, a second connection: %r" % r.stdout.strip(), log)
    return good


# name: (port, verify --timeout, workload). The timeout bounds the server's start under strace
# (postgres: initdb first) plus the workload; the workload waits for the port.
SERVERS = {
    "haproxy": (18401, 30, wl_haproxy),
    "lighttpd": (18402, 30, wl_lighttpd),
    "apache2": (18403, 30, wl_apache2),
    "mosquitto": (18404, 30, wl_mosquitto),
    "memcached": (18405, 30, wl_memcached),
    "git": (18406, 30, wl_git),
    "postgres": (18407, 90, wl_postgres),
}


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def drive(proc, port, workload, deadline, tmp):
    """While PROC (verify) runs: wait until PORT accepts, then the workload. (good, log, seconds
    until the port accepted)."""
    t0 = time.time()
    while not port_open(port):
        if proc.poll() is not None or time.time() > deadline:
            return False, ["the server never accepted on 127.0.0.1:%d (%.0f s)" % (port, time.time() - t0)], None
        time.sleep(0.2)
    up = time.time() - t0
    log = []
    try:
        good = workload(port, log, tmp)
    except Exception as e:  # a refused or reset connection, a short answer: the server failed
        log.append("FAIL %s: %s" % (type(e).__name__, e))
        good = False
    return good, log, up


# ---------------------------------------------------------------- the pipeline

def json_of(text, start="{"):
    try:
        return json.loads(text[text.index(start):])
    except ValueError:
        return None


def build(name):
    t0 = time.time()
    r = run([sys.executable, E2EIMAGE, "build", name, "--format", "docker-archive"], timeout=1800)
    image = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
    return {"r": r, "image": image, "seconds": time.time() - t0}


def analyse(dg, name, bfut, T, env):
    """The four analyses of an image; {step: (CompletedProcess, parsed JSON, seconds)}."""
    b = bfut.result()
    out = {"build": b}
    if b["r"].returncode or not os.path.exists(b["image"]):
        return out
    img = b["image"]
    steps = [("syscalls", [dg, "syscalls", img, "--scope", "entrypoint", "--json"]),
             ("entrypoint", [dg, "generate", img, "--scope", "entrypoint", "-o", os.path.join(T, name + "-ep.json"), "--json"]),
             ("deny", [dg, "generate", img, "--scope", "entrypoint", "--fallback", "deny", "-o",
                       os.path.join(T, name + "-deny.json"), "--json"]),
             ("image", [dg, "generate", img, "--scope", "image", "-o", os.path.join(T, name + "-img.json"), "--json"])]
    for step, cmd in steps:
        t0 = time.time()
        r = run(cmd, env=env, timeout=1800)
        out[step] = (r, json_of(r.stdout if step == "syscalls" else r.stderr), time.time() - t0)
    return out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    dg = os.path.abspath(sys.argv[1])
    if os.getuid() != 0:
        print("1..0 # SKIP needs root")
        return 0
    for tool in ("podman", "runc", "strace", "skopeo", "umoci", "mmdebstrap", "git", "psql"):
        if not shutil.which(tool):
            print("1..0 # SKIP needs %s (scripts/deps.sh --test)" % tool)
            return 0
    r = subprocess.run([dg, "help", "verify"], capture_output=True, text=True)
    if r.returncode != 0:
        print("1..0 # SKIP this dockergate has no verify command")
        return 0
    r = run([sys.executable, E2EIMAGE, "servers"])
    known = r.stdout.split() if r.returncode == 0 else []
    only = [x for x in os.environ.get("DG_E2E_SERVERS", "").split(",") if x]
    engines = [x for x in os.environ.get("DG_E2E_ENGINES", "podman,runc").split(",") if x]
    out_dir = os.environ.get("DG_E2E_OUT") or os.path.join(TOP, "build", "e2e")
    t_start = time.time()
    T = tempfile.mkdtemp(prefix="dg-servers.", dir=os.environ.get("TMPDIR", "/tmp"))
    env = dict(os.environ, **e2e.podman_env(os.path.join(T, "podman")))
    env["XDG_CACHE_HOME"] = os.path.join(T, "xdg")
    env["SOURCE_DATE_EPOCH"] = "1700000000"
    try:
        if ok(sorted(known) == sorted(SERVERS), "e2eimage.py servers: %s" % " ".join(known),
              "the test has workloads for %s" % " ".join(sorted(SERVERS))):
            body(dg, T, env, [n for n in known if not only or n in only], engines, out_dir)
    finally:
        subprocess.run(["podman", "rm", "-a", "-f"], env=env, capture_output=True)
        subprocess.run(["podman", "rmi", "-a", "-f"], env=env, capture_output=True)
        if os.environ.get("DG_KEEP"):
            note("kept " + T)
        else:
            shutil.rmtree(T, ignore_errors=True)
    note("total %.0f s" % (time.time() - t_start))
    TAP.plan()
    return 1 if TAP.failed else 0


def body(dg, T, env, names, engines, out_dir):
    bpool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    apool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    bfuts = {n: bpool.submit(build, n) for n in names}
    afuts = {n: apool.submit(analyse, dg, n, bfuts[n], T, env) for n in names}
    rows = []
    try:
        for name in names:
            row = server(dg, name, afuts[name].result(), T, env, engines)
            if row:
                rows.append(row)
    finally:
        for f in list(afuts.values()) + list(bfuts.values()):
            f.cancel()
        apool.shutdown(wait=True)
        bpool.shutdown(wait=True)
    results = {"date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "host": os.uname().nodename,
               "kernel": os.uname().release, "engines": engines, "dockergate": dg, "rows": rows}
    problems = write_report(results, out_dir)
    note("")
    for line in table_lines(rows):
        note(line)
    for r in rows:
        note("%s fallbacks: %s" % (r["server"], "; ".join("%s: %s" % kv for kv in sorted(r["fallbacks"].items())) or "none"))
        if r["used_not_in_closure"]:
            note("%s: used but only in the fallback's tier: %s" % (r["server"], " ".join(r["used_not_in_closure"])))
    ok(not problems, "results written to %s (servers.md, servers.json, servers.png)" % out_dir, "\n".join(problems))


def server(dg, name, a, T, env, engines):
    port, timeout, workload = SERVERS[name]
    b = a["build"]
    if not ok(b["r"].returncode == 0 and os.path.exists(b["image"]),
              "%s: e2eimage.py build (%.0f s)" % (name, b["seconds"]), b["r"].stderr[-3000:]):
        return None
    note("%s: image %s" % (name, b["image"]))
    image = b["image"]
    good = True
    for step, what in (("syscalls", "syscalls --scope entrypoint --json"), ("entrypoint", "generate --scope entrypoint"),
                       ("deny", "generate --scope entrypoint --fallback deny"), ("image", "generate --scope image")):
        r, j, dt = a[step]
        good &= ok(r.returncode == 0 and j is not None, "%s: %s (%.0f s)" % (name, what, dt), r.stderr[-3000:])
    if not good:
        return None
    sj, ep, deny, img = a["syscalls"][1], a["entrypoint"][1], a["deny"][1], a["image"][1]
    union = set(sj.get("union", []))
    scope = sj.get("scope") or {}
    fallbacks = {}
    if scope.get("all_programs"):
        fallbacks["exec"] = scope["all_programs"]
    if scope.get("all_libraries"):
        fallbacks["dlopen"] = scope["all_libraries"]
    tiers = sj.get("tiers") or {}
    if tiers:
        closure, fallback = set(tiers.get("closure", [])), set(tiers.get("fallback", []))
        ok(fallbacks and (closure | fallback) == union and not closure & fallback,
           "%s: the entrypoint scope's union (%d) is the closure's tier (%d) plus the fallback's (%d)"
           % (name, len(union), len(closure), len(fallback)), json.dumps(tiers)[:1500])
    else:  # no fallback fired: the closure is the whole scope
        closure, fallback = union, set()
        ok(not fallbacks and union, "%s: no fallback fired and there are no tiers: the closure is the scope (%d)"
           % (name, len(union)), json.dumps(fallbacks))
    ok(ep["allowed_x86_64"] <= img["allowed_x86_64"] and deny["allowed_x86_64"] <= ep["allowed_x86_64"],
       "%s: allowed: --fallback deny %d <= entrypoint scope %d <= image scope %d"
       % (name, deny["allowed_x86_64"], ep["allowed_x86_64"], img["allowed_x86_64"]))
    note("%s: entrypoint %d allowed (closure %d, fallback %d), --fallback deny %d, image %d; fallbacks: %s"
         % (name, ep["allowed_x86_64"], len(closure), len(fallback), deny["allowed_x86_64"], img["allowed_x86_64"],
            "; ".join("%s: %s" % kv for kv in sorted(fallbacks.items())) or "none"))
    prof_path = os.path.join(T, name + "-ep.json")
    profile = e2e.Profile(prof_path)
    deny_profile = e2e.Profile(os.path.join(T, name + "-deny.json"))
    used, by_exe, unhandled = set(), {}, []
    for engine in engines:
        what = "%s, %s" % (name, engine)
        tag = "%s-%s" % (name, engine)
        trace = os.path.join(T, "trace-" + tag)
        wrapper = os.path.join(T, "wrap-" + tag)
        e2e.write_wrapper(wrapper, trace, each=True)
        report = os.path.join(T, "report-%s.json" % tag)
        if port_open(port):
            ok(False, "%s: port %d is free before the run" % (what, port), "something on this host listens on it")
            continue
        cmd = [dg, "verify", image, "--profile", prof_path, "--engine", engine, "--network", "host",
               "--timeout", str(timeout), "--runtime", wrapper, "--report", report, "--tmpdir", T]
        t0 = time.time()
        vout, verr = os.path.join(T, tag + ".out"), os.path.join(T, tag + ".err")
        with open(vout, "w") as fo, open(verr, "w") as fe:
            proc = subprocess.Popen(cmd, env=env, stdout=fo, stderr=fe, stdin=subprocess.DEVNULL)
            wtmp = os.path.join(T, "wl-" + tag)
            os.makedirs(wtmp)
            wgood, wlog, up = drive(proc, port, workload, t0 + timeout + 120, wtmp)
            wdone = time.time() - t0
            try:
                rc = proc.wait(timeout=timeout + 300)
            except subprocess.TimeoutExpired:
                proc.kill()
                rc = proc.wait()
        dt = time.time() - t0
        stderr, stdout = open(verr).read(), open(vout).read()
        try:
            rep = json.load(open(report))
        except (OSError, ValueError):
            rep = {}
        verdict = [l for l in stderr.splitlines() if l.startswith("dockergate verify: ")]
        ok(rc == 0 and rep.get("result") == "pass" and rep.get("timed_out") and not rep.get("denied"),
           "%s: verify passes, the server stayed up under the entrypoint scope's profile (%.0f s): %s"
           % (what, dt, verdict[-1] if verdict else "?"),
           "exit %d, report %s\n--- stderr\n%s\n--- stdout\n%s" % (rc, json.dumps(rep)[:1500], stderr[-3000:], stdout[-2000:]))
        ok(wgood,
           "%s: the workload's answers (port up after %s, done at %.0f s, --timeout %d)"
           % (what, "%.1f s" % up if up is not None else "-", wdone, timeout),
           "\n".join(wlog) + "\n--- container stderr\n" + stderr[-2000:] + "\n--- stdout\n" + stdout[-1500:])
        files = sorted(glob.glob(trace + ".*"))
        for f in files:
            if not e2e.wait_closed(f):
                note("%s: strace still writing %s after 30 s" % (what, f))
        if not ok(bool(files), "%s: strace trace written" % what, "verify exited %d" % rc):
            continue
        miss, roots = [], []
        for f in files:
            t = e2e.load_trace(f)
            roots.append(t.root_path)
            u = t.used()
            used |= u
            for exe, d in t.by_executable().items():
                by_exe.setdefault(exe, set()).update(d)
            miss += e2e.unhandled(t, profile)
        detail = []
        for s, x, c in miss:
            detail.append("NOT IN PROFILE: %s by %s (%d calls)" % (s, x, c))
            unhandled.append({"syscall": s, "exe": x, "count": c, "run": what})
            r = run([dg, "explain", image, s, "--scope", "entrypoint"], env=env, timeout=600)
            detail += ["  explain: " + l for l in (r.stdout + r.stderr).strip().splitlines()[:8]]
        ok(all(roots) and not miss,
           "%s: strace: every syscall of the container (%d distinct, entrypoint %s) is handled by the profile"
           % (what, len(used), ", ".join(sorted(set(map(str, roots))))),
           "\n".join(detail) or "no container execve found in the trace")
    deny_missing = sorted(s for s in used if s not in deny_profile.handled)
    return {"server": name, "image": os.path.basename(os.path.dirname(image)),
            "allowed_entrypoint": ep["allowed_x86_64"], "closure_tier": len(closure), "fallback_tier": len(fallback),
            "allowed_fallback_deny": deny["allowed_x86_64"], "allowed_image": img["allowed_x86_64"],
            "used": len(used), "docker_default": ep.get("docker_default_x86_64"),
            "deny_enough": not deny_missing, "used_not_in_deny_profile": deny_missing,
            "used_not_in_closure": sorted(used - closure), "fallbacks": fallbacks,
            "fallback_adds": {x["path"]: len(x.get("adds", [])) for x in tiers.get("fallback_adds", [])},
            "used_names": sorted(used), "by_executable": {k: sorted(v) for k, v in sorted(by_exe.items())},
            "unhandled": unhandled,
            "seconds": {"build": round(a["build"]["seconds"], 1),
                        **{k: round(a[k][2], 1) for k in ("syscalls", "entrypoint", "deny", "image")}}}


# ---------------------------------------------------------------- results

COLS = [("server", "server"), ("allowed_entrypoint", "entrypoint scope"), ("closure_tier", "closure tier"),
        ("fallback_tier", "fallback tier"), ("allowed_fallback_deny", "entrypoint, --fallback deny"),
        ("allowed_image", "image scope"), ("used", "used (strace)"), ("docker_default", "Docker default"),
        ("deny_enough", "--fallback deny enough")]


def cell(k, v):
    if isinstance(v, bool):
        return "yes" if v else "no"
    return "-" if v is None else str(v)


def table_lines(rows):
    out = ["| " + " | ".join(h for _, h in COLS) + " |",
           "|" + "|".join("---" if k == "server" else "---:" for k, _ in COLS) + "|"]
    out += ["| " + " | ".join(cell(k, r.get(k)) for k, _ in COLS) + " |" for r in rows]
    if rows:
        ep = sorted(r["allowed_entrypoint"] for r in rows)
        out.append("median of the entrypoint scope: %s allowed" % (
            ep[len(ep) // 2] if len(ep) % 2 else (ep[len(ep) // 2 - 1] + ep[len(ep) // 2]) / 2))
    return out


def write_report(results, outdir):
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "servers.json"), "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    rows = results["rows"]
    md = ["# dockergate: the entrypoint scope on real servers", "",
          "Generated by tests/e2e/test_servers.py on %s (%s; engines: %s)." % (results["date"], results["host"],
                                                                               ", ".join(results["engines"])),
          "Allowed: x86-64 syscalls the profile allows (`generate`, with the container runtime's base);",
          "closure / fallback tier: `syscalls --scope entrypoint --json` (tiers; without the runtime's base);",
          "used: distinct syscalls the container's process tree made (strace; union of the podman and runc runs);",
          "--fallback deny enough: every used syscall is in the `--fallback deny` profile.", ""]
    md += table_lines(rows) + [""]
    for r in rows:
        md.append("- %s: fallbacks: %s" % (r["server"], "; ".join("%s: %s" % kv for kv in sorted(r["fallbacks"].items()))
                                            or "none"))
        if r["used_not_in_closure"]:
            md.append("  - used, only in the fallback's tier: %s" % " ".join(r["used_not_in_closure"]))
        md.append("  - used: %s" % " ".join(r["used_names"]))
        if r["unhandled"]:
            md.append("  - NOT IN THE PROFILE: %s" % ", ".join("%s by %s" % (u["syscall"], u["exe"]) for u in r["unhandled"]))
    with open(os.path.join(outdir, "servers.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    return e2e.chart(outdir, "servers", rows, "server",
                     [("allowed_entrypoint", "entrypoint scope"), ("allowed_fallback_deny", "entrypoint, --fallback deny"),
                      ("allowed_image", "image scope"), ("used", "used (strace)"), ("docker_default", "Docker default")],
                     "dockergate on real servers: x86-64 syscalls allowed by scope, really used (strace), Docker default")


if __name__ == "__main__":
    sys.exit(main())
