/* dg-fuzz: one libFuzzer target for every parser of dockergate that takes bytes from an
 * image, the analysis cache or the user. The first byte of an input picks the parser
 * (modulo the count below); the rest is that parser's input. With DG_FUZZ_TARGET=NAME in
 * the environment the parser is fixed and the whole input is its input (how `make fuzz`
 * gives each parser its own run and corpus).
 *
 *   elf      dg_elf_parse, then what is built on a parsed file: the loader's view
 *            (dyninfo), Go's function table, the per-function summary and its record
 *   elfinfo  dg_elf_classify (the first look at a file in an image)
 *   fnsum    a per-function summary record of the cache (dg_fsum_decode), re-encoded
 *   reach    a program's reachability record of the cache (dg_reach_decode)
 *   dyninfo  a loader-view record of the cache (dg_dyninfo_decode)
 *   sh       the shell parser, POSIX sh and bash dialects
 *   trace    a trace file (dg_trace_parse)
 *   profile  a seccomp profile (dg_profile_load), compiled with libseccomp when it loads
 *   layer    a layer: compression sniffing, decompression, tar into the merged filesystem
 *   image    an image archive (docker-archive / oci-archive tar: manifest, index,
 *            config, layers), opened and loaded as `dockergate` does
 *
 * Built by `make fuzz-build` (clang, -fsanitize=fuzzer,address,undefined); never part
 * of build/dockergate. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/ser.h"
#include "dockergate/dyninfo.h"
#include "dockergate/elf.h"
#include "dockergate/elfinfo.h"
#include "dockergate/fnsum.h"
#include "dockergate/fs.h"
#include "dockergate/golang.h"
#include "dockergate/image.h"
#include "dockergate/profile.h"
#include "dockergate/reach.h"
#include "dockergate/trace.h"
#include "dockergate/util.h"
#include "image/blobstore.h"
#include "image/layer.h"
#include "image/stream.h"
#include "scope/shparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* image.c gives the merged filesystem its store of kept file contents this way (fs.c) */
void dg_fs_set_blobs(struct dg_fs *fs, struct dg_blobstore *bs);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A failure the user can cause must say why, in one line: a message, no newline. */
static int check_err(int rc, const struct dg_error *e)
{
	if (rc < 0 && (!e->msg[0] || strchr(e->msg, '\n') || e->status == DG_OK)) {
		fprintf(stderr, "dg-fuzz: a failure without a one-line message (status %d): '%s'\n", e->status,
			e->msg);
		abort();
	}
	return rc;
}
/* CALL's last argument is &err (a struct dg_error in scope), reset first */
#define TRY(call) (err = (struct dg_error)DG_ERROR_INIT, check_err((call), &err))

static void fz_elf(const uint8_t *p, size_t n)
{
	struct dg_error err;
	struct dg_elf *e = NULL;
	if (TRY(dg_elf_parse(p, n, &e, &err)) < 0)
		return;
	struct dg_dyninfo *d = dg_dyninfo_from_elf(e);
	if (d) {
		unsigned char *enc = NULL;
		size_t len = 0;
		dg_dyninfo_encode(d, &enc, &len);
		struct dg_dyninfo *back = NULL;
		if (TRY(dg_dyninfo_decode(enc, len, &back, &err)) < 0)
			abort(); /* what the encoder writes, the decoder must read */
		dg_dyninfo_free(back);
		free(enc);
		dg_dyninfo_free(d);
	}
	struct dg_go *g = NULL;
	if (dg_go_read(e, &g) == 1 && g)
		for (size_t i = 0; i < g->nfuncs; i++)
			(void)strlen(dg_go_func_name(g, i));
	dg_go_free(g);
	struct dg_fsum *s = dg_fsum_build(e);
	if (s) {
		unsigned char *enc = NULL;
		size_t len = 0;
		dg_fsum_encode(s, &enc, &len);
		struct dg_fsum *back = NULL;
		if (TRY(dg_fsum_decode(enc, len, &back, &err)) < 0)
			abort();
		dg_fsum_free(back);
		free(enc);
		dg_fsum_free(s);
	}
	dg_elf_free(e);
}

