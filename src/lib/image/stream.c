/* Stream implementations. Decompression uses libarchive's raw format with only
 * the in-process filters enabled (never the ones that spawn external programs). */
#include <archive.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/stream.h"
#include "dockergate/util.h"

void dg_stream_close(struct dg_stream *s)
{
	if (s)
		s->close(s);
}

/* ---- fd range ---- */
struct fd_stream {
	struct dg_stream s;
	int fd, own;
	uint64_t off, left;
};

static ssize_t fd_read(struct dg_stream *s, void *buf, size_t len, struct dg_error *err)
{
	struct fd_stream *f = (struct fd_stream *)s;
	if (f->left == 0)
		return 0;
	if (len > f->left)
		len = (size_t)f->left;
	for (;;) {
		ssize_t r = pread(f->fd, buf, len, (off_t)f->off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return dg_err_sys(err, DG_E_INPUT, errno, "read failed");
		if (r == 0 && f->left != UINT64_MAX)
			return dg_err(err, DG_E_IMAGE, "unexpected end of file (truncated input)");
		f->off += (uint64_t)r;
		if (f->left != UINT64_MAX)
			f->left -= (uint64_t)r;
		else if (r == 0)
			f->left = 0;
		return r;
	}
}

static void fd_close(struct dg_stream *s)
{
	struct fd_stream *f = (struct fd_stream *)s;
	if (f->own)
		close(f->fd);
	free(f);
}

struct dg_stream *dg_stream_fd(int fd, int own_fd, uint64_t off, uint64_t len)
{
	struct fd_stream *f = dg_xcalloc(1, sizeof *f);
	f->s.read = fd_read;
	f->s.close = fd_close;
	f->fd = fd;
	f->own = own_fd;
	f->off = off;
	f->left = len;
	return &f->s;
}

/* ---- digest ---- */
struct digest_stream {
	struct dg_stream s;
	struct dg_stream *inner;
	struct dg_sha256 h;
	unsigned char expect[32], got[32];
	int has_expect, done;
	int64_t expect_size;
	uint64_t bytes;
	uint64_t *budget, budget_max;
	char *what;
};

static ssize_t digest_read(struct dg_stream *s, void *buf, size_t len, struct dg_error *err)
{
	struct digest_stream *d = (struct digest_stream *)s;
	if (d->done)
		return 0;
	ssize_t r = dg_stream_read(d->inner, buf, len, err);
	if (r < 0)
		return r;
	if (r > 0) {
		d->bytes += (uint64_t)r;
		if (d->expect_size >= 0 && d->bytes > (uint64_t)d->expect_size)
			return dg_err(err, DG_E_IMAGE, "%s: more bytes than the %lld its descriptor declares",
				      d->what, (long long)d->expect_size);
		if (d->budget) {
			*d->budget += (uint64_t)r;
			if (*d->budget > d->budget_max)
				return dg_err(err, DG_E_LIMIT,
					      "%s: expanded layer data exceeds the limit of %llu bytes "
					      "(--max-bytes)",
					      d->what, (unsigned long long)d->budget_max);
		}
		dg_sha256_update(&d->h, buf, (size_t)r);
		return r;
	}
	d->done = 1;
	dg_sha256_final(&d->h, d->got);
	if (d->expect_size >= 0 && d->bytes != (uint64_t)d->expect_size)
		return dg_err(err, DG_E_IMAGE, "%s: size %llu differs from the %lld its descriptor declares",
			      d->what, (unsigned long long)d->bytes, (long long)d->expect_size);
	if (d->has_expect && memcmp(d->expect, d->got, 32) != 0) {
		char e[65], g[65];
		dg_hex(e, d->expect, 32);
		dg_hex(g, d->got, 32);
		return dg_err(err, DG_E_IMAGE, "%s: digest mismatch: expected sha256:%.12s…, content is sha256:%.12s…",
			      d->what, e, g);
	}
	return 0;
}

static void digest_close(struct dg_stream *s)
{
	struct digest_stream *d = (struct digest_stream *)s;
	dg_stream_close(d->inner);
	dg_sha256_free(&d->h);
	free(d->what);
	free(d);
}

struct dg_stream *dg_stream_digest(struct dg_stream *inner, const unsigned char *expect,
				   int64_t expect_size, const char *what, uint64_t *budget,
				   uint64_t budget_max)
{
	struct digest_stream *d = dg_xcalloc(1, sizeof *d);
	d->s.read = digest_read;
	d->s.close = digest_close;
	d->inner = inner;
	dg_sha256_init(&d->h);
	if (expect) {
		memcpy(d->expect, expect, 32);
		d->has_expect = 1;
	}
	d->expect_size = expect_size;
	d->what = dg_xstrdup(what);
	d->budget = budget;
	d->budget_max = budget_max;
	return &d->s;
}

void dg_stream_digest_result(struct dg_stream *s, unsigned char out[32], uint64_t *bytes)
{
	struct digest_stream *d = (struct digest_stream *)s;
	if (out)
		memcpy(out, d->got, 32);
	if (bytes)
		*bytes = d->bytes;
}

int dg_stream_digest_done(struct dg_stream *s) { return ((struct digest_stream *)s)->done; }

/* ---- decompression ---- */
struct dec_stream {
	struct dg_stream s;
	struct dg_stream *inner;
	struct archive *a;
	unsigned char peek[8];
	size_t npeek, peek_given;
	unsigned char inbuf[128 * 1024];
	struct dg_error cb_err; /* error raised inside the read callback */
	int cb_failed, eof;
};

static la_ssize_t dec_cb(struct archive *a, void *ud, const void **buf)
{
	struct dec_stream *d = ud;
	(void)a;
	if (d->peek_given < d->npeek) {
		*buf = d->peek;
		size_t n = d->npeek - d->peek_given;
		d->peek_given = d->npeek;
		return (la_ssize_t)n;
	}
	ssize_t r = dg_stream_read(d->inner, d->inbuf, sizeof d->inbuf, &d->cb_err);
	if (r < 0) {
		d->cb_failed = 1;
		archive_set_error(a, EIO, "%s", d->cb_err.msg);
		return -1;
	}
	*buf = d->inbuf;
	return r;
}

static ssize_t dec_read(struct dg_stream *s, void *buf, size_t len, struct dg_error *err)
{
	struct dec_stream *d = (struct dec_stream *)s;
	if (d->eof)
		return 0;
	la_ssize_t r = archive_read_data(d->a, buf, len);
	if (r < 0 || d->cb_failed) {
		if (d->cb_failed) {
			*err = d->cb_err;
			return -1;
		}
		return dg_err(err, DG_E_IMAGE, "decompression failed: %s",
			      archive_error_string(d->a) ? archive_error_string(d->a) : "corrupt data");
	}
	if (r == 0) {
		/* Let the inner stream see its own end (digest checks happen there). */
		char tmp[4096];
		ssize_t x;
		while ((x = dg_stream_read(d->inner, tmp, sizeof tmp, err)) > 0)
			;
		if (x < 0)
			return -1;
		d->eof = 1;
	}
	return r;
}

static ssize_t plain_read(struct dg_stream *s, void *buf, size_t len, struct dg_error *err)
{
	struct dec_stream *d = (struct dec_stream *)s;
	if (d->peek_given < d->npeek) {
		size_t n = d->npeek - d->peek_given;
		if (n > len)
			n = len;
		memcpy(buf, d->peek + d->peek_given, n);
		d->peek_given += n;
		return (ssize_t)n;
	}
	return dg_stream_read(d->inner, buf, len, err);
}

static void dec_close(struct dg_stream *s)
{
	struct dec_stream *d = (struct dec_stream *)s;
	if (d->a)
		archive_read_free(d->a);
	dg_stream_close(d->inner);
	free(d);
}

int dg_stream_decompress(struct dg_stream *inner, struct dg_stream **out,
			 enum dg_compression *detected, struct dg_error *err)
{
	struct dec_stream *d = dg_xcalloc(1, sizeof *d);
	d->s.close = dec_close;
	d->inner = inner;
	while (d->npeek < 6) {
		ssize_t r = dg_stream_read(inner, d->peek + d->npeek, 6 - d->npeek, err);
		if (r < 0) {
			dec_close(&d->s);
			return -1;
		}
		if (r == 0)
			break;
		d->npeek += (size_t)r;
	}
	const unsigned char *p = d->peek;
	enum dg_compression c = DG_COMP_NONE;
	if (d->npeek >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		c = DG_COMP_GZIP;
	else if (d->npeek >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd)
		c = DG_COMP_ZSTD;
	else if (d->npeek >= 6 && memcmp(p, "\xfd" "7zXZ\0", 6) == 0)
		c = DG_COMP_XZ;
	else if (d->npeek >= 3 && memcmp(p, "BZh", 3) == 0)
		c = DG_COMP_BZIP2;
	if (detected)
		*detected = c;
	if (c == DG_COMP_NONE) {
		d->s.read = plain_read;
		*out = &d->s;
		return 0;
	}
	d->s.read = dec_read;
	d->a = archive_read_new();
	int rc = ARCHIVE_OK;
	switch (c) {
	case DG_COMP_GZIP: rc = archive_read_support_filter_gzip(d->a); break;
	case DG_COMP_ZSTD: rc = archive_read_support_filter_zstd(d->a); break;
	case DG_COMP_XZ: rc = archive_read_support_filter_xz(d->a); break;
	case DG_COMP_BZIP2: rc = archive_read_support_filter_bzip2(d->a); break;
	case DG_COMP_NONE: break;
	}
	/* ARCHIVE_WARN means "will use an external program": refuse that. */
	if (rc != ARCHIVE_OK || archive_read_support_format_raw(d->a) != ARCHIVE_OK) {
		dg_err(err, DG_E_ENV, "libarchive lacks in-process %s support", dg_compression_name(c));
		dec_close(&d->s);
		return -1;
	}
	if (archive_read_open(d->a, d, NULL, dec_cb, NULL) != ARCHIVE_OK) {
		if (d->cb_failed)
			*err = d->cb_err;
		else
			dg_err(err, DG_E_IMAGE, "cannot decompress %s data: %s", dg_compression_name(c),
			       archive_error_string(d->a) ? archive_error_string(d->a) : "corrupt data");
		dec_close(&d->s);
		return -1;
	}
	struct archive_entry *e;
	if (archive_read_next_header(d->a, &e) != ARCHIVE_OK) {
		if (d->cb_failed)
			*err = d->cb_err;
		else
			dg_err(err, DG_E_IMAGE, "cannot decompress %s data: %s", dg_compression_name(c),
			       archive_error_string(d->a) ? archive_error_string(d->a) : "corrupt data");
		dec_close(&d->s);
		return -1;
	}
	*out = &d->s;
	return 0;
}

int dg_stream_slurp(struct dg_stream *s, uint64_t max, char **data, size_t *len,
		    const char *what, struct dg_error *err)
{
	struct dg_buf b = {0};
	char tmp[65536];
	for (;;) {
		ssize_t r = dg_stream_read(s, tmp, sizeof tmp, err);
		if (r < 0) {
			dg_buf_free(&b);
			return -1;
		}
		if (r == 0)
			break;
		if (b.len + (size_t)r > max) {
			dg_buf_free(&b);
			return dg_err(err, DG_E_LIMIT, "%s: larger than the limit of %llu bytes", what,
				      (unsigned long long)max);
		}
		dg_buf_append(&b, tmp, (size_t)r);
	}
	if (len)
		*len = b.len;
	*data = dg_buf_steal(&b);
	return 0;
}

int dg_stream_drain(struct dg_stream *s, struct dg_error *err)
{
	char tmp[65536];
	ssize_t r;
	while ((r = dg_stream_read(s, tmp, sizeof tmp, err)) > 0)
		;
	return r < 0 ? -1 : 0;
}

const char *dg_compression_name(enum dg_compression c)
{
	switch (c) {
	case DG_COMP_NONE: return "none";
	case DG_COMP_GZIP: return "gzip";
	case DG_COMP_ZSTD: return "zstd";
	case DG_COMP_XZ: return "xz";
	case DG_COMP_BZIP2: return "bzip2";
	}
	return "?";
}
