#!/usr/bin/env bash
# `dockergate generate` in every format, the ENOSYS denials, --deny-errno, --base, and
# `dockergate diff` / `merge`, on tiny static programs whose syscalls are known exactly
# (raw `syscall` instructions, no libc), on hand-written profiles and on the real sample
# image (busybox-static + libc6): every format written and parsed back or checked (bpf:
# non-empty, a multiple of 8 bytes; pfc: names the allowed syscalls; docker/oci/k8s: the
# right keys), byte-identical output with SOURCE_DATE_EPOCH, an unknown name refused
# with nothing written, atomic writes, clone3 -> ENOSYS when clone is allowed, --base
# docker-default never allowing more than docker-default, bad usage.
# Usage: test_profiles.sh DOCKERGATE   (prints TAP)
set -uo pipefail
DG=${1:?dockergate}
T=$(mktemp -d "${TMPDIR:-/tmp}/dg-profiles.XXXXXX")
trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME="$T/xdg"
export SOURCE_DATE_EPOCH=1700000000
TAP_NAME="profiles" TAP_DIAG=20
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tools/tap.sh"

# ---- the programs: raw syscalls only, so the allowed set is known exactly ----
mkdir -p "$T/img-a/bin" "$T/img-b/bin" "$T/img-c/bin"
cat >"$T/a.c" <<'C'
/* read write clone newfstatat openat close exit_group */
void _start(void)
{
	__asm__ volatile("mov $0, %%eax; syscall; mov $1, %%eax; syscall; mov $56, %%eax; syscall;"
			 "mov $262, %%eax; syscall; mov $257, %%eax; syscall; mov $3, %%eax; syscall;"
			 "mov $231, %%eax; syscall" ::: "rax", "rcx", "r11", "memory");
}
C
cat >"$T/b.c" <<'C'
/* x86-64 exit_group, and i386 clock_gettime (265) through int 0x80 */
void _start(void)
{
	__asm__ volatile("mov $265, %%eax; int $0x80; mov $231, %%eax; syscall" ::: "rax", "rcx", "r11", "memory");
}
C
cat >"$T/c.c" <<'C'
/* what Docker's default denies: kexec_load (246), mount (165), clone3 (435); and clone, exit_group */
void _start(void)
{
	__asm__ volatile("mov $246, %%eax; syscall; mov $165, %%eax; syscall; mov $435, %%eax; syscall;"
			 "mov $56, %%eax; syscall; mov $231, %%eax; syscall" ::: "rax", "rcx", "r11", "memory");
}
C
for x in a b c; do
	gcc -static -nostdlib -O1 -o "$T/img-$x/bin/prog" "$T/$x.c" || { echo "not ok 1 - cannot compile $x.c"; exit 1; }
done
A="$T/img-a" B="$T/img-b" C="$T/img-c"
q() { # q PYTHON-CODE FILE...: run a check with json/yaml loaded; argv[1:] are the files
	python3 -c "import json, sys, yaml
$1" "${@:2}"
}

# 1. docker format
"$DG" generate --runtime-base none "$A" -o "$T/a.json" 2>"$T/err"
ok $? "generate (docker): exit 0" "$T/err"
q "p = json.load(open(sys.argv[1]))
assert list(p) == ['defaultAction', 'defaultErrnoRet', 'architectures', 'syscalls', 'dockergate'], list(p)
assert p['defaultAction'] == 'SCMP_ACT_ERRNO' and p['defaultErrnoRet'] == 1, p
assert p['architectures'] == ['SCMP_ARCH_X86_64'], p['architectures']
r = p['syscalls'][0]
assert r['action'] == 'SCMP_ACT_ALLOW' and r['names'] == sorted(r['names']), r
assert set(r['names']) == {'read','write','clone','newfstatat','openat','close','exit_group'}, r['names']
d = p['dockergate']
assert d['date'] == '2023-11-14T22:13:20Z' and d['scope'] == 'image' and d['precision'] == 'function', d
assert d['tool'].startswith('dockergate ') and 'unknown_sites' in d, d" "$T/a.json" >"$T/out" 2>&1
ok $? "docker: keys, ERRNO/1, x86-64 only, exactly the program's syscalls sorted, provenance dated from SOURCE_DATE_EPOCH" "$T/out"

