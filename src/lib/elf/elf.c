/* Strict ELF reader. Nothing in the file is trusted: every table is checked
 * against the file size before it is read, and a file that lies is refused
 * with a message naming the table, not half-read. */
#include <stdlib.h>
#include <string.h>

#include "dockergate/elf.h"
#include "dockergate/limits.h"
#include "dockergate/util.h"

#define PT_LOAD 1
#define PT_DYNAMIC 2
#define PT_INTERP 3
#define PT_NOTE 4
#define PT_GNU_EH_FRAME 0x6474e550
#define SHT_SYMTAB 2
#define SHT_STRTAB 3
#define SHT_NOTE 7
#define SHT_RELA 4
#define SHT_NOBITS 8
#define SHT_REL 9
#define SHT_INIT_ARRAY 14
#define SHT_RELR 19
#define SHT_FINI_ARRAY 15
#define SHT_PREINIT_ARRAY 16
#define SHF_ALLOC 2
#define SHT_DYNSYM 11
#define SHT_GNU_versym 0x6fffffff
#define SHN_UNDEF 0
#define SHN_XINDEX 0xffff

enum {
	DT_NULL = 0, DT_NEEDED = 1, DT_PLTRELSZ = 2, DT_PLTGOT = 3, DT_HASH = 4, DT_STRTAB = 5, DT_SYMTAB = 6,
	DT_RELA = 7, DT_RELASZ = 8, DT_RELAENT = 9, DT_STRSZ = 10, DT_SYMENT = 11, DT_INIT = 12,
	DT_FINI = 13, DT_SONAME = 14, DT_RPATH = 15, DT_SYMBOLIC = 16, DT_REL = 17, DT_RELSZ = 18,
	DT_RELENT = 19, DT_PLTREL = 20, DT_JMPREL = 23, DT_BIND_NOW = 24, DT_INIT_ARRAY = 25,
	DT_FINI_ARRAY = 26, DT_INIT_ARRAYSZ = 27, DT_FINI_ARRAYSZ = 28, DT_RUNPATH = 29,
	DT_FLAGS = 30, DT_PREINIT_ARRAY = 32, DT_PREINIT_ARRAYSZ = 33, DT_RELRSZ = 35, DT_RELR = 36,
};
#define DT_GNU_HASH 0x6ffffef5
#define DT_VERSYM 0x6ffffff0
#define DT_FLAGS_1 0x6ffffffb
#define DT_VERDEF 0x6ffffffc
#define DT_VERDEFNUM 0x6ffffffd
#define DT_VERNEED 0x6ffffffe
#define DT_VERNEEDNUM 0x6fffffff
#define DF_SYMBOLIC 0x2
#define DF_BIND_NOW 0x8
#define DF_1_NOW 0x1

#define MAX_SYMS (1u << 24)

struct rd {
	const unsigned char *p;
	size_t n;
	int be, b64;
	struct dg_error *err;
};

static uint64_t u(const struct rd *r, uint64_t off, int size)
{
	uint64_t v = 0;
	const unsigned char *p = r->p + off;
	for (int i = 0; i < size; i++)
		v |= (uint64_t)p[r->be ? size - 1 - i : i] << (8 * i);
	return v;
}

static int in_file(const struct rd *r, uint64_t off, uint64_t len)
{
	return off <= r->n && len <= r->n - off;
}

/* A NUL-terminated string at OFF inside [tab, tab+tabsz). */
static const char *str_at(const struct rd *r, uint64_t tab, uint64_t tabsz, uint64_t off)
{
	if (!in_file(r, tab, tabsz) || off >= tabsz)
		return NULL;
	const char *s = (const char *)r->p + tab + off;
	if (!memchr(s, 0, (size_t)(tabsz - off)))
		return NULL;
	return s;
}

/* A reader over a parsed file, for the accessors below. */
static struct rd rd_of(const struct dg_elf *e)
{
	return (struct rd){.p = e->data, .n = e->size, .be = e->big_endian, .b64 = e->bits == 64};
}

int dg_elf_vaddr_to_off(const struct dg_elf *e, uint64_t vaddr, uint64_t len, uint64_t *off)
{
	for (size_t i = 0; i < e->nsegs; i++) {
		const struct dg_elf_seg *s = &e->segs[i];
		if (s->type != PT_LOAD || vaddr < s->vaddr)
			continue;
		uint64_t d = vaddr - s->vaddr;
		if (d >= s->filesz || len > s->filesz - d)
			continue;
		if (s->offset + d > e->size || len > e->size - (s->offset + d))
			return -1;
		*off = s->offset + d;
		return 0;
	}
	return -1;
}

const struct dg_elf_sec *dg_elf_section(const struct dg_elf *e, const char *name)
{
	for (size_t i = 0; i < e->nsecs; i++)
		if (e->secs[i].name && !strcmp(e->secs[i].name, name))
			return &e->secs[i];
	return NULL;
}

/* The hash table accessors: raw reads for the binder's walk, each bounds-checked again
 * (an index past a valid table's counts reads 0). */
uint64_t dg_elf_gnu_bloom(const struct dg_elf *e, uint32_t word)
{
	const struct dg_elf_gnu_hash *g = &e->gnu_hash;
	struct rd r = rd_of(e);
	int w = r.b64 ? 8 : 4;
	return g->valid && word < g->nbloom ? u(&r, g->bloom_off + (uint64_t)word * (uint64_t)w, w) : 0;
}

uint32_t dg_elf_gnu_bucket(const struct dg_elf *e, uint32_t bucket)
{
	const struct dg_elf_gnu_hash *g = &e->gnu_hash;
	struct rd r = rd_of(e);
	return g->valid && bucket < g->nbuckets ? (uint32_t)u(&r, g->buckets_off + 4ull * bucket, 4) : 0;
}

int dg_elf_gnu_chain(const struct dg_elf *e, uint32_t sym, uint32_t *out)
{
	const struct dg_elf_gnu_hash *g = &e->gnu_hash;
	struct rd r = rd_of(e);
	uint64_t at = g->chain_off + 4ull * (sym - g->symoffset);
	if (!g->valid || sym < g->symoffset || !in_file(&r, at, 4))
		return -1;
	*out = (uint32_t)u(&r, at, 4);
	return 0;
}

uint32_t dg_elf_sysv_bucket(const struct dg_elf *e, uint32_t bucket)
{
	const struct dg_elf_sysv_hash *h = &e->sysv_hash;
	struct rd r = rd_of(e);
	return h->valid && bucket < h->nbucket ? (uint32_t)u(&r, h->buckets_off + 4ull * bucket, 4) : 0;
}

uint32_t dg_elf_sysv_chain(const struct dg_elf *e, uint32_t idx)
{
	const struct dg_elf_sysv_hash *h = &e->sysv_hash;
	struct rd r = rd_of(e);
	return h->valid && idx < h->nchain ? (uint32_t)u(&r, h->chain_off + 4ull * idx, 4) : 0;
}

void dg_elf_free(struct dg_elf *e)
{
	if (!e)
		return;
	free(e->segs);
	free(e->secs);
	dg_strv_free(&e->needed);
	free(e->init_array);
	free(e->fini_array);
	free(e->preinit_array);
	free(e->dynsyms);
	free(e->syms);
	dg_strv_free(&e->verdefs);
	for (size_t i = 0; i < e->nverneeds; i++)
		dg_strv_free(&e->verneeds[i].names);
	free(e->verneeds);
	free(e->versions);
	free(e->relocs);
	free(e->go_build_id);
	free(e->fde_starts);
	free(e->fdes);
	free(e->eh_hdr_starts);
	free(e->eh_frame_error);
	free(e);
}

