/* Directory and tar-archive sources. Names come from manifests, which are
 * untrusted: they are cleaned and never allowed to leave the source. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/fs_internal.h"
#include "image/source.h"
#include "dockergate/util.h"

/* ---- directory ---- */
struct dir_source {
	struct dg_source s;
	int dfd;
	char *path;
};

static int dir_openat(struct dir_source *d, const char *name, int *fd_out, struct dg_error *err)
{
	dg_autofree char *clean = NULL;
	if (dg_archive_path_clean(name, d->s.limits.max_path, &clean, err) < 0 || !*clean)
		return dg_err(err, DG_E_IMAGE, "invalid file name '%.200s' in a manifest", name);
	int cur = dup(d->dfd);
	if (cur < 0)
		return dg_err_sys(err, DG_E_ENV, errno, "dup");
	char *p = clean;
	for (;;) {
		char *slash = strchr(p, '/');
		if (slash)
			*slash = 0;
		int nfd = openat(cur, p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (slash ? O_DIRECTORY : 0));
		int e = errno;
		close(cur);
		if (nfd < 0) {
			if (e == ELOOP)
				return dg_err(err, DG_E_IMAGE, "%s/%s: symlinks are not followed in an image layout",
					      d->path, name);
			return dg_err_sys(err, e == ENOENT ? DG_E_IMAGE : DG_E_INPUT, e, "%s/%s", d->path,
					  name);
		}
		cur = nfd;
		if (!slash)
			break;
		p = slash + 1;
	}
	struct stat st;
	if (fstat(cur, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(cur);
		return dg_err(err, DG_E_IMAGE, "%s/%s: not a regular file", d->path, name);
	}
	*fd_out = cur;
	return 0;
}

static bool dir_exists(struct dg_source *s, const char *name)
{
	struct dg_error e = DG_ERROR_INIT;
	int fd;
	if (dir_openat((struct dir_source *)s, name, &fd, &e) < 0)
		return false;
	close(fd);
	return true;
}

static int dir_open(struct dg_source *s, const char *name, struct dg_stream **out, uint64_t *size,
		    struct dg_error *err)
{
	int fd;
	if (dir_openat((struct dir_source *)s, name, &fd, err) < 0)
		return -1;
	struct stat st;
	fstat(fd, &st);
	*size = (uint64_t)st.st_size;
	*out = dg_stream_fd(fd, 1, 0, (uint64_t)st.st_size);
	return 0;
}

static void dir_free(struct dg_source *s)
{
	struct dir_source *d = (struct dir_source *)s;
	close(d->dfd);
	free(d->path);
	free(d);
}

static const struct dg_source_ops dir_ops = {"directory", dir_exists, dir_open, dir_free};

int dg_source_dir(const char *path, const struct dg_limits *l, struct dg_source **out,
		  struct dg_error *err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return dg_err_sys(err, DG_E_INPUT, errno, "%s", path);
	struct dir_source *d = dg_xcalloc(1, sizeof *d);
	d->s.ops = &dir_ops;
	d->s.limits = *l;
	d->dfd = fd;
	d->path = dg_xstrdup(path);
	*out = &d->s;
	return 0;
}

/* ---- tar archive ---- */
struct tent {
	char *name;
	char *link; /* symlink or hardlink target, cleaned, relative to the archive root */
	int type;   /* AE_IFREG, AE_IFDIR, AE_IFLNK, or -1 for a hardlink */
	uint64_t size;
	size_t index;
};

struct tar_source {
	struct dg_source s;
	int fd;
	char *label;
	struct tent *ents;
	size_t n;
};

struct rd {
	int fd;
	uint64_t off;
	unsigned char buf[128 * 1024];
};

static la_ssize_t rd_read(struct archive *a, void *ud, const void **buf)
{
	struct rd *r = ud;
	for (;;) {
		ssize_t n = pread(r->fd, r->buf, sizeof r->buf, (off_t)r->off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			archive_set_error(a, errno, "read failed");
			return -1;
		}
		r->off += (uint64_t)n;
		*buf = r->buf;
		return n;
	}
}

static la_int64_t rd_skip(struct archive *a, void *ud, la_int64_t req)
{
	struct rd *r = ud;
	(void)a;
	struct stat st;
	if (fstat(r->fd, &st) < 0)
		return 0;
	uint64_t left = (uint64_t)st.st_size > r->off ? (uint64_t)st.st_size - r->off : 0;
	uint64_t n = (uint64_t)req < left ? (uint64_t)req : left;
	r->off += n;
	return (la_int64_t)n;
}

static struct archive *tar_reader(int fd, struct rd **rdp)
{
	struct rd *r = dg_xcalloc(1, sizeof *r);
	r->fd = fd;
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	archive_read_set_callback_data(a, r);
	archive_read_set_read_callback(a, rd_read);
	archive_read_set_skip_callback(a, rd_skip);
	*rdp = r;
	return a;
}

static struct tent *tar_find(struct tar_source *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->ents[i].name, name) == 0)
			return &t->ents[i];
	return NULL;
}

