/* dockergate generate IMAGE -o FILE: a deny-by-default seccomp profile allowing what
 * the image's code can call (the static method), what traced runs made (--from-trace)
 * or the union of both (--hybrid, with a report of what the analysis missed). The
 * command in steps: parse the options; read the inputs that can fail fast (traces,
 * the base profiles); run the analysis; build the profile and its warnings; write it
 * (and the hybrid report); print the summary as JSON or text (both on stderr). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "analysis.h"
#include "dockergate/hybrid.h"
#include "dockergate/objdb.h"
#include "dockergate/profile.h"
#include "dockergate/runtime_base.h"
#include "dockergate/scope.h"
#include "dockergate/trace.h"

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
	"  -o, --output FILE   where to write the profile ('-' for stdout)\n";
/* --format FORMAT: from the library's table of formats (cli_format_help); then */
static const char generate_help_tail[] =
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
	"  --report FILE       with --hybrid: also write that report as JSON to FILE\n"
	"  --fallback TIER     --scope entrypoint, when a fallback fired (a program runs programs\n"
	"                      chosen at run time, or dlopens a name not known): the syscalls only\n"
	"                      the programs and libraries the fallback added reach are allowed\n"
	"                      (allow, the default: sound), allowed and logged by the kernel at\n"
	"                      each use (log: SCMP_ACT_LOG, so a real use shows in the kernel's\n"
	"                      audit log) or denied (deny); the summary lists them\n"
	"  --unanalysed MODE   code of a machine no backend reads (its syscalls are in no set):\n"
	"                      refuse (default: exit 9, nothing written) or allow (every syscall\n"
	"                      of that architecture; said in the summary and the provenance)\n" SC_HELP_OPTS
	CLI_IMAGE_OPTS_HELP;

enum { OPT_OUTPUT = OPT_SC_NEXT, OPT_FORMAT, OPT_NAME, OPT_DENY_ERRNO, OPT_BASE, OPT_RUNTIME_BASE, OPT_FROM_TRACE,
       OPT_HYBRID, OPT_REPORT, OPT_UNANALYSED, OPT_FALLBACK };

enum fallback_tier { TIER_ALLOW = 0, TIER_LOG, TIER_DENY };
static const char *const tier_names[] = {"allow", "log", "deny"};

struct gen_opts {
	struct sc_args s;
	const char *image; /* NULL with --from-trace */
	const char *output, *name, *base_spec, *runtime_spec, *report;
	struct dg_strv from_trace, hybrid;
	enum dg_profile_format format;
	int deny_errno;
	int unanalysed_allow; /* --unanalysed allow */
	enum fallback_tier tier; /* --fallback */
};

/* What is read before the (long) analysis, so that a bad file fails fast. */
struct gen_inputs {
	const struct dg_strv *trace_files; /* --from-trace or --hybrid files */
	struct dg_trace **traces;
	size_t ntraces;
	uint8_t seen[2][DG_NSYSCALLS / 8]; /* what the traces saw: x86-64, i386 */
	long long date;
	struct dg_profile dflt, base; /* Docker's default (for the summary), --base */
	struct dg_strv base_warn;
};

/* The profile and everything the summary reports about it. */
struct gen_result {
	struct sc_session ss;
	struct dg_sc_result *res; /* the analysis (NULL with --from-trace) */
	struct dg_hybrid *hy;     /* --hybrid */
	struct dg_profile p;
	struct dg_strv warnings, removed, enosys, runtime;
	struct dg_strv tier; /* the fallback tier: names only the fallbacks' programs reach */
	size_t runtime_added;
	char *kname; /* the k8s resource's name */
};

static void gen_opts_free(struct gen_opts *o)
{
	dg_strv_free(&o->from_trace);
	dg_strv_free(&o->hybrid);
	sc_args_free(&o->s);
}

/* ---- parse: argv -> struct gen_opts (-1: go on, else the exit status) ---- */

