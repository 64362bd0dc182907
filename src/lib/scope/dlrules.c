/* dlopen rules: the shared objects a program can dlopen, read from the image's
 * configuration and directory layout (src/lib/scope/dlrules.h,
 * docs/design.md "dlopen rules"). Everything is resolved inside the image
 * root; hostile content ends in problem lines, never in a failure. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scope/dlrules.h"
#include "dockergate/dyninfo.h"
#include "dockergate/elf.h"
#include "dockergate/loader.h"
#include "dockergate/objdb.h"
#include "dockergate/map.h"
#include "dockergate/util.h"

#define MACHINE 62 /* x86-64 */
#define BITS 64

struct rc {
	struct dg_fs *fs;
	const struct dg_strv *cfgs; /* configuration files the program's command line names (or NULL) */
	int defaults;               /* read the default configuration files too */
	struct dg_objdb *db;
	struct dg_dlmods *out;
	size_t files;      /* configuration files read (DG_DL_MAX_FILES) */
	int files_capped;  /* the cap's problem line was given */
	size_t work;       /* directory entries listed and paths produced by globs (WORK_MAX) */
	int work_capped;
	struct dg_map idx; /* out's paths -> index, so a whole image's objects add in linear time */
	struct dg_map pidx; /* out's problem lines */
};

/* What one rule call may spend on globs and directory includes: a hostile
 * configuration repeating a wide Include glob on every line stops here. */
#define WORK_MAX (1u << 20)

static void problem(struct rc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Charges N units; 0 once the budget is spent (one problem line). */
static int spend(struct rc *c, size_t n, const char *what)
{
	if (c->work + n > WORK_MAX) {
		if (!c->work_capped)
			problem(c, "%s: more than %u directory entries and glob results in one rule: the rest are ignored",
				what, WORK_MAX);
		c->work_capped = 1;
		return 0;
	}
	c->work += n;
	return 1;
}

static void rc_init(struct rc *c, struct dg_fs *fs, struct dg_dlmods *out)
{
	memset(c, 0, sizeof *c);
	c->fs = fs;
	c->out = out;
	c->defaults = 1;
	c->db = dg_objdb_new(fs, NULL);
	for (size_t i = 0; i < out->n; i++)
		dg_map_add(&c->idx, out->v[i].path, strlen(out->v[i].path), i);
	for (size_t i = 0; i < out->problems.n; i++)
		dg_map_add(&c->pidx, out->problems.v[i], strlen(out->problems.v[i]), i);
}

static void rc_done(struct rc *c)
{
	dg_objdb_free(c->db);
	dg_map_free(&c->idx);
	dg_map_free(&c->pidx);
}

/* The configuration files a command line names (or NULL) and whether the default files count
 * too: always when none is named. */
static void rc_cfgs(struct rc *c, const struct dg_strv *cfgs, int defaults)
{
	c->cfgs = cfgs;
	c->defaults = defaults || !cfgs || !cfgs->n;
}

void dg_dlmods_free(struct dg_dlmods *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].path);
		free(m->v[i].why);
	}
	free(m->v);
	dg_strv_free(&m->problems);
	free(m->unknown);
	memset(m, 0, sizeof *m);
}

/* The end of an exec rule's reading (dg_ex_*): its problem lines, from the scratch M, to PROBLEMS. */
static void ex_done(struct rc *c, struct dg_dlmods *m, struct dg_strv *problems)
{
	rc_done(c);
	*problems = m->problems;
	m->problems = (struct dg_strv){0};
	dg_dlmods_free(m);
}

const struct dg_dlmod *dg_dlmods_find(const struct dg_dlmods *m, const char *path)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->v[i].path, path))
			return &m->v[i];
	return NULL;
}

static void problem(struct rc *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	/* one line each, printable: image-controlled text is escaped */
	struct dg_buf b = {0};
	dg_buf_put_escaped(&b, s);
	free(s);
	char *line = dg_buf_steal(&b);
	size_t n = c->out->problems.n;
	if (dg_map_add(&c->pidx, line, strlen(line), n) == n)
		dg_strv_push(&c->out->problems, line);
	free(line);
}

/* An ELF shared object (any machine: the caller's filter is the loader's). */
static int is_shared_object(struct rc *c, const struct dg_node *n)
{
	const struct dg_dyninfo *d = dg_objdb_dyn(c->db, n);
	return d && !d->error && d->role == DG_ROLE_LIBRARY;
}

static void push(struct rc *c, const char *path, const char *why)
{
	struct dg_dlmods *m = c->out;
	if (dg_map_add(&c->idx, path, strlen(path), m->n) != m->n)
		return; /* already there */
	m->v = dg_xreallocarray(m->v, m->n + 1, sizeof *m->v);
	struct dg_buf b = {0};
	dg_buf_put_escaped(&b, why);
	m->v[m->n].path = dg_xstrdup(path);
	m->v[m->n].why = dg_buf_steal(&b);
	m->n++;
}

static void add_node(struct rc *c, const struct dg_node *n, const char *why)
{
	dg_autofree char *p = dg_node_path(n);
	push(c, p, why);
}

/* PATH (absolute, in the image) named by WHY: added when it is an ELF shared
 * object; a problem when REQUIRED and it is missing or something else.
 * Returns 1 when added (or already there). */
static int add_path(struct rc *c, const char *path, const char *why, int required)
{
	struct dg_error e = DG_ERROR_INIT;
	struct dg_node *n;
	if (dg_fs_resolve(c->fs, path, NULL, 0, &n, &e) < 0) {
		if (required)
			problem(c, "%s: %s: %s", why, path, e.sys_errno == ENOENT ? "not in the image" : e.msg);
		return 0;
	}
	if (n->type != DG_F_REG || !is_shared_object(c, n)) {
		if (required)
			problem(c, "%s: %s: not an ELF shared object", why, path);
		return 0;
	}
	add_node(c, n, why);
	return 1;
}

/* Reads a kept configuration file. Returns 1 with *TEXT (NUL-terminated,
 * caller frees), 0 when the file does not exist, -1 after a problem line. */
static int read_cfg(struct rc *c, const char *path, char **text)
{
	*text = NULL;
	struct dg_error e = DG_ERROR_INIT;
	struct dg_node *n;
	if (dg_fs_resolve(c->fs, path, NULL, 0, &n, &e) < 0) {
		if (e.sys_errno == ENOENT)
			return 0;
		problem(c, "%s: %s", path, e.msg);
		return -1;
	}
	if (n->type != DG_F_REG) {
		problem(c, "%s: not a regular file", path);
		return -1;
	}
	if (c->files >= DG_DL_MAX_FILES) {
		if (!c->files_capped)
			problem(c, "%s: more than %u configuration files: the rest are not read", path,
				DG_DL_MAX_FILES);
		c->files_capped = 1;
		return -1;
	}
	c->files++;
	if (n->inode->size > DG_DL_MAX_CONFIG) {
		problem(c, "%s: larger than %u bytes: not read", path, DG_DL_MAX_CONFIG);
		return -1;
	}
	if (n->inode->size == 0) {
		*text = dg_xstrdup("");
		return 1;
	}
	if (n->inode->kind == DG_CONTENT_NONE || n->inode->kind == DG_CONTENT_ELF ||
	    n->inode->kind == DG_CONTENT_LDCACHE) {
		problem(c, "%s: content not kept for analysis (not a known configuration path)", path);
		return -1;
	}
	const unsigned char *data;
	size_t len;
	if (dg_fs_content(c->fs, n, &data, &len, &e) < 0) {
		problem(c, "%s: %s", path, e.msg);
		return -1;
	}
	char *t = dg_xmalloc(len + 1);
	for (size_t i = 0; i < len; i++)
		t[i] = data[i] ? (char)data[i] : ' ';
	t[len] = 0;
	*text = t;
	return 1;
}

/* The next line of the text at *CUR, cut in place, with blanks trimmed at both ends and, when
 * HASH, everything from a '#' on removed; NULL after the last. *LINE counts the lines. */
static char *next_line(char **cur, size_t *line, int hash)
{
	char *s = *cur;
	if (!s || !*s)
		return NULL;
	char *nl = strchr(s, '\n');
	if (nl)
		*nl++ = 0;
	*cur = nl;
	(*line)++;
	while (*s == ' ' || *s == '\t')
		s++;
	char *h = hash ? strchr(s, '#') : NULL;
	if (h)
		*h = 0;
	size_t sl = strlen(s);
	while (sl && (s[sl - 1] == ' ' || s[sl - 1] == '\t' || s[sl - 1] == '\r'))
		s[--sl] = 0;
	return s;
}

/* ---- directory listing and globs ---- */

struct names {
	struct dg_strv v;
	int dirs_only;
};

static int name_cb(struct dg_node *n, void *ud)
{
	struct names *l = ud;
	if (l->v.n >= DG_DL_MAX_GLOB)
		return 1;
	dg_strv_push(&l->v, n->name);
	return 0;
}

/* Names in directory DIR (an absolute path in the image), sorted. */
static void list_dir(struct rc *c, const char *dir, struct dg_strv *out)
{
	struct dg_error e = DG_ERROR_INIT;
	struct dg_node *d;
	struct names l = {{0}, 0};
	if (dg_fs_resolve(c->fs, dir, NULL, 0, &d, &e) == 0 && d->type == DG_F_DIR && spend(c, d->nkids, dir))
		dg_fs_walk_from(d, 0, name_cb, &l);
	*out = l.v;
}

static int has_magic(const char *s) { return strpbrk(s, "*?[") != NULL; }

