/* Emulation of the dynamic loader inside the image root: which file each
 * DT_NEEDED name loads, with the real search order of glibc's ld.so or, for
 * programs whose PT_INTERP is ld-musl-*, of musl's, without running anything. */
#ifndef DOCKERGATE_LOADER_H
#define DOCKERGATE_LOADER_H

#include "dockergate/dyninfo.h"
#include "dockergate/fs.h"
#include "dockergate/objdb.h"

struct dg_ldcache;

/* Parses /etc/ld.so.cache in the old ("ld.so-1.7.0"), new ("glibc-ld.so.cache1.1")
 * or combined format. DATA must outlive the cache. */
int dg_ldcache_parse(const unsigned char *data, size_t n, struct dg_ldcache **out, struct dg_error *err);
/* The path the cache gives NAME for an object of MACHINE/BITS, or NULL. */
const char *dg_ldcache_lookup(const struct dg_ldcache *c, const char *name, uint16_t machine, int bits);
void dg_ldcache_free(struct dg_ldcache *c);

struct dg_ldobj {
	char *name;   /* as requested (DT_NEEDED string, PT_INTERP, or the executable's path) */
	char *path;   /* where the loader found it, NULL when not found */
	/* "exe", "interp", "path", "rpath", "LD_LIBRARY_PATH", "runpath", "ld.so.cache", "default";
	 * musl: "ld-musl path file", and "musl itself" for an entry that lists the loader
	 * (the same file as the interpreter) under a name it answers itself (libc.so) */
	const char *via;
	struct dg_node *node;
	const struct dg_dyninfo *dyn; /* NULL when not found; owned by the object store */
	size_t needed_by; /* index of the object that first needed it */
	size_t *deps;     /* per DT_NEEDED entry of dyn: the object it resolved to, or SIZE_MAX */
	size_t ndeps;
};

struct dg_ldset {
	struct dg_ldobj *objs; /* load order: the executable, its needs breadth-first, the interpreter */
	size_t n;
	struct dg_objdb *own_db; /* a private store when the caller gave none */
	int musl;                /* musl's rules applied (PT_INTERP is ld-musl-*) */
};

struct dg_ldopts {
	const char *ld_library_path; /* from the image config's Env, or NULL */
	struct dg_objdb *db;         /* shared object store, or NULL for a private one */
};

/* The value of LD_LIBRARY_PATH in an image config's Env list, or NULL. */
const char *dg_ld_library_path(const struct dg_strv *env);

int dg_ld_closure(struct dg_fs *fs, const char *exe, const struct dg_ldopts *o, struct dg_ldset **out,
		  struct dg_error *err);
void dg_ldset_free(struct dg_ldset *s);

/* Where glibc's dlopen(NAME) from an object without RPATH/RUNPATH and without
 * LD_LIBRARY_PATH finds NAME for MACHINE/BITS: a name with a slash as given,
 * else ld.so.cache, then the system directories (glibc-hwcaps subdirectories
 * first). DB may be NULL (a private store). Returns 1 and sets *PATH (caller
 * frees) and *VIA ("path", "ld.so.cache", "default"; VIA may be NULL), or 0. */
int dg_ld_find(struct dg_fs *fs, struct dg_objdb *db, const char *name, uint16_t machine, int bits,
	       char **path, const char **via);

#endif
