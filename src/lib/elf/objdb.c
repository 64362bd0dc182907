/* The per-run object store (objdb.h): content SHA-256 → dynamic info, filled
 * from the persistent cache or the ELF reader. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dockergate/cache.h"
#include "dockergate/fnsum.h"
#include "dockergate/loader.h"
#include "dockergate/objdb.h"
#include "dockergate/map.h"
#include "dockergate/util.h"

struct dg_objdb {
	struct dg_fs *fs;
	struct dg_cache *cache;
	struct dg_map by_sha; /* content SHA-256 → index in recs */
	struct dg_dyninfo **recs;
	size_t n;
	struct dg_ldcache *ldcache;
	int ldcache_done;
	struct dg_objdb_stats st;
	char *cache_err;
	struct dg_map fsum_by_sha; /* content SHA-256 → index in fsums */
	struct dg_fsum **fsums;
	size_t nfsums;
	int threads;
	struct dg_progress progress;
	struct dg_map elf_by_sha; /* content SHA-256 → index in elves */
	struct dg_elf **elves;
	size_t nelves;
};

struct dg_objdb *dg_objdb_new(struct dg_fs *fs, struct dg_cache *cache)
{
	struct dg_objdb *db = dg_xcalloc(1, sizeof *db);
	db->fs = fs;
	db->cache = cache;
	db->threads = 1;
	return db;
}

void dg_objdb_free(struct dg_objdb *db)
{
	if (!db)
		return;
	for (size_t i = 0; i < db->n; i++)
		dg_dyninfo_free(db->recs[i]);
	free(db->recs);
	dg_map_free(&db->by_sha);
	for (size_t i = 0; i < db->nfsums; i++)
		dg_fsum_free(db->fsums[i]);
	free(db->fsums);
	dg_map_free(&db->fsum_by_sha);
	for (size_t i = 0; i < db->nelves; i++)
		dg_elf_free(db->elves[i]);
	free(db->elves);
	dg_map_free(&db->elf_by_sha);
	dg_ldcache_free(db->ldcache);
	free(db->cache_err);
	free(db);
}

struct dg_fs *dg_objdb_fs(struct dg_objdb *db) { return db->fs; }

static void insert(struct dg_objdb *db, const unsigned char sha[32], struct dg_dyninfo *d)
{
	db->recs = dg_xreallocarray(db->recs, db->n + 1, sizeof *db->recs);
	db->recs[db->n] = d;
	dg_map_put(&db->by_sha, sha, 32, db->n++);
}

static struct dg_dyninfo *derive(struct dg_objdb *db, const struct dg_node *n)
{
	struct dg_error e = DG_ERROR_INIT;
	const unsigned char *p;
	size_t len;
	struct dg_elf *elf;
	if (dg_fs_content(db->fs, n, &p, &len, &e) < 0)
		return NULL;
	db->st.parsed++;
	if (dg_elf_parse(p, len, &elf, &e) < 0) {
		db->st.malformed++;
		return dg_dyninfo_bad(e.msg);
	}
	struct dg_dyninfo *d = dg_dyninfo_from_elf(elf);
	dg_elf_free(elf);
	return d;
}

static void cache_failed(struct dg_objdb *db, const struct dg_error *e)
{
	db->st.cache_errors++;
	if (!db->cache_err)
		db->cache_err = dg_xstrdup(e->msg);
}

/* A record from the persistent cache; NULL on a miss. A record that does not
 * decode is treated as a miss and overwritten (the cache already checked its
 * checksum, so this means a bug or a foreign writer: never trusted). */
static struct dg_dyninfo *from_cache(struct dg_objdb *db, const unsigned char sha[32])
{
	struct dg_error e = DG_ERROR_INIT;
	void *data;
	size_t len;
	int r = dg_cache_get(db->cache, sha, DG_DYNINFO_KIND, DG_DYNINFO_VERSION, &data, &len, &e);
	if (r < 0)
		cache_failed(db, &e);
	if (r != 1)
		return NULL;
	struct dg_dyninfo *d = NULL;
	if (dg_dyninfo_decode(data, len, &d, &e) < 0)
		d = NULL;
	free(data);
	return d;
}

