/* The dockergate CLI: a thin layer over libdockergate, one file per command. */
#ifndef DG_CLI_H
#define DG_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "dockergate/error.h"
#include "dockergate/image.h" /* struct dg_strv */
#include "dockergate/profile.h"

struct cli_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

/* Options every image-reading command accepts. */
struct cli_image_args {
	struct dg_image_opts opts;
	bool json;
	const char *cache_path; /* --cache PATH (NULL: the default path) */
	bool no_cache;          /* --no-cache */
};

enum {
	OPT_PLATFORM = 1000,
	OPT_REF,
	OPT_TMPDIR,
	OPT_MAX_BYTES,
	OPT_JSON,
	OPT_HELP,
	OPT_CACHE,
	OPT_NO_CACHE,
	OPT_FIRST_CMD_OPT, /* commands number their own options from here */
};

#define CLI_IMAGE_LONGOPTS                                                                         \
	{"platform", required_argument, NULL, OPT_PLATFORM}, {"ref", required_argument, NULL, OPT_REF}, \
		{"tmpdir", required_argument, NULL, OPT_TMPDIR},                                       \
		{"max-bytes", required_argument, NULL, OPT_MAX_BYTES},                                 \
		{"json", no_argument, NULL, OPT_JSON}, {"help", no_argument, NULL, OPT_HELP},       \
		{"cache", required_argument, NULL, OPT_CACHE},                                     \
		{"no-cache", no_argument, NULL, OPT_NO_CACHE}

#define CLI_IMAGE_OPTS_HELP                                                                        \
	"  --platform OS/ARCH[/VARIANT]  choose among several platforms (default: this host's)\n"  \
	"  --ref NAME          choose among several tagged images (tag or OCI ref name)\n"            \
	"  --tmpdir DIR        private temp files go here (default: $TMPDIR or /tmp)\n"             \
	"  --max-bytes SIZE    cap on expanded layer bytes, e.g. 20G (default 64G)\n"               \
	"  --json              machine-readable output\n"                                          \
	"  --cache PATH        the analysis cache (default: $XDG_CACHE_HOME/dockergate/cache.sqlite,\n" \
	"                      else ~/.cache/dockergate/cache.sqlite)\n"                          \
	"  --no-cache          neither read nor write the analysis cache\n"

void cli_image_args_init(struct cli_image_args *a);
/* Handles an option every image-reading command takes (--platform, --ref,
 * --tmpdir, --max-bytes, --json, --cache, --no-cache): 0 when handled, else
 * the usage status after printing the error for CMD (an unknown option, or a
 * bad value naming the option). */
int cli_common_opt(const char *cmd, struct cli_image_args *a, int opt, const char *arg);
/* ---- messages on stderr (output.c): one line each, control bytes as \xHH ---- */
/* "dockergate: error: MESSAGE"; returns ERR's status (DG_E_INTERNAL when it has none). */
int cli_fail(const struct dg_error *err);
/* "dockergate[ CMD]: MESSAGE (see 'dockergate ...--help')"; returns DG_E_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "dockergate[ CMD]: [KIND: ]MESSAGE": every warning, note and progress line of a command
 * (CMD NULL: "dockergate: ..."). stdout is flushed first. */
void cli_say(const char *cmd, const char *kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void cli_vsay(const char *cmd, const char *kind, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
/* cli_say(CMD, "warning", ...) and cli_say(CMD, "note", ...). */
void cli_warn(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_note(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Opens IMAGE and loads its layers. */
int cli_load_image(const char *spec, struct cli_image_args *a, struct dg_image **out);
struct dg_cache;
/* The analysis cache for --cache/--no-cache: NULL for --no-cache, or (after one
 * warning line on stderr) when the cache cannot be used; a one-line note when a
 * damaged cache was rebuilt. Close with dg_cache_close. */
struct dg_cache *cli_open_cache(struct cli_image_args *a);
struct dg_objdb;
/* Writes what is pending and closes C (NULL is fine), with one warning line
 * when writing failed or when DB met cache errors during the run. */
void cli_close_cache(struct dg_cache *c, struct dg_objdb *db);

int cmd_inspect(int argc, char **argv);
int cmd_files(int argc, char **argv);
int cmd_resolve(int argc, char **argv);
int cmd_elf(int argc, char **argv);
int cmd_ldd(int argc, char **argv);
int cmd_bind(int argc, char **argv);
int cmd_cache(int argc, char **argv);
int cmd_graph(int argc, char **argv);
int cmd_syscalls(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_trace_runtime(int argc, char **argv);

/* Profile commands (generate, merge): --format NAME (the library's table of formats), its
 * help lines (each format with its description when DESCRIPTIONS, DEFLT marked as the
 * default, then TAIL), and how many allowed names are x86-64 syscalls (what the summaries
 * count). */
int cli_parse_format(const char *cmd, const char *arg, enum dg_profile_format *out);
void cli_format_help(FILE *f, enum dg_profile_format deflt, bool descriptions, const char *tail);
size_t cli_count_x86_64(const struct dg_profile *p);

/* ---- JSON (json.c): every string and key of the CLI's JSON goes through these ---- */
/* A JSON string of S (NULL: null); bytes that are not UTF-8 are escaped as \xHH. */
json_t *cli_json_str(const char *s);
/* Arrays of such strings. */
json_t *cli_json_strs(char *const *v, size_t n);
json_t *cli_json_strv(const struct dg_strv *v);
/* Whether S is a string JSON can carry as it is (UTF-8). */
bool cli_json_utf8(const char *s);
/* O[KEY] = V (V is stolen): a KEY that is not UTF-8 is escaped as cli_json_str does.
 * A value that could not be made (V NULL) or added ends the program with an internal
 * error: never a document silently missing a part. */
void cli_json_set(json_t *o, const char *key, json_t *v);
/* Appends V (stolen) to A, with the same checks. */
void cli_json_push(json_t *a, json_t *v);
/* json_dumps that cannot return NULL (the same internal error). */
char *cli_json_dump(const json_t *j, size_t flags);
struct dg_scope;
/* The entrypoint scope's closure: items (path, kind, why, parent), edges (from, to, kind),
 * the fallbacks and the problems (syscalls --json "scope", graph --json "closure"). */
json_t *cli_scope_json(const struct dg_scope *sc);
/* Prints J on stdout (indented, keys in insertion order) and releases it. */
void cli_print_json(json_t *j);

extern const char *cli_prog; /* "dockergate" (output.c) */

#endif
