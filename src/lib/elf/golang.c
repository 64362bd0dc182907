/* Go binaries (golang.h). The layouts are the Go runtime's own (runtime/symtab.go
 * pcHeader and _func, debug/buildinfo): every offset, count and string is checked
 * against the bytes of the file before it is used. */
#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dockergate/golang.h"
#include "dockergate/util.h"

#define GO_MAX_FUNCS 4000000u       /* a 1 GB binary has far fewer */
#define GO_MAX_NAME 4096u
#define GO_MAX_MODINFO (1u << 20)
#define GO_MAX_DEPS 20000u

/* a byte range of the file with the address it is mapped at */
struct span {
	const unsigned char *p;
	uint64_t len, vaddr;
};

static uint64_t rd(const struct dg_elf *e, const unsigned char *p, int w)
{
	uint64_t v = 0;
	for (int i = 0; i < w; i++)
		v |= (uint64_t)p[i] << (e->big_endian ? (w - 1 - i) * 8 : i * 8);
	return v;
}

/* The word of W bytes at offset OFF of S, into *V; -1 when outside. */
static int word(const struct dg_elf *e, const struct span *s, uint64_t off, int w, uint64_t *v)
{
	if (off > s->len || (uint64_t)w > s->len - off)
		return -1;
	*v = rd(e, s->p + off, w);
	return 0;
}

/* What the loader puts in the pointer-sized word at VADDR: a RELATIVE relocation's
 * addend (position-independent files keep 0 in the file), else the file's bytes. */
static int pointer_at(const struct dg_elf *e, uint64_t vaddr, uint64_t *v)
{
	for (size_t i = 0; i < e->nrelocs; i++)
		if (e->relocs[i].offset == vaddr && e->relocs[i].kind == DG_REL_RELATIVE) {
			*v = (uint64_t)e->relocs[i].addend;
			return 0;
		}
	uint64_t off;
	int ps = e->bits / 8;
	if (dg_elf_vaddr_to_off(e, vaddr, (uint64_t)ps, &off) < 0)
		return -1;
	*v = rd(e, e->data + off, ps);
	return 0;
}

static int in_exec(const struct dg_elf *e, uint64_t a)
{
	for (size_t i = 0; i < e->nsegs; i++) {
		const struct dg_elf_seg *sg = &e->segs[i];
		if (sg->type == PT_LOAD && (sg->flags & PF_X) && a >= sg->vaddr && a - sg->vaddr < sg->filesz)
			return 1;
	}
	return 0;
}

/* ---- the function table ---- */

static const struct {
	uint32_t magic;
	const char *format;
} pcln_magics[] = {
	{0xfffffffbu, "1.2"}, {0xfffffffau, "1.16"}, {0xfffffff0u, "1.18"}, {0xfffffff1u, "1.20"},
};

static const char *pcln_format(uint32_t m)
{
	for (size_t i = 0; i < sizeof pcln_magics / sizeof *pcln_magics; i++)
		if (pcln_magics[i].magic == m)
			return pcln_magics[i].format;
	return NULL;
}

/* Whether S starts like a pcHeader of this file: a known magic, two zero bytes, the
 * instruction quantum, the pointer size. */
static int pcln_header(const struct dg_elf *e, const unsigned char *p, uint64_t len)
{
	if (len < 16)
		return 0;
	uint32_t m = (uint32_t)rd(e, p, 4);
	return pcln_format(m) && p[4] == 0 && p[5] == 0 && (p[6] == 1 || p[6] == 2 || p[6] == 4) &&
	       p[7] == e->bits / 8;
}

static int cmp_func(const void *x, const void *y)
{
	const struct dg_go_func *a = x, *b = y;
	return a->entry < b->entry ? -1 : a->entry > b->entry;
}

static int fail(struct dg_go *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct dg_go *g, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *m;
	if (vasprintf(&m, fmt, ap) < 0)
		abort();
	va_end(ap);
	free(g->error);
	g->error = m;
	free(g->funcs);
	g->funcs = NULL;
	g->nfuncs = 0;
	free(g->names);
	g->names = NULL;
	g->names_len = 0;
	g->pcln_magic = 0;
	g->pcln_format = NULL;
	return -1;
}

