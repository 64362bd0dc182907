/* Per-object syscall summary (fnsum.h): function discovery, linear-sweep
 * disassembly of each function, a forward data flow on each function's
 * control-flow graph for the syscall number and call arguments, and the
 * address-taken sets. docs/design.md, "System call discovery", gives the rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dockergate/fnsum.h"
#include "dockergate/golang.h"
#include "analysis/isa.h"
#include "dockergate/map.h"
#include "base/ser.h"
#include "dockergate/util.h"

#define SHF_ALLOC 0x2
#define SHF_EXECINSTR 0x4
#define SHT_NOBITS 8
#define SHT_INIT_ARRAY 14
#define SHT_FINI_ARRAY 15
#define SHT_PREINIT_ARRAY 16
#define PT_LOAD 1
#define PF_X 1
#define PF_W 2
#define ET_EXEC 2
#define ET_DYN 3
#define SHT_PROGBITS 1
#define SHF_TLS 0x400
#define STT_OBJECT 1
#define STT_FUNC 2
#define STT_GNU_IFUNC 10

#define VMAX 6       /* constants a value may hold before it becomes unknown */
#define NSLOT 12     /* stack slots tracked */
#define OBJ_WINDOW 256 /* a variable is taken to be a field of an object whose address is taken this far below it */
#define SLOT_ENTRY 0xfe /* the base of slots addressed from the stack pointer at entry */
#define MAX_TABLE 4096 /* jump table entries read */
#define MAX_FN_BYTES (4u << 20) /* longer runs of code are cut into functions of this size */
#define MAX_DF_BLOCKS 40000 /* larger functions get no data flow (every value unknown) */
#define DOBJ_SLACK 64 /* a reference or pointer this close to a data object may reach into it
		       * (&a[-1] folded into the address, one past the end) */

/* ---- growable arrays ---- */
#define PUSH(arr, n, cap, val)                                                                    \
	do {                                                                                      \
		if ((n) == (cap)) {                                                               \
			(cap) = (cap) ? (cap) * 2 : 16;                                           \
			(arr) = dg_xreallocarray((arr), (cap), sizeof *(arr));                   \
		}                                                                                 \
		(arr)[(n)++] = (val);                                                             \
	} while (0)

/* qsort that accepts an empty (NULL) array */
static void sort(void *v, size_t n, size_t sz, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(v, n, sz, cmp);
}

/* ---- the data-flow lattice ---- */
enum { V_BOT = 0, V_CONST, V_ARG, V_TOP };

struct val {
	uint8_t k, n, reg;
	uint64_t c[VMAX];
};

struct slot {
	uint8_t base;
	int64_t disp;
	struct val v;
};

/* Slots addressed through sp while sp's distance from its value at entry (spd) is
 * known are kept by that entry-relative offset (base SLOT_ENTRY), so they survive
 * pushes, pops and frame adjustments; a load from the words above the return
 * address that nothing stored is a stack argument (ABI0 Go, i386 cdecl), unless
 * a path may have written it (awritten). */
struct state {
	uint8_t reached;
	uint8_t nslots;
	uint8_t spk;      /* spd is known */
	uint8_t awritten; /* stack arguments K (bit K) a path may have overwritten */
	int64_t spd;
	struct val r[DG_ISA_NREGS];
	struct slot s[NSLOT];
};

static void v_top(struct val *v)
{
	v->k = V_TOP;
	v->n = 0;
}

static void v_const(struct val *v, uint64_t c)
{
	v->k = V_CONST;
	v->n = 1;
	v->c[0] = c;
}

static int v_add_const(struct val *v, uint64_t c)
{
	for (int i = 0; i < v->n; i++)
		if (v->c[i] == c)
			return 0;
	if (v->n == VMAX) {
		v_top(v);
		return 1;
	}
	v->c[v->n++] = c;
	return 1;
}

/* a = a ⊔ b; returns whether a changed */
static int v_join(struct val *a, const struct val *b)
{
	if (b->k == V_BOT || a->k == V_TOP)
		return 0;
	if (a->k == V_BOT) {
		*a = *b;
		return 1;
	}
	if (b->k == V_TOP || a->k != b->k || (a->k == V_ARG && a->reg != b->reg)) {
		v_top(a);
		return 1;
	}
	if (a->k == V_ARG)
		return 0;
	int ch = 0;
	for (int i = 0; i < b->n && a->k == V_CONST; i++)
		ch |= v_add_const(a, b->c[i]);
	return ch;
}

static uint64_t wmask_of(int width)
{
	return width >= 8 ? UINT64_MAX : (UINT64_C(1) << (width * 8)) - 1;
}

/* in = in ⊔ out (out is reached); returns whether IN changed */
static int st_join(struct state *in, const struct state *out)
{
	if (!in->reached) {
		*in = *out;
		return 1;
	}
	int ch = 0;
	for (int i = 0; i < DG_ISA_NREGS; i++)
		ch |= v_join(&in->r[i], &out->r[i]);
	if (in->spk && (!out->spk || out->spd != in->spd)) {
		in->spk = 0;
		ch = 1;
	}
	if ((in->awritten | out->awritten) != in->awritten) {
		in->awritten |= out->awritten;
		ch = 1;
	}
	/* a slot survives only where both sides know it */
	uint8_t k = 0;
	for (uint8_t i = 0; i < in->nslots; i++) {
		const struct slot *m = NULL;
		for (uint8_t j = 0; j < out->nslots; j++)
			if (out->s[j].base == in->s[i].base && out->s[j].disp == in->s[i].disp)
				m = &out->s[j];
		if (!m) {
			ch = 1;
			continue;
		}
		struct slot t = in->s[i];
		ch |= v_join(&t.v, &m->v);
		if (t.v.k == V_TOP) {
			ch = 1;
			continue;
		}
		in->s[k++] = t;
	}
	in->nslots = k;
	return ch;
}

static void st_top(struct state *s)
{
	memset(s, 0, sizeof *s);
	s->reached = 1;
	s->awritten = 0xff; /* nothing known of the stack either */
	for (int i = 0; i < DG_ISA_NREGS; i++)
		v_top(&s->r[i]);
}

static const struct val *slot_find(const struct state *s, uint8_t base, int64_t disp)
{
	for (uint8_t i = 0; i < s->nslots; i++)
		if (s->s[i].base == base && s->s[i].disp == disp)
			return &s->s[i].v;
	return NULL;
}

static struct val *slot_get(struct state *s, uint8_t base, int64_t disp)
{
	return (struct val *)slot_find(s, base, disp);
}

static void slot_set(struct state *s, uint8_t base, int64_t disp, const struct val *v)
{
	struct val *p = slot_get(s, base, disp);
	if (p) {
		*p = *v;
		return;
	}
	if (s->nslots == NSLOT)
		memmove(&s->s[0], &s->s[1], sizeof s->s[0] * (NSLOT - 1)), s->nslots--;
	s->s[s->nslots].base = base;
	s->s[s->nslots].disp = disp;
	s->s[s->nslots].v = *v;
	s->nslots++;
}

static void slot_drop_base(struct state *s, uint8_t base)
{
	uint8_t k = 0;
	for (uint8_t i = 0; i < s->nslots; i++)
		if (s->s[i].base != base)
			s->s[k++] = s->s[i];
	s->nslots = k;
}

/* drops the entry-relative slots in [lo, hi) */
static void slot_drop_range(struct state *s, int64_t lo, int64_t hi)
{
	uint8_t k = 0;
	for (uint8_t i = 0; i < s->nslots; i++)
		if (s->s[i].base != SLOT_ENTRY || s->s[i].disp < lo || s->s[i].disp >= hi)
			s->s[k++] = s->s[i];
	s->nslots = k;
}

/* Drops the slots of BASE (SLOT_ENTRY: entry-relative offsets) whose word overlaps
 * [LO, HI): a write there changes them, whatever its width. */
static void slot_forget(struct state *s, uint8_t base, int64_t lo, int64_t hi)
{
	uint8_t k = 0;
	for (uint8_t i = 0; i < s->nslots; i++)
		if (s->s[i].base != base || s->s[i].disp >= hi || s->s[i].disp + 8 <= lo)
			s->s[k++] = s->s[i];
	s->nslots = k;
}

/* The stack argument (0..DG_ISA_NSTACK-1) at entry-relative offset OFF, or -1. */
static int stack_arg(const struct dg_isa *isa, int64_t off)
{
	int64_t ps = isa->ptr_size;
	if (off < ps || (off - ps) % ps)
		return -1;
	int64_t k = (off - ps) / ps;
	return k < DG_ISA_NSTACK ? (int)k : -1;
}

/* What transfer needs besides the state: how much of the caller's frame the callee
 * of a call writes (in words above its return address; -1: unknown), and what it
 * reports: the words above this function's own return address it may write. */
struct b;
struct drops;
struct tctx {
	int callee_words;
	int argw; /* ARGW_ANY: unbounded (a store where sp is not known) */
	const struct b *b;
	struct drops *dr;  /* the first analysis's record of dropped slots, or NULL */
	int local_callee;  /* the call is to a function of this file (its argw can be known) */
};
static int global_value(const struct b *b, uint64_t a, int width, uint64_t *v);
#define ARGW_ANY 0x7fff

/* A write of WIDTH bytes (at least 1) at slot (BASE, DISP): every slot it overlaps is
 * forgotten; V (NULL: a value not modelled) becomes the slot's value. */
static void store_w(const struct dg_isa *isa, struct state *s, uint8_t base, int64_t disp, const struct val *v,
		    int64_t width, struct tctx *t)
{
	if (base == isa->sp && s->spk) {
		int64_t off = s->spd + disp;
		for (int k = 0; k < DG_ISA_NSTACK; k++) { /* the stack arguments it overlaps */
			int64_t a = (int64_t)(k + 1) * isa->ptr_size;
			if (a < off + width && a + isa->ptr_size > off)
				s->awritten |= (uint8_t)(1u << k);
		}
		int64_t end = off + width - 1; /* the last byte written */
		if (end >= isa->ptr_size && t->argw != ARGW_ANY) {
			int64_t w = (end - isa->ptr_size) / isa->ptr_size + 1;
			t->argw = w >= ARGW_ANY ? ARGW_ANY : w > t->argw ? (int)w : t->argw;
		}
		slot_forget(s, SLOT_ENTRY, off, off + width);
		if (v)
			slot_set(s, SLOT_ENTRY, off, v);
		return;
	}
	if (base == isa->sp) { /* where sp points is not known: any entry-relative slot may be hit */
		slot_drop_base(s, SLOT_ENTRY);
		s->awritten = 0xff;
		t->argw = ARGW_ANY;
	}
	slot_forget(s, base, disp, disp + width);
	if (v)
		slot_set(s, base, disp, v);
}

/* A store of V, a word, to slot (BASE, DISP). */
static void store(const struct dg_isa *isa, struct state *s, uint8_t base, int64_t disp, const struct val *v,
		  struct tctx *t)
{
	store_w(isa, s, base, disp, v, isa->ptr_size, t);
}

/* The first analysis of a function notes the slots calls of local functions dropped
 * (not knowing yet what the callee writes) and whether one of them was read again: only
 * then can the second analysis (refine) know more. */
#define MAX_DROPS 32
struct drops {
	int64_t off[MAX_DROPS];
	size_t n;
	int hit;
};

/* The value of the word at entry-relative offset OFF into *OUT. */
static void load_entry(const struct dg_isa *isa, const struct state *s, int64_t off, struct val *out,
		       struct drops *dr)
{
	const struct val *v = slot_find(s, SLOT_ENTRY, off);
	if (v) {
		*out = *v;
		return;
	}
	for (size_t i = 0; dr && i < dr->n && !dr->hit; i++)
		dr->hit = dr->off[i] == off;
	int k = stack_arg(isa, off);
	if (k >= 0 && !(s->awritten & (1u << k))) {
		out->k = V_ARG;
		out->n = 0;
		out->reg = (uint8_t)(DG_ISA_NREGS + k);
		return;
	}
	v_top(out);
}

/* The value of slot (BASE, DISP) into *OUT. */
static void load(const struct dg_isa *isa, struct state *s, uint8_t base, int64_t disp, struct val *out,
		 struct drops *dr)
{
	if (base == isa->sp && s->spk) {
		load_entry(isa, s, s->spd + disp, out, dr);
		return;
	}
	struct val *p = slot_get(s, base, disp);
	if (p)
		*out = *p;
	else
		v_top(out);
}

/* Where the callee of a call (TAIL: a jump) finds its stack argument K: the
 * entry-relative offset in the caller, or INT64_MIN when sp is not known. */
static int64_t callee_arg_off(const struct dg_isa *isa, const struct state *s, int k, int tail)
{
	if (!s->spk)
		return INT64_MIN;
	return s->spd + (tail ? isa->ptr_size : 0) + (int64_t)k * isa->ptr_size;
}

static void arith(struct val *v, int op, int64_t imm, uint64_t m)
{
	if (v->k != V_CONST) {
		v_top(v);
		return;
	}
	for (int i = 0; i < v->n; i++) {
		uint64_t c = v->c[i];
		c = op == DG_DF_OR ? c | (uint64_t)imm : op == DG_DF_AND ? c & (uint64_t)imm : c + (uint64_t)imm;
		v->c[i] = c & m;
	}
	/* may now hold duplicates: rebuild */
	struct val t = {.k = V_CONST};
	for (int i = 0; i < v->n; i++)
		v_add_const(&t, v->c[i]);
	*v = t;
}

