/* The analysis options and the analysis run shared by syscalls, generate and explain. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analysis.h"
#include "dockergate/arch.h"
#include "dockergate/elfinfo.h"
#include "dockergate/map.h"
#include "dockergate/objdb.h"

const char *sc_unanalysed_machine(const struct dg_sc_unanalysed *u, char *buf, size_t n)
{
	const struct dg_arch *a = dg_arch_of(u->machine, u->bits, u->big_endian);
	return a ? a->name : dg_elf_machine_name(u->machine, buf, n);
}

json_t *sc_unanalysed_json(const struct dg_sc_unanalysed *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		char buf[32];
		json_t *o = json_object();
		cli_json_set(o, "path", cli_json_str(v[i].path));
		cli_json_set(o, "machine", cli_json_str(sc_unanalysed_machine(&v[i], buf, sizeof buf)));
		cli_json_push(a, o);
	}
	return a;
}

char *sc_unanalysed_line(const struct dg_sc_result *r)
{
	struct dg_buf b = {0};
	struct dg_strv machines = {0};
	for (size_t i = 0; i < r->nunanalysed; i++) {
		char buf[32];
		const char *m = sc_unanalysed_machine(&r->unanalysed[i], buf, sizeof buf);
		if (!dg_strv_has(&machines, m))
			dg_strv_push(&machines, m);
	}
	dg_buf_printf(&b, "%zu file%s of ", r->nunanalysed, r->nunanalysed == 1 ? "" : "s");
	sc_join(&b, &machines);
	dg_buf_printf(&b, " code %s not analysed (no backend reads that machine): ", r->nunanalysed == 1 ? "is" : "are");
	for (size_t i = 0; i < r->nunanalysed && i < 3; i++)
		dg_buf_printf(&b, "%s%s", i ? ", " : "", r->unanalysed[i].path);
	if (r->nunanalysed > 3)
		dg_buf_printf(&b, " and %zu more", r->nunanalysed - 3);
	dg_strv_free(&machines);
	return dg_buf_steal(&b);
}

void sc_args_init(struct sc_args *s)
{
	memset(s, 0, sizeof *s);
	cli_image_args_init(&s->a);
}

void sc_args_free(struct sc_args *s)
{
	dg_strv_free(&s->so.paths);
	dg_strv_free(&s->args);
}

int sc_opt(const char *cmd, struct sc_args *s, int c, const char *arg)
{
	switch (c) {
	case OPT_PRECISION:
		if (!strcmp(arg, "function"))
			s->so.precision = DG_PREC_FUNCTION;
		else if (!strcmp(arg, "object"))
			s->so.precision = DG_PREC_OBJECT;
		else if (!strcmp(arg, "held"))
			s->so.precision = DG_PREC_HELD;
		else
			return cli_usage_error(cmd, "--precision: expected 'function', 'held' or 'object', got '%s'",
					       arg);
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

const char *sc_precision_name(enum dg_precision p)
{
	return p == DG_PREC_OBJECT ? "object" : p == DG_PREC_HELD ? "held" : "function";
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

/* Whether the ELF files analysed are code of another architecture than the image
 * config's (amd64 images may hold i386 code, arm64 ones arm code): a message, or NULL. */
static char *arch_mismatch(const struct dg_image_info *ii, const struct dg_sc_result *res)
{
	const char *ca = ii->config.architecture;
	if (!ca || !*ca)
		return NULL;
	size_t na;
	const struct dg_arch *at = dg_arches(&na), *want = NULL;
	for (size_t i = 0; i < na && !want; i++)
		if (!strcmp(at[i].goarch, ca))
			want = &at[i];
	if (!want)
		return NULL; /* an architecture the table does not know: nothing to compare */
	unsigned ok = want->bit | (want->bit == DG_ARCH_X86_64 ? DG_ARCH_X86 : 0) |
		      (want->bit == DG_ARCH_AARCH64 ? DG_ARCH_ARM : 0);
	struct dg_map seen = {0};
	struct dg_strv other = {0}, names = {0};
	size_t nfiles = 0;
	for (size_t i = 0; i < res->n; i++)
		for (size_t k = 0; res->t[i].set && k < res->t[i].set->n; k++) {
			const struct dg_ldobj *ob = &res->t[i].set->objs[k];
			if (!ob->dyn || !ob->path || ob->dyn->error)
				continue;
			const struct dg_arch *a = dg_arch_of(ob->dyn->machine, ob->dyn->bits, ob->dyn->cls.big_endian);
			if ((a && (a->bit & ok)) || dg_map_get(&seen, ob->path, strlen(ob->path)) != SIZE_MAX)
				continue;
			dg_map_put(&seen, ob->path, strlen(ob->path), 1);
			char buf[32];
			const char *m = a ? a->name : dg_elf_machine_name(ob->dyn->machine, buf, sizeof buf);
			if (!dg_strv_has(&names, m))
				dg_strv_push(&names, m);
			if (other.n < 3)
				dg_strv_push(&other, ob->path);
			nfiles++;
		}
	dg_map_free(&seen);
	char *msg = NULL;
	if (nfiles) {
		struct dg_buf b = {0};
		dg_buf_printf(&b, "the image config says %s/%s, but %zu ELF file%s %s ", ii->config.os ? ii->config.os : "?",
			      ca, nfiles, nfiles == 1 ? "" : "s", nfiles == 1 ? "is" : "are");
		sc_join(&b, &names);
		dg_buf_puts(&b, " code: ");
		sc_join(&b, &other);
		if (nfiles > other.n)
			dg_buf_printf(&b, " and %zu more", nfiles - other.n);
		dg_buf_puts(&b, " (the syscalls are those of the code)");
		msg = dg_buf_steal(&b);
	}
	dg_strv_free(&other);
	dg_strv_free(&names);
	return msg;
}

int sc_run(const char *spec, struct sc_args *s, struct sc_session *ss)
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
	if (rc < 0)
		return cli_fail(&err);
	ss->arch_mismatch = arch_mismatch(dg_image_info(ss->img), ss->res);
	return 0;
}

int sc_parse(const char *cmd, int argc, char **argv, const struct option *lo, const char *help, int flag_opt,
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

void sc_done(struct sc_session *ss)
{
	free(ss->arch_mismatch);
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

json_t *sc_names_json(const uint8_t *bits, int i386)
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

size_t sc_count_bits(const uint8_t *bits)
{
	size_t n = 0;
	for (unsigned k = 0; k < DG_NSYSCALLS; k++)
		n += (size_t)dg_reach_has(bits, k);
	return n;
}

void sc_unnamed(const uint8_t *bits, int i386, struct dg_strv *out)
{
	for (unsigned k = 0; k < DG_NSYSCALLS; k++)
		if (dg_reach_has(bits, k) && !dg_syscall_name(k, i386)) {
			char *m = dg_xasprintf("syscall %u (%s) has no name in libseccomp's table: left out", k,
					       i386 ? "i386" : "x86-64");
			dg_strv_push(out, m);
			free(m);
		}
}

void sc_join(struct dg_buf *b, const struct dg_strv *v)
{
	for (size_t i = 0; i < v->n; i++)
		dg_buf_printf(b, "%s%s", i ? ", " : "", v->v[i]);
}
