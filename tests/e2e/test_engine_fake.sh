#!/usr/bin/env bash
# verify and trace against stand-ins for podman, docker, runc, skopeo and umoci (shell
# scripts first in PATH that log their arguments and act just enough): the command lines
# each engine entry of src/cli/engine_run.c builds (load/pull, run with every option,
# stop at a timeout, remove), the bundle runc gets (process, capabilities, filter,
# network), the exit statuses, and the engines trace refuses. No real engine, container
# or kernel audit record is involved (--diagnose never).
# Usage: test_engine_fake.sh DOCKERGATE   (prints TAP)
set -uo pipefail
DG=${1:?dockergate}
here=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/dg-fake.XXXXXX")
trap 'rm -rf "$T"' EXIT
TAP_NAME="engine-fake" TAP_DIAG=30
. "$here/../tools/tap.sh"
mkdir -p "$T/bin" "$T/l1/bin" "$T/tmp"
echo hi >"$T/l1/bin/hello"
python3 "$here/../tools/mkimg.py" --format docker-archive --out "$T/img.tar" --tag localhost/fake:1 \
	--entrypoint '["/bin/sh","-c"]' --cmd '["echo hi"]' "$T/l1" >/dev/null &&
	python3 "$here/../tools/mkimg.py" --format oci --out "$T/oci" --tag localhost/fake:1 --cmd '["/bin/hello"]' "$T/l1" >/dev/null &&
	python3 "$here/../tools/mkimg.py" --format oci-archive --compress zstd --out "$T/zst.tar" --tag localhost/fake:1 \
		--cmd '["/bin/hello"]' "$T/l1" >/dev/null
ok $? "test images"
ID=$("$DG" inspect --json "$T/img.tar" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"][7:])')

cat >"$T/bin/fake" <<'SH'
#!/bin/bash
me=$(basename "$0")
{ printf '%s' "$me"; for a in "$@"; do printf ' [%s]' "$a"; done; printf '\n'; } >>"$FAKE_LOG"
case "$me" in
podman|docker)
	for a in "$@"; do
		case "$a" in
		inspect) exit "${FAKE_INSPECT:-1}" ;;
		pull) echo "0123456789abcdef"; exit 0 ;;
		load) echo "Loaded image ID: sha256:fedcba9876543210"; exit 0 ;;
		run) sleep "${FAKE_SLEEP:-0}"; exit "${FAKE_STATUS:-0}" ;;
		stop|kill|rmi) exit 0 ;;
		esac
	done ;;
skopeo)
	d=$4; [[ $4 == --dest-compress ]] && d=$7
	d=${d#oci:}; mkdir -p "${d%:img}" ;;
umoci)
	mkdir -p "$4"
	echo '{"ociVersion":"1.0.2","process":{"args":["x"],"cwd":"/"},"root":{"path":"rootfs"},"linux":{"namespaces":[{"type":"pid"},{"type":"network"},{"type":"mount"}],"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"}}}' >"$4/config.json" ;;
runc)
	for ((i = 1; i <= $#; i++)); do
		case "${!i}" in
		run) j=$((i + 2)); cp "${!j}/config.json" "$FAKE_LOG.config"; sleep "${FAKE_SLEEP:-0}"; exit "${FAKE_STATUS:-0}" ;;
		kill | delete) exit 0 ;;
		esac
	done ;;
esac
exit 0
SH
chmod +x "$T/bin/fake"
for p in podman docker runc skopeo umoci; do ln -s fake "$T/bin/$p"; done

i=0
# run NAME ENV... -- ARGS: dockergate with the stand-ins; $L the argv log (paths as TMP,
# the container name's pid as PID), $R its exit status
run() {
	i=$((i + 1))
	L="$T/$i.log"
	: >"$L"
	local envs=()
	while [[ $1 != -- ]]; do envs+=("$1"); shift; done
	shift
	env PATH="$T/bin:/usr/bin:/bin" TMPDIR="$T/tmp" XDG_CACHE_HOME="$T/xdg" FAKE_LOG="$L" "${envs[@]}" \
		timeout 120 "$DG" "$@" >"$T/$i.out" 2>"$T/$i.err"
	R=$?
	sed -i -E "s|$T/tmp/dockergate-(verify\|trace)\.[A-Za-z0-9]{6}|TMP|g; s|dockergate-(verify\|trace)-[0-9]+-|dockergate-\\1-PID-|g; s|$T|T|g" "$L"
	cat "$T/$i.err" >>"$L"
}
want() { # want LINE...: the argv lines the stand-ins logged, in this order (then stderr)
	printf '%s\n' "$@" >"$T/want"
	grep -v '^dockergate' "$L" | diff -u "$T/want" - >"$T/d"
	cat "$L" >>"$T/d"
	[[ $(grep -c '^[-+][^-+]' "$T/d") -eq 0 ]]
}
cfg() { python3 -c "import json,sys; c=json.load(open(sys.argv[1])); p=c['process']; L=c['linux']; $1" "$L.config" >>"$T/d" 2>&1; }
V=(verify --profile docker-default --diagnose never)

