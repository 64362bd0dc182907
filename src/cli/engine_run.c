/* Running an image on a real engine, shared by verify and trace (engine_run.h). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine_run.h"
#include "dockergate/proc.h"
#include "dockergate/profile.h"
#include "dockergate/util.h"


volatile sig_atomic_t er_interrupted;

static void on_signal(int sig)
{
	(void)sig;
	er_interrupted = 1;
}

void er_catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* ---- processes ---- */

/* Runs a helper command to completion: its stdout into *OUT (when OUT is not
 * NULL), its stderr kept for the message. Returns its exit status, or -1 with
 * ERR set when it cannot be started. */
static int er_run_tool_in(const struct engine_run *e, const char *cwd, char *const argv[], char **out,
		   char **errtext, struct dg_error *err)
{
	return dg_run(e->ia.opts.tmpdir, cwd, argv, out, errtext, err);
}

static int er_run_tool(const struct engine_run *e, char *const argv[], char **out, char **errtext,
		    struct dg_error *err)
{
	return er_run_tool_in(e, NULL, argv, out, errtext, err);
}

/* run_tool_in that must succeed: otherwise an environment error naming WHAT. */
static int er_must_run_in(const struct engine_run *e, const char *cwd, const char *what, char *const argv[],
		       char **out, struct dg_error *err)
{
	dg_autofree char *etext = NULL;
	int st = er_run_tool_in(e, cwd, argv, out, &etext, err);
	if (st < 0)
		return -1;
	if (st != 0) {
		dg_autofree char *line = dg_last_line(etext ? etext : "");
		if (out) {
			free(*out);
			*out = NULL;
		}
		return dg_err(err, DG_E_ENV, "%s failed (exit status %d)%s%s", what, st, *line ? ": " : "", line);
	}
	return 0;
}

static int er_must_run(const struct engine_run *e, const char *what, char *const argv[], char **out,
		    struct dg_error *err)
{
	return er_must_run_in(e, NULL, what, argv, out, err);
}

/* ---- temp files ---- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static void er_rm_tree(const char *path)
{
	/* FTW_PHYS: symlinks in an unpacked image are removed, never followed;
	 * FTW_MOUNT: nothing mounted below (there should be nothing) is entered */
	nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

char *er_tmp_path(const struct engine_run *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *rel;
	if (vasprintf(&rel, fmt, ap) < 0)
		abort();
	va_end(ap);
	char *p = dg_xasprintf("%s/%s", e->tmp, rel);
	free(rel);
	return p;
}

int er_write_json_file(const char *path, json_t *j, struct dg_error *err)
{
	char *s = json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	if (!s)
		return dg_err(err, DG_E_INTERNAL, "%s: cannot encode JSON", path);
	int r = dg_write_atomic(path, s, strlen(s), err);
	free(s);
	return r;
}

/* ---- podman and docker ---- */

/* The image as the engine's transports name it (podman pull, skopeo copy). With
 * CWD (podman and an OCI layout): podman 4.3 names an image pulled from an OCI
 * layout after its path and refuses upper-case letters there, so the layout is
 * named as /proc/self/cwd and *CWD is set to run the tool in it. */
