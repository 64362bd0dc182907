/* x86-64 and i386 backends of the instruction-set interface, on Capstone.
 * Registers: 0 ax, 1 cx, 2 dx, 3 bx, 4 sp, 5 bp, 6 si, 7 di, 8..15 r8..r15.
 * Only 32- and 64-bit destinations get a data-flow effect; a write to an 8- or
 * 16-bit part of a register (which keeps the rest) makes it unknown. */
#include <capstone/capstone.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/isa.h"

#define EM_386 3
#define EM_X86_64 62

enum { AX, CX, DX, BX, SP, BP, SI, DI, R8, R9, R10, R11, R12, R13, R14, R15 };

struct dg_isa_ctx {
	csh h;
	cs_insn *insn;
	int bits;
};

/* Register number and width in bytes of a Capstone general-purpose register, or -1. */
static int gpr(unsigned r, int *width)
{
	int w = 8, g;
	switch (r) {
	case X86_REG_RAX: g = AX; break;
	case X86_REG_RCX: g = CX; break;
	case X86_REG_RDX: g = DX; break;
	case X86_REG_RBX: g = BX; break;
	case X86_REG_RSP: g = SP; break;
	case X86_REG_RBP: g = BP; break;
	case X86_REG_RSI: g = SI; break;
	case X86_REG_RDI: g = DI; break;
	case X86_REG_R8: g = R8; break;
	case X86_REG_R9: g = R9; break;
	case X86_REG_R10: g = R10; break;
	case X86_REG_R11: g = R11; break;
	case X86_REG_R12: g = R12; break;
	case X86_REG_R13: g = R13; break;
	case X86_REG_R14: g = R14; break;
	case X86_REG_R15: g = R15; break;
	default:
		w = 4;
		switch (r) {
		case X86_REG_EAX: g = AX; break;
		case X86_REG_ECX: g = CX; break;
		case X86_REG_EDX: g = DX; break;
		case X86_REG_EBX: g = BX; break;
		case X86_REG_ESP: g = SP; break;
		case X86_REG_EBP: g = BP; break;
		case X86_REG_ESI: g = SI; break;
		case X86_REG_EDI: g = DI; break;
		case X86_REG_R8D: g = R8; break;
		case X86_REG_R9D: g = R9; break;
		case X86_REG_R10D: g = R10; break;
		case X86_REG_R11D: g = R11; break;
		case X86_REG_R12D: g = R12; break;
		case X86_REG_R13D: g = R13; break;
		case X86_REG_R14D: g = R14; break;
		case X86_REG_R15D: g = R15; break;
		default:
			w = 2;
			switch (r) {
			case X86_REG_AX: case X86_REG_AL: case X86_REG_AH: g = AX; break;
			case X86_REG_CX: case X86_REG_CL: case X86_REG_CH: g = CX; break;
			case X86_REG_DX: case X86_REG_DL: case X86_REG_DH: g = DX; break;
			case X86_REG_BX: case X86_REG_BL: case X86_REG_BH: g = BX; break;
			case X86_REG_SP: case X86_REG_SPL: g = SP; break;
			case X86_REG_BP: case X86_REG_BPL: g = BP; break;
			case X86_REG_SI: case X86_REG_SIL: g = SI; break;
			case X86_REG_DI: case X86_REG_DIL: g = DI; break;
			case X86_REG_R8W: case X86_REG_R8B: g = R8; break;
			case X86_REG_R9W: case X86_REG_R9B: g = R9; break;
			case X86_REG_R10W: case X86_REG_R10B: g = R10; break;
			case X86_REG_R11W: case X86_REG_R11B: g = R11; break;
			case X86_REG_R12W: case X86_REG_R12B: g = R12; break;
			case X86_REG_R13W: case X86_REG_R13B: g = R13; break;
			case X86_REG_R14W: case X86_REG_R14B: g = R14; break;
			case X86_REG_R15W: case X86_REG_R15B: g = R15; break;
			default: return -1;
			}
		}
	}
	*width = w;
	return g;
}

/* Capstone 4's x86 printer sorts some static tables of implicit registers the first
 * time it needs them (X86_insn_reg_intel and X86_insn_reg_intel2), without a lock: two
 * threads decoding at once the first time can read a half-sorted table and get other
 * implicit registers, so the same file gave different summaries from run to run. One
 * decoding pass over instructions with implicit registers, once, before any handle is
 * handed out, sorts them while only one thread runs it. */
