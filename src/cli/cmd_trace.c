/* dockergate trace IMAGE [OPTIONS] [-- ARGS]: runs the image as `docker run IMAGE
 * ARGS` would, with no seccomp filter, under the ptrace recorder (src/lib/runtime/trace.c),
 * and writes every syscall the container's processes and threads made, per
 * executable, from the container's first exec to its exit (docs/design.md
 * "Tracing"). runc: dockergate traces `runc run` and everything it starts;
 * podman: podman's runtime is a wrapper that runs `runc create` under a detached
 * recorder (the hidden command __trace-runtime), as `strace -D` would. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "dockergate/trace.h"
#include "dockergate/proc.h"
#include "engine_run.h"
#include "dockergate/util.h"

#define TRACE_ENGINE "runc" /* the default --engine */
#define PROBE_FIRST 1.0     /* seconds before the first probe (the container starts) */
#define PROBE_AGAIN 0.5     /* seconds between a failed probe and the next */
#define RECORDER_WAIT 30.0  /* seconds to wait for podman's detached recorder after the run */
#define PROBE_GRACE 2.0     /* seconds between SIGTERM and SIGKILL to a probe still running */


struct trace_cmd {
	struct engine_run r;
	/* options */
	const char *out;        /* -o FILE ("-": stdout) */
	const char *probe;
	/* state */
	char *raw;              /* the recorder's file */
	char *wrapper;          /* podman: the runtime wrapper */
	char *runc;             /* podman: the runtime the wrapper runs */
	pid_t probe_pid;
	int probe_status;       /* the last probe's exit status, -1: none finished */
	int probes;             /* how many ran */
	bool probe_ok;
	double probe_next;
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cli_vsay("trace", NULL, fmt, ap);
	va_end(ap);
}

/* The container's stdout: ours, unless the trace itself goes to stdout. */
static int container_stdout(const struct trace_cmd *t)
{
	return !strcmp(t->out, "-") ? 2 : -1;
}

/* ER_TRACE_DIRECT (runc): a recorder process (our child) runs the runtime under
 * ptrace and writes the raw trace; its exit status is the runtime's. */
static pid_t start_recorded(struct engine_run *e, char *const argv[], void *ud, struct dg_error *err)
{
	struct trace_cmd *t = ud;
	fflush(stdout);
	fflush(stderr);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		dg_err_sys(err, DG_E_ENV, errno, "fork");
		return -1;
	}
	if (pid > 0)
		return pid;
	/* the recorder: SIGINT/SIGTERM are the parent's to handle (it stops the
	 * container, which ends the recording); its handler only sets a flag here.
	 * Should the parent die (SIGKILL), the recorder dies too, and with it
	 * (PTRACE_O_EXITKILL) runc and the container. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(255);
	struct dg_error e2 = DG_ERROR_INIT;
	struct dg_trace *tr = NULL;
	int status = 255;
	if (dg_trace_run(argv, container_stdout(t), -1, DG_TRACE_EXITKILL, &tr, &status, &e2) < 0) {
		cli_say("trace", "error", "%s", e2.msg);
		_exit(255);
	}
	tr->exit_status = status;
	if (dg_trace_write(tr, t->raw, &e2) < 0) {
		cli_say("trace", "error", "%s", e2.msg);
		_exit(255);
	}
	dg_trace_free(tr);
	_exit(status);
}

/* ER_TRACE_WRAPPER (podman): the CLI runs as it is (its runtime wrapper records),
 * its stdout moved when the trace goes to stdout. */
static pid_t start_plain(struct engine_run *e, char *const argv[], void *ud, struct dg_error *err)
{
	struct trace_cmd *t = ud;
	struct dg_spawn s = {NULL, container_stdout(t), -1, false};
	return dg_spawn(argv, &s, err);
}

static void probe_reap(struct trace_cmd *t, bool wait)
{
	if (t->probe_pid <= 0)
		return;
	int ws;
	pid_t r = waitpid(t->probe_pid, &ws, wait ? 0 : WNOHANG);
	if (r == t->probe_pid) {
		t->probe_status = dg_exit_code(ws);
		t->probe_ok = t->probe_status == 0;
		t->probe_pid = 0;
	}
}

/* The probe: /bin/sh -c CMD in a process group of its own (so all it started can
 * be stopped), stdin /dev/null, stdout to stderr (stdout may be the trace). */
