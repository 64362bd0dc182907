/* Which shared objects a program can load with dlopen(3), beyond its DT_NEEDED
 * closure: one function per rule (docs/design.md, "dlopen rules"). Every rule
 * reads only the image (paths resolved inside its root by dg_fs_resolve) and
 * never fails on what the image contains: unreadable or malformed configuration
 * and modules a configuration names but the image lacks become problem lines.
 * Each rule appends to OUT; an object already in OUT (same resolved path) is
 * not added again, so the rules can be combined. The loader search assumes
 * x86-64 (64-bit) objects. */
#ifndef DOCKERGATE_DLRULES_H
#define DOCKERGATE_DLRULES_H

#include <stddef.h>

#include "dockergate/error.h"
#include "dockergate/fs.h"
#include "dockergate/image.h"

struct dg_dlmod {
	char *path; /* absolute path in the image, symlinks resolved by dg_fs_resolve */
	char *why;  /* one line: which rule and which file/line said so */
};

struct dg_dlmods {
	struct dg_dlmod *v;
	size_t n;
	/* unreadable/unparsable configs, named modules missing from the image: one line each */
	struct dg_strv problems;
};

/* Caps against hostile configuration (each cap reached is a problem line). */
#define DG_DL_MAX_CONFIG (1u << 20) /* bytes of one configuration file */
#define DG_DL_MAX_DEPTH 16          /* nested include levels */
#define DG_DL_MAX_GLOB 4096         /* paths one include pattern expands to */
#define DG_DL_MAX_FILES 4096        /* configuration files read by one rule call */

void dg_dlmods_free(struct dg_dlmods *m);
/* The entry for PATH in M, or NULL. */
const struct dg_dlmod *dg_dlmods_find(const struct dg_dlmods *m, const char *path);

/* glibc's NSS modules: every service of /etc/nsswitch.conf (glibc's defaults
 * when it is absent) as libnss_SERVICE.so.2, found as dlopen finds it. */
int dg_dl_nss(struct dg_fs *fs, struct dg_dlmods *out, struct dg_error *err);
/* iconv's gconv modules named by gconv-modules and the *.conf files of gconv-modules.d of
 * the image's gconv directories (every module there when gconv-modules.cache
 * exists, since that binary cache is what glibc reads first). */
int dg_dl_gconv(struct dg_fs *fs, struct dg_dlmods *out, struct dg_error *err);
/* libgcc_s.so.1 (glibc dlopens it for pthread_cancel/pthread_exit unwinding and backtrace). */
int dg_dl_libgcc(struct dg_fs *fs, struct dg_dlmods *out, struct dg_error *err);
/* Modules named by server configuration, chosen by PROG's basename: nginx
 * (load_module), apache2/httpd (LoadModule), php* and php-fpm* (extension=,
 * zend_extension=). Other programs: nothing. */
int dg_dl_config(struct dg_fs *fs, const char *prog, struct dg_dlmods *out, struct dg_error *err);
/* Extension modules of interpreters, by PROG's basename: python3*, perl*,
 * ruby*, node/nodejs, php*, lua*, tclsh* and wish*: every ELF shared object
 * under their module directories. Other programs: nothing. */
int dg_dl_interp(struct dg_fs *fs, const char *prog, struct dg_dlmods *out, struct dg_error *err);
/* Every ELF shared object of the image: the sound fallback for a dlopen whose
 * name nobody knows. */
int dg_dl_all(struct dg_fs *fs, struct dg_dlmods *out, struct dg_error *err);
/* nss, gconv, libgcc, config and interp for PROG together. */
int dg_dl_rules(struct dg_fs *fs, const char *prog, struct dg_dlmods *out, struct dg_error *err);

#endif
