/* dockergate syscalls IMAGE [PATH...]: the system calls each program of an image
 * can make (function-level reachability over its disassembled code): parse the
 * options, run the analysis (analysis.c), print the result as JSON or as text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "dockergate/scope.h"

static const char syscalls_help[] =
	"usage: dockergate syscalls IMAGE [PATH...] [OPTIONS]\n"
	"       dockergate syscalls IMAGE --scope entrypoint [OPTIONS] [-- ARGS...]\n\n"
	"Lists the system calls each program of the image can make: every ELF file it loads is\n"
	"disassembled, syscall numbers are recovered by data flow, and only functions reachable\n"
	"from the program's entry point, the loader's, and every object's init/fini functions and\n"
	"IFUNC resolvers count (through direct, PLT and indirect calls; see docs/design.md). Without\n"
	"PATH: every program of the image, and every shared object no program loads (analysed as\n"
	"dlopen'd: all its exports are roots). Reachable sites whose number is unknown are listed\n"
	"with object, function and address.\n\n"
	"Options:\n" SC_HELP_OPTS "  --objects           per loaded object: functions reachable and sites resolved\n" CLI_IMAGE_OPTS_HELP;

enum { OPT_OBJECTS = OPT_SC_NEXT };

struct syscalls_opts {
	struct sc_args s;
	const char *image;
	int objects; /* --objects */
};

/* ---- parse: argv -> struct syscalls_opts (-1: go on, else the exit status) ---- */

static int syscalls_parse(int argc, char **argv, struct syscalls_opts *o)
{
	static const struct option lo[] = {CLI_IMAGE_LONGOPTS, SC_LONGOPTS,
					   {"objects", no_argument, NULL, OPT_OBJECTS}, {0, 0, 0, 0}};
	int pr = sc_parse("syscalls", argc, argv, lo, syscalls_help, OPT_OBJECTS, &o->objects, &o->s);
	if (pr >= 0)
		return pr;
	if (argc - optind < 1)
		return cli_usage_error("syscalls", "expected IMAGE");
	o->image = argv[optind];
	for (int i = optind + 1; i < argc; i++)
		dg_strv_push(o->s.scope == DG_SCOPE_ENTRYPOINT ? &o->s.args : &o->s.so.paths, argv[i]);
	return -1;
}

/* ---- JSON ---- */

/* The numbers of NAMES (from names_json), in the same order. */
static json_t *nums_json(json_t *names, int i386)
{
	json_t *a = json_array(), *v;
	size_t i;
	json_array_foreach(names, i, v) cli_json_push(a, json_integer(dg_syscall_number(json_string_value(v), i386)));
	return a;
}

static const char *const exec_kinds[DG_EXK_SYM] = {"program", "program in PATH", "shell command", "library"}; /* never a lookup (dlsym): reach.h */

/* What the target's reachable code runs and loads (reach.h dg_reach_exec). */
static json_t *execs_json(const struct dg_sc_target *t)
{
	json_t *a = json_array();
	for (size_t i = 0; t->reach && i < t->reach->nexecs; i++) {
		const struct dg_reach_exec *x = &t->reach->execs[i];
		json_t *j = json_object();
		char addr[32];
		snprintf(addr, sizeof addr, "0x%llx", (unsigned long long)x->addr);
		cli_json_set(j, "kind", cli_json_str(exec_kinds[x->kind]));
		cli_json_set(j, "name", cli_json_str(x->arg));
		cli_json_set(j, "callee", cli_json_str(x->callee));
		cli_json_set(j, "object", cli_json_str(t->set->objs[x->obj].path));
		cli_json_set(j, "function", cli_json_str(x->fn_name));
		cli_json_set(j, "address", x->addr ? cli_json_str(addr) : json_null());
		cli_json_push(a, j);
	}
	return a;
}

