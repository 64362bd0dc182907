/* Content kept for analysis (ELF files and scripts), deduplicated by SHA-256,
 * appended to one private temp file that is unlinked at creation, so nothing
 * is left on disk whatever happens to the process. */
#ifndef DG_BLOBSTORE_H
#define DG_BLOBSTORE_H

#include <stdint.h>

#include "dockergate/error.h"

struct dg_blobstore;

struct dg_blobstore *dg_blobstore_new(const char *tmpdir, uint64_t max_file, uint64_t max_total);
void dg_blobstore_free(struct dg_blobstore *bs);

struct dg_blobw {
	struct dg_blobstore *bs;
	uint64_t start, size;
	void *hash; /* struct dg_sha256 */
	unsigned char *buf;
	size_t blen;
};

int dg_blobw_begin(struct dg_blobstore *bs, struct dg_blobw *w, struct dg_error *err);
int dg_blobw_write(struct dg_blobw *w, const void *data, size_t len, struct dg_error *err);
/* Finishes the blob: *off is where its content lives (an earlier copy when the
 * same content was stored before; the new bytes are then dropped). */
int dg_blobw_commit(struct dg_blobw *w, unsigned char sha[32], uint64_t *off, struct dg_error *err);
void dg_blobw_abort(struct dg_blobw *w);

/* Maps LEN bytes at OFF; valid until dg_blobstore_free. */
int dg_blobstore_get(struct dg_blobstore *bs, uint64_t off, uint64_t len, const unsigned char **p,
		     struct dg_error *err);
uint64_t dg_blobstore_bytes(const struct dg_blobstore *bs);

#endif
