/* The image's entrypoint as the root of the analysis: the program a container
 * engine would exec for the config's Entrypoint + Cmd, found the way the
 * engine finds it (PATH from the config's Env, WorkingDir for relative paths),
 * and the interpreters of scripts ("#!"), followed like the kernel does. */
#ifndef DOCKERGATE_ENTRY_H
#define DOCKERGATE_ENTRY_H

#include "dockergate/fs.h"
#include "dockergate/image.h"

#define DG_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Finds NAME as an engine does: a name with a slash is a path (relative to
 * WORKDIR), otherwise each PATH element is tried for an executable regular
 * file. On success *out is the path found (caller frees). */
int dg_entry_lookup(struct dg_fs *fs, const char *name, const char *path_env, const char *workdir,
		    char **out, struct dg_error *err);

/* "#!INTERP [ARG]" of a script kept in the image (the kernel's rules: at most
 * 256 bytes, one optional argument): 1 with *INTERP and *ARG (NULL when none;
 * caller frees), 0 when PATH is not a script. */
int dg_entry_shebang(struct dg_fs *fs, const char *path, char **interp, char **arg);

/* The PATH of an image config's Env, or NULL. */
const char *dg_entry_path_env(const struct dg_image_config *cf);

/* Pushes onto ROOTS the program the container starts and, for scripts, each
 * interpreter of the "#!" chain (at most 4 levels, as the kernel allows),
 * including "/usr/bin/env NAME" lookups. Fails with DG_E_INPUT when the config
 * has neither Entrypoint nor Cmd or the program cannot be found. */
int dg_entry_roots(struct dg_fs *fs, const struct dg_image_config *cf, struct dg_strv *roots,
		   struct dg_error *err);

#endif