static void warm_up(void)
{
	static const unsigned char code[] = {
		0x48, 0x89, 0xf8,       /* mov rax, rdi */
		0xa0, 0, 0, 0, 0, 0, 0, 0, 0, /* mov al, [moffs64] */
		0x48, 0x91,             /* xchg rax, rcx */
		0xec,                   /* in al, dx */
		0xee,                   /* out dx, al */
		0x48, 0xd3, 0xe0,       /* shl rax, cl */
		0x48, 0x0f, 0xb1, 0x0f, /* cmpxchg [rdi], rcx */
		0x48, 0xf7, 0xe1,       /* mul rcx */
		0x48, 0x99,             /* cqo */
		0xf3, 0x48, 0xa5,       /* rep movsq */
		0x0f, 0xa2,             /* cpuid */
		0x0f, 0x05,             /* syscall */
		0xc3,                   /* ret */
	};
	for (int m = 0; m < 2; m++) {
		csh h;
		if (cs_open(CS_ARCH_X86, m ? CS_MODE_32 : CS_MODE_64, &h) != CS_ERR_OK)
			continue;
		cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
		cs_insn *in = cs_malloc(h);
		const uint8_t *p = code;
		size_t n = sizeof code;
		uint64_t a = 0x1000;
		while (in && n) {
			if (!cs_disasm_iter(h, &p, &n, &a, in)) {
				p++, n--, a++;
				continue;
			}
		}
		if (in)
			cs_free(in, 1);
		cs_close(&h);
	}
}

static pthread_once_t warm_once = PTHREAD_ONCE_INIT;

static int open_mode(struct dg_isa_ctx **out, int bits)
{
	pthread_once(&warm_once, warm_up);
	struct dg_isa_ctx *c = calloc(1, sizeof *c);
	if (!c)
		return -1;
	c->bits = bits;
	if (cs_open(CS_ARCH_X86, bits == 64 ? CS_MODE_64 : CS_MODE_32, &c->h) != CS_ERR_OK) {
		free(c);
		return -1;
	}
	cs_option(c->h, CS_OPT_DETAIL, CS_OPT_ON);
	c->insn = cs_malloc(c->h);
	if (!c->insn) {
		cs_close(&c->h);
		free(c);
		return -1;
	}
	*out = c;
	return 0;
}

static int open64(struct dg_isa_ctx **out)
{
	return open_mode(out, 64);
}

static int open32(struct dg_isa_ctx **out)
{
	return open_mode(out, 32);
}

static void x86_close(struct dg_isa_ctx *c)
{
	if (!c)
		return;
	cs_free(c->insn, 1);
	cs_close(&c->h);
	free(c);
}

/* A stack slot operand: [sp/bp + disp], no index, no segment. */
static int slot_of(const cs_x86_op *o, uint8_t *base, int64_t *disp)
{
	int w;
	if (o->type != X86_OP_MEM || o->mem.index != X86_REG_INVALID ||
	    (o->mem.segment != X86_REG_INVALID && o->mem.segment != X86_REG_SS))
		return 0;
	int g = gpr(o->mem.base, &w);
	if ((g != SP && g != BP) || w < 4)
		return 0;
	*base = (uint8_t)g;
	*disp = o->mem.disp;
	return 1;
}

static void x86_decode_df(struct dg_isa_ctx *c, const unsigned char *code, size_t n, uint64_t addr,
			  struct dg_insn *d);

static int reads_only(unsigned id)
{
	switch (id) {
	case X86_INS_CMP: case X86_INS_TEST: case X86_INS_BT: case X86_INS_UCOMISS: case X86_INS_UCOMISD:
	case X86_INS_COMISS: case X86_INS_COMISD: case X86_INS_PTEST: case X86_INS_CALL: case X86_INS_JMP:
	case X86_INS_PUSH: case X86_INS_NOP: case X86_INS_PREFETCH: case X86_INS_PREFETCHW:
	case X86_INS_PREFETCHNTA: case X86_INS_PREFETCHT0: case X86_INS_PREFETCHT1: case X86_INS_PREFETCHT2:
	case X86_INS_CMPXCHG8B: case X86_INS_LEA:
		return id != X86_INS_CMPXCHG8B; /* cmpxchg8b may write */
	default:
		return 0;
	}
}