static char *transport(const struct engine_run *e, char **cwd, struct dg_error *err)
{
	const char *src = e->info->source, *fmt = e->info->format;
	if (!strcmp(fmt, "podman") || !strcmp(fmt, "docker"))
		return dg_xasprintf("%s:%s", !strcmp(fmt, "podman") ? "containers-storage" : "docker-daemon",
				    src + 7);
	const char *path = src, *colon = strchr(src, ':');
	if (colon && strncmp(src, "/", 1) && strncmp(src, ".", 1)) {
		static const char *const pfx[] = {"docker-archive:", "oci-archive:", "oci:"};
		for (size_t i = 0; i < 3; i++)
			if (!strncmp(src, pfx[i], strlen(pfx[i])))
				path = src + strlen(pfx[i]);
	}
	char abs[PATH_MAX];
	if (!realpath(path, abs)) {
		dg_err_sys(err, DG_E_INPUT, errno, "%s", path);
		return NULL;
	}
	if (strchr(abs, ':')) {
		dg_err(err, DG_E_INPUT, "%s: a path with ':' cannot be named to the engine's image transports", abs);
		return NULL;
	}
	if (!strcmp(fmt, "docker-archive"))
		return dg_xasprintf("docker-archive:%s", abs);
	if (!strcmp(fmt, "oci-archive"))
		return dg_xasprintf("oci-archive:%s", abs);
	if (!strcmp(fmt, "oci")) {
		/* the ref chosen (--ref) or the layout's only one; without any, podman names
		 * the image after the path */
		const char *ref = e->info->ref ? e->info->ref : e->info->nrefs == 1 ? e->info->refs[0] : NULL;
		const char *where = abs;
		if (cwd) {
			*cwd = dg_xstrdup(abs);
			where = "/proc/self/cwd";
		}
		return ref ? dg_xasprintf("oci:%s:%s", where, ref) : dg_xasprintf("oci:%s", where);
	}
	dg_err(err, DG_E_INPUT, "%s: %s runs images (docker-archive, oci-archive, OCI layout); a %s cannot be run",
	       src, e->cmd, fmt);
	return NULL;
}

static const char *image_id(const struct engine_run *e)
{
	const char *d = e->info->config_digest;
	return d && !strncmp(d, "sha256:", 7) ? d + 7 : d;
}

/* podman: the image from its file through the engine's transports (pull). */
static int podman_load(struct engine_run *e, char **out, struct dg_error *err)
{
	dg_autofree char *cwd = NULL;
	dg_autofree char *tr = transport(e, &cwd, err);
	if (!tr)
		return -1;
	char *av[] = {e->cli, (char *)"pull", (char *)"-q", tr, NULL};
	if (er_must_run_in(e, cwd, "podman pull", av, out, err) < 0)
		return dg_err_prefix(err, "%s", e->image);
	return 0;
}

/* docker: only archives, through `docker load`. */
static int docker_load(struct engine_run *e, char **out, struct dg_error *err)
{
	dg_autofree char *tr = transport(e, NULL, err);
	if (!tr)
		return -1;
	if (strncmp(tr, "docker-archive:", 15) && strncmp(tr, "oci-archive:", 12))
		return dg_err(err, DG_E_INPUT, "%s: docker loads only archives (docker-archive or oci-archive "
			      "tar); convert an OCI layout with skopeo copy", e->image);
	char *av[] = {e->cli, (char *)"load", (char *)"-q", (char *)"-i", strchr(tr, ':') + 1, NULL};
	if (er_must_run(e, "docker load", av, out, err) < 0)
		return dg_err_prefix(err, "%s", e->image);
	return 0;
}

/* podman/docker: make the image available to the engine: already in its store (an
 * image of that ID, or podman:REF with podman), else LOAD it and remove it at the end. */
static int store_prepare(struct engine_run *e, int (*load)(struct engine_run *, char **, struct dg_error *),
			 struct dg_error *err)
{
	const char *fmt = e->info->format;
	if (!strcmp(fmt, e->ops->name)) { /* podman:REF with podman: already there */
		e->ref = dg_xstrdup(e->info->source + 7);
		return 0;
	}
	const char *id = image_id(e);
	if (id) {
		char *av[] = {e->cli, (char *)"image", (char *)"inspect", (char *)"--format", (char *)"{{.Id}}",
			      (char *)id, NULL};
		if (er_run_tool(e, av, NULL, NULL, err) == 0) {
			e->ref = dg_xstrdup(id);
			return 0;
		}
	}
	dg_autofree char *out = NULL;
	if (load(e, &out, err) < 0)
		return -1;
	e->pulled = true;
	if (id) {
		e->ref = dg_xstrdup(id);
	} else {
		dg_autofree char *line = dg_last_line(out ? out : "");
		if (!*line)
			return dg_err(err, DG_E_ENV, "%s: %s did not name the image it loaded", e->image, e->cli);
		e->ref = dg_xstrdup(line);
	}
	return 0;
}

