/* Option handling shared by the commands that read an image. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dockergate/util.h"
#include "dockergate/cache.h"
#include "dockergate/objdb.h"
#include "dockergate/profile.h"
#include "dockergate/syscalls.h"
#include "dockergate/scope.h"

void cli_image_args_init(struct cli_image_args *a)
{
	memset(a, 0, sizeof *a);
	dg_image_opts_default(&a->opts);
}

static int parse_size(const char *s, uint64_t *out)
{
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return -1;
	unsigned shift = 0;
	switch (toupper((unsigned char)*end)) {
	case 0: break;
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	default: return -1;
	}
	if (*end && end[1] && !(toupper((unsigned char)end[1]) == 'B' && !end[2]) &&
	    !(toupper((unsigned char)end[1]) == 'I' && toupper((unsigned char)end[2]) == 'B' && !end[3]))
		return -1;
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int cli_image_opt(struct cli_image_args *a, int opt, const char *arg)
{
	switch (opt) {
	case OPT_PLATFORM:
		if (!strchr(arg, '/') || strlen(arg) > 200)
			return -1;
		a->opts.platform = arg;
		return 1;
	case OPT_REF: a->opts.ref = arg; return 1;
	case OPT_TMPDIR: a->opts.tmpdir = arg; return 1;
	case OPT_MAX_BYTES:
		if (parse_size(arg, &a->opts.limits.max_expanded_bytes) < 0 ||
		    a->opts.limits.max_expanded_bytes == 0)
			return -1;
		return 1;
	case OPT_JSON: a->json = true; return 1;
	case OPT_CACHE:
		if (!*arg)
			return -1;
		a->cache_path = arg;
		return 1;
	case OPT_NO_CACHE: a->no_cache = true; return 1;
	}
	return 0;
}

int cli_common_opt(const char *cmd, struct cli_image_args *a, int opt, const char *arg)
{
	static const struct option shared[] = {CLI_IMAGE_LONGOPTS};
	int r = cli_image_opt(a, opt, arg);
	if (r > 0)
		return 0;
	if (r == 0)
		return cli_usage_error(cmd, "unknown option");
	const char *name = "?";
	for (size_t i = 0; i < sizeof shared / sizeof *shared; i++)
		if (shared[i].val == opt)
			name = shared[i].name;
	return cli_usage_error(cmd, "invalid value '%s' for --%s", arg, name);
}

int cli_load_image(const char *spec, struct cli_image_args *a, struct dg_image **out)
{
	struct dg_error err = DG_ERROR_INIT;
	struct dg_image *img;
	if (dg_image_open(spec, &a->opts, &img, &err) < 0)
		return cli_fail(&err);
	if (dg_image_load(img, &err) < 0) {
		dg_image_free(img);
		return cli_fail(&err);
	}
	*out = img;
	return 0;
}

struct dg_cache *cli_open_cache(struct cli_image_args *a)
{
	struct dg_error err = DG_ERROR_INIT;
	struct dg_cache *c = NULL;
	char *def = NULL;
	int rebuilt = 0;
	if (a->no_cache)
		return NULL;
	if ((!a->cache_path && dg_cache_default_path(&def, &err) < 0) ||
	    dg_cache_open(a->cache_path ? a->cache_path : def, &c, &rebuilt, &err) < 0) {
		cli_warn(NULL, "continuing without the analysis cache: %s", err.msg);
		free(def);
		return NULL;
	}
	if (rebuilt)
		cli_note(NULL, "the analysis cache was damaged or not ours and has been rebuilt (%s)", err.msg);
	free(def);
	return c;
}

void cli_close_cache(struct dg_cache *c, struct dg_objdb *db)
{
	struct dg_error err = DG_ERROR_INIT;
	if (c && dg_cache_flush(c, &err) < 0)
		cli_warn(NULL, "the analysis cache was not updated: %s", err.msg);
	else if (db && dg_objdb_cache_error(db))
		cli_warn(NULL, "the analysis cache failed and was bypassed: %s", dg_objdb_cache_error(db));
	dg_cache_close(c);
}

json_t *cli_scope_json(const struct dg_scope *sc)
{
	json_t *o = json_object(), *items = json_array(), *edges = json_array(), *pr = json_array();
	cli_json_set(o, "scope", cli_json_str("entrypoint"));
	for (size_t i = 0; i < sc->n; i++) {
		const struct dg_scope_item *it = &sc->v[i];
		json_t *x = json_object();
		cli_json_set(x, "path", cli_json_str(it->path));
		cli_json_set(x, "kind", cli_json_str(dg_scope_item_kind_name(it->kind)));
		cli_json_set(x, "why", cli_json_str(it->why));
		cli_json_set(x, "parent", it->parent == SIZE_MAX ? json_null() : cli_json_str(sc->v[it->parent].path));
		cli_json_push(items, x);
		if (it->parent != SIZE_MAX) {
			json_t *e = json_object();
			cli_json_set(e, "from", cli_json_str(sc->v[it->parent].path));
			cli_json_set(e, "to", cli_json_str(it->path));
			cli_json_set(e, "kind", cli_json_str(dg_scope_edge_kind(it)));
			cli_json_push(edges, e);
		}
	}
	cli_json_set(o, "items", items);
	cli_json_set(o, "edges", edges);
	cli_json_set(o, "all_programs", cli_json_str(sc->all_programs_why));
	cli_json_set(o, "all_libraries", cli_json_str(sc->all_libraries_why));
	if (sc->all_libraries_why) {
		cli_json_set(o, "all_libraries_candidates", json_integer((json_int_t)sc->dl_candidates));
		cli_json_set(o, "all_libraries_loadable", json_integer((json_int_t)sc->dl_loadable));
		cli_json_set(o, "all_libraries_not_loadable", cli_json_strv(&sc->dl_refused));
	}
	for (size_t i = 0; i < sc->problems.n; i++)
		cli_json_push(pr, cli_json_str(sc->problems.v[i]));
	cli_json_set(o, "problems", pr);
	return o;
}

/* How many names resolve to an x86-64 syscall (what "N allowed" counts). */
size_t cli_count_x86_64(const struct dg_profile *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->allow.n; i++)
		n += dg_syscall_number(p->allow.v[i], 0) >= 0;
	return n;
}