# 2. the ENOSYS denials
q "p = json.load(open(sys.argv[1]))
e = {r['names'][0]: r['errnoRet'] for r in p['syscalls'][1:]}
assert all(r['action'] == 'SCMP_ACT_ERRNO' and len(r['names']) == 1 for r in p['syscalls'][1:]), p['syscalls'][1:]
assert e == {'clone3': 38, 'close_range': 38, 'openat2': 38, 'rseq': 38, 'statx': 38}, e
assert list(e) == sorted(e), list(e)" "$T/a.json" >"$T/out" 2>&1
ok $? "ENOSYS for clone3 (clone allowed), statx (newfstatat), openat2 (openat), close_range (close), rseq; not faccessat2 (faccessat not allowed)" "$T/out"
grep -q "ENOSYS for clone3, close_range, openat2, rseq, statx" "$T/err" && grep -q "7 allowed, [0-9]* fewer than Docker's default ([0-9]*)" "$T/err"
ok $? "the summary on stderr: allowed count, reduction against Docker's default, the ENOSYS denials" "$T/err"

# 3. every format, stable
for f in docker oci k8s k8s-json bpf pfc; do
	"$DG" generate --runtime-base none "$A" --format "$f" -o "$T/a1.$f" 2>"$T/err" && "$DG" generate --runtime-base none "$A" --format "$f" -o "$T/a2.$f" 2>>"$T/err" &&
		cmp "$T/a1.$f" "$T/a2.$f" >>"$T/err" 2>&1
	ok $? "--format $f: written twice, byte-identical" "$T/err"
done
SOURCE_DATE_EPOCH=1800000000 "$DG" generate --runtime-base none "$A" -o "$T/a3.docker" 2>/dev/null
grep -q '"date": "2027-01-15T08:00:00Z"' "$T/a3.docker"
ok $? "the provenance date follows SOURCE_DATE_EPOCH"
q "p = json.load(open(sys.argv[1]))
assert list(p) == ['defaultAction', 'defaultErrnoRet', 'architectures', 'syscalls'], list(p)
d = json.load(open(sys.argv[2]))
assert p['syscalls'] == d['syscalls'] and p['architectures'] == d['architectures']" "$T/a1.oci" "$T/a.json" >"$T/out" 2>&1
ok $? "oci: the linux.seccomp object (no provenance), same rules as docker" "$T/out"
q "y = yaml.safe_load(open(sys.argv[1])); j = json.load(open(sys.argv[2])); d = json.load(open(sys.argv[3]))
assert y == j, 'YAML and JSON forms differ'
assert y['apiVersion'] == 'security-profiles-operator.x-k8s.io/v1beta1' and y['kind'] == 'SeccompProfile', y
assert y['metadata']['name'] == 'img-a', y['metadata']
assert y['metadata']['annotations']['dockergate/date'] == '2023-11-14T22:13:20Z'
s = y['spec']
assert s['defaultAction'] == 'SCMP_ACT_ERRNO' and s['architectures'] == ['SCMP_ARCH_X86_64'], s
assert s['syscalls'] == d['syscalls'], s['syscalls']" "$T/a1.k8s" "$T/a1.k8s-json" "$T/a.json" >"$T/out" 2>&1
ok $? "k8s: a SeccompProfile (YAML = JSON form), name from the image, spec = the docker rules" "$T/out"
"$DG" generate --runtime-base none "$A" --format k8s --name web.frontend-1 -o - 2>/dev/null | grep -q '^  name: "web.frontend-1"$'
ok $? "k8s: --name sets metadata.name"
sz=$(stat -c %s "$T/a1.bpf")
((sz > 0 && sz % 8 == 0))
ok $? "bpf: non-empty, a multiple of 8 bytes (got $sz)"
# the kernel runs the bpf filter: a loader installs it (no_new_privs + seccomp(2)) and makes
# an allowed call (write), a denied one (getpid: EPERM) and clone3 (ENOSYS)
cat >"$T/load.c" <<'C'
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	static struct sock_filter f[4096];
	int fd = open(argv[1], O_RDONLY);
	ssize_t n = read(fd, f, sizeof f);
	struct sock_fprog prog = {(unsigned short)(n / 8), f};
	if (argc < 2 || n <= 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
		return perror("install"), 2;
	long pid = syscall(SYS_getpid);
	int e1 = errno;
	long c3 = syscall(435, NULL, 0);
	int e2 = errno;
	char msg[] = "getpid=? clone3=?\n"; /* P: -1 with EPERM, N: -1 with ENOSYS */
	msg[7] = pid == -1 && e1 == EPERM ? 'P' : '?';
	msg[16] = c3 == -1 && e2 == ENOSYS ? 'N' : '?';
	syscall(SYS_write, 1, msg, sizeof msg - 1);
	syscall(SYS_exit_group, 0);
}
C
if gcc -O1 -o "$T/load" "$T/load.c" 2>"$T/err"; then
	"$T/load" "$T/a1.bpf" >"$T/out" 2>&1
	[[ $? -eq 0 && $(cat "$T/out") == "getpid=P clone3=N" ]]
	ok $? "bpf: the kernel loads it; getpid denied with EPERM, clone3 answered ENOSYS, write allowed" "$T/out"
