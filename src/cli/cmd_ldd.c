/* dockergate ldd IMAGE PATH...: what the dynamic loader would load for each
 * executable, found inside the image with glibc's search rules (nothing runs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dockergate/loader.h"
#include "dockergate/util.h"

static const char help[] =
	"usage: dockergate ldd IMAGE PATH... [OPTIONS]\n\n"
	"For each executable PATH, lists the objects the dynamic loader would load, in load order,\n"
	"as `ld.so --list` does:  NAME => PATH  (or 'not found'), the interpreter last. The search\n"
	"follows glibc: DT_RPATH (without DT_RUNPATH, inherited), LD_LIBRARY_PATH from the image\n"
	"config, DT_RUNPATH, the image's /etc/ld.so.cache, then the system directories.\n"
	"Programs whose interpreter is musl's (ld-musl-*) follow musl's rules and list format:\n"
	"LD_LIBRARY_PATH, DT_RUNPATH or DT_RPATH of the loading chain ($ORIGIN only), then\n"
	"etc/ld-musl-ARCH.path or /lib:/usr/local/lib:/usr/lib; libc.so and friends are the loader.\n\n"
	"Options:\n  --why               also say how each object was found\n" CLI_IMAGE_OPTS_HELP;

int cmd_ldd(int argc, char **argv)
{
	enum { OPT_WHY = OPT_FIRST_CMD_OPT };
	static const struct option lo[] = {CLI_IMAGE_LONGOPTS, {"why", no_argument, NULL, OPT_WHY}, {0, 0, 0, 0}};
	struct cli_image_args a;
	cli_image_args_init(&a);
	int c, why = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == OPT_HELP) {
			fputs(help, stdout);
			return 0;
		}
		if (c == OPT_WHY) {
			why = 1;
			continue;
		}
		int r = cli_common_opt("ldd", &a, c, optarg);
		if (r)
			return r;
	}
	if (argc - optind < 2)
		return cli_usage_error("ldd", "expected IMAGE and at least one PATH");
	struct dg_image *img;
	int rc = cli_load_image(argv[optind], &a, &img);
	if (rc)
		return rc;
	struct dg_ldopts lo2 = {0};
	lo2.ld_library_path = dg_ld_library_path(&dg_image_info(img)->config.env);
	struct dg_cache *cache = cli_open_cache(&a);
	lo2.db = dg_objdb_new(dg_image_fs(img), cache);
	int several = argc - optind > 2;
	for (int i = optind + 1; i < argc; i++) {
		struct dg_error err = DG_ERROR_INIT;
		struct dg_ldset *s;
		if (dg_ld_closure(dg_image_fs(img), argv[i], &lo2, &s, &err) < 0) {
			rc = cli_fail(&err);
			continue;
		}
		if (several)
			printf("%s:\n", argv[i]);
		/* musl lists itself first, then each object in load order, itself
		 * again under each name it answers ("libc.so => /lib/ld-musl-...") */
		for (size_t k = 1; s->musl && k < s->n; k++)
			if (s->objs[k].via && !strcmp(s->objs[k].via, "interp"))
				printf("\t%s%s\n", s->objs[k].name, why ? "  [interp]" : "");
		for (size_t k = 1; k < s->n; k++) {
			const struct dg_ldobj *o = &s->objs[k];
			if (o->via && !strcmp(o->via, "interp") && s->musl)
				continue;
			if (o->via && !strcmp(o->via, "interp"))
				printf("\t%s", o->name);
			else if (o->path)
				printf("\t%s => %s", o->name, o->path);
			else {
				printf("\t%s => not found", o->name);
				rc = rc ? rc : DG_E_INPUT;
			}
			if (why)
				printf("  [%s, needed by %s]", o->via ? o->via : "missing", s->objs[o->needed_by].name);
			printf("\n");
		}
		dg_ldset_free(s);
	}
	cli_close_cache(cache, lo2.db);
	dg_objdb_free(lo2.db);
	dg_image_free(img);
	return rc;
}
