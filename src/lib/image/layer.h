/* Applies one layer tar (already decompressed) onto the merged tree. */
#ifndef DG_LAYER_H
#define DG_LAYER_H

#include "dockergate/fs.h"
#include "image/stream.h"

struct dg_layer_stats {
	uint64_t entries, whiteouts, opaque;
};

/* LAYER is 1-based. *ENTRIES_USED counts entries across layers against
 * limits->max_entries. Reads TAR to its end-of-archive marker, not beyond. */
int dg_layer_apply(struct dg_fs *fs, struct dg_stream *tar, uint32_t layer,
		   const struct dg_limits *limits, uint64_t *entries_used,
		   struct dg_layer_stats *st, struct dg_error *err);

/* Classifies a file from its first bytes. */
/* What to keep of a regular file, from its path in the image and first bytes. */
enum dg_content_kind dg_sniff(const char *path, const unsigned char *p, size_t n);

#endif
