/* The merged filesystem tree: overlay semantics for layers, and path
 * resolution that can never leave the image root. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image/blobstore.h"
#include "image/fs_internal.h"
#include "dockergate/util.h"

struct dg_fs {
	struct dg_node *root;
	struct dg_blobstore *blobs;
	struct dg_limits limits;
};

static uint32_t name_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

#define TOMB ((struct dg_node *)1)

static struct dg_node *node_new(const char *name, size_t len, enum dg_ftype t)
{
	struct dg_node *n = dg_xcalloc(1, sizeof *n + len + 1);
	memcpy(n->name, name, len);
	n->name[len] = 0;
	n->namelen = (uint32_t)len;
	n->type = t;
	return n;
}

struct dg_inode *dg_inode_new(void)
{
	struct dg_inode *i = dg_xcalloc(1, sizeof *i);
	i->refs = 1;
	return i;
}

void dg_inode_unref(struct dg_inode *ino)
{
	if (ino && --ino->refs == 0)
		free(ino);
}

static void node_free(struct dg_node *n)
{
	if (!n)
		return;
	for (uint32_t i = 0; i < n->kcap; i++)
		if (n->kids[i] && n->kids[i] != TOMB)
			node_free(n->kids[i]);
	free(n->kids);
	free(n->target);
	if (n->inode) {
		n->inode->nlink--;
		dg_inode_unref(n->inode);
	}
	free(n);
}

static struct dg_node *kid_find(const struct dg_node *d, const char *name, size_t len,
				uint32_t *slot)
{
	if (!d->kcap)
		return NULL;
	uint32_t mask = d->kcap - 1, i = name_hash(name, len) & mask;
	for (;;) {
		struct dg_node *k = d->kids[i];
		if (!k)
			return NULL;
		if (k != TOMB && k->namelen == len && memcmp(k->name, name, len) == 0) {
			if (slot)
				*slot = i;
			return k;
		}
		i = (i + 1) & mask;
	}
}

static void kid_rehash(struct dg_node *d, uint32_t ncap)
{
	struct dg_node **nk = dg_xcalloc(ncap, sizeof *nk);
	for (uint32_t i = 0; i < d->kcap; i++) {
		struct dg_node *k = d->kids[i];
		if (!k || k == TOMB)
			continue;
		uint32_t j = name_hash(k->name, k->namelen) & (ncap - 1);
		while (nk[j])
			j = (j + 1) & (ncap - 1);
		nk[j] = k;
	}
	free(d->kids);
	d->kids = nk;
	d->kcap = ncap;
	d->ktomb = 0;
}

static void kid_add(struct dg_node *d, struct dg_node *k)
{
	if ((d->nkids + d->ktomb + 1) * 4 > d->kcap * 3) {
		uint32_t ncap = d->kcap ? d->kcap : 8;
		while ((d->nkids + 1) * 2 > ncap)
			ncap *= 2;
		kid_rehash(d, ncap);
	}
	uint32_t mask = d->kcap - 1, i = name_hash(k->name, k->namelen) & mask;
	while (d->kids[i] && d->kids[i] != TOMB)
		i = (i + 1) & mask;
	if (d->kids[i] == TOMB)
		d->ktomb--;
	d->kids[i] = k;
	d->nkids++;
	k->parent = d;
}

/* Unlinks and frees child NAME of D (with its subtree). */
static void kid_remove(struct dg_node *d, const char *name, size_t len)
{
	uint32_t slot;
	struct dg_node *k = kid_find(d, name, len, &slot);
	if (!k)
		return;
	d->kids[slot] = TOMB;
	d->ktomb++;
	d->nkids--;
	node_free(k);
}

struct dg_fs *dg_fs_new(const struct dg_limits *limits)
{
	struct dg_fs *fs = dg_xcalloc(1, sizeof *fs);
	if (limits)
		fs->limits = *limits;
	else
		dg_limits_default(&fs->limits);
	fs->root = node_new("", 0, DG_F_DIR);
	fs->root->mode = 0755;
	return fs;
}

void dg_fs_set_blobs(struct dg_fs *fs, struct dg_blobstore *bs);
void dg_fs_set_blobs(struct dg_fs *fs, struct dg_blobstore *bs) { fs->blobs = bs; }

