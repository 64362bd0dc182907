#!/usr/bin/env bash
# `dockergate syscalls` and `dockergate generate` on small compiled programs in an image that
# also holds the real Debian libc (tests/tools/tap.sh real_rootfs): syscall(3) with a constant,
# with an unknown number (--strict) and through a pointer, raw syscalls in main and in a function
# nothing calls (function vs object precision), a number spilled to the stack in -O0 code,
# wrappers of syscall(3) (tail call, number moved to another register), a function reached only
# through a table of function pointers, a jump table, a stripped static program without
# .eh_frame, i386 code (a 32-bit program; int 0x80 in x86-64 code), determinism (--jobs,
# cold/warm cache), the profile `generate` writes, and bad usage. Each raw syscall is one no libc code the image reaches uses, so finding it
# means the analysis followed that path.
# Usage: test_syscalls.sh DOCKERGATE   (prints TAP)
set -uo pipefail
DG=${1:?dockergate}
T=$(mktemp -d "${TMPDIR:-/tmp}/dg-syscalls.XXXXXX")
trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME="$T/xdg" # a fresh cache: the first whole-image run below is cold
TAP_NAME="syscalls" TAP_DIAG=20
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tools/tap.sh"
R="$T/root" S="$T/src" O=/opt/t
mkdir -p "$S"
real_rootfs "$R" || { echo "not ok 1 - the real-package root filesystem could not be built"; exit 1; }
# iconv's modules are ~250 libraries every run would analyse as dlopen'd: not needed here
rm -rf "$R/usr/lib/x86_64-linux-gnu/gconv"
mkdir -p "$R$O"

# ---- the programs (x86-64 numbers: unistd_64.h) ----
cat >"$S/getpid.c" <<'EOF'
#include <sys/syscall.h>
#include <unistd.h>
int main(void) { return syscall(SYS_getpid) < 0 || syscall(SYS_userfaultfd, 0) < 0; }
EOF
cat >"$S/argvsc.c" <<'EOF'
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) { return argc > 1 ? (int)syscall(atoi(argv[1])) : 0; }
EOF
cat >"$S/fp.c" <<'EOF'
#include <unistd.h>
long (*volatile f)(long, ...) = syscall; /* syscall(3) called through a pointer: number unknown */
int main(void) { return (int)f(448); }
EOF
cat >"$S/asmsc.c" <<'EOF'
/* acct (163) in main; kexec_load (246) in an exported function nothing calls */
void dg_never_called(void) { __asm__ volatile("mov $246, %%eax; syscall" ::: "rax", "rcx", "r11", "memory"); }
int main(void)
{
	__asm__ volatile("mov $163, %%eax; syscall" ::: "rax", "rcx", "r11", "memory");
	return 0;
}
EOF
cat >"$S/spill.c" <<'EOF'
/* compiled -O0: n goes through a stack slot before it reaches %rax; my(155) is pivot_root */
long my(long n)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n) : "rcx", "r11", "memory");
	return r;
}
int main(void) { return (int)my(155); }
EOF
cat >"$S/tail.c" <<'EOF'
/* wrappers of syscall(3): a tail call (jmp syscall@plt), and one moving the number from %rsi to
 * %rdi; landlock_restrict_self (446) and memfd_secret (447) */
