/* dockergate syscalls IMAGE [PATH...]: the system calls each program of an
 * image can make (function-level reachability over its disassembled code), and
 * dockergate generate IMAGE -o FILE: a deny-by-default Docker seccomp profile
 * allowing the image's union. Both share the analysis options (cli_sc_opt). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "dockergate/hybrid.h"
#include "dockergate/objdb.h"
#include "dockergate/trace.h"
#include "dockergate/runtime_base.h"
#include "dockergate/profile.h"
#include "dockergate/scope.h"
#include "dockergate/syscalls.h"
#include "dockergate/util.h"

#define SC_HELP_OPTS                                                                                   \
	"  --precision LEVEL   function (default): only functions reachable from the roots count;\n" \
	"                      object: every syscall site of every loaded object (the DockerGate\n" \
	"                      seed's method, for comparison)\n"                                     \
	"  --strict            exit 7 when a reachable syscall site's number is not known\n"         \
	"  --jobs N            threads for disassembly (default: the number of CPUs)\n"         \
	"  --scope SCOPE       image (default): every executable of the image and every library\n" \
	"                      no program loads (as dlopen'd), so `docker exec` of any program\n"  \
	"                      keeps working; entrypoint: what can run from the config's\n"       \
	"                      Entrypoint + Cmd (scripts, interpreters, exec wrappers, sh -c),\n"  \
	"                      falling back to the image's programs or libraries where that is\n" \
	"                      not known statically (each reason is reported); ARGS after the\n"  \
	"                      IMAGE replace the Cmd, as in `docker run IMAGE ARGS`\n"            \
	"  --exec-fallback F   entrypoint scope, a program that runs programs chosen at run time:\n" \
	"                      image (default: every executable) or none (trust it runs only what\n" \
	"                      the closure has; check with `dockergate verify`)\n"

enum { OPT_PRECISION = OPT_FIRST_CMD_OPT, OPT_STRICT, OPT_JOBS, OPT_SCOPE, OPT_EXEC_FALLBACK, OPT_OUTPUT, OPT_OBJECTS };

#define SC_LONGOPTS                                                                                    \
	{"precision", required_argument, NULL, OPT_PRECISION}, {"strict", no_argument, NULL, OPT_STRICT}, \
		{"jobs", required_argument, NULL, OPT_JOBS}, {"scope", required_argument, NULL, OPT_SCOPE},         \
		{"exec-fallback", required_argument, NULL, OPT_EXEC_FALLBACK}

struct sc_args {
	struct cli_image_args a;
	struct dg_sc_opts so;
	int strict, jobs;
	enum dg_scope_kind scope;
	enum dg_exec_fallback exec_fallback;
	struct dg_strv args; /* --scope entrypoint: ARGS replacing the Cmd, as `docker run IMAGE ARGS` */
};

static int sc_opt(const char *cmd, struct sc_args *s, int c, const char *arg)
{
	switch (c) {
	case OPT_PRECISION:
		if (!strcmp(arg, "function"))
			s->so.precision = DG_PREC_FUNCTION;
		else if (!strcmp(arg, "object"))
			s->so.precision = DG_PREC_OBJECT;
		else
			return cli_usage_error(cmd, "--precision: expected 'function' or 'object', got '%s'", arg);
		return 0;
	case OPT_STRICT:
		s->strict = 1;
		return 0;
	case OPT_SCOPE:
		if (!strcmp(arg, "image"))
			s->scope = DG_SCOPE_IMAGE;
		else if (!strcmp(arg, "entrypoint"))
			s->scope = DG_SCOPE_ENTRYPOINT;
		else
			return cli_usage_error(cmd, "--scope: expected 'image' or 'entrypoint', got '%s'", arg);
		return 0;
	case OPT_EXEC_FALLBACK:
		if (!strcmp(arg, "image"))
			s->exec_fallback = DG_EXEC_FALLBACK_IMAGE;
		else if (!strcmp(arg, "none"))
			s->exec_fallback = DG_EXEC_FALLBACK_NONE;
		else
			return cli_usage_error(cmd, "--exec-fallback: expected 'image' or 'none', got '%s'", arg);
		return 0;
	case OPT_JOBS: {
		char *end;
		errno = 0;
		long v = strtol(arg, &end, 10);
		if (errno || *end || v < 1 || v > 64)
			return cli_usage_error(cmd, "--jobs: expected a number from 1 to 64, got '%s'", arg);
		s->jobs = (int)v;
		return 0;
	}
	default:
		return cli_common_opt(cmd, &s->a, c, arg);
	}
}

static const char *prec_name(enum dg_precision p)
{
	return p == DG_PREC_OBJECT ? "object" : "function";
}

/* Progress on stderr when it is a terminal and the analysis takes more than a second:
 * one line, rewritten at most ten times a second, erased at the end. */
struct progress_state {
	struct timespec start, last;
	int shown;
};

static double since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void show_progress(void *ud, const char *phase, size_t done, size_t total)
{
	struct progress_state *ps = ud;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (since(&ps->start, &now) < 1.0 || (ps->shown && since(&ps->last, &now) < 0.1))
		return;
	ps->last = now;
	ps->shown = 1;
	fprintf(stderr, "\r\033[K%s: %s %zu/%zu", cli_prog, phase, done, total);
	fflush(stderr);
}

/* What one analysed image holds on to until sc_done. */
struct sc_session {
	struct dg_image *img;
	struct dg_objdb *db;
	struct dg_cache *cache;
	struct dg_sc_result *res;
	struct dg_scope *scope; /* --scope entrypoint: how each target was reached */
};