run -- "${V[@]}" "$T/img.tar" --engine podman
want "podman [image] [inspect] [--format] [{{.Id}}] [$ID]" "podman [pull] [-q] [docker-archive:T/img.tar]" \
	"podman [run] [--rm] [--name] [dockergate-verify-PID-1] [--security-opt] [seccomp=TMP/profile-0.json] [$ID]" \
	"podman [rmi] [-f] [$ID]" && [[ $R -eq 0 ]]
ok $? "podman: pulled from the archive, run under the profile file, removed again (exit $R)" "$T/d"
run FAKE_INSPECT=0 -- "${V[@]}" "$T/img.tar" --engine podman --runtime crun --network none --no-new-privileges \
	--entrypoint /bin/ls -- -l /
want "podman [image] [inspect] [--format] [{{.Id}}] [$ID]" \
	"podman [--runtime] [crun] [run] [--rm] [--name] [dockergate-verify-PID-1] [--security-opt] [seccomp=TMP/profile-0.json] [--security-opt] [no-new-privileges] [--network] [none] [--entrypoint] [/bin/ls] [$ID] [-l] [/]" &&
	[[ $R -eq 0 ]]
ok $? "podman: an image already in its store stays; --runtime before run, every option, ARGS last" "$T/d"
run -- "${V[@]}" "$T/oci" --engine podman
grep -q '^podman \[pull\] \[-q\] \[oci:/proc/self/cwd:1\]$' "$L" && [[ $R -eq 0 ]]
ok $? "podman: an OCI layout is pulled as oci:/proc/self/cwd:REF (run in the layout)" "$L"
run -- "${V[@]}" "$T/img.tar" --engine docker --runtime runsc --network host -- echo hi
want "docker [image] [inspect] [--format] [{{.Id}}] [$ID]" "docker [load] [-q] [-i] [T/img.tar]" \
	"docker [run] [--runtime] [runsc] [--rm] [--name] [dockergate-verify-PID-1] [--security-opt] [seccomp=TMP/profile-0.json] [--network] [host] [$ID] [echo] [hi]" \
	"docker [rmi] [-f] [$ID]" && [[ $R -eq 0 ]]
ok $? "docker: loaded, --runtime as a run option, removed again" "$T/d"
run -- "${V[@]}" "$T/oci" --engine docker
[[ $R -eq 3 ]] && grep -q 'docker loads only archives' "$L"
ok $? "docker: an OCI layout is refused (exit $R)" "$L"
run FAKE_STATUS=3 -- "${V[@]}" "$T/img.tar" --engine docker
[[ $R -eq 8 ]] && grep -q 'FAIL: exit status 3' "$L"
ok $? "a workload that fails: exit 8" "$L"
run FAKE_STATUS=3 -- "${V[@]}" "$T/img.tar" --engine runc --network host --expect-status 3 --report "$T/rep.json"
[[ $R -eq 0 ]] && python3 -c "import json,sys; r=json.load(open(sys.argv[1]))
assert (r['result'], r['engine'], r['runtime'], r['exit_status'], r['expected_status'], r['timed_out'], r['denied'], r['diagnosis']) == ('pass', 'runc', 'runc', 3, 3, False, [], 'none'), r" "$T/rep.json" >>"$L" 2>&1
ok $? "--report: the result as JSON (pass with the expected status 3, engine and runtime runc)" "$L"
run FAKE_STATUS=125 -- "${V[@]}" "$T/img.tar" --engine podman
[[ $R -eq 8 ]] && grep -q "note: status 125 is the engine's own error" "$L"
ok $? "podman's own error (125) is named as such" "$L"
run FAKE_SLEEP=4 -- "${V[@]}" "$T/img.tar" --engine podman --timeout 1
grep -q '^podman \[stop\] \[-t\] \[10\] \[dockergate-verify-PID-1\]$' "$L" && [[ $R -eq 0 ]] && grep -q 'still running after 1 s' "$L"
ok $? "podman: at the timeout the container is stopped (stop -t 10 NAME) and passes" "$L"

run -- "${V[@]}" "$T/img.tar" --engine runc --network host
want "skopeo [copy] [-q] [docker-archive:T/img.tar] [oci:TMP/oci:img]" "umoci [unpack] [--image] [TMP/oci:img] [TMP/bundle-1]" \
	"runc [--root] [TMP/runc-state] [run] [--bundle] [TMP/bundle-1] [dockergate-verify-PID-1]" \
	"runc [--root] [TMP/runc-state] [delete] [--force] [dockergate-verify-PID-1]" && [[ $R -eq 0 ]] &&
	cfg "assert p['args']==['/bin/sh','-c','echo hi'] and p['noNewPrivileges'] is False and p['terminal'] is False, p
