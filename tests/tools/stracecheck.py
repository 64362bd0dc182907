#!/usr/bin/env python3
"""Ground truth for `dockergate syscalls`: run real programs under strace inside a root
filesystem and check that every system call each executable really made is in the set
dockergate computed for it (observed ⊆ computed).

  stracecheck.py [--dg DOCKERGATE] [--save FILE] [--only SUBSTR] [--list] ROOT IMAGE

ROOT is a root filesystem runnable with chroot (tests/tools/realimage.sh apps), IMAGE the same
files as an image (apps.tar). Every case runs as
    timeout 20 strace -f -qq -s 4096 -o TRACE chroot ROOT BIN ARGS...
inside a private mount and network namespace (proc on ROOT/proc, the host's /dev on ROOT/dev,
tmpfs on ROOT/tmp and the other directories the programs write, loopback up), so nothing is
left in ROOT and no port is shared with the host. Syscalls are attributed per process to the
executable it runs: a child keeps its parent's executable until it execs, a successful execve
belongs to the program that called it (the image it replaces), and everything chroot does,
including its execve of BIN (the container runtime's part), is left out. A script's syscalls
go to its interpreter.

Without --dg, prints the observed sets only. With it, asks `DOCKERGATE syscalls IMAGE PATH...
--json` once for every executable seen and prints TAP: one line per case (it ran as expected)
and one per executable (observed ⊆ computed; the counts, observed/computed and the missing
names), then the totals. restart_syscall is reported but not required: the kernel makes it on
a signal return, no program code contains it. Prints "1..0 # SKIP" when strace or chroot
cannot run here (not root, no ptrace).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

CASE_TIMEOUT = 20
ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root",
       "LANG": "C.UTF-8", "TERM": "dumb"}
# made by the kernel itself (signal return into an interrupted syscall), never by program code
IMPLICIT = {"restart_syscall"}
RUNTIME = "<runtime>"

NGINX_CONF = r"""
user www-data;
worker_processes 2;
pid /tmp/nginx.pid;
error_log /tmp/nginx-error.log;
events { worker_connections 64; }
http {
    include /etc/nginx/mime.types;
    access_log /tmp/nginx-access.log;
    client_body_temp_path /tmp/nb; proxy_temp_path /tmp/np; fastcgi_temp_path /tmp/nf;
    uwsgi_temp_path /tmp/nu; scgi_temp_path /tmp/ns;
    server {
        listen 127.0.0.1:8080;
        root /etc;
        location / { autoindex on; }
        location /gz { gzip on; gzip_types *; alias /etc/; }
    }
}
"""

PY_SCRIPT = r"""
import os, json, socket, subprocess, threading, tempfile, time, select, hashlib, sqlite3, signal
d = tempfile.mkdtemp(dir="/tmp")
p = os.path.join(d, "f.json")
with open(p, "w") as f:
    json.dump({"a": [1, 2, 3], "env": dict(os.environ)}, f)
with open(p) as f:
    data = json.load(f)
os.rename(p, p + ".2"); os.chmod(p + ".2", 0o600); os.stat(p + ".2"); os.listdir(d)
res = []
def work(i):
    res.append(hashlib.sha256(str(i).encode()).hexdigest())
    time.sleep(0.01)
ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
a, b = socket.socketpair(); a.sendall(b"ping"); select.select([b], [], [], 1); b.recv(4); a.close(); b.close()
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(1)
c = socket.create_connection(s.getsockname()); conn, _ = s.accept(); c.send(b"x"); conn.recv(1)
c.close(); conn.close(); s.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.sendto(b"x", ("127.0.0.1", 9)); u.close()
out = subprocess.run(["/bin/ls", "-l", "/"], capture_output=True, check=True).stdout
subprocess.run("echo hi | tr a-z A-Z", shell=True, check=True, stdout=subprocess.DEVNULL)
db = sqlite3.connect(os.path.join(d, "db")); db.execute("create table t(x)"); db.execute("insert into t values (1)"); db.commit(); db.close()
signal.signal(signal.SIGUSR1, lambda *a: None); os.kill(os.getpid(), signal.SIGUSR1)
print(len(out), len(res), os.getpid() > 0, data["a"])
"""

REDIS = r"""
redis-server --port 0 --unixsocket /tmp/redis.sock --dir /tmp --daemonize no --save '' \
    --logfile /tmp/redis.log &
