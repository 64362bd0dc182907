/* Running an image on a real engine, shared by `verify` and `trace`: podman or
 * docker (the image loaded into the engine's store and removed again), or runc
 * directly (a bundle unpacked with skopeo + umoci in a private temp directory,
 * with Docker's default capabilities and a network namespace with only lo),
 * as `docker run --rm IMAGE ARGS` would; a timeout stops the container politely
 * (SIGTERM), then with SIGKILL; SIGINT/SIGTERM stop it the same way. */
#ifndef DG_ENGINE_RUN_H
#define DG_ENGINE_RUN_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "cli.h"
#include "dockergate/error.h"
#include "dockergate/image.h"

#define STOP_GRACE 10 /* seconds between the polite stop and SIGKILL */

enum engine { ENG_PODMAN, ENG_DOCKER, ENG_RUNC };
extern const char *const engine_names[3];

struct engine_run {
	/* options */
	const char *cmd;      /* "verify", "trace": messages, container names, temp directory */
	const char *image, *runtime, *network, *entrypoint;
	enum engine engine;
	bool nnp, has_entrypoint;
	double timeout;
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
	char *skopeo, *umoci;
	char *netns;          /* bind-mounted network namespace (runc, --network none) */
	unsigned seq;
	char name[64];        /* the current container's name */
};

/* Set by the handler er_catch_signals installs for SIGINT and SIGTERM. */
extern volatile sig_atomic_t er_interrupted;
void er_catch_signals(void);

/* Opens the image, finds the engine (or e->runtime for runc), makes the temp
 * directory and, for podman/docker, puts the image into the engine's store. */
int er_setup(struct engine_run *e, struct dg_error *err);
/* Removes what er_setup made (images it loaded, the netns, the temp directory). */
void er_teardown(struct engine_run *e);
/* The engine when --engine was not given: podman, else docker, else runc. */
enum engine er_default_engine(void);
int er_parse_engine(const char *s, enum engine *out);

struct er_hooks {
	/* starts ARGV (the engine CLI, or the runtime for runc) instead of a plain
	 * spawn; returns the pid to wait for (its exit ends the run) */
	pid_t (*start)(struct engine_run *e, char *const argv[], void *ud, struct dg_error *err);
	/* called about every 20 ms while the container runs: true stops it now
	 * (politely, as at the timeout, but not counted as a timeout) */
	bool (*tick)(struct engine_run *e, double elapsed, void *ud);
	void *ud;
};

/* One run of the workload; the container's stdout/stderr are ours. RUNC_SECCOMP:
 * the bundle's linux.seccomp (runc; NULL: none); ENGINE_SECCOMP: the value of
 * podman/docker's --security-opt seccomp= (NULL: unconfined). H may be NULL. */
int er_run(struct engine_run *e, json_t *runc_seccomp, const char *engine_seccomp, const struct er_hooks *h,
	   int *status, bool *timed_out, struct dg_error *err);
/* Stops the running container: politely first (FORCE 0), then with SIGKILL. */
void er_stop(struct engine_run *e, int force);

/* ---- helpers ---- */
/* Runs a helper command to completion: its stdout into *OUT (when OUT is not
 * NULL), its stderr kept for the message. Returns its exit status, or -1 with
 * ERR set when it cannot be started. */
int er_run_tool_in(const struct engine_run *e, const char *cwd, char *const argv[], char **out, char **errtext,
		   struct dg_error *err);
int er_run_tool(const struct engine_run *e, char *const argv[], char **out, char **errtext, struct dg_error *err);
/* er_run_tool_in that must succeed: otherwise an environment error naming WHAT. */
int er_must_run_in(const struct engine_run *e, const char *cwd, const char *what, char *const argv[], char **out,
		   struct dg_error *err);
int er_must_run(const struct engine_run *e, const char *what, char *const argv[], char **out, struct dg_error *err);
void er_rm_tree(const char *path);
char *er_tmp_path(const struct engine_run *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int er_write_json_file(const char *path, json_t *j, struct dg_error *err);
/* The process's command line as `docker run` builds it: ENTRYPOINT (or --entrypoint)
 * followed by ARGS, else by the image's Cmd (which --entrypoint resets). */
void er_process_args(const struct engine_run *e, struct dg_strv *out);
double er_now(void);

#endif
