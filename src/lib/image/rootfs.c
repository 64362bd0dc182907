/* A root filesystem directory as an image: walked with openat and
 * O_NOFOLLOW so nothing outside it is ever opened; no config. Other
 * filesystems mounted below it (proc, sys) are listed but not entered. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "image/blobstore.h"
#include "image/fs_internal.h"
#include "image/image_internal.h"
#include "image/layer.h"
#include "dockergate/util.h"

struct hl {
	dev_t dev;
	ino_t ino;
	char *path; /* first path seen, for the hardlink */
};

struct walk {
	struct dg_image *img;
	dev_t rootdev;
	struct hl *hls;
	size_t nhl;
	uint64_t entries;
};

static int keep_file(struct walk *w, int fd, const char *path, struct dg_inode *ino, struct dg_error *err)
{
	unsigned char buf[65536];
	ssize_t r = read(fd, buf, sizeof buf);
	if (r < 0)
		return dg_err_sys(err, DG_E_INPUT, errno, "read");
	ino->kind = dg_sniff(path, buf, (size_t)r);
	if (ino->kind == DG_CONTENT_NONE)
		return 0;
	struct dg_blobw bw;
	if (dg_blobw_begin(dg_fs_blobs(w->img->fs), &bw, err) < 0)
		return -1;
	do {
		if (dg_blobw_write(&bw, buf, (size_t)r, err) < 0)
			goto fail;
		r = read(fd, buf, sizeof buf);
		if (r < 0) {
			dg_err_sys(err, DG_E_INPUT, errno, "read");
			goto fail;
		}
	} while (r > 0);
	ino->size = bw.size;
	return dg_blobw_commit(&bw, ino->sha256, &ino->blob_off, err);
fail:
	dg_blobw_abort(&bw);
	return -1;
}

static int walk_dir(struct walk *w, int dfd, const char *rel, unsigned depth, struct dg_error *err)
{
	if (depth > 512)
		return dg_err(err, DG_E_LIMIT, "%s: directories nested too deeply", rel);
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return dg_err_sys(err, DG_E_INPUT, errno, "%s", rel);
	}
	struct dirent *de;
	int rc = 0;
	const struct dg_limits *lim = &w->img->opts.limits;
	while (!rc && (errno = 0, de = readdir(d))) {
		const char *nm = de->d_name;
		if (!strcmp(nm, ".") || !strcmp(nm, ".."))
			continue;
		dg_autofree char *path = *rel ? dg_xasprintf("%s/%s", rel, nm) : dg_xstrdup(nm);
		if (strlen(path) > lim->max_path) {
			rc = dg_err(err, DG_E_LIMIT, "%.200s…: path longer than %u bytes", path, lim->max_path);
			break;
		}
		if (++w->entries > lim->max_entries) {
			rc = dg_err(err, DG_E_LIMIT, "more than %llu entries", (unsigned long long)lim->max_entries);
			break;
		}
		struct stat st;
		if (fstatat(dirfd(d), nm, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = dg_err_sys(err, DG_E_INPUT, errno, "%s", path);
			break;
		}
		struct dg_entry_meta m = {.mode = st.st_mode & 07777, .uid = st.st_uid, .gid = st.st_gid,
					  .layer = 1};
		if (S_ISDIR(st.st_mode)) {
			rc = dg_fs_apply_dir(w->img->fs, path, &m, err);
			if (rc || st.st_dev != w->rootdev)
				continue;
			int fd = openat(dirfd(d), nm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				rc = dg_err_sys(err, DG_E_INPUT, errno, "%s", path);
				break;
			}
			rc = walk_dir(w, fd, path, depth + 1, err);
		} else if (S_ISLNK(st.st_mode)) {
			char t[8192];
			ssize_t n = readlinkat(dirfd(d), nm, t, sizeof t - 1);
			if (n < 0) {
				rc = dg_err_sys(err, DG_E_INPUT, errno, "%s", path);
				break;
			}
			t[n] = 0;
			rc = dg_fs_apply_symlink(w->img->fs, path, t, &m, err);
		} else if (S_ISREG(st.st_mode)) {
			if (st.st_nlink > 1) {
				const char *first = NULL;
				for (size_t i = 0; i < w->nhl; i++)
					if (w->hls[i].dev == st.st_dev && w->hls[i].ino == st.st_ino)
						first = w->hls[i].path;
				if (first) {
					rc = dg_fs_apply_hardlink(w->img->fs, path, first, &m, err);
					continue;
				}
				w->hls = dg_xreallocarray(w->hls, w->nhl + 1, sizeof *w->hls);
				w->hls[w->nhl++] = (struct hl){st.st_dev, st.st_ino, dg_xstrdup(path)};
			}
			struct dg_inode *ino = dg_inode_new();
			ino->size = (uint64_t)st.st_size;
			if (st.st_size > 0) {
				int fd = openat(dirfd(d), nm, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
				if (fd < 0) {
					dg_inode_unref(ino);
					rc = dg_err_sys(err, DG_E_INPUT, errno, "%s", path);
					break;
				}
				rc = keep_file(w, fd, path, ino, err);
				close(fd);
				if (rc) {
					dg_inode_unref(ino);
					dg_err_prefix(err, "%s", path);
					break;
				}
			}
			rc = dg_fs_apply_file(w->img->fs, path, &m, ino, err);
		} else {
			enum dg_ftype t = S_ISCHR(st.st_mode)	? DG_F_CHR
					  : S_ISBLK(st.st_mode) ? DG_F_BLK
					  : S_ISFIFO(st.st_mode) ? DG_F_FIFO
								 : DG_F_SOCK;
			rc = dg_fs_apply_special(w->img->fs, path, t, &m, major(st.st_rdev), minor(st.st_rdev),
						 err);
		}
	}
	if (!rc && errno)
		rc = dg_err_sys(err, DG_E_INPUT, errno, "%s", rel);
	closedir(d);
	return rc;
}

int dg_rootfs_load(struct dg_image *img, struct dg_error *err)
{
	int fd = open(img->rootfs_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return dg_err_sys(err, DG_E_INPUT, errno, "%s", img->rootfs_path);
	struct stat st;
	fstat(fd, &st);
	struct walk w = {.img = img, .rootdev = st.st_dev};
	struct dg_entry_meta m = {.mode = st.st_mode & 07777, .uid = st.st_uid, .gid = st.st_gid, .layer = 1};
	dg_fs_apply_dir(img->fs, "", &m, err);
	int rc = walk_dir(&w, fd, "", 0, err);
	for (size_t i = 0; i < w.nhl; i++)
		free(w.hls[i].path);
	free(w.hls);
	if (rc < 0)
		return dg_err_prefix(err, "%s", img->rootfs_path);
	return 0;
}
