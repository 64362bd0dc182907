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
#include "dockergate/objdb.h"
#include "dockergate/syscalls.h"
#include "util.h"

#define SC_HELP_OPTS                                                                                   \
	"  --precision LEVEL   function (default): only functions reachable from the roots count;\n" \
	"                      object: every syscall site of every loaded object (the DockerGate\n" \
	"                      seed's method, for comparison)\n"                                     \
	"  --strict            exit 7 when a reachable syscall site's number is not known\n"         \
	"  --jobs N            threads for disassembly (default: the number of CPUs)\n"

enum { OPT_PRECISION = OPT_FIRST_CMD_OPT, OPT_STRICT, OPT_JOBS, OPT_OUTPUT, OPT_OBJECTS };

#define SC_LONGOPTS                                                                                    \
	{"precision", required_argument, NULL, OPT_PRECISION}, {"strict", no_argument, NULL, OPT_STRICT}, \
		{"jobs", required_argument, NULL, OPT_JOBS}

struct sc_args {
	struct cli_image_args a;
	struct dg_sc_opts so;
	int strict, jobs;
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

/* Loads IMAGE, analyses it; *img, *db, *cache and *res to be released by sc_done. */
static int sc_run(const char *spec, struct sc_args *s, struct dg_image **img, struct dg_objdb **db,
		  struct dg_cache **cache, struct dg_sc_result **res)
{
	int rc = cli_load_image(spec, &s->a, img);
	if (rc)
		return rc;
	s->so.ld_library_path = dg_ld_library_path(&dg_image_info(*img)->config.env);
	*cache = cli_open_cache(&s->a);
	*db = dg_objdb_new(dg_image_fs(*img), *cache);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	dg_objdb_set_threads(*db, s->jobs ? s->jobs : cpus > 0 ? (int)cpus : 1);
	struct dg_error err = DG_ERROR_INIT;
	struct progress_state ps = {0};
	clock_gettime(CLOCK_MONOTONIC, &ps.start);
	struct dg_progress pg = {show_progress, &ps};
	if (isatty(STDERR_FILENO))
		dg_objdb_set_progress(*db, &pg);
	rc = dg_sc_analyse(*db, &s->so, res, &err);
	dg_objdb_set_progress(*db, NULL);
	if (ps.shown)
		fputs("\r\033[K", stderr);
	return rc < 0 ? cli_fail(&err) : 0;
}

static void sc_done(struct dg_image *img, struct dg_objdb *db, struct dg_cache *cache, struct dg_sc_result *res)
{
	dg_sc_result_free(res);
	cli_close_cache(cache, db);
	dg_objdb_free(db);
	dg_image_free(img);
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
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* The numbers of NAMES (from names_json), in the same order. */
static json_t *nums_json(json_t *names, int i386)
{
	json_t *a = json_array(), *v;
	size_t i;
	json_array_foreach(names, i, v) json_array_append_new(a, json_integer(dg_syscall_number(json_string_value(v), i386)));
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

static json_t *target_json(const struct dg_sc_target *t)
{
	json_t *o = json_object(), *unk = json_array(), *objs = json_array(), *pr = json_array();
	json_object_set_new(o, "path", cli_json_str(t->path));
	json_object_set_new(o, "kind", json_string(t->library ? "library" : "program"));
	json_object_set_new(o, "calls_dlopen", json_boolean(t->calls_dlopen));
	const struct dg_reach *r = t->reach;
	json_t *nm = r ? names_json(r->native, 0) : json_array();
	json_object_set_new(o, "syscalls", nm);
	json_object_set_new(o, "numbers", nums_json(nm, 0));
	if (r && r->has_i386) {
		nm = names_json(r->i386, 1);
		json_object_set_new(o, "i386_syscalls", nm);
		json_object_set_new(o, "i386_numbers", nums_json(nm, 1));
	}
	for (size_t i = 0; r && i < r->nunknown; i++) {
		const struct dg_reach_unknown *u = &r->unknown[i];
		json_t *j = json_object();
		const char *fnm = u->fn_name;
		char addr[32];
		snprintf(addr, sizeof addr, "0x%llx", (unsigned long long)u->addr);
		json_object_set_new(j, "object", cli_json_str(t->set->objs[u->obj].path));
		json_object_set_new(j, "function", fnm ? cli_json_str(fnm) : json_null());
		json_object_set_new(j, "address", json_string(addr));
		json_object_set_new(j, "kind", json_string(u->wrapper_call ? "wrapper call" : "syscall instruction"));
		json_array_append_new(unk, j);
	}
	json_object_set_new(o, "unknown_sites", unk);
	for (size_t i = 0; r && i < r->nobjs; i++) {
		const struct dg_reach_objstat *st = &r->objs[i];
		if (!t->set->objs[i].path)
			continue;
		json_t *j = json_object();
		json_object_set_new(j, "path", cli_json_str(t->set->objs[i].path));
		json_object_set_new(j, "functions", json_integer((json_int_t)st->fns));
		json_object_set_new(j, "reachable_functions", json_integer((json_int_t)st->reachable_fns));
		json_object_set_new(j, "sites", json_integer((json_int_t)st->sites));
		json_object_set_new(j, "resolved_sites", json_integer((json_int_t)st->resolved));
		json_object_set_new(j, "resolved_share",
				    st->sites ? json_real((double)st->resolved / (double)st->sites) : json_null());
		json_array_append_new(objs, j);
	}
	json_object_set_new(o, "objects", objs);
	for (size_t i = 0; i < t->problems.n; i++)
		json_array_append_new(pr, cli_json_str(t->problems.v[i]));
	if (r) {
		struct dg_strv un = {0};
		unnamed(r->native, 0, &un);
		for (size_t i = 0; i < un.n; i++)
			json_array_append_new(pr, cli_json_str(un.v[i]));
		dg_strv_free(&un);
	}
	json_object_set_new(o, "problems", pr);
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

static const char syscalls_help[] =
	"usage: dockergate syscalls IMAGE [PATH...] [OPTIONS]\n\n"
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
	int c, objects = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == OPT_HELP) {
			fputs(syscalls_help, stdout);
			return 0;
		}
		if (c == OPT_OBJECTS) {
			objects = 1;
			continue;
		}
		int r = sc_opt("syscalls", &s, c, optarg);
		if (r)
			return r;
	}
	if (argc - optind < 1)
		return cli_usage_error("syscalls", "expected IMAGE");
	for (int i = optind + 1; i < argc; i++)
		dg_strv_push(&s.so.paths, argv[i]);
	struct dg_image *img = NULL;
	struct dg_objdb *db = NULL;
	struct dg_cache *cache = NULL;
	struct dg_sc_result *res = NULL;
	int rc = sc_run(argv[optind], &s, &img, &db, &cache, &res);
	if (rc) {
		dg_strv_free(&s.so.paths);
		if (db)
			sc_done(img, db, cache, res);
		else
			dg_image_free(img);
		return rc;
	}
	if (s.a.json) {
		json_t *top = json_object(), *ts = json_array();
		json_object_set_new(top, "image", cli_json_str(argv[optind]));
		json_object_set_new(top, "precision", json_string(prec_name(s.so.precision)));
		for (size_t i = 0; i < res->n; i++)
			json_array_append_new(ts, target_json(&res->t[i]));
		json_object_set_new(top, "executables", ts);
		json_object_set_new(top, "union", names_json(res->native, 0));
		if (res->has_i386)
			json_object_set_new(top, "i386_union", names_json(res->i386, 1));
		json_object_set_new(top, "unknown_sites", json_integer((json_int_t)res->ndistinct_unknown));
		cli_print_json(top);
	} else {
		for (size_t i = 0; i < res->n; i++)
			print_target(&res->t[i], objects);
		printf("union: %zu syscalls", count_bits(res->native));
		if (res->has_i386)
			printf(" + %zu i386", count_bits(res->i386));
		printf(" over %zu programs and libraries, %zu distinct unknown sites (precision %s)\n", res->n,
		       res->ndistinct_unknown, prec_name(s.so.precision));
	}
	if (s.strict && res->nunknown) {
		fprintf(stderr, "%s syscalls: error: %zu reachable syscall sites with unknown numbers (--strict)\n",
			cli_prog, res->ndistinct_unknown);
		rc = 7;
	}
	dg_strv_free(&s.so.paths);
	sc_done(img, db, cache, res);
	return rc;
}

/* ---- generate ---- */

static const char generate_help[] =
	"usage: dockergate generate IMAGE -o FILE [OPTIONS]\n\n"
	"Writes a deny-by-default Docker seccomp profile (defaultAction SCMP_ACT_ERRNO, EPERM)\n"
	"that allows the union of what `dockergate syscalls IMAGE` finds for every program and\n"
	"library of the image. Every name is checked against libseccomp's table; the file is\n"
	"written atomically (a temp file renamed into place). A summary goes to stderr.\n\n"
	"Options:\n"
	"  -o, --output FILE   where to write the profile ('-' for stdout)\n" SC_HELP_OPTS CLI_IMAGE_OPTS_HELP;

static int write_atomic(const char *path, const char *data, size_t len, struct dg_error *err)
{
	if (!strcmp(path, "-")) {
		fwrite(data, 1, len, stdout);
		return fflush(stdout) == 0 ? 0 : dg_err_sys(err, DG_E_ENV, errno, "writing stdout");
	}
	char *tmp = dg_xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		int e = errno;
		free(tmp);
		return dg_err_sys(err, DG_E_ENV, e, "%s: cannot create", path);
	}
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = errno;
			close(fd);
			unlink(tmp);
			free(tmp);
			return dg_err_sys(err, DG_E_ENV, e, "%s: cannot write", path);
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		free(tmp);
		return dg_err_sys(err, DG_E_ENV, e, "%s: cannot write", path);
	}
	free(tmp);
	return 0;
}

