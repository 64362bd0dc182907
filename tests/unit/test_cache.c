/* The analysis cache: get/put, key separation, checksums, damaged and foreign
 * files, unwritable places, prune and clear. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dockergate/cache.h"
#include "tap.h"
#include "dockergate/util.h"

static char *tmp;

static void key(unsigned char sha[32], unsigned seed, unsigned i)
{
	char s[64];
	int n = snprintf(s, sizeof s, "k:%u:%u", seed, i);
	struct dg_sha256 h;
	dg_sha256_init(&h);
	dg_sha256_update(&h, s, (size_t)n);
	dg_sha256_final(&h, sha);
}

/* A deterministic value of 1..3000 bytes. */
static size_t value(unsigned seed, unsigned i, unsigned char *buf)
{
	size_t n = 1 + (i * 2654435761u + seed) % 3000;
	uint32_t x = seed * 31 + i + 1;
	for (size_t j = 0; j < n; j++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		buf[j] = (unsigned char)x;
	}
	return n;
}

static int fill(struct dg_cache *c, unsigned seed, unsigned n, const char *kind, uint32_t ver)
{
	unsigned char sha[32], buf[3000];
	struct dg_error err = DG_ERROR_INIT;
	for (unsigned i = 0; i < n; i++) {
		key(sha, seed, i);
		size_t len = value(seed, i, buf);
		if (dg_cache_put(c, sha, kind, ver, buf, len, &err) < 0) {
			printf("# put %u: %s\n", i, err.msg);
			return -1;
		}
	}
	return dg_cache_flush(c, &err);
}

/* Counts hits with the right value, misses and wrong values. */
static void verify(struct dg_cache *c, unsigned seed, unsigned n, const char *kind, uint32_t ver, unsigned *hit,
		   unsigned *miss, unsigned *wrong)
{
	unsigned char sha[32], buf[3000];
	*hit = *miss = *wrong = 0;
	for (unsigned i = 0; i < n; i++) {
		struct dg_error err = DG_ERROR_INIT;
		void *d;
		size_t len;
		key(sha, seed, i);
		size_t want = value(seed, i, buf);
		int r = dg_cache_get(c, sha, kind, ver, &d, &len, &err);
		if (r == 1) {
			if (len == want && !memcmp(d, buf, len))
				(*hit)++;
			else
				(*wrong)++;
			free(d);
		} else if (r == 0) {
			(*miss)++;
		} else {
			printf("# get %u: %s\n", i, err.msg);
			(*wrong)++;
		}
	}
}

static char *P(const char *name) { return dg_xasprintf("%s/%s", tmp, name); }

static int exists(const char *p)
{
	struct stat sb;
	return stat(p, &sb) == 0;
}

static int sql(const char *path, const char *q)
{
	sqlite3 *db;
	int rc = sqlite3_open(path, &db);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, q, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		printf("# sql %s: %s\n", q, sqlite3_errmsg(db));
	sqlite3_close(db);
	return rc;
}

static void test_default_path(void)
{
	struct dg_error err = DG_ERROR_INIT;
	char *p = NULL;
	setenv("XDG_CACHE_HOME", "/x/cache", 1);
	setenv("HOME", "/home/u", 1);
	ok(dg_cache_default_path(&p, &err) == 0, "default path with XDG_CACHE_HOME");
	is_str(p, "/x/cache/dockergate/cache.sqlite", "XDG_CACHE_HOME wins");
	free(p);
	setenv("XDG_CACHE_HOME", "relative/dir", 1);
	ok(dg_cache_default_path(&p, &err) == 0, "relative XDG_CACHE_HOME ignored");
	is_str(p, "/home/u/.cache/dockergate/cache.sqlite", "falls back to HOME");
	free(p);
	unsetenv("XDG_CACHE_HOME");
	setenv("HOME", "", 1);
	ok(dg_cache_default_path(&p, &err) < 0 && err.status == DG_E_ENV, "no usable home: %s", err.msg);
	unsetenv("HOME");
	ok(dg_cache_default_path(&p, &err) < 0 && err.status == DG_E_ENV, "HOME unset: error");
}