void dg_fs_free(struct dg_fs *fs)
{
	if (!fs)
		return;
	node_free(fs->root);
	dg_blobstore_free(fs->blobs);
	free(fs);
}

struct dg_blobstore *dg_fs_blobs(struct dg_fs *fs) { return fs->blobs; }

int dg_archive_path_clean(const char *name, uint32_t max_path, char **out, struct dg_error *err)
{
	size_t n = strlen(name);
	if (n > max_path)
		return dg_err(err, DG_E_LIMIT, "path longer than %u bytes", max_path);
	if (name[0] == '/')
		return dg_err(err, DG_E_IMAGE, "absolute path '%.200s' refused in a layer", name);
	struct dg_buf b = {0};
	const char *p = name;
	while (*p) {
		while (*p == '/')
			p++;
		const char *s = p;
		while (*p && *p != '/')
			p++;
		size_t len = (size_t)(p - s);
		if (len == 0 || (len == 1 && s[0] == '.'))
			continue;
		if (len == 2 && s[0] == '.' && s[1] == '.') {
			dg_buf_free(&b);
			return dg_err(err, DG_E_IMAGE, "path '%.200s' with '..' refused in a layer", name);
		}
		if (b.len)
			dg_buf_putc(&b, '/');
		dg_buf_append(&b, s, len);
	}
	*out = b.data ? dg_buf_steal(&b) : dg_xstrdup("");
	return 0;
}

/* ---- resolution ---- */

int dg_fs_resolve(struct dg_fs *fs, const char *path, const struct dg_node *cwd, int flags,
		  struct dg_node **out, struct dg_error *err)
{
	const size_t cap_total = (size_t)fs->limits.max_path * (fs->limits.max_symlink_hops + 2);
	struct dg_node *cur = (path[0] == '/' || !cwd) ? fs->root : (struct dg_node *)cwd;
	uint32_t hops = 0;
	if (strlen(path) > fs->limits.max_path) {
		dg_err(err, DG_E_IMAGE, "%.200s: path too long", path);
		err->sys_errno = ENAMETOOLONG;
		return -1;
	}
	char *rem = dg_xstrdup(path);
	size_t pos = 0;
	int rc = 0;
	for (;;) {
		while (rem[pos] == '/')
			pos++;
		if (!rem[pos])
			break;
		size_t s = pos;
		while (rem[pos] && rem[pos] != '/')
			pos++;
		size_t len = pos - s;
		int last = 1;
		for (size_t k = pos; rem[k]; k++)
			if (rem[k] != '/') {
				last = 0;
				break;
			}
		int trailing_slash = rem[pos] == '/';
		if (len == 1 && rem[s] == '.')
			continue;
		if (len == 2 && rem[s] == '.' && rem[s + 1] == '.') {
			if (cur->parent)
				cur = cur->parent;
			continue;
		}
		if (cur->type != DG_F_DIR) {
			rc = ENOTDIR;
			break;
		}
		struct dg_node *k = kid_find(cur, rem + s, len, NULL);
		if (!k) {
			rc = ENOENT;
			break;
		}
		if (k->type == DG_F_LNK && (!last || trailing_slash || !(flags & DG_RESOLVE_NOFOLLOW))) {
			if (++hops > fs->limits.max_symlink_hops) {
				rc = ELOOP;
				break;
			}
			const char *t = k->target ? k->target : "";
			size_t newlen = strlen(t) + 1 + strlen(rem + pos);
			if (newlen > cap_total) {
				rc = ENAMETOOLONG;
				break;
			}
			const char *rest = rem + pos;
			while (*rest == '/')
				rest++;
			char *nr = *rest ? dg_xasprintf("%s/%s", t, rest)
					 : dg_xasprintf("%s%s", t, trailing_slash ? "/" : "");
			free(rem);
			rem = nr;
			pos = 0;
			if (t[0] == '/')
				cur = fs->root;
			/* relative: stays in the symlink's directory */
			continue;
		}
		cur = k;
		if (last && trailing_slash && k->type != DG_F_DIR && k->type != DG_F_LNK) {
			rc = ENOTDIR;
			break;
		}
	}
	free(rem);
	if (rc) {
		dg_err(err, DG_E_IMAGE, "%.200s: %s", path, strerror(rc));
		err->sys_errno = rc;
		return -1;
	}
	*out = cur;
	return 0;
}

