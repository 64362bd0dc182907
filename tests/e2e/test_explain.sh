#!/usr/bin/env bash
# dockergate explain: the chain from a root to the syscall instruction, through calls and
# taken addresses, on compiled programs next to the real Debian libc; wrappers; dlopen'd
# libraries; syscalls nothing reaches; bad input.
set -uo pipefail
DG=$1
T=$(mktemp -d "${TMPDIR:-/tmp}/dg-explain.XXXXXX")
trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME="$T/xdg"
TAP_NAME="explain" TAP_DIAG=30
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tools/tap.sh"
R="$T/root"
real_rootfs "$R" || { echo "not ok 1 - the real-package root filesystem could not be built"; exit 1; }
rm -rf "$R/usr/lib/x86_64-linux-gnu/gconv"
mkdir -p "$R/opt/e"
cat >"$T/app.c" <<'C'
#include <sys/syscall.h>
#include <unistd.h>
__attribute__((noinline)) static long leaf(void) {
	long r; __asm__ volatile("syscall" : "=a"(r) : "a"(163L) : "rcx", "r11", "memory"); return r; /* acct */
}
__attribute__((noinline)) long middle(int x) { return x > 1000 ? leaf() : 0; }
int main(int argc, char **argv) { (void)argv; return (int)middle(argc) + (int)syscall(SYS_userfaultfd, 0); }
C
gcc -O2 -o "$R/opt/e/app" "$T/app.c"
# a plugin nothing loads through DT_NEEDED: its exports are roots
printf 'long plug(void){ long r; __asm__ volatile("syscall" : "=a"(r) : "a"(246L) : "rcx","r11","memory"); return r; }\n' >"$T/plug.c"
gcc -O2 -shared -fPIC -o "$R/opt/e/plug.so" "$T/plug.c"
python3 "$here/../tools/mkimg.py" --format docker-archive --out "$T/img.tar" "$R" >/dev/null 2>&1
ok $? "packing the image"

"$DG" explain "$T/img.tar" acct /opt/e/app --json >"$T/acct.json" 2>"$T/err"
ok $? "explain acct /opt/e/app" "$T/err"
python3 - "$T/acct.json" >"$T/out" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["allowed"] and d["number"] == 163, d
st = d["chains"][0]["steps"]
print(json.dumps(st, indent=1))
roots = ("entry point", "init/fini function or IFUNC resolver (run by the loader)", "called by ld.so itself")
assert st[0]["how"] in roots and st[0]["address"] is None, st[0]
names = [s["function"] for s in st]
assert "main" in names and "middle" in names, names
last = st[-1]
assert last["how"] == "syscall instruction at" and last["object"] == "/opt/e/app" and last["address"], last
assert names.index("main") < names.index("middle"), names
# main is reached through its taken address (the C library calls it through a pointer)
m = st[names.index("main")]
assert m["how"].startswith("address taken") and m["address_taken_by"]["object"] == "/opt/e/app", m
PY
ok $? "acct: a root ... main (address taken, called through a pointer) -> middle -> the syscall instruction" "$T/out"

"$DG" explain "$T/img.tar" userfaultfd /opt/e/app --json >"$T/uf.json" 2>"$T/err"
python3 - "$T/uf.json" >"$T/out" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
last = d["chains"][0]["steps"][-1]
print(last)
assert d["allowed"] and last["how"] == "passes the number to a wrapper at" and last["function"] == "main", last
PY
ok $? "userfaultfd through syscall(3): the chain ends at main's call of the wrapper" "$T/out"

"$DG" explain "$T/img.tar" 163 /opt/e/app >"$T/num.txt" 2>"$T/err"
grep -q '^acct (163) is allowed' "$T/num.txt" && grep -q -- '-> middle' "$T/num.txt"
ok $? "a number works as well as a name; the text names each step" "$T/num.txt"

"$DG" explain "$T/img.tar" kexec_load --json >"$T/kx.json" 2>"$T/err"
python3 - "$T/kx.json" >"$T/out" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ch = [c for c in d["chains"] if c["path"] == "/opt/e/plug.so"]
print(d["allowed"], [c["path"] for c in d["chains"]])
assert d["allowed"] and ch and ch[0]["kind"] == "library", d
st = ch[0]["steps"]
assert st[0]["how"] == "export of a dlopen'd library" and st[0]["function"] == "plug", st
PY
ok $? "kexec_load: only the plugin reaches it, from its export (a dlopen'd library)" "$T/out"

"$DG" explain "$T/img.tar" kexec_load /opt/e/app >"$T/no.txt" 2>"$T/err"
rc=$?
[[ $rc -eq 0 ]] && grep -q '^kexec_load (246) is not allowed: none of the 1 programs' "$T/no.txt"
ok $? "a syscall the program cannot reach: a clear 'not allowed' answer, exit 0" "$T/no.txt"

"$DG" explain "$T/img.tar" getpid --all --json >"$T/all.json" 2>"$T/err"
python3 - "$T/all.json" >"$T/out" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(len(d["chains"]), d["analysed"])
assert len(d["chains"]) > 1 and all(c["steps"] and c["steps"][-1]["how"] in ("syscall instruction at", "passes the number to a wrapper at") for c in d["chains"])
PY
ok $? "--all: a complete chain for every program that reaches getpid" "$T/out"

"$DG" explain "$T/img.tar" not_a_syscall >"$T/o" 2>"$T/err"
[[ $? -eq 2 ]] && grep -q "not_a_syscall" "$T/err"
ok $? "an unknown syscall name: exit 2 naming it" "$T/err"
"$DG" explain "$T/img.tar" >"$T/o" 2>"$T/err"
[[ $? -eq 2 ]]
ok $? "no SYSCALL: exit 2" "$T/err"
"$DG" explain "$T/img.tar" read /no/such >"$T/o" 2>"$T/err"
[[ $? -eq 3 ]]
ok $? "a PATH the image lacks: exit 3" "$T/err"
tap_end
