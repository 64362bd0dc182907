/* Bounds-checked binary records for the analysis cache (see ser.h). */
#include <stdlib.h>
#include <string.h>

#include "base/ser.h"

void dg_ser_u8(struct dg_buf *b, uint8_t v) { dg_buf_append(b, &v, 1); }

void dg_ser_u32(struct dg_buf *b, uint32_t v)
{
	unsigned char t[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
			      (unsigned char)(v >> 24)};
	dg_buf_append(b, t, 4);
}

void dg_ser_u64(struct dg_buf *b, uint64_t v)
{
	dg_ser_u32(b, (uint32_t)v);
	dg_ser_u32(b, (uint32_t)(v >> 32));
}

void dg_ser_str(struct dg_buf *b, const char *s)
{
	if (!s) {
		dg_ser_u32(b, UINT32_MAX);
		return;
	}
	size_t l = strlen(s);
	dg_ser_u32(b, (uint32_t)l);
	dg_buf_append(b, s, l);
}

static const unsigned char *take(struct dg_de *d, size_t k)
{
	if (d->bad || k > d->n - d->pos) {
		d->bad = 1;
		return NULL;
	}
	const unsigned char *p = d->p + d->pos;
	d->pos += k;
	return p;
}

uint8_t dg_de_u8(struct dg_de *d)
{
	const unsigned char *p = take(d, 1);
	return p ? p[0] : 0;
}

uint32_t dg_de_u32(struct dg_de *d)
{
	const unsigned char *p = take(d, 4);
	return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24 : 0;
}

uint64_t dg_de_u64(struct dg_de *d)
{
	uint64_t lo = dg_de_u32(d);
	return lo | (uint64_t)dg_de_u32(d) << 32;
}

char *dg_de_str(struct dg_de *d, size_t max)
{
	uint32_t l = dg_de_u32(d);
	if (d->bad || l == UINT32_MAX)
		return NULL;
	if (l > max) {
		d->bad = 1;
		return NULL;
	}
	const unsigned char *p = take(d, l);
	if (!p || memchr(p, 0, l)) {
		d->bad = 1;
		return NULL;
	}
	return dg_xstrndup((const char *)p, l);
}

uint32_t dg_de_count(struct dg_de *d, size_t min_item)
{
	uint32_t c = dg_de_u32(d);
	if (!d->bad && min_item && c > (d->n - d->pos) / min_item)
		d->bad = 1;
	return d->bad ? 0 : c;
}

void dg_ser_uv(struct dg_buf *b, uint64_t v)
{
	unsigned char t[10];
	size_t n = 0;
	do {
		t[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	dg_buf_append(b, t, n);
}

uint64_t dg_de_uv(struct dg_de *d)
{
	uint64_t v = 0;
	for (unsigned sh = 0; !d->bad; sh += 7) {
		if (d->pos >= d->n || sh > 63) {
			d->bad = 1;
			break;
		}
		unsigned char c = d->p[d->pos++];
		if (sh == 63 && (c & 0x7e)) { /* more than 64 bits */
			d->bad = 1;
			break;
		}
		v |= (uint64_t)(c & 0x7f) << sh;
		if (!(c & 0x80))
			return v;
	}
	return 0;
}
