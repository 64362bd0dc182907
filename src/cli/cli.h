/* The dockergate CLI: a thin layer over libdockergate, one file per command. */
#ifndef DG_CLI_H
#define DG_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include "dockergate/error.h"
#include "dockergate/image.h"

struct cli_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

/* Options every image-reading command accepts. */
struct cli_image_args {
	struct dg_image_opts opts;
	bool json;
};

enum {
	OPT_PLATFORM = 1000,
	OPT_REF,
	OPT_TMPDIR,
	OPT_MAX_BYTES,
	OPT_JSON,
	OPT_HELP,
	OPT_FIRST_CMD_OPT, /* commands number their own options from here */
};

#define CLI_IMAGE_LONGOPTS                                                                         \
	{"platform", required_argument, NULL, OPT_PLATFORM}, {"ref", required_argument, NULL, OPT_REF}, \
		{"tmpdir", required_argument, NULL, OPT_TMPDIR},                                       \
		{"max-bytes", required_argument, NULL, OPT_MAX_BYTES},                                 \
		{"json", no_argument, NULL, OPT_JSON}, {"help", no_argument, NULL, OPT_HELP}

#define CLI_IMAGE_OPTS_HELP                                                                        \
	"  --platform OS/ARCH[/VARIANT]  choose among several platforms (default: this host's)\n"  \
	"  --ref NAME          choose among several tagged images (tag or OCI ref name)\n"            \
	"  --tmpdir DIR        private temp files go here (default: $TMPDIR or /tmp)\n"             \
	"  --max-bytes SIZE    cap on expanded layer bytes, e.g. 20G (default 64G)\n"               \
	"  --json              machine-readable output\n"

void cli_image_args_init(struct cli_image_args *a);
/* Handles a shared option; returns 1 if handled, 0 if not, -1 on a bad value. */
int cli_image_opt(struct cli_image_args *a, int opt, const char *arg);
int cli_fail(const struct dg_error *err);
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Opens IMAGE and loads its layers. */
int cli_load_image(const char *spec, struct cli_image_args *a, struct dg_image **out);

int cmd_inspect(int argc, char **argv);
int cmd_files(int argc, char **argv);
int cmd_resolve(int argc, char **argv);
int cmd_elf(int argc, char **argv);
int cmd_ldd(int argc, char **argv);
int cmd_bind(int argc, char **argv);

extern const char *cli_prog;

#endif