static int parse_sections(struct dg_elf *e, struct rd *r, uint64_t shoff, uint32_t shnum,
			  uint16_t shentsize, uint32_t shstrndx)
{
	size_t want = r->b64 ? 64 : 40;
	if (!shoff || !shnum)
		return 0;
	if (shentsize < want || shnum > (1u << 20) || !in_file(r, shoff, (uint64_t)shnum * shentsize))
		return dg_err(r->err, DG_E_IMAGE, "ELF: section header table out of bounds");
	if (shoff < (r->b64 ? 64u : 52u))
		return dg_err(r->err, DG_E_IMAGE, "ELF: section header table overlaps the ELF header");
	e->secs = dg_xcalloc(shnum, sizeof *e->secs);
	e->nsecs = shnum;
	for (uint32_t i = 0; i < shnum; i++) {
		uint64_t o = shoff + (uint64_t)i * shentsize;
		struct dg_elf_sec *s = &e->secs[i];
		s->type = (uint32_t)u(r, o + 4, 4);
		if (r->b64) {
			s->flags = u(r, o + 8, 8);
			s->addr = u(r, o + 16, 8);
			s->offset = u(r, o + 24, 8);
			s->size = u(r, o + 32, 8);
			s->link = (uint32_t)u(r, o + 40, 4);
			s->info = (uint32_t)u(r, o + 44, 4);
			s->entsize = u(r, o + 56, 8);
		} else {
			s->flags = u(r, o + 8, 4);
			s->addr = u(r, o + 12, 4);
			s->offset = u(r, o + 16, 4);
			s->size = u(r, o + 20, 4);
			s->link = (uint32_t)u(r, o + 24, 4);
			s->info = (uint32_t)u(r, o + 28, 4);
			s->entsize = u(r, o + 36, 4);
		}
		if (i && s->type != SHT_NOBITS && s->type != 0 && !in_file(r, s->offset, s->size))
			return dg_err(r->err, DG_E_IMAGE, "ELF: section %u lies outside the file", i);
	}
	if (shstrndx < shnum) {
		const struct dg_elf_sec *ss = &e->secs[shstrndx];
		for (uint32_t i = 0; i < shnum; i++) {
			uint64_t o = shoff + (uint64_t)i * shentsize;
			uint32_t nm = (uint32_t)u(r, o, 4);
			e->secs[i].name = str_at(r, ss->offset, ss->size, nm);
			if (!e->secs[i].name && i)
				return dg_err(r->err, DG_E_IMAGE, "ELF: section %u has an invalid name index", i);
		}
	}
	return 0;
}

static int read_syms(struct dg_elf *e, struct rd *r, uint64_t off, uint64_t count, uint64_t stroff,
		     uint64_t strsz, struct dg_elf_sym **out, size_t *nout, const char *what)
{
	size_t esz = r->b64 ? 24 : 16;
	if (count > MAX_SYMS || !in_file(r, off, count * esz))
		return dg_err(r->err, DG_E_IMAGE, "ELF: %s out of bounds", what);
	if (!in_file(r, stroff, strsz))
		return dg_err(r->err, DG_E_IMAGE, "ELF: string table of %s out of bounds", what);
	struct dg_elf_sym *v = dg_xcalloc(count ? count : 1, sizeof *v);
	for (uint64_t i = 0; i < count; i++) {
		uint64_t o = off + i * esz;
		uint32_t nm = (uint32_t)u(r, o, 4);
		uint8_t info, other;
		if (r->b64) {
			info = r->p[o + 4];
			other = r->p[o + 5];
			v[i].shndx = (uint16_t)u(r, o + 6, 2);
			v[i].value = u(r, o + 8, 8);
			v[i].size = u(r, o + 16, 8);
		} else {
			v[i].value = u(r, o + 4, 4);
			v[i].size = u(r, o + 8, 4);
			info = r->p[o + 12];
			other = r->p[o + 13];
			v[i].shndx = (uint16_t)u(r, o + 14, 2);
		}
		v[i].type = info & 15;
		v[i].bind = info >> 4;
		v[i].vis = other & 3;
		v[i].name = str_at(r, stroff, strsz, nm);
		if (!v[i].name) {
			free(v);
			return dg_err(r->err, DG_E_IMAGE, "ELF: %s entry %llu has an invalid name index", what,
				      (unsigned long long)i);
		}
	}
	*out = v;
	*nout = (size_t)count;
	return 0;
}

/* DT_GNU_HASH's header at ADDR (e->gnu_hash). */
static void read_gnu_hash(struct dg_elf *e, struct rd *r, uint64_t addr)
{
	struct dg_elf_gnu_hash *g = &e->gnu_hash;
	uint64_t off, w = r->b64 ? 8 : 4;
	if (dg_elf_vaddr_to_off(e, addr, 16, &off) < 0)
		return;
	g->mapped = 1;
	g->nbuckets = (uint32_t)u(r, off, 4);
	g->symoffset = (uint32_t)u(r, off + 4, 4);
	g->nbloom = (uint32_t)u(r, off + 8, 4);
	g->shift = (uint32_t)u(r, off + 12, 4);
	g->bloom_off = off + 16;
	g->buckets_off = g->bloom_off + (uint64_t)g->nbloom * w;
	g->chain_off = g->buckets_off + 4ull * g->nbuckets;
	g->valid = g->nbuckets && g->nbloom && in_file(r, g->bloom_off, (uint64_t)g->nbloom * w) &&
		   in_file(r, g->buckets_off, 4ull * g->nbuckets);
}

/* DT_HASH's header at ADDR (e->sysv_hash). */
static void read_sysv_hash(struct dg_elf *e, struct rd *r, uint64_t addr)
{
	struct dg_elf_sysv_hash *h = &e->sysv_hash;
	uint64_t off;
	if (dg_elf_vaddr_to_off(e, addr, 8, &off) < 0)
		return;
	h->mapped = 1;
	h->nbucket = (uint32_t)u(r, off, 4);
	h->nchain = (uint32_t)u(r, off + 4, 4);
	h->buckets_off = off + 8;
	h->chain_off = h->buckets_off + 4ull * h->nbucket;
	h->valid = h->nbucket && in_file(r, h->buckets_off, 4ull * h->nbucket + 4ull * h->nchain);
}

/* Highest symbol index + 1 from the DT_GNU_HASH table read into e->gnu_hash. */
static int gnu_hash_count(struct dg_elf *e, struct rd *r, uint64_t *count)
{
	const struct dg_elf_gnu_hash *g = &e->gnu_hash;
	uint32_t nbuckets = g->nbuckets, symoffset = g->symoffset;
	uint64_t buckets = g->buckets_off;
	if (!g->mapped || nbuckets > (1u << 24) || g->nbloom > (1u << 24) ||
	    !in_file(r, buckets, (uint64_t)nbuckets * 4))
		return -1;
	uint32_t max = 0;
	for (uint32_t i = 0; i < nbuckets; i++) {
		uint32_t b = (uint32_t)u(r, buckets + 4ull * i, 4);
		if (b > max)
			max = b;
	}
	if (max < symoffset) {
		*count = symoffset;
		return 0;
	}
	uint64_t chain = g->chain_off;
	for (uint64_t i = max;; i++) {
		uint64_t at = chain + 4 * (i - symoffset);
		if (!in_file(r, at, 4) || i > MAX_SYMS)
			return -1;
		if (u(r, at, 4) & 1) {
			*count = i + 1;
			return 0;
		}
	}
}

static const char *ver_name(struct dg_elf *e, uint16_t idx, const char **names, size_t nnames)
{
	(void)e;
	return idx < nnames ? names[idx] : NULL;
}

/* Room for N entries of e->versions, the new ones zero. */
static void grow_versions(struct dg_elf *e, size_t *cap, size_t n)
{
	if (n <= *cap)
		return;
	size_t nc = *cap ? *cap : 16;
	while (nc < n)
		nc *= 2;
	e->versions = dg_xreallocarray(e->versions, nc, sizeof *e->versions);
	memset(e->versions + *cap, 0, (nc - *cap) * sizeof *e->versions);
	*cap = nc;
}

/* Entry NDX of ld.so's l_versions: HIGH follows every index named, an entry is written
 * only when its name could be read (a later one wins, as in dl-version.c). */