/* Loads IMAGE and analyses it into *SS (released by sc_done, also after a failure). */
static int sc_run(const char *spec, struct sc_args *s, struct sc_session *ss)
{
	memset(ss, 0, sizeof *ss);
	if (s->scope == DG_SCOPE_ENTRYPOINT && s->so.paths.n)
		return cli_usage_error(NULL, "PATH arguments and --scope entrypoint exclude each other");
	int rc = cli_load_image(spec, &s->a, &ss->img);
	if (rc)
		return rc;
	s->so.ld_library_path = dg_ld_library_path(&dg_image_info(ss->img)->config.env);
	ss->cache = cli_open_cache(&s->a);
	ss->db = dg_objdb_new(dg_image_fs(ss->img), ss->cache);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	dg_objdb_set_threads(ss->db, s->jobs ? s->jobs : cpus > 0 ? (int)cpus : 1);
	struct dg_error err = DG_ERROR_INIT;
	struct progress_state ps = {0};
	clock_gettime(CLOCK_MONOTONIC, &ps.start);
	struct dg_progress pg = {show_progress, &ps};
	if (isatty(STDERR_FILENO))
		dg_objdb_set_progress(ss->db, &pg);
	if (s->scope == DG_SCOPE_ENTRYPOINT) {
		struct dg_image_config cf = dg_image_info(ss->img)->config;
		if (s->args.n) {
			cf.cmd = s->args;
			cf.has_cmd = 1;
		}
		rc = dg_sc_entrypoint(ss->db, &cf, &s->so, s->exec_fallback, &ss->res, &ss->scope, &err);
	}
	else
		rc = dg_sc_analyse(ss->db, &s->so, &ss->res, &err);
	dg_objdb_set_progress(ss->db, NULL);
	if (ps.shown)
		fputs("\r\033[K", stderr);
	return rc < 0 ? cli_fail(&err) : 0;
}

/* The option loop of syscalls and explain: the shared options, --help, and one flag of the
 * command's own (FLAG_OPT, setting *FLAG). Returns -1 to go on, else the exit status. */
static int sc_parse(const char *cmd, int argc, char **argv, const struct option *lo, const char *help, int flag_opt,
		    int *flag, struct sc_args *s)
{
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == OPT_HELP) {
			fputs(help, stdout);
			return 0;
		}
		if (c == flag_opt) {
			*flag = 1;
			continue;
		}
		int r = sc_opt(cmd, s, c, optarg);
		if (r)
			return r;
	}
	return -1;
}

static void sc_done(struct sc_session *ss)
{
	dg_sc_result_free(ss->res);
	dg_scope_free(ss->scope);
	cli_close_cache(ss->cache, ss->db);
	dg_objdb_free(ss->db);
	dg_image_free(ss->img);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static json_t *names_json(const uint8_t *bits, int i386)
{
	json_t *a = json_array();
	/* sorted by name */
	const char *v[DG_NSYSCALLS];
	size_t n = 0;
	for (unsigned k = 0; k < DG_NSYSCALLS; k++)
		if (dg_reach_has(bits, k) && dg_syscall_name(k, i386))
			v[n++] = dg_syscall_name(k, i386);
	if (n > 1)
		qsort(v, n, sizeof *v, cmp_str);
	for (size_t i = 0; i < n; i++)
		cli_json_push(a, cli_json_str(v[i]));
	return a;
}

/* The numbers of NAMES (from names_json), in the same order. */
static json_t *nums_json(json_t *names, int i386)
{
	json_t *a = json_array(), *v;
	size_t i;
	json_array_foreach(names, i, v) cli_json_push(a, json_integer(dg_syscall_number(json_string_value(v), i386)));
	return a;
}

static size_t count_bits(const uint8_t *bits)
{
	size_t n = 0;
	for (unsigned k = 0; k < DG_NSYSCALLS; k++)
		n += (size_t)dg_reach_has(bits, k);
	return n;
}

/* Unknown numbers libseccomp cannot name become problems: a profile names syscalls. */
static void unnamed(const uint8_t *bits, int i386, struct dg_strv *out)
{
	for (unsigned k = 0; k < DG_NSYSCALLS; k++)
		if (dg_reach_has(bits, k) && !dg_syscall_name(k, i386)) {
			char *m = dg_xasprintf("syscall %u (%s) has no name in libseccomp's table: left out", k,
					       i386 ? "i386" : "x86-64");
			dg_strv_push(out, m);
			free(m);
		}
}

static const char *const exec_kinds[] = {"program", "program in PATH", "shell command", "library"};

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
	if (t->reach && t->reach->execs_truncated)
		printf("  (more names: only the first %zu are listed)\n", t->reach->nexecs);
}

static json_t *target_json(const struct dg_sc_target *t)
{
	json_t *o = json_object(), *unk = json_array(), *objs = json_array(), *pr = json_array();
	cli_json_set(o, "path", cli_json_str(t->path));
	cli_json_set(o, "kind", cli_json_str(t->library ? "library" : "program"));
	cli_json_set(o, "calls_dlopen", json_boolean(t->calls_dlopen));
	cli_json_set(o, "calls_exec", json_boolean(t->calls_exec));
	cli_json_set(o, "runs_and_loads", execs_json(t));
	const struct dg_reach *r = t->reach;
	json_t *nm = r ? names_json(r->native, 0) : json_array();
	cli_json_set(o, "syscalls", nm);
	cli_json_set(o, "numbers", nums_json(nm, 0));
	if (r && r->has_i386) {
		nm = names_json(r->i386, 1);
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
		unnamed(r->native, 0, &un);
		for (size_t i = 0; i < un.n; i++)
			cli_json_push(pr, cli_json_str(un.v[i]));
		dg_strv_free(&un);
	}
	cli_json_set(o, "problems", pr);
	return o;
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
	printf("%s%s: %zu syscalls", t->path, t->library ? " (library)" : "", count_bits(r->native));
	if (r->has_i386)
		printf(" + %zu i386", count_bits(r->i386));
	printf(", %zu unknown sites\n", r->nunknown);
	json_t *names = names_json(r->native, 0);
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
		names = names_json(r->i386, 1);
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
	for (size_t k = 0; k < t->problems.n; k++)
		printf("  problem: %s\n", t->problems.v[k]);
}

static json_t *strv_to_json(const struct dg_strv *v)
{
	json_t *a = json_array();
	for (size_t i = 0; i < v->n; i++)
		cli_json_push(a, cli_json_str(v->v[i]));
	return a;
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
	if (sc->all_libraries_why)
		printf("scope: every library no program loads, as dlopen'd: %s\n", sc->all_libraries_why);
	for (size_t i = 0; i < sc->problems.n; i++)
		printf("scope problem: %s\n", sc->problems.v[i]);
}

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