static json_t *target_json(const struct dg_sc_target *t)
{
	json_t *o = json_object(), *unk = json_array(), *objs = json_array(), *pr = json_array();
	cli_json_set(o, "path", cli_json_str(t->path));
	cli_json_set(o, "kind", cli_json_str(t->library ? "library" : "program"));
	cli_json_set(o, "calls_dlopen", json_boolean(t->calls_dlopen));
	cli_json_set(o, "dlsym_unknown_name", json_boolean(t->reach && t->reach->dlsym_unknown));
	cli_json_set(o, "dlsym_unknown_name_in_dlopened", json_boolean(t->reach && t->reach->dlsym_module));
	cli_json_set(o, "calls_exec", json_boolean(t->calls_exec));
	cli_json_set(o, "runs_and_loads", execs_json(t));
	const struct dg_reach *r = t->reach;
	json_t *nm = r ? sc_names_json(r->native, 0) : json_array();
	cli_json_set(o, "syscalls", nm);
	cli_json_set(o, "numbers", nums_json(nm, 0));
	if (r && r->has_i386) {
		nm = sc_names_json(r->i386, 1);
		cli_json_set(o, "i386_syscalls", nm);
		cli_json_set(o, "i386_numbers", nums_json(nm, 1));
	}
	for (size_t i = 0; r && i < r->nunknown; i++) {
		const struct dg_reach_unknown *u = &r->unknown[i];
		json_t *j = json_object();
		const char *fnm = u->fn_name;
		char addr[32];
		snprintf(addr, sizeof addr, "0x%llx", (unsigned long long)u->addr);
		cli_json_set(j, "object", cli_json_str(t->set->objs[u->obj].path));
		cli_json_set(j, "function", cli_json_str(fnm));
		cli_json_set(j, "address", cli_json_str(addr));
		cli_json_set(j, "kind", cli_json_str(u->wrapper_call ? "wrapper call" : "syscall instruction"));
		cli_json_push(unk, j);
	}
	cli_json_set(o, "unknown_sites", unk);
	for (size_t i = 0; r && i < r->nobjs; i++) {
		const struct dg_reach_objstat *st = &r->objs[i];
		if (!t->set->objs[i].path)
			continue;
		json_t *j = json_object();
		cli_json_set(j, "path", cli_json_str(t->set->objs[i].path));
		cli_json_set(j, "functions", json_integer((json_int_t)st->fns));
		cli_json_set(j, "reachable_functions", json_integer((json_int_t)st->reachable_fns));
		cli_json_set(j, "sites", json_integer((json_int_t)st->sites));
		cli_json_set(j, "resolved_sites", json_integer((json_int_t)st->resolved));
		cli_json_set(j, "resolved_share",
				    st->sites ? json_real((double)st->resolved / (double)st->sites) : json_null());
		cli_json_push(objs, j);
	}
	cli_json_set(o, "objects", objs);
	for (size_t i = 0; i < t->problems.n; i++)
		cli_json_push(pr, cli_json_str(t->problems.v[i]));
	if (r) {
		struct dg_strv un = {0};
		sc_unnamed(r->native, 0, &un);
		for (size_t i = 0; i < un.n; i++)
			cli_json_push(pr, cli_json_str(un.v[i]));
		dg_strv_free(&un);
	}
	cli_json_set(o, "problems", pr);
	cli_json_set(o, "not_analysed", sc_unanalysed_json(t->unanalysed, t->nunanalysed));
	return o;
}

/* ---- the tiers of the entrypoint scope (a fallback fired) ---- */

struct tier_add {
	const struct dg_sc_target *t;
	uint8_t bits[DG_NSYSCALLS / 8]; /* what it reaches beyond the closure (x86-64) */
	size_t n;
};

static int cmp_add(const void *a, const void *b)
{
	const struct tier_add *x = a, *y = b;
	return x->n != y->n ? (x->n < y->n ? 1 : -1) : strcmp(x->t->path, y->t->path);
}

/* Each program and library a fallback added with what it reaches beyond the closure, most
 * first; *N of them. */