/* Stores an encoded record (BUF is freed); a failure is counted, never fatal. */
static void put_record(struct dg_objdb *db, const unsigned char sha[32], const char *kind, uint32_t version,
		       unsigned char *buf, size_t len)
{
	struct dg_error e = DG_ERROR_INIT;
	if (dg_cache_put(db->cache, sha, kind, version, buf, len, &e) < 0)
		cache_failed(db, &e);
	free(buf);
}

static void to_cache(struct dg_objdb *db, const unsigned char sha[32], const struct dg_dyninfo *d)
{
	unsigned char *buf;
	size_t len;
	dg_dyninfo_encode(d, &buf, &len);
	put_record(db, sha, DG_DYNINFO_KIND, DG_DYNINFO_VERSION, buf, len);
}

const struct dg_dyninfo *dg_objdb_dyn(struct dg_objdb *db, const struct dg_node *n)
{
	if (!n || n->type != DG_F_REG || !n->inode || n->inode->kind != DG_CONTENT_ELF)
		return NULL;
	const unsigned char *sha = n->inode->sha256;
	size_t i = dg_map_get(&db->by_sha, sha, 32);
	if (i != SIZE_MAX)
		return db->recs[i];
	struct dg_dyninfo *d = db->cache ? from_cache(db, sha) : NULL;
	if (d) {
		db->st.cache_hits++;
		if (d->error)
			db->st.malformed++;
	} else {
		d = derive(db, n);
		if (!d)
			return NULL;
		if (db->cache)
			to_cache(db, sha, d);
	}
	db->st.files++;
	insert(db, sha, d);
	return d;
}

const struct dg_ldcache *dg_objdb_ldcache(struct dg_objdb *db)
{
	if (db->ldcache_done)
		return db->ldcache;
	db->ldcache_done = 1;
	struct dg_node *cn;
	struct dg_error e = DG_ERROR_INIT;
	const unsigned char *cp;
	size_t cl;
	if (dg_fs_resolve(db->fs, "/etc/ld.so.cache", NULL, 0, &cn, &e) == 0 && cn->type == DG_F_REG &&
	    cn->inode && cn->inode->kind != DG_CONTENT_NONE && dg_fs_content(db->fs, cn, &cp, &cl, &e) == 0)
		dg_ldcache_parse(cp, cl, &db->ldcache, &e); /* unreadable: skipped, as ld.so does */
	return db->ldcache;
}

void dg_objdb_stats(const struct dg_objdb *db, struct dg_objdb_stats *st) { *st = db->st; }

const char *dg_objdb_cache_error(const struct dg_objdb *db) { return db->cache_err; }

/* ---- syscall summaries ---- */
void dg_objdb_set_threads(struct dg_objdb *db, int n) { db->threads = n < 1 ? 1 : n > 64 ? 64 : n; }

int dg_objdb_threads(const struct dg_objdb *db) { return db->threads; }

struct dg_cache *dg_objdb_cache(struct dg_objdb *db) { return db->cache; }

void dg_objdb_set_progress(struct dg_objdb *db, const struct dg_progress *p)
{
	if (p)
		db->progress = *p;
	else
		memset(&db->progress, 0, sizeof db->progress);
}

const struct dg_progress *dg_objdb_progress(const struct dg_objdb *db) { return &db->progress; }

static int is_elf_node(const struct dg_node *n)
{
	return n && n->type == DG_F_REG && n->inode && n->inode->kind == DG_CONTENT_ELF;
}

