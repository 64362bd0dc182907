/* Image front end: recognises the input, dispatches to a format reader, then
 * streams every layer exactly once through digest checks into the merged tree. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/blobstore.h"
#include "image/image_internal.h"
#include "image/layer.h"
#include "image/stream.h"
#include "dockergate/util.h"

void dg_fs_set_blobs(struct dg_fs *fs, struct dg_blobstore *bs);

void dg_image_opts_default(struct dg_image_opts *o)
{
	memset(o, 0, sizeof *o);
	dg_limits_default(&o->limits);
}

json_t *dg_json_parse(const char *data, size_t len, const char *what, struct dg_error *err)
{
	json_error_t je;
	/* Duplicate keys are refused: two readers must never disagree on a value. */
	json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		dg_err(err, DG_E_IMAGE, "%s: invalid JSON at line %d column %d: %s", what, je.line,
		       je.column, je.text);
	return j;
}

static int get_strv(json_t *obj, const char *key, struct dg_strv *out, int *present,
		    struct dg_error *err)
{
	json_t *v = json_object_get(obj, key);
	if (present)
		*present = v && !json_is_null(v);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return dg_err(err, DG_E_IMAGE, "config: %s: expected an array of strings", key);
	size_t i;
	json_t *x;
	json_array_foreach(v, i, x)
	{
		if (!json_is_string(x))
			return dg_err(err, DG_E_IMAGE, "config: %s[%zu]: expected a string", key, i);
		dg_strv_push(out, json_string_value(x));
	}
	return 0;
}

static int get_str(json_t *obj, const char *key, char **out, struct dg_error *err)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return dg_err(err, DG_E_IMAGE, "config: %s: expected a string", key);
	*out = dg_xstrdup(json_string_value(v));
	return 0;
}

int dg_parse_config(struct dg_image *img, const char *data, size_t len, unsigned char **diff_ids,
		    size_t *ndiff, struct dg_error *err)
{
	json_t *j = dg_json_parse(data, len, "image config", err);
	if (!j)
		return -1;
	int rc = -1;
	struct dg_image_config *c = &img->info.config;
	if (!json_is_object(j)) {
		dg_err(err, DG_E_IMAGE, "image config: not a JSON object");
		goto out;
	}
	if (get_str(j, "os", &c->os, err) < 0 || get_str(j, "architecture", &c->architecture, err) < 0 ||
	    get_str(j, "variant", &c->variant, err) < 0)
		goto out;
	json_t *cfg = json_object_get(j, "config");
	if (cfg && !json_is_null(cfg)) {
		if (!json_is_object(cfg)) {
			dg_err(err, DG_E_IMAGE, "image config: config: expected an object");
			goto out;
		}
		if (get_strv(cfg, "Entrypoint", &c->entrypoint, &c->has_entrypoint, err) < 0 ||
		    get_strv(cfg, "Cmd", &c->cmd, &c->has_cmd, err) < 0 ||
		    get_strv(cfg, "Env", &c->env, NULL, err) < 0 ||
		    get_str(cfg, "WorkingDir", &c->working_dir, err) < 0 ||
		    get_str(cfg, "User", &c->user, err) < 0)
			goto out;
	}
	json_t *rootfs = json_object_get(j, "rootfs");
	json_t *ids = rootfs ? json_object_get(rootfs, "diff_ids") : NULL;
	if (!json_is_object(rootfs) || !json_is_array(ids)) {
		dg_err(err, DG_E_IMAGE, "image config: rootfs.diff_ids missing");
		goto out;
	}
	size_t n = json_array_size(ids);
	if (n > img->opts.limits.max_layers) {
		dg_err(err, DG_E_LIMIT, "image config: %zu layers, over the limit of %u", n,
		       img->opts.limits.max_layers);
		goto out;
	}
	*diff_ids = dg_xcalloc(n ? n : 1, 32);
	*ndiff = n;
	for (size_t i = 0; i < n; i++) {
		char what[64];
		snprintf(what, sizeof what, "image config: rootfs.diff_ids[%zu]", i);
		if (dg_parse_digest(json_string_value(json_array_get(ids, i)), *diff_ids + 32 * i, what,
				    err) < 0)
			goto out;
	}
	rc = 0;
out:
	json_decref(j);
	return rc;
}

void dg_platform_default(char *buf, size_t n)
{
#if defined(__x86_64__)
	snprintf(buf, n, "linux/amd64");
#elif defined(__aarch64__)
	snprintf(buf, n, "linux/arm64");
#else
	snprintf(buf, n, "linux/unknown");
#endif
}

