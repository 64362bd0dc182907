/* Layer tar → merged tree, with the whiteout conventions of the OCI image
 * spec (".wh.NAME", ".wh..wh..opq"). Only ELF files and scripts have their
 * bytes kept; everything else is recorded as metadata and skipped. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image/blobstore.h"
#include "image/fs_internal.h"
#include "image/layer.h"
#include "dockergate/util.h"

/* "etc/ld-musl-ARCH.path" anywhere: musl's library search path file, which
 * the loader reads relative to its own location. */
static int is_musl_path_file(const char *path)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	size_t l = strlen(b);
	if (strncmp(b, "ld-musl-", 8) || l < 14 || strcmp(b + l - 5, ".path"))
		return 0;
	size_t dl = (size_t)(b - path);
	return (dl == 4 && !strncmp(path, "etc/", 4)) || (dl > 4 && !strncmp(b - 5, "/etc/", 5));
}

static int has_prefix(const char *s, const char *pre) { return !strncmp(s, pre, strlen(pre)); }

/* Configuration files that name objects programs dlopen (src/lib/scope/dlrules.c):
 * the NSS configuration, iconv's gconv-modules files, and the configuration
 * trees of nginx, Apache httpd, PHP, lighttpd, mosquitto and haproxy, OpenSSL's
 * openssl.cnf, libwrap's hosts.allow/hosts.deny (commands it runs), and every *.conf,
 * *.cfg and *.cnf file (a configuration a command line names). Kept whatever their
 * first bytes are. */
static int is_dlopen_config(const char *path)
{
	if (!strcmp(path, "etc/nsswitch.conf"))
		return 1;
	if (strstr(path, "gconv/gconv-modules") && !strstr(path, "gconv-modules.cache"))
		return 1;
	static const char *const trees[] = {"etc/nginx/", "usr/share/nginx/modules-available/", "etc/apache2/",
					    "etc/httpd/", "etc/php/", "usr/local/etc/php/", "etc/php.ini",
					    "usr/local/nginx/conf/", "usr/local/apache2/conf/", "etc/lighttpd/",
					    "usr/local/etc/lighttpd/", "etc/mosquitto/", "usr/local/etc/mosquitto/", "mosquitto/config/",
					    "etc/haproxy/", "usr/local/etc/haproxy/", "etc/ssl/openssl.cnf",
					    "etc/ssl/openssl.cnf.d/", "usr/lib/ssl/openssl.cnf", "usr/local/ssl/openssl.cnf",
					    "etc/pki/tls/openssl.cnf", "etc/hosts.allow", "etc/hosts.deny"};
	for (size_t i = 0; i < sizeof trees / sizeof *trees; i++)
		if (has_prefix(path, trees[i]))
			return 1;
	/* a server's configuration named on its command line (nginx -c, lighttpd -f, ...) can be
	 * anywhere: every *.conf, *.cfg and *.cnf file */
	size_t pl = strlen(path);
	static const char *const sfx[] = {".conf", ".cfg", ".cnf"};
	for (size_t i = 0; i < sizeof sfx / sizeof *sfx; i++) {
		size_t sl = strlen(sfx[i]);
		if (pl > sl && !strcmp(path + pl - sl, sfx[i]))
			return 1;
	}
	return 0;
}

enum dg_content_kind dg_sniff(const char *path, const unsigned char *p, size_t n)
{
	if (path && is_musl_path_file(path))
		return DG_CONTENT_CONFIG;
	if (n >= 4 && p[0] == 0x7f && p[1] == 'E' && p[2] == 'L' && p[3] == 'F')
		return DG_CONTENT_ELF;
	if (n >= 2 && p[0] == '#' && p[1] == '!')
		return DG_CONTENT_SCRIPT;
	if ((n >= 11 && !memcmp(p, "ld.so-1.7.0", 11)) || (n >= 17 && !memcmp(p, "glibc-ld.so.cache", 17)))
		return DG_CONTENT_LDCACHE;
	if (path && n && is_dlopen_config(path))
		return DG_CONTENT_CONFIG;
	size_t pl = path ? strlen(path) : 0;
	if ((pl > 3 && !strcmp(path + pl - 3, ".sh")) || (pl > 5 && !strcmp(path + pl - 5, ".bash")))
		return DG_CONTENT_SHTEXT;
	return DG_CONTENT_NONE;
}

