/* dockergate verify IMAGE --profile FILE [-- ARGS]: runs the image under the
 * profile on a real container engine, as `docker run --rm IMAGE ARGS` would,
 * and says whether the workload worked; when it did not, runs it again with
 * SCMP_ACT_LOG as the default action and reads the kernel's seccomp audit
 * records, so the report names each syscall the profile denied and the
 * executable that made it (docs/design.md "Verifying a profile"). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "engine_run.h"
#include "dockergate/kaudit.h"
#include "dockergate/profile.h"
#include "dockergate/syscalls.h"
#include "dockergate/util.h"

#define DIAG_MAX_RUNS 6     /* diagnosis runs: each allows what the previous one logged */

enum diagnose { DIAG_ON_FAILURE, DIAG_ALWAYS, DIAG_NEVER };
enum run_mode { RUN_ENFORCE, RUN_LOG, RUN_UNCONFINED };

struct denial {
	uint32_t arch;
	int nr;
	char *exe, *comm;
	unsigned long count;
};

struct verify {
	struct engine_run r;  /* image, engine, runtime, network, entrypoint, timeout, ARGS; its state */
	/* options */
	const char *profile, *report;
	enum diagnose diagnose;
	int expect;
	/* state */
	char *profile_text;   /* the user's profile (Docker format) */
	size_t profile_len;
	struct dg_profile model;
	/* results */
	int status;           /* of the run under the profile */
	bool timed_out, pass;
	struct denial *den;
	size_t nden;
	int diag_runs;
	bool diag_lost;       /* some run lost records to the kernel's rate limit */
	char *diag_note;      /* why there was no diagnosis, or NULL */
	int diag_status;      /* exit status of the first diagnosis run, -1 if none */
	int unconfined_status; /* -1 if not run */
	struct dg_strv logged_used; /* "NAME by EXE": uses of what the profile itself logs (its
	                             * SCMP_ACT_LOG tier), seen in diagnosis runs */
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cli_vsay("verify", NULL, fmt, ap);
	va_end(ap);
}

static int run_once(struct verify *v, enum run_mode m, const struct dg_strv *extra, int *status, bool *timed_out,
		    struct dg_error *err);

/* ---- profiles for each run ---- */

/* Adds a rule allowing NAMES (the syscalls an earlier diagnosis run logged) to a
 * profile object (Docker or OCI form: both keep rules in "syscalls"). */
static void add_allow_rule(json_t *prof, const struct dg_strv *names)
{
	if (!names || !names->n)
		return;
	json_t *rules = json_object_get(prof, "syscalls");
	if (!json_is_array(rules)) {
		rules = json_array();
		cli_json_set(prof, "syscalls", rules);
	}
	json_t *r = json_object(), *a = json_array();
	for (size_t i = 0; i < names->n; i++)
		cli_json_push(a, cli_json_str(names->v[i]));
	cli_json_set(r, "names", a);
	cli_json_set(r, "action", cli_json_str("SCMP_ACT_ALLOW"));
	cli_json_push(rules, r);
}

/* The same profile with SCMP_ACT_LOG as its default action: what it would deny
 * now succeeds and is logged. Rules (allow and errno) stay as they are. */
static void to_log(json_t *prof, const struct dg_strv *extra)
{
	cli_json_set(prof, "defaultAction", cli_json_str("SCMP_ACT_LOG"));
	json_object_del(prof, "defaultErrnoRet");
	add_allow_rule(prof, extra);
}

/* The OCI linux.seccomp object for runc: the profile as Docker would evaluate it. */
static json_t *oci_seccomp(struct verify *v, enum run_mode m, const struct dg_strv *extra,
			   struct dg_error *err)
{
	struct dg_buf b = {0};
	if (dg_profile_write(&v->model, DG_PF_OCI, NULL, &b, err) < 0) {
		dg_buf_free(&b);
		return NULL;
	}
	json_error_t je;
	json_t *j = json_loadb(b.data, b.len, 0, &je);
	dg_buf_free(&b);
	if (!j) {
		dg_err(err, DG_E_INTERNAL, "the OCI form of the profile does not parse: %s", je.text);
		return NULL;
	}
	if (m == RUN_LOG)
		to_log(j, extra);
	return j;
}