int cmd_syscalls(int argc, char **argv)
{
	static const struct option lo[] = {CLI_IMAGE_LONGOPTS, SC_LONGOPTS,
					   {"objects", no_argument, NULL, OPT_OBJECTS}, {0, 0, 0, 0}};
	struct sc_args s = {0};
	cli_image_args_init(&s.a);
	int objects = 0;
	int pr = sc_parse("syscalls", argc, argv, lo, syscalls_help, OPT_OBJECTS, &objects, &s);
	if (pr >= 0)
		return pr;
	if (argc - optind < 1)
		return cli_usage_error("syscalls", "expected IMAGE");
	for (int i = optind + 1; i < argc; i++)
		dg_strv_push(s.scope == DG_SCOPE_ENTRYPOINT ? &s.args : &s.so.paths, argv[i]);
	struct sc_session ss;
	int rc = sc_run(argv[optind], &s, &ss);
	if (rc) {
		dg_strv_free(&s.args);
		dg_strv_free(&s.so.paths);
		sc_done(&ss);
		return rc;
	}
	struct dg_sc_result *res = ss.res;
	if (s.a.json) {
		json_t *top = json_object(), *ts = json_array();
		cli_json_set(top, "image", cli_json_str(argv[optind]));
		cli_json_set(top, "precision", cli_json_str(prec_name(s.so.precision)));
		for (size_t i = 0; i < res->n; i++)
			cli_json_push(ts, target_json(&res->t[i]));
		cli_json_set(top, "executables", ts);
		cli_json_set(top, "union", names_json(res->native, 0));
		if (res->has_i386)
			cli_json_set(top, "i386_union", names_json(res->i386, 1));
		cli_json_set(top, "unknown_sites", json_integer((json_int_t)res->ndistinct_unknown));
		if (ss.scope)
			cli_json_set(top, "scope", cli_scope_json(ss.scope));
		cli_print_json(top);
	} else {
		if (ss.scope)
			scope_print(ss.scope);
		for (size_t i = 0; i < res->n; i++)
			print_target(&res->t[i], objects);
		printf("union: %zu syscalls", count_bits(res->native));
		if (res->has_i386)
			printf(" + %zu i386", count_bits(res->i386));
		printf(" over %zu programs and libraries, %zu distinct unknown sites (precision %s)\n", res->n,
		       res->ndistinct_unknown, prec_name(s.so.precision));
	}
	if (s.strict && res->nunknown) {
		cli_say("syscalls", "error", "%zu reachable syscall sites with unknown numbers (--strict)",
			res->ndistinct_unknown);
		rc = DG_E_INCOMPLETE;
	}
	dg_strv_free(&s.so.paths);
	dg_strv_free(&s.args);
	sc_done(&ss);
	return rc;
}

/* ---- generate ---- */

static const char generate_help[] =
	"usage: dockergate generate IMAGE -o FILE [OPTIONS] [--scope entrypoint [-- ARGS...]]\n"
	"       dockergate generate IMAGE -o FILE --hybrid TRACE [--report FILE] [OPTIONS]\n"
	"       dockergate generate --from-trace TRACE -o FILE [OPTIONS]\n\n"
	"Writes a deny-by-default seccomp profile that allows the union of what\n"
	"`dockergate syscalls IMAGE` finds for every program and library of the image\n"
	"(architectures: x86-64, plus x86 only when the image has reachable i386 code).\n"
	"Syscalls with a libc fallback that are not allowed while their fallback is\n"
	"(clone3 -> clone, statx, faccessat2, ...) are answered with ENOSYS. The profile\n"
	"is compiled with libseccomp before it is written (every name must be known to\n"
	"it) and written atomically (a temp file renamed into place). A summary goes to\n"
	"stderr (--json: as one JSON object). SOURCE_DATE_EPOCH, when set, is the date\n"
	"of the provenance block.\n\n"
	"Options:\n"
	"  -o, --output FILE   where to write the profile ('-' for stdout)\n"
	"  --format FORMAT     docker (default; also a kubelet localhost/ profile), oci (the\n"
	"                      runtime-spec linux.seccomp object), k8s (a security-profiles-\n"
	"                      operator SeccompProfile in YAML), k8s-json (the same in JSON),\n"
	"                      bpf (libseccomp's compiled filter), pfc (its readable form)\n"
	"  --name NAME         metadata.name of the k8s resource (default: from the image)\n"
	"  --deny-errno ERRNO  what denied syscalls return: a number or a name such as EPERM\n"
	"                      (default), EACCES, ENOSYS\n"
	"  --base PROFILE      never allow what PROFILE denies: docker-default (Docker's default\n"
	"                      profile for a default `docker run` on x86-64) or a Docker-format file\n"
	"  --runtime-base RT   also allow what the container runtime calls between installing the\n"
	"                      filter and starting the entrypoint: runc, crun, all (default: both)\n"
	"                      or none (measured with the real runtimes: data/runtime-base.json);\n"
	"                      any but none also allows restart_syscall (the kernel's restarts)\n"
	"  --from-trace TRACE  no IMAGE: the profile allows what the traced containers made (a\n"
	"                      `dockergate trace` file; repeat for the union of several runs) plus\n"
	"                      the runtime base: the dynamic method, blind to paths no run took\n"
	"  --hybrid TRACE      the union of the image's analysis and the trace (repeatable), and a\n"
	"                      report on stderr: what the traces saw that the analysis lacks (each\n"
	"                      a soundness bug, with the executables that made it; exit 0 still),\n"
	"                      what each traced program made beyond its own analysis, and what the\n"
	"                      analysis allows that no trace saw (candidates for tightening)\n"
	"  --report FILE       with --hybrid: also write that report as JSON to FILE\n" SC_HELP_OPTS
	CLI_IMAGE_OPTS_HELP;

enum { OPT_FORMAT = OPT_OBJECTS + 1, OPT_NAME, OPT_DENY_ERRNO, OPT_BASE, OPT_RUNTIME_BASE, OPT_FROM_TRACE, OPT_HYBRID,
       OPT_REPORT };

static void join(struct dg_buf *b, const struct dg_strv *v);

