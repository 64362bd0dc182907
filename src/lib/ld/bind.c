/* glibc's symbol binding (elf/dl-lookup.c: do_lookup_x, check_match,
 * _dl_lookup_symbol_x; elf/dl-version.c for l_versions) applied to a load set.
 *
 * Every object's names are found through its own DT_GNU_HASH (or, without
 * one, DT_HASH) table exactly as ld.so walks it: a symbol the table does not
 * reach cannot be bound to (linkers leave most undefined symbols out of
 * .gnu.hash, but keep a non-PIC executable's canonical PLT entries in it).
 * The reachable symbols of all objects go into one name-keyed hash table whose
 * entries list the candidates in scope order, so a lookup is one probe plus a
 * walk over the few objects that define that name.
 *
 * What ld.so reads from each file (the dynamic entries it uses, the hash
 * tables, l_versions, each symbol's versym) comes from the ELF model
 * (dockergate/elf.h), which reads and bounds-checks it. This file never
 * touches an object's bytes directly: even the hash table words it walks come
 * through the model's checked dg_elf_gnu_* and dg_elf_sysv_* accessors.
 *
 * Lookups driven by relocations run in the loader's order (objects from last
 * to first, relocations in file order) because the STB_GNU_UNIQUE table
 * remembers the first definition it hands out. */
#include <stdlib.h>
#include <string.h>

#include "dockergate/bind.h"
#include "dockergate/util.h"

#define SHN_UNDEF 0
#define SHN_ABS 0xfff1
#define STB_LOCAL 0
#define STB_GLOBAL 1
#define STB_WEAK 2
#define STB_GNU_UNIQUE 10
#define STT_TLS 6
#define STV_INTERNAL 1
#define STV_HIDDEN 2
#define STV_PROTECTED 3
#define ALLOWED_STT ((1u << 0) | (1u << 1) | (1u << 2) | (1u << 5) | (1u << 6) | (1u << 10))
#define NONE32 UINT32_MAX

struct bobj {
	const struct dg_elf *e;
	int present;
	int versym_ok; /* ld.so's l_versyms: a version table and DT_VERSYM's entries (e->versions) */
};

struct cand {
	uint32_t obj, sym, next;
};

struct slot {
	const char *name;
	uint32_t h, head, tail; /* head: first candidate (NONE32 if none) */
	uint8_t uniq_set;
	uint32_t uniq_obj, uniq_sym;
};

struct want {
	const char *name;
	uint32_t h;
	const struct dg_elf_version *ver; /* NULL: unversioned */
};

struct dg_bind_index { /* kept in the bindings for dg_bind_lookup */
	struct dg_bindings *b;
	struct bobj *o;
	struct slot *slots;
	size_t nslots, used; /* power of two */
	struct cand *cands;
	size_t ncands, capcands;
};

static uint32_t gnu_hash(const char *s)
{
	uint32_t h = 5381;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		h = h * 33 + *p;
	return h;
}

static uint32_t sysv_hash(const char *s)
{
	uint32_t h = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		h = (h << 4) + *p;
		uint32_t g = h & 0xf0000000u;
		h ^= g >> 24;
		h &= ~g;
	}
	return h;
}

/* ---- the name table ---- */

static struct slot *slot_for(struct dg_bind_index *c, const char *name, uint32_t h, int create)
{
	if (create && (c->used + 1) * 2 > c->nslots) {
		size_t nn = c->nslots ? c->nslots * 2 : 1024;
		struct slot *ns = dg_xcalloc(nn, sizeof *ns);
		for (size_t i = 0; i < c->nslots; i++) {
			if (!c->slots[i].name)
				continue;
			size_t k = c->slots[i].h & (nn - 1);
			while (ns[k].name)
				k = (k + 1) & (nn - 1);
			ns[k] = c->slots[i];
		}
		free(c->slots);
		c->slots = ns;
		c->nslots = nn;
	}
	if (!c->nslots)
		return NULL;
	size_t k = h & (c->nslots - 1);
	while (c->slots[k].name) {
		if (c->slots[k].h == h && !strcmp(c->slots[k].name, name))
			return &c->slots[k];
		k = (k + 1) & (c->nslots - 1);
	}
	if (!create)
		return NULL;
	struct slot *s = &c->slots[k];
	s->name = name;
	s->h = h;
	s->head = s->tail = NONE32;
	c->used++;
	return s;
}

