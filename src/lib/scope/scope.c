/* The entrypoint scope (scope.h): the closure of what can run from the image
 * config's Entrypoint + Cmd, analysed program by program. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scope/dlrules.h"
#include "dockergate/entry.h"
#include "dockergate/graph.h"
#include "dockergate/scope.h"
#include "scope/shparse.h"
#include "dockergate/map.h"
#include "dockergate/util.h"

#define MAX_DEPTH 24       /* nested runs (script -> wrapper -> script ...) */
#define MAX_PROBLEMS 200
#define MAX_SCRIPT (4u << 20) /* bytes of a script parsed */

/* The positional parameters of the script being followed. */
struct pos {
	const struct dg_sh_word *args; /* $1 .. */
	size_t nargs;
	int modified;            /* the script has `shift` or `set --` */
	struct dg_strv set_words; /* first static words of its `set --` commands */
};

struct cl {
	struct dg_objdb *db;
	struct dg_fs *fs;
	enum dg_exec_fallback fb;
	struct dg_scope *s;
	struct dg_map seen;     /* canonical path -> item */
	struct dg_map named;    /* path as named (what is analysed) -> item */
	struct dg_map parsed;   /* scripts whose commands were followed */
	struct dg_map functions; /* functions defined by any script followed (sourced files define them) */
	unsigned char *known;   /* per item: the programs it runs are followed (a shell with its script, a wrapper) */
	size_t cap;
	struct dg_strv pending; /* programs to analyse */
	int glibc_done;         /* NSS, gconv and libgcc_s modules added */
	int lib_done;           /* library rules whose modules are added (dlrules.h DG_DL_LIB_* bits) */
	int libwrap_done;       /* libwrap's hosts.allow/hosts.deny commands followed */
	int lighttpd_read;      /* lighttpd's configuration read, its commands followed */
	int haproxy_read;       /* haproxy's configuration read: */
	int haproxy_lua;        /* a lua-load* line (its external checks and programs are followed) */
	struct dg_strv cfg_prog, cfg_file; /* parallel: a server and a configuration file its command line names */
	struct dg_strv cfg_default; /* servers also run without naming one (or with words not static) */
	const char *workdir;
	const char *path_env;   /* the image config's PATH: what programs inherit */
	size_t *loaders;        /* targets (of the result) that dlopen names nobody knows */
	size_t nloaders;
};

static void problem(struct cl *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct cl *c, const char *fmt, ...)
{
	if (c->s->problems.n >= MAX_PROBLEMS)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *m;
	if (vasprintf(&m, fmt, ap) < 0)
		abort();
	va_end(ap);
	dg_strv_push(&c->s->problems, m);
	free(m);
}

static void all_programs(struct cl *c, const char *why)
{
	if (!c->s->all_programs_why)
		c->s->all_programs_why = dg_xstrdup(why);
}

/* KEY: the file's canonical path (one item per file), PATH: as it was named */
static size_t add_item_key(struct cl *c, const char *key, const char *path, int kind, int edge, const char *why,
			   size_t parent, int *fresh)
{
	size_t i = dg_map_get(&c->seen, key, strlen(key));
	*fresh = i == SIZE_MAX;
	if (!*fresh) {
		dg_map_put(&c->named, path, strlen(path), i);
		return i;
	}
	struct dg_scope *s = c->s;
	if (s->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 32;
		s->v = dg_xreallocarray(s->v, c->cap, sizeof *s->v);
		c->known = dg_xrealloc(c->known, c->cap);
	}
	i = s->n++;
	s->v[i] = (struct dg_scope_item){dg_xstrdup(path), kind, dg_xstrdup(why), parent, edge};
	c->known[i] = 0;
	dg_map_put(&c->seen, key, strlen(key), i);
	dg_map_put(&c->named, path, strlen(path), i);
	if (kind == DG_SI_PROGRAM)
		dg_strv_push(&c->pending, path);
	return i;
}

/* EDGE: how it is reached from PARENT (enum dg_scope_edge) */
static size_t add_item(struct cl *c, const char *path, int kind, int edge, const char *why, size_t parent, int *fresh)
{
	struct dg_node *nd;
	struct dg_error e = DG_ERROR_INIT;
	if (dg_fs_resolve(c->fs, path, NULL, 0, &nd, &e) < 0)
		return add_item_key(c, path, path, kind, edge, why, parent, fresh);
	dg_autofree char *canon = dg_node_path(nd);
	return add_item_key(c, canon, path, kind, edge, why, parent, fresh);
}

static const char *base(const char *p)
{
	const char *b = strrchr(p, '/');
	return b ? b + 1 : p;
}

static int in(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return 1;
	return 0;
}

static const char *const shells[] = {"sh", "dash", "bash", "ash", "rbash", NULL};

/* Programs whose only exec runs themselves again: nginx's binary upgrade (SIGUSR2:
 * ngx_execute of ngx_argv[0]) and redis-server's restart (restartServer: execve of
 * server.executable, its own absolute path). docs/design.md "Scopes". */
static const char *const self_exec[] = {"nginx", "redis-server", NULL};

/* "$@", "$1", "${1}", ... as a whole word: which positional parameter (0: all), or -1. */
static int positional(const char *raw)
{
	size_t n = strlen(raw);
	char t[32];
	if (n >= sizeof t)
		return -1;
	memcpy(t, raw, n + 1);
	if (n >= 2 && t[0] == '"' && t[n - 1] == '"') {
		memmove(t, t + 1, n - 2);
		t[n - 2] = 0;
	}
	if (!strcmp(t, "$@") || !strcmp(t, "${@}") || !strcmp(t, "$*") || !strcmp(t, "${*}"))
		return 0;
	if (t[0] == '$' && t[1] >= '1' && t[1] <= '9' && !t[2])
		return t[1] - '0';
	if (t[0] == '$' && t[1] == '{' && t[2] >= '1' && t[2] <= '9' && t[3] == '}' && !t[4])
		return t[2] - '0';
	return -1;
}

static void run_cmd(struct cl *c, const struct dg_sh_word *w, size_t n, const char *path_env, int edge,
		    const char *why, size_t parent, const struct pos *pos, int depth);

static struct dg_sh_word *words_of(char *const *v, size_t n)
{
	struct dg_sh_word *w = dg_xcalloc(n ? n : 1, sizeof *w);
	for (size_t i = 0; i < n; i++)
		w[i] = (struct dg_sh_word){v[i], 0};
	return w;
}

