/* The error object: messages that gain context on their way up. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dockergate/error.h"

static void vset(struct dg_error *err, int status, const char *fmt, va_list ap)
{
	if (!err)
		return;
	err->status = status;
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
}

int dg_err(struct dg_error *err, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset(err, status, fmt, ap);
	va_end(ap);
	if (err)
		err->sys_errno = 0;
	return -1;
}

int dg_err_sys(struct dg_error *err, int status, int errno_val, const char *fmt, ...)
{
	va_list ap;
	if (!err)
		return -1;
	va_start(ap, fmt);
	vset(err, status, fmt, ap);
	va_end(ap);
	size_t n = strlen(err->msg);
	snprintf(err->msg + n, sizeof err->msg - n, ": %s", strerror(errno_val));
	err->sys_errno = errno_val;
	return -1;
}

int dg_err_prefix(struct dg_error *err, const char *fmt, ...)
{
	char pre[DG_ERR_MSG_MAX], old[DG_ERR_MSG_MAX];
	va_list ap;
	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof pre, fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof old);
	/* "pre: old", truncated to the buffer (snprintf would warn about it) */
	size_t n = strnlen(pre, sizeof err->msg - 1);
	memcpy(err->msg, pre, n);
	if (n + 2 < sizeof err->msg) {
		err->msg[n++] = ':';
		err->msg[n++] = ' ';
		size_t on = strnlen(old, sizeof err->msg - 1 - n);
		memcpy(err->msg + n, old, on);
		n += on;
	}
	err->msg[n] = 0;
	if (err->status == DG_OK)
		err->status = DG_E_INTERNAL;
	return -1;
}

void dg_err_clear(struct dg_error *err)
{
	if (err) {
		err->status = DG_OK;
		err->sys_errno = 0;
		err->msg[0] = 0;
	}
}

static const struct dg_status_info statuses[] = {
	{DG_OK, "ok", "success"},
	{DG_E_INTERNAL, "internal", "a bug or an unexpected system failure"},
	{DG_E_USAGE, "usage", "bad command line"},
	{DG_E_INPUT, "input", "input missing, unreadable or of an unknown format"},
	{DG_E_IMAGE, "image", "image malformed, hostile or failing digest checks"},
	{DG_E_LIMIT, "limit", "a size or count limit was exceeded"},
	{DG_E_ENV, "environment", "the environment lacks something (a tool, temp space, an unwritable output)"},
	{DG_E_INCOMPLETE, "incomplete", "--strict: a reachable syscall site whose number is unknown"},
	{DG_E_WORKLOAD, "failed", "verify: the workload failed under the profile"},
	{DG_E_UNANALYSED, "unanalysed", "generate: the image has code of a machine no backend reads"},
	{DG_E_INTERRUPTED, "interrupted", "verify or trace got SIGINT or SIGTERM"},
};

const struct dg_status_info *dg_status_table(size_t *n)
{
	*n = sizeof statuses / sizeof *statuses;
	return statuses;
}
