/* A minimal length-prefixed binary encoding for cached analysis records:
 * little-endian integers and strings with explicit lengths. The reader never
 * trusts the bytes: every read is bounds-checked and sets a sticky error. */
#ifndef DG_SER_H
#define DG_SER_H

#include <stddef.h>
#include <stdint.h>

#include "dockergate/util.h"

void dg_ser_u8(struct dg_buf *b, uint8_t v);
void dg_ser_u32(struct dg_buf *b, uint32_t v);
void dg_ser_u64(struct dg_buf *b, uint64_t v);
void dg_ser_str(struct dg_buf *b, const char *s); /* NULL and "" are distinct */
void dg_ser_uv(struct dg_buf *b, uint64_t v);     /* LEB128: 1 byte per 7 bits */

struct dg_de {
	const unsigned char *p;
	size_t n, pos;
	int bad; /* set by any failed read; later reads return zero values */
};

uint8_t dg_de_u8(struct dg_de *d);
uint32_t dg_de_u32(struct dg_de *d);
uint64_t dg_de_u64(struct dg_de *d);
uint64_t dg_de_uv(struct dg_de *d); /* refuses more than 64 bits and truncated values */
/* A new string (or NULL when NULL was encoded); strings with NUL bytes or
 * longer than MAX are refused. */
char *dg_de_str(struct dg_de *d, size_t max);
/* A count of items of at least MIN_ITEM bytes each that must fit in what is left. */
uint32_t dg_de_count(struct dg_de *d, size_t min_item);

#endif
