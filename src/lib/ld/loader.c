/* glibc's search rules, applied to the merged image tree:
 *   a name with a slash is a path;
 *   DT_RPATH of the needing object and then of its loaders (each only while it
 *   has no DT_RUNPATH); LD_LIBRARY_PATH; DT_RUNPATH of the needing object;
 *   /etc/ld.so.cache (unless DF_1_NODEFLIB); the system directories.
 * In every directory the glibc-hwcaps subdirectories come first. Objects are
 * matched against those already loaded by name and SONAME, and files of the
 * wrong ELF class or machine are skipped, as the loader does. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dockergate/loader.h"
#include "dockergate/util.h"

#define DF_1_NODEFLIB 0x800

struct ent {
	const char *key, *value;
	uint32_t flags;
	uint64_t hwcap;
};

struct dg_ldcache {
	struct ent *v;
	size_t n;
};


void dg_ldcache_free(struct dg_ldcache *c)
{
	if (c) {
		free(c->v);
		free(c);
	}
}

static uint32_t le32(const unsigned char *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t le64(const unsigned char *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

static const char *cstr(const unsigned char *base, size_t n, uint64_t off)
{
	if (off >= n || !memchr(base + off, 0, n - off))
		return NULL;
	return (const char *)base + off;
}

#define OLD_MAGIC "ld.so-1.7.0"
#define NEW_MAGIC "glibc-ld.so.cache1.1"

int dg_ldcache_parse(const unsigned char *p, size_t n, struct dg_ldcache **out, struct dg_error *err)
{
	struct dg_ldcache *c = dg_xcalloc(1, sizeof *c);
	const unsigned char *nw = NULL;
	size_t nwlen = 0;
	if (n >= 16 && !memcmp(p, OLD_MAGIC, 11)) {
		uint32_t nlibs = le32(p + 12);
		if (nlibs > (n - 16) / 12)
			goto bad;
		size_t end = 16 + (size_t)nlibs * 12;
		/* a new-format cache may follow, aligned to 8 */
		size_t al = (end + 7) & ~(size_t)7;
		if (al + 48 <= n && !memcmp(p + al, NEW_MAGIC, 20)) {
			nw = p + al;
			nwlen = n - al;
		} else {
			c->v = dg_xcalloc(nlibs ? nlibs : 1, sizeof *c->v);
			for (uint32_t i = 0; i < nlibs; i++) {
				const unsigned char *e = p + 16 + 12 * (size_t)i;
				struct ent *x = &c->v[c->n++];
				x->flags = le32(e);
				x->key = cstr(p + end, n - end, le32(e + 4));
				x->value = cstr(p + end, n - end, le32(e + 8));
				if (!x->key || !x->value)
					goto bad;
			}
			*out = c;
			return 0;
		}
	} else if (n >= 48 && !memcmp(p, NEW_MAGIC, 20)) {
		nw = p;
		nwlen = n;
	} else {
		dg_ldcache_free(c);
		return dg_err(err, DG_E_IMAGE, "ld.so.cache: unknown format");
	}
	uint32_t nlibs = le32(nw + 20);
	if (nlibs > (nwlen - 48) / 24)
		goto bad;
	c->v = dg_xcalloc(nlibs ? nlibs : 1, sizeof *c->v);
	for (uint32_t i = 0; i < nlibs; i++) {
		const unsigned char *e = nw + 48 + 24 * (size_t)i;
		struct ent *x = &c->v[c->n++];
		x->flags = le32(e);
		x->key = cstr(nw, nwlen, le32(e + 4));
		x->value = cstr(nw, nwlen, le32(e + 8));
		x->hwcap = le64(e + 16);
		if (!x->key || !x->value)
			goto bad;
	}
	*out = c;
	return 0;
bad:
	dg_ldcache_free(c);
	return dg_err(err, DG_E_IMAGE, "ld.so.cache: entries or strings out of bounds");
}