static void bits_names(const uint8_t *bits, int i386, struct dg_buf *b, size_t max)
{
	size_t n = 0;
	for (unsigned k = 0; k < DG_NSYSCALLS; k++)
		if (dg_reach_has(bits, k)) {
			if (n++ == max) {
				dg_buf_puts(b, " ...");
				return;
			}
			const char *nm = dg_syscall_name(k, i386);
			if (nm)
				dg_buf_printf(b, "%s%s%s", n > 1 ? " " : "", i386 ? "i386:" : "", nm);
			else
				dg_buf_printf(b, "%s%s%u", n > 1 ? " " : "", i386 ? "i386:" : "", k);
		}
}

static json_t *bits_json(const uint8_t *bits, int i386)
{
	json_t *a = json_array();
	for (unsigned k = 0; k < DG_NSYSCALLS; k++)
		if (dg_reach_has(bits, k)) {
			const char *nm = dg_syscall_name(k, i386);
			cli_json_push(a, nm ? cli_json_str(nm) : json_integer(k));
		}
	return a;
}

/* The hybrid report (hybrid.h) as JSON; RTBASE: the runtime base's names (allowed anyway). */
static json_t *hybrid_json(const struct dg_hybrid *h, const struct dg_strv *traces, const struct dg_strv *rtbase)
{
	json_t *o = json_object(), *miss = json_array(), *exes = json_array();
	cli_json_set(o, "traces", strv_to_json(traces));
	cli_json_set(o, "seen_x86_64", bits_json(h->seen[0], 0));
	cli_json_set(o, "seen_i386", bits_json(h->seen[1], 1));
	for (size_t i = 0; i < h->nmissing; i++) {
		const struct dg_hybrid_missing *m = &h->missing[i];
		const char *nm = dg_syscall_name(m->nr, m->i386);
		json_t *j = json_object();
		cli_json_set(j, "syscall", cli_json_str(nm));
		cli_json_set(j, "number", json_integer(m->nr));
		cli_json_set(j, "arch", cli_json_str(m->i386 ? "i386" : "x86_64"));
		cli_json_set(j, "count", json_integer((json_int_t)m->count));
		cli_json_set(j, "executables", strv_to_json(&m->exes));
		cli_json_set(j, "allowed_by_runtime_base", json_boolean(!m->i386 && dg_strv_has(rtbase, nm)));
		cli_json_push(miss, j);
	}
	cli_json_set(o, "seen_not_static", miss);
	for (size_t i = 0; i < h->nexes; i++) {
		const struct dg_hybrid_exe *x = &h->exes[i];
		json_t *j = json_object();
		cli_json_set(j, "path", cli_json_str(x->path));
		cli_json_set(j, "program", cli_json_str(x->program));
		cli_json_set(j, "unmapped", cli_json_str(x->why));
		cli_json_set(j, "beyond_its_analysis", strv_to_json(&x->beyond));
		cli_json_push(exes, j);
	}
	cli_json_set(o, "executables", exes);
	cli_json_set(o, "static_not_seen_x86_64", bits_json(h->unseen[0], 0));
	cli_json_set(o, "static_not_seen_i386", bits_json(h->unseen[1], 1));
	return o;
}

static void hybrid_print(const struct dg_hybrid *h, size_t ntraces)
{
	size_t nseen = count_bits(h->seen[0]) + count_bits(h->seen[1]);
	cli_say(NULL, "hybrid", "%zu trace%s, %zu syscalls seen; %zu seen but not found by the analysis%s",
		ntraces, ntraces == 1 ? "" : "s", nseen, h->nmissing,
		h->nmissing ? " (soundness bugs of the analysis; the profile allows them from the traces):" : "");
	for (size_t i = 0; i < h->nmissing; i++) {
		const struct dg_hybrid_missing *m = &h->missing[i];
		const char *nm = dg_syscall_name(m->nr, m->i386);
		struct dg_buf b = {0};
		join(&b, &m->exes);
		cli_say(NULL, "hybrid", "  %s%s (%u) by %.*s, %llu time%s", m->i386 ? "i386:" : "",
			nm ? nm : "?", m->nr, (int)b.len, b.data, (unsigned long long)m->count, m->count == 1 ? "" : "s");
		dg_buf_free(&b);
	}
	for (size_t i = 0; i < h->nexes; i++) {
		const struct dg_hybrid_exe *x = &h->exes[i];
		if (!x->program) {
			cli_say(NULL, "hybrid", "traced %s: %s", x->path, x->why);
			continue;
		}
		if (!x->beyond.n)
			continue;
		struct dg_buf b = {0};
		join(&b, &x->beyond);
		cli_say(NULL, "hybrid", "traced %s made %zu beyond %s's own analysis (a dlopen'd module's, or a gap): %.*s",
			x->path, x->beyond.n, x->program, (int)b.len, b.data);
		dg_buf_free(&b);
	}
	struct dg_buf b = {0};
	bits_names(h->unseen[0], 0, &b, 400);
	bits_names(h->unseen[1], 1, &b, 400);
	cli_say(NULL, "hybrid", "%zu allowed by the analysis, seen in no trace (candidates for tightening): %.*s",
		count_bits(h->unseen[0]) + count_bits(h->unseen[1]), (int)b.len, b.data);
	dg_buf_free(&b);
}

static const char *const format_names[] = {"docker", "oci", "k8s", "k8s-json", "bpf", "pfc"};

int cli_parse_format(const char *cmd, const char *arg, enum dg_profile_format *out)
{
	static const enum dg_profile_format fm[] = {DG_PF_DOCKER, DG_PF_OCI, DG_PF_K8S,
						    DG_PF_K8S_JSON, DG_PF_BPF, DG_PF_PFC};
	for (size_t i = 0; i < sizeof fm / sizeof *fm; i++)
		if (!strcmp(arg, format_names[i])) {
			*out = fm[i];
			return 0;
		}
	return cli_usage_error(cmd, "--format: expected docker, oci, k8s, k8s-json, bpf or pfc, got '%s'", arg);
}

const char *cli_format_name(enum dg_profile_format f)
{
	return format_names[f];
}

/* A DNS-1123 name from IMAGE: its last path element (or the REF of docker:REF),
 * lower-cased, without a .tar/.tgz/... suffix, other characters as '-'. */
