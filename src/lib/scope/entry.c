/* Entrypoint resolution (entry.h). */
#include <stdlib.h>
#include <string.h>

#include "dockergate/entry.h"
#include "dockergate/util.h"

static int is_exec_file(struct dg_fs *fs, const char *p)
{
	struct dg_node *n;
	struct dg_error e = DG_ERROR_INIT;
	return dg_fs_resolve(fs, p, NULL, 0, &n, &e) == 0 && n->type == DG_F_REG && (dg_node_mode(n) & 0111);
}

int dg_entry_lookup(struct dg_fs *fs, const char *name, const char *path_env, const char *workdir,
		    char **out, struct dg_error *err)
{
	if (!*name)
		return dg_err(err, DG_E_INPUT, "entrypoint: empty program name");
	if (strchr(name, '/')) {
		char *p = name[0] == '/' ? dg_xstrdup(name)
					 : dg_xasprintf("%s/%s", workdir && *workdir ? workdir : "/", name);
		if (!is_exec_file(fs, p)) {
			dg_err(err, DG_E_INPUT, "entrypoint: %s: no such executable file in the image", p);
			free(p);
			return -1;
		}
		*out = p;
		return 0;
	}
	dg_autofree char *copy = dg_xstrdup(path_env ? path_env : DG_DEFAULT_PATH);
	char *save = NULL;
	for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char *p = dg_xasprintf("%s/%s", d, name);
		if (d[0] == '/' && is_exec_file(fs, p)) {
			*out = p;
			return 0;
		}
		free(p);
	}
	return dg_err(err, DG_E_INPUT, "entrypoint: %s: not found in PATH (%s)", name,
		      path_env ? path_env : DG_DEFAULT_PATH);
}

int dg_entry_shebang(struct dg_fs *fs, const char *path, char **interp, char **arg)
{
	struct dg_node *n;
	struct dg_error e = DG_ERROR_INIT;
	const unsigned char *p;
	size_t len;
	if (dg_fs_resolve(fs, path, NULL, 0, &n, &e) < 0 || !n->inode || n->inode->kind != DG_CONTENT_SCRIPT ||
	    dg_fs_content(fs, n, &p, &len, &e) < 0 || len < 3)
		return 0;
	size_t end = 2;
	while (end < len && end < 256 && p[end] != '\n') /* the kernel reads at most 256 bytes */
		end++;
	dg_autofree char *line = dg_xstrndup((const char *)p + 2, end - 2);
	char *s = line + strspn(line, " \t");
	size_t il = strcspn(s, " \t\r");
	if (!il)
		return 0;
	*interp = dg_xstrndup(s, il);
	s += il;
	s += strspn(s, " \t");
	size_t al = strlen(s);
	while (al && (s[al - 1] == ' ' || s[al - 1] == '\t' || s[al - 1] == '\r'))
		al--;
	*arg = al ? dg_xstrndup(s, al) : NULL;
	return 1;
}

const char *dg_entry_path_env(const struct dg_image_config *cf)
{
	const char *path_env = NULL;
	for (size_t i = 0; i < cf->env.n; i++)
		if (!strncmp(cf->env.v[i], "PATH=", 5))
			path_env = cf->env.v[i] + 5;
	return path_env;
}

int dg_entry_roots(struct dg_fs *fs, const struct dg_image_config *cf, struct dg_strv *roots,
		   struct dg_error *err)
{
	/* the engine runs Entrypoint + Cmd; Cmd alone when Entrypoint is empty */
	const char *argv0 = cf->entrypoint.n ? cf->entrypoint.v[0] : cf->cmd.n ? cf->cmd.v[0] : NULL;
	if (!argv0)
		return dg_err(err, DG_E_INPUT, "entrypoint: the image config has neither Entrypoint nor Cmd");
	const char *path_env = dg_entry_path_env(cf);
	char *prog;
	if (dg_entry_lookup(fs, argv0, path_env, cf->working_dir, &prog, err) < 0)
		return -1;
	for (int depth = 0;; depth++) {
		dg_strv_push(roots, prog);
		char *interp = NULL, *arg = NULL;
		if (!dg_entry_shebang(fs, prog, &interp, &arg)) {
			free(prog);
			break;
		}
		free(prog);
		if (depth == 4) {
			free(interp);
			free(arg);
			return dg_err(err, DG_E_INPUT, "entrypoint: more than 4 levels of #! interpreters");
		}
		int rc = dg_entry_lookup(fs, interp, NULL, "/", &prog, err);
		if (rc == 0 && arg && strrchr(interp, '/') && !strcmp(strrchr(interp, '/'), "/env") &&
		    arg[0] != '-') {
			/* "#!/usr/bin/env NAME": env finds NAME in its PATH */
			dg_strv_push(roots, prog);
			free(prog);
			rc = dg_entry_lookup(fs, arg, path_env, cf->working_dir, &prog, err);
		}
		free(interp);
		free(arg);
		if (rc < 0)
			return dg_err_prefix(err, "#! interpreter");
	}
	return 0;
}
