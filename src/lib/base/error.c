/* The error object: messages that gain context on their way up. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dockergate/error.h"

/* Every message is one line whatever it quotes (a name from an image, a profile, a trace):
 * control bytes become \xHH, truncated at the buffer's end; other bytes stay as they are
 * (the CLI escapes what is not UTF-8 when it prints). */
static void one_line(char *msg)
{
	size_t n = strlen(msg), i = 0;
	while (i < n && (unsigned char)msg[i] >= 0x20 && msg[i] != 0x7f)
		i++;
	if (i == n)
		return;
	char src[DG_ERR_MSG_MAX];
	memcpy(src, msg, n + 1);
	size_t o = i;
	for (; src[i] && o + 1 < DG_ERR_MSG_MAX; i++) {
		unsigned char ch = (unsigned char)src[i];
		if (ch >= 0x20 && ch != 0x7f) {
			msg[o++] = (char)ch;
		} else if (o + 4 < DG_ERR_MSG_MAX) {
			snprintf(msg + o, 5, "\\x%02x", ch);
			o += 4;
		} else {
			break;
		}
	}
	msg[o] = 0;
}

__attribute__((format(printf, 3, 0))) static void vset(struct dg_error *err, int status, const char *fmt, va_list ap)
{
	if (!err)
		return;
	err->status = status;
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	one_line(err->msg);
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
	one_line(err->msg);
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
	one_line(err->msg);
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