static int podman_prepare(struct engine_run *e, struct dg_error *err)
{
	return store_prepare(e, podman_load, err);
}

static int docker_prepare(struct engine_run *e, struct dg_error *err)
{
	return store_prepare(e, docker_load, err);
}

static void store_cleanup(struct engine_run *e)
{
	if (!e->pulled || !e->ref)
		return;
	struct dg_error err = DG_ERROR_INIT;
	char *av[] = {e->cli, (char *)"rmi", (char *)"-f", e->ref, NULL};
	if (er_run_tool(e, av, NULL, NULL, &err) != 0)
		cli_note(e->cmd, "could not remove the image %s from %s's store", e->ref, e->cli);
}

/* `ENGINE run --rm --name NAME --security-opt seccomp=...`, the options, the image, ARGS;
 * --runtime is a global option of podman (a name or a path) and a run option of docker
 * (a runtime the daemon knows by name). */
static void store_run_argv(struct engine_run *e, const char *engine_seccomp, bool runtime_global,
			   struct dg_strv *av)
{
	dg_autofree char *secopt = dg_xasprintf("seccomp=%s", engine_seccomp ? engine_seccomp : "unconfined");
	dg_strv_push(av, e->cli);
	if (e->runtime && runtime_global) {
		dg_strv_push(av, "--runtime");
		dg_strv_push(av, e->runtime);
	}
	dg_strv_push(av, "run");
	if (e->runtime && !runtime_global) {
		dg_strv_push(av, "--runtime");
		dg_strv_push(av, e->runtime);
	}
	dg_strv_push(av, "--rm");
	dg_strv_push(av, "--name");
	dg_strv_push(av, e->name);
	dg_strv_push(av, "--security-opt");
	dg_strv_push(av, secopt);
	if (e->nnp) {
		dg_strv_push(av, "--security-opt");
		dg_strv_push(av, "no-new-privileges");
	}
	if (e->network && strcmp(e->network, "default")) {
		dg_strv_push(av, "--network");
		dg_strv_push(av, e->network);
	}
	if (e->has_entrypoint) {
		dg_strv_push(av, "--entrypoint");
		dg_strv_push(av, e->entrypoint);
	}
	dg_strv_push(av, e->ref);
	for (int i = 0; i < e->nargs; i++)
		dg_strv_push(av, e->args[i]);
}

static int podman_run_argv(struct engine_run *e, json_t *runc_seccomp, const char *engine_seccomp,
			   struct dg_strv *av, struct dg_error *err)
{
	store_run_argv(e, engine_seccomp, true, av);
	return 0;
}

static int docker_run_argv(struct engine_run *e, json_t *runc_seccomp, const char *engine_seccomp,
			   struct dg_strv *av, struct dg_error *err)
{
	store_run_argv(e, engine_seccomp, false, av);
	return 0;
}

static void store_stop(struct engine_run *e, int force)
{
	struct dg_error err = DG_ERROR_INIT;
	char grace[16];
	snprintf(grace, sizeof grace, "%d", STOP_GRACE);
	if (force) {
		char *av[] = {e->cli, (char *)"kill", e->name, NULL};
		er_run_tool(e, av, NULL, NULL, &err);
	} else {
		/* podman/docker stop: SIGTERM (or the image's StopSignal), SIGKILL after the grace time */
		char *av[] = {e->cli, (char *)"stop", (char *)"-t", grace, e->name, NULL};
		er_run_tool(e, av, NULL, NULL, &err);
	}
}

/* ---- runc: a bundle unpacked with skopeo + umoci ---- */

