/* Internal helpers shared by every module. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "dockergate/util.h"

static void oom(void)
{
	static const char m[] = "dockergate: out of memory\n";
	ssize_t r = write(2, m, sizeof m - 1);
	(void)r;
	abort();
}

void *dg_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *dg_xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);
	if (!p)
		oom();
	return p;
}

void *dg_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom();
	return q;
}

void *dg_xreallocarray(void *p, size_t n, size_t sz)
{
	void *q = reallocarray(p, n ? n : 1, sz ? sz : 1);
	if (!q)
		oom();
	return q;
}

char *dg_xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");
	if (!p)
		oom();
	return p;
}

char *dg_xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (!p)
		oom();
	return p;
}

char *dg_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		oom();
	return s;
}

void dg_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
		*fd = -1;
	}
}

static void buf_grow(struct dg_buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1) {
		if (cap > SIZE_MAX / 2)
			oom();
		cap *= 2;
	}
	b->data = dg_xrealloc(b->data, cap);
	b->cap = cap;
}

void dg_buf_append(struct dg_buf *b, const void *data, size_t len)
{
	buf_grow(b, len);
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = 0;
}

void dg_buf_putc(struct dg_buf *b, char c) { dg_buf_append(b, &c, 1); }
void dg_buf_puts(struct dg_buf *b, const char *s) { dg_buf_append(b, s, strlen(s)); }

void dg_buf_printf(struct dg_buf *b, const char *fmt, ...)
{
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		va_end(ap2);
		return;
	}
	buf_grow(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	b->len += (size_t)n;
}

char *dg_buf_steal(struct dg_buf *b)
{
	buf_grow(b, 0);
	b->data[b->len] = 0; /* a buffer never written to is "" too */
	char *s = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}

void dg_buf_free(struct dg_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void dg_strv_push(struct dg_strv *v, const char *s)
{
	v->v = dg_xreallocarray(v->v, v->n + 2, sizeof *v->v);
	v->v[v->n++] = dg_xstrdup(s);
	v->v[v->n] = NULL;
}

void dg_strv_free(struct dg_strv *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	v->v = NULL;
	v->n = 0;
}

int dg_strv_has(const struct dg_strv *v, const char *s)
{
	for (size_t i = 0; s && i < v->n; i++)
		if (!strcmp(v->v[i], s))
			return 1;
	return 0;
}

void dg_sha256_init(struct dg_sha256 *h)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1)
		oom();
	h->ctx = c;
}

void dg_sha256_update(struct dg_sha256 *h, const void *data, size_t len)
{
	if (len && EVP_DigestUpdate(h->ctx, data, len) != 1)
		oom();
}

