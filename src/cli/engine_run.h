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

struct engine_run;

/* How trace records an engine's containers. */
enum er_trace_how {
	ER_TRACE_NONE,    /* it cannot (docker: the daemon starts the runtime, out of reach) */
	ER_TRACE_DIRECT,  /* the runtime is our child: record it and all it starts (runc) */
	ER_TRACE_WRAPPER, /* the engine takes --runtime: a wrapper runs `runc create` under a
			   * detached recorder (podman) */
};

/* What differs between engines: adding one is one entry of er_engines (engine_run.c). */
struct engine_ops {
	const char *name;        /* --engine NAME, and the program looked up (runc: --runtime or it) */
	const char *missing;     /* said after "PROGRAM: not found" */
	const char *default_runtime; /* the report's "runtime" without --runtime */
	bool runtime_is_program; /* the program is the OCI runtime itself: --runtime replaces it */
	bool oci_bundle;         /* runs an OCI bundle whose config.json holds the filter (er_run's
				  * RUNC_SECCOMP; the profile model stands in for the file); else the
				  * engine reads a Docker-format profile file (ENGINE_SECCOMP) */
	bool run_statuses;       /* exits 125 for its own errors, 126/127 when the command cannot
				  * run (`docker run`'s convention) */
	enum er_trace_how trace;
	const char *untraceable; /* ER_TRACE_NONE: why */
	/* after the program is found and the temp directory made: what a run needs (the image
	 * in the engine's store; runc: skopeo, umoci, root, the network namespace) */
	int (*prepare)(struct engine_run *e, struct dg_error *err);
	/* the command line of one run (its container named e->name) */
	int (*run_argv)(struct engine_run *e, json_t *runc_seccomp, const char *engine_seccomp, struct dg_strv *av,
			struct dg_error *err);
	/* after a run (RAN: its command was started): remove what the run left */
	void (*finish)(struct engine_run *e, bool ran);
	/* stop the running container: politely (FORCE 0), then with SIGKILL */
	void (*stop)(struct engine_run *e, int force);
	/* er_teardown: undo prepare (images it loaded into the store); may be NULL */
	void (*cleanup)(struct engine_run *e);
};

/* Every engine, in the order --engine's default looks for them. */
extern const struct engine_ops er_engines[];
extern const size_t er_nengines;
/* The engine called NAME, or NULL. */
const struct engine_ops *er_engine(const char *name);
/* The engine when --engine was not given: the first of er_engines installed (else the
 * first, reported as missing by er_setup). */
const struct engine_ops *er_default_engine(void);
/* "a, b or c": FIRST (may be NULL) and then every other engine (TRACEABLE: only those
 * trace can record), for usage messages. */
char *er_engine_names(const struct engine_ops *first, bool traceable);

struct engine_run {
	/* options */
	const char *cmd;      /* "verify", "trace": messages, container names, temp directory */
	const char *image, *runtime, *network, *entrypoint;
	const struct engine_ops *ops;
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
	char *bundle;         /* runc: the current run's bundle */
};

/* Set by the handler er_catch_signals installs for SIGINT and SIGTERM. */
extern volatile sig_atomic_t er_interrupted;
void er_catch_signals(void);

/* Opens the image, finds the engine (or e->runtime for runc), makes the temp
 * directory and prepares the engine (ops->prepare: for podman/docker, puts the image
 * into the engine's store). */
int er_setup(struct engine_run *e, struct dg_error *err);
/* Removes what er_setup made (images it loaded, the netns, the temp directory). */
void er_teardown(struct engine_run *e);

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

/* ---- helpers ---- */
/* A path in the run's private temp directory. */
char *er_tmp_path(const struct engine_run *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* J written to PATH atomically (indent 1, keys in insertion order). */
int er_write_json_file(const char *path, json_t *j, struct dg_error *err);
/* The process's command line as `docker run` builds it: ENTRYPOINT (or --entrypoint)
 * followed by ARGS, else by the image's Cmd (which --entrypoint resets). */
void er_process_args(const struct engine_run *e, struct dg_strv *out);
/* CLOCK_MONOTONIC in seconds. */
double er_now(void);

#endif