/* The profile file podman/docker get for a run ("unconfined" needs none). */
static char *engine_profile(struct verify *v, enum run_mode m, const struct dg_strv *extra,
			    struct dg_error *err)
{
	if (m == RUN_UNCONFINED)
		return dg_xstrdup("unconfined");
	json_error_t je;
	json_t *j = json_loadb(v->profile_text, v->profile_len, 0, &je);
	if (!j) {
		dg_err(err, DG_E_INPUT, "%s: not JSON: %s", v->profile, je.text);
		return NULL;
	}
	if (m == RUN_LOG)
		to_log(j, extra);
	char *path = er_tmp_path(&v->r, "profile-%u.json", v->r.seq);
	int r = er_write_json_file(path, j, err);
	json_decref(j);
	if (r < 0) {
		free(path);
		return NULL;
	}
	return path;
}


/* ---- diagnosis ---- */

static const char *arch_name(uint32_t a)
{
	return a == DG_AUDIT_ARCH_X86_64 ? "x86_64" : a == DG_AUDIT_ARCH_I386 ? "x86" : "other";
}

static const char *denial_name(const struct denial *d)
{
	if (d->arch == DG_AUDIT_ARCH_X86_64 || d->arch == DG_AUDIT_ARCH_I386)
		return dg_syscall_name((unsigned)d->nr, d->arch == DG_AUDIT_ARCH_I386);
	return NULL;
}

struct collect {
	struct verify *v;
	size_t fresh; /* records of a syscall not seen before */
	struct dg_strv *extra;
};

static void on_record(const struct dg_seccomp_record *r, void *ud)
{
	struct collect *c = ud;
	struct verify *v = c->v;
	if (r->code != DG_SECCOMP_RET_LOG)
		return;
	const char *nm = r->arch == DG_AUDIT_ARCH_X86_64 || r->arch == DG_AUDIT_ARCH_I386
				 ? dg_syscall_name((unsigned)r->syscall, r->arch == DG_AUDIT_ARCH_I386)
				 : NULL;
	if (nm && dg_profile_logs(&v->model, nm)) { /* allowed: the profile's own logged tier */
		dg_autofree char *u = dg_xasprintf("%s by %s", nm, r->exe);
		if (!dg_strv_has(&v->logged_used, u))
			dg_strv_push(&v->logged_used, u);
		return;
	}
	bool known_call = false;
	for (size_t i = 0; i < v->nden; i++) {
		struct denial *d = &v->den[i];
		if (d->arch == r->arch && d->nr == r->syscall) {
			known_call = true;
			if (!strcmp(d->exe, r->exe)) {
				d->count++;
				return;
			}
		}
	}
	v->den = dg_xreallocarray(v->den, v->nden + 1, sizeof *v->den);
	struct denial *d = &v->den[v->nden++];
	d->arch = r->arch;
	d->nr = r->syscall;
	d->exe = dg_xstrdup(r->exe);
	d->comm = dg_xstrdup(r->comm);
	d->count = 1;
	const char *name = denial_name(d);
	if (!known_call && name) {
		c->fresh++;
		dg_strv_push(c->extra, name);
	}
}

static void ignore_record(const struct dg_seccomp_record *r, void *ud)
{
	(void)r;
	(void)ud;
}

static int cmp_denial(const void *a, const void *b)
{
	const struct denial *x = a, *y = b;
	const char *nx = denial_name(x), *ny = denial_name(y);
	int r = strcmp(nx ? nx : "~", ny ? ny : "~");
	if (r)
		return r;
	if (x->nr != y->nr)
		return x->nr < y->nr ? -1 : 1;
	return strcmp(x->exe, y->exe);
}

/* Runs the workload with SCMP_ACT_LOG as the default action until a run logs
 * nothing new: each run allows what the runs before it logged, so the kernel's
 * rate limit (10 records per 5 s) can only delay a record, never hide it. */