else
	ok 1 "the bpf loader could not be compiled" "$T/err"
fi
ok_pfc=0
for nm in read write clone newfstatat openat close exit_group; do grep -q "\"$nm\"" "$T/a1.pfc" || ok_pfc=1; done
grep -q "ERRNO(38)" "$T/a1.pfc" && grep -q "action ERRNO(1)" "$T/a1.pfc" || ok_pfc=1
ok $ok_pfc "pfc: names every allowed syscall, ERRNO(38) for the fallbacks, ERRNO(1) by default" "$T/a1.pfc"
"$DG" generate --runtime-base none "$A" -o - 2>/dev/null | cmp - "$T/a.json" >"$T/out" 2>&1
ok $? "-o - writes the same profile to stdout" "$T/out"

# 4. i386 code adds the x86 architecture
"$DG" generate --runtime-base none "$B" -o "$T/b.json" 2>"$T/err"
q "p = json.load(open(sys.argv[1]))
assert p['architectures'] == ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'], p['architectures']
assert set(p['syscalls'][0]['names']) == {'clock_gettime', 'exit_group'}, p['syscalls'][0]
e = {r['names'][0] for r in p['syscalls'][1:]}
assert 'clock_gettime64' in e, e" "$T/b.json" >"$T/out" 2>&1
ok $? "reachable i386 code: SCMP_ARCH_X86 listed; clock_gettime64 answered ENOSYS (glibc's 32-bit fallback)" "$T/out"
"$DG" generate --runtime-base none "$B" --format pfc -o - 2>/dev/null | grep -q "filter for arch x86 "
ok $? "pfc of the i386 profile has a filter for x86"

# 5. --deny-errno
"$DG" generate --runtime-base none "$A" --deny-errno ENOSYS -o "$T/e.json" 2>/dev/null && "$DG" generate --runtime-base none "$A" --deny-errno 13 -o "$T/e13.json" 2>/dev/null
q "assert json.load(open(sys.argv[1]))['defaultErrnoRet'] == 38 and json.load(open(sys.argv[2]))['defaultErrnoRet'] == 13" \
	"$T/e.json" "$T/e13.json" >"$T/out" 2>&1
ok $? "--deny-errno ENOSYS / 13 set defaultErrnoRet" "$T/out"
q "p = json.load(open(sys.argv[1])); assert len(p['syscalls']) == 1, p['syscalls'][1:]" "$T/e.json" >"$T/out" 2>&1
ok $? "--deny-errno ENOSYS: no per-syscall ENOSYS rules (the default answers that)" "$T/out"