static void fz_elfinfo(const uint8_t *p, size_t n)
{
	struct dg_error err;
	struct dg_elf_class c;
	TRY(dg_elf_classify(p, n, &c, &err));
}

static void fz_fnsum(const uint8_t *p, size_t n)
{
	struct dg_error err;
	struct dg_fsum *s = NULL;
	if (TRY(dg_fsum_decode(p, n, &s, &err)) < 0)
		return;
	unsigned char *enc = NULL;
	size_t len = 0;
	dg_fsum_encode(s, &enc, &len);
	struct dg_fsum *back = NULL;
	if (TRY(dg_fsum_decode(enc, len, &back, &err)) < 0)
		abort();
	(void)dg_fsum_fn_at(back, 0x1000);
	dg_fsum_free(back);
	free(enc);
	dg_fsum_free(s);
}

static void fz_reach(const uint8_t *p, size_t n)
{
	struct dg_error err;
	/* the decoder checks the object count against the load set's; take the record's own */
	struct dg_de d = {.p = p, .n = n};
	for (size_t i = 0; i < 2 * (DG_NSYSCALLS / 8); i++)
		(void)dg_de_u8(&d);
	(void)dg_de_u8(&d);
	(void)dg_de_uv(&d);
	(void)dg_de_uv(&d);
	uint64_t nobjs = dg_de_uv(&d);
	if (d.bad || nobjs > 4096)
		return;
	struct dg_reach *r = NULL;
	struct dg_strv problems = {0};
	if (TRY(dg_reach_decode(p, n, (size_t)nobjs, &r, &problems, &err)) == 0) {
		unsigned char *enc = NULL;
		size_t len = 0;
		dg_reach_encode(r, &problems, &enc, &len);
		struct dg_reach *back = NULL;
		struct dg_strv p2 = {0};
		if (TRY(dg_reach_decode(enc, len, (size_t)nobjs, &back, &p2, &err)) < 0)
			abort();
		dg_reach_free(back);
		dg_strv_free(&p2);
		free(enc);
		dg_reach_free(r);
	}
	dg_strv_free(&problems);
}

static void fz_dyninfo(const uint8_t *p, size_t n)
{
	struct dg_error err;
	struct dg_dyninfo *d = NULL;
	if (TRY(dg_dyninfo_decode(p, n, &d, &err)) == 0)
		dg_dyninfo_free(d);
}

static void fz_sh(const uint8_t *p, size_t n)
{
	for (int dialect = DG_SH_POSIX; dialect <= DG_SH_BASH; dialect++) {
		struct dg_sh_script s;
		struct dg_error err = DG_ERROR_INIT;
		if (dg_sh_parse((const char *)p, n, (enum dg_sh_dialect)dialect, &s, &err) < 0)
			abort(); /* only for bad arguments */
		dg_sh_script_free(&s);
	}
}

static void fz_trace(const uint8_t *p, size_t n)
{
	struct dg_error err;
	struct dg_trace *t = NULL;
	if (TRY(dg_trace_parse((const char *)p, n, "fuzz", &t, &err)) == 0)
		dg_trace_free(t);
}

static void fz_profile(const uint8_t *p, size_t n)
{
	struct dg_error err;
	struct dg_profile prof;
	struct dg_strv warn = {0};
	dg_profile_init(&prof);
	if (TRY(dg_profile_load((const char *)p, n, "fuzz", &prof, &warn, &err)) == 0) {
		void *ctx = NULL;
		if (TRY(dg_profile_compile(&prof, &ctx, &err)) == 0)
			dg_profile_ctx_free(ctx);
	}
	dg_profile_free(&prof);
	dg_strv_free(&warn);
}