static int diagnose(struct verify *v, struct dg_error *err)
{
	if (geteuid() != 0) {
		v->diag_note = dg_xstrdup("needs root (to read the kernel log /dev/kmsg and the audit status)");
		return 0;
	}
	struct dg_audit_status as;
	if (dg_audit_status(&as, err) < 0) {
		v->diag_note = dg_xasprintf("cannot read the audit status: %s", err->msg);
		dg_err_clear(err);
		return 0;
	}
	if (as.pid) {
		v->diag_note = dg_xasprintf("an audit daemon (pid %u) receives the kernel's seccomp records instead of "
					    "the kernel log; find them with `ausearch -m SECCOMP`",
					    as.pid);
		return 0;
	}
	struct dg_kmsg *k;
	if (dg_kmsg_open(&k, err) < 0) {
		v->diag_note = dg_xasprintf("cannot read the kernel log: %s", err->msg);
		dg_err_clear(err);
		return 0;
	}
	struct dg_strv extra = {0};
	int rc = 0;
	for (int run = 0; run < DIAG_MAX_RUNS && !er_interrupted; run++) {
		struct dg_audit_status before, after;
		if (dg_audit_status(&before, err) < 0) {
			rc = -1;
			break;
		}
		struct collect c = {v, 0, &extra};
		dg_strv_free(&extra);
		for (size_t i = 0; i < v->nden; i++)
			if (denial_name(&v->den[i]))
				dg_strv_push(&extra, denial_name(&v->den[i]));
		say("diagnosis run %d: the same workload with SCMP_ACT_LOG as the default action%s", run + 1,
		    extra.n ? " (allowing what earlier runs logged)" : "");
		int st;
		bool to;
		dg_kmsg_drain(k, ignore_record, NULL); /* records from before this run are not ours */
		if (run_once(v, RUN_LOG, &extra, &st, &to, err) < 0) {
			rc = -1;
			break;
		}
		if (run == 0)
			v->diag_status = to ? 0 : st;
		v->diag_runs++;
		struct timespec ts = {0, 300 * 1000 * 1000};
		nanosleep(&ts, NULL); /* records of the last exits reach the log */
		dg_kmsg_drain(k, on_record, &c);
		if (dg_audit_status(&after, err) < 0) {
			rc = -1;
			break;
		}
		bool lost = after.lost != before.lost;
		if (lost) {
			v->diag_lost = true;
			sleep(6); /* let the rate limit's 5 s window pass before the next run */
		}
		if (!c.fresh && !lost)
			break;
		if (run == DIAG_MAX_RUNS - 1 && (c.fresh || lost))
			v->diag_note = dg_xasprintf("stopped after %d runs; more denied syscalls may exist", DIAG_MAX_RUNS);
	}
	dg_strv_free(&extra);
	dg_kmsg_close(k);
	if (v->nden)
		qsort(v->den, v->nden, sizeof *v->den, cmp_denial);
	return rc;
}

/* ---- report ---- */

static bool runtime_record(const struct denial *d)
{
	return !strncmp(d->comm, "runc:", 5) || strstr(d->exe, "/runc") || strstr(d->exe, "/crun");
}

static void print_denials(const struct verify *v)
{
	for (size_t i = 0; i < v->nden; i++) {
		const struct denial *d = &v->den[i];
		const char *name = denial_name(d);
		struct dg_buf exe = {0}, comm = {0};
		dg_buf_put_escaped(&exe, d->exe);
		dg_buf_put_escaped(&comm, d->comm);
		dg_buf_putc(&exe, 0);
		dg_buf_putc(&comm, 0);
		say("denied: %s (%s %d) by %s (comm %s), %lu time%s%s", name ? name : "?", arch_name(d->arch), d->nr,
		    exe.data, comm.data, d->count, d->count == 1 ? "" : "s",
		    runtime_record(d) ? " [the container runtime: generate with --runtime-base]" : "");
		dg_buf_free(&exe);
		dg_buf_free(&comm);
	}
}

static char *denied_list(const struct verify *v)
{
	struct dg_buf b = {0};
	const char *prev = NULL;
	for (size_t i = 0; i < v->nden; i++) {
		const char *name = denial_name(&v->den[i]);
		char num[32];
		if (!name) {
			snprintf(num, sizeof num, "%s:%d", arch_name(v->den[i].arch), v->den[i].nr);
			name = num;
		}
		if (prev && !strcmp(prev, name))
			continue;
		dg_buf_printf(&b, "%s%s", b.len ? " " : "", name);
		prev = denial_name(&v->den[i]);
	}
	dg_buf_putc(&b, 0);
	return dg_buf_steal(&b);
}

static size_t distinct_denied(const struct verify *v)
{
	size_t n = 0;
	for (size_t i = 0; i < v->nden; i++)
		if (i == 0 || v->den[i].arch != v->den[i - 1].arch || v->den[i].nr != v->den[i - 1].nr)
			n++;
	return n;
}

