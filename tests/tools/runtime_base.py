#!/usr/bin/env python3
"""The container runtime's own syscalls: what runc (and crun) make between installing the
seccomp filter and exec'ing the entrypoint. data/runtime-base.json is written by this tool.

  runtime_base.py measure [--runs N] [--traced N] [--runtimes runc,crun] [-o FILE]
  runtime_base.py setup DIR                 a bundle + a private podman store in DIR (for check)
  runtime_base.py check DIR --runtime R --via direct|podman --nnp true|false
                  --data FILE [--drop NAME]... [--runs N] [--mode-set M] [--no-diagnose]
                  [--podman-arg ARG]...
                                            start the trivial entrypoint N times under a
                                            deny-by-default profile that allows exactly the
                                            measured set (minus --drop); exit 0 if every run
                                            exits 0; on a failure, re-runs it with
                                            SCMP_ACT_LOG and names the syscalls the set lacks

How it measures (root only):
- The entrypoint is a static program without libc whose only syscall is exit_group(0)
  (tests/tools/runtime_base_nop.c), named dgrb-XXXXXX (random) so its kernel-log records
  are ours and nobody else's.
- The profile is deny-nothing: defaultAction SCMP_ACT_LOG and no rules, so every syscall
  made after the filter is installed succeeds and the kernel logs it (audit type=1326,
  with the host pid and the syscall number). kernel.printk_ratelimit is set to 0 for the
  measurement (and restored) or records get dropped; every run must show the entrypoint's
  execve and exit_group, and the audit serial numbers of the window must have no gap, or
  the run is refused.
- The records of the container process (every thread of it: the Go runtime's threads in
  runc are in the same thread group) from the filter on, up to and including the
  entrypoint's execve and its exit_group, are the set. Names from the kernel's x86-64 table.
- Runs: runc directly (`runc run`, bundle from `runc spec` with podman's default
  capabilities, process.noNewPrivileges false/true) and through podman (private store,
  `--security-opt seccomp=PROFILE`, plus `--security-opt no-new-privileges` for true);
  crun directly when it can run here (crun 1.8 refuses cgroup v1+v2 hybrid hosts: it runs
  in a private mount namespace where the cgroup2 mount at /sys/fs/cgroup/unified is
  unmounted, the host is not changed) and through podman the same way.
- --traced N of the runs of each case run the runtime under `strace -f` (timing
  perturbed: the Go runtime's scheduler calls show up that fast runs lack); the strace
  output cut at the init's successful seccomp(SECCOMP_SET_MODE_FILTER) is a second
  witness, compared with the log of the same run.
"""
import argparse
import datetime
import json
import os
import random
import re
import shutil
import string
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NOP_SRC = os.path.join(HERE, "runtime_base_nop.c")
RUNC = shutil.which("runc") or "/usr/sbin/runc"
CRUN = shutil.which("crun")
PODMAN = shutil.which("podman")
STRACE = shutil.which("strace")
# podman's default capabilities (containers.conf default_capabilities)
CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
        "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID",
        "CAP_SYS_CHROOT"]
# Names a runtime's set must have although the measurement rarely or never sees them: the Go
# runtime inside runc makes them from any of its threads at moments timing decides, and the
# filter (TSYNC) covers every thread. Written to the data's "added", merged into both modes.
VALIDATION = ("reported for runc 1.1.5 under podman on this kind of machine (the project's "
              "validation notes: SCMP_ACT_LOG records of runc:[2:INIT]); not seen in about 1,400 "
              "runs here (2026-11-23)")
ADDED = {
    "runc": {
        "sched_yield": "Go runtime: osyield while spinning in the scheduler; seen once in about "
                       "1,400 runs here (runc directly under strace -f, noNewPrivileges false, "
                       "2026-11-23), never in plain runs; also reported for runc 1.1.5 under "
                       "podman in the project's validation notes",
        "nanosleep": "Go runtime: usleep (sysmon, spinning); " + VALIDATION,
        "tgkill": "Go runtime: asynchronous preemption signals a thread (its rt_sigreturn is "
                  "measured); " + VALIDATION,
        "epoll_pwait": "Go runtime: netpoll from an idle thread, and an error there makes the Go "
                       "runtime throw ('netpoll failed'); " + VALIDATION,
    },
}
ULIMITS = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768"]