static uint32_t arch_flags(uint16_t machine, int bits)
{
	switch (machine) {
	case 62: return bits == 64 ? 0x0300 : 0x0800; /* x86-64, x32 */
	case 183: return 0x0a00;                      /* aarch64 */
	case 3: return 0x0000;                        /* i386 */
	}
	return 0xffff;
}

const char *dg_ldcache_lookup(const struct dg_ldcache *c, const char *name, uint16_t machine, int bits)
{
	uint32_t want = arch_flags(machine, bits);
	const char *fallback = NULL;
	for (size_t i = 0; i < c->n; i++) {
		const struct ent *x = &c->v[i];
		if ((x->flags & 0xff) != 0x03 || (x->flags & 0xff00) != want || strcmp(x->key, name))
			continue;
		if (!x->hwcap)
			return x->value;
		if (!fallback)
			fallback = x->value; /* a glibc-hwcaps variant: CPU dependent */
	}
	return fallback;
}

/* ---- the closure ---- */

static const char *system_dirs(uint16_t machine, int bits)
{
	if (machine == 62 && bits == 64)
		return "/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/lib:/usr/lib";
	if (machine == 183)
		return "/lib/aarch64-linux-gnu:/usr/lib/aarch64-linux-gnu:/lib:/usr/lib";
	if (machine == 3)
		return "/lib/i386-linux-gnu:/usr/lib/i386-linux-gnu:/lib:/usr/lib";
	/* Debian's other multiarch triplets (what each architecture's ld.so has built in) */
	if (machine == 40) /* armhf first, then armel */
		return "/lib/arm-linux-gnueabihf:/usr/lib/arm-linux-gnueabihf:/lib/arm-linux-gnueabi:"
		       "/usr/lib/arm-linux-gnueabi:/lib:/usr/lib";
	if (machine == 22 && bits == 64)
		return "/lib/s390x-linux-gnu:/usr/lib/s390x-linux-gnu:/lib:/usr/lib";
	if (machine == 21 && bits == 64)
		return "/lib/powerpc64le-linux-gnu:/usr/lib/powerpc64le-linux-gnu:/lib/powerpc64-linux-gnu:"
		       "/usr/lib/powerpc64-linux-gnu:/lib:/usr/lib";
	if (machine == 8 && bits == 64)
		return "/lib/mips64el-linux-gnuabi64:/usr/lib/mips64el-linux-gnuabi64:/lib:/usr/lib";
	if (machine == 8)
		return "/lib/mipsel-linux-gnu:/usr/lib/mipsel-linux-gnu:/lib:/usr/lib";
	if (machine == 243 && bits == 64)
		return "/lib/riscv64-linux-gnu:/usr/lib/riscv64-linux-gnu:/lib:/usr/lib";
	return "/lib:/usr/lib";
}

static const char *hwcaps_subdirs(uint16_t machine)
{
	/* most specific first; a static tool cannot know the CPU, so all are tried */
	return machine == 62 ? "glibc-hwcaps/x86-64-v4:glibc-hwcaps/x86-64-v3:glibc-hwcaps/x86-64-v2" : "";
}

void dg_ldset_free(struct dg_ldset *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->objs[i].name);
		free(s->objs[i].path);
		free(s->objs[i].deps);
	}
	free(s->objs);
	dg_objdb_free(s->own_db);
	free(s);
}

/* The names musl answers with itself: "lib" + one of these + "." + anything
 * (libc.so, libpthread.so.0, Alpine's libc.musl-x86_64.so.1). Returns the
 * index of the word, or -1. */
static const char *const musl_self[] = {"c", "pthread", "rt", "m", "dl", "util", "xnet"};
#define MUSL_NSELF (sizeof musl_self / sizeof *musl_self)