# 6. --base docker-default
"$DG" generate --runtime-base none "$C" -o "$T/c.json" 2>/dev/null && "$DG" generate --runtime-base none "$C" --base docker-default -o "$T/cb.json" 2>"$T/err"
ok $? "generate --base docker-default: exit 0" "$T/err"
grep -q "denies 3 syscalls the image's code can make, left out: clone3, kexec_load, mount" "$T/err"
ok $? "--base: a warning names what the base removed" "$T/err"
"$DG" diff docker-default "$T/cb.json" --json >"$T/d.json" 2>"$T/err"
q "d = json.load(open(sys.argv[1])); assert d['added'] == [], d['added']
p = json.load(open(sys.argv[2]))
assert set(p['syscalls'][0]['names']) == {'clone', 'exit_group'}, p['syscalls'][0]
e = {r['names'][0]: r['errnoRet'] for r in p['syscalls'][1:]}
assert e.get('clone3') == 38, e" "$T/d.json" "$T/cb.json" >"$T/out" 2>&1
ok $? "--base docker-default: nothing allowed that docker-default denies; clone3 removed and answered ENOSYS" "$T/out"
cat >"$T/base.json" <<'J'
{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
 {"names": ["read", "close", "exit_group"], "action": "SCMP_ACT_ALLOW"},
 {"names": ["write"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]},
 {"names": ["openat"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}}]}
J
"$DG" generate --runtime-base none "$A" --base "$T/base.json" -o "$T/ab.json" 2>"$T/err"
q "p = json.load(open(sys.argv[1]))
assert set(p['syscalls'][0]['names']) == {'read', 'write', 'close', 'exit_group'}, p['syscalls'][0]" "$T/ab.json" >"$T/out" 2>&1 &&
	grep -q "write is allowed only with argument conditions; counted as allowed" "$T/err"
ok $? "--base FILE: intersection (a CAP_SYS_ADMIN rule does not apply); a conditional rule counts, with a warning" "$T/out"
"$DG" generate --runtime-base none "$A" --json -o "$T/j.json" 2>"$T/sum.json"
q "s = json.load(open(sys.argv[1]))
assert s['allowed'] == 7 and s['allowed_x86_64'] == 7 and s['docker_default_x86_64'] > 250, s
assert s['fewer_than_docker_default'] == s['docker_default_x86_64'] - 7, s
assert s['enosys'] == ['clone3', 'close_range', 'openat2', 'rseq', 'statx'] and s['format'] == 'docker', s
assert isinstance(s['warnings'], list) and s['unknown_sites'] == 0, s" "$T/sum.json" >"$T/out" 2>&1
ok $? "--json: the summary as one JSON object on stderr" "$T/out"