/* runc: a network namespace with only lo, up (what `--network none` gives). */
static int make_netns(struct engine_run *e, struct dg_error *err)
{
	e->netns = er_tmp_path(e, "netns");
	int fd = open(e->netns, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0)
		return dg_err_sys(err, DG_E_ENV, errno, "%s", e->netns);
	close(fd);
	pid_t pid = fork();
	if (pid < 0)
		return dg_err_sys(err, DG_E_ENV, errno, "fork");
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) < 0)
			_exit(10);
		int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		struct ifreq ifr;
		memset(&ifr, 0, sizeof ifr);
		strcpy(ifr.ifr_name, "lo");
		if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
			_exit(11);
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			_exit(12);
		if (mount("/proc/self/ns/net", e->netns, NULL, MS_BIND, NULL) < 0)
			_exit(13);
		_exit(0);
	}
	int st = dg_wait(pid);
	if (st != 0) {
		unlink(e->netns);
		free(e->netns);
		e->netns = NULL;
		return dg_err(err, DG_E_ENV, "cannot create a network namespace for the container (step %d failed; "
			      "needs root): use --network host", st - 9);
	}
	return 0;
}

/* The process's command line as `docker run` builds it: ENTRYPOINT (or --entrypoint)
 * followed by ARGS, else by the image's Cmd (which --entrypoint resets). */
void er_process_args(const struct engine_run *e, struct dg_strv *out)
{
	const struct dg_image_config *c = &e->info->config;
	if (e->has_entrypoint) {
		if (*e->entrypoint)
			dg_strv_push(out, e->entrypoint);
	} else {
		for (size_t i = 0; i < c->entrypoint.n; i++)
			dg_strv_push(out, c->entrypoint.v[i]);
	}
	if (e->nargs)
		for (int i = 0; i < e->nargs; i++)
			dg_strv_push(out, e->args[i]);
	else if (!e->has_entrypoint)
		for (size_t i = 0; i < c->cmd.n; i++)
			dg_strv_push(out, c->cmd.v[i]);
}