int dg_check_platform(struct dg_image *img, struct dg_error *err)
{
	const struct dg_image_config *c = &img->info.config;
	if (!img->opts.platform)
		return 0;
	char want[256];
	snprintf(want, sizeof want, "%s", img->opts.platform);
	char *os = want, *arch = strchr(want, '/'), *var = NULL;
	if (!arch)
		return dg_err(err, DG_E_USAGE, "--platform: expected os/arch[/variant], got '%s'", want);
	*arch++ = 0;
	if ((var = strchr(arch, '/')))
		*var++ = 0;
	int ok = c->os && c->architecture && !strcmp(os, c->os) && !strcmp(arch, c->architecture) &&
		 (!var || (c->variant && !strcmp(var, c->variant)));
	if (!ok)
		return dg_err(err, DG_E_INPUT, "image is %s/%s%s%s, not the requested %s",
			      c->os ? c->os : "?", c->architecture ? c->architecture : "?",
			      c->variant ? "/" : "", c->variant ? c->variant : "", img->opts.platform);
	return 0;
}

static int is_compressed_file(int fd)
{
	unsigned char m[6] = {0};
	if (pread(fd, m, sizeof m, 0) < 2)
		return 0;
	return (m[0] == 0x1f && m[1] == 0x8b) || (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f) ||
	       !memcmp(m, "\xfd" "7zXZ", 5) || !memcmp(m, "BZh", 3);
}

/* `docker save | gzip` and friends: expand into a private temp file first. */
static int expand_outer(int fd, const char *label, const struct dg_image_opts *o, int *out,
			struct dg_error *err)
{
	int tfd;
	if (dg_tmpfile(o->tmpdir, &tfd, err) < 0)
		return -1;
	struct dg_stream *s;
	if (dg_stream_decompress(dg_stream_fd(fd, 0, 0, UINT64_MAX), &s, NULL, err) < 0) {
		close(tfd);
		return dg_err_prefix(err, "%s", label);
	}
	char buf[65536];
	uint64_t total = 0;
	for (;;) {
		ssize_t r = dg_stream_read(s, buf, sizeof buf, err);
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		total += (uint64_t)r;
		if (total > o->limits.max_expanded_bytes) {
			dg_err(err, DG_E_LIMIT, "expanded archive exceeds the limit of %llu bytes (--max-bytes)",
			       (unsigned long long)o->limits.max_expanded_bytes);
			goto fail;
		}
		if (dg_write_full(tfd, buf, (size_t)r, err) < 0)
			goto fail;
	}
	dg_stream_close(s);
	*out = tfd;
	return 0;
fail:
	dg_stream_close(s);
	close(tfd);
	return dg_err_prefix(err, "%s", label);
}

/* ---- the formats ---- */

enum fmt_input { IN_FILE, IN_DIR, IN_ENGINE };

struct fmt {
	const char *name;        /* dg_image_info.format */
	const char *prefix[2];   /* a spec starting with one forces the format */
	enum fmt_input input;    /* a tar file (maybe compressed), a directory, an engine's store */
	const char *marker;      /* the file whose presence says it is this format (NULL: any) */
	const char *noun;        /* for messages */
	int (*read)(struct dg_image *img, struct dg_error *err); /* index/manifest/config */
	int (*load)(struct dg_image *img, struct dg_error *err); /* the files, into img->fs */
};

static int read_nothing(struct dg_image *img, struct dg_error *err) { return 0; }
static int load_layers(struct dg_image *img, struct dg_error *err);

/* Tried in this order when no prefix names one: manifest.json before index.json
 * (an archive `docker save` wrote may carry both). */
static const struct fmt formats[] = {
	{"docker-archive", {"docker-archive:"}, IN_FILE, "manifest.json", "a docker-archive", dg_fmt_docker, load_layers},
	{"oci-archive", {"oci-archive:"}, IN_FILE, "index.json", "an oci-archive", dg_fmt_oci, load_layers},
	{"docker-dir", {NULL}, IN_DIR, "manifest.json", "a docker-save directory", dg_fmt_docker, load_layers},
	{"oci", {"oci:"}, IN_DIR, "index.json", "an OCI image layout", dg_fmt_oci, load_layers},
	{"rootfs", {"dir:", "rootfs:"}, IN_DIR, NULL, "a root filesystem directory", read_nothing, dg_rootfs_load},
	{"docker", {"docker:"}, IN_ENGINE, NULL, "an image in docker's store", NULL, NULL},
	{"podman", {"podman:"}, IN_ENGINE, NULL, "an image in podman's store", NULL, NULL},
};
#define NFORMATS (sizeof formats / sizeof *formats)