static struct dg_fsum *fsum_of_bytes(const unsigned char *p, size_t len)
{
	struct dg_error e = DG_ERROR_INIT;
	struct dg_elf *elf;
	if (dg_elf_parse(p, len, &elf, &e) < 0) {
		struct dg_fsum *s = dg_xcalloc(1, sizeof *s);
		s->entry_fn = DG_FSUM_NONE;
		s->error = dg_xstrdup(e.msg);
		return s;
	}
	struct dg_fsum *s = dg_fsum_build(elf);
	dg_elf_free(elf);
	return s;
}

static void fsum_insert(struct dg_objdb *db, const unsigned char sha[32], struct dg_fsum *s)
{
	db->fsums = dg_xreallocarray(db->fsums, db->nfsums + 1, sizeof *db->fsums);
	db->fsums[db->nfsums] = s;
	dg_map_put(&db->fsum_by_sha, sha, 32, db->nfsums++);
}

static void fsum_to_cache(struct dg_objdb *db, const unsigned char sha[32], const struct dg_fsum *s)
{
	unsigned char *buf;
	size_t len;
	dg_fsum_encode(s, &buf, &len);
	put_record(db, sha, DG_FNSUM_KIND, DG_FNSUM_VERSION, buf, len);
}

struct job {
	const unsigned char *p; /* the file's content, or the cached record when cached */
	size_t len;
	const unsigned char *sha;
	void *cached;           /* the cache's record (owned), decoded by a worker */
	struct dg_fsum *out;
};

struct pool {
	struct job *jobs;
	size_t n, next, done;
	pthread_mutex_t mu;
	pthread_t main;                 /* the calling thread: the only one that reports progress */
	const struct dg_progress *progress;
	const char *phase;
};

static void *worker(void *arg)
{
	struct pool *pl = arg;
	for (;;) {
		pthread_mutex_lock(&pl->mu);
		size_t i = pl->next < pl->n ? pl->next++ : SIZE_MAX;
		size_t done = pl->done;
		pthread_mutex_unlock(&pl->mu);
		if (pl->progress && pl->progress->fn && pthread_equal(pthread_self(), pl->main))
			pl->progress->fn(pl->progress->ud, pl->phase, done, pl->n);
		if (i == SIZE_MAX)
			return NULL;
		struct job *j = &pl->jobs[i];
		if (j->cached) {
			struct dg_error e = DG_ERROR_INIT;
			if (dg_fsum_decode(j->cached, j->len, &j->out, &e) < 0)
				j->out = NULL; /* built below instead: never trusted */
			free(j->cached);
			j->cached = NULL;
		} else if (j->p) {
			j->out = fsum_of_bytes(j->p, j->len);
		} /* else: a miss of the cache pass, built in the second pass */
		pthread_mutex_lock(&pl->mu);
		pl->done++;
		pthread_mutex_unlock(&pl->mu);
	}
}

static void run_pool(struct dg_objdb *db, struct pool *pl)
{
	int nt = db->threads < (int)pl->n ? db->threads : (int)pl->n;
	pthread_t th[64];
	int started = 0;
	pl->next = pl->done = 0;
	pl->main = pthread_self();
	pl->progress = &db->progress;
	pthread_mutex_init(&pl->mu, NULL);
	for (int t = 1; t < nt; t++)
		if (pthread_create(&th[started], NULL, worker, pl) == 0)
			started++;
	worker(pl);
	for (int t = 0; t < started; t++)
		pthread_join(th[t], NULL);
	pthread_mutex_destroy(&pl->mu);
}