/* Decodes, then: a write to a stack slot that no data-flow effect describes (movups to
 * [rsp+8], a 16-bit mov, add to memory, xchg, ...) still changes the slot. */
static void x86_decode(struct dg_isa_ctx *c, const unsigned char *code, size_t n, uint64_t addr,
		       struct dg_insn *d)
{
	x86_decode_df(c, code, n, addr, d);
	if (d->df != DG_DF_NONE || d->kind == DG_IK_BAD || d->sp_op == DG_SP_PUSH)
		return;
	const cs_x86 *x = &c->insn->detail->x86;
	for (int i = 0; i < x->op_count; i++) {
		const cs_x86_op *o = &x->operands[i];
		uint8_t base;
		int64_t disp;
		/* Capstone 4's access flags are wrong for some instructions (movups [rsp], xmm0 is
		 * "read"): a memory destination is taken as written unless the instruction only
		 * compares or tests */
		if (o->type == X86_OP_MEM && ((o->access & CS_AC_WRITE) || (i == 0 && !reads_only(c->insn->id))) &&
		    slot_of(o, &base, &disp)) {
			d->df = DG_DF_CLOBBER;
			d->base = base;
			d->imm = disp;
			d->width = o->size;
			return;
		}
	}
}

static void x86_decode_df(struct dg_isa_ctx *c, const unsigned char *code, size_t n, uint64_t addr,
			  struct dg_insn *d)
{
	memset(d, 0, sizeof *d);
	d->addr = addr;
	d->dst = d->src = d->base = DG_ISA_NOREG;
	const uint8_t *p = code;
	size_t left = n;
	uint64_t a = addr;
	if (!n || !cs_disasm_iter(c->h, &p, &left, &a, c->insn)) {
		d->kind = DG_IK_BAD;
		d->len = 1;
		return;
	}
	const cs_insn *in = c->insn;
	const cs_x86 *x = &in->detail->x86;
	uint64_t next = addr + in->size;
	int w;
	d->len = (uint8_t)in->size;
	for (int i = 0; i < in->detail->regs_write_count; i++) {
		int g = gpr(in->detail->regs_write[i], &w);
		if (g >= 0)
			d->writes |= (uint16_t)(1u << g);
	}
	const cs_x86_op *mem = NULL;
	for (int i = 0; i < x->op_count; i++) {
		const cs_x86_op *o = &x->operands[i];
		if (o->type == X86_OP_REG) {
			int g = gpr(o->reg, &w);
			/* an operand whose access Capstone does not know is taken as written */
			if (g >= 0 && ((o->access & CS_AC_WRITE) || (i == 0 && !o->access)))
				d->writes |= (uint16_t)(1u << g);
		} else if (o->type == X86_OP_MEM && !mem) {
			mem = o;
		} else if (o->type == X86_OP_IMM && in->id != X86_INS_CALL && in->id != X86_INS_JMP &&
			   !cs_insn_group(c->h, in, X86_GRP_JUMP)) {
			d->has_konst = 1;
			d->konst = (uint64_t)o->imm;
			if (d->nrefs < 3)
				d->refs[d->nrefs++] = c->bits == 32 ? (uint64_t)o->imm & 0xffffffffu : (uint64_t)o->imm;
		}
	}
	if (mem && d->nrefs < 3 && mem->mem.segment != X86_REG_FS && mem->mem.segment != X86_REG_GS) {
		uint64_t ra = (mem->mem.base == X86_REG_RIP || mem->mem.base == X86_REG_EIP ? next : 0) +
			     (uint64_t)mem->mem.disp;
		if (c->bits == 32)
			ra &= 0xffffffffu;
		if (ra) {
			if ((mem->mem.base == X86_REG_RIP || mem->mem.base == X86_REG_EIP) && mem->mem.index == X86_REG_INVALID)
				d->refs_pc |= (uint8_t)(1u << d->nrefs);
			d->refs[d->nrefs++] = ra;
		}
	}
	if (mem && (mem->mem.segment == X86_REG_INVALID || mem->mem.segment == X86_REG_DS ||
		    mem->mem.segment == X86_REG_CS)) {
		if (mem->mem.base == X86_REG_RIP && mem->mem.index == X86_REG_INVALID) {
			d->has_mem = 1;
			d->mem = next + (uint64_t)mem->mem.disp;
		} else if (mem->mem.base == X86_REG_INVALID || mem->mem.base == X86_REG_EIP) {
			d->has_mem = 1;
			d->mem = (mem->mem.base == X86_REG_EIP ? next : 0) + (uint64_t)mem->mem.disp;
			if (c->bits == 32)
				d->mem &= 0xffffffffu;
			d->mem_indexed = mem->mem.index != X86_REG_INVALID;
		}
		if (d->has_mem && mem->size == (c->bits / 8) && in->id != X86_INS_LEA)
			d->mem_load = 1;
		if (d->has_mem && (mem->access & CS_AC_WRITE))
			d->mem_write = 1;
		d->mem_size = mem->size;
	}