def syscall_table():
    names = {}
    for path in ("/usr/include/x86_64-linux-gnu/asm/unistd_64.h", "/usr/include/asm/unistd_64.h"):
        if os.path.exists(path):
            for line in open(path):
                m = re.match(r"#define __NR_(\w+)\s+(\d+)", line)
                if m:
                    names[int(m.group(2))] = m.group(1)
            return names
    sys.exit("runtime_base: no asm/unistd_64.h (linux-libc-dev)")


NAMES = syscall_table()


def sh(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


# ---------------------------------------------------------------- environment

class Env:
    """A bundle (rootfs with the entrypoint) and a private podman store in DIR."""

    def __init__(self, d):
        self.d = d
        info = json.load(open(os.path.join(d, "env.json")))
        self.prog = info["prog"]
        self.image = info["image"]
        self.env = dict(os.environ, CONTAINERS_STORAGE_CONF=os.path.join(d, "storage.conf"),
                        CONTAINERS_CONF=os.path.join(d, "containers.conf"))

    def podman(self, args, **kw):
        return sh([PODMAN] + args, env=self.env, **kw)


def setup(d):
    os.makedirs(d, exist_ok=True)
    prog = "dgrb-" + "".join(random.choice(string.ascii_lowercase) for _ in range(6))
    root = os.path.join(d, "rootfs")
    os.makedirs(root, exist_ok=True)
    r = sh(["gcc", "-static", "-nostdlib", "-O2", "-o", os.path.join(root, prog), NOP_SRC])
    if r.returncode:
        sys.exit("runtime_base: gcc: " + r.stderr)
    with open(os.path.join(d, "storage.conf"), "w") as f:
        f.write('[storage]\ndriver = "vfs"\ngraphroot = "%s/podman/graph"\nrunroot = "%s/podman/run"\n' % (d, d))
    with open(os.path.join(d, "containers.conf"), "w") as f:
        f.write('[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nruntime = "runc"\n')
    # a strace wrapper podman can use as its runtime (podman passes no environment: fixed paths)
    for rt, binary in (("runc", RUNC), ("crun", CRUN or "/usr/bin/crun")):
        w = os.path.join(d, "wrap-" + rt)
        with open(w, "w") as f:
            f.write('#!/bin/sh\nfor a in "$@"; do [ "$a" = create ] && exec %s -D -f -qq -o %s/podman-trace %s "$@"; done\nexec %s "$@"\n'
                    % (STRACE, d, binary, binary))
        os.chmod(w, 0o755)
    image = "localhost/dg-rtbase:1"
    info = {"prog": prog, "image": image}
    json.dump(info, open(os.path.join(d, "env.json"), "w"))
    env = Env(d)
    if PODMAN:
        tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
        r = subprocess.run([PODMAN, "import", "-q", "-", image], stdin=tar.stdout, env=env.env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        tar.wait()
        if r.returncode:
            info["podman_error"] = r.stderr.strip()
            json.dump(info, open(os.path.join(d, "env.json"), "w"))
    return Env(d)


def bundle_config(env, seccomp, nnp):
    r = sh([RUNC, "spec", "--bundle", env.d]) if not os.path.exists(os.path.join(env.d, "spec.json")) else None
    if r is not None:
        os.rename(os.path.join(env.d, "config.json"), os.path.join(env.d, "spec.json"))
    c = json.load(open(os.path.join(env.d, "spec.json")))
    p = c["process"]
    p["terminal"] = False
    p["args"] = ["/" + env.prog]
    p["noNewPrivileges"] = nnp
    for k in ("bounding", "effective", "permitted"):
        p["capabilities"][k] = CAPS
    p["capabilities"].pop("ambient", None)
    c["linux"]["seccomp"] = seccomp
    with open(os.path.join(env.d, "config.json"), "w") as f:
        json.dump(c, f, indent=1)


def oci_seccomp(default, allow):
    s = {"defaultAction": default, "architectures": ["SCMP_ARCH_X86_64"], "syscalls": []}
    if allow:
        s["syscalls"].append({"names": sorted(allow), "action": "SCMP_ACT_ALLOW"})
    if default == "SCMP_ACT_ERRNO":
        s["defaultErrnoRet"] = 1
    return s


def docker_profile(default, allow):
    p = {"defaultAction": default, "architectures": ["SCMP_ARCH_X86_64"], "syscalls": []}
    if default == "SCMP_ACT_ERRNO":
        p["defaultErrnoRet"] = 1
    if allow:
        p["syscalls"].append({"names": sorted(allow), "action": "SCMP_ACT_ALLOW"})
    return p


def wait_trace(path, prog, limit=10.0):
    last, deadline = None, time.time() + limit
    while time.time() < deadline:
        try:
            text = open(path, errors="replace").read()
        except OSError:
            text = ""
        if text == last and re.search(r"\n\d+ \+\+\+ exited with \d+ \+\+\+\n$", text) and prog in text:
            return
        last = text
        time.sleep(0.2)


def run_container(env, runtime, via, nnp, default, allow, traced=False, pin=None, extra=()):
    """One start of the entrypoint. Returns (exit status, stderr, strace file or None)."""
    cid = "dgrb%d" % random.randrange(10**9)
    trace = None
    if via == "direct":
        bundle_config(env, oci_seccomp(default, allow), nnp)
        if runtime == "runc":
            cmd = [RUNC, "--root", os.path.join(env.d, "runc-state"), "run", "-b", env.d, cid]
        else:
            # crun 1.8 refuses hybrid cgroups: hide the cgroup2 mount in a private mount namespace
            cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                   'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$@"', "sh",
                   CRUN, "--root", os.path.join(env.d, "crun-state"), "run", "-b", env.d, cid]
        if traced:
            trace = os.path.join(env.d, "direct-trace")
            cmd = [STRACE, "-f", "-qq", "-o", trace] + cmd
        if pin is not None:
            cmd = ["taskset", "-c", pin] + cmd
        r = sh(cmd, timeout=60)
        return r.returncode, r.stderr, trace
    prof = os.path.join(env.d, "profile.json")
    json.dump(docker_profile(default, allow), open(prof, "w"))
    rt = RUNC if runtime == "runc" else CRUN
    if traced:
        trace = os.path.join(env.d, "podman-trace")
        if os.path.exists(trace):
            os.unlink(trace)
        rt = os.path.join(env.d, "wrap-" + runtime)
    cmd = [PODMAN, "--runtime", rt, "run", "--rm", "--network", "none", "--security-opt",
           "seccomp=" + prof] + ULIMITS
    if nnp:
        cmd += ["--security-opt", "no-new-privileges"]
    cmd += list(extra) + [env.image, "/" + env.prog]
    if runtime == "crun":
        cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c",
               'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$@"', "sh"] + cmd
    if pin is not None:
        cmd = ["taskset", "-c", pin] + cmd
    r = subprocess.run(cmd, env=env.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=120)
    if traced:  # strace -D outlives the runtime: wait until it wrote the entrypoint's end
        wait_trace(trace, env.prog)
    return r.returncode, r.stderr, trace


