/* The CLI's one way to build JSON: every string and every object key goes through
 * here, so bytes from an image, a trace or the file system that are not UTF-8 are
 * escaped (\xHH, as in the text output) instead of jansson refusing them, and no
 * failure can leave a silently shorter document: a value that could not be made
 * or added ends the command with an internal error (it can only be memory). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dockergate/util.h"

static _Noreturn void json_failed(const char *what, const char *key)
{
	struct dg_buf b = {0};
	if (key)
		dg_buf_put_escaped(&b, key);
	dg_buf_putc(&b, 0);
	cli_say(NULL, "error", "internal: cannot build the JSON output: %s%s%s%s", what, key ? " '" : "",
		key ? b.data : "", key ? "'" : "");
	dg_buf_free(&b);
	exit(DG_E_INTERNAL);
}

bool cli_json_utf8(const char *s)
{
	json_t *j = json_stringn(s, strlen(s));
	json_decref(j);
	return j != NULL;
}

json_t *cli_json_str(const char *s)
{
	if (!s)
		return json_null();
	json_t *j = json_stringn(s, strlen(s));
	if (!j) { /* not UTF-8: shown escaped, as in the text output */
		struct dg_buf b = {0};
		dg_buf_put_escaped(&b, s);
		dg_buf_putc(&b, 0);
		j = json_string(b.data);
		dg_buf_free(&b);
	}
	if (!j)
		json_failed("a string", NULL);
	return j;
}

json_t *cli_json_strs(char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		cli_json_push(a, cli_json_str(v[i]));
	return a;
}

json_t *cli_json_strv(const struct dg_strv *v)
{
	return cli_json_strs(v->v, v->n);
}

void cli_json_set(json_t *o, const char *key, json_t *v)
{
	if (!o || !v) {
		json_decref(v);
		json_failed(o ? "a value for the key" : "an object for the key", key);
	}
	/* a key that is not UTF-8 (a path, a file name from the image) is escaped; it is
	 * checked first because jansson releases V when it refuses the key */
	struct dg_buf b = {0};
	if (!cli_json_utf8(key)) {
		dg_buf_put_escaped(&b, key);
		dg_buf_putc(&b, 0);
	}
	int r = json_object_set_new(o, b.data ? b.data : key, v);
	dg_buf_free(&b);
	if (r < 0)
		json_failed("the key", key);
}

void cli_json_push(json_t *a, json_t *v)
{
	if (!a || !v || json_array_append_new(a, v) < 0)
		json_failed("an array element", NULL);
}

char *cli_json_dump(const json_t *j, size_t flags)
{
	char *s = j ? json_dumps(j, flags) : NULL;
	if (!s)
		json_failed("the document", NULL);
	return s;
}

void cli_print_json(json_t *j)
{
	char *s = cli_json_dump(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputs(s, stdout);
	fputc('\n', stdout);
	free(s);
	json_decref(j);
}