static void set_version(struct dg_elf *e, size_t *cap, uint32_t *high, uint32_t ndx, const char *name,
			const char *file, uint32_t hash, int hidden, int needed)
{
	if (ndx > *high)
		*high = ndx;
	if (!name)
		return;
	grow_versions(e, cap, (size_t)ndx + 1);
	e->versions[ndx] = (struct dg_elf_version){name, file, hash, (uint8_t)hidden, (uint8_t)needed};
}

/* Symbol versions. Each chain is walked once for two readers:
 * - the model's lists (verdefs, verneeds, each dynsym's version) as readelf shows them:
 *   DT_VERNEEDNUM/DT_VERDEFNUM entries, strings from STROFF; a malformed one refuses the file;
 * - ld.so's l_versions (e->versions, elf/dl-version.c): the chains followed to vn_next/vd_next
 *   0 (at most 65536 entries, and while they lie in the file), strings from DT_STRTAB mapped
 *   through PT_LOAD (LSTROFF; no table at all when LSTR is 0), entries it cannot read skipped.
 * Needs are walked before definitions: ld.so lets a definition overwrite a need of the same
 * index, readelf's view the other way round. */
static int parse_versions(struct dg_elf *e, struct rd *r, uint64_t stroff, uint64_t strsz, int lstr,
			  uint64_t lstroff)
{
	const struct dg_elf_dyninfo *d = &e->dyn;
	/* index → version name, from vernaux (vna_other) and verdef (vd_ndx) */
	const char **names = dg_xcalloc(65536, sizeof *names);
	unsigned char *needed = dg_xcalloc(65536, 1);
	size_t vcap = 0;
	uint32_t high = 0;
	uint64_t off;
	int rc = -1;
	if (d->has_verneed && dg_elf_vaddr_to_off(e, d->verneed, 16, &off) == 0) {
		for (uint64_t i = 0; i < 65536; i++) {
			int listed = d->verneed && i < d->verneednum;
			if (!in_file(r, off, 16)) {
				if (listed)
					goto bad;
				break;
			}
			uint16_t cnt = (uint16_t)u(r, off + 2, 2);
			uint32_t fidx = (uint32_t)u(r, off + 4, 4);
			uint32_t aux = (uint32_t)u(r, off + 8, 4), next = (uint32_t)u(r, off + 12, 4);
			struct dg_elf_verneed *vn = NULL;
			if (listed) {
				const char *file = str_at(r, stroff, strsz, fidx);
				if (!file)
					goto bad;
				e->verneeds = dg_xreallocarray(e->verneeds, e->nverneeds + 1, sizeof *e->verneeds);
				vn = &e->verneeds[e->nverneeds++];
				memset(vn, 0, sizeof *vn);
				vn->file = file;
			}
			uint64_t a = off + aux;
			for (uint16_t k = 0; k < cnt; k++) {
				if (!in_file(r, a, 16)) {
					if (listed)
						goto bad;
					break;
				}
				uint32_t hash = (uint32_t)u(r, a, 4);
				uint16_t other = (uint16_t)u(r, a + 6, 2);
				uint32_t nidx = (uint32_t)u(r, a + 8, 4), an = (uint32_t)u(r, a + 12, 4);
				if (vn) {
					const char *nm = str_at(r, stroff, strsz, nidx);
					if (!nm)
						goto bad;
					names[other & 0x7fff] = nm;
					needed[other & 0x7fff] = 1;
					dg_strv_push(&vn->names, nm);
				}
				if (lstr)
					set_version(e, &vcap, &high, other & 0x7fffu, str_at(r, lstroff, strsz, nidx),
						    str_at(r, lstroff, strsz, fidx), hash, (other & 0x8000) != 0, 1);
				if (!an)
					break;
				a += an;
			}
			if (!next)
				break;
			off += next;
		}
	}
	if (d->has_verdef && dg_elf_vaddr_to_off(e, d->verdef, 20, &off) == 0) {
		for (uint64_t i = 0; i < 65536; i++) {
			int listed = d->verdef && i < d->verdefnum;
			if (!in_file(r, off, 20)) {
				if (listed)
					goto bad;
				break;
			}
			uint16_t flags = (uint16_t)u(r, off + 2, 2), ndx = (uint16_t)u(r, off + 4, 2);
			uint16_t cnt = (uint16_t)u(r, off + 6, 2);
			uint32_t hash = (uint32_t)u(r, off + 8, 4);
			uint32_t aux = (uint32_t)u(r, off + 12, 4), next = (uint32_t)u(r, off + 16, 4);
			int aux_ok = in_file(r, off + aux, 8);
			uint64_t nidx = aux_ok ? u(r, off + aux, 4) : 0;
			if (listed && cnt && aux_ok) {
				const char *nm = str_at(r, stroff, strsz, nidx);
				if (!nm)
					goto bad;
				if (!needed[ndx & 0x7fff])
					names[ndx & 0x7fff] = nm;
				dg_strv_push(&e->verdefs, nm);
			}
			if (lstr) /* the base version (VER_FLG_BASE) is not matched against */
				set_version(e, &vcap, &high, ndx & 0x7fffu,
					    !(flags & 1) && aux_ok ? str_at(r, lstroff, strsz, nidx) : NULL, NULL, hash, 0, 0);
			if (!next)
				break;
			off += next;
		}
	}
	if (high) { /* l_nversions: ld.so builds no table when no index above 0 is named */
		grow_versions(e, &vcap, (size_t)high + 1);
		e->nversions = (size_t)high + 1;
	} else {
		free(e->versions);
		e->versions = NULL;
	}
	if (d->has_versym && e->ndynsyms) {
		int ok = dg_elf_vaddr_to_off(e, d->versym, 2 * (uint64_t)e->ndynsyms, &off) == 0;
		if (!ok && d->versym)
			goto bad;
		e->has_versyms = ok;
		for (size_t i = 0; ok && i < e->ndynsyms; i++) {
			uint16_t v = (uint16_t)u(r, off + 2 * i, 2);
			e->dynsyms[i].versym = v;
			if (d->versym && (v & 0x7fff) >= 2) {
				e->dynsyms[i].version = ver_name(e, v & 0x7fff, names, 65536);
				e->dynsyms[i].ver_hidden = (v & 0x8000) != 0;
				e->dynsyms[i].ver_needed = needed[v & 0x7fff];
			}
		}
	}
	rc = 0;
	goto out;
bad:
	dg_err(r->err, DG_E_IMAGE, "ELF: symbol version tables out of bounds or malformed");
out:
	free(names);
	free(needed);
	return rc;
}

static enum dg_reloc_kind reloc_kind(uint16_t machine, uint32_t t)
{
	switch (machine) {
	case 62: /* x86-64 */
		return t == 8 ? DG_REL_RELATIVE : t == 37 ? DG_REL_IRELATIVE : t == 6 ? DG_REL_GLOB_DAT
		       : t == 7 ? DG_REL_JUMP_SLOT : t == 1 ? DG_REL_ABS : DG_REL_OTHER;
	case 3: /* i386 */
		return t == 8 ? DG_REL_RELATIVE : t == 42 ? DG_REL_IRELATIVE : t == 6 ? DG_REL_GLOB_DAT
		       : t == 7 ? DG_REL_JUMP_SLOT : t == 1 ? DG_REL_ABS : DG_REL_OTHER;
	case 183: /* aarch64 */
		return t == 1027 ? DG_REL_RELATIVE : t == 1032 ? DG_REL_IRELATIVE : t == 1025 ? DG_REL_GLOB_DAT
		       : t == 1026 ? DG_REL_JUMP_SLOT : t == 257 ? DG_REL_ABS : DG_REL_OTHER;
	}
	return DG_REL_OTHER;
}

/* A 64-bit relocation's symbol and type. MIPS64 packs r_info as r_sym (32 bits), r_ssym,
 * r_type3, r_type2, r_type (a byte each), each in the file's byte order: read as one
 * little-endian word, r_sym is its low half and r_type its top byte. */
static void info64(const struct dg_elf *e, uint64_t info, uint32_t *sym, uint32_t *type)
{
	if (e->machine == 8 && !e->big_endian) {
		*sym = (uint32_t)info;
		*type = (uint32_t)(info >> 56);
		return;
	}
	*sym = (uint32_t)(info >> 32);
	*type = (uint32_t)info;
}