static void transfer(const struct dg_isa *isa, struct state *s, const struct dg_insn *d, struct tctx *t)
{
	struct val nv;
	int have = 0;
	uint64_t m = wmask_of(d->width);
	switch (d->df) {
	case DG_DF_SET:
		v_const(&nv, (uint64_t)d->imm & m);
		have = 1;
		break;
	case DG_DF_COPY:
		nv = s->r[d->src];
		if (nv.k == V_CONST)
			arith(&nv, DG_DF_AND, (int64_t)m, m);
		have = 1;
		break;
	case DG_DF_OR:
	case DG_DF_AND:
	case DG_DF_ADD:
		nv = s->r[d->dst];
		arith(&nv, d->df, d->imm, m);
		have = 1;
		break;
	case DG_DF_ADDTO:
		nv = s->r[d->src];
		arith(&nv, DG_DF_ADD, d->imm, m);
		have = 1;
		break;
	case DG_DF_LOADABS: {
		uint64_t gv;
		if (global_value(t->b, d->mem, d->width, &gv) == 0)
			v_const(&nv, gv & m);
		else
			v_top(&nv);
		have = 1;
		break;
	}
	case DG_DF_LOAD:
		load(isa, s, d->base, d->imm, &nv, t->dr);
		if (nv.k == V_CONST)
			arith(&nv, DG_DF_AND, (int64_t)m, m);
		have = 1;
		break;
	case DG_DF_STORE:
	case DG_DF_STORE_IMM:
		if (d->sp_op == DG_SP_PUSH)
			break; /* below, once sp has moved */
		if (!(d->writes & (1u << d->base))) {
			struct val sv;
			if (d->df == DG_DF_STORE)
				sv = s->r[d->src];
			else
				v_const(&sv, (uint64_t)d->imm2 & m);
			if (sv.k == V_CONST)
				arith(&sv, DG_DF_AND, (int64_t)m, m);
			store_w(isa, s, d->base, d->imm, &sv, d->width ? d->width : isa->ptr_size, t);
		}
		break;
	case DG_DF_CLOBBER:
		/* a width not known (or beyond a few words: fxsave, xsave) forgets the whole frame */
		if (!(d->writes & (1u << d->base)))
			store_w(isa, s, d->base, d->imm, NULL, d->width && d->width <= 64 ? d->width : 1 << 20, t);
		break;
	default:
		break;
	}
	/* the stack pointer: a push's value and a pop's, then where sp now is */
	struct val pv;
	if (d->sp_op == DG_SP_PUSH) {
		if (d->df == DG_DF_STORE)
			pv = s->r[d->src];
		else if (d->df == DG_DF_STORE_IMM)
			v_const(&pv, (uint64_t)d->imm2 & m);
		else
			v_top(&pv);
	} else if (d->sp_op == DG_SP_POP) {
		load(isa, s, isa->sp, 0, &pv, t->dr);
	}
	int sp_known_after = 0;
	int64_t spd_after = 0;
	if (s->spk) {
		if (d->sp_op != DG_SP_NONE) {
			sp_known_after = 1;
			spd_after = s->spd + d->sp_adj;
		} else if (have && d->dst == isa->sp && d->width == isa->ptr_size &&
			   (d->df == DG_DF_ADD || (d->df == DG_DF_ADDTO && d->src == isa->sp))) {
			sp_known_after = 1;
			spd_after = s->spd + d->imm;
		} else if (!(d->writes & (1u << isa->sp))) {
			sp_known_after = 1;
			spd_after = s->spd;
		}
	}
	/* A callee writes the caller's frame only above its return address (its stack
	 * arguments and results, a register ABI's spill area): as many words as its own
	 * analysis found when it is known, else anything up to the caller's entry. */
	if (d->kind == DG_IK_CALL && s->spk) {
		int64_t hi = t->callee_words >= 0 && t->callee_words != ARGW_ANY
				     ? s->spd + (int64_t)t->callee_words * isa->ptr_size
				     : 0;
		for (uint8_t i = 0; t->dr && t->local_callee && i < s->nslots; i++)
			if (s->s[i].base == SLOT_ENTRY && s->s[i].disp >= s->spd && s->s[i].disp < hi) {
				if (t->dr->n == MAX_DROPS)
					t->dr->hit = 1;
				else
					t->dr->off[t->dr->n++] = s->s[i].disp;
			}
		slot_drop_range(s, s->spd, hi);
	}
	for (int r = 0; r < DG_ISA_NREGS; r++)
		if (d->writes & (1u << r))
			v_top(&s->r[r]);
	if (d->writes & (1u << isa->sp))
		slot_drop_base(s, isa->sp);
	if (d->writes & (1u << isa->fp))
		slot_drop_base(s, isa->fp);
	s->spk = (uint8_t)sp_known_after;
	s->spd = spd_after;
	if (d->sp_op == DG_SP_PUSH) {
		if (s->spk) {
			store(isa, s, isa->sp, 0, &pv, t);
		} else {
			s->awritten = 0xff;
			t->argw = ARGW_ANY;
		}
	}
	if (d->sp_op == DG_SP_POP && d->dst < DG_ISA_NREGS) {
		if (pv.k == V_CONST)
			arith(&pv, DG_DF_AND, (int64_t)m, m);
		s->r[d->dst] = pv;
	}
	if (have && d->dst < DG_ISA_NREGS && d->dst != isa->sp)
		s->r[d->dst] = nv;
}

/* ---- the builder ---- */
struct gload {
	uint32_t fn;
	uint8_t width;
	uint64_t addr;
};
/* an address an instruction names (struct dg_insn refs) */
struct cref {
	uint64_t at, a;
	uint8_t pc; /* pc-relative: names that address itself */
};

struct region {
	uint64_t lo, hi;
	const unsigned char *p;
};

/* a large constant (an address) in register REG at call CALL */
struct bigarg {
	uint32_t call;
	uint8_t reg;
	struct val v;
};

/* an address and an index: a relocation's (rel) or a function's (ext) */
struct addr_ix {
	uint64_t addr;
	uint32_t ix;
};

struct b {
	const struct dg_elf *e;
	const struct dg_isa *isa;
	struct dg_isa_ctx *cx;
	struct dg_fsum *s;
	struct region *rg;
	size_t nrg;
	uint64_t *starts;
	size_t nstarts, cstarts;
	uint64_t *plt;
	size_t nplt, cplt;
	uint64_t *resolvers;
	size_t nresolvers, cresolvers;
	struct addr_ix *rel; /* relocations by the address they patch */
	size_t nrel;
	uint64_t *branch_slots, *load_slots;
	size_t nbranch, cbranch, nload, cload;
	/* output */
	size_t cfns, csites, ccalls, cargs, cnums, ctakes;
	/* jumps from one function into the middle of another (gcc's .cold parts jump back) */
	struct addr_ix *ext;
	size_t next, cext;
	int reanalysing;
	const uint64_t *entries; /* the function being analysed: its entries from elsewhere */
	size_t nentries;
	/* constants too large for DG_FSUM_SMALL passed at calls: maybe names (exec_args) */
	struct bigarg *big;
	size_t nbig, cbig;
	/* per function scratch */
	struct dg_insn *ins;
	size_t nins, cins;
	struct dg_buf names;
	struct dg_go *go; /* a Go binary's function table, or NULL */
	/* per function: the words above its return address it may write (tctx.argw; -1 not
	 * yet known), and whether a call of it dropped slots a known callee might not write */
	int *argw;
	uint8_t *redo;
	uint8_t *nret;  /* per function: its ret instructions (saturating), from the first analysis */
	/* data the code may write (first analysis): addresses stored to, or that relocations
	 * and data words point at (wdata), and addresses the code takes (tdata) */
	uint64_t *wdata, *tdata;
	size_t nwdata, cwdata, ntdata, ctdata;
	uint8_t *noret; /* per function: it never returns (refine) */
	struct drops *dr; /* while recording a function in the first analysis */
	struct gload *gloads; /* loads of small initial values from data (first analysis) */
	size_t ngloads, cgloads;
	/* calls of local functions whose fall-through joins other paths: (function, callee) */
	uint32_t (*nrcalls)[2];
	size_t nnrcalls, cnrcalls;
	int refine; /* calls to local functions drop only what the callee's argw covers, and calls
		     * to functions that never return end their block */
	/* data references: (instruction, an address it names) from the first analysis */
	struct cref *crefs;
	size_t ncrefs, ccrefs;
	int want_crefs; /* the file has a symbol table that may delimit data objects (not Go's:
			 * its data is reached through the runtime's tables) */
	struct dobj *dobj; /* data objects (data_objects()), sorted */
	size_t ndobj;
};

static const struct region *region_of(const struct b *b, uint64_t a)
{
	for (size_t i = 0; i < b->nrg; i++)
		if (a >= b->rg[i].lo && a < b->rg[i].hi)
			return &b->rg[i];
	return NULL;
}

static int in_code(const struct b *b, uint64_t a)
{
	return region_of(b, a) != NULL;
}

/* reads a little-endian word of W bytes at virtual address A from the file */
static int read_word(const struct dg_elf *e, uint64_t a, int w, uint64_t *out)
{
	uint64_t off;
	if (dg_elf_vaddr_to_off(e, a, (uint64_t)w, &off) < 0)
		return -1;
	uint64_t v = 0;
	for (int i = 0; i < w; i++) {
		int sh = e->big_endian ? (w - 1 - i) * 8 : i * 8;
		v |= (uint64_t)e->data[off + (uint64_t)i] << sh;
	}
	*out = v;
	return 0;
}

static void add_start(struct b *b, uint64_t a)
{
	if (in_code(b, a))
		PUSH(b->starts, b->nstarts, b->cstarts, a);
}

static int cmp_addr_ix(const void *x, const void *y)
{
	const struct addr_ix *a = x, *c = y;
	return a->addr < c->addr ? -1 : a->addr > c->addr;
}

/* by function, then address */
static int cmp_ext(const void *x, const void *y)
{
	const struct addr_ix *a = x, *c = y;
	if (a->ix != c->ix)
		return a->ix < c->ix ? -1 : 1;
	return a->addr < c->addr ? -1 : a->addr > c->addr;
}

static const struct dg_elf_reloc *reloc_at(const struct b *b, uint64_t a)
{
	size_t lo = DG_LOWER_BOUND(u64, b->rel, b->nrel, addr, a);
	return lo < b->nrel && b->rel[lo].addr == a ? &b->e->relocs[b->rel[lo].ix] : NULL;
}

static uint64_t rel_addend(const struct b *b, const struct dg_elf_reloc *r)
{
	uint64_t v;
	if (r->addend || b->e->bits == 64)
		return (uint64_t)r->addend;
	/* REL (i386): the addend is the word being patched */
	return read_word(b->e, r->offset, 4, &v) == 0 ? v : 0;
}

static int has_u64(const uint64_t *v, size_t n, uint64_t a)
{
	size_t lo = dg_bound_u64(v, n, sizeof *v, 0, a, false);
	return lo < n && v[lo] == a;
}

uint32_t dg_fsum_fn_at(const struct dg_fsum *s, uint64_t addr)
{
	size_t lo = DG_UPPER_BOUND(u64, s->fns, s->nfns, addr, addr); /* past the last start <= ADDR */
	if (!lo)
		return DG_FSUM_NONE;
	const struct dg_fn *f = &s->fns[lo - 1];
	return addr - f->addr < f->size ? (uint32_t)(lo - 1) : DG_FSUM_NONE;
}

uint32_t dg_fsum_fn_start(const struct dg_fsum *s, uint64_t addr)
{
	uint32_t i = dg_fsum_fn_at(s, addr);
	return i != DG_FSUM_NONE && s->fns[i].addr == addr ? i : DG_FSUM_NONE;
}

static void collect_regions(struct b *b)
{
	const struct dg_elf *e = b->e;
	size_t cap = 0;
	for (size_t i = 0; i < e->nsecs; i++) {
		const struct dg_elf_sec *sc = &e->secs[i];
		if (!(sc->flags & SHF_EXECINSTR) || !(sc->flags & SHF_ALLOC) || sc->type == SHT_NOBITS || !sc->size)
			continue;
		if (sc->offset > e->size || sc->size > e->size - sc->offset)
			continue;
		struct region r = {sc->addr, sc->addr + sc->size, e->data + sc->offset};
		if (r.hi < r.lo)
			continue;
		PUSH(b->rg, b->nrg, cap, r);
	}
	if (b->nrg)
		return;
	for (size_t i = 0; i < e->nsegs; i++) {
		const struct dg_elf_seg *sg = &e->segs[i];
		if (sg->type != PT_LOAD || !(sg->flags & PF_X) || !sg->filesz)
			continue;
		if (sg->offset > e->size || sg->filesz > e->size - sg->offset)
			continue;
		struct region r = {sg->vaddr, sg->vaddr + sg->filesz, e->data + sg->offset};
		if (r.hi < r.lo)
			continue;
		PUSH(b->rg, b->nrg, cap, r);
	}
}

static int is_fn_sym(const struct dg_elf_sym *y)
{
	return (y->type == STT_FUNC || y->type == STT_GNU_IFUNC) && y->shndx != 0 && y->value;
}

/* the backend's code-address scan of one region: targets inside that region start functions */
struct scan_ctx {
	struct b *b;
	const struct region *r;
};

static void scanned_addr(void *arg, uint64_t t)
{
	struct scan_ctx *sc = arg;
	if (t >= sc->r->lo && t < sc->r->hi)
		add_start(sc->b, t);
}

static void collect_starts(struct b *b)
{
	const struct dg_elf *e = b->e;
	for (size_t i = 0; i < b->nrg; i++)
		add_start(b, b->rg[i].lo);
	add_start(b, e->entry);
	add_start(b, e->init);
	add_start(b, e->fini);
	for (size_t i = 0; i < e->ninit_array; i++)
		add_start(b, e->init_array[i]);
	for (size_t i = 0; i < e->nfini_array; i++)
		add_start(b, e->fini_array[i]);
	for (size_t i = 0; i < e->npreinit_array; i++)
		add_start(b, e->preinit_array[i]);
	const struct dg_elf_sym *tabs[2] = {e->syms, e->dynsyms};
	size_t ns[2] = {e->nsyms, e->ndynsyms};
	for (int t = 0; t < 2; t++)
		for (size_t i = 0; i < ns[t]; i++) {
			const struct dg_elf_sym *y = &tabs[t][i];
			if (!is_fn_sym(y))
				continue;
			add_start(b, y->value);
			if (y->type == STT_GNU_IFUNC && in_code(b, y->value))
				PUSH(b->resolvers, b->nresolvers, b->cresolvers, y->value);
		}
	for (size_t i = 0; i < e->nfde_starts; i++)
		add_start(b, e->fde_starts[i]);
	/* Go: the runtime's own table of every function (it survives stripping) */
	for (size_t i = 0; b->go && i < b->go->nfuncs; i++)
		add_start(b, b->go->funcs[i].entry);
	for (size_t i = 0; i < e->nrelocs; i++) {
		const struct dg_elf_reloc *r = &e->relocs[i];
		if (r->kind == DG_REL_RELATIVE || r->kind == DG_REL_IRELATIVE) {
			uint64_t a = rel_addend(b, r);
			add_start(b, a);
			if (r->kind == DG_REL_IRELATIVE && in_code(b, a))
				PUSH(b->resolvers, b->nresolvers, b->cresolvers, a);
		}
	}
	/* PLT entries are functions of their own */
	for (size_t i = 0; i < e->nsecs; i++) {
		const struct dg_elf_sec *sc = &e->secs[i];
		if (!sc->name || !(sc->flags & SHF_EXECINSTR))
			continue;
		if (strcmp(sc->name, ".plt") && strcmp(sc->name, ".plt.sec") && strcmp(sc->name, ".plt.got") &&
		    strcmp(sc->name, ".iplt"))
			continue;
		uint64_t step = sc->entsize >= 8 && sc->entsize <= 64 ? sc->entsize : 16;
		if (!strcmp(sc->name, ".plt.got") && sc->entsize < 8)
			step = 8;
		for (uint64_t a = sc->addr; a < sc->addr + sc->size && a >= sc->addr; a += step) {
			add_start(b, a);
			PUSH(b->plt, b->nplt, b->cplt, a);
		}
	}
	/* Code addresses the code materialises start functions: a handler or restorer may sit
	 * where no FDE starts (glibc's __restore_rt starts one byte after its FDE). Found by the
	 * backend's scan (x86-64: lea reg, [rip+disp32]), before any decoding. */
	for (size_t i = 0; b->isa->scan_code_addrs && i < b->nrg; i++) {
		struct scan_ctx sc = {b, &b->rg[i]};
		b->isa->scan_code_addrs(b->rg[i].p, (size_t)(b->rg[i].hi - b->rg[i].lo), b->rg[i].lo, scanned_addr, &sc);
	}
	/* Without .eh_frame, call targets mark functions too: one sweep to find them. */
	if (!e->nfde_starts) {
		struct dg_insn d;
		for (size_t i = 0; i < b->nrg; i++) {
			const struct region *r = &b->rg[i];
			for (uint64_t a = r->lo; a < r->hi;) {
				b->isa->decode(b->cx, r->p + (a - r->lo), (size_t)(r->hi - a), a, &d);
				if (d.kind == DG_IK_CALL && !d.indirect)
					add_start(b, d.target);
				a += d.len;
			}
		}
	}
	b->nstarts = dg_sort_uniq_u64(b->starts, b->nstarts);
	/* No real function is megabytes long: cut longer runs (code without any start, as in
	 * a hostile file) so one function's decoded instructions stay bounded. */
	size_t n0 = b->nstarts;
	for (size_t i = 0; i < n0; i++) {
		const struct region *r = region_of(b, b->starts[i]);
		uint64_t end = i + 1 < n0 && b->starts[i + 1] < r->hi ? b->starts[i + 1] : r->hi;
		for (uint64_t a = b->starts[i] + MAX_FN_BYTES; a < end; a += MAX_FN_BYTES)
			add_start(b, a);
	}
	if (b->nstarts != n0)
		b->nstarts = dg_sort_uniq_u64(b->starts, b->nstarts);
	b->nplt = dg_sort_uniq_u64(b->plt, b->nplt);
	b->nresolvers = dg_sort_uniq_u64(b->resolvers, b->nresolvers);
}

