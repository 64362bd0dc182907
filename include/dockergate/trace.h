/* The syscall recorder (`dockergate trace`) and trace files.
 *
 * The recorder is ptrace: it seizes a process before it execs the container
 * runtime (PTRACE_O_TRACESYSGOOD, CLONE, FORK, VFORK, EXEC, EXIT), follows every
 * process and thread it starts, and counts every syscall entry (number and arch
 * from PTRACE_GET_SYSCALL_INFO) per executable. A process belongs to the container
 * from its first successful execve that is not the runtime re-executing itself
 * (the recorder's first exec, an execve of /proc/self/exe or /proc/{self,thread-self,PID}/fd/N,
 * an execveat of an fd with AT_EMPTY_PATH); children of container processes are the container's too.
 * Everything else is the runtime's and is counted in its own set, so nothing is
 * dropped (docs/design.md "Tracing").
 *
 * A trace file is JSON (dg_trace_write, dg_trace_load):
 *   {"dockergate_trace":1, "image":S|null, "engine":S|null, "args":[S...],
 *    "arch":"x86_64", "executables":[{"path":S, "syscalls":{NAME:COUNT},
 *    "i386":{NAME:COUNT}}], "runtime":{"syscalls":{...}, "i386":{...}},
 *    "exit_status":N|null, "timed_out":B, "probe":{"command":S,"exit_status":N}|null,
 *    "lost":N}
 * A syscall libseccomp cannot name is keyed by its decimal number. Strings (paths,
 * args, image, probe) are bytes: a backslash is always written as \x5c and, in a
 * string that is not UTF-8, every byte that is not printable ASCII as \xHH; the
 * loader decodes \xHH, so distinct paths never collide. */
#ifndef DOCKERGATE_TRACE_H
#define DOCKERGATE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dockergate/error.h"

#define DG_TRACE_FORMAT 1
#define DG_TRACE_MAX_FILE (64u << 20)   /* trace files larger than this are refused */
#define DG_TRACE_MAX_EXES 100000        /* executables in one trace */

enum { DG_TRACE_X86_64 = 0, DG_TRACE_I386 = 1, DG_TRACE_NARCH = 2 };

struct dg_trace_call {
	uint32_t nr;
	const char *name;       /* libseccomp's name for NR in this arch, or NULL */
	uint64_t count;         /* entries seen (at least 1) */
};

struct dg_trace_set {           /* sorted by nr, each nr once */
	struct dg_trace_call *v;
	size_t n;
};

struct dg_trace_exe {
	char *path;                     /* as execve named it (the container's view) */
	struct dg_trace_set set[DG_TRACE_NARCH];
};

struct dg_trace {
	char *image, *engine, *arch;    /* NULL when unknown */
	char **args;                    /* the container's ARGS as given: NULL-terminated, */
					/* or NULL when NARGS is 0 (a file without "args") */
	size_t nargs;
	struct dg_trace_exe *exe;       /* the container's executables, sorted by path */
	size_t nexe;
	struct dg_trace_set runtime[DG_TRACE_NARCH]; /* the runtime's own calls */
	int exit_status;                /* -1 when unknown */
	bool timed_out;
	char *probe;                    /* the --probe command, or NULL */
	int probe_status;               /* its exit status (-1: none) */
	uint64_t lost;                  /* stops the recorder could not attribute (0 normally) */
};

/* Flags for the recorder. */
#define DG_TRACE_EXITKILL 1     /* tracees are killed if the recorder dies */

/* Runs ARGV (a path, not searched) under the recorder: stdin /dev/null, stdout and
 * stderr to OUT_FD and ERR_FD (-1: inherit). Returns 0 with the trace in *OUT and
 * ARGV's exit status (128+signal when killed) in *STATUS once every process it
 * started has exited. The calling process must not have other children to wait for. */
int dg_trace_run(char *const argv[], int out_fd, int err_fd, unsigned flags, struct dg_trace **out, int *status,
		 struct dg_error *err);

/* Detached recording (strace -D): forks a grandchild that seizes the calling process
 * and writes the trace to PATH (dg_trace_write; atomically, so PATH appears only when
 * complete) when every traced process has exited; returns 0 in the caller, which then
 * execs the runtime and keeps its pid. On an error nothing is traced. */
int dg_trace_detach(const char *path, struct dg_error *err);

/* Writes T as JSON to PATH (atomically; "-" is stdout). */
int dg_trace_write(const struct dg_trace *t, const char *path, struct dg_error *err);
/* Reads and validates a trace file: a one-line error naming the file and the field
 * on bad input (DG_E_INPUT; DG_E_LIMIT over the caps above). */
int dg_trace_load(const char *path, struct dg_trace **out, struct dg_error *err);
/* The same from memory; NAME is used in messages. */
int dg_trace_parse(const char *data, size_t len, const char *name, struct dg_trace **out, struct dg_error *err);
struct dg_trace *dg_trace_new(void);
void dg_trace_free(struct dg_trace *t);
/* The executable PATH of T, or NULL. */
const struct dg_trace_exe *dg_trace_find(const struct dg_trace *t, const char *path);
/* The count of NR (arch A) in S, 0 when absent. */
uint64_t dg_trace_count(const struct dg_trace_set *s, uint32_t nr);

#endif
