#!/usr/bin/env bash
# The per-program result cache (kind "reach"): keyed by every input of a program's result, so a
# warm run answers exactly as a cold one, and an image whose library differs in content is
# analysed again, never answered from the other image's entry.
set -uo pipefail
DG=$1
T=$(mktemp -d "${TMPDIR:-/tmp}/dg-sccache.XXXXXX")
trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME="$T/xdg"
TAP_NAME="syscalls cache" TAP_DIAG=20
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tools/tap.sh"
R="$T/root"
real_rootfs "$R" || { echo "not ok 1 - the real-package root filesystem could not be built"; exit 1; }
rm -rf "$R/usr/lib/x86_64-linux-gnu/gconv"
mkdir -p "$R/opt/c"
# libfoo's foo() makes one raw syscall; the two images differ only in which
lib() { # lib NR: libfoo.so whose foo() makes syscall NR
	printf 'long foo(void){ long r; __asm__ volatile("syscall" : "=a"(r) : "a"(%sL) : "rcx","r11","memory"); return r; }\n' "$1" >"$T/foo.c"
	gcc -O2 -shared -fPIC -o "$R/opt/c/libfoo.so" "$T/foo.c"
}
lib 163 # acct
printf 'long foo(void); int main(void){ return foo() > 0; }\n' >"$T/app.c"
gcc -O2 -o "$R/opt/c/app" "$T/app.c" -L"$R/opt/c" -lfoo -Wl,-rpath,/opt/c
python3 "$here/../tools/mkimg.py" --format docker-archive --out "$T/a.tar" "$R" >/dev/null 2>&1
ok $? "image A (libfoo makes acct)"
lib 246 # kexec_load
python3 "$here/../tools/mkimg.py" --format docker-archive --out "$T/b.tar" "$R" >/dev/null 2>&1
ok $? "image B (libfoo makes kexec_load)"

"$DG" syscalls "$T/a.tar" /opt/c/app --json >"$T/a1.json" 2>"$T/err"
ok $? "A, cold" "$T/err"
"$DG" syscalls "$T/a.tar" /opt/c/app --json >"$T/a2.json" 2>"$T/err"
ok $? "A, warm" "$T/err"
cmp -s "$T/a1.json" "$T/a2.json"
ok $? "A: the warm answer is the cold one, byte for byte"
"$DG" cache stats --json >"$T/stats.json" 2>"$T/err"
python3 - "$T/stats.json" >"$T/out" 2>&1 <<'PY'
import json, sys
kinds = {k["kind"]: k for k in json.load(open(sys.argv[1]))["kinds"]}
print(kinds)
assert kinds.get("reach", {}).get("entries", 0) >= 1 and kinds["reach"]["current"], "no current reach entries"
assert kinds.get("fnsum", {}).get("entries", 0) >= 3, "summaries not cached"
PY
ok $? "the cache holds the program's result (reach) and the files' summaries (fnsum)" "$T/out"
"$DG" syscalls "$T/b.tar" /opt/c/app --json >"$T/b.json" 2>"$T/err"
ok $? "B, with A's entries in the cache" "$T/err"
python3 - "$T/a1.json" "$T/b.json" >"$T/out" 2>&1 <<'PY'
import json, sys
a = set(json.load(open(sys.argv[1]))["executables"][0]["syscalls"])
b = set(json.load(open(sys.argv[2]))["executables"][0]["syscalls"])
assert "acct" in a and "kexec_load" not in a, ("A", sorted(a))
assert "kexec_load" in b and "acct" not in b, ("B", sorted(b))
PY
ok $? "B's library content changes the key: kexec_load in B, acct only in A" "$T/out"
"$DG" syscalls "$T/b.tar" /opt/c/app --json --no-cache >"$T/b2.json" 2>"$T/err"
cmp -s "$T/b.json" "$T/b2.json"
ok $? "B: the answer with the cache is the answer without it"
tap_end