static void test_basic(void)
{
	struct dg_error err = DG_ERROR_INIT;
	char *dir = P("new dir/with 'odd' ch\xc3\xa4rs?#%\nnl");
	char *path = dg_xasprintf("%s/file:c?mode=ro", dir);
	struct dg_cache *c;
	int rb = -1;
	ok(dg_cache_open(path, &c, &rb, &err) == 0, "open creates the cache: %s", err.msg);
	if (!c)
		return;
	ok(rb == 0, "a new cache is not 'rebuilt'");
	struct stat sb;
	ok(stat(dir, &sb) == 0 && (sb.st_mode & 0777) == 0700, "directory created with mode 0700");
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600, "file created with mode 0600 (%o)",
	   sb.st_mode & 0777);
	is_str(dg_cache_path(c), path, "path kept as given (odd characters, '?', 'file:')");

	unsigned char sha[32], sha2[32];
	key(sha, 1, 1);
	key(sha2, 1, 2);
	void *d;
	size_t len;
	ok(dg_cache_get(c, sha, "dyn", 1, &d, &len, &err) == 0, "miss on an empty cache");
	ok(dg_cache_put(c, sha, "dyn", 1, "hello", 5, &err) == 0, "put");
	ok(dg_cache_get(c, sha, "dyn", 1, &d, &len, &err) == 1 && len == 5 && !memcmp(d, "hello", 5),
	   "hit from the pending batch");
	free(d);
	ok(dg_cache_flush(c, &err) == 0, "flush: %s", err.msg);
	ok(dg_cache_get(c, sha, "dyn", 1, &d, &len, &err) == 1 && len == 5 && !memcmp(d, "hello", 5),
	   "hit after flush");
	free(d);
	ok(dg_cache_get(c, sha, "dyn", 2, &d, &len, &err) == 0, "another version is a miss");
	ok(dg_cache_get(c, sha, "dyn2", 1, &d, &len, &err) == 0, "another kind is a miss");
	ok(dg_cache_get(c, sha2, "dyn", 1, &d, &len, &err) == 0, "another file is a miss");
	ok(dg_cache_put(c, sha, "dyn", 2, "v2", 2, &err) == 0 && dg_cache_put(c, sha, "other", 1, "", 0, &err) == 0,
	   "put other version and kind (empty value)");
	ok(dg_cache_put(c, sha, "dyn", 1, "HELLO!", 6, &err) == 0, "overwrite");
	ok(dg_cache_flush(c, &err) == 0, "flush");
	ok(dg_cache_get(c, sha, "dyn", 1, &d, &len, &err) == 1 && len == 6 && !memcmp(d, "HELLO!", 6),
	   "upsert: last write wins");
	free(d);
	ok(dg_cache_get(c, sha, "dyn", 2, &d, &len, &err) == 1 && len == 2 && !memcmp(d, "v2", 2), "v2 separate");
	free(d);
	d = NULL;
	ok(dg_cache_get(c, sha, "other", 1, &d, &len, &err) == 1 && len == 0 && d, "empty value is a hit");
	free(d);
	ok(dg_cache_get(c, sha, "bad kind", 1, &d, &len, &err) < 0, "invalid kind refused");
	ok(dg_cache_put(c, sha, "", 1, "x", 1, &err) < 0, "empty kind refused");

	/* A second handle in the same process sees committed data; upserts from both. */
	struct dg_cache *c2;
	ok(dg_cache_open(path, &c2, &rb, &err) == 0 && rb == 0, "second handle");
	ok(dg_cache_get(c2, sha, "dyn", 1, &d, &len, &err) == 1 && len == 6, "second handle sees the value");
	free(d);
	ok(dg_cache_put(c2, sha2, "dyn", 1, "a", 1, &err) == 0 && dg_cache_put(c, sha2, "dyn", 1, "b", 1, &err) == 0,
	   "same key put by two handles");
	ok(dg_cache_flush(c2, &err) == 0 && dg_cache_flush(c, &err) == 0, "both flush");
	ok(dg_cache_get(c2, sha2, "dyn", 1, &d, &len, &err) == 1 && len == 1 && *(char *)d == 'b',
	   "the later writer wins");
	free(d);
	dg_cache_close(c2);

	struct dg_cache_stats st;
	ok(dg_cache_stats(c, &st, &err) == 0, "stats");
	ok(st.entries == 4 && st.nkinds == 3, "stats: 4 entries in 3 kind/version rows (%llu, %zu)",
	   (unsigned long long)st.entries, st.nkinds);
	ok(st.bytes == 6 + 2 + 0 + 1, "stats: value bytes (%llu)", (unsigned long long)st.bytes);
	ok(st.file_bytes > 0 && st.hits == 5 && st.misses == 4, "stats: file size, this process's hits/misses");
	ok(st.nkinds == 3 && !strcmp(st.kinds[0].kind, "dyn") && st.kinds[0].version == 1 && st.kinds[0].current &&
	       st.kinds[1].version == 2 && !st.kinds[1].current,
	   "per kind rows, current flag");
	dg_cache_stats_free(&st);

	/* Checksum mismatch: a value changed behind the cache's back. */
	dg_cache_close(c);
	ok(sql(path, "UPDATE entries SET value=X'48454C4C4F21' WHERE kind='dyn' AND version=2") == SQLITE_OK,
	   "tamper with a value");
	ok(dg_cache_open(path, &c, &rb, &err) == 0 && rb == 0, "reopen");
	ok(dg_cache_get(c, sha, "dyn", 2, &d, &len, &err) == 0, "checksum mismatch is a miss");
	ok(dg_cache_stats(c, &st, &err) == 0 && st.entries == 3, "and the row is deleted");
	dg_cache_stats_free(&st);
	dg_cache_close(c);
	ok(sql(path, "UPDATE entries SET checksum='not a blob' WHERE kind='other'") == SQLITE_OK,
	   "tamper with a checksum (text instead of 32 bytes)");
	ok(dg_cache_open(path, &c, &rb, &err) == 0 && rb == 0, "reopen");
	ok(dg_cache_get(c, sha, "other", 1, &d, &len, &err) == 0, "malformed checksum is a miss");
	ok(dg_cache_stats(c, &st, &err) == 0 && st.entries == 2, "and that row is deleted too");
	ok(st.total_hits > 0 && st.total_misses > 0, "totals recorded in meta (%llu/%llu)",
	   (unsigned long long)st.total_hits, (unsigned long long)st.total_misses);
	dg_cache_stats_free(&st);
	dg_cache_close(c);
	free(path);
	free(dir);
}