static void add_cand(struct dg_bind_index *c, uint32_t obj, uint32_t sym)
{
	const char *name = c->o[obj].e->dynsyms[sym].name;
	if (!*name)
		return;
	struct slot *s = slot_for(c, name, gnu_hash(name), 1);
	if (c->ncands == c->capcands) {
		c->capcands = c->capcands ? c->capcands * 2 : 4096;
		c->cands = dg_xreallocarray(c->cands, c->capcands, sizeof *c->cands);
	}
	uint32_t k = (uint32_t)c->ncands++;
	c->cands[k] = (struct cand){obj, sym, NONE32};
	if (s->tail == NONE32)
		s->head = k;
	else
		c->cands[s->tail].next = k;
	s->tail = k;
}

/* Symbols reachable through DT_GNU_HASH, in chain order (ascending index). The
 * table's words are read through the ELF model's checked accessors. */
static int index_gnu(struct dg_bind_index *c, uint32_t oi)
{
	const struct dg_elf *e = c->o[oi].e;
	const struct dg_elf_gnu_hash *g = &e->gnu_hash;
	if (!g->valid)
		return -1; /* l_nbuckets == 0 (ld.so skips the object), or a table outside the file */
	uint32_t nbuckets = g->nbuckets, symoffset = g->symoffset, nwords = g->nbloom, shift = g->shift;
	uint64_t C = (uint64_t)e->bits;
	size_t n = e->ndynsyms;
	if (symoffset >= n)
		return 0;
	/* next_end[i - symoffset]: first index >= i whose chain word ends a chain */
	size_t m = n - symoffset;
	uint32_t *next_end = dg_xcalloc(m + 1, sizeof *next_end);
	next_end[m] = UINT32_MAX;
	for (size_t k = m; k-- > 0;) {
		uint32_t word;
		int end = dg_elf_gnu_chain(e, (uint32_t)(symoffset + k), &word) < 0 || (word & 1);
		next_end[k] = end ? (uint32_t)(symoffset + k) : next_end[k + 1];
	}
	for (size_t i = symoffset; i < n; i++) {
		const char *name = e->dynsyms[i].name;
		if (!*name)
			continue;
		uint32_t h = gnu_hash(name);
		uint64_t word = dg_elf_gnu_bloom(e, (uint32_t)((h / C) & (nwords - 1)));
		uint64_t hb = (uint64_t)h;
		unsigned b1 = (unsigned)(hb % C), b2 = (unsigned)((shift < 64 ? hb >> shift : 0) % C);
		if (!((word >> b1) & (word >> b2) & 1))
			continue;
		uint32_t start = dg_elf_gnu_bucket(e, h % nbuckets);
		if (start == 0 || start < symoffset || start > i || next_end[start - symoffset] < i)
			continue;
		uint32_t cw;
		if (dg_elf_gnu_chain(e, (uint32_t)i, &cw) < 0 || ((cw ^ h) >> 1) != 0)
			continue;
		add_cand(c, oi, (uint32_t)i);
	}
	free(next_end);
	return 0;
}