/* Runs W[0..N) where W[0] is a positional parameter of the script being followed. */
static void run_positional(struct cl *c, int which, const struct dg_sh_word *w, size_t n, const char *path_env,
			   int edge, const char *why, size_t parent, const struct pos *pos, int depth)
{
	if (!pos->modified) {
		/* exactly the script's arguments: "$@" expands to all of them, "$K" to one */
		size_t from = which ? (size_t)which - 1 : 0, cnt = which ? 1 : pos->nargs;
		if (from >= pos->nargs)
			return; /* empty: nothing runs */
		if (from + cnt > pos->nargs)
			cnt = pos->nargs - from;
		struct dg_sh_word *x = dg_xcalloc(cnt + n, sizeof *x);
		memcpy(x, pos->args + from, cnt * sizeof *x);
		memcpy(x + cnt, w + 1, (n - 1) * sizeof *x);
		run_cmd(c, x, cnt + n - 1, path_env, edge, why, parent, NULL, depth + 1);
		free(x);
		return;
	}
	/* shift / set -- changed them: each argument that names a program, and each `set --`
	 * word, may be the command */
	for (size_t i = 0; i < pos->nargs; i++) {
		char *p;
		struct dg_error e = DG_ERROR_INIT;
		if (!pos->args[i].dynamic && dg_entry_lookup(c->fs, pos->args[i].text, path_env, c->workdir, &p, &e) == 0) {
			free(p);
			run_cmd(c, &pos->args[i], 1, path_env, edge, why, parent, NULL, depth + 1);
		}
	}
	for (size_t i = 0; i < pos->set_words.n; i++) {
		struct dg_sh_word x = {pos->set_words.v[i], 0};
		run_cmd(c, &x, 1, path_env, edge, why, parent, NULL, depth + 1);
	}
	for (size_t i = 0; i < pos->nargs; i++)
		if (pos->args[i].dynamic) {
			all_programs(c, "a script's argument that may be run as a command is not static");
			break;
		}
}

static char *path_subst(const char *p, const char *inherited)
{
	const char *ph = "${PATH}";
	struct dg_buf b = {0};
	for (const char *q; (q = strstr(p, ph));) {
		dg_buf_append(&b, p, (size_t)(q - p));
		dg_buf_puts(&b, inherited ? inherited : DG_DEFAULT_PATH);
		p = q + strlen(ph);
	}
	dg_buf_puts(&b, p);
	dg_buf_putc(&b, 0);
	return dg_buf_steal(&b);
}

/* A file a script names (`. FILE`, `sh FILE`): a path relative to WorkingDir, else PATH, else WorkingDir. */
static char *find_script(struct cl *c, const char *name, const char *path_env)
{
	struct dg_error e = DG_ERROR_INIT;
	struct dg_node *nd;
	char *p = name[0] == '/' ? dg_xstrdup(name) : dg_xasprintf("%s/%s", c->workdir, name);
	if (dg_fs_resolve(c->fs, p, NULL, 0, &nd, &e) == 0 && nd->type == DG_F_REG)
		return p;
	free(p);
	if (strchr(name, '/'))
		return NULL;
	dg_autofree char *copy = dg_xstrdup(path_env ? path_env : DG_DEFAULT_PATH);
	for (char *save = NULL, *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		p = dg_xasprintf("%s/%s", d, name);
		if (dg_fs_resolve(c->fs, p, NULL, 0, &nd, &e) == 0 && nd->type == DG_F_REG)
			return p;
		free(p);
	}
	return NULL;
}

static void follow_script(struct cl *c, const char *text, size_t len, enum dg_sh_dialect d, const char *where,
			  const char *path_env, size_t parent, const struct dg_sh_word *args, size_t nargs,
			  int depth);

static void follow_file(struct cl *c, const char *path, enum dg_sh_dialect d, int edge, const char *why, const char *path_env,
			size_t parent, const struct dg_sh_word *args, size_t nargs, int depth)
{
	int fresh;
	size_t idx = add_item(c, path, DG_SI_SCRIPT, edge, why, parent, &fresh);
	(void)fresh;
	if (dg_map_get(&c->parsed, path, strlen(path)) != SIZE_MAX)
		return; /* followed already (its commands do not depend on who runs it, but for "$@") */
	dg_map_put(&c->parsed, path, strlen(path), idx);
	struct dg_error e = DG_ERROR_INIT;
	struct dg_node *nd;
	const unsigned char *p;
	size_t len;
	if (dg_fs_resolve(c->fs, path, NULL, 0, &nd, &e) < 0 || !nd->inode) {
		problem(c, "%s: cannot be read", path);
		return;
	}
	if (nd->inode->kind == DG_CONTENT_NONE || dg_fs_content(c->fs, nd, &p, &len, &e) < 0) {
		/* only ELF files and "#!" scripts are kept: a script without "#!" run by a shell */
		problem(c, "%s: a shell script without \"#!\": its commands are not known", path);
		all_programs(c, "a shell script whose text is not kept (no \"#!\" line) runs unknown commands");
		return;
	}
	if (len > MAX_SCRIPT) {
		problem(c, "%s: larger than %u MiB: not parsed", path, MAX_SCRIPT >> 20);
		all_programs(c, "a script too large to parse");
		return;
	}
	follow_script(c, (const char *)p, len, d, path, path_env, idx, args, nargs, depth);
}