static int musl_reserved(const char *name)
{
	if (strncmp(name, "lib", 3))
		return -1;
	for (size_t i = 0; i < MUSL_NSELF; i++) {
		size_t l = strlen(musl_self[i]);
		if (!strncmp(name + 3, musl_self[i], l) && name[3 + l] == '.')
			return (int)i;
	}
	return -1;
}

struct ctx {
	struct dg_fs *fs;
	struct dg_objdb *db;
	struct dg_ldset *set;
	const struct dg_ldopts *o;
	const struct dg_ldcache *cache;
	uint16_t machine;
	int bits;
	/* musl: its loader is also libc; the system path comes from
	 * etc/ld-musl-ARCH.path next to the loader, or its built-in default */
	int musl;
	char *musl_path;
	size_t musl_alias[MUSL_NSELF]; /* the entry listing each self name, or SIZE_MAX */
};

/* $ORIGIN, $LIB, $PLATFORM in a search path element. */
static char *expand(const char *s, const char *origin, uint16_t machine)
{
	struct dg_buf b = {0};
	const char *lib = machine == 62 ? "lib/x86_64-linux-gnu" : machine == 183 ? "lib/aarch64-linux-gnu" : "lib";
	const char *plat = machine == 62 ? "x86_64" : machine == 183 ? "aarch64" : "i686";
	while (*s) {
		if (*s == '$') {
			const char *names[] = {"ORIGIN", "LIB", "PLATFORM"};
			const char *vals[] = {origin, lib, plat};
			int done = 0;
			for (int k = 0; k < 3 && !done; k++) {
				size_t l = strlen(names[k]);
				if (!strncmp(s + 1, names[k], l) && !isalnum((unsigned char)s[1 + l]) && s[1 + l] != '_') {
					dg_buf_puts(&b, vals[k]);
					s += 1 + l;
					done = 1;
				} else if (s[1] == '{' && !strncmp(s + 2, names[k], l) && s[2 + l] == '}') {
					dg_buf_puts(&b, vals[k]);
					s += 3 + l;
					done = 1;
				}
			}
			if (done)
				continue;
		}
		dg_buf_putc(&b, *s++);
	}
	return b.data ? dg_buf_steal(&b) : dg_xstrdup("");
}

/* Tries DIR/NAME (and its hwcaps subdirectories); on success fills the object. */
static int try_file(struct ctx *c, const char *path, struct dg_ldobj *obj)
{
	struct dg_error e = DG_ERROR_INIT;
	struct dg_node *n;
	if (dg_fs_resolve(c->fs, path, NULL, 0, &n, &e) < 0)
		return 0;
	const struct dg_dyninfo *d = dg_objdb_dyn(c->db, n);
	/* malformed, or of the wrong class or machine: the loader keeps searching */
	if (!d || d->error || d->machine != c->machine || d->bits != c->bits)
		return 0;
	obj->path = dg_xstrdup(path);
	obj->node = n;
	obj->dyn = d;
	return 1;
}

static int try_dirs(struct ctx *c, const char *dirs, const char *origin, const char *name,
		    struct dg_ldobj *obj)
{
	dg_autofree char *copy = dg_xstrdup(dirs);
	char *save = NULL;
	/* empty elements mean the current directory; the loader's cwd is unknown here */
	for (char *d = strtok_r(copy, ":;", &save); d; d = strtok_r(NULL, ":;", &save)) {
		dg_autofree char *dir = expand(d, origin, c->machine);
		size_t dl = strlen(dir);
		while (dl > 1 && dir[dl - 1] == '/')
			dir[--dl] = 0;
		dg_autofree char *subs = dg_xstrdup(hwcaps_subdirs(c->machine));
		char *s2 = NULL;
		for (char *h = strtok_r(subs, ":", &s2); h; h = strtok_r(NULL, ":", &s2)) {
			dg_autofree char *p = dg_xasprintf("%s/%s/%s", dir, h, name);
			if (try_file(c, p, obj))
				return 1;
		}
		dg_autofree char *p = dg_xasprintf("%s/%s", dir, name);
		if (try_file(c, p, obj))
			return 1;
	}
	return 0;
}

