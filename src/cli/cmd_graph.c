/* dockergate graph IMAGE: the executable → library graph of the seed, as DOT
 * (executables blue, libraries white) or JSON, with filters that keep large
 * images readable. */
#include <fnmatch.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "dockergate/entry.h"
#include "dockergate/graph.h"
#include "dockergate/scope.h"
#include "dockergate/map.h"
#include "dockergate/util.h"

static const char help[] =
	"usage: dockergate graph IMAGE [OPTIONS]\n\n"
	"Every ELF file of the image as a node (executables blue, libraries white, the dynamic\n"
	"loader with a double border, unresolved libraries red and dashed) and what the dynamic\n"
	"loader resolves for each DT_NEEDED entry and PT_INTERP as edges, found inside the image\n"
	"with glibc's rules (see 'dockergate ldd'). Libraries are resolved in the context of the\n"
	"programs that load them; libraries no program loads are resolved on their own.\n"
	"Problems (unresolved libraries, malformed ELF files) are printed on stderr as warnings\n"
	"and listed in the JSON output; they do not change the exit status.\n\n"
	"Options:\n"
	"  --format dot|json   output format (default dot; --json is --format json)\n"
	"  --from PATH         only what PATH loads (repeatable; executables or libraries)\n"
	"  --entrypoint        only what the image's Entrypoint/Cmd loads (with #! interpreters)\n"
	"  --scope entrypoint  the closure of `syscalls --scope entrypoint`: its programs and\n"
	"                      modules with what they load, plus scripts (red) and the edges\n"
	"                      that make each part of it: \"#!\" (interpreter), runs (a script's\n"
	"                      or a wrapper's command, bold red), sources, dlopen (dashed)\n"
	"  --group dir         one node per directory of executables (\"/usr/bin/* (212)\")\n"
	"  --exclude GLOB      leave out files whose path matches GLOB (fnmatch, repeatable)\n"
	"  --full-paths        DOT labels show whole paths (default: file names, whole paths\n"
	"                      where two shown files share a name; tooltips always have paths)\n" CLI_IMAGE_OPTS_HELP;

struct vnode {
	size_t first; /* graph node it stands for (the first member of a group) */
	size_t count; /* members */
	char *label;
};

struct view {
	const struct dg_graph *g;
	size_t *vid; /* graph node → view node or SIZE_MAX */
	struct vnode *v;
	size_t n;
	size_t *efrom, *eto, *ecount, ne; /* deduplicated view edges */
	const struct dg_gedge **ewhich;
};

static int excluded(const struct dg_gnode *gn, const struct dg_strv *ex)
{
	for (size_t k = 0; k < ex->n; k++) {
		if (!fnmatch(ex->v[k], gn->path, 0))
			return 1;
		for (size_t a = 0; a < gn->aliases.n; a++)
			if (!fnmatch(ex->v[k], gn->aliases.v[a], 0))
				return 1;
	}
	return 0;
}

static void push_edge(struct view *w, size_t a, size_t b, const struct dg_gedge *e)
{
	w->efrom = dg_xreallocarray(w->efrom, w->ne + 1, sizeof *w->efrom);
	w->eto = dg_xreallocarray(w->eto, w->ne + 1, sizeof *w->eto);
	w->ecount = dg_xreallocarray(w->ecount, w->ne + 1, sizeof *w->ecount);
	w->ewhich = dg_xreallocarray(w->ewhich, w->ne + 1, sizeof *w->ewhich);
	w->efrom[w->ne] = a;
	w->eto[w->ne] = b;
	w->ecount[w->ne] = 1;
	w->ewhich[w->ne] = e;
	w->ne++;
}

