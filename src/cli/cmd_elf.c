/* dockergate elf IMAGE PATH [--json]: the ELF model of one file in the image,
 * as the analysis sees it (for checking against readelf and for debugging). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dockergate/elf.h"

static const char help[] =
	"usage: dockergate elf IMAGE PATH [OPTIONS]\n\n"
	"Resolves PATH inside IMAGE and prints its ELF model: class, type, machine, interpreter,\n"
	"DT_NEEDED, SONAME, RPATH/RUNPATH, flags, init/fini arrays, dynamic symbols with versions,\n"
	"version definitions and needs, relocations by kind, build IDs, function starts (counts from\n"
	".eh_frame FDEs, the .eh_frame_hdr table and their union; eh_frame_error when .eh_frame is\n"
	"malformed) and language hints. Malformed files are refused with the reason (exit 4).\n\n"
	"Options:\n  --fdes              also list every FDE as \"START..END\" (fde_ranges)\n" CLI_IMAGE_OPTS_HELP;

static json_t *jstr(const char *s) { return s ? json_string(s) : json_null(); }

static json_t *addrs(const uint64_t *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		char b[32];
		snprintf(b, sizeof b, "0x%llx", (unsigned long long)v[i]);
		json_array_append_new(a, json_string(b));
	}
	return a;
}

static json_t *model(const struct dg_elf *e, int fdes)
{
	char buf[32];
	json_t *o = json_object();
	json_object_set_new(o, "class", json_integer(e->bits));
	json_object_set_new(o, "endian", json_string(e->big_endian ? "big" : "little"));
	json_object_set_new(o, "type", json_string(e->is_loader ? "loader" : dg_elf_type_name(e->cls.type)));
	json_object_set_new(o, "machine", json_string(dg_elf_machine_name(e->machine, buf, sizeof buf)));
	snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)e->entry);
	json_object_set_new(o, "entry", json_string(buf));
	json_object_set_new(o, "interp", jstr(e->interp));
	json_t *nd = json_array();
	for (size_t i = 0; i < e->needed.n; i++)
		json_array_append_new(nd, json_string(e->needed.v[i]));
	json_object_set_new(o, "needed", nd);
	json_object_set_new(o, "soname", jstr(e->soname));
	json_object_set_new(o, "rpath", jstr(e->rpath));
	json_object_set_new(o, "runpath", jstr(e->runpath));
	json_object_set_new(o, "flags", json_integer((json_int_t)e->flags));
	json_object_set_new(o, "flags_1", json_integer((json_int_t)e->flags_1));
	json_object_set_new(o, "symbolic", json_boolean(e->symbolic));
	json_object_set_new(o, "bind_now", json_boolean(e->bind_now));
	json_object_set_new(o, "init", addrs(&e->init, e->init ? 1 : 0));
	json_object_set_new(o, "fini", addrs(&e->fini, e->fini ? 1 : 0));
	json_object_set_new(o, "init_array", addrs(e->init_array, e->ninit_array));
	json_object_set_new(o, "fini_array", addrs(e->fini_array, e->nfini_array));
	json_object_set_new(o, "preinit_array", addrs(e->preinit_array, e->npreinit_array));
	json_t *ds = json_array();
	for (size_t i = 0; i < e->ndynsyms; i++) {
		const struct dg_elf_sym *s = &e->dynsyms[i];
		/* a version's own definition symbol prints bare, as readelf does */
		int verdef_sym = s->version && s->shndx == 0xfff1 && !strcmp(s->name, s->version);
		char *n = s->version && !verdef_sym ? NULL : strdup(s->name);
		if (s->version && !verdef_sym && asprintf(&n, "%s@%s%s", s->name, s->ver_hidden || s->ver_needed ? "" : "@",
					   s->version) < 0)
			n = NULL;
		json_array_append_new(ds, json_string(n ? n : ""));
		free(n);
	}
	json_object_set_new(o, "dynsyms", ds);
	json_object_set_new(o, "symtab_count", json_integer((json_int_t)e->nsyms));
	json_t *vd = json_array();
	for (size_t i = 0; i < e->verdefs.n; i++)
		json_array_append_new(vd, json_string(e->verdefs.v[i]));
	json_object_set_new(o, "verdefs", vd);
	json_t *vn = json_object();
	for (size_t i = 0; i < e->nverneeds; i++) {
		json_t *a = json_array();
		for (size_t k = 0; k < e->verneeds[i].names.n; k++)
			json_array_append_new(a, json_string(e->verneeds[i].names.v[k]));
		json_object_set_new(vn, e->verneeds[i].file, a);
	}
	json_object_set_new(o, "verneeds", vn);
	static const char *kinds[] = {"other", "relative", "irelative", "glob_dat", "jump_slot", "abs"};
	json_t *rk = json_object();
	size_t cnt[6] = {0}, plt = 0;
	for (size_t i = 0; i < e->nrelocs; i++) {
		cnt[e->relocs[i].kind]++;
		plt += e->relocs[i].plt;
	}
	for (int k = 0; k < 6; k++)
		if (cnt[k])
			json_object_set_new(rk, kinds[k], json_integer((json_int_t)cnt[k]));
	json_object_set_new(o, "relocations", json_integer((json_int_t)e->nrelocs));
	json_object_set_new(o, "plt_relocations", json_integer((json_int_t)plt));
	json_object_set_new(o, "relocation_kinds", rk);
	json_object_set_new(o, "build_id", e->build_id[0] ? json_string(e->build_id) : json_null());
	json_object_set_new(o, "go_build_id", jstr(e->go_build_id));
	json_object_set_new(o, "fde_starts", json_integer((json_int_t)e->nfde_starts));
	json_object_set_new(o, "fdes", json_integer((json_int_t)e->nfdes));
	json_object_set_new(o, "eh_frame_hdr_table", json_integer((json_int_t)e->neh_hdr_starts));
	json_object_set_new(o, "fde_disagreements", json_integer((json_int_t)e->fde_disagreements));
	json_object_set_new(o, "fde_indirect", json_integer((json_int_t)e->fde_indirect));
	json_object_set_new(o, "eh_frame_error", jstr(e->eh_frame_error));
	if (fdes) {
		json_t *fr = json_array();
		for (size_t i = 0; i < e->nfdes; i++) {
			char b[48];
			snprintf(b, sizeof b, "0x%llx..0x%llx", (unsigned long long)e->fdes[i].start,
				 (unsigned long long)(e->fdes[i].start + e->fdes[i].size));
			json_array_append_new(fr, json_string(b));
		}
		json_object_set_new(o, "fde_ranges", fr);
	}
	json_t *h = json_array();
	if (e->is_go)
		json_array_append_new(h, json_string("go"));
	if (e->is_rust)
		json_array_append_new(h, json_string("rust"));
	json_object_set_new(o, "language", h);
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
		json_object_set_new(all, argv[i], model(e, fdes));
		dg_elf_free(e);
	}
	if (!rc)
		cli_print_json(all);
	else
		json_decref(all);
	dg_image_free(img);
	return rc;
}