#include <unistd.h>
__attribute__((noinline)) long w(long n) { return syscall(n); }
__attribute__((noinline)) long w2(long a, long n) { return syscall(n, a); }
int main(void) { return (int)w(446) + (int)w2(0, 447); }
EOF
cat >"$S/fptr.c" <<'EOF'
/* io_uring_setup (425) only in a function whose address is in a global table */
static long plain(void) { return 0; }
static long via_table(void)
{
	long r;
	__asm__ volatile("mov $425, %%eax; syscall" : "=a"(r) : : "rcx", "r11", "memory");
	return r;
}
long (*table[2])(void) = {plain, via_table};
int main(int argc, char **argv) { (void)argv; return (int)table[argc & 1](); }
EOF
{
	echo '/* a dense switch: a jump table, each case its own raw syscall */'
	echo 'int main(int argc, char **argv) {'
	echo '	(void)argv;'
	echo '	switch (argc) {'
	k=0
	for nr in 174 177 178 180 181 182 183 184; do
		echo "	case $k: __asm__ volatile(\"mov \$$nr, %%eax; syscall\" ::: \"rax\", \"rcx\", \"r11\", \"memory\"); break;"
		k=$((k + 1))
	done
	echo '	}'
	echo '	return 0;'
	echo '}'
} >"$S/jtab.c"
cat >"$S/stripped.c" <<'EOF'
/* lookup_dcookie (212) in main, vserver (236) in a function found only as a call target */
__attribute__((noinline)) void helper(void) { __asm__ volatile("mov $236, %%eax; syscall" ::: "rax", "rcx", "r11", "memory"); }
int main(void)
{
	helper();
	__asm__ volatile("mov $212, %%eax; syscall" ::: "rax", "rcx", "r11", "memory");
	return 0;
}
EOF
cat >"$S/int80.c" <<'EOF'
/* x86-64 code using the i386 table: int $0x80 with 51 (acct there) */
int main(void) { long r; __asm__ volatile("int $0x80" : "=a"(r) : "a"(51) : "memory"); return (int)r; }
EOF
cat >"$S/i386.s" <<'EOF'
# i386 table: acct (51), _llseek (140), exit (1)
	.globl _start
	.text
_start:
	movl $51, %eax
	xorl %ebx, %ebx
	int $0x80
	movl $140, %eax
	int $0x80
	movl $1, %eax
	xorl %ebx, %ebx
	int $0x80
EOF
{
	gcc -O2 -o "$R$O/getpid" "$S/getpid.c" &&
		gcc -O2 -o "$R$O/argvsc" "$S/argvsc.c" &&
		gcc -O2 -o "$R$O/fp" "$S/fp.c" &&
		gcc -O2 -o "$R$O/tail" "$S/tail.c" &&
		gcc -O2 -o "$R$O/int80" "$S/int80.c" &&
		gcc -O2 -o "$R$O/asmsc" "$S/asmsc.c" &&
		gcc -O0 -o "$R$O/spill" "$S/spill.c" &&
		gcc -O2 -o "$R$O/fptr" "$S/fptr.c" &&
		gcc -O2 -o "$R$O/jtab" "$S/jtab.c" &&
		gcc -O2 -static -fno-asynchronous-unwind-tables -fno-unwind-tables -Wl,--strip-all \
			-o "$T/stripped.full" "$S/stripped.c" &&
		objcopy --remove-section .eh_frame --remove-section .eh_frame_hdr "$T/stripped.full" "$R$O/stripped" &&
		as --32 -o "$T/i386.o" "$S/i386.s" && ld -m elf_i386 -o "$R$O/i386" "$T/i386.o"
} >"$T/err" 2>&1
ok $? "compiling the test programs" "$T/err"
# the cases test what they mean to: a jump table in jtab's main, no symbols and no .eh_frame in
# stripped, a 32-bit program
{
	objdump -d --no-show-raw-insn "$R$O/jtab" | awk '/<main>:/,/^$/' | grep -q 'jmp  *\*%r' ||
		echo "jtab: no indirect jump in main"
	readelf -SW "$R$O/stripped" | grep -q 'eh_frame\|\.symtab' && echo "stripped: still has .eh_frame or .symtab"
	readelf -h "$R$O/i386" | grep -q 'ELF32' || echo "i386: not ELF32"
} >"$T/err" 2>&1
[[ ! -s "$T/err" ]]
ok $? "the programs have the shapes the cases need (jump table, no .eh_frame/.symtab, ELF32)" "$T/err"
echo "not a program" >"$R$O/readme.txt"
ldconfig -r "$R"
IMG="$T/img.tar"
python3 "$here/../tools/mkimg.py" --format docker-archive --out "$IMG" --tag localhost/dg-syscalls:1 "$R" >"$T/err" 2>&1
ok $? "packing the image" "$T/err"