static int gen_parse(int argc, char **argv, struct gen_opts *o)
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
					   {"unanalysed", required_argument, NULL, OPT_UNANALYSED},
					   {"fallback", required_argument, NULL, OPT_FALLBACK},
					   {0, 0, 0, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "o:", lo, NULL)) != -1) {
		int r = 0;
		switch (c) {
		case OPT_HELP:
			fputs(generate_help, stdout);
			cli_format_help(stdout, DG_PF_DOCKER, true, NULL);
			fputs(generate_help_tail, stdout);
			return 0;
		case 'o':
		case OPT_OUTPUT:
			o->output = optarg;
			break;
		case OPT_FORMAT:
			r = cli_parse_format("generate", optarg, &o->format);
			break;
		case OPT_NAME:
			o->name = optarg;
			break;
		case OPT_DENY_ERRNO:
			if ((o->deny_errno = dg_errno_parse(optarg)) < 0)
				r = cli_usage_error("generate", "--deny-errno: expected a number from 1 to 4095 or an errno name such as EPERM, got '%s'",
						    optarg);
			break;
		case OPT_BASE:
			o->base_spec = optarg;
			break;
		case OPT_RUNTIME_BASE:
			o->runtime_spec = optarg;
			if (strcmp(optarg, "none") && strcmp(optarg, "runc") && strcmp(optarg, "crun") && strcmp(optarg, "all"))
				r = cli_usage_error("generate", "--runtime-base: expected none, runc, crun or all, got '%s'",
						    optarg);
			break;
		case OPT_FROM_TRACE:
			dg_strv_push(&o->from_trace, optarg);
			break;
		case OPT_HYBRID:
			dg_strv_push(&o->hybrid, optarg);
			break;
		case OPT_REPORT:
			o->report = optarg;
			break;
		case OPT_UNANALYSED:
			if (!strcmp(optarg, "allow") || !strcmp(optarg, "refuse"))
				o->unanalysed_allow = !strcmp(optarg, "allow");
			else
				r = cli_usage_error("generate", "--unanalysed: expected refuse or allow, got '%s'", optarg);
			break;
		case OPT_FALLBACK:
			if (!strcmp(optarg, "allow") || !strcmp(optarg, "log") || !strcmp(optarg, "deny"))
				o->tier = !strcmp(optarg, "log") ? TIER_LOG : !strcmp(optarg, "deny") ? TIER_DENY : TIER_ALLOW;
			else
				r = cli_usage_error("generate", "--fallback: expected allow, log or deny, got '%s'", optarg);
			break;
		default:
			r = sc_opt("generate", &o->s, c, optarg);
		}
		if (r)
			return r;
	}
	const char *bad = NULL;
	if (o->from_trace.n && o->hybrid.n)
		bad = "--from-trace and --hybrid: choose one (--hybrid TRACE is the union with the image's analysis)";
	else if (o->from_trace.n && argc > optind)
		bad = "--from-trace: no IMAGE (the profile comes from the traces alone; --hybrid TRACE adds the image's analysis)";
	else if (o->report && !o->hybrid.n)
		bad = "--report: only with --hybrid";
	else if (o->tier != TIER_ALLOW && o->s.scope != DG_SCOPE_ENTRYPOINT)
		bad = "--fallback log|deny: only with --scope entrypoint (the image scope has no fallback)";
	else if (!o->from_trace.n && (argc - optind < 1 || (argc - optind > 1 && o->s.scope != DG_SCOPE_ENTRYPOINT)))
		bad = "expected exactly one IMAGE (ARGS after it only with --scope entrypoint)";
	if (bad)
		return cli_usage_error("generate", "%s", bad);
	o->image = optind < argc ? argv[optind] : NULL;
	for (int i = optind + 1; i < argc; i++)
		dg_strv_push(&o->s.args, argv[i]);
	if (!o->output || !*o->output)
		return cli_usage_error("generate", "-o FILE is required");
	return -1;
}

/* ---- inputs: the traces, the date, the base profiles ---- */

