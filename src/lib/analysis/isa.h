/* The instruction-set interface of the syscall analysis: a backend decodes one
 * instruction into an ISA-neutral record (control flow, system call sites and
 * the few data-flow effects the syscall-number recovery models), so the
 * function and data-flow analysis (fnsum.c) never sees a machine opcode.
 * x86-64 and i386 (Capstone) are the backends today; aarch64 would be a third
 * (svc #0, number in x8). Registers are numbered 0..DG_ISA_NREGS-1 per ISA. */
#ifndef DOCKERGATE_ISA_H
#define DOCKERGATE_ISA_H

#include <stddef.h>
#include <stdint.h>

#define DG_ISA_NREGS 16
#define DG_ISA_NOREG 0xff
/* Arguments on the stack: "registers" DG_ISA_NREGS + K are the K-th pointer-sized
 * word above the return address at a function's entry (ABI0 Go assembly, i386
 * cdecl); DG_ARG_NREGS bounds every argument number. */
#define DG_ISA_NSTACK 8
#define DG_ARG_NREGS (DG_ISA_NREGS + DG_ISA_NSTACK)

/* How an instruction moves the stack pointer besides a data-flow effect on it. */
enum dg_isp {
	DG_SP_NONE = 0, /* it does not write sp, or writes it in a way not modelled (unknown after) */
	DG_SP_ADJ,      /* sp += sp_adj (a call: 0, the callee returns) */
	DG_SP_PUSH,     /* sp += sp_adj (negative), then slot(sp, 0) = src (or imm2 when src is NOREG) */
	DG_SP_POP,      /* dst = slot(sp, 0), then sp += sp_adj */
};

enum dg_ikind {
	DG_IK_OTHER = 0,
	DG_IK_CALL,     /* direct (target) or indirect */
	DG_IK_JMP,      /* unconditional, direct or indirect */
	DG_IK_JCC,      /* conditional direct branch (also loop/jrcxz) */
	DG_IK_RET,
	DG_IK_STOP,     /* never falls through: hlt, ud2, int3 */
	DG_IK_SYSCALL,  /* the ISA's native syscall instruction (x86-64: syscall) */
	DG_IK_SYSCALL32, /* a site using the i386 table: int 0x80, sysenter, call *%gs:0x10 */
	DG_IK_BAD,      /* bytes that do not decode */
};

/* The data-flow effect, beyond "every register in writes becomes unknown". */
enum dg_idf {
	DG_DF_NONE = 0,
	DG_DF_SET,       /* dst = imm (also lea dst, [rip+disp] / absolute) */
	DG_DF_COPY,      /* dst = src */
	DG_DF_OR,        /* dst |= imm */
	DG_DF_AND,       /* dst &= imm */
	DG_DF_ADD,       /* dst += imm (sub is add of the negation; lea dst, [src+imm] is ADDTO) */
	DG_DF_ADDTO,     /* dst = src + imm */
	DG_DF_STORE,     /* slot(base, imm) = src */
	DG_DF_STORE_IMM, /* slot(base, imm2) = imm */
	DG_DF_LOAD,      /* dst = slot(base, imm) */
	DG_DF_LOADABS,   /* dst = the word of WIDTH bytes at the absolute or pc-relative address mem */
	DG_DF_CLOBBER,   /* the WIDTH bytes (0: not known) at slot(base, imm) change in a way not
			  * modelled (an SSE or 16-bit store, an add to memory, ...) */
	DG_DF_LOADP,     /* dst = the word of WIDTH bytes at base + imm, base any register but the
			  * stack and frame pointer: not modelled (dst becomes unknown); fnsum only
			  * recognises site shapes with it */
};

struct dg_insn {
	uint64_t addr;
	uint64_t target;   /* direct branch/call target */
	uint64_t mem;      /* address of an absolute or pc-relative memory operand (has_mem) */
	uint64_t konst;    /* an immediate or a computed address the instruction materialises (has_konst) */
	int64_t imm, imm2;
	uint16_t writes;   /* every register written (explicit and implicit) */
	uint8_t len;
	uint8_t kind;      /* enum dg_ikind */
	uint8_t df;        /* enum dg_idf */
	uint8_t dst, src, base; /* registers of df, DG_ISA_NOREG when unused */
	uint8_t width;     /* bytes of df's destination (4 zero-extends on x86-64) */
	uint8_t indirect;  /* call/jmp through a register or memory */
	uint8_t has_mem, mem_indexed; /* mem_indexed: the memory operand also has an index register */
	uint8_t mem_load;  /* the memory operand is read as a pointer-sized value (mov reg, [mem]; call/jmp [mem]) */
	uint8_t mem_write; /* the memory operand (has_mem) is written */
	uint8_t mem_size;  /* bytes of the memory operand (0: not known) */
	uint8_t has_konst;
	uint8_t pad;       /* a no-op (nop, xchg of a register with itself): alignment padding */
	uint8_t sp_op;     /* enum dg_isp */
	int8_t sp_adj;
	/* every address the instruction names, whatever it does with it: its immediates and
	 * its memory operand's address (pc-relative, absolute, or the displacement beside a
	 * base or index register); fnsum.c's data references (which data the code refers to) */
	uint8_t nrefs;
	uint8_t refs_pc;   /* bit K: refs[K] is pc-relative without an index (the address itself, as
			    * position-independent code names an object or a field of it) */
	uint64_t refs[3];
};

struct dg_isa_ctx;

struct dg_isa {
	const char *name;     /* "x86-64", "i386" */
	uint16_t machine;     /* EM_* */
	int bits;
	uint8_t sysno_reg;    /* register holding the number at a DG_IK_SYSCALL site */
	uint8_t sysno_reg32;  /* at a DG_IK_SYSCALL32 site */
	uint8_t sysarg[3], sysarg32[3]; /* the first three arguments' registers at such sites */
	uint8_t sp, fp;       /* stack and frame pointer */
	uint16_t call_clobbers; /* registers a call may change */
	uint16_t arg_regs;    /* registers a function may take arguments in (any ABI of the ISA) */
	int8_t c_arg[2];      /* the C ABI's first two integer arguments' registers, -1: on the stack */
	uint8_t ptr_size;
	int (*open)(struct dg_isa_ctx **out);
	/* Decodes the instruction at CODE (N bytes available) at address ADDR; always fills
	 * OUT (kind DG_IK_BAD and len 1 for bytes that do not decode). */
	void (*decode)(struct dg_isa_ctx *c, const unsigned char *code, size_t n, uint64_t addr,
		       struct dg_insn *out);
	void (*close)(struct dg_isa_ctx *c);
	const char *(*reg_name)(uint8_t reg);
	/* Code addresses the machine code at CODE (N bytes, at ADDR) may materialise, found
	 * without decoding in order (a handler or restorer may start where no FDE or symbol
	 * does): CB(ARG, target) for each, targets anywhere (the caller keeps those in code).
	 * NULL when the ISA has no such scan. */
	void (*scan_code_addrs)(const unsigned char *code, size_t n, uint64_t addr,
				void (*cb)(void *arg, uint64_t target), void *arg);
};

/* The backend for an ELF machine and class, or NULL when none exists. */
const struct dg_isa *dg_isa_for(uint16_t machine, int bits);

#endif