/* --report FILE: the result as JSON. */
static int write_report(const struct verify *v, struct dg_error *err)
{
	bool pass = v->pass, timed_out = v->timed_out;
	int status = v->status;
	json_t *j = json_object(), *den = json_array();
	cli_json_set(j, "result", cli_json_str(pass ? "pass" : "fail"));
	cli_json_set(j, "image", cli_json_str(v->r.image));
	cli_json_set(j, "profile", cli_json_str(v->profile));
	cli_json_set(j, "engine", cli_json_str(v->r.ops->name));
	cli_json_set(j, "runtime", cli_json_str(v->r.runtime ? v->r.runtime : v->r.ops->default_runtime));
	cli_json_set(j, "no_new_privileges", json_boolean(v->r.nnp));
	cli_json_set(j, "exit_status", json_integer(status));
	cli_json_set(j, "expected_status", json_integer(v->expect));
	cli_json_set(j, "timed_out", json_boolean(timed_out));
	for (size_t i = 0; i < v->nden; i++) {
		const struct denial *d = &v->den[i];
		json_t *o = json_object();
		const char *name = denial_name(d);
		cli_json_set(o, "syscall", cli_json_str(name));
		cli_json_set(o, "number", json_integer(d->nr));
		cli_json_set(o, "arch", cli_json_str(arch_name(d->arch)));
		cli_json_set(o, "exe", cli_json_str(d->exe));
		cli_json_set(o, "comm", cli_json_str(d->comm));
		cli_json_set(o, "count", json_integer((json_int_t)d->count));
		cli_json_set(o, "runtime", json_boolean(runtime_record(d)));
		cli_json_push(den, o);
	}
	cli_json_set(j, "denied", den);
	cli_json_set(j, "logged_tier_used", cli_json_strv(&v->logged_used));
	cli_json_set(j, "diagnosis", cli_json_str(v->diag_note ? v->diag_note : v->diag_runs ? "done" : "none"));
	cli_json_set(j, "diagnosis_runs", json_integer(v->diag_runs));
	cli_json_set(j, "diagnosis_status", v->diag_status >= 0 ? json_integer(v->diag_status) : json_null());
	cli_json_set(j, "records_rate_limited", json_boolean(v->diag_lost));
	cli_json_set(j, "unconfined_status", v->unconfined_status >= 0 ? json_integer(v->unconfined_status) : json_null());
	int r = er_write_json_file(v->report, j, err);
	json_decref(j);
	return r;
}

/* ---- command ---- */

static const char verify_help[] =
	"usage: dockergate verify IMAGE --profile FILE [OPTIONS] [-- ARGS...]\n\n"
	"Runs IMAGE on a real container engine under the seccomp profile FILE (Docker format,\n"
	"as `generate` writes it, or the word docker-default), as `docker run --rm IMAGE ARGS`\n"
	"would: ARGS replace the image's Cmd, the Entrypoint stays. The container's stdout and\n"
	"stderr are passed through; stdin is /dev/null. The workload passes when the container\n"
	"exits with the expected status (or is still running at --timeout). When it fails, the\n"
	"same workload runs again with SCMP_ACT_LOG as the profile's default action and the\n"
	"kernel's seccomp records (the kernel log; needs root and no audit daemon) name every\n"
	"syscall the profile denied and the executable that made it; when nothing was denied,\n"
	"one more run without any profile tells whether the workload fails anyway.\n\n"
	"Options:\n"
	"  --profile FILE      the profile to verify (required)\n"
	"  --engine ENGINE     podman, docker or runc (default: podman, else docker, else runc,\n"
	"                      whichever is installed). podman and docker run with their own\n"
	"                      configuration (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF, ...);\n"
	"                      runc runs a bundle unpacked with skopeo and umoci in a private\n"
	"                      temp directory, with Docker's default capabilities\n"
	"  --runtime PATH      the OCI runtime podman/docker use (podman --runtime), or the\n"
	"                      binary run instead of runc (called as PATH --root DIR run --bundle\n"
	"                      DIR NAME); e.g. a wrapper that runs the runtime under strace\n"
	"  --network MODE      none, host or default (the engine's; runc: none, a namespace with\n"
	"                      only lo)\n"
	"  --no-new-privileges set no_new_privileges (default off, as in `docker run`)\n"
	"  --entrypoint PATH   replace the image's Entrypoint (and, as in docker, its Cmd)\n"
	"  --timeout SECONDS   stop the container (SIGTERM, SIGKILL 10 s later) after SECONDS; a\n"
	"                      container still running then passes (a server that stayed up)\n"
	"  --expect-status N   the exit status that means success (default 0)\n"
	"  --diagnose WHEN     on-failure (default), always (also look for denials a passing\n"
	"                      workload survived, and name the uses of what the profile logs:\n"
	"                      its SCMP_ACT_LOG tier, `generate --fallback log`), never\n"
	"  --report FILE       write the result as JSON (result, exit_status, denied[]: syscall,\n"
	"                      number, arch, exe, comm, count, runtime; logged_tier_used[];\n"
	"                      diagnosis, ...)\n"
	"  --ref NAME, --platform OS/ARCH, --tmpdir DIR  as for the other commands\n\n"
	"Exit status: 0 pass, 8 the workload failed under the profile, 6 the engine or a tool\n"
	"it needs is missing or failed, 2 usage, 3 input (image, profile), 130 interrupted.\n";


