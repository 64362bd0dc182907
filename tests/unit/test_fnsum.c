/* The instruction-set backend on known encodings, and the syscall summary of a
 * real C library: what it finds, exact cache round trips, and a decoder that
 * refuses every truncation and survives damaged bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dockergate/elf.h"
#include "dockergate/fnsum.h"
#include "analysis/isa.h"
#include "dockergate/reach.h"
#include "tap.h"
#include "dockergate/util.h"

static struct dg_insn dec(const struct dg_isa *isa, struct dg_isa_ctx *c, const char *hex, uint64_t addr)
{
	unsigned char b[16];
	size_t n = 0;
	for (const char *p = hex; p[0] && p[1]; p += 2) {
		while (*p == ' ')
			p++;
		unsigned v;
		sscanf(p, "%2x", &v);
		b[n++] = (unsigned char)v;
	}
	struct dg_insn d;
	isa->decode(c, b, n, addr, &d);
	return d;
}

static void isa_tests(void)
{
	const struct dg_isa *x = dg_isa_for(62, 64), *y = dg_isa_for(3, 32);
	ok(x && y && !dg_isa_for(183, 64), "backends: x86-64 and i386, none for aarch64 yet");
	struct dg_isa_ctx *c, *c32;
	ok(x->open(&c) == 0 && y->open(&c32) == 0, "backends open");
	struct dg_insn d = dec(x, c, "b827000000", 0x1000);
	ok(d.len == 5 && d.df == DG_DF_SET && d.dst == 0 && d.imm == 0x27 && d.width == 4, "mov eax, 0x27 sets rax");
	d = dec(x, c, "0f05", 0x1000);
	ok(d.kind == DG_IK_SYSCALL && (d.writes & 1) && (d.writes & (1u << 1)) && (d.writes & (1u << 11)),
	   "syscall is a site and clobbers rax, rcx, r11");
	d = dec(x, c, "cd80", 0);
	ok(d.kind == DG_IK_SYSCALL32, "int 0x80 is an i386-table site");
	d = dec(x, c, "31c0", 0);
	ok(d.df == DG_DF_SET && d.imm == 0 && d.dst == 0, "xor eax, eax is zero");
	d = dec(x, c, "4889f8", 0);
	ok(d.df == DG_DF_COPY && d.dst == 0 && d.src == 7 && d.width == 8, "mov rax, rdi copies");
	d = dec(x, c, "4883c805", 0);
	ok(d.df == DG_DF_OR && d.imm == 5, "or rax, 5");
	d = dec(x, c, "4883e807", 0);
	ok(d.df == DG_DF_ADD && d.imm == -7, "sub rax, 7 is an add of -7");
	d = dec(x, c, "89442408", 0);
	ok(d.df == DG_DF_STORE && d.base == 4 && d.imm == 8 && d.src == 0, "mov [rsp+8], eax stores a slot");
	d = dec(x, c, "8b45fc", 0);
	ok(d.df == DG_DF_LOAD && d.base == 5 && d.imm == -4 && d.dst == 0, "mov eax, [rbp-4] loads a slot");
	d = dec(x, c, "66b80100", 0);
	ok(d.df == DG_DF_NONE && (d.writes & 1), "a 16-bit write makes rax unknown");
	d = dec(x, c, "e810000000", 0x2000);
	ok(d.kind == DG_IK_CALL && !d.indirect && d.target == 0x2015 && (d.writes & 1), "direct call");
	d = dec(x, c, "ff1500010000", 0x3000);
	ok(d.kind == DG_IK_CALL && d.indirect && d.has_mem && d.mem_load && d.mem == 0x3106, "call [rip+x] reads a slot");
	d = dec(x, c, "ffe0", 0);
	ok(d.kind == DG_IK_JMP && d.indirect && !d.has_mem, "jmp rax is indirect");
	d = dec(x, c, "7405", 0x100);
	ok(d.kind == DG_IK_JCC && d.target == 0x107, "je is conditional");
	d = dec(x, c, "488d0510000000", 0x4000);
	ok(d.df == DG_DF_SET && d.has_konst && d.konst == 0x4017, "lea rax, [rip+x] materialises an address");
	d = dec(x, c, "c3", 0);
	ok(d.kind == DG_IK_RET, "ret");
	d = dec(x, c, "0f0b", 0);
	ok(d.kind == DG_IK_STOP, "ud2 stops");
	d = dec(x, c, "ff", 0);
	ok(d.kind == DG_IK_BAD && d.len == 1, "a truncated instruction is one bad byte");
	d = dec(y, c32, "65ff1510000000", 0);
	ok(d.kind == DG_IK_SYSCALL32, "i386: call *%%gs:0x10 enters the kernel");
	d = dec(y, c32, "b8fc000000", 0);
	ok(d.df == DG_DF_SET && d.imm == 0xfc, "i386: mov eax, 252");
	x->close(c);
	y->close(c32);
}

static unsigned char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long l = ftell(f);
	rewind(f);
	unsigned char *p = dg_xmalloc((size_t)l + 1);
	*n = fread(p, 1, (size_t)l, f);
	fclose(f);
	return p;
}

static int has_const_site(const struct dg_fsum *s, uint32_t nr)
{
	for (size_t i = 0; i < s->nsites; i++)
		if (s->sites[i].v.kind == DG_FV_CONST)
			for (uint16_t k = 0; k < s->sites[i].v.n; k++)
				if (s->nums[s->sites[i].v.first + k] == nr)
					return 1;
	return 0;
}

/* PATH read and parsed into *P and *E, or a SKIP line and 0 */
static int load_elf(const char *path, unsigned char **p, struct dg_elf **e)
{
	size_t n;
	struct dg_error err = DG_ERROR_INIT;
	*p = slurp(path, &n);
	*e = NULL;
	if (!*p || dg_elf_parse(*p, n, e, &err) < 0) {
		printf("ok %d - # SKIP %s not readable\n", ++tap_n, path);
		free(*p);
		return 0;
	}
	return 1;
}

