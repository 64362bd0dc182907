/* Small internal helpers: checked allocation, growable buffers, string
 * vectors, SHA-256, digests, private temp files. */
#ifndef DG_UTIL_H
#define DG_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "dockergate/error.h"
#include "dockergate/image.h"

/* Allocation failure aborts: with every input capped by dg_limits, running out
 * of memory is not something an image can cause on its own. */
void *dg_xmalloc(size_t n);
void *dg_xcalloc(size_t n, size_t sz);
void *dg_xrealloc(void *p, size_t n);
void *dg_xreallocarray(void *p, size_t n, size_t sz);
char *dg_xstrdup(const char *s);
char *dg_xstrndup(const char *s, size_t n);
char *dg_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline void dg_freep(void *p) { void **pp = (void **)p; free(*pp); }
#define dg_autofree __attribute__((cleanup(dg_freep)))
void dg_closep(int *fd);
#define dg_autoclose __attribute__((cleanup(dg_closep)))

static inline void *dg_steal(void *pp)
{
	void **p = (void **)pp;
	void *v = *p;
	*p = NULL;
	return v;
}

struct dg_buf {
	char *data;
	size_t len, cap;
};
void dg_buf_append(struct dg_buf *b, const void *data, size_t len);
void dg_buf_putc(struct dg_buf *b, char c);
void dg_buf_puts(struct dg_buf *b, const char *s);
void dg_buf_printf(struct dg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *dg_buf_steal(struct dg_buf *b); /* NUL-terminated; buffer reset */
void dg_buf_free(struct dg_buf *b);

void dg_strv_push(struct dg_strv *v, const char *s);
void dg_strv_free(struct dg_strv *v);
/* Whether V holds S (NULL: never). */
int dg_strv_has(const struct dg_strv *v, const char *s);

struct dg_sha256 {
	void *ctx;
};
void dg_sha256_init(struct dg_sha256 *h);
void dg_sha256_update(struct dg_sha256 *h, const void *data, size_t len);
void dg_sha256_final(struct dg_sha256 *h, unsigned char out[32]);
void dg_sha256_free(struct dg_sha256 *h);
void dg_hex(char *out, const unsigned char *in, size_t n); /* out has 2n+1 bytes */
/* Sorts V ascending and drops repeats; returns the new count (V may be NULL when N is 0). */
size_t dg_sort_uniq_u64(uint64_t *v, size_t n);
size_t dg_sort_uniq_u32(uint32_t *v, size_t n);
/* "sha256:<hex>" as a new string. */
char *dg_digest_str(const unsigned char sha[32]);
/* Parses "sha256:<64 lowercase hex>". WHAT names the field for the message. */
int dg_parse_digest(const char *s, unsigned char out[32], const char *what, struct dg_error *err);
bool dg_is_hex64(const char *s);

/* An unlinked private temp file in DIR ($TMPDIR or /tmp when NULL). */
int dg_tmpfile(const char *dir, int *fd_out, struct dg_error *err);
const char *dg_tmpdir(const char *dir);

/* The executable NAME as a shell finds it: a name with a slash is checked as
 * given, else each element of PATH (a standard list when PATH is unset or empty)
 * and then /usr/sbin and /sbin (where runc lives, which users' PATH may lack).
 * Returns a new string or NULL. */
char *dg_which(const char *name);

/* Reads exactly len bytes at off (short file → error). */
int dg_pread_full(int fd, void *buf, size_t len, uint64_t off, struct dg_error *err);
int dg_write_full(int fd, const void *buf, size_t len, struct dg_error *err);

/* Escapes bytes < 0x20, 0x7f, >= 0x80 and '\\' as \xHH for display. */
void dg_buf_put_escaped(struct dg_buf *b, const char *s);

/* Binary searches over an array of N elements of STRIDE bytes sorted by the
 * key at byte OFFSET of each: the first index whose key is >= KEY (lower bound),
 * or > KEY (upper bound); N when there is none. */
#define DG_DEFINE_BOUNDS(suffix, T)                                                                \
	static inline size_t dg_bound_##suffix(const void *base, size_t n, size_t stride, size_t off, \
					       T key, bool upper)                                   \
	{                                                                                          \
		size_t lo = 0, hi = n;                                                             \
		while (lo < hi) {                                                                  \
			size_t mid = lo + (hi - lo) / 2;                                           \
			T v;                                                                       \
			memcpy(&v, (const char *)base + mid * stride + off, sizeof v);             \
			if (v < key || (upper && v == key))                                        \
				lo = mid + 1;                                                      \
			else                                                                       \
				hi = mid;                                                          \
		}                                                                                  \
		return lo;                                                                         \
	}
DG_DEFINE_BOUNDS(u64, uint64_t)
DG_DEFINE_BOUNDS(u32, uint32_t)
DG_DEFINE_BOUNDS(size, size_t)
/* ... for an array A of structs sorted by the member F (which must have the key's width) */
#define DG_BOUND_(suffix, a, n, f, key, up)                                                        \
	(sizeof(char[sizeof((a)->f) == sizeof(key) ? 1 : -1]) *                                    \
	 dg_bound_##suffix((a), (n), sizeof *(a), offsetof(__typeof__(*(a)), f), (key), (up)))
#define DG_LOWER_BOUND(suffix, a, n, f, key) DG_BOUND_(suffix, a, n, f, key, false)
#define DG_UPPER_BOUND(suffix, a, n, f, key) DG_BOUND_(suffix, a, n, f, key, true)


#endif