static int verify_parse(struct verify *v, int argc, char **argv)
{
	enum { OPT_PROFILE = OPT_FIRST_CMD_OPT, OPT_ENGINE, OPT_RUNTIME, OPT_NETWORK, OPT_NNP, OPT_ENTRYPOINT,
	       OPT_TIMEOUT, OPT_EXPECT, OPT_DIAGNOSE, OPT_REPORT };
	static const struct option longopts[] = {
		{"platform", required_argument, NULL, OPT_PLATFORM}, {"ref", required_argument, NULL, OPT_REF},
		{"tmpdir", required_argument, NULL, OPT_TMPDIR},     {"help", no_argument, NULL, OPT_HELP},
		{"profile", required_argument, NULL, OPT_PROFILE},   {"engine", required_argument, NULL, OPT_ENGINE},
		{"runtime", required_argument, NULL, OPT_RUNTIME},   {"network", required_argument, NULL, OPT_NETWORK},
		{"no-new-privileges", no_argument, NULL, OPT_NNP},   {"entrypoint", required_argument, NULL, OPT_ENTRYPOINT},
		{"timeout", required_argument, NULL, OPT_TIMEOUT},   {"expect-status", required_argument, NULL, OPT_EXPECT},
		{"diagnose", required_argument, NULL, OPT_DIAGNOSE}, {"report", required_argument, NULL, OPT_REPORT},
		{NULL, 0, NULL, 0},
	};
	bool engine_set = false;
	int opt;
	optind = 0;
	/* "-": IMAGE comes back as option 1 wherever it is; "--" ends the options and
	 * leaves optind at the container's ARGS */
	while ((opt = getopt_long(argc, argv, "-", longopts, NULL)) != -1) {
		char *end;
		switch (opt) {
		case 1:
			if (v->r.image)
				return cli_usage_error("verify", "unexpected '%s': the container's arguments go after --", optarg);
			v->r.image = optarg;
			break;
		case OPT_HELP:
			fputs(verify_help, stdout);
			return -1;
		case OPT_PROFILE:
			v->profile = optarg;
			break;
		case OPT_ENGINE:
			if (!(v->r.ops = er_engine(optarg))) {
				dg_autofree char *names = er_engine_names(NULL, false);
				return cli_usage_error("verify", "--engine: expected %s, got '%s'", names, optarg);
			}
			engine_set = true;
			break;
		case OPT_RUNTIME:
			v->r.runtime = optarg;
			break;
		case OPT_NETWORK:
			if (strcmp(optarg, "none") && strcmp(optarg, "host") && strcmp(optarg, "default"))
				return cli_usage_error("verify", "--network: expected none, host or default, got '%s'", optarg);
			v->r.network = optarg;
			break;
		case OPT_NNP:
			v->r.nnp = true;
			break;
		case OPT_ENTRYPOINT:
			v->r.entrypoint = optarg;
			v->r.has_entrypoint = true;
			break;
		case OPT_TIMEOUT:
			errno = 0;
			v->r.timeout = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(v->r.timeout > 0) || v->r.timeout > 86400)
				return cli_usage_error("verify", "--timeout: expected seconds between 0 and 86400, got '%s'", optarg);
			break;
		case OPT_EXPECT: {
			errno = 0;
			long x = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || x < 0 || x > 255)
				return cli_usage_error("verify", "--expect-status: expected 0-255, got '%s'", optarg);
			v->expect = (int)x;
			break;
		}
		case OPT_DIAGNOSE:
			if (!strcmp(optarg, "on-failure"))
				v->diagnose = DIAG_ON_FAILURE;
			else if (!strcmp(optarg, "always"))
				v->diagnose = DIAG_ALWAYS;
			else if (!strcmp(optarg, "never"))
				v->diagnose = DIAG_NEVER;
			else
				return cli_usage_error("verify", "--diagnose: expected on-failure, always or never, got '%s'", optarg);
			break;
		case OPT_REPORT:
			v->report = optarg;
			break;
		default: {
			int r = cli_common_opt("verify", &v->r.ia, opt, optarg);
			if (r)
				return r;
		}
		}
	}
	if (!v->r.image && optind < argc) /* "verify --profile P -- IMAGE ARGS" */
		v->r.image = argv[optind++];
	if (!v->r.image)
		return cli_usage_error("verify", "an IMAGE is needed");
	v->r.args = argv + optind;
	v->r.nargs = argc - optind;
	if (!v->profile)
		return cli_usage_error("verify", "--profile FILE is needed");
	if (!engine_set)
		v->r.ops = er_default_engine();
	return 0;
}

