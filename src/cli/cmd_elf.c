/* dockergate elf IMAGE PATH [--json]: the ELF model of one file in the image,
 * as the analysis sees it (for checking against readelf and for debugging). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dockergate/elf.h"
#include "dockergate/golang.h"
#include "dockergate/util.h"

static const char help[] =
	"usage: dockergate elf IMAGE PATH [OPTIONS]\n\n"
	"Resolves PATH inside IMAGE and prints its ELF model: class, type, machine, interpreter,\n"
	"DT_NEEDED, SONAME, RPATH/RUNPATH, flags, init/fini arrays, dynamic symbols with versions,\n"
	"version definitions and needs, relocations by kind, build IDs, function starts (counts from\n"
	".eh_frame FDEs, the .eh_frame_hdr table and their union; eh_frame_error when .eh_frame is\n"
	"malformed), language hints and, for a Go program, its build information (.go.buildinfo:\n"
	"Go version, main package and module, dependencies, build settings) and function table\n"
	"(pclntab: layout, address, function count). Malformed files are refused with the reason (exit 4).\n\n"
	"Options:\n  --fdes              also list every FDE as \"START..END\" (fde_ranges)\n" CLI_IMAGE_OPTS_HELP;

static json_t *addrs(const uint64_t *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		char b[32];
		snprintf(b, sizeof b, "0x%llx", (unsigned long long)v[i]);
		cli_json_push(a, cli_json_str(b));
	}
	return a;
}

/* A Go program's build information (.go.buildinfo) and function table (pclntab), or null. */
static json_t *go_model(const struct dg_elf *e)
{
	struct dg_go *g = NULL;
	if (dg_go_read(e, &g) != 1 || !g)
		return json_null();
	char b[32];
	json_t *o = json_object();
	cli_json_set(o, "version", cli_json_str(g->version));
	cli_json_set(o, "path", cli_json_str(g->path));
	cli_json_set(o, "module", cli_json_str(g->mod));
	cli_json_set(o, "deps", cli_json_strv(&g->deps));
	cli_json_set(o, "settings", cli_json_strv(&g->settings));
	cli_json_set(o, "pclntab", cli_json_str(g->pcln_format));
	snprintf(b, sizeof b, "0x%llx", (unsigned long long)g->pcln_addr);
	cli_json_set(o, "pclntab_address", g->pcln_magic ? cli_json_str(b) : json_null());
	cli_json_set(o, "functions", json_integer((json_int_t)g->nfuncs));
	cli_json_set(o, "pclntab_error", cli_json_str(g->error));
	dg_go_free(g);
	return o;
}

