/* The .eh_frame walker on synthetic files, in all four ELF flavours (32/64-bit, little and
 * big endian): the CIE forms real toolchains rarely write ("eh", version 3, 64-bit extended
 * lengths, 'P'/'L'/'S' augmentations) and every FDE pointer format (absptr, udata2/4/8,
 * sdata2/4/8, uleb128/sleb128, pcrel, textrel, indirect), then hostile tables. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dockergate/elf.h"
#include "tap.h"

#define EH_ADDR 0x400100u /* vaddr of .eh_frame */
#define TEXT_ADDR 0x401000u

struct buf {
	unsigned char d[4096];
	size_t n;
	int be, b64;
};

static void put(struct buf *b, uint64_t v, int size)
{
	for (int i = 0; i < size; i++)
		b->d[b->n + (size_t)i] = (unsigned char)(v >> (8 * (b->be ? size - 1 - i : i)));
	b->n += (size_t)size;
}

static void patch(struct buf *b, size_t at, uint64_t v, int size)
{
	size_t n = b->n;
	b->n = at;
	put(b, v, size);
	b->n = n;
}

static void bytes(struct buf *b, const void *p, size_t n)
{
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

static void uleb(struct buf *b, uint64_t v)
{
	do {
		uint8_t c = v & 0x7f;
		v >>= 7;
		put(b, c | (v ? 0x80 : 0), 1);
	} while (v);
}

static void sleb(struct buf *b, int64_t v)
{
	for (;;) {
		uint8_t c = v & 0x7f;
		v >>= 7; /* arithmetic shift on every compiler we use */
		int done = (v == 0 && !(c & 0x40)) || (v == -1 && (c & 0x40));
		put(b, c | (done ? 0 : 0x80), 1);
		if (done)
			return;
	}
}

/* An entry: opens with its length (32-bit, or 0xffffffff + 64-bit) and its id. */
struct ent {
	size_t len_at, body, id_at;
	int ext;
};

static struct ent open_ent(struct buf *b, int ext, int is_fde, size_t cie_start)
{
	struct ent e = {.ext = ext};
	if (ext)
		put(b, 0xffffffffu, 4);
	e.len_at = b->n;
	put(b, 0, ext ? 8 : 4);
	e.body = b->n;
	e.id_at = b->n;
	put(b, is_fde ? e.id_at - cie_start : 0, ext ? 8 : 4);
	return e;
}

static void close_ent(struct buf *b, struct ent *e)
{
	patch(b, e->len_at, b->n - e->body, e->ext ? 8 : 4);
}

/* CIE with augmentation AUG and FDE encoding ENC (when 'R' is in AUG); returns its offset. */
static size_t cie(struct buf *b, int ext, int ver, const char *aug, uint8_t enc)
{
	size_t at = b->n;
	struct ent e = open_ent(b, ext, 0, 0);
	put(b, (uint64_t)ver, 1);
	bytes(b, aug, strlen(aug) + 1);
	if (!strcmp(aug, "eh"))
		put(b, 0x12345678, b->b64 ? 8 : 4);
	if (ver == 4) { /* address size, segment selector size */
		put(b, b->b64 ? 8 : 4, 1);
		put(b, 0, 1);
	}
	uleb(b, 1);
	sleb(b, b->b64 ? -8 : -4);
	if (ver == 1)
		put(b, 16, 1);
	else
		uleb(b, 16);
	if (aug[0] == 'z') {
		size_t lenat = b->n;
		put(b, 0, 1);
		size_t d = b->n;
		for (const char *a = aug + 1; *a; a++) {
			if (*a == 'R')
				put(b, enc, 1);
			if (*a == 'L')
				put(b, 0x1b, 1);
			if (*a == 'P') {
				put(b, 0x9b, 1); /* indirect pcrel sdata4: skipped, not followed */
				put(b, 0x100, 4);
			}
		}
		b->d[lenat] = (unsigned char)(b->n - d);
	}
	put(b, 0x0c, 1); /* DW_CFA_def_cfa ... (not read) */
	put(b, 7, 1);
	put(b, 8, 1);
	while ((b->n - e.body) % (b->b64 ? 8 : 4))
		put(b, 0, 1);
	close_ent(b, &e);
	return at;
}

/* FDE for the CIE whose entry starts at CIE_START. */
static void fde(struct buf *b, size_t cie_start, int ext, int z, uint8_t enc, uint64_t start, uint64_t size)
{
	struct ent e = open_ent(b, ext, 1, cie_start);
	uint64_t field = EH_ADDR + b->n;
	int fmt = enc & 0x0f, w;
	uint64_t v = start;
	if ((enc & 0x70) == 0x10)
		v = start - field;
	else if ((enc & 0x70) == 0x20)
		v = start - TEXT_ADDR;
	for (int k = 0; k < 2; k++, v = size) {
		switch (fmt) {
		case 0x01: uleb(b, v); continue;
		case 0x09: sleb(b, (int64_t)v); continue;
		case 0x00: w = b->b64 ? 8 : 4; break;
		case 0x02: case 0x0a: w = 2; break;
		case 0x03: case 0x0b: w = 4; break;
		default: w = 8; break;
		}
		put(b, v, w);
	}
	if (z) {
		uleb(b, 0);
	}
	put(b, 0, 1);
	close_ent(b, &e);
}

/* Wraps .eh_frame (and an empty .text at TEXT_ADDR) into an ET_EXEC file. */
static size_t wrap(const struct buf *eh, unsigned char *out, int b64, int be)
{
	struct buf f = {.be = be, .b64 = b64};
	static const char shstr[] = "\0.eh_frame\0.shstrtab\0.text";
	size_t ehoff = 0x100, stroff = ehoff + eh->n, shoff = (stroff + sizeof shstr + 7) & ~(size_t)7;
	memset(out, 0, 8192);
	memcpy(f.d, "\x7f" "ELF", 4);
	f.d[4] = b64 ? 2 : 1;
	f.d[5] = be ? 2 : 1;
	f.d[6] = 1;
	f.n = 16;
	put(&f, 2, 2);               /* ET_EXEC */
	put(&f, b64 ? 62 : 3, 2);    /* machine */
	put(&f, 1, 4);
	put(&f, TEXT_ADDR, b64 ? 8 : 4); /* entry */
	put(&f, 0, b64 ? 8 : 4);     /* phoff */
	put(&f, shoff, b64 ? 8 : 4); /* shoff */
	put(&f, 0, 4);
	put(&f, b64 ? 64 : 52, 2);
	put(&f, b64 ? 56 : 32, 2);
	put(&f, 0, 2);
	put(&f, b64 ? 64 : 40, 2);
	put(&f, 4, 2); /* shnum */
	put(&f, 2, 2); /* shstrndx */
	memcpy(out, f.d, f.n);
	memcpy(out + ehoff, eh->d, eh->n);
	memcpy(out + stroff, shstr, sizeof shstr);
	struct {
		uint32_t name, type;
		uint64_t addr, off, size;
	} sh[4] = {{0, 0, 0, 0, 0}, {1, 1, EH_ADDR, ehoff, eh->n}, {11, 3, 0, stroff, sizeof shstr},
		   {21, 8, TEXT_ADDR, 0, 0x1000}};
	f.n = 0;
	for (int i = 0; i < 4; i++) {
		put(&f, sh[i].name, 4);
		put(&f, sh[i].type, 4);
		put(&f, 2, b64 ? 8 : 4); /* SHF_ALLOC */
		put(&f, sh[i].addr, b64 ? 8 : 4);
		put(&f, sh[i].off, b64 ? 8 : 4);
		put(&f, sh[i].size, b64 ? 8 : 4);
		put(&f, 0, 4);
		put(&f, 0, 4);
		put(&f, 1, b64 ? 8 : 4);
		put(&f, 0, b64 ? 8 : 4);
	}
	memcpy(out + shoff, f.d, f.n);
	return shoff + f.n;
}

static const char *flavour(int b64, int be)
{
	return b64 ? (be ? "ELF64 big-endian" : "ELF64 little-endian") : (be ? "ELF32 big-endian" : "ELF32 little-endian");
}

static struct dg_elf *parse(const struct buf *eh, unsigned char *file, int b64, int be)
{
	size_t n = wrap(eh, file, b64, be);
	struct dg_error err = DG_ERROR_INIT;
	struct dg_elf *e = NULL;
	if (dg_elf_parse(file, n, &e, &err) < 0) {
		printf("# parse failed: %s\n", err.msg);
		return NULL;
	}
	return e;
}

static void test_forms(int b64, int be)
{
	static unsigned char file[8192];
	struct buf b = {.be = be, .b64 = b64};
	size_t c;
	/* start, size of each FDE written, in order */
	static const uint64_t want[][2] = {
		{0x401000, 0x20}, {0x401100, 0x10}, {0x401200, 0x30}, {0x401300, 0x8}, {0x401400, 4},
		{0x400200, 0x2}, {0x401500, 0x40}, {0x401600, 0x11}, {0x401700, 0x12}, {0x401800, 0x13},
		{0x401900, 0x14}, {0x401a00, 0x15},
	};
	c = cie(&b, 0, 1, "zR", 0x1b); /* pcrel sdata4, as GCC writes */
	fde(&b, c, 0, 1, 0x1b, want[0][0], want[0][1]);
	c = cie(&b, 1, 3, "zPLR", 0x03); /* 64-bit extended length, version 3, personality, LSDA */
	fde(&b, c, 1, 1, 0x03, want[1][0], want[1][1]);
	c = cie(&b, 0, 1, "eh", 0); /* GCC 2.x, absptr */
	fde(&b, c, 0, 0, 0x00, want[2][0], want[2][1]);
	c = cie(&b, 0, 1, "zR", 0x01); /* uleb128 */
	fde(&b, c, 0, 1, 0x01, want[3][0], want[3][1]);
	c = cie(&b, 0, 1, "zRS", 0x09); /* sleb128, signal frame */
	fde(&b, c, 0, 1, 0x09, want[4][0], want[4][1]);
	c = cie(&b, 0, 1, "zR", 0x1a); /* pcrel sdata2 */
	fde(&b, c, 0, 1, 0x1a, want[5][0], want[5][1]);
	c = cie(&b, 0, 1, "zR", 0x23); /* textrel udata4 */
	fde(&b, c, 0, 1, 0x23, want[6][0], want[6][1]);
	c = cie(&b, 0, 1, "zR", 0x02); /* udata2 */
	fde(&b, c, 0, 1, 0x02, want[7][0] & 0xffff, want[7][1]);
	c = cie(&b, 0, 1, "zR", 0x04); /* udata8 */
	fde(&b, c, 0, 1, 0x04, want[8][0], want[8][1]);
	c = cie(&b, 0, 1, "zR", 0x0c); /* sdata8 */
	fde(&b, c, 0, 1, 0x0c, want[9][0], want[9][1]);
	c = cie(&b, 0, 1, "zR", 0x0b); /* sdata4 */
	fde(&b, c, 0, 1, 0x0b, want[10][0], want[10][1]);
	c = cie(&b, 0, 4, "zRB", 0x1b); /* version 4 (address and segment size) and AArch64 'B' */
	fde(&b, c, 0, 1, 0x1b, want[11][0], want[11][1]);
	c = cie(&b, 0, 1, "zR", 0x9b); /* indirect: counted, not followed */
	fde(&b, c, 0, 1, 0x9b, 0x402000, 1);
	put(&b, 0, 4); /* terminator */
	struct dg_elf *e = parse(&b, file, b64, be);
	ok(e && !e->eh_frame_error, "%s: synthetic .eh_frame parses (%s)", flavour(b64, be),
	   e && e->eh_frame_error ? e->eh_frame_error : "no error");
	if (!e)
		return;
	size_t nw = sizeof want / sizeof want[0], match = 0;
	for (size_t i = 0; i < nw; i++) {
		uint64_t s = i == 7 ? want[i][0] & 0xffff : want[i][0];
		for (size_t k = 0; k < e->nfdes; k++)
			if (e->fdes[k].start == s && e->fdes[k].size == want[i][1]) {
				match++;
				break;
			}
	}
	ok(e->nfdes == nw && match == nw, "%s: every pointer format decodes (%zu of %zu FDEs found, %zu read)",
	   flavour(b64, be), match, nw, e->nfdes);
	int sorted = 1;
	for (size_t k = 1; k < e->nfdes; k++)
		sorted &= e->fdes[k - 1].start < e->fdes[k].start;
	ok(sorted && e->nfde_starts == e->nfdes, "%s: FDEs sorted, fde_starts is their union with no table",
	   flavour(b64, be));
	ok(e->fde_indirect == 1, "%s: the indirect FDE is counted, not followed", flavour(b64, be));
	dg_elf_free(e);
}

/* A one-CIE, one-FDE table; MUT damages it; the model must come back with eh_frame_error. */
static void hostile(int b64, int be, const char *name, void (*mut)(struct buf *b, size_t cie_at, size_t fde_at),
		    const char *want)
{
	static unsigned char file[8192];
	struct buf b = {.be = be, .b64 = b64};
	size_t c = cie(&b, 0, 1, "zR", 0x1b);
	size_t f = b.n;
	fde(&b, c, 0, 1, 0x1b, 0x401000, 0x10);
	put(&b, 0, 4);
	mut(&b, 0, f);
	struct dg_elf *e = parse(&b, file, b64, be);
	ok(e && e->eh_frame_error && strstr(e->eh_frame_error, want), "%s: %s: eh_frame_error '%s'",
	   flavour(b64, be), name, e && e->eh_frame_error ? e->eh_frame_error : "(none)");
	dg_elf_free(e);
}

static void m_aug_len(struct buf *b, size_t c, size_t f)
{
	b->d[c + 8 + 4 + 3] = 0x7f; /* after len, id, version, "zR\0", code, data, ra */
}
static void m_leb(struct buf *b, size_t c, size_t f)
{
	memset(b->d + c + 8 + 4, 0xff, 12); /* code alignment: an endless ULEB128 */
}
static void m_self(struct buf *b, size_t c, size_t f)
{
	patch(b, f + 4, 4, 4); /* CIE pointer names the FDE itself */
}
static void m_ext(struct buf *b, size_t c, size_t f)
{
	patch(b, c, 0xffffffffu, 4);
	patch(b, c + 4, UINT64_MAX - 3, 8);
}
static void m_cut(struct buf *b, size_t c, size_t f)
{
	b->n = f + 6; /* .eh_frame ends inside the FDE's length */
}
static void m_range(struct buf *b, size_t c, size_t f)
{
	patch(b, f, 6, 4); /* FDE too short for its pc_range */
}
static void m_enc(struct buf *b, size_t c, size_t f)
{
	b->d[c + 8 + 4 + 4] = 0x50; /* 'R' encoding: aligned */
}
static void m_aug(struct buf *b, size_t c, size_t f)
{
	memcpy(b->d + c + 9, "Q\0", 2); /* an augmentation without 'z' nobody defined */
}

int main(void)
{
	for (int b64 = 0; b64 < 2; b64++)
		for (int be = 0; be < 2; be++) {
			test_forms(b64, be);
			hostile(b64, be, "augmentation data length past the CIE", m_aug_len, "augmentation data length");
			hostile(b64, be, "endless ULEB128", m_leb, "ULEB128");
			hostile(b64, be, "FDE whose CIE pointer names itself", m_self, "does not point at a CIE");
			hostile(b64, be, "64-bit length overflow", m_ext, "runs past the end");
			hostile(b64, be, "section cut inside an entry", m_cut, "");
			hostile(b64, be, "FDE shorter than its pc_begin", m_range, "truncated in pc_");
			hostile(b64, be, "aligned FDE encoding", m_enc, "encoding not understood");
			hostile(b64, be, "unknown augmentation", m_aug, "not understood");
		}
	return tap_done();
}
