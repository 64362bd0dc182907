/* dockergate inspect IMAGE [--json] */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dockergate/elf.h"
#include "dockergate/elfinfo.h"
#include "dockergate/golang.h"
#include "dockergate/util.h"

static const char help[] =
	"usage: dockergate inspect IMAGE [OPTIONS]\n\n"
	"Reads IMAGE (verifying every digest), merges its layers as a container engine would, and\n"
	"shows: format, digests, platform, config (Entrypoint, Cmd, Env, WorkingDir, User), the\n"
	"layers (digest, size, compression, entries, whiteouts), and counts of merged files, ELF\n"
	"files by architecture and type, and scripts; and the Go programs with their Go version and\n"
	"module or main package (from .go.buildinfo; --json: go_programs).\n\nOptions:\n" CLI_IMAGE_OPTS_HELP;

#define NTYPES 8
struct arch_count {
	char name[32];
	unsigned long long by_type[NTYPES];
	unsigned long long total;
};

struct go_prog {
	char *path, *version, *main, *module;
};

struct elf_stats {
	struct dg_fs *fs;
	struct arch_count arch[16];
	int narch;
	unsigned long long invalid;
	struct go_prog *go; /* Go programs: their build information */
	size_t ngo;
};

/* A Go program's build information (.go.buildinfo), when N is one. */
static void go_info(struct elf_stats *s, struct dg_node *n, const unsigned char *p, size_t len)
{
	struct dg_elf *e = NULL;
	struct dg_go *g = NULL;
	if (dg_elf_parse(p, len, &e, NULL) < 0)
		return;
	if (e->is_go && dg_go_read(e, &g) == 1 && g && g->version) {
		s->go = dg_xrealloc(s->go, (s->ngo + 1) * sizeof *s->go);
		s->go[s->ngo++] = (struct go_prog){dg_node_path(n), dg_xstrdup(g->version),
						   g->path ? dg_xstrdup(g->path) : NULL, g->mod ? dg_xstrdup(g->mod) : NULL};
	}
	dg_go_free(g);
	dg_elf_free(e);
}

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
	if (c.type == DG_ELF_EXEC || c.type == DG_ELF_PIE)
		go_info(s, n, p, len);
	return 0;
}

static json_t *jstrv(const struct dg_strv *v, int present)
{
	if (!present)
		return json_null();
	return cli_json_strv(v);
}