/* Symbols reachable through DT_HASH, in the order the chains are walked. */
static int index_sysv(struct dg_bind_index *c, uint32_t oi, struct dg_bind_obj *bo)
{
	const struct dg_elf *e = c->o[oi].e;
	const struct dg_elf_sysv_hash *sh = &e->sysv_hash;
	if (!sh->valid)
		return -1;
	uint32_t nbucket = sh->nbucket, nchain = sh->nchain;
	size_t n = e->ndynsyms;
	uint32_t *stamp = dg_xcalloc(nchain ? nchain : 1, sizeof *stamp);
	uint32_t *hmod = dg_xcalloc(n ? n : 1, sizeof *hmod);
	for (size_t i = 0; i < n; i++)
		hmod[i] = sysv_hash(e->dynsyms[i].name) % nbucket;
	/* a hostile table can merge chains; cap the walk (ld.so would loop) */
	uint64_t budget = 8ull * ((uint64_t)nchain + nbucket) + 4096;
	for (uint32_t b = 0; b < nbucket && budget; b++) {
		uint32_t idx = dg_elf_sysv_bucket(e, b);
		while (idx != 0 && idx < nchain && stamp[idx] != b + 1 && budget) {
			budget--;
			stamp[idx] = b + 1;
			if (idx < n && hmod[idx] == b)
				add_cand(c, oi, idx);
			idx = dg_elf_sysv_chain(e, idx);
		}
	}
	if (!budget)
		bo->no_hash = 2; /* truncated */
	free(stamp);
	free(hmod);
	return 0;
}

/* ---- lookup ---- */

enum { NO = 0, MATCH = 1 };

static int check_match(const struct dg_bind_index *c, uint32_t oi, uint32_t si, const struct want *w, int tc,
		       int *num_versions, uint32_t *versioned)
{
	const struct bobj *bo = &c->o[oi];
	const struct dg_elf_sym *s = &bo->e->dynsyms[si];
	if ((s->value == 0 && s->shndx != SHN_ABS && s->type != STT_TLS) || ((tc & DG_BIND_CALL) && s->shndx == SHN_UNDEF))
		return NO;
	if (!((1u << s->type) & ALLOWED_STT))
		return NO;
	if (!bo->versym_ok)
		return MATCH;
	uint16_t vs = s->versym;
	uint32_t ndx = vs & 0x7fffu;
	if (w->ver) {
		static const struct dg_elf_version none = {0};
		const struct dg_elf_version *d = ndx < bo->e->nversions ? &bo->e->versions[ndx] : &none;
		int same = d->hash == w->ver->hash && d->name && !strcmp(d->name, w->ver->name);
		if (!same && (w->ver->hidden || d->hash || (vs & 0x8000)))
			return NO;
		return MATCH;
	}
	if (ndx >= 3) {
		if (!(vs & 0x8000) && (*num_versions)++ == 0)
			*versioned = si;
		return NO;
	}
	return MATCH;
}

struct res {
	uint32_t obj, sym;
};

/* do_lookup_x over the candidates of one object (a run of the list). Returns
 * 1 with *r set when the object provides the definition; *k moves past the run. */
static int lookup_obj(struct dg_bind_index *c, struct slot *sl, uint32_t *k, const struct want *w, int tc,
		      uint32_t undef_obj, uint32_t ref_sym, int readonly, struct res *r)
{
	uint32_t oi = c->cands[*k].obj;
	int num_versions = 0;
	uint32_t versioned = NONE32, found = NONE32;
	for (; *k != NONE32 && c->cands[*k].obj == oi; *k = c->cands[*k].next)
		if (found == NONE32 && check_match(c, oi, c->cands[*k].sym, w, tc, &num_versions, &versioned) == MATCH)
			found = c->cands[*k].sym;
	if (found == NONE32 && num_versions == 1)
		found = versioned;
	if (found == NONE32)
		return 0;
	const struct dg_elf_sym *s = &c->o[oi].e->dynsyms[found];
	if (s->vis == STV_HIDDEN || s->vis == STV_INTERNAL)
		return 0;
	switch (s->bind) {
	case STB_WEAK: /* LD_DYNAMIC_WEAK is not emulated: weak is taken like global */
	case STB_GLOBAL:
		*r = (struct res){oi, found};
		return 1;
	case STB_GNU_UNIQUE:
		if (sl->uniq_set) {
			*r = (tc & DG_BIND_COPY) ? (struct res){oi, found} : (struct res){sl->uniq_obj, sl->uniq_sym};
			return 1;
		}
		if (!readonly) {
			sl->uniq_set = 1;
			sl->uniq_obj = (tc & DG_BIND_COPY) ? undef_obj : oi;
			sl->uniq_sym = (tc & DG_BIND_COPY) ? ref_sym : found;
		}
		*r = (struct res){oi, found};
		return 1;
	}
	return 0;
}