static void make_functions(struct b *b)
{
	struct dg_fsum *s = b->s;
	s->fns = dg_xcalloc(b->nstarts ? b->nstarts : 1, sizeof *s->fns);
	for (size_t i = 0; i < b->nstarts; i++) {
		const struct region *r = region_of(b, b->starts[i]);
		if (!r)
			continue;
		uint64_t end = r->hi;
		if (i + 1 < b->nstarts && b->starts[i + 1] < end)
			end = b->starts[i + 1];
		struct dg_fn *f = &s->fns[s->nfns++];
		f->addr = b->starts[i];
		f->size = end - f->addr;
		f->name = NULL;
		if (has_u64(b->plt, b->nplt, f->addr))
			f->flags |= DG_FN_PLT;
		if (has_u64(b->resolvers, b->nresolvers, f->addr))
			f->flags |= DG_FN_RESOLVER;
	}
	/* names: .symtab first (it has the local ones), then .dynsym; offsets into b->names */
	const struct dg_elf_sym *tabs[2] = {b->e->syms, b->e->dynsyms};
	size_t ns[2] = {b->e->nsyms, b->e->ndynsyms};
	uint32_t *off = dg_xcalloc(s->nfns ? s->nfns : 1, sizeof *off);
	dg_buf_putc(&b->names, '\0');
	for (int t = 0; t < 2; t++)
		for (size_t i = 0; i < ns[t]; i++) {
			const struct dg_elf_sym *y = &tabs[t][i];
			if (!is_fn_sym(y) || !y->name || !*y->name)
				continue;
			uint32_t k = dg_fsum_fn_start(s, y->value);
			if (k == DG_FSUM_NONE || off[k])
				continue;
			off[k] = (uint32_t)b->names.len;
			dg_buf_append(&b->names, y->name, strlen(y->name) + 1);
		}
	for (size_t i = 0; b->go && i < b->go->nfuncs; i++) {
		uint32_t k = dg_fsum_fn_start(s, b->go->funcs[i].entry);
		if (k == DG_FSUM_NONE || off[k])
			continue;
		off[k] = (uint32_t)b->names.len;
		const char *nm = dg_go_func_name(b->go, i);
		dg_buf_append(&b->names, nm, strlen(nm) + 1);
	}
	s->strings_len = b->names.len;
	s->strings = dg_buf_steal(&b->names);
	for (size_t i = 0; i < s->nfns; i++)
		s->fns[i].name = off[i] ? s->strings + off[i] : NULL;
	free(off);
}

/* Jump-table targets of the indirect jump at index K: a table of 32-bit offsets from an
 * address the function materialises shortly before (PIC), or of absolute pointers at
 * the jump's own memory operand. Tables lie back to back in .rodata and carry no
 * length, so reading stops at the first entry outside the function [LO, HI). */
static size_t jump_table(struct b *b, size_t k, uint64_t lo, uint64_t hi, uint64_t *out, size_t max)
{
	const struct dg_insn *j = &b->ins[k];
	size_t n = 0;
	uint64_t w;
	if (j->has_mem && j->mem_indexed) {
		int ps = b->isa->ptr_size;
		for (size_t i = 0; i < max; i++) {
			if (read_word(b->e, j->mem + i * (uint64_t)ps, ps, &w) < 0 || w < lo || w >= hi)
				break;
			out[n++] = w;
		}
		return n;
	}
	if (j->has_mem)
		return 0;
	for (size_t back = 1; back <= 16 && back <= k; back++) {
		const struct dg_insn *l = &b->ins[k - back];
		if (l->df != DG_DF_SET || !l->has_konst || in_code(b, l->konst))
			continue;
		uint64_t t = l->konst;
		for (size_t i = 0; i < max; i++) {
			if (read_word(b->e, t + i * 4, 4, &w) < 0)
				break;
			uint64_t a = t + (uint64_t)(int64_t)(int32_t)(uint32_t)w;
			if (a < lo || a >= hi)
				break;
			out[n++] = a;
		}
		if (n)
			return n;
	}
	return 0;
}

struct fnctx {
	size_t *blk_of;   /* insn index -> block */
	size_t *bstart;   /* block -> first insn */
	size_t nblk;
	size_t *succ;     /* flattened successors */
	size_t *succ_off; /* block -> first succ (nblk + 1 entries) */
	struct state *in;
};

static size_t insn_at(const struct b *b, uint64_t a)
{
	size_t lo = DG_LOWER_BOUND(u64, b->ins, b->nins, addr, a);
	return lo < b->nins && b->ins[lo].addr == a ? lo : SIZE_MAX;
}

static uint8_t small_val(const struct val *v, struct dg_fsum *s, struct b *b, struct dg_fval *out)
{
	memset(out, 0, sizeof *out);
	if (v->k == V_ARG) {
		out->kind = DG_FV_ARG;
		out->reg = v->reg;
		return 1;
	}
	if (v->k != V_CONST)
		return 0;
	for (int i = 0; i < v->n; i++)
		if (v->c[i] >= DG_FSUM_SMALL)
			return 0;
	out->kind = DG_FV_CONST;
	out->n = v->n;
	out->first = (uint32_t)s->nnums;
	for (int i = 0; i < v->n; i++)
		PUSH(s->nums, s->nnums, b->cnums, (uint32_t)v->c[i]);
	return 1;
}

static void add_call(struct b *b, uint64_t addr, uint8_t kind, uint32_t target, int tail, const struct state *st)
{
	struct dg_fsum *s = b->s;
	struct dg_fcall c = {.addr = addr, .kind = kind, .target = target, .tail = (uint8_t)tail};
	c.first_arg = (uint32_t)s->nargs;
	if (st && kind != DG_CALL_INDIRECT)
		for (uint8_t r = 0; r < DG_ARG_NREGS; r++) {
			struct val sv;
			if (r < DG_ISA_NREGS) {
				if (!(b->isa->arg_regs & (1u << r)))
					continue;
				sv = st->r[r];
			} else { /* the callee's stack argument K, as the words at sp are now */
				int64_t off = callee_arg_off(b->isa, st, r - DG_ISA_NREGS, tail);
				if (off != INT64_MIN) {
					load_entry(b->isa, st, off, &sv, b->dr);
				} else {
					/* sp not known from the entry (paths that left different frames
					 * joined): a word stored at [sp + 8k] since sp last changed is
					 * still known (every write of sp forgets those slots) */
					const struct val *v = slot_find(
						st, b->isa->sp, (int64_t)(r - DG_ISA_NREGS + (tail ? 1 : 0)) * b->isa->ptr_size);
					if (!v)
						continue;
					sv = *v;
				}
			}
			struct dg_fcallarg a = {.reg = r};
			if (small_val(&sv, s, b, &a.v)) {
				PUSH(s->args, s->nargs, b->cargs, a);
				c.nargs++;
			} else if (sv.k == V_CONST) {
				struct bigarg g = {(uint32_t)s->ncalls, r, sv};
				PUSH(b->big, b->nbig, b->cbig, g);
			}
		}
	PUSH(s->calls, s->ncalls, b->ccalls, c);
}

/* The call a control transfer to ADDR from outside the function makes. */
static void call_to(struct b *b, uint64_t from, uint64_t target, int tail, const struct state *st)
{
	uint32_t f = dg_fsum_fn_at(b->s, target);
	if (f != DG_FSUM_NONE && b->s->fns[f].addr != target && !b->reanalysing) {
		struct addr_ix x = {target, f};
		PUSH(b->ext, b->next, b->cext, x);
	}
	if (f == DG_FSUM_NONE)
		add_call(b, from, DG_CALL_INDIRECT, 0, tail, st);
	else
		add_call(b, from, DG_CALL_LOCAL, f, tail, st);
}

/* A call or jump through the pointer-sized memory at SLOT. */
static void call_through(struct b *b, uint64_t from, uint64_t slot, int tail, const struct state *st)
{
	const struct dg_elf_reloc *r = reloc_at(b, slot);
	if (r) {
		if (r->sym && (r->kind == DG_REL_JUMP_SLOT || r->kind == DG_REL_GLOB_DAT || r->kind == DG_REL_ABS)) {
			add_call(b, from, DG_CALL_IMPORT, r->sym, tail, st);
			return;
		}
		uint64_t a = rel_addend(b, r);
		uint32_t f = dg_fsum_fn_start(b->s, a);
		if (r->kind == DG_REL_RELATIVE && f != DG_FSUM_NONE) {
			add_call(b, from, DG_CALL_LOCAL, f, tail, st);
			return;
		}
		if (r->kind == DG_REL_IRELATIVE && f != DG_FSUM_NONE) {
			add_call(b, from, DG_CALL_IFUNC, f, tail, st);
			return;
		}
		add_call(b, from, DG_CALL_INDIRECT, 0, tail, st);
		return;
	}
	uint64_t w;
	if (b->e->type == ET_EXEC && read_word(b->e, slot, b->isa->ptr_size, &w) == 0 &&
	    dg_fsum_fn_start(b->s, w) != DG_FSUM_NONE) {
		add_call(b, from, DG_CALL_LOCAL, dg_fsum_fn_start(b->s, w), tail, st);
		return;
	}
	add_call(b, from, DG_CALL_INDIRECT, 0, tail, st);
}

/* Whether D calls a function of this file that never returns (known once refining). */
static int noret_call(const struct b *b, const struct dg_insn *d)
{
	if (d->kind != DG_IK_CALL || d->indirect || !b->refine)
		return 0;
	uint32_t t = dg_fsum_fn_start(b->s, d->target);
	return t != DG_FSUM_NONE && b->noret[t];
}

/* How many words above its return address the callee of D writes (-1: not known). */
static int callee_words(const struct b *b, const struct dg_insn *d)
{
	if (d->kind != DG_IK_CALL || d->indirect || !b->refine)
		return -1;
	uint32_t t = dg_fsum_fn_start(b->s, d->target);
	return t == DG_FSUM_NONE ? -1 : b->argw[t];
}

/* Whether A lies in a loaded segment with every flag of FLAGS. */
static int in_segment(const struct b *b, uint64_t a, uint32_t flags)
{
	const struct dg_elf *e = b->e;
	for (size_t i = 0; i < e->nsegs; i++) {
		const struct dg_elf_seg *sg = &e->segs[i];
		if (sg->type == PT_LOAD && (sg->flags & flags) == flags && a >= sg->vaddr && a - sg->vaddr < sg->memsz)
			return 1;
	}
	return 0;
}

/* Whether A lies in a writable segment (data the code could change). */
static int in_data(const struct b *b, uint64_t a)
{
	return in_segment(b, a, PF_W);
}

/* The word of WIDTH bytes at A as the file and the loader leave it: a RELATIVE
 * relocation's addend, zero past the file's bytes (.bss), else the file's bytes;
 * -1 where a relocation to a symbol (or a segment the file does not back) decides. */
static int initial_value(const struct b *b, uint64_t a, int width, uint64_t *v)
{
	const struct dg_elf *e = b->e;
	const struct dg_elf_reloc *r = reloc_at(b, a);
	if (r) {
		if (r->kind != DG_REL_RELATIVE || width != b->isa->ptr_size)
			return -1;
		*v = rel_addend(b, r);
		return 0;
	}
	/* a relocation patching part of the word */
	for (uint64_t k = 1; k < (uint64_t)width; k++)
		if (reloc_at(b, a + k))
			return -1;
	for (size_t i = 0; i < e->nsegs; i++) {
		const struct dg_elf_seg *sg = &e->segs[i];
		if (sg->type != PT_LOAD || a < sg->vaddr || a - sg->vaddr >= sg->memsz ||
		    (uint64_t)width > sg->memsz - (a - sg->vaddr))
			continue;
		if (a - sg->vaddr >= sg->filesz) {
			*v = 0;
			return 0;
		}
		return read_word(e, a, width, v);
	}
	return -1;
}

/* The value a load of WIDTH bytes from A always gives, when known: read-only data, or
 * data no instruction of the file writes or takes the address of and no relocation
 * or pointer in the file points at (the first analysis collects wdata). */
static int global_value(const struct b *b, uint64_t a, int width, uint64_t *v)
{
	if (!b->refine || width < 4)
		return -1;
	if (in_data(b, a)) {
		/* a store to one of its bytes, a relocation or data word pointing at one, or an
		 * address the code takes at most OBJ_WINDOW bytes below it (the start of an object
		 * it may be a field of, written through a pointer) */
		size_t i = dg_bound_u64(b->wdata, b->nwdata, sizeof *b->wdata, 0, a, false);
		if (i < b->nwdata && b->wdata[i] < a + (uint64_t)width)
			return -1;
		/* Go: the compiler takes a package variable's own address (or a field's, exactly);
		 * its linker packs small variables densely, so a window would hit a neighbour */
		uint64_t win = b->go ? 0 : OBJ_WINDOW;
		uint64_t lo = a > win ? a - win : 0;
		i = dg_bound_u64(b->tdata, b->ntdata, sizeof *b->tdata, 0, lo, false);
		if (i < b->ntdata && b->tdata[i] < a + (uint64_t)width)
			return -1;
	}
	return initial_value(b, a, width, v);
}

static int terminates(const struct dg_insn *d)
{
	return d->kind == DG_IK_JMP || d->kind == DG_IK_RET || d->kind == DG_IK_STOP || d->kind == DG_IK_BAD;
}

/* The site at b->ins[AT] (a native syscall instruction when NATIVE) takes its number and
 * its first three arguments from the words 0, 1, 2 and 3 of one structure: in its block,
 * the last write of each of those registers before it is a load through the same base
 * register at that word's offset, and nothing writes the base from the first such load on
 * (each load itself aside). glibc's xid_command {int syscall_no; long id[3];}. */