int cmd_generate(int argc, char **argv)
{
	static const struct option lo[] = {CLI_IMAGE_LONGOPTS, SC_LONGOPTS,
					   {"output", required_argument, NULL, OPT_OUTPUT}, {0, 0, 0, 0}};
	struct sc_args s = {0};
	cli_image_args_init(&s.a);
	const char *output = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "o:", lo, NULL)) != -1) {
		if (c == OPT_HELP) {
			fputs(generate_help, stdout);
			return 0;
		}
		if (c == 'o' || c == OPT_OUTPUT) {
			output = optarg;
			continue;
		}
		int r = sc_opt("generate", &s, c, optarg);
		if (r)
			return r;
	}
	if (argc - optind != 1)
		return cli_usage_error("generate", "expected exactly one IMAGE");
	if (!output || !*output)
		return cli_usage_error("generate", "-o FILE is required");
	struct dg_image *img = NULL;
	struct dg_objdb *db = NULL;
	struct dg_cache *cache = NULL;
	struct dg_sc_result *res = NULL;
	int rc = sc_run(argv[optind], &s, &img, &db, &cache, &res);
	if (rc) {
		if (db)
			sc_done(img, db, cache, res);
		else
			dg_image_free(img);
		return rc;
	}
	json_t *top = json_object(), *archs = json_array(), *rules = json_array(), *rule = json_object();
	json_object_set_new(top, "defaultAction", json_string("SCMP_ACT_ERRNO"));
	json_object_set_new(top, "defaultErrnoRet", json_integer(1));
	json_array_append_new(archs, json_string("SCMP_ARCH_X86_64"));
	if (res->has_i386)
		json_array_append_new(archs, json_string("SCMP_ARCH_X86"));
	json_object_set_new(top, "architectures", archs);
	json_t *names = names_json(res->native, 0);
	if (res->has_i386) { /* a name allows it on every listed architecture */
		json_t *n32 = names_json(res->i386, 1), *v;
		size_t i;
		json_array_foreach(n32, i, v) {
			int dup = 0;
			for (size_t k = 0; k < json_array_size(names); k++)
				dup |= !strcmp(json_string_value(json_array_get(names, k)), json_string_value(v));
			if (!dup)
				json_array_append(names, v);
		}
		json_decref(n32);
	}
	if (res->has_i386) { /* one sorted list */
		const char *v[2 * DG_NSYSCALLS];
		size_t nv = 0, i;
		json_t *e;
		json_array_foreach(names, i, e) v[nv++] = json_string_value(e);
		if (nv > 1)
			qsort(v, nv, sizeof *v, cmp_str);
		json_t *sorted = json_array();
		for (i = 0; i < nv; i++)
			json_array_append_new(sorted, json_string(v[i]));
		json_decref(names);
		names = sorted;
	}
	json_object_set_new(rule, "names", names);
	json_object_set_new(rule, "action", json_string("SCMP_ACT_ALLOW"));
	json_array_append_new(rules, rule);
	json_object_set_new(top, "syscalls", rules);
	json_t *prov = json_object();
	json_object_set_new(prov, "tool", json_string("dockergate " DG_VERSION));
	const struct dg_image_info *ii = dg_image_info(img);
	json_object_set_new(prov, "image", ii->config_digest ? json_string(ii->config_digest) : json_null());
	json_object_set_new(prov, "scope", json_string("image"));
	json_object_set_new(prov, "precision", json_string(prec_name(s.so.precision)));
	json_object_set_new(prov, "unknown_sites", json_integer((json_int_t)res->ndistinct_unknown));
	json_object_set_new(top, "dockergate", prov);
	char *txt = json_dumps(top, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	size_t nallowed = json_array_size(names);
	json_decref(top);
	struct dg_buf b = {0};
	dg_buf_puts(&b, txt);
	dg_buf_putc(&b, '\n');
	free(txt);
	struct dg_error err = DG_ERROR_INIT;
	if (s.strict && res->nunknown) {
		fprintf(stderr, "%s generate: error: %zu reachable syscall sites with unknown numbers (--strict); nothing written\n",
			cli_prog, res->ndistinct_unknown);
		rc = 7;
	} else if (write_atomic(output, b.data, b.len, &err) < 0) {
		rc = cli_fail(&err);
	} else {
		fprintf(stderr, "%s: %zu syscalls allowed (%s precision, %zu programs and libraries), %zu unknown sites%s%s\n",
			cli_prog, nallowed, prec_name(s.so.precision), res->n, res->ndistinct_unknown,
			strcmp(output, "-") ? ", written to " : "", strcmp(output, "-") ? output : "");
	}
	dg_buf_free(&b);
	sc_done(img, db, cache, res);
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
		json_object_set_new(j, "object", cli_json_str(t->set->objs[st->obj].path));
		char fa[32];
		snprintf(fa, sizeof fa, "0x%llx", (unsigned long long)st->fn_addr);
		json_object_set_new(j, "function", st->fn_name ? cli_json_str(st->fn_name) : json_null());
		json_object_set_new(j, "function_address", json_string(fa));
		json_object_set_new(j, "how", json_string(how_text(st->how)));
		json_object_set_new(j, "address", st->how >= DG_STEP_CALL ? json_string(at) : json_null());
		if (st->how == DG_STEP_INDIRECT) {
			json_t *tk = json_object();
			json_object_set_new(tk, "object", cli_json_str(t->set->objs[st->taken_obj].path));
			json_object_set_new(tk, "in", json_string(st->taken_in_code ? "code" : "data or relocations"));
			if (st->taken_in_code) {
				snprintf(fa, sizeof fa, "0x%llx", (unsigned long long)st->taken_addr);
				json_object_set_new(tk, "function", st->taken_name ? cli_json_str(st->taken_name) : json_null());
				json_object_set_new(tk, "function_address", json_string(fa));
			}
			json_object_set_new(j, "address_taken_by", tk);
		}
		json_array_append_new(a, j);
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
	int c, all = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == OPT_HELP) {
			fputs(explain_help, stdout);
			return 0;
		}
		if (c == OPT_ALL) {
			all = 1;
			continue;
		}
		int r = sc_opt("explain", &s, c, optarg);
		if (r)
			return r;
	}
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
	struct dg_image *img = NULL;
	struct dg_objdb *db = NULL;
	struct dg_cache *cache = NULL;
	struct dg_sc_result *res = NULL;
	int rc = sc_run(argv[optind], &s, &img, &db, &cache, &res);
	if (rc) {
		dg_strv_free(&s.so.paths);
		if (db)
			sc_done(img, db, cache, res);
		else
			dg_image_free(img);
		return rc;
	}
	size_t nreach = 0;
	for (size_t i = 0; i < res->n; i++)
		nreach += res->t[i].reach && dg_reach_has(res->t[i].reach->native, (unsigned)nr);
	json_t *top = json_object(), *chains = json_array();
	json_object_set_new(top, "syscall", json_string(canon ? canon : name));
	json_object_set_new(top, "number", json_integer(nr));
	json_object_set_new(top, "allowed", json_boolean(nreach > 0));
	json_object_set_new(top, "analysed", json_integer((json_int_t)res->n));
	if (!s.a.json) {
		if (!nreach)
			printf("%s (%d) is not allowed: none of the %zu programs and libraries analysed can reach it\n",
			       canon ? canon : name, nr, res->n);
		else
			printf("%s (%d) is allowed: %zu of %zu programs and libraries can reach it\n", canon ? canon : name,
			       nr, nreach, res->n);
	}
	for (size_t i = 0; i < res->n && rc == 0; i++) {
		const struct dg_sc_target *t = &res->t[i];
		if (!t->reach || !dg_reach_has(t->reach->native, (unsigned)nr))
			continue;
		struct dg_reach *why = NULL;
		struct dg_error err = DG_ERROR_INIT;
		if (dg_sc_explain(db, &s.so, t, (unsigned)nr, 0, &why, &err) < 0) {
			rc = cli_fail(&err);
			break;
		}
		json_t *ch = json_object();
		json_object_set_new(ch, "path", cli_json_str(t->path));
		json_object_set_new(ch, "kind", json_string(t->library ? "library" : "program"));
		json_object_set_new(ch, "steps", steps_json(t, why));
		json_array_append_new(chains, ch);
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
	json_object_set_new(top, "chains", chains);
	if (s.a.json)
		cli_print_json(top);
	else
		json_decref(top);
	dg_strv_free(&s.so.paths);
	sc_done(img, db, cache, res);
	return rc;
}