static void follow_script(struct cl *c, const char *text, size_t len, enum dg_sh_dialect d, const char *where,
			  const char *path_env, size_t parent, const struct dg_sh_word *args, size_t nargs,
			  int depth)
{
	if (depth > MAX_DEPTH) {
		problem(c, "%s: nested more than %d levels deep: not followed", where, MAX_DEPTH);
		all_programs(c, "scripts nested too deeply");
		return;
	}
	struct dg_sh_script sc;
	struct dg_error e = DG_ERROR_INIT;
	dg_sh_parse(text, len, d, &sc, &e);
	for (size_t i = 0; i < sc.nfunctions; i++)
		dg_map_put(&c->functions, sc.functions[i], strlen(sc.functions[i]), 1);
	for (size_t i = 0; i < sc.nproblems && i < 5; i++)
		problem(c, "%s:%u: %s", where, sc.problems[i].line, sc.problems[i].msg);
	if (sc.truncated)
		all_programs(c, "a script too large to parse completely");
	struct pos pos = {args, nargs, 0, {0}};
	for (size_t i = 0; i < sc.ncmds; i++) {
		const struct dg_sh_cmd *k = &sc.cmds[i];
		const char *a0 = k->argv[0].dynamic ? NULL : k->argv[0].text;
		if (a0 && !strcmp(a0, "shift"))
			pos.modified = 1;
		if (a0 && !strcmp(a0, "set"))
			for (size_t j = 1; j < k->argc; j++)
				if (!k->argv[j].dynamic && !strcmp(k->argv[j].text, "--")) {
					pos.modified = 1;
					for (size_t m = j + 1; m < k->argc; m++)
						if (!k->argv[m].dynamic) {
							dg_strv_push(&pos.set_words, k->argv[m].text);
							break;
						}
					break;
				}
	}
	for (size_t i = 0; i < sc.ncmds; i++) {
		const struct dg_sh_cmd *k = &sc.cmds[i];
		char why[512];
		snprintf(why, sizeof why, "run by %s line %u", where, k->line);
		if (k->flags & DG_SH_LOOKUP)
			continue;
		if (k->flags & DG_SH_SOURCE) {
			if (k->argc < 2)
				continue;
			if (k->argv[1].dynamic) {
				problem(c, "%s:%u: `. %s`: the file is not static", where, k->line, k->argv[1].text);
				all_programs(c, "a script sources a file whose name is not static");
				continue;
			}
			dg_autofree char *f = find_script(c, k->argv[1].text, path_env);
			if (!f) {
				problem(c, "%s:%u: `. %s`: not in the image", where, k->line, k->argv[1].text);
				continue;
			}
			char swhy[600];
			snprintf(swhy, sizeof swhy, "sourced by %s line %u", where, k->line);
			follow_file(c, f, d, DG_SE_SOURCES, swhy, path_env, parent, args, nargs, depth + 1);
			continue;
		}
		if (!dg_sh_cmd_runs_program(k)) {
			if (!k->argv[0].dynamic && !strcmp(k->argv[0].text, "eval"))
				for (size_t j = 1; j < k->argc; j++)
					if (k->argv[j].dynamic) {
						problem(c, "%s:%u: eval of a string that is not static", where, k->line);
						all_programs(c, "a script evals a string that is not static");
						break;
					}
			continue;
		}
		/* the PATH the command is looked up in */
		dg_autofree char *pv = NULL;
		if (k->flags & DG_SH_DEFAULT_PATH)
			pv = dg_xstrdup(DG_DEFAULT_PATH);
		else if (!k->path)
			pv = path_env ? dg_xstrdup(path_env) : NULL;
		else if (!*k->path)
			pv = NULL;
		else
			pv = path_subst(k->path, path_env);
		for (size_t j = 0; j < k->nassigns; j++)
			if (!k->assigns[j].dynamic && !strncmp(k->assigns[j].text, "PATH=", 5)) {
				free(pv);
				pv = path_subst(k->assigns[j].text + 5, path_env);
			}
		if (k->path && !*k->path && !(k->flags & DG_SH_DEFAULT_PATH) && !k->argv[0].dynamic &&
		    !strchr(k->argv[0].text, '/')) {
			problem(c, "%s:%u: %s: PATH is not known here", where, k->line, k->argv[0].text);
			all_programs(c, "a script runs a command where its PATH is not known");
			continue;
		}
		/* a function a sourced file defined (sourced files are followed in order) */
		if (!k->argv[0].dynamic && !(k->flags & (DG_SH_COMMAND | DG_SH_EXEC)) &&
		    dg_map_get(&c->functions, k->argv[0].text, strlen(k->argv[0].text)) != SIZE_MAX)
			continue;
		run_cmd(c, k->argv, k->argc, pv ? pv : path_env, DG_SE_RUNS, why, parent, &pos, depth + 1);
	}
	dg_strv_free(&pos.set_words);
	dg_sh_script_free(&sc);
}

/* Option words of wrappers that take a value. */
struct wrapper {
	const char *name;
	const char *const *valued; /* options followed by a value word */
	int skip_words;            /* positional words before the command (gosu USER, timeout DURATION) */
};

static const char *const v_none[] = {NULL};
static const char *const v_env[] = {"-u", "--unset", "-C", "--chdir", "-S", "--split-string", NULL};
static const char *const v_tini[] = {"-p", "-e", NULL};
static const char *const v_dumb[] = {"-r", "--rewrite", NULL};
static const char *const v_nice[] = {"-n", "--adjustment", NULL};
static const char *const v_timeout[] = {"-s", "--signal", "-k", "--kill-after", NULL};
static const char *const v_stdbuf[] = {"-i", "-o", "-e", "--input", "--output", "--error", NULL};
static const char *const v_ionice[] = {"-c", "-n", "--class", "--classdata", NULL};
static const char *const v_runuser[] = {"-u", "-g", "-G", "--user", "--group", "--supp-group", "-s", "--shell", NULL};
static const char *const v_setpriv[] = {"--reuid", "--regid", "--groups", "--inh-caps", "--ambient-caps",
					"--bounding-set", "--securebits", "--pdeathsig", "--selinux-label",
					"--apparmor-profile", "--ruid", "--euid", "--rgid", "--egid", NULL};
static const char *const v_xargs[] = {"-a", "-d", "-E", "-I", "-L", "-n", "-P", "-s", "--arg-file", "--delimiter",
				      "--max-args", "--max-procs", NULL};

static const struct wrapper wrappers[] = {
	{"env", v_env, 0},	   {"tini", v_tini, 0},		{"tini-static", v_tini, 0},
	{"dumb-init", v_dumb, 0},  {"gosu", v_none, 1},		{"su-exec", v_none, 1},
	{"nice", v_nice, 0},	   {"nohup", v_none, 0},	{"timeout", v_timeout, 1},
	{"setsid", v_none, 0},	   {"stdbuf", v_stdbuf, 0},	{"ionice", v_ionice, 0},
	{"setpriv", v_setpriv, 0}, {"runuser", v_runuser, 0},	{"chrt", v_none, 1},
	{"taskset", v_none, 1},	   {"xargs", v_xargs, 0},
};

/* A wrapper's command: the index of its first word in W, or N when none; -1 when a
 * word that decides it is not static. PATH_OUT: env's PATH=... (new string) */
static long wrapper_command(const struct wrapper *wr, const struct dg_sh_word *w, size_t n, char **path_out)
{
	size_t i = 1;
	int skip = wr->skip_words;
	while (i < n) {
		if (w[i].dynamic)
			return -1;
		const char *a = w[i].text;
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (!strcmp(wr->name, "env") && strchr(a, '=') && a[0] != '-') {
			if (!strncmp(a, "PATH=", 5)) {
				free(*path_out);
				*path_out = dg_xstrdup(a + 5);
			}
			i++;
			continue;
		}
		if (a[0] == '-' && a[1]) {
			int valued = in(a, wr->valued);
			if (!strcmp(wr->name, "chrt") || !strcmp(wr->name, "taskset")) {
				i++;
				continue;
			}
			i += valued ? 2 : 1;
			continue;
		}
		break;
	}
	while (skip-- > 0 && i < n) {
		if (w[i].dynamic && !strcmp(wr->name, "timeout"))
			return -1;
		i++;
	}
	return (long)(i > n ? n : i);
}

/* A server's configuration files its command line names (dlrules.h dg_dl_cfg_args), kept
 * for the configuration rules; a word that is not static may name one: a problem line. */
