/* Layer application onto the merged tree, with overlay semantics. Paths given
 * here are archive paths already checked by dg_archive_path_clean. */
#ifndef DG_FS_INTERNAL_H
#define DG_FS_INTERNAL_H

#include "dockergate/fs.h"

struct dg_entry_meta {
	uint32_t mode, uid, gid;
	uint32_t layer;
};

/* Validates and normalises an archive member name: strips "./" and trailing
 * "/", collapses "//" and "/./". Absolute names and any ".." component are
 * refused (DG_E_IMAGE). An empty result means the root. Returns a new string. */
int dg_archive_path_clean(const char *name, uint32_t max_path, char **out, struct dg_error *err);

int dg_fs_apply_dir(struct dg_fs *fs, const char *path, const struct dg_entry_meta *m,
		    struct dg_error *err);
/* INODE's reference is taken over by the tree. */
int dg_fs_apply_file(struct dg_fs *fs, const char *path, const struct dg_entry_meta *m,
		     struct dg_inode *inode, struct dg_error *err);
int dg_fs_apply_symlink(struct dg_fs *fs, const char *path, const char *target,
			const struct dg_entry_meta *m, struct dg_error *err);
int dg_fs_apply_hardlink(struct dg_fs *fs, const char *path, const char *linkpath,
			 const struct dg_entry_meta *m, struct dg_error *err);
int dg_fs_apply_special(struct dg_fs *fs, const char *path, enum dg_ftype type,
			const struct dg_entry_meta *m, uint32_t major, uint32_t minor,
			struct dg_error *err);
/* ".wh.NAME" in DIR: removes DIR/NAME (PATH is DIR/NAME). */
int dg_fs_apply_whiteout(struct dg_fs *fs, const char *path, uint32_t layer, struct dg_error *err);
/* ".wh..wh..opq" in DIR: hides everything lower layers put under DIR. */
int dg_fs_apply_opaque(struct dg_fs *fs, const char *dirpath, uint32_t layer, struct dg_error *err);

struct dg_inode *dg_inode_new(void);
void dg_inode_unref(struct dg_inode *ino);

#endif