static char *k8s_name_from(const char *spec)
{
	const char *s = strrchr(spec, '/');
	s = s ? s + 1 : spec;
	const char *c = strchr(s, ':');
	if (!strrchr(spec, '/') && c && c[1])
		s = c + 1; /* docker:REF, dir:NAME */
	char *n = dg_xstrdup(s);
	static const char *const suf[] = {".tar.gz", ".tar.zst", ".tar.xz", ".tgz", ".tar"};
	for (size_t i = 0; i < sizeof suf / sizeof *suf; i++) {
		size_t ln = strlen(n), ls = strlen(suf[i]);
		if (ln > ls && !strcmp(n + ln - ls, suf[i])) {
			n[ln - ls] = 0;
			break;
		}
	}
	struct dg_buf b = {0};
	for (char *p = n; *p && b.len < 200; p++) {
		char ch = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
		int an = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
		if (an || ch == '.')
			dg_buf_putc(&b, ch);
		else if (b.len && b.data[b.len - 1] != '-')
			dg_buf_putc(&b, '-');
	}
	free(n);
	while (b.len && (b.data[b.len - 1] == '-' || b.data[b.len - 1] == '.'))
		b.len--;
	size_t skip = 0;
	while (skip < b.len && (b.data[skip] == '-' || b.data[skip] == '.'))
		skip++;
	char *r = b.len > skip ? dg_xstrndup(b.data + skip, b.len - skip) : dg_xstrdup("dockergate-profile");
	dg_buf_free(&b);
	return r;
}

/* How many names resolve to an x86-64 syscall (what "N allowed" counts). */
size_t cli_count_x86_64(const struct dg_profile *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->allow.n; i++)
		n += dg_syscall_number(p->allow.v[i], 0) >= 0;
	return n;
}


static void join(struct dg_buf *b, const struct dg_strv *v)
{
	for (size_t i = 0; i < v->n; i++)
		dg_buf_printf(b, "%s%s", i ? ", " : "", v->v[i]);
}