/* Whether the cache at PATH opens as rebuilt, moves the old file aside and works. */
static void expect_rebuilt(const char *path, const char *what)
{
	struct dg_error err = DG_ERROR_INIT;
	struct dg_cache *c;
	int rb = 0;
	ok(dg_cache_open(path, &c, &rb, &err) == 0 && rb == 1, "%s: rebuilt (%s)", what, err.msg);
	if (!c)
		return;
	char *bad = dg_xasprintf("%s.corrupt", path);
	ok(exists(bad), "%s: old file moved to .corrupt", what);
	free(bad);
	unsigned h, m, w;
	ok(fill(c, 7, 50, "dyn", 1) == 0, "%s: the new cache takes writes", what);
	verify(c, 7, 50, "dyn", 1, &h, &m, &w);
	ok(h == 50 && w == 0, "%s: and reads them back", what);
	dg_cache_close(c);
	ok(dg_cache_open(path, &c, &rb, &err) == 0 && rb == 0, "%s: then reopens cleanly", what);
	dg_cache_close(c);
}

static void write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (write(fd, p, n) != (ssize_t)n)
		printf("# short write\n");
	close(fd);
}

static void test_corrupt(void)
{
	struct dg_error err = DG_ERROR_INIT;
	struct dg_cache *c;
	int rb;
	char *path = P("garbage.sqlite");
	unsigned char junk[8192];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (unsigned char)(i * 7 + 3);
	write_file(path, junk, sizeof junk);
	expect_rebuilt(path, "garbage bytes");
	free(path);

	path = P("garbage-header.sqlite");
	memcpy(junk, "SQLite format 3", 16);
	write_file(path, junk, sizeof junk);
	expect_rebuilt(path, "SQLite header, garbage after");
	free(path);

	/* A valid SQLite database of another application: moved aside intact. */
	path = P("foreign.sqlite");
	ok(sql(path, "CREATE TABLE t(x); INSERT INTO t VALUES(42)") == SQLITE_OK, "foreign database made");
	expect_rebuilt(path, "foreign database");
	char *bad = dg_xasprintf("%s.corrupt", path);
	sqlite3 *db;
	sqlite3_stmt *st;
	int v = 0;
	if (sqlite3_open(bad, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT x FROM t", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	ok(v == 42, "the foreign database is kept intact in .corrupt");
	free(bad);
	free(path);

	/* Our application_id, schema changed. */
	path = P("schema.sqlite");
	ok(dg_cache_open(path, &c, &rb, &err) == 0, "open");
	dg_cache_close(c);
	ok(sql(path, "CREATE TABLE extra(x)") == SQLITE_OK, "add a table");
	expect_rebuilt(path, "unexpected schema");
	free(path);

	/* Truncated: a real cache cut in half. */
	path = P("trunc.sqlite");
	ok(dg_cache_open(path, &c, &rb, &err) == 0, "open");
	ok(fill(c, 3, 2000, "dyn", 1) == 0, "fill 2000 entries");
	dg_cache_close(c);
	struct stat sb;
	stat(path, &sb);
	ok(truncate(path, sb.st_size / 2) == 0, "truncate to %lld bytes", (long long)sb.st_size / 2);
	expect_rebuilt(path, "truncated file");
	free(path);

	/* Damage under an open handle: pages overwritten while it runs. Every get
	 * must give the right value or a miss, never wrong bytes. */
	path = P("live.sqlite");
	ok(dg_cache_open(path, &c, &rb, &err) == 0, "open");
	ok(fill(c, 4, 6000, "dyn", 1) == 0, "fill 6000 entries (~9 MB)");
	dg_cache_close(c);
	ok(dg_cache_open(path, &c, &rb, &err) == 0 && rb == 0, "reopen");
	stat(path, &sb);
	int fd = open(path, O_WRONLY);
	for (off_t off = sb.st_size / 3; off < sb.st_size / 3 + 200 * 4096; off += 4096)
		if (pwrite(fd, junk, 4096, off) != 4096)
			break;
	close(fd);
	unsigned h, m, w;
	verify(c, 4, 6000, "dyn", 1, &h, &m, &w);
	ok(w == 0 && m > 0, "damaged pages: %u hits, %u misses, %u wrong values", h, m, w);
	ok(dg_cache_rebuilds(c) >= 1, "corruption seen during use rebuilt the cache (%u)", dg_cache_rebuilds(c));
	ok(fill(c, 5, 100, "dyn", 1) == 0, "writes work after the rebuild");
	verify(c, 5, 100, "dyn", 1, &h, &m, &w);
	ok(h == 100, "and read back");
	dg_cache_close(c);
	free(path);
}

/* A damaged cache still open in another process is left alone (renaming it under
 * a live connection could let that one damage the new file); once that process
 * is gone, the next open rebuilds it. */
static void test_corrupt_in_use(void)
{
	struct dg_error err = DG_ERROR_INIT;
	struct dg_cache *c;
	int rb = 0;
	char *path = P("inuse.sqlite");
	ok(dg_cache_open(path, &c, &rb, &err) == 0 && fill(c, 8, 100, "dyn", 1) == 0, "make a cache");
	dg_cache_close(c);
	int up[2], down[2];
	if (pipe(up) < 0 || pipe(down) < 0)
		return;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		sqlite3 *db;
		char ch = 0;
		sqlite3_open(path, &db);
		sqlite3_exec(db, "SELECT count(*) FROM entries", NULL, NULL, NULL);
		if (write(up[1], "r", 1) != 1 || read(down[0], &ch, 1) < 0)
			_exit(1);
		sqlite3_close(db);
		_exit(0);
	}
	char ch;
	ok(read(up[0], &ch, 1) == 1, "another process has the cache open");
	int fd = open(path, O_WRONLY);
	ok(pwrite(fd, "garbage garbage garbage", 23, 0) == 23, "damage the header");
	close(fd);
	ok(dg_cache_open(path, &c, &rb, &err) < 0 && err.status == DG_E_ENV && strstr(err.msg, "open in another process"),
	   "open fails cleanly: %s", err.msg);
	char *bad = dg_xasprintf("%s.corrupt", path);
	ok(!exists(bad), "nothing moved while in use");
	if (write(down[1], "x", 1) != 1)
		printf("# pipe\n");
	waitpid(pid, NULL, 0);
	ok(dg_cache_open(path, &c, &rb, &err) == 0 && rb == 1 && exists(bad), "after it exits: rebuilt (%s)", err.msg);
	dg_cache_close(c);
	close(up[0]), close(up[1]), close(down[0]), close(down[1]);
	free(bad);
	free(path);
}

/* Runs FN in a child (e.g. as an unprivileged user); returns its exit status. */
static int in_child(void (*fn)(void))
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		fn();
		fflush(stdout);
		_exit(tap_fail ? 1 : 0);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void ro_child(void)
{
	/* Root ignores directory modes: drop to nobody first. */
	if (getuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0)) {
		printf("# cannot drop privileges\n");
		_exit(1);
	}
	struct dg_error err = DG_ERROR_INIT;
	struct dg_cache *c = NULL;
	char *p = P("ro/cache.sqlite");
	int r = dg_cache_open(p, &c, NULL, &err);
	printf("# %s\n", err.msg);
	fflush(stdout);
	if (r == 0 || err.status != DG_E_ENV || c)
		_exit(1);
	free(p);
	/* A read-only existing file. */
	p = P("rofile/cache.sqlite");
	r = dg_cache_open(p, &c, NULL, &err);
	printf("# %s\n", err.msg);
	fflush(stdout);
	if (r == 0 || err.status != DG_E_ENV)
		_exit(2);
	free(p);
	_exit(0);
}