static json_t *model(const struct dg_elf *e, int fdes)
{
	char buf[32];
	json_t *o = json_object();
	cli_json_set(o, "class", json_integer(e->bits));
	cli_json_set(o, "endian", cli_json_str(e->big_endian ? "big" : "little"));
	cli_json_set(o, "type", cli_json_str(e->is_loader ? "loader" : dg_elf_type_name(e->cls.type)));
	cli_json_set(o, "machine", cli_json_str(dg_elf_machine_name(e->machine, buf, sizeof buf)));
	snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)e->entry);
	cli_json_set(o, "entry", cli_json_str(buf));
	cli_json_set(o, "interp", cli_json_str(e->interp));
	json_t *nd = json_array();
	for (size_t i = 0; i < e->needed.n; i++)
		cli_json_push(nd, cli_json_str(e->needed.v[i]));
	cli_json_set(o, "needed", nd);
	cli_json_set(o, "soname", cli_json_str(e->soname));
	cli_json_set(o, "rpath", cli_json_str(e->rpath));
	cli_json_set(o, "runpath", cli_json_str(e->runpath));
	cli_json_set(o, "flags", json_integer((json_int_t)e->flags));
	cli_json_set(o, "flags_1", json_integer((json_int_t)e->flags_1));
	cli_json_set(o, "symbolic", json_boolean(e->symbolic));
	cli_json_set(o, "bind_now", json_boolean(e->bind_now));
	cli_json_set(o, "init", addrs(&e->init, e->init ? 1 : 0));
	cli_json_set(o, "fini", addrs(&e->fini, e->fini ? 1 : 0));
	cli_json_set(o, "init_array", addrs(e->init_array, e->ninit_array));
	cli_json_set(o, "fini_array", addrs(e->fini_array, e->nfini_array));
	cli_json_set(o, "preinit_array", addrs(e->preinit_array, e->npreinit_array));
	json_t *ds = json_array();
	for (size_t i = 0; i < e->ndynsyms; i++) {
		const struct dg_elf_sym *s = &e->dynsyms[i];
		/* a version's own definition symbol prints bare, as readelf does */
		int verdef_sym = s->version && s->shndx == 0xfff1 && !strcmp(s->name, s->version);
		char *n = s->version && !verdef_sym
				  ? dg_xasprintf("%s@%s%s", s->name, s->ver_hidden || s->ver_needed ? "" : "@", s->version)
				  : dg_xstrdup(s->name);
		cli_json_push(ds, cli_json_str(n));
		free(n);
	}
	cli_json_set(o, "dynsyms", ds);
	cli_json_set(o, "symtab_count", json_integer((json_int_t)e->nsyms));
	json_t *vd = json_array();
	for (size_t i = 0; i < e->verdefs.n; i++)
		cli_json_push(vd, cli_json_str(e->verdefs.v[i]));
	cli_json_set(o, "verdefs", vd);
	json_t *vn = json_object();
	for (size_t i = 0; i < e->nverneeds; i++) {
		json_t *a = json_array();
		for (size_t k = 0; k < e->verneeds[i].names.n; k++)
			cli_json_push(a, cli_json_str(e->verneeds[i].names.v[k]));
		cli_json_set(vn, e->verneeds[i].file, a);
	}
	cli_json_set(o, "verneeds", vn);
	static const char *kinds[] = {"other", "relative", "irelative", "glob_dat", "jump_slot", "abs"};
	json_t *rk = json_object();
	size_t cnt[6] = {0}, plt = 0;
	for (size_t i = 0; i < e->nrelocs; i++) {
		cnt[e->relocs[i].kind]++;
		plt += e->relocs[i].plt;
	}
	for (int k = 0; k < 6; k++)
		if (cnt[k])
			cli_json_set(rk, kinds[k], json_integer((json_int_t)cnt[k]));
	cli_json_set(o, "relocations", json_integer((json_int_t)e->nrelocs));
	cli_json_set(o, "plt_relocations", json_integer((json_int_t)plt));
	cli_json_set(o, "relocation_kinds", rk);
	cli_json_set(o, "build_id", e->build_id[0] ? cli_json_str(e->build_id) : json_null());
	cli_json_set(o, "go_build_id", cli_json_str(e->go_build_id));
	cli_json_set(o, "fde_starts", json_integer((json_int_t)e->nfde_starts));
	cli_json_set(o, "fdes", json_integer((json_int_t)e->nfdes));
	cli_json_set(o, "eh_frame_hdr_table", json_integer((json_int_t)e->neh_hdr_starts));
	cli_json_set(o, "fde_disagreements", json_integer((json_int_t)e->fde_disagreements));
	cli_json_set(o, "fde_indirect", json_integer((json_int_t)e->fde_indirect));
	cli_json_set(o, "eh_frame_error", cli_json_str(e->eh_frame_error));
	if (fdes) {
		json_t *fr = json_array();
		for (size_t i = 0; i < e->nfdes; i++) {
			char b[48];
			snprintf(b, sizeof b, "0x%llx..0x%llx", (unsigned long long)e->fdes[i].start,
				 (unsigned long long)(e->fdes[i].start + e->fdes[i].size));
			cli_json_push(fr, cli_json_str(b));
		}
		cli_json_set(o, "fde_ranges", fr);
	}
	json_t *h = json_array();
	if (e->is_go)
		cli_json_push(h, cli_json_str("go"));
	if (e->is_rust)
		cli_json_push(h, cli_json_str("rust"));
	cli_json_set(o, "language", h);
	cli_json_set(o, "go", go_model(e));
	return o;
}

int cmd_elf(int argc, char **argv)
{
	enum { OPT_FDES = OPT_FIRST_CMD_OPT };
	static const struct option lo[] = {CLI_IMAGE_LONGOPTS, {"fdes", no_argument, NULL, OPT_FDES}, {0, 0, 0, 0}};
	struct cli_image_args a;
	cli_image_args_init(&a);
	int c, fdes = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == OPT_HELP) {
			fputs(help, stdout);
			return 0;
		}
		if (c == OPT_FDES) {
			fdes = 1;
			continue;
		}
		int r = cli_common_opt("elf", &a, c, optarg);
		if (r)
			return r;
	}
	if (argc - optind < 2)
		return cli_usage_error("elf", "expected IMAGE and at least one PATH");
	struct dg_image *img;
	int rc = cli_load_image(argv[optind], &a, &img);
	if (rc)
		return rc;
	json_t *all = json_object();
	for (int i = optind + 1; i < argc && !rc; i++) {
		struct dg_error err = DG_ERROR_INIT;
		struct dg_node *n;
		const unsigned char *p;
		size_t len;
		struct dg_elf *e;
		if (dg_fs_resolve(dg_image_fs(img), argv[i], NULL, 0, &n, &err) < 0) {
			rc = cli_fail(&err) == 0 ? 0 : DG_E_INPUT;
			break;
		}
		if (n->type != DG_F_REG || n->inode->kind != DG_CONTENT_ELF) {
			cli_say(NULL, "error", "%s: not an ELF file", argv[i]);
			rc = DG_E_INPUT;
			break;
		}
		if (dg_fs_content(dg_image_fs(img), n, &p, &len, &err) < 0 ||
		    dg_elf_parse(p, len, &e, &err) < 0) {
			dg_err_prefix(&err, "%s", argv[i]);
			rc = cli_fail(&err);
			break;
		}
		cli_json_set(all, argv[i], model(e, fdes));
		dg_elf_free(e);
	}
	if (!rc)
		cli_print_json(all);
	else
		json_decref(all);
	dg_image_free(img);
	return rc;
}