int cmd_generate(int argc, char **argv)
{
	static const struct option lo[] = {CLI_IMAGE_LONGOPTS,
					   SC_LONGOPTS,
					   {"output", required_argument, NULL, OPT_OUTPUT},
					   {"format", required_argument, NULL, OPT_FORMAT},
					   {"name", required_argument, NULL, OPT_NAME},
					   {"deny-errno", required_argument, NULL, OPT_DENY_ERRNO},
					   {"base", required_argument, NULL, OPT_BASE},
					   {"runtime-base", required_argument, NULL, OPT_RUNTIME_BASE},
					   {"from-trace", required_argument, NULL, OPT_FROM_TRACE},
					   {"hybrid", required_argument, NULL, OPT_HYBRID},
					   {"report", required_argument, NULL, OPT_REPORT},
					   {0, 0, 0, 0}};
	struct sc_args s = {0};
	cli_image_args_init(&s.a);
	const char *output = NULL, *name = NULL, *base_spec = NULL, *runtime_spec = "all", *report = NULL;
	struct dg_strv from_trace = {0}, hybrid = {0};
	enum dg_profile_format format = DG_PF_DOCKER;
	int c, deny_errno = 1;
	while ((c = getopt_long(argc, argv, "o:", lo, NULL)) != -1) {
		int r = 0;
		switch (c) {
		case OPT_HELP:
			fputs(generate_help, stdout);
			return 0;
		case 'o':
		case OPT_OUTPUT:
			output = optarg;
			break;
		case OPT_FORMAT:
			r = cli_parse_format("generate", optarg, &format);
			break;
		case OPT_NAME:
			name = optarg;
			break;
		case OPT_DENY_ERRNO:
			if ((deny_errno = dg_errno_parse(optarg)) < 0)
				r = cli_usage_error("generate", "--deny-errno: expected a number from 1 to 4095 or an errno name such as EPERM, got '%s'",
						    optarg);
			break;
		case OPT_BASE:
			base_spec = optarg;
			break;
		case OPT_RUNTIME_BASE:
			runtime_spec = optarg;
			if (strcmp(optarg, "none") && strcmp(optarg, "runc") && strcmp(optarg, "crun") && strcmp(optarg, "all"))
				r = cli_usage_error("generate", "--runtime-base: expected none, runc, crun or all, got '%s'",
						    optarg);
			break;
		case OPT_FROM_TRACE:
			dg_strv_push(&from_trace, optarg);
			break;
		case OPT_HYBRID:
			dg_strv_push(&hybrid, optarg);
			break;
		case OPT_REPORT:
			report = optarg;
			break;
		default:
			r = sc_opt("generate", &s, c, optarg);
		}
		if (r) {
			dg_strv_free(&from_trace);
			dg_strv_free(&hybrid);
			return r;
		}
	}
	const char *bad = NULL;
	if (from_trace.n && hybrid.n)
		bad = "--from-trace and --hybrid: choose one (--hybrid TRACE is the union with the image's analysis)";
	else if (from_trace.n && argc > optind)
		bad = "--from-trace: no IMAGE (the profile comes from the traces alone; --hybrid TRACE adds the image's analysis)";
	else if (report && !hybrid.n)
		bad = "--report: only with --hybrid";
	else if (!from_trace.n && (argc - optind < 1 || (argc - optind > 1 && s.scope != DG_SCOPE_ENTRYPOINT)))
		bad = "expected exactly one IMAGE (ARGS after it only with --scope entrypoint)";
	if (bad) {
		dg_strv_free(&from_trace);
		dg_strv_free(&hybrid);
		return cli_usage_error("generate", "%s", bad);
	}
	for (int i = optind + 1; i < argc; i++)
		dg_strv_push(&s.args, argv[i]);
	if (!output || !*output) {
		dg_strv_free(&from_trace);
		dg_strv_free(&hybrid);
		dg_strv_free(&s.args);
		return cli_usage_error("generate", "-o FILE is required");
	}
	struct dg_error err = DG_ERROR_INIT;
	long long date;
	/* the traces, like the base, are read before the (long) analysis: a bad file fails fast */
	const struct dg_strv *trace_files = from_trace.n ? &from_trace : &hybrid;
	struct dg_trace **traces = dg_xcalloc(trace_files->n ? trace_files->n : 1, sizeof *traces);
	size_t ntraces = 0;
	int rc = 0;
	for (size_t i = 0; i < trace_files->n && !rc; i++)
		if (dg_trace_load(trace_files->v[i], &traces[ntraces], &err) < 0)
			rc = cli_fail(&err);
		else
			ntraces++;
	if (!rc && dg_source_date(&date, &err) < 0)
		rc = cli_fail(&err);
	if (rc) {
		for (size_t i = 0; i < ntraces; i++)
			dg_trace_free(traces[i]);
		free(traces);
		dg_strv_free(&from_trace);
		dg_strv_free(&hybrid);
		dg_strv_free(&s.args);
		return rc;
	}
	/* the base and Docker's default are read before the (long) analysis: a bad file fails fast */
	struct dg_profile base, dflt, p;
	struct dg_strv warnings = {0}, removed = {0}, enosys = {0}, base_warn = {0};
	dg_profile_init(&p);
	dg_profile_init(&base);
	struct sc_session ss = {0};
	struct dg_sc_result *res = NULL;
	struct dg_hybrid *hy = NULL;
	struct dg_strv runtime = {0};
	char *kname = NULL;
	struct dg_buf out = {0};
	dg_profile_init(&dflt);
	if (dg_profile_load_spec("docker-default", &dflt, NULL, &err) < 0 ||
	    (base_spec && dg_profile_load_spec(base_spec, &base, &base_warn, &err) < 0)) {
		rc = cli_fail(&err);
		goto done;
	}
	uint8_t seen[2][DG_NSYSCALLS / 8];
	dg_hybrid_seen(traces, ntraces, seen);
	if (from_trace.n) {
		/* the dynamic method: what the runs made */
		dg_profile_from_bits(&p, seen[0], seen[1], count_bits(seen[1]) > 0);
	} else {
		if ((rc = sc_run(argv[optind], &s, &ss)))
			goto done;
		res = ss.res;
		if (hybrid.n) {
			hy = dg_hybrid_compare(dg_objdb_fs(ss.db), res, traces, ntraces);
			uint8_t u[2][DG_NSYSCALLS / 8];
			for (unsigned i = 0; i < DG_NSYSCALLS / 8; i++) {
				u[0][i] = (uint8_t)(res->native[i] | seen[0][i]);
				u[1][i] = (uint8_t)(res->i386[i] | seen[1][i]);
			}
			dg_profile_from_bits(&p, u[0], u[1], res->has_i386 || count_bits(seen[1]) > 0);
		} else {
			dg_profile_from_bits(&p, res->native, res->i386, res->has_i386);
		}
	}
	for (size_t i = 0; i < ntraces; i++) {
		const struct dg_trace *t = traces[i];
		if (t->lost) {
			char *m = dg_xasprintf("%s: %llu syscall stops were lost by the recorder: the trace may lack calls",
					       trace_files->v[i], (unsigned long long)t->lost);
			dg_strv_push(&warnings, m);
			free(m);
		}
		if (t->exit_status > 0 || t->timed_out) {
			char *m = t->timed_out ? dg_xasprintf("%s: the traced run was stopped at its timeout", trace_files->v[i])
					       : dg_xasprintf("%s: the traced workload exited with status %d", trace_files->v[i],
							      t->exit_status);
			dg_strv_push(&warnings, m);
			free(m);
		}
	}
	if (from_trace.n)
		dg_strv_push(&warnings, "a profile from traces allows only what the traced runs made: code paths they did not "
					"take (errors, other requests, signals, exec'd tools) will be denied");
	/* the container runtime's own calls, before the base: a base never adds, only removes */
	size_t runtime_added = 0;
	if (dg_runtime_base(runtime_spec, &runtime, &err) < 0)
		dg_strv_push(&warnings, err.msg);
	for (size_t i = 0; i < runtime.n; i++)
		if (!dg_profile_allows(&p, runtime.v[i])) {
			dg_profile_allow(&p, runtime.v[i]);
			runtime_added++;
		}
	p.runtime_base = dg_xstrdup(runtime_spec);
	p.default_errno = deny_errno;
	p.tool = dg_xstrdup("dockergate " DG_VERSION);
	p.method = dg_xstrdup(from_trace.n ? "trace" : hybrid.n ? "hybrid" : "static");
	if (ntraces)
		p.traces = (long long)ntraces;
	if (ss.img) {
		const struct dg_image_info *ii = dg_image_info(ss.img);
		if (ii->config_digest)
			p.image = dg_xstrdup(ii->config_digest);
	}
	p.scope = dg_xstrdup(from_trace.n ? "trace" : ss.scope ? "entrypoint" : "image");
	if (ss.scope) {
		if (ss.scope->all_programs_why) {
			char *m = dg_xasprintf("scope entrypoint: every executable of the image is included: %s",
					       ss.scope->all_programs_why);
			dg_strv_push(&warnings, m);
			free(m);
		}
		if (ss.scope->all_libraries_why) {
			char *m = dg_xasprintf("scope entrypoint: every library no program loads is included (as dlopen'd): %s",
					       ss.scope->all_libraries_why);
			dg_strv_push(&warnings, m);
			free(m);
		}
		for (size_t i = 0; i < ss.scope->problems.n && i < 10; i++) {
			char *m = dg_xasprintf("scope entrypoint: %s", ss.scope->problems.v[i]);
			dg_strv_push(&warnings, m);
			free(m);
		}
	}
	if (res) {
		p.precision = dg_xstrdup(prec_name(s.so.precision));
		p.unknown_sites = (long long)res->ndistinct_unknown;
		unnamed(res->native, 0, &warnings);
		if (res->has_i386)
			unnamed(res->i386, 1, &warnings);
	}
	p.date = date;
	if (ntraces) {
		unnamed(seen[0], 0, &warnings);
		unnamed(seen[1], 1, &warnings);
	}
	if (base_spec) {
		dg_profile_intersect(&p, &base, &removed);
		for (size_t i = 0; i < base_warn.n; i++)
			dg_strv_push(&warnings, base_warn.v[i]);
		if (removed.n) {
			struct dg_buf b = {0};
			dg_buf_printf(&b, "the base (%s) denies %zu syscalls the image's code can make, left out: ", base_spec,
				      removed.n);
			join(&b, &removed);
			char *m = dg_buf_steal(&b);
			dg_strv_push(&warnings, m);
			free(m);
		}
	}
	dg_profile_add_fallbacks(&p, &enosys);
	if (res && res->ndistinct_unknown) {
		char *m = dg_xasprintf("%zu reachable syscall sites with unknown numbers (see `dockergate syscalls`)",
				       res->ndistinct_unknown);
		dg_strv_push(&warnings, m);
		free(m);
	}
	if ((format == DG_PF_K8S || format == DG_PF_K8S_JSON) && deny_errno != 1)
		dg_strv_push(&warnings, "a SeccompProfile has no default errno: denied syscalls return EPERM there");
	kname = name ? dg_xstrdup(name) : from_trace.n ? (traces[0]->image ? k8s_name_from(traces[0]->image)
									 : dg_xstrdup("dockergate-trace"))
					  : k8s_name_from(argv[optind]);
	if (hy && report) {
		json_t *j = hybrid_json(hy, trace_files, &runtime);
		char *t = cli_json_dump(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		json_decref(j);
		size_t tl = strlen(t);
		t = dg_xrealloc(t, tl + 2);
		t[tl] = '\n';
		if (dg_write_atomic(report, t, tl + 1, &err) < 0)
			rc = cli_fail(&err);
		free(t);
		if (rc)
			goto done;
	}
	if (s.strict && res && res->nunknown) {
		cli_say("generate", "error", "%zu reachable syscall sites with unknown numbers (--strict); nothing written",
			res->ndistinct_unknown);
		rc = DG_E_INCOMPLETE;
	} else if (dg_profile_write(&p, format, kname, &out, &err) < 0 ||
		   dg_write_atomic(output, out.data, out.len, &err) < 0) {
		rc = cli_fail(&err);
	} else {
		size_t nx = cli_count_x86_64(&p), nd = cli_count_x86_64(&dflt), extra = 0;
		for (size_t i = 0; i < p.allow.n; i++)
			extra += dg_syscall_number(p.allow.v[i], 0) >= 0 && !dg_profile_allows(&dflt, p.allow.v[i]);
		if (s.a.json) {
			json_t *j = json_object();
			cli_json_set(j, "output", cli_json_str(output));
			cli_json_set(j, "format", cli_json_str(cli_format_name(format)));
			json_t *ar = json_array();
			cli_json_push(ar, cli_json_str("x86_64"));
			if (p.arches & DG_ARCH_X86)
				cli_json_push(ar, cli_json_str("x86"));
			cli_json_set(j, "architectures", ar);
			cli_json_set(j, "allowed", json_integer((json_int_t)p.allow.n));
			cli_json_set(j, "allowed_x86_64", json_integer((json_int_t)nx));
			cli_json_set(j, "docker_default_x86_64", json_integer((json_int_t)nd));
			cli_json_set(j, "fewer_than_docker_default", json_integer((json_int_t)nd - (json_int_t)nx));
			cli_json_set(j, "not_in_docker_default", json_integer((json_int_t)extra));
			cli_json_set(j, "enosys", strv_to_json(&enosys));
			cli_json_set(j, "runtime_base", cli_json_str(runtime_spec));
			cli_json_set(j, "added_for_runtime", json_integer((json_int_t)runtime_added));
			cli_json_set(j, "removed_by_base", strv_to_json(&removed));
			cli_json_set(j, "unknown_sites", json_integer(res ? (json_int_t)res->ndistinct_unknown : 0));
			cli_json_set(j, "precision", res ? cli_json_str(prec_name(s.so.precision)) : json_null());
			cli_json_set(j, "scope", cli_json_str(p.scope));
			cli_json_set(j, "method", cli_json_str(p.method));
			cli_json_set(j, "programs_and_libraries", json_integer(res ? (json_int_t)res->n : 0));
			if (hy)
				cli_json_set(j, "hybrid", hybrid_json(hy, trace_files, &runtime));
			cli_json_set(j, "warnings", strv_to_json(&warnings));
			char *t = cli_json_dump(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			fprintf(stderr, "%s\n", t);
			free(t);
			json_decref(j);
		} else {
			if (hy)
				hybrid_print(hy, ntraces);
			for (size_t i = 0; i < warnings.n; i++)
				cli_warn(NULL, "%s", warnings.v[i]);
			struct dg_buf line = {0};
			dg_buf_printf(&line, "%zu allowed, %zd %s than Docker's default (%zu)", nx,
				(ssize_t)(nd > nx ? nd - nx : nx - nd), nd >= nx ? "fewer" : "more", nd);
			if (extra)
				dg_buf_printf(&line, ", %zu not in it", extra);
			if (p.arches & DG_ARCH_X86)
				dg_buf_printf(&line, "; x86 (i386) code too: %zu names in all", p.allow.n);
			if (strcmp(runtime_spec, "none"))
				dg_buf_printf(&line, "; %zu added for the container runtime (%s)", runtime_added, runtime_spec);
			if (enosys.n) {
				struct dg_buf b = {0};
				join(&b, &enosys);
				dg_buf_printf(&line, "; ENOSYS for %.*s", (int)b.len, b.data);
				dg_buf_free(&b);
			}
			if (res)
				dg_buf_printf(&line, "; %zu unknown sites, %zu warning%s (%s precision, %zu programs and libraries%s)",
					res->ndistinct_unknown, warnings.n, warnings.n == 1 ? "" : "s",
					prec_name(s.so.precision), res->n, hy ? ", hybrid with the traces" : "");
			else
				dg_buf_printf(&line, "; %zu warning%s (from %zu trace%s)", warnings.n, warnings.n == 1 ? "" : "s",
					ntraces, ntraces == 1 ? "" : "s");
			dg_buf_printf(&line, "%s%s", strcmp(output, "-") ? ", written to " : "", strcmp(output, "-") ? output : "");
			dg_buf_putc(&line, 0);
			cli_say(NULL, NULL, "%s", line.data);
			dg_buf_free(&line);
		}
	}
done:
	for (size_t i = 0; i < ntraces; i++)
		dg_trace_free(traces[i]);
	free(traces);
	dg_strv_free(&from_trace);
	dg_strv_free(&hybrid);
	dg_strv_free(&runtime);
	dg_hybrid_free(hy);
	free(kname);
	dg_buf_free(&out);
	dg_strv_free(&warnings);
	dg_strv_free(&removed);
	dg_strv_free(&enosys);
	dg_strv_free(&base_warn);
	dg_profile_free(&p);
	dg_profile_free(&base);
	dg_profile_free(&dflt);
	sc_done(&ss);
	dg_strv_free(&s.args);
	return rc;
}

/* ---- explain ---- */

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
			cli_json_set(j, "address_taken_by", tk);
		}
		cli_json_push(a, j);
	}
	return a;
}

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
		else if (st->how == DG_STEP_INDIRECT)
			printf("       (its address is held in the data or relocations of %s)\n",
			       t->set->objs[st->taken_obj].path);
	}
}