static char *origin_of(const char *path)
{
	const char *s = strrchr(path, '/');
	if (!s)
		return dg_xstrdup(".");
	return s == path ? dg_xstrdup("/") : dg_xstrndup(path, (size_t)(s - path));
}

static size_t find_loaded(struct ctx *c, const char *name)
{
	for (size_t i = 0; i < c->set->n; i++) {
		const struct dg_ldobj *o = &c->set->objs[i];
		if (!o->dyn)
			continue;
		if (!strcmp(o->name, name) || (o->path && !strcmp(o->path, name)) ||
		    (o->dyn->soname && !strcmp(o->dyn->soname, name)))
			return i;
	}
	return SIZE_MAX;
}

static size_t add(struct ctx *c, const char *name, size_t needed_by)
{
	c->set->objs = dg_xreallocarray(c->set->objs, c->set->n + 1, sizeof *c->set->objs);
	struct dg_ldobj *o = &c->set->objs[c->set->n];
	memset(o, 0, sizeof *o);
	o->name = dg_xstrdup(name);
	o->needed_by = needed_by;
	return c->set->n++;
}

static void search(struct ctx *c, size_t who, struct dg_ldobj *o)
{
	const struct dg_ldobj *req = &c->set->objs[who];
	const char *name = o->name;
	if (strchr(name, '/')) {
		if (try_file(c, name, o))
			o->via = "path";
		return;
	}
	/* DT_RPATH of the requester and its loaders, unless the requester has DT_RUNPATH */
	if (!req->dyn->runpath) {
		for (size_t k = who;; k = c->set->objs[k].needed_by) {
			const struct dg_ldobj *l = &c->set->objs[k];
			if (l->dyn && l->dyn->rpath && !l->dyn->runpath) {
				dg_autofree char *org = origin_of(l->path);
				if (try_dirs(c, l->dyn->rpath, org, name, o)) {
					o->via = "rpath";
					return;
				}
			}
			if (k == 0 || c->set->objs[k].needed_by == k)
				break;
		}
	}
	if (c->o && c->o->ld_library_path && *c->o->ld_library_path) {
		dg_autofree char *org = origin_of(c->set->objs[0].path);
		if (try_dirs(c, c->o->ld_library_path, org, name, o)) {
			o->via = "LD_LIBRARY_PATH";
			return;
		}
	}
	if (req->dyn->runpath) {
		dg_autofree char *org = origin_of(req->path);
		if (try_dirs(c, req->dyn->runpath, org, name, o)) {
			o->via = "runpath";
			return;
		}
	}
	if (req->dyn->flags_1 & DF_1_NODEFLIB)
		return;
	if (c->cache) {
		const char *p = dg_ldcache_lookup(c->cache, name, c->machine, c->bits);
		if (p && try_file(c, p, o)) {
			o->via = "ld.so.cache";
			return;
		}
	}
	if (try_dirs(c, system_dirs(c->machine, c->bits), "/", name, o))
		o->via = "default";
}

/* ---- musl (ldso/dynlink.c: load_library, path_open, fixup_rpath) ---- */

/* Only $ORIGIN and ${ORIGIN} are expanded; other '$' text stays as it is. */
static char *musl_expand(const char *s, const char *origin)
{
	struct dg_buf b = {0};
	while (*s) {
		if (!strncmp(s, "$ORIGIN", 7)) {
			dg_buf_puts(&b, origin);
			s += 7;
		} else if (!strncmp(s, "${ORIGIN}", 9)) {
			dg_buf_puts(&b, origin);
			s += 9;
		} else {
			dg_buf_putc(&b, *s++);
		}
	}
	return b.data ? dg_buf_steal(&b) : dg_xstrdup("");
}

/* path_open: the first element holding a file named NAME ends the search,
 * whatever it is (musl does not skip files of another class). Elements are
 * separated by ':' or newlines. Returns 1 when a file was there. */
