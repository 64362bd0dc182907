/* Where image files come from: a directory (OCI layout) or a tar archive
 * (docker-archive, oci-archive), behind one small table of operations. */
#ifndef DG_SOURCE_H
#define DG_SOURCE_H

#include <stdbool.h>

#include "dockergate/limits.h"
#include "image/stream.h"

struct dg_source;

struct dg_source_ops {
	const char *kind;
	bool (*exists)(struct dg_source *s, const char *name);
	/* Opens NAME (a relative path inside the source); *size is its size. */
	int (*open)(struct dg_source *s, const char *name, struct dg_stream **out, uint64_t *size,
		    struct dg_error *err);
	void (*free)(struct dg_source *s);
};

struct dg_source {
	const struct dg_source_ops *ops;
	struct dg_limits limits;
};

/* A directory opened without following symlinks anywhere below it. */
int dg_source_dir(const char *path, const struct dg_limits *l, struct dg_source **out,
		  struct dg_error *err);
/* An uncompressed tar file; FD is taken over. Symlinked entries are followed
 * inside the archive (Docker 25 writes <id>/layer.tar as symlinks to blobs/). */
int dg_source_tar(int fd, const char *label, const struct dg_limits *l, struct dg_source **out,
		  struct dg_error *err);

static inline void dg_source_free(struct dg_source *s)
{
	if (s)
		s->ops->free(s);
}

/* Reads a whole JSON document NAME, verifying EXPECT digest when non-NULL. */
int dg_source_read(struct dg_source *s, const char *name, const unsigned char *expect,
		   int64_t expect_size, char **data, size_t *len, struct dg_error *err);

#endif