/* the bytes as a file descriptor (memfd: no file left behind) */
static int as_fd(const uint8_t *p, size_t n)
{
	int fd = memfd_create("dg-fuzz", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	size_t off = 0;
	while (off < n) {
		ssize_t w = write(fd, p + off, n - off);
		if (w <= 0)
			abort();
		off += (size_t)w;
	}
	return fd;
}

static int count_node(struct dg_node *node, void *ud)
{
	(void)node;
	++*(size_t *)ud;
	return 0;
}

static void small_limits(struct dg_limits *l)
{
	dg_limits_default(l);
	l->max_expanded_bytes = 64 << 20; /* a decompression bomb stops here, not at 64 GiB */
	l->max_stored_total = 64 << 20;
	l->max_entries = 100000;
}

static void fz_layer(const uint8_t *p, size_t n)
{
	struct dg_error err;
	struct dg_limits l;
	small_limits(&l);
	struct dg_fs *fs = dg_fs_new(&l);
	dg_fs_set_blobs(fs, dg_blobstore_new(NULL, l.max_stored_file, l.max_stored_total));
	struct dg_stream *raw = dg_stream_fd(as_fd(p, n), 1, 0, UINT64_MAX);
	struct dg_stream *tar = NULL;
	enum dg_compression c;
	if (raw && TRY(dg_stream_decompress(raw, &tar, &c, &err)) == 0) {
		uint64_t used = 0;
		struct dg_layer_stats st = {0};
		if (TRY(dg_layer_apply(fs, tar, 1, &l, &used, &st, &err)) == 0) {
			size_t k = 0;
			(void)dg_fs_walk(fs, count_node, &k);
			struct dg_node *node = NULL;
			struct dg_error e = DG_ERROR_INIT;
			if (dg_fs_resolve(fs, "/bin/sh", NULL, 0, &node, &e) == 0 && node) {
				char *path = dg_node_path(node);
				free(path);
			}
		}
		dg_stream_close(tar);
	}
	dg_fs_free(fs);
}

static void fz_image(const uint8_t *p, size_t n)
{
	struct dg_error err;
	int fd = as_fd(p, n);
	char spec[64];
	snprintf(spec, sizeof spec, "/proc/self/fd/%d", fd);
	struct dg_image_opts o;
	dg_image_opts_default(&o);
	small_limits(&o.limits);
	o.platform = "linux/amd64";
	struct dg_image *img = NULL;
	if (TRY(dg_image_open(spec, &o, &img, &err)) == 0)
		TRY(dg_image_load(img, &err));
	dg_image_free(img);
	close(fd);
}

static const struct {
	const char *name;
	void (*fn)(const uint8_t *, size_t);
} targets[] = {
	{"elf", fz_elf},     {"elfinfo", fz_elfinfo}, {"fnsum", fz_fnsum}, {"reach", fz_reach},
	{"dyninfo", fz_dyninfo}, {"sh", fz_sh},       {"trace", fz_trace}, {"profile", fz_profile},
	{"layer", fz_layer}, {"image", fz_image},
};
#define NTARGETS (sizeof targets / sizeof *targets)
static int fixed = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *t = getenv("DG_FUZZ_TARGET");
	if (!t || !*t)
		return 0;
	for (size_t i = 0; i < NTARGETS; i++)
		if (!strcmp(t, targets[i].name))
			fixed = (int)i;
	if (fixed < 0) {
		fprintf(stderr, "dg-fuzz: DG_FUZZ_TARGET: no parser named '%s'; one of:", t);
		for (size_t i = 0; i < NTARGETS; i++)
			fprintf(stderr, " %s", targets[i].name);
		fprintf(stderr, "\n");
		exit(2);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fixed >= 0) {
		targets[fixed].fn(data, size);
		return 0;
	}
	if (size < 1)
		return 0;
	targets[data[0] % NTARGETS].fn(data + 1, size - 1);
	return 0;
}
