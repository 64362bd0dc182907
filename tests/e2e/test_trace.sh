#!/usr/bin/env bash
# dockergate trace on real images (tests/tools/e2eimage.py) under real engines (runc, traced
# in-process; podman, with the detached recorder), each traced set checked against strace:
# the same workload runs under `dockergate verify` with a profile that allows every syscall
# Docker's default knows (plus clone3 and the namespace calls, so nothing takes another path)
# and the e2e.py strace wrapper as the runtime; tests/tools/tracecmp.py then requires, per
# executable, the same syscall names (counts depend on timing and are not compared).
# Workloads: busybox sh with pipelines, background jobs and applets re-exec'ing
# /proc/self/exe (also from an OCI layout); the Debian tools image (a dash script driving
# coreutils, sort, tar, xz);
# a static C program (tests/tools/trace_workload.c) with threads, fork, vfork + exec, a
# group-stop, a handled signal and i386 int $0x80 calls; nginx with --probe curl (a server
# stopped after the probe succeeds); --timeout; a probe ignoring SIGTERM; SIGINT; errors and
# their exit statuses.
# Usage: test_trace.sh DOCKERGATE   (prints TAP)
set -uo pipefail
DG=${1:?usage: test_trace.sh DOCKERGATE}
here=$(cd "$(dirname "$0")" && pwd)
TAP_NAME="trace" TAP_DIAG=30
. "$here/../tools/tap.sh"
if [[ $(id -u) -ne 0 ]] || ! command -v podman >/dev/null || ! command -v runc >/dev/null ||
	! command -v umoci >/dev/null || ! command -v skopeo >/dev/null || ! command -v mmdebstrap >/dev/null ||
	! command -v strace >/dev/null || ! command -v gcc >/dev/null || ! command -v curl >/dev/null; then
	echo "1..0 # SKIP needs root, podman, runc, umoci, skopeo, mmdebstrap, strace, gcc and curl"
	exit 0
