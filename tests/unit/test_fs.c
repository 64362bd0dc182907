/* Merged-tree semantics (overlay rules) and in-root path resolution. */
#include <errno.h>
#include <stdlib.h>

#include "image/fs_internal.h"
#include "tap.h"
#include "dockergate/util.h"

static struct dg_entry_meta M(uint32_t layer) { return (struct dg_entry_meta){0755, 0, 0, layer}; }

static struct dg_node *get(struct dg_fs *fs, const char *p, int flags, int *eno)
{
	struct dg_error err = DG_ERROR_INIT;
	struct dg_node *n = NULL;
	*eno = 0;
	if (dg_fs_resolve(fs, p, NULL, flags, &n, &err) < 0) {
		*eno = err.sys_errno;
		return NULL;
	}
	return n;
}

static char *path_of(struct dg_fs *fs, const char *p)
{
	int e;
	struct dg_node *n = get(fs, p, 0, &e);
	return n ? dg_node_path(n) : dg_xasprintf("errno %d", e);
}

static void file(struct dg_fs *fs, const char *p, uint32_t layer, uint64_t size)
{
	struct dg_error err = DG_ERROR_INIT;
	struct dg_entry_meta m = M(layer);
	struct dg_inode *i = dg_inode_new();
	i->size = size;
	if (dg_fs_apply_file(fs, p, &m, i, &err) < 0)
		printf("# apply_file %s: %s\n", p, err.msg);
}

static void test_clean(void)
{
	struct dg_error err = DG_ERROR_INIT;
	char *o = NULL;
	ok(dg_archive_path_clean("./usr//bin/./x/", 4096, &o, &err) == 0, "clean accepts ./ and //");
	is_str(o, "usr/bin/x", "clean normalises");
	free(o);
	ok(dg_archive_path_clean("./", 4096, &o, &err) == 0 && !*o, "./ is the root");
	free(o);
	ok(dg_archive_path_clean("/etc/passwd", 4096, &o, &err) < 0 && err.status == DG_E_IMAGE,
	   "absolute path refused");
	ok(dg_archive_path_clean("a/../../etc", 4096, &o, &err) < 0 && err.status == DG_E_IMAGE,
	   "'..' refused: %s", err.msg);
	ok(dg_archive_path_clean("..", 4096, &o, &err) < 0, "bare '..' refused");
	ok(dg_archive_path_clean("a/..b/c", 4096, &o, &err) == 0, "'..b' is an ordinary name");
	free(o);
	ok(dg_archive_path_clean("aaaa", 3, &o, &err) < 0 && err.status == DG_E_LIMIT, "path cap");
}

static void test_merge(void)
{
	struct dg_error err = DG_ERROR_INIT;
	struct dg_fs *fs = dg_fs_new(NULL);
	struct dg_entry_meta m1 = M(1), m2 = M(2), m3 = M(3);
	int e;
	dg_fs_apply_dir(fs, "etc", &m1, &err);
	file(fs, "etc/passwd", 1, 10);
	file(fs, "usr/lib/a.so", 1, 5); /* parents implied */
	file(fs, "usr/lib/b.so", 1, 5);
	dg_fs_apply_dir(fs, "usr/share/doc", &m1, &err);
	file(fs, "usr/share/doc/x", 1, 1);
	file(fs, "opt/app/old", 1, 1);
	file(fs, "opt/app/sub/deep", 1, 1);
	file(fs, "replace_me_dir/f", 1, 1);
	file(fs, "replace_me_file", 1, 1);
	dg_fs_apply_symlink(fs, "lib", "usr/lib", &m1, &err);
	ok(get(fs, "/usr/lib", 0, &e) && get(fs, "/usr", 0, &e)->mode == 0755, "implied parents exist");

	/* layer 2: whiteouts, opaque, replaced types, cross-layer hardlink */
	ok(dg_fs_apply_whiteout(fs, "usr/lib/a.so", 2, &err) == 0, "whiteout applies");
	ok(!get(fs, "/usr/lib/a.so", 0, &e) && e == ENOENT, "whited-out file is gone");
	dg_fs_apply_whiteout(fs, "usr/share/doc", 2, &err);
	ok(!get(fs, "/usr/share/doc/x", 0, &e), "whited-out directory gone with its subtree");
	ok(dg_fs_apply_whiteout(fs, "nonexistent", 2, &err) == 0, "whiteout of nothing is fine");
	file(fs, "opt/app/new", 2, 2);
	ok(dg_fs_apply_opaque(fs, "opt/app", 2, &err) == 0, "opaque applies");
	ok(!get(fs, "/opt/app/old", 0, &e) && !get(fs, "/opt/app/sub", 0, &e), "opaque hides lower entries");
	ok(get(fs, "/opt/app/new", 0, &e) != NULL, "opaque keeps same-layer entries written before it");
	file(fs, "opt/app/after", 2, 2);
	ok(get(fs, "/opt/app/after", 0, &e) != NULL, "entries after the marker stay");
	file(fs, "replace_me_dir", 2, 3);
	ok(get(fs, "/replace_me_dir", 0, &e)->type == DG_F_REG && !get(fs, "/replace_me_dir/f", 0, &e),
	   "file replaces directory");
	dg_fs_apply_dir(fs, "replace_me_file", &m2, &err);
	ok(get(fs, "/replace_me_file", 0, &e)->type == DG_F_DIR, "directory replaces file");
	ok(dg_fs_apply_hardlink(fs, "bin/passwd-link", "etc/passwd", &m2, &err) == 0,
	   "cross-layer hardlink: %s", err.msg);
	struct dg_node *h = get(fs, "/bin/passwd-link", 0, &e), *o = get(fs, "/etc/passwd", 0, &e);
	ok(h && o && h->inode == o->inode && o->inode->nlink == 2, "hardlink shares the inode");
	ok(dg_fs_apply_hardlink(fs, "x", "missing", &m2, &err) < 0 && err.status == DG_E_IMAGE,
	   "hardlink to a missing path refused");
	ok(dg_fs_apply_hardlink(fs, "x", "etc", &m2, &err) < 0, "hardlink to a directory refused");
	/* Docker and containers/storage chmod the shared file with the link
	 * entry's mode masked by the target's, and lchown it: all names change */
	struct dg_entry_meta ml = {04644, 7, 8, 2};
	file(fs, "bin/suid", 1, 4);
	get(fs, "/bin/suid", 0, &e)->inode->mode = 04755;
	dg_fs_apply_hardlink(fs, "bin/suid-link", "bin/suid", &ml, &err);
	ok(dg_node_mode(get(fs, "/bin/suid", 0, &e)) == 04644 && get(fs, "/bin/suid", 0, &e)->inode->uid == 7,
	   "a hardlink entry's mode and owner apply to every name of the file");
	/* modifying one name of a hardlink pair leaves the other (copy-up) */
	file(fs, "etc/passwd", 2, 99);
	ok(get(fs, "/bin/passwd-link", 0, &e)->inode->size == 10, "rewriting one link keeps the other");
	/* writing through a symlinked parent lands inside the root */
	file(fs, "lib/c.so", 2, 7);
	ok(get(fs, "/usr/lib/c.so", 0, &e) != NULL, "entry under a symlinked dir goes to its target");
	/* layer 3: a directory whose lower content is hidden but re-populated */
	file(fs, "data/keep/lower", 2, 1);
	dg_fs_apply_dir(fs, "data/keep", &m3, &err);
	dg_fs_apply_opaque(fs, "data", 3, &err);
	ok(get(fs, "/data/keep", 0, &e) && !get(fs, "/data/keep/lower", 0, &e),
	   "opaque recurses into dirs rewritten in the same layer");
	struct dg_fs_counts c;
	dg_fs_count(fs, &c);
	ok(c.hardlinked == 2, "hardlink count follows the merged view (%llu)",
	   (unsigned long long)c.hardlinked);
	dg_fs_free(fs);
}

