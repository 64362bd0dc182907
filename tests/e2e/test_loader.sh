#!/usr/bin/env bash
# The real glibc loader as the oracle: for every dynamically linked executable of
# a root filesystem made of real Debian packages, `dockergate ldd` must list what
# `chroot ROOT env LD_TRACE_LOADED_OBJECTS=1 /lib64/ld-linux-x86-64.so.2 BIN` lists
# (what `ld.so --list` prints, but going on past missing libraries: same names, same
# paths, same order), without and with an ld.so.cache (ldconfig -r), and for
# compiled programs using DT_RPATH (inherited), DT_RUNPATH with $ORIGIN, and a
# missing library. With DG_LOADER_ROOTFS=DIR, every dynamically linked program of DIR too.
# Usage: test_loader.sh DOCKERGATE   (prints TAP)
set -uo pipefail
DG=${1:?dockergate}
here=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/dg-loader.XXXXXX")
trap 'rm -rf "$T"' EXIT
TAP_NAME="loader" TAP_DIAG=20
. "$(dirname "$0")/../tools/tap.sh"
R="$T/root"
real_rootfs "$R" || { echo "not ok 1 - the real-package root filesystem could not be built"; exit 1; }

loader_cases "$R" "$T" 2>"$T/err"
ok $? "compiling the RPATH/RUNPATH/missing test programs" "$T/err"

compare() { # compare LABEL: every dynamic executable under bin dirs and /opt/app/bin
	local label=$1 bins=() f
	while IFS= read -r f; do bins+=("/${f#"$R"/}"); done < <(
		find "$R/bin" "$R/usr/bin" "$R/sbin" "$R/usr/sbin" "$R/opt/app/bin" -maxdepth 1 -type f 2>/dev/null | sort)
	local dyn=() b
	for b in "${bins[@]}"; do
		readelf -lW "$R$b" 2>/dev/null | grep -q "Requesting program interpreter" && dyn+=("$b")
	done
	: >"$T/diff.all"
	local bad=0
	for b in "${dyn[@]}"; do
		# LD_TRACE_LOADED_OBJECTS (what ldd sets) keeps listing past a missing library; --list stops
		chroot "$R" /usr/bin/env LD_TRACE_LOADED_OBJECTS=1 /lib64/ld-linux-x86-64.so.2 "$b" 2>/dev/null | grep -v linux-vdso |
			sed -E 's/ \(0x[0-9a-f]+\)$//' >"$T/want"
		"$DG" ldd "dir:$R" "$b" >"$T/got" 2>/dev/null
		if ! diff -u "$T/want" "$T/got" >"$T/d"; then
			bad=$((bad + 1))
			{ echo "== $b"; cat "$T/d"; } >>"$T/diff.all"
		fi
	done
	ok $bad "$label: ${#dyn[@]} executables agree with ld.so --list" "$T/diff.all"
	((${#dyn[@]} > 40))
	ok $? "$label: enough executables were compared (${#dyn[@]})"
}
rm -f "$R/etc/ld.so.cache"
compare "without ld.so.cache (system directories)"
ldconfig -r "$R" 2>"$T/err"
ok $? "ldconfig -r builds an ld.so.cache" "$T/err"
compare "with the image's ld.so.cache"
"$DG" ldd --why "dir:$R" /opt/app/bin/rpath-app >"$T/out" 2>&1
grep -q 'libbar.so => /opt/rp/libbar.so  \[rpath, needed by libfoo.so\]' "$T/out"
ok $? "DT_RPATH of the executable is inherited by its libraries" "$T/out"
"$DG" ldd --why "dir:$R" /opt/app/bin/runpath-app >"$T/out" 2>&1
grep -q 'libfoo.so => /opt/app/bin/../lib/libfoo.so  \[runpath' "$T/out"
ok $? "DT_RUNPATH with \$ORIGIN" "$T/out"
"$DG" ldd "dir:$R" /opt/app/bin/missing-app >"$T/out" 2>&1
[[ $? -eq 3 ]] && grep -q 'libnothere.so => not found' "$T/out"
ok $? "a missing library is reported (exit 3)" "$T/out"
# optional: any other root filesystem, e.g. bench/bench.sh's mmdebstrap one (the rootfs is
# loaded once as an image; each executable is listed by the real loader and by dockergate)
if [[ -n "${DG_LOADER_ROOTFS:-}" ]]; then
	X=$DG_LOADER_ROOTFS
	: >"$T/diff.all"
	bins=()
	while IFS= read -r f; do bins+=("/${f#"$X"/}"); done < <(
		find "$X/bin/" "$X/usr/bin/" "$X/sbin/" "$X/usr/sbin/" -maxdepth 1 -type f 2>/dev/null | sort -u)
	dyn=()
	for b in "${bins[@]}"; do
		readelf -lW "$X$b" 2>/dev/null | grep -q "Requesting program interpreter" && dyn+=("$b")
	done
	"$DG" ldd --no-cache "dir:$X" "${dyn[@]}" >"$T/all.got" 2>/dev/null
	bad=0
	for b in "${dyn[@]}"; do
		echo "$b:"
		chroot "$X" /usr/bin/env LD_TRACE_LOADED_OBJECTS=1 /lib64/ld-linux-x86-64.so.2 "$b" 2>/dev/null |
			grep -v linux-vdso | sed -E 's/ \(0x[0-9a-f]+\)$//'
	done >"$T/all.want"
	diff -u "$T/all.want" "$T/all.got" >"$T/diff.all"
	ok $? "$X: ${#dyn[@]} executables agree with ld.so --list" "$T/diff.all"
fi
tap_end