static void cfg_args(struct cl *c, const char *path, const struct dg_sh_word *w, size_t n, const char *why)
{
	if (!dg_dl_cfg_server(path))
		return; /* not a server: nothing to record (cfg_files asks only about servers) */
	const char **v = dg_xcalloc(n, sizeof *v);
	int *dy = dg_xcalloc(n, sizeof *dy);
	for (size_t i = 0; i < n; i++)
		v[i] = w[i].text, dy[i] = w[i].dynamic;
	struct dg_strv files = {0};
	int unknown = dg_dl_cfg_args(path, v, dy, n, c->workdir, &files);
	if (unknown)
		problem(c, "%s: %s: a word of its command line is not static: a configuration file it may name there is "
			   "not read", why, path);
	if ((unknown || !files.n) && !dg_strv_has(&c->cfg_default, path))
		dg_strv_push(&c->cfg_default, path);
	for (size_t i = 0; i < files.n; i++) {
		dg_strv_push(&c->cfg_prog, path);
		dg_strv_push(&c->cfg_file, files.v[i]);
	}
	dg_strv_free(&files);
	free(v);
	free(dy);
}

/* The configuration files recorded for the server PATH (caller frees); returns whether the
 * default files count too: it also ran without naming one, or was not run by a command the
 * closure knows (a fallback's program). */
static int cfg_files(const struct cl *c, const char *path, struct dg_strv *out)
{
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < c->cfg_prog.n; i++)
		if (!strcmp(c->cfg_prog.v[i], path) && !dg_strv_has(out, c->cfg_file.v[i]))
			dg_strv_push(out, c->cfg_file.v[i]);
	return !out->n || dg_strv_has(&c->cfg_default, path);
}

static void run_cmd(struct cl *c, const struct dg_sh_word *w, size_t n, const char *path_env, int edge,
		    const char *why, size_t parent, const struct pos *pos, int depth)
{
	if (!n)
		return;
	if (depth > MAX_DEPTH) {
		problem(c, "%s: nested more than %d levels deep: not followed", why, MAX_DEPTH);
		all_programs(c, "programs nested too deeply to follow");
		return;
	}
	if (w[0].dynamic) {
		int which = positional(w[0].text);
		if (which >= 0 && pos) {
			run_positional(c, which, w, n, path_env, edge, why, parent, pos, depth);
			return;
		}
		problem(c, "%s: the command %s is not static", why, w[0].text);
		all_programs(c, "a command word that is not static");
		return;
	}
	struct dg_error e = DG_ERROR_INIT;
	char *p;
	if (dg_entry_lookup(c->fs, w[0].text, path_env, c->workdir, &p, &e) < 0) {
		problem(c, "%s: %s: not found in the image", why, w[0].text);
		return;
	}
	dg_autofree char *path = p;
	char *interp = NULL, *arg = NULL;
	if (dg_entry_shebang(c->fs, path, &interp, &arg)) {
		/* the kernel runs INTERP [ARG] SCRIPT ARGS... */
		int fresh;
		size_t idx = add_item(c, path, DG_SI_SCRIPT, edge, why, parent, &fresh);
		struct dg_sh_word *x = dg_xcalloc(n + 2, sizeof *x);
		size_t k = 0;
		x[k++] = (struct dg_sh_word){interp, 0};
		if (arg)
			x[k++] = (struct dg_sh_word){arg, 0};
		x[k++] = (struct dg_sh_word){path, 0};
		memcpy(x + k, w + 1, (n - 1) * sizeof *x);
		char iwhy[600];
		snprintf(iwhy, sizeof iwhy, "the \"#!\" interpreter of %s", path);
		c->known[idx] = 1;
		run_cmd(c, x, k + n - 1, path_env, DG_SE_SHEBANG, iwhy, idx, NULL, depth + 1);
		free(x);
		free(interp);
		free(arg);
		return;
	}
	struct dg_node *nd;
	if (dg_fs_resolve(c->fs, path, NULL, 0, &nd, &e) < 0 || !dg_objdb_dyn(c->db, nd)) {
		problem(c, "%s: %s is neither an ELF program nor a \"#!\" script", why, path);
		return;
	}
	/* one item per file (add_item): /bin/sh and /bin/busybox are the same program */
	int fresh;
	size_t idx = add_item(c, path, DG_SI_PROGRAM, edge, why, parent, &fresh);
	cfg_args(c, path, w, n, why);
	if (in(base(path), self_exec) || in(base(w[0].text), self_exec))
		c->known[idx] = 1;
	const char *b = base(w[0].text), *fb = base(path);
	int is_shell = in(b, shells) || in(fb, shells);
	if (is_shell) {
		enum dg_sh_dialect d = !strcmp(b, "bash") || !strcmp(fb, "bash") ? DG_SH_BASH : DG_SH_POSIX;
		size_t i = 1;
		const struct dg_sh_word *cstr = NULL;
		for (; i < n; i++) {
			if (w[i].dynamic)
				break;
			const char *a = w[i].text;
			if (!strcmp(a, "--")) {
				i++;
				break;
			}
			if ((a[0] != '-' && a[0] != '+') || !a[1])
				break;
			if (!strcmp(a, "-o") || !strcmp(a, "+o") || !strcmp(a, "-O") || !strcmp(a, "+O")) {
				i++;
				continue;
			}
			if (a[0] == '-' && a[1] != '-' && strchr(a, 'c')) {
				cstr = i + 1 < n ? &w[i + 1] : NULL;
				i += 2;
				if (!cstr) {
					problem(c, "%s: %s -c without a string", why, w[0].text);
					return;
				}
				break;
			}
		}
		c->known[idx] = 1;
		char swhy[600];
		if (cstr) {
			if (cstr->dynamic) {
				problem(c, "%s: %s -c %s: the string is not static", why, w[0].text, cstr->text);
				all_programs(c, "a shell's -c string is not static");
				return;
			}
			snprintf(swhy, sizeof swhy, "the -c string of %s (%s)", path, why);
			/* $0 is the word after the string, $1.. the rest */
			size_t na = i + 1 < n ? n - i - 1 : 0;
			follow_script(c, cstr->text, strlen(cstr->text), d, swhy, path_env, idx, na ? w + i + 1 : NULL, na,
				      depth + 1);
			return;
		}
		if (i >= n) {
			char r[600];
			snprintf(r, sizeof r, "%s runs without a script or -c: it reads commands from stdin", path);
			problem(c, "%s: %s", why, r);
			all_programs(c, r);
			return;
		}
		if (w[i].dynamic) {
			problem(c, "%s: %s %s: the script is not static", why, w[0].text, w[i].text);
			all_programs(c, "a shell's script name is not static");
			return;
		}
		dg_autofree char *script = find_script(c, w[i].text, path_env);
		if (!script) {
			problem(c, "%s: %s %s: the script is not in the image", why, w[0].text, w[i].text);
			return;
		}
		snprintf(swhy, sizeof swhy, "the script %s runs", path);
		follow_file(c, script, d, DG_SE_RUNS, swhy, path_env, idx, w + i + 1, n - i - 1, depth + 1);
		return;
	}
	for (size_t k = 0; k < sizeof wrappers / sizeof *wrappers; k++) {
		if (strcmp(b, wrappers[k].name) && strcmp(fb, wrappers[k].name))
			continue;
		char *pv = NULL;
		long at = wrapper_command(&wrappers[k], w, n, &pv);
		c->known[idx] = 1;
		if (at < 0) {
			problem(c, "%s: %s: an option or argument that decides what it runs is not static", why, w[0].text);
			all_programs(c, "a wrapper's arguments are not static");
		} else if ((size_t)at < n) {
			char wwhy[600];
			snprintf(wwhy, sizeof wwhy, "run by %s (%s)", path, why);
			dg_autofree char *pe = pv ? path_subst(pv, path_env) : NULL;
			run_cmd(c, w + at, n - (size_t)at, pe ? pe : path_env, DG_SE_RUNS, wwhy, idx, pos, depth + 1);
		}
		free(pv);
		return;
	}
}