static int musl_path_open(struct ctx *c, const char *list, const char *name, struct dg_ldobj *o)
{
	const char *s = list;
	for (;;) {
		s += strspn(s, ":\n");
		size_t l = strcspn(s, ":\n");
		if (!l)
			return 0;
		dg_autofree char *p = dg_xasprintf("%.*s/%s", (int)l, s, name);
		struct dg_node *n;
		struct dg_error e = DG_ERROR_INIT;
		if (dg_fs_resolve(c->fs, p, NULL, 0, &n, &e) == 0) {
			if (!try_file(c, p, o))
				o->path = NULL; /* there, but not loadable: the load fails */
			return 1;
		}
		s += l;
	}
}

static void musl_search(struct ctx *c, size_t who, struct dg_ldobj *o)
{
	const char *name = o->name;
	if (strchr(name, '/')) {
		if (try_file(c, name, o))
			o->via = "path";
		return;
	}
	if (strlen(name) > 255) /* NAME_MAX */
		return;
	if (c->o && c->o->ld_library_path && *c->o->ld_library_path &&
	    musl_path_open(c, c->o->ld_library_path, name, o)) {
		o->via = o->dyn ? "LD_LIBRARY_PATH" : NULL;
		return;
	}
	/* DT_RUNPATH, else DT_RPATH, of the requester and then of each object up
	 * the chain that loaded it */
	for (size_t k = who;; k = c->set->objs[k].needed_by) {
		const struct dg_ldobj *l = &c->set->objs[k];
		const char *rp = l->dyn ? (l->dyn->runpath ? l->dyn->runpath : l->dyn->rpath) : NULL;
		if (rp) {
			dg_autofree char *org = origin_of(l->path);
			dg_autofree char *x = musl_expand(rp, org);
			if (musl_path_open(c, x, name, o)) {
				o->via = o->dyn ? (l->dyn->runpath ? "runpath" : "rpath") : NULL;
				return;
			}
		}
		if (k == 0 || c->set->objs[k].needed_by == k)
			break;
	}
	if (musl_path_open(c, c->musl_path ? c->musl_path : "/lib:/usr/local/lib:/usr/lib", name, o))
		o->via = o->dyn ? (c->musl_path ? "ld-musl path file" : "default") : NULL;
}

/* Reads PREFIX/etc/ld-musl-ARCH.path, PREFIX being the directory two levels
 * above the loader's path as given in PT_INTERP ("" for /lib/ld-musl-*). */
static void musl_read_path_file(struct ctx *c, const char *interp)
{
	const char *b = strrchr(interp, '/');
	const char *arch = b ? b + 1 + 8 : NULL; /* after "ld-musl-" */
	const char *dot = arch ? strstr(arch, ".so") : NULL;
	if (!dot || interp[0] != '/')
		return;
	const char *t = interp, *z = interp;
	for (const char *q = interp; *q; q++)
		if (*q == '/')
			z = t, t = q;
	dg_autofree char *file =
		dg_xasprintf("%.*s/etc/ld-musl-%.*s.path", (int)(z - interp), interp, (int)(dot - arch), arch);
	struct dg_node *n;
	struct dg_error e = DG_ERROR_INIT;
	const unsigned char *p;
	size_t len;
	if (dg_fs_resolve(c->fs, file, NULL, 0, &n, &e) < 0)
		return; /* ENOENT: the built-in default */
	if (n->type != DG_F_REG || !n->inode || n->inode->kind != DG_CONTENT_CONFIG ||
	    dg_fs_content(c->fs, n, &p, &len, &e) < 0) {
		c->musl_path = dg_xstrdup(""); /* there but unreadable: an empty path, as musl */
		return;
	}
	c->musl_path = dg_xstrndup((const char *)p, len);
}

