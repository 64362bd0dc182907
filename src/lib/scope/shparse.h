/* A static parser of shell scripts (POSIX sh/dash/ash and bash): which
 * programs a script can run. Nothing is executed; the parser follows the
 * grammar (lists, pipelines, && ||, subshells, groups, if/while/until/for/
 * case/select, functions, [[ ]], (( ))) and reports every simple command it
 * finds, wherever it is: command substitutions $(...) and `...` (also inside
 * double quotes, assignments and unquoted here-documents), bash's process
 * substitutions <(...) >(...), trap strings, static eval strings and the
 * string of `sh -c` / `bash -c`. See docs/design.md, "Shell scripts".
 *
 * Parse errors never fail the call: the parser records a problem with its
 * line and resumes at the next line, so a damaged script gives partial
 * results. The text need not be NUL-terminated and may hold NUL bytes. */
#ifndef DOCKERGATE_SHPARSE_H
#define DOCKERGATE_SHPARSE_H

#include <stddef.h>

#include "dockergate/error.h"

enum dg_sh_dialect {
	DG_SH_POSIX = 0, /* sh, dash, ash: dash's builtins */
	DG_SH_BASH = 1,  /* bash: [[ ]], (( )), $'..', <(..), arrays, function, source, ... */
};

/* Caps: nesting of constructs ($( $( ..., ( ( ..., ${ ${ ...), words, commands,
 * problems. Reaching the nesting cap resumes at the next top-level line;
 * reaching the others stops the parse (DG_SH_* problems say so, `truncated`). */
#define DG_SH_MAX_DEPTH 64
#define DG_SH_MAX_WORDS 200000
#define DG_SH_MAX_CMDS 100000
#define DG_SH_MAX_PROBLEMS 1000
#define DG_SH_MAX_VARS 1024

/* One word after quote removal. Static: TEXT is its exact value. Dynamic (it
 * holds an unknown expansion: $1, "$@", an unknown variable, ${X#..}, a glob,
 * ~, $((..)), a command substitution's output, a brace expansion): TEXT is
 * the word's raw source text. */
struct dg_sh_word {
	char *text;
	int dynamic;
};

#define DG_SH_EXEC 0x0001u          /* run through `exec` (replaces the shell) */
#define DG_SH_COMMAND 0x0002u       /* run through `command NAME` (skips functions) */
#define DG_SH_VIA_BUILTIN 0x0004u   /* run through `builtin NAME` */
#define DG_SH_BUILTIN 0x0008u       /* a builtin (or [[ ]]) of the dialect: no program runs */
#define DG_SH_FUNCTION_CALL 0x0010u /* argv[0] names a function defined in the script */
#define DG_SH_SOURCE 0x0020u        /* `. FILE` / `source FILE`: argv[1] is the file */
#define DG_SH_LOOKUP 0x0040u        /* `command -v/-V`, `type`: a lookup, not a run */
#define DG_SH_DEFAULT_PATH 0x0080u  /* `command -p`: the shell's default PATH, not `path` */
#define DG_SH_BACKGROUND 0x0100u    /* in a list ended by & */
#define DG_SH_IN_SUBST 0x0200u      /* inside $(..), `..`, <(..), >(..) */
#define DG_SH_IN_FUNCTION 0x0400u   /* inside a function body */
#define DG_SH_IN_TRAP 0x0800u       /* from a trap's action string */
#define DG_SH_IN_STRING 0x1000u     /* from the string of sh -c / bash -c */
#define DG_SH_IN_EVAL 0x2000u       /* from a static eval string */

/* One simple command. argv has the wrappers `exec [-a N] [-cl]`, `command [-p]`
 * and `builtin` removed (FLAGS record them); it is never empty. ASSIGNS are the
 * prefix assignments as "NAME=value" words (they apply to this command only).
 * PATH: the PATH in effect for the lookup of argv[0]: NULL when the script
 * never changed it (the inherited one), "" when it is unknown there, or else
 * its value, where "${PATH}" stands for the inherited value (the caller
 * substitutes it). */
struct dg_sh_cmd {
	struct dg_sh_word *argv;
	size_t argc;
	struct dg_sh_word *assigns;
	size_t nassigns;
	unsigned line; /* 1-based line of its first word; in a trap/eval/sh -c string: the
			* line of the command holding the string plus the line within it */
	unsigned flags;
	char *path;
};

struct dg_sh_problem {
	unsigned line;
	char *msg;
};

struct dg_sh_script {
	struct dg_sh_cmd *cmds; /* in source order (a substitution before its command) */
	size_t ncmds;
	char **functions; /* names of the functions defined, sorted, each once */
	size_t nfunctions;
	struct dg_sh_problem *problems;
	size_t nproblems;
	int uses_eval; /* some `eval` runs (its words are in cmds; static strings parsed) */
	int truncated; /* a cap stopped the parse, or problems were dropped */
};

/* Does C run a program (something looked up in PATH or named by a path)? */
static inline int dg_sh_cmd_runs_program(const struct dg_sh_cmd *c)
{
	return !(c->flags & (DG_SH_BUILTIN | DG_SH_FUNCTION_CALL));
}

/* Parses TEXT[0..LEN) as a script of dialect D into *OUT (zeroed first).
 * Reentrant: no global state. ERR may be NULL.
 * Returns 0, even for scripts with problems; -1 (DG_E_INTERNAL) only for
 * bad arguments. Free *OUT with dg_sh_script_free in both cases. */
int dg_sh_parse(const char *text, size_t len, enum dg_sh_dialect d, struct dg_sh_script *out,
		struct dg_error *err);
void dg_sh_script_free(struct dg_sh_script *s);

#endif
