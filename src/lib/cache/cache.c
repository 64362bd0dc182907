/* The per-file analysis cache (include/dockergate/cache.h): SQLite in WAL mode.
 *
 * Schema (application_id 'DGC1', user_version 1):
 *   entries(id, sha, kind, version, last_used, checksum, value), UNIQUE(sha, kind, version)
 *   meta(key, value): created, checked, hits, misses
 * checksum = SHA-256("dgcache1\0" sha kind "\0" be32(version) be64(len) value).
 *
 * Writes are buffered in memory and written in one BEGIN IMMEDIATE transaction,
 * so the write lock is held for milliseconds, never while the caller analyses.
 * A file that is not ours (wrong header, application_id, schema) or that SQLite
 * reports as corrupt (at open, in quick_check, or later) is moved aside to
 * PATH.corrupt and a new cache is created in its place. */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dockergate/cache.h"
#include "dockergate/fnsum.h"
#include "dockergate/reach.h"
#include "dockergate/dyninfo.h"
#include "dockergate/util.h"

#ifdef DG_CACHE_TEST_HOOKS /* only in the test tool's copy of this file (Makefile: dg-cachetest) */
#include "cache/cache_test.h"
void (*dg_cache_test_row_hook)(uint64_t batch, uint64_t row);
#endif

#define APP_ID 0x44474331 /* "DGC1" */
#define SCHEMA_VERSION 1
#define BUSY_TIMEOUT_MS 5000
#define BUSY_RETRIES 3
#define CREATE_TRIES 20 /* a busy creation looks again after a pause (about 8 s in all) */
#define BATCH_OPS 256
#define BATCH_BYTES (16u << 20)
#define BATCH_MS 500
#define TOUCH_AGE (24 * 3600)     /* last_used is refreshed when older than this */
#define CHECK_ALWAYS_BYTES (8u << 20) /* quick_check at every open up to this size (~20 ms) */
#define CHECK_INTERVAL (24 * 3600) /* else at most once per interval */

static const char sql_entries[] =
	"CREATE TABLE entries(id INTEGER PRIMARY KEY, sha BLOB NOT NULL, kind TEXT NOT NULL, "
	"version INTEGER NOT NULL, last_used INTEGER NOT NULL, checksum BLOB NOT NULL, "
	"value BLOB NOT NULL, UNIQUE(sha, kind, version))";
static const char sql_meta[] = "CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID";

static const struct dg_cache_kind current_kinds[] = {
	{DG_DYNINFO_KIND, DG_DYNINFO_VERSION}, /* the loader's view of an ELF file (dyninfo.h) */
	{DG_FNSUM_KIND, DG_FNSUM_VERSION},     /* per-function syscall summary (fnsum.h) */
	{DG_REACH_KIND, DG_REACH_VERSION},     /* a program's syscall result, keyed by its inputs (reach.h) */
};

const struct dg_cache_kind *dg_cache_current_kinds(size_t *n)
{
	*n = sizeof current_kinds / sizeof *current_kinds;
	return current_kinds;
}

struct key {
	unsigned char sha[32];
	char kind[DG_CACHE_KIND_MAX + 1];
	uint32_t version;
};

struct pending {
	struct key k;
	unsigned char sum[32];
	void *data;
	size_t len;
};

struct dg_cache {
	char *path, *disp; /* absolute path; escaped for messages */
	sqlite3 *db;
	sqlite3_stmt *st_get, *st_put, *st_touch, *st_del, *st_meta_add;
	dev_t dev;
	ino_t ino;
	struct pending *pend;
	size_t npend, cap_pend, pend_bytes;
	struct key *touch;
	size_t ntouch, cap_touch;
	uint64_t first_ms;
	uint64_t hits, misses, hits_done, misses_done;
	unsigned rebuilds;
	uint64_t batches; /* write transactions begun (for the test hook) */
	int broken; /* a write failed for good: puts are dropped */
	struct dg_error broken_err;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int64_t now_s(void) { return (int64_t)time(NULL); }

static int is_corrupt(int rc) { return (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB; }
static int is_busy(int rc) { return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED; }

/* Statuses: what the machine lacks or refuses is DG_E_ENV; the rest is a bug. */
static int sql_status(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_FULL:
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
	case SQLITE_PERM:
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_NOLFS:
	case SQLITE_AUTH:
	case SQLITE_PROTOCOL:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return DG_E_ENV;
	}
	return DG_E_INTERNAL;
}

static int sql_err(struct dg_cache *c, int rc, struct dg_error *err, const char *what)
{
	const char *m = c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc);
	if (c->db && sqlite3_extended_errcode(c->db) != rc)
		m = sqlite3_errstr(rc);
	return dg_err(err, sql_status(rc), "cache %s: %s: %s", c->disp, what, m);
}

static int check_kind(const char *kind, struct dg_error *err)
{
	size_t n = kind ? strlen(kind) : 0;
	if (n == 0 || n > DG_CACHE_KIND_MAX)
		return dg_err(err, DG_E_INTERNAL, "cache: invalid analysis kind (empty or longer than %d bytes)",
			      DG_CACHE_KIND_MAX);
	for (size_t i = 0; i < n; i++) {
		char ch = kind[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '_' || ch == '.' || ch == '-'))
			return dg_err(err, DG_E_INTERNAL, "cache: invalid analysis kind (byte 0x%02x)",
				      (unsigned char)ch);
	}
	return 0;
}

