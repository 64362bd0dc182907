/* dockergate verify IMAGE --profile FILE [-- ARGS]: runs the image under the
 * profile on a real container engine, as `docker run --rm IMAGE ARGS` would,
 * and says whether the workload worked; when it did not, runs it again with
 * SCMP_ACT_LOG as the default action and reads the kernel's seccomp audit
 * records, so the report names each syscall the profile denied and the
 * executable that made it (docs/design.md "Verifying a profile"). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
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

#include "cli.h"
#include "dockergate/kaudit.h"
#include "dockergate/profile.h"
#include "dockergate/syscalls.h"
#include "util.h"

extern char **environ;

#define VERIFY_FAIL 8       /* the workload failed under the profile */
#define VERIFY_INTERRUPTED 130
#define DIAG_MAX_RUNS 6     /* diagnosis runs: each allows what the previous one logged */
#define STOP_GRACE 10       /* seconds between the polite stop and SIGKILL */

enum engine { ENG_PODMAN, ENG_DOCKER, ENG_RUNC };
enum diagnose { DIAG_ON_FAILURE, DIAG_ALWAYS, DIAG_NEVER };
enum run_mode { RUN_ENFORCE, RUN_LOG, RUN_UNCONFINED };
static const char *const engine_names[] = {"podman", "docker", "runc"};

struct denial {
	uint32_t arch;
	int nr;
	char *exe, *comm;
	unsigned long count;
};

struct verify {
	/* options */
	const char *image, *profile, *runtime, *network, *entrypoint, *report;
	enum engine engine;
	enum diagnose diagnose;
	bool nnp, has_entrypoint;
	double timeout;
	int expect;
	char **args;
	int nargs;
	struct cli_image_args ia;
	/* state */
	struct dg_image *img;
	const struct dg_image_info *info;
	char *tmp;            /* private temp directory, removed at the end */
	char *cli;            /* podman/docker CLI, or the OCI runtime for runc */
	char *ref;            /* what podman/docker run */
	bool pulled;          /* we put the image into the engine's store: remove it after */
	char *profile_text;   /* the user's profile (Docker format) */
	size_t profile_len;
	struct dg_profile model;
	char *skopeo, *umoci;
	char *netns;          /* bind-mounted network namespace (runc, --network none) */
	unsigned seq;
	char name[64];        /* the current container's name */
	/* results */
	struct denial *den;
	size_t nden;
	int diag_runs;
	bool diag_lost;       /* some run lost records to the kernel's rate limit */
	char *diag_note;      /* why there was no diagnosis, or NULL */
	int diag_status;      /* exit status of the first diagnosis run, -1 if none */
	int unconfined_status; /* -1 if not run */
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fprintf(stderr, "%s verify: ", cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- processes ---- */

/* Starts ARGV with stdin from /dev/null; OUT/ERR: descriptors for stdout/stderr
 * (-1: inherit); CWD: its working directory (NULL: ours). */
static pid_t spawn_in(const char *cwd, char *const argv[], int out, int errfd, struct dg_error *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	if (cwd)
		posix_spawn_file_actions_addchdir_np(&fa, cwd);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (out >= 0)
		posix_spawn_file_actions_adddup2(&fa, out, 1);
	if (errfd >= 0)
		posix_spawn_file_actions_adddup2(&fa, errfd, 2);
	fflush(stdout);
	fflush(stderr);
	pid_t pid;
	int r = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r) {
		dg_err_sys(err, DG_E_ENV, r, "cannot run %s", argv[0]);
		return -1;
	}
	return pid;
}

static pid_t spawn(char *const argv[], int out, int errfd, struct dg_error *err)
{
	return spawn_in(NULL, argv, out, errfd, err);
}

static int exit_code(int ws)
{
	if (WIFEXITED(ws))
		return WEXITSTATUS(ws);
	if (WIFSIGNALED(ws))
		return 128 + WTERMSIG(ws);
	return 255;
}

static int wait_blocking(pid_t pid)
{
	int ws;
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			return 255;
	return exit_code(ws);
}

static char *read_all_fd(int fd)
{
	struct dg_buf b = {0};
	char chunk[4096];
	ssize_t n;
	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, chunk, sizeof chunk)) > 0)
		dg_buf_append(&b, chunk, (size_t)n);
	dg_buf_putc(&b, 0);
	return dg_buf_steal(&b);
}

