/* dockergate explain IMAGE SYSCALL [PATH...]: why a syscall is allowed: the programs
 * and libraries that can reach it and the shortest chain from a root to the site for
 * the first (or every) one of them; the container runtime's own calls. Parse the
 * options, run the analysis and the explanations, print them as JSON or as text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "dockergate/scope.h"
#include "dockergate/runtime_base.h"

static const char explain_help[] =
	"usage: dockergate explain IMAGE SYSCALL [PATH...] [OPTIONS]\n\n"
	"Says why SYSCALL (a name, or a number of the x86-64 table) is allowed for the image: which\n"
	"programs and libraries can reach it, and for the first of them (--all: each) the shortest\n"
	"chain from a root (the program's entry point, the loader's, an init/fini function or IFUNC\n"
	"resolver, a dlopen'd library's export, a function ld.so calls itself) through objects and\n"
	"functions to the syscall instruction (or to the call that passes the number to a wrapper\n"
	"such as syscall(3)): object, function and address at each step. When nothing can reach\n"
	"it, says so. With PATH, only those programs are considered.\n\n"
	"Options:\n"
	"  --all               a chain for every program that can reach it\n" SC_HELP_OPTS CLI_IMAGE_OPTS_HELP;

enum { OPT_ALL = OPT_SC_NEXT };

struct explain_opts {
	struct sc_args s;
	const char *image;
	const char *name;  /* SYSCALL as given */
	int nr;            /* its x86-64 number */
	const char *canon; /* its name (NULL: libseccomp has none for the number) */
	int all;           /* --all */
};

struct explain_chain {
	const struct dg_sc_target *t;
	struct dg_reach *why;
};

struct explain_result {
	size_t nreach;              /* targets that can reach it */
	struct dg_strv runtimes;    /* container runtimes that call it themselves (runtime base) */
	bool kernel;                /* restart_syscall: the kernel's */
	struct explain_chain *chains;
	size_t nchains;
};

/* ---- parse: argv -> struct explain_opts (-1: go on, else the exit status) ---- */

static int explain_parse(int argc, char **argv, struct explain_opts *o)
{
	static const struct option lo[] = {CLI_IMAGE_LONGOPTS, SC_LONGOPTS, {"all", no_argument, NULL, OPT_ALL},
					   {0, 0, 0, 0}};
	int pr = sc_parse("explain", argc, argv, lo, explain_help, OPT_ALL, &o->all, &o->s);
	if (pr >= 0)
		return pr;
	if (argc - optind < 2)
		return cli_usage_error("explain", "expected IMAGE and SYSCALL");
	o->image = argv[optind];
	o->name = argv[optind + 1];
	char *end;
	long v = strtol(o->name, &end, 10);
	o->nr = *o->name && !*end ? (v >= 0 && v < DG_NSYSCALLS ? (int)v : -1) : dg_syscall_number(o->name, 0);
	if (o->nr < 0)
		return cli_usage_error("explain", "'%s' is not an x86-64 syscall name or number", o->name);
	o->canon = dg_syscall_name((unsigned)o->nr, 0);
	for (int i = optind + 2; i < argc; i++)
		dg_strv_push(&o->s.so.paths, argv[i]);
	return -1;
}

/* ---- run: who reaches it, the runtimes that call it, the chains ---- */

static int explain_run(const struct explain_opts *o, struct sc_session *ss, struct explain_result *r)
{
	const struct dg_sc_result *res = ss->res;
	unsigned nr = (unsigned)o->nr;
	for (size_t i = 0; i < res->n; i++)
		r->nreach += res->t[i].reach && dg_reach_has(res->t[i].reach->native, nr);
	/* the container runtime's own calls are allowed whatever the code does (generate --runtime-base) */
	r->kernel = o->canon && !strcmp(o->canon, "restart_syscall");
	static const char *const rtn[2] = {"runc", "crun"};
	for (int k = 0; k < 2; k++) {
		struct dg_strv rb = {0};
		struct dg_error e2 = DG_ERROR_INIT;
		if (dg_runtime_base(rtn[k], &rb, &e2) == 0 && o->canon && !r->kernel)
			for (size_t i = 0; i < rb.n; i++)
				if (!strcmp(rb.v[i], o->canon))
					dg_strv_push(&r->runtimes, rtn[k]);
		dg_strv_free(&rb);
	}
	for (size_t i = 0; i < res->n; i++) {
		const struct dg_sc_target *t = &res->t[i];
		if (!t->reach || !dg_reach_has(t->reach->native, nr))
			continue;
		struct dg_reach *why = NULL;
		struct dg_error err = DG_ERROR_INIT;
		if (dg_sc_explain(ss->db, &o->s.so, t, nr, 0, &why, &err) < 0)
			return cli_fail(&err);
		r->chains = dg_xreallocarray(r->chains, r->nchains + 1, sizeof *r->chains);
		r->chains[r->nchains++] = (struct explain_chain){t, why};
		if (!o->all)
			break;
	}
	return 0;
}

