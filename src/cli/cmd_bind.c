/* dockergate bind IMAGE PATH...: where the dynamic loader would bind every
 * symbol reference of an executable and of the objects it loads (nothing runs). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dockergate/bind.h"
#include "dockergate/loader.h"

static const char help[] =
	"usage: dockergate bind IMAGE PATH... [OPTIONS]\n\n"
	"For each executable PATH, loads it as `dockergate ldd` does and binds every undefined\n"
	"dynamic symbol of every loaded object with glibc's rules: the global scope in load\n"
	"order (DT_SYMBOLIC objects first search themselves), symbol versions, weak and\n"
	"protected symbols, copy relocations. One line per reference:\n"
	"  OBJECT: SYMBOL[@VERSION] -> DEFINING-OBJECT\n"
	"with '-> not found' (or 'not found (weak)') for unresolved ones, and\n"
	"'[address: OBJECT]' when taking the symbol's address binds elsewhere (a non-PIC\n"
	"executable's canonical PLT entry). Exit status 3 when a non-weak reference is\n"
	"unresolved (or a library is missing). --json also gives, per reference, the dynsym\n"
	"indexes and the result for each relocation class, and the lookups glibc's ld.so makes\n"
	"for itself (its malloc family, from the executable).\n\n"
	"Options:\n"
	"  --unresolved        only the unresolved references\n"
	"  --all               also the defined symbols that relocations make ld.so look up\n"
	"                      (references an earlier object can interpose)\n" CLI_IMAGE_OPTS_HELP;

static const char *cls_name[DG_BIND_NCLASSES] = {"addr", "call", "copy"};

static json_t *jto(const struct dg_ldset *s, const struct dg_bindings *b, const struct dg_bind_to *t)
{
	if (t->obj == DG_BIND_NONE)
		return json_null();
	json_t *o = json_object();
	const struct dg_elf_sym *d = dg_bind_def_sym(b, t);
	cli_json_set(o, "path", cli_json_str(s->objs[t->obj].path));
	cli_json_set(o, "object", json_integer((json_int_t)t->obj));
	cli_json_set(o, "dynsym", json_integer((json_int_t)t->sym));
	cli_json_set(o, "version", cli_json_str(d ? d->version : NULL));
	cli_json_set(o, "version_hidden", json_boolean(d && d->version && d->ver_hidden));
	if (t->prot)
		cli_json_set(o, "protected", json_true());
	return o;
}

static json_t *to_json(const char *exe, const struct dg_ldset *s, const struct dg_bindings *b, int only_unres,
		       int all)
{
	json_t *top = json_object(), *objs = json_array();
	cli_json_set(top, "executable", cli_json_str(exe));
	for (size_t i = 0; i < b->n; i++) {
		const struct dg_bind_obj *bo = &b->objs[i];
		json_t *o = json_object(), *refs = json_array();
		cli_json_set(o, "name", cli_json_str(s->objs[i].name));
		cli_json_set(o, "path", cli_json_str(s->objs[i].path));
		cli_json_set(o, "via", cli_json_str(s->objs[i].via));
		cli_json_set(o, "symbolic", json_boolean(bo->symbolic));
		for (size_t k = 0; k < bo->nrefs; k++) {
			const struct dg_bind_ref *r = &bo->refs[k];
			if ((only_unres && !r->unresolved) || (!all && !r->undef))
				continue;
			json_t *j = json_object(), *cl = json_array(), *tg = json_object();
			cli_json_set(j, "symbol", cli_json_str(r->name));
			cli_json_set(j, "version", cli_json_str(r->version));
			cli_json_set(j, "dynsym", json_integer(r->sym));
			cli_json_set(j, "weak", json_boolean(r->weak));
			cli_json_set(j, "undefined", json_boolean(r->undef));
			cli_json_set(j, "unresolved", json_boolean(r->unresolved));
			for (int c = 0; c < DG_BIND_NCLASSES; c++)
				if (r->classes & (1u << c)) {
					cli_json_push(cl, cli_json_str(cls_name[c]));
					cli_json_set(tg, cls_name[c], jto(s, b, &r->to[c]));
				}
			cli_json_set(j, "relocations", cl);
			cli_json_set(j, "definition", jto(s, b, dg_bind_target(r)));
			cli_json_set(j, "by_class", tg);
			cli_json_push(refs, j);
		}
		cli_json_set(o, "references", refs);
		cli_json_push(objs, o);
	}
	cli_json_set(top, "objects", objs);
	/* glibc's ld.so looks up the malloc family itself, from the executable, once
	 * libc is loaded (elf/dl-minimal.c), and calls what it finds from then on */
	json_t *ll = json_array();
	const char *ver = b->objs[0].elf ? dg_bind_libc_base_version(b->objs[0].elf->machine, b->objs[0].elf->bits) : NULL;
	int glibc = 0;
	for (size_t i = 0; i < b->n; i++)
		if (s->objs[i].via && !strcmp(s->objs[i].via, "interp") && b->objs[i].elf && b->objs[i].elf->soname &&
		    !strncmp(b->objs[i].elf->soname, "ld-linux", 8))
			glibc = 1;
	static const char *const malloc_family[] = {"calloc", "free", "malloc", "realloc"};
	for (size_t k = 0; glibc && ver && k < sizeof malloc_family / sizeof *malloc_family; k++) {
		struct dg_bind_to t;
		dg_bind_lookup(b, 0, malloc_family[k], ver, DG_BIND_ADDR, &t);
		json_t *j = json_object();
		cli_json_set(j, "symbol", cli_json_str(malloc_family[k]));
		cli_json_set(j, "version", cli_json_str(ver));
		cli_json_set(j, "definition", jto(s, b, &t));
		cli_json_push(ll, j);
	}
	cli_json_set(top, "loader_lookups", ll);
	cli_json_set(top, "unresolved", json_integer((json_int_t)b->unresolved));
	cli_json_set(top, "unresolved_weak", json_integer((json_int_t)b->unresolved_weak));
	return top;
}

