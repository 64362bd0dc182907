/* Function-level reachability over a load set (reach.h). */
#include <stdlib.h>
#include <string.h>

#include "analysis/isa.h"
#include "dockergate/reach.h"
#include "base/ser.h"
#include "dockergate/util.h"

#define STT_OBJECT 1
#define STT_FUNC 2
#define STT_GNU_IFUNC 10

struct r {
	const struct dg_ldset *set;
	const struct dg_bindings *b;
	const struct dg_fsum *const *sums;
	size_t nobj;
	size_t *base; /* first global node of each object */
	size_t n;     /* nodes */
	uint8_t *reach, *unknown_entry, *at;
	dg_argmask *wm;
	dg_argmask (*pm)[DG_EXK_N]; /* per node: entry registers passed on as names (fnsum.h pmask) */
	size_t *queue;
	size_t nq;
	int any_indirect;
	size_t *atlist;
	size_t nat, cat;
	/* scratch for call targets */
	size_t *tg;
	size_t ntg, ctg;
	struct dg_reach *out;
	size_t cunk, cexec;
	size_t exec_nr_obj; /* an object other than libc with a reachable execve/execveat site, or SIZE_MAX */
	int sym_all;        /* every export has been taken (a dlsym of a name not known) */
	uint8_t *symh;      /* per node, memo of sym_module: 0 not known yet, 1 yes, 2 no */
	/* every call's targets, resolved once: call k of object o is callbase[o] + k */
	size_t *callbase;
	size_t *ct_off, *ct_cnt, *ct;
	size_t nct, cct;
	uint8_t *ct_state;
	/* explain mode: how each node was first reached (no closure shortcut then) */
	int explain;
	size_t *from;       /* the node it was reached from, SIZE_MAX for a root */
	uint64_t *from_at;  /* the call's address in that node (or the indirect call's) */
	uint8_t *how;       /* enum dg_step_how */
	size_t ind_node;    /* the first reachable indirect call: its node and address */
	uint64_t ind_at;
	size_t *take_node;  /* the function whose code took a node's address, SIZE_MAX: data */
	size_t *take_obj;   /* for data: the object whose data or relocations hold it */
	size_t cur_obj;     /* the object whose data takes are being read */
	/* data objects (fnsum.h): object k of object o is dbase[o] + k; live once referred to */
	size_t *dbase;
	uint8_t *dlive;
	size_t *dstk;
	int held;           /* --precision held: every data object is live from the start */
	/* explain: the data object holding a node's address (global index, SIZE_MAX: none), and
	 * per data object the function that referred to it or the object pointing into it */
	size_t *take_dobj, *dref_node, *dref_parent;
	size_t cur_dobj;
	size_t cur_node;    /* the node being walked, and the call being followed */
	uint64_t cur_at;
	uint8_t cur_how;
};

/* Reaches NODE from what the walk is at (r->cur_*: a root kind, or a call in a node). */
static void push(struct r *r, size_t node, int unknown)
{
	if (unknown)
		r->unknown_entry[node] = 1;
	if (r->reach[node])
		return;
	r->reach[node] = 1;
	r->queue[r->nq++] = node;
	if (r->explain) {
		r->from[node] = r->cur_node;
		r->from_at[node] = r->cur_at;
		r->how[node] = r->cur_how;
	}
}

static void at_root(struct r *r, uint8_t how)
{
	r->cur_node = SIZE_MAX;
	r->cur_at = 0;
	r->cur_how = how;
}

static void take(struct r *r, size_t node)
{
	if (r->at[node])
		return;
	r->at[node] = 1;
	if (r->explain) {
		r->take_node[node] = r->cur_node;
		r->take_obj[node] = r->cur_obj;
		r->take_dobj[node] = r->cur_dobj;
	}
	if (r->nat == r->cat) {
		r->cat = r->cat ? r->cat * 2 : 64;
		r->atlist = dg_xreallocarray(r->atlist, r->cat, sizeof *r->atlist);
	}
	r->atlist[r->nat++] = node;
	if (r->any_indirect) {
		size_t cn = r->cur_node;
		uint64_t ca = r->cur_at;
		uint8_t ch = r->cur_how;
		r->cur_node = r->ind_node, r->cur_at = r->ind_at, r->cur_how = DG_STEP_INDIRECT;
		push(r, node, 1);
		r->cur_node = cn, r->cur_at = ca, r->cur_how = ch;
	}
}

/* The library's own closure (fnsum.h), computed once per summary and kept on it:
 * every program that loads the library and reaches an indirect call reaches at
 * least this, so the walk marks it at once instead of walking it again. */
static const struct dg_fsum_closure *closure_of(const struct dg_fsum *cs, int all)
{
	struct dg_fsum *s = (struct dg_fsum *)cs; /* the memo is derived from S alone */
	if (!s->ndobjs)
		all = 0; /* the same closure */
	struct dg_fsum_closure **memo = all ? &s->closure_all : &s->closure;
	if (*memo)
		return *memo;
	struct dg_fsum_closure *c = dg_xcalloc(1, sizeof *c);
	size_t nf = s->nfns ? s->nfns : 1;
	uint8_t *seen = dg_xcalloc(nf, 1);
	c->unknown = dg_xcalloc(nf, 1);
	c->fns = dg_xcalloc(nf, sizeof *c->fns);
	size_t ci = 0;
	/* data objects (fnsum.h): their functions count once code of the closure refers to them */
	uint8_t *dseen = s->ndobjs ? dg_xcalloc(s->ndobjs, 1) : NULL;
	uint32_t *dstk = s->ndobjs ? dg_xcalloc(s->ndobjs, sizeof *dstk) : NULL;
	size_t nds = 0;
#define DL_ADD(k)                                                                                        \
	do {                                                                                             \
		uint32_t k_ = (k);                                                                       \
		if (!dseen[k_]) {                                                                        \
			dseen[k_] = 1;                                                                   \
			dstk[nds++] = k_;                                                                \
		}                                                                                        \
	} while (0)
#define CL_ADD(f, unk)                                                                                   \
	do {                                                                                             \
		uint32_t f_ = (f);                                                                       \
		if (unk)                                                                                 \
			c->unknown[f_] = 1;                                                              \
		if (!seen[f_]) {                                                                         \
			seen[f_] = 1;                                                                    \
			c->fns[c->nfns++] = f_;                                                          \
		}                                                                                        \
	} while (0)
	for (size_t k = 0; k < s->nroots; k++)
		CL_ADD(s->roots[k], 1);
	for (size_t k = 0; k < s->ndata_takes; k++)
		CL_ADD(s->data_takes[k], 1);
	for (uint32_t k = 0; all && k < s->ndobjs; k++)
		DL_ADD(k);
	for (;;) {
		while (nds) {
			uint32_t k = dstk[--nds];
			for (uint32_t j = s->dobj_off[k]; j < s->dobj_off[k + 1]; j++)
				CL_ADD(s->dobj_fns[j], 1);
			for (uint32_t j = s->dobj_toff[k]; j < s->dobj_toff[k + 1]; j++)
				DL_ADD(s->dobj_to[j]);
		}
		if (ci >= c->nfns)
			break;
		const struct dg_fn *fn = &s->fns[c->fns[ci]];
		if (s->ndobjs)
			for (uint32_t j = s->fn_doff[c->fns[ci]]; j < s->fn_doff[c->fns[ci] + 1]; j++)
				DL_ADD(s->fn_dobjs[j]);
		for (uint32_t k = 0; k < fn->ncalls; k++) {
			const struct dg_fcall *call = &s->calls[fn->first_call + k];
			if (call->kind == DG_CALL_LOCAL) {
				CL_ADD(call->target, 0);
			} else if (call->kind == DG_CALL_IFUNC) {
				const struct dg_fn *rf = &s->fns[call->target];
				for (uint32_t t = 0; t < rf->ntakes; t++)
					CL_ADD(s->takes[rf->first_take + t], 0);
			} else if (call->kind == DG_CALL_IMPORT) {
				c->imports = dg_xreallocarray(c->imports, c->nimports + 1, sizeof *c->imports);
				c->imports[c->nimports++] = fn->first_call + k;
			}
		}
		if (!(fn->flags & DG_FN_RESOLVER))
			for (uint32_t k = 0; k < fn->ntakes; k++)
				CL_ADD(s->takes[fn->first_take + k], 1);
		ci++;
	}
#undef CL_ADD
#undef DL_ADD
	free(seen);
	free(dseen);
	free(dstk);
	*memo = c;
	return c;
}

