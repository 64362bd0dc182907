#!/usr/bin/env bash
# musl's loader as the oracle: for programs built with musl-gcc in a root
# filesystem holding Debian's musl, `dockergate ldd` must list what
# `chroot ROOT /lib/ld-musl-x86_64.so.1 --list BIN` lists (same names, paths and
# order): the built-in path and etc/ld-musl-x86_64.path, DT_RPATH inherited
# along the loading chain, DT_RUNPATH with $ORIGIN and ${ORIGIN}, the names
# musl answers with itself (libc.so, libpthread.so.0, ...), an Alpine-style
# libc.musl-x86_64.so.1 link, LD_LIBRARY_PATH from an image config, and a
# missing library. Usage: test_loader_musl.sh DOCKERGATE   (prints TAP)
set -uo pipefail
DG=${1:?dockergate}
here=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/dg-musl.XXXXXX")
trap 'rm -rf "$T"' EXIT
TAP_NAME="musl loader" TAP_DIAG=30
. "$(dirname "$0")/../tools/tap.sh"
if ! command -v musl-gcc >/dev/null; then
	echo "not ok 1 - musl loader: musl-gcc is missing (scripts/deps.sh --test installs musl-tools)"
	echo "1..1"
	exit 1
fi
R="$T/root"
mkdir -p "$R/lib" "$R/etc" "$R/usr/local/lib" "$R/usr/lib" "$R/opt/rp" "$R/opt/app/bin" "$R/opt/app/lib" \
	"$R/opt/pf1" "$R/opt/pf2" "$R/opt/fake" "$R/opt/llp"
