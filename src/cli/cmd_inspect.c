/* dockergate inspect IMAGE [--json] */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dockergate/elfinfo.h"

static const char help[] =
	"usage: dockergate inspect IMAGE [OPTIONS]\n\n"
	"Reads IMAGE (verifying every digest), merges its layers as a container engine would, and\n"
	"shows: format, digests, platform, config (Entrypoint, Cmd, Env, WorkingDir, User), the\n"
	"layers (digest, size, compression, entries, whiteouts), and counts of merged files, ELF\n"
	"files by architecture and type, and scripts.\n\nOptions:\n" CLI_IMAGE_OPTS_HELP;

#define NTYPES 8
struct arch_count {
	char name[32];
	unsigned long long by_type[NTYPES];
	unsigned long long total;
};

struct elf_stats {
	struct dg_fs *fs;
	struct arch_count arch[16];
	int narch;
	unsigned long long invalid;
};

static int elf_cb(struct dg_node *n, void *ud)
{
	struct elf_stats *s = ud;
	if (n->type != DG_F_REG || n->inode->kind != DG_CONTENT_ELF)
		return 0;
	const unsigned char *p;
	size_t len;
	struct dg_error err = DG_ERROR_INIT;
	struct dg_elf_class c;
	if (dg_fs_content(s->fs, n, &p, &len, &err) < 0 || dg_elf_classify(p, len, &c, &err) < 0) {
		s->invalid++;
		return 0;
	}
	char buf[32];
	const char *an = dg_elf_machine_name(c.machine, buf, sizeof buf);
	char name[32];
	snprintf(name, sizeof name, "%s%s", an, (c.machine == 62 && c.bits == 32) ? "-x32" : "");
	int i;
	for (i = 0; i < s->narch; i++)
		if (!strcmp(s->arch[i].name, name))
			break;
	if (i == s->narch) {
		if (s->narch == 16)
			i = 15;
		else {
			snprintf(s->arch[s->narch].name, sizeof s->arch[0].name, "%s", name);
			s->narch++;
		}
	}
	s->arch[i].by_type[c.type]++;
	s->arch[i].total++;
	return 0;
}

static json_t *jstrv(const struct dg_strv *v, int present)
{
	if (!present)
		return json_null();
	json_t *a = json_array();
	for (size_t i = 0; i < v->n; i++)
		json_array_append_new(a, json_string(v->v[i]));
	return a;
}

static json_t *jstr_or_null(const char *s) { return s ? json_string(s) : json_null(); }

static void print_strv(const char *label, const struct dg_strv *v, int present)
{
	printf("%-12s", label);
	if (!present) {
		printf("(none)\n");
		return;
	}
	json_t *a = jstrv(v, 1);
	char *s = json_dumps(a, JSON_COMPACT | JSON_ENSURE_ASCII);
	printf("%s\n", s);
	free(s);
	json_decref(a);
}

static void human(char *buf, size_t n, unsigned long long v)
{
	const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double d = (double)v;
	int i = 0;
	while (d >= 1024 && i < 4) {
		d /= 1024;
		i++;
	}
	snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", d, u[i]);
}