void dg_reach_prepare(const struct dg_fsum *s)
{
	(void)closure_of(s, 0);
	(void)closure_of(s, 1);
}

static size_t resolve(struct r *r, size_t o, size_t k);
static size_t obj_of(const struct r *r, size_t node);

/* Data object K of object O is referred to: the functions it holds are taken (by the data
 * of O, as explain says), and the objects it points into are referred to in turn. */
static void dlive(struct r *r, size_t o, uint32_t k)
{
	const struct dg_fsum *s = r->sums[o];
	size_t ns = 0;
	if (r->dlive[r->dbase[o] + k])
		return;
	r->dlive[r->dbase[o] + k] = 1;
	r->dstk[ns++] = k;
	if (r->explain)
		r->dref_node[r->dbase[o] + k] = r->cur_node;
	size_t cn = r->cur_node, co = r->cur_obj;
	r->cur_node = SIZE_MAX;
	r->cur_obj = o;
	while (ns) {
		uint32_t d = (uint32_t)r->dstk[--ns];
		r->cur_dobj = r->dbase[o] + d;
		for (uint32_t j = s->dobj_off[d]; j < s->dobj_off[d + 1]; j++)
			take(r, r->base[o] + s->dobj_fns[j]);
		for (uint32_t j = s->dobj_toff[d]; j < s->dobj_toff[d + 1]; j++)
			if (!r->dlive[r->dbase[o] + s->dobj_to[j]]) {
				r->dlive[r->dbase[o] + s->dobj_to[j]] = 1;
				r->dstk[ns++] = s->dobj_to[j];
				if (r->explain)
					r->dref_parent[r->dbase[o] + s->dobj_to[j]] = r->dbase[o] + d;
			}
	}
	r->cur_dobj = SIZE_MAX;
	r->cur_node = cn;
	r->cur_obj = co;
}

/* The symbol naming the data at ADDR of object O (explain), or NULL. */
static const char *dobj_name(const struct r *r, size_t o, uint64_t addr)
{
	const struct dg_elf *e = r->b->objs[o].elf;
	for (size_t i = 0; e && i < e->nsyms; i++) {
		const struct dg_elf_sym *y = &e->syms[i];
		if (y->type == STT_OBJECT && y->size && y->name && *y->name && addr >= y->value &&
		    addr - y->value < y->size)
			return y->name;
	}
	return NULL;
}

/* explain: "data object NAME (0xADDR), which NAME2 (0xADDR2) points to, ..., which FN
 * refers to" for the data object G (global index) of object O. */
static char *held_chain(const struct r *r, size_t o, size_t g)
{
	struct dg_buf b = {0};
	const struct dg_fsum *s = r->sums[o];
	for (int n = 0; g != SIZE_MAX && n < 16; n++) {
		uint64_t a = s->dobj_addr[g - r->dbase[o]];
		const char *nm = dobj_name(r, o, a);
		if (n)
			dg_buf_puts(&b, ", which ");
		dg_buf_printf(&b, "%s%s%s0x%llx%s", n ? "" : "data object ", nm ? nm : "", nm ? " (" : "at ",
			      (unsigned long long)a, nm ? ")" : "");
		if (n)
			dg_buf_puts(&b, " points to");
		if (r->dref_parent[g] == SIZE_MAX) {
			size_t fnode = r->dref_node[g];
			if (fnode == SIZE_MAX) {
				dg_buf_puts(&b, " (--precision held: every data object counts)");
			} else {
				size_t fo = obj_of(r, fnode);
				const struct dg_fn *f = &r->sums[fo]->fns[fnode - r->base[fo]];
				if (f->name)
					dg_buf_printf(&b, ", which %s refers to", f->name);
				else
					dg_buf_printf(&b, ", which the function at 0x%llx refers to", (unsigned long long)f->addr);
			}
			break;
		}
		g = r->dref_parent[g];
	}
	return dg_buf_steal(&b);
}

static void indirect(struct r *r)
{
	if (r->any_indirect)
		return;
	r->any_indirect = 1;
	r->ind_node = r->cur_node;
	r->ind_at = r->cur_at;
	/* the libraries' own closures: marked, not walked; only their imports are followed
	 * (when explaining, everything is walked, so that every node knows where it came from) */
	for (size_t o = 1; o < r->nobj && !r->explain; o++) {
		if (!r->sums[o])
			continue;
		const struct dg_fsum_closure *c = closure_of(r->sums[o], r->held);
		for (size_t i = 0; i < c->nfns; i++) {
			size_t node = r->base[o] + c->fns[i];
			if (c->unknown[c->fns[i]])
				r->unknown_entry[node] = 1;
			r->reach[node] = 1;
		}
		for (size_t i = 0; i < c->nimports; i++) {
			size_t g = resolve(r, o, c->imports[i]);
			for (size_t t = r->ct_off[g]; t < r->ct_off[g] + r->ct_cnt[g]; t++)
				push(r, r->ct[t], 0);
		}
	}
	r->cur_how = DG_STEP_INDIRECT;
	for (size_t i = 0; i < r->nat; i++)
		push(r, r->atlist[i], 1);
	r->cur_how = DG_STEP_CALL;
}

static void tg_add(struct r *r, size_t node)
{
	if (r->ntg == r->ctg) {
		r->ctg = r->ctg ? r->ctg * 2 : 16;
		r->tg = dg_xreallocarray(r->tg, r->ctg, sizeof *r->tg);
	}
	r->tg[r->ntg++] = node;
}

/* Where calling (or taking the address of) function F of object O lands: F, or for
 * an IFUNC resolver the implementations it may return (the addresses it takes). */
static void land(struct r *r, size_t o, uint32_t f, int ifunc)
{
	const struct dg_fsum *s = r->sums[o];
	if (!ifunc) {
		tg_add(r, r->base[o] + f);
		return;
	}
	const struct dg_fn *fn = &s->fns[f];
	for (uint32_t k = 0; k < fn->ntakes; k++)
		tg_add(r, r->base[o] + s->takes[fn->first_take + k]);
}

/* The function a bound dynamic symbol reference of object O lands on. */
static void land_sym(struct r *r, size_t o, uint32_t sym, enum dg_bind_class cls)
{
	const struct dg_bind_ref *ref = dg_bind_find(r->b, o, sym);
	const struct dg_bind_to *to;
	if (ref)
		to = ref->to[cls].computed ? &ref->to[cls] : dg_bind_target(ref);
	else
		return; /* not a reference the loader binds (a local symbol): nothing */
	if (!to || to->obj == DG_BIND_NONE || to->obj >= r->nobj || !r->sums[to->obj])
		return;
	const struct dg_elf_sym *d = dg_bind_def_sym(r->b, to);
	if (!d || (d->type != STT_FUNC && d->type != STT_GNU_IFUNC && d->type != 0))
		return;
	const struct dg_fsum *s = r->sums[to->obj];
	uint32_t f = dg_fsum_fn_start(s, d->value);
	if (f == DG_FSUM_NONE)
		f = dg_fsum_fn_at(s, d->value);
	if (f == DG_FSUM_NONE)
		return;
	land(r, to->obj, f, d->type == STT_GNU_IFUNC);
}

/* Targets of call C of object O into r->tg; returns 0 for an unresolved indirect call. */
static int targets(struct r *r, size_t o, const struct dg_fcall *c)
{
	r->ntg = 0;
	switch (c->kind) {
	case DG_CALL_LOCAL:
		land(r, o, c->target, 0);
		return 1;
	case DG_CALL_IFUNC:
		land(r, o, c->target, 1);
		return 1;
	case DG_CALL_IMPORT:
		land_sym(r, o, c->target, DG_BIND_CALL);
		return 1;
	default:
		return 0;
	}
}

static void resolve_init(struct r *r)
{
	size_t total = 0;
	r->callbase = dg_xcalloc(r->nobj + 1, sizeof *r->callbase);
	for (size_t o = 0; o < r->nobj; o++) {
		r->callbase[o] = total;
		total += r->sums[o] ? r->sums[o]->ncalls : 0;
	}
	r->callbase[r->nobj] = total;
	r->ct_off = dg_xcalloc(total ? total : 1, sizeof *r->ct_off);
	r->ct_cnt = dg_xcalloc(total ? total : 1, sizeof *r->ct_cnt);
	r->ct_state = dg_xcalloc(total ? total : 1, 1);
}

/* Resolves call K of object O once (lazily: most calls are in unreachable code);
 * returns its global index. ct_state: 1 resolved, 2 an unresolved indirect call. */