/* Servers whose dlopen'd modules their configuration names (dlrules.h dg_dl_config). */
static const char *const config_loaders[] = {"nginx", "apache2", "httpd", "php-fpm", "lighttpd", "mosquitto", "haproxy", NULL};

static int in_prefix(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strncmp(s, *list, strlen(*list)))
			return 1;
	return 0;
}

/* Modules a rule names, as dlopen'd libraries of the closure. */
static void add_modules(struct cl *c, const struct dg_dlmods *m, size_t parent)
{
	for (size_t k = 0; k < m->n; k++) {
		int fresh;
		char *why = dg_xasprintf("dlopen: %s", m->v[k].why);
		add_item(c, m->v[k].path, DG_SI_LIBRARY, DG_SE_DLOPEN, why, parent, &fresh);
		free(why);
		if (fresh)
			dg_strv_push(&c->pending, m->v[k].path);
	}
}

static void follow_shell(struct cl *c, const char *cmd, const char *why, size_t idx, int depth)
{
	struct dg_sh_word w[3] = {{(char *)"/bin/sh", 0}, {(char *)"-c", 0}, {(char *)cmd, 0}};
	run_cmd(c, w, 3, c->path_env, DG_SE_EXEC, why, idx, NULL, depth + 1);
}

/* A command line executed as its words split at blanks (execvp of them, no shell). */
static void run_words(struct cl *c, const char *line, const char *why, size_t idx, int depth)
{
	struct dg_strv words = {0};
	for (const char *p = line; *p;) {
		size_t n = strcspn(p, " \t");
		if (n) {
			char *wd = dg_xstrndup(p, n);
			dg_strv_push(&words, wd);
			free(wd);
		}
		p += n;
		p += strspn(p, " \t");
	}
	struct dg_sh_word *w = words_of(words.v, words.n);
	if (words.n)
		run_cmd(c, w, words.n, c->path_env, DG_SE_EXEC, why, idx, NULL, depth + 1);
	free(w);
	dg_strv_free(&words);
}

/* Whether an object of T's load set other than SKIP imports a symbol named PREFIX*. */
static int imports_prefix(struct cl *c, const struct dg_sc_target *t, size_t skip, const char *prefix)
{
	size_t pl = strlen(prefix);
	for (size_t k = 0; k < t->set->n; k++) {
		if (k == skip || !t->set->objs[k].node)
			continue;
		struct dg_error e = DG_ERROR_INIT;
		const struct dg_elf *el = dg_objdb_elf(c->db, t->set->objs[k].node, &e);
		if (!el)
			return 1; /* not known: it may */
		for (size_t i = 0; i < el->ndynsyms; i++)
			if (el->dynsyms[i].shndx == 0 && el->dynsyms[i].name && !strncmp(el->dynsyms[i].name, prefix, pl))
				return 1;
	}
	return 0;
}

/* Exec rules (docs/design.md "Exec rules"): what configuration or a library's API says an
 * exec call of target T with a name not known can run. Returns 1 when X is answered (what it
 * runs is followed, or it cannot run: nothing), 0 when the caller decides as usual. */
static int exec_rule(struct cl *c, const struct dg_sc_target *t, const struct dg_reach_exec *x, size_t idx, int depth)
{
	const struct dg_ldobj *lo = &t->set->objs[x->obj];
	const char *ob = x->obj != 0 && lo->path ? base(lo->path) : "";
	/* sd-bus's exec transport (bus_socket_exec: execvp of a `unixexec:` bus address's path):
	 * only a process whose code calls sd-bus opens a bus */
	if (!strncmp(ob, "libsystemd.so", 13) && !x->arg && x->callee && !strcmp(x->callee, "execvp") &&
	    !t->reach->dlsym_unknown && !imports_prefix(c, t, x->obj, "sd_bus_"))
		return 1;
	/* libwrap runs the shell commands of hosts.allow and hosts.deny */
	if (!strncmp(ob, "libwrap.so", 10)) {
		if (!c->libwrap_done) {
			c->libwrap_done = 1;
			struct dg_strv cmds, probs;
			dg_ex_libwrap(c->fs, &cmds, &probs);
			for (size_t k = 0; k < probs.n; k++)
				problem(c, "%s: libwrap: %s", t->path, probs.v[k]);
			for (size_t k = 0; k < cmds.n; k++) {
				dg_autofree char *why = dg_xasprintf("exec: libwrap: a hosts.allow/hosts.deny command in %s",
								     lo->path);
				follow_shell(c, cmds.v[k], why, idx, depth);
			}
			dg_strv_free(&cmds);
			dg_strv_free(&probs);
		}
		return 1;
	}
	if (t->library)
		return 0;
	if (!strcmp(base(t->path), "lighttpd")) {
		if (!c->lighttpd_read) {
			c->lighttpd_read = 1;
			struct dg_strv cfgs, shell, bins, probs;
			int defaults = cfg_files(c, t->path, &cfgs);
			dg_ex_lighttpd(c->fs, &cfgs, defaults, &shell, &bins, &probs);
			for (size_t k = 0; k < probs.n; k++)
				problem(c, "%s: %s", t->path, probs.v[k]);
			/* lighttpd's own exec calls: /bin/sh -c for include_shell and piped loggers, the
			 * fastcgi/scgi backends it spawns, and itself (graceful restart re-executes argv[0]) */
			for (size_t k = 0; k < shell.n; k++) {
				dg_autofree char *why = dg_xasprintf("exec: lighttpd: /bin/sh -c \"%s\" (include_shell or a piped logger)",
								     shell.v[k]);
				follow_shell(c, shell.v[k], why, idx, depth);
			}
			for (size_t k = 0; k < bins.n; k++) {
				dg_autofree char *why = dg_xasprintf("exec: lighttpd: bin-path \"%s\"", bins.v[k]);
				run_words(c, bins.v[k], why, idx, depth);
			}
			dg_strv_free(&cfgs);
			dg_strv_free(&shell);
			dg_strv_free(&bins);
			dg_strv_free(&probs);
		}
		return x->obj == 0 && (!x->arg || !strcmp(x->arg, "/bin/sh"));
	}
	if (strcmp(base(t->path), "haproxy"))
		return 0;
	if (!c->haproxy_read) {
		c->haproxy_read = 1;
		struct dg_strv checks, progs, probs;
		struct dg_strv cfgs;
		int defaults = cfg_files(c, t->path, &cfgs);
		dg_ex_haproxy(c->fs, &cfgs, defaults, &c->haproxy_lua, &checks, &progs, &probs);
		dg_strv_free(&cfgs);
		for (size_t k = 0; k < probs.n; k++)
			problem(c, "%s: %s", t->path, probs.v[k]);
		/* haproxy's own execvp: the master re-executing itself (argv[0]: haproxy, in the
		 * closure already), external checks and programs of the configuration */
		for (size_t k = 0; k < checks.n; k++) {
			struct dg_sh_word w[2] = {{checks.v[k], 0}, {(char *)"(its arguments)", 1}};
			dg_autofree char *why = dg_xasprintf("exec: haproxy: external-check command %s", checks.v[k]);
			run_cmd(c, w, 2, c->path_env, DG_SE_EXEC, why, idx, NULL, depth + 1);
		}
		for (size_t k = 0; k < progs.n; k++) {
			dg_autofree char *why = dg_xasprintf("exec: haproxy: program section command %s", progs.v[k]);
			run_words(c, progs.v[k], why, idx, depth);
		}
		dg_strv_free(&checks);
		dg_strv_free(&progs);
		dg_strv_free(&probs);
	}
	if (x->obj == 0 && !x->arg)
		return 1;
	/* Lua's os.execute and io.popen run only when the configuration loads Lua code */
	if (!strncmp(ob, "liblua", 6) && !c->haproxy_lua)
		return 1;
	return 0;
}

