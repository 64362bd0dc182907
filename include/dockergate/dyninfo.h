/* What the loader and the graph need of one ELF file, small enough to cache:
 * class, machine, role, PT_INTERP and the dynamic section's names and flags.
 * It is derived from the full ELF model once per distinct file content and
 * kept in the analysis cache under the kind "dyn". */
#ifndef DOCKERGATE_DYNINFO_H
#define DOCKERGATE_DYNINFO_H

#include <stddef.h>
#include <stdint.h>

#include "dockergate/elf.h"

/* The cache kind and version of this record: bump the version whenever what
 * is derived or how it is encoded changes, so older entries are never used. */
#define DG_DYNINFO_KIND "dyn"
#define DG_DYNINFO_VERSION 1u

enum dg_elf_role {
	DG_ROLE_EXECUTABLE = 1, /* a program: ET_EXEC, PIE, static, static-pie */
	DG_ROLE_LIBRARY,        /* a shared object (also runnable ones such as libc.so.6) */
	DG_ROLE_LOADER,         /* the dynamic loader itself */
	DG_ROLE_OTHER,          /* relocatable objects, core files, unknown types */
};

struct dg_dyninfo {
	struct dg_elf_class cls; /* refined type: see dg_elf_parse */
	enum dg_elf_role role;
	uint16_t machine;
	int bits;
	char *interp, *soname, *rpath, *runpath; /* NULL when absent */
	struct dg_strv needed;
	uint64_t flags, flags_1;
	int is_go, is_rust;
	char build_id[129];
	char *error; /* the file is ELF but malformed: the reader's message (the rest is empty) */
};

/* From a parsed model. */
struct dg_dyninfo *dg_dyninfo_from_elf(const struct dg_elf *e);
/* A record for a file the ELF reader refused (so a cache remembers that too). */
struct dg_dyninfo *dg_dyninfo_bad(const char *msg);
void dg_dyninfo_free(struct dg_dyninfo *d);

/* Compact binary encoding for the cache; decoding checks every length and
 * field and refuses anything that is not exactly a record of this version. */
void dg_dyninfo_encode(const struct dg_dyninfo *d, unsigned char **out, size_t *len);
int dg_dyninfo_decode(const unsigned char *p, size_t n, struct dg_dyninfo **out, struct dg_error *err);

#endif