/* The highest symbol index a relocation table names (0 when none or out of bounds). */
static uint64_t max_reloc_sym(struct dg_elf *e, struct rd *r, uint64_t addr, uint64_t sz, int rela)
{
	size_t esz = r->b64 ? (rela ? 24 : 16) : (rela ? 12 : 8);
	uint64_t off, max = 0;
	if (!addr || !sz || sz % esz || dg_elf_vaddr_to_off(e, addr, sz, &off) < 0)
		return 0;
	for (uint64_t i = 0; i < sz / esz; i++) {
		uint32_t s64 = 0, t64;
		if (r->b64)
			info64(e, u(r, off + i * esz + 8, 8), &s64, &t64);
		uint64_t sym = r->b64 ? s64 : u(r, off + i * esz + 4, 4) >> 8;
		if (sym > max)
			max = sym;
	}
	return max;
}

static int read_relocs(struct dg_elf *e, struct rd *r, uint64_t addr, uint64_t sz, int rela, int plt)
{
	if (!addr || !sz)
		return 0;
	size_t esz = r->b64 ? (rela ? 24 : 16) : (rela ? 12 : 8);
	uint64_t off;
	if (sz % esz || dg_elf_vaddr_to_off(e, addr, sz, &off) < 0)
		return dg_err(r->err, DG_E_IMAGE, "ELF: %s relocation table out of bounds", plt ? "PLT" : "dynamic");
	uint64_t n = sz / esz;
	e->relocs = dg_xreallocarray(e->relocs, e->nrelocs + n, sizeof *e->relocs);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t o = off + i * esz;
		struct dg_elf_reloc *x = &e->relocs[e->nrelocs++];
		memset(x, 0, sizeof *x);
		if (r->b64) {
			x->offset = u(r, o, 8);
			info64(e, u(r, o + 8, 8), &x->sym, &x->type);
			x->addend = rela ? (int64_t)u(r, o + 16, 8) : 0;
		} else {
			x->offset = u(r, o, 4);
			uint32_t info = (uint32_t)u(r, o + 4, 4);
			x->sym = info >> 8;
			x->type = info & 0xff;
			x->addend = rela ? (int32_t)u(r, o + 8, 4) : 0;
		}
		x->plt = (uint8_t)plt;
		x->kind = reloc_kind(e->machine, x->type);
		if (x->sym && x->sym >= e->ndynsyms)
			return dg_err(r->err, DG_E_IMAGE, "ELF: relocation %llu names symbol %u of %zu",
				      (unsigned long long)i, x->sym, e->ndynsyms);
	}
	return 0;
}

static int read_addr_array(struct dg_elf *e, struct rd *r, uint64_t addr, uint64_t sz,
			   uint64_t **out, size_t *n, const char *what)
{
	if (!addr || !sz)
		return 0;
	size_t w = r->b64 ? 8 : 4;
	uint64_t off;
	if (sz % w || dg_elf_vaddr_to_off(e, addr, sz, &off) < 0) {
		/* Arrays filled by relocations at load time may live in NOBITS-free
		 * data; an array the file does not back is refused. */
		return dg_err(r->err, DG_E_IMAGE, "ELF: %s out of bounds", what);
	}
	*n = (size_t)(sz / w);
	*out = dg_xcalloc(*n ? *n : 1, sizeof **out);
	for (size_t i = 0; i < *n; i++)
		(*out)[i] = u(r, off + i * w, (int)w);
	return 0;
}

static void parse_notes(struct dg_elf *e, struct rd *r, uint64_t off, uint64_t sz, uint64_t align)
{
	uint64_t a = align == 8 ? 8 : 4, p = off, end = off + sz;
	if (!in_file(r, off, sz))
		return;
	while (p + 12 <= end) {
		uint32_t namesz = (uint32_t)u(r, p, 4), descsz = (uint32_t)u(r, p + 4, 4);
		uint32_t type = (uint32_t)u(r, p + 8, 4);
		uint64_t name = p + 12, desc = name + ((namesz + a - 1) & ~(a - 1));
		uint64_t next = desc + ((descsz + a - 1) & ~(a - 1));
		if (desc > end || next > end || next <= p)
			return;
		if (namesz == 4 && !memcmp(r->p + name, "GNU", 4) && type == 3 && descsz <= 64)
			dg_hex(e->build_id, r->p + desc, descsz);
		if (namesz == 4 && !memcmp(r->p + name, "GNU", 4) && type == 1 && descsz >= 16 && u(r, desc, 4) == 0)
			e->gnu_abi_linux = 1;
		if (namesz == 3 && !memcmp(r->p + name, "Go", 3) && type == 4 && !e->go_build_id && descsz < 4096)
			e->go_build_id = dg_xstrndup((const char *)r->p + desc, descsz);
		p = next;
	}
}

/* DWARF EH pointer encodings (DW_EH_PE_*): the low nibble is the format, bits 4-6
 * the base, bit 7 "indirect". */
#define EH_OMIT 0xff
#define EH_INDIRECT 0x80
#define EH_ABSPTR 0x00
#define EH_PCREL 0x10
#define EH_TEXTREL 0x20
#define EH_DATAREL 0x30
#define MAX_LEB 10 /* bytes: a LEB128 longer than this cannot be a 64-bit value */

/* What an encoded value is relative to; a base not known is 0 with have_* unset. */
struct eh_bases {
	uint64_t pc, text, data;
	int have_text, have_data;
};

static int read_leb(const struct rd *r, uint64_t *pos, uint64_t end, int sign, uint64_t *out)
{
	uint64_t v = 0, at = *pos;
	unsigned shift = 0;
	for (int i = 0; i < MAX_LEB; i++) {
		if (at >= end || at >= r->n)
			return -1;
		uint8_t b = r->p[at++];
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80)) {
			if (sign && shift < 64 && (b & 0x40))
				v |= ~(uint64_t)0 << shift;
			*pos = at;
			*out = v;
			return 0;
		}
	}
	return -1;
}

/* The raw value of format FMT (low nibble of an encoding) at *POS, below END;
 * -1 out of bounds, -2 a format that does not exist. */
static int eh_raw(const struct rd *r, uint64_t *pos, uint64_t end, uint8_t fmt, uint64_t *out)
{
	int size;
	switch (fmt) {
	case 0x01: return read_leb(r, pos, end, 0, out);
	case 0x09: return read_leb(r, pos, end, 1, out);
	case 0x00: case 0x08: size = r->b64 ? 8 : 4; break;
	case 0x02: case 0x0a: size = 2; break;
	case 0x03: case 0x0b: size = 4; break;
	case 0x04: case 0x0c: size = 8; break;
	default: return -2;
	}
	if (end > r->n || *pos > end || (uint64_t)size > end - *pos)
		return -1;
	uint64_t v = u(r, *pos, size);
	if (fmt == 0x0a)
		v = (uint64_t)(int64_t)(int16_t)v;
	else if (fmt == 0x0b || (fmt == 0x08 && size == 4))
		v = (uint64_t)(int64_t)(int32_t)v;
	*pos += (uint64_t)size;
	*out = v;
	return 0;
}

/* One encoded pointer at *POS (below END). Returns 0, -1 when out of bounds, -2 for an
 * encoding that does not exist or whose base is not known here. Indirect pointers are
 * read but not followed: *indirect says so. Address arithmetic wraps, as the CPU's does. */
static int eh_ptr(const struct rd *r, uint64_t *pos, uint64_t end, uint8_t enc, const struct eh_bases *b,
		  uint64_t *out, int *indirect)
{
	uint64_t v, at = *pos;
	if (enc == EH_OMIT)
		return -2;
	int rc = eh_raw(r, &at, end, enc & 0x0f, &v);
	if (rc < 0)
		return rc;
	switch (enc & 0x70) {
	case EH_ABSPTR: break;
	case EH_PCREL: v += b->pc; break;
	case EH_TEXTREL:
		if (!b->have_text)
			return -2;
		v += b->text;
		break;
	case EH_DATAREL:
		if (!b->have_data)
			return -2;
		v += b->data;
		break;
	default: return -2; /* funcrel, aligned: not defined for these pointers */
	}
	if (!r->b64)
		v &= 0xffffffffu;
	if (indirect)
		*indirect = (enc & EH_INDIRECT) != 0;
	else if (enc & EH_INDIRECT)
		return -2;
	*pos = at;
	*out = v;
	return 0;
}