static pid_t probe_spawn(const char *cmd, struct dg_error *err)
{
	char *av[] = {(char *)"/bin/sh", (char *)"-c", (char *)cmd, NULL};
	struct dg_spawn s = {NULL, 2, -1, true};
	return dg_spawn(av, &s, err);
}

/* Stops a probe still running: its process group gets SIGTERM, then SIGKILL
 * after PROBE_GRACE s should the shell not have exited. */
static void probe_stop(struct trace_cmd *t)
{
	if (t->probe_pid <= 0)
		return;
	kill(-t->probe_pid, SIGTERM);
	double until = er_now() + PROBE_GRACE;
	for (;;) {
		probe_reap(t, false);
		if (t->probe_pid <= 0)
			return;
		if (er_now() > until)
			break;
		struct timespec ts = {0, 20 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	kill(-t->probe_pid, SIGKILL);
	probe_reap(t, true);
}

/* --probe: runs the command PROBE_FIRST s after the start, then again PROBE_AGAIN s
 * after each failure, until it succeeds; then the container is stopped. */
static bool tick(struct engine_run *e, double elapsed, void *ud)
{
	struct trace_cmd *t = ud;
	if (!t->probe)
		return false;
	if (t->probe_pid > 0) {
		probe_reap(t, false);
		if (t->probe_pid > 0)
			return false;
		if (t->probe_ok) {
			say("the probe succeeded (after %d attempt%s): stopping the container", t->probes,
			    t->probes == 1 ? "" : "s");
			return true;
		}
		t->probe_next = elapsed + PROBE_AGAIN;
		return false;
	}
	if (!t->probe_ok && elapsed >= t->probe_next) {
		struct dg_error err = DG_ERROR_INIT;
		t->probe_pid = probe_spawn(t->probe, &err);
		if (t->probe_pid < 0) {
			say("cannot run the probe: %s", err.msg);
			t->probe_pid = 0;
			t->probe_next = elapsed + 1e9;
		} else {
			t->probes++;
		}
	}
	return false;
}

static const char trace_help[] =
	"usage: dockergate trace IMAGE [OPTIONS] [-- ARGS...]\n\n"
	"Runs IMAGE as `docker run IMAGE ARGS` would (ARGS replace the image's Cmd, the\n"
	"Entrypoint stays), with no seccomp filter, and records every syscall the\n"
	"container's processes and threads make, per executable, from the container's\n"
	"first exec to its exit (ptrace: forks, vforks, clones, execs, x86-64 and i386\n"
	"calls). The container runtime's own calls are recorded apart (\"runtime\"). The\n"
	"container's stdout and stderr are passed through (stdout to stderr when the trace\n"
	"goes to stdout); stdin is /dev/null.\n\n"
	"Options:\n"
	"  -o, --output FILE   write the trace (JSON) to FILE (default: stdout)\n"
	"  --engine ENGINE     runc (default: dockergate traces `runc run` and all it starts;\n"
	"                      a bundle unpacked with skopeo and umoci, Docker's default\n"
	"                      capabilities) or podman (private settings from CONTAINERS_CONF\n"
	"                      and CONTAINERS_STORAGE_CONF as usual; podman's runtime becomes a\n"
	"                      wrapper that records `runc create` with a detached recorder)\n"
	"  --runtime PATH      the runc binary (default: runc from PATH)\n"
	"  --network MODE      none (default: a namespace with only lo) or host\n"
	"  --entrypoint PATH   replace the image's Entrypoint (and, as in docker, its Cmd)\n"
	"  --timeout SECONDS   stop the container after SECONDS (SIGTERM, SIGKILL 10 s later);\n"
	"                      default: wait until it exits\n"
	"  --probe 'CMD'       a host shell command run while the container is up, e.g. curl\n"
	"                      against a server: first after 1 s, then again 0.5 s after each\n"
	"                      failure until it exits 0; then the container is stopped\n"
	"                      (SIGTERM) and the trace written\n"
	"  --ref NAME, --platform OS/ARCH, --tmpdir DIR  as for the other commands\n\n"
	"The trace: {\"dockergate_trace\":1, \"image\", \"engine\", \"args\" (the command line\n"
	"run), \"arch\":\"x86_64\", \"executables\":[{\"path\", \"syscalls\":{NAME:COUNT},\n"
	"\"i386\":{...}}], \"runtime\", \"exit_status\", \"timed_out\", \"probe\":{\"command\",\n"
	"\"exit_status\"}, \"lost\" (calls or stops the recorder could not attribute; 0 normally)}.\n"
	"A backslash in a string is written \\x5c, bytes that are not UTF-8 \\xHH.\n"
	"Exit status: 0 the trace was written (whatever the container's own status), 2 usage,\n"
	"3 input (image), 5 the recording exceeds a trace file's caps (100000 executables,\n"
	"64 MiB; the recorder keeps below them), 6 the engine or a tool it needs is missing\n"
	"or failed, or the recorder failed, 130 interrupted (the container is stopped,\n"
	"nothing is left).\n";

static int trace_parse(struct trace_cmd *t, int argc, char **argv)
{
	enum { OPT_ENGINE = OPT_FIRST_CMD_OPT, OPT_RUNTIME, OPT_NETWORK, OPT_ENTRYPOINT, OPT_TIMEOUT, OPT_PROBE, OPT_OUT };
	static const struct option longopts[] = {
		{"platform", required_argument, NULL, OPT_PLATFORM}, {"ref", required_argument, NULL, OPT_REF},
		{"tmpdir", required_argument, NULL, OPT_TMPDIR},     {"help", no_argument, NULL, OPT_HELP},
		{"engine", required_argument, NULL, OPT_ENGINE},     {"runtime", required_argument, NULL, OPT_RUNTIME},
		{"network", required_argument, NULL, OPT_NETWORK},   {"entrypoint", required_argument, NULL, OPT_ENTRYPOINT},
		{"timeout", required_argument, NULL, OPT_TIMEOUT},   {"probe", required_argument, NULL, OPT_PROBE},
		{"output", required_argument, NULL, OPT_OUT},        {NULL, 0, NULL, 0},
	};
	struct engine_run *e = &t->r;
	int opt;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "-o:", longopts, NULL)) != -1) {
		char *end;
		switch (opt) {
		case 1:
			if (e->image)
				return cli_usage_error("trace", "unexpected '%s': the container's arguments go after --", optarg);
			e->image = optarg;
			break;
		case OPT_HELP:
			fputs(trace_help, stdout);
			return -1;
		case OPT_ENGINE:
			if (!(e->ops = er_engine(optarg)) || e->ops->trace == ER_TRACE_NONE) {
				dg_autofree char *names = er_engine_names(er_engine(TRACE_ENGINE), true);
				return cli_usage_error("trace", "--engine: expected %s, got '%s'%s%s%s", names, optarg,
						       e->ops ? " (" : "", e->ops ? e->ops->untraceable : "", e->ops ? ")" : "");
			}
			break;
		case OPT_RUNTIME:
			e->runtime = optarg;
			break;
		case OPT_NETWORK:
			if (strcmp(optarg, "none") && strcmp(optarg, "host"))
				return cli_usage_error("trace", "--network: expected none or host, got '%s'", optarg);
			e->network = optarg;
			break;
		case OPT_ENTRYPOINT:
			e->entrypoint = optarg;
			e->has_entrypoint = true;
			break;
		case OPT_TIMEOUT:
			errno = 0;
			e->timeout = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(e->timeout > 0) || e->timeout > 86400)
				return cli_usage_error("trace", "--timeout: expected seconds between 0 and 86400, got '%s'", optarg);
			break;
		case OPT_PROBE:
			if (!*optarg)
				return cli_usage_error("trace", "--probe: an empty command");
			t->probe = optarg;
			break;
		case 'o':
		case OPT_OUT:
			t->out = optarg;
			break;
		default: {
			int r = cli_common_opt("trace", &e->ia, opt, optarg);
			if (r)
				return r;
		}
		}
	}
	if (!e->image && optind < argc)
		e->image = argv[optind++];
	if (!e->image)
		return cli_usage_error("trace", "an IMAGE is needed");
	e->args = argv + optind;
	e->nargs = argc - optind;
	if (!e->network)
		e->network = "none";
	return 0;
}