static void glob_rec(struct rc *c, const char *base, const char *rest, struct dg_strv *res, int *capped)
{
	if (res->n >= DG_DL_MAX_GLOB) {
		*capped = 1;
		return;
	}
	while (*rest == '/')
		rest++;
	if (!*rest) {
		if (spend(c, 1, base))
			dg_strv_push(res, *base ? base : "/");
		return;
	}
	const char *sl = strchr(rest, '/');
	size_t cl = sl ? (size_t)(sl - rest) : strlen(rest);
	dg_autofree char *comp = dg_xstrndup(rest, cl);
	const char *next = rest + cl;
	if (!has_magic(comp)) {
		dg_autofree char *p = dg_xasprintf("%s/%s", base, comp);
		glob_rec(c, p, next, res, capped);
		return;
	}
	struct dg_strv names = {0};
	list_dir(c, *base ? base : "/", &names);
	for (size_t i = 0; i < names.n && !*capped && !c->work_capped; i++) {
		if (fnmatch(comp, names.v[i], FNM_PERIOD) != 0)
			continue;
		dg_autofree char *p = dg_xasprintf("%s/%s", base, names.v[i]);
		if (*next) {
			struct dg_error e = DG_ERROR_INIT;
			struct dg_node *n;
			if (dg_fs_resolve(c->fs, p, NULL, 0, &n, &e) < 0 || n->type != DG_F_DIR)
				continue;
		}
		glob_rec(c, p, next, res, capped);
	}
	dg_strv_free(&names);
}

/* Expands PATTERN (absolute) like glob(3) with sorted results, inside the
 * image; a pattern without wildcards gives itself (existing or not). */
static void glob_paths(struct rc *c, const char *pattern, struct dg_strv *res)
{
	memset(res, 0, sizeof *res);
	if (!has_magic(pattern)) {
		dg_strv_push(res, pattern);
		return;
	}
	int capped = 0;
	glob_rec(c, "", pattern, res, &capped);
	if (capped)
		problem(c, "%s: matches more than %u paths: the rest are ignored", pattern, DG_DL_MAX_GLOB);
}

/* ---- 1. NSS ---- */

static int nss_name_ok(const char *s, size_t n)
{
	if (!n || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      strchr("_-.+", s[i])))
			return 0;
	return 1;
}

static void nss_service(struct rc *c, const char *svc, const char *where, int implied)
{
	dg_autofree char *lib = dg_xasprintf("libnss_%s.so.2", svc);
	/* glibc >= 2.34 has "files" and "dns" inside libc and never dlopens them;
	 * older glibc does: included when the image has them (sound either way) */
	int builtin = !strcmp(svc, "files") || !strcmp(svc, "dns");
	char *path = NULL;
	const char *via = NULL;
	if (dg_ld_find(c->fs, c->db, lib, MACHINE, BITS, &path, &via)) {
		dg_autofree char *why = dg_xasprintf("nss: %s: service %s -> %s (%s)%s", where, svc, lib, via,
						    builtin ? "; built into glibc >= 2.34, loaded by older glibc" : "");
		add_path(c, path, why, 1); /* dlopen refuses a PIE: a problem line */
		free(path);
	} else if (!builtin && !implied) {
		problem(c, "nss: %s: service %s: %s not in the image", where, svc, lib);
	}
}

static void nss_every_module(struct rc *c)
{
	static const char *const dirs[] = {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib"};
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
		dg_autofree char *pat = dg_xasprintf("%s/libnss_*.so.2", dirs[i]);
		struct dg_strv found;
		glob_paths(c, pat, &found);
		for (size_t k = 0; k < found.n; k++)
			add_path(c, found.v[k], "nss: /etc/nsswitch.conf unreadable: any NSS module may be named", 0);
		dg_strv_free(&found);
	}
}

int dg_dl_nss(struct dg_fs *fs, struct dg_dlmods *out, struct dg_error *err)
{
	struct rc c;
	rc_init(&c, fs, out);
	const char *conf = "/etc/nsswitch.conf";
	char *text;
	int r = read_cfg(&c, conf, &text);
	int compat = 0;
	if (r <= 0) {
		/* glibc's built-in defaults (nss_database.c, per_database_defaults): files, dns for
		 * hosts and networks, nis for the *_compat databases, "nis nisplus" for publickey;
		 * built with LINK_OBSOLETE_NSL (older glibc) "compat [NOTFOUND=return] files" for
		 * passwd/group/shadow and "nis [NOTFOUND=return] files" elsewhere: the union */
		const char *where = r == 0 ? "no /etc/nsswitch.conf, glibc's default" : "unreadable /etc/nsswitch.conf, glibc's default";
		static const char *const defs[] = {"files", "dns", "compat", "nis", "nisplus"};
		for (size_t i = 0; i < sizeof defs / sizeof *defs; i++)
			nss_service(&c, defs[i], where, 1);
		/* a file that exists but cannot be read here (oversized, a symlink to content not
		 * kept) may name any service: every NSS module of the loader's directories */
		if (r < 0)
			nss_every_module(&c);
		rc_done(&c);
		return 0;
	}
	/* glibc's nss_parse_line: "database: service [STATUS=action ...] service ...";
	 * '#' starts a comment. Any other line is read for service names too (a
	 * continuation, as older parsers accepted): sound rather than tight. */
	size_t lineno = 0;
	struct dg_strv seen = {0};
	for (char *line = text, *nl; line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = 0;
		lineno++;
		char *h = strchr(line, '#');
		if (h)
			*h = 0;
		char *p = line;
		char *colon = strchr(line, ':');
		dg_autofree char *db = NULL;
		if (colon) {
			char *s = line;
			while (*s == ' ' || *s == '\t')
				s++;
			size_t l = (size_t)(colon - s);
			while (l && (s[l - 1] == ' ' || s[l - 1] == '\t'))
				l--;
			db = dg_xstrndup(s, l);
			p = colon + 1;
		}
		for (;;) {
			while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f' || *p == '\v')
				p++;
			if (!*p)
				break;
			if (*p == '[') {
				char *e = strchr(p, ']');
				if (!e) {
					problem(&c, "nss: %s:%zu: unterminated '['", conf, lineno);
					break;
				}
				p = e + 1;
				continue;
			}
			char *s = p;
			while (*p && !strchr(" \t\r\f\v[", *p))
				p++;
			size_t l = (size_t)(p - s);
			if (!nss_name_ok(s, l)) {
				dg_autofree char *bad = dg_xstrndup(s, l > 64 ? 64 : l);
				problem(&c, "nss: %s:%zu: service name '%s' ignored", conf, lineno, bad);
				continue;
			}
			dg_autofree char *svc = dg_xstrndup(s, l);
			int dup = 0;
			for (size_t i = 0; i < seen.n && !dup; i++)
				dup = !strcmp(seen.v[i], svc);
			if (dup)
				continue;
			dg_strv_push(&seen, svc);
			if (!strcmp(svc, "compat"))
				compat = 1;
			dg_autofree char *where = dg_xasprintf("%s:%zu %s", conf, lineno, db ? db : "(continuation)");
			nss_service(&c, svc, where, 0);
		}
	}
	/* libnss_compat looks up passwd_compat/group_compat/shadow_compat, default nis */
	if (compat)
		nss_service(&c, "nis", "compat's default for the *_compat databases", 1);
	dg_strv_free(&seen);
	free(text);
	rc_done(&c);
	(void)err;
	return 0;
}

/* ---- 2. gconv ---- */

static const char *const gconv_dirs[] = {"/usr/lib/x86_64-linux-gnu/gconv", "/usr/lib64/gconv", "/usr/lib/gconv",
					 "/lib/x86_64-linux-gnu/gconv"};

static void gconv_file(struct rc *c, const char *dir, const char *conf)
{
	char *text;
	if (read_cfg(c, conf, &text) <= 0)
		return;
	size_t lineno = 0;
	for (char *line = text, *nl; line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = 0;
		lineno++;
		char *h = strchr(line, '#');
		if (h)
			*h = 0;
		/* gconv_conf.c: "module FROM TO FILE [COST]"; FILE relative to the
		 * directory of the configuration file, ".so" appended unless present */
		char *save = NULL;
		char *w = strtok_r(line, " \t\r\f\v", &save);
		if (!w || strcasecmp(w, "module"))
			continue;
		char *from = strtok_r(NULL, " \t\r\f\v", &save);
		char *to = from ? strtok_r(NULL, " \t\r\f\v", &save) : NULL;
		char *file = to ? strtok_r(NULL, " \t\r\f\v", &save) : NULL;
		if (!file) {
			problem(c, "gconv: %s:%zu: module line without a file", conf, lineno);
			continue;
		}
		size_t fl = strlen(file);
		const char *ext = fl >= 3 && !strcmp(file + fl - 3, ".so") ? "" : ".so";
		dg_autofree char *p = file[0] == '/' ? dg_xasprintf("%s%s", file, ext)
						     : dg_xasprintf("%s/%s%s", dir, file, ext);
		if (strlen(p) > 4096)
			continue;
		dg_autofree char *why = dg_xasprintf("gconv: %s:%zu module %.64s -> %.64s", conf, lineno, from, to);
		add_path(c, p, why, 1);
	}
	free(text);
}

struct gconv_all {
	struct rc *c;
	const char *why;
};

static int gconv_all_cb(struct dg_node *n, void *ud)
{
	struct gconv_all *g = ud;
	size_t l = n->namelen;
	if (n->type == DG_F_REG && l > 3 && !strcmp(n->name + l - 3, ".so") && is_shared_object(g->c, n))
		add_node(g->c, n, g->why);
	return 0;
}

int dg_dl_gconv(struct dg_fs *fs, struct dg_dlmods *out, struct dg_error *err)
{
	struct rc c;
	rc_init(&c, fs, out);
	struct dg_node *seen[sizeof gconv_dirs / sizeof *gconv_dirs] = {0};
	for (size_t i = 0; i < sizeof gconv_dirs / sizeof *gconv_dirs; i++) {
		const char *dir = gconv_dirs[i];
		struct dg_error e = DG_ERROR_INIT;
		struct dg_node *d;
		if (dg_fs_resolve(fs, dir, NULL, 0, &d, &e) < 0 || d->type != DG_F_DIR)
			continue;
		int dup = 0;
		for (size_t k = 0; k < i; k++)
			dup |= seen[k] == d; /* /lib -> usr/lib: one directory */
		seen[i] = d;
		if (dup)
			continue;
		dg_autofree char *conf = dg_xasprintf("%s/gconv-modules", dir);
		gconv_file(&c, dir, conf);
		dg_autofree char *dpat = dg_xasprintf("%s/gconv-modules.d/*.conf", dir);
		struct dg_strv confs;
		glob_paths(&c, dpat, &confs);
		for (size_t k = 0; k < confs.n; k++)
			gconv_file(&c, dir, confs.v[k]);
		dg_strv_free(&confs);
		/* glibc reads gconv-modules.cache first when it exists; it is binary
		 * and not parsed here, so every module of the directory may be named */
		dg_autofree char *cache = dg_xasprintf("%s/gconv-modules.cache", dir);
		struct dg_node *cn;
		if (dg_fs_resolve(fs, cache, NULL, 0, &cn, &e) == 0) {
			dg_autofree char *why = dg_xasprintf("gconv: %s exists (binary, not parsed): any module of %s", cache, dir);
			struct gconv_all g = {&c, why};
			dg_fs_walk_from(d, 0, gconv_all_cb, &g);
		}
	}
	rc_done(&c);
	(void)err;
	return 0;
}