static int load_profile(struct verify *v, struct dg_error *err)
{
	if (dg_profile_read_spec(v->profile, &v->profile_text, &v->profile_len, err) < 0)
		return -1;
	struct dg_strv warn = {0};
	int r = dg_profile_load(v->profile_text, v->profile_len, v->profile, &v->model, &warn, err);
	if (r == 0 && dg_profile_compile(&v->model, NULL, err) < 0)
		r = -1;
	/* argument conditions matter only where the model stands in for the file (runc) */
	if (r == 0 && v->r.ops->oci_bundle)
		for (size_t i = 0; i < warn.n; i++)
			cli_warn("verify", "%s", warn.v[i]);
	dg_strv_free(&warn);
	return r;
}

static int setup(struct verify *v, struct dg_error *err)
{
	if (load_profile(v, err) < 0)
		return -1;
	return er_setup(&v->r, err);
}

static void teardown(struct verify *v)
{
	er_teardown(&v->r);
	free(v->profile_text);
	free(v->diag_note);
	for (size_t i = 0; i < v->nden; i++) {
		free(v->den[i].exe);
		free(v->den[i].comm);
	}
	free(v->den);
	dg_strv_free(&v->logged_used);
	dg_profile_free(&v->model);
}

/* One run of the workload under the profile (RUN_ENFORCE), with SCMP_ACT_LOG as its
 * default action and EXTRA allowed (RUN_LOG), or without any profile. */
static int run_once(struct verify *v, enum run_mode m, const struct dg_strv *extra, int *status, bool *timed_out,
		    struct dg_error *err)
{
	json_t *sc = NULL;
	char *prof = NULL;
	if (v->r.ops->oci_bundle) {
		if (m != RUN_UNCONFINED && !(sc = oci_seccomp(v, m, extra, err)))
			return -1;
	} else if (!(prof = engine_profile(v, m, extra, err))) {
		return -1;
	}
	int r = er_run(&v->r, sc, prof, NULL, status, timed_out, err);
	if (sc)
		json_decref(sc);
	if (prof && m != RUN_UNCONFINED)
		unlink(prof);
	free(prof);
	return r;
}

/* ---- run: the workload under the profile, then the diagnosis and the run without any
 * profile as needed; progress lines as it goes. 0, DG_E_INTERRUPTED or -1 (ERR). ---- */