static struct tier_add *tier_adds(const struct dg_scope *sc, const struct dg_sc_result *res, size_t *n)
{
	struct tier_add *v = dg_xcalloc(res->n ? res->n : 1, sizeof *v);
	*n = 0;
	for (size_t i = sc->closure_targets; i < res->n; i++) {
		const struct dg_sc_target *t = &res->t[i];
		if (!t->reach)
			continue;
		struct tier_add *a = &v[*n];
		a->t = t;
		for (size_t k = 0; k < DG_NSYSCALLS / 8; k++)
			a->bits[k] = (uint8_t)(t->reach->native[k] & ~sc->closure_native[k]);
		a->n = sc_count_bits(a->bits);
		*n += a->n > 0;
	}
	qsort(v, *n, sizeof *v, cmp_add);
	return v;
}

static json_t *tiers_json(const struct dg_scope *sc, const struct dg_sc_result *res)
{
	json_t *o = json_object(), *adds = json_array();
	uint8_t fb[2][DG_NSYSCALLS / 8];
	dg_scope_fallback_bits(sc, res, fb[0], fb[1]);
	cli_json_set(o, "closure", sc_names_json(sc->closure_native, 0));
	cli_json_set(o, "fallback", sc_names_json(fb[0], 0));
	size_t n;
	struct tier_add *v = tier_adds(sc, res, &n);
	for (size_t i = 0; i < n; i++) {
		json_t *x = json_object();
		cli_json_set(x, "path", cli_json_str(v[i].t->path));
		cli_json_set(x, "library", json_boolean(v[i].t->library));
		cli_json_set(x, "adds", sc_names_json(v[i].bits, 0));
		cli_json_push(adds, x);
	}
	free(v);
	cli_json_set(o, "fallback_adds", adds);
	return o;
}

static void tiers_print(const struct dg_scope *sc, const struct dg_sc_result *res)
{
	uint8_t fb[2][DG_NSYSCALLS / 8];
	dg_scope_fallback_bits(sc, res, fb[0], fb[1]);
	size_t n;
	struct tier_add *v = tier_adds(sc, res, &n);
	printf("tiers: %zu syscalls for the closure itself, %zu more only for what the fallback added (%zu of its "
	       "%zu programs and libraries add any; generate --fallback allow|log|deny)\n",
	       sc_count_bits(sc->closure_native), sc_count_bits(fb[0]), n, res->n - sc->closure_targets);
	for (size_t i = 0; i < n && i < 20; i++) {
		struct dg_buf b = {0};
		size_t shown = 0;
		for (unsigned k = 0; k < DG_NSYSCALLS && shown < 12; k++)
			if (dg_reach_has(v[i].bits, k) && dg_syscall_name(k, 0))
				dg_buf_printf(&b, "%s%s", shown++ ? " " : "", dg_syscall_name(k, 0));
		printf("  fallback %s %s adds %zu: %.*s%s\n", v[i].t->library ? "library" : "program", v[i].t->path, v[i].n,
		       (int)b.len, b.data, v[i].n > shown ? " ..." : "");
		dg_buf_free(&b);
	}
	if (n > 20)
		printf("  (%zu more; --json lists all)\n", n - 20);
	free(v);
}

static json_t *syscalls_json(const struct syscalls_opts *o, const struct sc_session *ss)
{
	const struct dg_sc_result *res = ss->res;
	json_t *top = json_object(), *ts = json_array();
	cli_json_set(top, "image", cli_json_str(o->image));
	cli_json_set(top, "precision", cli_json_str(sc_precision_name(o->s.so.precision)));
	for (size_t i = 0; i < res->n; i++)
		cli_json_push(ts, target_json(&res->t[i]));
	cli_json_set(top, "executables", ts);
	cli_json_set(top, "union", sc_names_json(res->native, 0));
	if (res->has_i386)
		cli_json_set(top, "i386_union", sc_names_json(res->i386, 1));
	cli_json_set(top, "unknown_sites", json_integer((json_int_t)res->ndistinct_unknown));
	cli_json_set(top, "not_analysed", sc_unanalysed_json(res->unanalysed, res->nunanalysed));
	cli_json_set(top, "architecture_mismatch", ss->arch_mismatch ? cli_json_str(ss->arch_mismatch) : json_null());
	if (ss->scope)
		cli_json_set(top, "scope", cli_scope_json(ss->scope));
	if (ss->scope && ss->scope->tiered)
		cli_json_set(top, "tiers", tiers_json(ss->scope, res));
	return top;
}