/* The name at offset OFF of S: NUL-terminated inside S and at most GO_MAX_NAME long. */
static const char *name_at(const struct span *s, uint64_t off, size_t *len)
{
	if (off >= s->len)
		return NULL;
	uint64_t max = s->len - off < GO_MAX_NAME ? s->len - off : GO_MAX_NAME;
	const unsigned char *z = memchr(s->p + off, 0, (size_t)max);
	if (!z)
		return NULL;
	*len = (size_t)(z - (s->p + off));
	return (const char *)s->p + off;
}

/* Reads the table at S (its pcHeader first). */
static int read_pcln(const struct dg_elf *e, const struct span *s, struct dg_go *g)
{
	int ps = e->bits / 8;
	uint32_t magic = (uint32_t)rd(e, s->p, 4);
	const char *fmt = pcln_format(magic);
	int v12 = magic == 0xfffffffbu, v116 = magic == 0xfffffffau;
	uint64_t nfunc, nameoff = 0, pclnoff, text = 0;
	if (word(e, s, 8, ps, &nfunc) < 0)
		return fail(g, "Go function table (%s) at %#llx: truncated header", fmt, (unsigned long long)s->vaddr);
	if (v12) {
		pclnoff = 8 + (uint64_t)ps; /* functab follows the header; names are offsets from the table */
	} else {
		uint64_t k = v116 ? 2 : 3; /* 1.18 added textStart before funcnameOffset */
		if (word(e, s, 8 + k * (uint64_t)ps, ps, &nameoff) < 0 ||
		    word(e, s, 8 + (k + 4) * (uint64_t)ps, ps, &pclnoff) < 0)
			return fail(g, "Go function table (%s) at %#llx: truncated header", fmt,
				    (unsigned long long)s->vaddr);
		if (!v116 && pointer_at(e, s->vaddr + 8 + 2 * (uint64_t)ps, &text) < 0)
			return fail(g, "Go function table (%s) at %#llx: textStart unreadable", fmt,
				    (unsigned long long)s->vaddr);
	}
	/* functab: nfunc (entry, funcoff) pairs and a final entry; words of the pointer size
	 * before 1.18, 32-bit offsets from textStart since */
	uint64_t w = v12 || v116 ? (uint64_t)ps : 4;
	if (nfunc == 0 || nfunc > GO_MAX_FUNCS || pclnoff > s->len || (s->len - pclnoff) / (2 * w) < nfunc + 1)
		return fail(g, "Go function table (%s) at %#llx: %llu functions do not fit", fmt,
			    (unsigned long long)s->vaddr, (unsigned long long)nfunc);
	struct span names = *s;
	if (!v12) {
		if (nameoff >= s->len)
			return fail(g, "Go function table (%s) at %#llx: funcnameOffset outside it", fmt,
				    (unsigned long long)s->vaddr);
		names.p += nameoff;
		names.len -= nameoff;
	}
	struct span ft = {s->p + pclnoff, s->len - pclnoff, s->vaddr + pclnoff};
	/* _func records are addressed from the table start (1.2) or functab (1.16+) */
	const struct span *fbase = v12 ? s : &ft;
	g->funcs = dg_xcalloc((size_t)nfunc, sizeof *g->funcs);
	struct dg_buf nb = {0};
	dg_buf_putc(&nb, 0);
	uint64_t prev = 0, maxrec = 0;
	for (uint64_t i = 0; i <= nfunc; i++) {
		uint64_t ent, off = 0;
		word(e, &ft, 2 * i * w, (int)w, &ent); /* inside: checked above */
		if (i < nfunc)
			word(e, &ft, (2 * i + 1) * w, (int)w, &off);
		uint64_t entry = v12 || v116 ? ent : text + ent;
		if (i && entry < prev) {
			dg_buf_free(&nb);
			return fail(g, "Go function table (%s) at %#llx: entry %llu out of order", fmt,
				    (unsigned long long)s->vaddr, (unsigned long long)i);
		}
		prev = entry;
		if (i == nfunc) {
			g->text_end = entry;
			break;
		}
		/* the _func record: its entry (again) and its name */
		uint64_t fent, fname;
		if (word(e, fbase, off, (int)w, &fent) < 0 || word(e, fbase, off + w, 4, &fname) < 0 || fent != ent) {
			dg_buf_free(&nb);
			return fail(g, "Go function table (%s) at %#llx: function %llu's record does not match", fmt,
				    (unsigned long long)s->vaddr, (unsigned long long)i);
		}
		size_t nl;
		const char *nm = name_at(&names, (uint64_t)(int64_t)(int32_t)fname, &nl);
		if (!nm || !in_exec(e, entry)) {
			dg_buf_free(&nb);
			return fail(g, "Go function table (%s) at %#llx: function %llu: %s", fmt,
				    (unsigned long long)s->vaddr, (unsigned long long)i,
				    nm ? "entry outside the code" : "name outside the table");
		}
		if (off > maxrec)
			maxrec = off;
		g->funcs[g->nfuncs].entry = entry;
		g->funcs[g->nfuncs].name = (uint32_t)nb.len;
		g->nfuncs++;
		dg_buf_append(&nb, nm, nl);
		dg_buf_putc(&nb, 0);
		if (nb.len > UINT32_MAX - GO_MAX_NAME) {
			dg_buf_free(&nb);
			return fail(g, "Go function table (%s) at %#llx: names too large", fmt, (unsigned long long)s->vaddr);
		}
	}
	qsort(g->funcs, g->nfuncs, sizeof *g->funcs, cmp_func);
	size_t k = 0; /* the same entry twice (never in a real table): keep the first */
	for (size_t i = 0; i < g->nfuncs; i++)
		if (!k || g->funcs[i].entry != g->funcs[k - 1].entry)
			g->funcs[k++] = g->funcs[i];
	g->nfuncs = k;
	g->names_len = nb.len;
	g->names = dg_buf_steal(&nb);
	g->pcln_magic = magic;
	g->pcln_format = fmt;
	g->pcln_addr = s->vaddr;
	/* the last _func record comes last in the table: its fixed part at least (never more
	 * than the table holds) */
	uint64_t minrec = v12 || v116 ? w + 4 : 40;
	g->pcln_end = fbase->vaddr + maxrec + minrec;
	g->text_start = text;
	return 0;
}