static void libc_tests(const char *path)
{
	unsigned char *p;
	struct dg_elf *e;
	struct dg_error err = DG_ERROR_INIT;
	if (!load_elf(path, &p, &e))
		return;
	struct dg_fsum *s = dg_fsum_build(e);
	ok(!s->error && s->nfns > 1000 && s->nsites > 100, "libc: %zu functions, %zu syscall sites", s->nfns, s->nsites);
	ok(has_const_site(s, 231) && has_const_site(s, 15), "libc: exit_group (231) and rt_sigreturn (15) sites resolved");
	size_t resolved = 0;
	for (size_t i = 0; i < s->nsites; i++)
		resolved += s->sites[i].v.kind != DG_FV_UNKNOWN;
	ok(resolved * 100 >= s->nsites * 95, "libc: %zu of %zu sites resolved or wrapper arguments", resolved, s->nsites);
	int wrapper = 0;
	for (size_t i = 0; i < s->nfns; i++)
		if (s->fns[i].name && !strcmp(s->fns[i].name, "syscall"))
			wrapper = s->fns[i].wmask == (1u << 7); /* the number comes in rdi */
	ok(wrapper, "libc: syscall(3) is found to be a wrapper taking the number in rdi");
	ok(s->nroots > 0 && s->ndata_takes > 0 && s->entry_fn != DG_FSUM_NONE, "libc: roots, data takes, entry");

	unsigned char *b1, *b2;
	size_t l1, l2;
	dg_fsum_encode(s, &b1, &l1);
	struct dg_fsum *back = NULL;
	ok(dg_fsum_decode(b1, l1, &back, &err) == 0, "libc: the record decodes");
	if (back) {
		dg_fsum_encode(back, &b2, &l2);
		ok(l1 == l2 && !memcmp(b1, b2, l1), "libc: encode(decode(record)) is the record (%zu bytes)", l1);
		ok(back->nfns == s->nfns && back->nsites == s->nsites && back->nargcalls == s->nargcalls,
		   "libc: the decoded summary has the same functions, sites and wrapper calls");
		free(b2);
		dg_fsum_free(back);
	}
	/* every truncation is refused */
	int trunc_ok = 1;
	for (size_t cut = 0; cut < l1; cut += (cut < 4096 ? 1 : 997)) {
		struct dg_fsum *t = NULL;
		if (dg_fsum_decode(b1, cut, &t, &err) == 0) {
			trunc_ok = 0;
			dg_fsum_free(t);
		}
	}
	ok(trunc_ok, "libc: every truncated record is refused");
	/* damaged bytes: refused or decoded, never a crash (ASan watches) */
	unsigned char *m = dg_xmalloc(l1);
	unsigned seed = 12345;
	int decoded = 0, refused = 0;
	for (int round = 0; round < 400; round++) {
		memcpy(m, b1, l1);
		for (int k = 0; k < 1 + round % 4; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = (round < 200 ? (seed >> 8) % (l1 < 2048 ? l1 : 2048) : (seed >> 8) % l1);
			m[at] ^= (unsigned char)(1u << ((seed >> 4) % 8));
		}
		struct dg_fsum *t = NULL;
		if (dg_fsum_decode(m, l1, &t, &err) == 0) {
			decoded++;
			/* what decodes is consistent enough to walk */
			for (size_t i = 0; i < t->nfns; i++)
				(void)dg_fsum_fn_at(t, t->fns[i].addr);
			dg_fsum_free(t);
		} else {
			refused++;
		}
	}
	ok(decoded + refused == 400, "libc: 400 damaged records: %d refused, %d decoded, no crash", refused, decoded);
	free(m);
	free(b1);
	dg_fsum_free(s);
	dg_elf_free(e);
	free(p);
}