static char *self_exe(struct dg_error *err)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
	if (n < 0) {
		dg_err_sys(err, DG_E_ENV, errno, "/proc/self/exe");
		return NULL;
	}
	buf[n] = 0;
	return dg_xstrdup(buf);
}

/* podman: a runtime wrapper that runs `runc create` under the detached recorder
 * and every other runtime command (start, kill, delete, state) plainly. */
static int make_wrapper(struct trace_cmd *t, struct dg_error *err)
{
	const char *rt = t->r.runtime ? t->r.runtime : "runc";
	if (!(t->runc = dg_which(rt)))
		return dg_err(err, DG_E_ENV, "%s: not found (install runc, or name the runtime with --runtime)", rt);
	dg_autofree char *dg = self_exe(err);
	if (!dg)
		return -1;
	const char *paths[] = {dg, t->runc, t->raw};
	for (size_t i = 0; i < 3; i++)
		if (strchr(paths[i], '\''))
			return dg_err(err, DG_E_ENV, "%s: a path with a single quote cannot go into the runtime wrapper", paths[i]);
	t->wrapper = er_tmp_path(&t->r, "runtime.sh");
	dg_autofree char *script = dg_xasprintf(
		"#!/bin/sh\n"
		"# dockergate trace: `runc create` under the detached recorder, the rest plainly\n"
		"for a in \"$@\"; do case \"$a\" in create) exec '%s' __trace-runtime '%s' '%s' \"$@\";; esac; done\n"
		"exec '%s' \"$@\"\n",
		dg, t->raw, t->runc, t->runc);
	int fd = open(t->wrapper, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0700);
	if (fd < 0)
		return dg_err_sys(err, DG_E_ENV, errno, "%s", t->wrapper);
	int r = dg_write_full(fd, script, strlen(script), err);
	close(fd);
	if (r < 0)
		return -1;
	t->r.runtime = t->wrapper;
	return 0;
}