# ---------------------------------------------------------------- kernel log

class Kmsg:
    """Records of /dev/kmsg written after open()."""

    def __init__(self):
        self.fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
        os.lseek(self.fd, 0, os.SEEK_END)

    def read(self):
        out = []
        while True:
            try:
                rec = os.read(self.fd, 8192)
            except BlockingIOError:
                return out
            except BrokenPipeError:  # overwritten before we read it
                out.append("LOST")
                continue
            out.append(rec.decode("utf-8", "replace").split(";", 1)[-1])

    def close(self):
        os.close(self.fd)


AUDIT = re.compile(r"audit\((\d+\.\d+):(\d+)\): .*?\bpid=(\d+) comm=\"([^\"]*)\".* syscall=(\d+) ")


def logged_set(kmsg, prog, wait=3.0):
    """The syscalls the kernel logged for the process that ran PROG in this window."""
    recs, deadline = [], time.time() + wait
    while True:
        recs += kmsg.read()
        pids = {m.group(3) for m in map(AUDIT.search, recs) if m and m.group(4) == prog}
        done = any(m and m.group(4) == prog and m.group(5) == "231" for m in map(AUDIT.search, recs))
        if done or time.time() > deadline:
            break
        time.sleep(0.05)
    problems = []
    if "LOST" in recs:
        problems.append("kernel log records overwritten before read")
    serials = sorted(int(m.group(1)) for m in (re.search(r"audit\(\d+\.\d+:(\d+)\)", r) for r in recs) if m)
    serials = sorted(set(serials))
    if serials and serials[-1] - serials[0] + 1 != len(serials):
        problems.append("gap in audit serials %d..%d (%d records)" % (serials[0], serials[-1], len(serials)))
    for r in recs:
        if "audit_lost" in r or "backlog limit" in r or "callbacks suppressed" in r:
            problems.append("kernel: " + r.strip())
    if len(pids) != 1:
        problems.append("records of %d processes ran %s" % (len(pids), prog))
        return set(), problems
    pid = pids.pop()
    found = set()
    for m in map(AUDIT.search, recs):
        if m and m.group(3) == pid:
            found.add(NAMES.get(int(m.group(5)), "nr%s" % m.group(5)))
    if "execve" not in found or "exit_group" not in found:
        problems.append("no execve/exit_group of the entrypoint logged")
    return found, problems