# 7. errors: unknown names, atomic writes, bad usage
cat >"$T/unk.json" <<'J'
{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "no_such_syscall"], "action": "SCMP_ACT_ALLOW"}]}
J
echo original >"$T/keep.json"
before=$(ls -A "$T" | sort)
"$DG" merge "$T/unk.json" -o "$T/keep.json" >"$T/out" 2>"$T/err"
rc=$?
after=$(ls -A "$T" | sort)
[[ $rc -eq 3 && "$before" == "$after" && $(cat "$T/keep.json") == original ]] && grep -q "unknown syscall 'no_such_syscall'" "$T/err"
ok $? "a name libseccomp does not know: exit 3 naming it (got $rc), the target untouched, no temp file" "$T/err"
mkdir "$T/isdir"
before=$(ls -A "$T" | sort)
"$DG" generate --runtime-base none "$A" -o "$T/isdir" >"$T/out" 2>"$T/err"
rc=$?
after=$(ls -A "$T" | sort)
[[ $rc -eq 6 && "$before" == "$after" && -z "$(ls -A "$T/isdir")" ]]
ok $? "generate onto a directory: exit 6 (got $rc), no temp file left" "$T/err"
bad() { # bad STATUS NAME ARGS...
	local want=$1 name=$2
	shift 2
	"$DG" "$@" >"$T/out" 2>"$T/err"
	local rc=$?
	[[ $rc -eq $want && $(wc -l <"$T/err") -eq 1 ]]
	ok $? "$name: exit $want (got $rc), one line" "$T/err"
}
bad 2 "--format bogus" generate "$A" --format bogus -o "$T/x"
bad 2 "--deny-errno EBOGUS" generate "$A" --deny-errno EBOGUS -o "$T/x"
bad 2 "--deny-errno 0" generate "$A" --deny-errno 0 -o "$T/x"
bad 2 "--name Not_Valid with k8s" generate "$A" --format k8s --name Not_Valid -o "$T/x"
bad 3 "--base that does not exist" generate "$A" --base "$T/nothere.json" -o "$T/x"
bad 3 "--base that is not JSON" generate "$A" --base "$T/a1.pfc" -o "$T/x"
SOURCE_DATE_EPOCH=yesterday bad 2 "SOURCE_DATE_EPOCH=yesterday" generate "$A" -o "$T/x"
printf '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read\\nwrite"], "action": "SCMP_ACT_ALLOW"}]}' >"$T/nl.json"
bad 3 "a name with a newline in a profile" diff "$T/nl.json" docker-default
printf '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": []}' >"$T/allow.json"
bad 3 "a default-allow profile as --base" generate "$A" --base "$T/allow.json" -o "$T/x"
bad 2 "diff with one profile" diff "$T/a.json"
bad 2 "merge without profiles" merge
bad 2 "merge --format bogus" merge "$T/a.json" --format bogus
[[ ! -e "$T/x" ]]
ok $? "nothing written by the failed commands"