int cmd_explain(int argc, char **argv)
{
	enum { OPT_ALL = OPT_OBJECTS + 1 };
	static const struct option lo[] = {CLI_IMAGE_LONGOPTS, SC_LONGOPTS, {"all", no_argument, NULL, OPT_ALL},
					   {0, 0, 0, 0}};
	struct sc_args s = {0};
	cli_image_args_init(&s.a);
	int all = 0;
	int pr = sc_parse("explain", argc, argv, lo, explain_help, OPT_ALL, &all, &s);
	if (pr >= 0)
		return pr;
	if (argc - optind < 2)
		return cli_usage_error("explain", "expected IMAGE and SYSCALL");
	const char *name = argv[optind + 1];
	char *end;
	long v = strtol(name, &end, 10);
	int nr = *name && !*end ? (v >= 0 && v < DG_NSYSCALLS ? (int)v : -1) : dg_syscall_number(name, 0);
	if (nr < 0)
		return cli_usage_error("explain", "'%s' is not an x86-64 syscall name or number", name);
	const char *canon = dg_syscall_name((unsigned)nr, 0);
	for (int i = optind + 2; i < argc; i++)
		dg_strv_push(&s.so.paths, argv[i]);
	struct sc_session ss;
	int rc = sc_run(argv[optind], &s, &ss);
	if (rc) {
		dg_strv_free(&s.so.paths);
		sc_done(&ss);
		return rc;
	}
	struct dg_sc_result *res = ss.res;
	size_t nreach = 0;
	for (size_t i = 0; i < res->n; i++)
		nreach += res->t[i].reach && dg_reach_has(res->t[i].reach->native, (unsigned)nr);
	/* the container runtime's own calls are allowed whatever the code does (generate --runtime-base) */
	json_t *rts = json_array();
	const char *rtn[2] = {"runc", "crun"};
	for (int k = 0; k < 2; k++) {
		struct dg_strv rb = {0};
		struct dg_error e2 = DG_ERROR_INIT;
		if (dg_runtime_base(rtn[k], &rb, &e2) == 0 && canon && strcmp(canon, "restart_syscall"))
			for (size_t i = 0; i < rb.n; i++)
				if (!strcmp(rb.v[i], canon))
					cli_json_push(rts, cli_json_str(rtn[k]));
		dg_strv_free(&rb);
	}
	json_t *top = json_object(), *chains = json_array();
	cli_json_set(top, "syscall", cli_json_str(canon ? canon : name));
	cli_json_set(top, "number", json_integer(nr));
	cli_json_set(top, "allowed", json_boolean(nreach > 0 || json_array_size(rts) > 0 ||
							 (canon && !strcmp(canon, "restart_syscall"))));
	cli_json_set(top, "reachable", json_boolean(nreach > 0));
	cli_json_set(top, "analysed", json_integer((json_int_t)res->n));
	cli_json_set(top, "runtime_base", rts);
	if (!s.a.json) {
		int kernel = canon && !strcmp(canon, "restart_syscall");
		if (!nreach && !json_array_size(rts) && !kernel)
			printf("%s (%d) is not allowed: none of the %zu programs and libraries analysed can reach it\n",
			       canon ? canon : name, nr, res->n);
		else if (!nreach)
			printf("%s (%d) is not reachable by the image's code (%zu programs and libraries analysed), but "
			       "allowed: ", canon ? canon : name, nr, res->n);
		else
			printf("%s (%d) is allowed: %zu of %zu programs and libraries can reach it\n", canon ? canon : name,
			       nr, nreach, res->n);
		if (canon && !strcmp(canon, "restart_syscall"))
			printf("the kernel has any task call restart_syscall to restart a sleep or wait interrupted by a "
			       "stop or an ignored signal, so `generate` allows it by default (--runtime-base)\n");
		if (json_array_size(rts)) {
			printf("%sthe container runtime (", nreach ? "it is also made by " : "");
			for (size_t k = 0; k < json_array_size(rts); k++)
				printf("%s%s", k ? ", " : "", json_string_value(json_array_get(rts, k)));
			printf(") calls it between installing the filter and starting the entrypoint, so "
			       "`generate` allows it by default (--runtime-base)\n");
		}
	}
	for (size_t i = 0; i < res->n && rc == 0; i++) {
		const struct dg_sc_target *t = &res->t[i];
		if (!t->reach || !dg_reach_has(t->reach->native, (unsigned)nr))
			continue;
		struct dg_reach *why = NULL;
		struct dg_error err = DG_ERROR_INIT;
		if (dg_sc_explain(ss.db, &s.so, t, (unsigned)nr, 0, &why, &err) < 0) {
			rc = cli_fail(&err);
			break;
		}
		json_t *ch = json_object();
		cli_json_set(ch, "path", cli_json_str(t->path));
		cli_json_set(ch, "kind", cli_json_str(t->library ? "library" : "program"));
		cli_json_set(ch, "steps", steps_json(t, why));
		cli_json_push(chains, ch);
		if (!s.a.json) {
			printf("%s%s:\n", t->path, t->library ? " (library)" : "");
			if (why->nsteps)
				print_steps(t, why);
			else
				printf("  (no chain found: the analysis differs from the cached result; rerun with --no-cache)\n");
		}
		dg_reach_free(why);
		if (!all)
			break;
	}
	cli_json_set(top, "chains", chains);
	if (s.a.json)
		cli_print_json(top);
	else
		json_decref(top);
	dg_strv_free(&s.so.paths);
	sc_done(&ss);
	return rc;
}