/* The span of section SC, or of the rest of the PT_LOAD segment holding file offset OFF. */
static int sec_span(const struct dg_elf *e, const struct dg_elf_sec *sc, struct span *out)
{
	if (sc->type == SHT_NOBITS || sc->offset > e->size || sc->size > e->size - sc->offset)
		return -1;
	*out = (struct span){e->data + sc->offset, sc->size, sc->addr};
	return 0;
}

static void find_pcln(const struct dg_elf *e, struct dg_go *g)
{
	static const char *const names[] = {".gopclntab", ".data.rel.ro.gopclntab"};
	for (size_t i = 0; i < 2; i++) {
		const struct dg_elf_sec *sc = dg_elf_section(e, names[i]);
		struct span s;
		if (sc && sec_span(e, sc, &s) == 0) {
			if (!pcln_header(e, s.p, s.len)) {
				fail(g, "%s: not a Go function table (magic %#x)", names[i],
				     s.len >= 4 ? (unsigned)rd(e, s.p, 4) : 0u);
				return;
			}
			read_pcln(e, &s, g);
			return;
		}
	}
	/* External linking (cgo, -buildmode=pie) merges it into .rodata or .data.rel.ro, and
	 * stripped section headers lose it: look for a header that reads as a whole table. */
	for (size_t i = 0; i < e->nsegs; i++) {
		const struct dg_elf_seg *sg = &e->segs[i];
		if (sg->type != PT_LOAD || sg->offset > e->size || sg->filesz > e->size - sg->offset)
			continue;
		const unsigned char *p = e->data + sg->offset;
		for (uint64_t o = (uint64_t)(-(int64_t)sg->vaddr) & 3; o + 16 <= sg->filesz; o += 4) {
			unsigned char lead = e->big_endian ? 0xff : 0xf0; /* the magic's first byte, but for its low bits */
			if ((p[o] & 0xf0) != lead || p[o + 4] || p[o + 5] || !pcln_header(e, p + o, sg->filesz - o))
				continue;
			struct span s = {p + o, sg->filesz - o, sg->vaddr + o};
			struct dg_go t = {0};
			if (read_pcln(e, &s, &t) == 0) {
				g->funcs = t.funcs;
				g->nfuncs = t.nfuncs;
				g->names = t.names;
				g->names_len = t.names_len;
				g->pcln_magic = t.pcln_magic;
				g->pcln_format = t.pcln_format;
				g->pcln_addr = t.pcln_addr;
				g->text_start = t.text_start;
				g->text_end = t.text_end;
				free(t.error);
				return;
			}
			free(t.error);
		}
	}
}