static void test_resolve(void)
{
	struct dg_error err = DG_ERROR_INIT;
	struct dg_fs *fs = dg_fs_new(NULL);
	struct dg_entry_meta m = M(1);
	int e;
	file(fs, "etc/hostname", 1, 1);
	file(fs, "usr/lib/x86_64-linux-gnu/libc.so.6", 1, 1);
	dg_fs_apply_symlink(fs, "lib64", "usr/lib/x86_64-linux-gnu", &m, &err);
	dg_fs_apply_symlink(fs, "abs", "/etc/hostname", &m, &err);
	dg_fs_apply_symlink(fs, "escape", "../../../../../etc/hostname", &m, &err);
	dg_fs_apply_symlink(fs, "usr/bin/up", "../../../..", &m, &err);
	dg_fs_apply_symlink(fs, "loop1", "loop2", &m, &err);
	dg_fs_apply_symlink(fs, "loop2", "/loop1", &m, &err);
	dg_fs_apply_symlink(fs, "self", "self/x", &m, &err);
	dg_fs_apply_symlink(fs, "dangling", "/nowhere", &m, &err);
	char *p;
	is_str(p = path_of(fs, "/lib64/libc.so.6"), "/usr/lib/x86_64-linux-gnu/libc.so.6", "relative symlink");
	free(p);
	is_str(p = path_of(fs, "/abs"), "/etc/hostname", "absolute symlink resolves in the image root");
	free(p);
	is_str(p = path_of(fs, "/escape"), "/etc/hostname", "'..' in a symlink never climbs above the root");
	free(p);
	is_str(p = path_of(fs, "/../../etc/hostname"), "/etc/hostname", "'..' in a path stops at the root");
	free(p);
	is_str(p = path_of(fs, "/usr/bin/up/etc/hostname"), "/etc/hostname", "symlink to many '..'");
	free(p);
	ok(!get(fs, "/loop1", 0, &e) && e == ELOOP, "symlink loop ends with ELOOP");
	ok(!get(fs, "/self", 0, &e) && e == ELOOP, "self-referencing symlink ends with ELOOP");
	ok(!get(fs, "/dangling", 0, &e) && e == ENOENT, "dangling symlink: ENOENT");
	struct dg_node *n = get(fs, "/dangling", DG_RESOLVE_NOFOLLOW, &e);
	ok(n && n->type == DG_F_LNK, "NOFOLLOW returns the link itself");
	ok(!get(fs, "/etc/hostname/x", 0, &e) && e == ENOTDIR, "file as a directory: ENOTDIR");
	ok(!get(fs, "/abs/", 0, &e) && e == ENOTDIR, "trailing slash follows and needs a directory");
	is_str(p = path_of(fs, "lib64/./.."), "/usr/lib", "'..' after a symlink uses the physical parent");
	free(p);
	/* hardlink whose target path goes through a symlink stays in the root */
	ok(dg_fs_apply_hardlink(fs, "h", "lib64/libc.so.6", &m, &err) == 0, "hardlink via symlinked dir");
	dg_fs_free(fs);
}

int main(void)
{
	test_clean();
	test_merge();
	test_resolve();
	return tap_done();
}