static void build_view(struct view *w, const struct dg_graph *g, const struct dg_strv *ex, int group_dir)
{
	memset(w, 0, sizeof *w);
	w->g = g;
	w->vid = dg_xcalloc(g->n ? g->n : 1, sizeof *w->vid);
	w->v = dg_xcalloc(g->n ? g->n : 1, sizeof *w->v);
	struct dg_map groups = {0}, edges = {0}; /* directory → view node; (from, to) → view edge */
	for (size_t i = 0; i < g->n; i++) {
		const struct dg_gnode *gn = &g->nodes[i];
		w->vid[i] = SIZE_MAX;
		if (excluded(gn, ex))
			continue;
		dg_autofree char *dir = NULL;
		if (group_dir && gn->kind == DG_GN_EXECUTABLE) {
			const char *sl = strrchr(gn->path, '/');
			dir = dg_xstrndup(gn->path, sl ? (size_t)(sl - gn->path) : 0);
			size_t k = dg_map_add(&groups, dir, strlen(dir), w->n);
			if (k != w->n) {
				w->vid[i] = k;
				w->v[k].count++;
				continue;
			}
		}
		w->vid[i] = w->n;
		w->v[w->n].first = i;
		w->v[w->n].count = 1;
		w->v[w->n].label = dir ? dg_xasprintf("%s/*", dir) : NULL;
		w->n++;
	}
	for (size_t i = 0; i < g->ne; i++) {
		const struct dg_gedge *e = &g->edges[i];
		size_t ab[2] = {w->vid[e->from], w->vid[e->to]};
		if (ab[0] == SIZE_MAX || ab[1] == SIZE_MAX)
			continue;
		size_t k = dg_map_add(&edges, ab, sizeof ab, w->ne);
		if (k == w->ne)
			push_edge(w, ab[0], ab[1], e);
		else
			w->ecount[k]++;
	}
	dg_map_free(&groups);
	dg_map_free(&edges);
}

static void free_view(struct view *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i].label);
	free(w->v);
	free(w->vid);
	free(w->efrom);
	free(w->eto);
	free(w->ecount);
	free(w->ewhich);
}

/* A DOT double-quoted string: bytes shown escaped, then \ and " escaped for DOT. */
static void dot_str(FILE *f, const char *s)
{
	struct dg_buf b = {0};
	dg_buf_put_escaped(&b, s);
	fputc('"', f);
	for (size_t i = 0; i < b.len; i++) {
		if (b.data[i] == '\\' || b.data[i] == '"')
			fputc('\\', f);
		fputc(b.data[i], f);
	}
	fputc('"', f);
	dg_buf_free(&b);
}

/* The name shown for a file: its basename, unless another shown file has
 * the same one (then the whole path); --full-paths always shows paths. */
static const char *short_name(const struct view *w, const char *path, int full)
{
	const char *b = strrchr(path, '/');
	if (full || !b || !b[1])
		return path;
	b++;
	for (size_t i = 0; i < w->n; i++) {
		const char *o = w->g->nodes[w->v[i].first].path, *ob = strrchr(o, '/');
		if (!w->v[i].label && o != path && !strcmp(ob ? ob + 1 : o, b))
			return path;
	}
	return b;
}

static void print_closure_dot(const struct view *w, const struct dg_scope *sc, struct dg_fs *fs);

static void print_dot(const struct view *w, const char *title, int full, const struct dg_scope *sc,
		      struct dg_fs *fs)
{
	printf("digraph dockergate {\n\tgraph [rankdir=LR, fontname=\"Helvetica\", label=");
	dot_str(stdout, title);
	printf("];\n\tnode [shape=box, style=filled, fontname=\"Helvetica\", fontsize=10];\n"
	       "\tedge [color=\"#555555\"];\n");
	for (size_t i = 0; i < w->n; i++) {
		const struct vnode *v = &w->v[i];
		const struct dg_gnode *gn = &w->g->nodes[v->first];
		printf("\tn%zu [label=", i);
		dg_autofree char *label = NULL;
		if (v->label)
			label = dg_xasprintf("%s (%zu executable%s)", v->label, v->count, v->count == 1 ? "" : "s");
		else if (gn->kind == DG_GN_MISSING)
			label = dg_xasprintf("%s (not found)", gn->path);
		else if (gn->dyn && gn->dyn->cls.type == DG_ELF_STATIC)
			label = dg_xasprintf("%s (static)", short_name(w, gn->path, full));
		else if (gn->dyn && gn->dyn->cls.type == DG_ELF_STATIC_PIE)
			label = dg_xasprintf("%s (static-pie)", short_name(w, gn->path, full));
		else
			label = dg_xstrdup(short_name(w, gn->path, full));
		dot_str(stdout, label);
		printf(", tooltip=");
		dot_str(stdout, v->label ? v->label : gn->path);
		switch (gn->kind) {
		case DG_GN_EXECUTABLE: printf(", fillcolor=\"#6fa8dc\""); break;
		case DG_GN_LIBRARY: printf(", fillcolor=\"white\""); break;
		case DG_GN_LOADER: printf(", fillcolor=\"white\", peripheries=2"); break;
		case DG_GN_MISSING: printf(", fillcolor=\"#f4cccc\", style=\"filled,dashed\", color=\"#cc0000\""); break;
		case DG_GN_OTHER: printf(", fillcolor=\"#eeeeee\""); break;
		}
		printf("];\n");
	}
	for (size_t i = 0; i < w->ne; i++) {
		printf("\tn%zu -> n%zu", w->efrom[i], w->eto[i]);
		if (w->ewhich[i]->kind == DG_GE_INTERP)
			printf(" [style=dotted]");
		else if (w->ecount[i] > 1)
			printf(" [penwidth=%.1f]", w->ecount[i] > 50 ? 3.0 : 1.0 + (double)w->ecount[i] / 25.0);
		printf(";\n");
	}
	if (sc)
		print_closure_dot(w, sc, fs);
	printf("}\n");
}