/* A program that runs another by a constant path: Debian's diff runs /usr/bin/pr (diff -l)
 * through execv from a function of its own (diffutils is Essential: on every Debian system). */
static void exec_name_tests(const char *path)
{
	unsigned char *p;
	struct dg_elf *e;
	struct dg_error err = DG_ERROR_INIT;
	if (!load_elf(path, &p, &e))
		return;
	uint8_t kind;
	int an;
	ok(dg_exec_import("execv", &kind, &an) && kind == DG_EXK_PATH && an == 0 &&
		   dg_exec_import("posix_spawnp", &kind, &an) && kind == DG_EXK_FILE && an == 1 &&
		   dg_exec_import("popen", &kind, &an) && kind == DG_EXK_SHELL &&
		   dg_exec_import("dlmopen", &kind, &an) && kind == DG_EXK_LIB && an == 1 &&
		   dg_exec_import("fexecve", &kind, &an) && an == -1 && !dg_exec_import("printf", &kind, &an),
	   "exec imports: kinds and the argument naming what runs");
	struct dg_fsum *s = dg_fsum_build(e);
	int found = 0, passes = 0;
	for (size_t i = 0; i < s->nargs; i++)
		if (s->args[i].v.kind == DG_FV_STR)
			for (uint16_t k = 0; k < s->args[i].v.n; k++)
				found |= !strcmp(s->strings + s->nums[s->args[i].v.first + k], "/usr/bin/pr");
	for (size_t i = 0; i < s->nfns; i++)
		passes |= s->fns[i].pmask[DG_EXK_PATH] != 0;
	ok(found && passes, "diff: the constant \"/usr/bin/pr\" is kept at the call that runs it, and a function passes a path on");
	unsigned char *b1, *b2;
	size_t l1, l2;
	dg_fsum_encode(s, &b1, &l1);
	struct dg_fsum *back = NULL;
	int same = 0;
	if (dg_fsum_decode(b1, l1, &back, &err) == 0) {
		dg_fsum_encode(back, &b2, &l2);
		same = l1 == l2 && !memcmp(b1, b2, l1);
		free(b2);
		dg_fsum_free(back);
	}
	ok(same, "diff: the record with names and pass-on masks round-trips exactly");
	/* a name's offset past the string table is refused */
	int refused = 1;
	for (size_t cut = 0; cut < l1; cut++) {
		struct dg_fsum *t = NULL;
		if (dg_fsum_decode(b1, cut, &t, &err) == 0) {
			refused = 0;
			dg_fsum_free(t);
		}
	}
	ok(refused, "diff: every truncated record is refused");
	free(b1);
	dg_fsum_free(s);
	dg_elf_free(e);
	free(p);
}