void dg_sha256_final(struct dg_sha256 *h, unsigned char out[32])
{
	unsigned int n = 32;
	if (EVP_DigestFinal_ex(h->ctx, out, &n) != 1)
		oom();
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

void dg_sha256_free(struct dg_sha256 *h)
{
	if (h->ctx)
		EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

void dg_hex(char *out, const unsigned char *in, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[in[i] >> 4];
		out[2 * i + 1] = hx[in[i] & 15];
	}
	out[2 * n] = 0;
}

char *dg_digest_str(const unsigned char sha[32])
{
	char hex[65];
	dg_hex(hex, sha, 32);
	return dg_xasprintf("sha256:%s", hex);
}

bool dg_is_hex64(const char *s)
{
	size_t i;
	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[64] == 0;
}

int dg_parse_digest(const char *s, unsigned char out[32], const char *what, struct dg_error *err)
{
	if (!s)
		return dg_err(err, DG_E_IMAGE, "%s: digest missing", what);
	if (strncmp(s, "sha256:", 7) != 0) {
		const char *colon = strchr(s, ':');
		if (colon && colon - s < 16)
			return dg_err(err, DG_E_IMAGE, "%s: unsupported digest algorithm '%.*s'", what,
				      (int)(colon - s), s);
		return dg_err(err, DG_E_IMAGE, "%s: malformed digest '%.80s'", what, s);
	}
	if (!dg_is_hex64(s + 7))
		return dg_err(err, DG_E_IMAGE, "%s: malformed digest '%.80s'", what, s);
	for (int i = 0; i < 32; i++) {
		unsigned v = 0;
		for (int j = 0; j < 2; j++) {
			char c = s[7 + 2 * i + j];
			v = v * 16 + (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
		}
		out[i] = (unsigned char)v;
	}
	return 0;
}

const char *dg_tmpdir(const char *dir)
{
	if (dir && *dir)
		return dir;
	const char *t = getenv("TMPDIR");
	return (t && *t) ? t : "/tmp";
}

int dg_tmpfile(const char *dir, int *fd_out, struct dg_error *err)
{
	char *tmpl = dg_xasprintf("%s/dockergate.XXXXXX", dg_tmpdir(dir));
	int fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd < 0) {
		dg_err_sys(err, DG_E_ENV, errno, "cannot create a temp file in %s", dg_tmpdir(dir));
		free(tmpl);
		return -1;
	}
	unlink(tmpl); /* nothing is left behind, whatever happens to the process */
	free(tmpl);
	*fd_out = fd;
	return 0;
}

int dg_pread_full(int fd, void *buf, size_t len, uint64_t off, struct dg_error *err)
{
	char *p = buf;
	while (len) {
		ssize_t r = pread(fd, p, len, (off_t)off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return dg_err_sys(err, DG_E_INPUT, errno, "read failed");
		}
		if (r == 0)
			return dg_err(err, DG_E_INPUT, "unexpected end of file");
		p += r;
		len -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

int dg_write_full(int fd, const void *buf, size_t len, struct dg_error *err)
{
	const char *p = buf;
	while (len) {
		ssize_t r = write(fd, p, len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return dg_err_sys(err, DG_E_ENV, errno, "write failed");
		}
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

void dg_buf_put_escaped(struct dg_buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p >= 0x7f || *p == '\\')
			dg_buf_printf(b, "\\x%02x", *p);
		else
			dg_buf_putc(b, (char)*p);
	}
}

void dg_limits_default(struct dg_limits *l)
{
	l->max_expanded_bytes = DG_DEFAULT_MAX_EXPANDED;
	l->max_entries = DG_DEFAULT_MAX_ENTRIES;
	l->max_json_bytes = DG_DEFAULT_MAX_JSON;
	l->max_stored_file = DG_DEFAULT_MAX_STORED_FILE;
	l->max_stored_total = DG_DEFAULT_MAX_STORED_TOTAL;
	l->max_path = DG_DEFAULT_MAX_PATH;
	l->max_symlink_hops = DG_DEFAULT_MAX_HOPS;
	l->max_index_depth = DG_DEFAULT_MAX_INDEX_DEPTH;
	l->max_layers = DG_DEFAULT_MAX_LAYERS;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

size_t dg_sort_uniq_u64(uint64_t *v, size_t n)
{
	if (n < 2)
		return n;
	qsort(v, n, sizeof *v, cmp_u64);
	size_t k = 1;
	for (size_t i = 1; i < n; i++)
		if (v[k - 1] != v[i])
			v[k++] = v[i];
	return k;
}

size_t dg_sort_uniq_u32(uint32_t *v, size_t n)
{
	if (n < 2)
		return n;
	qsort(v, n, sizeof *v, cmp_u32);
	size_t k = 1;
	for (size_t i = 1; i < n; i++)
		if (v[k - 1] != v[i])
			v[k++] = v[i];
	return k;
}

char *dg_which(const char *name)
{
	if (strchr(name, '/'))
		return access(name, X_OK) == 0 ? dg_xstrdup(name) : NULL;
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	dg_autofree char *copy = dg_xasprintf("%s:/usr/sbin:/sbin", path);
	for (char *save = NULL, *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char *p = dg_xasprintf("%s/%s", d, name);
		struct stat st;
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}