/* The last non-empty line of S (a tool's error output), trimmed, for messages. */
static char *last_line(const char *s)
{
	const char *end = s + strlen(s);
	while (end > s && (end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\r'))
		end--;
	const char *start = end;
	while (start > s && start[-1] != '\n')
		start--;
	struct dg_buf b = {0};
	dg_autofree char *line = dg_xstrndup(start, (size_t)(end - start));
	dg_buf_put_escaped(&b, line);
	dg_buf_putc(&b, 0);
	return dg_buf_steal(&b);
}

/* Runs a helper command to completion: its stdout into *OUT (when OUT is not
 * NULL), its stderr kept for the message. Returns its exit status, or -1 with
 * ERR set when it cannot be started. */
static int run_tool_in(const struct verify *v, const char *cwd, char *const argv[], char **out,
		       char **errtext, struct dg_error *err)
{
	int ofd = -1, efd = -1;
	if (dg_tmpfile(v->ia.opts.tmpdir, &ofd, err) < 0)
		return -1;
	if (dg_tmpfile(v->ia.opts.tmpdir, &efd, err) < 0) {
		close(ofd);
		return -1;
	}
	pid_t pid = spawn_in(cwd, argv, ofd, efd, err);
	int st = pid < 0 ? -1 : wait_blocking(pid);
	if (st >= 0 && out)
		*out = read_all_fd(ofd);
	if (st >= 0 && errtext)
		*errtext = read_all_fd(efd);
	close(ofd);
	close(efd);
	return st;
}

static int run_tool(const struct verify *v, char *const argv[], char **out, char **errtext,
		    struct dg_error *err)
{
	return run_tool_in(v, NULL, argv, out, errtext, err);
}

/* run_tool_in that must succeed: otherwise an environment error naming WHAT. */
static int must_run_in(const struct verify *v, const char *cwd, const char *what, char *const argv[],
		       char **out, struct dg_error *err)
{
	dg_autofree char *etext = NULL;
	int st = run_tool_in(v, cwd, argv, out, &etext, err);
	if (st < 0)
		return -1;
	if (st != 0) {
		dg_autofree char *line = last_line(etext ? etext : "");
		if (out) {
			free(*out);
			*out = NULL;
		}
		return dg_err(err, DG_E_ENV, "%s failed (exit status %d)%s%s", what, st, *line ? ": " : "", line);
	}
	return 0;
}

static int must_run(const struct verify *v, const char *what, char *const argv[], char **out,
		    struct dg_error *err)
{
	return must_run_in(v, NULL, what, argv, out, err);
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

static void rm_tree(const char *path)
{
	/* FTW_PHYS: symlinks in an unpacked image are removed, never followed;
	 * FTW_MOUNT: nothing mounted below (there should be nothing) is entered */
	nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static char *tmp_path(const struct verify *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *tmp_path(const struct verify *v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *rel;
	if (vasprintf(&rel, fmt, ap) < 0)
		abort();
	va_end(ap);
	char *p = dg_xasprintf("%s/%s", v->tmp, rel);
	free(rel);
	return p;
}

static int write_json_file(const char *path, json_t *j, struct dg_error *err)
{
	char *s = json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	if (!s)
		return dg_err(err, DG_E_INTERNAL, "%s: cannot encode JSON", path);
	int r = dg_write_atomic(path, s, strlen(s), err);
	free(s);
	return r;
}

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
		json_object_set_new(prof, "syscalls", rules);
	}
	json_t *r = json_object(), *a = json_array();
	for (size_t i = 0; i < names->n; i++)
		json_array_append_new(a, json_string(names->v[i]));
	json_object_set_new(r, "names", a);
	json_object_set_new(r, "action", json_string("SCMP_ACT_ALLOW"));
	json_array_append_new(rules, r);
}

/* The same profile with SCMP_ACT_LOG as its default action: what it would deny
 * now succeeds and is logged. Rules (allow and errno) stay as they are. */
static void to_log(json_t *prof, const struct dg_strv *extra)
{
	json_object_set_new(prof, "defaultAction", json_string("SCMP_ACT_LOG"));
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
	char *path = tmp_path(v, "profile-%u.json", v->seq);
	int r = write_json_file(path, j, err);
	json_decref(j);
	if (r < 0) {
		free(path);
		return NULL;
	}
	return path;
}

/* ---- engines ---- */

/* The image as the engine's transports name it (podman pull, skopeo copy). With
 * CWD (podman and an OCI layout): podman 4.3 names an image pulled from an OCI
 * layout after its path and refuses upper-case letters there, so the layout is
 * named as /proc/self/cwd and *CWD is set to run the tool in it. */
static char *transport(const struct verify *v, char **cwd, struct dg_error *err)
{
	const char *src = v->info->source, *fmt = v->info->format;
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
		const char *ref = v->info->ref ? v->info->ref : v->info->nrefs == 1 ? v->info->refs[0] : NULL;
		const char *where = abs;
		if (cwd) {
			*cwd = dg_xstrdup(abs);
			where = "/proc/self/cwd";
		}
		return ref ? dg_xasprintf("oci:%s:%s", where, ref) : dg_xasprintf("oci:%s", where);
	}
	dg_err(err, DG_E_INPUT, "%s: verify runs images (docker-archive, oci-archive, OCI layout); a %s cannot be run",
	       src, fmt);
	return NULL;
}

static const char *image_id(const struct verify *v)
{
	const char *d = v->info->config_digest;
	return d && !strncmp(d, "sha256:", 7) ? d + 7 : d;
}

/* podman/docker: make the image available to the engine. */
static int engine_prepare(struct verify *v, struct dg_error *err)
{
	const char *fmt = v->info->format;
	if (!strcmp(fmt, engine_names[v->engine])) { /* podman:REF with podman: already there */
		v->ref = dg_xstrdup(v->info->source + 7);
		return 0;
	}
	const char *id = image_id(v);
	if (id) {
		char *av[] = {v->cli, (char *)"image", (char *)"inspect", (char *)"--format", (char *)"{{.Id}}",
			      (char *)id, NULL};
		if (run_tool(v, av, NULL, NULL, err) == 0) {
			v->ref = dg_xstrdup(id);
			return 0;
		}
	}
	dg_autofree char *cwd = NULL;
	dg_autofree char *tr = transport(v, v->engine == ENG_PODMAN ? &cwd : NULL, err);
	if (!tr)
		return -1;
	dg_autofree char *out = NULL;
	if (v->engine == ENG_PODMAN) {
		char *av[] = {v->cli, (char *)"pull", (char *)"-q", tr, NULL};
		if (must_run_in(v, cwd, "podman pull", av, &out, err) < 0)
			return dg_err_prefix(err, "%s", v->image);
	} else {
		if (strncmp(tr, "docker-archive:", 15) && strncmp(tr, "oci-archive:", 12))
			return dg_err(err, DG_E_INPUT, "%s: docker loads only archives (docker-archive or oci-archive "
				      "tar); convert an OCI layout with skopeo copy", v->image);
		char *av[] = {v->cli, (char *)"load", (char *)"-q", (char *)"-i", strchr(tr, ':') + 1, NULL};
		if (must_run(v, "docker load", av, &out, err) < 0)
			return dg_err_prefix(err, "%s", v->image);
	}
	v->pulled = true;
	if (id) {
		v->ref = dg_xstrdup(id);
	} else {
		dg_autofree char *line = last_line(out ? out : "");
		if (!*line)
			return dg_err(err, DG_E_ENV, "%s: %s did not name the image it loaded", v->image, v->cli);
		v->ref = dg_xstrdup(line);
	}
	return 0;
}

static void engine_cleanup(struct verify *v)
{
	if (!v->pulled || !v->ref)
		return;
	struct dg_error err = DG_ERROR_INIT;
	char *av[] = {v->cli, (char *)"rmi", (char *)"-f", v->ref, NULL};
	if (run_tool(v, av, NULL, NULL, &err) != 0)
		say("note: could not remove the image %s from %s's store", v->ref, v->cli);
}

/* runc: a network namespace with only lo, up (what `--network none` gives). */
static int make_netns(struct verify *v, struct dg_error *err)
{
	v->netns = tmp_path(v, "netns");
	int fd = open(v->netns, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0)
		return dg_err_sys(err, DG_E_ENV, errno, "%s", v->netns);
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
		if (mount("/proc/self/ns/net", v->netns, NULL, MS_BIND, NULL) < 0)
			_exit(13);
		_exit(0);
	}
	int st = wait_blocking(pid);
	if (st != 0) {
		unlink(v->netns);
		free(v->netns);
		v->netns = NULL;
		return dg_err(err, DG_E_ENV, "cannot create a network namespace for the container (step %d failed; "
			      "needs root): use --network host", st - 9);
	}
	return 0;
}

static json_t *strv_json(char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* The process's command line as `docker run` builds it: ENTRYPOINT (or --entrypoint)
 * followed by ARGS, else by the image's Cmd (which --entrypoint resets). */
static json_t *process_args(const struct verify *v)
{
	const struct dg_image_config *c = &v->info->config;
	json_t *a;
	if (v->has_entrypoint)
		a = *v->entrypoint ? strv_json((char *const *)&v->entrypoint, 1) : json_array();
	else
		a = strv_json(c->entrypoint.v, c->entrypoint.n);
	json_t *rest = v->nargs ? strv_json(v->args, (size_t)v->nargs)
				: v->has_entrypoint ? json_array() : strv_json(c->cmd.v, c->cmd.n);
	json_array_extend(a, rest);
	json_decref(rest);
	return a;
}

/* runc: a fresh bundle (the image unpacked by umoci) with the run's process and filter. */
static int runc_bundle(struct verify *v, enum run_mode m, const struct dg_strv *extra, char **bundle_out,
		       struct dg_error *err)
{
	dg_autofree char *oci = tmp_path(v, "oci");
	dg_autofree char *img = tmp_path(v, "oci:img");
	struct stat st;
	if (stat(oci, &st) < 0) {
		dg_autofree char *tr = transport(v, NULL, err);
		if (!tr)
			return -1;
		dg_autofree char *dest = dg_xasprintf("oci:%s", img);
		/* umoci 0.4 reads gzip layers only: zstd ones are recompressed on the way */
		bool zstd = false;
		for (size_t i = 0; i < v->info->nlayers; i++) {
			const struct dg_layer_info *l = &v->info->layers[i];
			if (l->compression == DG_COMP_ZSTD || (l->media_type && strstr(l->media_type, "zstd")))
				zstd = true;
		}
		char *av[] = {v->skopeo, (char *)"copy", (char *)"-q", tr, dest, NULL, NULL, NULL, NULL};
		if (zstd) {
			av[4] = (char *)"--dest-compress";
			av[5] = (char *)"--dest-compress-format";
			av[6] = (char *)"gzip";
			av[7] = dest;
		}
		if (must_run(v, "skopeo copy", av, NULL, err) < 0)
			return dg_err_prefix(err, "%s", v->image);
	}
	char *bundle = tmp_path(v, "bundle-%u", v->seq);
	char *av[] = {v->umoci, (char *)"unpack", (char *)"--image", img, bundle, NULL};
	if (must_run(v, "umoci unpack", av, NULL, err) < 0) {
		free(bundle);
		return dg_err_prefix(err, "%s", v->image);
	}
	*bundle_out = bundle;
	dg_autofree char *cfgpath = dg_xasprintf("%s/config.json", bundle);
	json_error_t je;
	json_t *cfg = json_load_file(cfgpath, 0, &je);
	if (!cfg)
		return dg_err(err, DG_E_ENV, "%s: umoci wrote a config that does not parse: %s", cfgpath, je.text);
	json_t *proc = json_object_get(cfg, "process"), *linux_ = json_object_get(cfg, "linux");
	if (!json_is_object(proc) || !json_is_object(linux_)) {
		json_decref(cfg);
		return dg_err(err, DG_E_ENV, "%s: no process or linux object", cfgpath);
	}
	json_t *args = process_args(v);
	if (!json_array_size(args)) {
		json_decref(args);
		json_decref(cfg);
		return dg_err(err, DG_E_INPUT, "%s: the image has neither Entrypoint nor Cmd: give the command after --",
			      v->image);
	}
	json_object_set_new(proc, "args", args);
	json_object_set_new(proc, "terminal", json_false());
	json_object_set_new(proc, "noNewPrivileges", json_boolean(v->nnp));
	/* Docker's default capabilities, as the profile's rules were evaluated against */
	size_t ncaps;
	const char *const *caps = dg_docker_caps(&ncaps);
	json_t *cap = json_object();
	static const char *const sets[] = {"bounding", "effective", "permitted"};
	for (size_t i = 0; i < 3; i++)
		json_object_set_new(cap, sets[i], strv_json((char *const *)caps, ncaps));
	json_object_set_new(proc, "capabilities", cap);
	struct rlimit rl;
	rlim_t nofile = 1048576;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max < nofile)
		nofile = rl.rlim_max;
	json_t *rls = json_array(), *r = json_object();
	json_object_set_new(r, "type", json_string("RLIMIT_NOFILE"));
	json_object_set_new(r, "hard", json_integer((json_int_t)nofile));
	json_object_set_new(r, "soft", json_integer((json_int_t)nofile));
	json_array_append_new(rls, r);
	json_object_set_new(proc, "rlimits", rls);
	/* network: host (none of ours) or the namespace with only lo */
	json_t *nss = json_object_get(linux_, "namespaces");
	if (json_is_array(nss)) {
		size_t i;
		json_t *ns;
		json_array_foreach(nss, i, ns) {
			const char *t = json_string_value(json_object_get(ns, "type"));
			if (t && !strcmp(t, "network")) {
				if (v->netns)
					json_object_set_new(ns, "path", json_string(v->netns));
				else
					json_array_remove(nss, i);
				break;
			}
		}
	}
	if (m == RUN_UNCONFINED) {
		json_object_del(linux_, "seccomp");
	} else {
		json_t *sc = oci_seccomp(v, m, extra, err);
		if (!sc) {
			json_decref(cfg);
			return -1;
		}
		json_object_set_new(linux_, "seccomp", sc);
	}
	int rc = write_json_file(cfgpath, cfg, err);
	json_decref(cfg);
	return rc;
}

/* Stops the running container: politely first (FORCE 0), then with SIGKILL. */
static void stop_container(struct verify *v, int force)
{
	struct dg_error err = DG_ERROR_INIT;
	dg_autofree char *state = tmp_path(v, "runc-state");
	char grace[16];
	snprintf(grace, sizeof grace, "%d", STOP_GRACE);
	if (v->engine == ENG_RUNC) {
		char *av[] = {v->cli, (char *)"--root", state, (char *)"kill", v->name, (char *)(force ? "KILL" : "TERM"), NULL};
		run_tool(v, av, NULL, NULL, &err);
	} else if (force) {
		char *av[] = {v->cli, (char *)"kill", v->name, NULL};
		run_tool(v, av, NULL, NULL, &err);
	} else {
		/* podman/docker stop: SIGTERM (or the image's StopSignal), SIGKILL after the grace time */
		char *av[] = {v->cli, (char *)"stop", (char *)"-t", grace, v->name, NULL};
		run_tool(v, av, NULL, NULL, &err);
	}
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One run of the workload; the container's stdout/stderr are ours. */
static int run_once(struct verify *v, enum run_mode m, const struct dg_strv *extra, int *status,
		    bool *timed_out, struct dg_error *err)
{
	v->seq++;
	snprintf(v->name, sizeof v->name, "dockergate-verify-%ld-%u", (long)getpid(), v->seq);
	*timed_out = false;
	dg_autofree char *bundle = NULL, *prof = NULL, *secopt = NULL;
	dg_autofree char *state = tmp_path(v, "runc-state");
	char *av[64 + 2];
	size_t n = 0;
	if (v->engine == ENG_RUNC) {
		if (runc_bundle(v, m, extra, &bundle, err) < 0)
			return -1;
		av[n++] = v->cli;
		av[n++] = (char *)"--root";
		av[n++] = state;
		av[n++] = (char *)"run";
		av[n++] = (char *)"--bundle";
		av[n++] = bundle;
		av[n++] = v->name;
		av[n] = NULL;
	} else {
		if (!(prof = engine_profile(v, m, extra, err)))
			return -1;
		secopt = dg_xasprintf("seccomp=%s", prof);
		av[n++] = v->cli;
		if (v->runtime && v->engine == ENG_PODMAN) { /* podman: a global option, a name or a path */
			av[n++] = (char *)"--runtime";
			av[n++] = (char *)v->runtime;
		}
		av[n++] = (char *)"run";
		if (v->runtime && v->engine == ENG_DOCKER) { /* docker: a runtime the daemon knows by name */
			av[n++] = (char *)"--runtime";
			av[n++] = (char *)v->runtime;
		}
		av[n++] = (char *)"--rm";
		av[n++] = (char *)"--name";
		av[n++] = v->name;
		av[n++] = (char *)"--security-opt";
		av[n++] = secopt;
		if (v->nnp) {
			av[n++] = (char *)"--security-opt";
			av[n++] = (char *)"no-new-privileges";
		}
		if (v->network && strcmp(v->network, "default")) {
			av[n++] = (char *)"--network";
			av[n++] = (char *)v->network;
		}
		if (v->has_entrypoint) {
			av[n++] = (char *)"--entrypoint";
			av[n++] = (char *)v->entrypoint;
		}
		av[n++] = v->ref;
	}
	size_t fixed = n;
	char **full = dg_xcalloc(fixed + (size_t)(v->engine == ENG_RUNC ? 0 : v->nargs) + 1, sizeof *full);
	memcpy(full, av, fixed * sizeof *av);
	if (v->engine != ENG_RUNC)
		for (int i = 0; i < v->nargs; i++)
			full[n++] = v->args[i];
	full[n] = NULL;
	pid_t pid = spawn(full, -1, -1, err);
	free(full);
	if (pid < 0)
		return -1;
	double start = now_s(), stopped_at = 0;
	int stage = 0; /* 0 running, 1 asked to stop, 2 killed, 3 killed the engine CLI */
	for (;;) {
		int ws;
		pid_t r = waitpid(pid, &ws, WNOHANG);
		if (r == pid) {
			*status = exit_code(ws);
			break;
		}
		if (r < 0 && errno != EINTR) {
			*status = 255;
			break;
		}
		double t = now_s();
		if (stage == 0 && (interrupted || (v->timeout > 0 && t - start >= v->timeout))) {
			if (!interrupted)
				*timed_out = true;
			stop_container(v, 0);
			stage = 1, stopped_at = now_s();
		} else if (stage == 1 && t - stopped_at > STOP_GRACE + 5) {
			stop_container(v, 1);
			stage = 2;
		} else if (stage == 2 && t - stopped_at > STOP_GRACE + 15) {
			kill(pid, SIGKILL);
			stage = 3;
		}
		struct timespec ts = {0, 20 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	if (v->engine == ENG_RUNC) {
		char *dav[] = {v->cli, (char *)"--root", state, (char *)"delete", (char *)"--force", v->name, NULL};
		struct dg_error e2 = DG_ERROR_INIT;
		run_tool(v, dav, NULL, NULL, &e2);
		rm_tree(bundle);
	} else if (m != RUN_UNCONFINED && prof) {
		unlink(prof);
	}
	return 0;
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
	for (int run = 0; run < DIAG_MAX_RUNS && !interrupted; run++) {
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

static int write_report(const struct verify *v, bool pass, int status, bool timed_out, struct dg_error *err)
{
	json_t *j = json_object(), *den = json_array();
	json_object_set_new(j, "result", json_string(pass ? "pass" : "fail"));
	json_object_set_new(j, "image", cli_json_str(v->image));
	json_object_set_new(j, "profile", cli_json_str(v->profile));
	json_object_set_new(j, "engine", json_string(engine_names[v->engine]));
	json_object_set_new(j, "runtime", v->runtime ? cli_json_str(v->runtime) : json_string(v->engine == ENG_RUNC ? "runc" : "default"));
	json_object_set_new(j, "no_new_privileges", json_boolean(v->nnp));
	json_object_set_new(j, "exit_status", json_integer(status));
	json_object_set_new(j, "expected_status", json_integer(v->expect));
	json_object_set_new(j, "timed_out", json_boolean(timed_out));
	for (size_t i = 0; i < v->nden; i++) {
		const struct denial *d = &v->den[i];
		json_t *o = json_object();
		const char *name = denial_name(d);
		json_object_set_new(o, "syscall", name ? json_string(name) : json_null());
		json_object_set_new(o, "number", json_integer(d->nr));
		json_object_set_new(o, "arch", json_string(arch_name(d->arch)));
		json_object_set_new(o, "exe", cli_json_str(d->exe));
		json_object_set_new(o, "comm", cli_json_str(d->comm));
		json_object_set_new(o, "count", json_integer((json_int_t)d->count));
		json_object_set_new(o, "runtime", json_boolean(runtime_record(d)));
		json_array_append_new(den, o);
	}
	json_object_set_new(j, "denied", den);
	json_object_set_new(j, "diagnosis", json_string(v->diag_note ? v->diag_note : v->diag_runs ? "done" : "none"));
	json_object_set_new(j, "diagnosis_runs", json_integer(v->diag_runs));
	json_object_set_new(j, "diagnosis_status", v->diag_status >= 0 ? json_integer(v->diag_status) : json_null());
	json_object_set_new(j, "records_rate_limited", json_boolean(v->diag_lost));
	json_object_set_new(j, "unconfined_status", v->unconfined_status >= 0 ? json_integer(v->unconfined_status) : json_null());
	int r = write_json_file(v->report, j, err);
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
	"                      workload survived), never\n"
	"  --report FILE       write the result as JSON (result, exit_status, denied[]: syscall,\n"
	"                      number, arch, exe, comm, count, runtime; diagnosis, ...)\n"
	"  --ref NAME, --platform OS/ARCH, --tmpdir DIR  as for the other commands\n\n"
	"Exit status: 0 pass, 8 the workload failed under the profile, 6 the engine or a tool\n"
	"it needs is missing or failed, 2 usage, 3 input (image, profile), 130 interrupted.\n";

static int parse_engine(const char *s, enum engine *out)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, engine_names[i])) {
			*out = (enum engine)i;
			return 0;
		}
	return -1;
}

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
			if (v->image)
				return cli_usage_error("verify", "unexpected '%s': the container's arguments go after --", optarg);
			v->image = optarg;
			break;
		case OPT_HELP:
			fputs(verify_help, stdout);
			return -1;
		case OPT_PROFILE:
			v->profile = optarg;
			break;
		case OPT_ENGINE:
			if (parse_engine(optarg, &v->engine) < 0)
				return cli_usage_error("verify", "--engine: expected podman, docker or runc, got '%s'", optarg);
			engine_set = true;
			break;
		case OPT_RUNTIME:
			v->runtime = optarg;
			break;
		case OPT_NETWORK:
			if (strcmp(optarg, "none") && strcmp(optarg, "host") && strcmp(optarg, "default"))
				return cli_usage_error("verify", "--network: expected none, host or default, got '%s'", optarg);
			v->network = optarg;
			break;
		case OPT_NNP:
			v->nnp = true;
			break;
		case OPT_ENTRYPOINT:
			v->entrypoint = optarg;
			v->has_entrypoint = true;
			break;
		case OPT_TIMEOUT:
			errno = 0;
			v->timeout = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(v->timeout > 0) || v->timeout > 86400)
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
			int r = cli_common_opt("verify", &v->ia, opt, optarg);
			if (r)
				return r;
		}
		}
	}
	if (!v->image && optind < argc) /* "verify --profile P -- IMAGE ARGS" */
		v->image = argv[optind++];
	if (!v->image)
		return cli_usage_error("verify", "an IMAGE is needed");
	v->args = argv + optind;
	v->nargs = argc - optind;
	if (!v->profile)
		return cli_usage_error("verify", "--profile FILE is needed");
	if (!engine_set) {
		int found = 0;
		for (int i = 0; i < 3 && !found; i++) {
			char *p = dg_which(engine_names[i]);
			if (p) {
				v->engine = (enum engine)i;
				found = 1;
				free(p);
			}
		}
		if (!found)
			v->engine = ENG_PODMAN; /* reported as missing below */
	}
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
	if (r == 0 && v->engine == ENG_RUNC)
		for (size_t i = 0; i < warn.n; i++)
			fprintf(stderr, "%s verify: warning: %s\n", cli_prog, warn.v[i]);
	dg_strv_free(&warn);
	return r;
}

