/* What the CLI says on stderr: errors, usage errors, warnings, notes and the
 * commands' progress lines, each exactly one line whatever bytes it quotes. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

const char *cli_prog = "dockergate";

/* "dockergate[ CMD]: [KIND: ]TEXT\n" with control bytes (below 0x20, 0x7f) of the
 * whole line as \xHH, so a file name with a newline cannot split it. */
static void say_line(const char *cmd, const char *kind, const char *text)
{
	fflush(stdout); /* what the command printed so far comes first */
	fprintf(stderr, "%s%s%s: ", cli_prog, cmd ? " " : "", cmd ? cmd : "");
	if (kind)
		fprintf(stderr, "%s: ", kind);
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			fprintf(stderr, "\\x%02x", *p);
		else
			fputc(*p, stderr);
	fputc('\n', stderr);
}

void cli_vsay(const char *cmd, const char *kind, const char *fmt, va_list ap)
{
	char *text;
	if (vasprintf(&text, fmt, ap) < 0)
		abort();
	say_line(cmd, kind, text);
	free(text);
}

void cli_say(const char *cmd, const char *kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cli_vsay(cmd, kind, fmt, ap);
	va_end(ap);
}

void cli_warn(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cli_vsay(cmd, "warning", fmt, ap);
	va_end(ap);
}

void cli_note(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cli_vsay(cmd, "note", fmt, ap);
	va_end(ap);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	char *text;
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		abort();
	va_end(ap);
	char *line;
	if (asprintf(&line, "%s (see 'dockergate %s--help')", text, cmd ? "COMMAND " : "") < 0)
		abort();
	say_line(cmd, NULL, line);
	free(line);
	free(text);
	return DG_E_USAGE;
}

int cli_fail(const struct dg_error *err)
{
	say_line(NULL, "error", err->msg[0] ? err->msg : "unknown error");
	return err->status ? err->status : DG_E_INTERNAL;
}
