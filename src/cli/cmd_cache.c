/* dockergate cache stats|prune|clear: the per-file analysis cache. Also the
 * test-only selftest-fill / selftest-verify used by tests/e2e/test_cache.sh. */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cache/cache_test.h"
#include "cli.h"
#include "dockergate/cache.h"
#include "dockergate/util.h"

static const char help[] =
	"usage: dockergate cache stats|prune|clear [OPTIONS]\n\n"
	"The analysis cache keeps per-file results, keyed by the SHA-256 of a file's content and\n"
	"the analysis kind and version, in one SQLite file shared by every dockergate process.\n"
	"Analysing commands take --cache PATH and --no-cache for it (none reads or writes it yet).\n"
	"A damaged or foreign file is moved aside to PATH.corrupt and rebuilt.\n\n"
	"Subcommands:\n"
	"  stats     path, file size, entries, value bytes, entries per analysis kind/version,\n"
	"            lookups recorded (hits/misses), creation and last integrity check times\n"
	"  prune     remove entries of analysis versions this dockergate no longer produces, and\n"
	"            with --older-than, entries not used for DAYS days\n"
	"  clear     remove every entry\n\n"
	"Options:\n"
	"  --cache PATH        the cache (default: $XDG_CACHE_HOME/dockergate/cache.sqlite,\n"
	"                      else ~/.cache/dockergate/cache.sqlite)\n"
	"  --older-than DAYS   prune: also remove entries not used for DAYS days (DAYS >= 1)\n"
	"  --json              machine-readable output\n\n"
	"Test-only subcommands (for tests/e2e/test_cache.sh; they write synthetic entries of kind\n"
	"'selftest' unless --kind is given, and are no use otherwise):\n"
	"  selftest-fill --count N --seed S [--kind K] [--kind-version V] [--die-in-batch B:R]\n"
	"            put N deterministic entries (batched as the library batches); with\n"
	"            --die-in-batch, SIGKILL itself inside write transaction B after its row R\n"
	"  selftest-verify --count N --seed S [--kind K] [--kind-version V] [--all]\n"
	"            read them back and check every value; prints hits, misses, wrong values and\n"
	"            whether the hits are a prefix; exit 1 on a wrong value (or a miss with --all)\n"
	"            Both open the cache as analysing commands do: one warning line and 'no cache'\n"
	"            when it cannot be used.\n\n"
	"Exit status: 0 ok, 2 usage, 6 the cache cannot be used (unwritable, made by a newer\n"
	"dockergate, damaged but open in another process).\n";

