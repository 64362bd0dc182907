#!/usr/bin/env python3
"""Image-independent parts of the end-to-end suite (tests/e2e/test_e2e_images.py), reusable by
anything that runs a container under strace and wants to know what it really called.

  e2e.py env DIR                       a private podman store in DIR (containers.conf and
                                       storage.conf: runc, cgroupfs, events file); prints the
                                       two `export` lines
  e2e.py wrapper FILE TRACE [--runtime PATH] [--each]
                                       a runtime wrapper script: runs the runtime under
                                       `strace -D -f -qq -o TRACE` when its arguments contain
                                       `create` (podman) or `run` (runc directly), plain otherwise;
                                       --each: every traced call writes its own TRACE.PID (verify
                                       --diagnose runs the container more than once)
  e2e.py trace TRACE [--profile P] [--json]
                                       the container's syscalls in a runtime trace (per executable;
                                       waits until no process has TRACE open, at most 30 s)
                                       and, with a profile, the ones it does not handle (exit 1)
  e2e.py report RESULTS.json OUTDIR    results.md, results.json and results.png (gnuplot)
  e2e.py selftest                      the trace parser on a hand-written trace

Trace rules (docs: /work/shared/notes/validation.md, "Ground truth"): the trace starts with
the runtime (runc create / runc run). The container's own calls start at the first successful
execve that is not the runtime: the trace's first execve (strace starting the runtime), an
execve of /proc/self/exe or of an fd (/proc/self/fd/N, /proc/thread-self/fd/N, /proc/PID/fd/N:
runc >= 1.2) and an execveat(fd, "", ..., AT_EMPTY_PATH) are the runtime re-executing itself. From that execve on, its process and every process or thread it (or a
descendant) clones is the container; a child keeps its parent's executable until it execs; a
successful execve belongs to the image it replaces. Calls of the runtime's other threads are
not the container's (they are covered by the profile's runtime base).

A syscall is handled by a profile when a rule allows it (SCMP_ACT_ALLOW; a rule with argument
conditions counts, and is noted) or a rule answers it with an errno on purpose (SCMP_ACT_ERRNO
with errnoRet, e.g. clone3 -> ENOSYS); anything else met the default action: a soundness bug.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time

STRACE = shutil.which("strace") or "/usr/bin/strace"
RUNC = shutil.which("runc") or "/usr/sbin/runc"
# the runtime re-executing itself from an fd (runc >= 1.2); the recorder's rule too
RUNTIME_FD = re.compile(r"/proc/(?:self|thread-self|[1-9][0-9]*)/fd/[0-9]+")


# ---------------------------------------------------------------- environment

def podman_env(d):
    """Private podman configuration in d; returns the environment variables to set."""
    os.makedirs(d, exist_ok=True)
    sc, cc = os.path.join(d, "storage.conf"), os.path.join(d, "containers.conf")
    with open(sc, "w") as f:
        f.write('[storage]\ndriver = "vfs"\ngraphroot = "%s/graph"\nrunroot = "%s/run"\n' % (d, d))
    with open(cc, "w") as f:
        f.write('[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nruntime = "runc"\n'
                '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n')
    return {"CONTAINERS_CONF": cc, "CONTAINERS_STORAGE_CONF": sc}


def write_wrapper(path, trace, runtime=RUNC, each=False):
    """A runtime wrapper: strace for `create` (podman) and `run` (runc run), plain otherwise.
    each: the trace of every such call goes to its own file, TRACE.PID (the wrapper's pid).
    -D: strace is a detached grandchild, so the traced runtime keeps the pid its caller expects
    (podman reads the pid file; the tracer outlives `runc create` and follows the container)."""
    with open(path, "w") as f:
        f.write('#!/bin/sh\nfor a in "$@"; do case "$a" in create|run) exec %s -D -f -qq --decode-pids=pidns -s 200 -o %s %s "$@";; esac; done\n'
                'exec %s "$@"\n' % (STRACE, trace + (".$$" if each else ""), runtime, runtime))
    os.chmod(path, 0o755)


def wait_closed(path, limit=30.0):
    """Waits until no process has path open (the detached strace has written all of it)."""
    deadline = time.time() + limit
    real = os.path.realpath(path)
    while time.time() < deadline:
        busy = False
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                for fd in os.listdir("/proc/%s/fd" % pid):
                    try:
                        if os.readlink("/proc/%s/fd/%s" % (pid, fd)) == real:
                            busy = True
                            break
                    except OSError:
                        pass
            except OSError:
                pass
            if busy:
                break
        if not busy:
            return True
        time.sleep(0.1)
    return False


# ---------------------------------------------------------------- the trace

class Trace:
    """One `strace -f -qq -o FILE RUNTIME ...` output: the container's calls per executable."""
    LINE = re.compile(r"^(\d+)\s+(.*)$")
    CALL = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*|\?\?\?)\((.*)$")
    RESUMED = re.compile(r"^<\.\.\. ([A-Za-z_][A-Za-z0-9_]*|\?\?\?) resumed>(.*)$")
    RESULT = re.compile(r"\)\s+=\s+(\S+)(?:\s.*)?$")
    SUPERSEDED = re.compile(r"^\+\+\+ superseded by execve in pid (\d+) \+\+\+")
    STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
    NSPID = re.compile(r"/\* (\d+) in strace's PID NS \*/\s*$")  # --decode-pids=pidns

    def __init__(self, text):
        self.calls = []       # (start line, pid, name, result)
        self.execs = {}       # pid -> [(start line, path)] successful execs
        self.parent = {}      # child pid -> (parent pid, start line of the clone)
        self.root = None      # (pid, start line) of the container's first execve
        self.root_path = None
        self.runtime_execs = []
        self.unparsed = []
        self.notes = []
        pending = {}          # pid -> (name, args, start line)
        seen_exec = False
        for i, line in enumerate(text.splitlines()):
            m = self.LINE.match(line)
            if not m:
                if line.strip():
                    self.unparsed.append(line)
                continue
            pid, rest = int(m.group(1)), m.group(2)
            if rest.startswith("+++") or rest.startswith("---"):
                s = self.SUPERSEDED.match(rest)
                if s and int(s.group(1)) in pending:  # a thread's execve: it takes the leader's pid
                    pending[pid] = pending.pop(int(s.group(1)))
                continue
            if rest.startswith("<..."):
                r = self.RESUMED.match(rest)
                if not r or pid not in pending:
                    self.unparsed.append(line)
                    continue
                name, args, start = pending.pop(pid)
                args += r.group(2)
            else:
                c = self.CALL.match(rest)
                if not c:
                    self.unparsed.append(line)
                    continue
                name, args, start = c.group(1), c.group(2), i
                if args.endswith("<unfinished ...>"):
                    pending[pid] = (name, args[: -len("<unfinished ...>")], i)
                    continue
            res = self.RESULT.search(args)
            ret = res.group(1) if res else "?"
            if name == "???":
                self.notes.append("strace could not name a syscall: " + line[:120])
                continue
            self.calls.append((start, pid, name, ret))
            if name in ("execve", "execveat") and ret == "0":
                strs = self.STRING.findall(args)
                path = strs[0] if strs else "?"
                runtime = (not seen_exec or path == "/proc/self/exe" or RUNTIME_FD.fullmatch(path)
                           or (name == "execveat" and path == "" and "AT_EMPTY_PATH" in args))
                seen_exec = True
                if self.root is None and runtime:
                    self.runtime_execs.append(path)
                    continue
                if self.root is None:
                    self.root = (pid, start)
                    self.root_path = path
                self.execs.setdefault(pid, []).append((start, path))
            elif name in ("clone", "clone3", "fork", "vfork") and re.fullmatch(r"\d+", ret) and int(ret) > 0:
                ns = self.NSPID.search(args)  # the container's pid namespace: the host pid
                self.parent[int(ns.group(1)) if ns else int(ret)] = (pid, start)

    def in_container(self, pid, at, depth=0):
        if self.root is None:
            return False
        if pid == self.root[0] and at >= self.root[1]:
            return True
        if pid in self.parent and depth < 10000:
            pp, j = self.parent[pid]
            return j < at and self.in_container(pp, j, depth + 1)
        return False

    def exe_at(self, pid, at, depth=0):
        exe = None
        for j, path in self.execs.get(pid, []):
            if j < at:  # an execve belongs to the image it replaces
                exe = path
        if exe is not None:
            return exe
        if pid in self.parent and depth < 10000:
            pp, j = self.parent[pid]
            return self.exe_at(pp, j + 1, depth + 1)
        return "<runtime>"

    def by_executable(self):
        """{executable: {syscall: count}} of the container's calls."""
        out = {}
        memo = {}
        for start, pid, name, ret in self.calls:
            key = (pid, start)
            if not self.in_container(pid, start):
                continue
            exe = self.exe_at(pid, start) if not (self.root and key == self.root) else "<runtime>"
            d = out.setdefault(exe, {})
            d[name] = d.get(name, 0) + 1
        return out

    def used(self):
        s = set()
        for d in self.by_executable().values():
            s |= set(d)
        return s


def load_trace(path):
    with open(path, errors="replace") as f:
        return Trace(f.read())


# ---------------------------------------------------------------- the profile

class Profile:
    """A Docker-format profile: what it allows and what it answers with an errno on purpose."""

    def __init__(self, path):
        p = json.load(open(path))
        self.default = p.get("defaultAction")
        self.allowed, self.errno, self.conditional = set(), {}, set()
        for r in p.get("syscalls", []):
            names = r.get("names") or ([r["name"]] if r.get("name") else [])
            if r.get("action") == "SCMP_ACT_ALLOW":
                self.allowed |= set(names)
                if r.get("args"):
                    self.conditional |= set(names)
            elif r.get("action") == "SCMP_ACT_ERRNO" and "errnoRet" in r:
                for n in names:
                    self.errno[n] = r["errnoRet"]
        self.handled = self.allowed | set(self.errno)


def unhandled(trace, profile):
    """[(syscall, executable, count)] of container calls the profile neither allows nor answers."""
    out = []
    for exe, d in sorted(trace.by_executable().items()):
        for name, cnt in sorted(d.items()):
            if name not in profile.handled:
                out.append((name, exe, cnt))
    return out


# ---------------------------------------------------------------- results

COLS = [("image", "image"), ("allowed", "allowed"), ("allowed_entrypoint", "allowed, entrypoint scope"),
        ("used", "used (strace)"),
        ("docker_default", "Docker default"), ("reduction", "reduction vs Docker"),
        ("cold_archive", "cold, archive (s)"), ("warm_archive", "warm, archive (s)"),
        ("cold_oci", "cold, OCI (s)"), ("warm_oci", "warm, OCI (s)")]


def fmt(k, v):
    if v is None:
        return "-"
    if k == "reduction":
        return "%.1f%%" % v
    if isinstance(v, float):
        return "%.2f" % v
    return str(v)


def table_lines(rows):
    head = "| " + " | ".join(h for _, h in COLS) + " |"
    sep = "|" + "|".join("---" if k == "image" else "---:" for k, _ in COLS) + "|"
    body = ["| " + " | ".join(fmt(k, r.get(k)) for k, _ in COLS) + " |" for r in rows]
    return [head, sep] + body


def write_report(results, outdir):
    """results: {"rows": [{image, allowed, used, docker_default, reduction, cold_*, warm_*,
    used_names, ...}], ...}. Writes results.json, results.md, results.png; returns the list of
    problems (e.g. gnuplot missing)."""
    os.makedirs(outdir, exist_ok=True)
    problems = []
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    rows = results["rows"]
    md = ["# dockergate end-to-end results", "",
          "Generated by tests/e2e/test_e2e_images.py on %s (%s)." % (results.get("date", "?"), results.get("host", "?")),
          "allowed: syscalls the generated profile allows (x86-64; image scope, and entrypoint scope: the",
          "profile of `generate --scope entrypoint`, with its fallbacks); used: distinct syscalls the",
          "container's process tree really made (strace; union of the podman and runc runs, both",
          "image forms); Docker default: what Docker's default profile allows; reduction: 1 - allowed / Docker default;",
          "cold/warm: `dockergate generate` with an empty / the filled analysis cache (%s)." % results.get("timed_with", "?"),
          ""] + table_lines(rows) + [""]
    for r in rows:
        md.append("- %s used: %s" % (r["image"], " ".join(r.get("used_names", []))))
    with open(os.path.join(outdir, "results.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    series = [("allowed", "allowed, image scope (profile)")]
    if rows and all(r.get("allowed_entrypoint") is not None for r in rows):
        series.append(("allowed_entrypoint", "allowed, entrypoint scope"))
    series += [("used", "used (strace)"), ("docker_default", "Docker default")]
    problems += chart(outdir, "results", rows, "image", series,
                      "dockergate: x86-64 syscalls allowed by the generated profile, really used (strace), Docker default")
    return problems


def chart(outdir, name, rows, label, series, title):
    """A clustered bar chart OUTDIR/NAME.png (gnuplot) of ROWS: one cluster per row (labelled by
    row[LABEL]), one bar per (key, legend) of SERIES. Returns the list of problems."""
    problems = []
    dat = os.path.join(outdir, name + ".dat")
    with open(dat, "w") as f:
        f.write("# %s %s\n" % (label, " ".join(k for k, _ in series)))
        for r in rows:
            f.write('"%s" %s\n' % (r[label], " ".join(str(int(r.get(k) or 0)) for k, _ in series)))
    gp = shutil.which("gnuplot")
    png = os.path.join(outdir, name + ".png")
    if not gp:
        problems.append("gnuplot not found (scripts/deps.sh --test installs gnuplot-nox): no %s.png" % name)
        return problems
    top = max([int(r.get(k) or 0) for r in rows for k, _ in series] + [10]) * 1.2
    plots = ", ".join("%s using %d%s title '%s'" % ("'%s'" % dat if i == 0 else "''", i + 2,
                                                   ":xtic(1)" if i == 0 else "", legend)
                      for i, (_, legend) in enumerate(series))
    script = """
set terminal pngcairo size 900,520 noenhanced font ",10"
set output '%s'
set title '%s'
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set ylabel 'x86-64 syscalls'
set yrange [0:%d]
set key top left
set grid ytics
plot %s
""" % (png, title, top, plots)
    r = subprocess.run([gp], input=script, text=True, capture_output=True)
    if r.returncode or not os.path.exists(png):
        # pngcairo may be missing in gnuplot-nox builds: fall back to the plain png terminal
        script = script.replace("pngcairo size 900,520 noenhanced font \",10\"", "png size 900,520")
        r = subprocess.run([gp], input=script, text=True, capture_output=True)
    if r.returncode or not os.path.exists(png):
        problems.append("gnuplot failed: " + r.stderr.strip()[:300])
    return problems


# ---------------------------------------------------------------- self test

SELFTEST = r"""
50 execve("/usr/sbin/runc", ["/usr/sbin/runc", "create", "x"], 0x1 /* 9 vars */) = 0
50 clone(child_stack=NULL, flags=SIGCHLD) = 60
60 execve("/proc/self/exe", ["/usr/sbin/runc", "init"], 0xc /* 7 vars */ <unfinished ...>
60 <... execve resumed>)             = 0
60 clone(child_stack=0xc, flags=CLONE_VM|CLONE_THREAD) = 61
60 execveat(6, "", ["/usr/sbin/runc", "init"], 0x3 /* 8 vars */, AT_EMPTY_PATH <unfinished ...>
60 <... execveat resumed>)           = 0
60 seccomp(SECCOMP_SET_MODE_FILTER, 0, {len=10, filter=0x1}) = 0
62 futex(0x1, FUTEX_WAKE, 1) = 1
60 clone(child_stack=0xc, flags=CLONE_VM|CLONE_THREAD) = 62
62 execve("/bin/sh", ["/bin/sh", "-c", "x"], 0xc /* 5 vars */ <unfinished ...>
63 nanosleep({tv_sec=0, tv_nsec=20000}, NULL) = 0
60 +++ superseded by execve in pid 62 +++
60 <... execve resumed>)             = 0
60 brk(NULL)                         = 0x55
60 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD <unfinished ...>
70 set_robust_list(0x7f, 24 <unfinished ...>
60 <... clone resumed>, child_tidptr=0x7f) = 3 /* 70 in strace's PID NS */
70 <... set_robust_list resumed>)      = 0
70 execve("/bin/busybox", ["mkdir", "/tmp/d"], 0x1 /* 4 vars */) = 0
70 mkdirat(AT_FDCWD, "/tmp/d", 0777) = -1 EPERM (Operation not permitted)
70 execve("/proc/self/exe", ["ls"], 0x1 /* 4 vars */) = 0
70 getdents64(3, 0x1, 1024) = 0
70 exit_group(1)                     = ?
70 +++ exited with 1 +++
60 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=70, si_status=1} ---
60 wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 1}], 0, NULL) = 70
60 exit_group(1)                     = ?
60 +++ exited with 1 +++
"""
SELFTEST_WANT = {
    "<runtime>": {"execve": 1},
    "/bin/sh": {"brk": 1, "clone": 1, "set_robust_list": 1, "execve": 1, "wait4": 1, "exit_group": 1},
    "/bin/busybox": {"execve": 1, "mkdirat": 1},
    "/proc/self/exe": {"getdents64": 1, "exit_group": 1},
}


def selftest():
    t = Trace(SELFTEST)
    got = t.by_executable()
    ok = got == SELFTEST_WANT and not t.unparsed and t.root_path == "/bin/sh"
    p = Profile.__new__(Profile)
    p.allowed, p.errno, p.conditional = set(SELFTEST_WANT["/bin/sh"]) | {"execve", "set_robust_list", "getdents64"}, {}, set()
    p.handled = p.allowed
    miss = unhandled(t, p)
    ok = ok and miss == [("mkdirat", "/bin/busybox", 1)]
    return ok, "got %s, root %s, unparsed %s, unhandled %s" % (got, t.root_path, t.unparsed, miss)


# ---------------------------------------------------------------- command line

def main(argv):
    if not argv:
        sys.exit(__doc__)
    cmd = argv[0]
    if cmd == "env":
        for k, v in podman_env(argv[1]).items():
            print("export %s=%s" % (k, v))
    elif cmd == "wrapper":
        rt = argv[argv.index("--runtime") + 1] if "--runtime" in argv else RUNC
        write_wrapper(argv[1], argv[2], rt, "--each" in argv)
    elif cmd == "trace":
        if not wait_closed(argv[1]):  # the detached strace may still be writing it
            print("%s: strace still writing it after 30 s" % argv[1], file=sys.stderr)
        t = load_trace(argv[1])
        prof = Profile(argv[argv.index("--profile") + 1]) if "--profile" in argv else None
        out = {"root": t.root_path, "by_executable": t.by_executable(), "used": sorted(t.used()),
               "unparsed": t.unparsed[:20], "notes": t.notes[:20]}
        if prof:
            out["unhandled"] = [{"syscall": s, "exe": e, "count": c} for s, e, c in unhandled(t, prof)]
        if "--json" in argv:
            json.dump(out, sys.stdout, indent=1, sort_keys=True)
            print()
        else:
            print("root: %s; %d distinct syscalls" % (out["root"], len(out["used"])))
            for exe, d in sorted(out["by_executable"].items()):
                print("%s: %s" % (exe, " ".join(sorted(d))))
            for u in out.get("unhandled", []):
                print("NOT HANDLED: %(syscall)s by %(exe)s (%(count)d calls)" % u)
        return 1 if out.get("unhandled") or t.root is None else 0
    elif cmd == "report":
        problems = write_report(json.load(open(argv[1])), argv[2])
        for p in problems:
            print(p, file=sys.stderr)
        return 1 if problems else 0
    elif cmd == "selftest":
        ok, msg = selftest()
        print(("ok: " if ok else "FAIL: ") + msg)
        return 0 if ok else 1
    else:
        sys.exit(__doc__)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
