#!/usr/bin/env bash
# `dockergate syscalls` against ground truth: real Debian programs (coreutils, bash, dash, tar,
# gzip, grep, sed, find, python3, nginx, redis, curl, openssl, busybox) run under strace in a
# chroot of the `apps` fixture (tests/tools/realimage.sh apps); every syscall an executable was
# seen making must be in the set dockergate computes for it from apps.tar (observed ⊆ computed).
# Skipped only when strace/chroot cannot run here (not root, no ptrace).
# Usage: test_syscalls_strace.sh DOCKERGATE   (prints TAP)
set -uo pipefail
DG=${1:?dockergate}
here=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/dg-strace.XXXXXX")
trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME="$T/xdg" # never the user's own cache
A=$(bash "$here/../tools/realimage.sh" apps 2>"$T/err") || {
	echo "not ok 1 - strace: the apps fixture could not be built"
	sed 's/^/#   /' "$T/err" | tail -20
	echo "1..1"
	exit 1
}
python3 "$here/../tools/stracecheck.py" --sweep --dg "$DG" "$A/rootfs" "$A/apps.tar"