static size_t resolve(struct r *r, size_t o, size_t k)
{
	size_t g = r->callbase[o] + k;
	if (r->ct_state[g])
		return g;
	if (!targets(r, o, &r->sums[o]->calls[k])) {
		r->ct_state[g] = 2;
		return g;
	}
	r->ct_state[g] = 1;
	if (r->nct + r->ntg > r->cct) {
		r->cct = (r->nct + r->ntg) * 2 + 64;
		r->ct = dg_xreallocarray(r->ct, r->cct, sizeof *r->ct);
	}
	if (r->ntg)
		memcpy(r->ct + r->nct, r->tg, r->ntg * sizeof *r->tg);
	r->ct_off[g] = r->nct;
	r->ct_cnt[g] = r->ntg;
	r->nct += r->ntg;
	return g;
}

static dg_argmask call_wm(struct r *r, size_t o, size_t k)
{
	const struct dg_fcall *c = &r->sums[o]->calls[k];
	if (c->kind == DG_CALL_LOCAL) /* the common case, without the memo */
		return r->wm[r->base[o] + c->target];
	size_t g = resolve(r, o, k);
	dg_argmask m = 0;
	for (size_t t = r->ct_off[g]; t < r->ct_off[g] + r->ct_cnt[g]; t++)
		m |= r->wm[r->ct[t]];
	return m;
}

/* the name masks (per kind) of call K of object O's targets */
static void call_pm(struct r *r, size_t o, size_t k, dg_argmask out[DG_EXK_N])
{
	const struct dg_fcall *c = &r->sums[o]->calls[k];
	if (c->kind == DG_CALL_LOCAL) {
		memcpy(out, r->pm[r->base[o] + c->target], sizeof r->pm[0]);
		return;
	}
	memset(out, 0, sizeof r->pm[0]);
	size_t g = resolve(r, o, k);
	for (size_t t = r->ct_off[g]; t < r->ct_off[g] + r->ct_cnt[g]; t++)
		for (int kd = 0; kd < DG_EXK_N; kd++)
			out[kd] |= r->pm[r->ct[t]][kd];
}

static const struct dg_fcallarg *arg_of(const struct dg_fsum *s, const struct dg_fcall *c, uint8_t reg)
{
	for (uint16_t a = 0; a < c->nargs; a++)
		if (s->args[c->first_arg + a].reg == reg)
			return &s->args[c->first_arg + a];
	return NULL;
}

/* Entry registers reaching a syscall number across objects (wrappers of wrappers). */
static void wrappers(struct r *r)
{
	for (size_t o = 0; o < r->nobj; o++)
		if (r->sums[o])
			for (size_t f = 0; f < r->sums[o]->nfns; f++) {
				r->wm[r->base[o] + f] = r->sums[o]->fns[f].wmask;
				memcpy(r->pm[r->base[o] + f], r->sums[o]->fns[f].pmask, sizeof r->pm[0]);
			}
	for (int changed = 1, rounds = 0; changed && rounds < 64; rounds++) {
		changed = 0;
		for (size_t o = 0; o < r->nobj; o++) {
			const struct dg_fsum *s = r->sums[o];
			for (size_t i = 0; s && i < s->nargcalls; i++) {
				const struct dg_fcall *c = &s->calls[s->argcalls[i]];
				dg_argmask m = call_wm(r, o, s->argcalls[i]);
				size_t me = r->base[o] + s->argcall_fn[i];
				dg_argmask pm[DG_EXK_N];
				call_pm(r, o, s->argcalls[i], pm);
				for (int kd = 0; kd < DG_EXK_N; kd++)
					for (uint16_t a = 0; pm[kd] && a < c->nargs; a++) {
						const struct dg_fcallarg *ca = &s->args[c->first_arg + a];
						if ((pm[kd] & ((dg_argmask)1u << ca->reg)) && ca->v.kind == DG_FV_ARG &&
						    !(r->pm[me][kd] & (1u << ca->v.reg))) {
							r->pm[me][kd] |= (dg_argmask)1u << ca->v.reg;
							changed = 1;
						}
					}
				for (uint16_t a = 0; m && a < c->nargs; a++) {
					const struct dg_fcallarg *ca = &s->args[c->first_arg + a];
					if ((m & ((dg_argmask)1u << ca->reg)) && ca->v.kind == DG_FV_ARG &&
					    !(r->wm[me] & (1u << ca->v.reg))) {
						r->wm[me] |= (dg_argmask)1u << ca->v.reg;
						changed = 1;
					}
				}
			}
		}
	}
}

static void set_bit(uint8_t *bits, uint32_t n)
{
	if (n < DG_NSYSCALLS)
		bits[n / 8] |= (uint8_t)(1u << (n % 8));
}

static void unknown(struct r *r, size_t o, uint32_t f, uint64_t addr, int wcall)
{
	struct dg_reach *out = r->out;
	if (out->nunknown == r->cunk) {
		r->cunk = r->cunk ? r->cunk * 2 : 16;
		out->unknown = dg_xreallocarray(out->unknown, r->cunk, sizeof *out->unknown);
	}
	const char *nm = r->sums[o]->fns[f].name;
	out->unknown[out->nunknown++] = (struct dg_reach_unknown){o, f, addr, (uint8_t)wcall, nm ? dg_xstrdup(nm) : NULL};
}

static int is_libc(const char *name)
{
	return name && (!strncmp(name, "libc.so", 7) || !strncmp(name, "libc.musl-", 10));
}

/* glibc's C library: libc.so.6 (its SONAME; musl's is libc.so), or a static program linked
 * with it (no interpreter, no DT_NEEDED, glibc's NT_GNU_ABI_TAG note). glibc's set*id and setgroups wrappers
 * make their call themselves when the process is single-threaded (a constant number, counted
 * with the wrapper) and otherwise hand a struct xid_command holding that same number and
 * arguments to __nptl_setxid, which makes it and signals every other thread, whose SIGSETXID
 * handler makes it again (nptl/nptl_setxid.c): the two sites reading the number from that
 * structure (fnsum.h DG_SITE_XIDCMD) make only calls a reachable wrapper's own site makes,
 * so they add nothing and are not unknown (the setxid rule). */
static int is_glibc(const struct r *r, size_t o)
{
	const struct dg_elf *e = r->b->objs[o].elf;
	if (!e)
		return 0;
	if (e->soname)
		return !strcmp(e->soname, "libc.so.6");
	return !e->interp && !e->needed.n && e->gnu_abi_linux;
}

/* The dynamic loader, loaded as the program's interpreter: its one execve (glibc's
 * rtld_chain_load) runs only when the loader itself is the command (object 0). */
static int is_loader(const struct r *r, size_t o)
{
	return o > 0 && r->set->objs[o].via && !strcmp(r->set->objs[o].via, "interp");
}

static void add_nums(struct r *r, size_t o, const struct dg_fval *v, int table)
{
	const struct dg_fsum *s = r->sums[o];
	uint8_t *bits = table == DG_TAB_I386 ? r->out->i386 : r->out->native;
	if (table == DG_TAB_I386)
		r->out->has_i386 = 1;
	for (uint16_t i = 0; i < v->n; i++) {
		uint32_t nr = s->nums[v->first + i];
		set_bit(bits, nr);
		/* execve/execveat made by other code than the C library's exec functions (which
		 * the exec imports account for): a program it runs is not known */
		int ex = table == DG_TAB_I386 ? nr == 11 || nr == 358 : nr == 59 || nr == 322;
		if (ex && r->exec_nr_obj == SIZE_MAX && !is_libc(r->set->objs[o].name) && !is_loader(r, o))
			r->exec_nr_obj = o;
	}
}

#define MAX_EXECS 256

/* Records that reachable code (function F of object O, the call at ADDR of CALLEE) runs
 * or loads the name ARG of KIND (NULL: not known there); each known name once, each
 * unknown call once. */