static int xidcmd_shape(const struct b *b, size_t from, size_t at, int native)
{
	const struct dg_isa *isa = b->isa;
	uint8_t regs[4] = {native ? isa->sysno_reg : isa->sysno_reg32};
	for (int k = 0; k < 3; k++)
		regs[k + 1] = native ? isa->sysarg[k] : isa->sysarg32[k];
	size_t pos[4], lo = at;
	uint8_t base = DG_ISA_NOREG;
	for (int k = 0; k < 4; k++) {
		size_t j = at;
		while (j > from && !(b->ins[j - 1].writes & (1u << regs[k])))
			j--;
		if (j == from)
			return 0;
		const struct dg_insn *l = &b->ins[j - 1];
		if (l->df != DG_DF_LOADP || l->dst != regs[k] || l->imm != (int64_t)k * isa->ptr_size ||
		    (base != DG_ISA_NOREG && l->base != base))
			return 0;
		base = l->base;
		pos[k] = j - 1;
		if (pos[k] < lo)
			lo = pos[k];
	}
	for (int k = 0; k < 4; k++)
		for (size_t t = lo; t < pos[k]; t++)
			if (b->ins[t].writes & (1u << base))
				return 0;
	return 1;
}

static void analyse_fn(struct b *b, uint32_t fi)
{
	struct dg_fsum *s = b->s;
	struct dg_fn *f = &s->fns[fi];
	const struct region *rg = region_of(b, f->addr);
	uint64_t end = f->addr + f->size;
	b->nins = 0;
	f->first_site = (uint32_t)s->nsites;
	f->first_call = (uint32_t)s->ncalls;
	f->first_take = (uint32_t)s->ntakes;
	if (!rg)
		return;
	for (uint64_t a = f->addr; a < end;) {
		struct dg_insn d;
		b->isa->decode(b->cx, rg->p + (a - rg->lo), (size_t)(end - a), a, &d);
		PUSH(b->ins, b->nins, b->cins, d);
		if (!b->reanalysing) {
			s->ninsns++;
			s->nbad += d.kind == DG_IK_BAD;
		}
		a += d.len;
	}
	f->first_site = (uint32_t)s->nsites;
	f->first_call = (uint32_t)s->ncalls;
	f->first_take = (uint32_t)s->ntakes;
	size_t m = b->nins;
	if (!m)
		return;

	/* blocks */
	uint8_t *lead = dg_xcalloc(m, 1);
	lead[0] = 1;
	for (size_t i = 0; i < m; i++) {
		const struct dg_insn *d = &b->ins[i];
		if ((d->kind == DG_IK_JCC || (d->kind == DG_IK_JMP && !d->indirect)) && d->target >= f->addr &&
		    d->target < end) {
			size_t t = insn_at(b, d->target);
			if (t != SIZE_MAX)
				lead[t] = 1;
		}
		if ((d->kind == DG_IK_JCC || terminates(d) || noret_call(b, d)) && i + 1 < m)
			lead[i + 1] = 1;
		if (d->kind == DG_IK_RET && b->nret[fi] < UINT8_MAX)
			b->nret[fi]++;
	}
	for (size_t k = 0; k < b->nentries; k++) {
		size_t t = insn_at(b, b->entries[k]);
		if (t != SIZE_MAX)
			lead[t] = 1;
	}
	/* jump tables */
	uint64_t *tbl = NULL;
	size_t ntbl = 0, ctbl = 0;
	size_t *tbl_off = dg_xcalloc(m + 1, sizeof *tbl_off);
	uint64_t tmp[MAX_TABLE];
	for (size_t i = 0; i < m; i++) {
		tbl_off[i] = ntbl;
		const struct dg_insn *d = &b->ins[i];
		if (d->kind != DG_IK_JMP || !d->indirect || (d->has_mem && !d->mem_indexed))
			continue;
		size_t n = jump_table(b, i, f->addr, end, tmp, MAX_TABLE);
		for (size_t k = 0; k < n; k++) {
			PUSH(tbl, ntbl, ctbl, tmp[k]);
			if (tmp[k] >= f->addr && tmp[k] < end) {
				size_t t = insn_at(b, tmp[k]);
				if (t != SIZE_MAX)
					lead[t] = 1;
			}
		}
	}
	tbl_off[m] = ntbl;
	struct fnctx c = {0};
	c.blk_of = dg_xcalloc(m, sizeof *c.blk_of);
	c.bstart = dg_xcalloc(m + 1, sizeof *c.bstart);
	for (size_t i = 0; i < m; i++) {
		if (lead[i])
			c.bstart[c.nblk++] = i;
		c.blk_of[i] = c.nblk - 1;
	}
	c.bstart[c.nblk] = m;
	c.succ_off = dg_xcalloc(c.nblk + 1, sizeof *c.succ_off);
	size_t csucc = 0, nsucc = 0;
	size_t *npred = dg_xcalloc(c.nblk, sizeof *npred);
	uint8_t *after_noret = dg_xcalloc(c.nblk, 1); /* follows a call that never returns */
	for (size_t bl = 0; bl < c.nblk; bl++) {
		c.succ_off[bl] = nsucc;
		size_t li = c.bstart[bl + 1] - 1;
		const struct dg_insn *d = &b->ins[li];
		if (d->kind == DG_IK_JCC || (d->kind == DG_IK_JMP && !d->indirect)) {
			if (d->target >= f->addr && d->target < end) {
				size_t t = insn_at(b, d->target);
				if (t != SIZE_MAX) {
					PUSH(c.succ, nsucc, csucc, c.blk_of[t]);
					npred[c.blk_of[t]]++;
				}
			}
		}
		if (d->kind == DG_IK_JMP && d->indirect)
			for (size_t k = tbl_off[li]; k < tbl_off[li + 1]; k++)
				if (tbl[k] >= f->addr && tbl[k] < end) {
					size_t t = insn_at(b, tbl[k]);
					if (t != SIZE_MAX) {
						PUSH(c.succ, nsucc, csucc, c.blk_of[t]);
						npred[c.blk_of[t]]++;
					}
				}
		if (!terminates(d) && noret_call(b, d) && bl + 1 < c.nblk)
			after_noret[bl + 1] = 1;
		else if (!terminates(d) && bl + 1 < c.nblk) {
			PUSH(c.succ, nsucc, csucc, bl + 1);
			npred[bl + 1]++;
		}
	}
	c.succ_off[c.nblk] = nsucc;

	/* Data flow: entry registers are the function's arguments. Too large a function to keep a state per block: no data flow, every value
	 * unknown (always sound). */
	int too_big = c.nblk > MAX_DF_BLOCKS;
	size_t *work = NULL;
	uint8_t *queued = NULL;
	struct state cur;
	if (!too_big) {
		c.in = dg_xcalloc(c.nblk, sizeof *c.in);
		st_top(&c.in[0]);
		c.in[0].spk = 1; /* the entry: sp where the call left it, nothing written above it */
		c.in[0].spd = 0;
		c.in[0].awritten = 0;
		for (uint8_t r = 0; r < DG_ISA_NREGS; r++)
			if (b->isa->arg_regs & (1u << r)) {
				c.in[0].r[r].k = V_ARG;
				c.in[0].r[r].reg = r;
			}
		/* A block no known branch reaches starts with nothing known: exception landing pads
		 * (entered by the unwinder), targets of indirect jumps nothing resolved. Blocks of
		 * padding only (nop) are dead and stay unreached. Entries from other functions
		 * start with nothing known too. */
		for (size_t bl = 1; bl < c.nblk; bl++) {
			if (npred[bl] || after_noret[bl]) /* after a call that never returns: dead when nothing else leads there */
				continue;
			int pad = 1;
			for (size_t i = c.bstart[bl]; i < c.bstart[bl + 1] && pad; i++)
				pad = b->ins[i].pad;
			if (!pad)
				st_top(&c.in[bl]);
		}
		for (size_t k = 0; k < b->nentries; k++) {
			size_t t = insn_at(b, b->entries[k]);
			if (t != SIZE_MAX) {
				struct state top;
				st_top(&top);
				st_join(&c.in[c.blk_of[t]], &top);
			}
		}
		work = dg_xcalloc(c.nblk, sizeof *work);
		queued = dg_xcalloc(c.nblk, 1);
		size_t nw = 0;
		for (size_t bl = c.nblk; bl-- > 0;)
			if (c.in[bl].reached) {
				work[nw++] = bl;
				queued[bl] = 1;
			}
		size_t guard = 0;
		while (nw && guard++ < c.nblk * 64 + 1024) {
			size_t bl = work[--nw];
			queued[bl] = 0;
			cur = c.in[bl];
			for (size_t i = c.bstart[bl]; i < c.bstart[bl + 1]; i++) {
				struct tctx t = {callee_words(b, &b->ins[i]), 0, b, NULL, 0};
				transfer(b->isa, &cur, &b->ins[i], &t);
			}
			for (size_t k = c.succ_off[bl]; k < c.succ_off[bl + 1]; k++) {
				size_t t = c.succ[k];
				if (st_join(&c.in[t], &cur) && !queued[t]) {
					work[nw++] = t;
					queued[t] = 1;
				}
			}
		}
		/* Did not settle (it always does: values only grow, to at most VMAX constants,
		 * then unknown): nothing known anywhere, which is always sound. */
		if (nw)
			for (size_t bl = 0; bl < c.nblk; bl++)
				st_top(&c.in[bl]);
	}

	/* record sites, calls and takes from the settled states */
	int argw = 0;
	struct drops dr = {.n = 0};
	b->dr = !b->refine && !b->reanalysing ? &dr : NULL;
	uint32_t *tk = NULL;
	size_t ntk = 0, ctk = 0;
	for (size_t bl = 0; bl < c.nblk; bl++) {
		/* dead padding is still read (sites there count as unknown), but does not
		 * run into the next function */
		int live = 1;
		if (c.in) {
			live = c.in[bl].reached;
			if (!live)
				st_top(&c.in[bl]);
			cur = c.in[bl];
		} else {
			st_top(&cur);
		}
		for (size_t i = c.bstart[bl]; i < c.bstart[bl + 1]; i++) {
			const struct dg_insn *d = &b->ins[i];
			uint64_t next = d->addr + d->len;
			if (d->has_konst) {
				/* a code address inside a function takes that function (glibc's FDE for
				 * __restore_rt starts one byte before the symbol) */
				uint32_t t = dg_fsum_fn_at(s, d->konst);
				if (t != DG_FSUM_NONE)
					PUSH(tk, ntk, ctk, t);
			}
			if (d->has_mem && d->mem_load) {
				if (d->kind == DG_IK_CALL || d->kind == DG_IK_JMP)
					PUSH(b->branch_slots, b->nbranch, b->cbranch, d->mem);
				else
					PUSH(b->load_slots, b->nload, b->cload, d->mem);
			}
			switch (d->kind) {
			case DG_IK_SYSCALL:
			case DG_IK_SYSCALL32: {
				struct dg_fsite st = {.addr = d->addr,
						      .table = d->kind == DG_IK_SYSCALL && b->isa->bits == 64 ? DG_TAB_NATIVE
														: DG_TAB_I386};
				if (b->isa->bits == 32)
					st.table = DG_TAB_I386;
				const struct val *v = &cur.r[d->kind == DG_IK_SYSCALL ? b->isa->sysno_reg : b->isa->sysno_reg32];
				if (v->k == V_CONST) {
					st.v.kind = DG_FV_CONST;
					st.v.n = v->n;
					st.v.first = (uint32_t)s->nnums;
					for (int q = 0; q < v->n; q++)
						PUSH(s->nums, s->nnums, b->cnums, (uint32_t)v->c[q]);
				} else if (v->k == V_ARG) {
					st.v.kind = DG_FV_ARG;
					st.v.reg = v->reg;
				} else if (xidcmd_shape(b, c.bstart[bl], i, d->kind == DG_IK_SYSCALL)) {
					st.shape = DG_SITE_XIDCMD;
				}
				PUSH(s->sites, s->nsites, b->csites, st);
				break;
			}
			case DG_IK_CALL:
				if (!d->indirect)
					call_to(b, d->addr, d->target, 0, &cur);
				else if (d->has_mem && d->mem_load && !d->mem_indexed)
					call_through(b, d->addr, d->mem, 0, &cur);
				else {
					add_call(b, d->addr, DG_CALL_INDIRECT, 0, 0, NULL);
					f->flags |= DG_FN_INDIRECT;
				}
				break;
			case DG_IK_JMP:
			case DG_IK_JCC:
				if (!d->indirect) {
					if (d->target < f->addr || d->target >= end)
						call_to(b, d->addr, d->target, 1, &cur);
				} else if (d->has_mem && d->mem_load && !d->mem_indexed) {
					call_through(b, d->addr, d->mem, 1, &cur);
				} else if (tbl_off[i + 1] > tbl_off[i]) {
					for (size_t k = tbl_off[i]; k < tbl_off[i + 1]; k++)
						if (tbl[k] < f->addr || tbl[k] >= end)
							call_to(b, d->addr, tbl[k], 1, &cur);
				} else {
					add_call(b, d->addr, DG_CALL_INDIRECT, 0, 1, NULL);
					f->flags |= DG_FN_INDIRECT;
				}
				break;
			default:
				break;
			}
			int local = d->kind == DG_IK_CALL && !d->indirect && dg_fsum_fn_start(s, d->target) != DG_FSUM_NONE;
			struct tctx t = {callee_words(b, d), argw, b, b->dr, local};
			/* a call whose fall-through matters should the callee never return: code follows
			 * in its block, or another path joins where it falls through */
			size_t nx = i + 1; /* the next instruction that is not padding */
			while (nx < m && b->ins[nx].pad)
				nx++;
			if (!b->refine && local && nx < m && b->ins[nx].kind != DG_IK_STOP &&
			    (c.bstart[c.blk_of[nx]] != nx || npred[c.blk_of[nx]] >= 2)) {
				uint32_t pair[2] = {fi, dg_fsum_fn_start(s, d->target)};
				if (b->nnrcalls == b->cnrcalls) {
					b->cnrcalls = b->cnrcalls ? b->cnrcalls * 2 : 64;
					b->nrcalls = dg_xreallocarray(b->nrcalls, b->cnrcalls, sizeof *b->nrcalls);
				}
				memcpy(b->nrcalls[b->nnrcalls++], pair, sizeof pair);
			}
			if (!b->refine && !b->reanalysing) {
				if (d->has_mem && d->mem_write) /* every byte it may write (an unknown width: 64) */
					for (uint64_t k = 0; k < (d->mem_size ? d->mem_size : 64); k++)
						PUSH(b->wdata, b->nwdata, b->cwdata, d->mem + k);
				if (d->has_konst && in_data(b, d->konst))
					PUSH(b->tdata, b->ntdata, b->ctdata, d->konst);
				for (uint8_t q = 0; b->want_crefs && q < d->nrefs; q++)
					if (!in_code(b, d->refs[q]) && in_segment(b, d->refs[q], 0)) {
						struct cref cr = {d->addr, d->refs[q], (uint8_t)((d->refs_pc >> q) & 1)};
						PUSH(b->crefs, b->ncrefs, b->ccrefs, cr);
					}
				uint64_t gv;
				if (d->df == DG_DF_LOADABS && initial_value(b, d->mem, d->width, &gv) == 0 && gv < DG_FSUM_SMALL) {
					/* maybe a constant (a variable nothing writes): known once wdata is */
					struct gload g = {fi, (uint8_t)d->width, d->mem};
					PUSH(b->gloads, b->ngloads, b->cgloads, g);
				}
			}
			transfer(b->isa, &cur, d, &t);
			argw = t.argw;
			/* falling off the end runs into the next function, unless what ends the
			 * function is a call followed by padding (or nothing): a call that does not
			 * return (__stack_chk_fail, abort); compilers never fall into the next function */
			if (live && i + 1 == m && !terminates(d) && !noret_call(b, d) && next == end && in_code(b, end)) {
				size_t k = i;
				while (k > c.bstart[bl] && b->ins[k].pad)
					k--;
				if (b->ins[k].kind != DG_IK_CALL || (b->ins[k].pad && k == i))
					call_to(b, d->addr, end, 1, &cur);
			}
		}
	}
	b->argw[fi] = argw;
	if (b->dr && dr.hit)
		b->redo[fi] = 1;
	b->dr = NULL;
	ntk = dg_sort_uniq_u32(tk, ntk);
	for (size_t i = 0; i < ntk; i++)
		PUSH(s->takes, s->ntakes, b->ctakes, tk[i]);
	f->nsites = (uint32_t)(s->nsites - f->first_site);
	f->ncalls = (uint32_t)(s->ncalls - f->first_call);
	f->ntakes = (uint32_t)(s->ntakes - f->first_take);
	free(tk);
	free(lead);
	free(tbl);
	free(tbl_off);
	free(c.blk_of);
	free(c.bstart);
	free(c.succ);
	free(c.succ_off);
	free(c.in);
	free(npred);
	free(after_noret);
	free(work);
	free(queued);
}