/* runc: a fresh bundle (the image unpacked by umoci) with the run's process and filter. */
static int runc_bundle(struct engine_run *e, json_t *seccomp, struct dg_error *err)
{
	dg_autofree char *oci = er_tmp_path(e, "oci");
	dg_autofree char *img = er_tmp_path(e, "oci:img");
	struct stat st;
	if (stat(oci, &st) < 0) {
		dg_autofree char *tr = transport(e, NULL, err);
		if (!tr)
			return -1;
		dg_autofree char *dest = dg_xasprintf("oci:%s", img);
		/* umoci 0.4 reads gzip layers only: zstd ones are recompressed on the way */
		bool zstd = false;
		for (size_t i = 0; i < e->info->nlayers; i++) {
			const struct dg_layer_info *l = &e->info->layers[i];
			if (l->compression == DG_COMP_ZSTD || (l->media_type && strstr(l->media_type, "zstd")))
				zstd = true;
		}
		char *av[] = {e->skopeo, (char *)"copy", (char *)"-q", tr, dest, NULL, NULL, NULL, NULL};
		if (zstd) {
			av[4] = (char *)"--dest-compress";
			av[5] = (char *)"--dest-compress-format";
			av[6] = (char *)"gzip";
			av[7] = dest;
		}
		if (er_must_run(e, "skopeo copy", av, NULL, err) < 0)
			return dg_err_prefix(err, "%s", e->image);
	}
	e->bundle = er_tmp_path(e, "bundle-%u", e->seq);
	char *av[] = {e->umoci, (char *)"unpack", (char *)"--image", img, e->bundle, NULL};
	if (er_must_run(e, "umoci unpack", av, NULL, err) < 0)
		return dg_err_prefix(err, "%s", e->image);
	dg_autofree char *cfgpath = dg_xasprintf("%s/config.json", e->bundle);
	json_error_t je;
	json_t *cfg = json_load_file(cfgpath, 0, &je);
	if (!cfg)
		return dg_err(err, DG_E_ENV, "%s: umoci wrote a config that does not parse: %s", cfgpath, je.text);
	json_t *proc = json_object_get(cfg, "process"), *linux_ = json_object_get(cfg, "linux");
	if (!json_is_object(proc) || !json_is_object(linux_)) {
		json_decref(cfg);
		return dg_err(err, DG_E_ENV, "%s: no process or linux object", cfgpath);
	}
	struct dg_strv args = {0};
	er_process_args(e, &args);
	if (!args.n) {
		json_decref(cfg);
		return dg_err(err, DG_E_INPUT, "%s: the image has neither Entrypoint nor Cmd: give the command after --",
			      e->image);
	}
	/* the bundle's JSON must carry the arguments byte for byte: escaping would run another command */
	for (size_t i = 0; i < args.n; i++)
		if (!cli_json_utf8(args.v[i])) {
			struct dg_buf b = {0};
			dg_buf_put_escaped(&b, args.v[i]);
			dg_buf_putc(&b, 0);
			dg_err(err, DG_E_INPUT, "%s: argument %zu of the command ('%s') is not UTF-8: an OCI runtime "
			       "config cannot carry it", e->image, i, b.data);
			dg_buf_free(&b);
			dg_strv_free(&args);
			json_decref(cfg);
			return -1;
		}
	cli_json_set(proc, "args", cli_json_strv(&args));
	dg_strv_free(&args);
	cli_json_set(proc, "terminal", json_false());
	cli_json_set(proc, "noNewPrivileges", json_boolean(e->nnp));
	/* Docker's default capabilities, as the profile's rules were evaluated against */
	size_t ncaps;
	const char *const *caps = dg_docker_caps(&ncaps);
	json_t *cap = json_object();
	static const char *const sets[] = {"bounding", "effective", "permitted"};
	for (size_t i = 0; i < 3; i++)
		cli_json_set(cap, sets[i], cli_json_strs((char *const *)caps, ncaps));
	cli_json_set(proc, "capabilities", cap);
	struct rlimit rl;
	rlim_t nofile = 1048576;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max < nofile)
		nofile = rl.rlim_max;
	json_t *rls = json_array(), *r = json_object();
	cli_json_set(r, "type", cli_json_str("RLIMIT_NOFILE"));
	cli_json_set(r, "hard", json_integer((json_int_t)nofile));
	cli_json_set(r, "soft", json_integer((json_int_t)nofile));
	cli_json_push(rls, r);
	cli_json_set(proc, "rlimits", rls);
	/* network: host (none of ours) or the namespace with only lo */
	json_t *nss = json_object_get(linux_, "namespaces");
	if (json_is_array(nss)) {
		size_t i;
		json_t *ns;
		json_array_foreach(nss, i, ns) {
			const char *t = json_string_value(json_object_get(ns, "type"));
			if (t && !strcmp(t, "network")) {
				if (e->netns)
					cli_json_set(ns, "path", cli_json_str(e->netns));
				else
					json_array_remove(nss, i);
				break;
			}
		}
	}
	if (seccomp)
		cli_json_set(linux_, "seccomp", json_incref(seccomp));
	else
		json_object_del(linux_, "seccomp");
	int rc = er_write_json_file(cfgpath, cfg, err);
	json_decref(cfg);
	return rc;
}

static int runc_prepare(struct engine_run *e, struct dg_error *err)
{
	if (!(e->skopeo = dg_which("skopeo")))
		return dg_err(err, DG_E_ENV, "skopeo: not found (--engine runc unpacks the image with skopeo and umoci)");
	if (!(e->umoci = dg_which("umoci")))
		return dg_err(err, DG_E_ENV, "umoci: not found (--engine runc unpacks the image with skopeo and umoci)");
	if (geteuid() != 0)
		return dg_err(err, DG_E_ENV, "--engine runc needs root (rootless runc is not supported by %s)", e->cmd);
	if ((!e->network || strcmp(e->network, "host")) && make_netns(e, err) < 0)
		return -1;
	return 0;
}