/* Resolves a symlinked member: target relative to the link's directory. */
static char *join_link(const char *name, const char *target)
{
	if (target[0] == '/')
		return dg_xstrdup(target + 1);
	const char *slash = strrchr(name, '/');
	struct dg_strv parts = {0};
	struct dg_buf b = {0};
	if (slash)
		dg_buf_append(&b, name, (size_t)(slash - name + 1));
	dg_buf_puts(&b, target);
	char *s = dg_buf_steal(&b);
	for (char *save = NULL, *tok = strtok_r(s, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (!strcmp(tok, "."))
			continue;
		if (!strcmp(tok, "..")) {
			if (parts.n)
				free(parts.v[--parts.n]);
			continue;
		}
		dg_strv_push(&parts, tok);
	}
	free(s);
	for (size_t i = 0; i < parts.n; i++) {
		if (i)
			dg_buf_putc(&b, '/');
		dg_buf_puts(&b, parts.v[i]);
	}
	dg_strv_free(&parts);
	return b.data ? dg_buf_steal(&b) : dg_xstrdup("");
}

static struct tent *tar_lookup(struct tar_source *t, const char *name)
{
	dg_autofree char *cur = dg_xstrdup(name);
	for (int hops = 0; hops < 16; hops++) {
		struct tent *e = tar_find(t, cur);
		if (!e)
			return NULL;
		if (e->type == AE_IFREG)
			return e;
		if (e->type == -1) {
			free(cur);
			cur = dg_xstrdup(e->link);
			continue;
		}
		if (e->type != AE_IFLNK)
			return NULL;
		char *n = join_link(cur, e->link);
		free(cur);
		cur = n;
	}
	return NULL;
}

static bool tar_exists(struct dg_source *s, const char *name)
{
	return tar_lookup((struct tar_source *)s, name) != NULL;
}

struct tar_stream {
	struct dg_stream st;
	struct archive *a;
	struct rd *rd;
	char *what;
};

static ssize_t tarst_read(struct dg_stream *s, void *buf, size_t len, struct dg_error *err)
{
	struct tar_stream *t = (struct tar_stream *)s;
	la_ssize_t r = archive_read_data(t->a, buf, len);
	if (r < 0)
		return dg_err(err, DG_E_IMAGE, "%s: %s", t->what,
			      archive_error_string(t->a) ? archive_error_string(t->a) : "truncated archive");
	return r;
}

static void tarst_close(struct dg_stream *s)
{
	struct tar_stream *t = (struct tar_stream *)s;
	archive_read_free(t->a);
	free(t->rd);
	free(t->what);
	free(t);
}

static int tar_open(struct dg_source *s, const char *name, struct dg_stream **out, uint64_t *size,
		    struct dg_error *err)
{
	struct tar_source *t = (struct tar_source *)s;
	dg_autofree char *clean = NULL;
	if (dg_archive_path_clean(name, s->limits.max_path, &clean, err) < 0 || !*clean)
		return dg_err(err, DG_E_IMAGE, "invalid file name '%.200s' in a manifest", name);
	struct tent *e = tar_lookup(t, clean);
	if (!e)
		return dg_err(err, DG_E_IMAGE, "%s: '%.200s' is missing from the archive", t->label, name);
	struct rd *rd;
	struct archive *a = tar_reader(t->fd, &rd);
	if (archive_read_open1(a) != ARCHIVE_OK)
		goto bad;
	for (size_t i = 0;; i++) {
		struct archive_entry *ae;
		int r = archive_read_next_header(a, &ae);
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			goto bad;
		if (i == e->index)
			break;
	}
	struct tar_stream *ts = dg_xcalloc(1, sizeof *ts);
	ts->st.read = tarst_read;
	ts->st.close = tarst_close;
	ts->a = a;
	ts->rd = rd;
	ts->what = dg_xasprintf("%s: %s", t->label, clean);
	*size = e->size;
	*out = &ts->st;
	return 0;
bad:
	dg_err(err, DG_E_IMAGE, "%s: cannot read '%s' again: %s", t->label, clean,
	       archive_error_string(a) ? archive_error_string(a) : "archive changed");
	archive_read_free(a);
	free(rd);
	return -1;
}

static void tar_free(struct dg_source *s)
{
	struct tar_source *t = (struct tar_source *)s;
	for (size_t i = 0; i < t->n; i++) {
		free(t->ents[i].name);
		free(t->ents[i].link);
	}
	free(t->ents);
	close(t->fd);
	free(t->label);
	free(t);
}

static const struct dg_source_ops tar_ops = {"archive", tar_exists, tar_open, tar_free};

#define MAX_OUTER_ENTRIES 100000

int dg_source_tar(int fd, const char *label, const struct dg_limits *l, struct dg_source **out,
		  struct dg_error *err)
{
	struct tar_source *t = dg_xcalloc(1, sizeof *t);
	t->s.ops = &tar_ops;
	t->s.limits = *l;
	t->fd = fd;
	t->label = dg_xstrdup(label);
	struct rd *rd;
	struct archive *a = tar_reader(fd, &rd);
	if (archive_read_open1(a) != ARCHIVE_OK) {
		dg_err(err, DG_E_INPUT, "%s: not a tar archive: %s", label,
		       archive_error_string(a) ? archive_error_string(a) : "unreadable");
		goto fail;
	}
	for (size_t i = 0;; i++) {
		struct archive_entry *ae;
		int r = archive_read_next_header(a, &ae);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			dg_err(err, i ? DG_E_IMAGE : DG_E_INPUT, "%s: %s: %s", label,
			       i ? "truncated or malformed archive" : "not a tar archive",
			       archive_error_string(a) ? archive_error_string(a) : "unreadable");
			goto fail;
		}
		if (i >= MAX_OUTER_ENTRIES) {
			dg_err(err, DG_E_LIMIT, "%s: more than %d entries", label, MAX_OUTER_ENTRIES);
			goto fail;
		}
		const char *nm = archive_entry_pathname(ae);
		char *clean = NULL;
		struct dg_error ignore = DG_ERROR_INIT;
		if (!nm || dg_archive_path_clean(nm, l->max_path, &clean, &ignore) < 0)
			continue; /* never addressable from a manifest anyway */
		struct tent te = {.name = clean, .index = i};
		te.size = archive_entry_size(ae) > 0 ? (uint64_t)archive_entry_size(ae) : 0;
		const char *hl = archive_entry_hardlink(ae);
		if (hl) {
			te.type = -1;
			if (dg_archive_path_clean(hl, l->max_path, &te.link, &ignore) < 0) {
				free(clean);
				continue;
			}
		} else {
			te.type = (int)archive_entry_filetype(ae);
			if (te.type == AE_IFLNK)
				te.link = dg_xstrdup(archive_entry_symlink(ae) ? archive_entry_symlink(ae) : "");
		}
		t->ents = dg_xreallocarray(t->ents, t->n + 1, sizeof *t->ents);
		t->ents[t->n++] = te;
		/* data is skipped by the next header read (seek, not read) */
	}
	archive_read_free(a);
	free(rd);
	*out = &t->s;
	return 0;
fail:
	archive_read_free(a);
	free(rd);

	tar_free(&t->s);
	return -1;
}

int dg_source_read(struct dg_source *s, const char *name, const unsigned char *expect,
		   int64_t expect_size, char **data, size_t *len, struct dg_error *err)
{
	struct dg_stream *in;
	uint64_t size;
	if (s->ops->open(s, name, &in, &size, err) < 0)
		return -1;
	if (size > s->limits.max_json_bytes) {
		dg_stream_close(in);
		return dg_err(err, DG_E_LIMIT, "%s: %llu bytes, over the limit of %llu for a JSON document",
			      name, (unsigned long long)size, (unsigned long long)s->limits.max_json_bytes);
	}
	struct dg_stream *d = dg_stream_digest(in, expect, expect_size, name, NULL, 0);
	int r = dg_stream_slurp(d, s->limits.max_json_bytes, data, len, name, err);
	dg_stream_close(d);
	return r;
}
