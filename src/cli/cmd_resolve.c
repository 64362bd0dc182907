/* dockergate resolve IMAGE PATH...: where a path leads inside the image, with
 * the same in-root rules the analysis uses (absolute symlinks restart at the
 * image root, ".." stops there, loops end with an error). */
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dockergate/util.h"

static const char help[] =
	"usage: dockergate resolve IMAGE PATH... [OPTIONS]\n\n"
	"Resolves each PATH inside IMAGE as openat2(RESOLVE_IN_ROOT) would and prints\n"
	"  PATH -> RESOLVED-PATH (TYPE)\n"
	"A PATH that does not resolve prints 'PATH: error: REASON' and the exit status is 3.\n\n"
	"Options:\n"
	"  --nofollow          do not follow a symlink in the last component\n" CLI_IMAGE_OPTS_HELP;

static const char *tname(enum dg_ftype t)
{
	static const char *n[] = {"?", "file", "directory", "symlink", "char-device", "block-device", "fifo", "socket"};
	return (unsigned)t < 8 ? n[t] : "?";
}

int cmd_resolve(int argc, char **argv)
{
	enum { OPT_NOFOLLOW = OPT_FIRST_CMD_OPT };
	static const struct option lo[] = {CLI_IMAGE_LONGOPTS, {"nofollow", no_argument, NULL, OPT_NOFOLLOW}, {0, 0, 0, 0}};
	struct cli_image_args a;
	cli_image_args_init(&a);
	int c, flags = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == OPT_HELP) {
			fputs(help, stdout);
			return 0;
		}
		if (c == OPT_NOFOLLOW) {
			flags |= DG_RESOLVE_NOFOLLOW;
			continue;
		}
		int r = cli_common_opt("resolve", &a, c, optarg);
		if (r)
			return r;
	}
	if (argc - optind < 2)
		return cli_usage_error("resolve", "expected IMAGE and at least one PATH");
	struct dg_image *img;
	int rc = cli_load_image(argv[optind], &a, &img);
	if (rc)
		return rc;
	for (int i = optind + 1; i < argc; i++) {
		struct dg_error err = DG_ERROR_INIT;
		struct dg_node *n;
		struct dg_buf b = {0};
		dg_buf_put_escaped(&b, argv[i]);
		if (dg_fs_resolve(dg_image_fs(img), argv[i], NULL, flags, &n, &err) < 0) {
			printf("%s: error: %s\n", b.data, strerror(err.sys_errno ? err.sys_errno : EINVAL));
			rc = DG_E_INPUT;
		} else {
			char *p = dg_node_path(n);
			dg_buf_puts(&b, " -> ");
			dg_buf_put_escaped(&b, p);
			printf("%s (%s)\n", b.data, tname(n->type));
			free(p);
		}
		dg_buf_free(&b);
	}
	dg_image_free(img);
	return rc;
}