static int cmp_fde(const void *a, const void *b)
{
	const struct dg_elf_fde *x = a, *y = b;
	if (x->start != y->start)
		return (x->start > y->start) - (x->start < y->start);
	return (x->size > y->size) - (x->size < y->size);
}


/* What .eh_frame_hdr tells the .eh_frame walk. */
struct eh_hdr_info {
	int have_ptr, have_table;
	uint64_t eh_frame_ptr;  /* vaddr of .eh_frame */
	uint64_t last_fde;      /* highest FDE vaddr the table names */
};

static void parse_eh_frame_hdr(struct dg_elf *e, struct rd *r, const struct dg_elf_seg *s,
			       struct eh_hdr_info *hi)
{
	uint64_t off = s->offset, end = s->offset + s->filesz, vbase = s->vaddr;
	if (!in_file(r, off, s->filesz) || s->filesz < 4 || r->p[off] != 1 || e->has_eh_frame_hdr)
		return;
	e->has_eh_frame_hdr = 1;
	uint8_t ptr_enc = r->p[off + 1], cnt_enc = r->p[off + 2], tab_enc = r->p[off + 3];
	uint64_t pos = off + 4, ehptr, count;
	struct eh_bases b = {.data = vbase, .have_data = 1};
	b.pc = vbase + 4;
	if (eh_ptr(r, &pos, end, ptr_enc, &b, &ehptr, NULL) < 0)
		return;
	hi->have_ptr = 1;
	hi->eh_frame_ptr = ehptr;
	b.pc = vbase + (pos - off);
	if (eh_ptr(r, &pos, end, cnt_enc, &b, &count, NULL) < 0)
		return;
	if (tab_enc != 0x3b || count > (end - pos) / 8) /* datarel|sdata4, as every linker writes */
		return;
	hi->have_table = 1;
	e->eh_hdr_starts = dg_xcalloc(count ? count : 1, sizeof *e->eh_hdr_starts);
	for (uint64_t i = 0; i < count; i++) {
		uint64_t loc, fde;
		if (eh_ptr(r, &pos, end, tab_enc, &b, &loc, NULL) < 0 ||
		    eh_ptr(r, &pos, end, tab_enc, &b, &fde, NULL) < 0)
			break;
		e->eh_hdr_starts[e->neh_hdr_starts++] = loc;
		if (!i || fde > hi->last_fde)
			hi->last_fde = fde;
	}
	e->neh_hdr_starts = dg_sort_uniq_u64(e->eh_hdr_starts, e->neh_hdr_starts);
}

/* A CIE of .eh_frame, as far as its FDEs need it. */
struct eh_cie {
	uint64_t off;     /* file offset of the entry */
	uint8_t fde_enc;  /* 'R', else absptr */
	uint8_t z;        /* augmentation data present in FDEs */
};

#define MAX_AUG 32 /* augmentation strings in use are at most "zPLRSB" */

/* Parses the CIE body at P (just after the CIE id) up to END; NULL or why it is refused. */
static const char *parse_cie(const struct rd *r, uint64_t p, uint64_t end, uint64_t vbase, uint64_t voff,
			     struct eh_cie *c)
{
	uint64_t x;
	if (p >= end)
		return "CIE truncated before its version";
	uint8_t ver = r->p[p++];
	if (ver != 1 && ver != 3 && ver != 4)
		return "CIE version is not 1, 3 or 4";
	const char *aug = (const char *)r->p + p;
	const char *nul = memchr(aug, 0, (size_t)(end - p < MAX_AUG ? end - p : MAX_AUG));
	if (!nul)
		return "CIE augmentation string unterminated or too long";
	p += (uint64_t)(nul - aug) + 1;
	c->fde_enc = EH_ABSPTR;
	c->z = aug[0] == 'z';
	if (!strcmp(aug, "eh")) { /* GCC 2.x: the address of the exception table follows */
		uint64_t w = r->b64 ? 8 : 4;
		if (w > end - p)
			return "CIE truncated in its \"eh\" data";
		p += w;
	} else if (aug[0] && !c->z) {
		return "CIE augmentation string not understood";
	}
	if (ver == 4) { /* address_size, segment_selector_size */
		if (2 > end - p)
			return "CIE truncated in its address size";
		if (r->p[p] != (r->b64 ? 8 : 4) || r->p[p + 1] != 0)
			return "CIE address or segment size does not match the file";
		p += 2;
	}
	if (read_leb(r, &p, end, 0, &x) < 0)
		return "CIE code alignment factor is not a valid ULEB128";
	if (read_leb(r, &p, end, 1, &x) < 0)
		return "CIE data alignment factor is not a valid SLEB128";
	if (ver == 1) {
		if (p >= end)
			return "CIE truncated before its return address register";
		p++;
	} else if (read_leb(r, &p, end, 0, &x) < 0) {
		return "CIE return address register is not a valid ULEB128";
	}
	if (!c->z)
		return NULL;
	uint64_t alen;
	if (read_leb(r, &p, end, 0, &alen) < 0 || alen > end - p)
		return "CIE augmentation data length exceeds the entry";
	uint64_t aend = p + alen;
	for (const char *a = aug + 1; *a; a++) {
		uint8_t enc;
		switch (*a) {
		case 'R':
		case 'L':
		case 'P':
			if (p >= aend)
				return "CIE augmentation data shorter than its string says";
			enc = r->p[p++];
			if (*a == 'R') {
				uint8_t f = enc & 0x0f;
				if (enc == EH_OMIT || (f > 4 && f < 8) || f > 12 || (enc & 0x70) > EH_DATAREL)
					return "CIE FDE pointer encoding not understood";
				c->fde_enc = enc;
			} else if (*a == 'P') {
				struct eh_bases b = {.pc = vbase + (p - voff), .have_text = 1, .have_data = 1};
				if ((enc & 0x70) > EH_DATAREL || eh_ptr(r, &p, aend, enc & 0x7f, &b, &x, NULL) < 0)
					return "CIE personality pointer not understood";
			}
			break;
		case 'S': /* signal frame */
		case 'B': /* AArch64 B key */
		case 'G': /* AArch64 MTE tagged frame */
			break;
		default: /* unknown: the data length lets its data be skipped, unless 'R' follows */
			return strchr(a, 'R') ? "CIE augmentation string not understood" : NULL;
		}
	}
	return NULL;
}

static void eh_fail(struct dg_elf *e, uint64_t at, const char *why)
{
	if (!e->eh_frame_error)
		e->eh_frame_error = dg_xasprintf(".eh_frame entry at offset 0x%llx: %s", (unsigned long long)at, why);
}

/* Walks .eh_frame: found by its section header, or (section headers stripped) at
 * .eh_frame_hdr's eh_frame_ptr, bounded by the PT_LOAD that holds it and ended by the zero
 * terminator. Each entry is length-checked against the section, each CIE pointer must name
 * a CIE already walked (CIEs precede their FDEs), so the walk is linear and cannot loop. */