# ---------------------------------------------------------------- strace witness

LINE = re.compile(r"^(\d+)\s+(?:(\w+)\((.*)|<\.\.\. (\w+) resumed>(.*))$")


def strace_cut(path, prog):
    """Syscalls the container process (all its threads) entered after its successful
    seccomp(SECCOMP_SET_MODE_FILTER) / prctl(PR_SET_SECCOMP), through the entrypoint."""
    lines = open(path, errors="replace").read().splitlines()
    group = {}  # tid -> thread group leader

    def leader(t):
        while t in group and group[t] != t:
            t = group[t]
        return t
    start, installer = None, None
    pending = {}
    for i, l in enumerate(lines):
        m = LINE.match(l)
        if not m:
            continue
        tid = int(m.group(1))
        if m.group(2):
            name, rest = m.group(2), m.group(3)
            if rest.endswith("<unfinished ...>"):
                pending[tid] = (name, rest)
                continue
        else:
            name, rest = m.group(4), pending.pop(tid, (m.group(4), ""))[1] + m.group(5)
        if name in ("clone", "clone3") and "CLONE_THREAD" in rest:
            r = re.search(r"= (\d+)\s*$", l)
            if r:
                group[int(r.group(1))] = leader(tid)
        if start is None and ((name == "seccomp" and "SECCOMP_SET_MODE_FILTER" in rest) or
                              (name == "prctl" and "PR_SET_SECCOMP" in rest)):
            r = re.search(r"= (-?\d+)", l)
            if r and int(r.group(1)) >= 0:
                start, installer = i, leader(tid)
    if start is None:
        return None
    found = set()
    for l in lines[start + 1:]:
        m = LINE.match(l)
        if not m or not m.group(2):  # a call resumed was entered before: not filtered
            continue
        if leader(int(m.group(1))) == installer:
            found.add(m.group(2))
    return found


# ---------------------------------------------------------------- measure