# ---- the whole image, three times: cold cache --jobs 2, warm --jobs 2, no cache --jobs 1 ----
"$DG" syscalls "$IMG" --json --jobs 2 >"$T/cold.json" 2>"$T/cold.err"
ok $? "syscalls --json of the whole image (cold cache)" "$T/cold.err"
! grep -q 'not analysed' "$T/cold.json"
ok $? "a cold run analyses every file (no 'not analysed' problem)" "$T/cold.json"
"$DG" syscalls "$IMG" --json --jobs 2 >"$T/warm.json" 2>"$T/warm.err"
ok $? "syscalls --json of the whole image (warm cache)" "$T/warm.err"
"$DG" syscalls "$IMG" --json --jobs 1 --no-cache >"$T/j1.json" 2>"$T/j1.err"
ok $? "syscalls --json of the whole image (--jobs 1, no cache)" "$T/j1.err"
cmp "$T/cold.json" "$T/warm.json" >"$T/err" 2>&1
ok $? "a warm-cache run gives byte-identical JSON to the cold one" "$T/err"
cmp "$T/cold.json" "$T/j1.json" >"$T/err" 2>&1
ok $? "--jobs 1 (no cache) and --jobs 2 give byte-identical JSON" "$T/err"

# q PYTHON: runs PYTHON with E = {path: executable entry} of the whole-image JSON, S(path) its
# syscall set, U(path) its unknown sites in its own object; prints what fails
q() {
	python3 - "$T/cold.json" "$1" <<'PY' 2>&1
import json, sys
d = json.load(open(sys.argv[1]))
E = {x["path"]: x for x in d["executables"]}
def S(p): return set(E[p]["syscalls"])
def U(p): return [u for u in E[p]["unknown_sites"] if u["object"] == p]
exec(sys.argv[2])
PY
}
q "p=E['/bin/ls']; assert len(S('/bin/ls'))>40 and not any('not analysed' in x for x in p['problems']), (len(S('/bin/ls')), p['problems'])" >"$T/out"
ok $? "programs and their libraries are analysed (/bin/ls: libc, libselinux, ...)" "$T/out"

# 1. syscall(3)
q "assert {'getpid','userfaultfd'} <= S('$O/getpid'), sorted(S('$O/getpid'))
assert not U('$O/getpid'), U('$O/getpid')" >"$T/out"
ok $? "syscall(SYS_getpid) and syscall(SYS_userfaultfd, 0): both in the set, no unknown site in the program" "$T/out"
q "u=U('$O/argvsc'); assert any(x['kind']=='wrapper call' and x['function']=='main' for x in u), E['$O/argvsc']['unknown_sites']" >"$T/out"
ok $? "syscall(atoi(argv[1])): an unknown 'wrapper call' site in the program's main" "$T/out"
q "u=E['$O/fp']['unknown_sites']; assert any(x['kind']=='syscall instruction' and x['function']=='syscall' and x['object'].endswith('/libc.so.6') for x in u), u
assert 'process_mrelease' not in S('$O/fp')" >"$T/out"
ok $? "syscall(3) called through a pointer: an unknown syscall instruction in libc's syscall" "$T/out"
"$DG" syscalls "$IMG" "$O/argvsc" >"$T/out" 2>&1
ok $? "the same without --strict: exit 0" "$T/out"
grep -q "unknown wrapper call: $O/argvsc main at 0x" "$T/out"
ok $? "the text output names the unknown wrapper call (object, function, address)" "$T/out"
"$DG" syscalls "$IMG" "$O/argvsc" --strict >"$T/out" 2>"$T/err"
rc=$?
[[ $rc -eq 7 ]] && grep -q "unknown numbers (--strict)" "$T/err"
ok $? "--strict with an unknown site: exit 7 (got $rc)" "$T/err"

# 2. raw syscalls; function vs object precision
q "assert 'acct' in S('$O/asmsc'), sorted(S('$O/asmsc'))
assert 'kexec_load' not in S('$O/asmsc')" >"$T/out"
ok $? "asm syscall in main found (acct); the one in a function nothing calls left out (kexec_load)" "$T/out"
q "assert not ({'acct','kexec_load','pivot_root','io_uring_setup','lookup_dcookie','vserver','create_module','tuxcall'} & S('/bin/ls')), S('/bin/ls')" >"$T/out"
ok $? "control: /bin/ls reaches none of the syscalls the test programs make" "$T/out"
"$DG" syscalls "$IMG" "$O/asmsc" /bin/ls /bin/dash /bin/busybox "$O/jtab" "$O/stripped" \
	--precision object --json >"$T/obj.json" 2>"$T/err"