int cmd_inspect(int argc, char **argv)
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
		int r = cli_common_opt("inspect", &a, c, optarg);
		if (r)
			return r;
	}
	if (optind != argc - 1)
		return cli_usage_error("inspect", "expected exactly one IMAGE");
	struct dg_image *img;
	int rc = cli_load_image(argv[optind], &a, &img);
	if (rc)
		return rc;
	const struct dg_image_info *in = dg_image_info(img);
	struct dg_fs *fs = dg_image_fs(img);
	struct dg_fs_counts cnt;
	dg_fs_count(fs, &cnt);
	struct elf_stats es = {.fs = fs};
	dg_fs_walk(fs, elf_cb, &es);
	const struct dg_image_config *cf = &in->config;
	char plat[160] = "unknown";
	if (in->has_config)
		snprintf(plat, sizeof plat, "%s/%s%s%s", cf->os ? cf->os : "?",
			 cf->architecture ? cf->architecture : "?", cf->variant ? "/" : "",
			 cf->variant ? cf->variant : "");
	if (a.json) {
		json_t *o = json_object();
		json_object_set_new(o, "source", json_string(in->source));
		json_object_set_new(o, "format", json_string(in->format));
		json_object_set_new(o, "ref", jstr_or_null(in->ref));
		json_object_set_new(o, "id", jstr_or_null(in->config_digest));
		json_object_set_new(o, "manifest_digest", jstr_or_null(in->manifest_digest));
		json_object_set_new(o, "platform", in->has_config ? json_string(plat) : json_null());
		json_t *refs = json_array();
		for (size_t i = 0; i < in->nrefs; i++)
			json_array_append_new(refs, json_string(in->refs[i]));
		json_object_set_new(o, "refs", refs);
		if (in->has_config) {
			json_t *co = json_object();
			json_object_set_new(co, "os", jstr_or_null(cf->os));
			json_object_set_new(co, "architecture", jstr_or_null(cf->architecture));
			json_object_set_new(co, "variant", jstr_or_null(cf->variant));
			json_object_set_new(co, "entrypoint", jstrv(&cf->entrypoint, cf->has_entrypoint));
			json_object_set_new(co, "cmd", jstrv(&cf->cmd, cf->has_cmd));
			json_object_set_new(co, "env", jstrv(&cf->env, 1));
			json_object_set_new(co, "working_dir", jstr_or_null(cf->working_dir));
			json_object_set_new(co, "user", jstr_or_null(cf->user));
			json_object_set_new(o, "config", co);
		} else {
			json_object_set_new(o, "config", json_null());
		}
		json_t *ls = json_array();
		for (size_t i = 0; i < in->nlayers; i++) {
			const struct dg_layer_info *l = &in->layers[i];
			json_t *lo2 = json_object();
			json_object_set_new(lo2, "digest", jstr_or_null(l->digest));
			json_object_set_new(lo2, "diff_id", jstr_or_null(l->diff_id));
			json_object_set_new(lo2, "media_type", jstr_or_null(l->media_type));
			json_object_set_new(lo2, "path", jstr_or_null(l->path));
			json_object_set_new(lo2, "size", json_integer((json_int_t)l->size));
			json_object_set_new(lo2, "compression", json_string(dg_compression_name(l->compression)));
			json_object_set_new(lo2, "expanded_size", json_integer((json_int_t)l->expanded));
			json_object_set_new(lo2, "entries", json_integer((json_int_t)l->entries));
			json_object_set_new(lo2, "whiteouts", json_integer((json_int_t)l->whiteouts));
			json_object_set_new(lo2, "opaque_dirs", json_integer((json_int_t)l->opaque));
			json_array_append_new(ls, lo2);
		}
		json_object_set_new(o, "layers", ls);
		json_t *fo = json_object();
		json_object_set_new(fo, "entries", json_integer((json_int_t)cnt.entries));
		json_object_set_new(fo, "regular", json_integer((json_int_t)cnt.regular));
		json_object_set_new(fo, "directories", json_integer((json_int_t)cnt.dirs));
		json_object_set_new(fo, "symlinks", json_integer((json_int_t)cnt.symlinks));
		json_object_set_new(fo, "hardlinked", json_integer((json_int_t)cnt.hardlinked));
		json_object_set_new(fo, "special", json_integer((json_int_t)cnt.special));
		json_object_set_new(fo, "scripts", json_integer((json_int_t)cnt.scripts));
		json_object_set_new(fo, "elf", json_integer((json_int_t)cnt.elf));
		json_object_set_new(fo, "elf_invalid", json_integer((json_int_t)es.invalid));
		json_object_set_new(fo, "kept_bytes", json_integer((json_int_t)cnt.kept_bytes));
		json_t *ea = json_object();
		for (int i = 0; i < es.narch; i++) {
			json_t *t = json_object();
			for (int k = 1; k < NTYPES; k++)
				if (es.arch[i].by_type[k])
					json_object_set_new(t, dg_elf_type_name((enum dg_elf_type)k),
							    json_integer((json_int_t)es.arch[i].by_type[k]));
			json_object_set_new(ea, es.arch[i].name, t);
		}
		json_object_set_new(fo, "elf_by_arch", ea);
		json_object_set_new(o, "files", fo);
		cli_print_json(o);
	} else {
		printf("%-12s%s\n", "image", in->source);
		printf("%-12s%s\n", "format", in->format);
		printf("%-12s%s\n", "ref", in->ref ? in->ref : "(none)");
		printf("%-12s%s\n", "id", in->config_digest ? in->config_digest : "(none)");
		if (in->manifest_digest)
			printf("%-12s%s\n", "manifest", in->manifest_digest);
		printf("%-12s%s\n", "platform", plat);
		if (in->has_config) {
			print_strv("entrypoint", &cf->entrypoint, cf->has_entrypoint);
			print_strv("cmd", &cf->cmd, cf->has_cmd);
			for (size_t i = 0; i < cf->env.n; i++)
				printf("%-12s%s\n", i ? "" : "env", cf->env.v[i]);
			printf("%-12s%s\n", "workdir", cf->working_dir && *cf->working_dir ? cf->working_dir : "/");
			printf("%-12s%s\n", "user", cf->user && *cf->user ? cf->user : "(root)");
		} else {
			printf("%-12s%s\n", "config", "(none: a root filesystem; entrypoint unknown)");
		}
		printf("%-12s%zu\n", "layers", in->nlayers);
		for (size_t i = 0; i < in->nlayers; i++) {
			const struct dg_layer_info *l = &in->layers[i];
			char s1[32], s2[32];
			human(s1, sizeof s1, l->size);
			human(s2, sizeof s2, l->expanded);
			printf("  %2zu  %.19s  %s %s -> %s, %llu entries, %llu whiteouts, %llu opaque\n", i + 1,
			       l->digest ? l->digest : l->diff_id, s1, dg_compression_name(l->compression), s2,
			       (unsigned long long)l->entries, (unsigned long long)l->whiteouts,
			       (unsigned long long)l->opaque);
		}
		printf("%-12s%llu entries: %llu regular (%llu hardlinked), %llu directories, %llu symlinks, %llu special\n",
		       "files", (unsigned long long)cnt.entries, (unsigned long long)cnt.regular,
		       (unsigned long long)cnt.hardlinked, (unsigned long long)cnt.dirs,
		       (unsigned long long)cnt.symlinks, (unsigned long long)cnt.special);
		printf("%-12s%llu", "elf", (unsigned long long)cnt.elf);
		if (es.invalid)
			printf(" (%llu malformed)", es.invalid);
		printf("\n");
		for (int i = 0; i < es.narch; i++) {
			printf("  %-10s", es.arch[i].name);
			for (int k = 1; k < NTYPES; k++)
				if (es.arch[i].by_type[k])
					printf(" %s %llu", dg_elf_type_name((enum dg_elf_type)k), es.arch[i].by_type[k]);
			printf("\n");
		}
		printf("%-12s%llu\n", "scripts", (unsigned long long)cnt.scripts);
	}
	dg_image_free(img);
	return 0;
}