# 8. diff and merge on hand-written profiles
cat >"$T/p1.json" <<'J'
{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [
 {"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"},
 {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
 {"names": ["statx"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}
J
cat >"$T/p2.json" <<'J'
{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"], "syscalls": [
 {"name": "read", "action": "SCMP_ACT_ALLOW"},
 {"names": ["openat", "clone3"], "action": "SCMP_ACT_ALLOW"},
 {"names": ["statx"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
J
"$DG" diff "$T/p1.json" "$T/p2.json" >"$T/out" 2>&1
printf '%s\n' "+ clone3" "+ openat" "- exit_group" "- write" "~ clone3: errno 38 -> none" "~ statx: errno 38 -> 1" \
	"~ architectures: x86_64 -> x86_64 x86" "2 added, 2 removed (3 allowed in A, 3 in B)" | diff - "$T/out" >"$T/d" 2>&1
ok $? "diff: added, removed, errno overrides and architectures" "$T/d"
"$DG" diff "$T/p1.json" "$T/p2.json" --json >"$T/out" 2>&1
q "d = json.load(open(sys.argv[1]))
assert d['added'] == ['clone3', 'openat'] and d['removed'] == ['exit_group', 'write'], d
assert d['errno_changed'] == [{'name': 'clone3', 'a': 38, 'b': None}, {'name': 'statx', 'a': 38, 'b': 1}], d['errno_changed']" "$T/out" >"$T/d" 2>&1
ok $? "diff --json" "$T/d"
"$DG" diff docker-default docker-default >"$T/out" 2>&1 && tail -1 "$T/out" | grep -q "^0 added, 0 removed"
ok $? "diff docker-default docker-default: nothing" "$T/out"
"$DG" merge "$T/p1.json" "$T/p2.json" -o "$T/m.json" 2>"$T/err"
q "m = json.load(open(sys.argv[1]))
assert m['syscalls'][0]['names'] == ['clone3', 'exit_group', 'openat', 'read', 'write'], m['syscalls'][0]
assert m['syscalls'][1:] == [{'names': ['statx'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 38}], m['syscalls'][1:]
assert m['architectures'] == ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'] and m['dockergate']['date'] == '2023-11-14T22:13:20Z', m" "$T/m.json" >"$T/out" 2>&1 &&
	grep -q "statx: errno 1 in .*p2.json, 38 in an earlier profile: 38 kept" "$T/err"
ok $? "merge: the union, architectures of all, the first errno override kept with a warning" "$T/out"
"$DG" merge "$T/p1.json" "$T/p2.json" -o "$T/m2.json" 2>/dev/null && cmp "$T/m.json" "$T/m2.json" >"$T/out" 2>&1 &&
	"$DG" diff "$T/m.json" "$T/p2.json" | tail -1 | grep -q "^0 added, 2 removed"
ok $? "merge is stable, and diff reads what it writes" "$T/out"
"$DG" merge "$T/a.json" "$T/b.json" --format bpf -o "$T/m.bpf" 2>"$T/err" && [[ -s "$T/m.bpf" ]]
ok $? "merge of two generated profiles, as bpf" "$T/err"

# 9. the real sample image
S=$(cd "$here/../.." && pwd)/build/sample/sample.tar
if bash "$here/../tools/realimage.sh" sample >/dev/null 2>"$T/err"; then
	"$DG" generate "$S" --base docker-default -o "$T/s.json" 2>"$T/err" && "$DG" generate "$S" -o "$T/s0.json" 2>>"$T/err" &&
		"$DG" diff docker-default "$T/s.json" --json >"$T/d.json" 2>>"$T/err"
	q "d = json.load(open(sys.argv[1])); assert d['added'] == [], d['added']
p = json.load(open(sys.argv[2])); n = p['syscalls'][0]['names']
assert len(n) > 50 and 'execve' in n or 'execve' not in json.load(open(sys.argv[3]))['syscalls'][0]['names'], len(n)" \
		"$T/d.json" "$T/s.json" "$T/s0.json" >>"$T/err" 2>&1
	ok $? "sample image (busybox + libc6): --base docker-default allows nothing docker-default denies" "$T/err"
	for f in oci k8s bpf pfc; do "$DG" generate "$S" --format "$f" -o "$T/s.$f" 2>"$T/err" || break; done
	ok $? "sample image: every format written" "$T/err"
	# the container runtime's own calls (data/runtime-base.json): in every profile by default
	"$DG" generate "$S" -o "$T/rb-all.json" 2>"$T/err" && "$DG" generate "$S" --runtime-base none -o "$T/rb-none.json" 2>>"$T/err" &&
		"$DG" generate "$S" --runtime-base crun -o "$T/rb-crun.json" 2>>"$T/err"
	q "import json as J
names = lambda f: set(J.load(open(f))['syscalls'][0]['names'])
rb = J.load(open(sys.argv[4]))['runtimes']
a, n, c = names(sys.argv[1]), names(sys.argv[2]), names(sys.argv[3])
want = set(rb['runc']['nnp_false']) | set(rb['runc']['nnp_true']) | set(rb['crun']['nnp_false']) | set(rb['crun']['nnp_true']) | {'restart_syscall'}
assert want <= a, sorted(want - a)
assert a == n | want, (sorted(a - (n | want)), sorted((n | want) - a))
assert c == n | set(rb['crun']['nnp_false']) | set(rb['crun']['nnp_true']) | {'restart_syscall'}
assert J.load(open(sys.argv[1]))['dockergate']['runtime_base'] == 'all'" \
		"$T/rb-all.json" "$T/rb-none.json" "$T/rb-crun.json" "$(cd "$here/../.." && pwd)/data/runtime-base.json" >>"$T/err" 2>&1
	ok $? "--runtime-base: all (default) adds both runtimes' measured sets and restart_syscall, crun only crun's, none nothing" "$T/err"
	"$DG" generate "$S" --runtime-base bogus -o "$T/x.json" >/dev/null 2>"$T/err"
	[[ $? -eq 2 && ! -e "$T/x.json" ]]
	ok $? "--runtime-base bogus: exit 2, nothing written" "$T/err"
	"$DG" explain "$S" capset /bin/busybox >"$T/out" 2>"$T/err"
	grep -q 'container runtime (runc, crun) calls it' "$T/out"
	ok $? "explain says when the container runtime is why a syscall is allowed" "$T/out"
else
	ok 1 "the sample image could not be built" "$T/err"
fi

tap_end