void dg_objdb_fsum_prepare(struct dg_objdb *db, const struct dg_node *const *nodes, size_t n)
{
	struct pool pl = {0};
	struct dg_map queued = {0};
	const struct dg_node **of = dg_xcalloc(n ? n : 1, sizeof *of);
	pl.jobs = dg_xcalloc(n ? n : 1, sizeof *pl.jobs);
	/* cached records are read here (the cache belongs to this thread) and decoded by the workers */
	for (size_t i = 0; i < n; i++) {
		const struct dg_node *nd = nodes[i];
		if (!is_elf_node(nd))
			continue;
		const unsigned char *sha = nd->inode->sha256;
		if (dg_map_get(&db->fsum_by_sha, sha, 32) != SIZE_MAX || dg_map_get(&queued, sha, 32) != SIZE_MAX)
			continue;
		struct job *j = &pl.jobs[pl.n];
		j->sha = sha;
		of[pl.n] = nd;
		if (db->cache) {
			struct dg_error e = DG_ERROR_INIT;
			int r = dg_cache_get(db->cache, sha, DG_FNSUM_KIND, DG_FNSUM_VERSION, &j->cached, &j->len, &e);
			if (r < 0)
				cache_failed(db, &e);
			if (r != 1)
				j->cached = NULL;
		}
		dg_map_put(&queued, sha, 32, pl.n++);
	}
	dg_map_free(&queued);
	pl.phase = "reading cached summaries";
	run_pool(db, &pl);
	/* misses (and records that did not decode) are built from the file: the content
	 * store is mapped first (dg_fs_content), so the workers only read it */
	struct pool bl = {0};
	size_t *back = dg_xcalloc(pl.n ? pl.n : 1, sizeof *back);
	bl.jobs = dg_xcalloc(pl.n ? pl.n : 1, sizeof *bl.jobs);
	for (size_t i = 0; i < pl.n; i++) {
		if (pl.jobs[i].out) {
			db->st.fsum_hits++;
			continue;
		}
		struct dg_error e = DG_ERROR_INIT;
		struct job *j = &bl.jobs[bl.n];
		if (dg_fs_content(db->fs, of[i], &j->p, &j->len, &e) < 0)
			continue;
		j->sha = pl.jobs[i].sha;
		back[bl.n++] = i;
	}
	bl.phase = "disassembling";
	run_pool(db, &bl);
	for (size_t k = 0; k < bl.n; k++) {
		db->st.fsum_built++;
		if (db->cache)
			fsum_to_cache(db, bl.jobs[k].sha, bl.jobs[k].out);
		pl.jobs[back[k]].out = bl.jobs[k].out;
	}
	/* results in input order: the same store whatever the thread timing */
	for (size_t i = 0; i < pl.n; i++)
		if (pl.jobs[i].out)
			fsum_insert(db, pl.jobs[i].sha, pl.jobs[i].out);
	free(back);
	free(bl.jobs);
	free(pl.jobs);
	free(of);
}

const struct dg_fsum *dg_objdb_fsum(struct dg_objdb *db, const struct dg_node *n)
{
	if (!is_elf_node(n))
		return NULL;
	size_t i = dg_map_get(&db->fsum_by_sha, n->inode->sha256, 32);
	if (i == SIZE_MAX) {
		dg_objdb_fsum_prepare(db, &n, 1);
		i = dg_map_get(&db->fsum_by_sha, n->inode->sha256, 32);
	}
	return i == SIZE_MAX ? NULL : db->fsums[i];
}

struct dg_elf *dg_objdb_elf(struct dg_objdb *db, const struct dg_node *n, struct dg_error *err)
{
	if (!is_elf_node(n)) {
		dg_err(err, DG_E_INTERNAL, "not an ELF file");
		return NULL;
	}
	size_t i = dg_map_get(&db->elf_by_sha, n->inode->sha256, 32);
	if (i != SIZE_MAX)
		return db->elves[i];
	const unsigned char *p;
	size_t len;
	struct dg_elf *e;
	if (dg_fs_content(db->fs, n, &p, &len, err) < 0 || dg_elf_parse(p, len, &e, err) < 0)
		return NULL;
	db->elves = dg_xreallocarray(db->elves, db->nelves + 1, sizeof *db->elves);
	db->elves[db->nelves] = e;
	dg_map_put(&db->elf_by_sha, n->inode->sha256, 32, db->nelves++);
	return e;
}