static void parse_eh_frame(struct dg_elf *e, struct rd *r, const struct eh_hdr_info *hi, uint64_t pltgot)
{
	uint64_t off = 0, size = 0, vaddr = 0;
	int by_section = 0;
	if (e->type == 1) /* ET_REL: FDE addresses are relocations */
		return;
	const struct dg_elf_sec *sec = dg_elf_section(e, ".eh_frame");
	if (sec && sec->type != SHT_NOBITS && sec->size) {
		if (!in_file(r, sec->offset, sec->size)) {
			e->has_eh_frame = 1;
			eh_fail(e, 0, "section lies outside the file");
			return;
		}
		off = sec->offset, size = sec->size, vaddr = sec->addr, by_section = 1;
	} else if (!e->nsecs && hi->have_ptr) {
		for (size_t i = 0; i < e->nsegs && !size; i++) {
			const struct dg_elf_seg *s = &e->segs[i];
			if (s->type != PT_LOAD || hi->eh_frame_ptr < s->vaddr || hi->eh_frame_ptr - s->vaddr >= s->filesz)
				continue;
			uint64_t d = hi->eh_frame_ptr - s->vaddr;
			off = s->offset + d, size = s->filesz - d, vaddr = hi->eh_frame_ptr;
		}
		if (!size)
			return;
	} else {
		return;
	}
	e->has_eh_frame = 1;
	struct eh_bases b = {0};
	const struct dg_elf_sec *t = dg_elf_section(e, ".text");
	const struct dg_elf_sec *g = dg_elf_section(e, ".got.plt");
	if (!g)
		g = dg_elf_section(e, ".got");
	if (t)
		b.text = t->addr, b.have_text = 1;
	if (g || pltgot)
		b.data = g ? g->addr : pltgot, b.have_data = 1;
	struct eh_cie *cies = NULL;
	size_t ncies = 0, cap_cies = 0, cap_fdes = 0;
	uint64_t end = off + size, p = off, at = off, hdr_end = 0;
	const char *why = NULL;
	while (p < end && !why) {
		uint64_t len, id, idw = 4;
		at = p;
		if (4 > end - p) {
			why = "truncated length";
			break;
		}
		len = u(r, p, 4);
		p += 4;
		if (len == 0) { /* terminator; readelf walks on inside a section */
			if (!by_section)
				break;
			continue;
		}
		if (len == 0xffffffffu) {
			if (8 > end - p) {
				why = "truncated 64-bit length";
				break;
			}
			len = u(r, p, 8);
			p += 8;
			idw = 8;
		} else if (len >= 0xfffffff0u) {
			why = "reserved length value";
			break;
		}
		if (len > end - p) {
			why = "length runs past the end of the section";
			break;
		}
		if (len < idw) {
			why = "entry too short for its CIE id";
			break;
		}
		uint64_t eend = p + len, idpos = p;
		id = u(r, p, (int)idw);
		p += idw;
		if (id == 0) {
			struct eh_cie c = {.off = at};
			if ((why = parse_cie(r, p, eend, vaddr, off, &c)))
				break;
			if (ncies == cap_cies) {
				cap_cies = cap_cies ? 2 * cap_cies : 16;
				cies = dg_xreallocarray(cies, cap_cies, sizeof *cies);
			}
			cies[ncies++] = c;
		} else {
			if (id > idpos - off) {
				why = "CIE pointer points before the section";
				break;
			}
			uint64_t target = idpos - id;
			size_t lo = 0, hi2 = ncies;
			while (lo < hi2) {
				size_t mid = lo + (hi2 - lo) / 2;
				if (cies[mid].off < target)
					lo = mid + 1;
				else
					hi2 = mid;
			}
			if (lo == ncies || cies[lo].off != target) {
				why = "CIE pointer does not point at a CIE";
				break;
			}
			const struct eh_cie *c = &cies[lo];
			uint64_t start, range;
			int ind = 0, rc;
			b.pc = vaddr + (p - off);
			if ((rc = eh_ptr(r, &p, eend, c->fde_enc, &b, &start, &ind)) < 0) {
				why = rc == -1 ? "FDE truncated in pc_begin" : "FDE pc_begin encoding not understood here";
				break;
			}
			if (eh_raw(r, &p, eend, c->fde_enc & 0x0f, &range) < 0) {
				why = "FDE truncated in pc_range";
				break;
			}
			if (!r->b64)
				range &= 0xffffffffu;
			uint64_t alen;
			if (c->z && (read_leb(r, &p, eend, 0, &alen) < 0 || alen > eend - p)) {
				why = "FDE augmentation data length exceeds the entry";
				break;
			}
			if (ind) {
				e->fde_indirect++;
			} else {
				if (e->nfdes == cap_fdes) {
					cap_fdes = cap_fdes ? 2 * cap_fdes : 64;
					e->fdes = dg_xreallocarray(e->fdes, cap_fdes, sizeof *e->fdes);
				}
				e->fdes[e->nfdes++] = (struct dg_elf_fde){start, range};
			}
			if (hi->have_table && vaddr + (at - off) == hi->last_fde)
				hdr_end = eend;
		}
		p = eend;
	}
	/* Without section headers the walk may run past .eh_frame when the linker wrote no
	 * terminator: what fails after the last FDE the search table names is not counted. */
	if (why && !(!by_section && hdr_end && at >= hdr_end))
		eh_fail(e, at - off, why);
	free(cies);
	if (e->nfdes) {
		qsort(e->fdes, e->nfdes, sizeof *e->fdes, cmp_fde);
		size_t k = 0;
		for (size_t i = 0; i < e->nfdes; i++)
			if (!k || cmp_fde(&e->fdes[k - 1], &e->fdes[i]))
				e->fdes[k++] = e->fdes[i];
		e->nfdes = k;
	}
}

/* fde_starts = fdes ∪ eh_hdr_starts, and how many starts only one of them has. */
static void merge_fde_starts(struct dg_elf *e)
{
	size_t n = e->nfdes + e->neh_hdr_starts, a = 0, h = 0;
	e->fde_starts = dg_xcalloc(n ? n : 1, sizeof *e->fde_starts);
	for (size_t i = 0; i < e->nfdes; i++)
		if (!a || e->fde_starts[a - 1] != e->fdes[i].start)
			e->fde_starts[a++] = e->fdes[i].start;
	size_t nf = a, i = 0;
	if (e->has_eh_frame && e->has_eh_frame_hdr) { /* both sorted, unique: count the difference */
		while (i < nf || h < e->neh_hdr_starts) {
			if (h == e->neh_hdr_starts || (i < nf && e->fde_starts[i] < e->eh_hdr_starts[h]))
				i++, e->fde_disagreements++;
			else if (i == nf || e->eh_hdr_starts[h] < e->fde_starts[i])
				h++, e->fde_disagreements++;
			else
				i++, h++;
		}
	}
	if (e->neh_hdr_starts)
		memcpy(e->fde_starts + nf, e->eh_hdr_starts, e->neh_hdr_starts * sizeof *e->fde_starts);
	e->nfde_starts = dg_sort_uniq_u64(e->fde_starts, nf + e->neh_hdr_starts);
}
/* DT_RELR (packed relative relocations, glibc >= 2.36): an even word is an address to
 * relocate, an odd word a bitmap of the next 63 (31) words after the last address.
 * The addend is the word already in the file. Each becomes a RELATIVE relocation. */
static int read_relr(struct dg_elf *e, struct rd *r, uint64_t addr, uint64_t sz)
{
	if (!addr || !sz)
		return 0;
	size_t w = r->b64 ? 8 : 4;
	uint64_t off;
	if (sz % w || dg_elf_vaddr_to_off(e, addr, sz, &off) < 0)
		return dg_err(r->err, DG_E_IMAGE, "ELF: DT_RELR table out of bounds");
	uint32_t rel_type = e->machine == 62 || e->machine == 3 ? 8 : e->machine == 183 ? 1027 : 0;
	uint64_t where = 0, max = (uint64_t)1 << 24;
	size_t cap = e->nrelocs;
	for (uint64_t i = 0; i < sz / w; i++) {
		uint64_t v = u(r, off + i * w, (int)w);
		uint64_t list[64];
		int n = 0;
		if (!(v & 1)) {
			list[n++] = v;
			where = v + w;
		} else {
			for (unsigned b = 1; b < w * 8; b++)
				if ((v >> b) & 1)
					list[n++] = where + (b - 1) * w;
			where += (w * 8 - 1) * w;
		}
		if (e->nrelocs + (size_t)n > max)
			return dg_err(r->err, DG_E_LIMIT, "ELF: DT_RELR encodes more than %llu relocations",
				      (unsigned long long)max);
		for (int k = 0; k < n; k++) {
			if (e->nrelocs == cap) {
				cap = cap ? cap * 2 : 256;
				e->relocs = dg_xreallocarray(e->relocs, cap, sizeof *e->relocs);
			}
			struct dg_elf_reloc *x = &e->relocs[e->nrelocs++];
			memset(x, 0, sizeof *x);
			x->offset = list[k];
			x->type = rel_type;
			x->kind = DG_REL_RELATIVE;
			uint64_t o2;
			if (dg_elf_vaddr_to_off(e, list[k], w, &o2) == 0)
				x->addend = (int64_t)u(r, o2, (int)w);
		}
	}
	return 0;
}