/* The view node of an item of the closure (programs and libraries), or SIZE_MAX. */
static size_t item_vnode(const struct view *w, struct dg_fs *fs, const char *path)
{
	struct dg_node *n;
	struct dg_error e = DG_ERROR_INIT;
	if (dg_fs_resolve(fs, path, NULL, 0, &n, &e) < 0)
		return SIZE_MAX;
	for (size_t i = 0; i < w->g->n; i++)
		if (w->g->nodes[i].node == n)
			return w->vid[i];
	return SIZE_MAX;
}

static void print_closure_dot(const struct view *w, const struct dg_scope *sc, struct dg_fs *fs)
{
	size_t *id = dg_xcalloc(sc->n ? sc->n : 1, sizeof *id);
	for (size_t i = 0; i < sc->n; i++) {
		const struct dg_scope_item *it = &sc->v[i];
		if (it->kind == DG_SI_SCRIPT) {
			id[i] = SIZE_MAX - 1; /* a script node of its own */
			printf("\ts%zu [label=", i);
			dot_str(stdout, it->path);
			printf(", tooltip=");
			dot_str(stdout, it->why);
			printf(", shape=note, fillcolor=\"#e06666\", fontcolor=\"white\"];\n");
		} else {
			id[i] = item_vnode(w, fs, it->path);
		}
	}
	for (size_t i = 0; i < sc->n; i++) {
		const struct dg_scope_item *it = &sc->v[i];
		size_t p = it->parent;
		if (p == SIZE_MAX || id[i] == SIZE_MAX || id[p] == SIZE_MAX)
			continue;
		const char *k = dg_scope_edge_kind(it);
		if (id[p] == SIZE_MAX - 1)
			printf("\ts%zu", p);
		else
			printf("\tn%zu", id[p]);
		if (id[i] == SIZE_MAX - 1)
			printf(" -> s%zu", i);
		else
			printf(" -> n%zu", id[i]);
		printf(" [label=\"%s\"%s];\n", k,
		       !strcmp(k, "dlopen")    ? ", style=dashed, color=\"#6aa84f\""
		       : !strcmp(k, "#!")     ? ", style=dotted"
		       : !strcmp(k, "sources") ? ", color=\"#e06666\""
		       : !strcmp(k, "exec")    ? ", color=\"#3d85c6\", penwidth=2"
					      : ", color=\"#cc0000\", penwidth=2");
	}
	free(id);
}

static json_t *node_json(const struct view *w, size_t i)
{
	const struct vnode *v = &w->v[i];
	const struct dg_gnode *gn = &w->g->nodes[v->first];
	json_t *o = json_object();
	cli_json_set(o, "id", json_integer((json_int_t)i));
	if (v->label) {
		cli_json_set(o, "kind", cli_json_str("group"));
		cli_json_set(o, "path", cli_json_str(v->label));
		json_t *m = json_array();
		for (size_t k = 0; k < w->g->n; k++)
			if (w->vid[k] == i)
				cli_json_push(m, cli_json_str(w->g->nodes[k].path));
		cli_json_set(o, "members", m);
		return o;
	}
	cli_json_set(o, "kind", cli_json_str(dg_gnode_kind_name(gn->kind)));
	cli_json_set(o, "path", cli_json_str(gn->path));
	if (gn->aliases.n) {
		json_t *a = json_array();
		for (size_t k = 0; k < gn->aliases.n; k++)
			cli_json_push(a, cli_json_str(gn->aliases.v[k]));
		cli_json_set(o, "aliases", a);
	}
	const struct dg_dyninfo *d = gn->dyn;
	if (gn->node && gn->node->inode) {
		char *dg = dg_digest_str(gn->node->inode->sha256);
		cli_json_set(o, "sha256", cli_json_str(dg));
		free(dg);
	}
	if (d && d->error)
		cli_json_set(o, "error", cli_json_str(d->error));
	else if (d) {
		char mb[32];
		cli_json_set(o, "type", cli_json_str(dg_elf_type_name(d->cls.type)));
		cli_json_set(o, "machine", cli_json_str(dg_elf_machine_name(d->machine, mb, sizeof mb)));
		cli_json_set(o, "bits", json_integer(d->bits));
		if (d->soname)
			cli_json_set(o, "soname", cli_json_str(d->soname));
		if (d->interp)
			cli_json_set(o, "interp", cli_json_str(d->interp));
		if (d->is_go || d->is_rust)
			cli_json_set(o, "language", cli_json_str(d->is_go ? "go" : "rust"));
	}
	if (gn->root)
		cli_json_set(o, "root", json_true());
	return o;
}