/* `RUNC --root STATE run --bundle BUNDLE NAME` with a fresh bundle. */
static int runc_run_argv(struct engine_run *e, json_t *runc_seccomp, const char *engine_seccomp,
			 struct dg_strv *av, struct dg_error *err)
{
	if (runc_bundle(e, runc_seccomp, err) < 0)
		return -1;
	dg_autofree char *state = er_tmp_path(e, "runc-state");
	const char *v[] = {e->cli, "--root", state, "run", "--bundle", e->bundle, e->name};
	for (size_t i = 0; i < sizeof v / sizeof *v; i++)
		dg_strv_push(av, v[i]);
	return 0;
}

static void runc_finish(struct engine_run *e, bool ran)
{
	if (ran) {
		dg_autofree char *state = er_tmp_path(e, "runc-state");
		char *dav[] = {e->cli, (char *)"--root", state, (char *)"delete", (char *)"--force", e->name, NULL};
		struct dg_error e2 = DG_ERROR_INIT;
		er_run_tool(e, dav, NULL, NULL, &e2);
	}
	if (e->bundle)
		er_rm_tree(e->bundle);
	free(e->bundle);
	e->bundle = NULL;
}

static void runc_stop(struct engine_run *e, int force)
{
	struct dg_error err = DG_ERROR_INIT;
	dg_autofree char *state = er_tmp_path(e, "runc-state");
	char *av[] = {e->cli, (char *)"--root", state, (char *)"kill", e->name, (char *)(force ? "KILL" : "TERM"), NULL};
	er_run_tool(e, av, NULL, NULL, &err);
}

/* ---- the engines ---- */

const struct engine_ops er_engines[] = {
	{
		.name = "podman",
		.missing = " (install it, or choose another --engine)",
		.default_runtime = "default",
		.run_statuses = true,
		.trace = ER_TRACE_WRAPPER,
		.prepare = podman_prepare,
		.run_argv = podman_run_argv,
		.stop = store_stop,
		.cleanup = store_cleanup,
	},
	{
		.name = "docker",
		.missing = " (install it, or choose another --engine)",
		.default_runtime = "default",
		.run_statuses = true,
		.trace = ER_TRACE_NONE,
		.untraceable = "docker's daemon starts the runtime: it cannot be traced from here",
		.prepare = docker_prepare,
		.run_argv = docker_run_argv,
		.stop = store_stop,
		.cleanup = store_cleanup,
	},
	{
		.name = "runc",
		.missing = " (install runc, or name the runtime with --runtime)",
		.default_runtime = "runc",
		.runtime_is_program = true,
		.oci_bundle = true,
		.trace = ER_TRACE_DIRECT,
		.prepare = runc_prepare,
		.run_argv = runc_run_argv,
		.finish = runc_finish,
		.stop = runc_stop,
	},
};
const size_t er_nengines = sizeof er_engines / sizeof *er_engines;

const struct engine_ops *er_engine(const char *name)
{
	for (size_t i = 0; i < er_nengines; i++)
		if (!strcmp(name, er_engines[i].name))
			return &er_engines[i];
	return NULL;
}

const struct engine_ops *er_default_engine(void)
{
	for (size_t i = 0; i < er_nengines; i++) {
		char *p = dg_which(er_engines[i].name);
		if (p) {
			free(p);
			return &er_engines[i];
		}
	}
	return &er_engines[0]; /* reported as missing by er_setup */
}