/* The scope of UNDEF_OBJ: itself first when DT_SYMBOLIC, then the global scope. */
static int do_lookup(struct dg_bind_index *c, const struct want *w, int tc, uint32_t undef_obj, uint32_t ref_sym,
		     int readonly, struct res *r)
{
	struct slot *sl = slot_for(c, w->name, w->h, 0);
	if (!sl || sl->head == NONE32)
		return 0;
	if (c->b->objs[undef_obj].symbolic) {
		for (uint32_t k = sl->head; k != NONE32;) {
			if (c->cands[k].obj != undef_obj) {
				k = c->cands[k].next;
				continue;
			}
			if (lookup_obj(c, sl, &k, w, tc, undef_obj, ref_sym, readonly, r))
				return 1;
			break;
		}
	}
	for (uint32_t k = sl->head; k != NONE32;) {
		if ((tc & DG_BIND_COPY) && c->cands[k].obj == 0) { /* copy relocations skip the executable */
			k = c->cands[k].next;
			continue;
		}
		if (lookup_obj(c, sl, &k, w, tc, undef_obj, ref_sym, readonly, r))
			return 1;
	}
	return 0;
}

/* _dl_lookup_symbol_x for one reference and class, with the protected rule. */
static void bind_one(struct dg_bind_index *c, uint32_t oi, struct dg_bind_ref *ref, const struct dg_elf_version *ver, int tc,
		     int readonly)
{
	struct want w = {ref->name, gnu_hash(ref->name), ver};
	struct dg_bind_to *t = &ref->to[tc];
	struct res r;
	t->computed = 1;
	t->obj = DG_BIND_NONE;
	if (!do_lookup(c, &w, tc, oi, ref->sym, readonly, &r))
		return;
	const struct dg_elf_sym *rs = &c->o[oi].e->dynsyms[ref->sym];
	if (rs->vis == STV_PROTECTED) {
		t->prot = 1;
		if (tc == DG_BIND_CALL) {
			if (r.obj != oi)
				r = (struct res){oi, ref->sym};
		} else {
			struct res pr;
			if (do_lookup(c, &w, DG_BIND_CALL, oi, ref->sym, readonly, &pr) && pr.obj != oi)
				r = (struct res){oi, ref->sym};
		}
	}
	t->obj = r.obj;
	t->sym = r.sym;
}

/* The relocation class glibc's elf_machine_type_class gives TYPE, or -1 when
 * the relocation is applied without a symbol lookup. */
static int reloc_class(uint16_t machine, const struct dg_elf_reloc *r)
{
	uint32_t t = r->type;
	switch (machine) {
	case 62: /* x86-64 */
		if (t == 0 || t == 8 || t == 38) /* NONE, RELATIVE, RELATIVE64 */
			return -1;
		if (t == 7 || t == 16 || t == 17 || t == 18 || t == 36)
			return DG_BIND_CALL; /* JUMP_SLOT, DTPMOD64, DTPOFF64, TPOFF64, TLSDESC */
		return t == 5 ? DG_BIND_COPY : DG_BIND_ADDR;
	case 3: /* i386 */
		if (t == 0 || t == 8)
			return -1;
		if (t == 7 || t == 35 || t == 36 || t == 37 || t == 14 || t == 41)
			return DG_BIND_CALL;
		return t == 5 ? DG_BIND_COPY : DG_BIND_ADDR;
	case 183: /* aarch64 */
		if (t == 0 || t == 256 || t == 1027)
			return -1;
		if (t == 1026 || t == 1028 || t == 1029 || t == 1030 || t == 1031)
			return DG_BIND_CALL;
		return t == 1024 ? DG_BIND_COPY : DG_BIND_ADDR;
	}
	if (t == 0 || r->kind == DG_REL_RELATIVE)
		return -1;
	return r->kind == DG_REL_JUMP_SLOT ? DG_BIND_CALL : DG_BIND_ADDR;
}