static int is_musl_interp(const char *interp)
{
	const char *b = strrchr(interp, '/');
	return !strncmp(b ? b + 1 : interp, "ld-musl-", 8);
}

const char *dg_ld_library_path(const struct dg_strv *env)
{
	const char *v = NULL;
	for (size_t i = 0; i < env->n; i++) /* the last assignment wins, as in a shell */
		if (!strncmp(env->v[i], "LD_LIBRARY_PATH=", 16))
			v = env->v[i] + 16;
	return v;
}

/* Puts the loader where the real one lists itself: objects in the order they
 * were mapped (missing ones too, as trace mode fakes them), and the loader
 * right after its predecessor in the search list, which has no missing ones.
 * Indices kept in needed_by and deps follow the objects. */
static void final_order(struct dg_ldset *set, size_t rtld, size_t rtld_after, int musl)
{
	size_t cnt = set->n, k = 0, pred = SIZE_MAX;
	size_t lim = rtld_after == SIZE_MAX ? cnt : rtld_after;
	for (size_t i = 0; i < lim && !musl; i++) /* musl lists itself first */
		if (i != rtld && set->objs[i].dyn)
			pred = i;
	if (musl)
		pred = 0;
	size_t *order = dg_xcalloc(cnt, sizeof *order), *pos = dg_xcalloc(cnt, sizeof *pos);
	for (size_t i = 0; i < cnt; i++) {
		if (i == rtld)
			continue;
		order[k++] = i;
		if (i == pred && rtld != SIZE_MAX)
			order[k++] = rtld;
	}
	if (rtld != SIZE_MAX && pred == SIZE_MAX)
		order[k++] = rtld;
	struct dg_ldobj *v = dg_xcalloc(cnt, sizeof *v);
	for (size_t i = 0; i < cnt; i++) {
		v[i] = set->objs[order[i]];
		pos[order[i]] = i;
	}
	for (size_t i = 0; i < cnt; i++) {
		v[i].needed_by = pos[v[i].needed_by];
		for (size_t d = 0; d < v[i].ndeps; d++)
			if (v[i].deps[d] != SIZE_MAX)
				v[i].deps[d] = pos[v[i].deps[d]];
	}
	free(set->objs);
	set->objs = v;
	free(order);
	free(pos);
}