static void print_json(const struct view *w, const struct dg_graph *g, const struct dg_image_info *info,
		       struct dg_objdb *db, const struct dg_scope *sc)
{
	json_t *top = json_object();
	json_t *img = json_object();
	cli_json_set(img, "source", cli_json_str(info->source));
	if (info->config_digest)
		cli_json_set(img, "id", cli_json_str(info->config_digest));
	cli_json_set(top, "image", img);
	json_t *nodes = json_array(), *edges = json_array(), *probs = json_array();
	for (size_t i = 0; i < w->n; i++)
		cli_json_push(nodes, node_json(w, i));
	for (size_t i = 0; i < w->ne; i++) {
		const struct dg_gedge *e = w->ewhich[i];
		json_t *o = json_object();
		cli_json_set(o, "from", json_integer((json_int_t)w->efrom[i]));
		cli_json_set(o, "to", json_integer((json_int_t)w->eto[i]));
		cli_json_set(o, "kind", cli_json_str(e->kind == DG_GE_INTERP ? "interp" : "needed"));
		if (w->ecount[i] == 1) {
			cli_json_set(o, "name", cli_json_str(e->name));
			cli_json_set(o, "via", cli_json_str(e->via));
		} else {
			cli_json_set(o, "count", json_integer((json_int_t)w->ecount[i]));
		}
		cli_json_push(edges, o);
	}
	for (size_t i = 0; i < g->problems.n; i++)
		cli_json_push(probs, cli_json_str(g->problems.v[i]));
	cli_json_set(top, "nodes", nodes);
	cli_json_set(top, "edges", edges);
	cli_json_set(top, "problems", probs);
	struct dg_objdb_stats st;
	dg_objdb_stats(db, &st);
	json_t *js = json_object();
	cli_json_set(js, "elf_files", json_integer((json_int_t)st.files));
	cli_json_set(js, "parsed", json_integer((json_int_t)st.parsed));
	cli_json_set(js, "cache_hits", json_integer((json_int_t)st.cache_hits));
	cli_json_set(js, "malformed", json_integer((json_int_t)st.malformed));
	cli_json_set(top, "analysis", js);
	if (sc)
		cli_json_set(top, "closure", cli_scope_json(sc));
	cli_print_json(top);
}

struct graph_opts {
	struct cli_image_args a;
	const char *image;
	struct dg_graph_opts go; /* --from PATH roots */
	struct dg_strv exclude;
	int json, entry, group, full, scope;
};

/* What one graph holds on to until graph_done. */
struct graph_session {
	struct dg_image *img;
	struct dg_cache *cache;
	struct dg_objdb *db;
	struct dg_scope *sc;        /* --scope entrypoint: the closure */
	struct dg_sc_result *scres;
	struct dg_graph *g;
};

/* ---- parse: argv -> struct graph_opts (-1: go on, else the exit status) ---- */

