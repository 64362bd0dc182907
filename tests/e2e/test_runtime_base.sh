#!/usr/bin/env bash
# End-to-end: data/runtime-base.json, the container runtime's own syscalls, on the real
# runtimes. With a deny-by-default profile (SCMP_ACT_ERRNO) that allows exactly the measured
# set of a runtime and mode, a trivial static entrypoint (its only syscall: exit_group) must
# start and exit 0, again and again (the Go runtime inside runc makes some calls only in some
# runs): runc directly and through podman, noNewPrivileges false and true; crun the same when
# the data has it. Negative controls: without execve the start must fail, and the smaller
# nnp_true set must not be enough for noNewPrivileges false (runc installs the filter earlier).
# A failing run is repeated with SCMP_ACT_LOG and the syscalls the set lacks are printed.
# Usage: test_runtime_base.sh [DOCKERGATE]   (prints TAP; the binary is not needed)
#   DG_RTBASE_RUNS=N        starts per direct case (20); podman cases run N/2 (at least 3)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tool="$here/../tools/runtime_base.py"
data="$here/../../data/runtime-base.json"
runs=${DG_RTBASE_RUNS:-20}
pruns=$((runs / 2 < 3 ? 3 : runs / 2))
TAP_NAME="runtime-base" TAP_DIAG=30
. "$here/../tools/tap.sh"

if [[ $(id -u) -ne 0 ]] || ! command -v runc >/dev/null; then
	echo "1..0 # SKIP needs root and runc"
	exit 0
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/dg-rtbase.XXXXXX")
export CONTAINERS_STORAGE_CONF="$T/env/storage.conf" CONTAINERS_CONF="$T/env/containers.conf"
cleanup() {
	[[ -f "$T/env/storage.conf" ]] && podman rm -a -f >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT

python3 "$tool" setup "$T/env" 2>"$T/setup.err"
setup=$?
if [[ $setup -ne 0 && $setup -ne 3 ]]; then
	ok 1 "build the bundle and the image (gcc -static -nostdlib, podman import)" "$T/setup.err"
	tap_end
	exit
fi
# can runc run a container here at all (no filter rules to blame)?
python3 -c '
import sys; sys.path.insert(0, sys.argv[1]); import runtime_base as rb
st, err, _ = rb.run_container(rb.Env(sys.argv[2]), "runc", "direct", False, "SCMP_ACT_ALLOW", [])
sys.stderr.write(err); sys.exit(st)' "$here/../tools" "$T/env" 2>"$T/probe.err"
if [[ $? -ne 0 ]]; then
	echo "1..0 # SKIP runc cannot run a container here: $(tail -1 "$T/probe.err")"
	exit 0
fi
podman_ok=1
if [[ $setup -eq 3 ]] || ! command -v podman >/dev/null; then
	podman_ok=0
fi

# the data: well formed, sorted, every name a syscall of the kernel's x86-64 table
python3 - "$data" <<'EOF' >"$T/data.err" 2>&1
import json, re, sys
d = json.load(open(sys.argv[1]))
names = {m.group(1) for m in (re.match(r"#define __NR_(\w+)\s+\d+", l) for l in open("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")) if m}
assert d["format"] == 1, "format"
assert set(d["runtimes"]["runc"]) == {"nnp_false", "nnp_true"}, "runc modes"
for rt, modes in d["runtimes"].items():
    for mode, l in modes.items():
        assert l == sorted(set(l)), "%s %s not sorted/unique" % (rt, mode)
        assert set(l) <= names, "%s %s: unknown %s" % (rt, mode, set(l) - names)
        assert {"execve", "exit_group"} <= set(l), "%s %s lacks execve/exit_group" % (rt, mode)
for k in ("date", "runc", "kernel", "how"):
    assert d["measured"].get(k), k
EOF
ok $? "data/runtime-base.json: format 1, sorted x86-64 names, runc in both modes" "$T/data.err"

check() { # check NAME RUNTIME VIA NNP RUNS [--drop NAME]...: every start exits 0
	local name=$1 rt=$2 via=$3 nnp=$4 count=$5
	shift 5
	python3 "$tool" check "$T/env" --data "$data" --runtime "$rt" --via "$via" --nnp "$nnp" --runs "$count" "$@" >"$T/out" 2>&1
	ok $? "$name: $(tail -1 "$T/out")" "$T/out"
}
fails() { # fails NAME RUNTIME VIA NNP [--drop NAME]... [--data FILE]: the start must fail
	local name=$1 rt=$2 via=$3 nnp=$4
	shift 4
	python3 "$tool" check "$T/env" --data "$data" --runtime "$rt" --via "$via" --nnp "$nnp" --runs 1 --no-diagnose "$@" >"$T/out" 2>&1
	if [[ $? -ne 0 ]]; then
		ok 0 "$name fails"
		grep -m1 '^run 0:' "$T/out" | cut -c1-200 | sed 's/^/#   /'
	else
		ok 1 "$name fails" "$T/out"
	fi
}

t0=$SECONDS
check "runc, noNewPrivileges false, exactly the data's nnp_false set" runc direct false "$runs"
check "runc, noNewPrivileges true, exactly the data's nnp_true set" runc direct true "$runs"
fails "runc, noNewPrivileges false, the set without execve" runc direct false --drop execve
fails "runc, noNewPrivileges true, the set without execve" runc direct true --drop execve
fails "runc, noNewPrivileges false, only the nnp_true set" runc direct false --mode-set nnp_true
if ((podman_ok)); then
	check "podman + runc (default, noNewPrivileges false), exactly the data's nnp_false set" runc podman false "$pruns"
	check "podman + runc --security-opt no-new-privileges, exactly the data's nnp_true set" runc podman true "$pruns"
	fails "podman + runc, the nnp_false set without execve" runc podman false --drop execve
	# what podman options change in the runtime's path: a terminal, another user without
	# capabilities in another working directory, a user namespace
	for nnp in false true; do
		check "podman + runc -t --user 1000:1000 --cap-drop all --workdir /dev, noNewPrivileges $nnp" runc podman "$nnp" 3 \
			--podman-arg=-t --podman-arg=--user=1000:1000 --podman-arg=--cap-drop=all --podman-arg=--workdir=/dev
		check "podman + runc --uidmap/--gidmap 0:100000:65536, noNewPrivileges $nnp" runc podman "$nnp" 3 \
			--podman-arg=--uidmap=0:100000:65536 --podman-arg=--gidmap=0:100000:65536
	done
else
	ok 0 "podman cases # SKIP podman cannot load an image here: $(head -1 "$T/setup.err")"
fi
if python3 -c 'import json,sys; sys.exit("crun" not in json.load(open(sys.argv[1]))["runtimes"])' "$data" &&
	command -v crun >/dev/null; then
	check "crun, noNewPrivileges false, exactly the data's nnp_false set" crun direct false "$runs"
	check "crun, noNewPrivileges true, exactly the data's nnp_true set" crun direct true "$runs"
	fails "crun, noNewPrivileges false, the set without execve" crun direct false --drop execve
	if ((podman_ok)); then
		check "podman + crun, exactly the data's nnp_false set" crun podman false "$pruns"
		check "podman + crun --security-opt no-new-privileges, exactly the data's nnp_true set" crun podman true "$pruns"
	fi
else
	ok 0 "crun cases # SKIP crun not installed or not measured (data: unmeasurable)"
fi
echo "# $((SECONDS - t0)) s for the starts"
tap_end
