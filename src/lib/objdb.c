/* The per-run object store (objdb.h): content SHA-256 → dynamic info, filled
 * from the persistent cache or the ELF reader. */
#include <stdlib.h>
#include <string.h>

#include "dockergate/cache.h"
#include "dockergate/loader.h"
#include "dockergate/objdb.h"
#include "map.h"
#include "util.h"

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
};

struct dg_objdb *dg_objdb_new(struct dg_fs *fs, struct dg_cache *cache)
{
	struct dg_objdb *db = dg_xcalloc(1, sizeof *db);
	db->fs = fs;
	db->cache = cache;
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

static void to_cache(struct dg_objdb *db, const unsigned char sha[32], const struct dg_dyninfo *d)
{
	struct dg_error e = DG_ERROR_INIT;
	unsigned char *buf;
	size_t len;
	dg_dyninfo_encode(d, &buf, &len);
	if (dg_cache_put(db->cache, sha, DG_DYNINFO_KIND, DG_DYNINFO_VERSION, buf, len, &e) < 0)
		cache_failed(db, &e);
	free(buf);
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