static void explain_result_free(struct explain_result *r)
{
	for (size_t i = 0; i < r->nchains; i++)
		dg_reach_free(r->chains[i].why);
	free(r->chains);
	dg_strv_free(&r->runtimes);
}

static const char *how_text(uint8_t how)
{
	switch (how) {
	case DG_STEP_ENTRY: return "entry point";
	case DG_STEP_INIT: return "init/fini function or IFUNC resolver (run by the loader)";
	case DG_STEP_EXPORT: return "export of a dlopen'd library";
	case DG_STEP_LDSO: return "called by ld.so itself";
	case DG_STEP_OBJECT: return "every function counts (--precision object)";
	case DG_STEP_CALL: return "called at";
	case DG_STEP_INDIRECT: return "address taken; indirect call at";
	case DG_STEP_SITE: return "syscall instruction at";
	case DG_STEP_WRAPPER: return "passes the number to a wrapper at";
	default: return "?";
	}
}

/* ---- JSON ---- */

static json_t *steps_json(const struct dg_sc_target *t, const struct dg_reach *r)
{
	json_t *a = json_array();
	for (size_t i = 0; i < r->nsteps; i++) {
		const struct dg_reach_step *st = &r->steps[i];
		json_t *j = json_object();
		char at[32];
		snprintf(at, sizeof at, "0x%llx", (unsigned long long)st->at);
		cli_json_set(j, "object", cli_json_str(t->set->objs[st->obj].path));
		char fa[32];
		snprintf(fa, sizeof fa, "0x%llx", (unsigned long long)st->fn_addr);
		cli_json_set(j, "function", cli_json_str(st->fn_name));
		cli_json_set(j, "function_address", cli_json_str(fa));
		cli_json_set(j, "how", cli_json_str(how_text(st->how)));
		cli_json_set(j, "address", st->how >= DG_STEP_CALL ? cli_json_str(at) : json_null());
		if (st->how == DG_STEP_INDIRECT) {
			json_t *tk = json_object();
			cli_json_set(tk, "object", cli_json_str(t->set->objs[st->taken_obj].path));
			cli_json_set(tk, "in", cli_json_str(st->taken_in_code ? "code" : "data or relocations"));
			if (st->taken_in_code) {
				snprintf(fa, sizeof fa, "0x%llx", (unsigned long long)st->taken_addr);
				cli_json_set(tk, "function", cli_json_str(st->taken_name));
				cli_json_set(tk, "function_address", cli_json_str(fa));
			}
			if (st->held_by)
				cli_json_set(tk, "held_by", cli_json_str(st->held_by));
			cli_json_set(j, "address_taken_by", tk);
		}
		cli_json_push(a, j);
	}
	return a;
}

/* The entrypoint scope's tier of a reachable syscall when a fallback fired: "closure" (the
 * entrypoint's own closure reaches it) or "fallback" (only what a fallback added), else NULL. */
static const char *tier_of(const struct explain_opts *o, const struct sc_session *ss, const struct explain_result *r)
{
	if (!ss->scope || !ss->scope->tiered || !r->nreach || o->nr < 0)
		return NULL;
	return dg_reach_has(ss->scope->closure_native, (unsigned)o->nr) ? "closure" : "fallback";
}

static json_t *explain_json(const struct explain_opts *o, const struct sc_session *ss, const struct explain_result *r)
{
	json_t *top = json_object(), *chains = json_array();
	cli_json_set(top, "syscall", cli_json_str(o->canon ? o->canon : o->name));
	cli_json_set(top, "number", json_integer(o->nr));
	cli_json_set(top, "allowed", json_boolean(r->nreach > 0 || r->runtimes.n > 0 || r->kernel));
	cli_json_set(top, "reachable", json_boolean(r->nreach > 0));
	cli_json_set(top, "analysed", json_integer((json_int_t)ss->res->n));
	cli_json_set(top, "runtime_base", cli_json_strv(&r->runtimes));
	const char *tier = tier_of(o, ss, r);
	cli_json_set(top, "tier", tier ? cli_json_str(tier) : json_null());
	for (size_t i = 0; i < r->nchains; i++) {
		const struct dg_sc_target *t = r->chains[i].t;
		json_t *ch = json_object();
		cli_json_set(ch, "path", cli_json_str(t->path));
		cli_json_set(ch, "kind", cli_json_str(t->library ? "library" : "program"));
		cli_json_set(ch, "steps", steps_json(t, r->chains[i].why));
		cli_json_push(chains, ch);
	}
	cli_json_set(top, "chains", chains);
	cli_json_set(top, "not_analysed", sc_unanalysed_json(ss->res->unanalysed, ss->res->nunanalysed));
	return top;
}