/* Functions that never return (panics, exit paths): no ret instruction, and every
 * jump out of them lands in such a function (a greatest fixpoint over the first
 * analysis, where every call was taken to return). A function that calls one gets
 * analysed again (redo) with that call ending its block. */
static void wrappers(struct dg_fsum *s);

static void noreturn_fns(struct b *b)
{
	struct dg_fsum *s = b->s;
	for (size_t i = 0; i < s->nfns; i++) {
		const struct dg_fn *f = &s->fns[i];
		b->noret[i] = !b->nret[i] && !(f->flags & (DG_FN_PLT | DG_FN_RESOLVER)) && f->size > 0;
	}
	for (int changed = 1; changed;) {
		changed = 0;
		for (size_t i = 0; i < s->nfns; i++) {
			if (!b->noret[i])
				continue;
			const struct dg_fn *f = &s->fns[i];
			for (uint32_t k = 0; k < f->ncalls; k++) {
				const struct dg_fcall *c = &s->calls[f->first_call + k];
				if (c->tail && (c->kind != DG_CALL_LOCAL || c->target >= s->nfns || !b->noret[c->target])) {
					b->noret[i] = 0;
					changed = 1;
					break;
				}
			}
		}
	}
	for (size_t i = 0; i < b->nnrcalls; i++)
		if (b->noret[b->nrcalls[i][1]])
			b->redo[b->nrcalls[i][0]] = 1;
}

/* What data the file itself points at besides its code's stores and taken addresses:
 * relocations and pointer-sized words in writable data (the target may be written
 * through them). */
static void written_data(struct b *b)
{
	const struct dg_elf *e = b->e;
	for (size_t i = 0; i < e->nrelocs; i++) {
		const struct dg_elf_reloc *r = &e->relocs[i];
		if (r->kind == DG_REL_RELATIVE && in_data(b, rel_addend(b, r)))
			PUSH(b->wdata, b->nwdata, b->cwdata, rel_addend(b, r));
	}
	b->nwdata = dg_sort_uniq_u64(b->wdata, b->nwdata);
	b->ntdata = dg_sort_uniq_u64(b->tdata, b->ntdata);
	size_t n0 = b->nwdata;
	int ps = b->isa->ptr_size;
	for (size_t i = 0; i < e->nsegs; i++) {
		const struct dg_elf_seg *sg = &e->segs[i];
		if (sg->type != PT_LOAD || (sg->flags & PF_X) || sg->offset > e->size || sg->filesz > e->size - sg->offset)
			continue;
		const unsigned char *p = e->data + sg->offset;
		for (uint64_t o = (uint64_t)(-(int64_t)sg->vaddr) & (uint64_t)(ps - 1); o + (uint64_t)ps <= sg->filesz;
		     o += (uint64_t)ps) {
			uint64_t w = 0;
			for (int q = 0; q < ps; q++)
				w |= (uint64_t)p[o + (uint64_t)q] << (e->big_endian ? (ps - 1 - q) * 8 : q * 8);
			if (in_data(b, w))
				PUSH(b->wdata, b->nwdata, b->cwdata, w);
		}
	}
	if (b->nwdata != n0)
		b->nwdata = dg_sort_uniq_u64(b->wdata, b->nwdata);
}

/* Analyses function FI again, with its entries from other functions (b->ext, sorted). */
static void reanalyse(struct b *b, uint32_t fi, uint64_t *ent)
{
	size_t i = DG_LOWER_BOUND(u32, b->ext, b->next, ix, fi), n = 0;
	for (; i < b->next && b->ext[i].ix == fi; i++)
		if (!n || ent[n - 1] != b->ext[i].addr)
			ent[n++] = b->ext[i].addr;
	b->entries = ent;
	b->nentries = n;
	analyse_fn(b, fi);
	b->entries = NULL;
	b->nentries = 0;
}

/* The second analysis. Functions other functions jump into are analysed again with
 * those entries knowing nothing. Functions the first analysis could have known more of
 * (a call dropped slots it read again, a call of a function that never returns falls
 * through into a join, a load of a variable nothing writes) are analysed again with
 * what is now known, when that can matter: they have syscall sites, call a wrapper
 * (wmask) or an exec function, rounds until no more become such. */
static void refine(struct b *b)
{
	struct dg_fsum *s = b->s;
	sort(b->ext, b->next, sizeof *b->ext, cmp_ext);
	noreturn_fns(b);
	written_data(b);
	b->refine = 1;
	b->reanalysing = 1;
	for (size_t i = 0; i < b->ngloads; i++) {
		uint64_t v;
		if (global_value(b, b->gloads[i].addr, b->gloads[i].width, &v) == 0)
			b->redo[b->gloads[i].fn] = 1;
	}
	uint8_t *ext = dg_xcalloc(s->nfns ? s->nfns : 1, 1);
	for (size_t i = 0; i < b->next; i++)
		ext[b->ext[i].ix] = 1;
	uint64_t *ent = dg_xcalloc(b->next ? b->next : 1, sizeof *ent);
	for (int round = 0, more = 1; more && round < 16; round++) {
		more = 0;
		wrappers(s);
		for (size_t i = 0; i < s->nfns; i++) {
			const struct dg_fn *f = &s->fns[i];
			int matters = ext[i];
			if (b->redo[i] && !matters) {
				matters = f->nsites > 0;
				for (uint32_t k = 0; k < f->ncalls && !matters; k++) {
					const struct dg_fcall *c = &s->calls[f->first_call + k];
					uint8_t kind;
					int an;
					matters = (c->kind == DG_CALL_LOCAL && c->target < s->nfns && s->fns[c->target].wmask) ||
						  (c->kind == DG_CALL_IMPORT && c->target < b->e->ndynsyms &&
						   dg_exec_import(b->e->dynsyms[c->target].name, &kind, &an));
				}
			}
			if (!matters)
				continue;
			reanalyse(b, (uint32_t)i, ent);
			b->redo[i] = ext[i] = 0;
			more = 1;
		}
	}
	/* what is left was analysed soundly the first time; only the entries must be right */
	for (size_t i = 0; i < s->nfns; i++)
		if (ext[i])
			reanalyse(b, (uint32_t)i, ent);
	free(ext);
	free(ent);
}

/* Analysing a function again leaves its earlier sites, calls, arguments and numbers
 * behind in the arrays: keep only what the functions refer to. */
static void compact_val(struct dg_fval *v, const uint32_t *nums, uint32_t **out, size_t *n, size_t *cap)
{
	if (v->kind != DG_FV_CONST && v->kind != DG_FV_STR)
		return;
	uint32_t first = (uint32_t)*n;
	for (uint16_t i = 0; i < v->n; i++)
		PUSH(*out, *n, *cap, nums[v->first + i]);
	v->first = first;
}

static int cmp_bigarg(const void *x, const void *y)
{
	const struct bigarg *a = x, *c = y;
	return a->call != c->call ? (a->call < c->call ? -1 : 1) : (a->reg > c->reg) - (a->reg < c->reg);
}

static void compact(struct b *b)
{
	struct dg_fsum *s = b->s;
	size_t oldn = s->ncalls;
	uint32_t *newcall = dg_xcalloc(oldn ? oldn : 1, sizeof *newcall); /* old index -> new, or NONE */
	for (size_t i = 0; i < s->ncalls; i++)
		newcall[i] = DG_FSUM_NONE;
	struct dg_fsite *sites = NULL;
	struct dg_fcall *calls = NULL;
	struct dg_fcallarg *args = NULL;
	uint32_t *nums = NULL, *takes = NULL;
	size_t ns = 0, cs = 0, nc = 0, cc = 0, na = 0, ca = 0, nn = 0, cn = 0, nt = 0, ct = 0;
	for (size_t i = 0; i < s->nfns; i++) {
		struct dg_fn *f = &s->fns[i];
		uint32_t fs = (uint32_t)ns, fc = (uint32_t)nc, ft = (uint32_t)nt;
		for (uint32_t k = 0; k < f->nsites; k++) {
			struct dg_fsite st = s->sites[f->first_site + k];
			compact_val(&st.v, s->nums, &nums, &nn, &cn);
			PUSH(sites, ns, cs, st);
		}
		for (uint32_t k = 0; k < f->ncalls; k++) {
			struct dg_fcall c = s->calls[f->first_call + k];
			newcall[f->first_call + k] = (uint32_t)nc;
			uint32_t fa = (uint32_t)na;
			for (uint16_t a = 0; a < c.nargs; a++) {
				struct dg_fcallarg x = s->args[c.first_arg + a];
				compact_val(&x.v, s->nums, &nums, &nn, &cn);
				PUSH(args, na, ca, x);
			}
			c.first_arg = fa;
			PUSH(calls, nc, cc, c);
		}
		for (uint32_t k = 0; k < f->ntakes; k++)
			PUSH(takes, nt, ct, s->takes[f->first_take + k]);
		f->first_site = fs;
		f->first_call = fc;
		f->first_take = ft;
	}
	free(s->sites);
	free(s->calls);
	free(s->args);
	free(s->nums);
	free(s->takes);
	s->sites = sites, s->nsites = ns;
	s->calls = calls, s->ncalls = nc;
	s->args = args, s->nargs = na;
	s->nums = nums, s->nnums = nn;
	s->takes = takes, s->ntakes = nt;
	b->csites = cs, b->ccalls = cc, b->cargs = ca, b->cnums = cn, b->ctakes = ct;
	/* the large constants at calls (exec_args) follow their calls */
	size_t k = 0;
	for (size_t i = 0; i < b->nbig; i++) {
		uint32_t nw = b->big[i].call < oldn ? newcall[b->big[i].call] : DG_FSUM_NONE;
		if (nw == DG_FSUM_NONE)
			continue;
		b->big[k] = b->big[i];
		b->big[k++].call = nw;
	}
	b->nbig = k;
	sort(b->big, b->nbig, sizeof *b->big, cmp_bigarg);
	free(newcall);
}

/* Go's type descriptors name each method's code by an offset from the start of the
 * text (runtime.method: name, type, ifn, tfn, each an int32; -1 for a method the linker
 * found unreachable), not by a pointer: interface conversions at run time (getitab) and
 * reflection call them through these. Every aligned pair of such words in the file's
 * data that both are -1 or a function's offset, one of them not -1, takes those
 * functions (a few stray pairs only make more reachable). */
/* Whether a Go symbol name can be a method's code: "PKG.T.M" or "PKG.(*T).M" (generic
 * types' brackets skipped), not a plain function "PKG.F" nor a closure "PKG.(*T).M.func1".
 * "PKG.F.func1" passes too: it only keeps a stray pair's function taken. */
static int go_method_name(const char *nm)
{
	const char *sl = strrchr(nm, '/');
	const char *r = strchr(sl ? sl : nm, '.');
	if (!r)
		return 0;
	r++;
	int dots = 0, depth = 0;
	for (const char *p = r; *p; p++) {
		if (*p == '[')
			depth++;
		else if (*p == ']' && depth)
			depth--;
		else if (*p == '.' && !depth)
			dots++;
	}
	return dots == 1; /* "(*T).M" too */
}

static void go_method_takes(struct b *b, uint32_t **dt, size_t *n, size_t *cap)
{
	const struct dg_elf *e = b->e;
	if (!b->go || !b->go->nfuncs)
		return;
	uint64_t text = b->go->text_start;
	if (!text) { /* before Go 1.18 the table has no textStart: moduledata.text is the first function's section */
		const struct region *r = region_of(b, b->go->funcs[0].entry);
		text = r ? r->lo : b->go->funcs[0].entry;
	}
	for (size_t i = 0; i < e->nsegs; i++) {
		const struct dg_elf_seg *sg = &e->segs[i];
		if (sg->type != PT_LOAD || (sg->flags & PF_X) || sg->offset > e->size || sg->filesz > e->size - sg->offset)
			continue;
		const unsigned char *p = e->data + sg->offset;
		uint32_t prev_f = DG_FSUM_NONE;
		int prev_ok = 0, prev_set = 0; /* the word before: -1 or a function's offset */
		for (uint64_t o = (uint64_t)(-(int64_t)sg->vaddr) & 3; o + 4 <= sg->filesz; o += 4) {
			uint64_t va = sg->vaddr + o;
			if (va >= b->go->pcln_addr && va < b->go->pcln_end) { /* the function table itself */
				prev_ok = 0;
				continue;
			}
			uint32_t w = 0;
			for (int q = 0; q < 4; q++)
				w |= (uint32_t)p[o + (uint64_t)q] << (e->big_endian ? (3 - q) * 8 : q * 8);
			uint32_t f = w == UINT32_MAX ? DG_FSUM_NONE : dg_fsum_fn_start(b->s, text + (uint64_t)(int64_t)(int32_t)w);
			if (f != DG_FSUM_NONE && b->s->fns[f].name && !go_method_name(b->s->fns[f].name))
				f = DG_FSUM_NONE, w = 0; /* not a method: this is no method record */
			int ok = w == UINT32_MAX || f != DG_FSUM_NONE;
			/* a pair starts 8-aligned within the 16-byte method record */
			if (ok && prev_ok && ((sg->vaddr + o) & 7) == 4 && (f != DG_FSUM_NONE || prev_set)) {
				if (prev_set)
					PUSH(*dt, *n, *cap, prev_f);
				if (f != DG_FSUM_NONE)
					PUSH(*dt, *n, *cap, f);
			}
			prev_ok = ok;
			prev_f = f;
			prev_set = f != DG_FSUM_NONE;
		}
	}
}

/* ---- data objects (docs/design.md "Data-held function pointers") ---- */

struct dobj {
	uint64_t lo, hi; /* [lo, hi) */
	uint8_t live;    /* its pointers count at once: exported, or pointed to from undelimited data */
	uint32_t idx;    /* its index in the summary, DG_FSUM_NONE when not kept */
	uint32_t *fns;   /* functions its words hold */
	size_t nfns, cfns;
	uint32_t *to;    /* objects its words point into (indexes into b->dobj) */
	size_t nto, cto;
};

