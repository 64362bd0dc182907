/* Quick ELF classification from the headers (bounds-checked): what kind of
 * ELF file a path is and for which machine. */
#ifndef DOCKERGATE_ELFINFO_H
#define DOCKERGATE_ELFINFO_H

#include <stddef.h>
#include <stdint.h>

#include "dockergate/error.h"

enum dg_elf_type {
	DG_ELF_UNKNOWN = 0,
	DG_ELF_EXEC,       /* ET_EXEC with an interpreter */
	DG_ELF_PIE,        /* ET_DYN with an interpreter (and DF_1_PIE or no SONAME) */
	DG_ELF_SHARED,     /* ET_DYN without an interpreter, or with one and a SONAME (libc.so.6) */
	DG_ELF_STATIC,     /* ET_EXEC without an interpreter */
	DG_ELF_STATIC_PIE, /* ET_DYN, no interpreter, DF_1_PIE */
	DG_ELF_RELOC,      /* ET_REL object file */
	DG_ELF_CORE,
};

struct dg_elf_class {
	enum dg_elf_type type;
	int bits;      /* 32 or 64 */
	int big_endian;
	uint16_t machine;
	int has_interp, has_dynamic;
};

int dg_elf_classify(const unsigned char *p, size_t n, struct dg_elf_class *out,
		    struct dg_error *err);
const char *dg_elf_type_name(enum dg_elf_type t);
/* "x86-64", "aarch64", "i386", … or "machine-N". Uses BUF for the fallback. */
const char *dg_elf_machine_name(uint16_t m, char *buf, size_t n);

#endif