static const struct fmt *fmt_named(const char *name)
{
	for (size_t i = 0; i < NFORMATS; i++)
		if (!strcmp(formats[i].name, name))
			return &formats[i];
	return NULL;
}

static int has_marker(struct dg_image *img, const struct fmt *f, const char *path)
{
	if (!f->marker)
		return 1;
	if (f->input == IN_FILE)
		return img->src->ops->exists(img->src, f->marker);
	dg_autofree char *p = dg_xasprintf("%s/%s", path, f->marker);
	struct stat st;
	return stat(p, &st) == 0;
}

/* Reads the chosen format's metadata (a directory format gets its source first). */
static int use_format(struct dg_image *img, const struct fmt *f, const char *path, struct dg_error *err)
{
	img->fmt = f;
	img->info.format = f->name;
	if (f->input == IN_DIR) {
		if (f->marker && dg_source_dir(path, &img->opts.limits, &img->src, err) < 0)
			return -1;
		if (!f->marker)
			img->rootfs_path = dg_xstrdup(path);
	}
	return f->read(img, err);
}

/* WANT: the format a prefix asked for, or NULL to recognise it. */
static int open_archive(struct dg_image *img, int fd, const char *label, const struct fmt *want,
			struct dg_error *err)
{
	int tfd = -1;
	if (is_compressed_file(fd)) {
		if (expand_outer(fd, label, &img->opts, &tfd, err) < 0) {
			close(fd);
			return -1;
		}
		close(fd);
		fd = tfd;
	}
	if (dg_source_tar(fd, label, &img->opts.limits, &img->src, err) < 0)
		return -1;
	if (want) {
		if (!has_marker(img, want, label))
			return dg_err(err, DG_E_INPUT, "%s: no %s: not %s", label, want->marker, want->noun);
		return use_format(img, want, label, err);
	}
	for (size_t i = 0; i < NFORMATS; i++)
		if (formats[i].input == IN_FILE && has_marker(img, &formats[i], label))
			return use_format(img, &formats[i], label, err);
	return dg_err(err, DG_E_INPUT,
		      "%s: a tar archive without manifest.json or index.json: not a docker-archive or "
		      "oci-archive (for a plain root filesystem, unpack it and pass the directory)",
		      label);
}

static int open_dir(struct dg_image *img, const char *path, const struct fmt *want, struct dg_error *err)
{
	if (want) {
		if (!has_marker(img, want, path))
			return dg_err(err, DG_E_INPUT, "%s: no %s: not %s", path, want->marker, want->noun);
		return use_format(img, want, path, err);
	}
	for (size_t i = 0; i < NFORMATS; i++) /* the last directory format takes any directory */
		if (formats[i].input == IN_DIR && has_marker(img, &formats[i], path))
			return use_format(img, &formats[i], path, err);
	return dg_err(err, DG_E_INTERNAL, "%s: no directory format", path);
}

/* docker:REF, podman:REF: that CLI's `save` into a private temp file, read as a docker-archive. */
static int open_engine(struct dg_image *img, const struct fmt *f, const char *spec, const char *ref,
		       struct dg_error *err)
{
	if (!*ref)
		return dg_err(err, DG_E_USAGE, "%s: an image reference is needed after '%s'", spec, f->prefix[0]);
	int fd;
	if (dg_engine_save(f->name, ref, img->opts.tmpdir, &fd, err) < 0)
		return -1;
	if (open_archive(img, fd, spec, fmt_named("docker-archive"), err) < 0)
		return -1;
	img->info.format = f->name;
	return 0;
}

int dg_image_open(const char *spec, const struct dg_image_opts *opts, struct dg_image **out,
		  struct dg_error *err)
{
	struct dg_image *img = dg_xcalloc(1, sizeof *img);
	img->opts = *opts;
	img->info.source = dg_xstrdup(spec);
	const char *path = spec;
	const struct fmt *want = NULL;
	int rc = -1;
	for (size_t i = 0; i < NFORMATS && !want; i++)
		for (size_t k = 0; k < 2 && formats[i].prefix[k]; k++)
			if (!strncmp(spec, formats[i].prefix[k], strlen(formats[i].prefix[k]))) {
				want = &formats[i];
				path = spec + strlen(formats[i].prefix[k]);
				break;
			}
	if (want && want->input == IN_ENGINE) {
		rc = open_engine(img, want, spec, path, err);
		goto out;
	}
	struct stat st;
	if (stat(path, &st) < 0) {
		dg_err_sys(err, DG_E_INPUT, errno, "%s", path);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		if (want && want->input != IN_DIR) {
			dg_err(err, DG_E_INPUT, "%s: is a directory, not a %s file", path, want->name);
			goto out;
		}
		rc = open_dir(img, path, want, err);
	} else if (S_ISREG(st.st_mode)) {
		if (want && want->input != IN_FILE) {
			dg_err(err, DG_E_INPUT, "%s: is a file, not a directory", path);
			goto out;
		}
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			dg_err_sys(err, DG_E_INPUT, errno, "%s", path);
			goto out;
		}
		rc = open_archive(img, fd, path, want, err);
	} else {
		dg_err(err, DG_E_INPUT, "%s: not a file or directory", path);
	}
