/* dg-cachetest fill|verify: deterministic entries in an analysis cache, for
 * tests/e2e/test_cache.sh (concurrent writers, kill -9 mid-write, damaged files).
 * Built by the Makefile (BUILD/tests-bin/dg-cachetest) against a copy of cache.c
 * compiled with -DDG_CACHE_TEST_HOOKS, whose row hook lets --die-in-batch kill the
 * process inside a write transaction; the dockergate binary has no such hook.
 *   fill   --count N --seed S [--cache PATH] [--kind K] [--kind-version V] [--die-in-batch B:R]
 *          put N entries (batched as the library batches); with --die-in-batch, SIGKILL
 *          itself inside write transaction B after its row R; prints "filled N"
 *   verify --count N --seed S [--cache PATH] [--kind K] [--kind-version V] [--all]
 *          read them back and check every value; prints "hits H misses M wrong W errors E
 *          prefix yes|no"; exit 1 on a wrong value or an error (or a miss with --all)
 * Both open the cache as the analysing commands do (src/cli/common.c cli_open_cache):
 * one warning line and "no cache", exit 0, when it cannot be used. Kind "selftest",
 * version 1 unless given. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache_test.h"
#include "cli.h"
#include "dockergate/cache.h"
#include "dockergate/util.h"

struct opts {
	const char *path, *seed, *kind;
	uint64_t count;
	uint32_t version;
	uint64_t die_batch, die_row;
	bool all;
};

static uint64_t die_batch, die_row;

static void die_hook(uint64_t batch, uint64_t row)
{
	if (batch == die_batch && row == die_row)
		raise(SIGKILL);
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	errno = 0;
	char *end;
	if (!*s || *s == '-' || *s == '+')
		return -1;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static void st_key(const struct opts *o, uint64_t i, unsigned char sha[32])
{
	char *s = dg_xasprintf("dg-selftest:%s:%llu", o->seed, (unsigned long long)i);
	struct dg_sha256 h;
	dg_sha256_init(&h);
	dg_sha256_update(&h, s, strlen(s));
	dg_sha256_final(&h, sha);
	free(s);
}

/* 1..4096 bytes derived from the key by SHA-256 in counter mode. */
static size_t st_value(const unsigned char key[32], unsigned char *buf)
{
	size_t n = 1 + (((size_t)key[0] << 8 | key[1]) & 4095);
	for (size_t off = 0, ctr = 0; off < n; off += 32, ctr++) {
		unsigned char blk[32], c8[8];
		for (int j = 0; j < 8; j++)
			c8[j] = (unsigned char)(ctr >> (8 * j));
		struct dg_sha256 h;
		dg_sha256_init(&h);
		dg_sha256_update(&h, key, 32);
		dg_sha256_update(&h, c8, 8);
		dg_sha256_final(&h, blk);
		memcpy(buf + off, blk, n - off < 32 ? n - off : 32);
	}
	return n;
}

static int fill(struct dg_cache *c, const struct opts *o)
{
	struct dg_error err = DG_ERROR_INIT;
	unsigned char sha[32], buf[4096];
	if (o->die_batch) {
		die_batch = o->die_batch;
		die_row = o->die_row;
		dg_cache_test_row_hook = die_hook;
	}
	for (uint64_t i = 0; i < o->count; i++) {
		st_key(o, i, sha);
		size_t n = st_value(sha, buf);
		if (dg_cache_put(c, sha, o->kind, o->version, buf, n, &err) < 0)
			return cli_fail(&err);
	}
	if (dg_cache_flush(c, &err) < 0)
		return cli_fail(&err);
	printf("filled %llu\n", (unsigned long long)o->count);
	return 0;
}

