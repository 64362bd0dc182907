/* dockergate cache stats|prune|clear: the per-file analysis cache. The subcommands
 * are a table, as main.c's commands are. (The test-only entries test_cache.sh needs
 * come from tests/tools/cachetest.c, not from this program.) */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "dockergate/cache.h"
#include "dockergate/util.h"

struct opts {
	const char *path;
	bool json;
	uint64_t older_days;
};

static int do_stats(struct dg_cache *c, const char *path, const struct opts *o);
static int do_prune(struct dg_cache *c, const char *path, const struct opts *o);
static int do_clear(struct dg_cache *c, const char *path, const struct opts *o);

static const struct cache_cmd {
	const char *name;
	int (*run)(struct dg_cache *c, const char *path, const struct opts *o);
	const char *summary; /* lines of the help's "Subcommands:" (several: '\n' between them) */
	bool older_than;     /* takes --older-than */
} subs[] = {
	{"stats", do_stats,
	 "path, file size, entries, value bytes, entries per analysis kind/version,\n"
	 "lookups recorded (hits/misses), creation and last integrity check times", false},
	{"prune", do_prune,
	 "remove entries of analysis versions this dockergate no longer produces, and\n"
	 "with --older-than, entries not used for DAYS days", true},
	{"clear", do_clear, "remove every entry", false},
};
#define NSUBS (sizeof subs / sizeof *subs)

static void usage(FILE *f)
{
	fputs("usage: dockergate cache ", f);
	for (size_t i = 0; i < NSUBS; i++)
		fprintf(f, "%s%s", i ? "|" : "", subs[i].name);
	fputs(" [OPTIONS]\n\n"
	      "The analysis cache keeps per-file results, keyed by the SHA-256 of a file's content and\n"
	      "the analysis kind and version, in one SQLite file shared by every dockergate process.\n"
	      "Analysing commands take --cache PATH and --no-cache for it.\n"
	      "A damaged or foreign file is moved aside to PATH.corrupt and rebuilt.\n\n"
	      "Subcommands:\n",
	      f);
	for (size_t i = 0; i < NSUBS; i++) {
		fprintf(f, "  %-9s ", subs[i].name);
		for (const char *p = subs[i].summary; *p;) {
			size_t n = strcspn(p, "\n");
			fprintf(f, "%.*s\n", (int)n, p);
			p += n;
			if (*p == '\n' && *++p)
				fprintf(f, "%12s", "");
		}
	}
	fputs("\nOptions:\n"
	      "  --cache PATH        the cache (default: $XDG_CACHE_HOME/dockergate/cache.sqlite,\n"
	      "                      else ~/.cache/dockergate/cache.sqlite)\n"
	      "  --older-than DAYS   prune: also remove entries not used for DAYS days (DAYS >= 1)\n"
	      "  --json              machine-readable output\n\n"
	      "Exit status: 0 ok, 2 usage, 6 the cache cannot be used (unwritable, made by a newer\n"
	      "dockergate, damaged but open in another process).\n",
	      f);
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
	enum { OPT_OLDER = OPT_FIRST_CMD_OPT };
	static const struct option lo[] = {
		{"cache", required_argument, NULL, OPT_CACHE},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, OPT_HELP},
		{"older-than", required_argument, NULL, OPT_OLDER},
		{0, 0, 0, 0},
	};
	struct opts o = {0};
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case OPT_HELP: usage(stdout); return 0;
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
		default: return cli_usage_error("cache", "unknown option");
		}
	}
	if (argc - optind != 1) {
		struct dg_buf b = {0};
		for (size_t i = 0; i < NSUBS; i++)
			dg_buf_printf(&b, "%s%s", i ? ", " : "", subs[i].name);
		dg_buf_putc(&b, 0);
		int r = cli_usage_error("cache", "expected one of %s", b.data);
		dg_buf_free(&b);
		return r;
	}
	const struct cache_cmd *sub = NULL;
	for (size_t i = 0; i < NSUBS; i++)
		if (!strcmp(subs[i].name, argv[optind]))
			sub = &subs[i];
	if (!sub)
		return cli_usage_error("cache", "unknown subcommand '%s'", argv[optind]);
	if (o.older_days && !sub->older_than)
		return cli_usage_error("cache", "--older-than is for prune");

	struct dg_error err = DG_ERROR_INIT;
	char *def = NULL;
	if (!o.path) {
		if (dg_cache_default_path(&def, &err) < 0)
			return cli_fail(&err);
		o.path = def;
	}
	struct stat sb;
	if (stat(o.path, &sb) < 0 && errno == ENOENT) {
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
	int rc = sub->run(cache, dg_cache_path(cache), &o);
	dg_cache_close(cache);
	free(def);
	return rc;
}