static void print_strv(const char *label, const struct dg_strv *v, int present)
{
	printf("%-12s", label);
	if (!present) {
		printf("(none)\n");
		return;
	}
	json_t *a = jstrv(v, 1);
	char *s = cli_json_dump(a, JSON_COMPACT | JSON_ENSURE_ASCII);
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
		cli_json_set(o, "source", cli_json_str(in->source));
		cli_json_set(o, "format", cli_json_str(in->format));
		cli_json_set(o, "ref", cli_json_str(in->ref));
		cli_json_set(o, "id", cli_json_str(in->config_digest));
		cli_json_set(o, "manifest_digest", cli_json_str(in->manifest_digest));
		cli_json_set(o, "platform", in->has_config ? cli_json_str(plat) : json_null());
		json_t *refs = json_array();
		for (size_t i = 0; i < in->nrefs; i++)
			cli_json_push(refs, cli_json_str(in->refs[i]));
		cli_json_set(o, "refs", refs);
		if (in->has_config) {
			json_t *co = json_object();
			cli_json_set(co, "os", cli_json_str(cf->os));
			cli_json_set(co, "architecture", cli_json_str(cf->architecture));
			cli_json_set(co, "variant", cli_json_str(cf->variant));
			cli_json_set(co, "entrypoint", jstrv(&cf->entrypoint, cf->has_entrypoint));
			cli_json_set(co, "cmd", jstrv(&cf->cmd, cf->has_cmd));
			cli_json_set(co, "env", jstrv(&cf->env, 1));
			cli_json_set(co, "working_dir", cli_json_str(cf->working_dir));
			cli_json_set(co, "user", cli_json_str(cf->user));
			cli_json_set(o, "config", co);
		} else {
			cli_json_set(o, "config", json_null());
		}
		json_t *ls = json_array();
		for (size_t i = 0; i < in->nlayers; i++) {
			const struct dg_layer_info *l = &in->layers[i];
			json_t *lo2 = json_object();
			cli_json_set(lo2, "digest", cli_json_str(l->digest));
			cli_json_set(lo2, "diff_id", cli_json_str(l->diff_id));
			cli_json_set(lo2, "media_type", cli_json_str(l->media_type));
			cli_json_set(lo2, "path", cli_json_str(l->path));
			cli_json_set(lo2, "size", json_integer((json_int_t)l->size));
			cli_json_set(lo2, "compression", cli_json_str(dg_compression_name(l->compression)));
			cli_json_set(lo2, "expanded_size", json_integer((json_int_t)l->expanded));
			cli_json_set(lo2, "entries", json_integer((json_int_t)l->entries));
			cli_json_set(lo2, "whiteouts", json_integer((json_int_t)l->whiteouts));
			cli_json_set(lo2, "opaque_dirs", json_integer((json_int_t)l->opaque));
			cli_json_push(ls, lo2);
		}
		cli_json_set(o, "layers", ls);
		json_t *fo = json_object();
		cli_json_set(fo, "entries", json_integer((json_int_t)cnt.entries));
		cli_json_set(fo, "regular", json_integer((json_int_t)cnt.regular));
		cli_json_set(fo, "directories", json_integer((json_int_t)cnt.dirs));
		cli_json_set(fo, "symlinks", json_integer((json_int_t)cnt.symlinks));
		cli_json_set(fo, "hardlinked", json_integer((json_int_t)cnt.hardlinked));
		cli_json_set(fo, "special", json_integer((json_int_t)cnt.special));
		cli_json_set(fo, "scripts", json_integer((json_int_t)cnt.scripts));
		cli_json_set(fo, "elf", json_integer((json_int_t)cnt.elf));
		cli_json_set(fo, "elf_invalid", json_integer((json_int_t)es.invalid));
		cli_json_set(fo, "kept_bytes", json_integer((json_int_t)cnt.kept_bytes));
		json_t *ea = json_object();
		for (int i = 0; i < es.narch; i++) {
			json_t *t = json_object();
			for (int k = 1; k < NTYPES; k++)
				if (es.arch[i].by_type[k])
					cli_json_set(t, dg_elf_type_name((enum dg_elf_type)k),
							    json_integer((json_int_t)es.arch[i].by_type[k]));
			cli_json_set(ea, es.arch[i].name, t);
		}
		cli_json_set(fo, "elf_by_arch", ea);
		cli_json_set(o, "files", fo);
		json_t *go = json_array();
		for (size_t i = 0; i < es.ngo; i++) {
			json_t *g = json_object();
			cli_json_set(g, "path", cli_json_str(es.go[i].path));
			cli_json_set(g, "go_version", cli_json_str(es.go[i].version));
			cli_json_set(g, "main_package", cli_json_str(es.go[i].main));
			cli_json_set(g, "module", cli_json_str(es.go[i].module));
			cli_json_push(go, g);
		}
		cli_json_set(o, "go_programs", go);
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
		if (es.ngo)
			printf("%-12s%zu\n", "go programs", es.ngo);
		for (size_t i = 0; i < es.ngo; i++) {
			/* names from the image: control bytes and what is not ASCII as \xHH */
			struct dg_buf b = {0};
			const char *f[3] = {es.go[i].path, es.go[i].version,
					    es.go[i].module ? es.go[i].module : es.go[i].main ? es.go[i].main : ""};
			for (int k = 0; k < 3; k++) {
				dg_buf_append(&b, "  ", 2);
				dg_buf_put_escaped(&b, f[k]);
			}
			dg_buf_putc(&b, 0);
			printf("%s\n", b.data);
			dg_buf_free(&b);
		}
	}
	for (size_t i = 0; i < es.ngo; i++) {
		free(es.go[i].path);
		free(es.go[i].version);
		free(es.go[i].main);
		free(es.go[i].module);
	}
	free(es.go);
	dg_image_free(img);
	return 0;
}