/* ---- text ---- */

static void print_execs(const struct dg_sc_target *t)
{
	for (size_t i = 0; t->reach && i < t->reach->nexecs; i++) {
		const struct dg_reach_exec *x = &t->reach->execs[i];
		printf("  %s %s: ", x->kind == DG_EXK_LIB ? "loads" : "runs", exec_kinds[x->kind]);
		if (x->arg)
			printf("\"%s\"", x->arg);
		else
			printf("(not known)");
		printf(" via %s in %s %s", x->callee, t->set->objs[x->obj].path, x->fn_name ? x->fn_name : "(unnamed function)");
		if (x->addr)
			printf(" at 0x%llx", (unsigned long long)x->addr);
		putchar('\n');
	}
	if (t->reach && t->reach->dlsym_unknown)
		printf("  looks up a symbol by a name not known statically (dlsym): every exported function "
		       "of the objects it loads counts as called\n");
	if (t->reach && t->reach->dlsym_module && !t->reach->dlsym_unknown)
		printf("  looks up symbols by names not known statically in libraries it dlopens (dlsym on "
		       "a handle dlopen returned): those libraries' exports count\n");
	if (t->reach && t->reach->execs_truncated)
		printf("  (more names: only the first %zu are listed)\n", t->reach->nexecs);
}

static void print_target(const struct dg_sc_target *t, int objects)
{
	const struct dg_reach *r = t->reach;
	if (!r) {
		printf("%s: not analysed\n", t->path);
		for (size_t i = 0; i < t->problems.n; i++)
			printf("  problem: %s\n", t->problems.v[i]);
		return;
	}
	printf("%s%s: %zu syscalls", t->path, t->library ? " (library)" : "", sc_count_bits(r->native));
	if (r->has_i386)
		printf(" + %zu i386", sc_count_bits(r->i386));
	printf(", %zu unknown sites\n", r->nunknown);
	json_t *names = sc_names_json(r->native, 0);
	size_t col = 0, i;
	json_t *v;
	json_array_foreach(names, i, v) {
		const char *s = json_string_value(v);
		if (col == 0)
			fputs(" ", stdout), col = 1;
		if (col + strlen(s) + 1 > 100)
			fputs("\n ", stdout), col = 1;
		printf(" %s", s);
		col += strlen(s) + 1;
	}
	if (col)
		putchar('\n');
	json_decref(names);
	if (r->has_i386) {
		names = sc_names_json(r->i386, 1);
		printf("  i386:");
		json_array_foreach(names, i, v) printf(" %s", json_string_value(v));
		putchar('\n');
		json_decref(names);
	}
	for (size_t k = 0; k < r->nunknown; k++) {
		const struct dg_reach_unknown *u = &r->unknown[k];
		const char *fnm = u->fn_name;
		printf("  unknown %s: %s %s at 0x%llx\n", u->wrapper_call ? "wrapper call" : "syscall",
		       t->set->objs[u->obj].path, fnm ? fnm : "(unnamed function)", (unsigned long long)u->addr);
	}
	print_execs(t);
	if (objects)
		for (size_t k = 0; k < r->nobjs; k++) {
			const struct dg_reach_objstat *st = &r->objs[k];
			if (!t->set->objs[k].path)
				continue;
			printf("  object %s: %llu/%llu functions reachable, %llu/%llu sites resolved\n",
			       t->set->objs[k].path, (unsigned long long)st->reachable_fns, (unsigned long long)st->fns,
			       (unsigned long long)st->resolved, (unsigned long long)st->sites);
		}
	for (size_t k = 0; k < t->nunanalysed; k++) {
		char buf[32];
		printf("  not analysed: %s (%s code: no backend reads it; its syscalls are in no set)\n",
		       t->unanalysed[k].path, sc_unanalysed_machine(&t->unanalysed[k], buf, sizeof buf));
	}
	for (size_t k = 0; k < t->problems.n; k++)
		printf("  problem: %s\n", t->problems.v[k]);
}