struct tar_ctx {
	struct dg_stream *in;
	unsigned char buf[128 * 1024];
	struct dg_error err;
	int failed;
};

static la_ssize_t tar_cb(struct archive *a, void *ud, const void **buf)
{
	struct tar_ctx *c = ud;
	ssize_t r = dg_stream_read(c->in, c->buf, sizeof c->buf, &c->err);
	if (r < 0) {
		c->failed = 1;
		archive_set_error(a, EIO, "%s", c->err.msg);
		return -1;
	}
	*buf = c->buf;
	return r;
}

static int la_fail(struct archive *a, struct tar_ctx *c, const char *what, struct dg_error *err)
{
	if (c->failed) {
		if (err)
			*err = c->err;
		return -1;
	}
	const char *m = archive_error_string(a);
	return dg_err(err, DG_E_IMAGE, "%s: %s", what, m ? m : "malformed tar data");
}

/* Reads a regular file's data; keeps it when it is an ELF file or a script. */
static int read_file(struct archive *a, struct tar_ctx *c, struct dg_fs *fs, const char *path,
		     struct dg_inode *ino, struct dg_error *err)
{
	unsigned char head[65536];
	size_t hn = 0;
	while (hn < 4) {
		la_ssize_t r = archive_read_data(a, head + hn, sizeof head - hn);
		if (r < 0)
			return la_fail(a, c, "reading file data", err);
		if (r == 0)
			break;
		hn += (size_t)r;
	}
	ino->kind = dg_sniff(path, head, hn);
	if (ino->kind == DG_CONTENT_NONE) {
		if (archive_read_data_skip(a) != ARCHIVE_OK)
			return la_fail(a, c, "skipping file data", err);
		return 0;
	}
	struct dg_blobw w;
	if (dg_blobw_begin(dg_fs_blobs(fs), &w, err) < 0)
		return -1;
	if (dg_blobw_write(&w, head, hn, err) < 0)
		goto fail;
	for (;;) {
		la_ssize_t r = archive_read_data(a, head, sizeof head);
		if (r < 0) {
			la_fail(a, c, "reading file data", err);
			goto fail;
		}
		if (r == 0)
			break;
		if (dg_blobw_write(&w, head, (size_t)r, err) < 0)
			goto fail;
	}
	ino->size = w.size;
	return dg_blobw_commit(&w, ino->sha256, &ino->blob_off, err);
fail:
	dg_blobw_abort(&w);
	return -1;
}