out:
	if (rc < 0) {
		dg_image_free(img);
		return -1;
	}
	*out = img;
	return 0;
}

static int load_layer(struct dg_image *img, size_t i, uint64_t *budget, uint64_t *entries,
		      struct dg_error *err)
{
	struct dg_layer_src *ls = &img->lsrc[i];
	struct dg_layer_info *li = &img->info.layers[i];
	struct dg_stream *raw;
	uint64_t size;
	if (img->src->ops->open(img->src, ls->name, &raw, &size, err) < 0)
		return -1;
	li->size = size;
	struct dg_stream *blob = dg_stream_digest(raw, ls->has_digest ? ls->digest : NULL, ls->size,
						  "layer blob", NULL, 0);
	struct dg_stream *dec;
	if (dg_stream_decompress(blob, &dec, &li->compression, err) < 0)
		return -1;
	struct dg_stream *tar = dg_stream_digest(dec, ls->diff_id, -1, "layer content (diff_id)", budget,
						 img->opts.limits.max_expanded_bytes);
	struct dg_layer_stats st;
	int rc = dg_layer_apply(img->fs, tar, (uint32_t)(i + 1), &img->opts.limits, entries, &st, err);
	if (rc == 0)
		rc = dg_stream_drain(tar, err); /* the hashes cover the bytes after the tar end, too */
	if (rc == 0) {
		dg_stream_digest_result(tar, NULL, &li->expanded);
		li->entries = st.entries;
		li->whiteouts = st.whiteouts;
		li->opaque = st.opaque;
	}
	dg_stream_close(tar);
	return rc;
}

static int load_layers(struct dg_image *img, struct dg_error *err)
{
	uint64_t budget = 0, entries = 0;
	for (size_t i = 0; i < img->info.nlayers; i++) {
		if (load_layer(img, i, &budget, &entries, err) < 0) {
			const char *d = img->info.layers[i].digest ? img->info.layers[i].digest
								   : img->info.layers[i].diff_id;
			return dg_err_prefix(err, "layer %zu (%.19s…)", i + 1, d ? d : "?");
		}
	}
	return 0;
}

int dg_image_load(struct dg_image *img, struct dg_error *err)
{
	if (img->loaded)
		return 0;
	img->fs = dg_fs_new(&img->opts.limits);
	dg_fs_set_blobs(img->fs, dg_blobstore_new(img->opts.tmpdir, img->opts.limits.max_stored_file,
						  img->opts.limits.max_stored_total));
	if (img->fmt->load(img, err) < 0)
		return -1;
	img->loaded = 1;
	return 0;
}

const struct dg_image_info *dg_image_info(const struct dg_image *img) { return &img->info; }
struct dg_fs *dg_image_fs(struct dg_image *img) { return img->fs; }

void dg_image_free(struct dg_image *img)
{
	if (!img)
		return;
	struct dg_image_info *in = &img->info;
	struct dg_image_config *c = &in->config;
	free(c->os);
	free(c->architecture);
	free(c->variant);
	dg_strv_free(&c->entrypoint);
	dg_strv_free(&c->cmd);
	dg_strv_free(&c->env);
	free(c->working_dir);
	free(c->user);
	for (size_t i = 0; i < in->nlayers; i++) {
		free(in->layers[i].digest);
		free(in->layers[i].diff_id);
		free(in->layers[i].media_type);
		free(in->layers[i].path);
		free(img->lsrc[i].name);
	}
	free(in->layers);
	free(img->lsrc);
	for (size_t i = 0; i < in->nrefs; i++)
		free(in->refs[i]);
	free(in->refs);
	free(in->source);
	free(in->ref);
	free(in->manifest_digest);
	free(in->config_digest);
	dg_source_free(img->src);
	free(img->rootfs_path);
	dg_fs_free(img->fs);
	free(img);
}