/* The programs target T's reachable code runs with constant names (reach.h execs): a
 * system/popen string as `/bin/sh -c STRING`, an exec path or a PATH-searched file as a
 * command with arguments not known. A name not known falls back (unless --exec-fallback
 * none). */
static void follow_execs(struct cl *c, const struct dg_sc_target *t, size_t idx, int depth)
{
	const struct dg_reach *r = t->reach;
	for (size_t i = 0; r && i < r->nexecs; i++) {
		const struct dg_reach_exec *x = &r->execs[i];
		if (x->kind == DG_EXK_LIB || exec_rule(c, t, x, idx, depth))
			continue;
		const char *obj = t->set->objs[x->obj].path ? t->set->objs[x->obj].path : t->path;
		int relative = x->arg && x->kind == DG_EXK_PATH && x->arg[0] != '/';
		if (!x->arg || relative || (x->kind == DG_EXK_FILE && strchr(x->arg, '/') && x->arg[0] != '/')) {
			if (c->fb != DG_EXEC_FALLBACK_IMAGE || c->s->all_programs_why)
				continue;
			char *m = x->arg ? dg_xasprintf("%s runs \"%s\" (%s in %s), a path relative to its working directory",
							t->path, x->arg, x->callee, obj)
					 : dg_xasprintf("%s runs programs chosen at run time (%s in %s%s%s)", t->path, x->callee,
							obj, x->fn_name ? " " : "", x->fn_name ? x->fn_name : "");
			problem(c, "%s", m);
			all_programs(c, m);
			free(m);
			continue;
		}
		char why[600];
		snprintf(why, sizeof why, "exec: %s(\"%.300s\") in %s", x->callee, x->arg, obj);
		if (x->kind == DG_EXK_SHELL) {
			struct dg_sh_word w[3] = {{(char *)"/bin/sh", 0}, {(char *)"-c", 0}, {x->arg, 0}};
			run_cmd(c, w, 3, c->path_env, DG_SE_EXEC, why, idx, NULL, depth + 1);
		} else {
			/* the arguments are not known: a shell or wrapper run so falls back */
			struct dg_sh_word w[2] = {{x->arg, 0}, {(char *)"(its arguments)", 1}};
			run_cmd(c, w, 2, c->path_env, DG_SE_EXEC, why, idx, NULL, depth + 1);
		}
	}
}

/* The modules of the library rules RULES (dlrules.h dg_dl_lib_rule: OpenSSL's engines and
 * providers, SASL's plugins), each once per closure. */
static void add_modules(struct cl *c, const struct dg_dlmods *m, size_t parent);
static void lib_rule(struct cl *c, const struct dg_sc_target *t, size_t idx, int rules)
{
	for (int bit = 1; bit <= DG_DL_LIB_SASL; bit <<= 1) {
		if (!(rules & bit) || (c->lib_done & bit))
			continue;
		c->lib_done |= bit;
		struct dg_dlmods m = {0};
		struct dg_error e2 = DG_ERROR_INIT;
		dg_dl_lib(c->fs, bit, &m, &e2);
		for (size_t k = 0; k < m.problems.n; k++)
			problem(c, "%s: %s", t->path, m.problems.v[k]);
		add_modules(c, &m, idx);
		dg_dlmods_free(&m);
	}
}

/* Whether X, a dlopen of target T, is one a library rule answers: a name not known, called
 * by a library that has a rule. */
static int lib_ruled(const struct dg_sc_target *t, const struct dg_reach_exec *x)
{
	const struct dg_ldobj *lo = &t->set->objs[x->obj];
	return !x->arg && x->obj != 0 && lo->path ? dg_dl_lib_rule(lo->path) : 0;
}

/* The libraries target T's reachable code dlopens by constant names, as dlopen finds them,
 * and the modules of a library rule for a library's dlopen of names not known (OpenSSL's);
 * 0 when another name is not known or not found the way glibc's dlopen searches
 * (RPATH/RUNPATH or LD_LIBRARY_PATH in play, a musl program): the caller falls back.
 * *RULE gets the library rules (DG_DL_LIB_* bits) that answer names not known. */
static int follow_dlopens(struct cl *c, const struct dg_sc_target *t, size_t idx, const struct dg_sc_opts *o, int *rule)
{
	const struct dg_reach *r = t->reach;
	int ok = 1;
	for (size_t i = 0; r && i < r->nexecs; i++)
		if (r->execs[i].kind == DG_EXK_LIB)
			*rule |= lib_ruled(t, &r->execs[i]);
	for (size_t i = 0; ok && r && i < r->nexecs; i++) {
		const struct dg_reach_exec *x = &r->execs[i];
		if (x->kind != DG_EXK_LIB || lib_ruled(t, x))
			continue;
		const struct dg_ldobj *lo = &t->set->objs[x->obj];
		int search = x->arg && !strchr(x->arg, '/');
		int musl = 0;
		for (size_t k = 0; k < t->set->n; k++)
			if (t->set->objs[k].via && !strcmp(t->set->objs[k].via, "interp") && t->set->objs[k].name &&
			    strstr(t->set->objs[k].name, "ld-musl"))
				musl = 1;
		if (!x->arg || !lo->dyn ||
		    (search && (musl || (o->ld_library_path && *o->ld_library_path) || (lo->dyn && (lo->dyn->rpath || lo->dyn->runpath)) ||
				(t->set->objs[0].dyn && t->set->objs[0].dyn->rpath)))) {
			ok = 0;
			break;
		}
		char *p;
		if (!dg_ld_find(c->fs, c->db, x->arg, lo->dyn->machine, lo->dyn->bits, &p, NULL)) {
			problem(c, "%s: dlopen(\"%s\") (%s in %s): not in the image", t->path, x->arg, x->callee,
				lo->path ? lo->path : t->path);
			continue;
		}
		char *why = dg_xasprintf("%s(\"%s\") in %s", x->callee, x->arg, lo->path ? lo->path : t->path);
		int fresh;
		char *w2 = dg_xasprintf("dlopen: %s", why);
		add_item(c, p, DG_SI_LIBRARY, DG_SE_DLOPEN, w2, idx, &fresh);
		if (fresh)
			dg_strv_push(&c->pending, p);
		free(w2);
		free(why);
		free(p);
	}
	return ok;
}