static void full_child(void)
{
	struct dg_error err = DG_ERROR_INIT;
	struct dg_cache *c;
	char *p = P("full.sqlite");
	if (dg_cache_open(p, &c, NULL, &err) < 0)
		_exit(3);
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit rl = {1 << 20, 1 << 20};
	setrlimit(RLIMIT_FSIZE, &rl); /* the disk is "full" at 1 MiB */
	int r = fill(c, 9, 3000, "dyn", 1);
	unsigned char sha[32];
	key(sha, 9, 2999);
	int r2 = dg_cache_put(c, sha, "dyn", 1, "x", 1, &err);
	printf("# %s\n", err.msg);
	if (r == 0 || r2 == 0 || err.status != DG_E_ENV)
		_exit(4);
	unsigned h, m, w;
	verify(c, 9, 3000, "dyn", 1, &h, &m, &w);
	printf("# after the full disk: %u hits, %u misses, %u wrong\n", h, m, w);
	fflush(stdout);
	if (w || !h)
		_exit(5);
	dg_cache_close(c);
	_exit(0);
}

static void test_unwritable(void)
{
	struct dg_error err = DG_ERROR_INIT;
	struct dg_cache *c = NULL;
	ok(dg_cache_open("/proc/dockergate-test/cache.sqlite", &c, NULL, &err) < 0 && err.status == DG_E_ENV && !c,
	   "directory cannot be created: %s", err.msg);
	ok(dg_cache_open("/proc/version", &c, NULL, &err) < 0 && err.status == DG_E_ENV, "not writable: %s", err.msg);
	ok(dg_cache_open(tmp, &c, NULL, &err) < 0 && err.status == DG_E_ENV, "a directory: %s", err.msg);
	ok(dg_cache_open("", &c, NULL, &err) < 0 && err.status == DG_E_USAGE, "empty path");
	char *ro = P("ro"), *rof = P("rofile"), *rofp = P("rofile/cache.sqlite");
	mkdir(ro, 0555);
	chmod(ro, 0555);
	ok(dg_cache_open(rofp, &c, NULL, &err) == 0, "make a cache");
	dg_cache_close(c);
	chmod(rofp, 0444);
	chmod(rof, 0555);
	chmod(tmp, 0755);
	ok(in_child(ro_child) == 0, "read-only directory / read-only file: clean DG_E_ENV errors");
	ok(in_child(full_child) == 0, "full disk: puts fail with DG_E_ENV, gets still work");
	free(ro);
	free(rof);
	free(rofp);
}