static int cmp_dobj(const void *x, const void *y)
{
	const struct dobj *a = x, *c = y;
	return a->lo < c->lo ? -1 : a->lo > c->lo ? 1 : a->hi < c->hi ? -1 : a->hi > c->hi;
}

/* a name the linker makes __start_NAME and __stop_NAME for: code may walk the whole section */
static int c_ident(const char *n)
{
	if (!n || !*n || (*n >= '0' && *n <= '9'))
		return 0;
	for (; *n; n++)
		if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') || (*n >= '0' && *n <= '9') || *n == '_'))
			return 0;
	return 1;
}

/* The first object that ends after A (its index, b->ndobj when none). */
static size_t dobj_after(const struct b *b, uint64_t a)
{
	size_t lo = 0, hi = b->ndobj;
	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		if (b->dobj[m].hi <= a)
			lo = m + 1;
		else
			hi = m;
	}
	return lo;
}

/* The object holding the word at A, or SIZE_MAX. */
static size_t dobj_holding(const struct b *b, uint64_t a)
{
	size_t k = dobj_after(b, a);
	return k < b->ndobj && b->dobj[k].lo <= a ? k : SIZE_MAX;
}

/* The objects an address A names: EXACT (a pc-relative operand, a relocation's value: the
 * address itself), the object holding A, else the one A is just past the end of (an end
 * pointer); not EXACT (an absolute address beside a base or index register, an immediate: a
 * compiler folds constant offsets such as a[i - 1]'s into them), every object within
 * DOBJ_SLACK. */
static size_t dobj_near(const struct b *b, uint64_t a, int exact, size_t *first)
{
	if (exact) {
		size_t k = dobj_after(b, a);
		*first = k;
		if (k < b->ndobj && b->dobj[k].lo <= a)
			return 1;
		if (k > 0 && b->dobj[k - 1].hi == a) {
			*first = k - 1;
			return 1;
		}
		return 0;
	}
	uint64_t lo = a > DOBJ_SLACK ? a - DOBJ_SLACK : 0, hi = a > UINT64_MAX - DOBJ_SLACK ? UINT64_MAX : a + DOBJ_SLACK;
	size_t k = dobj_after(b, lo), n = 0;
	*first = k;
	while (k + n < b->ndobj && b->dobj[k + n].lo <= hi)
		n++;
	return n;
}

/* The objects the symbol table delimits: STT_OBJECT symbols with a size in allocated,
 * non-executable, non-TLS sections with contents, merged where they overlap. None for a
 * file without a symbol table (every Debian library: stripped), a Go program (its data is
 * reached through the runtime's tables) or a section the linker gives __start_/__stop_
 * symbols. An object an exported symbol meets can be named from outside: live. */
static void data_objects(struct b *b)
{
	const struct dg_elf *e = b->e;
	if (!b->want_crefs)
		return;
	struct dobj *v = NULL;
	size_t n = 0, cap = 0;
	for (size_t i = 0; i < e->nsyms; i++) {
		const struct dg_elf_sym *y = &e->syms[i];
		if (y->type != STT_OBJECT || !y->size || !y->shndx || y->shndx >= e->nsecs)
			continue;
		const struct dg_elf_sec *sc = &e->secs[y->shndx];
		if (sc->type != SHT_PROGBITS || !(sc->flags & SHF_ALLOC) || (sc->flags & (SHF_EXECINSTR | SHF_TLS)) ||
		    c_ident(sc->name) || y->value < sc->addr || y->value - sc->addr > sc->size ||
		    y->size > sc->size - (y->value - sc->addr))
			continue;
		struct dobj d = {.lo = y->value, .hi = y->value + y->size};
		PUSH(v, n, cap, d);
	}
	if (!n)
		return;
	qsort(v, n, sizeof *v, cmp_dobj);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (m && v[i].lo < v[m - 1].hi) {
			if (v[i].hi > v[m - 1].hi)
				v[m - 1].hi = v[i].hi;
			continue;
		}
		v[m++] = v[i];
	}
	b->dobj = v;
	b->ndobj = m;
	for (size_t i = 0; i < e->ndynsyms; i++) {
		const struct dg_elf_sym *y = &e->dynsyms[i];
		if (!y->shndx || !y->value)
			continue;
		uint64_t hi = y->size && y->value <= UINT64_MAX - y->size ? y->value + y->size : y->value + 1;
		for (size_t k = dobj_after(b, y->value); k < b->ndobj && b->dobj[k].lo < hi; k++)
			b->dobj[k].live = 1;
	}
}

/* A word of data at W holds V (a relocation's value, or the file's word in a program
 * without relocations for it): a function it holds is taken at once (DT) unless an object
 * holds it; an object it points into is live unless an object holds the pointer. */
static void data_word(struct b *b, uint64_t w, uint64_t v, uint32_t f, uint32_t **dt, size_t *n, size_t *cap)
{
	size_t h = b->ndobj ? dobj_holding(b, w) : SIZE_MAX;
	if (f != DG_FSUM_NONE) {
		if (h == SIZE_MAX)
			PUSH(*dt, *n, *cap, f);
		else
			PUSH(b->dobj[h].fns, b->dobj[h].nfns, b->dobj[h].cfns, f);
	}
	if (!b->ndobj || in_code(b, v))
		return;
	size_t k, c = dobj_near(b, v, 1, &k);
	for (size_t i = k; i < k + c; i++) {
		if (h == SIZE_MAX)
			b->dobj[i].live = 1;
		else if (i != h)
			PUSH(b->dobj[h].to, b->dobj[h].nto, b->dobj[h].cto, (uint32_t)i);
	}
}

static int cmp_pair32(const void *x, const void *y)
{
	const uint32_t *a = x, *c = y;
	return a[0] != c[0] ? (a[0] < c[0] ? -1 : 1) : a[1] < c[1] ? -1 : a[1] > c[1];
}

/* After data_word has seen every word: the live objects' functions go to DT, the others
 * (holding functions or pointing on) are kept on the summary with the code referring to
 * them. */
static void data_objects_finish(struct b *b, uint32_t **dt, size_t *n, size_t *cap)
{
	struct dg_fsum *s = b->s;
	if (!b->ndobj)
		return;
	/* code referring to an object from outside any function (none should): live */
	uint32_t (*pr)[2] = NULL;
	size_t np = 0, cp = 0;
	for (size_t i = 0; i < b->ncrefs; i++) {
		uint32_t f = dg_fsum_fn_at(s, b->crefs[i].at);
		size_t k, c = dobj_near(b, b->crefs[i].a, b->crefs[i].pc, &k);
		for (size_t j = k; j < k + c; j++) {
			if (f == DG_FSUM_NONE) {
				b->dobj[j].live = 1;
				continue;
			}
			if (np == cp) {
				cp = cp ? cp * 2 : 64;
				pr = dg_xreallocarray(pr, cp, sizeof *pr);
			}
			pr[np][0] = f;
			pr[np++][1] = (uint32_t)j;
		}
	}
	/* liveness along pointers */
	size_t *stk = dg_xcalloc(b->ndobj, sizeof *stk), ns = 0;
	for (size_t i = 0; i < b->ndobj; i++)
		if (b->dobj[i].live)
			stk[ns++] = i;
	while (ns) {
		const struct dobj *d = &b->dobj[stk[--ns]];
		for (size_t t = 0; t < d->nto; t++)
			if (!b->dobj[d->to[t]].live) {
				b->dobj[d->to[t]].live = 1;
				stk[ns++] = d->to[t];
			}
	}
	free(stk);
	uint32_t kept = 0;
	size_t nf = 0, nt = 0;
	for (size_t i = 0; i < b->ndobj; i++) {
		struct dobj *d = &b->dobj[i];
		d->idx = DG_FSUM_NONE;
		if (d->live) {
			for (size_t t = 0; t < d->nfns; t++)
				PUSH(*dt, *n, *cap, d->fns[t]);
		} else if (d->nfns || d->nto) {
			d->idx = kept++;
			d->nfns = dg_sort_uniq_u32(d->fns, d->nfns);
			nf += d->nfns;
			nt += d->nto;
		}
	}
	if (!kept) {
		free(pr);
		return;
	}
	s->ndobjs = kept;
	s->dobj_addr = dg_xcalloc(kept, sizeof *s->dobj_addr);
	s->dobj_off = dg_xcalloc(kept + 1, sizeof *s->dobj_off);
	s->dobj_fns = dg_xcalloc(nf ? nf : 1, sizeof *s->dobj_fns);
	s->dobj_toff = dg_xcalloc(kept + 1, sizeof *s->dobj_toff);
	s->dobj_to = dg_xcalloc(nt ? nt : 1, sizeof *s->dobj_to);
	uint32_t fo = 0, to = 0;
	for (size_t i = 0; i < b->ndobj; i++) {
		const struct dobj *d = &b->dobj[i];
		if (d->idx == DG_FSUM_NONE)
			continue;
		s->dobj_addr[d->idx] = d->lo;
		s->dobj_off[d->idx] = fo;
		if (d->nfns) /* no pointer on an empty list */
			memcpy(s->dobj_fns + fo, d->fns, d->nfns * sizeof *d->fns);
		fo += (uint32_t)d->nfns;
		s->dobj_toff[d->idx] = to;
		uint32_t t0 = to;
		for (size_t t = 0; t < d->nto; t++)
			if (b->dobj[d->to[t]].idx != DG_FSUM_NONE)
				s->dobj_to[to++] = b->dobj[d->to[t]].idx;
		to = t0 + (uint32_t)dg_sort_uniq_u32(s->dobj_to + t0, to - t0);
	}
	s->dobj_off[kept] = fo;
	s->dobj_toff[kept] = to;
	/* each function's references to kept objects */
	size_t w = 0;
	for (size_t i = 0; i < np; i++)
		if (b->dobj[pr[i][1]].idx != DG_FSUM_NONE) {
			pr[w][0] = pr[i][0];
			pr[w++][1] = b->dobj[pr[i][1]].idx;
		}
	if (w)
		qsort(pr, w, sizeof *pr, cmp_pair32);
	s->fn_doff = dg_xcalloc(s->nfns + 1, sizeof *s->fn_doff);
	s->fn_dobjs = dg_xcalloc(w ? w : 1, sizeof *s->fn_dobjs);
	size_t u = 0;
	for (size_t i = 0; i < w; i++) {
		if (i && pr[i][0] == pr[i - 1][0] && pr[i][1] == pr[i - 1][1])
			continue;
		s->fn_dobjs[u++] = pr[i][1];
		s->fn_doff[pr[i][0] + 1]++;
	}
	for (size_t f = 0; f < s->nfns; f++)
		s->fn_doff[f + 1] += s->fn_doff[f];
	free(pr);
}

static void data_takes(struct b *b)
{
	struct dg_fsum *s = b->s;
	const struct dg_elf *e = b->e;
	uint32_t *dt = NULL;
	size_t n = 0, cap = 0;
	uint32_t *it = NULL;
	size_t ni = 0, ci = 0;
	uint32_t *roots = NULL;
	size_t nr = 0, cr = 0;
	b->nbranch = dg_sort_uniq_u64(b->branch_slots, b->nbranch);
	b->nload = dg_sort_uniq_u64(b->load_slots, b->nload);
	data_objects(b);
	for (size_t i = 0; i < e->nrelocs; i++) {
		const struct dg_elf_reloc *r = &e->relocs[i];
		if (r->sym && (r->kind == DG_REL_GLOB_DAT || r->kind == DG_REL_ABS)) {
			/* a GOT slot only ever called through is a call, not a taken address */
			if (!(has_u64(b->branch_slots, b->nbranch, r->offset) &&
			      !has_u64(b->load_slots, b->nload, r->offset)))
				PUSH(it, ni, ci, r->sym);
			continue;
		}
		if (r->kind != DG_REL_RELATIVE)
			continue;
		uint64_t v = rel_addend(b, r);
		uint32_t f = dg_fsum_fn_start(s, v);
		data_word(b, r->offset, v, f, &dt, &n, &cap);
		if (f == DG_FSUM_NONE)
			continue;
		for (size_t k = 0; k < e->nsecs; k++) {
			const struct dg_elf_sec *sc = &e->secs[k];
			if ((sc->type == SHT_INIT_ARRAY || sc->type == SHT_FINI_ARRAY || sc->type == SHT_PREINIT_ARRAY) &&
			    r->offset >= sc->addr && r->offset - sc->addr < sc->size)
				PUSH(roots, nr, cr, f);
		}
	}
	go_method_takes(b, &dt, &n, &cap);
	/* pointers the linker wrote into data (non-PIC executables have no relocations for them) */
	int ps = b->isa->ptr_size;
	for (size_t i = 0; e->type == ET_EXEC && i < e->nsegs; i++) {
		const struct dg_elf_seg *sg = &e->segs[i];
		if (sg->type != PT_LOAD || (sg->flags & PF_X) || sg->offset > e->size ||
		    sg->filesz > e->size - sg->offset)
			continue;
		const unsigned char *p = e->data + sg->offset;
		for (uint64_t o = (uint64_t)(-(int64_t)sg->vaddr) & (uint64_t)(ps - 1); o + (uint64_t)ps <= sg->filesz;
		     o += (uint64_t)ps) {
			uint64_t va = sg->vaddr + o;
			/* a Go function table before 1.18 holds every function's absolute entry: metadata
			 * for tracebacks, never called through */
			if (b->go && va >= b->go->pcln_addr && va < b->go->pcln_end)
				continue;
			uint64_t w = 0;
			for (int q = 0; q < ps; q++)
				w |= (uint64_t)p[o + (uint64_t)q] << (e->big_endian ? (ps - 1 - q) * 8 : q * 8);
			if (w < b->rg[0].lo && w < b->starts[0] && !b->ndobj)
				continue;
			data_word(b, va, w, dg_fsum_fn_start(s, w), &dt, &n, &cap);
		}
	}
	data_objects_finish(b, &dt, &n, &cap);
	uint64_t rs[3] = {e->init, e->fini, 0};
	for (int k = 0; k < 2; k++) {
		uint32_t f = rs[k] ? dg_fsum_fn_start(s, rs[k]) : DG_FSUM_NONE;
		if (f != DG_FSUM_NONE)
			PUSH(roots, nr, cr, f);
	}
	const uint64_t *arrs[3] = {e->init_array, e->fini_array, e->preinit_array};
	size_t narr[3] = {e->ninit_array, e->nfini_array, e->npreinit_array};
	for (int k = 0; k < 3; k++)
		for (size_t i = 0; i < narr[k]; i++) {
			uint32_t f = dg_fsum_fn_start(s, arrs[k][i]);
			if (f != DG_FSUM_NONE)
				PUSH(roots, nr, cr, f);
		}
	for (size_t i = 0; i < s->nfns; i++)
		if (s->fns[i].flags & DG_FN_RESOLVER)
			PUSH(roots, nr, cr, (uint32_t)i);
	s->data_takes = dt;
	s->ndata_takes = dg_sort_uniq_u32(dt, n);
	s->import_takes = it;
	s->nimport_takes = dg_sort_uniq_u32(it, ni);
	s->roots = roots;
	s->nroots = dg_sort_uniq_u32(roots, nr);
}