/* ---- 3. libgcc_s ---- */

int dg_dl_libgcc(struct dg_fs *fs, struct dg_dlmods *out, struct dg_error *err)
{
	struct rc c;
	rc_init(&c, fs, out);
	char *path = NULL;
	const char *via = NULL;
	if (dg_ld_find(fs, c.db, "libgcc_s.so.1", MACHINE, BITS, &path, &via)) {
		dg_autofree char *why = dg_xasprintf("libgcc: glibc dlopens libgcc_s.so.1 for unwinding "
						    "(pthread_cancel, pthread_exit, backtrace) (%s)", via);
		add_path(&c, path, why, 1);
		free(path);
	}
	rc_done(&c);
	(void)err;
	return 0;
}

/* ---- every shared object ---- */

struct all_ctx {
	struct rc *c;
};

static int all_cb(struct dg_node *n, void *ud)
{
	struct all_ctx *a = ud;
	if (n->type == DG_F_REG && n->inode && n->inode->kind == DG_CONTENT_ELF && is_shared_object(a->c, n))
		add_node(a->c, n, "all: an ELF shared object of the image (unknown dlopen name)");
	return 0;
}

int dg_dl_all(struct dg_fs *fs, struct dg_dlmods *out, struct dg_error *err)
{
	struct rc c;
	rc_init(&c, fs, out);
	struct all_ctx a = {&c};
	dg_fs_walk(fs, all_cb, &a);
	rc_done(&c);
	(void)err;
	return 0;
}


/* ---- 4. server configuration ---- */

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* An include pattern relative to DIR when not absolute. */
static char *rel_to(const char *dir, const char *p)
{
	return p[0] == '/' ? dg_xstrdup(p) : dg_xasprintf("%s/%s", dir, p);
}

#define MAX_WORDS 8

struct words {
	char *v[MAX_WORDS];
	size_t n;
};

static void words_clear(struct words *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i]);
	w->n = 0;
}

static void words_add(struct words *w, struct dg_buf *b)
{
	char *s = b->data ? dg_buf_steal(b) : dg_xstrdup("");
	if (w->n < MAX_WORDS)
		w->v[w->n++] = s;
	else
		free(s);
}

/* nginx: "/etc/nginx/nginx.conf" (Debian, the official image) or /usr/local/nginx. */
static const char *const nginx_prefixes[] = {"/usr/share/nginx", "/etc/nginx", "/usr/local/nginx",
					     "/usr/lib/nginx"};

static void nginx_file(struct rc *c, const char *path, const char *confdir, int depth);

static void nginx_directive(struct rc *c, struct words *w, const char *path, size_t line, const char *confdir,
			    int depth)
{
	if (w->n == 2 && !strcmp(w->v[0], "include")) {
		if (depth + 1 >= DG_DL_MAX_DEPTH) {
			problem(c, "nginx: %s:%zu: includes nested deeper than %u", path, line, DG_DL_MAX_DEPTH);
			return;
		}
		dg_autofree char *pat = rel_to(confdir, w->v[1]);
		struct dg_strv files;
		glob_paths(c, pat, &files);
		for (size_t i = 0; i < files.n; i++) {
			struct dg_error e = DG_ERROR_INIT;
			struct dg_node *n;
			if (!has_magic(pat) && dg_fs_resolve(c->fs, files.v[i], NULL, 0, &n, &e) < 0) {
				problem(c, "nginx: %s:%zu: include %s: not in the image", path, line, files.v[i]);
				continue;
			}
			nginx_file(c, files.v[i], confdir, depth + 1);
		}
		dg_strv_free(&files);
	} else if (w->n == 2 && !strcmp(w->v[0], "load_module")) {
		dg_autofree char *why = dg_xasprintf("nginx: %s:%zu load_module %s", path, line, w->v[1]);
		if (w->v[1][0] == '/') {
			add_path(c, w->v[1], why, 1);
			return;
		}
		/* relative to nginx's prefix, which depends on the build: every
		 * usual prefix that has the file */
		int found = 0;
		for (size_t i = 0; i < sizeof nginx_prefixes / sizeof *nginx_prefixes; i++) {
			dg_autofree char *p = dg_xasprintf("%s/%s", nginx_prefixes[i], w->v[1]);
			found |= add_path(c, p, why, 0);
		}
		if (!found)
			problem(c, "%s: not in the image under any nginx prefix", why);
	}
}

static void nginx_file(struct rc *c, const char *path, const char *confdir, int depth)
{
	char *text;
	if (read_cfg(c, path, &text) <= 0)
		return;
	struct words w = {{0}, 0};
	struct dg_buf b = {0};
	size_t line = 1, dline = 0;
	const char *p = text;
	while (*p) {
		char ch = *p;
		if (ch == '\n' || ch == ' ' || ch == '\t' || ch == '\r') {
			if (ch == '\n')
				line++;
			p++;
		} else if (ch == '#') {
			while (*p && *p != '\n')
				p++;
		} else if (ch == ';' || ch == '{' || ch == '}') {
			if (ch == ';' && w.n)
				nginx_directive(c, &w, path, dline, confdir, depth);
			words_clear(&w);
			p++;
		} else {
			if (!w.n)
				dline = line;
			if (ch == '"' || ch == '\'') {
				char q = ch;
				p++;
				while (*p && *p != q) {
					if (*p == '\\' && p[1]) {
						p++;
						char e = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p == 'r' ? '\r' : *p;
						dg_buf_putc(&b, e);
					} else {
						if (*p == '\n')
							line++;
						dg_buf_putc(&b, *p);
					}
					p++;
				}
				if (*p)
					p++;
				else
					problem(c, "nginx: %s:%zu: unterminated quote", path, dline);
			} else {
				while (*p && !strchr(" \t\r\n;{}", *p)) {
					if (*p == '\\' && p[1] && p[1] != '\n')
						p++;
					dg_buf_putc(&b, *p++);
				}
			}
			words_add(&w, &b);
		}
	}
	words_clear(&w);
	dg_buf_free(&b);
	free(text);
}

/* The directory of an absolute PATH (caller frees). */
static char *dir_of(const char *path)
{
	const char *sl = strrchr(path, '/');
	return sl && sl != path ? dg_xstrndup(path, (size_t)(sl - path)) : dg_xstrdup("/");
}

static void rule_nginx(struct rc *c)
{
	static const char *const confs[][2] = {{"/etc/nginx/nginx.conf", "/etc/nginx"},
					       {"/usr/local/nginx/conf/nginx.conf", "/usr/local/nginx/conf"}};
	for (size_t i = 0; i < 2 && c->defaults; i++)
		nginx_file(c, confs[i][0], confs[i][1], 0);
	for (size_t i = 0; c->cfgs && i < c->cfgs->n; i++) {
		dg_autofree char *d = dir_of(c->cfgs->v[i]);
		nginx_file(c, c->cfgs->v[i], d, 0);
	}
}

/* Apache httpd: line directives, '\' continues a line, case-insensitive names. */
struct apache {
	char *root; /* ServerRoot */
	int php;    /* a PHP module was loaded: its extensions are dlopened too */
};

static void apache_file(struct rc *c, struct apache *a, const char *path, int depth);

struct files_ctx {
	struct dg_strv *v;
	size_t visited;
};

static int files_cb(struct dg_node *n, void *ud)
{
	struct files_ctx *f = ud;
	if (f->v->n >= DG_DL_MAX_GLOB || ++f->visited > 4 * DG_DL_MAX_GLOB)
		return 1;
	if (n->type == DG_F_REG || n->type == DG_F_LNK) {
		dg_autofree char *p = dg_node_path(n);
		dg_strv_push(f->v, p);
	}
	return 0;
}

static void apache_include(struct rc *c, struct apache *a, const char *arg, int optional, const char *path,
			   size_t line, int depth)
{
	if (strstr(arg, "${")) {
		problem(c, "apache: %s:%zu: include %s: variables are not expanded", path, line, arg);
		return;
	}
	if (depth + 1 >= DG_DL_MAX_DEPTH) {
		problem(c, "apache: %s:%zu: includes nested deeper than %u", path, line, DG_DL_MAX_DEPTH);
		return;
	}
	dg_autofree char *pat = rel_to(a->root, arg);
	struct dg_strv found;
	glob_paths(c, pat, &found);
	for (size_t i = 0; i < found.n; i++) {
		struct dg_error e = DG_ERROR_INIT;
		struct dg_node *n;
		if (dg_fs_resolve(c->fs, found.v[i], NULL, 0, &n, &e) < 0) {
			if (!optional && !has_magic(pat))
				problem(c, "apache: %s:%zu: Include %s: not in the image", path, line, found.v[i]);
			continue;
		}
		if (n->type == DG_F_DIR) {
			/* every file in the directory and its subdirectories */
			struct dg_strv sub = {0};
			struct files_ctx f = {&sub, 0};
			dg_fs_walk_from(n, 1, files_cb, &f);
			if (f.visited > 4 * DG_DL_MAX_GLOB)
				problem(c, "apache: %s:%zu: Include %s: more than %u entries below it: the rest are ignored",
					path, line, found.v[i], 4 * DG_DL_MAX_GLOB);
			if (!spend(c, f.visited, found.v[i]))
				dg_strv_free(&sub); /* nothing read */
			for (size_t k = 0; k < sub.n; k++)
				apache_file(c, a, sub.v[k], depth + 1);
			dg_strv_free(&sub);
		} else {
			apache_file(c, a, found.v[i], depth + 1);
		}
	}
	dg_strv_free(&found);
}