cp -aL /lib/ld-musl-x86_64.so.1 "$R/lib/ld-musl-x86_64.so.1"
ln -s ld-musl-x86_64.so.1 "$R/lib/libc.musl-x86_64.so.1"
C="$T/c"
mkdir -p "$C"
lib() { # lib NAME DIR [extra flags...]: a shared library NAME whose function is NAME_fn
	local name=$1 dir=$2 fn=${1%%.so*}
	shift 2
	fn=${fn#lib}
	printf 'int %s_fn(void){return 1;}\n' "$fn" >"$C/$fn.c"
	musl-gcc -shared -fPIC -o "$dir/$name" "$C/$fn.c" "$@"
}
exe() { # exe PATH [flags...]: a program calling nothing but printf
	local path=$1
	shift
	printf '#include <stdio.h>\nint main(void){puts("x");return 0;}\n' >"$C/main.c"
	musl-gcc -o "$path" "$C/main.c" -Wl,--no-as-needed "$@"
}
{
	lib libbar.so "$R/usr/local/lib" &&
		lib libfoo.so "$R/usr/local/lib" -L"$R/usr/local/lib" -lbar &&
		exe "$R/opt/app/bin/default-path" -L"$R/usr/local/lib" -lfoo &&
		lib libpf.so "$R/opt/pf2" &&
		exe "$R/opt/app/bin/path-file" -L"$R/opt/pf2" -lpf &&
		lib librpb.so "$R/opt/rp" &&
		lib librpa.so "$R/opt/rp" -L"$R/opt/rp" -lrpb &&
		exe "$R/opt/app/bin/rpath-inherited" -L"$R/opt/rp" -lrpa -Wl,--disable-new-dtags,-rpath,/opt/rp -Wl,-rpath-link,"$R/opt/rp" &&
		lib libor.so "$R/opt/app/lib" &&
		exe "$R/opt/app/bin/runpath-origin" -L"$R/opt/app/lib" -lor -Wl,--enable-new-dtags,-rpath,'$ORIGIN/../lib' &&
		exe "$R/opt/app/bin/runpath-origin-braces" -L"$R/opt/app/lib" -lor -Wl,--enable-new-dtags,-rpath,'${ORIGIN}/../lib' &&
		lib libpthread.so.0 "$R/opt/fake" -Wl,-soname,libpthread.so.0 &&
		lib libm.so "$R/opt/fake" -Wl,-soname,libm.so &&
		exe "$R/opt/app/bin/reserved" -L"$R/opt/fake" -l:libpthread.so.0 -l:libm.so -Wl,-rpath,/opt/fake &&
		lib libalp.so "$T" -Wl,-soname,libc.musl-x86_64.so.1 &&
		exe "$R/opt/app/bin/alpine-libc" "$T/libalp.so" &&
		lib libllp.so "$R/opt/llp" &&
		exe "$R/opt/app/bin/ld-library-path" -L"$R/opt/llp" -lllp &&
		lib libnothere.so "$T" &&
		exe "$R/opt/app/bin/missing" -L"$T" -lnothere
} 2>"$T/err"
ok $? "compiling the musl test programs" "$T/err"

compare() { # compare LABEL BIN...
	local label=$1 bad=0 b
	shift
	: >"$T/diff.all"
	for b in "$@"; do
		chroot "$R" /lib/ld-musl-x86_64.so.1 --list "$b" 2>"$T/stderr" | sed -E 's/ \(0x[0-9a-f]+\)$//' >"$T/want"
		"$DG" ldd "dir:$R" "$b" 2>/dev/null | grep -v ' => not found$' >"$T/got"
		if ! diff -u "$T/want" "$T/got" >"$T/d"; then
			bad=$((bad + 1))
			{ echo "== $b"; cat "$T/d"; } >>"$T/diff.all"
		fi
	done
	ok $bad "$label: $# programs agree with ld-musl --list" "$T/diff.all"
}
progs=(/opt/app/bin/default-path /opt/app/bin/rpath-inherited /opt/app/bin/runpath-origin
	/opt/app/bin/runpath-origin-braces /opt/app/bin/reserved /opt/app/bin/alpine-libc)
compare "built-in path /lib:/usr/local/lib:/usr/lib" "${progs[@]}"
"$DG" ldd "dir:$R" /opt/app/bin/path-file >"$T/out" 2>&1
[[ $? -eq 3 ]] && grep -q 'libpf.so => not found' "$T/out"
ok $? "without a path file /opt/pf2 is not searched" "$T/out"
printf '/opt/pf1\n/opt/pf2:/lib\n/usr/local/lib\n' >"$R/etc/ld-musl-x86_64.path"
compare "with etc/ld-musl-x86_64.path" "${progs[@]}" /opt/app/bin/path-file
"$DG" ldd --why "dir:$R" /opt/app/bin/path-file >"$T/out" 2>&1
grep -q 'libpf.so => /opt/pf2/libpf.so  \[ld-musl path file' "$T/out"
ok $? "the path file's directories are searched (newline and colon separated)" "$T/out"
"$DG" ldd --why "dir:$R" /opt/app/bin/rpath-inherited >"$T/out" 2>&1
grep -q 'librpb.so => /opt/rp/librpb.so  \[rpath, needed by librpa.so\]' "$T/out"
ok $? "DT_RPATH of the program is searched for its libraries' needs" "$T/out"
"$DG" ldd "dir:$R" /opt/app/bin/reserved >"$T/out" 2>&1
grep -q 'libpthread.so.0 => /lib/ld-musl-x86_64.so.1' "$T/out" && ! grep -q /opt/fake "$T/out"
ok $? "libpthread.so.0 and libm.so are the loader even with a file of that name in the RPATH" "$T/out"

chroot "$R" /lib/ld-musl-x86_64.so.1 --list /opt/app/bin/missing >/dev/null 2>"$T/stderr"
"$DG" ldd "dir:$R" /opt/app/bin/missing >"$T/out" 2>&1
rc=$?
[[ $rc -eq 3 ]] && grep -q 'libnothere.so => not found' "$T/out" && grep -q 'libnothere.so' "$T/stderr"
ok $? "a missing library: musl names it, dockergate says not found (exit 3)" "$T/out"

python3 "$here/../tools/mkimg.py" --format docker25 --out "$T/img.tar" --env LD_LIBRARY_PATH=/opt/llp "$R" >/dev/null 2>"$T/err"
chroot "$R" /usr/bin/env true 2>/dev/null # (no env in this root: LD_LIBRARY_PATH is given to the loader directly)
LD_LIBRARY_PATH=/opt/llp chroot "$R" /lib/ld-musl-x86_64.so.1 --list /opt/app/bin/ld-library-path 2>/dev/null |
	sed -E 's/ \(0x[0-9a-f]+\)$//' >"$T/want"
"$DG" ldd "$T/img.tar" /opt/app/bin/ld-library-path >"$T/got" 2>&1
diff -u "$T/want" "$T/got" >"$T/d"
ok $? "LD_LIBRARY_PATH from the image config" "$T/d"
"$DG" graph --json --from /opt/app/bin/default-path "dir:$R" >"$T/g.json" 2>"$T/err"
python3 -c "
import json; g=json.load(open('$T/g.json')); by={x['path']:x for x in g['nodes']}
assert by['/lib/x86_64-linux-musl/libc.so' if '/lib/x86_64-linux-musl/libc.so' in by else '/lib/ld-musl-x86_64.so.1']['kind']=='loader', by
assert by['/usr/local/lib/libbar.so']['kind']=='library'" >"$T/out" 2>&1
ok $? "graph: musl's libc (no SONAME) is a loader node because programs name it as interpreter" "$T/out"
tap_end