/* ---- text ---- */

static void print_steps(const struct dg_sc_target *t, const struct dg_reach *r)
{
	for (size_t i = 0; i < r->nsteps; i++) {
		const struct dg_reach_step *st = &r->steps[i];
		char fa[48];
		snprintf(fa, sizeof fa, "function at 0x%llx", (unsigned long long)st->fn_addr);
		printf("  %s %-28s %s", i ? "->" : "  ", st->fn_name ? st->fn_name : fa, t->set->objs[st->obj].path);
		if (st->how >= DG_STEP_CALL)
			printf("  [%s 0x%llx]\n", how_text(st->how), (unsigned long long)st->at);
		else
			printf("  [%s]\n", how_text(st->how));
		if (st->how == DG_STEP_INDIRECT && st->taken_in_code)
			printf("       (its address is taken by %s%s0x%llx in %s)\n", st->taken_name ? st->taken_name : "",
			       st->taken_name ? " at " : "the function at ", (unsigned long long)st->taken_addr,
			       t->set->objs[st->taken_obj].path);
		else if (st->how == DG_STEP_INDIRECT && st->held_by)
			printf("       (its address is held in %s: %s)\n", t->set->objs[st->taken_obj].path, st->held_by);
		else if (st->how == DG_STEP_INDIRECT)
			printf("       (its address is held in the data or relocations of %s)\n",
			       t->set->objs[st->taken_obj].path);
	}
}

static void explain_print(const struct explain_opts *o, const struct sc_session *ss, const struct explain_result *r)
{
	const char *nm = o->canon ? o->canon : o->name;
	size_t n = ss->res->n;
	if (!r->nreach && !r->runtimes.n && !r->kernel)
		printf("%s (%d) is not allowed: none of the %zu programs and libraries analysed can reach it\n", nm, o->nr, n);
	else if (!r->nreach)
		printf("%s (%d) is not reachable by the image's code (%zu programs and libraries analysed), but "
		       "allowed: ", nm, o->nr, n);
	else
		printf("%s (%d) is allowed: %zu of %zu programs and libraries can reach it\n", nm, o->nr, r->nreach, n);
	const char *tier = tier_of(o, ss, r);
	if (tier && !strcmp(tier, "fallback"))
		printf("tier: fallback: only programs and libraries the entrypoint scope's fallback added reach it, not "
		       "the entrypoint's own closure (`generate --fallback log` logs each use, `--fallback deny` denies it)\n");
	else if (tier)
		printf("tier: closure: the entrypoint's own closure reaches it (not only the fallback's programs)\n");
	if (r->kernel)
		printf("the kernel has any task call restart_syscall to restart a sleep or wait interrupted by a "
		       "stop or an ignored signal, so `generate` allows it by default (--runtime-base)\n");
	if (r->runtimes.n) {
		printf("%sthe container runtime (", r->nreach ? "it is also made by " : "");
		for (size_t k = 0; k < r->runtimes.n; k++)
			printf("%s%s", k ? ", " : "", r->runtimes.v[k]);
		printf(") calls it between installing the filter and starting the entrypoint, so "
		       "`generate` allows it by default (--runtime-base)\n");
	}
	for (size_t i = 0; i < r->nchains; i++) {
		const struct dg_sc_target *t = r->chains[i].t;
		printf("%s%s:\n", t->path, t->library ? " (library)" : "");
		if (r->chains[i].why->nsteps)
			print_steps(t, r->chains[i].why);
		else
			printf("  (no chain found: the analysis differs from the cached result; rerun with --no-cache)\n");
	}
	if (ss->arch_mismatch)
		printf("architecture: %s\n", ss->arch_mismatch);
	if (ss->res->nunanalysed) {
		dg_autofree char *line = sc_unanalysed_line(ss->res);
		printf("not analysed: %s: whether they make %s is not known\n", line, o->canon ? o->canon : o->name);
	}
}

int cmd_explain(int argc, char **argv)
{
	struct explain_opts o = {0};
	sc_args_init(&o.s);
	int rc = explain_parse(argc, argv, &o);
	if (rc >= 0) {
		sc_args_free(&o.s);
		return rc;
	}
	struct sc_session ss;
	struct explain_result r = {0};
	rc = sc_run(o.image, &o.s, &ss);
	if (!rc)
		rc = explain_run(&o, &ss, &r);
	if (!rc) {
		if (o.s.a.json)
			cli_print_json(explain_json(&o, &ss, &r));
		else
			explain_print(&o, &ss, &r);
	}
	explain_result_free(&r);
	sc_done(&ss);
	sc_args_free(&o.s);
	return rc;
}