/* Waits up to LIMIT s for the detached recorder's file. */
static bool wait_raw(const struct trace_cmd *t, double limit)
{
	double until = er_now() + limit;
	struct stat st;
	while (stat(t->raw, &st) < 0) {
		if (er_now() > until || er_interrupted)
			return false;
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return true;
}

/* ---- run: the container under the recorder; *OUT the recorded trace. 0,
 * DG_E_INTERRUPTED or -1 (ERR). ---- */

static int trace_run(struct trace_cmd *t, struct dg_trace **out, int *status_out, bool *timed_out_out,
		     struct dg_error *err)
{
	struct engine_run *e = &t->r;
	if (er_setup(e, err) < 0)
		return -1;
	t->raw = er_tmp_path(e, "recorded.json");
	if (e->ops->trace == ER_TRACE_WRAPPER && make_wrapper(t, err) < 0)
		return -1;
	say("tracing %s with %s%s%s", e->image, e->ops->name, t->probe ? ", probe: " : "",
	    t->probe ? t->probe : "");
	t->probe_next = PROBE_FIRST;
	struct er_hooks h = {e->ops->trace == ER_TRACE_DIRECT ? start_recorded : start_plain, tick, t};
	int status;
	bool timed_out;
	int rc = er_run(e, NULL, "unconfined", &h, &status, &timed_out, err);
	probe_stop(t);
	if (rc < 0)
		return -1;
	if (er_interrupted)
		return DG_E_INTERRUPTED;
	/* podman's own failure (125) usually means no container and no recorder */
	if (e->ops->trace == ER_TRACE_WRAPPER && !wait_raw(t, status == 125 ? 2.0 : RECORDER_WAIT)) {
		if (er_interrupted)
			return DG_E_INTERRUPTED;
		if (status == 125)
			return dg_err(err, DG_E_ENV, "%s could not start the container (exit status 125; see its "
				      "message above)", e->ops->name);
		return dg_err(err, DG_E_ENV, "the recorder wrote no trace (%s exit status %d; see the messages above)",
			      e->ops->name, status);
	}
	struct stat st;
	if (stat(t->raw, &st) < 0)
		return dg_err(err, DG_E_ENV, "the recorder wrote no trace (exit status %d; see the messages above)", status);
	struct dg_trace *tr;
	if (dg_trace_load(t->raw, &tr, err) < 0) {
		/* the recorder keeps to the loader's caps: anything else is a bug */
		if (err->status != DG_E_LIMIT)
			err->status = DG_E_INTERNAL;
		return -1;
	}
	if (e->ops->trace == ER_TRACE_WRAPPER && status == 125) {
		dg_trace_free(tr);
		return dg_err(err, DG_E_ENV, "%s could not start the container (exit status 125; see its message above)",
			      e->ops->name);
	}
	*out = tr;
	*status_out = status;
	*timed_out_out = timed_out;
	return 0;
}

/* The trace's own fields: what ran, where, how it ended, the probe. */
static void trace_complete(const struct trace_cmd *t, struct dg_trace *tr, int status, bool timed_out)
{
	const struct engine_run *e = &t->r;
	free(tr->image);
	free(tr->engine);
	free(tr->arch);
	for (size_t i = 0; i < tr->nargs; i++)
		free(tr->args[i]);
	free(tr->args);
	tr->nargs = 0;
	tr->image = dg_xstrdup(e->image);
	tr->engine = dg_xstrdup(e->ops->name);
	tr->arch = dg_xstrdup("x86_64");
	struct dg_strv args = {0};
	er_process_args(e, &args);
	tr->args = dg_xcalloc(args.n + 1, sizeof *tr->args);
	for (size_t i = 0; i < args.n; i++)
		tr->args[tr->nargs++] = dg_xstrdup(args.v[i]);
	dg_strv_free(&args);
	tr->exit_status = status;
	tr->timed_out = timed_out;
	free(tr->probe);
	tr->probe = NULL;
	if (t->probe) {
		tr->probe = dg_xstrdup(t->probe);
		tr->probe_status = t->probe_status;
	}
}

/* ---- the summary (text, stderr) ---- */

static void trace_print(const struct trace_cmd *t, const struct dg_trace *tr, int status, bool timed_out)
{
	const struct engine_run *e = &t->r;
	size_t n64 = 0, n32 = 0;
	for (size_t i = 0; i < tr->nexe; i++) {
		n64 += tr->exe[i].set[DG_TRACE_X86_64].n;
		n32 += tr->exe[i].set[DG_TRACE_I386].n;
	}
	if (timed_out)
		say("still running after %g s: stopped", e->timeout);
	say("the container exited with status %d; %zu executable%s, %zu (executable, syscall) pairs%s%s", status,
	    tr->nexe, tr->nexe == 1 ? "" : "s", n64, n32 ? ", i386 too: " : "", n32 ? "yes" : "");
	if (!tr->nexe)
		cli_warn("trace", "the container never exec'd its entrypoint (see the messages above)");
	if (t->probe && !t->probe_ok && t->probe_status >= 0)
		cli_warn("trace", "the probe never succeeded (%d attempt%s, last status %d)", t->probes, t->probes == 1 ? "" : "s",
		    t->probe_status);
	else if (t->probe && !t->probe_ok)
		cli_warn("trace", "the probe never succeeded (%d attempt%s, none finished)", t->probes, t->probes == 1 ? "" : "s");
	if (tr->lost)
		cli_warn("trace", "%llu ptrace stops or calls could not be attributed (\"lost\"; see docs/design.md, Tracing)",
		    (unsigned long long)tr->lost);
}

int cmd_trace(int argc, char **argv)
{
	struct trace_cmd t;
	memset(&t, 0, sizeof t);
	cli_image_args_init(&t.r.ia);
	t.r.cmd = "trace";
	t.r.ops = er_engine(TRACE_ENGINE);
	t.out = "-";
	t.probe_status = -1;
	int r = trace_parse(&t, argc, argv);
	if (r)
		return r < 0 ? 0 : r;
	er_catch_signals();
	struct dg_error err = DG_ERROR_INIT;
	struct dg_trace *tr = NULL;
	int status = 0;
	bool timed_out = false;
	int rc = trace_run(&t, &tr, &status, &timed_out, &err);
	if (rc == 0 && tr) {
		trace_complete(&t, tr, status, timed_out);
		trace_print(&t, tr, status, timed_out);
		rc = dg_trace_write(tr, t.out, &err);
	}
	dg_trace_free(tr);
	if (rc < 0)
		rc = cli_fail(&err);
	er_teardown(&t.r);
	free(t.raw);
	free(t.wrapper);
	free(t.runc);
	return rc;
}

/* __trace-runtime FILE RUNC ARGS...: podman's runtime for `create`: records this
 * process (which becomes RUNC ARGS, keeping its pid) and all it starts with a
 * detached recorder that writes FILE when they have all exited. Not for users. */
int cmd_trace_runtime(int argc, char **argv)
{
	if (argc < 3) {
		cli_say(NULL, NULL, "__trace-runtime FILE RUNC ARGS... is dockergate trace's runtime wrapper");
		return DG_E_USAGE;
	}
	struct dg_error err = DG_ERROR_INIT;
	if (dg_trace_detach(argv[1], &err) < 0)
		return cli_fail(&err);
	execv(argv[2], argv + 2);
	cli_say(NULL, NULL, "%s: %s", argv[2], strerror(errno));
	return 127;
}