ok $? "syscalls --precision object of some programs" "$T/err"
python3 - "$T/cold.json" "$T/obj.json" >"$T/out" 2>&1 <<'PY'
import json, sys
f = {x["path"]: x for x in json.load(open(sys.argv[1]))["executables"]}
d = json.load(open(sys.argv[2]))
assert d["precision"] == "object", d["precision"]
o = {x["path"]: x for x in d["executables"]}
assert {"acct", "kexec_load"} <= set(o["/opt/t/asmsc"]["syscalls"]), o["/opt/t/asmsc"]["syscalls"]
for p in o:
    extra = set(f[p]["syscalls"]) - set(o[p]["syscalls"])
    assert not extra, (p, "function precision has more", sorted(extra))
    assert len(f[p]["syscalls"]) > 0, p
PY
ok $? "object precision has kexec_load too; function precision never exceeds object (ls, dash, busybox, ...)" "$T/out"

# 3. -O0 stack spill: the wrapper's number comes from the caller's constant
q "assert 'pivot_root' in S('$O/spill'), sorted(S('$O/spill'))
assert not U('$O/spill'), U('$O/spill')" >"$T/out"
ok $? "-O0 my(155) with the number spilled to the stack: pivot_root found, no unknown site" "$T/out"

q "assert {'landlock_restrict_self','memfd_secret'} <= S('$O/tail'), sorted(S('$O/tail'))
assert not U('$O/tail'), U('$O/tail')" >"$T/out"
ok $? "wrappers of syscall(3): a tail call, and one moving the number to another register" "$T/out"

# 4. a function reached only through a table of function pointers
q "assert 'io_uring_setup' in S('$O/fptr'), sorted(S('$O/fptr'))" >"$T/out"
ok $? "a function called only through a global table of pointers: io_uring_setup found" "$T/out"

# 5. a jump table
q "want={'create_module','get_kernel_syms','query_module','nfsservctl','getpmsg','putpmsg','afs_syscall','tuxcall'}
assert want <= S('$O/jtab'), sorted(want - S('$O/jtab'))
assert not U('$O/jtab'), U('$O/jtab')" >"$T/out"
ok $? "a switch compiled to a jump table: the syscall of every case found" "$T/out"

# 6. stripped static program without .eh_frame
q "p=E['$O/stripped']; assert {'lookup_dcookie','vserver'} <= S('$O/stripped'), (sorted(S('$O/stripped')), p['problems'])" >"$T/out"
ok $? "stripped static program without .eh_frame: main's syscall and its callee's found" "$T/out"

# 7. i386
q "p=E['$O/i386']; assert {'acct','_llseek','exit'} <= set(p.get('i386_syscalls', [])), p
assert any('$O/i386' in x and 'i386 table' in x for x in p['problems']), p['problems']
assert {'acct','_llseek','exit'} <= set(json.load(open(sys.argv[1])).get('i386_union', []))" >"$T/out"
ok $? "a 32-bit program: i386_syscalls (acct, _llseek, exit) and a problem naming the i386 table" "$T/out"
q "p=E['$O/int80']; assert 'acct' in p.get('i386_syscalls', []) and 'acct' not in S('$O/int80'), p" >"$T/out"
ok $? "int 0x80 in x86-64 code: the number is read from the i386 table (acct = 51)" "$T/out"