i=0; until redis-cli -s /tmp/redis.sock ping >/dev/null 2>&1; do i=$((i+1)); [ $i -gt 100 ] && exit 1; sleep 0.1; done
redis-cli -s /tmp/redis.sock set k v && redis-cli -s /tmp/redis.sock get k &&
redis-cli -s /tmp/redis.sock lpush l a b c && redis-cli -s /tmp/redis.sock lrange l 0 -1 &&
redis-cli -s /tmp/redis.sock bgsave && sleep 0.5 && redis-cli -s /tmp/redis.sock info server | head -3 &&
redis-cli -s /tmp/redis.sock shutdown nosave; wait
"""

NGINX_RUN = r"""
nginx -c /tmp/nginx.conf -g 'daemon off;' &
i=0; until curl -sf -o /dev/null http://127.0.0.1:8080/; do i=$((i+1)); [ $i -gt 100 ] && exit 1; sleep 0.1; done
curl -s http://127.0.0.1:8080/os-release | head -1 && curl -s -H 'Accept-Encoding: gzip' --compressed http://127.0.0.1:8080/gz/passwd | head -1 &&
curl -s -o /dev/null -w '%{http_code}\n' http://127.0.0.1:8080/nothere
nginx -c /tmp/nginx.conf -s quit; wait
"""

SETUP_FILES = "mkdir -p /tmp/w/d/e && cp /etc/os-release /etc/passwd /tmp/w/d/ && echo hello world >/tmp/w/d/e/f && seq 1 2000 >/tmp/w/n"

# (id, argv inside the root, stdin bytes or None, setup shell script or None, expected exit status)
CASES = [
    ("true", ["/bin/true"], None, None, 0),
    ("ls-la", ["/bin/ls", "-la", "/"], None, None, 0),
    ("ls-R", ["/bin/ls", "-R", "/etc"], None, None, 0),
    ("ls-color", ["/usr/bin/ls", "-lZ", "--color=always", "-i", "--time-style=full-iso", "/usr/bin/ls", "/tmp"], None, None, 0),
    ("cat", ["/bin/cat", "/etc/os-release", "-", "/etc/passwd"], b"from stdin\n", None, 0),
    ("coreutils-files", ["/bin/sh", "-c",
        "cd /tmp/w && mkdir -p x/y && cp -a d x/ && mv x/d x/z && ln -s z x/l && ln x/z/passwd x/hl && "
        "chmod -R go-w x && touch -d @0 x/z/passwd && stat x/z/passwd >/dev/null && du -s x >/dev/null && "
        "df / >/dev/null; readlink -f x/l && rm -r x && mktemp -d && dd if=/dev/zero of=z bs=4k count=4 2>/dev/null && "
        "sync && truncate -s 1 z && wc -c z && sort -n -r n | head -3 && tail -n 2 n && cut -d: -f1 /etc/passwd | sort | uniq -c && "
        "id && uname -a && date -u +%s >/dev/null && env | sort >/dev/null && sleep 0.05 && nproc && md5sum n && sha256sum n && "
        "od -c /etc/hostname 2>/dev/null | head -1; tee t <n >/dev/null && install -m 644 t t2 && shred -u t2 && printf '%s\\n' ok"],
        None, SETUP_FILES, 0),
    ("tar-cz", ["/bin/tar", "-czf", "/tmp/w/a.tgz", "-C", "/tmp/w", "d"], None, SETUP_FILES, 0),
    ("tar-xz", ["/bin/tar", "-xzvf", "/tmp/w/a.tgz", "-C", "/tmp/w/out"], None,
        SETUP_FILES + " && tar -czf /tmp/w/a.tgz -C /tmp/w d && mkdir /tmp/w/out", 0),
    ("tar-tv", ["/bin/tar", "-tvf", "/tmp/w/a.tar"], None, SETUP_FILES + " && tar -cf /tmp/w/a.tar -C /tmp/w d", 0),
    ("gzip-9", ["/bin/gzip", "-9", "/tmp/w/n"], None, SETUP_FILES, 0),
    ("gzip-c", ["/bin/gzip", "-c"], b"x" * 100000, None, 0),
    ("gunzip", ["/bin/gunzip", "/tmp/w/n.gz"], None, SETUP_FILES + " && gzip /tmp/w/n", 0),
    ("zcat", ["/bin/zcat", "/tmp/w/n.gz"], None, SETUP_FILES + " && gzip /tmp/w/n", 0),
    ("grep-r", ["/bin/grep", "-r", "-n", "root", "/etc"], None, None, 0),
    ("grep-E", ["/bin/grep", "-E", "-c", "^[0-9]+7$", "/tmp/w/n"], None, SETUP_FILES, 0),
    ("grep-none", ["/bin/grep", "-q", "nothere", "/etc/passwd"], None, None, 1),
    ("sed-i", ["/bin/sed", "-i", "-e", "s/root/ROOT/g", "/tmp/w/d/passwd"], None, SETUP_FILES, 0),
    ("sed-n", ["/bin/sed", "-n", "/^ID=/p", "/etc/os-release"], None, None, 0),
    ("find-exec", ["/usr/bin/find", "/etc", "-type", "f", "-name", "*.conf", "-exec", "cat", "{}", "+"], None, None, 0),
    ("find-exec1", ["/usr/bin/find", "/tmp/w", "-type", "f", "-exec", "wc", "-l", "{}", ";"], None, SETUP_FILES, 0),
    ("find-delete", ["/usr/bin/find", "/tmp/w", "-depth", "-newer", "/etc/passwd", "-name", "n", "-delete", "-o", "-type", "d", "-print"], None, SETUP_FILES, 0),
    ("xargs", ["/usr/bin/xargs", "-n", "2", "/bin/echo"], b"a b c d e\n", None, 0),
    ("bash-pipe", ["/bin/bash", "-c",
        "set -o pipefail; for i in 1 2 3; do echo $i; done | sort -r | head -1; x=$(ls /); echo ${#x}; "
        "cat /etc/passwd | wc -l >/tmp/o; read a </tmp/o; echo $a; f() { local v=$1; echo $((v*2)); }; f 21; "
        "arr=(a b c); echo ${arr[@]}; [[ -f /etc/passwd ]] && echo yes; (cd /etc && pwd); echo $(( RANDOM >= 0 )); "
        "trap 'echo trapped' USR1; kill -USR1 $$; wait; ulimit -n >/dev/null; type ls >/dev/null; "
        "coproc cat; echo co >&${COPROC[1]}; exec {COPROC[1]}>&-; read -u ${COPROC[0]} line; echo $line; wait"],
        None, None, 0),
    ("bash-script", ["/bin/bash", "/tmp/s.sh", "arg"], None,
        "printf '#!/bin/bash\\nset -e\\nshopt -s nullglob\\nfor f in /etc/*.conf; do [ -r \"$f\" ] && n=$((n+1)); done\\n"
        "echo $n $1 >&2\\ntime sleep 0.01\\nread -t 0.1 x </dev/null || true\\nprintf -v y %%05d 42; echo $y\\n' >/tmp/s.sh", 0),
    ("bash-i", ["/bin/bash", "-i"], b"echo interactive\nhistory | tail -1\ncd /tmp\nexit 0\n", None, 0),
    ("dash", ["/bin/dash", "-c", "for i in a b; do echo $i; done | cat; x=$(echo sub); echo $x; cd /etc; echo $PWD; "
              "umask 077; : >/tmp/d1; test -s /tmp/d1 || echo empty; trap 'echo t' EXIT; exit 0"], None, None, 0),
    ("sh-redir", ["/bin/sh", "-c", "exec 3>/tmp/f; echo hi >&3; exec 3>&-; cat </tmp/f 2>/dev/null; echo err 1>&2 2>/dev/null; "
                  "cat <<EOF\nheredoc $HOME\nEOF\n{ echo a; echo b; } >>/tmp/f; wc -l </tmp/f; ls /nonexistent 2>&1 | cat; "
                  "echo x >/dev/null & wait"], None, None, 0),
    ("script-shebang", ["/tmp/run.sh"], None, "printf '#!/bin/sh\\necho from script; /bin/echo done\\n' >/tmp/run.sh && chmod 755 /tmp/run.sh", 0),
    ("python-io", ["/usr/bin/python3", "-c", PY_SCRIPT], None, None, 0),
    ("python-json", ["/usr/bin/python3", "-m", "json.tool", "--sort-keys"], b'{"b": 1, "a": [1, 2]}', None, 0),
    ("python-S", ["/usr/bin/python3", "-S", "-c", "import sys; print(sys.version)"], None, None, 0),
    ("python-compile", ["/usr/bin/python3", "-c", "import compileall, sys; sys.exit(not compileall.compile_dir('/tmp/w', quiet=1))"], None,
        SETUP_FILES + " && printf 'x = 1\\n' >/tmp/w/m.py", 0),
    ("nginx-V", ["/usr/sbin/nginx", "-V"], None, None, 0),
    ("nginx-t", ["/usr/sbin/nginx", "-t", "-c", "/tmp/nginx.conf"], None, "cat >/tmp/nginx.conf <<'EOF'\n" + NGINX_CONF + "\nEOF", 0),
    ("nginx-curl", ["/bin/sh", "-c", NGINX_RUN], None, "cat >/tmp/nginx.conf <<'EOF'\n" + NGINX_CONF + "\nEOF", 0),
    ("redis-version", ["/usr/bin/redis-server", "--version"], None, None, 0),
    ("redis-cli-version", ["/usr/bin/redis-cli", "--version"], None, None, 0),
    ("redis-run", ["/bin/sh", "-c", REDIS], None, None, 0),
    ("curl-file", ["/usr/bin/curl", "-sS", "file:///etc/os-release"], None, None, 0),
    ("curl-refused", ["/usr/bin/curl", "-sS", "-m", "5", "http://127.0.0.1:1/"], None, None, 7),
    ("openssl-sha256", ["/usr/bin/openssl", "sha256", "/etc/passwd"], None, None, 0),
    ("openssl-genrsa", ["/usr/bin/openssl", "genrsa", "-out", "/tmp/k.pem", "2048"], None, None, 0),
    ("openssl-req", ["/usr/bin/openssl", "req", "-x509", "-new", "-key", "/tmp/k.pem", "-subj", "/CN=test", "-days", "1", "-out", "/tmp/c.pem"],
        None, "openssl genrsa -out /tmp/k.pem 2048 2>/dev/null", 0),
    ("openssl-enc", ["/usr/bin/openssl", "enc", "-aes-256-cbc", "-pbkdf2", "-k", "secret", "-in", "/etc/passwd", "-out", "/tmp/e"], None, None, 0),
    ("openssl-rand", ["/usr/bin/openssl", "rand", "-hex", "16"], None, None, 0),
    ("busybox-ls", ["/bin/busybox", "ls", "-la", "/"], None, None, 0),
    ("busybox-sh", ["/bin/busybox", "sh", "-c", "for i in 1 2; do echo $i; done | busybox sort -r; x=$(busybox cat /etc/hostname 2>&1); "
                    "busybox mkdir -p /tmp/bb/x && busybox rmdir /tmp/bb/x; busybox ps >/dev/null; busybox find /etc -name '*.conf' | busybox wc -l; "
                    "echo abc | busybox sed s/b/B/ | busybox awk '{print toupper($0)}'; busybox tar -czf /tmp/bb.tgz /etc/os-release 2>/dev/null; "
                    "busybox tar -tzf /tmp/bb.tgz; busybox sha256sum /etc/passwd; busybox id; busybox uname -a; busybox date >/dev/null"],
        None, None, 0),
    ("sleep-stop", ["/bin/sh", "-c", "sleep 0.6 & p=$!; sleep 0.2; kill -STOP $p; sleep 0.1; kill -CONT $p; wait $p"], None, None, 0),
    ("mawk", ["/usr/bin/mawk", "-F:", "{n[$7]++} END {for (s in n) print s, n[s]}", "/etc/passwd"], None, None, 0),
]


class Trace:
    """Parses one `strace -f -qq -s N -o FILE` output into per-executable syscall sets."""
    LINE = re.compile(r"^(\d+)\s+(.*)$")
    CALL = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*|\?\?\?)\((.*)$")
    RESUMED = re.compile(r"^<\.\.\. ([A-Za-z_][A-Za-z0-9_]*|\?\?\?) resumed>(.*)$")
    RESULT = re.compile(r"\)\s+=\s+(\S+)(?:\s.*)?$")
    SUPERSEDED = re.compile(r"^\+\+\+ superseded by execve in pid (\d+) \+\+\+")
    STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')

    def __init__(self, text, resolve):
        self.resolve = resolve  # path inside the root -> (canonical executable path, note)
        self.calls = []         # (index, pid, name)
        self.execs = {}         # pid -> [(index, executable)]
        self.parent = {}        # child pid -> (parent pid, index of the clone's result)
        self.first = None       # the pid chroot runs as
        self.first_exec = None  # the runtime's execve of BIN (line text)
        self.first_path = None
        self.aliases = {}       # executable -> the other paths it was exec'd by
        self.unparsed = []
        self.notes = []
        pending = {}            # pid -> (name, args) of an unfinished call
        self.stacks = {}        # index of a call's first line -> its stack (strace -k), innermost first
        last = None             # the call the previous line belongs to
        for i, line in enumerate(text.splitlines()):
            if line.startswith(" > "):
                if last is not None:
                    self.stacks.setdefault(last, []).append(line[3:].strip())
                continue
            last = None
            m = self.LINE.match(line)
            if not m:
                if line.strip():
                    self.unparsed.append(line)
                continue
            pid, rest = int(m.group(1)), m.group(2)
            if self.first is None:
                self.first = pid
            if rest.startswith("+++") or rest.startswith("---"):
                s = self.SUPERSEDED.match(rest)
                if s and int(s.group(1)) in pending:  # a thread's execve: it takes over the leader's pid
                    pending[pid] = pending.pop(int(s.group(1)))
                continue
            if rest.startswith("<..."):
                r = self.RESUMED.match(rest)
                if not r or pid not in pending:
                    self.unparsed.append(line)
                    continue
                name, args, last = pending.pop(pid)
                args += r.group(2)
                if last in self.stacks:
                    last = None  # one stack per call
            else:
                c = self.CALL.match(rest)
                if not c:
                    self.unparsed.append(line)
                    continue
                name, args = c.group(1), c.group(2)
                if name == "???":  # strace could not read the number (a process dying mid-call)
                    self.notes.append(f"strace could not name a syscall: {line[:120]}")
                else:
                    self.calls.append((i, pid, name))
                last = i
                if args.endswith("<unfinished ...>"):
                    pending[pid] = (name, args[: -len("<unfinished ...>")], i)
                    continue
            res = self.RESULT.search(args)
            ret = res.group(1) if res else "?"
            if name in ("execve", "execveat") and ret == "0":
                strs = self.STRING.findall(args)
                path = strs[0] if strs else "?"
                path = path.encode("latin-1", "backslashreplace").decode("unicode_escape")
                if pid == self.first and pid not in self.execs:
                    exe = RUNTIME   # strace starting chroot
                elif pid == self.first and len(self.execs[pid]) == 1:
                    exe = RUNTIME   # chroot's execve of BIN: its syscalls so far are the runtime's
                    self.first_exec = line
                    self.first_path = path
                    self.execs[pid].append((i, RUNTIME))
                    self.execs[pid].append((i + 0.5, self.exe_of(path, pid)))  # BIN from the next line on
                    continue
                else:
                    exe = self.exe_of(path, pid)
                self.execs.setdefault(pid, []).append((i, exe))
            elif name in ("clone", "clone3", "fork", "vfork") and re.fullmatch(r"\d+", ret) and int(ret) > 0:
                self.parent[int(ret)] = (pid, i)

    def exe_of(self, path, pid):
        m = re.fullmatch(r"/proc/(self|\d+)/exe", path)
        if m:  # busybox re-executing itself: resolved later, when the process tree is known
            return ("proc-exe", pid if m.group(1) == "self" else int(m.group(1)))
        exe, note = self.resolve(path)
        if note:
            self.notes.append(note)
        if path != exe:
            self.aliases.setdefault(exe, set()).add(path)
        return exe

    def exe_at(self, pid, index, depth=0):
        """The executable pid runs when the syscall starting at line index is made."""
        exe = None
        for j, e in self.execs.get(pid, []):
            if j < index:  # an execve belongs to the image it replaces: strictly before
                exe = e if not isinstance(e, tuple) else self.exe_at(e[1], j, depth + 1)
        if exe is not None:
            return exe
        if pid in self.parent and depth < 1000:
            ppid, j = self.parent[pid]
            return self.exe_at(ppid, j + 1, depth + 1)
        return RUNTIME

    def where(self, exe, names, root):
        """For each name, the distinct innermost frames (strace -k) of exe's calls of it."""
        out = {}
        for i, pid, name in self.calls:
            if name in names and self.exe_at(pid, i) == exe and i in self.stacks:
                st = [f.replace(root, "") for f in self.stacks[i][:3]]
                out.setdefault(name, {}).setdefault(st[0], " < ".join(st))
        return out

    def by_executable(self):
        out = {}
        for i, pid, name in self.calls:
            exe = self.exe_at(pid, i)
            out.setdefault(exe, set()).add(name)
        out.pop(RUNTIME, None)
        return out