static int gen_load(const struct gen_opts *o, struct gen_inputs *in)
{
	struct dg_error err = DG_ERROR_INIT;
	in->trace_files = o->from_trace.n ? &o->from_trace : &o->hybrid;
	in->traces = dg_xcalloc(in->trace_files->n ? in->trace_files->n : 1, sizeof *in->traces);
	for (size_t i = 0; i < in->trace_files->n; i++) {
		if (dg_trace_load(in->trace_files->v[i], &in->traces[in->ntraces], &err) < 0)
			return cli_fail(&err);
		in->ntraces++;
	}
	if (dg_source_date(&in->date, &err) < 0)
		return cli_fail(&err);
	if (dg_profile_load_spec("docker-default", &in->dflt, NULL, &err) < 0 ||
	    (o->base_spec && dg_profile_load_spec(o->base_spec, &in->base, &in->base_warn, &err) < 0))
		return cli_fail(&err);
	dg_hybrid_seen(in->traces, in->ntraces, in->seen);
	return 0;
}

static void gen_inputs_free(struct gen_inputs *in)
{
	for (size_t i = 0; i < in->ntraces; i++)
		dg_trace_free(in->traces[i]);
	free(in->traces);
	dg_profile_free(&in->dflt);
	dg_profile_free(&in->base);
	dg_strv_free(&in->base_warn);
}

/* ---- run: the analysis (or the traces) -> the allowed set ---- */

static int gen_analyse(struct gen_opts *o, const struct gen_inputs *in, struct gen_result *r)
{
	if (o->from_trace.n) {
		/* the dynamic method: what the runs made */
		dg_profile_from_bits(&r->p, in->seen[0], in->seen[1], sc_count_bits(in->seen[1]) > 0);
		return 0;
	}
	int rc = sc_run(o->image, &o->s, &r->ss);
	if (rc)
		return rc;
	const struct dg_sc_result *res = r->res = r->ss.res;
	if (o->hybrid.n) {
		r->hy = dg_hybrid_compare(dg_objdb_fs(r->ss.db), res, in->traces, in->ntraces);
		uint8_t u[2][DG_NSYSCALLS / 8];
		for (unsigned i = 0; i < DG_NSYSCALLS / 8; i++) {
			u[0][i] = (uint8_t)(res->native[i] | in->seen[0][i]);
			u[1][i] = (uint8_t)(res->i386[i] | in->seen[1][i]);
		}
		dg_profile_from_bits(&r->p, u[0], u[1], res->has_i386 || sc_count_bits(in->seen[1]) > 0);
	} else {
		dg_profile_from_bits(&r->p, res->native, res->i386, res->has_i386);
	}
	return 0;
}