# 9. generate (the provenance date comes from SOURCE_DATE_EPOCH: two runs are byte-identical)
export SOURCE_DATE_EPOCH=1700000000
"$DG" generate "$IMG" --runtime-base none -o "$T/p1.json" >"$T/out" 2>&1
ok $? "generate -o FILE" "$T/out"
"$DG" generate "$IMG" --runtime-base none -o "$T/p2.json" >/dev/null 2>&1 && cmp "$T/p1.json" "$T/p2.json" >"$T/out" 2>&1
ok $? "generate twice: byte-identical profiles" "$T/out"
python3 - "$T/p1.json" "$T/cold.json" >"$T/out" 2>&1 <<'PY'
import ctypes, json, sys
p = json.load(open(sys.argv[1]))
u = json.load(open(sys.argv[2]))
assert p["defaultAction"] == "SCMP_ACT_ERRNO", p["defaultAction"]
assert p["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"], p["architectures"]
names = p["syscalls"][0]["names"]
assert p["syscalls"][0]["action"] == "SCMP_ACT_ALLOW"
assert len(names) == len(set(names)), "duplicate names"
lib = ctypes.CDLL("libseccomp.so.2")
res = lib.seccomp_syscall_resolve_name_arch
res.argtypes = [ctypes.c_uint32, ctypes.c_char_p]
X86_64, X86 = 0xC000003E, 0x40000003
bad = [n for n in names if res(X86_64, n.encode()) < 0 and res(X86, n.encode()) < 0]
assert not bad, ("not known to libseccomp", bad)
want = set(u["union"]) | set(u.get("i386_union", []))
assert set(names) == want, ("profile != the union of syscalls --json", sorted(set(names) ^ want))
PY
ok $? "the profile: valid JSON, SCMP_ACT_ERRNO, x86-64 + x86, names = the union, all known to libseccomp" "$T/out"
python3 -c 'import json, sys; n = json.load(open(sys.argv[1]))["syscalls"][0]["names"]
assert n == sorted(n), ("not sorted", [(a, b) for a, b in zip(n, n[1:]) if a > b])' "$T/p1.json" >"$T/out" 2>&1
ok $? "the profile's names are sorted" "$T/out"
"$DG" generate "$IMG" --runtime-base none -o - >"$T/stdout.json" 2>"$T/err" && cmp "$T/p1.json" "$T/stdout.json" >>"$T/err" 2>&1
ok $? "generate -o - writes the same profile to stdout" "$T/err"
before=$(ls -A "$T" | sort)
"$DG" generate "$IMG" -o "$T/nodir/p.json" >"$T/out" 2>"$T/err"
rc=$?
[[ $rc -eq 6 && $(wc -l <"$T/err") -eq 1 ]] && grep -q "$T/nodir/p.json" "$T/err" && [[ ! -e "$T/nodir" ]]
ok $? "generate into a directory that does not exist: exit 6 (got $rc), one line naming the file" "$T/err"
mkdir "$T/isdir"
"$DG" generate "$IMG" -o "$T/isdir" >"$T/out" 2>"$T/err"
rc=$?
rmdir "$T/isdir" 2>>"$T/err"
after=$(ls -A "$T" | sort)
[[ $rc -eq 6 && "$before" == "$after" && $(wc -l <"$T/err") -eq 1 ]]
ok $? "generate onto a directory: exit 6 (got $rc), one line, no temp file left behind" "$T/err"

# 10. bad usage
"$DG" syscalls "$IMG" --precision bogus >/dev/null 2>"$T/err"
[[ $? -eq 2 ]]
ok $? "--precision bogus: exit 2" "$T/err"
"$DG" syscalls "$IMG" --jobs 0 >/dev/null 2>"$T/err"
[[ $? -eq 2 ]]
ok $? "--jobs 0: exit 2" "$T/err"
"$DG" generate "$IMG" >/dev/null 2>"$T/err"
[[ $? -eq 2 ]]
ok $? "generate without -o: exit 2" "$T/err"
"$DG" syscalls "$IMG" /no/such/program >/dev/null 2>"$T/err"
rc=$?
[[ $rc -eq 3 ]] && grep -q "/no/such/program" "$T/err"
ok $? "a PATH that is not in the image: exit 3 (got $rc)" "$T/err"
"$DG" syscalls "$IMG" "$O/readme.txt" >/dev/null 2>"$T/err"
rc=$?
[[ $rc -eq 3 ]] && grep -q "readme.txt: not an ELF file" "$T/err"
ok $? "a PATH that is not an ELF file: exit 3 (got $rc)" "$T/err"

tap_end