SELFTEST = r"""
100 execve("/usr/sbin/chroot", ["chroot", "/r", "/bin/sh"], 0x1 /* 4 vars */) = 0
100 chroot("/r")                        = 0
100 execve("/usr/local/bin/sh", ["/bin/sh"], 0x1 /* 4 vars */) = -1 ENOENT (No such file or directory)
100 execve("/bin/sh", ["/bin/sh", "-c", "x"], 0x1 /* 4 vars */) = 0
100 brk(NULL)                           = 0x55
100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD <unfinished ...>
101 set_robust_list(0x7f, 24 <unfinished ...>
100 <... clone resumed>, child_tidptr=0x7f) = 101
101 <... set_robust_list resumed>)      = 0
101 execve("/bin/gunzip", ["gunzip", "f.gz"], 0x1 /* 4 vars */) = 0
101 vfork( <unfinished ...>
102 execve("/proc/self/exe", ["gzip", "-d"], 0x1 /* 4 vars */ <unfinished ...>
101 <... vfork resumed>)                = 102
102 <... execve resumed>)               = 0
102 unlinkat(AT_FDCWD, "f.gz", 0)       = 0
102 +++ exited with 0 +++
101 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=102, si_status=0} ---
101 restart_syscall(<... resuming interrupted wait4 ...>) = 0
100 clone3({flags=CLONE_VM|CLONE_THREAD, ...}, 88 <unfinished ...>
103 rseq(0x7f, 0x20, 0, 0x53053053)     = 0
100 <... clone3 resumed> => {parent_tid=[103]}, 88) = 103
103 write(1, "a) = 4\n", 6)           = 6
103 execve("/usr/bin/true", ["true"], 0x1 /* 4 vars */ <unfinished ...>
100 +++ superseded by execve in pid 103 +++
100 <... execve resumed>)               = 0
100 exit_group(0)                       = ?
100 +++ exited with 0 +++
"""
SELFTEST_WANT = {  # /proc/self/exe re-executes gzip; the thread 103 exec'ing takes over pid 100
    "/usr/bin/sh": {"brk", "clone", "clone3", "execve", "set_robust_list", "rseq", "write"},
    "/usr/bin/gzip": {"execve", "vfork", "unlinkat", "restart_syscall"},
    "/usr/bin/true": {"exit_group"},
}