static void warn_push(struct dg_strv *w, char *msg)
{
	dg_strv_push(w, msg);
	free(msg);
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

/* ---- build: the runtime base, the provenance, the base, the fallbacks, the warnings ---- */

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The fallback tier (docs/design.md "Scopes"): the names only what a fallback added reaches
 * (not the closure's own, on either architecture, and not what a trace saw), allowed, logged
 * or left out as --fallback says. */
static void gen_tiers(const struct gen_opts *o, const struct gen_inputs *in, struct gen_result *r)
{
	const struct dg_scope *sc = r->ss.scope;
	if (sc && !sc->tiered && o->tier != TIER_ALLOW)
		dg_strv_push(&r->warnings, "--fallback: no fallback fired (the closure is known statically): nothing to log "
					   "or deny");
	if (!sc || !sc->tiered || !r->res)
		return;
	uint8_t fb[2][DG_NSYSCALLS / 8];
	dg_scope_fallback_bits(sc, r->res, fb[0], fb[1]);
	struct dg_strv keep = {0}; /* names the closure or a trace has */
	for (unsigned k = 0; k < DG_NSYSCALLS; k++)
		for (int a = 0; a < 2; a++) {
			const uint8_t *own = a ? sc->closure_i386 : sc->closure_native;
			if ((dg_reach_has(own, k) && (!a || sc->closure_has_i386)) || dg_reach_has(in->seen[a], k)) {
				const char *nm = dg_syscall_name(k, a);
				if (nm && !dg_strv_has(&keep, nm))
					dg_strv_push(&keep, nm);
			}
		}
	for (unsigned k = 0; k < DG_NSYSCALLS; k++)
		for (int a = 0; a < 2; a++) {
			const char *nm = dg_reach_has(fb[a], k) ? dg_syscall_name(k, a) : NULL;
			if (nm && !dg_strv_has(&keep, nm) && !dg_strv_has(&r->tier, nm))
				dg_strv_push(&r->tier, nm);
		}
	dg_strv_free(&keep);
	if (r->tier.n)
		qsort(r->tier.v, r->tier.n, sizeof *r->tier.v, cmp_name);
	for (size_t i = 0; i < r->tier.n; i++) {
		if (o->tier == TIER_LOG)
			dg_profile_log(&r->p, r->tier.v[i]);
		else if (o->tier == TIER_DENY)
			dg_profile_deny(&r->p, r->tier.v[i]);
	}
}

static void gen_build(const struct gen_opts *o, const struct gen_inputs *in, struct gen_result *r)
{
	struct dg_profile *p = &r->p;
	struct dg_strv *w = &r->warnings;
	for (size_t i = 0; i < in->ntraces; i++) {
		const struct dg_trace *t = in->traces[i];
		const char *tf = in->trace_files->v[i];
		if (t->lost)
			warn_push(w, dg_xasprintf("%s: %llu syscall stops were lost by the recorder: the trace may lack calls",
						  tf, (unsigned long long)t->lost));
		if (t->exit_status > 0 || t->timed_out)
			warn_push(w, t->timed_out ? dg_xasprintf("%s: the traced run was stopped at its timeout", tf)
						  : dg_xasprintf("%s: the traced workload exited with status %d", tf,
								 t->exit_status));
	}
	if (o->from_trace.n)
		dg_strv_push(w, "a profile from traces allows only what the traced runs made: code paths they did not "
				"take (errors, other requests, signals, exec'd tools) will be denied");
	gen_tiers(o, in, r);
	/* the container runtime's own calls, before the base: a base never adds, only removes
	 * (plainly allowed: the runtime makes them, whatever tier they were in) */
	struct dg_error err = DG_ERROR_INIT;
	if (dg_runtime_base(o->runtime_spec, &r->runtime, &err) < 0)
		dg_strv_push(w, err.msg);
	for (size_t i = 0; i < r->runtime.n; i++)
		if (!dg_profile_allows(p, r->runtime.v[i]) || dg_profile_logs(p, r->runtime.v[i])) {
			r->runtime_added += !dg_profile_allows(p, r->runtime.v[i]) && !dg_strv_has(&r->tier, r->runtime.v[i]);
			dg_profile_allow(p, r->runtime.v[i]);
		}
	/* what the runtime needs is out of the tier */
	size_t kept = 0;
	for (size_t i = 0; i < r->tier.n; i++) {
		if (!strcmp(o->runtime_spec, "none") || !dg_strv_has(&r->runtime, r->tier.v[i]))
			r->tier.v[kept++] = r->tier.v[i];
		else
			free(r->tier.v[i]);
	}
	r->tier.n = kept;
	if (r->tier.v)
		r->tier.v[kept] = NULL;
	if (r->tier.n) {
		struct dg_buf b = {0};
		dg_buf_printf(&b, "scope entrypoint: %zu syscalls only the fallback's programs and libraries reach are %s "
			      "(--fallback %s): ", r->tier.n,
			      o->tier == TIER_LOG ? "allowed and logged" : o->tier == TIER_DENY ? "denied" : "allowed",
			      tier_names[o->tier]);
		sc_join(&b, &r->tier);
		warn_push(w, dg_buf_steal(&b));
	}
	p->runtime_base = dg_xstrdup(o->runtime_spec);
	p->default_errno = o->deny_errno;
	p->tool = dg_xstrdup("dockergate " DG_VERSION);
	p->method = dg_xstrdup(o->from_trace.n ? "trace" : o->hybrid.n ? "hybrid" : "static");
	if (in->ntraces)
		p->traces = (long long)in->ntraces;
	if (r->ss.img) {
		const struct dg_image_info *ii = dg_image_info(r->ss.img);
		if (ii->config_digest)
			p->image = dg_xstrdup(ii->config_digest);
	}
	const struct dg_scope *sc = r->ss.scope;
	p->scope = dg_xstrdup(o->from_trace.n ? "trace" : sc ? "entrypoint" : "image");
	if (sc) {
		if (sc->all_programs_why)
			warn_push(w, dg_xasprintf("scope entrypoint: every executable of the image is included: %s",
						  sc->all_programs_why));
		if (sc->all_libraries_why)
			warn_push(w, dg_xasprintf("scope entrypoint: every library no program loads that can be loaded into the "
						  "closure's processes is included, as dlopen'd (%zu of %zu): %s",
						  sc->dl_loadable, sc->dl_candidates, sc->all_libraries_why));
		for (size_t i = 0; i < sc->problems.n && i < 10; i++)
			warn_push(w, dg_xasprintf("scope entrypoint: %s", sc->problems.v[i]));
	}
	const struct dg_sc_result *res = r->res;
	if (r->ss.arch_mismatch)
		warn_push(w, dg_xstrdup(r->ss.arch_mismatch));
	if (res && res->nunanalysed && o->unanalysed_allow) {
		/* every syscall of each architecture whose code was not read */
		struct dg_buf b = {0};
		dg_autofree char *line = sc_unanalysed_line(res);
		unsigned done = 0;
		dg_buf_puts(&b, "allowed every syscall of");
		for (size_t i = 0; i < res->nunanalysed; i++) {
			const struct dg_sc_unanalysed *u = &res->unanalysed[i];
			const struct dg_arch *a = dg_arch_of(u->machine, u->bits, u->big_endian);
			if (!a || (done & a->bit))
				continue;
			done |= a->bit;
			dg_profile_allow_arch(p, a->bit);
			dg_buf_printf(&b, " %s", a->name);
		}
		/* no code of the architectures the analysis reads at all: the profile is for the others */
		int read_any = 0;
		for (size_t i = 0; i < res->n && !read_any; i++)
			for (size_t k = 0; res->t[i].set && k < res->t[i].set->n && !read_any; k++) {
				const struct dg_dyninfo *d = res->t[i].set->objs[k].dyn;
				read_any = d && !d->error && dg_sc_backend(d->machine, d->bits);
			}
		if (!read_any)
			p->arches &= ~(DG_ARCH_X86_64 | DG_ARCH_X86);
		dg_buf_printf(&b, " (--unanalysed allow): %s", line);
		p->unanalysed = dg_buf_steal(&b);
		warn_push(w, dg_xasprintf("%s; every syscall of that architecture is allowed (--unanalysed allow), and "
					  "the profile's names apply to each architecture it lists", line));
	}
	if (res) {
		p->precision = dg_xstrdup(sc_precision_name(o->s.so.precision));
		p->unknown_sites = (long long)res->ndistinct_unknown;
		sc_unnamed(res->native, 0, w);
		if (res->has_i386)
			sc_unnamed(res->i386, 1, w);
	}
	p->date = in->date;
	if (in->ntraces) {
		sc_unnamed(in->seen[0], 0, w);
		sc_unnamed(in->seen[1], 1, w);
	}
	if (o->base_spec) {
		dg_profile_intersect(p, &in->base, &r->removed);
		for (size_t i = 0; i < in->base_warn.n; i++)
			dg_strv_push(w, in->base_warn.v[i]);
		if (r->removed.n) {
			struct dg_buf b = {0};
			dg_buf_printf(&b, "the base (%s) denies %zu syscalls the image's code can make, left out: ", o->base_spec,
				      r->removed.n);
			sc_join(&b, &r->removed);
			warn_push(w, dg_buf_steal(&b));
		}
	}
	dg_profile_add_fallbacks(p, &r->enosys);
	if (res && res->ndistinct_unknown)
		warn_push(w, dg_xasprintf("%zu reachable syscall sites with unknown numbers (see `dockergate syscalls`)",
					  res->ndistinct_unknown));
	if ((o->format == DG_PF_K8S || o->format == DG_PF_K8S_JSON) && o->deny_errno != 1)
		dg_strv_push(w, "a SeccompProfile has no default errno: denied syscalls return EPERM there");
	r->kname = o->name	     ? dg_xstrdup(o->name)
		   : o->from_trace.n ? (in->traces[0]->image ? k8s_name_from(in->traces[0]->image)
							     : dg_xstrdup("dockergate-trace"))
				     : k8s_name_from(o->image);
}

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
	cli_json_set(o, "traces", cli_json_strv(traces));
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
		cli_json_set(j, "executables", cli_json_strv(&m->exes));
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
		cli_json_set(j, "beyond_its_analysis", cli_json_strv(&x->beyond));
		cli_json_push(exes, j);
	}
	cli_json_set(o, "executables", exes);
	cli_json_set(o, "static_not_seen_x86_64", bits_json(h->unseen[0], 0));
	cli_json_set(o, "static_not_seen_i386", bits_json(h->unseen[1], 1));
	return o;
}