static void exec_rec(struct r *r, size_t o, uint32_t f, uint64_t addr, uint8_t kind, const char *arg,
		     const char *callee)
{
	struct dg_reach *out = r->out;
	for (size_t i = 0; i < out->nexecs; i++) {
		const struct dg_reach_exec *x = &out->execs[i];
		if (x->kind == kind && (arg ? x->arg && !strcmp(x->arg, arg) : !x->arg && x->obj == o && x->addr == addr))
			return;
	}
	if (out->nexecs >= MAX_EXECS) {
		out->execs_truncated = 1;
		if (arg)
			return;
		/* an unknown one must still show: it replaces the last entry */
		out->nexecs--;
		free(out->execs[out->nexecs].arg);
		free(out->execs[out->nexecs].callee);
		free(out->execs[out->nexecs].fn_name);
	}
	if (out->nexecs == r->cexec) {
		r->cexec = r->cexec ? r->cexec * 2 : 8;
		out->execs = dg_xreallocarray(out->execs, r->cexec, sizeof *out->execs);
	}
	const char *nm = r->sums[o] && f < r->sums[o]->nfns ? r->sums[o]->fns[f].name : NULL;
	out->execs[out->nexecs++] = (struct dg_reach_exec){kind,
							    arg ? dg_xstrdup(arg) : NULL,
							    dg_xstrdup(callee ? callee : "?"),
							    o,
							    addr,
							    nm ? dg_xstrdup(nm) : NULL};
}

/* The name of KIND call C (of function F of object O, entered as r->unknown_entry says)
 * passes in REG. */
static void exec_arg(struct r *r, size_t o, uint32_t f, const struct dg_fcall *c, uint8_t kind, uint8_t reg,
		     const char *callee)
{
	const struct dg_fsum *s = r->sums[o];
	size_t me = r->base[o] + f;
	const struct dg_fcallarg *a = arg_of(s, c, reg);
	if (a && a->v.kind == DG_FV_STR) {
		for (uint16_t i = 0; i < a->v.n; i++)
			exec_rec(r, o, f, c->addr, kind, s->strings + s->nums[a->v.first + i], callee);
		return;
	}
	if (a && a->v.kind == DG_FV_ARG && !r->unknown_entry[me])
		return; /* its callers' names count */
	if (a && a->v.kind == DG_FV_CONST) {
		int other = 0;
		for (uint16_t i = 0; i < a->v.n; i++)
			if (s->nums[a->v.first + i])
				other = 1;
			else if (kind == DG_EXK_SHELL)
				exec_rec(r, o, f, c->addr, kind, "exit 0", callee); /* system(NULL) (glibc) */
		/* NULL runs or loads nothing else (dlopen(NULL): the program itself) */
		if (!other)
			return;
	}
	exec_rec(r, o, f, c->addr, kind, NULL, callee);
}

/* The name of what call C of object O calls: the function's, or a PLT stub's import's. */
static const char *callee_name(struct r *r, size_t o, const struct dg_fcall *c)
{
	const struct dg_fsum *s = r->sums[o];
	const struct dg_elf *e = r->b->objs[o].elf;
	uint32_t sym = DG_FSUM_NONE;
	if (c->kind == DG_CALL_IMPORT) {
		sym = c->target;
	} else if (c->kind == DG_CALL_LOCAL) {
		const struct dg_fn *t = &s->fns[c->target];
		if (t->name || !(t->flags & DG_FN_PLT))
			return t->name;
		for (uint32_t k = 0; k < t->ncalls && sym == DG_FSUM_NONE; k++)
			if (s->calls[t->first_call + k].kind == DG_CALL_IMPORT)
				sym = s->calls[t->first_call + k].target;
	}
	return e && sym < e->ndynsyms ? e->dynsyms[sym].name : NULL;
}

/* The programs and libraries call K of function F of object O runs or loads. */
static void exec_call(struct r *r, size_t o, uint32_t f, uint32_t k)
{
	const struct dg_fsum *s = r->sums[o];
	const struct dg_fcall *c = &s->calls[k];
	const struct dg_elf *e = r->b->objs[o].elf;
	if (c->kind == DG_CALL_IMPORT && e && c->target < e->ndynsyms) {
		const char *nm = e->dynsyms[c->target].name;
		uint8_t kind;
		int an;
		if (dg_exec_import(nm, &kind, &an)) {
			if (kind == DG_EXK_SYM)
				return; /* a lookup, not a program or library: dlsyms() */
			const struct dg_isa *isa = dg_isa_for(s->machine, s->bits);
			if (an < 0 || !isa || isa->c_arg[an] < 0)
				exec_rec(r, o, f, c->addr, kind, NULL, nm);
			else
				exec_arg(r, o, f, c, kind, (uint8_t)isa->c_arg[an], nm);
			return;
		}
	}
	dg_argmask pm[DG_EXK_N];
	call_pm(r, o, k, pm);
	for (int kd = 0; kd < DG_EXK_N; kd++)
		for (uint8_t reg = 0; kd != DG_EXK_SYM && pm[kd] >> reg; reg++)
			if ((pm[kd] >> reg) & 1) {
				exec_arg(r, o, f, c, (uint8_t)kd, reg, callee_name(r, o, c));
			}
}

/* libseccomp (src/system.c, 2.4 to 2.6): every syscall(2) it makes with a number not known
 * statically passes _nr_seccomp, the number arch_syscall_resolve_name(arch_def_native,
 * "seccomp") gave it: call C of its object O, a call of libc's syscall, is seccomp's (x86-64
 * 317, i386 354). 0 for any other call. */
static unsigned seccomp_nr(struct r *r, size_t o, const struct dg_fcall *c)
{
	const struct dg_elf *e = r->b->objs[o].elf;
	if (!e || !e->soname || strcmp(e->soname, "libseccomp.so.2"))
		return 0;
	const char *callee = callee_name(r, o, c);
	if (!callee || strcmp(callee, "syscall"))
		return 0;
	return r->sums[o]->bits == 32 ? 354 : 317;
}

/* The number a library rule gives the wrapper call C (of node ME in object O) whose number
 * argument A is neither a constant nor its callers' (entered with known arguments): 0 when
 * no rule applies. collect() counts it; explain() finds the site by it. */
static unsigned rule_nr(struct r *r, size_t o, size_t me, const struct dg_fcall *c, const struct dg_fcallarg *a)
{
	if (a && (a->v.kind == DG_FV_CONST || (a->v.kind == DG_FV_ARG && !r->unknown_entry[me])))
		return 0;
	return seccomp_nr(r, o, c);
}

/* ---- dlsym, dlvsym (docs/design.md "Across objects"): what they return is called ---- */

/* Takes export Y of object O: the function, or for an IFUNC what its resolver returns. */
static void take_export(struct r *r, size_t o, const struct dg_elf_sym *y)
{
	if (!y->shndx || (y->type != STT_FUNC && y->type != STT_GNU_IFUNC) || y->bind == 0 /* STB_LOCAL */)
		return;
	uint32_t f = dg_fsum_fn_start(r->sums[o], y->value);
	if (f == DG_FSUM_NONE)
		return;
	r->ntg = 0;
	land(r, o, f, y->type == STT_GNU_IFUNC);
	for (size_t t = 0; t < r->ntg; t++)
		take(r, r->tg[t]);
}

/* A lookup of NAME (NULL: a name not known) may return the export of that name of any loaded
 * object: whatever the handle (RTLD_DEFAULT, RTLD_NEXT, a loaded object's), the answer is a
 * definition in the load set, or in a dlopen'd library, whose exports are all roots anyway.
 * dlvsym's version only picks among them. */
static void sym_take(struct r *r, const char *name)
{
	if (r->sym_all)
		return;
	if (!name)
		r->sym_all = r->out->dlsym_unknown = 1;
	for (size_t o = 0; o < r->nobj; o++) {
		const struct dg_elf *e = r->b->objs[o].elf;
		for (size_t k = 0; r->sums[o] && e && k < e->ndynsyms; k++)
			if (!name || (e->dynsyms[k].name && !strcmp(e->dynsyms[k].name, name)))
				take_export(r, o, &e->dynsyms[k]);
	}
}

/* Programs whose lookups of names not known are known to be of one form (docs/design.md,
 * "Lookups by name"): lighttpd's plugin.c looks up "<module>_plugin_init" for the modules of
 * server.modules, in the modules it dlopens and in itself (modules built into the binary).
 * The suffix for the object named NAME, or NULL. */
static const char *sym_name_rule(const char *name)
{
	const char *b = name ? strrchr(name, '/') : NULL;
	b = b ? b + 1 : name;
	return b && !strcmp(b, "lighttpd") ? "_plugin_init" : NULL;
}

/* Every export whose name ends in SUFFIX, in every loaded object. */
static void sym_take_suffix(struct r *r, const char *suffix)
{
	size_t sl = strlen(suffix);
	for (size_t o = 0; o < r->nobj; o++) {
		const struct dg_elf *e = r->b->objs[o].elf;
		for (size_t k = 0; r->sums[o] && e && k < e->ndynsyms; k++) {
			const char *nm = e->dynsyms[k].name;
			size_t nl = nm ? strlen(nm) : 0;
			if (nl > sl && !strcmp(nm + nl - sl, suffix))
				take_export(r, o, &e->dynsyms[k]);
		}
	}
}