static void apache_words(const char *s, struct words *w)
{
	struct dg_buf b = {0};
	while (*s) {
		while (*s == ' ' || *s == '\t' || *s == '\r')
			s++;
		if (!*s)
			break;
		if (*s == '"' || *s == '\'') {
			char q = *s++;
			while (*s && *s != q) {
				if (*s == '\\' && (s[1] == q || s[1] == '\\'))
					s++;
				dg_buf_putc(&b, *s++);
			}
			if (*s)
				s++;
		} else {
			while (*s && *s != ' ' && *s != '\t' && *s != '\r')
				dg_buf_putc(&b, *s++);
		}
		words_add(w, &b);
	}
	dg_buf_free(&b);
}

static void apache_file(struct rc *c, struct apache *a, const char *path, int depth)
{
	char *text;
	if (read_cfg(c, path, &text) <= 0)
		return;
	size_t line = 0;
	struct dg_buf logical = {0};
	size_t start = 0;
	for (char *l = text, *nl; l; l = nl) {
		nl = strchr(l, '\n');
		if (nl)
			*nl++ = 0;
		line++;
		if (!logical.len)
			start = line;
		size_t ll = strlen(l);
		if (ll && l[ll - 1] == '\\' && nl) {
			dg_buf_append(&logical, l, ll - 1);
			continue;
		}
		dg_buf_append(&logical, l, ll);
		dg_autofree char *s = logical.data ? dg_buf_steal(&logical) : dg_xstrdup("");
		const char *q = s;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q == '#' || *q == '<' || !*q)
			continue;
		struct words w = {{0}, 0};
		apache_words(q, &w);
		if (w.n == 2 && !strcasecmp(w.v[0], "ServerRoot")) {
			free(a->root);
			a->root = dg_xstrdup(w.v[1]);
		} else if (w.n == 2 && (!strcasecmp(w.v[0], "Include") || !strcasecmp(w.v[0], "IncludeOptional"))) {
			apache_include(c, a, w.v[1], !strcasecmp(w.v[0], "IncludeOptional"), path, start, depth);
		} else if ((w.n == 3 && !strcasecmp(w.v[0], "LoadModule")) ||
			   (w.n == 2 && !strcasecmp(w.v[0], "LoadFile"))) {
			const char *file = w.v[w.n - 1];
			dg_autofree char *why = dg_xasprintf("apache: %s:%zu %s %s", path, start, w.v[0], file);
			dg_autofree char *p = rel_to(a->root, file);
			if (strstr(file, "${"))
				problem(c, "%s: variables are not expanded", why);
			else
				add_path(c, p, why, 1);
			if (strstr(file, "php"))
				a->php = 1;
		}
		words_clear(&w);
	}
	dg_buf_free(&logical);
	free(text);
}

static void rule_php(struct rc *c, const char *who);

static void rule_apache(struct rc *c)
{
	static const char *const confs[][2] = {{"/etc/apache2/apache2.conf", "/etc/apache2"},
					       {"/etc/httpd/conf/httpd.conf", "/etc/httpd"},
					       {"/usr/local/apache2/conf/httpd.conf", "/usr/local/apache2"}};
	for (size_t i = c->defaults ? 0 : 3; i < 3 + (c->cfgs ? c->cfgs->n : 0); i++) {
		const char *f = i < 3 ? confs[i][0] : c->cfgs->v[i - 3];
		struct apache a = {i < 3 ? dg_xstrdup(confs[i][1]) : dir_of(f), 0};
		apache_file(c, &a, f, 0);
		if (a.php)
			rule_php(c, "apache's PHP module");
		free(a.root);
	}
}

/* PHP: extension= and zend_extension= of php.ini and the scanned conf.d. */
struct php_ext {
	char *name, *where;
};

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t l = strlen(s);
	while (l && strchr(" \t\r", s[l - 1]))
		s[--l] = 0;
	return s;
}

static void php_file(struct rc *c, const char *path, struct php_ext **ext, size_t *next, struct dg_strv *dirs)
{
	char *text;
	if (read_cfg(c, path, &text) <= 0)
		return;
	size_t line = 0;
	for (char *l = text, *nl; l; l = nl) {
		nl = strchr(l, '\n');
		if (nl)
			*nl++ = 0;
		line++;
		char *s = trim(l);
		if (*s == ';' || *s == '#' || *s == '[' || !*s)
			continue;
		char *eq = strchr(s, '=');
		if (!eq)
			continue;
		*eq = 0;
		char *key = trim(s), *val = trim(eq + 1);
		if (*val == '"' || *val == '\'') {
			char q = *val++;
			char *e = strchr(val, q);
			if (e)
				*e = 0;
		} else {
			char *sc = strchr(val, ';');
			if (sc)
				*sc = 0;
			val = trim(val);
		}
		if (!*val || strlen(val) > 1024)
			continue;
		if (!strcmp(key, "extension_dir")) {
			dg_strv_push(dirs, val);
		} else if (!strcmp(key, "extension") || !strcmp(key, "zend_extension")) {
			if (*next >= DG_DL_MAX_GLOB)
				continue;
			*ext = dg_xreallocarray(*ext, *next + 1, sizeof **ext);
			(*ext)[*next].name = dg_xstrdup(val);
			(*ext)[*next].where = dg_xasprintf("%s:%zu %s", path, line, key);
			(*next)++;
		}
	}
	free(text);
}

static void rule_php(struct rc *c, const char *who)
{
	static const char *const inis[] = {"/etc/php/*/*/php.ini", "/etc/php/*/*/conf.d/*.ini",
					   "/usr/local/etc/php/php.ini", "/usr/local/etc/php/conf.d/*.ini",
					   "/etc/php.ini", "/etc/php.d/*.ini"};
	struct php_ext *ext = NULL;
	size_t next = 0;
	struct dg_strv dirs = {0};
	for (size_t i = 0; i < sizeof inis / sizeof *inis; i++) {
		struct dg_strv files;
		glob_paths(c, inis[i], &files);
		for (size_t k = 0; k < files.n; k++)
			php_file(c, files.v[k], &ext, &next, &dirs);
		dg_strv_free(&files);
	}
	if (!dirs.n) {
		/* the built-in extension_dir: Debian's /usr/lib/php/API, the official image's
		 * /usr/local/lib/php/extensions/no-debug-non-zts-API */
		static const char *const defs[] = {"/usr/lib/php/[0-9]*", "/usr/local/lib/php/extensions/*"};
		for (size_t i = 0; i < 2; i++) {
			struct dg_strv g;
			glob_paths(c, defs[i], &g);
			for (size_t k = 0; k < g.n; k++)
				dg_strv_push(&dirs, g.v[k]);
			dg_strv_free(&g);
		}
	}
	for (size_t i = 0; i < next; i++) {
		dg_autofree char *why = dg_xasprintf("php (%s): %s=%s", who, ext[i].where, ext[i].name);
		int found = 0;
		if (strchr(ext[i].name, '/')) {
			found = add_path(c, ext[i].name, why, 0);
		} else {
			/* php_load_extension: DIR/NAME, then DIR/NAME.so */
			for (size_t k = 0; k < dirs.n; k++) {
				dg_autofree char *p1 = dg_xasprintf("%s/%s", dirs.v[k], ext[i].name);
				dg_autofree char *p2 = dg_xasprintf("%s/%s.so", dirs.v[k], ext[i].name);
				found |= add_path(c, p1, why, 0);
				found |= add_path(c, p2, why, 0);
			}
		}
		if (!found)
			problem(c, "%s: not in the image", why);
		free(ext[i].name);
		free(ext[i].where);
	}
	free(ext);
	dg_strv_free(&dirs);
}

static int starts(const char *s, const char *p) { return !strncmp(s, p, strlen(p)); }

/* lighttpd: server.modules = ( "mod_x", ... ) and += lists, in the configuration and the files
 * it includes; each named module from the module directory (the built-in ones have no file).
 * Modules lighttpd loads by itself: mod_dirlisting (always), mod_authn_* with mod_auth,
 * mod_vhostdb_* with mod_vhostdb, and the TLS modules when any ssl.* option is set.
 * include_shell runs a program: Debian's use-ipv6.pl and create-mime.conf.pl only set
 * options, include-conf-enabled.pl includes conf-enabled's *.conf files; any other makes every
 * module of the directory count. */
static const char *const lighttpd_dirs[] = {"/usr/lib/lighttpd", "/usr/lib64/lighttpd", "/usr/local/lib/lighttpd",
					    "/usr/lib/x86_64-linux-gnu/lighttpd"};

struct lighttpd {
	struct dg_strv mods; /* names */
	int all, ssl;        /* every module; the TLS modules */
	char *all_why;
	struct dg_strv shell; /* commands it runs with /bin/sh -c: include_shell, "|" piped loggers */
	struct dg_strv bins;  /* fastcgi/scgi "bin-path" command lines */
};

static void lighttpd_file(struct rc *c, struct lighttpd *l, const char *path, const char *dir, int depth);

/* The next token of P: a quoted string (unescaped) or a run of other characters, or one of
 * ( ) , = + { } alone; comments skipped. Returns the position after it, NULL at the end. */
static const char *lt_token(const char *p, struct dg_buf *tok, int *quoted, size_t *line)
{
	tok->len = 0;
	*quoted = 0;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
			if (*p == '\n')
				(*line)++;
			p++;
		}
		if (*p != '#')
			break;
		while (*p && *p != '\n')
			p++;
	}
	if (!*p)
		return NULL;
	if (*p == '"') {
		*quoted = 1;
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			if (*p == '\n')
				(*line)++;
			dg_buf_putc(tok, *p);
		}
		dg_buf_putc(tok, 0);
		tok->len--;
		return *p ? p + 1 : p;
	}
	if (strchr("(),={}+", *p)) {
		if (*p == '+' && p[1] == '=') {
			dg_buf_puts(tok, "+=");
			dg_buf_putc(tok, 0);
			tok->len--;
			return p + 2;
		}
		dg_buf_putc(tok, *p);
		dg_buf_putc(tok, 0);
		tok->len--;
		return p + 1;
	}
	while (*p && !strchr(" \t\r\n#\"(),={}+", *p))
		dg_buf_putc(tok, *p++);
	dg_buf_putc(tok, 0);
	tok->len--;
	return p;
}