struct refv {
	struct dg_bind_ref *v;
	size_t n, cap;
};

static struct dg_bind_ref *ref_get(struct dg_bind_index *c, uint32_t oi, struct refv *rv, uint32_t sym)
{
	struct dg_bind_obj *bo = &c->b->objs[oi];
	if (bo->ref_of[sym] != NONE32)
		return &rv->v[bo->ref_of[sym]];
	if (rv->n == rv->cap) {
		rv->cap = rv->cap ? rv->cap * 2 : 64;
		rv->v = dg_xreallocarray(rv->v, rv->cap, sizeof *rv->v);
	}
	const struct dg_elf_sym *s = &bo->elf->dynsyms[sym];
	struct dg_bind_ref *r = &rv->v[rv->n];
	memset(r, 0, sizeof *r);
	r->name = s->name;
	r->sym = sym;
	r->weak = s->bind == STB_WEAK;
	r->undef = s->shndx == SHN_UNDEF;
	for (int k = 0; k < DG_BIND_NCLASSES; k++)
		r->to[k].obj = DG_BIND_NONE;
	bo->ref_of[sym] = (uint32_t)rv->n;
	return &rv->v[rv->n++];
}

/* The version a reference of OI at SYM asks for (RESOLVE_MAP: l_versions[ndx]
 * when its hash is non-zero). */
static const struct dg_elf_version *ref_version(const struct bobj *bo, uint32_t sym)
{
	if (!bo->versym_ok)
		return NULL;
	const struct dg_elf *e = bo->e;
	uint32_t ndx = e->dynsyms[sym].versym & 0x7fffu;
	if (ndx >= e->nversions || !e->versions[ndx].hash || !e->versions[ndx].name)
		return NULL;
	return &e->versions[ndx];
}

static int cmp_ref(const void *a, const void *b)
{
	uint32_t x = ((const struct dg_bind_ref *)a)->sym, y = ((const struct dg_bind_ref *)b)->sym;
	return (x > y) - (x < y);
}

static void index_free(struct dg_bind_index *c)
{
	if (!c)
		return;
	free(c->o);
	free(c->slots);
	free(c->cands);
	free(c);
}

void dg_bindings_free(struct dg_bindings *b)
{
	if (!b)
		return;
	index_free(b->index);
	for (size_t i = 0; i < b->n; i++) {
		if (!b->objs[i].elf_borrowed)
			dg_elf_free(b->objs[i].elf);
		free(b->objs[i].refs);
		free(b->objs[i].ref_of);
	}
	free(b->objs);
	free(b);
}

static int bind_impl(struct dg_fs *fs, struct dg_objdb *db, const struct dg_ldset *set, struct dg_bindings **out,
		     struct dg_error *err);

int dg_bind(struct dg_fs *fs, const struct dg_ldset *set, struct dg_bindings **out, struct dg_error *err)
{
	return bind_impl(fs, NULL, set, out, err);
}

int dg_bind_db(struct dg_objdb *db, const struct dg_ldset *set, struct dg_bindings **out, struct dg_error *err)
{
	return bind_impl(dg_objdb_fs(db), db, set, out, err);
}