static void make_key(struct key *k, const unsigned char sha[32], const char *kind, uint32_t version)
{
	memset(k, 0, sizeof *k);
	memcpy(k->sha, sha, 32);
	snprintf(k->kind, sizeof k->kind, "%s", kind);
	k->version = version;
}

static int key_eq(const struct key *a, const struct key *b)
{
	return a->version == b->version && !memcmp(a->sha, b->sha, 32) && !strcmp(a->kind, b->kind);
}

static void checksum(const struct key *k, const void *data, size_t len, unsigned char out[32])
{
	unsigned char hdr[12];
	uint64_t l = len;
	for (int i = 0; i < 4; i++)
		hdr[i] = (unsigned char)(k->version >> (24 - 8 * i));
	for (int i = 0; i < 8; i++)
		hdr[4 + i] = (unsigned char)(l >> (56 - 8 * i));
	struct dg_sha256 h;
	dg_sha256_init(&h);
	dg_sha256_update(&h, "dgcache1", 9);
	dg_sha256_update(&h, k->sha, 32);
	dg_sha256_update(&h, k->kind, strlen(k->kind) + 1);
	dg_sha256_update(&h, hdr, sizeof hdr);
	if (len)
		dg_sha256_update(&h, data, len);
	dg_sha256_final(&h, out);
}

/* ---- paths ---- */

int dg_cache_default_path(char **out, struct dg_error *err)
{
	const char *x = getenv("XDG_CACHE_HOME");
	if (x && x[0] == '/') {
		*out = dg_xasprintf("%s/dockergate/cache.sqlite", x);
		return 0;
	}
	const char *h = getenv("HOME");
	if (h && h[0] == '/') {
		*out = dg_xasprintf("%s/.cache/dockergate/cache.sqlite", h);
		return 0;
	}
	return dg_err(err, DG_E_ENV, "cache: no cache directory: neither XDG_CACHE_HOME nor HOME is an absolute path");
}

static char *absolute(const char *path)
{
	if (path[0] == '/')
		return dg_xstrdup(path);
	char *cwd = getcwd(NULL, 0);
	if (!cwd)
		return NULL;
	char *r = dg_xasprintf("%s/%s", cwd, path);
	free(cwd);
	return r;
}

/* Creates the missing directories above the file, mode 0700. */
static int make_parents(struct dg_cache *c, struct dg_error *err)
{
	char *p = dg_xstrdup(c->path);
	char *slash = strrchr(p, '/');
	*slash = 0;
	int rc = 0;
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != 0)
			continue;
		char save = *s;
		*s = 0;
		if (*p && mkdir(p, 0700) < 0 && errno != EEXIST) {
			struct dg_buf b = {0};
			dg_buf_put_escaped(&b, p);
			rc = dg_err_sys(err, DG_E_ENV, errno, "cache %s: cannot create directory %s", c->disp, b.data);
			dg_buf_free(&b);
			break;
		}
		*s = save;
		if (!save)
			break;
	}
	free(p);
	return rc;
}

/* ---- opening ---- */

static void finalize_all(struct dg_cache *c)
{
	sqlite3_stmt **st[] = {&c->st_get, &c->st_put, &c->st_touch, &c->st_del, &c->st_meta_add};
	for (size_t i = 0; i < sizeof st / sizeof *st; i++) {
		sqlite3_finalize(*st[i]);
		*st[i] = NULL;
	}
}

static void close_db(struct dg_cache *c)
{
	finalize_all(c);
	if (c->db)
		sqlite3_close_v2(c->db);
	c->db = NULL;
}

static int exec(struct dg_cache *c, const char *sql)
{
	int rc;
	for (int i = 0; i < BUSY_RETRIES; i++) {
		rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
		if (!is_busy(rc))
			break;
	}
	return rc;
}