static void lighttpd_include(struct rc *c, struct lighttpd *l, const char *pat, const char *dir, int depth,
			     const char *path, size_t line)
{
	if (depth + 1 >= DG_DL_MAX_DEPTH) {
		problem(c, "lighttpd: %s:%zu: includes nested deeper than %u", path, line, DG_DL_MAX_DEPTH);
		return;
	}
	dg_autofree char *full = rel_to(dir, pat);
	struct dg_strv files;
	glob_paths(c, full, &files);
	for (size_t i = 0; i < files.n; i++)
		lighttpd_file(c, l, files.v[i], dir, depth + 1);
	dg_strv_free(&files);
}

static void lighttpd_file(struct rc *c, struct lighttpd *l, const char *path, const char *dir, int depth)
{
	char *text;
	if (read_cfg(c, path, &text) <= 0)
		return;
	struct dg_buf tok = {0};
	char *prev = NULL, *prev2 = NULL; /* the two tokens before */
	int quoted, in_mods = 0, bin_next = 0;
	size_t line = 1;
	const char *p = text;
	while ((p = lt_token(p, &tok, &quoted, &line))) {
		const char *t = tok.len || quoted ? tok.data : "";
		if (in_mods) {
			if (!quoted && !strcmp(t, ")"))
				in_mods = 0;
			else if (quoted && *t && !dg_strv_has(&l->mods, t))
				dg_strv_push(&l->mods, t);
		} else if (!quoted && !strcmp(t, "(") && prev && prev2 && !strcmp(prev2, "server.modules") &&
			   (!strcmp(prev, "=") || !strcmp(prev, "+="))) {
			in_mods = 1;
		} else if (quoted && prev && !strcmp(prev, "include")) {
			lighttpd_include(c, l, t, dir, depth, path, line);
		} else if (quoted && prev && !strcmp(prev, "include_shell")) {
			if (*t && !dg_strv_has(&l->shell, t))
				dg_strv_push(&l->shell, t);
			size_t cl = strcspn(t, " "); /* the command, without its arguments */
			const char *b = t + cl;
			while (b > t && b[-1] != '/')
				b--;
			size_t bl = (size_t)(t + cl - b);
#define IS_SCRIPT(name) (bl == sizeof(name) - 1 && !strncmp(b, name, bl))
			if (IS_SCRIPT("use-ipv6.pl") || IS_SCRIPT("create-mime.conf.pl")) {
				/* options only */
			} else if (IS_SCRIPT("include-conf-enabled.pl")) {
				lighttpd_include(c, l, "conf-enabled/*.conf", dir, depth, path, line);
			} else if (!l->all) {
				l->all = 1;
				l->all_why = dg_xasprintf("lighttpd: %s:%zu include_shell \"%s\" (its output is not known)", path,
							  line, t);
			}
#undef IS_SCRIPT
		} else if (!quoted && !strncmp(t, "ssl.", 4)) {
			l->ssl = 1;
		} else if (quoted && t[0] == '|' && t[1] && !dg_strv_has(&l->shell, t + 1)) {
			dg_strv_push(&l->shell, t + 1); /* a piped logger: server.errorlog, accesslog.filename */
		}
		/* "bin-path" => "COMMAND" (the tokens: "bin-path", =, >, "COMMAND") */
		if (quoted && !strcmp(t, "bin-path")) {
			bin_next = 1;
		} else if (!quoted && (!strcmp(t, "=") || !strcmp(t, ">"))) {
			/* between */
		} else {
			if (bin_next && quoted && *t && !dg_strv_has(&l->bins, t))
				dg_strv_push(&l->bins, t);
			bin_next = 0;
		}
		free(prev2);
		prev2 = prev;
		prev = quoted ? dg_xasprintf("\"%s", t) : dg_xstrdup(t);
	}
	free(prev);
	free(prev2);
	dg_buf_free(&tok);
	free(text);
}

static int lighttpd_mod_cb(struct dg_node *n, void *ud)
{
	struct rc *c = ((void **)ud)[0];
	const char *why = ((void **)ud)[1];
	const char *pre = ((void **)ud)[2];
	if (n->type == DG_F_REG && n->namelen > 3 && !strcmp(n->name + n->namelen - 3, ".so") &&
	    !strncmp(n->name, pre, strlen(pre)) && is_shared_object(c, n))
		add_node(c, n, why);
	return 0;
}

/* lighttpd's configuration: the files a command line names, the default files when they count. */
static void lighttpd_read(struct rc *c, struct lighttpd *l)
{
	static const char *const confs[][2] = {{"/etc/lighttpd/lighttpd.conf", "/etc/lighttpd"},
					       {"/usr/local/etc/lighttpd/lighttpd.conf", "/usr/local/etc/lighttpd"}};
	for (size_t i = 0; i < 2 && c->defaults; i++)
		lighttpd_file(c, l, confs[i][0], confs[i][1], 0);
	for (size_t i = 0; c->cfgs && i < c->cfgs->n; i++) {
		dg_autofree char *d = dir_of(c->cfgs->v[i]);
		lighttpd_file(c, l, c->cfgs->v[i], d, 0);
	}
}

static void lighttpd_free(struct lighttpd *l)
{
	dg_strv_free(&l->mods);
	dg_strv_free(&l->shell);
	dg_strv_free(&l->bins);
	free(l->all_why);
}

static void rule_lighttpd(struct rc *c)
{
	struct lighttpd l = {0};
	lighttpd_read(c, &l);
	if (!dg_strv_has(&l.mods, "mod_dirlisting"))
		dg_strv_push(&l.mods, "mod_dirlisting");
	for (size_t d = 0; d < sizeof lighttpd_dirs / sizeof *lighttpd_dirs; d++) {
		struct dg_error e = DG_ERROR_INIT;
		struct dg_node *dn;
		if (dg_fs_resolve(c->fs, lighttpd_dirs[d], NULL, 0, &dn, &e) < 0 || dn->type != DG_F_DIR)
			continue;
		/* prefixes of module families lighttpd loads by itself, and every module when all */
		struct dg_strv fam = {0};
		if (l.all)
			dg_strv_push(&fam, "mod_");
		if (dg_strv_has(&l.mods, "mod_auth"))
			dg_strv_push(&fam, "mod_authn_");
		if (dg_strv_has(&l.mods, "mod_vhostdb"))
			dg_strv_push(&fam, "mod_vhostdb_");
		if (l.ssl) {
			static const char *const tls[] = {"mod_openssl", "mod_gnutls", "mod_mbedtls", "mod_nss", "mod_wolfssl"};
			for (size_t k = 0; k < sizeof tls / sizeof *tls; k++)
				dg_strv_push(&fam, tls[k]);
		}
		for (size_t k = 0; k < fam.n; k++) {
			dg_autofree char *why = l.all && k == 0 ? dg_xstrdup(l.all_why)
							       : dg_xasprintf("lighttpd: loads %s* itself", fam.v[k]);
			void *ud[3] = {c, why, fam.v[k]};
			dg_fs_walk_from(dn, 0, lighttpd_mod_cb, ud);
		}
		dg_strv_free(&fam);
		for (size_t k = 0; k < l.mods.n; k++) {
			if (strchr(l.mods.v[k], '/'))
				continue;
			dg_autofree char *p = dg_xasprintf("%s/%s.so", lighttpd_dirs[d], l.mods.v[k]);
			dg_autofree char *why = dg_xasprintf("lighttpd: server.modules %s", l.mods.v[k]);
			add_path(c, p, why, 0); /* the built-in ones have no file */
		}
	}
	lighttpd_free(&l);
}

void dg_ex_lighttpd(struct dg_fs *fs, const struct dg_strv *cfgs, int defaults, struct dg_strv *shell,
		    struct dg_strv *bins, struct dg_strv *problems)
{
	struct dg_dlmods m = {0};
	struct rc c;
	rc_init(&c, fs, &m);
	rc_cfgs(&c, cfgs, defaults);
	struct lighttpd l = {0};
	lighttpd_read(&c, &l);
	*shell = l.shell;
	*bins = l.bins;
	l.shell = l.bins = (struct dg_strv){0};
	lighttpd_free(&l);
	ex_done(&c, &m, problems);
}

/* mosquitto: `plugin PATH` and `auth_plugin PATH` lines, in mosquitto.conf and the *.conf
 * files of each include_dir. */
static void mosquitto_file(struct rc *c, const char *path, int depth)
{
	char *text;
	if (read_cfg(c, path, &text) <= 0)
		return;
	size_t line = 0;
	for (char *s = text, *nl; s && *s; s = nl) {
		nl = strchr(s, '\n');
		if (nl)
			*nl++ = 0;
		line++;
		while (*s == ' ' || *s == '\t')
			s++;
		size_t kl = strcspn(s, " \t");
		char *v = s + kl;
		while (*v == ' ' || *v == '\t')
			v++;
		size_t vl = strlen(v);
		while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t' || v[vl - 1] == '\r'))
			v[--vl] = 0;
		if (!vl || *s == '#')
			continue;
		if ((kl == 6 && !strncmp(s, "plugin", 6)) || (kl == 11 && !strncmp(s, "auth_plugin", 11))) {
			dg_autofree char *why = dg_xasprintf("mosquitto: %s:%zu %.*s %s", path, line, (int)kl, s, v);
			if (v[0] == '/')
				add_path(c, v, why, 1);
			else
				problem(c, "%s: not an absolute path", why);
		} else if (kl == 11 && !strncmp(s, "include_dir", 11) && v[0] == '/') {
			if (depth + 1 >= DG_DL_MAX_DEPTH) {
				problem(c, "mosquitto: %s:%zu: include_dir nested deeper than %u", path, line, DG_DL_MAX_DEPTH);
				continue;
			}
			dg_autofree char *pat = dg_xasprintf("%s/*.conf", v);
			struct dg_strv files;
			glob_paths(c, pat, &files);
			for (size_t i = 0; i < files.n; i++)
				mosquitto_file(c, files.v[i], depth + 1);
			dg_strv_free(&files);
		}
	}
	free(text);
}

static void rule_mosquitto(struct rc *c)
{
	if (c->defaults) {
		mosquitto_file(c, "/etc/mosquitto/mosquitto.conf", 0);
		mosquitto_file(c, "/usr/local/etc/mosquitto/mosquitto.conf", 0);
		mosquitto_file(c, "/mosquitto/config/mosquitto.conf", 0); /* the official image's */
	}
	for (size_t i = 0; c->cfgs && i < c->cfgs->n; i++)
		mosquitto_file(c, c->cfgs->v[i], 0);
}