static int bind_impl(struct dg_fs *fs, struct dg_objdb *db, const struct dg_ldset *set, struct dg_bindings **out,
		     struct dg_error *err)
{
	if (set->n > UINT32_MAX - 1)
		return dg_err(err, DG_E_LIMIT, "bind: too many objects");
	struct dg_bindings *b = dg_xcalloc(1, sizeof *b);
	struct dg_bind_index *ix = b->index = dg_xcalloc(1, sizeof *ix);
	ix->b = b;
	b->n = set->n;
	b->objs = dg_xcalloc(set->n ? set->n : 1, sizeof *b->objs);
	ix->o = dg_xcalloc(set->n ? set->n : 1, sizeof *ix->o);
	struct refv *rv = dg_xcalloc(set->n ? set->n : 1, sizeof *rv);
	int rc = -1;
	for (size_t i = 0; i < set->n; i++) {
		const struct dg_ldobj *lo = &set->objs[i];
		struct dg_bind_obj *bo = &b->objs[i];
		if (!lo->node)
			continue; /* a missing library: ld.so's trace mode fakes it, with no symbols */
		const unsigned char *p;
		size_t len;
		/* libraries are shared by many programs: their models are kept by the store */
		if (db && i != 0 && lo->dyn && lo->dyn->role != DG_ROLE_EXECUTABLE) {
			bo->elf = dg_objdb_elf(db, lo->node, err);
			bo->elf_borrowed = 1;
			if (!bo->elf) {
				dg_err_prefix(err, "%s", lo->path ? lo->path : lo->name);
				goto out;
			}
		} else if (dg_fs_content(fs, lo->node, &p, &len, err) < 0 || dg_elf_parse(p, len, &bo->elf, err) < 0) {
			dg_err_prefix(err, "%s", lo->path ? lo->path : lo->name);
			goto out;
		}
		struct bobj *o = &ix->o[i];
		o->e = bo->elf;
		o->present = 1;
		bo->symbolic = (uint8_t)(i != 0 && bo->elf->symbolic); /* not for the main program */
		bo->nsyms = bo->elf->ndynsyms;
		bo->ref_of = dg_xmalloc((bo->nsyms ? bo->nsyms : 1) * sizeof *bo->ref_of);
		memset(bo->ref_of, 0xff, (bo->nsyms ? bo->nsyms : 1) * sizeof *bo->ref_of);
		o->versym_ok = bo->elf->has_versyms && bo->elf->nversions;
		int hr = -1; /* DT_GNU_HASH when present (even unusable), else DT_HASH */
		if (bo->elf->dyn.has_gnu_hash)
			hr = index_gnu(ix, (uint32_t)i);
		else if (bo->elf->dyn.has_hash)
			hr = index_sysv(ix, (uint32_t)i, bo);
		if (hr < 0)
			bo->no_hash = 1;
	}
	/* relocation-driven lookups, in the order ld.so relocates */
	for (size_t i = set->n; i-- > 0;) {
		struct dg_bind_obj *bo = &b->objs[i];
		if (!bo->elf)
			continue;
		const struct dg_elf *e = bo->elf;
		for (size_t k = 0; k < e->nrelocs; k++) {
			const struct dg_elf_reloc *r = &e->relocs[k];
			int tc = reloc_class(e->machine, r);
			if (tc < 0 || r->sym == 0 || r->sym >= e->ndynsyms)
				continue;
			const struct dg_elf_sym *s = &e->dynsyms[r->sym];
			if (s->bind == STB_LOCAL || s->vis == STV_HIDDEN || s->vis == STV_INTERNAL)
				continue; /* bound to itself without a lookup */
			struct dg_bind_ref *ref = ref_get(ix, (uint32_t)i, &rv[i], r->sym);
			ref->classes |= (uint8_t)(1u << tc);
			if (!ref->to[tc].computed)
				bind_one(ix, (uint32_t)i, ref, ref_version(&ix->o[i], r->sym), tc, 0);
		}
	}
	/* every undefined symbol, and the classes relocations did not ask for */
	for (size_t i = 0; i < set->n; i++) {
		struct dg_bind_obj *bo = &b->objs[i];
		if (!bo->elf)
			continue;
		const struct dg_elf *e = bo->elf;
		for (size_t s = 1; s < e->ndynsyms; s++) {
			const struct dg_elf_sym *y = &e->dynsyms[s];
			if (y->shndx == SHN_UNDEF && *y->name && y->bind != STB_LOCAL && y->vis != STV_HIDDEN &&
			    y->vis != STV_INTERNAL)
				ref_get(ix, (uint32_t)i, &rv[i], (uint32_t)s);
		}
		for (size_t k = 0; k < rv[i].n; k++) {
			struct dg_bind_ref *ref = &rv[i].v[k];
			const struct dg_elf_version *ver = ref_version(&ix->o[i], ref->sym);
			ref->version = ver ? ver->name : NULL;
			for (int tc = DG_BIND_ADDR; tc <= DG_BIND_CALL; tc++)
				if (!ref->to[tc].computed)
					bind_one(ix, (uint32_t)i, ref, ver, tc, 1);
			uint8_t need = ref->classes ? ref->classes : (uint8_t)(1u << DG_BIND_CALL);
			for (int tc = 0; tc < DG_BIND_NCLASSES; tc++)
				if ((need & (1u << tc)) && ref->to[tc].obj == DG_BIND_NONE)
					ref->unresolved = 1;
			if (ref->unresolved) {
				if (ref->weak)
					b->unresolved_weak++;
				else
					b->unresolved++;
			}
		}
		if (rv[i].n)
			qsort(rv[i].v, rv[i].n, sizeof *rv[i].v, cmp_ref);
		for (size_t k = 0; k < rv[i].n; k++)
			bo->ref_of[rv[i].v[k].sym] = (uint32_t)k;
		bo->refs = rv[i].v;
		bo->nrefs = rv[i].n;
		b->nrefs += rv[i].n;
		rv[i].v = NULL;
	}
	*out = b;
	b = NULL;
	rc = 0;
out:
	for (size_t i = 0; i < set->n; i++)
		free(rv[i].v);
	free(rv);
	dg_bindings_free(b);
	return rc;
}

