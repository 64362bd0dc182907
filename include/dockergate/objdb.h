/* Per-run store of what is known about each ELF file of an image: its
 * dynamic info, derived once per distinct content (SHA-256) from the ELF
 * reader or taken from the analysis cache, and the image's ld.so.cache, read
 * once. Every analysis of one image shares one store. */
#ifndef DOCKERGATE_OBJDB_H
#define DOCKERGATE_OBJDB_H

#include <stdint.h>

#include "dockergate/dyninfo.h"
#include "dockergate/fs.h"

struct dg_objdb;
struct dg_ldcache;
struct dg_cache;

/* CACHE may be NULL (no persistent cache). Neither is owned. */
struct dg_objdb *dg_objdb_new(struct dg_fs *fs, struct dg_cache *cache);
void dg_objdb_free(struct dg_objdb *db);
struct dg_fs *dg_objdb_fs(struct dg_objdb *db);

/* The dynamic info of a regular file whose content was kept as ELF, or NULL
 * for anything else. A malformed ELF file gives a record with ->error set.
 * The record is borrowed and lives as long as the store. */
const struct dg_dyninfo *dg_objdb_dyn(struct dg_objdb *db, const struct dg_node *n);

/* The image's /etc/ld.so.cache, parsed once; NULL when absent or unreadable
 * (the real loader then skips it too). */
const struct dg_ldcache *dg_objdb_ldcache(struct dg_objdb *db);

struct dg_objdb_stats {
	uint64_t files;        /* distinct contents asked for */
	uint64_t parsed;       /* read with the ELF reader */
	uint64_t cache_hits;   /* taken from the persistent cache */
	uint64_t cache_errors; /* failed cache reads/writes (the analysis went on without) */
	uint64_t malformed;    /* ELF files the reader refused */
	uint64_t fsum_hits;    /* syscall summaries taken from the persistent cache */
	uint64_t fsum_built;   /* syscall summaries computed (disassembled) */
};
void dg_objdb_stats(const struct dg_objdb *db, struct dg_objdb_stats *st);
struct dg_fsum;
/* Threads used to compute syscall summaries (default 1). */
void dg_objdb_set_threads(struct dg_objdb *db, int n);
int dg_objdb_threads(const struct dg_objdb *db);
/* Progress of long phases (summaries read or computed, programs analysed): FN is called
 * from the calling thread only, with what is done of TOTAL in PHASE. */
struct dg_progress {
	void (*fn)(void *ud, const char *phase, size_t done, size_t total);
	void *ud;
};
void dg_objdb_set_progress(struct dg_objdb *db, const struct dg_progress *p);
const struct dg_progress *dg_objdb_progress(const struct dg_objdb *db);
/* The persistent cache the store uses, or NULL. */
struct dg_cache *dg_objdb_cache(struct dg_objdb *db);
/* Makes the syscall summaries of NODES (regular ELF files) available: from the
 * cache, or computed in parallel, each distinct content once. The result does
 * not depend on the number of threads. */
void dg_objdb_fsum_prepare(struct dg_objdb *db, const struct dg_node *const *nodes, size_t n);
/* The syscall summary of a regular ELF file (computed now if not prepared), or
 * NULL for anything else. Borrowed; lives as long as the store. */
const struct dg_fsum *dg_objdb_fsum(struct dg_objdb *db, const struct dg_node *n);
/* The full ELF model of a regular ELF file, parsed once per run and kept (the
 * binder's libraries); NULL with ERR for a file the reader refuses. Borrowed. */
struct dg_elf *dg_objdb_elf(struct dg_objdb *db, const struct dg_node *n, struct dg_error *err);
/* The first cache error's message, or NULL. */
const char *dg_objdb_cache_error(const struct dg_objdb *db);

#endif
