/* The per-file analysis cache: one SQLite database (WAL mode) shared by every
 * dockergate process of a user, keyed by (SHA-256 of a file's content, analysis
 * kind, analysis version) and holding an opaque result blob the caller
 * serialises itself. Every value carries a checksum; a damaged or foreign
 * database is moved aside and rebuilt, never trusted (docs/design.md, "The
 * analysis cache").
 *
 * The cache is an accelerator only: a caller that gets an error from open or
 * put carries on without it. A struct dg_cache belongs to one thread. */
#ifndef DOCKERGATE_CACHE_H
#define DOCKERGATE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "dockergate/error.h"

struct dg_cache;

/* An analysis kind and the version of its result format. */
struct dg_cache_kind {
	const char *kind;
	uint32_t version;
};

/* The kinds whose entries are current (prune keeps them). The one table in the
 * library: a new analysis, or a new version of one, is added there. */
const struct dg_cache_kind *dg_cache_current_kinds(size_t *n);

/* Limits on what a caller may store. */
#define DG_CACHE_KIND_MAX 64               /* bytes of a kind name: [a-z0-9_.-]+ */
#define DG_CACHE_VALUE_MAX (256u << 20)    /* bytes of one value */

/* $XDG_CACHE_HOME/dockergate/cache.sqlite, else $HOME/.cache/dockergate/cache.sqlite.
 * A relative XDG_CACHE_HOME is ignored (XDG spec). Error (DG_E_ENV) when neither
 * is set and absolute. Caller frees *out. */
int dg_cache_default_path(char **out, struct dg_error *err);

/* Opens or creates the cache at PATH (a relative PATH is taken from the current
 * directory; missing directories are created with mode 0700, the file with
 * 0600). A corrupt or foreign file is moved aside to PATH.corrupt (its -wal with
 * it) and a new cache is created: *rebuilt (may be NULL) is set to 1 then, else
 * 0, and ERR then holds the reason the old file was refused (a successful open
 * leaves ERR untouched otherwise). Errors: DG_E_ENV when the cache cannot be created, opened or written
 * (read-only directory, disk full, created by a newer dockergate), DG_E_USAGE
 * for an empty path, DG_E_INTERNAL for anything unexpected. */
int dg_cache_open(const char *path, struct dg_cache **out, int *rebuilt, struct dg_error *err);
/* Commits pending writes (errors are dropped: use dg_cache_flush first to see
 * them) and frees C. NULL is accepted. */
void dg_cache_close(struct dg_cache *c);
/* The absolute path the cache was opened at. */
const char *dg_cache_path(const struct dg_cache *c);
/* How many times the cache was found damaged during use and rebuilt since open
 * (the open itself is reported through *rebuilt). */
unsigned dg_cache_rebuilds(const struct dg_cache *c);

/* 1 = hit (*data malloc'd, never NULL, caller frees; *len its size), 0 = miss,
 * -1 = error. A value whose checksum does not match is a miss and its row is
 * deleted. Sees this process's pending puts. */
int dg_cache_get(struct dg_cache *c, const unsigned char sha[32], const char *kind,
		 uint32_t version, void **data, size_t *len, struct dg_error *err);
/* Stores a value (upsert: the last writer wins, any process). Puts are batched
 * and written in one transaction at dg_cache_flush/dg_cache_close, or when 256
 * operations or 16 MiB are pending, or 500 ms after the first pending one. Returns
 * -1 if a write this put triggered failed (the batch is dropped) or an earlier
 * write failed for good (full disk, read-only file: later puts are dropped at
 * once with the same error; gets keep working). */
int dg_cache_put(struct dg_cache *c, const unsigned char sha[32], const char *kind,
		 uint32_t version, const void *data, size_t len, struct dg_error *err);
/* Writes pending puts, last-use updates and counters in one transaction. */
int dg_cache_flush(struct dg_cache *c, struct dg_error *err);

struct dg_cache_kind_stats {
	char kind[DG_CACHE_KIND_MAX + 1];
	uint32_t version;
	int current; /* listed by dg_cache_current_kinds */
	uint64_t entries, bytes;
};

struct dg_cache_stats {
	uint64_t entries;     /* rows */
	uint64_t bytes;       /* sum of value sizes */
	uint64_t file_bytes;  /* database file + its -wal */
	uint64_t hits, misses;             /* this process, since open */
	uint64_t total_hits, total_misses; /* every process, as recorded at flushes */
	int64_t created;      /* unix time the cache was created */
	int64_t checked;      /* unix time of the last full quick_check */
	struct dg_cache_kind_stats *kinds; /* one row per (kind, version), sorted */
	size_t nkinds;
};
/* Commits pending writes first. Free with dg_cache_stats_free. */
int dg_cache_stats(struct dg_cache *c, struct dg_cache_stats *st, struct dg_error *err);
void dg_cache_stats_free(struct dg_cache_stats *st);

/* Removes entries whose (kind, version) is not in CURRENT and entries not used
 * for MAX_AGE seconds (0 = no age limit); *removed (may be NULL) gets the count.
 * Free pages are returned to the file system. */
int dg_cache_prune(struct dg_cache *c, const struct dg_cache_kind *current, size_t ncurrent,
		   uint64_t max_age, uint64_t *removed, struct dg_error *err);
/* Removes every entry and resets the recorded counters. */
int dg_cache_clear(struct dg_cache *c, struct dg_error *err);

#endif