/* haproxy: its configuration files (`-f` names a file or a directory of *.cfg files: every
 * *.cfg under /etc/haproxy and /usr/local/etc/haproxy, one directory level down too).
 * haproxy itself dlopens nothing; the libraries it links do, only when configured:
 * liblua's require/package.loadlib when a `lua-load`, `lua-load-per-thread` or
 * `lua-prepend-path` line runs Lua code (Lua's C modules, as for the lua interpreter),
 * libopentracing's tracer plugin when a `filter opentracing` line names its own
 * configuration file, which names the plugin (not read: OUT->unknown). What it runs:
 * `external-check command PATH` and a `program` section's `command CMD ARGS...`. */
struct haproxy {
	int lua;
	char *ot;                 /* the first `filter opentracing` line */
	struct dg_strv checks;    /* external-check command paths */
	struct dg_strv programs;  /* program sections' command lines */
};

static int is_word(const char *s, size_t n, const char *w) { return n == strlen(w) && !strncmp(s, w, n); }

static void haproxy_file(struct rc *c, const char *path, struct haproxy *h)
{
	static const char *const sections[] = {"global", "defaults", "frontend", "backend", "listen", "program",
					       "userlist", "peers", "resolvers", "mailers", "cache", "ring",
					       "http-errors", "fcgi-app", "crt-store", "traces", "log-forward"};
	char *text;
	if (read_cfg(c, path, &text) <= 0)
		return;
	size_t line = 0;
	int in_program = 0;
	for (char *cur = text, *s; (s = next_line(&cur, &line, 1));) {
		size_t kl = strcspn(s, " \t");
		if (!kl)
			continue;
		char *v = s + kl;
		while (*v == ' ' || *v == '\t')
			v++;
		for (size_t i = 0; i < sizeof sections / sizeof *sections; i++)
			if (is_word(s, kl, sections[i]))
				in_program = !strcmp(sections[i], "program");
		if (is_word(s, kl, "lua-load") || is_word(s, kl, "lua-load-per-thread") ||
		    is_word(s, kl, "lua-prepend-path")) {
			h->lua = 1;
		} else if (is_word(s, kl, "filter") && !strncmp(v, "opentracing", 11) &&
			   (v[11] == 0 || v[11] == ' ' || v[11] == '\t') && !h->ot) {
			struct dg_buf b = {0};
			dg_buf_put_escaped(&b, path);
			dg_autofree char *ep = dg_buf_steal(&b);
			h->ot = dg_xasprintf("haproxy: %s:%zu filter opentracing: the tracer plugin is named in "
					     "the filter's own configuration", ep, line);
		} else if (is_word(s, kl, "external-check") && !strncmp(v, "command", 7) && (v[7] == ' ' || v[7] == '\t')) {
			char *a = v + 7;
			while (*a == ' ' || *a == '\t')
				a++;
			a[strcspn(a, " \t")] = 0;
			if (*a)
				dg_strv_push(&h->checks, a);
		} else if (in_program && is_word(s, kl, "command") && *v) {
			dg_strv_push(&h->programs, v);
		}
	}
	free(text);
}

static void interp_dirs(struct rc *c, const char *lang, const char *const *pats, size_t np, const char *suffix);
static const char *const lua_dirs[] = {"/usr/lib/x86_64-linux-gnu/lua", "/usr/local/lib/lua"};

static void haproxy_read(struct rc *c, struct haproxy *h)
{
	static const char *const pats[] = {"/etc/haproxy/*.cfg", "/etc/haproxy/*/*.cfg", "/usr/local/etc/haproxy/*.cfg",
					   "/usr/local/etc/haproxy/*/*.cfg"};
	for (size_t i = 0; i < sizeof pats / sizeof *pats && c->defaults; i++) {
		struct dg_strv files;
		glob_paths(c, pats[i], &files);
		for (size_t k = 0; k < files.n; k++)
			haproxy_file(c, files.v[k], h);
		dg_strv_free(&files);
	}
	/* -f FILE or -f DIRECTORY (its *.cfg files) */
	for (size_t i = 0; c->cfgs && i < c->cfgs->n; i++) {
		struct dg_error e = DG_ERROR_INIT;
		struct dg_node *n;
		if (dg_fs_resolve(c->fs, c->cfgs->v[i], NULL, 0, &n, &e) == 0 && n->type == DG_F_DIR) {
			dg_autofree char *pat = dg_xasprintf("%s/*.cfg", c->cfgs->v[i]);
			struct dg_strv files;
			glob_paths(c, pat, &files);
			for (size_t k = 0; k < files.n; k++)
				haproxy_file(c, files.v[k], h);
			dg_strv_free(&files);
		} else {
			haproxy_file(c, c->cfgs->v[i], h);
		}
	}
}

static void haproxy_free(struct haproxy *h)
{
	free(h->ot);
	dg_strv_free(&h->checks);
	dg_strv_free(&h->programs);
}

static void rule_haproxy(struct rc *c)
{
	struct haproxy h = {0};
	haproxy_read(c, &h);
	if (h.lua)
		interp_dirs(c, "haproxy: lua-load: lua", lua_dirs, sizeof lua_dirs / sizeof *lua_dirs, NULL);
	if (h.ot && !c->out->unknown) {
		c->out->unknown = h.ot;
		h.ot = NULL;
	}
	haproxy_free(&h);
}

void dg_ex_haproxy(struct dg_fs *fs, const struct dg_strv *cfgs, int defaults, int *lua, struct dg_strv *checks,
		   struct dg_strv *programs, struct dg_strv *problems)
{
	struct dg_dlmods m = {0};
	struct rc c;
	rc_init(&c, fs, &m);
	rc_cfgs(&c, cfgs, defaults);
	struct haproxy h = {0};
	haproxy_read(&c, &h);
	*lua = h.lua;
	*checks = h.checks;
	*programs = h.programs;
	h.checks = h.programs = (struct dg_strv){0};
	haproxy_free(&h);
	ex_done(&c, &m, problems);
}

/* libwrap (TCP wrappers): /etc/hosts.allow and /etc/hosts.deny, `daemons : clients [: option
 * ...]` rules with `\` continuation lines and `#` comment lines; fields are split at `:` not
 * escaped as `\:`. The `spawn`, `twist` and `aclexec` options (hosts_options(5)) run a shell
 * command; a third field that starts with no known option keyword is a shell command too
 * (the format without PROCESS_OPTIONS). */
static void libwrap_file(struct rc *c, const char *path, struct dg_strv *cmds)
{
	static const char *const opts[] = {"allow", "deny", "severity", "setenv", "umask", "user", "nice",
					   "keepalive", "linger", "rfc931", "banners", "spawn", "twist", "aclexec"};
	char *text;
	if (read_cfg(c, path, &text) <= 0)
		return;
	/* join continuation lines */
	char *w = text;
	for (char *r = text; *r; r++) {
		if (r[0] == '\\' && r[1] == '\n') {
			r++;
			continue;
		}
		*w++ = *r;
	}
	*w = 0;
	size_t line = 0;
	for (char *rest = text, *s; (s = next_line(&rest, &line, 0));) {
		if (*s == '#' || !*s)
			continue;
		size_t field = 0;
		struct dg_buf cur = {0};
		for (char *p = s;; p++) {
			if (*p == '\\' && p[1] == ':') {
				dg_buf_putc(&cur, ':');
				p++;
				continue;
			}
			if (*p && *p != ':') {
				dg_buf_putc(&cur, *p);
				continue;
			}
			char *f = dg_buf_steal(&cur);
			char *t = f ? f : (char *)"";
			while (*t == ' ' || *t == '\t')
				t++;
			size_t tl = strlen(t);
			while (tl && (t[tl - 1] == ' ' || t[tl - 1] == '\t' || t[tl - 1] == '\r'))
				t[--tl] = 0;
			if (field >= 2 && *t) {
				size_t kl = strcspn(t, " \t=");
				int known = 0, shell = 0;
				for (size_t i = 0; i < sizeof opts / sizeof *opts; i++)
					if (is_word(t, kl, opts[i])) {
						known = 1;
						shell = i >= 11;
					}
				if (shell) {
					char *a = t + kl;
					while (*a == ' ' || *a == '\t')
						a++;
					if (*a)
						dg_strv_push(cmds, a);
				} else if (!known && field == 2) {
					dg_strv_push(cmds, t);
				}
			}
			free(f);
			field++;
			if (!*p)
				break;
		}
		dg_buf_free(&cur);
	}
	free(text);
}

void dg_ex_libwrap(struct dg_fs *fs, struct dg_strv *cmds, struct dg_strv *problems)
{
	struct dg_dlmods m = {0};
	struct rc c;
	rc_init(&c, fs, &m);
	memset(cmds, 0, sizeof *cmds);
	libwrap_file(&c, "/etc/hosts.allow", cmds);
	libwrap_file(&c, "/etc/hosts.deny", cmds);
	ex_done(&c, &m, problems);
}

int dg_dl_config(struct dg_fs *fs, const char *prog, struct dg_dlmods *out, struct dg_error *err)
{
	return dg_dl_config_files(fs, prog, NULL, 1, out, err);
}

int dg_dl_config_files(struct dg_fs *fs, const char *prog, const struct dg_strv *cfgs, int defaults,
		       struct dg_dlmods *out, struct dg_error *err)
{
	struct rc c;
	rc_init(&c, fs, out);
	rc_cfgs(&c, cfgs, defaults);
	const char *b = base_name(prog);
	if (!strcmp(b, "nginx"))
		rule_nginx(&c);
	else if (!strcmp(b, "apache2") || !strcmp(b, "httpd"))
		rule_apache(&c);
	else if (starts(b, "php"))
		rule_php(&c, b);
	else if (!strcmp(b, "lighttpd"))
		rule_lighttpd(&c);
	else if (!strcmp(b, "mosquitto"))
		rule_mosquitto(&c);
	else if (!strcmp(b, "haproxy"))
		rule_haproxy(&c);
	rc_done(&c);
	(void)err;
	return 0;
}

