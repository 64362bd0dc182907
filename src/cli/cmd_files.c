/* dockergate files IMAGE: the merged filesystem, one line per entry, in the
 * same normalised form the tests produce from a real engine's view. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dockergate/util.h"

static const char help[] =
	"usage: dockergate files IMAGE [OPTIONS]\n\n"
	"Lists every entry of the merged filesystem except the root, sorted by path:\n"
	"  TYPE MODE SIZE PATH[ -> TARGET]\n"
	"TYPE is f (regular), d, l (symlink), c, b, p (fifo) or s (socket); MODE is octal\n"
	"permission bits; SIZE is the byte size of regular files (0 otherwise). Bytes below\n"
	"0x20, 0x7f and above, and backslash are written as \\xHH.\n\nOptions:\n" CLI_IMAGE_OPTS_HELP;

static char tchar(enum dg_ftype t)
{
	switch (t) {
	case DG_F_REG: return 'f';
	case DG_F_DIR: return 'd';
	case DG_F_LNK: return 'l';
	case DG_F_CHR: return 'c';
	case DG_F_BLK: return 'b';
	case DG_F_FIFO: return 'p';
	case DG_F_SOCK: return 's';
	}
	return '?';
}

struct fctx {
	struct dg_buf out;
	json_t *arr;
};

static int line_cb(struct dg_node *n, void *ud)
{
	struct fctx *c = ud;
	char *p = dg_node_path(n);
	uint64_t size = n->type == DG_F_REG ? n->inode->size : 0;
	if (c->arr) {
		json_t *o = json_object();
		char t[2] = {tchar(n->type), 0};
		cli_json_set(o, "path", cli_json_str(p));
		cli_json_set(o, "type", cli_json_str(t));
		cli_json_set(o, "mode", json_integer(dg_node_mode(n)));
		cli_json_set(o, "size", json_integer((json_int_t)size));
		if (n->type == DG_F_LNK)
			cli_json_set(o, "target", cli_json_str(n->target));
		if (n->type == DG_F_REG && n->inode->kind != DG_CONTENT_NONE)
			cli_json_set(o, "kind", cli_json_str(n->inode->kind == DG_CONTENT_ELF      ? "elf"
								   : n->inode->kind == DG_CONTENT_SCRIPT ? "script"
								   : n->inode->kind == DG_CONTENT_LDCACHE ? "ld.so.cache"
													  : "config"));
		cli_json_push(c->arr, o);
	} else {
		dg_buf_printf(&c->out, "%c %04o %llu ", tchar(n->type), dg_node_mode(n), (unsigned long long)size);
		dg_buf_put_escaped(&c->out, p);
		if (n->type == DG_F_LNK) {
			dg_buf_puts(&c->out, " -> ");
			dg_buf_put_escaped(&c->out, n->target);
		}
		dg_buf_putc(&c->out, '\n');
		if (c->out.len > (1 << 20)) {
			fwrite(c->out.data, 1, c->out.len, stdout);
			c->out.len = 0;
		}
	}
	free(p);
	return 0;
}

int cmd_files(int argc, char **argv)
{
	static const struct option lo[] = {CLI_IMAGE_LONGOPTS, {0, 0, 0, 0}};
	struct cli_image_args a;
	cli_image_args_init(&a);
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == OPT_HELP) {
			fputs(help, stdout);
			return 0;
		}
		int r = cli_common_opt("files", &a, c, optarg);
		if (r)
			return r;
	}
	if (optind != argc - 1)
		return cli_usage_error("files", "expected exactly one IMAGE");
	struct dg_image *img;
	int rc = cli_load_image(argv[optind], &a, &img);
	if (rc)
		return rc;
	struct fctx ctx = {0};
	if (a.json)
		ctx.arr = json_array();
	dg_fs_walk(dg_image_fs(img), line_cb, &ctx);
	if (a.json) {
		char *s = cli_json_dump(ctx.arr, JSON_INDENT(1));
		puts(s);
		free(s);
		json_decref(ctx.arr);
	} else if (ctx.out.len) {
		fwrite(ctx.out.data, 1, ctx.out.len, stdout);
	}
	dg_buf_free(&ctx.out);
	dg_image_free(img);
	return 0;
}