char *dg_node_path(const struct dg_node *n)
{
	if (!n->parent)
		return dg_xstrdup("/");
	size_t len = 0;
	for (const struct dg_node *p = n; p->parent; p = p->parent)
		len += p->namelen + 1;
	char *s = dg_xmalloc(len + 1);
	s[len] = 0;
	for (const struct dg_node *p = n; p->parent; p = p->parent) {
		len -= p->namelen;
		memcpy(s + len, p->name, p->namelen);
		s[--len] = '/';
	}
	return s;
}

int dg_fs_content(struct dg_fs *fs, const struct dg_node *n, const unsigned char **data,
		  size_t *len, struct dg_error *err)
{
	if (n->type != DG_F_REG || !n->inode || n->inode->kind == DG_CONTENT_NONE || !fs->blobs) {
		char *p = dg_node_path(n);
		dg_err(err, DG_E_INTERNAL, "%s: content was not kept", p);
		free(p);
		return -1;
	}
	*len = (size_t)n->inode->size;
	return dg_blobstore_get(fs->blobs, n->inode->blob_off, n->inode->size, data, err);
}

static int cmp_node(const void *a, const void *b)
{
	const struct dg_node *x = *(struct dg_node *const *)a, *y = *(struct dg_node *const *)b;
	size_t n = x->namelen < y->namelen ? x->namelen : y->namelen;
	int c = memcmp(x->name, y->name, n);
	if (c)
		return c;
	return (x->namelen > y->namelen) - (x->namelen < y->namelen);
}

static int walk(struct dg_node *d, dg_walk_fn cb, void *ud, int deep)
{
	if (!d->nkids)
		return 0;
	struct dg_node **v = dg_xmalloc(d->nkids * sizeof *v);
	uint32_t k = 0;
	for (uint32_t i = 0; i < d->kcap; i++)
		if (d->kids[i] && d->kids[i] != TOMB)
			v[k++] = d->kids[i];
	qsort(v, k, sizeof *v, cmp_node);
	int rc = 0;
	for (uint32_t i = 0; i < k && !rc; i++) {
		rc = cb(v[i], ud);
		if (!rc && deep && v[i]->type == DG_F_DIR)
			rc = walk(v[i], cb, ud, 1);
	}
	free(v);
	return rc;
}

int dg_fs_walk(struct dg_fs *fs, dg_walk_fn cb, void *ud) { return walk(fs->root, cb, ud, 1); }

int dg_fs_walk_from(struct dg_node *dir, int deep, dg_walk_fn cb, void *ud)
{
	return dir && dir->type == DG_F_DIR ? walk(dir, cb, ud, deep) : 0;
}

static int count_cb(struct dg_node *n, void *ud)
{
	struct dg_fs_counts *c = ud;
	c->entries++;
	switch (n->type) {
	case DG_F_REG:
		c->regular++;
		if (n->inode->nlink > 1)
			c->hardlinked++;
		if (n->inode->kind == DG_CONTENT_ELF)
			c->elf++;
		else if (n->inode->kind == DG_CONTENT_SCRIPT)
			c->scripts++;
		break;
	case DG_F_DIR: c->dirs++; break;
	case DG_F_LNK: c->symlinks++; break;
	default: c->special++; break;
	}
	return 0;
}

void dg_fs_count(struct dg_fs *fs, struct dg_fs_counts *c)
{
	memset(c, 0, sizeof *c);
	dg_fs_walk(fs, count_cb, c);
	c->kept_bytes = fs->blobs ? dg_blobstore_bytes(fs->blobs) : 0;
}

/* ---- layer application ---- */

/* Walks the parent directories of PATH from the root, creating missing ones
 * (as the engines' appliers do) and following symlinks inside the root. Marks
 * every directory passed through as touched by LAYER (for opaque dirs).
 * *base points into PATH at the last component ("" for the root itself). */