def measure(args):
    if os.geteuid() != 0:
        sys.exit("runtime_base: measure needs root")
    tmp = tempfile.mkdtemp(prefix="dg-rtbase.")
    ratelimit = open("/proc/sys/kernel/printk_ratelimit").read().strip()
    t0 = time.time()
    try:
        env = setup(tmp)
        with open("/proc/sys/kernel/printk_ratelimit", "w") as f:
            f.write("0")
        result = {"runtimes": {}, "unmeasurable": {}, "stability": {}, "witness": {}}
        for rt in args.runtimes.split(","):
            binary = RUNC if rt == "runc" else CRUN
            if not binary:
                result["unmeasurable"][rt] = "not installed"
                continue
            sets = {}
            for via in ("direct", "podman"):
                if via == "podman" and (not PODMAN or "podman_error" in json.load(open(os.path.join(tmp, "env.json")))):
                    continue
                for nnp in (False, True):
                    mode = "nnp_true" if nnp else "nnp_false"
                    case = "%s/%s/%s" % (rt, via, mode)
                    per_run, failures, witness_extra = [], [], set()
                    c0 = time.time()
                    hog = None
                    kinds = {}
                    for i in range(args.runs):
                        traced = i >= args.runs - args.traced and STRACE is not None
                        loaded = not traced and i >= args.runs - args.traced - args.loaded
                        if loaded and hog is None:  # a busy loop on CPU 0, the runtime pinned there too
                            hog = subprocess.Popen(["taskset", "-c", "0", "sh", "-c", "while :; do :; done"])
                        if not loaded and hog is not None:
                            hog.kill()
                            hog.wait()
                            hog = None
                        kind = "traced" if traced else "loaded" if loaded else "plain"
                        k = Kmsg()
                        try:
                            status, err, trace = run_container(env, rt, via, nnp, "SCMP_ACT_LOG", [], traced,
                                                               "0" if loaded else None)
                        except BaseException:
                            if hog is not None:
                                hog.kill()
                            raise
                        found, problems = logged_set(k, env.prog)
                        k.close()
                        if status != 0 or problems:
                            failures.append("run %d: exit %s %s %s" % (i, status, err.strip()[-300:], "; ".join(problems)))
                            if status != 0 and i == 0:
                                break
                            continue
                        per_run.append(found)
                        kinds.setdefault(kind, set()).update(found)
                        if traced and trace:
                            cut = strace_cut(trace, env.prog)
                            if cut is None:
                                failures.append("run %d: no seccomp filter installation in the trace" % i)
                            else:
                                witness_extra |= cut - found
                    if hog is not None:
                        hog.kill()
                        hog.wait()
                    secs = time.time() - c0
                    print("%-24s %2d runs ok of %d, %.1fs, union %d%s" % (
                        case, len(per_run), args.runs, secs,
                        len(set().union(*per_run)) if per_run else 0,
                        ("; failures: " + " | ".join(failures[:3])) if failures else ""),
                        file=sys.stderr)
                    if not per_run:
                        result["unmeasurable"][case] = failures[0] if failures else "no run"
                        continue
                    union = set().union(*per_run)
                    always = set.intersection(*per_run)
                    result["stability"][case] = {
                        "runs": len(per_run), "loaded_runs": args.loaded, "traced_runs": args.traced,
                        "union_by_kind": {kk: len(v) for kk, v in sorted(kinds.items())},
                        "only_in": {kk: sorted(v - set().union(*(w for k2, w in kinds.items() if k2 != kk)))
                                    for kk, v in sorted(kinds.items())},
                        "seconds": round(secs, 1),
                        "union": len(union), "in_every_run": len(always), "names": sorted(union),
                        "sometimes": {n: sum(n in s for s in per_run) for n in sorted(union - always)},
                        "failed_runs": failures}
                    result["witness"][case] = sorted(witness_extra)
                    sets.setdefault(mode, set()).update(union)
            if sets:
                for mode in sets:
                    sets[mode] |= set(ADDED.get(rt, {}))
                result["runtimes"][rt] = {m: sorted(s) for m, s in sorted(sets.items())}
        result["seconds"] = round(time.time() - t0, 1)
        return result
    finally:
        with open("/proc/sys/kernel/printk_ratelimit", "w") as f:
            f.write(ratelimit)
        if PODMAN:
            sh([PODMAN, "rm", "-a", "-f"], env=dict(os.environ, CONTAINERS_STORAGE_CONF=os.path.join(tmp, "storage.conf"),
                                                    CONTAINERS_CONF=os.path.join(tmp, "containers.conf")))
        shutil.rmtree(tmp, ignore_errors=True)


def version(cmd):
    try:
        return sh(cmd).stdout.splitlines()[0].strip()
    except (OSError, IndexError):
        return None


