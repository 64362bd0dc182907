/* Append-only, deduplicating content store in one unlinked temp file. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image/blobstore.h"
#include "dockergate/util.h"

#define WBUF (256 * 1024)

struct slot {
	unsigned char sha[32];
	uint64_t off;
	int used;
};

struct map {
	unsigned char *p;
	size_t len;
};

struct dg_blobstore {
	char *tmpdir;
	int fd;
	uint64_t end, max_file, max_total;
	struct slot *tab;
	size_t cap, n;
	struct map *maps; /* old mappings stay valid until free */
	size_t nmaps;
	int writing;
};

struct dg_blobstore *dg_blobstore_new(const char *tmpdir, uint64_t max_file, uint64_t max_total)
{
	struct dg_blobstore *bs = dg_xcalloc(1, sizeof *bs);
	bs->tmpdir = tmpdir ? dg_xstrdup(tmpdir) : NULL;
	bs->fd = -1;
	bs->max_file = max_file;
	bs->max_total = max_total;
	return bs;
}

void dg_blobstore_free(struct dg_blobstore *bs)
{
	if (!bs)
		return;
	for (size_t i = 0; i < bs->nmaps; i++)
		munmap(bs->maps[i].p, bs->maps[i].len);
	free(bs->maps);
	if (bs->fd >= 0)
		close(bs->fd);
	free(bs->tab);
	free(bs->tmpdir);
	free(bs);
}

uint64_t dg_blobstore_bytes(const struct dg_blobstore *bs) { return bs->end; }

static uint64_t sha_hash(const unsigned char *s)
{
	uint64_t h;
	memcpy(&h, s, sizeof h);
	return h;
}

static struct slot *find(struct dg_blobstore *bs, const unsigned char sha[32])
{
	if (!bs->cap)
		return NULL;
	size_t i = sha_hash(sha) & (bs->cap - 1);
	while (bs->tab[i].used) {
		if (memcmp(bs->tab[i].sha, sha, 32) == 0)
			return &bs->tab[i];
		i = (i + 1) & (bs->cap - 1);
	}
	return NULL;
}

static void insert(struct dg_blobstore *bs, const unsigned char sha[32], uint64_t off)
{
	if ((bs->n + 1) * 4 > bs->cap * 3) {
		size_t ncap = bs->cap ? bs->cap * 2 : 256;
		struct slot *nt = dg_xcalloc(ncap, sizeof *nt);
		for (size_t i = 0; i < bs->cap; i++) {
			if (!bs->tab[i].used)
				continue;
			size_t j = sha_hash(bs->tab[i].sha) & (ncap - 1);
			while (nt[j].used)
				j = (j + 1) & (ncap - 1);
			nt[j] = bs->tab[i];
		}
		free(bs->tab);
		bs->tab = nt;
		bs->cap = ncap;
	}
	size_t i = sha_hash(sha) & (bs->cap - 1);
	while (bs->tab[i].used)
		i = (i + 1) & (bs->cap - 1);
	memcpy(bs->tab[i].sha, sha, 32);
	bs->tab[i].off = off;
	bs->tab[i].used = 1;
	bs->n++;
}

int dg_blobw_begin(struct dg_blobstore *bs, struct dg_blobw *w, struct dg_error *err)
{
	if (bs->fd < 0 && dg_tmpfile(bs->tmpdir, &bs->fd, err) < 0)
		return -1;
	memset(w, 0, sizeof *w);
	w->bs = bs;
	w->start = bs->end;
	w->hash = dg_xcalloc(1, sizeof(struct dg_sha256));
	dg_sha256_init(w->hash);
	w->buf = dg_xmalloc(WBUF);
	return 0;
}

static int flush(struct dg_blobw *w, struct dg_error *err)
{
	if (!w->blen)
		return 0;
	uint64_t at = w->start + w->size - w->blen;
	const unsigned char *p = w->buf;
	size_t left = w->blen;
	while (left) {
		ssize_t r = pwrite(w->bs->fd, p, left, (off_t)at);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return dg_err_sys(err, DG_E_ENV, errno, "writing the temp content store");
		}
		p += r;
		left -= (size_t)r;
		at += (uint64_t)r;
	}
	w->blen = 0;
	return 0;
}

int dg_blobw_write(struct dg_blobw *w, const void *data, size_t len, struct dg_error *err)
{
	if (w->size + len > w->bs->max_file)
		return dg_err(err, DG_E_LIMIT,
			      "file larger than the limit of %llu bytes kept for analysis",
			      (unsigned long long)w->bs->max_file);
	if (w->bs->end + w->size + len > w->bs->max_total)
		return dg_err(err, DG_E_LIMIT, "ELF and script content exceeds the limit of %llu bytes",
			      (unsigned long long)w->bs->max_total);
	dg_sha256_update(w->hash, data, len);
	const unsigned char *p = data;
	while (len) {
		size_t n = WBUF - w->blen;
		if (n > len)
			n = len;
		memcpy(w->buf + w->blen, p, n);
		w->blen += n;
		w->size += n;
		p += n;
		len -= n;
		if (w->blen == WBUF && flush(w, err) < 0)
			return -1;
	}
	return 0;
}

static void w_release(struct dg_blobw *w)
{
	if (w->hash) {
		dg_sha256_free(w->hash);
		free(w->hash);
		w->hash = NULL;
	}
	free(w->buf);
	w->buf = NULL;
}

int dg_blobw_commit(struct dg_blobw *w, unsigned char sha[32], uint64_t *off, struct dg_error *err)
{
	dg_sha256_final(w->hash, sha);
	struct slot *s = find(w->bs, sha);
	if (s) {
		*off = s->off; /* duplicate: nothing written yet needs keeping */
		if (w->size > w->blen && ftruncate(w->bs->fd, (off_t)w->start) < 0) {
			w_release(w);
			return dg_err_sys(err, DG_E_ENV, errno, "truncating the temp content store");
		}
		w_release(w);
		return 0;
	}
	if (flush(w, err) < 0) {
		w_release(w);
		return -1;
	}
	insert(w->bs, sha, w->start);
	*off = w->start;
	w->bs->end = w->start + w->size;
	w_release(w);
	return 0;
}

void dg_blobw_abort(struct dg_blobw *w)
{
	if (w->bs && w->bs->fd >= 0 && w->size > w->blen)
		(void)!ftruncate(w->bs->fd, (off_t)w->start);
	w_release(w);
}

int dg_blobstore_get(struct dg_blobstore *bs, uint64_t off, uint64_t len, const unsigned char **p,
		     struct dg_error *err)
{
	if (off > bs->end || len > bs->end - off)
		return dg_err(err, DG_E_INTERNAL, "content store: range out of bounds");
	if (len == 0) {
		*p = (const unsigned char *)"";
		return 0;
	}
	struct map *m = bs->nmaps ? &bs->maps[bs->nmaps - 1] : NULL;
	if (!m || m->len < off + len) {
		size_t l = (size_t)bs->end;
		void *q = mmap(NULL, l, PROT_READ, MAP_PRIVATE, bs->fd, 0);
		if (q == MAP_FAILED)
			return dg_err_sys(err, DG_E_ENV, errno, "mapping the temp content store");
		bs->maps = dg_xreallocarray(bs->maps, bs->nmaps + 1, sizeof *bs->maps);
		bs->maps[bs->nmaps].p = q;
		bs->maps[bs->nmaps].len = l;
		m = &bs->maps[bs->nmaps++];
	}
	*p = m->p + off;
	return 0;
}