def selftest():
    """The parser on a hand-written trace: forks, threads, scripts, unfinished calls."""
    links = {"/bin/sh": "/usr/bin/sh", "/bin/gunzip": "/usr/bin/gzip", "/usr/bin/true": "/usr/bin/true"}
    t = Trace(SELFTEST, lambda p: (links.get(p, p), None))
    got = t.by_executable()
    return got == SELFTEST_WANT and not t.unparsed and t.first_exec.startswith("100 execve(\"/bin/sh\""), \
        f"got {got}, unparsed {t.unparsed}"


def syscall_table():
    """x86-64 syscall names -> numbers, from the kernel headers (asm/unistd_64.h)."""
    for p in ("/usr/include/x86_64-linux-gnu/asm/unistd_64.h", "/usr/include/asm/unistd_64.h"):
        if os.path.exists(p):
            t = {}
            for line in open(p):
                m = re.match(r"#define __NR_(\w+)\s+(\d+)", line)
                if m:
                    t[m.group(1)] = int(m.group(2))
            return t
    return None


class Root:
    def __init__(self, root):
        self.root = os.path.realpath(root)

    def canonical(self, path):
        """Follows symlinks as the kernel would inside the root; returns the path inside it."""
        parts = [p for p in path.split("/") if p]
        done = []
        hops = 0
        while parts:
            p = parts.pop(0)
            if p == ".":
                continue
            if p == "..":
                if done:
                    done.pop()
                continue
            host = os.path.join(self.root, *done, p)
            if os.path.islink(host) and hops < 40:
                hops += 1
                t = os.readlink(host)
                if t.startswith("/"):
                    done = []
                parts = [x for x in t.split("/") if x] + parts
                continue
            done.append(p)
        return "/" + "/".join(done)

    def executable(self, path):
        """What runs when path is exec'd: the file, or a script's interpreter (recursively)."""
        note = None
        if not path.startswith("/"):
            note = f"relative execve path {path!r} taken relative to /"
        c = self.canonical(path)
        for _ in range(4):
            try:
                with open(os.path.join(self.root, c.lstrip("/")), "rb") as f:
                    head = f.read(256)
            except OSError:
                return c, f"cannot read {c} in the root"
            if not head.startswith(b"#!"):
                return c, note
            interp = head[2:].split(b"\n")[0].strip().split()[0].decode("utf-8", "replace")
            c = self.canonical(interp)
        return c, note