/* Entry registers that reach a syscall number, inside this file. */
static void wrappers(struct dg_fsum *s)
{
	for (size_t i = 0; i < s->nfns; i++) {
		struct dg_fn *f = &s->fns[i];
		f->wmask = 0;
		for (uint32_t k = 0; k < f->nsites; k++) {
			const struct dg_fsite *st = &s->sites[f->first_site + k];
			if (st->v.kind == DG_FV_ARG)
				f->wmask |= (dg_argmask)1u << st->v.reg;
		}
	}
	for (int changed = 1, rounds = 0; changed && rounds < 64; rounds++) {
		changed = 0;
		for (size_t i = 0; i < s->nfns; i++) {
			struct dg_fn *f = &s->fns[i];
			for (uint32_t k = 0; k < f->ncalls; k++) {
				const struct dg_fcall *c = &s->calls[f->first_call + k];
				if (c->kind != DG_CALL_LOCAL || c->target >= s->nfns)
					continue;
				dg_argmask w = s->fns[c->target].wmask;
				for (uint16_t a = 0; w && a < c->nargs; a++) {
					const struct dg_fcallarg *ca = &s->args[c->first_arg + a];
					if ((w & (1u << ca->reg)) && ca->v.kind == DG_FV_ARG &&
					    !(f->wmask & (1u << ca->v.reg))) {
						f->wmask |= (dg_argmask)1u << ca->v.reg;
						changed = 1;
					}
				}
			}
		}
	}
}

static void index_argcalls(struct dg_fsum *s)
{
	size_t cap = 0;
	for (size_t f = 0; f < s->nfns; f++) {
		const struct dg_fn *fn = &s->fns[f];
		for (uint32_t k = 0; k < fn->ncalls; k++) {
			const struct dg_fcall *c = &s->calls[fn->first_call + k];
			int has = 0;
			for (uint16_t a = 0; a < c->nargs && !has; a++)
				has = s->args[c->first_arg + a].v.kind == DG_FV_ARG;
			if (!has)
				continue;
			if (s->nargcalls == cap) {
				cap = cap ? cap * 2 : 64;
				s->argcalls = dg_xreallocarray(s->argcalls, cap, sizeof *s->argcalls);
				s->argcall_fn = dg_xreallocarray(s->argcall_fn, cap, sizeof *s->argcall_fn);
			}
			s->argcalls[s->nargcalls] = fn->first_call + k;
			s->argcall_fn[s->nargcalls++] = (uint32_t)f;
		}
	}
}

/* ---- exec and dlopen names (fnsum.h dg_exec_kind) ---- */
static const struct {
	const char *name;
	uint8_t kind;
	int8_t argno;
} exec_imports[] = {
	{"execve", DG_EXK_PATH, 0},	  {"execv", DG_EXK_PATH, 0},	      {"execl", DG_EXK_PATH, 0},
	{"execle", DG_EXK_PATH, 0},	  {"execveat", DG_EXK_PATH, 1},	      {"posix_spawn", DG_EXK_PATH, 1},
	{"__posix_spawn", DG_EXK_PATH, 1}, {"pidfd_spawn", DG_EXK_PATH, 1},   {"execvp", DG_EXK_FILE, 0},
	{"execlp", DG_EXK_FILE, 0},	  {"execvpe", DG_EXK_FILE, 0},	      {"posix_spawnp", DG_EXK_FILE, 1},
	{"pidfd_spawnp", DG_EXK_FILE, 1}, {"system", DG_EXK_SHELL, 0},	      {"popen", DG_EXK_SHELL, 0},
	{"fexecve", DG_EXK_PATH, -1},	  {"wordexp", DG_EXK_SHELL, -1},      {"dlopen", DG_EXK_LIB, 0},
	{"dlmopen", DG_EXK_LIB, 1},	  {"dlsym", DG_EXK_SYM, 1},	      {"dlvsym", DG_EXK_SYM, 1},
};

int dg_exec_import(const char *name, uint8_t *kind, int *argno)
{
	for (size_t i = 0; name && i < sizeof exec_imports / sizeof *exec_imports; i++)
		if (!strcmp(name, exec_imports[i].name)) {
			*kind = exec_imports[i].kind;
			*argno = exec_imports[i].argno;
			return 1;
		}
	return 0;
}

#define PF_W 2
#define MAX_NAME_ARG 4096

/* The NUL-terminated text at A when it lies in a read-only PT_LOAD segment (code can't
 * change it) and is plain text; its length, or -1. */
static long ro_string(const struct dg_elf *e, uint64_t a, const char **out)
{
	for (size_t i = 0; i < e->nsegs; i++) {
		const struct dg_elf_seg *g = &e->segs[i];
		if (g->type != 1 /* PT_LOAD */ || a < g->vaddr || a - g->vaddr >= g->filesz)
			continue;
		if (g->flags & PF_W)
			return -1;
		uint64_t off = g->offset + (a - g->vaddr);
		uint64_t max = g->filesz - (a - g->vaddr);
		if (off >= e->size || g->offset > e->size)
			return -1;
		if (max > e->size - off)
			max = e->size - off;
		if (max > MAX_NAME_ARG)
			max = MAX_NAME_ARG;
		const unsigned char *p = e->data + off;
		for (uint64_t k = 0; k < max; k++) {
			if (!p[k]) {
				*out = (const char *)p;
				return (long)k;
			}
			if (p[k] < 0x20 && p[k] != '\t' && p[k] != '\n')
				return -1;
		}
		return -1;
	}
	return -1;
}

static const struct dg_fcallarg *call_arg(const struct dg_fsum *s, const struct dg_fcall *c, uint8_t reg)
{
	for (uint16_t a = 0; a < c->nargs; a++)
		if (s->args[c->first_arg + a].reg == reg)
			return &s->args[c->first_arg + a];
	return NULL;
}

/* the name-passing registers at call C: per kind, a register mask */
static void call_needs(const struct b *b, const struct dg_fcall *c, dg_argmask need[DG_EXK_N])
{
	memset(need, 0, DG_EXK_N * sizeof *need);
	const struct dg_fsum *s = b->s;
	if (c->kind == DG_CALL_LOCAL && c->target < s->nfns) {
		memcpy(need, s->fns[c->target].pmask, DG_EXK_N * sizeof *need);
	} else if (c->kind == DG_CALL_IMPORT && c->target < b->e->ndynsyms) {
		uint8_t k;
		int an;
		if (dg_exec_import(b->e->dynsyms[c->target].name, &k, &an) && an >= 0 && b->isa->c_arg[an] >= 0)
			need[k] |= (dg_argmask)1u << b->isa->c_arg[an];
	}
}

struct strarg {
	uint32_t call;
	uint8_t reg;
	uint16_t n;
	uint32_t off[VMAX];
};

static int cmp_strarg(const void *x, const void *y)
{
	const struct strarg *a = x, *c = y;
	return a->call != c->call ? (a->call < c->call ? -1 : 1) : (a->reg > c->reg) - (a->reg < c->reg);
}

/* Which entry registers each function passes on as a program, command or library name
 * (to an exec-family, system/popen or dlopen import, or to a function of this file that
 * does), and the constant strings passed as such names at calls (DG_FV_STR arguments). */
static void exec_args(struct b *b)
{
	struct dg_fsum *s = b->s;
	if (b->isa->c_arg[0] < 0)
		return; /* arguments on the stack: reach.c counts such calls as naming nothing known */
	for (int changed = 1, rounds = 0; changed && rounds < 64; rounds++) {
		changed = 0;
		for (size_t i = 0; i < s->nfns; i++) {
			struct dg_fn *f = &s->fns[i];
			for (uint32_t k = 0; k < f->ncalls; k++) {
				const struct dg_fcall *c = &s->calls[f->first_call + k];
				dg_argmask need[DG_EXK_N];
				call_needs(b, c, need);
				for (int kd = 0; kd < DG_EXK_N; kd++)
					for (uint8_t r = 0; need[kd] >> r; r++) {
						const struct dg_fcallarg *a = (need[kd] >> r) & 1 ? call_arg(s, c, r) : NULL;
						if (a && a->v.kind == DG_FV_ARG && !(f->pmask[kd] & (1u << a->v.reg))) {
							f->pmask[kd] |= (dg_argmask)1u << a->v.reg;
							changed = 1;
						}
					}
			}
		}
	}
	/* the strings at calls that need them */
	struct strarg *sa = NULL;
	size_t nsa = 0, csa = 0;
	struct dg_buf str = {0};
	dg_buf_append(&str, s->strings, s->strings_len);
	struct dg_map seen = {0};
	for (size_t i = 0; i < s->nfns; i++) {
		const struct dg_fn *f = &s->fns[i];
		for (uint32_t k = 0; k < f->ncalls; k++) {
			uint32_t ci = f->first_call + k;
			dg_argmask need[DG_EXK_N], any = 0;
			call_needs(b, &s->calls[ci], need);
			for (int kd = 0; kd < DG_EXK_N; kd++)
				any |= need[kd];
			if (!any)
				continue;
			/* the large constants at this call (b->big is in call order) */
			size_t lo = DG_LOWER_BOUND(u32, b->big, b->nbig, call, ci);
			for (size_t g = lo; g < b->nbig && b->big[g].call == ci; g++) {
				const struct bigarg *ba = &b->big[g];
				if (!((any >> ba->reg) & 1))
					continue;
				struct strarg x = {.call = ci, .reg = ba->reg};
				for (int q = 0; q < ba->v.n; q++) {
					const char *t;
					long len = ro_string(b->e, ba->v.c[q], &t);
					if (len < 0) {
						x.n = 0;
						break;
					}
					size_t o = dg_map_get(&seen, t, (size_t)len);
					if (o == SIZE_MAX) {
						o = str.len;
						dg_buf_append(&str, t, (size_t)len);
						dg_buf_putc(&str, 0);
						dg_map_put(&seen, t, (size_t)len, o);
					}
					x.off[x.n++] = (uint32_t)o;
				}
				if (x.n)
					PUSH(sa, nsa, csa, x);
			}
		}
	}
	dg_map_free(&seen);
	if (!nsa) {
		dg_buf_free(&str);
		free(sa);
		return;
	}
	/* the strings table grew: names move with it */
	char *old = s->strings;
	s->strings_len = str.len;
	s->strings = dg_buf_steal(&str);
	for (size_t i = 0; i < s->nfns; i++)
		if (s->fns[i].name)
			s->fns[i].name = s->strings + (s->fns[i].name - old);
	free(old);
	/* the arguments again, each call's new ones after its own */
	sort(sa, nsa, sizeof *sa, cmp_strarg);
	struct dg_fcallarg *args = NULL;
	size_t nargs = 0, cargs = 0, j = 0;
	for (size_t ci = 0; ci < s->ncalls; ci++) {
		struct dg_fcall *c = &s->calls[ci];
		uint32_t first = (uint32_t)nargs;
		for (uint16_t a = 0; a < c->nargs; a++)
			PUSH(args, nargs, cargs, s->args[c->first_arg + a]);
		for (; j < nsa && sa[j].call == ci; j++) {
			struct dg_fcallarg ca = {.reg = sa[j].reg};
			ca.v.kind = DG_FV_STR;
			ca.v.n = sa[j].n;
			ca.v.first = (uint32_t)s->nnums;
			for (uint16_t q = 0; q < sa[j].n; q++)
				PUSH(s->nums, s->nnums, b->cnums, sa[j].off[q]);
			PUSH(args, nargs, cargs, ca);
		}
		c->first_arg = first;
		c->nargs = (uint16_t)(nargs - first);
	}
	free(s->args);
	s->args = args;
	s->nargs = nargs;
	b->cargs = cargs;
	free(sa);
}

struct dg_fsum *dg_fsum_build(const struct dg_elf *e)
{
	struct dg_fsum *s = dg_xcalloc(1, sizeof *s);
	s->machine = e->machine;
	s->bits = e->bits;
	s->entry_fn = DG_FSUM_NONE;
	const struct dg_isa *isa = dg_isa_for(e->machine, e->bits);
	if (!isa) {
		s->error = dg_xstrdup("no disassembler for this machine");
		return s;
	}
	s->isa = isa->name;
	struct b b = {.e = e, .isa = isa, .s = s};
	if (isa->open(&b.cx) < 0) {
		s->error = dg_xstrdup("the disassembler could not be started");
		return s;
	}
	collect_regions(&b);
	if (!b.nrg) {
		s->strings = dg_xstrdup("");
		b.isa->close(b.cx);
		return s;
	}
	b.rel = dg_xcalloc(e->nrelocs ? e->nrelocs : 1, sizeof *b.rel);
	for (size_t i = 0; i < e->nrelocs; i++) {
		b.rel[b.nrel].addr = e->relocs[i].offset;
		b.rel[b.nrel++].ix = (uint32_t)i;
	}
	sort(b.rel, b.nrel, sizeof *b.rel, cmp_addr_ix);
	if (e->is_go && !dg_go_read(e, &b.go))
		b.go = NULL;
	collect_starts(&b);
	make_functions(&b);
	b.want_crefs = e->nsyms && !b.go && (e->type == ET_EXEC || e->type == ET_DYN);
	b.argw = dg_xcalloc(s->nfns ? s->nfns : 1, sizeof *b.argw);
	b.redo = dg_xcalloc(s->nfns ? s->nfns : 1, 1);
	b.nret = dg_xcalloc(s->nfns ? s->nfns : 1, 1);
	b.noret = dg_xcalloc(s->nfns ? s->nfns : 1, 1);
	for (size_t i = 0; i < s->nfns; i++)
		b.argw[i] = -1;
	for (size_t i = 0; i < s->nfns; i++)
		analyse_fn(&b, (uint32_t)i);
	refine(&b);
	compact(&b);
	free(b.ext);
	data_takes(&b);
	wrappers(s);
	exec_args(&b);
	s->entry_fn = e->entry ? dg_fsum_fn_start(s, e->entry) : DG_FSUM_NONE;
	index_argcalls(s);
	b.isa->close(b.cx);
	free(b.rg);
	free(b.starts);
	free(b.plt);
	free(b.resolvers);
	free(b.rel);
	free(b.ins);
	free(b.branch_slots);
	free(b.load_slots);
	free(b.big);
	dg_go_free(b.go);
	free(b.argw);
	free(b.redo);
	free(b.nret);
	free(b.noret);
	free(b.wdata);
	free(b.tdata);
	free(b.crefs);
	for (size_t i = 0; i < b.ndobj; i++) {
		free(b.dobj[i].fns);
		free(b.dobj[i].to);
	}
	free(b.dobj);
	free(b.nrcalls);
	free(b.gloads);
	dg_buf_free(&b.names);
	return s;
}

static void closure_free(struct dg_fsum_closure *c)
{
	if (!c)
		return;
	free(c->fns);
	free(c->unknown);
	free(c->imports);
	free(c);
}

void dg_fsum_free(struct dg_fsum *s)
{
	if (!s)
		return;
	free(s->fns);
	free(s->sites);
	free(s->calls);
	free(s->args);
	free(s->nums);
	free(s->takes);
	free(s->data_takes);
	free(s->import_takes);
	free(s->roots);
	free(s->strings);
	free(s->error);
	free(s->argcalls);
	free(s->argcall_fn);
	free(s->dobj_addr);
	free(s->dobj_off);
	free(s->dobj_fns);
	free(s->dobj_toff);
	free(s->dobj_to);
	free(s->fn_doff);
	free(s->fn_dobjs);
	closure_free(s->closure);
	closure_free(s->closure_all);
	free(s);
}

