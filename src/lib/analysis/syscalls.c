/* The syscalls of an image (syscalls.h). */
#include <pthread.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>

#include "dockergate/bind.h"
#include "dockergate/cache.h"
#include "dockergate/fnsum.h"
#include "dockergate/graph.h"
#include "dockergate/syscalls.h"
#include "dockergate/map.h"
#include "dockergate/util.h"
#include "analysis/isa.h"

static char *names[2][DG_NSYSCALLS];
static int names_done;

static void load_names(void)
{
	if (names_done)
		return;
	names_done = 1;
	const uint32_t arch[2] = {SCMP_ARCH_X86_64, SCMP_ARCH_X86};
	for (int t = 0; t < 2; t++)
		for (int n = 0; n < DG_NSYSCALLS; n++)
			names[t][n] = seccomp_syscall_resolve_num_arch(arch[t], n);
}

const char *dg_syscall_name(unsigned nr, int i386)
{
	load_names();
	return nr < DG_NSYSCALLS ? names[i386 ? 1 : 0][nr] : NULL;
}

int dg_syscall_number(const char *name, int i386)
{
	load_names();
	for (int n = 0; n < DG_NSYSCALLS; n++)
		if (names[i386 ? 1 : 0][n] && !strcmp(names[i386 ? 1 : 0][n], name))
			return n;
	return -1;
}

static void add_target(struct dg_sc_result *r, size_t *cap, const char *path, int library)
{
	if (r->n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		r->t = dg_xreallocarray(r->t, *cap, sizeof *r->t);
	}
	struct dg_sc_target *t = &r->t[r->n++];
	memset(t, 0, sizeof *t);
	t->path = dg_xstrdup(path);
	t->library = library;
}

static void merge(uint8_t *dst, const uint8_t *src)
{
	for (size_t i = 0; i < DG_NSYSCALLS / 8; i++)
		dst[i] |= src[i];
}

static double now_s(void);

/* The digest of everything a program's result depends on: the analysis versions, the
 * options, and its load set as the loader found it (order, names, paths, how each was
 * found, what needed it, each file's content). Binding and reachability are functions of
 * these alone. */
static void result_key(const struct dg_sc_target *t, const struct dg_sc_opts *o, unsigned char key[32])
{
	struct dg_sha256 h;
	char hdr[128];
	int n = snprintf(hdr, sizeof hdr, "dockergate-reach %u %u %u %u %d %d %zu", DG_REACH_VERSION,
			 DG_FNSUM_VERSION, DG_DYNINFO_VERSION, (unsigned)o->precision, t->library, t->set->musl,
			 t->set->n);
	dg_sha256_init(&h);
	dg_sha256_update(&h, hdr, (size_t)n + 1);
	static const unsigned char none[32];
	for (size_t i = 0; i < t->set->n; i++) {
		const struct dg_ldobj *ob = &t->set->objs[i];
		const char *f[3] = {ob->name, ob->path, ob->via};
		for (int k = 0; k < 3; k++) {
			dg_sha256_update(&h, f[k] ? "s" : "-", 1);
			if (f[k])
				dg_sha256_update(&h, f[k], strlen(f[k]) + 1);
		}
		unsigned char nb[8];
		for (int k = 0; k < 8; k++)
			nb[k] = (unsigned char)((uint64_t)ob->needed_by >> (8 * k));
		dg_sha256_update(&h, nb, sizeof nb);
		dg_sha256_update(&h, ob->node && ob->node->inode ? ob->node->inode->sha256 : none, 32);
	}
	dg_sha256_final(&h, key);
	dg_sha256_free(&h);
}

static void analyse_one(struct dg_objdb *db, const struct dg_sc_opts *o, struct dg_sc_target *t, double *tb, double *tr)
{
	struct dg_error e = DG_ERROR_INIT;
	struct dg_bindings *b = NULL;
	double a0 = now_s();
	int brc = dg_bind_db(db, t->set, &b, &e);
	*tb += now_s() - a0;
	a0 = now_s();
	if (brc < 0) {
		dg_strv_push(&t->problems, e.msg);
		return;
	}
	t->sums = dg_xcalloc(t->set->n ? t->set->n : 1, sizeof *t->sums);
	for (size_t i = 0; i < t->set->n; i++) {
		const struct dg_ldobj *lo = &t->set->objs[i];
		if (!lo->node) {
			char *m = dg_xasprintf("%s: not found (needed by %s)", lo->name, t->set->objs[lo->needed_by].name);
			dg_strv_push(&t->problems, m);
			free(m);
			continue;
		}
		t->sums[i] = dg_objdb_fsum(db, lo->node);
		if (t->sums[i] && t->sums[i]->error) {
			char *m = dg_xasprintf("%s: not analysed: %s", lo->path, t->sums[i]->error);
			dg_strv_push(&t->problems, m);
			free(m);
		} else if (t->sums[i] && t->sums[i]->bits == 32) {
			char *m = dg_xasprintf("%s: 32-bit x86 code: its syscalls use the i386 table", lo->path);
			dg_strv_push(&t->problems, m);
			free(m);
		}
	}
	struct dg_reach_opts ro = {.precision = o->precision, .roots = t->library ? DG_ROOTS_EXPORTS : DG_ROOTS_PROGRAM};
	if (dg_reach_compute(t->set, b, t->sums, &ro, &t->reach, &e) < 0)
		dg_strv_push(&t->problems, e.msg);
	t->calls_dlopen = t->reach && t->reach->calls_dlopen;
	t->calls_exec = t->reach && t->reach->calls_exec;
	dg_bindings_free(b);
	*tr += now_s() - a0;
}