static int parent_of(struct dg_fs *fs, const char *path, uint32_t layer, struct dg_node **dir,
		     const char **base, struct dg_error *err)
{
	struct dg_node *cur = fs->root;
	const char *p = path;
	for (;;) {
		const char *slash = strchr(p, '/');
		if (!slash)
			break;
		size_t len = (size_t)(slash - p);
		struct dg_node *k = kid_find(cur, p, len, NULL);
		if (!k) {
			k = node_new(p, len, DG_F_DIR);
			k->mode = 0755;
			kid_add(cur, k);
		} else if (k->type == DG_F_LNK) {
			struct dg_node *t;
			char *sub = dg_xstrndup(path, (size_t)(slash - path));
			int r = dg_fs_resolve(fs, sub, NULL, 0, &t, err);
			free(sub);
			if (r < 0)
				return dg_err(err, DG_E_IMAGE,
					      "parent '%.*s' is a symlink that does not resolve to a directory inside the image",
					      (int)(slash - path), path);
			k = t;
		}
		if (k->type != DG_F_DIR)
			return dg_err(err, DG_E_IMAGE, "parent '%.*s' is not a directory",
				      (int)(slash - path), path);
		k->layer = layer;
		cur = k;
		p = slash + 1;
	}
	*dir = cur;
	*base = p;
	return 0;
}

static void set_meta(struct dg_node *n, const struct dg_entry_meta *m)
{
	n->mode = m->mode & 07777;
	n->uid = m->uid;
	n->gid = m->gid;
	n->layer = m->layer;
}

/* Puts a fresh node NAME into DIR, replacing whatever was there. */
static struct dg_node *place(struct dg_node *dir, const char *name, enum dg_ftype t)
{
	size_t len = strlen(name);
	kid_remove(dir, name, len);
	struct dg_node *n = node_new(name, len, t);
	kid_add(dir, n);
	return n;
}

int dg_fs_apply_dir(struct dg_fs *fs, const char *path, const struct dg_entry_meta *m,
		    struct dg_error *err)
{
	if (!*path) {
		set_meta(fs->root, m);
		return 0;
	}
	struct dg_node *dir;
	const char *base;
	if (parent_of(fs, path, m->layer, &dir, &base, err) < 0)
		return -1;
	struct dg_node *k = kid_find(dir, base, strlen(base), NULL);
	if (k && k->type == DG_F_DIR) { /* merges with the lower directory */
		set_meta(k, m);
		return 0;
	}
	set_meta(place(dir, base, DG_F_DIR), m);
	return 0;
}

static int need_base(const char *path, const char *what, struct dg_error *err)
{
	if (!*path)
		return dg_err(err, DG_E_IMAGE, "%s entry names the image root", what);
	return 0;
}

int dg_fs_apply_file(struct dg_fs *fs, const char *path, const struct dg_entry_meta *m,
		     struct dg_inode *inode, struct dg_error *err)
{
	struct dg_node *dir;
	const char *base;
	if (need_base(path, "file", err) < 0 || parent_of(fs, path, m->layer, &dir, &base, err) < 0) {
		dg_inode_unref(inode);
		return -1;
	}
	struct dg_node *n = place(dir, base, DG_F_REG);
	set_meta(n, m);
	inode->mode = n->mode;
	inode->uid = m->uid;
	inode->gid = m->gid;
	n->inode = inode;
	inode->nlink++;
	return 0;
}

int dg_fs_apply_symlink(struct dg_fs *fs, const char *path, const char *target,
			const struct dg_entry_meta *m, struct dg_error *err)
{
	struct dg_node *dir;
	const char *base;
	if (need_base(path, "symlink", err) < 0 || parent_of(fs, path, m->layer, &dir, &base, err) < 0)
		return -1;
	if (strlen(target) > fs->limits.max_path)
		return dg_err(err, DG_E_LIMIT, "symlink target longer than %u bytes", fs->limits.max_path);
	struct dg_node *n = place(dir, base, DG_F_LNK);
	set_meta(n, m);
	n->mode = 0777;
	n->target = dg_xstrdup(target);
	return 0;
}

