/* Shared between the image front end and the format readers. */
#ifndef DG_IMAGE_INTERNAL_H
#define DG_IMAGE_INTERNAL_H

#include <jansson.h>

#include "dockergate/image.h"
#include "image/source.h"

struct dg_layer_src {
	char *name;           /* file inside the source */
	unsigned char digest[32];
	int has_digest;       /* blob digest known (OCI, Docker 25 blobs/) */
	int64_t size;         /* declared size or -1 */
	unsigned char diff_id[32];
};

struct fmt;

struct dg_image {
	const struct fmt *fmt;      /* the format (image.c's table) */
	struct dg_image_opts opts;
	struct dg_image_info info;
	struct dg_source *src;    /* NULL for a rootfs directory */
	char *rootfs_path;        /* for a rootfs directory */
	struct dg_layer_src *lsrc;
	struct dg_fs *fs;
	int loaded;
};

/* Format readers: fill img->info (config, layers) and img->lsrc. */
int dg_fmt_docker(struct dg_image *img, struct dg_error *err);
int dg_fmt_oci(struct dg_image *img, struct dg_error *err);
int dg_rootfs_load(struct dg_image *img, struct dg_error *err);
/* Runs `CLI save REF` into a private temp file; returns its fd. */
int dg_engine_save(const char *cli, const char *ref, const char *tmpdir, int *fd_out,
		   struct dg_error *err);

/* Parses an image config document into info->config and the diff_ids. */
int dg_parse_config(struct dg_image *img, const char *data, size_t len, unsigned char **diff_ids,
		    size_t *ndiff, struct dg_error *err);
json_t *dg_json_parse(const char *data, size_t len, const char *what, struct dg_error *err);
/* Checks the requested platform against the config's. */
int dg_check_platform(struct dg_image *img, struct dg_error *err);
void dg_platform_default(char *buf, size_t n);

#endif