static int setup(struct verify *v, struct dg_error *err)
{
	if (load_profile(v, err) < 0)
		return -1;
	if (dg_image_open(v->image, &v->ia.opts, &v->img, err) < 0)
		return -1;
	v->info = dg_image_info(v->img);
	const char *need = v->engine == ENG_RUNC ? (v->runtime ? v->runtime : "runc") : engine_names[v->engine];
	if (!(v->cli = dg_which(need)))
		return dg_err(err, DG_E_ENV, "%s: not found%s", need,
			      v->engine == ENG_RUNC ? " (install runc, or name the runtime with --runtime)"
						    : " (install it, or choose another --engine)");
	dg_autofree char *tmpl = dg_xasprintf("%s/dockergate-verify.XXXXXX", dg_tmpdir(v->ia.opts.tmpdir));
	if (!mkdtemp(tmpl))
		return dg_err_sys(err, DG_E_ENV, errno, "%s: cannot create a temp directory", tmpl);
	v->tmp = dg_steal(&tmpl);
	if (v->engine == ENG_RUNC) {
		if (!(v->skopeo = dg_which("skopeo")))
			return dg_err(err, DG_E_ENV, "skopeo: not found (--engine runc unpacks the image with skopeo and umoci)");
		if (!(v->umoci = dg_which("umoci")))
			return dg_err(err, DG_E_ENV, "umoci: not found (--engine runc unpacks the image with skopeo and umoci)");
		if (geteuid() != 0)
			return dg_err(err, DG_E_ENV, "--engine runc needs root (rootless runc is not supported by verify)");
		if ((!v->network || strcmp(v->network, "host")) && make_netns(v, err) < 0)
			return -1;
		return 0;
	}
	return engine_prepare(v, err);
}