int dg_fs_apply_hardlink(struct dg_fs *fs, const char *path, const char *linkpath,
			 const struct dg_entry_meta *m, struct dg_error *err)
{
	if (need_base(path, "hardlink", err) < 0)
		return -1;
	struct dg_node *src;
	/* The link target's directories resolve inside the root; its last
	 * component is not followed, as link(2) does not follow it. */
	if (dg_fs_resolve(fs, linkpath, NULL, DG_RESOLVE_NOFOLLOW, &src, err) < 0)
		return dg_err(err, DG_E_IMAGE, "hardlink target '%.200s' does not exist in the image",
			      linkpath);
	if (src->type == DG_F_DIR)
		return dg_err(err, DG_E_IMAGE, "hardlink to directory '%.200s' refused", linkpath);
	struct dg_node *dir;
	const char *base;
	if (parent_of(fs, path, m->layer, &dir, &base, err) < 0)
		return -1;
	if (kid_find(dir, base, strlen(base), NULL) == src)
		return 0; /* a link to itself changes nothing */
	/* Keep what we copy alive while the old entry at PATH is removed. */
	enum dg_ftype t = src->type;
	struct dg_inode *ino = src->inode;
	if (ino)
		ino->refs++;
	char *target = src->target ? dg_xstrdup(src->target) : NULL;
	uint32_t mode = src->mode, uid = src->uid, gid = src->gid;
	uint32_t maj = src->dev_major, min = src->dev_minor;
	struct dg_node *n = place(dir, base, t);
	n->mode = mode;
	n->uid = uid;
	n->gid = gid;
	n->layer = m->layer;
	n->target = target;
	n->dev_major = maj;
	n->dev_minor = min;
	if (ino) {
		/* The engines apply the link entry's header to the shared file:
		 * chmod(header mode & target mode), lchown(header uid, gid). */
		n->inode = ino;
		ino->nlink++;
		ino->mode = (m->mode & 07777) & ino->mode;
		ino->uid = m->uid;
		ino->gid = m->gid;
		n->mode = ino->mode;
	}
	return 0;
}

int dg_fs_apply_special(struct dg_fs *fs, const char *path, enum dg_ftype type,
			const struct dg_entry_meta *m, uint32_t major, uint32_t minor,
			struct dg_error *err)
{
	struct dg_node *dir;
	const char *base;
	if (need_base(path, "device", err) < 0 || parent_of(fs, path, m->layer, &dir, &base, err) < 0)
		return -1;
	struct dg_node *n = place(dir, base, type); /* metadata only: nothing is ever created */
	set_meta(n, m);
	n->dev_major = major;
	n->dev_minor = minor;
	return 0;
}

int dg_fs_apply_whiteout(struct dg_fs *fs, const char *path, uint32_t layer, struct dg_error *err)
{
	struct dg_node *dir;
	const char *base;
	if (need_base(path, "whiteout", err) < 0 || parent_of(fs, path, layer, &dir, &base, err) < 0)
		return -1;
	kid_remove(dir, base, strlen(base));
	return 0;
}

static void opaque(struct dg_node *d, uint32_t layer)
{
	for (uint32_t i = 0; i < d->kcap; i++) {
		struct dg_node *k = d->kids[i];
		if (!k || k == TOMB)
			continue;
		if (k->layer != layer) {
			d->kids[i] = TOMB;
			d->ktomb++;
			d->nkids--;
			node_free(k);
		} else if (k->type == DG_F_DIR) {
			opaque(k, layer);
		}
	}
}

int dg_fs_apply_opaque(struct dg_fs *fs, const char *dirpath, uint32_t layer, struct dg_error *err)
{
	struct dg_node *d;
	if (!*dirpath) {
		d = fs->root;
	} else {
		struct dg_node *dir;
		const char *base;
		if (parent_of(fs, dirpath, layer, &dir, &base, err) < 0)
			return -1;
		d = kid_find(dir, base, strlen(base), NULL);
		if (!d || d->type != DG_F_DIR) {
			/* The marker implies its directory, as extracting it would create it. */
			d = place(dir, base, DG_F_DIR);
			d->mode = 0755;
		}
	}
	d->layer = layer;
	opaque(d, layer);
	return 0;
}