int dg_ld_closure(struct dg_fs *fs, const char *exe, const struct dg_ldopts *opts, struct dg_ldset **out,
		  struct dg_error *err)
{
	struct ctx c = {.fs = fs, .o = opts};
	c.set = dg_xcalloc(1, sizeof *c.set);
	c.db = opts && opts->db ? opts->db : (c.set->own_db = dg_objdb_new(fs, NULL));
	size_t x = add(&c, exe, 0);
	struct dg_node *n;
	if (dg_fs_resolve(fs, exe, NULL, 0, &n, err) < 0)
		goto fail;
	/* the executable: any machine is fine, it sets the class for the rest */
	const struct dg_dyninfo *ed = dg_objdb_dyn(c.db, n);
	if (!ed) {
		dg_err(err, DG_E_INPUT, "%s: not an ELF file", exe);
		goto fail;
	}
	if (ed->error) {
		dg_err(err, DG_E_IMAGE, "%s: %s", exe, ed->error);
		goto fail;
	}
	c.set->objs[x].dyn = ed;
	c.set->objs[x].node = n;
	c.set->objs[x].path = dg_xstrdup(exe);
	c.set->objs[x].via = "exe";
	c.machine = ed->machine;
	c.bits = ed->bits;
	for (size_t k = 0; k < MUSL_NSELF; k++)
		c.musl_alias[k] = SIZE_MAX;
	c.musl = ed->interp && is_musl_interp(ed->interp);
	c.set->musl = c.musl;
	if (c.musl)
		musl_read_path_file(&c, ed->interp);
	else
		c.cache = dg_objdb_ldcache(c.db);
	/* the interpreter is loaded before anything else is searched */
	size_t rtld = SIZE_MAX;
	if (ed->interp) {
		rtld = add(&c, ed->interp, 0);
		struct dg_ldobj *o = &c.set->objs[rtld];
		if (try_file(&c, o->name, o))
			o->via = "interp";
	}
	size_t rtld_after = SIZE_MAX;
	/* breadth first, as _dl_map_object_deps does */
	for (size_t i = 0; i < c.set->n; i++) {
		if (i == rtld || !c.set->objs[i].dyn)
			continue;
		const struct dg_strv *needed = &c.set->objs[i].dyn->needed; /* owned by the store: stable */
		size_t *deps = dg_xcalloc(needed->n ? needed->n : 1, sizeof *deps);
		for (size_t k = 0; k < needed->n; k++) {
			const char *nm = needed->v[k];
			int self = c.musl && rtld != SIZE_MAX && c.set->objs[rtld].dyn ? musl_reserved(nm) : -1;
			size_t have = self >= 0 ? c.musl_alias[self] : find_loaded(&c, nm);
			if (self >= 0 && have == SIZE_MAX) {
				/* musl lists itself once per name kind, where first needed */
				have = c.musl_alias[self] = add(&c, nm, i);
				struct dg_ldobj *a = &c.set->objs[have], *l = &c.set->objs[rtld];
				a->path = dg_xstrdup(l->name);
				a->node = l->node;
				a->dyn = l->dyn;
				a->via = "musl itself";
				a->ndeps = 0;
			} else if (have == SIZE_MAX) {
				size_t j = add(&c, nm, i);
				struct dg_ldobj o = c.set->objs[j];
				if (c.musl)
					musl_search(&c, i, &o);
				else
					search(&c, i, &o);
				c.set->objs[j] = o;
				have = j;
				if (o.dyn) { /* the same file under another name is the same object */
					for (size_t m = 0; m < j; m++)
						if (c.set->objs[m].node == o.node && c.set->objs[m].dyn) {
							free(c.set->objs[j].name);
							free(c.set->objs[j].path);
							c.set->n--;
							have = m;
							break;
						}
				}
			}
			if (have == rtld && rtld_after == SIZE_MAX)
				rtld_after = c.set->n; /* the loader joins the list where first needed */
			deps[k] = have;
		}
		c.set->objs[i].deps = deps;
		c.set->objs[i].ndeps = needed->n;
	}
	final_order(c.set, rtld, rtld_after, c.musl);
	free(c.musl_path);
	*out = c.set;
	return 0;
fail:
	free(c.musl_path);
	dg_ldset_free(c.set);
	return -1;
}

/* What dlopen(NAME) of a program without RPATH/RUNPATH finds (glibc's rules,
 * no LD_LIBRARY_PATH): a name with a slash as given, else ld.so.cache, then
 * the system directories, each with its glibc-hwcaps subdirectories. */
int dg_ld_find(struct dg_fs *fs, struct dg_objdb *db, const char *name, uint16_t machine, int bits,
	       char **path, const char **via)
{
	struct dg_objdb *own = db ? NULL : dg_objdb_new(fs, NULL);
	struct ctx c = {.fs = fs, .db = db ? db : own, .machine = machine, .bits = bits};
	struct dg_ldobj o = {0};
	const char *how = NULL;
	if (strchr(name, '/')) {
		if (try_file(&c, name, &o))
			how = "path";
	} else {
		const struct dg_ldcache *cache = dg_objdb_ldcache(c.db);
		const char *p = cache ? dg_ldcache_lookup(cache, name, machine, bits) : NULL;
		if (p && try_file(&c, p, &o))
			how = "ld.so.cache";
		else if (try_dirs(&c, system_dirs(machine, bits), "/", name, &o))
			how = "default";
	}
	dg_objdb_free(own);
	*path = how ? o.path : NULL;
	if (via)
		*via = how;
	return how ? 1 : 0;
}
