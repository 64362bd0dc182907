/* Pull streams: a file range, a digest-verifying filter, a decompressor.
 * Layers flow through them once: blob → digest → decompress → digest → tar. */
#ifndef DG_STREAM_H
#define DG_STREAM_H

#include <stdint.h>
#include <sys/types.h>

#include "dockergate/error.h"
#include "dockergate/image.h"

struct dg_stream {
	/* Returns bytes read, 0 at end of stream, -1 on error (err filled). */
	ssize_t (*read)(struct dg_stream *s, void *buf, size_t len, struct dg_error *err);
	void (*close)(struct dg_stream *s);
};

static inline ssize_t dg_stream_read(struct dg_stream *s, void *buf, size_t len,
				     struct dg_error *err)
{
	return s->read(s, buf, len, err);
}
void dg_stream_close(struct dg_stream *s);

/* Reads the fd from offset OFF for LEN bytes (UINT64_MAX: to end of file). */
struct dg_stream *dg_stream_fd(int fd, int own_fd, uint64_t off, uint64_t len);

/* Hashes and counts everything read through it. At end of stream compares the
 * hash with EXPECT (when non-NULL) and the count with EXPECT_SIZE (when >= 0);
 * a mismatch is an error naming WHAT. BUDGET/BUDGET_MAX, when given, cap the
 * bytes read through all streams sharing the budget. */
struct dg_stream *dg_stream_digest(struct dg_stream *inner, const unsigned char *expect,
				   int64_t expect_size, const char *what, uint64_t *budget,
				   uint64_t budget_max);
/* After end of stream: the hash and byte count of what passed through. */
void dg_stream_digest_result(struct dg_stream *s, unsigned char out[32], uint64_t *bytes);
int dg_stream_digest_done(struct dg_stream *s);

/* Detects gzip, zstd, xz or bzip2 by magic bytes and decompresses; passes
 * uncompressed data through. Takes ownership of INNER. */
int dg_stream_decompress(struct dg_stream *inner, struct dg_stream **out,
			 enum dg_compression *detected, struct dg_error *err);

/* Reads the rest of the stream into memory (NUL-terminated), at most MAX bytes. */
int dg_stream_slurp(struct dg_stream *s, uint64_t max, char **data, size_t *len,
		    const char *what, struct dg_error *err);
/* Reads and discards the rest of the stream. */
int dg_stream_drain(struct dg_stream *s, struct dg_error *err);

#endif