static int verify(struct dg_cache *c, const struct opts *o)
{
	unsigned char sha[32], buf[4096];
	uint64_t hits = 0, misses = 0, wrong = 0, errors = 0;
	bool prefix = true;
	for (uint64_t i = 0; i < o->count; i++) {
		struct dg_error err = DG_ERROR_INIT;
		void *d;
		size_t len;
		st_key(o, i, sha);
		size_t n = st_value(sha, buf);
		int r = dg_cache_get(c, sha, o->kind, o->version, &d, &len, &err);
		if (r < 0) {
			cli_say(NULL, NULL, "entry %llu: %s", (unsigned long long)i, err.msg);
			errors++;
		} else if (r == 0) {
			misses++;
		} else {
			if (misses)
				prefix = false;
			if (len == n && !memcmp(d, buf, n))
				hits++;
			else
				wrong++;
			free(d);
		}
	}
	printf("hits %llu misses %llu wrong %llu errors %llu prefix %s\n", (unsigned long long)hits,
	       (unsigned long long)misses, (unsigned long long)wrong, (unsigned long long)errors,
	       prefix ? "yes" : "no");
	return (wrong || errors || (o->all && misses)) ? 1 : 0;
}

static int usage(const char *msg)
{
	fprintf(stderr, "dg-cachetest: %s\nusage: dg-cachetest fill|verify --count N --seed S [--cache PATH] [--kind K] "
		"[--kind-version V] [--die-in-batch B:R] [--all]\n", msg);
	return DG_E_USAGE;
}

int main(int argc, char **argv)
{
	enum { T_CACHE = 1, T_COUNT, T_SEED, T_KIND, T_KVERSION, T_ALL, T_DIE };
	static const struct option lo[] = {
		{"cache", required_argument, NULL, T_CACHE},
		{"count", required_argument, NULL, T_COUNT},
		{"seed", required_argument, NULL, T_SEED},
		{"kind", required_argument, NULL, T_KIND},
		{"kind-version", required_argument, NULL, T_KVERSION},
		{"all", no_argument, NULL, T_ALL},
		{"die-in-batch", required_argument, NULL, T_DIE},
		{0, 0, 0, 0},
	};
	struct opts o = {.kind = "selftest", .version = 1, .seed = "0"};
	bool have_count = false;
	int c;
	uint64_t v;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case T_CACHE:
			if (!*optarg)
				return usage("--cache needs a path");
			o.path = optarg;
			break;
		case T_COUNT:
			if (parse_u64(optarg, UINT64_MAX, &o.count) < 0)
				return usage("invalid value for --count");
			have_count = true;
			break;
		case T_SEED: o.seed = optarg; break;
		case T_KIND: o.kind = optarg; break;
		case T_KVERSION:
			if (parse_u64(optarg, UINT32_MAX, &v) < 0)
				return usage("invalid value for --kind-version");
			o.version = (uint32_t)v;
			break;
		case T_ALL: o.all = true; break;
		case T_DIE: {
			char *colon = strchr(optarg, ':');
			if (!colon)
				return usage("--die-in-batch takes BATCH:ROW");
			*colon = 0;
			if (parse_u64(optarg, UINT64_MAX, &o.die_batch) < 0 ||
			    parse_u64(colon + 1, UINT64_MAX, &o.die_row) < 0 || !o.die_batch || !o.die_row)
				return usage("--die-in-batch takes BATCH:ROW (both from 1)");
			break;
		}
		default: return usage("unknown option");
		}
	}
	if (argc - optind != 1 || (strcmp(argv[optind], "fill") && strcmp(argv[optind], "verify")))
		return usage("expected fill or verify");
	if (!have_count)
		return usage("--count is needed");
	/* the way analysing commands open it: an unusable cache is one warning line */
	struct cli_image_args a;
	cli_image_args_init(&a);
	a.cache_path = o.path;
	struct dg_cache *tc = cli_open_cache(&a);
	if (!tc) {
		printf("no cache\n");
		return 0;
	}
	int rc = !strcmp(argv[optind], "fill") ? fill(tc, &o) : verify(tc, &o);
	dg_cache_close(tc);
	return rc;
}