/* A file without PT_DYNAMIC (a static program) still has relocations the C
 * library applies at start-up (IRELATIVE: ifunc resolvers) and init/fini
 * arrays, found through the section headers when it has them. */
static int parse_static_tables(struct dg_elf *e, struct rd *r)
{
	for (size_t i = 0; i < e->nsecs; i++) {
		const struct dg_elf_sec *s = &e->secs[i];
		if (!(s->flags & SHF_ALLOC) || !s->size)
			continue;
		int rc = 0;
		if (s->type == SHT_RELA || s->type == SHT_REL)
			rc = read_relocs(e, r, s->addr, s->size, s->type == SHT_RELA,
					 s->name && strstr(s->name, ".plt") != NULL);
		else if (s->type == SHT_RELR)
			rc = read_relr(e, r, s->addr, s->size);
		else if (s->type == SHT_INIT_ARRAY && !e->init_array)
			rc = read_addr_array(e, r, s->addr, s->size, &e->init_array, &e->ninit_array, ".init_array");
		else if (s->type == SHT_FINI_ARRAY && !e->fini_array)
			rc = read_addr_array(e, r, s->addr, s->size, &e->fini_array, &e->nfini_array, ".fini_array");
		else if (s->type == SHT_PREINIT_ARRAY && !e->preinit_array)
			rc = read_addr_array(e, r, s->addr, s->size, &e->preinit_array, &e->npreinit_array,
					     ".preinit_array");
		if (rc < 0)
			return dg_err_prefix(r->err, "section %s", s->name ? s->name : "?");
	}
	return 0;
}