/* ---- build information ---- */

static const unsigned char bi_magic[14] = "\xff Go buildinf:";

/* An unsigned LEB128 varint at P (N bytes available); its length in *USED, 0 when malformed. */
static uint64_t uvarint(const unsigned char *p, uint64_t n, uint64_t *used)
{
	uint64_t v = 0;
	for (uint64_t i = 0; i < n && i < 10; i++) {
		v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*used = i + 1;
			return v;
		}
	}
	*used = 0;
	return 0;
}

/* A Go string header {ptr, len} at VADDR, its bytes copied (NUL-terminated; *N: its length). */
static char *go_string(const struct dg_elf *e, uint64_t vaddr, uint64_t max, size_t *n)
{
	int ps = e->bits / 8;
	uint64_t ptr, len, off;
	if (pointer_at(e, vaddr, &ptr) < 0 || pointer_at(e, vaddr + (uint64_t)ps, &len) < 0 || len > max ||
	    dg_elf_vaddr_to_off(e, ptr, len ? len : 1, &off) < 0)
		return NULL;
	char *s = dg_xmalloc((size_t)len + 1);
	memcpy(s, e->data + off, (size_t)len);
	s[len] = 0;
	*n = (size_t)len;
	return s;
}

static void parse_modinfo(struct dg_go *g, const char *m, size_t n)
{
	static const char start[] = "0w\xaf\x0c\x92t\x08\x02" "A\xe1\xc1\x07\xe6\xd6\x18\xe6";
	/* the sentinels around the text (16 bytes each) */
	if (n >= 33 && m[n - 17] == '\n' && !memcmp(m, start, 16)) {
		m += 16;
		n -= 32;
	}
	const char *end = m + n;
	while (m < end) {
		const char *nl = memchr(m, '\n', (size_t)(end - m));
		size_t len = nl ? (size_t)(nl - m) : (size_t)(end - m);
		dg_autofree char *line = dg_xstrndup(m, len);
		m += len + (nl ? 1 : 0);
		char *f[4] = {0};
		int nf = 0;
		for (char *p = line, *tok; nf < 4 && (tok = strsep(&p, "\t"));)
			f[nf++] = tok;
		if (nf >= 2 && !strcmp(f[0], "path") && !g->path)
			g->path = dg_xstrdup(f[1]);
		else if (nf >= 3 && !strcmp(f[0], "mod") && !g->mod)
			g->mod = dg_xasprintf("%s %s", f[1], f[2]);
		else if (nf >= 3 && !strcmp(f[0], "dep") && g->deps.n < GO_MAX_DEPS) {
			dg_autofree char *d = dg_xasprintf("%s %s", f[1], f[2]);
			dg_strv_push(&g->deps, d);
		}
		else if (nf >= 3 && !strcmp(f[0], "=>") && g->deps.n) {
			char *r = dg_xasprintf("%s => %s %s", g->deps.v[g->deps.n - 1], f[1], f[2]);
			free(g->deps.v[g->deps.n - 1]);
			g->deps.v[g->deps.n - 1] = r;
		} else if (nf >= 2 && !strcmp(f[0], "build") && g->settings.n < GO_MAX_DEPS)
			dg_strv_push(&g->settings, f[1]);
	}
}

