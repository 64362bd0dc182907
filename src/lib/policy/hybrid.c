/* Static analysis against traces (hybrid.h). */
#include <stdlib.h>
#include <string.h>

#include "dockergate/entry.h"
#include "dockergate/hybrid.h"
#include "dockergate/map.h"
#include "dockergate/util.h"

#define MAX_SHEBANG 4 /* "#!" scripts run by "#!" scripts */

static void set_bit(uint8_t *bits, uint32_t n)
{
	if (n < DG_NSYSCALLS)
		bits[n / 8] |= (uint8_t)(1u << (n % 8));
}

void dg_hybrid_seen(struct dg_trace *const *tr, size_t ntr, uint8_t seen[2][DG_NSYSCALLS / 8])
{
	memset(seen, 0, 2 * (DG_NSYSCALLS / 8));
	for (size_t k = 0; k < ntr; k++)
		for (size_t e = 0; e < tr[k]->nexe; e++)
			for (int a = 0; a < DG_TRACE_NARCH; a++)
				for (size_t i = 0; i < tr[k]->exe[e].set[a].n; i++)
					set_bit(seen[a], tr[k]->exe[e].set[a].v[i].nr);
}

/* What identifies a file: its content's inode (hard links and symlinks to it share it; the
 * image scope analyses one path of each), or NULL when PATH is not a file of the image. */
static const void *file_of(struct dg_fs *fs, const char *path)
{
	struct dg_node *nd;
	struct dg_error e = DG_ERROR_INIT;
	if (dg_fs_resolve(fs, path, NULL, 0, &nd, &e) < 0 || !nd->inode)
		return NULL;
	return nd->inode;
}

/* The program target of RES that runs for an executable traced as PATH: through symlinks and
 * "#!" interpreters; SIZE_MAX with *WHY when there is none. */
static size_t program_of(struct dg_fs *fs, const struct dg_map *targets, const char *path, const char **why)
{
	if (!strncmp(path, "/proc/", 6)) {
		*why = "an executable named through /proc (a program re-executing itself): not mapped";
		return SIZE_MAX;
	}
	char *p = dg_xstrdup(path);
	for (int depth = 0; depth <= MAX_SHEBANG; depth++) {
		const void *f = file_of(fs, p);
		if (!f) {
			free(p);
			*why = "not in the image";
			return SIZE_MAX;
		}
		size_t t = dg_map_get(targets, &f, sizeof f);
		if (t != SIZE_MAX) {
			free(p);
			return t;
		}
		char *interp = NULL, *arg = NULL;
		if (!dg_entry_shebang(fs, p, &interp, &arg)) {
			free(p);
			*why = "not in the static result";
			return SIZE_MAX;
		}
		free(arg);
		free(p);
		p = interp;
	}
	free(p);
	*why = "\"#!\" scripts nested too deeply";
	return SIZE_MAX;
}

struct dg_hybrid *dg_hybrid_compare(struct dg_fs *fs, const struct dg_sc_result *res, struct dg_trace *const *tr,
				    size_t ntr)
{
	struct dg_hybrid *h = dg_xcalloc(1, sizeof *h);
	dg_hybrid_seen(tr, ntr, h->seen);
	const uint8_t *stat[2] = {res->native, res->i386};
	for (int a = 0; a < 2; a++)
		for (unsigned i = 0; i < DG_NSYSCALLS / 8; i++)
			h->unseen[a][i] = (uint8_t)(stat[a][i] & ~h->seen[a][i]);
	/* seen, not in the static union: with who made them, in number order */
	for (int a = 0; a < 2; a++)
		for (unsigned nr = 0; nr < DG_NSYSCALLS; nr++) {
			if (!dg_reach_has(h->seen[a], nr) || dg_reach_has(stat[a], nr))
				continue;
			h->missing = dg_xreallocarray(h->missing, h->nmissing + 1, sizeof *h->missing);
			struct dg_hybrid_missing *m = &h->missing[h->nmissing++];
			memset(m, 0, sizeof *m);
			m->nr = nr;
			m->i386 = a;
			for (size_t k = 0; k < ntr; k++)
				for (size_t e = 0; e < tr[k]->nexe; e++) {
					uint64_t c = dg_trace_count(&tr[k]->exe[e].set[a], nr);
					if (!c)
						continue;
					m->count += c;
					if (!dg_strv_has(&m->exes, tr[k]->exe[e].path))
						dg_strv_push(&m->exes, tr[k]->exe[e].path);
				}
		}
	/* each traced executable against its own program's static set */
	struct dg_map targets = {0};
	for (size_t i = 0; i < res->n; i++) {
		if (res->t[i].library || !res->t[i].reach)
			continue;
		const void *f = file_of(fs, res->t[i].path);
		if (f && dg_map_get(&targets, &f, sizeof f) == SIZE_MAX)
			dg_map_put(&targets, &f, sizeof f, i);
	}
	struct dg_map done = {0};
	for (size_t k = 0; k < ntr; k++)
		for (size_t e = 0; e < tr[k]->nexe; e++) {
			const struct dg_trace_exe *x = &tr[k]->exe[e];
			size_t at = dg_map_get(&done, x->path, strlen(x->path));
			if (at == SIZE_MAX) {
				at = h->nexes;
				h->exes = dg_xreallocarray(h->exes, h->nexes + 1, sizeof *h->exes);
				struct dg_hybrid_exe *he = &h->exes[h->nexes++];
				memset(he, 0, sizeof *he);
				he->path = dg_xstrdup(x->path);
				size_t t = program_of(fs, &targets, x->path, &he->why);
				he->target = t;
				if (t != SIZE_MAX) {
					he->program = dg_xstrdup(res->t[t].path);
					he->why = NULL;
				}
				dg_map_put(&done, x->path, strlen(x->path), at);
			}
			struct dg_hybrid_exe *he = &h->exes[at];
			if (he->target == SIZE_MAX)
				continue;
			const struct dg_sc_target *t = &res->t[he->target];
			const uint8_t *own[2] = {t->reach->native, t->reach->i386};
			for (int a = 0; a < DG_TRACE_NARCH; a++)
				for (size_t i = 0; i < x->set[a].n; i++) {
					const struct dg_trace_call *c = &x->set[a].v[i];
					if (dg_reach_has(own[a], c->nr))
						continue;
					char *nm = c->name ? dg_xasprintf("%s%s", a ? "i386:" : "", c->name)
							   : dg_xasprintf("%s%u", a ? "i386:" : "", c->nr);
					if (!dg_strv_has(&he->beyond, nm))
						dg_strv_push(&he->beyond, nm);
					free(nm);
				}
		}
	dg_map_free(&done);
	dg_map_free(&targets);
	return h;
}

void dg_hybrid_free(struct dg_hybrid *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->nmissing; i++)
		dg_strv_free(&h->missing[i].exes);
	for (size_t i = 0; i < h->nexes; i++) {
		free(h->exes[i].path);
		free(h->exes[i].program);
		dg_strv_free(&h->exes[i].beyond);
	}
	free(h->missing);
	free(h->exes);
	free(h);
}