static void teardown(struct verify *v)
{
	if (v->engine != ENG_RUNC)
		engine_cleanup(v);
	if (v->netns) {
		umount2(v->netns, MNT_DETACH);
		unlink(v->netns);
		free(v->netns);
	}
	if (v->tmp) {
		rm_tree(v->tmp);
		free(v->tmp);
	}
	free(v->cli);
	free(v->ref);
	free(v->skopeo);
	free(v->umoci);
	free(v->profile_text);
	free(v->diag_note);
	for (size_t i = 0; i < v->nden; i++) {
		free(v->den[i].exe);
		free(v->den[i].comm);
	}
	free(v->den);
	dg_profile_free(&v->model);
	if (v->img)
		dg_image_free(v->img);
}

static int verify_run(struct verify *v, struct dg_error *err)
{
	say("running %s under %s with %s%s%s (no_new_privileges %s)", v->image, v->profile, engine_names[v->engine],
	    v->runtime ? ", runtime " : "", v->runtime ? v->runtime : "", v->nnp ? "true" : "false");
	int status;
	bool timed_out;
	if (run_once(v, RUN_ENFORCE, NULL, &status, &timed_out, err) < 0)
		return -1;
	if (interrupted)
		return VERIFY_INTERRUPTED;
	bool pass = timed_out || status == v->expect;
	if (timed_out)
		say("still running after %g s: stopped (a container that stays up passes)", v->timeout);
	else
		say("the container exited with status %d%s", status, pass ? "" : " (expected another)");
	if (v->engine != ENG_RUNC && status == 125 && !pass)
		say("note: status 125 is the engine's own error (see its message above)");
	if ((!pass && v->diagnose != DIAG_NEVER) || v->diagnose == DIAG_ALWAYS) {
		if (diagnose(v, err) < 0)
			return -1;
		if (interrupted)
			return VERIFY_INTERRUPTED;
		if (v->diag_note)
			say("no diagnosis: %s", v->diag_note);
		print_denials(v);
		if (!pass && v->diag_runs && !v->nden && !v->diag_note) {
			say("no syscall was denied; one more run without any seccomp profile");
			bool to2;
			if (run_once(v, RUN_UNCONFINED, NULL, &v->unconfined_status, &to2, err) < 0)
				return -1;
			if (to2)
				v->unconfined_status = 0;
		}
	}
	if (v->report && write_report(v, pass, status, timed_out, err) < 0)
		return -1;
	dg_autofree char *list = denied_list(v);
	size_t nd = distinct_denied(v);
	if (pass) {
		if (nd)
			say("pass: %s under %s, but the workload made %zu syscall%s the profile denies (it coped with "
			    "the error): %s",
			    timed_out ? "stayed up" : "exited as expected", v->profile, nd, nd == 1 ? "" : "s", list);
		else
			say("pass: %s under %s (%s)", timed_out ? "stayed up" : "exited as expected", v->profile,
			    engine_names[v->engine]);
		return 0;
	}
	if (nd && v->diag_status >= 0 && v->diag_status != v->expect)
		say("note: with nothing denied the workload still exited with status %d: it may fail for another "
		    "reason too", v->diag_status);
	if (nd)
		say("FAIL: exit status %d; the profile denies %zu syscall%s the workload makes: %s", status, nd,
		    nd == 1 ? "" : "s", list);
	else if (v->engine != ENG_RUNC && v->unconfined_status >= 125 && v->unconfined_status <= 127 &&
		 status == v->unconfined_status)
		return dg_err(err, DG_E_ENV, "%s could not start the container even without a seccomp profile (exit "
			      "status %d; see its message above)", engine_names[v->engine], status);
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
	return VERIFY_FAIL;
}

int cmd_verify(int argc, char **argv)
{
	struct verify v;
	memset(&v, 0, sizeof v);
	cli_image_args_init(&v.ia);
	v.diag_status = -1;
	v.unconfined_status = -1;
	int r = verify_parse(&v, argc, argv);
	if (r)
		return r < 0 ? 0 : r;
	dg_profile_init(&v.model);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	struct dg_error err = DG_ERROR_INIT;
	int rc;
	if (setup(&v, &err) < 0)
		rc = cli_fail(&err);
	else if ((rc = verify_run(&v, &err)) < 0)
		rc = cli_fail(&err);
	teardown(&v);
	return rc;
}