static void print_text(const struct dg_ldset *s, const struct dg_bindings *b, int only_unres, int all)
{
	for (size_t i = 0; i < b->n; i++) {
		for (uint32_t sym = 0; sym < b->objs[i].nsyms; sym++) { /* dynsym order */
			const struct dg_bind_ref *r = dg_bind_find(b, i, sym);
			if (!r || (only_unres && !r->unresolved) || (!all && !r->undef))
				continue;
			printf("%s: %s%s%s -> ", s->objs[i].path, r->name, r->version ? "@" : "", r->version ? r->version : "");
			const struct dg_bind_to *t = dg_bind_target(r);
			if (t->obj == DG_BIND_NONE)
				printf("not found%s", r->weak ? " (weak)" : "");
			else
				printf("%s%s", s->objs[t->obj].path, t->prot ? " (protected)" : "");
			const struct dg_bind_to *a = &r->to[DG_BIND_ADDR];
			if ((r->classes & (1u << DG_BIND_ADDR)) && a != t && a->obj != t->obj)
				printf("  [address: %s]", a->obj == DG_BIND_NONE ? "not found" : s->objs[a->obj].path);
			printf("\n");
		}
	}
}

int cmd_bind(int argc, char **argv)
{
	enum { OPT_UNRES = OPT_FIRST_CMD_OPT, OPT_ALL };
	static const struct option lo[] = {CLI_IMAGE_LONGOPTS, {"unresolved", no_argument, NULL, OPT_UNRES},
					   {"all", no_argument, NULL, OPT_ALL}, {0, 0, 0, 0}};
	struct cli_image_args a;
	cli_image_args_init(&a);
	int c, only_unres = 0, all = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == OPT_HELP) {
			fputs(help, stdout);
			return 0;
		}
		if (c == OPT_UNRES || c == OPT_ALL) {
			*(c == OPT_UNRES ? &only_unres : &all) = 1;
			continue;
		}
		int r = cli_common_opt("bind", &a, c, optarg);
		if (r)
			return r;
	}
	if (argc - optind < 2)
		return cli_usage_error("bind", "expected IMAGE and at least one PATH");
	struct dg_image *img;
	int rc = cli_load_image(argv[optind], &a, &img);
	if (rc)
		return rc;
	struct dg_ldopts lo2 = {0};
	lo2.ld_library_path = dg_ld_library_path(&dg_image_info(img)->config.env);
	int several = argc - optind > 2;
	json_t *all_json = a.json ? json_object() : NULL;
	for (int i = optind + 1; i < argc; i++) {
		struct dg_error err = DG_ERROR_INIT;
		struct dg_ldset *s;
		struct dg_bindings *b;
		if (dg_ld_closure(dg_image_fs(img), argv[i], &lo2, &s, &err) < 0) {
			rc = cli_fail(&err);
			continue;
		}
		if (dg_bind(dg_image_fs(img), s, &b, &err) < 0) {
			rc = cli_fail(&err);
			dg_ldset_free(s);
			continue;
		}
		for (size_t k = 0; k < s->n; k++)
			if (!s->objs[k].node && !rc) {
				cli_say(NULL, NULL, "%s: %s: not found", argv[i], s->objs[k].name);
				rc = DG_E_INPUT;
			}
		if (b->unresolved && !rc)
			rc = DG_E_INPUT;
		if (all_json)
			cli_json_set(all_json, argv[i], to_json(argv[i], s, b, only_unres, all));
		else {
			if (several)
				printf("%s:\n", argv[i]);
			print_text(s, b, only_unres, all);
		}
		dg_bindings_free(b);
		dg_ldset_free(s);
	}
	if (all_json) {
		cli_print_json(all_json);
	}
	dg_image_free(img);
	return rc;
}