static int graph_parse(int argc, char **argv, struct graph_opts *o)
{
	enum { OPT_FORMAT = OPT_FIRST_CMD_OPT, OPT_FROM, OPT_ENTRY, OPT_GROUP, OPT_EXCLUDE, OPT_FULL, OPT_SCOPE };
	static const struct option lo[] = {CLI_IMAGE_LONGOPTS,
					   {"format", required_argument, NULL, OPT_FORMAT},
					   {"from", required_argument, NULL, OPT_FROM},
					   {"entrypoint", no_argument, NULL, OPT_ENTRY},
					   {"group", required_argument, NULL, OPT_GROUP},
					   {"exclude", required_argument, NULL, OPT_EXCLUDE},
					   {"full-paths", no_argument, NULL, OPT_FULL},
					   {"scope", required_argument, NULL, OPT_SCOPE},
					   {0, 0, 0, 0}};
	int c, rc;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case OPT_HELP: fputs(help, stdout); return 0;
		case OPT_FORMAT:
			if (strcmp(optarg, "dot") && strcmp(optarg, "json"))
				return cli_usage_error("graph", "--format must be dot or json, not '%s'", optarg);
			o->json = !strcmp(optarg, "json");
			continue;
		case OPT_FROM: dg_strv_push(&o->go.roots, optarg); continue;
		case OPT_ENTRY: o->entry = 1; continue;
		case OPT_GROUP:
			if (strcmp(optarg, "dir"))
				return cli_usage_error("graph", "--group takes 'dir', not '%s'", optarg);
			o->group = 1;
			continue;
		case OPT_EXCLUDE: dg_strv_push(&o->exclude, optarg); continue;
		case OPT_FULL: o->full = 1; continue;
		case OPT_SCOPE:
			if (strcmp(optarg, "image") && strcmp(optarg, "entrypoint"))
				return cli_usage_error("graph", "--scope: expected 'image' or 'entrypoint', got '%s'", optarg);
			o->scope = !strcmp(optarg, "entrypoint");
			continue;
		}
		if ((rc = cli_common_opt("graph", &o->a, c, optarg)))
			return rc;
	}
	if (o->a.json)
		o->json = 1;
	if (argc - optind != 1)
		return cli_usage_error("graph", "expected exactly one IMAGE");
	o->image = argv[optind];
	return -1;
}

/* ---- run: the image, its roots (--entrypoint, --scope entrypoint), the graph ---- */

static int graph_run(struct graph_opts *o, struct graph_session *gs)
{
	int rc;
	if ((rc = cli_load_image(o->image, &o->a, &gs->img)))
		return rc;
	struct dg_error err = DG_ERROR_INIT;
	const struct dg_image_info *info = dg_image_info(gs->img);
	o->go.ld_library_path = dg_ld_library_path(&info->config.env);
	if (o->entry && dg_entry_roots(dg_image_fs(gs->img), &info->config, &o->go.roots, &err) < 0)
		return cli_fail(&err);
	gs->cache = cli_open_cache(&o->a);
	gs->db = dg_objdb_new(dg_image_fs(gs->img), gs->cache);
	if (o->scope) {
		/* the closure's programs and modules are the roots; scripts and closure edges are added */
		struct dg_sc_opts so = {.ld_library_path = o->go.ld_library_path};
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		dg_objdb_set_threads(gs->db, cpus > 0 ? (int)cpus : 1);
		if (dg_sc_entrypoint(gs->db, &info->config, &so, DG_EXEC_FALLBACK_IMAGE, &gs->scres, &gs->sc, &err) < 0)
			return cli_fail(&err);
		for (size_t i = 0; i < gs->sc->n; i++)
			if (gs->sc->v[i].kind != DG_SI_SCRIPT)
				dg_strv_push(&o->go.roots, gs->sc->v[i].path);
	}
	if (dg_graph_build(gs->db, &o->go, &gs->g, &err) < 0)
		return cli_fail(&err);
	return 0;
}

static void graph_done(struct graph_session *gs)
{
	dg_graph_free(gs->g);
	dg_scope_free(gs->sc);
	dg_sc_result_free(gs->scres);
	cli_close_cache(gs->cache, gs->db);
	dg_objdb_free(gs->db);
	dg_image_free(gs->img);
}

/* The graph's problems: at most 20 warnings, then how many more. */
static void graph_warn(const struct dg_graph *g)
{
	size_t shown = g->problems.n < 20 ? g->problems.n : 20;
	for (size_t i = 0; i < shown; i++)
		cli_warn("graph", "%s", g->problems.v[i]);
	if (g->problems.n > shown)
		cli_warn("graph", "... and %zu more (see --format json)", g->problems.n - shown);
}

int cmd_graph(int argc, char **argv)
{
	struct graph_opts o = {0};
	cli_image_args_init(&o.a);
	struct graph_session gs = {0};
	int rc = graph_parse(argc, argv, &o);
	if (rc < 0 && !(rc = graph_run(&o, &gs))) {
		struct view w;
		build_view(&w, gs.g, &o.exclude, o.group);
		const struct dg_image_info *info = dg_image_info(gs.img);
		if (o.json)
			print_json(&w, gs.g, info, gs.db, gs.sc);
		else
			print_dot(&w, info->source, o.full, gs.sc, dg_image_fs(gs.img));
		free_view(&w);
		graph_warn(gs.g);
	}
	graph_done(&gs);
	dg_strv_free(&o.go.roots);
	dg_strv_free(&o.exclude);
	return rc;
}