struct pool {
	struct dg_objdb *db;
	const struct dg_sc_opts *o;
	struct dg_sc_result *r;
	size_t next;
	double tb, tr;
	pthread_mutex_t mu;
	pthread_t main; /* the calling thread: the only one that reports progress */
};

static void *worker(void *arg)
{
	struct pool *pl = arg;
	double tb = 0, tr = 0;
	const struct dg_progress *pg = dg_objdb_progress(pl->db);
	int reporter = pthread_equal(pthread_self(), pl->main);
	for (;;) {
		pthread_mutex_lock(&pl->mu);
		size_t i = pl->next < pl->r->n ? pl->next++ : SIZE_MAX;
		size_t done = pl->next;
		pthread_mutex_unlock(&pl->mu);
		if (reporter && pg->fn)
			pg->fn(pg->ud, "analysing programs", done > 0 ? done - 1 : 0, pl->r->n);
		if (i == SIZE_MAX)
			break;
		if (pl->r->t[i].set && !pl->r->t[i].cached)
			analyse_one(pl->db, pl->o, &pl->r->t[i], &tb, &tr);
	}
	pthread_mutex_lock(&pl->mu);
	pl->tb += tb;
	pl->tr += tr;
	pthread_mutex_unlock(&pl->mu);
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_unanalysed(const void *x, const void *y)
{
	const struct dg_sc_unanalysed *a = x, *b = y;
	return strcmp(a->path, b->path);
}

void dg_sc_totals(struct dg_sc_result *r)
{
	memset(r->native, 0, sizeof r->native);
	memset(r->i386, 0, sizeof r->i386);
	r->has_i386 = 0;
	r->nunknown = r->ndistinct_unknown = 0;
	struct dg_map distinct = {0};
	for (size_t i = 0; i < r->n; i++) {
		struct dg_sc_target *t = &r->t[i];
		if (!t->reach)
			continue;
		merge(r->native, t->reach->native);
		merge(r->i386, t->reach->i386);
		r->has_i386 |= t->reach->has_i386;
		r->nunknown += t->reach->nunknown;
		for (size_t k = 0; k < t->reach->nunknown; k++) {
			const struct dg_reach_unknown *u = &t->reach->unknown[k];
			struct {
				const struct dg_node *n;
				uint64_t addr;
			} key = {t->set->objs[u->obj].node, u->addr};
			if (dg_map_get(&distinct, &key, sizeof key) == SIZE_MAX) {
				dg_map_put(&distinct, &key, sizeof key, 1);
				r->ndistinct_unknown++;
			}
		}
	}
	dg_map_free(&distinct);
	free(r->unanalysed);
	r->unanalysed = NULL;
	r->nunanalysed = 0;
	struct dg_map files = {0};
	for (size_t i = 0; i < r->n; i++)
		for (size_t k = 0; k < r->t[i].nunanalysed; k++) {
			const struct dg_sc_unanalysed *u = &r->t[i].unanalysed[k];
			if (dg_map_add(&files, u->path, strlen(u->path), r->nunanalysed) != r->nunanalysed)
				continue;
			r->unanalysed = dg_xreallocarray(r->unanalysed, r->nunanalysed + 1, sizeof *r->unanalysed);
			r->unanalysed[r->nunanalysed++] = *u;
		}
	dg_map_free(&files);
	if (r->nunanalysed > 1)
		qsort(r->unanalysed, r->nunanalysed, sizeof *r->unanalysed, cmp_unanalysed);
}

void dg_sc_absorb(struct dg_sc_result *dst, struct dg_sc_result *src)
{
	dst->t = dg_xreallocarray(dst->t, dst->n + src->n ? dst->n + src->n : 1, sizeof *dst->t);
	memcpy(dst->t + dst->n, src->t, src->n * sizeof *src->t);
	dst->n += src->n;
	free(src->t);
	src->t = NULL;
	src->n = 0;
	dg_sc_result_free(src);
	dg_sc_totals(dst);
}

const char *dg_sc_backend(uint16_t machine, int bits)
{
	const struct dg_isa *isa = dg_isa_for(machine, bits);
	return isa ? isa->name : NULL;
}

/* The objects of T's load set no backend reads (from their dynamic info, so a result
 * from the cache has them too). */
static void find_unanalysed(struct dg_sc_target *t)
{
	for (size_t k = 0; t->set && k < t->set->n; k++) {
		const struct dg_ldobj *ob = &t->set->objs[k];
		if (!ob->dyn || !ob->path || dg_isa_for(ob->dyn->machine, ob->dyn->bits))
			continue;
		t->unanalysed = dg_xreallocarray(t->unanalysed, t->nunanalysed + 1, sizeof *t->unanalysed);
		t->unanalysed[t->nunanalysed++] = (struct dg_sc_unanalysed){ob->path, ob->dyn->machine, ob->dyn->bits,
										    ob->dyn->cls.big_endian};
	}
}

int dg_sc_analyse(struct dg_objdb *db, const struct dg_sc_opts *o, struct dg_sc_result **out, struct dg_error *err)
{
	double t0 = now_s(), t1 = 0, t2 = 0, tb = 0, tr = 0;
	struct dg_fs *fs = dg_objdb_fs(db);
	struct dg_sc_result *r = dg_xcalloc(1, sizeof *r);
	size_t cap = 0;
	struct dg_graph *g = NULL;
	if (o->paths.n) {
		for (size_t i = 0; i < o->paths.n; i++) {
			struct dg_node *n;
			if (dg_fs_resolve(fs, o->paths.v[i], NULL, 0, &n, err) < 0) {
				int e = err->sys_errno;
				dg_sc_result_free(r);
				/* a path the image does not have is the caller's input, as for `resolve` */
				return dg_err(err, DG_E_INPUT, "%s: %s", o->paths.v[i],
					      e ? strerror(e) : "cannot be resolved in the image");
			}
			const struct dg_dyninfo *d = dg_objdb_dyn(db, n);
			if (!d) {
				dg_sc_result_free(r);
				return dg_err(err, DG_E_INPUT, "%s: not an ELF file", o->paths.v[i]);
			}
			add_target(r, &cap, o->paths.v[i], d->role == DG_ROLE_LIBRARY);
		}
	} else {
		struct dg_graph_opts go = {.ld_library_path = o->ld_library_path};
		if (dg_graph_build(db, &go, &g, err) < 0) {
			dg_sc_result_free(r);
			return -1;
		}
		for (size_t i = 0; i < g->n; i++)
			if (g->nodes[i].kind == DG_GN_EXECUTABLE)
				add_target(r, &cap, g->nodes[i].path, 0);
		for (size_t i = 0; i < g->n; i++)
			if (g->nodes[i].kind == DG_GN_LIBRARY && !g->nodes[i].in)
				add_target(r, &cap, g->nodes[i].path, 1);
		dg_graph_free(g);
	}
	/* load sets first, then every object's summary at once (in parallel) */
	struct dg_ldopts lo = {.ld_library_path = o->ld_library_path, .db = db};
	const struct dg_node **nodes = NULL;
	size_t nn = 0, cn = 0;
	struct dg_map seen = {0};
	struct dg_cache *cache = dg_objdb_cache(db);
	for (size_t i = 0; i < r->n; i++) {
		struct dg_sc_target *t = &r->t[i];
		struct dg_error e = DG_ERROR_INIT;
		if (dg_ld_closure(fs, t->path, &lo, &t->set, &e) < 0) {
			dg_strv_push(&t->problems, e.msg);
			continue;
		}
		/* a program analysed before with exactly these inputs: its result is cached */
		result_key(t, o, t->key);
		void *data;
		size_t len;
		if (cache && dg_cache_get(cache, t->key, DG_REACH_KIND, DG_REACH_VERSION, &data, &len, &e) == 1) {
			int rc = dg_reach_decode(data, len, t->set->n, &t->reach, &t->problems, &e);
			free(data);
			if (rc == 0) {
				t->cached = 1;
				t->calls_dlopen = t->reach->calls_dlopen;
				t->calls_exec = t->reach->calls_exec;
				continue;
			}
		}
		for (size_t k = 0; k < t->set->n; k++) {
			const struct dg_node *nd = t->set->objs[k].node;
			if (!nd || dg_map_get(&seen, &nd, sizeof nd) != SIZE_MAX)
				continue;
			dg_map_put(&seen, &nd, sizeof nd, nn);
			if (nn == cn) {
				cn = cn ? cn * 2 : 256;
				nodes = dg_xreallocarray(nodes, cn, sizeof *nodes);
			}
			nodes[nn++] = nd;
		}
	}
	dg_map_free(&seen);
	t1 = now_s();
	dg_objdb_fsum_prepare(db, nodes, nn);
	free(nodes);
	t2 = now_s();
	/* Everything the programs share is made ready here, so the per-program work below
	 * only reads it and runs on several threads: libraries' ELF models, their own
	 * closures (reach.h), the content mapping, libseccomp's names. */
	load_names();
	for (size_t i = 0; i < r->n; i++) {
		const struct dg_ldset *set = r->t[i].cached ? NULL : r->t[i].set;
		for (size_t k = 0; set && k < set->n; k++) {
			const struct dg_ldobj *ob = &set->objs[k];
			struct dg_error e = DG_ERROR_INIT;
			const unsigned char *cp;
			size_t cl;
			if (!ob->node || dg_fs_content(fs, ob->node, &cp, &cl, &e) < 0)
				continue;
			if (k && ob->dyn && ob->dyn->role != DG_ROLE_EXECUTABLE)
				(void)dg_objdb_elf(db, ob->node, &e);
			const struct dg_fsum *fs2 = dg_objdb_fsum(db, ob->node);
			if (fs2)
				dg_reach_prepare(fs2);
		}
	}
	struct pool pl = {.db = db, .o = o, .r = r, .main = pthread_self()};
	pthread_mutex_init(&pl.mu, NULL);
	int nt = dg_objdb_threads(db);
	pthread_t th[64];
	int started = 0;
	for (int k = 1; k < nt && k < 64 && (size_t)k < r->n; k++)
		if (pthread_create(&th[started], NULL, worker, &pl) == 0)
			started++;
	worker(&pl);
	for (int k = 0; k < started; k++)
		pthread_join(th[k], NULL);
	pthread_mutex_destroy(&pl.mu);
	tb = pl.tb;
	tr = pl.tr;
	for (size_t i = 0; i < r->n; i++) {
		struct dg_sc_target *t = &r->t[i];
		if (t->reach && !t->cached && cache) {
			unsigned char *buf;
			size_t len;
			struct dg_error e = DG_ERROR_INIT;
			dg_reach_encode(t->reach, &t->problems, &buf, &len);
			(void)dg_cache_put(cache, t->key, DG_REACH_KIND, DG_REACH_VERSION, buf, len, &e);
			free(buf);
		}
	}
	for (size_t i = 0; i < r->n; i++)
		find_unanalysed(&r->t[i]);
	dg_sc_totals(r);
	if (getenv("DG_TIMING"))
		fprintf(stderr, "timing: targets+load sets %.2fs, summaries %.2fs, bind+reach %.2fs (bind %.2f reach %.2f)\n", t1 - t0, t2 - t1, now_s() - t2, tb, tr);
	*out = r;
	return 0;
}

void dg_sc_result_free(struct dg_sc_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		struct dg_sc_target *t = &r->t[i];
		free(t->path);
		dg_ldset_free(t->set);
		free(t->sums);
		dg_reach_free(t->reach);
		dg_strv_free(&t->problems);
		free(t->unanalysed);
	}
	free(r->t);
	free(r->unanalysed);
	free(r);
}