assert 'CAP_NET_RAW' in p['capabilities']['bounding'] and 'CAP_SYS_ADMIN' not in p['capabilities']['effective']
assert L['seccomp']['defaultAction']=='SCMP_ACT_ERRNO' and any('read' in r['names'] for r in L['seccomp']['syscalls'])
assert [n['type'] for n in L['namespaces']]==['pid','mount'], L['namespaces']"
ok $? "runc: skopeo copy, umoci unpack, run and delete; the bundle has the image's command, Docker's capabilities, the filter, the host network" "$T/d"
run -- "${V[@]}" "$T/zst.tar" --engine runc --network host --no-new-privileges --entrypoint '' -- /bin/hello x
grep -q '^skopeo \[copy\] \[-q\] \[oci-archive:T/zst.tar\] \[--dest-compress\] \[--dest-compress-format\] \[gzip\] \[oci:TMP/oci:img\]$' "$L" &&
	[[ $R -eq 0 ]] && cfg "assert p['args']==['/bin/hello','x'] and p['noNewPrivileges'] is True, p"
ok $? "runc: zstd layers recompressed for umoci; --entrypoint '' and ARGS; no_new_privileges" "$T/d"
run -- "${V[@]}" "$T/img.tar" --engine runc --network host -- /bin/hello "a$(printf '\xff')b"
[[ $R -eq 3 ]] && grep -q "argument 3 of the command ('a\\\\xffb') is not UTF-8" "$L" && ! grep -q '^runc \[--root\] \[TMP/runc-state\] \[run\]' "$L"
ok $? "runc: an argument that is not UTF-8 is refused (exit 3), not dropped from the bundle" "$L"
run -- verify --profile docker-default --diagnose never "$T/img.tar" --engine runc --network host --runtime "$T/bin/runc"
grep -q '^runc \[--root\] \[TMP/runc-state\] \[run\]' "$L" && [[ $R -eq 0 ]]
ok $? "runc: --runtime names the runtime binary" "$L"
run FAKE_SLEEP=4 -- "${V[@]}" "$T/img.tar" --engine runc --network host --timeout 1
grep -q '^runc \[--root\] \[TMP/runc-state\] \[kill\] \[dockergate-verify-PID-1\] \[TERM\]$' "$L" && [[ $R -eq 0 ]]
ok $? "runc: at the timeout the container gets SIGTERM through runc kill" "$L"
if [[ $(id -u) -eq 0 ]]; then
	run -- "${V[@]}" "$T/img.tar" --engine runc
	cfg "n=[x for x in L['namespaces'] if x['type']=='network']; assert n and n[0]['path'].startswith('TMP/netns') or n[0]['path'].endswith('/netns'), L['namespaces']"
	[[ $R -eq 0 ]] && ! grep -q AssertionError "$T/d"
	ok $? "runc: --network none is a namespace of our own (its path in the bundle)" "$T/d"
fi

# ---- trace ----
run FAKE_STATUS=125 -- trace "$T/img.tar" --engine podman -o "$T/t.json"
grep -q '^podman \[--runtime\] \[TMP/runtime.sh\] \[run\] \[--rm\] \[--name\] \[dockergate-trace-PID-1\] \[--security-opt\] \[seccomp=unconfined\] \[--network\] \[none\] \[' "$L" &&
	[[ $R -eq 6 ]] && grep -q 'podman could not start the container' "$L"
ok $? "trace --engine podman: the runtime wrapper as --runtime, unconfined; podman's 125 is exit 6" "$L"
run -- trace "$T/img.tar" --engine docker
[[ $R -eq 2 ]] && grep -q "expected runc or podman, got 'docker' (docker's daemon starts the runtime" "$L"
ok $? "trace --engine docker: refused with the reason (exit $R)" "$L"
run -- trace "$T/img.tar" --network host -o "$T/t.json"
if [[ $R -ne 0 ]] && grep -qi 'ptrace' "$L"; then
	echo "ok $((n + 1)) - engine-fake: trace --engine runc # SKIP ptrace not permitted here"
	n=$((n + 1))
else
	grep -q '^runc \[--root\] \[TMP/runc-state\] \[run\]' "$L" && [[ $R -eq 0 ]] &&
		python3 -c "import json,sys; t=json.load(open(sys.argv[1])); assert t['engine']=='runc' and t['args']==['/bin/sh','-c','echo hi'], t" "$T/t.json" >>"$L" 2>&1
	ok $? "trace (runc, the default): runc run under the recorder, the trace names engine and command" "$L"
fi
tap_end
