/* The merged image filesystem: what a container engine's overlay mount would
 * show, held in memory as metadata. Only ELF files and scripts keep their
 * content (in a private, unlinked blob file); everything else is metadata. */
#ifndef DOCKERGATE_FS_H
#define DOCKERGATE_FS_H

#include <stddef.h>
#include <stdint.h>

#include "dockergate/error.h"
#include "dockergate/limits.h"

enum dg_ftype { DG_F_REG = 1, DG_F_DIR, DG_F_LNK, DG_F_CHR, DG_F_BLK, DG_F_FIFO, DG_F_SOCK };

enum dg_content_kind {
	DG_CONTENT_NONE = 0, /* not kept (not ELF, not a script, or empty) */
	DG_CONTENT_ELF,
	DG_CONTENT_SCRIPT, /* starts with "#!" */
	DG_CONTENT_LDCACHE, /* the dynamic loader's cache (ld.so.cache) */
	DG_CONTENT_CONFIG,  /* a small configuration file the analysis reads (etc/ld-musl-ARCH.path) */
	DG_CONTENT_SHTEXT,  /* *.sh / *.bash without "#!": shell code a script may source (scope.h) */
};

struct dg_fs;
struct dg_node;
struct dg_blobstore;

/* Shared by hardlinks: the file object a path points at. */
struct dg_inode {
	uint64_t size;
	enum dg_content_kind kind;
	uint64_t blob_off; /* offset in the blob store when kind != NONE */
	unsigned char sha256[32];
	uint32_t mode;  /* permission bits of a regular file live here: hardlinks share them */
	uint32_t uid, gid;
	uint32_t nlink; /* paths pointing here in the merged view */
	uint32_t refs;  /* internal reference count */
};

struct dg_node {
	struct dg_node *parent;
	enum dg_ftype type;
	uint32_t mode; /* permission bits incl. suid/sgid/sticky (07777) */
	uint32_t uid, gid;
	uint32_t layer;          /* last layer that wrote or traversed this node (1-based) */
	char *target;            /* symlink target */
	struct dg_inode *inode;  /* regular files */
	uint32_t dev_major, dev_minor;
	/* directory children: open-addressing hash table */
	struct dg_node **kids;
	uint32_t nkids, kcap, ktomb;
	uint32_t namelen;
	char name[]; /* NUL-terminated component name ("" for the root) */
};

/* Resolution flags. */
#define DG_RESOLVE_NOFOLLOW 0x1 /* do not follow a symlink in the last component */

struct dg_fs *dg_fs_new(const struct dg_limits *limits);
void dg_fs_free(struct dg_fs *fs);
struct dg_blobstore *dg_fs_blobs(struct dg_fs *fs);

/* Resolves PATH inside the image root the way openat2(RESOLVE_IN_ROOT) does:
 * absolute symlinks restart at the image root, ".." never climbs above it, more
 * than max_symlink_hops symlinks end with ELOOP. Relative paths start at CWD
 * (the root when NULL). On failure returns -1 with err->sys_errno set to
 * ENOENT, ENOTDIR, ELOOP or ENAMETOOLONG. */
int dg_fs_resolve(struct dg_fs *fs, const char *path, const struct dg_node *cwd, int flags,
		  struct dg_node **out, struct dg_error *err);

/* Permission bits (07777) of a node: a regular file's come from its inode. */
static inline uint32_t dg_node_mode(const struct dg_node *n)
{
	return n->inode ? n->inode->mode : n->mode;
}

/* Absolute path of a node ("/" for the root). Caller frees. */
char *dg_node_path(const struct dg_node *n);

/* Content of a kept file; the pointer is valid until dg_fs_free. */
int dg_fs_content(struct dg_fs *fs, const struct dg_node *n, const unsigned char **data,
		  size_t *len, struct dg_error *err);

/* Calls CB for every node except the root in path order (bytewise sorted
 * children, depth first). Stops and returns CB's value when it is non-zero. */
typedef int (*dg_walk_fn)(struct dg_node *n, void *ud);
int dg_fs_walk(struct dg_fs *fs, dg_walk_fn cb, void *ud);
/* The same below DIR (not DIR itself); only DIR's children when DEEP is 0.
 * Symlinks to directories are reported, not entered. */
int dg_fs_walk_from(struct dg_node *dir, int deep, dg_walk_fn cb, void *ud);

struct dg_fs_counts {
	uint64_t entries, regular, dirs, symlinks, hardlinked, special;
	uint64_t elf, scripts, kept_bytes;
};
void dg_fs_count(struct dg_fs *fs, struct dg_fs_counts *c);

#endif