/* The lookup of call C of function F of object O, whose name passes in REG. MODULE: a direct
 * call of dlsym/dlvsym whose handle is not a constant (RTLD_DEFAULT, RTLD_NEXT), so a handle
 * a dlopen returned: a name not known there is one of the dlopen'd library's exports (all
 * roots already: "dlopen rules"), not taken from the program's own libraries. */
static void sym_arg(struct r *r, size_t o, uint32_t f, const struct dg_fcall *c, uint8_t reg, int module)
{
	const struct dg_fsum *s = r->sums[o];
	size_t me = r->base[o] + f;
	const struct dg_fcallarg *a = arg_of(s, c, reg);
	r->cur_node = me;
	r->cur_at = c->addr;
	r->cur_obj = o;
	if (a && a->v.kind == DG_FV_STR) {
		for (uint16_t i = 0; i < a->v.n; i++)
			sym_take(r, s->strings + s->nums[a->v.first + i]);
		return;
	}
	if (a && a->v.kind == DG_FV_ARG && !r->unknown_entry[me])
		return; /* its callers' names count */
	if (a && a->v.kind == DG_FV_CONST) {
		int other = 0;
		for (uint16_t i = 0; i < a->v.n; i++)
			other |= s->nums[a->v.first + i] != 0;
		if (!other)
			return; /* dlsym(h, NULL) finds nothing */
	}
	if (module) {
		r->out->dlsym_module = 1;
		return;
	}
	const char *suffix = sym_name_rule(r->set->objs[o].name);
	if (suffix) {
		sym_take_suffix(r, suffix);
		return;
	}
	sym_take(r, NULL);
}

/* The dlsym or dlvsym call C of object O makes itself (imported, or through the object's PLT
 * stub for it): the C argument that names the symbol, else -1. */
static int sym_call(struct r *r, size_t o, const struct dg_fcall *c)
{
	const struct dg_fsum *s = r->sums[o];
	const struct dg_elf *e = r->b->objs[o].elf;
	const char *callee = c->kind == DG_CALL_IMPORT ? (c->target < e->ndynsyms ? e->dynsyms[c->target].name : NULL)
	                     : c->kind == DG_CALL_LOCAL && (s->fns[c->target].flags & DG_FN_PLT) ? callee_name(r, o, c)
	                                                                                           : NULL;
	uint8_t kind;
	int an;
	return dg_exec_import(callee, &kind, &an) && kind == DG_EXK_SYM ? an : -1;
}

/* Whether a lookup's handle H is one a dlopen returned: not a constant (RTLD_DEFAULT,
 * RTLD_NEXT). The caller's (H is an entry register): what call CC of function CS passes there
 * (NULL: callers not known, as for a function reached through a pointer, so not a visible
 * constant either; one level only, deeper is taken as a constant). */
static int sym_handle_opened(const struct dg_fcallarg *h, const struct dg_fsum *cs, const struct dg_fcall *cc,
                             int callers_known)
{
	if (!h)
		return 1;
	if (h->v.kind == DG_FV_CONST)
		return 0;
	if (h->v.kind != DG_FV_ARG || !callers_known)
		return 1;
	if (!cs || !cc)
		return 0;
	const struct dg_fcallarg *ch = arg_of(cs, cc, h->v.reg);
	return !ch || (ch->v.kind != DG_FV_CONST && ch->v.kind != DG_FV_ARG);
}

/* Whether every lookup function NODE makes with a name its caller passes searches a handle
 * that is not a constant (so one dlopen returned), itself or through functions of its own. */
static int sym_module(struct r *r, size_t node, int depth, const struct dg_fsum *cs, const struct dg_fcall *cc)
{
	if (depth == 0 && cs) /* the answer depends on this call's handle: not memoised */
		r->symh[node] = 0;
	else if (r->symh[node] || depth > 8)
		return r->symh[node] == 1;
	r->symh[node] = 2; /* no, while in progress (a cycle) */
	size_t o = dg_bound_size(r->base, r->nobj, sizeof *r->base, 0, node, true) - 1;
	const struct dg_fsum *s = r->sums[o];
	const struct dg_fn *fn = &s->fns[node - r->base[o]];
	const struct dg_isa *isa = dg_isa_for(s->machine, s->bits);
	int any = 0, all = isa && isa->c_arg[0] >= 0;
	for (uint32_t k = 0; all && k < fn->ncalls; k++) {
		const struct dg_fcall *c = &s->calls[fn->first_call + k];
		int an = sym_call(r, o, c);
		if (an >= 0) {
			const struct dg_fcallarg *a = isa->c_arg[an] >= 0 ? arg_of(s, c, (uint8_t)isa->c_arg[an]) : NULL;
			const struct dg_fcallarg *h = arg_of(s, c, (uint8_t)isa->c_arg[0]);
			if (a && a->v.kind == DG_FV_ARG) {
				any = 1;
				all = sym_handle_opened(h, depth ? NULL : cs, cc, 1);
			}
			continue;
		}
		dg_argmask pm[DG_EXK_N];
		call_pm(r, o, fn->first_call + k, pm);
		for (uint8_t reg = 0; all && pm[DG_EXK_SYM] >> reg; reg++) {
			const struct dg_fcallarg *a = (pm[DG_EXK_SYM] >> reg) & 1 ? arg_of(s, c, reg) : NULL;
			if (!a || a->v.kind != DG_FV_ARG)
				continue;
			any = 1;
			size_t g = resolve(r, o, fn->first_call + k);
			for (size_t t = r->ct_off[g]; all && t < r->ct_off[g] + r->ct_cnt[g]; t++)
				all = sym_module(r, r->ct[t], depth + 1, NULL, NULL);
		}
	}
	int yes = any && all;
	r->symh[node] = depth == 0 && cs ? 0 : yes ? 1 : 2; /* a call's own answer is not kept */
	return yes;
}

/* Takes what reachable lookups can return; whether that took anything new. */
static int dlsyms(struct r *r)
{
	size_t before = r->nat;
	for (size_t o = 0; o < r->nobj && !r->sym_all; o++) {
		const struct dg_fsum *s = r->sums[o];
		const struct dg_elf *e = r->b->objs[o].elf;
		if (!s || !e)
			continue;
		const struct dg_isa *isa = dg_isa_for(s->machine, s->bits);
		uint8_t kind;
		int an;
		/* dlsym's own address taken outside libc: called with names not known */
		for (size_t i = 0; i < s->nimport_takes && !is_libc(r->set->objs[o].name); i++) {
			uint32_t y = s->import_takes[i];
			if (y < e->ndynsyms && dg_exec_import(e->dynsyms[y].name, &kind, &an) && kind == DG_EXK_SYM) {
				r->cur_node = SIZE_MAX, r->cur_obj = o;
				sym_take(r, NULL);
			}
		}
		for (uint32_t f = 0; f < s->nfns && !r->sym_all; f++) {
			if (!r->reach[r->base[o] + f])
				continue;
			const struct dg_fn *fn = &s->fns[f];
			for (uint32_t k = 0; k < fn->ncalls; k++) {
				const struct dg_fcall *c = &s->calls[fn->first_call + k];
				dg_argmask m;
				int module = 0;
				an = sym_call(r, o, c);
				if (an >= 0) {
					if (!isa || isa->c_arg[an] < 0) {
						r->cur_node = r->base[o] + f, r->cur_at = c->addr, r->cur_obj = o;
						sym_take(r, NULL);
						continue;
					}
					m = (dg_argmask)1u << isa->c_arg[an];
					const struct dg_fcallarg *h = isa->c_arg[0] >= 0 ? arg_of(s, c, (uint8_t)isa->c_arg[0]) : NULL;
					module = sym_handle_opened(h, NULL, NULL, !r->unknown_entry[r->base[o] + f]);
				} else {
					dg_argmask pm[DG_EXK_N];
					call_pm(r, o, fn->first_call + k, pm);
					m = pm[DG_EXK_SYM];
					if (m) { /* a function of the program's passing the name on to dlsym */
						size_t g = resolve(r, o, fn->first_call + k);
						module = r->ct_cnt[g] > 0;
						for (size_t t = r->ct_off[g]; module && t < r->ct_off[g] + r->ct_cnt[g]; t++)
							module = sym_module(r, r->ct[t], 0, s, c);
					}
				}
				for (uint8_t reg = 0; m >> reg; reg++)
					if ((m >> reg) & 1)
						sym_arg(r, o, f, c, reg, module);
			}
		}
	}
	return r->nat != before;
}

