/* Error convention for libdockergate: every fallible function returns 0 on
 * success or -1 on failure and fills a struct dg_error whose message gains
 * context as it travels up ("layer 2 sha256:ab12…: usr/bin/x: ..."). The
 * status is also the CLI's exit status (docs/errors.md). */
#ifndef DOCKERGATE_ERROR_H
#define DOCKERGATE_ERROR_H

#include <stdarg.h>

enum dg_status {
	DG_OK = 0,
	DG_E_INTERNAL = 1, /* a bug or an unexpected system failure */
	DG_E_USAGE = 2,    /* bad command line */
	DG_E_INPUT = 3,    /* input missing, unreadable or of an unknown format */
	DG_E_IMAGE = 4,    /* image malformed, hostile or failing digest checks */
	DG_E_LIMIT = 5,    /* a configured size/count limit was exceeded */
	DG_E_ENV = 6,      /* the environment lacks something (engine CLI, temp space) */
};

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
const char *dg_status_name(int status);

#endif
