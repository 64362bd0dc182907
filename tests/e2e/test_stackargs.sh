#!/usr/bin/env bash
# Syscall numbers passed as stack arguments (Go's ABI0 assembly wrappers such as
# syscall.RawSyscall read the number at 8(%rsp); i386 cdecl), on small assembled programs:
# the number is found where the stack pointer is known from the function's entry, and also
# where paths that disagree on it joined but the word was stored at [rsp+0] since (Go's
# godbus.(*Conn).Auth in runc: `movq $0x6b,(%rsp); call syscall.rawSyscallNoError`); a word
# the stack pointer moved away from, or that a store the data flow does not model (SSE,
# 16-bit) overwrote, is never taken for the argument (an unknown site instead).
set -uo pipefail
DG=${1:?usage: test_stackargs.sh DOCKERGATE}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tools/tap.sh"
TAP_NAME=stackargs
T=$(mktemp -d "${TMPDIR:-/tmp}/dg-stackargs.XXXXXX")
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/root/bin"

# wrap: ABI0, the number in the first stack word above the return address
WRAP='
	.globl wrap
	.type wrap,@function
wrap:
	mov 0x10(%rsp),%rdi
	mov 0x8(%rsp),%rax
	syscall
	ret
	.size wrap,.-wrap
	.globl _start
	.type _start,@function
_start:
	call caller
	mov $60,%eax
	syscall
	.size _start,.-_start'

prog() { # prog NAME BODY-OF-caller
	printf '\t.text\n%s\n\t.globl caller\n\t.type caller,@function\ncaller:\n%s\n\t.size caller,.-caller\n' \
		"$WRAP" "$2" >"$T/$1.s"
	gcc -nostdlib -static -o "$T/root/bin/$1" "$T/$1.s" 2>"$T/$1.err"
}

# 1. the stack pointer known from entry (a Go frame: sub, spill of the frame pointer)
prog known '
	sub $0x28,%rsp
	mov %rbp,0x20(%rsp)
	lea 0x20(%rsp),%rbp
	movq $107,(%rsp)
	movups %xmm15,0x8(%rsp)
	call wrap
	mov 0x20(%rsp),%rbp
	add $0x28,%rsp
	ret'
# 2. two paths that leave different frames join (sp no longer known from entry); the
#    number is stored at [rsp] after the join
prog joined '
	test %rbx,%rbx
	jne 1f
	sub $8,%rsp
1:	sub $0x20,%rsp
	movq $108,(%rsp)
	movq $0,0x8(%rsp)
	call wrap
	ret'
# 3. as 2, but sp moves (push) between the store and the call: the first stack word is then
#    what was pushed (an unknown register), never 109
prog moved '
	test %rbx,%rbx
	jne 1f
	sub $8,%rsp
1:	sub $0x20,%rsp
	movq $109,(%rsp)
	push %rbx
	call wrap
	ret'
# 4. the word overwritten by a store the data flow does not model (an SSE register, a 16-bit
#    store into it): never the stale 110 (getppid) or 111 (getpgrp)
prog sse '
	sub $0x28,%rsp
	movq $110,(%rsp)
	movups %xmm0,(%rsp)
	call wrap
	add $0x28,%rsp
	ret'
prog half '
	sub $0x28,%rsp
	movq $111,(%rsp)
	movw %bx,(%rsp)
	call wrap
	add $0x28,%rsp
	ret'
for p in known joined moved sse half; do
	[[ -x $T/root/bin/$p ]]
	ok $? "$p: assembled" "$T/$p.err"
done

js() { "$DG" syscalls --no-cache --json "$T/root" "/bin/$1" >"$T/$1.json" 2>"$T/$1.log"; }
has() { python3 - "$T/$1.json" "$2" "$3" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))["executables"][0]
want, unknown = sys.argv[2], int(sys.argv[3])
ok = (want in j["syscalls"]) if want != "-" else True
sys.exit(0 if ok and len(j["unknown_sites"]) == unknown else 1)
PY
}
stale() { # stale PROG SYSCALL TEXT: one unknown wrapper call, and SYSCALL (the stale word) not in the set
	js "$1"
	has "$1" - 1
	local r1=$?
	! grep -q "\"$2\"" "$T/$1.json"
	ok $((r1 | $?)) "$3" "$T/$1.json"
}
js known
has known geteuid 0
ok $? "known sp: the number (geteuid) at 0(SP) is found, no unknown site" "$T/known.json"
js joined
has joined getegid 0
ok $? "sp unknown after a join: the word stored at [rsp] since is the number (getegid), no unknown site" "$T/joined.json"
stale moved setpgid "sp moved after the store: an unknown wrapper call, not the stale 109 (setpgid)"
stale sse getppid "a word overwritten by movups: an unknown wrapper call, not the stale 110 (getppid)"
stale half getpgrp "a word partly overwritten by a 16-bit store: unknown, not the stale 111 (getpgrp)"
tap_end