/* The options of each server that name a configuration file. */
static const struct {
	const char *prog; /* basename prefix */
	const char *opts[4];
} cfg_opts[] = {
	{"nginx", {"-c"}},
	{"lighttpd", {"-f"}},
	{"mosquitto", {"-c", "--config-file"}},
	{"haproxy", {"-f"}},
	{"apache2", {"-f"}},
	{"httpd", {"-f"}},
	{"php-fpm", {"-c", "-y", "--php-ini", "--fpm-config"}},
};

/* The index of PROG's entry in cfg_opts (by basename prefix), or -1. */
static long cfg_server(const char *prog)
{
	const char *b = base_name(prog);
	for (size_t k = 0; k < sizeof cfg_opts / sizeof *cfg_opts; k++)
		if (starts(b, cfg_opts[k].prog))
			return (long)k;
	return -1;
}

int dg_dl_cfg_server(const char *prog)
{
	return cfg_server(prog) >= 0;
}

int dg_dl_cfg_args(const char *prog, const char *const *w, const int *dynamic, size_t n, const char *workdir,
		   struct dg_strv *out)
{
	long ks = cfg_server(prog);
	if (ks < 0)
		return 0;
	size_t k = (size_t)ks;
	int unknown = 0;
	for (size_t i = 1; i < n; i++) {
		if (dynamic[i]) {
			unknown = 1;
			continue;
		}
		const char *a = w[i], *v = NULL;
		for (size_t o = 0; o < 4 && cfg_opts[k].opts[o] && !v; o++) {
			const char *opt = cfg_opts[k].opts[o];
			size_t ol = strlen(opt);
			if (!strcmp(a, opt)) {
				if (i + 1 >= n)
					break;
				if (dynamic[i + 1]) {
					unknown = 1;
					i++;
					break;
				}
				v = w[++i];
			} else if (!strncmp(a, opt, ol) && ((ol == 2 && a[ol]) || (ol > 2 && a[ol] == '='))) {
				v = a + ol + (ol > 2);
			}
		}
		if (!v || !*v)
			continue;
		if (v[0] == '/') {
			dg_strv_push(out, v);
		} else {
			dg_autofree char *full = dg_xasprintf("%s/%s", workdir && *workdir ? workdir : "", v);
			dg_strv_push(out, full);
		}
	}
	return unknown;
}

/* ---- 5. interpreters ---- */

struct interp_walk {
	struct rc *c;
	const char *suffix; /* required file name suffix, or NULL */
	const char *why;
	size_t n;
};

static int interp_cb(struct dg_node *n, void *ud)
{
	struct interp_walk *w = ud;
	if (n->type != DG_F_REG || !n->inode || n->inode->kind != DG_CONTENT_ELF)
		return 0;
	if (w->suffix) {
		size_t sl = strlen(w->suffix);
		if (n->namelen < sl || strcmp(n->name + n->namelen - sl, w->suffix))
			return 0;
	}
	if (is_shared_object(w->c, n)) {
		add_node(w->c, n, w->why);
		w->n++;
	}
	return 0;
}

static void interp_dirs(struct rc *c, const char *lang, const char *const *pats, size_t np, const char *suffix)
{
	for (size_t i = 0; i < np; i++) {
		struct dg_strv dirs;
		glob_paths(c, pats[i], &dirs);
		for (size_t k = 0; k < dirs.n; k++) {
			struct dg_error e = DG_ERROR_INIT;
			struct dg_node *d;
			if (dg_fs_resolve(c->fs, dirs.v[k], NULL, 0, &d, &e) < 0 || d->type != DG_F_DIR)
				continue;
			dg_autofree char *why = dg_xasprintf("%s module under %s", lang, dirs.v[k]);
			struct interp_walk w = {c, suffix, why, 0};
			dg_fs_walk_from(d, 1, interp_cb, &w);
		}
		dg_strv_free(&dirs);
	}
}

#define N(a) (sizeof a / sizeof *a)

int dg_dl_interp(struct dg_fs *fs, const char *prog, struct dg_dlmods *out, struct dg_error *err)
{
	struct rc c;
	rc_init(&c, fs, out);
	const char *b = base_name(prog);
	if (starts(b, "python3") || !strcmp(b, "python")) {
		/* python3.X names its version; otherwise every python3.* */
		const char *ver = starts(b, "python3.") && strlen(b) <= 16 && !strchr(b, '[') ? b : "python3.*";
		char v[32];
		snprintf(v, sizeof v, "%s", ver);
		char *pats[7];
		pats[0] = dg_xasprintf("/usr/lib/%s/lib-dynload", v);
		pats[1] = dg_xstrdup("/usr/lib/python3/dist-packages");
		pats[2] = dg_xasprintf("/usr/local/lib/%s/site-packages", v);
		pats[3] = dg_xasprintf("/usr/local/lib/%s/dist-packages", v);
		pats[4] = dg_xasprintf("/usr/lib/%s/site-packages", v);
		pats[5] = dg_xasprintf("/usr/local/lib/%s/lib-dynload", v);
		pats[6] = dg_xasprintf("/usr/lib/%s/dist-packages", v);
		interp_dirs(&c, "interp: python", (const char *const *)pats, 7, NULL);
		for (size_t i = 0; i < 7; i++)
			free(pats[i]);
	} else if (starts(b, "perl")) {
		static const char *const p[] = {"/usr/lib/x86_64-linux-gnu/perl*", "/usr/local/lib/x86_64-linux-gnu/perl",
						"/usr/local/lib/perl5", "/usr/lib64/perl5"};
		interp_dirs(&c, "interp: perl", p, N(p), NULL);
	} else if (starts(b, "ruby")) {
		static const char *const p[] = {"/usr/lib/x86_64-linux-gnu/ruby", "/usr/lib/ruby", "/usr/local/lib/ruby",
						"/var/lib/gems"};
		interp_dirs(&c, "interp: ruby", p, N(p), NULL);
	} else if (!strcmp(b, "node") || !strcmp(b, "nodejs")) {
		static const char *const p[] = {"/usr/lib/node_modules", "/usr/local/lib/node_modules", "/usr/share/nodejs",
						"/usr/lib/x86_64-linux-gnu/nodejs"};
		interp_dirs(&c, "interp: node", p, N(p), ".node");
	} else if (starts(b, "php")) {
		static const char *const p[] = {"/usr/lib/php", "/usr/local/lib/php/extensions"};
		interp_dirs(&c, "interp: php", p, N(p), NULL);
	} else if (starts(b, "lua")) {
		interp_dirs(&c, "interp: lua", lua_dirs, N(lua_dirs), NULL);
	} else if (starts(b, "tclsh") || starts(b, "wish")) {
		static const char *const p[] = {"/usr/lib/tcltk", "/usr/lib/x86_64-linux-gnu/tcl*"};
		interp_dirs(&c, "interp: tcl", p, N(p), NULL);
	}
	rc_done(&c);
	(void)err;
	return 0;
}


/* ---- 6. libraries that dlopen: OpenSSL, Cyrus SASL ---- */

int dg_dl_lib_rule(const char *name)
{
	const char *b = base_name(name);
	return starts(b, "libcrypto.so") ? DG_DL_LIB_OPENSSL : starts(b, "libsasl2.so") ? DG_DL_LIB_SASL : 0;
}

int dg_dl_sasl(struct dg_fs *fs, struct dg_dlmods *out, struct dg_error *err)
{
	struct rc c;
	rc_init(&c, fs, out);
	static const char *const dirs[] = {"/usr/lib/x86_64-linux-gnu/sasl2", "/usr/lib/sasl2", "/usr/lib64/sasl2",
					   "/usr/local/lib/sasl2"};
	interp_dirs(&c, "sasl: plugin", dirs, N(dirs), NULL);
	rc_done(&c);
	(void)err;
	return 0;
}

int dg_dl_lib(struct dg_fs *fs, int rule, struct dg_dlmods *out, struct dg_error *err)
{
	return rule == DG_DL_LIB_OPENSSL ? dg_dl_openssl(fs, out, err) : rule == DG_DL_LIB_SASL ? dg_dl_sasl(fs, out, err) : 0;
}

/* One openssl.cnf: `KEY = VALUE` lines whose KEY is dynamic_path, module or SO_PATH (any
 * case, a section-qualified key too) and an absolute VALUE (quotes removed); `.include`
 * (with or without `=`) of a file, or of a directory's *.cnf and *.conf files. */
static void openssl_file(struct rc *c, const char *path, int depth)
{
	char *text;
	if (read_cfg(c, path, &text) <= 0)
		return;
	size_t line = 0;
	for (char *cur = text, *s; (s = next_line(&cur, &line, 1));) {
		if (!*s || *s == '[')
			continue;
		if (!strncmp(s, ".include", 8) && (s[8] == ' ' || s[8] == '\t' || s[8] == '=')) {
			char *v = s + 8;
			while (*v == ' ' || *v == '\t' || *v == '=')
				v++;
			if (*v != '/')
				continue; /* relative to OPENSSL_CONF_INCLUDE: not known */
			if (depth + 1 >= DG_DL_MAX_DEPTH) {
				problem(c, "openssl: %s:%zu: .include nested deeper than %u", path, line, DG_DL_MAX_DEPTH);
				continue;
			}
			struct dg_error e = DG_ERROR_INIT;
			struct dg_node *n;
			if (dg_fs_resolve(c->fs, v, NULL, 0, &n, &e) == 0 && n->type == DG_F_DIR) {
				static const char *const sfx[] = {"*.cnf", "*.conf"};
				for (size_t k = 0; k < 2; k++) {
					dg_autofree char *pat = dg_xasprintf("%s/%s", v, sfx[k]);
					struct dg_strv files;
					glob_paths(c, pat, &files);
					for (size_t i = 0; i < files.n; i++)
						openssl_file(c, files.v[i], depth + 1);
					dg_strv_free(&files);
				}
			} else {
				openssl_file(c, v, depth + 1);
			}
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq)
			continue;
		char *ke = eq;
		while (ke > s && (ke[-1] == ' ' || ke[-1] == '\t'))
			ke--;
		*ke = 0;
		const char *key = strrchr(s, ':') ? strrchr(s, ':') + 1 : s;
		if (strcasecmp(key, "dynamic_path") && strcasecmp(key, "module") && strcasecmp(key, "SO_PATH"))
			continue;
		char *v = eq + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		size_t vl = strlen(v);
		if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
			v[vl - 1] = 0;
			v++;
		}
		if (*v != '/')
			continue; /* an engine or provider name: found in the directories below */
		dg_autofree char *why = dg_xasprintf("openssl: %s:%zu %s", path, line, key);
		add_path(c, v, why, 1);
	}
	free(text);
}

