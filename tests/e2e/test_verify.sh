#!/usr/bin/env bash
# End-to-end: `dockergate verify` on the real engines (podman with runc, runc directly), with the
# sample image (busybox-static + libc6, real Debian packages). A generated profile passes and is
# enforced (the container reports Seccomp: 2); a profile without mkdir fails with exit 8 and the
# report names mkdir and /bin/busybox (from the kernel's seccomp records); a profile without the
# runtime's own syscalls names runc's init; --timeout, --expect-status, a workload that fails
# without any profile, OCI layout input, usage and input errors; nothing is left behind (images
# in the engine's store, temp directories, mounts).
# Usage: test_verify.sh DOCKERGATE   (prints TAP)
set -uo pipefail
DG=${1:?usage: test_verify.sh DOCKERGATE}
here=$(cd "$(dirname "$0")" && pwd)
TAP_NAME="verify" TAP_DIAG=30
. "$here/../tools/tap.sh"

if [[ $(id -u) -ne 0 ]] || ! command -v podman >/dev/null || ! command -v runc >/dev/null ||
	! command -v umoci >/dev/null || ! command -v skopeo >/dev/null; then
	echo "1..0 # SKIP needs root, podman, runc, umoci and skopeo"
	exit 0
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/dg-verify.XXXXXX")
mkdir -p "$T/tmp"
# podman with a private store and this machine's settings (../shared/notes/validation.md)
podman_private "$T"
cleanup() {
	podman rm -a -f >/dev/null 2>&1
	podman rmi -a -f >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT

IMG=$(cd "$here/../.." && bash tests/tools/realimage.sh sample) || IMG=""
[[ -f "$IMG" ]] || IMG="$here/../../build/sample/sample.tar"
# the sample image: Entrypoint ["/bin/sh","-c"], so one ARG is a shell command line
V() { "$DG" verify --tmpdir "$T/tmp" "$@"; }
jq_py() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"; }

"$DG" generate "$IMG" -o "$T/p.json" 2>"$T/gen.err"
ok $? "generate the sample image's profile" "$T/gen.err"
python3 - "$T/p.json" "$T/nomkdir.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
for r in p["syscalls"]:
    if r["action"] == "SCMP_ACT_ALLOW":
        r["names"] = [n for n in r["names"] if n not in ("mkdir", "mkdirat")]
json.dump(p, open(sys.argv[2], "w"))
PY
"$DG" generate "$IMG" --runtime-base none -o "$T/nort.json" 2>/dev/null

work='mkdir -p /tmp/dgv/a && echo data >/tmp/dgv/a/f && cat /tmp/dgv/a/f && grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status'

# 1. podman (Docker-like: no_new_privileges false)
V "$IMG" --profile "$T/p.json" --engine podman --network none --report "$T/r1.json" -- "$work" >"$T/o1" 2>"$T/e1"
ok $? "podman: the workload passes under its generated profile" "$T/e1"
grep -q '^data$' "$T/o1" && grep -qP '^Seccomp:\t2$' "$T/o1" && grep -qP '^NoNewPrivs:\t0$' "$T/o1"
ok $? "podman: the workload's output came through; the filter was in force (Seccomp 2), no_new_privileges off" "$T/o1"
jq_py "$T/r1.json" 'r["result"]=="pass" and r["exit_status"]==0 and r["denied"]==[] and r["engine"]=="podman" and r["diagnosis"]=="none"'
ok $? "podman: the JSON report says pass, nothing denied, no diagnosis needed" "$T/r1.json"
grep -q 'dockergate verify: pass: ' "$T/e1"
ok $? "podman: the last report line says pass" "$T/e1"

# 2. runc directly, no_new_privileges true
V "$IMG" --profile "$T/p.json" --engine runc --no-new-privileges --report "$T/r2.json" -- "$work; ip -o link 2>/dev/null || cat /proc/net/dev" >"$T/o2" 2>"$T/e2"
ok $? "runc: the workload passes under its generated profile" "$T/e2"
grep -q '^data$' "$T/o2" && grep -qP '^Seccomp:\t2$' "$T/o2" && grep -qP '^NoNewPrivs:\t1$' "$T/o2"
ok $? "runc: output came through; filter in force; no_new_privileges on" "$T/o2"
grep -q 'lo' "$T/o2" && ! grep -qE '^ *(eth|ens|enp)' "$T/o2"
ok $? "runc: --network none (default) gives a namespace with only lo" "$T/o2"

# 3. a profile without mkdir/mkdirat: exit 8 and the report names them and the executable
V "$IMG" --profile "$T/nomkdir.json" --engine podman --network none --report "$T/r3.json" -- "$work" >"$T/o3" 2>"$T/e3"
rc=$?
[[ $rc -eq 8 ]]
ok $? "podman: without mkdir the workload fails: exit 8 (got $rc)" "$T/e3"
jq_py "$T/r3.json" 'r["result"]=="fail" and r["exit_status"]!=0 and any(d["syscall"] in ("mkdir","mkdirat") and d["exe"]=="/bin/busybox" and d["comm"]=="mkdir" and d["arch"]=="x86_64" and not d["runtime"] for d in r["denied"]) and r["diagnosis"]=="done" and r["diagnosis_status"]==0'
ok $? "podman: the report names mkdir(at) made by /bin/busybox (comm mkdir); with it logged instead the workload passes" "$T/r3.json"
jq_py "$T/r3.json" 'all(d["syscall"] in ("mkdir","mkdirat") for d in r["denied"])'
ok $? "podman: nothing but mkdir(at) is reported denied" "$T/r3.json"
grep -qE 'verify: denied: mkdir(at)? \(x86_64 [0-9]+\) by /bin/busybox' "$T/e3" && grep -q 'verify: FAIL: ' "$T/e3"
ok $? "podman: the text report names the syscall and the executable" "$T/e3"
V "$IMG" --profile "$T/nomkdir.json" --engine runc --report "$T/r4.json" -- "$work" >"$T/o4" 2>"$T/e4"
rc=$?
[[ $rc -eq 8 ]] && jq_py "$T/r4.json" 'any(d["syscall"] in ("mkdir","mkdirat") and d["exe"]=="/bin/busybox" for d in r["denied"])'
ok $? "runc: without mkdir: exit 8 (got $rc), mkdir(at) by /bin/busybox named" "$T/e4"
V "$IMG" --profile "$T/nomkdir.json" --engine podman --network none --diagnose never --report "$T/r5.json" -- "$work" >/dev/null 2>"$T/e5"
rc=$?
[[ $rc -eq 8 ]] && jq_py "$T/r5.json" 'r["denied"]==[] and r["diagnosis_runs"]==0'
ok $? "--diagnose never: exit 8 without diagnosis runs" "$T/e5"

# 4. without the runtime's own syscalls runc cannot even start the workload: named as the runtime's
V "$IMG" --profile "$T/nort.json" --engine podman --network none --report "$T/r6.json" -- 'echo hi' >/dev/null 2>"$T/e6"
rc=$?
[[ $rc -eq 8 ]] && jq_py "$T/r6.json" 'r["denied"] and all(d["runtime"] for d in r["denied"]) and any(d["comm"].startswith("runc:") for d in r["denied"])'
ok $? "--runtime-base none: exit 8 (got $rc); the denied calls are runc's init's, flagged as the runtime's" "$T/e6"
grep -q 'generate with --runtime-base' "$T/e6"
ok $? "--runtime-base none: the report says how to fix it" "$T/e6"

# 5. status, timeout, a workload that fails on its own
V "$IMG" --profile "$T/p.json" --network none --expect-status 3 -- 'exit 3' >/dev/null 2>"$T/e7"
ok $? "--expect-status 3 with a workload exiting 3 passes" "$T/e7"
V "$IMG" --profile "$T/p.json" --network none --report "$T/r8.json" -- 'echo oops >&2; exit 3' >/dev/null 2>"$T/e8"
rc=$?
[[ $rc -eq 8 ]] && jq_py "$T/r8.json" 'r["denied"]==[] and r["unconfined_status"]==3' && grep -q 'the workload, not the profile' "$T/e8"
ok $? "a workload that fails without any profile too: exit 8 (got $rc), nothing denied, blamed on the workload" "$T/e8"
t0=$SECONDS
V "$IMG" --profile "$T/p.json" --network none --timeout 2 --report "$T/r9.json" -- 'trap "exit 0" TERM; while :; do sleep 1; done' >/dev/null 2>"$T/e9"
rc=$?
[[ $rc -eq 0 ]] && jq_py "$T/r9.json" 'r["timed_out"] and r["result"]=="pass"'
ok $? "--timeout 2: a server-like workload still up is stopped and passes (exit $rc, $((SECONDS - t0)) s)" "$T/e9"
V "$IMG" --profile "$T/p.json" --engine runc --timeout 2 --report "$T/r10.json" -- 'trap "exit 0" TERM; while :; do sleep 1; done' >/dev/null 2>"$T/e10"
rc=$?
[[ $rc -eq 0 ]] && jq_py "$T/r10.json" 'r["timed_out"]'
ok $? "runc --timeout 2: stopped and passes (exit $rc)" "$T/e10"

# interrupted: SIGINT stops the container, cleans up and exits 130
"$DG" verify --tmpdir "$T/tmp" "$IMG" --profile "$T/p.json" --engine runc --report "$T/r14.json" -- 'trap "exit 0" TERM; while :; do sleep 1; done' >/dev/null 2>"$T/e14" &
vpid=$!
for _ in $(seq 100); do grep -q "running" "$T/e14" 2>/dev/null && ls "$T/tmp"/*/bundle-* >/dev/null 2>&1 && break; sleep 0.1; done
sleep 2
kill -INT $vpid
wait $vpid
rc=$?
[[ $rc -eq 130 ]]
ok $? "SIGINT: verify stops the container and exits 130 (got $rc)" "$T/e14"

# 6. Docker's default profile, and an OCI layout as input
V "$IMG" --profile docker-default --network none -- 'echo ok' >"$T/o11" 2>"$T/e11" && grep -q '^ok$' "$T/o11"
ok $? "--profile docker-default passes" "$T/e11"
skopeo copy -q "docker-archive:$IMG" "oci:$T/ocilayout:sample" 2>"$T/e12"
V "oci:$T/ocilayout" --profile "$T/p.json" --network none -- 'echo oci' >"$T/o12" 2>>"$T/e12" && grep -q '^oci$' "$T/o12" &&
	V "oci:$T/ocilayout" --profile "$T/p.json" --engine runc -- 'echo oci' >"$T/o13" 2>"$T/e13" && grep -q '^oci$' "$T/o13"
ok $? "an OCI layout runs with podman and with runc" "$T/e12"

# 7. errors: usage 2, input 3, environment 6
V "$IMG" -- 'true' >/dev/null 2>"$T/u1"
[[ $? -eq 2 ]] && grep -q -- '--profile' "$T/u1"
ok $? "no --profile: exit 2 naming it" "$T/u1"
V "$IMG" --profile "$T/p.json" --engine lxc >/dev/null 2>"$T/u2"
[[ $? -eq 2 ]] && grep -q -- '--engine' "$T/u2"
ok $? "unknown --engine: exit 2" "$T/u2"
V "$IMG" stray --profile "$T/p.json" >/dev/null 2>"$T/u3"
[[ $? -eq 2 ]] && grep -q "stray" "$T/u3"
ok $? "a word before --: exit 2 naming it" "$T/u3"
V "$IMG" --profile "$T/p.json" --timeout -1 >/dev/null 2>"$T/u4"
[[ $? -eq 2 ]]
ok $? "bad --timeout: exit 2" "$T/u4"
V "$T/missing.tar" --profile "$T/p.json" >/dev/null 2>"$T/u5"
[[ $? -eq 3 ]] && grep -q "missing.tar" "$T/u5"
ok $? "a missing image: exit 3 naming it" "$T/u5"
V "$IMG" --profile "$T/none.json" >/dev/null 2>"$T/u6"
[[ $? -eq 3 ]] && grep -q "none.json" "$T/u6"
ok $? "a missing profile: exit 3 naming it" "$T/u6"
echo '{"defaultAction":"SCMP_ACT_ALLOW"}' >"$T/allow.json"
V "$IMG" --profile "$T/allow.json" >/dev/null 2>"$T/u7"
[[ $? -eq 3 ]]
ok $? "a default-allow profile: exit 3" "$T/u7"
mkdir -p "$T/rootfs/bin"
V "$T/rootfs" --profile "$T/p.json" >/dev/null 2>"$T/u8"
[[ $? -eq 3 ]] && grep -q "cannot be run" "$T/u8"
ok $? "a root filesystem directory is not an image to run: exit 3" "$T/u8"
PATH=/nonexistent V "$IMG" --profile "$T/p.json" --engine podman >/dev/null 2>"$T/u9"
[[ $? -eq 6 ]] && grep -q "podman: not found" "$T/u9"
ok $? "no podman on PATH: exit 6" "$T/u9"
V "$IMG" --profile "$T/p.json" --engine runc --runtime /nonexistent/runc >/dev/null 2>"$T/u10"
[[ $? -eq 6 ]]
ok $? "--runtime that does not exist: exit 6" "$T/u10"

# 8. nothing left behind
[[ -z "$(podman images -q 2>/dev/null)" && -z "$(podman ps -aq 2>/dev/null)" ]]
ok $? "no image or container left in podman's store"
[[ -z "$(ls -A "$T/tmp")" ]] && ! grep -q "$T/tmp" /proc/self/mountinfo
ok $? "no temp directory or mount left behind" <(ls -la "$T/tmp"; grep "$T" /proc/self/mountinfo)
tap_end
