/* Running helper programs (an engine's CLI, skopeo, umoci, a probe): one way to
 * start them, wait for them and keep what they print, shared by the image
 * reader (`docker save`) and the commands that drive engines. */
#ifndef DOCKERGATE_PROC_H
#define DOCKERGATE_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "dockergate/error.h"

struct dg_spawn {
	const char *cwd;  /* its working directory (NULL: ours) */
	int out, err;     /* descriptors for its stdout and stderr (-1: ours) */
	bool new_pgroup;  /* in a process group of its own (so all it starts can be stopped) */
};

/* Starts ARGV[0] (a path) with ARGV, stdin from /dev/null and ENVIRON; S may be
 * NULL (everything ours). Returns the pid, or -1 with ERR set (DG_E_ENV). */
pid_t dg_spawn(char *const argv[], const struct dg_spawn *s, struct dg_error *err);
/* A wait status as a shell shows it: the exit code, 128+N for signal N. */
int dg_exit_code(int wstatus);
/* Waits for PID (through EINTR); its exit code as dg_exit_code, 255 when it cannot be waited for. */
int dg_wait(pid_t pid);
/* What FD (a temp file a helper wrote) holds from its start, at most MAX bytes, NUL-terminated. */
char *dg_read_back(int fd, size_t max);
/* Runs ARGV to completion with stdout and stderr in unlinked temp files under
 * TMPDIR ($TMPDIR or /tmp when NULL): *OUT and *ERRTEXT (either may be NULL) get
 * what it printed (NUL-terminated). Returns its exit code, or -1 with ERR set
 * when it cannot be started. */
int dg_run(const char *tmpdir, const char *cwd, char *const argv[], char **out, char **errtext,
	   struct dg_error *err);
/* The last non-empty line of S (a tool's error output), trimmed, with control
 * bytes and bytes that are not ASCII escaped: for one-line messages. */
char *dg_last_line(const char *s);

#endif
