/* Opening container images in every supported form and merging their layers. */
#ifndef DOCKERGATE_IMAGE_H
#define DOCKERGATE_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "dockergate/error.h"
#include "dockergate/fs.h"
#include "dockergate/limits.h"

struct dg_image_opts {
	const char *platform; /* "os/arch[/variant]" or NULL (host default) */
	const char *ref;      /* tag or ref name to choose among several, or NULL */
	const char *tmpdir;   /* private temp files go here; NULL = $TMPDIR or /tmp */
	struct dg_limits limits;
};

struct dg_strv {
	char **v;
	size_t n;
};

struct dg_image_config {
	char *os, *architecture, *variant;
	struct dg_strv entrypoint, cmd, env;
	int has_entrypoint, has_cmd; /* distinguishes absent from empty */
	char *working_dir, *user;
};

enum dg_compression { DG_COMP_NONE, DG_COMP_GZIP, DG_COMP_ZSTD, DG_COMP_XZ, DG_COMP_BZIP2 };

struct dg_layer_info {
	char *digest;     /* blob digest ("sha256:…") or NULL when the format has none */
	char *diff_id;    /* from the config */
	char *media_type; /* or NULL */
	char *path;       /* location inside the archive or layout */
	uint64_t size;    /* bytes of the stored (maybe compressed) blob */
	enum dg_compression compression; /* detected from the bytes */
	uint64_t expanded;               /* uncompressed tar bytes */
	uint64_t entries;                /* tar entries */
	uint64_t whiteouts, opaque;
};

struct dg_image_info {
	const char *format; /* "docker-archive", "oci", "oci-archive", "rootfs", ... */
	char *source;       /* what the user named */
	char *ref;          /* chosen tag/ref name or NULL */
	char *manifest_digest; /* or NULL */
	char *config_digest;   /* image ID, or NULL for rootfs */
	int has_config;
	struct dg_image_config config;
	struct dg_layer_info *layers;
	size_t nlayers;
	char **refs; /* every ref/tag the input offers */
	size_t nrefs;
};

struct dg_image;

void dg_image_opts_default(struct dg_image_opts *o);

/* Reads index/manifest/config and verifies their digests; layers are not read yet. */
int dg_image_open(const char *spec, const struct dg_image_opts *opts, struct dg_image **out,
		  struct dg_error *err);
/* Streams every layer once, verifying digests, into the merged filesystem. */
int dg_image_load(struct dg_image *img, struct dg_error *err);
const struct dg_image_info *dg_image_info(const struct dg_image *img);
struct dg_fs *dg_image_fs(struct dg_image *img);
void dg_image_free(struct dg_image *img);

const char *dg_compression_name(enum dg_compression c);

#endif