def mount_namespace(root):
    """Runs in a private mount (and network) namespace: proc, /dev and tmpfs over the
    directories the programs write; all of it disappears with the process."""
    def sh(*a):
        subprocess.run(a, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sh("mount", "--make-rprivate", "/")
    sh("mount", "-t", "proc", "proc", os.path.join(root, "proc"))
    sh("mount", "--rbind", "/dev", os.path.join(root, "dev"))
    if os.path.isdir(os.path.join(root, "sys")):  # runc reads the cgroup root (a container has /sys)
        sh("mount", "--rbind", "/sys", os.path.join(root, "sys"))
    for d in ("tmp", "run", "var/log", "var/lib/nginx", "var/lib/redis", "root"):
        p = os.path.join(root, d)
        if os.path.isdir(p) and not os.path.islink(p):
            sh("mount", "-t", "tmpfs", "-o", "mode=1777" if d == "tmp" else "mode=755", "tmpfs", p)
    import fcntl, socket, struct
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as so:  # loopback up (ip link set lo up)
        fcntl.ioctl(so, 0x8914, struct.pack("16sH14x", b"lo", 0x1 | 0x8 | 0x40))  # SIOCSIFFLAGS: UP|LOOPBACK|RUNNING


# never run by the sweep, whatever their arguments
SWEEP_SKIP = {"halt", "reboot", "poweroff", "shutdown", "init", "telinit", "runlevel", "kexec", "killall5",
              "swapoff", "swapon", "mkswap", "mkfs", "fsck", "sulogin", "login", "agetty", "getty"}
SWEEP_TIMEOUT = 5


def sweep_cases(root):
    """(id, argv, stdin, setup, expected exit status or None: any) for every ELF program."""
    out = []
    for d in ("usr/bin", "usr/sbin"):
        base = os.path.join(root, d)
        for f in sorted(os.listdir(base)) if os.path.isdir(base) else []:
            p = os.path.join(base, f)
            if f in SWEEP_SKIP or os.path.islink(p) or not os.path.isfile(p):
                continue
            with open(p, "rb") as fh:
                if fh.read(4) != b"\x7fELF":
                    continue
            for arg in ("--version", "--help"):
                out.append((f"sweep:{f}{arg}", [f"/{d}/{f}", arg], b"", None, None))
    return out


def run_case(root, case, tmp, stacks=False):
    cid, argv, stdin, setup, want_rc = case
    limit = SWEEP_TIMEOUT if cid.startswith("sweep:") else CASE_TIMEOUT
    for e in os.listdir(os.path.join(root, "tmp")):  # a tmpfs of this namespace
        p = os.path.join(root, "tmp", e)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p, ignore_errors=True)
        else:
            os.unlink(p)
    if setup:
        r = subprocess.run(["chroot", root, "/bin/sh", "-c", setup], env=ENV, capture_output=True)
        if r.returncode != 0:
            return None, f"setup failed ({r.returncode}): {r.stderr.decode(errors='replace')[-300:]}"
    trace = os.path.join(tmp, cid + ".trace")
    t0 = time.time()
    try:
        r = subprocess.run(["timeout", "-k", "2", str(limit), "strace", "-f", "-qq", "-s", "4096"] + (["-k"] if stacks else []) + ["-o", trace,
                            "chroot", root] + argv, env=ENV, input=stdin if stdin is not None else b"",
                           capture_output=True, timeout=limit + 10)
    except subprocess.TimeoutExpired:
        return None, "hung"
    dt = time.time() - t0
    if r.returncode == 124:
        return None, f"timed out after {limit}s"
    with open(trace, errors="replace") as f:
        text = f.read()
    msg = None
    if want_rc is not None and r.returncode != want_rc:
        msg = (f"exit status {r.returncode}, expected {want_rc}: "
               + (r.stderr.decode(errors="replace")[-400:] or r.stdout.decode(errors="replace")[-200:]).replace("\n", " | "))
    return (text, dt), msg