	if (in->id == X86_INS_NOP || (in->id == X86_INS_XCHG && x->op_count == 2 && x->operands[0].type == X86_OP_REG &&
				       x->operands[1].type == X86_OP_REG && x->operands[0].reg == x->operands[1].reg)) {
		d->pad = 1;
		d->writes = 0;
		d->has_konst = 0;
		return;
	}
	switch (in->id) {
	case X86_INS_SYSCALL:
		d->kind = c->bits == 64 ? DG_IK_SYSCALL : DG_IK_SYSCALL32;
		d->writes |= (1u << AX) | (1u << CX) | (1u << R11);
		return;
	case X86_INS_SYSENTER:
		d->kind = DG_IK_SYSCALL32;
		d->writes |= (1u << AX) | (1u << CX) | (1u << DX);
		return;
	case X86_INS_INT:
		if (x->op_count == 1 && x->operands[0].type == X86_OP_IMM && x->operands[0].imm == 0x80) {
			d->kind = DG_IK_SYSCALL32;
			d->writes |= 1u << AX;
			d->has_konst = 0;
		}
		return;
	case X86_INS_HLT:
	case X86_INS_UD2:
	case X86_INS_UD2B:
	case X86_INS_UD0:
	case X86_INS_INT3:
		d->kind = DG_IK_STOP;
		return;
	case X86_INS_RET:
	case X86_INS_RETF:
	case X86_INS_RETFQ:
	case X86_INS_IRET:
	case X86_INS_IRETD:
	case X86_INS_IRETQ:
		d->kind = DG_IK_RET;
		return;
	case X86_INS_CALL:
	case X86_INS_LCALL:
	case X86_INS_JMP:
	case X86_INS_LJMP: {
		int call = in->id == X86_INS_CALL || in->id == X86_INS_LCALL;
		d->kind = call ? DG_IK_CALL : DG_IK_JMP;
		const cs_x86_op *o = &x->operands[0];
		if (x->op_count == 1 && o->type == X86_OP_IMM && (in->id == X86_INS_CALL || in->id == X86_INS_JMP)) {
			d->target = (uint64_t)o->imm;
			if (c->bits == 32)
				d->target &= 0xffffffffu;
		} else {
			d->indirect = 1;
			/* i386 glibc enters the kernel through the vDSO: call *%gs:0x10 */
			if (call && c->bits == 32 && x->op_count == 1 && o->type == X86_OP_MEM &&
			    o->mem.segment == X86_REG_GS && o->mem.base == X86_REG_INVALID &&
			    o->mem.index == X86_REG_INVALID && o->mem.disp == 0x10) {
				d->kind = DG_IK_SYSCALL32;
				d->indirect = 0;
				d->writes |= 1u << AX;
			}
		}
		if (d->kind == DG_IK_CALL) {
			d->writes |= c->bits == 64 ? 0x0fc7 : 0x0007;
			d->sp_op = DG_SP_ADJ; /* the return address is popped again by the callee's ret */
			d->sp_adj = 0;
		}
		return;
	}
	case X86_INS_PUSH:
	case X86_INS_POP:
		/* a pointer-sized push or pop moves sp by a known amount (a 16-bit one, or one
		 * that writes sp itself, leaves it unknown) */
		if (x->op_count == 1 && x->operands[0].size == c->bits / 8 &&
		    !(x->operands[0].type == X86_OP_REG && gpr(x->operands[0].reg, &w) == SP) &&
		    !(x->operands[0].type == X86_OP_MEM && gpr(x->operands[0].mem.base, &w) == SP)) {
			const cs_x86_op *o = &x->operands[0];
			int push = in->id == X86_INS_PUSH;
			d->sp_op = push ? DG_SP_PUSH : DG_SP_POP;
			d->sp_adj = (int8_t)(push ? -(c->bits / 8) : c->bits / 8);
			int g = o->type == X86_OP_REG ? gpr(o->reg, &w) : -1;
			d->width = (uint8_t)(c->bits / 8);
			if (push && g >= 0) {
				d->df = DG_DF_STORE;
				d->src = (uint8_t)g;
			} else if (push && o->type == X86_OP_IMM) {
				d->df = DG_DF_STORE_IMM;
				d->imm2 = o->imm; /* has_konst stays: a pushed code address is taken (i386) */
			} else if (!push && g >= 0) {
				d->dst = (uint8_t)g;
			}
		}
		return;
	default:
		break;
	}
	if (cs_insn_group(c->h, in, X86_GRP_JUMP)) { /* jcc, loop, jrcxz, xbegin */
		d->kind = DG_IK_JCC;
		if (x->op_count >= 1 && x->operands[x->op_count - 1].type == X86_OP_IMM) {
			d->target = (uint64_t)x->operands[x->op_count - 1].imm;
			if (c->bits == 32)
				d->target &= 0xffffffffu;
		} else {
			d->kind = DG_IK_JMP; /* no known target: an indirect branch */
			d->indirect = 1;
		}
		d->has_konst = 0;
		return;
	}

