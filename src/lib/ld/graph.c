/* Builds the dependency graph (graph.h). Every executable's load set is
 * computed with the loader emulation, so a library's edges are exactly what
 * the loader resolves in the context of the programs that use it; libraries
 * no program loads (plugins, leftovers) are resolved on their own. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dockergate/graph.h"
#include "dockergate/map.h"
#include "dockergate/util.h"

struct builder {
	struct dg_objdb *db;
	struct dg_fs *fs;
	const struct dg_graph_opts *o;
	struct dg_graph *g;
	struct dg_map by_inode; /* inode address → node */
	struct dg_map missing;  /* requested name → missing node */
	struct dg_map edges;    /* (from, to, kind, name) → edge */
	struct dg_map problems; /* message → index in problems */
	unsigned char *done;   /* per node: its own load set has been computed */
	size_t done_cap;
};

const char *dg_gnode_kind_name(enum dg_gnode_kind k)
{
	switch (k) {
	case DG_GN_EXECUTABLE: return "executable";
	case DG_GN_LIBRARY: return "library";
	case DG_GN_LOADER: return "loader";
	case DG_GN_MISSING: return "missing";
	case DG_GN_OTHER: break;
	}
	return "other";
}

static size_t new_node(struct builder *b, enum dg_gnode_kind kind, const char *path)
{
	struct dg_graph *g = b->g;
	g->nodes = dg_xreallocarray(g->nodes, g->n + 1, sizeof *g->nodes);
	struct dg_gnode *gn = &g->nodes[g->n];
	memset(gn, 0, sizeof *gn);
	gn->kind = kind;
	gn->path = dg_xstrdup(path);
	if (g->n >= b->done_cap) {
		size_t nc = b->done_cap ? 2 * b->done_cap : 256;
		b->done = dg_xrealloc(b->done, nc);
		memset(b->done + b->done_cap, 0, nc - b->done_cap);
		b->done_cap = nc;
	}
	return g->n++;
}

static enum dg_gnode_kind kind_of(const struct dg_dyninfo *d)
{
	if (d->error)
		return DG_GN_OTHER;
	switch (d->role) {
	case DG_ROLE_EXECUTABLE: return DG_GN_EXECUTABLE;
	case DG_ROLE_LIBRARY: return DG_GN_LIBRARY;
	case DG_ROLE_LOADER: return DG_GN_LOADER;
	case DG_ROLE_OTHER: break;
	}
	return DG_GN_OTHER;
}

static void problem(struct builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct builder *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *m = NULL;
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	va_end(ap);
	if (!m)
		abort(); /* out of memory, as dg_x* */
	if (dg_map_add(&b->problems, m, strlen(m), b->g->problems.n) == b->g->problems.n)
		dg_strv_push(&b->g->problems, m);
	free(m);
}

/* The node of a file (hardlinks share one), created on first sight. */
static size_t file_node(struct builder *b, const struct dg_node *n, const char *path)
{
	size_t i = dg_map_get(&b->by_inode, &n->inode, sizeof n->inode);
	if (i != SIZE_MAX) {
		struct dg_gnode *gn = &b->g->nodes[i];
		if (path && strcmp(gn->path, path)) {
			int seen = 0;
			for (size_t k = 0; k < gn->aliases.n && !seen; k++)
				seen = !strcmp(gn->aliases.v[k], path);
			if (!seen)
				dg_strv_push(&gn->aliases, path);
		}
		return i;
	}
	const struct dg_dyninfo *d = dg_objdb_dyn(b->db, n);
	dg_autofree char *canon = dg_node_path(n);
	i = new_node(b, d ? kind_of(d) : DG_GN_OTHER, canon);
	b->g->nodes[i].node = n;
	b->g->nodes[i].dyn = d;
	dg_map_put(&b->by_inode, &n->inode, sizeof n->inode, i);
	if (d && d->error)
		problem(b, "%s: malformed ELF file: %s", canon, d->error);
	return i;
}

static size_t missing_node(struct builder *b, const char *name)
{
	size_t i = dg_map_get(&b->missing, name, strlen(name));
	if (i != SIZE_MAX)
		return i;
	i = new_node(b, DG_GN_MISSING, name);
	dg_map_put(&b->missing, name, strlen(name), i);
	return i;
}

static void add_edge(struct builder *b, size_t from, size_t to, enum dg_gedge_kind kind, const char *name,
		     const char *via)
{
	struct dg_graph *g = b->g;
	dg_autofree char *key = dg_xasprintf("%zu %zu %d %s", from, to, (int)kind, name);
	if (dg_map_add(&b->edges, key, strlen(key), g->ne) != g->ne)
		return; /* that edge is there already */
	g->edges = dg_xreallocarray(g->edges, g->ne + 1, sizeof *g->edges);
	struct dg_gedge *e = &g->edges[g->ne++];
	e->from = from;
	e->to = to;
	e->kind = kind;
	e->name = dg_xstrdup(name);
	e->via = via;
	g->nodes[from].out++;
	g->nodes[to].in++;
}

/* Adds the edges of one load set: every object's DT_NEEDED entries as the
 * loader resolved them in this context, and the executable's interpreter. */