/* Runs a statement returning one integer (or text when TEXT is set). */
static int query1(struct dg_cache *c, const char *sql, int64_t *iv, char *text, size_t textsz)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	for (int i = 0; i < BUSY_RETRIES; i++) {
		rc = sqlite3_step(st);
		if (!is_busy(rc))
			break;
		sqlite3_reset(st);
	}
	if (rc == SQLITE_ROW) {
		if (iv)
			*iv = sqlite3_column_int64(st, 0);
		if (text) {
			const unsigned char *t = sqlite3_column_text(st, 0);
			snprintf(text, textsz, "%s", t ? (const char *)t : "");
		}
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static int begin_write(struct dg_cache *c) { return exec(c, "BEGIN IMMEDIATE"); }

static void rollback(struct dg_cache *c)
{
	if (c->db && !sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Is the schema exactly ours? */
static int schema_ok(struct dg_cache *c, int *ok)
{
	static const char *want[][3] = {
		{"table", "entries", sql_entries},
		{"table", "meta", sql_meta},
		{"index", "sqlite_autoindex_entries_1", NULL},
	};
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(c->db, "SELECT type, name, sql FROM sqlite_schema ORDER BY name", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	size_t n = 0;
	*ok = 1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *type = (const char *)sqlite3_column_text(st, 0);
		const char *name = (const char *)sqlite3_column_text(st, 1);
		const char *sql = (const char *)sqlite3_column_text(st, 2);
		if (n >= 3 || !type || !name || strcmp(type, want[n][0]) || strcmp(name, want[n][1]) ||
		    (want[n][2] ? !sql || strcmp(sql, want[n][2]) : sql != NULL))
			*ok = 0;
		n++;
	}
	sqlite3_finalize(st);
	if (n != 3)
		*ok = 0;
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Creates the schema in an empty database (another process may be doing the same). */
static int init_schema(struct dg_cache *c)
{
	int rc = begin_write(c);
	if (rc != SQLITE_OK)
		return rc;
	int64_t nobj = -1;
	rc = query1(c, "SELECT count(*) FROM sqlite_schema", &nobj, NULL, 0);
	if (rc == SQLITE_OK && nobj == 0) {
		char *sql = dg_xasprintf("%s; %s; PRAGMA application_id=%d; PRAGMA user_version=%d; "
					 "INSERT INTO meta VALUES('created', %lld), ('checked', %lld), "
					 "('hits', 0), ('misses', 0)",
					 sql_entries, sql_meta, APP_ID, SCHEMA_VERSION, (long long)now_s(),
					 (long long)now_s());
		rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
		free(sql);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		rollback(c);
	return rc;
}

static int prepare_all(struct dg_cache *c)
{
	static const struct {
		size_t off;
		const char *sql;
	} s[] = {
		{offsetof(struct dg_cache, st_get),
		 "SELECT last_used, checksum, value FROM entries WHERE sha=?1 AND kind=?2 AND version=?3"},
		{offsetof(struct dg_cache, st_put),
		 "INSERT INTO entries(sha, kind, version, last_used, checksum, value) VALUES(?1, ?2, ?3, ?4, ?5, ?6) "
		 "ON CONFLICT(sha, kind, version) DO UPDATE SET last_used=excluded.last_used, "
		 "checksum=excluded.checksum, value=excluded.value"},
		{offsetof(struct dg_cache, st_touch),
		 "UPDATE entries SET last_used=?4 WHERE sha=?1 AND kind=?2 AND version=?3 AND last_used<?4"},
		{offsetof(struct dg_cache, st_del),
		 "DELETE FROM entries WHERE sha=?1 AND kind=?2 AND version=?3 AND CAST(checksum AS BLOB)=?4"},
		{offsetof(struct dg_cache, st_meta_add), "UPDATE meta SET value=value+?2 WHERE key=?1"},
	};
	for (size_t i = 0; i < sizeof s / sizeof *s; i++) {
		sqlite3_stmt **st = (sqlite3_stmt **)(void *)((char *)c + s[i].off);
		int rc = sqlite3_prepare_v3(c->db, s[i].sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
		if (rc != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

enum { OPEN_OK = 0, OPEN_ERR = -1, OPEN_BAD = 1 };

/* Opens c->path. OPEN_BAD: the file is corrupt or not ours (reason in err). */
static int try_open(struct dg_cache *c, struct dg_error *err)
{
	int fd = open(c->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return dg_err_sys(err, DG_E_ENV, errno, "cache %s: cannot open", c->disp);
	struct stat sb;
	char head[16] = {0};
	ssize_t got = 0;
	memset(&sb, 0, sizeof sb);
	if (fstat(fd, &sb) < 0) {
		int e = errno;
		close(fd);
		return dg_err_sys(err, DG_E_ENV, e, "cache %s: cannot stat", c->disp);
	}
	if (S_ISREG(sb.st_mode))
		got = pread(fd, head, sizeof head, 0);
	int e = errno;
	close(fd); /* before SQLite opens it: closing a descriptor drops the process's POSIX locks */
	if (!S_ISREG(sb.st_mode))
		return dg_err(err, DG_E_ENV, "cache %s: not a regular file", c->disp);
	if (got < 0)
		return dg_err_sys(err, DG_E_ENV, e, "cache %s: cannot read", c->disp);
	c->dev = sb.st_dev;
	c->ino = sb.st_ino;
	if (sb.st_size > 0 && (got < (ssize_t)sizeof head || memcmp(head, "SQLite format 3", 16) != 0)) {
		dg_err(err, DG_E_ENV, "cache %s: not an SQLite database", c->disp);
		return OPEN_BAD;
	}

	int rc = sqlite3_open_v2(c->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
				 NULL);
	const char *what = "open";
	int64_t appid = 0, uv = 0, nobj = 0;
	if (rc != SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
	sqlite3_db_config(c->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(c->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_db_config(c->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL);
	sqlite3_db_config(c->db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, NULL);
	if (sqlite3_db_readonly(c->db, "main") == 1) {
		close_db(c);
		return dg_err(err, DG_E_ENV, "cache %s: read-only", c->disp);
	}
	/* Look before changing anything: a foreign database is moved aside untouched. Creating
	 * races with other processes creating it: some of SQLite's lock conflicts there (the
	 * switch to WAL, a deferred upgrade) answer "busy" at once instead of waiting, so a busy
	 * creation looks again after a pause, up to CREATE_TRIES times. */
	for (int attempt = 0;; attempt++) {
		what = "reading the header";
		/* One read transaction: another process may be creating the schema right now, and
		 * separate snapshots could pair its "no application_id yet" with "tables exist". */
		if ((rc = exec(c, "BEGIN")) != SQLITE_OK)
			goto fail;
		if ((rc = query1(c, "PRAGMA application_id", &appid, NULL, 0)) != SQLITE_OK ||
		    (rc = query1(c, "PRAGMA user_version", &uv, NULL, 0)) != SQLITE_OK ||
		    (rc = query1(c, "SELECT count(*) FROM sqlite_schema", &nobj, NULL, 0)) != SQLITE_OK) {
			rollback(c);
			goto fail;
		}
		rollback(c);
		if (appid != 0 || uv != 0 || nobj != 0)
			break;
		what = "creating";
		char mode[16];
		/* auto_vacuum first: it cannot change once page 1 exists (the WAL switch writes it) */
		if ((rc = exec(c, "PRAGMA auto_vacuum=INCREMENTAL")) == SQLITE_OK &&
		    (rc = query1(c, "PRAGMA journal_mode=WAL", NULL, mode, sizeof mode)) == SQLITE_OK &&
		    (rc = init_schema(c)) == SQLITE_OK) {
			if ((rc = query1(c, "PRAGMA application_id", &appid, NULL, 0)) != SQLITE_OK ||
			    (rc = query1(c, "PRAGMA user_version", &uv, NULL, 0)) != SQLITE_OK)
				goto fail;
			break;
		}
		if (!is_busy(rc) || attempt + 1 >= CREATE_TRIES)
			goto fail;
		sqlite3_sleep(20 + 40 * attempt);
	}
	if (appid != APP_ID) {
		close_db(c);
		dg_err(err, DG_E_ENV, "cache %s: not a dockergate cache (application_id 0x%llx)", c->disp,
		       (unsigned long long)(uint32_t)appid);
		return OPEN_BAD;
	}
	if (uv > SCHEMA_VERSION) {
		close_db(c);
		return dg_err(err, DG_E_ENV, "cache %s: made by a newer dockergate (schema %lld, this one knows %d)",
			      c->disp, (long long)uv, SCHEMA_VERSION);
	}
	int ok = 0;
	what = "reading the schema";
	if ((rc = schema_ok(c, &ok)) != SQLITE_OK)
		goto fail;
	if (uv != SCHEMA_VERSION || !ok) {
		close_db(c);
		dg_err(err, DG_E_ENV, "cache %s: unexpected schema", c->disp);
		return OPEN_BAD;
	}
	char mode[16] = "";
	what = "setting WAL mode";
	if ((rc = query1(c, "PRAGMA journal_mode=WAL", NULL, mode, sizeof mode)) != SQLITE_OK)
		goto fail;
	if (strcmp(mode, "wal")) {
		close_db(c);
		return dg_err(err, DG_E_ENV, "cache %s: cannot use WAL mode (journal mode '%s')", c->disp, mode);
	}
	/* synchronous=NORMAL: a commit survives kill -9 (not always power loss); the WAL is
	 * cut back to 64 MiB after a checkpoint that could reset it */
	if ((rc = exec(c, "PRAGMA synchronous=NORMAL; PRAGMA cell_size_check=ON; "
			  "PRAGMA journal_size_limit=67108864")) != SQLITE_OK)
		goto fail;

	/* The integrity check: every open for a cache of moderate size, else once a day. */
	int64_t checked = 0;
	what = "reading meta";
	if ((rc = query1(c, "SELECT value FROM meta WHERE key='checked'", &checked, NULL, 0)) != SQLITE_OK)
		goto fail;
	struct stat st;
	uint64_t size = stat(c->path, &st) == 0 ? (uint64_t)st.st_size : 0;
	int64_t now = now_s();
	int old = now - checked >= CHECK_INTERVAL || checked > now;
	if (size <= CHECK_ALWAYS_BYTES || old) {
		char res[256] = "";
		what = "quick_check";
		if ((rc = query1(c, "PRAGMA quick_check(1)", NULL, res, sizeof res)) != SQLITE_OK)
			goto fail;
		if (strcmp(res, "ok")) {
			close_db(c);
			struct dg_buf b = {0};
			dg_buf_put_escaped(&b, res);
			dg_err(err, DG_E_ENV, "cache %s: damaged (quick_check: %s)", c->disp, b.data);
			dg_buf_free(&b);
			return OPEN_BAD;
		}
		if (old) {
			char *sql = dg_xasprintf("UPDATE meta SET value=%lld WHERE key='checked'", (long long)now);
			what = "recording the check";
			rc = exec(c, sql);
			free(sql);
			if (rc != SQLITE_OK && !is_busy(rc))
				goto fail;
		}
	}
	what = "preparing statements";
	if ((rc = prepare_all(c)) != SQLITE_OK)
		goto fail;
	return OPEN_OK;
fail:
	if (is_corrupt(rc)) {
		dg_err(err, DG_E_ENV, "cache %s: %s: %s", c->disp, what, sqlite3_errstr(rc));
		close_db(c);
		return OPEN_BAD;
	}
	sql_err(c, rc, err, what);
	close_db(c);
	return OPEN_ERR;
}

/* SQLite's unix VFS holds a shared fcntl lock on this byte of PATH-shm for as
 * long as a connection has the database open in WAL mode. */
#define SHM_DMS_BYTE 128

/* Takes the -shm "dead man switch" byte exclusively: no other process has the
 * database open (a -shm left by a killed process holds no lock). *fd_out is -1
 * when there is no -shm at all. */
static int lock_alone(struct dg_cache *c, int *fd_out, struct dg_error *err)
{
	*fd_out = -1;
	char *shm = dg_xasprintf("%s-shm", c->path);
	int fd = open(shm, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	free(shm);
	if (fd < 0)
		return 0;
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = SHM_DMS_BYTE, .l_len = 1};
	if (fcntl(fd, F_SETLK, &fl) < 0) {
		struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = SHM_DMS_BYTE, .l_len = 1};
		long pid = fcntl(fd, F_GETLK, &q) == 0 && q.l_type != F_UNLCK ? (long)q.l_pid : 0;
		close(fd);
		char reason[DG_ERR_MSG_MAX];
		snprintf(reason, sizeof reason, "%s", err && err->msg[0] ? err->msg : "cache: damaged");
		return dg_err(err, DG_E_ENV, "%.1500s; but it is open in another process (pid %ld), so not rebuilt now",
			      reason, pid);
	}
	*fd_out = fd;
	return 0;
}

/* Moves the bad file aside (PATH.corrupt, with its -wal and -journal) unless
 * another process already replaced it, or still has it open (then nothing is
 * moved: renaming a database under a live connection would let that connection
 * damage the new one; the last process to let go rebuilds it). */
static int move_aside(struct dg_cache *c, struct dg_error *err)
{
	close_db(c);
	struct stat sb;
	if (stat(c->path, &sb) < 0 || sb.st_dev != c->dev || sb.st_ino != c->ino)
		return 0;
	int lockfd;
	if (lock_alone(c, &lockfd, err) < 0)
		return -1;
	char *bad = dg_xasprintf("%s.corrupt", c->path);
	int rc = 0;
	/* The -wal first: a new file must never meet the old log. */
	static const char *sfx[] = {"-wal", "-journal"};
	for (size_t i = 0; i < 2; i++) {
		char *from = dg_xasprintf("%s%s", c->path, sfx[i]);
		char *to = dg_xasprintf("%s%s", bad, sfx[i]);
		if (rename(from, to) < 0)
			unlink(to); /* no stale -wal may meet the moved file either */
		free(from);
		free(to);
	}
	if (rename(c->path, bad) < 0)
		rc = dg_err_sys(err, DG_E_ENV, errno, "cache %s: damaged, and cannot be moved aside", c->disp);
	char *shm = dg_xasprintf("%s-shm", c->path);
	unlink(shm);
	free(shm);
	shm = dg_xasprintf("%s-shm", bad);
	unlink(shm);
	free(shm);
	free(bad);
	if (lockfd >= 0)
		close(lockfd);
	return rc;
}

/* Opens, rebuilding a bad file (at most twice). */
static int open_loop(struct dg_cache *c, int *rebuilt, struct dg_error *err)
{
	for (int attempt = 0;; attempt++) {
		int r = try_open(c, err);
		if (r != OPEN_BAD)
			return r;
		if (attempt == 2)
			return dg_err_prefix(err, "still damaged after rebuilding");
		if (move_aside(c, err) < 0)
			return -1;
		*rebuilt = 1;
	}
}

int dg_cache_open(const char *path, struct dg_cache **out, int *rebuilt, struct dg_error *err)
{
	int rb = 0;
	*out = NULL;
	if (rebuilt)
		*rebuilt = 0;
	if (!path || !*path)
		return dg_err(err, DG_E_USAGE, "cache: empty path");
	struct dg_cache *c = dg_xcalloc(1, sizeof *c);
	c->path = absolute(path);
	struct dg_buf b = {0};
	dg_buf_put_escaped(&b, c->path ? c->path : path);
	c->disp = dg_buf_steal(&b);
	if (!c->path) {
		dg_err_sys(err, DG_E_ENV, errno, "cache %s: cannot resolve the current directory", c->disp);
		goto fail;
	}
	if (c->path[strlen(c->path) - 1] == '/') {
		dg_err(err, DG_E_USAGE, "cache %s: a directory, not a file path", c->disp);
		goto fail;
	}
	if (make_parents(c, err) < 0 || open_loop(c, &rb, err) < 0)
		goto fail;
	if (rebuilt)
		*rebuilt = rb;
	*out = c;
	return 0;
fail:
	free(c->path);
	free(c->disp);
	free(c);
	return -1;
}

const char *dg_cache_path(const struct dg_cache *c) { return c->path; }
unsigned dg_cache_rebuilds(const struct dg_cache *c) { return c->rebuilds; }

/* After SQLITE_CORRUPT/NOTADB during use: rebuild and carry on. */
static int recover(struct dg_cache *c, struct dg_error *err)
{
	int rb = 0;
	rollback(c);
	if (move_aside(c, err) < 0 || open_loop(c, &rb, err) < 0)
		return -1;
	c->rebuilds++;
	return 0;
}

static int usable(struct dg_cache *c, struct dg_error *err)
{
	if (!c->db)
		return dg_err(err, DG_E_ENV, "cache %s: not open (an earlier rebuild failed)", c->disp);
	return 0;
}

/* ---- get / put ---- */

static void bind_key(sqlite3_stmt *st, const struct key *k)
{
	sqlite3_bind_blob(st, 1, k->sha, 32, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, k->kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, k->version);
}

static void *dup_value(const void *p, size_t len)
{
	void *d = dg_xmalloc(len ? len : 1);
	if (len)
		memcpy(d, p, len);
	return d;
}

static void push_touch(struct dg_cache *c, const struct key *k)
{
	for (size_t i = 0; i < c->ntouch; i++)
		if (key_eq(&c->touch[i], k))
			return;
	if (c->ntouch == c->cap_touch) {
		c->cap_touch = c->cap_touch ? 2 * c->cap_touch : 16;
		c->touch = dg_xreallocarray(c->touch, c->cap_touch, sizeof *c->touch);
	}
	c->touch[c->ntouch++] = *k;
}

/* Deletes a row whose checksum does not match, unless it was rewritten since. */
static int delete_bad(struct dg_cache *c, const struct key *k, const unsigned char *sum, size_t sumlen)
{
	if (c->broken)
		return SQLITE_OK;
	int rc = begin_write(c);
	if (rc != SQLITE_OK)
		return rc;
	bind_key(c->st_del, k);
	sqlite3_bind_blob(c->st_del, 4, sum, (int)sumlen, SQLITE_STATIC);
	rc = sqlite3_step(c->st_del);
	sqlite3_reset(c->st_del);
	sqlite3_clear_bindings(c->st_del);
	rc = rc == SQLITE_DONE ? sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) : rc;
	if (rc != SQLITE_OK)
		rollback(c);
	return rc;
}

int dg_cache_get(struct dg_cache *c, const unsigned char sha[32], const char *kind, uint32_t version,
		 void **data, size_t *len, struct dg_error *err)
{
	*data = NULL;
	*len = 0;
	if (check_kind(kind, err) < 0)
		return -1;
	struct key k;
	make_key(&k, sha, kind, version);
	for (size_t i = c->npend; i-- > 0;)
		if (key_eq(&c->pend[i].k, &k)) {
			*data = dup_value(c->pend[i].data, c->pend[i].len);
			*len = c->pend[i].len;
			c->hits++;
			return 1;
		}
	for (int attempt = 0;; attempt++) {
		if (usable(c, err) < 0)
			return -1;
		sqlite3_stmt *st = c->st_get;
		bind_key(st, &k);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			int64_t last = sqlite3_column_int64(st, 0);
			unsigned char sum[32];
			void *stored = NULL; /* the damaged row's checksum, to delete only that row */
			const void *ssum = sqlite3_column_blob(st, 1);
			size_t ssumlen = (size_t)sqlite3_column_bytes(st, 1);
			const void *v = sqlite3_column_blob(st, 2);
			size_t vlen = (size_t)sqlite3_column_bytes(st, 2);
			int good = ssum && ssumlen == 32 && (v || vlen == 0);
			if (good) {
				checksum(&k, v, vlen, sum);
				good = !memcmp(sum, ssum, 32);
			}
			if (good) {
				*data = dup_value(v, vlen);
				*len = vlen;
			} else {
				stored = dup_value(ssum, ssum ? ssumlen : 0);
			}
			rc = sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			if (rc != SQLITE_OK && *data) {
				free(*data);
				*data = NULL;
				*len = 0;
			}
			if (rc == SQLITE_OK) {
				if (!good) {
					/* Damaged value: a miss; the row goes (errors here change nothing). */
					rc = delete_bad(c, &k, stored, ssumlen);
					free(stored);
					c->misses++;
					if (is_corrupt(rc) && recover(c, err) < 0)
						return -1;
					return 0;
				}
				if (last < now_s() - TOUCH_AGE)
					push_touch(c, &k);
				c->hits++;
				return 1;
			}
			free(stored);
		} else {
			int r2 = sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			if (rc == SQLITE_DONE && r2 == SQLITE_OK) {
				c->misses++;
				return 0;
			}
			if (rc == SQLITE_DONE)
				rc = r2;
		}
		if (is_corrupt(rc)) {
			if (recover(c, err) < 0)
				return -1;
			c->misses++;
			return 0;
		}
		if (!is_busy(rc) || attempt + 1 >= BUSY_RETRIES)
			return sql_err(c, rc, err, "lookup");
	}
}

static void drop_pending(struct dg_cache *c)
{
	for (size_t i = 0; i < c->npend; i++)
		free(c->pend[i].data);
	c->npend = 0;
	c->pend_bytes = 0;
	c->ntouch = 0;
}

int dg_cache_put(struct dg_cache *c, const unsigned char sha[32], const char *kind, uint32_t version,
		 const void *data, size_t len, struct dg_error *err)
{
	if (check_kind(kind, err) < 0)
		return -1;
	if (len > DG_CACHE_VALUE_MAX)
		return dg_err(err, DG_E_LIMIT, "cache: value of %zu bytes is larger than the cap (%u)", len,
			      DG_CACHE_VALUE_MAX);
	if (len && !data)
		return dg_err(err, DG_E_INTERNAL, "cache: put of %zu bytes without data", len);
	if (c->broken) {
		if (err)
			*err = c->broken_err;
		return -1;
	}
	if (c->npend == c->cap_pend) {
		c->cap_pend = c->cap_pend ? 2 * c->cap_pend : 32;
		c->pend = dg_xreallocarray(c->pend, c->cap_pend, sizeof *c->pend);
	}
	struct pending *p = &c->pend[c->npend++];
	make_key(&p->k, sha, kind, version);
	p->data = dup_value(data, len);
	p->len = len;
	checksum(&p->k, data, len, p->sum);
	uint64_t now = now_ms();
	if (c->npend == 1)
		c->first_ms = now;
	c->pend_bytes += len;
	if (c->npend + c->ntouch >= BATCH_OPS || c->pend_bytes >= BATCH_BYTES || now - c->first_ms >= BATCH_MS)
		return dg_cache_flush(c, err);
	return 0;
}

/* One write transaction with everything pending. */
static int write_batch(struct dg_cache *c)
{
	int rc = begin_write(c);
	if (rc != SQLITE_OK)
		return rc;
	c->batches++;
	int64_t now = now_s();
	for (size_t i = 0; i < c->npend && rc == SQLITE_OK; i++) {
		struct pending *p = &c->pend[i];
		bind_key(c->st_put, &p->k);
		sqlite3_bind_int64(c->st_put, 4, now);
		sqlite3_bind_blob(c->st_put, 5, p->sum, 32, SQLITE_STATIC);
		sqlite3_bind_blob64(c->st_put, 6, p->data, p->len, SQLITE_STATIC);
		rc = sqlite3_step(c->st_put);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
		sqlite3_reset(c->st_put);
		sqlite3_clear_bindings(c->st_put);
#ifdef DG_CACHE_TEST_HOOKS
		if (dg_cache_test_row_hook)
			dg_cache_test_row_hook(c->batches, i + 1);
#endif
	}
	for (size_t i = 0; i < c->ntouch && rc == SQLITE_OK; i++) {
		bind_key(c->st_touch, &c->touch[i]);
		sqlite3_bind_int64(c->st_touch, 4, now);
		rc = sqlite3_step(c->st_touch);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
		sqlite3_reset(c->st_touch);
		sqlite3_clear_bindings(c->st_touch);
	}
	const char *mk[] = {"hits", "misses"};
	uint64_t d[] = {c->hits - c->hits_done, c->misses - c->misses_done};
	for (int i = 0; i < 2 && rc == SQLITE_OK; i++) {
		if (!d[i])
			continue;
		sqlite3_bind_text(c->st_meta_add, 1, mk[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(c->st_meta_add, 2, (int64_t)d[i]);
		rc = sqlite3_step(c->st_meta_add);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
		sqlite3_reset(c->st_meta_add);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		rollback(c);
	return rc;
}

int dg_cache_flush(struct dg_cache *c, struct dg_error *err)
{
	if (!c->npend && !c->ntouch && c->hits == c->hits_done && c->misses == c->misses_done)
		return 0;
	if (c->broken) {
		drop_pending(c);
		if (err)
			*err = c->broken_err;
		return -1;
	}
	int rc = SQLITE_OK;
	for (int attempt = 0;; attempt++) {
		if (usable(c, err) < 0) {
			drop_pending(c);
			return -1;
		}
		rc = write_batch(c);
		if (!is_corrupt(rc) || attempt == 1)
			break;
		if (recover(c, err) < 0) {
			drop_pending(c);
			return -1;
		}
	}
	if (rc == SQLITE_OK) {
		drop_pending(c);
		c->hits_done = c->hits;
		c->misses_done = c->misses;
		return 0;
	}
	size_t n = c->npend;
	drop_pending(c);
	sql_err(c, rc, err, "writing");
	dg_err_prefix(err, "%zu entries not stored", n);
	if (!is_busy(rc)) { /* full disk, read-only file, I/O error: stop writing */
		c->broken = 1;
		c->broken_err = *err;
	}
	return -1;
}

void dg_cache_close(struct dg_cache *c)
{
	if (!c)
		return;
	struct dg_error e = DG_ERROR_INIT;
	dg_cache_flush(c, &e);
	drop_pending(c);
	close_db(c);
	free(c->pend);
	free(c->touch);
	free(c->path);
	free(c->disp);
	free(c);
}

/* ---- maintenance ---- */

static uint64_t file_size(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

static int stats_query(struct dg_cache *c, struct dg_cache_stats *st)
{
	sqlite3_stmt *q;
	int rc = sqlite3_prepare_v2(c->db,
				    "SELECT kind, version, count(*), sum(length(value)) FROM entries "
				    "GROUP BY kind, version ORDER BY kind, version",
				    -1, &q, NULL);
	if (rc != SQLITE_OK)
		return rc;
	size_t cap = 0;
	size_t ncur;
	const struct dg_cache_kind *cur = dg_cache_current_kinds(&ncur);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (st->nkinds == cap) {
			cap = cap ? 2 * cap : 8;
			st->kinds = dg_xreallocarray(st->kinds, cap, sizeof *st->kinds);
		}
		struct dg_cache_kind_stats *k = &st->kinds[st->nkinds++];
		memset(k, 0, sizeof *k);
		const char *kind = (const char *)sqlite3_column_text(q, 0);
		snprintf(k->kind, sizeof k->kind, "%s", kind ? kind : "");
		k->version = (uint32_t)sqlite3_column_int64(q, 1);
		k->entries = (uint64_t)sqlite3_column_int64(q, 2);
		k->bytes = (uint64_t)sqlite3_column_int64(q, 3);
		for (size_t i = 0; i < ncur; i++)
			if (!strcmp(cur[i].kind, k->kind) && cur[i].version == k->version)
				k->current = 1;
		st->entries += k->entries;
		st->bytes += k->bytes;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return rc;
	rc = sqlite3_prepare_v2(c->db, "SELECT key, value FROM meta", -1, &q, NULL);
	if (rc != SQLITE_OK)
		return rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(q, 0);
		int64_t v = sqlite3_column_int64(q, 1);
		if (!key)
			continue;
		if (!strcmp(key, "hits"))
			st->total_hits = (uint64_t)v;
		else if (!strcmp(key, "misses"))
			st->total_misses = (uint64_t)v;
		else if (!strcmp(key, "created"))
			st->created = v;
		else if (!strcmp(key, "checked"))
			st->checked = v;
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int dg_cache_stats(struct dg_cache *c, struct dg_cache_stats *st, struct dg_error *err)
{
	memset(st, 0, sizeof *st);
	struct dg_error fe = DG_ERROR_INIT;
	dg_cache_flush(c, &fe); /* stats of what could be written; a failed write is the writer's error */
	for (int attempt = 0;; attempt++) {
		if (usable(c, err) < 0)
			return -1;
		int rc = exec(c, "BEGIN"); /* one snapshot for both queries */
		if (rc == SQLITE_OK)
			rc = stats_query(c, st);
		rollback(c);
		if (rc == SQLITE_OK)
			break;
		dg_cache_stats_free(st);
		if (is_corrupt(rc) && attempt == 0) {
			if (recover(c, err) < 0)
				return -1;
			continue;
		}
		return sql_err(c, rc, err, "reading statistics");
	}
	char *wal = dg_xasprintf("%s-wal", c->path);
	st->file_bytes = file_size(c->path) + file_size(wal);
	free(wal);
	st->hits = c->hits;
	st->misses = c->misses;
	return 0;
}

void dg_cache_stats_free(struct dg_cache_stats *st)
{
	free(st->kinds);
	st->kinds = NULL;
	st->nkinds = 0;
}

/* Gives free pages back and resets the WAL so the file shrinks (best effort). */
static void shrink(struct dg_cache *c)
{
	sqlite3_exec(c->db, "PRAGMA incremental_vacuum", NULL, NULL, NULL);
	sqlite3_exec(c->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
}

static int delete_where(struct dg_cache *c, const struct dg_cache_kind *current, size_t ncurrent,
			uint64_t max_age, int clear, uint64_t *removed)
{
	struct dg_buf q = {0};
	dg_buf_puts(&q, "DELETE FROM entries WHERE ");
	if (clear) {
		dg_buf_puts(&q, "1");
	} else {
		dg_buf_puts(&q, "NOT (0");
		for (size_t i = 0; i < ncurrent; i++)
			dg_buf_printf(&q, " OR (kind=?%zu AND version=?%zu)", 2 * i + 2, 2 * i + 3);
		dg_buf_puts(&q, ")");
		if (max_age)
			dg_buf_puts(&q, " OR last_used < ?1");
	}
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(c->db, q.data, -1, &st, NULL);
	dg_buf_free(&q);
	if (rc != SQLITE_OK)
		return rc;
	if (!clear) {
		int64_t now = now_s();
		int64_t cutoff = max_age >= (uint64_t)now ? INT64_MIN : now - (int64_t)max_age;
		sqlite3_bind_int64(st, 1, cutoff);
		for (size_t i = 0; i < ncurrent; i++) {
			sqlite3_bind_text(st, (int)(2 * i + 2), current[i].kind, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, (int)(2 * i + 3), current[i].version);
		}
	}
	rc = begin_write(c);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
		if (removed)
			*removed = (uint64_t)sqlite3_changes64(c->db);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_OK && clear)
		rc = sqlite3_exec(c->db, "UPDATE meta SET value=0 WHERE key IN ('hits', 'misses')", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		rollback(c);
		if (removed)
			*removed = 0;
	}
	return rc;
}

static int maintain(struct dg_cache *c, const struct dg_cache_kind *current, size_t ncurrent, uint64_t max_age,
		    int clear, uint64_t *removed, struct dg_error *err)
{
	if (removed)
		*removed = 0;
	for (size_t i = 0; i < ncurrent; i++)
		if (check_kind(current[i].kind, err) < 0)
			return -1;
	if (clear) {
		drop_pending(c);
		c->hits_done = c->hits;
		c->misses_done = c->misses;
	} else if (dg_cache_flush(c, err) < 0 && !c->db) {
		return -1;
	}
	for (int attempt = 0;; attempt++) {
		if (usable(c, err) < 0)
			return -1;
		int rc = delete_where(c, current, ncurrent, max_age, clear, removed);
		if (rc == SQLITE_OK)
			break;
		if (is_corrupt(rc) && attempt == 0) {
			if (recover(c, err) < 0)
				return -1;
			continue;
		}
		return sql_err(c, rc, err, clear ? "clearing" : "pruning");
	}
	shrink(c);
	return 0;
}

int dg_cache_prune(struct dg_cache *c, const struct dg_cache_kind *current, size_t ncurrent, uint64_t max_age,
		   uint64_t *removed, struct dg_error *err)
{
	return maintain(c, current, ncurrent, max_age, 0, removed, err);
}

int dg_cache_clear(struct dg_cache *c, struct dg_error *err) { return maintain(c, NULL, 0, 0, 1, NULL, err); }