static void collect(struct r *r)
{
	for (size_t o = 0; o < r->nobj; o++) {
		const struct dg_fsum *s = r->sums[o];
		struct dg_reach_objstat *st = &r->out->objs[o];
		if (!s)
			continue;
		int i386_obj = s->bits == 32;
		st->fns = s->nfns;
		for (uint32_t f = 0; f < s->nfns; f++) {
			size_t me = r->base[o] + f;
			if (!r->reach[me])
				continue;
			st->reachable_fns++;
			const struct dg_fn *fn = &s->fns[f];
			for (uint32_t k = 0; k < fn->nsites; k++) {
				const struct dg_fsite *site = &s->sites[fn->first_site + k];
				st->sites++;
				if (site->v.kind == DG_FV_CONST) {
					st->resolved++;
					add_nums(r, o, &site->v, i386_obj ? DG_TAB_I386 : site->table);
				} else if (site->v.kind == DG_FV_ARG && !r->unknown_entry[me]) {
					st->resolved++; /* the callers' constants count */
				} else if (site->shape == DG_SITE_XIDCMD && is_glibc(r, o)) {
					st->resolved++; /* glibc's setxid broadcast: the setxid rule */
				} else {
					unknown(r, o, f, site->addr, 0);
				}
			}
			for (uint32_t k = 0; k < fn->ncalls; k++) {
				const struct dg_fcall *c = &s->calls[fn->first_call + k];
				exec_call(r, o, f, fn->first_call + k);
				dg_argmask m = call_wm(r, o, fn->first_call + k);
				for (uint8_t reg = 0; m && reg < DG_ARG_NREGS; reg++) {
					if (!(m & ((dg_argmask)1u << reg)))
						continue;
					st->sites++;
					const struct dg_fcallarg *a = arg_of(s, c, reg);
					unsigned nr;
					if (a && a->v.kind == DG_FV_CONST) {
						st->resolved++;
						add_nums(r, o, &a->v, i386_obj ? DG_TAB_I386 : DG_TAB_NATIVE);
					} else if (a && a->v.kind == DG_FV_ARG && !r->unknown_entry[me]) {
						st->resolved++;
					} else if ((nr = rule_nr(r, o, me, c, a)) != 0) {
						st->resolved++;
						set_bit(i386_obj ? r->out->i386 : r->out->native, nr);
						if (i386_obj)
							r->out->has_i386 = 1;
					} else {
						unknown(r, o, f, c->addr, 1);
					}
				}
			}
		}
		r->out->reachable_fns += st->reachable_fns;
		r->out->total_fns += st->fns;
	}
	/* an exec function's address taken (called through a pointer): what it runs is not known */
	for (size_t o = 0; o < r->nobj; o++) {
		const struct dg_fsum *s = r->sums[o];
		const struct dg_elf *e = r->b->objs[o].elf;
		if (!s || !e || is_libc(r->set->objs[o].name))
			continue;
		for (size_t i = 0; i < s->nimport_takes; i++) {
			uint8_t kind;
			int an;
			const char *nm = s->import_takes[i] < e->ndynsyms ? e->dynsyms[s->import_takes[i]].name : NULL;
			if (dg_exec_import(nm, &kind, &an) && kind != DG_EXK_SYM)
				exec_rec(r, o, DG_FSUM_NONE, 0, kind, NULL, nm);
		}
	}
	int any_exec = 0;
	for (size_t i = 0; i < r->out->nexecs; i++)
		any_exec |= r->out->execs[i].kind != DG_EXK_LIB;
	if (r->exec_nr_obj != SIZE_MAX && !any_exec)
		exec_rec(r, r->exec_nr_obj, DG_FSUM_NONE, 0, DG_EXK_PATH, NULL, "execve (system call)");
	for (size_t i = 0; i < r->out->nexecs; i++) {
		if (r->out->execs[i].kind == DG_EXK_LIB)
			r->out->calls_dlopen = 1;
		else
			r->out->calls_exec = 1;
	}
}

static size_t obj_of(const struct r *r, size_t node)
{
	return dg_bound_size(r->base, r->nobj, sizeof *r->base, 0, node, true) - 1; /* the last base <= node */
}

static size_t depth(const struct r *r, size_t node)
{
	size_t d = 0;
	while (node != SIZE_MAX && d <= r->n) {
		node = r->from[node];
		d++;
	}
	return d;
}

static int has_nr(const struct dg_fsum *s, const struct dg_fval *v, unsigned nr)
{
	if (v->kind != DG_FV_CONST)
		return 0;
	for (uint16_t i = 0; i < v->n; i++)
		if (s->nums[v->first + i] == nr)
			return 1;
	return 0;
}

/* The reachable site of the syscall nearest to a root, and the chain to it. */
static void explain(struct r *r, const struct dg_reach_opts *o)
{
	size_t best = SIZE_MAX, best_d = SIZE_MAX;
	uint64_t best_at = 0;
	uint8_t best_how = 0;
	for (size_t node = 0; node < r->n; node++) {
		if (!r->reach[node])
			continue;
		size_t ob = obj_of(r, node);
		const struct dg_fsum *s = r->sums[ob];
		const struct dg_fn *fn = &s->fns[node - r->base[ob]];
		uint64_t at = 0;
		uint8_t how = 0;
		for (uint32_t k = 0; k < fn->nsites && !how; k++) {
			const struct dg_fsite *st = &s->sites[fn->first_site + k];
			int i386 = s->bits == 32 || st->table == DG_TAB_I386;
			if (i386 == !!o->explain_i386 && has_nr(s, &st->v, o->explain_nr))
				at = st->addr, how = DG_STEP_SITE;
		}
		for (uint32_t k = 0; k < fn->ncalls && !how; k++) {
			const struct dg_fcall *c = &s->calls[fn->first_call + k];
			dg_argmask m = call_wm(r, ob, fn->first_call + k);
			for (uint8_t reg = 0; m && reg < DG_ARG_NREGS && !how; reg++) {
				const struct dg_fcallarg *a = (m & ((dg_argmask)1u << reg)) ? arg_of(s, c, reg) : NULL;
				if (a && (s->bits == 32) == !!o->explain_i386 && has_nr(s, &a->v, o->explain_nr))
					at = c->addr, how = DG_STEP_WRAPPER;
				else if ((m & ((dg_argmask)1u << reg)) && (s->bits == 32) == !!o->explain_i386 &&
					 rule_nr(r, ob, node, c, a) == o->explain_nr)
					at = c->addr, how = DG_STEP_WRAPPER;
			}
		}
		if (!how)
			continue;
		size_t d = depth(r, node);
		if (d < best_d) {
			best = node, best_d = d, best_at = at, best_how = how;
		}
	}
	if (best == SIZE_MAX)
		return;
	struct dg_reach *out = r->out;
	out->nsteps = best_d + 1;
	out->steps = dg_xcalloc(out->nsteps, sizeof *out->steps);
	size_t i = out->nsteps;
	struct dg_reach_step *last = &out->steps[--i];
	size_t ob = obj_of(r, best);
	*last = (struct dg_reach_step){.obj = ob, .fn = (uint32_t)(best - r->base[ob]), .at = best_at, .how = best_how};
	for (size_t node = best; node != SIZE_MAX && i > 0; node = r->from[node]) {
		struct dg_reach_step *st = &out->steps[--i];
		ob = obj_of(r, node);
		st->obj = ob;
		st->fn = (uint32_t)(node - r->base[ob]);
		st->how = r->how[node];
		st->at = r->from_at[node];
		if (st->how == DG_STEP_INDIRECT) {
			size_t tn = r->take_node[node];
			st->taken_in_code = tn != SIZE_MAX;
			st->taken_obj = tn != SIZE_MAX ? obj_of(r, tn) : r->take_obj[node];
			st->taken_fn = tn != SIZE_MAX ? (uint32_t)(tn - r->base[st->taken_obj]) : 0;
			if (tn == SIZE_MAX && r->take_dobj[node] != SIZE_MAX)
				st->held_by = held_chain(r, st->taken_obj, r->take_dobj[node]);
		}
	}
	for (size_t k = 0; k < out->nsteps; k++) {
		const struct dg_fn *fn = &r->sums[out->steps[k].obj]->fns[out->steps[k].fn];
		out->steps[k].fn_name = fn->name ? dg_xstrdup(fn->name) : NULL;
		out->steps[k].fn_addr = fn->addr;
		if (out->steps[k].taken_in_code) {
			const struct dg_fn *tf = &r->sums[out->steps[k].taken_obj]->fns[out->steps[k].taken_fn];
			out->steps[k].taken_name = tf->name ? dg_xstrdup(tf->name) : NULL;
			out->steps[k].taken_addr = tf->addr;
		}
	}
}