int dg_sc_explain(struct dg_objdb *db, const struct dg_sc_opts *o, const struct dg_sc_target *t, unsigned nr, int i386,
		  struct dg_reach **out, struct dg_error *err)
{
	if (!t->set)
		return dg_err(err, DG_E_INPUT, "%s: no load set", t->path);
	const struct dg_node **nodes = dg_xcalloc(t->set->n ? t->set->n : 1, sizeof *nodes);
	const struct dg_fsum **sums = dg_xcalloc(t->set->n ? t->set->n : 1, sizeof *sums);
	for (size_t i = 0; i < t->set->n; i++)
		nodes[i] = t->set->objs[i].node;
	dg_objdb_fsum_prepare(db, nodes, t->set->n);
	for (size_t i = 0; i < t->set->n; i++)
		sums[i] = nodes[i] ? dg_objdb_fsum(db, nodes[i]) : NULL;
	free(nodes);
	struct dg_bindings *b = NULL;
	int rc = dg_bind_db(db, t->set, &b, err);
	if (rc == 0) {
		struct dg_reach_opts ro = {.precision = o->precision,
					   .roots = t->library ? DG_ROOTS_EXPORTS : DG_ROOTS_PROGRAM,
					   .explain = 1,
					   .explain_i386 = i386,
					   .explain_nr = nr};
		rc = dg_reach_compute(t->set, b, sums, &ro, out, err);
	}
	dg_bindings_free(b);
	free(sums);
	return rc;
}
