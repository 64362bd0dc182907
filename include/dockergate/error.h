/* Error convention for libdockergate: every fallible function returns 0 on
 * success or -1 on failure and fills a struct dg_error whose message gains
 * context as it travels up ("layer 2 sha256:ab12…: usr/bin/x: ..."). The
 * status is also the CLI's exit status (docs/errors.md). */
#ifndef DOCKERGATE_ERROR_H
#define DOCKERGATE_ERROR_H

#include <stdarg.h>
#include <stddef.h>

enum dg_status {
	DG_OK = 0,
	DG_E_INTERNAL = 1, /* a bug or an unexpected system failure */
	DG_E_USAGE = 2,    /* bad command line */
	DG_E_INPUT = 3,    /* input missing, unreadable or of an unknown format */
	DG_E_IMAGE = 4,    /* image malformed, hostile or failing digest checks */
	DG_E_LIMIT = 5,    /* a configured size/count limit was exceeded */
	DG_E_ENV = 6,      /* the environment lacks something (engine CLI, temp space) */
	DG_E_INCOMPLETE = 7,   /* --strict: a reachable syscall site whose number is unknown */
	DG_E_WORKLOAD = 8,     /* verify: the workload failed under the profile */
	DG_E_UNANALYSED = 9,   /* generate: code of a machine no backend reads, and no --unanalysed fallback */
	DG_E_INTERRUPTED = 130, /* verify/trace stopped by SIGINT or SIGTERM (128 + SIGINT, as shells) */
};

/* Every status with its name and a one-line description, in increasing order:
 * the CLI's usage text and docs/errors.md are built from / checked against it. */
struct dg_status_info {
	int status;
	const char *name, *description;
};
const struct dg_status_info *dg_status_table(size_t *n);

#define DG_ERR_MSG_MAX 2048

struct dg_error {
	int status;
	int sys_errno; /* errno that caused it, or 0 */
	char msg[DG_ERR_MSG_MAX];
};

#define DG_ERROR_INIT {0, 0, {0}}

/* Sets the error (overwrites). Always returns -1 so callers can `return dg_err(...)`. */
int dg_err(struct dg_error *err, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Like dg_err, appending ": strerror(errno_val)". */
int dg_err_sys(struct dg_error *err, int status, int errno_val, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Prepends "context: " to the message; keeps the status. Returns -1. */
int dg_err_prefix(struct dg_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dg_err_clear(struct dg_error *err);

#endif