def write_data(args, result):
    doc = {
        "format": 1,
        "about": ("The container runtime's own syscalls on x86-64: what the runtime's init process "
                  "(all its threads) calls after it installs the container's seccomp filter, up to "
                  "and including the execve of the entrypoint, plus the entrypoint's exit_group "
                  "(a deny-by-default profile must allow these or the container cannot start). "
                  "runtimes.RUNTIME.nnp_false / nnp_true: sorted syscall names for "
                  "process.noNewPrivileges false (Docker's and podman's default) and true. "
                  "Each is the union of the measured runs plus the names in added (Go runtime calls too rare "
                  "to be caught reliably, each with its reason). "
                  "A runtime missing from runtimes was not measured: see unmeasurable. "
                  "Written by tests/tools/runtime_base.py measure; see data/README.md."),
        "measured": {
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "runc": version([RUNC, "--version"]),
            "crun": version([CRUN, "--version"]) if CRUN else None,
            "podman": version([PODMAN, "--version"]) if PODMAN else None,
            "kernel": os.uname().release,
            "how": ("defaultAction SCMP_ACT_LOG, no rules; kernel log (audit type=1326) records of the "
                    "container process; entrypoint: a static program whose only syscall is "
                    "exit_group(0); runs: %d per runtime, mode and way (runc/crun directly with "
                    "`run`, and through podman), %d of them pinned to CPU 0 next to a busy loop, %d "
                    "under strace -f (timing perturbed; the "
                    "strace output cut at the filter installation is a second witness); union over "
                    "all runs of a runtime and mode, plus the names of \"added\"" % (args.runs, args.loaded, args.traced)),
            "seconds": result["seconds"],
        },
        "runtimes": result["runtimes"],
        "added": {rt: dict(sorted(a.items())) for rt, a in ADDED.items() if rt in result["runtimes"]},
        "unmeasurable": result["unmeasurable"],
        "stability": result["stability"],
        "strace_only": result["witness"],
    }
    text = json.dumps(doc, indent=1, sort_keys=False) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output + ".tmp", "w") as f:
            f.write(text)
        os.rename(args.output + ".tmp", args.output)


# ---------------------------------------------------------------- check

def check(args):
    env = Env(args.dir)
    data = json.load(open(args.data))
    mode = "nnp_true" if args.nnp == "true" else "nnp_false"
    allow = set(data["runtimes"][args.runtime][args.mode_set or mode]) - set(args.drop)
    fails = 0
    for i in range(args.runs):
        status, err, _ = run_container(env, args.runtime, args.via, args.nnp == "true",
                                       "SCMP_ACT_ERRNO", allow, extra=args.podman_arg)
        if status != 0:
            fails += 1
            print("run %d: exit %d: %s" % (i, status, err.strip()[-400:]))
            if os.geteuid() == 0 and not args.no_diagnose:
                ratelimit = open("/proc/sys/kernel/printk_ratelimit").read().strip()
                with open("/proc/sys/kernel/printk_ratelimit", "w") as f:
                    f.write("0")
                try:
                    k = Kmsg()
                    run_container(env, args.runtime, args.via, args.nnp == "true", "SCMP_ACT_LOG", [],
                                  extra=args.podman_arg)
                    found, problems = logged_set(k, env.prog)
                    k.close()
                finally:
                    with open("/proc/sys/kernel/printk_ratelimit", "w") as f:
                        f.write(ratelimit)
                print("  same case with SCMP_ACT_LOG: not in the allowed set: %s%s" % (
                    " ".join(sorted(found - allow)) or "(none this time)",
                    (" [" + "; ".join(problems) + "]") if problems else ""))
    print("%d of %d runs exited 0" % (args.runs - fails, args.runs))
    return 0 if fails == 0 else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--runs", type=int, default=20)
    m.add_argument("--traced", type=int, default=5)
    m.add_argument("--loaded", type=int, default=10)
    m.add_argument("--runtimes", default="runc,crun")
    m.add_argument("-o", "--output", default="-")
    s = sub.add_parser("setup")
    s.add_argument("dir")
    c = sub.add_parser("check")
    c.add_argument("dir")
    c.add_argument("--runtime", default="runc")
    c.add_argument("--via", choices=["direct", "podman"], default="direct")
    c.add_argument("--nnp", choices=["true", "false"], default="false")
    c.add_argument("--data", required=True)
    c.add_argument("--drop", action="append", default=[])
    c.add_argument("--runs", type=int, default=10)
    c.add_argument("--mode-set", choices=["nnp_false", "nnp_true"],
                   help="allow this mode's set instead of the one --nnp implies")
    c.add_argument("--podman-arg", action="append", default=[],
                   help="one more argument of podman run (before the image)")
    c.add_argument("--no-diagnose", action="store_true",
                   help="on a failure, do not re-run with SCMP_ACT_LOG")
    a = ap.parse_args()
    if a.cmd == "measure":
        write_data(a, measure(a))
        return 0
    if a.cmd == "setup":
        env = setup(a.dir)
        info = json.load(open(os.path.join(a.dir, "env.json")))
        if "podman_error" in info:
            print("podman: " + info["podman_error"], file=sys.stderr)
            return 3
        return 0
    return check(a)


if __name__ == "__main__":
    sys.exit(main())