int dg_dl_openssl(struct dg_fs *fs, struct dg_dlmods *out, struct dg_error *err)
{
	struct rc c;
	rc_init(&c, fs, out);
	static const char *const dirs[] = {"/usr/lib/x86_64-linux-gnu/engines-*", "/usr/lib/x86_64-linux-gnu/ossl-modules",
					   "/usr/lib64/engines-*", "/usr/lib64/ossl-modules", "/usr/lib/engines-*",
					   "/usr/lib/ossl-modules", "/usr/local/lib64/engines-*",
					   "/usr/local/lib64/ossl-modules", "/usr/local/lib/engines-*",
					   "/usr/local/lib/ossl-modules"};
	interp_dirs(&c, "openssl: engine or provider", dirs, N(dirs), NULL);
	static const char *const confs[] = {"/usr/lib/ssl/openssl.cnf", "/etc/ssl/openssl.cnf", "/usr/local/ssl/openssl.cnf",
					    "/etc/pki/tls/openssl.cnf"};
	for (size_t i = 0; i < N(confs); i++)
		openssl_file(&c, confs[i], 0);
	rc_done(&c);
	(void)err;
	return 0;
}

int dg_dl_rules(struct dg_fs *fs, const char *prog, struct dg_dlmods *out, struct dg_error *err)
{
	if (dg_dl_nss(fs, out, err) < 0 || dg_dl_gconv(fs, out, err) < 0 || dg_dl_libgcc(fs, out, err) < 0 ||
	    dg_dl_config(fs, prog, out, err) < 0 || dg_dl_interp(fs, prog, out, err) < 0)
		return -1;
	return 0;
}

/* ---- loadability: what a dlopen of a name nobody knows can really load ---- */

#define STB_LOCAL_ 0
#define STB_WEAK_ 2
#define STV_INTERNAL_ 1
#define STV_HIDDEN_ 2

/* The names E exports (defined, not local, not hidden) into M. */
static void put_exports(const struct dg_elf *e, struct dg_map *m)
{
	for (size_t k = 0; k < e->ndynsyms; k++) {
		const struct dg_elf_sym *y = &e->dynsyms[k];
		if (y->shndx && y->bind != STB_LOCAL_ && y->vis != STV_HIDDEN_ && y->vis != STV_INTERNAL_ && y->name &&
		    *y->name)
			dg_map_put(m, y->name, strlen(y->name), 1);
	}
}

struct loadobj {
	char *path;          /* NULL: a DT_NEEDED name the image does not have (in NAME) */
	char *name;
	struct dg_strv need; /* the undefined symbols loading it binds */
};

struct loadcand {
	struct dg_map own;   /* what its closure exports */
	struct loadobj *o;   /* its closure, the loader itself left out */
	size_t no;
	char *bad;           /* why it can never load (an object of its closure unreadable) */
};

/* What one process holds: its objects by path and by name, and what they export. */
struct loadproc {
	struct dg_map avail, loaded, names;
};

static void proc_init(struct dg_objdb *db, const struct dg_dl_proc *p, struct loadproc *lp)
{
	struct dg_error err = DG_ERROR_INIT;
	memset(lp, 0, sizeof *lp);
	for (size_t i = 0; i < p->nsets; i++)
		for (size_t k = 0; p->sets[i] && k < p->sets[i]->n; k++) {
			const struct dg_ldobj *lo = &p->sets[i]->objs[k];
			if (!lo->path || !lo->node || dg_map_get(&lp->loaded, lo->path, strlen(lo->path)) != SIZE_MAX)
				continue;
			dg_map_put(&lp->loaded, lo->path, strlen(lo->path), 1);
			if (lo->name)
				dg_map_put(&lp->names, lo->name, strlen(lo->name), 1);
			if (lo->dyn && lo->dyn->soname)
				dg_map_put(&lp->names, lo->dyn->soname, strlen(lo->dyn->soname), 1);
			const struct dg_elf *e = dg_objdb_elf(db, lo->node, &err);
			if (e)
				put_exports(e, &lp->avail);
			dg_err_clear(&err);
		}
}

/* Whether candidate C loads into process LP as it is now; else why (when WHY). */
static int loads_into(const struct loadcand *c, const struct loadproc *lp, char **why)
{
	for (size_t k = 0; k < c->no; k++) {
		const struct loadobj *o = &c->o[k];
		if (!o->path) {
			if (o->name && dg_map_get(&lp->names, o->name, strlen(o->name)) != SIZE_MAX)
				continue; /* loaded already under that name */
			if (why)
				*why = dg_xasprintf("needs %s, which is not in the image", o->name ? o->name : "?");
			return 0;
		}
		if (dg_map_get(&lp->loaded, o->path, strlen(o->path)) != SIZE_MAX)
			continue; /* loaded already: bound already */
		for (size_t i = 0; i < o->need.n; i++) {
			const char *nm = o->need.v[i];
			size_t len = strlen(nm);
			if (dg_map_get(&lp->avail, nm, len) == SIZE_MAX && dg_map_get(&c->own, nm, len) == SIZE_MAX) {
				if (why)
					*why = k ? dg_xasprintf("%s, which it needs, needs symbol %s, which nothing loaded defines",
								o->path, nm)
						 : dg_xasprintf("needs symbol %s, which nothing loaded defines", nm);
				return 0;
			}
		}
	}
	return 1;
}

size_t dg_dl_loadable(struct dg_objdb *db, const struct dg_dl_proc *procs, size_t nprocs, const char *ld_library_path,
		      const char *const *cands, size_t n, uint8_t *keep, char **why)
{
	struct dg_error err = DG_ERROR_INIT;
	struct loadcand *lc = dg_xcalloc(n ? n : 1, sizeof *lc);
	struct dg_ldopts lo_opts = {.ld_library_path = ld_library_path, .db = db};
	for (size_t i = 0; i < n; i++) {
		keep[i] = 0;
		if (why)
			why[i] = NULL;
		struct dg_ldset *set = NULL;
		if (dg_ld_closure(dg_objdb_fs(db), cands[i], &lo_opts, &set, &err) < 0) {
			lc[i].bad = dg_xasprintf("its closure cannot be computed: %s", err.msg);
			dg_err_clear(&err);
			continue;
		}
		lc[i].o = dg_xcalloc(set->n ? set->n : 1, sizeof *lc[i].o);
		for (size_t k = 0; k < set->n && !lc[i].bad; k++) {
			const struct dg_ldobj *o = &set->objs[k];
			if (o->via && !strcmp(o->via, "interp"))
				continue; /* the loader is in the process already */
			struct loadobj *lo = &lc[i].o[lc[i].no++];
			lo->name = o->name ? dg_xstrdup(o->name) : NULL;
			if (!o->path || !o->node)
				continue;
			lo->path = dg_xstrdup(o->path);
			const struct dg_elf *e = dg_objdb_elf(db, o->node, &err);
			if (!e) {
				lc[i].bad = dg_xasprintf("%s cannot be read: %s", o->path, err.msg);
				dg_err_clear(&err);
				continue;
			}
			put_exports(e, &lc[i].own);
			struct dg_map seen = {0};
			for (size_t r = 0; r < e->nrelocs; r++) {
				const struct dg_elf_reloc *rl = &e->relocs[r];
				if (!rl->sym || rl->sym >= e->ndynsyms || (rl->kind == DG_REL_JUMP_SLOT && !e->bind_now))
					continue;
				const struct dg_elf_sym *y = &e->dynsyms[rl->sym];
				if (y->shndx || y->bind == STB_WEAK_ || !y->name || !*y->name ||
				    dg_map_get(&seen, y->name, strlen(y->name)) != SIZE_MAX)
					continue;
				dg_map_put(&seen, y->name, strlen(y->name), 1);
				dg_strv_push(&lo->need, y->name);
			}
			dg_map_free(&seen);
		}
		dg_ldset_free(set);
	}
	/* per process, the least fixpoint: a candidate that loads joins the global scope
	 * (RTLD_GLOBAL) with its closure; kept when it loads into any process */
	uint8_t *in = dg_xcalloc(n ? n : 1, 1);
	for (size_t p = 0; p < nprocs; p++) {
		struct loadproc lp;
		proc_init(db, &procs[p], &lp);
		memset(in, 0, n ? n : 1);
		for (int changed = 1; changed;) {
			changed = 0;
			for (size_t i = 0; i < n; i++) {
				if (in[i] || lc[i].bad || !loads_into(&lc[i], &lp, NULL))
					continue;
				in[i] = keep[i] = 1;
				changed = 1;
				for (size_t k = 0; k < lc[i].own.cap; k++)
					if (lc[i].own.s && lc[i].own.s[k].key)
						dg_map_put(&lp.avail, lc[i].own.s[k].key, lc[i].own.s[k].len, 1);
				for (size_t k = 0; k < lc[i].no; k++) {
					if (lc[i].o[k].path)
						dg_map_put(&lp.loaded, lc[i].o[k].path, strlen(lc[i].o[k].path), 1);
					if (lc[i].o[k].name)
						dg_map_put(&lp.names, lc[i].o[k].name, strlen(lc[i].o[k].name), 1);
				}
			}
		}
		for (size_t i = 0; why && p + 1 == nprocs && i < n; i++)
			if (!keep[i])
				why[i] = lc[i].bad ? dg_xstrdup(lc[i].bad) : loads_into(&lc[i], &lp, &why[i]) ? NULL : why[i];
		dg_map_free(&lp.avail);
		dg_map_free(&lp.loaded);
		dg_map_free(&lp.names);
	}
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		kept += keep[i];
		for (size_t k = 0; k < lc[i].no; k++) {
			free(lc[i].o[k].path);
			free(lc[i].o[k].name);
			dg_strv_free(&lc[i].o[k].need);
		}
		free(lc[i].o);
		dg_map_free(&lc[i].own);
		free(lc[i].bad);
	}
	free(in);
	free(lc);
	return kept;
}