static int parse(struct dg_elf *e, struct rd *r)
{
	const unsigned char *p = r->p;
	if (dg_elf_classify(p, r->n, &e->cls, r->err) < 0)
		return -1;
	r->b64 = e->cls.bits == 64;
	r->be = e->cls.big_endian;
	e->bits = e->cls.bits;
	e->big_endian = r->be;
	e->type = (uint16_t)u(r, 16, 2);
	e->machine = (uint16_t)u(r, 18, 2);
	e->entry = r->b64 ? u(r, 24, 8) : u(r, 24, 4);
	uint64_t phoff = r->b64 ? u(r, 32, 8) : u(r, 28, 4);
	uint64_t shoff = r->b64 ? u(r, 40, 8) : u(r, 32, 4);
	uint16_t phentsize = (uint16_t)u(r, r->b64 ? 54 : 42, 2);
	uint32_t phnum = (uint32_t)u(r, r->b64 ? 56 : 44, 2);
	uint16_t shentsize = (uint16_t)u(r, r->b64 ? 58 : 46, 2);
	uint32_t shnum = (uint32_t)u(r, r->b64 ? 60 : 48, 2);
	uint32_t shstrndx = (uint32_t)u(r, r->b64 ? 62 : 50, 2);
	/* Extended numbering lives in section header 0. */
	if (shoff && in_file(r, shoff, r->b64 ? 64 : 40)) {
		if (shnum == 0)
			shnum = (uint32_t)(r->b64 ? u(r, shoff + 32, 8) : u(r, shoff + 20, 4));
		if (shstrndx == SHN_XINDEX)
			shstrndx = (uint32_t)u(r, shoff + (r->b64 ? 40 : 24), 4);
		if (phnum == 0xffff)
			phnum = (uint32_t)u(r, shoff + (r->b64 ? 44 : 28), 4);
	}
	size_t phw = r->b64 ? 56 : 32;
	if (phnum && (phentsize < phw || phnum > 65536 || !in_file(r, phoff, (uint64_t)phnum * phentsize)))
		return dg_err(r->err, DG_E_IMAGE, "ELF: program header table out of bounds");
	e->segs = dg_xcalloc(phnum ? phnum : 1, sizeof *e->segs);
	e->nsegs = phnum;
	const struct dg_elf_seg *dyn = NULL;
	for (uint32_t i = 0; i < phnum; i++) {
		uint64_t o = phoff + (uint64_t)i * phentsize;
		struct dg_elf_seg *s = &e->segs[i];
		s->type = (uint32_t)u(r, o, 4);
		if (r->b64) {
			s->flags = (uint32_t)u(r, o + 4, 4);
			s->offset = u(r, o + 8, 8);
			s->vaddr = u(r, o + 16, 8);
			s->filesz = u(r, o + 32, 8);
			s->memsz = u(r, o + 40, 8);
		} else {
			s->offset = u(r, o + 4, 4);
			s->vaddr = u(r, o + 8, 4);
			s->filesz = u(r, o + 16, 4);
			s->memsz = u(r, o + 20, 4);
			s->flags = (uint32_t)u(r, o + 24, 4);
		}
		if ((s->type == PT_LOAD || s->type == PT_DYNAMIC || s->type == PT_INTERP) &&
		    !in_file(r, s->offset, s->filesz))
			return dg_err(r->err, DG_E_IMAGE, "ELF: segment %u lies outside the file", i);
		if (s->type == PT_INTERP) {
			if (!s->filesz || s->filesz > 4096 || memchr(p + s->offset, 0, (size_t)s->filesz) == NULL)
				return dg_err(r->err, DG_E_IMAGE, "ELF: PT_INTERP is not a terminated string");
			e->interp = (const char *)p + s->offset;
		}
		if (s->type == PT_DYNAMIC)
			dyn = s;
	}
	if (parse_sections(e, r, shoff, shnum, shentsize, shstrndx) < 0)
		return -1;
	struct eh_hdr_info hi = {0};
	for (uint32_t i = 0; i < phnum; i++) {
		if (e->segs[i].type == PT_NOTE)
			parse_notes(e, r, e->segs[i].offset, e->segs[i].filesz, 4);
		if (e->segs[i].type == PT_GNU_EH_FRAME)
			parse_eh_frame_hdr(e, r, &e->segs[i], &hi);
	}
	if (!phnum)
		for (size_t i = 0; i < e->nsecs; i++)
			if (e->secs[i].type == SHT_NOTE)
				parse_notes(e, r, e->secs[i].offset, e->secs[i].size, 4);
	/* static symbol table */
	for (size_t i = 0; i < e->nsecs; i++) {
		const struct dg_elf_sec *s = &e->secs[i];
		if (s->type != SHT_SYMTAB || e->syms)
			continue;
		if (s->link >= e->nsecs || !s->entsize)
			return dg_err(r->err, DG_E_IMAGE, "ELF: .symtab has no valid string table");
		if (read_syms(e, r, s->offset, s->size / (r->b64 ? 24 : 16), e->secs[s->link].offset,
			      e->secs[s->link].size, &e->syms, &e->nsyms, ".symtab") < 0)
			return -1;
	}
	uint64_t pltgot = 0;
	if (dyn) {
		/* t: tags below 64, 0 when absent; e->dyn: what the symbol lookup uses, with presence
		 * (both as elf_get_dynamic_info: up to DT_NULL, a later entry of a tag wins) */
		uint64_t t[64] = {0}, strtab = 0, strsz = 0, symtab = 0, hash = 0, pltrel = 0;
		struct dg_elf_dyninfo *d = &e->dyn;
		int has_symbolic = 0, has_bind_now = 0;
		size_t dsz = r->b64 ? 16 : 8, w = r->b64 ? 8 : 4;
		uint64_t nd = dyn->filesz / dsz;
		for (uint64_t i = 0; i < nd; i++) {
			uint64_t o = dyn->offset + i * dsz, tag = u(r, o, (int)w), val = u(r, o + w, (int)w);
			if (tag == DT_NULL)
				break;
			if (tag < 64)
				t[tag] = val;
			switch (tag) {
			case DT_STRTAB: d->strtab = val, d->has_strtab = 1; break;
			case DT_STRSZ: d->strsz = val; break;
			case DT_HASH: d->hash = val, d->has_hash = 1; break;
			case DT_GNU_HASH: d->gnu_hash = val, d->has_gnu_hash = 1; break;
			case DT_VERSYM: d->versym = val, d->has_versym = 1; break;
			case DT_VERDEF: d->verdef = val, d->has_verdef = 1; break;
			case DT_VERDEFNUM: d->verdefnum = val; break;
			case DT_VERNEED: d->verneed = val, d->has_verneed = 1; break;
			case DT_VERNEEDNUM: d->verneednum = val; break;
			case DT_FLAGS_1: e->flags_1 = val; break;
			case DT_SYMBOLIC: has_symbolic = 1; break;
			case DT_BIND_NOW: has_bind_now = 1; break;
			}
		}
		strtab = t[DT_STRTAB];
		strsz = t[DT_STRSZ];
		symtab = t[DT_SYMTAB];
		hash = t[DT_HASH];
		pltrel = t[DT_PLTREL];
		uint64_t stroff = 0, lstroff = 0;
		if (strtab && dg_elf_vaddr_to_off(e, strtab, strsz, &stroff) < 0)
			return dg_err(r->err, DG_E_IMAGE, "ELF: DT_STRTAB out of bounds");
		/* ld.so's string table: DT_STRTAB present (even at address 0) and mapped */
		int lstr = d->has_strtab && dg_elf_vaddr_to_off(e, d->strtab, d->strsz, &lstroff) == 0;
		if (d->has_gnu_hash)
			read_gnu_hash(e, r, d->gnu_hash);
		if (d->has_hash)
			read_sysv_hash(e, r, d->hash);
		for (uint64_t i = 0; i < nd; i++) {
			uint64_t o = dyn->offset + i * dsz, tag = u(r, o, (int)w), val = u(r, o + w, (int)w);
			if (tag == DT_NULL)
				break;
			if (tag != DT_NEEDED && tag != DT_SONAME && tag != DT_RPATH && tag != DT_RUNPATH)
				continue;
			const char *s = str_at(r, stroff, strsz, val);
			if (!s)
				return dg_err(r->err, DG_E_IMAGE, "ELF: dynamic entry %llu has an invalid string index",
					      (unsigned long long)i);
			if (tag == DT_NEEDED) {
				if (e->needed.n >= DG_MAX_NEEDED)
					return dg_err(r->err, DG_E_LIMIT, "ELF: more than %u DT_NEEDED entries",
						      DG_MAX_NEEDED);
				dg_strv_push(&e->needed, s);
			} else if (tag == DT_SONAME)
				e->soname = s;
			else if (tag == DT_RPATH)
				e->rpath = s;
			else
				e->runpath = s;
		}
		e->flags = t[DT_FLAGS];
		pltgot = t[DT_PLTGOT];
		e->init = t[DT_INIT];
		e->fini = t[DT_FINI];
		e->symbolic = (e->flags & DF_SYMBOLIC) || has_symbolic;
		e->bind_now = (e->flags & DF_BIND_NOW) || (e->flags_1 & DF_1_NOW) || has_bind_now;
		/* dynsym count: section header when present, else the hash tables */
		uint64_t count = 0;
		int have = 0;
		for (size_t i = 0; i < e->nsecs; i++)
			if (e->secs[i].type == SHT_DYNSYM) {
				count = e->secs[i].size / (r->b64 ? 24 : 16);
				have = 1;
			}
		if (!have && hash && e->sysv_hash.mapped) {
			count = e->sysv_hash.nchain;
			have = 1;
		}
		if (!have && d->gnu_hash && gnu_hash_count(e, r, &count) == 0) {
			/* DT_GNU_HASH only counts the symbols it hashes: undefined ones may lie
			 * past them (a program that exports nothing), so relocations extend it */
			have = 1;
			uint64_t m = max_reloc_sym(e, r, t[DT_RELA], t[DT_RELASZ], 1);
			uint64_t m2 = max_reloc_sym(e, r, t[DT_REL], t[DT_RELSZ], 0);
			uint64_t m3 = max_reloc_sym(e, r, t[DT_JMPREL], t[DT_PLTRELSZ], pltrel != DT_REL);
			m = m2 > m ? m2 : m;
			m = m3 > m ? m3 : m;
			if (m >= count && m < MAX_SYMS)
				count = m + 1;
		}
		if (symtab && have && count) {
			uint64_t so;
			if (dg_elf_vaddr_to_off(e, symtab, count * (r->b64 ? 24 : 16), &so) < 0)
				return dg_err(r->err, DG_E_IMAGE, "ELF: DT_SYMTAB out of bounds");
			if (read_syms(e, r, so, count, stroff, strsz, &e->dynsyms, &e->ndynsyms, ".dynsym") < 0)
				return -1;
		}
		if (parse_versions(e, r, stroff, strsz, lstr, lstroff) < 0)
			return -1;
		if (read_relocs(e, r, t[DT_RELA], t[DT_RELASZ], 1, 0) < 0 ||
		    read_relocs(e, r, t[DT_REL], t[DT_RELSZ], 0, 0) < 0 ||
		    read_relocs(e, r, t[DT_JMPREL], t[DT_PLTRELSZ], pltrel != DT_REL, 1) < 0 ||
		    read_relr(e, r, t[DT_RELR], t[DT_RELRSZ]) < 0)
			return -1;
		if (read_addr_array(e, r, t[DT_INIT_ARRAY], t[DT_INIT_ARRAYSZ], &e->init_array,
				    &e->ninit_array, "DT_INIT_ARRAY") < 0 ||
		    read_addr_array(e, r, t[DT_FINI_ARRAY], t[DT_FINI_ARRAYSZ], &e->fini_array,
				    &e->nfini_array, "DT_FINI_ARRAY") < 0 ||
		    read_addr_array(e, r, t[DT_PREINIT_ARRAY], t[DT_PREINIT_ARRAYSZ], &e->preinit_array,
				    &e->npreinit_array, "DT_PREINIT_ARRAY") < 0)
			return -1;
	}
	if (!dyn && parse_static_tables(e, r) < 0)
		return -1;
	parse_eh_frame(e, r, &hi, pltgot);
	merge_fde_starts(e);
	/* language and role hints */
	if (e->go_build_id || dg_elf_section(e, ".go.buildinfo") || dg_elf_section(e, ".gopclntab"))
		e->is_go = 1;
	if (dg_elf_section(e, ".rustc"))
		e->is_rust = 1;
	for (size_t k = 0; k < 2 && !e->is_rust; k++) {
		const struct dg_elf_sym *v = k ? e->syms : e->dynsyms;
		size_t n = k ? e->nsyms : e->ndynsyms;
		for (size_t i = 0; i < n && !e->is_rust; i++)
			if (strstr(v[i].name, "rust_begin_unwind") || !strncmp(v[i].name, "__rust_", 7))
				e->is_rust = 1;
	}
	if (e->soname && (!strncmp(e->soname, "ld-linux", 8) || !strncmp(e->soname, "ld64.so", 7) ||
			  !strncmp(e->soname, "ld-musl", 7)))
		e->is_loader = 1;
	return 0;
}

int dg_elf_parse(const unsigned char *data, size_t size, struct dg_elf **out, struct dg_error *err)
{
	struct dg_elf *e = dg_xcalloc(1, sizeof *e);
	e->data = data;
	e->size = size;
	struct rd r = {.p = data, .n = size, .err = err};
	if (parse(e, &r) < 0) {
		dg_elf_free(e);
		return -1;
	}
	*out = e;
	return 0;
}
