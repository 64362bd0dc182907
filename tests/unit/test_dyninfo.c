/* The cached dynamic-info record: exact round trips, and a decoder that
 * refuses every truncation, extension and damaged field without crashing. */
#include <stdlib.h>
#include <string.h>

#include "dockergate/dyninfo.h"
#include "tap.h"
#include "dockergate/util.h"

static struct dg_dyninfo *sample(void)
{
	struct dg_dyninfo *d = dg_xcalloc(1, sizeof *d);
	d->cls.type = DG_ELF_PIE;
	d->cls.bits = d->bits = 64;
	d->cls.machine = d->machine = 62;
	d->cls.has_interp = d->cls.has_dynamic = 1;
	d->role = DG_ROLE_EXECUTABLE;
	d->interp = dg_xstrdup("/lib64/ld-linux-x86-64.so.2");
	d->runpath = dg_xstrdup("$ORIGIN/../lib");
	d->soname = NULL;
	d->rpath = dg_xstrdup(""); /* empty and absent are different */
	dg_strv_push(&d->needed, "libfoo.so.1");
	dg_strv_push(&d->needed, "libc.so.6");
	d->flags = 0x8;
	d->flags_1 = 0x08000001;
	d->is_go = 1;
	strcpy(d->build_id, "0123456789abcdef");
	return d;
}

static int same(const struct dg_dyninfo *a, const struct dg_dyninfo *b)
{
#define S(x) ((!a->x && !b->x) || (a->x && b->x && !strcmp(a->x, b->x)))
	if (a->cls.type != b->cls.type || a->bits != b->bits || a->machine != b->machine ||
	    a->cls.has_interp != b->cls.has_interp || a->cls.has_dynamic != b->cls.has_dynamic ||
	    a->cls.big_endian != b->cls.big_endian || a->role != b->role || a->flags != b->flags ||
	    a->flags_1 != b->flags_1 || a->is_go != b->is_go || a->is_rust != b->is_rust ||
	    strcmp(a->build_id, b->build_id) || !S(interp) || !S(soname) || !S(rpath) || !S(runpath) ||
	    !S(error) || a->needed.n != b->needed.n)
		return 0;
	for (size_t i = 0; i < a->needed.n; i++)
		if (strcmp(a->needed.v[i], b->needed.v[i]))
			return 0;
	return 1;
#undef S
}

int main(void)
{
	struct dg_error err = DG_ERROR_INIT;
	struct dg_dyninfo *d = sample(), *back = NULL;
	unsigned char *buf;
	size_t len;
	dg_dyninfo_encode(d, &buf, &len);
	ok(dg_dyninfo_decode(buf, len, &back, &err) == 0 && same(d, back), "a record survives encode/decode");
	dg_dyninfo_free(back);

	struct dg_dyninfo *bad = dg_dyninfo_bad("ELF: program headers out of bounds");
	unsigned char *bb;
	size_t bl;
	dg_dyninfo_encode(bad, &bb, &bl);
	ok(dg_dyninfo_decode(bb, bl, &back, &err) == 0 && same(bad, back) && back->error,
	   "a malformed-file record keeps its message");
	dg_dyninfo_free(back);
	free(bb);
	dg_dyninfo_free(bad);

	int refused = 1;
	for (size_t k = 0; k < len; k++) {
		back = NULL;
		if (dg_dyninfo_decode(buf, k, &back, &err) == 0) {
			refused = 0;
			dg_dyninfo_free(back);
		}
	}
	ok(refused, "every truncation (%zu of them) is refused", len);
	unsigned char *longer = dg_xmalloc(len + 1);
	memcpy(longer, buf, len);
	longer[len] = 0;
	ok(dg_dyninfo_decode(longer, len + 1, &back, &err) < 0, "trailing bytes are refused");
	free(longer);
	unsigned char v2[8];
	memcpy(v2, buf, 8);
	v2[4] ^= 0x02;
	unsigned char *other = dg_xmalloc(len);
	memcpy(other, buf, len);
	memcpy(other, v2, 8);
	ok(dg_dyninfo_decode(other, len, &back, &err) < 0, "another record version is refused");

	/* every single-byte change: refused or decoded, never a crash (the
	 * sanitizers watch), and a decoded record is consistent */
	size_t decoded = 0, consistent = 1;
	for (size_t k = 0; k < len; k++)
		for (int bit = 0; bit < 8; bit++) {
			memcpy(other, buf, len);
			other[k] ^= (unsigned char)(1u << bit);
			back = NULL;
			if (dg_dyninfo_decode(other, len, &back, &err) == 0) {
				decoded++;
				if (back->bits != 32 && back->bits != 64)
					consistent = 0;
				if (back->role < DG_ROLE_EXECUTABLE || back->role > DG_ROLE_OTHER)
					consistent = 0;
				dg_dyninfo_free(back);
			}
		}
	ok(consistent, "bit flips: %zu decoded, all within the record's ranges, the rest refused", decoded);
	srand(7);
	for (int i = 0; i < 20000; i++) {
		size_t n = (size_t)(rand() % 96);
		unsigned char r[96];
		for (size_t k = 0; k < n; k++)
			r[k] = (unsigned char)rand();
		if (n >= 8 && i % 2) /* a valid header, random rest */
			memcpy(r, buf, 8);
		back = NULL;
		if (dg_dyninfo_decode(r, n, &back, &err) == 0)
			dg_dyninfo_free(back);
	}
	ok(1, "20000 random records decoded or refused without a sanitizer report");
	/* a string length far beyond the record */
	memcpy(other, buf, len);
	other[8] = 0xfe;
	other[9] = 0xff;
	other[10] = 0xff;
	other[11] = 0x7f;
	ok(dg_dyninfo_decode(other, len, &back, &err) < 0, "an absurd string length is refused");
	free(other);
	free(buf);
	dg_dyninfo_free(d);
	return tap_done();
}