int cli_parse_format(const char *cmd, const char *arg, enum dg_profile_format *out)
{
	if (dg_profile_format_parse(arg, out) == 0)
		return 0;
	size_t n;
	const struct dg_profile_format_info *fm = dg_profile_formats(&n);
	struct dg_buf b = {0};
	for (size_t i = 0; i < n; i++)
		dg_buf_printf(&b, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", fm[i].name);
	dg_buf_putc(&b, 0);
	int r = cli_usage_error(cmd, "--format: expected %s, got '%s'", b.data, arg);
	dg_buf_free(&b);
	return r;
}

#define HELP_COLUMN 22 /* where option descriptions start */
#define HELP_WIDTH 90  /* and where they end */

/* An option's help: "  OPTION" padded to the description column, TEXT wrapped under it. */
static void cli_help_option(FILE *f, const char *option, const char *text)
{
	int col = fprintf(f, "  %s", option);
	for (const char *p = text; *p;) {
		while (*p == ' ')
			p++;
		size_t w = strcspn(p, " ");
		if (col > HELP_COLUMN && col + 1 + (int)w > HELP_WIDTH) {
			fputc('\n', f);
			col = 0;
		}
		if (col < HELP_COLUMN)
			col += fprintf(f, "%*s", HELP_COLUMN - col, "");
		else
			col += fprintf(f, " ");
		col += fprintf(f, "%.*s", (int)w, p);
		p += w;
	}
	fputc('\n', f);
}

void cli_format_help(FILE *f, enum dg_profile_format deflt, bool descriptions, const char *tail)
{
	size_t n;
	const struct dg_profile_format_info *fm = dg_profile_formats(&n);
	struct dg_buf b = {0};
	for (size_t i = 0; i < n; i++) {
		bool d = fm[i].format == deflt;
		dg_buf_printf(&b, "%s%s", i ? ", " : "", fm[i].name);
		if (d || descriptions)
			dg_buf_printf(&b, " (%s%s%s)", d ? "default" : "", d && descriptions ? "; " : "",
				      descriptions ? fm[i].description : "");
	}
	if (tail)
		dg_buf_printf(&b, " %s", tail);
	dg_buf_putc(&b, 0);
	cli_help_option(f, "--format FORMAT", b.data);
	dg_buf_free(&b);
}