static void reach_record_tests(void)
{
	struct dg_reach *r = dg_xcalloc(1, sizeof *r);
	r->native[0] = 0x13;
	r->native[29] = 0x80; /* 231 */
	r->i386[1] = 0x08;
	r->has_i386 = r->any_indirect = 1;
	r->nobjs = 3;
	r->objs = dg_xcalloc(3, sizeof *r->objs);
	r->objs[1] = (struct dg_reach_objstat){.fns = 3000, .reachable_fns = 1800, .sites = 200, .resolved = 199};
	r->objs[2].error = dg_xstrdup("no disassembler for this machine");
	r->nunknown = 2;
	r->unknown = dg_xcalloc(2, sizeof *r->unknown);
	r->unknown[0] = (struct dg_reach_unknown){1, 42, 0x86768, 0, dg_xstrdup("sighandler_setxid")};
	r->unknown[1] = (struct dg_reach_unknown){0, 7, 0x1234, 1, NULL};
	r->reachable_fns = 1800;
	r->total_fns = 3100;
	r->nexecs = 3;
	r->execs = dg_xcalloc(3, sizeof *r->execs);
	r->execs[0] = (struct dg_reach_exec){DG_EXK_SHELL, dg_xstrdup("echo hi | cat"), dg_xstrdup("system"), 0, 0x1200,
					     dg_xstrdup("main")};
	r->execs[1] = (struct dg_reach_exec){DG_EXK_FILE, NULL, dg_xstrdup("execvp"), 2, 0x5000, NULL};
	r->execs[2] = (struct dg_reach_exec){DG_EXK_LIB, dg_xstrdup("libm.so.6"), dg_xstrdup("dlopen"), 1, 0, NULL};
	r->calls_exec = r->calls_dlopen = 1;
	struct dg_strv pr = {0};
	dg_strv_push(&pr, "libfoo.so.1: not found (needed by /app)");
	unsigned char *b1, *b2;
	size_t l1, l2;
	dg_reach_encode(r, &pr, &b1, &l1);
	struct dg_reach *back = NULL;
	struct dg_strv pr2 = {0};
	struct dg_error err = DG_ERROR_INIT;
	ok(dg_reach_decode(b1, l1, 3, &back, &pr2, &err) == 0, "reach record: decodes");
	if (back) {
		dg_reach_encode(back, &pr2, &b2, &l2);
		ok(l1 == l2 && !memcmp(b1, b2, l1) && pr2.n == 1 && !strcmp(pr2.v[0], pr.v[0]) &&
			   !strcmp(back->unknown[0].fn_name, "sighandler_setxid") && !back->unknown[1].fn_name &&
			   back->nexecs == 3 && !strcmp(back->execs[0].arg, "echo hi | cat") && !back->execs[1].arg &&
			   back->execs[1].obj == 2 && back->calls_exec && back->calls_dlopen,
		   "reach record: exact round trip (%zu bytes)", l1);
		free(b2);
		dg_reach_free(back);
	}
	struct dg_strv junk = {0};
	ok(dg_reach_decode(b1, l1, 4, &back, &junk, &err) < 0 && junk.n == 0,
	   "reach record: refused for a load set of another size");
	int trunc_ok = 1;
	for (size_t cut = 0; cut < l1; cut++)
		if (dg_reach_decode(b1, cut, 3, &back, &junk, &err) == 0) {
			trunc_ok = 0;
			dg_reach_free(back);
		}
	ok(trunc_ok && junk.n == 0, "reach record: every truncation refused, nothing added to the problems");
	unsigned char *m = dg_xmalloc(l1);
	unsigned seed = 777;
	int n_ok = 0, n_bad = 0;
	for (int round = 0; round < 2000; round++) {
		memcpy(m, b1, l1);
		seed = seed * 1103515245u + 12345u;
		m[(seed >> 8) % l1] ^= (unsigned char)(1u << ((seed >> 4) % 8));
		struct dg_strv p3 = {0};
		if (dg_reach_decode(m, l1, 3, &back, &p3, &err) == 0) {
			for (size_t i = 0; i < back->nunknown; i++)
				back->unknown[i].obj < 3 ? n_ok++ : n_bad++;
			for (size_t i = 0; i < back->nexecs; i++)
				n_bad += back->execs[i].obj >= 3 || back->execs[i].kind >= DG_EXK_N || !back->execs[i].callee;
			n_bad += back->nobjs != 3;
			dg_reach_free(back);
		}
		dg_strv_free(&p3);
	}
	ok(!n_bad, "reach record: 2000 damaged records refused or decoded within bounds (%d unknown sites read)", n_ok);
	free(m);
	free(b1);
	dg_strv_free(&pr);
	dg_strv_free(&pr2);
	dg_reach_free(r);
}

int main(int argc, char **argv)
{
	isa_tests();
	reach_record_tests();
	exec_name_tests("/usr/bin/diff");
	libc_tests(argc > 1 ? argv[1] : "/lib/x86_64-linux-gnu/libc.so.6");
	printf("1..%d\n", tap_n);
	return tap_fail != 0;
}