static void add_set(struct builder *b, const struct dg_ldset *s)
{
	size_t *gid = dg_xcalloc(s->n, sizeof *gid);
	for (size_t i = 0; i < s->n; i++) {
		const struct dg_ldobj *o = &s->objs[i];
		gid[i] = o->node && o->dyn ? file_node(b, o->node, o->path) : missing_node(b, o->name);
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct dg_ldobj *o = &s->objs[i];
		if (!o->dyn)
			continue;
		b->done[gid[i]] = 1;
		for (size_t k = 0; k < o->ndeps; k++) {
			size_t t = o->deps[k];
			const char *via = t != SIZE_MAX ? s->objs[t].via : NULL;
			size_t to = t != SIZE_MAX ? gid[t] : missing_node(b, o->dyn->needed.v[k]);
			if (t != SIZE_MAX && !s->objs[t].dyn) {
				problem(b, "%s: %s: not found (needed by %s)", s->objs[0].path, s->objs[t].name,
					o->path);
				via = NULL;
			}
			add_edge(b, gid[i], to, DG_GE_NEEDED, o->dyn->needed.v[k], via);
		}
	}
	const struct dg_ldobj *x = &s->objs[0];
	if (x->dyn && x->dyn->interp) {
		size_t r = SIZE_MAX;
		for (size_t i = 1; i < s->n; i++)
			if (s->objs[i].via && !strcmp(s->objs[i].via, "interp"))
				r = i;
		if (r == SIZE_MAX) {
			problem(b, "%s: interpreter %s: not found", x->path, x->dyn->interp);
			add_edge(b, gid[0], missing_node(b, x->dyn->interp), DG_GE_INTERP, x->dyn->interp, NULL);
		} else {
			add_edge(b, gid[0], gid[r], DG_GE_INTERP, x->dyn->interp, "interp");
			/* whatever a program names as its interpreter is a loader, also
			 * musl's, which is its libc and has no SONAME to tell */
			b->g->nodes[gid[r]].kind = DG_GN_LOADER;
		}
	}
	free(gid);
}

static void analyse(struct builder *b, const char *path)
{
	struct dg_ldopts lo = {.ld_library_path = b->o->ld_library_path, .db = b->db};
	struct dg_ldset *s;
	struct dg_error e = DG_ERROR_INIT;
	if (dg_ld_closure(b->fs, path, &lo, &s, &e) < 0) {
		problem(b, "%s", e.msg);
		return;
	}
	add_set(b, s);
	dg_ldset_free(s);
}

static int collect_cb(struct dg_node *n, void *ud)
{
	if (n->type != DG_F_REG || !n->inode || n->inode->kind != DG_CONTENT_ELF)
		return 0;
	dg_autofree char *p = dg_node_path(n);
	file_node(ud, n, p);
	return 0;
}

static int needs_own_set(const struct dg_gnode *gn)
{
	const struct dg_dyninfo *d = gn->dyn;
	return d && !d->error && (d->needed.n || d->interp);
}

int dg_graph_build(struct dg_objdb *db, const struct dg_graph_opts *o, struct dg_graph **out,
		   struct dg_error *err)
{
	struct builder b = {.db = db, .fs = dg_objdb_fs(db), .o = o};
	b.g = dg_xcalloc(1, sizeof *b.g);
	int rc = 0;
	if (o->roots.n) {
		for (size_t i = 0; i < o->roots.n; i++) {
			struct dg_node *n;
			if (dg_fs_resolve(b.fs, o->roots.v[i], NULL, 0, &n, err) < 0) {
				dg_err_prefix(err, "%s", o->roots.v[i]);
				rc = -1;
				goto out;
			}
			if (!dg_objdb_dyn(db, n)) {
				/* a script's interpreters are roots of their own (dg_entry_roots) */
				if (n->type == DG_F_REG && n->inode && n->inode->kind == DG_CONTENT_SCRIPT)
					continue;
				rc = dg_err(err, DG_E_INPUT, "%s: not an ELF file or script", o->roots.v[i]);
				goto out;
			}
			size_t id = file_node(&b, n, o->roots.v[i]);
			b.g->nodes[id].root = 1;
			if (needs_own_set(&b.g->nodes[id]))
				analyse(&b, o->roots.v[i]);
		}
	} else {
		dg_fs_walk(b.fs, collect_cb, &b);
		size_t nfiles = b.g->n;
		/* programs first: their load sets give libraries their real context */
		for (size_t i = 0; i < nfiles; i++) {
			struct dg_gnode *gn = &b.g->nodes[i];
			if (gn->kind == DG_GN_EXECUTABLE) {
				gn->root = 1;
				if (needs_own_set(gn))
					analyse(&b, gn->path);
			}
		}
		/* then what no program loads */
		for (size_t i = 0; i < nfiles; i++) {
			struct dg_gnode *gn = &b.g->nodes[i];
			if (gn->kind != DG_GN_EXECUTABLE && !b.done[i] && needs_own_set(gn) && !gn->in)
				analyse(&b, gn->path);
		}
	}
out:
	dg_map_free(&b.by_inode);
	dg_map_free(&b.missing);
	dg_map_free(&b.edges);
	dg_map_free(&b.problems);
	free(b.done);
	if (rc < 0) {
		dg_graph_free(b.g);
		return -1;
	}
	*out = b.g;
	return 0;
}

void dg_graph_free(struct dg_graph *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n; i++) {
		free(g->nodes[i].path);
		dg_strv_free(&g->nodes[i].aliases);
	}
	for (size_t i = 0; i < g->ne; i++)
		free(g->edges[i].name);
	free(g->nodes);
	free(g->edges);
	dg_strv_free(&g->problems);
	free(g);
}