const struct dg_bind_ref *dg_bind_find(const struct dg_bindings *b, size_t obj, uint32_t sym)
{
	if (!b || obj >= b->n)
		return NULL;
	const struct dg_bind_obj *bo = &b->objs[obj];
	if (!bo->ref_of || sym >= bo->nsyms || bo->ref_of[sym] == NONE32)
		return NULL;
	return &bo->refs[bo->ref_of[sym]];
}

const struct dg_bind_to *dg_bind_target(const struct dg_bind_ref *r)
{
	if (r->classes & (1u << DG_BIND_COPY))
		return &r->to[DG_BIND_COPY];
	if (r->to[DG_BIND_CALL].obj != DG_BIND_NONE || r->to[DG_BIND_ADDR].obj == DG_BIND_NONE)
		return &r->to[DG_BIND_CALL];
	return &r->to[DG_BIND_ADDR];
}

const struct dg_elf_sym *dg_bind_def_sym(const struct dg_bindings *b, const struct dg_bind_to *t)
{
	if (!b || !t || t->obj == DG_BIND_NONE || t->obj >= b->n || !b->objs[t->obj].elf ||
	    t->sym >= b->objs[t->obj].elf->ndynsyms)
		return NULL;
	return &b->objs[t->obj].elf->dynsyms[t->sym];
}

int dg_bind_lookup(const struct dg_bindings *b, size_t from, const char *name, const char *version,
		   enum dg_bind_class cls, struct dg_bind_to *out)
{
	out->obj = DG_BIND_NONE;
	out->sym = 0;
	out->computed = 1;
	out->prot = 0;
	if (!b || !b->index || from >= b->n || !b->objs[from].elf || !name || (unsigned)cls >= DG_BIND_NCLASSES)
		return -1;
	struct dg_elf_version v = {.name = version, .hash = version ? sysv_hash(version) : 0};
	struct want w = {name, gnu_hash(name), version ? &v : NULL};
	struct res r;
	if (!do_lookup(b->index, &w, (int)cls, (uint32_t)from, NONE32, 1, &r))
		return -1;
	out->obj = r.obj;
	out->sym = r.sym;
	return 0;
}

const char *dg_bind_libc_base_version(uint16_t machine, int bits)
{
	switch (machine) {
	case 62: return bits == 64 ? "GLIBC_2.2.5" : "GLIBC_2.16"; /* x86-64, x32 */
	case 183: return "GLIBC_2.17";                             /* aarch64 */
	case 3: return "GLIBC_2.0";                                /* i386 */
	}
	return NULL;
}