struct opts {
	const char *path;
	bool json, all;
	uint64_t older_days;
	uint64_t count;
	const char *seed, *kind;
	uint32_t version;
	uint64_t die_batch, die_row;
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

/* ---- the deterministic test entries ---- */

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

static int selftest_fill(struct dg_cache *c, const struct opts *o)
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

static int selftest_verify(struct dg_cache *c, const struct opts *o)
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

/* ---- stats / prune / clear ---- */

static void put_time(char *b, size_t n, int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;
	if (!t || !gmtime_r(&tt, &tm) || !strftime(b, n, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(b, n, "-");
}

static int do_stats(struct dg_cache *c, const char *path, const struct opts *o)
{
	struct dg_error err = DG_ERROR_INIT;
	struct dg_cache_stats st;
	if (dg_cache_stats(c, &st, &err) < 0)
		return cli_fail(&err);
	if (o->json) {
		json_t *j = json_object();
		cli_json_set(j, "path", cli_json_str(path));
		cli_json_set(j, "exists", json_true());
		cli_json_set(j, "file_bytes", json_integer((json_int_t)st.file_bytes));
		cli_json_set(j, "entries", json_integer((json_int_t)st.entries));
		cli_json_set(j, "bytes", json_integer((json_int_t)st.bytes));
		cli_json_set(j, "hits", json_integer((json_int_t)st.total_hits));
		cli_json_set(j, "misses", json_integer((json_int_t)st.total_misses));
		cli_json_set(j, "created", json_integer((json_int_t)st.created));
		cli_json_set(j, "checked", json_integer((json_int_t)st.checked));
		json_t *k = json_array();
		for (size_t i = 0; i < st.nkinds; i++) {
			json_t *r = json_object();
			cli_json_set(r, "kind", cli_json_str(st.kinds[i].kind));
			cli_json_set(r, "version", json_integer(st.kinds[i].version));
			cli_json_set(r, "current", json_boolean(st.kinds[i].current));
			cli_json_set(r, "entries", json_integer((json_int_t)st.kinds[i].entries));
			cli_json_set(r, "bytes", json_integer((json_int_t)st.kinds[i].bytes));
			cli_json_push(k, r);
		}
		cli_json_set(j, "kinds", k);
		cli_print_json(j);
	} else {
		struct dg_buf b = {0};
		dg_buf_put_escaped(&b, path);
		char t1[64], t2[64];
		put_time(t1, sizeof t1, st.created);
		put_time(t2, sizeof t2, st.checked);
		printf("path        %s\n", b.data);
		printf("file size   %llu bytes\n", (unsigned long long)st.file_bytes);
		printf("entries     %llu\n", (unsigned long long)st.entries);
		printf("value bytes %llu\n", (unsigned long long)st.bytes);
		printf("lookups     %llu hits, %llu misses\n", (unsigned long long)st.total_hits,
		       (unsigned long long)st.total_misses);
		printf("created     %s\n", t1);
		printf("checked     %s\n", t2);
		if (st.nkinds) {
			printf("%-20s %8s %10s %14s\n", "kind", "version", "entries", "bytes");
			for (size_t i = 0; i < st.nkinds; i++)
				printf("%-20s %8u %10llu %14llu%s\n", st.kinds[i].kind, st.kinds[i].version,
				       (unsigned long long)st.kinds[i].entries, (unsigned long long)st.kinds[i].bytes,
				       st.kinds[i].current ? "" : "  (stale: prune removes it)");
		}
		dg_buf_free(&b);
	}
	dg_cache_stats_free(&st);
	return 0;
}

static void report_removed(const char *path, const struct opts *o, const char *verb, uint64_t n)
{
	if (o->json) {
		json_t *j = json_object();
		cli_json_set(j, "path", cli_json_str(path));
		cli_json_set(j, "removed", json_integer((json_int_t)n));
		cli_print_json(j);
	} else {
		printf("%s %llu entr%s\n", verb, (unsigned long long)n, n == 1 ? "y" : "ies");
	}
}

static int do_prune(struct dg_cache *c, const char *path, const struct opts *o)
{
	struct dg_error err = DG_ERROR_INIT;
	size_t ncur;
	const struct dg_cache_kind *cur = dg_cache_current_kinds(&ncur);
	uint64_t removed;
	if (dg_cache_prune(c, cur, ncur, o->older_days * 86400, &removed, &err) < 0)
		return cli_fail(&err);
	report_removed(path, o, "removed", removed);
	return 0;
}

static int do_clear(struct dg_cache *c, const char *path, const struct opts *o)
{
	struct dg_error err = DG_ERROR_INIT;
	struct dg_cache_stats st;
	if (dg_cache_stats(c, &st, &err) < 0)
		return cli_fail(&err);
	dg_cache_stats_free(&st);
	if (dg_cache_clear(c, &err) < 0)
		return cli_fail(&err);
	report_removed(path, o, "cleared", st.entries);
	return 0;
}

int cmd_cache(int argc, char **argv)
{
	enum {
		OPT_OLDER = OPT_FIRST_CMD_OPT,
		OPT_COUNT,
		OPT_SEED,
		OPT_KIND,
		OPT_KVERSION,
		OPT_ALL,
		OPT_DIE,
	};
	static const struct option lo[] = {
		{"cache", required_argument, NULL, OPT_CACHE},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, OPT_HELP},
		{"older-than", required_argument, NULL, OPT_OLDER},
		{"count", required_argument, NULL, OPT_COUNT},
		{"seed", required_argument, NULL, OPT_SEED},
		{"kind", required_argument, NULL, OPT_KIND},
		{"kind-version", required_argument, NULL, OPT_KVERSION},
		{"all", no_argument, NULL, OPT_ALL},
		{"die-in-batch", required_argument, NULL, OPT_DIE},
		{0, 0, 0, 0},
	};
	struct opts o = {.kind = "selftest", .version = 1, .seed = "0"};
	bool have_count = false;
	int c;
	uint64_t v;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case OPT_HELP: fputs(help, stdout); return 0;
		case OPT_CACHE:
			if (!*optarg)
				return cli_usage_error("cache", "--cache needs a path");
			o.path = optarg;
			break;
		case OPT_JSON: o.json = true; break;
		case OPT_OLDER:
			if (parse_u64(optarg, 1000000, &o.older_days) < 0 || o.older_days == 0)
				return cli_usage_error("cache", "invalid value '%s' for --older-than (whole days, at least 1)",
						       optarg);
			break;
		case OPT_COUNT:
			if (parse_u64(optarg, UINT64_MAX, &o.count) < 0)
				return cli_usage_error("cache", "invalid value '%s' for --count", optarg);
			have_count = true;
			break;
		case OPT_SEED: o.seed = optarg; break;
		case OPT_KIND: o.kind = optarg; break;
		case OPT_KVERSION:
			if (parse_u64(optarg, UINT32_MAX, &v) < 0)
				return cli_usage_error("cache", "invalid value '%s' for --kind-version", optarg);
			o.version = (uint32_t)v;
			break;
		case OPT_ALL: o.all = true; break;
		case OPT_DIE: {
			char *colon = strchr(optarg, ':');
			if (!colon)
				return cli_usage_error("cache", "--die-in-batch takes BATCH:ROW");
			*colon = 0;
			if (parse_u64(optarg, UINT64_MAX, &o.die_batch) < 0 ||
			    parse_u64(colon + 1, UINT64_MAX, &o.die_row) < 0 || !o.die_batch || !o.die_row)
				return cli_usage_error("cache", "--die-in-batch takes BATCH:ROW (both from 1)");
			break;
		}
		default: return cli_usage_error("cache", "unknown option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("cache", "expected one of stats, prune, clear");
	const char *sub = argv[optind];
	enum { STATS, PRUNE, CLEAR, FILL, VERIFY } what;
	if (!strcmp(sub, "stats"))
		what = STATS;
	else if (!strcmp(sub, "prune"))
		what = PRUNE;
	else if (!strcmp(sub, "clear"))
		what = CLEAR;
	else if (!strcmp(sub, "selftest-fill"))
		what = FILL;
	else if (!strcmp(sub, "selftest-verify"))
		what = VERIFY;
	else
		return cli_usage_error("cache", "unknown subcommand '%s'", sub);
	if (o.older_days && what != PRUNE)
		return cli_usage_error("cache", "--older-than is for prune");
	if ((what == FILL || what == VERIFY) != have_count)
		return cli_usage_error("cache", have_count ? "--count is for the selftest subcommands"
							  : "selftest-fill/verify need --count");

	struct dg_error err = DG_ERROR_INIT;
	char *def = NULL;
	if (what == FILL || what == VERIFY) {
		/* The way analysing commands open it: an unusable cache is one warning line. */
		struct cli_image_args a;
		cli_image_args_init(&a);
		a.cache_path = o.path;
		struct dg_cache *tc = cli_open_cache(&a);
		if (!tc) {
			printf("no cache\n");
			return 0;
		}
		int rc = what == FILL ? selftest_fill(tc, &o) : selftest_verify(tc, &o);
		dg_cache_close(tc);
		return rc;
	}
	if (!o.path) {
		if (dg_cache_default_path(&def, &err) < 0)
			return cli_fail(&err);
		o.path = def;
	}
	struct stat sb;
	if (what <= CLEAR && stat(o.path, &sb) < 0 && errno == ENOENT) {
		/* Looking must not create a cache. */
		if (o.json) {
			json_t *j = json_object();
			cli_json_set(j, "path", cli_json_str(o.path));
			cli_json_set(j, "exists", json_false());
			cli_print_json(j);
		} else {
			struct dg_buf b = {0};
			dg_buf_put_escaped(&b, o.path);
			printf("no cache at %s\n", b.data);
			dg_buf_free(&b);
		}
		free(def);
		return 0;
	}
	struct dg_cache *cache;
	int rebuilt = 0;
	if (dg_cache_open(o.path, &cache, &rebuilt, &err) < 0) {
		free(def);
		return cli_fail(&err);
	}
	if (rebuilt)
		cli_note(NULL, "the analysis cache was damaged or not ours and has been rebuilt (%s)", err.msg);
	const char *abs = dg_cache_path(cache);
	int rc = 0;
	switch (what) {
	case STATS: rc = do_stats(cache, abs, &o); break;
	case PRUNE: rc = do_prune(cache, abs, &o); break;
	case CLEAR: rc = do_clear(cache, abs, &o); break;
	default: break;
	}
	dg_cache_close(cache);
	free(def);
	return rc;
}