/* Target I of the result dlopens names nobody knows: a process the dlopen fallback's libraries
 * must load into. */
static void add_loader(struct cl *c, size_t i)
{
	c->loaders = dg_xreallocarray(c->loaders, c->nloaders + 1, sizeof *c->loaders);
	c->loaders[c->nloaders++] = i;
}

static int analyse_pending(struct cl *c, const struct dg_sc_opts *o, struct dg_sc_result *total, struct dg_error *err)
{
	while (c->pending.n) {
		struct dg_sc_opts oo = *o;
		oo.paths = c->pending;
		memset(&c->pending, 0, sizeof c->pending);
		struct dg_sc_result *r;
		int rc = dg_sc_analyse(c->db, &oo, &r, err);
		dg_strv_free(&oo.paths);
		if (rc < 0)
			return -1;
		size_t first = total->n;
		dg_sc_absorb(total, r);
		for (size_t i = first; i < total->n; i++) {
			const struct dg_sc_target *t = &total->t[i];
			/* every path analysed was named to add_item first */
			size_t idx = dg_map_get(&c->named, t->path, strlen(t->path));
			/* a library there only because of the dlopen fallback does not widen the closure
			 * further (docs/design.md "Scopes"); one a rule names does */
			/* shells, wrappers and self-exec programs: what they run is followed already; a
			 * library of the dlopen fallback widens nothing ("Scopes") */
			int known = idx != SIZE_MAX && c->known[idx];
			/* (once every executable is in, what programs run adds nothing) */
			if (t->calls_exec && !known && !c->s->all_programs_why)
				follow_execs(c, t, idx, 0);
			if (idx != SIZE_MAX && c->known[idx] == 2)
				continue; /* a library of the dlopen fallback: its own dlopen widens nothing */
			if (t->set && !c->glibc_done)
				for (size_t k = 0; k < t->set->n; k++)
					if (t->set->objs[k].name && !strcmp(t->set->objs[k].name, "libc.so.6") && t->set->objs[k].node) {
						/* glibc itself dlopens NSS modules, gconv modules and libgcc_s */
						c->glibc_done = 1;
						struct dg_dlmods m = {0};
						struct dg_error e2 = DG_ERROR_INIT;
						dg_dl_nss(c->fs, &m, &e2);
						dg_dl_gconv(c->fs, &m, &e2);
						dg_dl_libgcc(c->fs, &m, &e2);
						add_modules(c, &m, idx);
						dg_dlmods_free(&m);
						break;
					}
			if (t->calls_dlopen && c->s->all_libraries_why) {
				/* the fallback fired already: a process it may load into (with constant names
				 * too, it only keeps more) */
				add_loader(c, i);
			} else if (t->calls_dlopen) {
				const char *b = base(t->path);
				int rule = 0;
				int all_known = follow_dlopens(c, t, idx, o, &rule);
				if (rule)
					lib_rule(c, t, idx, rule);
				struct dg_dlmods m = {0};
				if (all_known) {
					/* every name is a constant or a library rule's: those libraries */
				} else if (!t->library && in_prefix(b, config_loaders)) {
					/* a server whose modules its configuration names */
					struct dg_error e2 = DG_ERROR_INIT;
					struct dg_strv cfgs;
					int defaults = cfg_files(c, t->path, &cfgs);
					dg_dl_config_files(c->fs, t->path, &cfgs, defaults, &m, &e2);
					dg_strv_free(&cfgs);
					for (size_t k = 0; k < m.problems.n; k++)
						problem(c, "%s: %s", t->path, m.problems.v[k]);
					add_modules(c, &m, idx);
				}
				if (!all_known && (m.unknown || t->library || !in_prefix(b, config_loaders))) {
					c->s->all_libraries_why = m.unknown ? dg_xasprintf("%s: %s", t->path, m.unknown)
									     : dg_xasprintf("%s calls dlopen", t->path);
					add_loader(c, i);
				}
				dg_dlmods_free(&m);
			}
		}
	}
	return 0;
}

