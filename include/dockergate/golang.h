/* Go binaries: the runtime's function table (pclntab: every function's entry
 * and name; it survives `-s -w` stripping) and the build information
 * (.go.buildinfo: the Go version, the main package and module, the dependencies
 * and build settings), read from a parsed ELF file without running it. */
#ifndef DOCKERGATE_GOLANG_H
#define DOCKERGATE_GOLANG_H

#include <stddef.h>
#include <stdint.h>

#include "dockergate/elf.h"

struct dg_go_func {
	uint64_t entry;  /* the function's first instruction */
	uint32_t name;   /* offset into dg_go.names */
};

struct dg_go {
	/* build information (NULL / empty when the file has none) */
	char *version;            /* "go1.19.8" */
	char *path;               /* the main package, e.g. "github.com/caddyserver/caddy/v2/cmd/caddy" */
	char *mod;                /* the main module: "PATH VERSION" */
	struct dg_strv deps;      /* "PATH VERSION" per dependency (a replacement as "PATH VERSION => NEW VERSION") */
	struct dg_strv settings;  /* "KEY=VALUE" (Go 1.18+: -buildmode, CGO_ENABLED, GOARCH, ...) */
	/* the function table */
	uint32_t pcln_magic;      /* 0: none found */
	const char *pcln_format;  /* "1.2", "1.16", "1.18", "1.20" (the Go versions that introduced it) */
	uint64_t pcln_addr;       /* its address */
	uint64_t pcln_end;        /* where its last function record ends, at least */
	uint64_t text_start;      /* the base of entry offsets (1.18+), else 0 */
	struct dg_go_func *funcs; /* sorted by entry, unique */
	size_t nfuncs;
	uint64_t text_end;        /* the end of the last function (the table's final entry) */
	char *names;
	size_t names_len;
	char *error;              /* why a table that is there could not be read, else NULL */
};

/* Reads the Go parts of E: 1 with *OUT when E is a Go binary (build information or
 * a function table found), else 0 and *OUT NULL. Never fails on hostile input: a
 * table that does not check out is left out and named in ->error. */
int dg_go_read(const struct dg_elf *e, struct dg_go **out);
void dg_go_free(struct dg_go *g);
/* The name of function I of G. */
static inline const char *dg_go_func_name(const struct dg_go *g, size_t i)
{
	return g->names + g->funcs[i].name;
}

#endif