static int verify_run(struct verify *v, struct dg_error *err)
{
	say("running %s under %s with %s%s%s (no_new_privileges %s)", v->r.image, v->profile, v->r.ops->name,
	    v->r.runtime ? ", runtime " : "", v->r.runtime ? v->r.runtime : "", v->r.nnp ? "true" : "false");
	if (run_once(v, RUN_ENFORCE, NULL, &v->status, &v->timed_out, err) < 0)
		return -1;
	if (er_interrupted)
		return DG_E_INTERRUPTED;
	int status = v->status;
	bool timed_out = v->timed_out;
	bool pass = v->pass = timed_out || status == v->expect;
	if (timed_out)
		say("still running after %g s: stopped (a container that stays up passes)", v->r.timeout);
	else
		say("the container exited with status %d%s", status, pass ? "" : " (expected another)");
	if (v->r.ops->run_statuses && status == 125 && !pass)
		cli_note("verify", "status 125 is the engine's own error (see its message above)");
	if ((!pass && v->diagnose != DIAG_NEVER) || v->diagnose == DIAG_ALWAYS) {
		if (diagnose(v, err) < 0)
			return -1;
		if (er_interrupted)
			return DG_E_INTERRUPTED;
		if (v->diag_note)
			say("no diagnosis: %s", v->diag_note);
		print_denials(v);
		for (size_t i = 0; i < v->logged_used.n; i++)
			say("used, allowed by the profile's logged tier (SCMP_ACT_LOG): %s", v->logged_used.v[i]);
		if (!pass && v->diag_runs && !v->nden && !v->diag_note) {
			say("no syscall was denied; one more run without any seccomp profile");
			bool to2;
			if (run_once(v, RUN_UNCONFINED, NULL, &v->unconfined_status, &to2, err) < 0)
				return -1;
			if (to2)
				v->unconfined_status = 0;
		}
	}
	return 0;
}

/* ---- the verdict (text): pass (0), fail (DG_E_WORKLOAD), or the engine's own failure
 * (-1, ERR) ---- */

static int verify_verdict(const struct verify *v, struct dg_error *err)
{
	int status = v->status;
	bool timed_out = v->timed_out;
	dg_autofree char *list = denied_list(v);
	size_t nd = distinct_denied(v);
	if (v->pass) {
		if (nd)
			say("pass: %s under %s, but the workload made %zu syscall%s the profile denies (it coped with "
			    "the error): %s",
			    timed_out ? "stayed up" : "exited as expected", v->profile, nd, nd == 1 ? "" : "s", list);
		else
			say("pass: %s under %s (%s)", timed_out ? "stayed up" : "exited as expected", v->profile,
			    v->r.ops->name);
		return 0;
	}
	if (nd && v->diag_status >= 0 && v->diag_status != v->expect)
		cli_note("verify", "with nothing denied the workload still exited with status %d: it may fail for another "
		    "reason too", v->diag_status);
	if (nd)
		say("FAIL: exit status %d; the profile denies %zu syscall%s the workload makes: %s", status, nd,
		    nd == 1 ? "" : "s", list);
	else if (v->r.ops->run_statuses && v->unconfined_status >= 125 && v->unconfined_status <= 127 &&
		 status == v->unconfined_status)
		return dg_err(err, DG_E_ENV, "%s could not start the container even without a seccomp profile (exit "
			      "status %d; see its message above)", v->r.ops->name, status);
	else if (v->unconfined_status >= 0 && v->unconfined_status != v->expect)
		say("FAIL: exit status %d; without any seccomp profile it fails too (status %d): the workload, not the "
		    "profile",
		    status, v->unconfined_status);
	else if (v->unconfined_status >= 0)
		say("FAIL: exit status %d; nothing was logged as denied, but without a profile it passes: an errno "
		    "rule of the profile (e.g. ENOSYS) may be the cause",
		    status);
	else
		say("FAIL: exit status %d%s", status, v->diag_note ? "; the denied syscalls are unknown" : "");
	return DG_E_WORKLOAD;
}

int cmd_verify(int argc, char **argv)
{
	struct verify v;
	memset(&v, 0, sizeof v);
	v.r.cmd = "verify";
	cli_image_args_init(&v.r.ia);
	v.diag_status = -1;
	v.unconfined_status = -1;
	int r = verify_parse(&v, argc, argv);
	if (r)
		return r < 0 ? 0 : r;
	dg_profile_init(&v.model);
	er_catch_signals();
	struct dg_error err = DG_ERROR_INIT;
	int rc = setup(&v, &err); /* then: run, --report, the verdict */
	if (rc == 0)
		rc = verify_run(&v, &err);
	if (rc == 0 && v.report)
		rc = write_report(&v, &err);
	if (rc == 0)
		rc = verify_verdict(&v, &err);
	if (rc < 0)
		rc = cli_fail(&err);
	teardown(&v);
	return rc;
}