int dg_sc_entrypoint(struct dg_objdb *db, const struct dg_image_config *cf, const struct dg_sc_opts *o,
		     enum dg_exec_fallback fb, struct dg_sc_result **out, struct dg_scope **scope,
		     struct dg_error *err)
{
	const struct dg_strv *argv = cf->entrypoint.n ? &cf->entrypoint : &cf->cmd;
	if (!argv->n)
		return dg_err(err, DG_E_INPUT, "entrypoint: the image config has neither Entrypoint nor Cmd");
	struct cl c = {.db = db, .fs = dg_objdb_fs(db), .fb = fb,
		       .workdir = cf->working_dir && *cf->working_dir ? cf->working_dir : "/"};
	c.s = dg_xcalloc(1, sizeof *c.s);
	const char *path_env = dg_entry_path_env(cf);
	c.path_env = path_env;
	/* the engine runs Entrypoint + Cmd, and Cmd alone when there is no Entrypoint */
	size_t n = cf->entrypoint.n + (cf->entrypoint.n ? cf->cmd.n : 0);
	char **v = dg_xcalloc(n ? n : 1, sizeof *v);
	for (size_t i = 0; i < cf->entrypoint.n; i++)
		v[i] = cf->entrypoint.v[i];
	for (size_t i = 0; cf->entrypoint.n && i < cf->cmd.n; i++)
		v[cf->entrypoint.n + i] = cf->cmd.v[i];
	if (!cf->entrypoint.n) {
		n = cf->cmd.n;
		free(v);
		v = dg_xcalloc(n, sizeof *v);
		for (size_t i = 0; i < n; i++)
			v[i] = cf->cmd.v[i];
	}
	char *p;
	if (dg_entry_lookup(c.fs, v[0], path_env, c.workdir, &p, err) < 0) {
		free(v);
		dg_scope_free(c.s);
		return -1;
	}
	free(p);
	struct dg_sh_word *w = words_of(v, n);
	run_cmd(&c, w, n, path_env, DG_SE_RUNS, "the entrypoint", SIZE_MAX, NULL, 0);
	free(w);
	free(v);
	struct dg_sc_result *total = dg_xcalloc(1, sizeof *total);
	int rc = analyse_pending(&c, o, total, err);
	/* the fallbacks: what the image scope covers (programs first: what they run and load
	 * may call for the libraries' fallback; the libraries' never widens further) */
	struct dg_graph *g = NULL;
	int programs_added = 0, libraries_added = 0;
	if (rc == 0 && (c.s->all_programs_why || c.s->all_libraries_why)) { /* the closure's own tier */
		c.s->tiered = 1;
		memcpy(c.s->closure_native, total->native, sizeof total->native);
		memcpy(c.s->closure_i386, total->i386, sizeof total->i386);
		c.s->closure_has_i386 = total->has_i386;
		c.s->closure_targets = total->n;
	}
	while (rc == 0 && ((c.s->all_programs_why && !programs_added) || (c.s->all_libraries_why && !libraries_added))) {
		struct dg_graph_opts go = {.ld_library_path = o->ld_library_path};
		if (!g && (rc = dg_graph_build(db, &go, &g, err)) < 0)
			break;
		if (c.s->all_programs_why && !programs_added) {
			programs_added = 1;
			for (size_t i = 0; i < g->n; i++) {
				int fresh;
				if (g->nodes[i].kind == DG_GN_EXECUTABLE)
					add_item(&c, g->nodes[i].path, DG_SI_PROGRAM, DG_SE_RUNS, c.s->all_programs_why, SIZE_MAX, &fresh);
			}
		} else {
			libraries_added = 1;
			/* only what can be loaded into a process of the closure (dlrules.h dg_dl_loadable):
			 * every object of every load set analysed so far may be in it */
			const char **cands = dg_xcalloc(g->n ? g->n : 1, sizeof *cands);
			size_t nc = 0;
			for (size_t i = 0; i < g->n; i++)
				if (g->nodes[i].kind == DG_GN_LIBRARY && !g->nodes[i].in)
					cands[nc++] = g->nodes[i].path;
			/* a program that dlopens: its own load set and every library analysed as dlopen'd
			 * (any of them may be in its process); a library that does: every load set */
			const struct dg_ldset **all = dg_xcalloc(total->n ? total->n : 1, sizeof *all);
			const struct dg_ldset **libs = dg_xcalloc(total->n + 1, sizeof *libs);
			size_t nall = 0, nlibs = 1;
			for (size_t i = 0; i < total->n; i++) {
				all[nall++] = total->t[i].set;
				if (total->t[i].library)
					libs[nlibs++] = total->t[i].set;
			}
			struct dg_dl_proc *procs = dg_xcalloc(c.nloaders ? c.nloaders : 1, sizeof *procs);
			const struct dg_ldset ***own = dg_xcalloc(c.nloaders ? c.nloaders : 1, sizeof *own);
			for (size_t k = 0; k < c.nloaders; k++) {
				const struct dg_sc_target *t = &total->t[c.loaders[k]];
				if (t->library) {
					procs[k] = (struct dg_dl_proc){all, nall};
					continue;
				}
				own[k] = dg_xcalloc(nlibs, sizeof **own);
				memcpy(own[k], libs, nlibs * sizeof *libs);
				own[k][0] = t->set;
				procs[k] = (struct dg_dl_proc){own[k], nlibs};
			}
			uint8_t *keep = dg_xcalloc(nc ? nc : 1, 1);
			char **why = dg_xcalloc(nc ? nc : 1, sizeof *why);
			c.s->dl_candidates = nc;
			c.s->dl_loadable = dg_dl_loadable(db, procs, c.nloaders, o->ld_library_path, cands, nc, keep, why);
			for (size_t k = 0; k < c.nloaders; k++)
				free(own[k]);
			free(own);
			free(procs);
			free(libs);
			free(all);
			for (size_t i = 0; i < nc; i++) {
				int fresh;
				if (!keep[i]) {
					char *line = dg_xasprintf("%s: %s", cands[i], why[i] ? why[i] : "cannot be loaded");
					dg_strv_push(&c.s->dl_refused, line);
					free(line);
					free(why[i]);
					continue;
				}
				size_t li = add_item(&c, cands[i], DG_SI_LIBRARY, DG_SE_DLOPEN, c.s->all_libraries_why, SIZE_MAX, &fresh);
				if (fresh) {
					c.known[li] = 2;
					dg_strv_push(&c.pending, cands[i]);
				}
			}
			free(why);
			free(keep);
			free(cands);
		}
		rc = analyse_pending(&c, o, total, err);
	}
	if (g)
		dg_graph_free(g);
	dg_map_free(&c.seen);
	dg_map_free(&c.named);
	dg_map_free(&c.parsed);
	dg_map_free(&c.functions);
	free(c.known);
	free(c.loaders);
	dg_strv_free(&c.pending);
	dg_strv_free(&c.cfg_prog);
	dg_strv_free(&c.cfg_file);
	dg_strv_free(&c.cfg_default);
	if (rc < 0) {
		dg_sc_result_free(total);
		dg_scope_free(c.s);
		return -1;
	}
	*out = total;
	*scope = c.s;
	return 0;
}

void dg_scope_fallback_bits(const struct dg_scope *sc, const struct dg_sc_result *res, uint8_t native[DG_NSYSCALLS / 8],
			    uint8_t i386[DG_NSYSCALLS / 8])
{
	for (size_t i = 0; i < DG_NSYSCALLS / 8; i++) {
		native[i] = sc && sc->tiered ? (uint8_t)(res->native[i] & ~sc->closure_native[i]) : 0;
		i386[i] = sc && sc->tiered ? (uint8_t)(res->i386[i] & ~sc->closure_i386[i]) : 0;
	}
}

const char *dg_scope_item_kind_name(int kind)
{
	static const char *const names[] = {"?", "program", "script", "library"};
	return kind >= DG_SI_PROGRAM && kind <= DG_SI_LIBRARY ? names[kind] : names[0];
}

/* from the reasons this file gives (add_item's WHY) */
const char *dg_scope_edge_kind(const struct dg_scope_item *it)
{
	static const char *const names[] = {[DG_SE_RUNS] = "runs", [DG_SE_SHEBANG] = "#!", [DG_SE_SOURCES] = "sources",
					    [DG_SE_DLOPEN] = "dlopen", [DG_SE_EXEC] = "exec"};
	return it->edge >= 0 && (size_t)it->edge < sizeof names / sizeof *names ? names[it->edge] : "runs";
}

void dg_scope_free(struct dg_scope *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].path);
		free(s->v[i].why);
	}
	free(s->v);
	dg_strv_free(&s->problems);
	free(s->all_programs_why);
	free(s->all_libraries_why);
	dg_strv_free(&s->dl_refused);
	free(s);
}
