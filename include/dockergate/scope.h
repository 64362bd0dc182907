/* What the analysis covers. The image scope is every executable of the image
 * (so `docker exec` of any program keeps working) plus every library no program
 * loads, as dlopen'd. The entrypoint scope starts from the image config's
 * Entrypoint + Cmd, resolved as the engine does (PATH from Env, WorkingDir), and
 * follows what can run from there: "#!" interpreters (also `/usr/bin/env NAME`),
 * the commands of shell scripts (shparse.h; `. FILE` too), the programs that
 * exec wrappers (env, tini, dumb-init, gosu, su-exec, nice, nohup, timeout,
 * setsid, stdbuf, ionice, setpriv, runuser, chrt, taskset, xargs) are given, and
 * `sh -c STRING`, and what programs run and load by constant names (reach.h
 * execs: system/popen strings as `/bin/sh -c`, exec and posix_spawn paths, dlopen
 * names). Where the closure cannot be known statically it falls back to the image
 * scope, soundly: a program that runs a program whose name is not known (reach.h
 * execs without a name), a shell reading commands from stdin, a command word that
 * is not static, or a PATH the script makes unknown makes every executable
 * reachable; a program that dlopens a library whose name is not known (and no rule
 * covers) makes every library no program loads reachable (as dlopen'd). Each
 * fallback is reported with its reason (docs/design.md "Scopes", "Exec edges"). */
#ifndef DOCKERGATE_SCOPE_H
#define DOCKERGATE_SCOPE_H

#include <stddef.h>

#include "dockergate/syscalls.h"

enum dg_scope_kind { DG_SCOPE_IMAGE = 0, DG_SCOPE_ENTRYPOINT };

/* What a program that runs programs chosen at run time makes reachable. */
enum dg_exec_fallback {
	DG_EXEC_FALLBACK_IMAGE = 0, /* every executable of the image (sound) */
	DG_EXEC_FALLBACK_NONE,      /* nothing more: trust that it runs only programs already in the closure */
};

enum dg_scope_item_kind { DG_SI_PROGRAM = 1, DG_SI_SCRIPT, DG_SI_LIBRARY };

/* How an item is reached from its parent. */
enum dg_scope_edge {
	DG_SE_RUNS = 0, /* runs it as a command (a script's line, a wrapper, a shell's script) */
	DG_SE_SHEBANG,  /* it is the "#!" interpreter of the parent script */
	DG_SE_SOURCES,  /* the parent script sources it (`. FILE`) */
	DG_SE_DLOPEN,   /* the parent loads it with dlopen (a rule, a constant name) */
	DG_SE_EXEC,     /* the parent's machine code runs it (exec family, system, popen, posix_spawn) */
};

struct dg_scope_item {
	char *path;    /* in the image */
	int kind;      /* enum dg_scope_item_kind */
	char *why;     /* how it is reached ("the entrypoint", "run by /start.sh line 12", ...) */
	size_t parent; /* the item that leads here, SIZE_MAX for the entrypoint and fallbacks */
	int edge;      /* enum dg_scope_edge: how PARENT leads here */
};

struct dg_scope {
	struct dg_scope_item *v;
	size_t n;
	struct dg_strv problems;   /* commands that cannot be resolved, dynamic words, ... */
	char *all_programs_why;    /* non-NULL: every executable was added, for this reason */
	char *all_libraries_why;   /* non-NULL: every library no program loads that can be loaded
	                            * into the closure's processes (dlrules.h dg_dl_loadable), for
	                            * this reason */
	size_t dl_candidates, dl_loadable; /* that fallback: libraries no program loads, and kept */
	struct dg_strv dl_refused; /* "PATH: why it cannot be loaded", one per library left out */
	/* Tiers (docs/design.md "Scopes"): set when a fallback fired. The syscalls of the
	 * closure itself, before any fallback, and how many of the result's targets are the
	 * closure's (the first ones; the rest came with the fallbacks). */
	int tiered;
	uint8_t closure_native[DG_NSYSCALLS / 8], closure_i386[DG_NSYSCALLS / 8];
	int closure_has_i386;
	size_t closure_targets;
};

/* What the fallback tier holds: the syscalls of RES (the result of dg_sc_entrypoint) that
 * only the fallbacks' programs and libraries reach (none when SC is not tiered). */
void dg_scope_fallback_bits(const struct dg_scope *sc, const struct dg_sc_result *res, uint8_t native[DG_NSYSCALLS / 8],
			    uint8_t i386[DG_NSYSCALLS / 8]);

/* The entrypoint scope's closure and its analysis: *OUT holds a target per
 * program and library of the closure (dg_sc_result), *SCOPE how each was
 * reached. Fails (DG_E_INPUT) when the config has neither Entrypoint nor Cmd or
 * its program is not in the image. */
int dg_sc_entrypoint(struct dg_objdb *db, const struct dg_image_config *cf, const struct dg_sc_opts *o,
		     enum dg_exec_fallback fb, struct dg_sc_result **out, struct dg_scope **scope,
		     struct dg_error *err);
void dg_scope_free(struct dg_scope *s);
/* "program", "script", "library" */
const char *dg_scope_item_kind_name(int kind);
/* How IT is reached from its parent: "#!", "sources", "dlopen", "exec" or "runs". */
const char *dg_scope_edge_kind(const struct dg_scope_item *it);

#endif