/* ---- write: the hybrid report, then the profile (--strict: nothing) ---- */

static int gen_write(const struct gen_opts *o, const struct gen_inputs *in, struct gen_result *r)
{
	struct dg_error err = DG_ERROR_INIT;
	if (r->hy && o->report) {
		json_t *j = hybrid_json(r->hy, in->trace_files, &r->runtime);
		char *t = cli_json_dump(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		json_decref(j);
		size_t tl = strlen(t);
		t = dg_xrealloc(t, tl + 2);
		t[tl] = '\n';
		int w = dg_write_atomic(o->report, t, tl + 1, &err);
		free(t);
		if (w < 0)
			return cli_fail(&err);
	}
	if (r->res && r->res->nunanalysed && !o->unanalysed_allow) {
		dg_autofree char *line = sc_unanalysed_line(r->res);
		cli_say("generate", "error",
			"%s: a profile would deny every syscall they make; nothing written (--unanalysed allow "
			"allows every syscall of that architecture)",
			line);
		return DG_E_UNANALYSED;
	}
	if (r->res && r->res->nunanalysed && o->unanalysed_allow) {
		for (size_t i = 0; i < r->res->nunanalysed; i++) {
			const struct dg_sc_unanalysed *u = &r->res->unanalysed[i];
			if (!dg_arch_of(u->machine, u->bits, u->big_endian)) {
				char buf[32];
				cli_say("generate", "error", "%s: %s code, which no seccomp architecture covers: no profile can allow it",
					u->path, sc_unanalysed_machine(u, buf, sizeof buf));
				return DG_E_UNANALYSED;
			}
		}
	}
	if (o->s.strict && r->res && r->res->nunknown) {
		cli_say("generate", "error", "%zu reachable syscall sites with unknown numbers (--strict); nothing written",
			r->res->ndistinct_unknown);
		return DG_E_INCOMPLETE;
	}
	struct dg_buf out = {0};
	int rc = 0;
	if (dg_profile_write(&r->p, o->format, r->kname, &out, &err) < 0 ||
	    dg_write_atomic(o->output, out.data, out.len, &err) < 0)
		rc = cli_fail(&err);
	dg_buf_free(&out);
	return rc;
}

/* ---- the summary (stderr) ---- */

/* What "N allowed, M fewer than Docker's default, K not in it" counts. */
struct gen_counts {
	size_t allowed_x86_64, docker_default, not_in_default;
};

static struct gen_counts gen_count(const struct gen_inputs *in, const struct gen_result *r)
{
	struct gen_counts c = {cli_count_x86_64(&r->p), cli_count_x86_64(&in->dflt), 0};
	for (size_t i = 0; i < r->p.allow.n; i++)
		c.not_in_default += dg_syscall_number(r->p.allow.v[i], 0) >= 0 && !dg_profile_allows(&in->dflt, r->p.allow.v[i]);
	return c;
}

static json_t *gen_summary_json(const struct gen_opts *o, const struct gen_inputs *in, const struct gen_result *r)
{
	const struct dg_sc_result *res = r->res;
	struct gen_counts c = gen_count(in, r);
	json_t *j = json_object();
	cli_json_set(j, "output", cli_json_str(o->output));
	cli_json_set(j, "format", cli_json_str(dg_profile_format_name(o->format)));
	json_t *ar = json_array();
	size_t na;
	const struct dg_arch *at = dg_arches(&na);
	for (size_t i = 0; i < na; i++) /* x86-64 as "x86_64", x86 as "x86", as before */
		if (r->p.arches & at[i].bit)
			cli_json_push(ar, cli_json_str(at[i].bit == DG_ARCH_X86_64 ? "x86_64"
						       : at[i].bit == DG_ARCH_X86  ? "x86"
										   : at[i].name));
	cli_json_set(j, "architectures", ar);
	cli_json_set(j, "allowed", json_integer((json_int_t)r->p.allow.n));
	cli_json_set(j, "allowed_x86_64", json_integer((json_int_t)c.allowed_x86_64));
	cli_json_set(j, "docker_default_x86_64", json_integer((json_int_t)c.docker_default));
	cli_json_set(j, "fewer_than_docker_default", json_integer((json_int_t)c.docker_default - (json_int_t)c.allowed_x86_64));
	cli_json_set(j, "not_in_docker_default", json_integer((json_int_t)c.not_in_default));
	cli_json_set(j, "enosys", cli_json_strv(&r->enosys));
	cli_json_set(j, "runtime_base", cli_json_str(o->runtime_spec));
	cli_json_set(j, "added_for_runtime", json_integer((json_int_t)r->runtime_added));
	cli_json_set(j, "removed_by_base", cli_json_strv(&r->removed));
	if (r->ss.scope && r->ss.scope->tiered) {
		json_t *t = json_object();
		cli_json_set(t, "mode", cli_json_str(tier_names[o->tier]));
		cli_json_set(t, "syscalls", cli_json_strv(&r->tier));
		cli_json_set(j, "fallback_tier", t);
	}
	cli_json_set(j, "unknown_sites", json_integer(res ? (json_int_t)res->ndistinct_unknown : 0));
	if (res)
		cli_json_set(j, "not_analysed", sc_unanalysed_json(res->unanalysed, res->nunanalysed));
	cli_json_set(j, "precision", res ? cli_json_str(sc_precision_name(o->s.so.precision)) : json_null());
	cli_json_set(j, "scope", cli_json_str(r->p.scope));
	cli_json_set(j, "method", cli_json_str(r->p.method));
	cli_json_set(j, "programs_and_libraries", json_integer(res ? (json_int_t)res->n : 0));
	if (r->hy)
		cli_json_set(j, "hybrid", hybrid_json(r->hy, in->trace_files, &r->runtime));
	cli_json_set(j, "warnings", cli_json_strv(&r->warnings));
	return j;
}

static void hybrid_print(const struct dg_hybrid *h, size_t ntraces)
{
	size_t nseen = sc_count_bits(h->seen[0]) + sc_count_bits(h->seen[1]);
	cli_say(NULL, "hybrid", "%zu trace%s, %zu syscalls seen; %zu seen but not found by the analysis%s",
		ntraces, ntraces == 1 ? "" : "s", nseen, h->nmissing,
		h->nmissing ? " (soundness bugs of the analysis; the profile allows them from the traces):" : "");
	for (size_t i = 0; i < h->nmissing; i++) {
		const struct dg_hybrid_missing *m = &h->missing[i];
		const char *nm = dg_syscall_name(m->nr, m->i386);
		struct dg_buf b = {0};
		sc_join(&b, &m->exes);
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
		sc_join(&b, &x->beyond);
		cli_say(NULL, "hybrid", "traced %s made %zu beyond %s's own analysis (a dlopen'd module's, or a gap): %.*s",
			x->path, x->beyond.n, x->program, (int)b.len, b.data);
		dg_buf_free(&b);
	}
	struct dg_buf b = {0};
	bits_names(h->unseen[0], 0, &b, 400);
	bits_names(h->unseen[1], 1, &b, 400);
	cli_say(NULL, "hybrid", "%zu allowed by the analysis, seen in no trace (candidates for tightening): %.*s",
		sc_count_bits(h->unseen[0]) + sc_count_bits(h->unseen[1]), (int)b.len, b.data);
	dg_buf_free(&b);
}

static void gen_print_text(const struct gen_opts *o, const struct gen_inputs *in, const struct gen_result *r)
{
	const struct dg_sc_result *res = r->res;
	const struct dg_strv *w = &r->warnings;
	struct gen_counts c = gen_count(in, r);
	size_t nx = c.allowed_x86_64, nd = c.docker_default;
	if (r->hy)
		hybrid_print(r->hy, in->ntraces);
	for (size_t i = 0; i < w->n; i++)
		cli_warn(NULL, "%s", w->v[i]);
	struct dg_buf line = {0};
	dg_buf_printf(&line, "%zu allowed, %zd %s than Docker's default (%zu)", nx, (ssize_t)(nd > nx ? nd - nx : nx - nd),
		      nd >= nx ? "fewer" : "more", nd);
	if (c.not_in_default)
		dg_buf_printf(&line, ", %zu not in it", c.not_in_default);
	if (r->p.arches & DG_ARCH_X86)
		dg_buf_printf(&line, "; x86 (i386) code too: %zu names in all", r->p.allow.n);
	if (strcmp(o->runtime_spec, "none"))
		dg_buf_printf(&line, "; %zu added for the container runtime (%s)", r->runtime_added, o->runtime_spec);
	if (r->tier.n)
		dg_buf_printf(&line, "; %zu only for the fallback's programs (%s)", r->tier.n,
			      o->tier == TIER_LOG ? "logged" : o->tier == TIER_DENY ? "denied" : "allowed");
	if (r->enosys.n) {
		dg_buf_puts(&line, "; ENOSYS for ");
		sc_join(&line, &r->enosys);
	}
	if (res)
		dg_buf_printf(&line, "; %zu unknown sites, %zu warning%s (%s precision, %zu programs and libraries%s)",
			      res->ndistinct_unknown, w->n, w->n == 1 ? "" : "s", sc_precision_name(o->s.so.precision),
			      res->n, r->hy ? ", hybrid with the traces" : "");
	else
		dg_buf_printf(&line, "; %zu warning%s (from %zu trace%s)", w->n, w->n == 1 ? "" : "s", in->ntraces,
			      in->ntraces == 1 ? "" : "s");
	if (strcmp(o->output, "-"))
		dg_buf_printf(&line, ", written to %s", o->output);
	dg_buf_putc(&line, 0);
	cli_say(NULL, NULL, "%s", line.data);
	dg_buf_free(&line);
}

int cmd_generate(int argc, char **argv)
{
	struct gen_opts o = {.runtime_spec = "all", .format = DG_PF_DOCKER, .deny_errno = 1};
	sc_args_init(&o.s);
	int rc = gen_parse(argc, argv, &o);
	if (rc >= 0) {
		gen_opts_free(&o);
		return rc;
	}
	struct gen_inputs in = {0};
	struct gen_result r = {0};
	dg_profile_init(&in.dflt);
	dg_profile_init(&in.base);
	dg_profile_init(&r.p);
	if (!(rc = gen_load(&o, &in)) && !(rc = gen_analyse(&o, &in, &r))) {
		gen_build(&o, &in, &r);
		if (!(rc = gen_write(&o, &in, &r))) {
			if (o.s.a.json) {
				json_t *j = gen_summary_json(&o, &in, &r);
				char *t = cli_json_dump(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
				json_decref(j);
				fprintf(stderr, "%s\n", t); /* the summary as one document (lines of its own) */
				free(t);
			} else {
				gen_print_text(&o, &in, &r);
			}
		}
	}
	dg_hybrid_free(r.hy);
	free(r.kname);
	dg_strv_free(&r.warnings);
	dg_strv_free(&r.removed);
	dg_strv_free(&r.enosys);
	dg_strv_free(&r.runtime);
	dg_strv_free(&r.tier);
	dg_profile_free(&r.p);
	sc_done(&r.ss);
	gen_inputs_free(&in);
	gen_opts_free(&o);
	return rc;
}