def where_made(root, cases, exe, names, R):
    """Runs the cases again under strace -k: where in the code exe made each of names."""
    if subprocess.run(["strace", "-k", "-o", "/dev/null", "true"], capture_output=True).returncode != 0:
        return ["(strace -k is not available here: no stacks)"]
    out = {}
    tmp = tempfile.mkdtemp(prefix="dg-strace-k.")
    try:
        for case in cases:
            res, _ = run_case(root, case, tmp, stacks=True)
            if res is None:
                continue
            for name, frames in Trace(res[0], R.executable).where(exe, names, root).items():
                for top, st in frames.items():
                    out.setdefault(name, {}).setdefault(top, st)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lines = []
    for name in sorted(names):
        for st in list(out.get(name, {}).values())[:3]:
            lines.append(f"{name} made at {st}")
    return lines


def can_trace():
    if os.geteuid() != 0:
        return "not root (chroot and the namespaces need it)"
    if not shutil.which("strace"):
        return "strace is not installed"
    r = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "true"], capture_output=True)
    if r.returncode != 0:
        return "strace cannot trace here: " + r.stderr.decode(errors="replace").strip()[:200]
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root")
    ap.add_argument("image")
    ap.add_argument("--dg", help="the dockergate binary; without it only the observed sets are printed")
    ap.add_argument("--save", help="write the observed sets (and per-case details) as JSON here")
    ap.add_argument("--only", help="run only the cases whose id contains this")
    ap.add_argument("--sweep", action="store_true",
                    help="also run every ELF program of ROOT's /usr/bin and /usr/sbin with --version and with "
                         "--help (in a private PID namespace as well; programs that stop or reboot a system are left out)")
    ap.add_argument("--list", action="store_true", help="list the cases")
    ap.add_argument("--cases", choices=["apps", "go"], default="apps",
                    help="apps (default): the cases above, for realimage.sh apps; go: the Go programs' "
                    "workloads of gocases.py, for realimage.sh goapps")
    a = ap.parse_args()
    if a.cases == "go":
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import gocases
        CASES[:] = gocases.CASES
        global CASE_TIMEOUT
        CASE_TIMEOUT = 120  # servers starting under strace -f: many threads, each stop traced
    if a.list:
        for c in CASES:
            print(c[0], " ".join(c[1])[:100].replace("\n", " "))
        return 0
    ok_, msg = selftest()
    if not ok_:
        print(f"not ok 1 - strace: the trace parser passes its self-test\n#   {msg}\n1..1")
        return 1
    why = can_trace()
    if why:
        print(f"1..0 # SKIP {why}")
        return 0
    root = os.path.realpath(a.root)
    if not os.environ.get("DG_STRACECHECK_NS"):
        # everything below runs in private namespaces (see mount_namespace)
        os.environ["DG_STRACECHECK_NS"] = "1"
        tries = (["--mount", "--net", "--pid", "--fork", "--mount-proc"],) if a.sweep else \
            (["--mount", "--net", "--pid", "--fork", "--mount-proc"], ["--mount", "--net"], ["--mount"])
        for flags in tries:
            if subprocess.run(["unshare"] + flags + ["true"], capture_output=True).returncode == 0:
                return subprocess.run(["unshare"] + flags + [sys.executable] + sys.argv).returncode
        print("1..0 # SKIP unshare --mount" + (" --pid (needed by --sweep)" if a.sweep else "") + " fails here")
        return 0
    try:
        mount_namespace(root)
    except subprocess.CalledProcessError as e:
        print(f"1..0 # SKIP cannot prepare the root in a private mount namespace: {e.stderr.decode(errors='replace')}")
        return 0

    R = Root(root)
    table = syscall_table()
    cases = [c for c in CASES + (sweep_cases(root) if a.sweep else []) if not a.only or a.only in c[0]]
    swept = {"ran": 0, "timed out": 0, "programs": set()}
    n = failed = 0

    def tap(ok, text, diag=None):
        nonlocal n, failed
        n += 1
        if not ok:
            failed += 1
        print(f"{'ok' if ok else 'not ok'} {n} - strace: {text}")
        for line in (diag or []):
            print(f"#   {line}")
        sys.stdout.flush()

    tap(True, "the trace parser passes its self-test (forks, threads, scripts, unfinished calls)")
    observed = {}   # executable -> set of names
    seen_in = {}    # executable -> case ids
    aliases = {}    # executable -> paths it was exec'd by (symlinks, scripts)
    details = {}
    tmp = tempfile.mkdtemp(prefix="dg-strace.")
    t_all = time.time()
    try:
        for case in cases:
            res, msg = run_case(root, case, tmp)
            sweep = case[0].startswith("sweep:")
            if sweep:  # one line for the whole sweep (below); a program that waits is not an error
                swept["programs"].add(case[1][0])
                swept["ran" if res is not None else "timed out"] += 1
            if res is None:
                if not sweep:
                    tap(False, f"case {case[0]} ran", [msg])
                continue
            text, dt = res
            t = Trace(text, R.executable)
            sets = t.by_executable()
            for exe, names in sets.items():
                observed.setdefault(exe, set()).update(names)
                seen_in.setdefault(exe, []).append(case[0])
            for exe, al in t.aliases.items():
                aliases.setdefault(exe, set()).update(al)
            details[case[0]] = {"seconds": round(dt, 2), "runtime_execve": t.first_exec,
                                "executables": {e: sorted(s) for e, s in sets.items()},
                                "unparsed": t.unparsed[:20], "notes": t.notes}
            diag = [f"unparsed strace line: {u}" for u in t.unparsed[:5]] + t.notes[:5]
            if msg:
                diag.insert(0, msg)
            if not sweep:
                tap(msg is None and not t.unparsed and bool(sets),
                    f"case {case[0]} ran ({dt:.1f}s; " + ", ".join(f"{e} {len(s)}" for e, s in sorted(sets.items())) + ")", diag)
        if a.sweep:
            tap(swept["ran"] > 0, f"sweep: {len(swept['programs'])} programs with --version and --help: "
                f"{swept['ran']} runs traced, {swept['timed out']} stopped after {SWEEP_TIMEOUT}s (not counted)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    t_trace = time.time() - t_all

    if table is not None:
        for exe, names in sorted(observed.items()):
            bad = sorted(x for x in names if x not in table)
            if bad:
                tap(False, f"{exe}: names strace printed that are not x86-64 syscalls", [" ".join(bad)])

    if a.save:
        with open(a.save, "w") as f:
            json.dump({"observed": {e: sorted(s) for e, s in sorted(observed.items())},
                       "aliases": {e: sorted(s) for e, s in sorted(aliases.items())},
                       "cases": details, "trace_seconds": round(t_trace, 1)}, f, indent=1)

    if not a.dg:
        for exe, names in sorted(observed.items()):
            al = sorted(aliases.get(exe, ()))
            print(f"# {exe}" + (f" (exec'd as {' '.join(al[:3])})" if al else "") + f": {len(names)}: {' '.join(sorted(names))}")
        allnames = set().union(*observed.values()) if observed else set()
        print(f"# {len(observed)} executables, {len(allnames)} distinct syscalls, traced in {t_trace:.0f}s")
        print(f"1..{n}")
        return 1 if failed else 0

    paths = sorted(observed)
    t0 = time.time()
    r = subprocess.run([a.dg, "syscalls", a.image] + paths + ["--json"], capture_output=True)
    t_dg = time.time() - t0
    try:
        doc = json.loads(r.stdout)
        computed = {x["path"]: x for x in doc["executables"]}
    except (ValueError, KeyError, TypeError) as e:
        tap(False, f"dockergate syscalls answers JSON for {len(paths)} executables (exit {r.returncode})",
            [f"{e}"] + r.stderr.decode(errors="replace").splitlines()[-10:])
        print(f"1..{n}")
        return 1
    tap(True, f"dockergate syscalls answered for {len(paths)} executables in {t_dg:.1f}s (exit {r.returncode})")
    tot_obs = tot_comp = 0
    union_obs = set()
    for exe in paths:
        names = observed[exe]
        union_obs |= names
        x = computed.get(exe)
        if x is None:
            tap(False, f"{exe}: missing from dockergate's answer")
            continue
        comp = set(x.get("syscalls", []))
        diag = []
        if table is not None:
            for nm, num in zip(x.get("syscalls", []), x.get("numbers", [])):
                if table.get(nm, num) != num:
                    diag.append(f"number of {nm}: dockergate says {num}, x86-64 has {table[nm]}")
        missing = sorted(names - comp - IMPLICIT)
        implicit = sorted(names & IMPLICIT - comp)
        tot_obs += len(names)
        tot_comp += len(comp)
        ratio = len(names) / len(comp) if comp else float("inf")
        al = sorted(x for x in aliases.get(exe, ()) if not x.startswith("/proc/"))
        line = (f"{exe}" + (f" (exec'd as {' '.join(al[:3])})" if al else "") + f": computed {len(comp)}, observed {len(names)}, observed/computed {ratio:.2f}"
                + (f", missing {len(missing)}: {' '.join(missing)}" if missing else "")
                + (f" (kernel-made, not required: {' '.join(implicit)})" if implicit else ""))
        if missing:
            diag.append("seen in cases: " + " ".join(seen_in[exe]))
            diag += where_made(root, [c for c in cases if c[0] in seen_in[exe]], exe, set(missing), R)
            diag += [f"unknown site: {u}" for u in x.get("unknown_sites", [])[:5]]
            diag += [f"problem: {p}" for p in x.get("problems", [])[:5]]
        tap(not missing and not any(d.startswith("number") for d in diag), line, diag)
    comp_union = set(doc.get("union", []))
    print(f"# totals: {len(paths)} executables, observed {tot_obs} (sum), computed {tot_comp} (sum), "
          f"distinct observed {len(union_obs)}, union computed {len(comp_union)}; "
          f"tracing {t_trace:.0f}s, dockergate {t_dg:.0f}s")
    print(f"1..{n}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