/* ---- cache encoding ----
 * Varints (LEB128) throughout; each function carries its own sites, calls (with
 * their arguments inline) and takes, addresses as offsets from the function's start,
 * so nothing points across the record and the decoder rebuilds the index fields. */
static void enc_val(struct dg_buf *o, const struct dg_fsum *s, const struct dg_fval *v)
{
	dg_ser_u8(o, v->kind);
	if (v->kind == DG_FV_ARG)
		dg_ser_u8(o, v->reg);
	if (v->kind != DG_FV_CONST && v->kind != DG_FV_STR)
		return;
	dg_ser_uv(o, v->n);
	for (uint16_t i = 0; i < v->n; i++)
		dg_ser_uv(o, s->nums[v->first + i]);
}

static void enc_list(struct dg_buf *o, const uint32_t *v, size_t n)
{
	dg_ser_uv(o, n);
	for (size_t i = 0; i < n; i++)
		dg_ser_uv(o, v[i]);
}

void dg_fsum_encode(const struct dg_fsum *s, unsigned char **out, size_t *len)
{
	struct dg_buf o = {0};
	dg_ser_uv(&o, s->machine);
	dg_ser_u8(&o, (uint8_t)s->bits);
	dg_ser_str(&o, s->isa);
	dg_ser_str(&o, s->error);
	dg_ser_uv(&o, s->ninsns);
	dg_ser_uv(&o, s->nbad);
	dg_ser_uv(&o, s->entry_fn == DG_FSUM_NONE ? 0 : (uint64_t)s->entry_fn + 1);
	dg_ser_uv(&o, s->strings_len);
	if (s->strings_len)
		dg_buf_append(&o, s->strings, s->strings_len);
	dg_ser_uv(&o, s->nfns);
	uint64_t prev = 0;
	for (size_t i = 0; i < s->nfns; i++) {
		const struct dg_fn *f = &s->fns[i];
		dg_ser_uv(&o, f->addr - prev);
		prev = f->addr;
		dg_ser_uv(&o, f->size);
		dg_ser_uv(&o, f->name ? (uint64_t)(f->name - s->strings) + 1 : 0);
		dg_ser_uv(&o, f->wmask);
		uint8_t pk = 0;
		for (int k = 0; k < DG_EXK_N; k++)
			pk |= (uint8_t)((f->pmask[k] != 0) << k);
		dg_ser_u8(&o, pk);
		for (int k = 0; k < DG_EXK_N; k++)
			if (f->pmask[k])
				dg_ser_uv(&o, f->pmask[k]);
		dg_ser_u8(&o, f->flags);
		dg_ser_uv(&o, f->nsites);
		for (uint32_t k = 0; k < f->nsites; k++) {
			const struct dg_fsite *st = &s->sites[f->first_site + k];
			dg_ser_uv(&o, st->addr - f->addr);
			dg_ser_u8(&o, (uint8_t)(st->table | st->shape << 4));
			enc_val(&o, s, &st->v);
		}
		dg_ser_uv(&o, f->ncalls);
		for (uint32_t k = 0; k < f->ncalls; k++) {
			const struct dg_fcall *c = &s->calls[f->first_call + k];
			dg_ser_uv(&o, c->addr - f->addr);
			dg_ser_u8(&o, (uint8_t)(c->kind | c->tail << 4));
			dg_ser_uv(&o, c->target);
			dg_ser_uv(&o, c->nargs);
			for (uint16_t a = 0; a < c->nargs; a++) {
				dg_ser_u8(&o, s->args[c->first_arg + a].reg);
				enc_val(&o, s, &s->args[c->first_arg + a].v);
			}
		}
		enc_list(&o, f->ntakes ? s->takes + f->first_take : NULL, f->ntakes); /* no offset on NULL */
	}
	enc_list(&o, s->data_takes, s->ndata_takes);
	enc_list(&o, s->import_takes, s->nimport_takes);
	enc_list(&o, s->roots, s->nroots);
	dg_ser_uv(&o, s->ndobjs);
	uint64_t pa = 0;
	for (uint32_t k = 0; k < s->ndobjs; k++) {
		dg_ser_uv(&o, s->dobj_addr[k] - pa);
		pa = s->dobj_addr[k];
		enc_list(&o, s->dobj_fns + s->dobj_off[k], s->dobj_off[k + 1] - s->dobj_off[k]);
		enc_list(&o, s->dobj_to + s->dobj_toff[k], s->dobj_toff[k + 1] - s->dobj_toff[k]);
	}
	for (size_t f = 0; s->ndobjs && f < s->nfns; f++)
		enc_list(&o, s->fn_dobjs + s->fn_doff[f], s->fn_doff[f + 1] - s->fn_doff[f]);
	*len = o.len;
	*out = (unsigned char *)dg_buf_steal(&o);
}

struct dec {
	struct dg_de d;
	struct dg_fsum *s;
	size_t cnums, csites, ccalls, cargs, ctakes;
};

/* a count that must fit: each item takes at least one byte */
static size_t de_count(struct dg_de *d)
{
	uint64_t c = dg_de_uv(d);
	if (!d->bad && c > d->n - d->pos)
		d->bad = 1;
	return d->bad ? 0 : (size_t)c;
}

static void dec_val(struct dec *x, struct dg_fval *v)
{
	memset(v, 0, sizeof *v);
	v->kind = dg_de_u8(&x->d);
	if (v->kind == DG_FV_ARG) {
		v->reg = dg_de_u8(&x->d);
		if (v->reg >= DG_ARG_NREGS)
			x->d.bad = 1;
	} else if (v->kind == DG_FV_CONST || v->kind == DG_FV_STR) {
		size_t n = de_count(&x->d);
		if (!n || n > VMAX)
			x->d.bad = 1;
		v->n = (uint16_t)n;
		v->first = (uint32_t)x->s->nnums;
		for (size_t i = 0; i < n && !x->d.bad; i++) {
			uint64_t c = dg_de_uv(&x->d);
			/* a string starts inside the table (the decoder ends it with a NUL) */
			if (c > UINT32_MAX || (v->kind == DG_FV_STR && c >= x->s->strings_len))
				x->d.bad = 1;
			PUSH(x->s->nums, x->s->nnums, x->cnums, (uint32_t)c);
		}
	} else if (v->kind != DG_FV_UNKNOWN) {
		x->d.bad = 1;
	}
}

static uint32_t *dec_list(struct dec *x, size_t *n, size_t bound)
{
	size_t c = de_count(&x->d);
	uint32_t *v = dg_xcalloc(c ? c : 1, sizeof *v);
	for (size_t i = 0; i < c && !x->d.bad; i++) {
		uint64_t t = dg_de_uv(&x->d);
		if (t >= bound)
			x->d.bad = 1;
		v[i] = (uint32_t)t;
	}
	*n = x->d.bad ? 0 : c;
	return v;
}

/* appends a list (each item below BOUND) to *V at *N; returns the new *N */
static uint32_t dec_append(struct dec *x, uint32_t **v, size_t *n, size_t *cap, size_t bound)
{
	size_t c = de_count(&x->d);
	for (size_t i = 0; i < c && !x->d.bad; i++) {
		uint64_t t = dg_de_uv(&x->d);
		if (t >= bound || *n >= UINT32_MAX - 1)
			x->d.bad = 1;
		PUSH(*v, *n, *cap, (uint32_t)t);
	}
	return (uint32_t)*n;
}

static void dec_dobjs(struct dec *x)
{
	struct dg_fsum *s = x->s;
	size_t nd = de_count(&x->d);
	if (x->d.bad || !nd)
		return;
	s->ndobjs = (uint32_t)nd;
	s->dobj_addr = dg_xcalloc(nd, sizeof *s->dobj_addr);
	s->dobj_off = dg_xcalloc(nd + 1, sizeof *s->dobj_off);
	s->dobj_toff = dg_xcalloc(nd + 1, sizeof *s->dobj_toff);
	s->fn_doff = dg_xcalloc(s->nfns + 1, sizeof *s->fn_doff);
	size_t nf = 0, cf = 0, nt = 0, ct = 0, nr = 0, cr = 0;
	uint64_t pa = 0;
	for (size_t k = 0; k < nd && !x->d.bad; k++) {
		uint64_t a = pa + dg_de_uv(&x->d);
		if (a < pa)
			x->d.bad = 1;
		s->dobj_addr[k] = pa = a;
		s->dobj_off[k + 1] = dec_append(x, &s->dobj_fns, &nf, &cf, s->nfns);
		s->dobj_toff[k + 1] = dec_append(x, &s->dobj_to, &nt, &ct, nd);
	}
	for (size_t f = 0; f < s->nfns && !x->d.bad; f++)
		s->fn_doff[f + 1] = dec_append(x, &s->fn_dobjs, &nr, &cr, nd);
	if (x->d.bad) /* the caller frees what is there */
		return;
	if (!s->dobj_fns)
		s->dobj_fns = dg_xcalloc(1, sizeof *s->dobj_fns);
	if (!s->dobj_to)
		s->dobj_to = dg_xcalloc(1, sizeof *s->dobj_to);
	if (!s->fn_dobjs)
		s->fn_dobjs = dg_xcalloc(1, sizeof *s->fn_dobjs);
}

int dg_fsum_decode(const unsigned char *p, size_t n, struct dg_fsum **out, struct dg_error *err)
{
	struct dec x = {.d = {.p = p, .n = n}};
	struct dg_fsum *s = x.s = dg_xcalloc(1, sizeof *s);
	struct dg_de *d = &x.d;
	uint64_t mach = dg_de_uv(d);
	s->machine = (uint16_t)mach;
	s->bits = dg_de_u8(d);
	char *isa = dg_de_str(d, 64);
	s->error = dg_de_str(d, 4096);
	s->ninsns = dg_de_uv(d);
	s->nbad = dg_de_uv(d);
	uint64_t ef = dg_de_uv(d);
	size_t sl = de_count(d);
	if (!d->bad) {
		s->strings = dg_xmalloc(sl + 1);
		memcpy(s->strings, d->p + d->pos, sl);
		s->strings[sl] = '\0';
		s->strings_len = sl;
		d->pos += sl;
	}
	/* the summary names its ISA by the backend's own string */
	const struct dg_isa *bk = dg_isa_for(s->machine, s->bits);
	if (mach > UINT16_MAX || (isa && (!bk || strcmp(isa, bk->name))))
		d->bad = 1;
	s->isa = bk && isa ? bk->name : NULL;
	free(isa);
	size_t nf = de_count(d);
	if (!d->bad)
		s->fns = dg_xcalloc(nf ? nf : 1, sizeof *s->fns);
	uint64_t prev = 0;
	for (size_t i = 0; i < nf && !d->bad; i++) {
		struct dg_fn *f = &s->fns[i];
		uint64_t delta = dg_de_uv(d);
		f->addr = prev + delta;
		if (i && (!delta || f->addr < prev))
			d->bad = 1;
		prev = f->addr;
		f->size = dg_de_uv(d);
		uint64_t nm = dg_de_uv(d);
		uint64_t wm = dg_de_uv(d);
		uint8_t pk = dg_de_u8(d);
		if (pk >> DG_EXK_N)
			d->bad = 1;
		for (int k = 0; k < DG_EXK_N && !d->bad; k++)
			if ((pk >> k) & 1) {
				uint64_t pm = dg_de_uv(d);
				if (!pm || pm >= (UINT64_C(1) << DG_ARG_NREGS))
					d->bad = 1;
				f->pmask[k] = (dg_argmask)pm;
			}
		f->flags = dg_de_u8(d);
		if (f->addr + f->size < f->addr || wm >= (UINT64_C(1) << DG_ARG_NREGS) || nm > sl || (nm && s->strings[sl ? sl - 1 : 0]))
			d->bad = 1;
		f->wmask = (dg_argmask)wm;
		f->name = nm && !d->bad ? s->strings + nm - 1 : NULL;
		s->nfns = i + 1;
		f->first_site = (uint32_t)s->nsites;
		size_t ns = de_count(d);
		for (size_t k = 0; k < ns && !d->bad; k++) {
			struct dg_fsite st = {0};
			uint64_t off = dg_de_uv(d);
			st.addr = f->addr + off;
			uint8_t ts = dg_de_u8(d);
			st.table = ts & 0xf;
			st.shape = ts >> 4;
			if (off >= f->size || st.table > DG_TAB_I386 || st.shape > DG_SITE_XIDCMD)
				d->bad = 1;
			dec_val(&x, &st.v);
			PUSH(s->sites, s->nsites, x.csites, st);
		}
		f->nsites = (uint32_t)(s->nsites - f->first_site);
		f->first_call = (uint32_t)s->ncalls;
		size_t nc = de_count(d);
		for (size_t k = 0; k < nc && !d->bad; k++) {
			struct dg_fcall c = {0};
			uint64_t off = dg_de_uv(d);
			uint8_t kt = dg_de_u8(d);
			uint64_t tg = dg_de_uv(d);
			size_t na = de_count(d);
			c.addr = f->addr + off;
			c.kind = kt & 0xf;
			c.tail = kt >> 4;
			c.target = (uint32_t)tg;
			c.nargs = (uint16_t)na;
			c.first_arg = (uint32_t)s->nargs;
			if (off >= f->size || c.kind < DG_CALL_LOCAL || c.kind > DG_CALL_INDIRECT || c.tail > 1 ||
			    tg > UINT32_MAX || na > DG_ARG_NREGS)
				d->bad = 1;
			for (size_t a = 0; a < na && !d->bad; a++) {
				struct dg_fcallarg ca = {.reg = dg_de_u8(d)};
				if (ca.reg >= DG_ARG_NREGS)
					d->bad = 1;
				dec_val(&x, &ca.v);
				PUSH(s->args, s->nargs, x.cargs, ca);
			}
			PUSH(s->calls, s->ncalls, x.ccalls, c);
		}
		f->ncalls = (uint32_t)(s->ncalls - f->first_call);
		f->first_take = (uint32_t)s->ntakes;
		f->ntakes = dec_append(&x, &s->takes, &s->ntakes, &x.ctakes, nf) - f->first_take;
	}
	if (!d->bad) {
		s->data_takes = dec_list(&x, &s->ndata_takes, s->nfns);
		s->import_takes = dec_list(&x, &s->nimport_takes, UINT32_MAX);
		s->roots = dec_list(&x, &s->nroots, s->nfns);
		dec_dobjs(&x);
	}
	/* calls name functions that exist */
	for (size_t i = 0; i < s->ncalls && !d->bad; i++) {
		const struct dg_fcall *c = &s->calls[i];
		if ((c->kind == DG_CALL_LOCAL || c->kind == DG_CALL_IFUNC) && c->target >= s->nfns)
			d->bad = 1;
	}
	if (!d->bad && ef && ef - 1 >= s->nfns)
		d->bad = 1;
	s->entry_fn = ef ? (uint32_t)(ef - 1) : DG_FSUM_NONE;
	if (d->bad || d->pos != d->n) {
		dg_fsum_free(s);
		return dg_err(err, DG_E_INTERNAL, "malformed syscall summary record");
	}
	index_argcalls(s);
	*out = s;
	return 0;
}