static void scope_print(const struct dg_scope *sc)
{
	size_t shown = 0, fallback = 0;
	for (size_t i = 0; i < sc->n; i++) {
		const struct dg_scope_item *it = &sc->v[i];
		if (it->parent == SIZE_MAX && ((sc->all_programs_why && !strcmp(it->why, sc->all_programs_why)) ||
						(sc->all_libraries_why && !strcmp(it->why, sc->all_libraries_why)))) {
			fallback++;
			continue;
		}
		printf("scope: %s %s: %s\n", dg_scope_item_kind_name(it->kind), it->path, it->why);
		shown++;
	}
	if (sc->all_programs_why)
		printf("scope: every executable of the image (%zu more programs and libraries in all): %s\n", fallback,
		       sc->all_programs_why);
	if (sc->all_libraries_why) {
		printf("scope: every library no program loads that can be loaded into the closure's processes, as "
		       "dlopen'd (%zu of %zu; %zu cannot be: their needed libraries or symbols are missing): %s\n",
		       sc->dl_loadable, sc->dl_candidates, sc->dl_refused.n, sc->all_libraries_why);
		for (size_t i = 0; i < sc->dl_refused.n && i < 10; i++)
			printf("scope: not loadable: %s\n", sc->dl_refused.v[i]);
		if (sc->dl_refused.n > 10)
			printf("scope: not loadable: ... %zu more (--json lists all)\n", sc->dl_refused.n - 10);
	}
	for (size_t i = 0; i < sc->problems.n; i++)
		printf("scope problem: %s\n", sc->problems.v[i]);
}

static void syscalls_print(const struct syscalls_opts *o, const struct sc_session *ss)
{
	const struct dg_sc_result *res = ss->res;
	if (ss->scope)
		scope_print(ss->scope);
	for (size_t i = 0; i < res->n; i++)
		print_target(&res->t[i], o->objects);
	printf("union: %zu syscalls", sc_count_bits(res->native));
	if (res->has_i386)
		printf(" + %zu i386", sc_count_bits(res->i386));
	printf(" over %zu programs and libraries, %zu distinct unknown sites (precision %s)\n", res->n,
	       res->ndistinct_unknown, sc_precision_name(o->s.so.precision));
	if (res->nunanalysed) {
		dg_autofree char *line = sc_unanalysed_line(res);
		printf("not analysed: %s\n", line);
	}
	if (ss->arch_mismatch)
		printf("architecture: %s\n", ss->arch_mismatch);
	if (ss->scope && ss->scope->tiered)
		tiers_print(ss->scope, res);
}

int cmd_syscalls(int argc, char **argv)
{
	struct syscalls_opts o = {0};
	sc_args_init(&o.s);
	int rc = syscalls_parse(argc, argv, &o);
	if (rc >= 0) {
		sc_args_free(&o.s);
		return rc;
	}
	struct sc_session ss;
	rc = sc_run(o.image, &o.s, &ss);
	if (!rc) {
		if (o.s.a.json)
			cli_print_json(syscalls_json(&o, &ss));
		else
			syscalls_print(&o, &ss);
		if (o.s.strict && ss.res->nunknown) {
			cli_say("syscalls", "error", "%zu reachable syscall sites with unknown numbers (--strict)",
				ss.res->ndistinct_unknown);
			rc = DG_E_INCOMPLETE;
		}
		if (o.s.strict && ss.res->nunanalysed) {
			dg_autofree char *line = sc_unanalysed_line(ss.res);
			cli_say("syscalls", "error", "%s (--strict)", line);
			rc = DG_E_INCOMPLETE;
		}
	}
	sc_done(&ss);
	sc_args_free(&o.s);
	return rc;
}