int dg_reach_compute(const struct dg_ldset *set, const struct dg_bindings *b, const struct dg_fsum *const *sums,
		     const struct dg_reach_opts *o, struct dg_reach **out, struct dg_error *err)
{
	(void)err;
	struct r r = {.set = set, .b = b, .sums = sums, .nobj = set->n};
	struct dg_reach *res = dg_xcalloc(1, sizeof *res);
	res->objs = dg_xcalloc(set->n ? set->n : 1, sizeof *res->objs);
	res->nobjs = set->n;
	r.out = res;
	r.base = dg_xcalloc(set->n + 1, sizeof *r.base);
	for (size_t i = 0; i < set->n; i++) {
		r.base[i] = r.n;
		if (sums[i]) {
			r.n += sums[i]->nfns;
			res->objs[i].error = sums[i]->error ? dg_xstrdup(sums[i]->error) : NULL;
		}
	}
	r.base[set->n] = r.n;
	r.dbase = dg_xcalloc(set->n + 1, sizeof *r.dbase);
	size_t nd = 0, maxd = 1;
	for (size_t i = 0; i < set->n; i++) {
		r.dbase[i] = nd;
		if (sums[i]) {
			nd += sums[i]->ndobjs;
			if (sums[i]->ndobjs > maxd)
				maxd = sums[i]->ndobjs;
		}
	}
	r.dlive = dg_xcalloc(nd ? nd : 1, 1);
	r.dstk = dg_xcalloc(maxd, sizeof *r.dstk);
	r.cur_dobj = SIZE_MAX;
	if (o->explain) {
		r.dref_node = dg_xcalloc(nd ? nd : 1, sizeof *r.dref_node);
		r.dref_parent = dg_xcalloc(nd ? nd : 1, sizeof *r.dref_parent);
		for (size_t i = 0; i < nd; i++)
			r.dref_node[i] = r.dref_parent[i] = SIZE_MAX;
	}
	r.held = o->precision == DG_PREC_HELD;
	size_t nn = r.n ? r.n : 1;
	r.reach = dg_xcalloc(nn, 1);
	r.unknown_entry = dg_xcalloc(nn, 1);
	r.at = dg_xcalloc(nn, 1);
	r.wm = dg_xcalloc(nn, sizeof *r.wm);
	r.pm = dg_xcalloc(nn, sizeof *r.pm);
	r.symh = dg_xcalloc(nn, 1);
	r.exec_nr_obj = SIZE_MAX;
	r.queue = dg_xcalloc(nn, sizeof *r.queue);
	r.explain = o->explain;
	r.ind_node = SIZE_MAX;
	if (r.explain) {
		r.from = dg_xcalloc(nn, sizeof *r.from);
		r.from_at = dg_xcalloc(nn, sizeof *r.from_at);
		r.how = dg_xcalloc(nn, 1);
		r.take_node = dg_xcalloc(nn, sizeof *r.take_node);
		r.take_obj = dg_xcalloc(nn, sizeof *r.take_obj);
		r.take_dobj = dg_xcalloc(nn, sizeof *r.take_dobj);
		for (size_t i = 0; i < nn; i++)
			r.take_dobj[i] = SIZE_MAX;
	}
	resolve_init(&r);
	wrappers(&r);

	/* roots */
	for (size_t i = 0; i < set->n; i++) {
		const struct dg_fsum *s = sums[i];
		if (!s)
			continue;
		at_root(&r, DG_STEP_OBJECT);
		if (o->precision == DG_PREC_OBJECT)
			for (size_t f = 0; f < s->nfns; f++)
				push(&r, r.base[i] + f, 1);
		at_root(&r, DG_STEP_ENTRY);
		int is_interp = set->objs[i].via && !strcmp(set->objs[i].via, "interp");
		if ((i == 0 || is_interp) && s->entry_fn != DG_FSUM_NONE &&
		    (o->roots == DG_ROOTS_PROGRAM || i != 0))
			push(&r, r.base[i] + s->entry_fn, 1);
		at_root(&r, DG_STEP_INIT);
		for (size_t k = 0; k < s->nroots; k++)
			push(&r, r.base[i] + s->roots[k], 1);
		r.cur_obj = i;
		for (size_t k = 0; k < s->ndata_takes; k++)
			take(&r, r.base[i] + s->data_takes[k]);
		for (uint32_t k = 0; r.held && k < s->ndobjs; k++)
			dlive(&r, i, k);
		for (size_t k = 0; k < s->nimport_takes; k++) {
			r.ntg = 0;
			land_sym(&r, i, s->import_takes[k], DG_BIND_ADDR);
			for (size_t t = 0; t < r.ntg; t++)
				take(&r, r.tg[t]);
		}
	}
	at_root(&r, DG_STEP_EXPORT);
	if (o->roots == DG_ROOTS_EXPORTS && set->n && sums[0] && b->objs[0].elf) {
		const struct dg_elf *e = b->objs[0].elf;
		for (size_t k = 0; k < e->ndynsyms; k++) {
			const struct dg_elf_sym *y = &e->dynsyms[k];
			if (!y->shndx || (y->type != STT_FUNC && y->type != STT_GNU_IFUNC) || y->bind == 0)
				continue;
			uint32_t f = dg_fsum_fn_start(sums[0], y->value);
			if (f == DG_FSUM_NONE)
				continue;
			r.ntg = 0;
			land(&r, 0, f, y->type == STT_GNU_IFUNC);
			for (size_t t = 0; t < r.ntg; t++)
				push(&r, r.tg[t], 1);
		}
	}
	/* Functions ld.so looks up by name and calls itself: the program's malloc family once
	 * libc is loaded (elf/dl-minimal.c, at libc's base version), and libc's
	 * __libc_early_init before any constructor (elf/dl-call-libc-early-init.c). */
	static const char *const ldso_calls[] = {"malloc", "calloc", "free", "realloc", "__libc_early_init"};
	at_root(&r, DG_STEP_LDSO);
	if (set->n && b->objs[0].elf) {
		const char *ver = dg_bind_libc_base_version(b->objs[0].elf->machine, b->objs[0].elf->bits);
		for (size_t k = 0; k < sizeof ldso_calls / sizeof *ldso_calls; k++) {
			struct dg_bind_to to;
			if (dg_bind_lookup(b, 0, ldso_calls[k], k < 4 ? ver : NULL, DG_BIND_CALL, &to) < 0 ||
			    to.obj >= set->n || !sums[to.obj])
				continue;
			const struct dg_elf_sym *d = dg_bind_def_sym(b, &to);
			uint32_t f = d ? dg_fsum_fn_start(sums[to.obj], d->value) : DG_FSUM_NONE;
			if (f == DG_FSUM_NONE)
				continue;
			r.ntg = 0;
			land(&r, to.obj, f, d->type == STT_GNU_IFUNC);
			for (size_t t = 0; t < r.ntg; t++)
				push(&r, r.tg[t], 0);
		}
	}

	/* the walk, then what reachable dlsym lookups can return, until neither adds anything */
	size_t qi = 0;
walk:
	for (; qi < r.nq; qi++) {
		size_t node = r.queue[qi];
		/* the object holding NODE: the last base <= node */
		size_t ob = dg_bound_size(r.base, set->n, sizeof *r.base, 0, node, true) - 1;
		const struct dg_fsum *s = sums[ob];
		const struct dg_fn *fn = &s->fns[node - r.base[ob]];
		for (uint32_t k = 0; k < fn->ncalls; k++) {
			size_t g = resolve(&r, ob, fn->first_call + k);
			r.cur_node = node;
			r.cur_at = s->calls[fn->first_call + k].addr;
			r.cur_how = DG_STEP_CALL;
			if (r.ct_state[g] == 2) {
				indirect(&r);
				continue;
			}
			for (size_t t = r.ct_off[g]; t < r.ct_off[g] + r.ct_cnt[g]; t++)
				push(&r, r.ct[t], 0);
		}
		r.cur_node = node;
		r.cur_at = fn->addr;
		if (!(fn->flags & DG_FN_RESOLVER))
			for (uint32_t k = 0; k < fn->ntakes; k++)
				take(&r, r.base[ob] + s->takes[fn->first_take + k]);
		if (s->ndobjs) {
			uint32_t f = (uint32_t)(node - r.base[ob]);
			for (uint32_t j = s->fn_doff[f]; j < s->fn_doff[f + 1]; j++)
				dlive(&r, ob, s->fn_dobjs[j]);
		}
	}
	if (dlsyms(&r))
		goto walk;
	res->any_indirect = r.any_indirect;
	collect(&r);
	if (r.explain)
		explain(&r, o);
	free(r.from);
	free(r.from_at);
	free(r.how);
	free(r.take_node);
	free(r.take_obj);
	free(r.base);
	free(r.dbase);
	free(r.take_dobj);
	free(r.dref_node);
	free(r.dref_parent);
	free(r.dlive);
	free(r.dstk);
	free(r.reach);
	free(r.unknown_entry);
	free(r.at);
	free(r.wm);
	free(r.pm);
	free(r.symh);
	free(r.queue);
	free(r.atlist);
	free(r.tg);
	free(r.callbase);
	free(r.ct_off);
	free(r.ct_cnt);
	free(r.ct);
	free(r.ct_state);
	*out = res;
	return 0;
}