char *er_engine_names(const struct engine_ops *first, bool traceable)
{
	const struct engine_ops *v[16];
	size_t n = 0;
	if (first)
		v[n++] = first;
	for (size_t i = 0; i < er_nengines && n < 16; i++)
		if (&er_engines[i] != first && (!traceable || er_engines[i].trace != ER_TRACE_NONE))
			v[n++] = &er_engines[i];
	struct dg_buf b = {0};
	for (size_t i = 0; i < n; i++)
		dg_buf_printf(&b, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", v[i]->name);
	dg_buf_putc(&b, 0);
	return dg_buf_steal(&b);
}

/* ---- runs ---- */

static void er_stop(struct engine_run *e, int force)
{
	e->ops->stop(e, force);
}

double er_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int er_run(struct engine_run *e, json_t *runc_seccomp, const char *engine_seccomp, const struct er_hooks *h,
	   int *status, bool *timed_out, struct dg_error *err)
{
	e->seq++;
	snprintf(e->name, sizeof e->name, "dockergate-%s-%ld-%u", e->cmd, (long)getpid(), e->seq);
	*timed_out = false;
	struct dg_strv av = {0};
	if (e->ops->run_argv(e, runc_seccomp, engine_seccomp, &av, err) < 0) {
		dg_strv_free(&av);
		if (e->ops->finish)
			e->ops->finish(e, false);
		return -1;
	}
	pid_t pid = h && h->start ? h->start(e, av.v, h->ud, err) : dg_spawn(av.v, NULL, err);
	dg_strv_free(&av);
	if (pid < 0) {
		if (e->ops->finish)
			e->ops->finish(e, false);
		return -1;
	}
	double start = er_now(), stopped_at = 0;
	int stage = 0; /* 0 running, 1 asked to stop, 2 killed, 3 killed the engine CLI */
	for (;;) {
		int ws;
		pid_t r = waitpid(pid, &ws, WNOHANG);
		if (r == pid) {
			*status = dg_exit_code(ws);
			break;
		}
		if (r < 0 && errno != EINTR) {
			*status = 255;
			break;
		}
		double t = er_now();
		bool done = stage == 0 && h && h->tick && h->tick(e, t - start, h->ud);
		if (stage == 0 && (done || er_interrupted || (e->timeout > 0 && t - start >= e->timeout))) {
			if (!er_interrupted && !done)
				*timed_out = true;
			er_stop(e, 0);
			stage = 1, stopped_at = er_now();
		} else if (stage == 1 && t - stopped_at > STOP_GRACE + 5) {
			er_stop(e, 1);
			stage = 2;
		} else if (stage == 2 && t - stopped_at > STOP_GRACE + 15) {
			kill(pid, SIGKILL);
			stage = 3;
		}
		struct timespec ts = {0, 20 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	if (e->ops->finish)
		e->ops->finish(e, true);
	return 0;
}

int er_setup(struct engine_run *e, struct dg_error *err)
{
	if (dg_image_open(e->image, &e->ia.opts, &e->img, err) < 0)
		return -1;
	e->info = dg_image_info(e->img);
	const char *need = e->ops->runtime_is_program && e->runtime ? e->runtime : e->ops->name;
	if (!(e->cli = dg_which(need)))
		return dg_err(err, DG_E_ENV, "%s: not found%s", need, e->ops->missing);
	dg_autofree char *tmpl = dg_xasprintf("%s/dockergate-%s.XXXXXX", dg_tmpdir(e->ia.opts.tmpdir), e->cmd);
	if (!mkdtemp(tmpl))
		return dg_err_sys(err, DG_E_ENV, errno, "%s: cannot create a temp directory", tmpl);
	e->tmp = dg_steal(&tmpl);
	return e->ops->prepare(e, err);
}

void er_teardown(struct engine_run *e)
{
	if (e->ops->cleanup)
		e->ops->cleanup(e);
	if (e->netns) {
		umount2(e->netns, MNT_DETACH);
		unlink(e->netns);
		free(e->netns);
	}
	if (e->tmp) {
		er_rm_tree(e->tmp);
		free(e->tmp);
	}
	free(e->cli);
	free(e->ref);
	free(e->skopeo);
	free(e->umoci);
	if (e->img)
		dg_image_free(e->img);
	e->netns = e->tmp = e->cli = e->ref = e->skopeo = e->umoci = NULL;
	e->img = NULL;
}
