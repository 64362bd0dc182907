/* The error object and the one table of exit statuses (error.c). */
#include <stdlib.h>

#include "dockergate/error.h"
#include "tap.h"

int main(void)
{
	size_t n;
	const struct dg_status_info *st = dg_status_table(&n);
	int sorted = 1, named = 1;
	for (size_t i = 0; i < n; i++) {
		if (i && st[i].status <= st[i - 1].status)
			sorted = 0;
		if (!st[i].name || !*st[i].name || !st[i].description || !*st[i].description ||
		    strchr(st[i].description, '\n'))
			named = 0;
	}
	ok(n == 11 && sorted, "the status table: %zu statuses in increasing order, each once", n);
	ok(named, "each with a name and a one-line description");
	static const int every[] = {DG_OK, DG_E_INTERNAL, DG_E_USAGE, DG_E_INPUT, DG_E_IMAGE, DG_E_LIMIT, DG_E_ENV,
				    DG_E_INCOMPLETE, DG_E_WORKLOAD, DG_E_UNANALYSED, DG_E_INTERRUPTED};
	int all = 1;
	for (size_t k = 0; k < sizeof every / sizeof *every; k++) {
		int found = 0;
		for (size_t i = 0; i < n; i++)
			found |= st[i].status == every[k];
		all &= found;
	}
	ok(all, "every status of enum dg_status is in it");
	ok(DG_E_INCOMPLETE == 7 && DG_E_WORKLOAD == 8 && DG_E_UNANALYSED == 9 && DG_E_INTERRUPTED == 130,
	   "the documented numbers 7, 8, 9, 130");
	int u = 1;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < i; k++)
			u &= strcmp(st[i].name, st[k].name) != 0;
	ok(u, "names are unique");

	struct dg_error e = DG_ERROR_INIT;
	ok(dg_err(&e, DG_E_IMAGE, "x %d", 1) == -1 && e.status == DG_E_IMAGE, "dg_err returns -1 and sets the status");
	dg_err_prefix(&e, "layer %d", 2);
	is_str(e.msg, "layer 2: x 1", "dg_err_prefix prepends context");
	dg_err_clear(&e);
	ok(e.status == DG_OK && !e.msg[0], "dg_err_clear");

	/* one line whatever a message quotes (found by fuzzing the profile reader: a syscall
	 * name with a newline split its error over two lines) */
	dg_err(&e, DG_E_INPUT, "name '%s'", "close_r\nge\t\x7f\xc3\xa9\\");
	is_str(e.msg, "name 'close_r\\x0age\\x09\\x7f\xc3\xa9\\'", "control bytes in a message become \\xHH");
	dg_err_prefix(&e, "in\r%s", "x");
	ok(!strchr(e.msg, '\r') && strstr(e.msg, "in\\x0dx: name"), "and in a prefix (%s)", e.msg);
	char big[2 * DG_ERR_MSG_MAX];
	memset(big, '\n', sizeof big - 1);
	big[sizeof big - 1] = 0;
	dg_err_sys(&e, DG_E_ENV, 2, "%s", big);
	ok(strlen(e.msg) < DG_ERR_MSG_MAX && !strchr(e.msg, '\n') && !strncmp(e.msg, "\\x0a\\x0a", 8),
	   "a message of newlines is cut at the buffer, each escaped whole");
	return tap_done();
}