fi
PORT=28080
if ss -ltn 2>/dev/null | grep -q ":$PORT "; then
	echo "1..0 # SKIP port $PORT is in use on this host"
	exit 0
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/dg-trace.XXXXXX")
export XDG_CACHE_HOME="$T/xdg"
podman_private "$T"
cleanup() {
	podman rm -a -f >/dev/null 2>&1
	podman rmi -a -f >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/tmp"

# a profile allowing everything Docker's default names, unconditionally
python3 - "$here/../../data/docker-default.json" "$T/allow.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
names = set()
for r in d["syscalls"]:
    names.update(r["names"])
names.update(["clone3", "clone", "unshare", "mount", "umount2", "setns", "personality", "ptrace"])
json.dump({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "archMap": d.get("archMap"),
           "syscalls": [{"names": sorted(names), "action": "SCMP_ACT_ALLOW"}]}, open(sys.argv[2], "w"))
PY

# compare NAME ENGINE IMAGE [--superset] -- ARGS: trace the workload, run it again under strace, compare
compare() {
	local name=$1 engine=$2 img=$3 cmpopt=""
	shift 3
	if [[ ${1:-} == --superset ]]; then cmpopt=--superset; shift; fi
	[[ ${1:-} == -- ]] && shift
	"$DG" trace "$img" --engine "$engine" --tmpdir "$T/tmp" -o "$T/$name.trace" -- "$@" >"$T/$name.out" 2>"$T/$name.err"
	local rc=$?
	python3 -c "import json,sys; t=json.load(open(sys.argv[1])); sys.exit(0 if t['exit_status']==0 and t['executables'] and t['engine']==sys.argv[2] and not t['timed_out'] and t['lost']==0 else 1)" \
		"$T/$name.trace" "$engine" 2>>"$T/$name.err"
	ok $((rc | $?)) "$name ($engine): traced, the workload exited 0 (exit $rc)" "$T/$name.err"
	python3 "$here/../tools/e2e.py" wrapper "$T/$name.wrap" "$T/$name.strace"
	"$DG" verify "$img" --profile "$T/allow.json" --engine "$engine" --runtime "$T/$name.wrap" --diagnose never \
		--tmpdir "$T/tmp" -- "$@" >"$T/$name.sout" 2>"$T/$name.serr"
	ok $? "$name ($engine): the same workload under strace" "$T/$name.serr"
	cmp -s "$T/$name.out" "$T/$name.sout"
	ok $? "$name ($engine): the same output traced and under strace" "$T/$name.out"
	python3 "$here/../tools/tracecmp.py" "$T/$name.trace" "$T/$name.strace" $cmpopt >"$T/$name.cmp" 2>&1
	ok $? "$name ($engine): per executable, the traced syscalls ${cmpopt:+include }equal strace's ($(tail -1 "$T/$name.cmp"))" "$T/$name.cmp"
}

# ---- busybox: sh, pipelines, background jobs, applets re-executing /proc/self/exe
BB=$(python3 "$here/../tools/e2eimage.py" build busybox 2>"$T/bb.build")
ok $? "busybox image" "$T/bb.build"
BBW='echo hello; mkdir -p /tmp/d && echo data >/tmp/d/f && cat /tmp/d/f | tr a-z A-Z; ls /tmp/d | wc -l; (sleep 0.1; echo bg) & wait; rm -r /tmp/d; echo done'
for engine in runc podman; do
	compare "busybox-$engine" $engine "$BB" -- sh -c "$BBW"
done
grep -q '^DATA$' "$T/busybox-runc.out" && grep -q '^bg$' "$T/busybox-runc.out" && grep -q '^done$' "$T/busybox-runc.out"
ok $? "busybox: the workload's output (pipeline, background job)" "$T/busybox-runc.out"
python3 - "$T/busybox-runc.trace" >"$T/bb.check" 2>&1 <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
ex = {e["path"]: e["syscalls"] for e in t["executables"]}
print(sorted(ex))
sh = ex["/bin/sh"]
# the shell forks (clone), waits, makes a pipe; applets run as /proc/self/exe (busybox)
assert "clone" in sh and "wait4" in sh and "pipe2" in sh and "execve" in sh, sh
assert "/proc/self/exe" in ex and "exit_group" in ex["/proc/self/exe"]
assert t["args"] == ["sh", "-c", t["args"][2]] and t["runtime"]["syscalls"].get("execve", 0) >= 2
# the runtime's own calls are apart: runc's futex/epoll traffic is there, not in the container's
assert "epoll_pwait" in t["runtime"]["syscalls"] or "futex" in t["runtime"]["syscalls"]
PY
ok $? "busybox: /bin/sh forks, waits, pipes; applets as /proc/self/exe; runc's calls in the runtime set" "$T/bb.check"

# ---- an OCI layout (zstd layers) runs the same way
BBO=$(python3 "$here/../tools/e2eimage.py" build busybox --format oci 2>"$T/bbo.build")
ok $? "busybox image as an OCI layout" "$T/bbo.build"
for engine in runc podman; do
	"$DG" trace "$BBO" --engine $engine --tmpdir "$T/tmp" -o "$T/bbo-$engine.trace" -- sh -c 'echo oci' >"$T/bbo-$engine.out" 2>"$T/bbo-$engine.err"
	rc=$?
	python3 -c "import json,sys; t=json.load(open(sys.argv[1])); sys.exit(0 if t['exit_status']==0 and '/bin/sh' in [e['path'] for e in t['executables']] else 1)" \
		"$T/bbo-$engine.trace" 2>>"$T/bbo-$engine.err" && grep -qx oci "$T/bbo-$engine.out"
	ok $((rc | $?)) "busybox OCI layout ($engine): traced, /bin/sh recorded" "$T/bbo-$engine.err"
done

# ---- threads, fork, vfork + exec, group-stop, signal, i386 (a static C program)
mkdir -p "$T/tw/app"
gcc -O2 -static -pthread -o "$T/tw/app/trace_workload" "$here/../tools/trace_workload.c" 2>"$T/tw.build" &&
	python3 "$here/../tools/mkimg.py" --format docker-archive --out "$T/threads.tar" \
		--entrypoint '["/app/trace_workload"]' "$T/tw" >/dev/null 2>>"$T/tw.build"
ok $? "threads image (static C program)" "$T/tw.build"
for engine in runc podman; do
	compare "threads-$engine" $engine "$T/threads.tar"
	python3 - "$T/threads-$engine.trace" "$T/threads-$engine.out" >"$T/threads-$engine.check" 2>&1 <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
ia32 = "ia32 yes" in open(sys.argv[2]).read()  # the workload probed int $0x80 in a child
ex = {e["path"]: e for e in t["executables"]}
w = ex["/app/trace_workload"]
s, i = w["syscalls"], w.get("i386", {})
print(s, i)
assert s["getppid"] == 400, "4 threads x 100 getppid: %s" % s.get("getppid")
assert s["getgid"] == 1 and s["getuid"] == 1 and s["getegid"] == 1, "fork child, stopped child, vfork+exec leaf"
assert s["vfork"] == 1 and s["execve"] == 1 and s.get("clone3", 0) >= 4 and s["rt_sigreturn"] >= 1
# a kernel without IA-32 emulation (ia32_emulation=0) runs no int $0x80: nothing i386 then
assert i == ({"getpid": 1, "getppid": 1, "getuid": 1} if ia32 else {}), "i386 (ia32 %s): %s" % (ia32, i)
PY
	ok $? "threads ($engine): 400 getppid from 4 threads, fork/vfork/exec/stop children, i386 getpid+getppid+getuid exact$(grep -q 'ia32 no' "$T/threads-$engine.out" 2>/dev/null && echo ' (the i386 part not run: this kernel runs no IA-32 code)')" "$T/threads-$engine.check"
done

# ---- the Debian tools image: a dash script driving coreutils, sort, tar, xz
TOOLS=$(python3 "$here/../tools/e2eimage.py" build tools 2>"$T/tools.build")
ok $? "tools image" "$T/tools.build"
TW='cd /tmp && seq 1 300 >a && sort -rn a | head -2 && tar -cf x.tar a && xz -k a && ls a a.xz x.tar && wc -l <a'
compare tools-runc runc "$TOOLS" -- sh -c "$TW"
compare tools-podman podman "$TOOLS" -- sh -c "$TW"
grep -q '^300$' "$T/tools-runc.out" && grep -q '^a.xz$' "$T/tools-runc.out"
ok $? "tools: the script's output" "$T/tools-runc.out"
python3 -c "
import json, sys
ex = {e['path'] for e in json.load(open(sys.argv[1]))['executables']}
print(sorted(ex)); sys.exit(0 if {'/usr/bin/sh', '/usr/bin/seq', '/usr/bin/sort', '/usr/bin/tar', '/usr/bin/xz'} <= ex else 1)" \
	"$T/tools-runc.trace" >"$T/tools.exes" 2>&1
ok $? "tools: each program is its own executable (sh, seq, sort, tar, xz, ...)" "$T/tools.exes"

# ---- nginx with --probe: a server exercised from the host, stopped when the probe succeeds
NGINX=$(python3 "$here/../tools/e2eimage.py" build nginx 2>"$T/nginx.build")
ok $? "nginx image" "$T/nginx.build"
for engine in runc podman; do
	rm -f "$T/body-$engine"
	"$DG" trace "$NGINX" --engine $engine --network host --tmpdir "$T/tmp" --timeout 60 -o "$T/nginx-$engine.trace" \
		--probe "curl -sf -o $T/body-$engine http://127.0.0.1:$PORT/" --entrypoint nginx -- \
		-g "daemon off; error_log stderr;" -c /dev/stdin >"$T/nginx-$engine.out" 2>"$T/nginx-$engine.err" &
	wait $!
	rc=$?
	# (stdin is /dev/null: nginx gets an empty configuration and fails, and the probe with
	# it; this checks how a failing workload and a failing probe are recorded)
	python3 -c "
import json, sys
t = json.load(open(sys.argv[1]))
sys.exit(0 if t['exit_status'] != 0 and t['probe']['exit_status'] != 0 and not t['timed_out'] else 1)" \
		"$T/nginx-$engine.trace" 2>>"$T/nginx-$engine.err"
	ok $((rc | $?)) "nginx ($engine): a workload that fails is still traced (exit 0), its status and the failed probe recorded" "$T/nginx-$engine.err"
done
# a config layer: nginx listening on 127.0.0.1:$PORT
mkdir -p "$T/nginx-layer/etc/nginx/conf.d" "$T/nginx-layer/etc/nginx/sites-enabled"
printf 'server { listen 127.0.0.1:%s; root /var/www/html; index index.nginx-debian.html; }\n' $PORT \
	>"$T/nginx-layer/etc/nginx/conf.d/trace-test.conf"
touch "$T/nginx-layer/etc/nginx/sites-enabled/.wh.default"
root=$(python3 "$here/../tools/e2eimage.py" rootfs nginx 2>>"$T/nginx.build") &&
	python3 "$here/../tools/mkimg.py" --format docker-archive --compress none --out "$T/nginx.tar" \
		--entrypoint '["nginx","-g","daemon off;"]' \
		--env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$root" "$T/nginx-layer" >/dev/null 2>>"$T/nginx.build"
ok $? "nginx: derived image listening on 127.0.0.1:$PORT" "$T/nginx.build"
for engine in runc podman; do
	"$DG" trace "$T/nginx.tar" --engine $engine --network host --tmpdir "$T/tmp" --timeout 60 -o "$T/nginxp-$engine.trace" \
		--probe "curl -sf -o $T/body-$engine http://127.0.0.1:$PORT/" >"$T/nginxp-$engine.out" 2>"$T/nginxp-$engine.err"
	rc=$?
	grep -q "Welcome to nginx" "$T/body-$engine" 2>>"$T/nginxp-$engine.err" &&
		python3 - "$T/nginxp-$engine.trace" >>"$T/nginxp-$engine.err" 2>&1 <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
ex = {e["path"]: e["syscalls"] for e in t["executables"]}
print(sorted(ex), t["probe"], t["exit_status"], t["timed_out"])
n = ex["/usr/sbin/nginx"]
assert t["probe"]["exit_status"] == 0 and not t["timed_out"]
# the master forks a worker, which accepts the probe's connection and answers it
assert "accept4" in n and "epoll_wait" in n and ("sendfile" in n or "writev" in n) and "clone" in n, sorted(n)
PY
	ok $((rc | $?)) "nginx ($engine): the probe got the page; nginx's accept4/epoll_wait/sendfile recorded; stopped after the probe" "$T/nginxp-$engine.err"
done

# ---- --timeout: a container that would run 100 s is stopped (SIGTERM) and its trace written
start=$SECONDS
"$DG" trace "$BB" --engine runc --timeout 2 --tmpdir "$T/tmp" -o "$T/to.trace" -- \
	sh -c 'trap "echo got TERM; exit 3" TERM; sleep 100 & wait' >"$T/to.out" 2>"$T/to.err"
rc=$?
python3 -c "import json,sys; t=json.load(open(sys.argv[1])); sys.exit(0 if t['timed_out'] and t['exit_status']==3 else 1)" "$T/to.trace" 2>>"$T/to.err" &&
	grep -q "got TERM" "$T/to.out" && ((SECONDS - start < 30))
ok $((rc | $?)) "--timeout 2: stopped with SIGTERM (the container's trap ran), timed_out, exit status 3 ($((SECONDS - start)) s)" "$T/to.err"

# ---- a probe that ignores SIGTERM (and leaves a child that does too) is killed with its
# process group after the grace period; the container is stopped at the timeout
start=$SECONDS
timeout 90 "$DG" trace "$BB" --engine runc --timeout 2 --tmpdir "$T/tmp" -o "$T/pt.trace" \
	--probe 'trap "" TERM; sleep 1007; exit 0' -- sh -c 'trap "exit 3" TERM; sleep 100 & wait' >"$T/pt.out" 2>"$T/pt.err"
rc=$?
sleep 0.5
left=$(pgrep -f "sleep 1007")
python3 -c "import json,sys; t=json.load(open(sys.argv[1])); sys.exit(0 if t['timed_out'] and t['probe']['exit_status']==137 else 1)" \
	"$T/pt.trace" 2>>"$T/pt.err" && grep -q "probe never succeeded (1 attempt, last status 137)" "$T/pt.err" &&
	[[ -z $left ]] && ((SECONDS - start < 40))
ok $((rc | $?)) "a probe ignoring SIGTERM: its process group killed after the grace (status 137), nothing left${left:+: $left} ($((SECONDS - start)) s)" "$T/pt.err"

# ---- SIGINT: the container is stopped, nothing is left behind, exit 130
mkdir -p "$T/itmp"
"$DG" trace "$BB" --engine runc --tmpdir "$T/itmp" -o "$T/int.trace" -- sh -c 'echo started; sleep 100' >"$T/int.out" 2>"$T/int.err" &
dgpid=$!
for _ in $(seq 100); do grep -q started "$T/int.out" && break; sleep 0.2; done
kill -INT $dgpid
wait $dgpid
rc=$?
sleep 0.5
left=$(ps -eo pid,args | grep -F "dockergate-trace-$dgpid-" | grep -v grep)
[[ $rc -eq 130 && -z $left && -z $(ls -A "$T/itmp") && ! -e "$T/int.trace" ]]
ok $? "SIGINT: exit 130 (got $rc), no process or temp file left${left:+: $left}" "$T/int.err"

# ---- errors
"$DG" trace "$T/nonexistent.tar" --engine runc >/dev/null 2>"$T/e1"
rc=$?
[[ $rc -eq 3 ]] && grep -q "nonexistent.tar" "$T/e1"
ok $? "a missing image: exit 3 (got $rc)" "$T/e1"
"$DG" trace "$BB" --engine lxc >/dev/null 2>"$T/e2"
rc=$?
[[ $rc -eq 2 ]] && grep -q "expected runc or podman" "$T/e2"
ok $? "an unknown engine: exit 2 (got $rc)" "$T/e2"
"$DG" trace "$BB" --engine docker >/dev/null 2>"$T/e3"
rc=$?
[[ $rc -eq 2 ]]
ok $? "--engine docker: exit 2, the daemon's runtime cannot be traced (got $rc)" "$T/e3"
"$DG" trace "$BB" --engine runc --runtime "$T/no/runc" --tmpdir "$T/tmp" >/dev/null 2>"$T/e4"
rc=$?
[[ $rc -eq 6 ]] && grep -q "not found" "$T/e4"
ok $? "a missing runc: exit 6 (got $rc)" "$T/e4"
"$DG" trace "$BB" --engine podman --runtime "$T/no/runc" --tmpdir "$T/tmp" >/dev/null 2>"$T/e5"
rc=$?
[[ $rc -eq 6 ]] && grep -q "not found" "$T/e5"
ok $? "a missing runc for podman: exit 6 (got $rc)" "$T/e5"
"$DG" trace "$BB" --timeout 0 >/dev/null 2>"$T/e6"
rc=$?
[[ $rc -eq 2 ]]
ok $? "--timeout 0: exit 2 (got $rc)" "$T/e6"
"$DG" trace >/dev/null 2>"$T/e7"
rc=$?
[[ $rc -eq 2 ]]
ok $? "no IMAGE: exit 2 (got $rc)" "$T/e7"
mkdir -p "$T/rootdir/bin"
"$DG" trace "$T/rootdir" --engine runc --tmpdir "$T/tmp" >/dev/null 2>"$T/e8"
rc=$?
[[ $rc -eq 3 ]] && grep -q "cannot be run" "$T/e8"
ok $? "a root filesystem directory (not runnable): exit 3 (got $rc)" "$T/e8"
[[ -z $(ls -A "$T/tmp") ]]
ok $? "no temp directory left behind by any run" /dev/null
tap_end