	/* data-flow effects */
	if (x->op_count != 2)
		goto lea;
	const cs_x86_op *o0 = &x->operands[0], *o1 = &x->operands[1];
	int w0 = 0, w1 = 0;
	int g0 = o0->type == X86_OP_REG ? gpr(o0->reg, &w0) : -1;
	int g1 = o1->type == X86_OP_REG ? gpr(o1->reg, &w1) : -1;
	switch (in->id) {
	case X86_INS_MOV:
	case X86_INS_MOVABS:
		if (g0 >= 0 && w0 >= 4) {
			d->dst = (uint8_t)g0;
			d->width = (uint8_t)w0;
			if (o1->type == X86_OP_IMM) {
				d->df = DG_DF_SET;
				d->imm = o1->imm;
			} else if (g1 >= 0 && w1 == w0) {
				d->df = DG_DF_COPY;
				d->src = (uint8_t)g1;
			} else if (o1->type == X86_OP_MEM && slot_of(o1, &d->base, &d->imm)) {
				d->df = DG_DF_LOAD;
			} else if (o1->type == X86_OP_MEM && d->has_mem && !d->mem_indexed && o1->size == w0) {
				d->df = DG_DF_LOADABS;
			} else if (o1->type == X86_OP_MEM && o1->mem.index == X86_REG_INVALID &&
				   o1->mem.segment == X86_REG_INVALID && o1->size == w0) {
				int wb = 0, gb = gpr(o1->mem.base, &wb);
				if (gb >= 0 && wb == c->bits / 8) {
					d->df = DG_DF_LOADP;
					d->base = (uint8_t)gb;
					d->imm = o1->mem.disp;
				}
			}
		} else if (o0->type == X86_OP_MEM && slot_of(o0, &d->base, &d->imm)) {
			if (g1 >= 0 && w1 >= 4) {
				d->df = DG_DF_STORE;
				d->src = (uint8_t)g1;
				d->width = (uint8_t)w1;
			} else if (o1->type == X86_OP_IMM && o0->size >= 4) {
				d->df = DG_DF_STORE_IMM;
				d->imm2 = o1->imm;
				d->width = o0->size;
			}
		}
		return;
	case X86_INS_XOR:
	case X86_INS_SUB:
		if (g0 >= 0 && g1 == g0 && w0 >= 4 && w1 == w0) {
			d->df = DG_DF_SET;
			d->dst = (uint8_t)g0;
			d->width = (uint8_t)w0;
			d->imm = 0;
			return;
		}
		if (in->id == X86_INS_XOR)
			return;
		__attribute__((fallthrough)); /* SUB: add/sub of an immediate below */
	case X86_INS_ADD:
	case X86_INS_OR:
	case X86_INS_AND:
		if (g0 >= 0 && w0 >= 4 && o1->type == X86_OP_IMM) {
			d->dst = (uint8_t)g0;
			d->width = (uint8_t)w0;
			d->imm = in->id == X86_INS_SUB ? -o1->imm : o1->imm;
			d->df = in->id == X86_INS_OR ? DG_DF_OR : in->id == X86_INS_AND ? DG_DF_AND : DG_DF_ADD;
			d->has_konst = 0;
		}
		return;
	default:
		break;
	}
lea:
	if (in->id == X86_INS_LEA && x->op_count == 2) {
		const cs_x86_op *r = &x->operands[0], *m = &x->operands[1];
		int wr = 0, wb = 0;
		int gr = gpr(r->reg, &wr);
		if (gr < 0 || wr < 4)
			return;
		d->dst = (uint8_t)gr;
		d->width = (uint8_t)wr;
		if (d->has_mem && !d->mem_indexed) {
			d->df = DG_DF_SET;
			d->imm = (int64_t)d->mem;
			d->has_konst = 1;
			d->konst = d->mem;
			d->has_mem = 0;
		} else if (m->mem.index == X86_REG_INVALID && m->mem.segment == X86_REG_INVALID) {
			int gb = gpr(m->mem.base, &wb);
			if (gb >= 0 && wb >= 4) {
				d->df = DG_DF_ADDTO;
				d->src = (uint8_t)gb;
				d->imm = m->mem.disp;
			}
		}
	}
}