static int read_buildinfo(const struct dg_elf *e, const unsigned char *p, uint64_t len, struct dg_go *g)
{
	if (len < 32 || memcmp(p, bi_magic, sizeof bi_magic))
		return -1;
	unsigned flags = p[15];
	if (flags & 2) { /* Go 1.18+: the version and module text follow, each with a varint length */
		uint64_t o = 32, u;
		char *s[2] = {0};
		size_t sl[2] = {0}; /* the module text holds NUL bytes (its end sentinel) */
		for (int k = 0; k < 2; k++) {
			uint64_t l = uvarint(p + o, len - o, &u);
			if (!u || l > GO_MAX_MODINFO || l > len - o - u)
				break;
			s[k] = dg_xmalloc((size_t)l + 1);
			memcpy(s[k], p + o + u, (size_t)l);
			s[k][l] = 0;
			sl[k] = (size_t)l;
			o += u + l;
		}
		if (s[0] && *s[0])
			g->version = s[0];
		else
			free(s[0]);
		if (s[1]) {
			parse_modinfo(g, s[1], sl[1]);
			free(s[1]);
		}
		return 0;
	}
	/* before 1.18: pointers to the two string headers (in the file's byte order and pointer size) */
	int ps = p[14];
	if (ps != e->bits / 8)
		return 0;
	uint64_t va, vm;
	const unsigned char *q = p + 16;
	va = rd(e, q, ps);
	vm = rd(e, q + ps, ps);
	size_t vn, mn;
	char *v = go_string(e, va, 256, &vn);
	if (v && *v)
		g->version = v;
	else
		free(v);
	char *m = go_string(e, vm, GO_MAX_MODINFO, &mn);
	if (m) {
		parse_modinfo(g, m, mn);
		free(m);
	}
	return 0;
}

static void find_buildinfo(const struct dg_elf *e, struct dg_go *g)
{
	const struct dg_elf_sec *sc = dg_elf_section(e, ".go.buildinfo");
	struct span s;
	if (sc && sec_span(e, sc, &s) == 0 && read_buildinfo(e, s.p, s.len, g) == 0)
		return;
	/* no section headers: the header sits 16-byte aligned in a writable segment */
	for (size_t i = 0; i < e->nsegs; i++) {
		const struct dg_elf_seg *sg = &e->segs[i];
		if (sg->type != PT_LOAD || !(sg->flags & PF_W) || sg->offset > e->size || sg->filesz > e->size - sg->offset)
			continue;
		const unsigned char *p = e->data + sg->offset;
		for (uint64_t o = (uint64_t)(-(int64_t)sg->vaddr) & 15; o + 32 <= sg->filesz; o += 16)
			if (p[o] == 0xff && read_buildinfo(e, p + o, sg->filesz - o, g) == 0)
				return;
	}
}

int dg_go_read(const struct dg_elf *e, struct dg_go **out)
{
	*out = NULL;
	if (e->bits != 32 && e->bits != 64)
		return 0;
	struct dg_go *g = dg_xcalloc(1, sizeof *g);
	find_buildinfo(e, g);
	/* a table scan only where the file says it is Go (a build ID note, the sections, the
	 * build information): other files never pay for it */
	if (e->is_go || g->version || g->path)
		find_pcln(e, g);
	if (!g->version && !g->path && !g->pcln_magic && !g->error && !e->is_go) {
		dg_go_free(g);
		return 0;
	}
	*out = g;
	return 1;
}

void dg_go_free(struct dg_go *g)
{
	if (!g)
		return;
	free(g->version);
	free(g->path);
	free(g->mod);
	dg_strv_free(&g->deps);
	dg_strv_free(&g->settings);
	free(g->funcs);
	free(g->names);
	free(g->error);
	free(g);
}