static void test_prune_clear(void)
{
	struct dg_error err = DG_ERROR_INIT;
	struct dg_cache *c;
	char *path = P("prune.sqlite");
	ok(dg_cache_open(path, &c, NULL, &err) == 0, "open");
	ok(fill(c, 1, 100, "dyn", 1) == 0 && fill(c, 1, 30, "dyn", 0) == 0 && fill(c, 2, 20, "old", 3) == 0,
	   "fill current and stale kinds");
	uint64_t removed = 99;
	size_t ncur;
	const struct dg_cache_kind *cur = dg_cache_current_kinds(&ncur);
	ok(ncur >= 1 && !strcmp(cur[0].kind, "dyn") && cur[0].version == 1, "current kinds list dyn/1");
	ok(dg_cache_prune(c, cur, ncur, 0, &removed, &err) == 0 && removed == 50, "prune by version removed %llu",
	   (unsigned long long)removed);
	unsigned h, m, w;
	verify(c, 1, 100, "dyn", 1, &h, &m, &w);
	ok(h == 100, "current entries kept");
	verify(c, 1, 30, "dyn", 0, &h, &m, &w);
	ok(m == 30, "stale version gone");
	dg_cache_close(c);
	/* Age: 40 entries last used 10 days ago. */
	ok(sql(path, "UPDATE entries SET last_used=last_used-10*86400 WHERE id IN "
		     "(SELECT id FROM entries ORDER BY id LIMIT 40)") == SQLITE_OK,
	   "age 40 entries");
	ok(dg_cache_open(path, &c, NULL, &err) == 0, "reopen");
	ok(dg_cache_prune(c, cur, ncur, 20 * 86400, &removed, &err) == 0 && removed == 0, "nothing older than 20 days");
	ok(dg_cache_prune(c, cur, ncur, 5 * 86400, &removed, &err) == 0 && removed == 40,
	   "prune older than 5 days removed %llu", (unsigned long long)removed);
	/* A hit refreshes last_used of an entry older than a day. */
	dg_cache_close(c);
	ok(sql(path, "UPDATE entries SET last_used=last_used-3*86400") == SQLITE_OK, "age all by 3 days");
	ok(dg_cache_open(path, &c, NULL, &err) == 0, "reopen");
	verify(c, 1, 100, "dyn", 1, &h, &m, &w);
	ok(h == 60, "60 left");
	dg_cache_close(c);
	ok(dg_cache_open(path, &c, NULL, &err) == 0, "reopen");
	ok(dg_cache_prune(c, cur, ncur, 2 * 86400, &removed, &err) == 0 && removed == 0,
	   "used entries had their last use refreshed (%llu removed)", (unsigned long long)removed);
	struct dg_cache_stats st;
	dg_cache_stats(c, &st, &err);
	uint64_t before = st.file_bytes;
	dg_cache_stats_free(&st);
	ok(dg_cache_clear(c, &err) == 0, "clear");
	ok(dg_cache_stats(c, &st, &err) == 0 && st.entries == 0 && st.nkinds == 0 && st.total_hits == 0, "empty");
	ok(st.file_bytes < before, "file shrank (%llu -> %llu bytes)", (unsigned long long)before,
	   (unsigned long long)st.file_bytes);
	dg_cache_stats_free(&st);
	dg_cache_close(c);
	free(path);
}

int main(void)
{
	char tmpl[] = "/tmp/dg-cache-test.XXXXXX";
	tmp = mkdtemp(tmpl);
	if (!tmp)
		return 1;
	chmod(tmp, 0755);
	test_default_path();
	test_basic();
	test_corrupt();
	test_corrupt_in_use();
	test_unwritable();
	test_prune_clear();
	char *cmd = dg_xasprintf("chmod -R u+w '%s' && rm -rf '%s'", tmp, tmp);
	if (system(cmd) != 0)
		printf("# cleanup failed\n");
	free(cmd);
	return tap_done();
}