static const char *const names64[DG_ISA_NREGS] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
						   "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
static const char *const names32[DG_ISA_NREGS] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};

static const char *reg64(uint8_t r)
{
	return r < DG_ISA_NREGS ? names64[r] : "?";
}

static const char *reg32(uint8_t r)
{
	return r < 8 ? names32[r] : "?";
}

/* x86-64: every `lea reg, [rip+disp32]` (REX.W 8D, mod 00, r/m 101) byte pattern */
static void x86_64_scan(const unsigned char *code, size_t n, uint64_t addr, void (*cb)(void *arg, uint64_t target),
			void *arg)
{
	for (size_t k = 0; k + 7 <= n; k++) {
		const unsigned char *q = code + k;
		if ((q[0] != 0x48 && q[0] != 0x4c) || q[1] != 0x8d || (q[2] & 0xc7) != 0x05)
			continue;
		int32_t disp = (int32_t)((uint32_t)q[3] | (uint32_t)q[4] << 8 | (uint32_t)q[5] << 16 | (uint32_t)q[6] << 24);
		cb(arg, addr + k + 7 + (uint64_t)(int64_t)disp);
	}
}

static const struct dg_isa x86_64 = {
	.name = "x86-64",
	.machine = EM_X86_64,
	.bits = 64,
	.sysno_reg = AX,
	.sysno_reg32 = AX,
	.sysarg = {DI, SI, DX},
	.sysarg32 = {BX, CX, DX},
	.sp = SP,
	.fp = BP,
	/* SysV: rax rcx rdx rsi rdi r8-r11 */
	.call_clobbers = (1u << AX) | (1u << CX) | (1u << DX) | (1u << SI) | (1u << DI) | (1u << R8) |
			 (1u << R9) | (1u << R10) | (1u << R11),
	/* SysV (rdi rsi rdx rcx r8 r9) and Go's register ABI (rax rbx rcx rdi rsi r8-r11) */
	.arg_regs = (1u << AX) | (1u << BX) | (1u << CX) | (1u << DX) | (1u << SI) | (1u << DI) | (1u << R8) |
		    (1u << R9) | (1u << R10) | (1u << R11),
	.c_arg = {DI, SI},
	.ptr_size = 8,
	.open = open64,
	.decode = x86_decode,
	.close = x86_close,
	.reg_name = reg64,
	.scan_code_addrs = x86_64_scan,
};

static const struct dg_isa i386 = {
	.name = "i386",
	.machine = EM_386,
	.bits = 32,
	.sysno_reg = AX,
	.sysno_reg32 = AX,
	.sysarg = {BX, CX, DX},
	.sysarg32 = {BX, CX, DX},
	.sp = SP,
	.fp = BP,
	.call_clobbers = (1u << AX) | (1u << CX) | (1u << DX),
	.arg_regs = (1u << AX) | (1u << CX) | (1u << DX) | (1u << BX),
	.c_arg = {DG_ISA_NREGS, DG_ISA_NREGS + 1}, /* cdecl: the first two words on the stack */
	.ptr_size = 4,
	.open = open32,
	.decode = x86_decode,
	.close = x86_close,
	.reg_name = reg32,
};

const struct dg_isa *dg_isa_for(uint16_t machine, int bits)
{
	if (machine == EM_X86_64 && bits == 64)
		return &x86_64;
	if (machine == EM_386 && bits == 32)
		return &i386;
	return NULL;
}