static int apply_entry(struct archive *a, struct tar_ctx *c, struct dg_fs *fs,
		       struct archive_entry *e, uint32_t layer, const struct dg_limits *limits,
		       struct dg_layer_stats *st, const char *raw, struct dg_error *err)
{
	dg_autofree char *path = NULL;
	if (dg_archive_path_clean(raw, limits->max_path, &path, err) < 0)
		return -1;
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	struct dg_entry_meta m = {
		.mode = (uint32_t)archive_entry_perm(e),
		.uid = (uint32_t)archive_entry_uid(e),
		.gid = (uint32_t)archive_entry_gid(e),
		.layer = layer,
	};
	if (strncmp(base, ".wh.", 4) == 0) {
		dg_autofree char *dir = dg_xstrndup(path, slash ? (size_t)(slash - path) : 0);
		if (strcmp(base, ".wh..wh..opq") == 0) {
			st->opaque++;
			return dg_fs_apply_opaque(fs, dir, layer, err);
		}
		if (strncmp(base, ".wh..wh.", 8) == 0)
			return 0; /* aufs bookkeeping (.wh..wh.plnk etc.): not content */
		if (!base[4])
			return dg_err(err, DG_E_IMAGE, "whiteout with an empty name");
		st->whiteouts++;
		dg_autofree char *victim =
			*dir ? dg_xasprintf("%s/%s", dir, base + 4) : dg_xstrdup(base + 4);
		return dg_fs_apply_whiteout(fs, victim, layer, err);
	}
	const char *hl = archive_entry_hardlink(e);
	if (hl) {
		dg_autofree char *lp = NULL;
		if (dg_archive_path_clean(hl, limits->max_path, &lp, err) < 0)
			return dg_err_prefix(err, "hardlink target");
		if (!*lp)
			return dg_err(err, DG_E_IMAGE, "hardlink to the image root refused");
		return dg_fs_apply_hardlink(fs, path, lp, &m, err);
	}
	switch (archive_entry_filetype(e)) {
	case AE_IFDIR:
		return dg_fs_apply_dir(fs, path, &m, err);
	case AE_IFLNK: {
		const char *t = archive_entry_symlink(e);
		return dg_fs_apply_symlink(fs, path, t ? t : "", &m, err);
	}
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO:
	case AE_IFSOCK: {
		enum dg_ftype t = archive_entry_filetype(e) == AE_IFCHR   ? DG_F_CHR
				  : archive_entry_filetype(e) == AE_IFBLK ? DG_F_BLK
				  : archive_entry_filetype(e) == AE_IFIFO ? DG_F_FIFO
									  : DG_F_SOCK;
		return dg_fs_apply_special(fs, path, t, &m, (uint32_t)archive_entry_rdevmajor(e),
					   (uint32_t)archive_entry_rdevminor(e), err);
	}
	case AE_IFREG:
	case 0: {
		if (!*path)
			return dg_err(err, DG_E_IMAGE, "file entry names the image root");
		struct dg_inode *ino = dg_inode_new();
		int64_t sz = archive_entry_size(e);
		ino->size = sz > 0 ? (uint64_t)sz : 0;
		if (sz > 0 && read_file(a, c, fs, path, ino, err) < 0) {
			dg_inode_unref(ino);
			return -1;
		}
		return dg_fs_apply_file(fs, path, &m, ino, err);
	}
	default:
		return dg_err(err, DG_E_IMAGE, "unknown entry type %o", archive_entry_filetype(e));
	}
}

int dg_layer_apply(struct dg_fs *fs, struct dg_stream *tar, uint32_t layer,
		   const struct dg_limits *limits, uint64_t *entries_used,
		   struct dg_layer_stats *st, struct dg_error *err)
{
	struct tar_ctx *c = dg_xcalloc(1, sizeof *c);
	c->in = tar;
	struct archive *a = archive_read_new();
	int rc = -1;
	memset(st, 0, sizeof *st);
	archive_read_support_format_tar(a);
	if (archive_read_open(a, c, NULL, tar_cb, NULL) != ARCHIVE_OK) {
		la_fail(a, c, "not a tar archive", err);
		goto out;
	}
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			la_fail(a, c, st->entries ? "malformed or truncated tar data" : "not a tar archive",
				err);
			if (st->entries)
				dg_err_prefix(err, "after entry %llu", (unsigned long long)st->entries);
			goto out;
		}
		if (++*entries_used > limits->max_entries) {
			dg_err(err, DG_E_LIMIT, "more than %llu entries in the image's layers",
			       (unsigned long long)limits->max_entries);
			goto out;
		}
		st->entries++;
		const char *raw = archive_entry_pathname(e);
		if (!raw)
			raw = archive_entry_pathname_utf8(e);
		if (!raw) {
			dg_err(err, DG_E_IMAGE, "entry %llu has no usable name",
			       (unsigned long long)st->entries);
			goto out;
		}
		if (apply_entry(a, c, fs, e, layer, limits, st, raw, err) < 0) {
			struct dg_buf b = {0};
			dg_buf_put_escaped(&b, raw);
			dg_err_prefix(err, "%s", b.data ? b.data : "");
			dg_buf_free(&b);
			goto out;
		}
	}
	rc = 0;
out:
	archive_read_free(a);
	free(c);
	return rc;
}