void dg_reach_free(struct dg_reach *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nunknown; i++)
		free(r->unknown[i].fn_name);
	for (size_t i = 0; i < r->nobjs; i++)
		free(r->objs[i].error);
	for (size_t i = 0; i < r->nsteps; i++) {
		free(r->steps[i].fn_name);
		free(r->steps[i].taken_name);
		free(r->steps[i].held_by);
	}
	free(r->steps);
	for (size_t i = 0; i < r->nexecs; i++) {
		free(r->execs[i].arg);
		free(r->execs[i].callee);
		free(r->execs[i].fn_name);
	}
	free(r->execs);
	free(r->unknown);
	free(r->objs);
	free(r);
}

void dg_reach_encode(const struct dg_reach *r, const struct dg_strv *problems, unsigned char **out, size_t *len)
{
	struct dg_buf o = {0};
	dg_buf_append(&o, r->native, sizeof r->native);
	dg_buf_append(&o, r->i386, sizeof r->i386);
	dg_ser_u8(&o, (uint8_t)((r->has_i386 ? 1 : 0) | (r->any_indirect ? 2 : 0) | (r->calls_dlopen ? 4 : 0) |
				(r->calls_exec ? 8 : 0) | (r->dlsym_unknown ? 16 : 0) |
				(r->dlsym_module ? 32 : 0)));
	dg_ser_uv(&o, r->reachable_fns);
	dg_ser_uv(&o, r->total_fns);
	dg_ser_uv(&o, r->nobjs);
	for (size_t i = 0; i < r->nobjs; i++) {
		const struct dg_reach_objstat *st = &r->objs[i];
		dg_ser_uv(&o, st->fns);
		dg_ser_uv(&o, st->reachable_fns);
		dg_ser_uv(&o, st->sites);
		dg_ser_uv(&o, st->resolved);
		dg_ser_str(&o, st->error);
	}
	dg_ser_uv(&o, r->nunknown);
	for (size_t i = 0; i < r->nunknown; i++) {
		const struct dg_reach_unknown *u = &r->unknown[i];
		dg_ser_uv(&o, u->obj);
		dg_ser_uv(&o, u->fn);
		dg_ser_uv(&o, u->addr);
		dg_ser_u8(&o, u->wrapper_call);
		dg_ser_str(&o, u->fn_name);
	}
	dg_ser_u8(&o, (uint8_t)r->execs_truncated);
	dg_ser_uv(&o, r->nexecs);
	for (size_t i = 0; i < r->nexecs; i++) {
		const struct dg_reach_exec *x = &r->execs[i];
		dg_ser_u8(&o, x->kind);
		dg_ser_str(&o, x->arg);
		dg_ser_str(&o, x->callee);
		dg_ser_uv(&o, x->obj);
		dg_ser_uv(&o, x->addr);
		dg_ser_str(&o, x->fn_name);
	}
	dg_ser_uv(&o, problems->n);
	for (size_t i = 0; i < problems->n; i++)
		dg_ser_str(&o, problems->v[i]);
	*len = o.len;
	*out = (unsigned char *)dg_buf_steal(&o);
}

int dg_reach_decode(const unsigned char *p, size_t n, size_t nobjs, struct dg_reach **out, struct dg_strv *problems,
		    struct dg_error *err)
{
	struct dg_de d = {.p = p, .n = n};
	struct dg_reach *r = dg_xcalloc(1, sizeof *r);
	struct dg_strv pr = {0};
	if (n < sizeof r->native + sizeof r->i386) {
		d.bad = 1;
	} else {
		memcpy(r->native, p, sizeof r->native);
		memcpy(r->i386, p + sizeof r->native, sizeof r->i386);
		d.pos = sizeof r->native + sizeof r->i386;
	}
	uint8_t fl = dg_de_u8(&d);
	r->has_i386 = fl & 1;
	r->any_indirect = (fl >> 1) & 1;
	r->calls_dlopen = (fl >> 2) & 1;
	r->calls_exec = (fl >> 3) & 1;
	r->dlsym_unknown = (fl >> 4) & 1;
	r->dlsym_module = (fl >> 5) & 1;
	r->reachable_fns = dg_de_uv(&d);
	r->total_fns = dg_de_uv(&d);
	uint64_t no = dg_de_uv(&d);
	if (fl > 63 || no != nobjs)
		d.bad = 1;
	if (!d.bad) {
		r->objs = dg_xcalloc(nobjs ? nobjs : 1, sizeof *r->objs);
		r->nobjs = nobjs;
	}
	for (size_t i = 0; i < r->nobjs && !d.bad; i++) {
		struct dg_reach_objstat *st = &r->objs[i];
		st->fns = dg_de_uv(&d);
		st->reachable_fns = dg_de_uv(&d);
		st->sites = dg_de_uv(&d);
		st->resolved = dg_de_uv(&d);
		st->error = dg_de_str(&d, 4096);
		if (st->reachable_fns > st->fns || st->resolved > st->sites)
			d.bad = 1;
	}
	uint64_t nu = dg_de_uv(&d);
	if (!d.bad && nu > d.n - d.pos)
		d.bad = 1;
	if (!d.bad && nu)
		r->unknown = dg_xcalloc((size_t)nu, sizeof *r->unknown);
	for (size_t i = 0; i < nu && !d.bad; i++) {
		struct dg_reach_unknown *u = &r->unknown[i];
		uint64_t ob = dg_de_uv(&d), fn = dg_de_uv(&d);
		u->addr = dg_de_uv(&d);
		u->wrapper_call = dg_de_u8(&d);
		u->fn_name = dg_de_str(&d, 4096);
		r->nunknown = i + 1;
		if (ob >= nobjs || fn > UINT32_MAX || u->wrapper_call > 1)
			d.bad = 1;
		u->obj = (size_t)ob;
		u->fn = (uint32_t)fn;
	}
	uint8_t tr = dg_de_u8(&d);
	uint64_t nx = dg_de_uv(&d);
	if (tr > 1 || nx > MAX_EXECS)
		d.bad = 1;
	r->execs_truncated = tr;
	if (!d.bad && nx)
		r->execs = dg_xcalloc((size_t)nx, sizeof *r->execs);
	for (size_t i = 0; i < nx && !d.bad; i++) {
		struct dg_reach_exec *x = &r->execs[i];
		x->kind = dg_de_u8(&d);
		x->arg = dg_de_str(&d, 4096);
		x->callee = dg_de_str(&d, 4096);
		uint64_t ob = dg_de_uv(&d);
		x->addr = dg_de_uv(&d);
		x->fn_name = dg_de_str(&d, 4096);
		r->nexecs = i + 1;
		if (x->kind >= DG_EXK_SYM || !x->callee || ob >= nobjs)
			d.bad = 1;
		x->obj = (size_t)ob;
	}
	uint64_t np = dg_de_uv(&d);
	if (!d.bad && np > d.n - d.pos)
		d.bad = 1;
	for (size_t i = 0; i < np && !d.bad; i++) {
		char *s = dg_de_str(&d, 1u << 16);
		if (!s) {
			d.bad = 1;
			break;
		}
		dg_strv_push(&pr, s);
		free(s);
	}
	if (d.bad || d.pos != d.n) {
		dg_reach_free(r);
		dg_strv_free(&pr);
		return dg_err(err, DG_E_INTERNAL, "malformed reachability record");
	}
	for (size_t i = 0; i < pr.n; i++)
		dg_strv_push(problems, pr.v[i]);
	dg_strv_free(&pr);
	*out = r;
	return 0;
}
