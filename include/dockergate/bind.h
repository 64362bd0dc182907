/* Emulation of glibc's symbol binding (elf/dl-lookup.c) over a load set from
 * dg_ld_closure: for every symbol reference of every loaded object, the object
 * and the dynamic symbol the real loader would bind it to. Nothing runs.
 *
 * References are (a) every undefined, named, non-local dynamic symbol and (b)
 * every defined symbol that a relocation makes the loader look up (a default or
 * protected visibility symbol named by a GLOB_DAT, JUMP_SLOT, 64-bit, TLS...
 * relocation): those can be interposed by an earlier object of the scope. */
#ifndef DOCKERGATE_BIND_H
#define DOCKERGATE_BIND_H

#include <stddef.h>
#include <stdint.h>

#include "dockergate/elf.h"
#include "dockergate/error.h"
#include "dockergate/fs.h"
#include "dockergate/loader.h"

#define DG_BIND_NONE SIZE_MAX

/* glibc's relocation type classes (ELF_RTYPE_CLASS_*): a lookup for an
 * address (GLOB_DAT, 64-bit data pointers: class 0) may bind to a non-PIC
 * executable's canonical PLT entry (an undefined symbol with a value); a call
 * (JUMP_SLOT, and TLS relocations: class PLT) never does; a copy relocation
 * (class COPY) skips the executable. */
enum dg_bind_class { DG_BIND_ADDR = 0, DG_BIND_CALL = 1, DG_BIND_COPY = 2, DG_BIND_NCLASSES = 3 };

struct dg_bind_to {
	size_t obj;         /* index in the load set, DG_BIND_NONE when unresolved */
	uint32_t sym;       /* dynsym index in that object */
	uint8_t computed;   /* 0: this class was not looked up (obj is DG_BIND_NONE) */
	uint8_t prot;       /* the reference is STV_PROTECTED (ld.so says "protected symbol") */
};

struct dg_bind_ref {
	const char *name;    /* valid until dg_fs_free */
	const char *version; /* version the reference asks for (verneed or own verdef), or NULL */
	uint32_t sym;        /* dynsym index in the referencing object */
	uint8_t weak;        /* STB_WEAK reference: unresolved is not an error */
	uint8_t undef;       /* SHN_UNDEF; 0 for a defined symbol a relocation looks up */
	uint8_t classes;     /* bit (1 << dg_bind_class) for each class of relocation naming it */
	uint8_t unresolved;  /* a needed lookup found nothing (see dg_bind_target) */
	struct dg_bind_to to[DG_BIND_NCLASSES]; /* ADDR and CALL always computed; COPY when copy-relocated */
};

struct dg_bind_obj {
	struct dg_elf *elf;      /* this object's ELF model, NULL for missing objects */
	uint8_t elf_borrowed;    /* the model belongs to the object store (dg_bind_db) */
	struct dg_bind_ref *refs; /* in dynsym order */
	size_t nrefs;
	uint32_t *ref_of;        /* dynsym index -> index in refs, UINT32_MAX when none */
	size_t nsyms;            /* entries of ref_of (= elf->ndynsyms) */
	uint8_t symbolic;        /* DT_SYMBOLIC: searches itself first */
	uint8_t no_hash;         /* no usable DT_GNU_HASH/DT_HASH: nothing binds to it */
};

struct dg_bind_index;

struct dg_bindings {
	struct dg_bind_obj *objs; /* parallel to the load set's objs */
	size_t n;
	size_t nrefs, unresolved, unresolved_weak;
	struct dg_bind_index *index; /* the name table, for dg_bind_lookup */
};

/* Binds every reference of every object of SET (which must come from
 * dg_ld_closure on FS). Each object's ELF is read again from its node. */
int dg_bind(struct dg_fs *fs, const struct dg_ldset *set, struct dg_bindings **out, struct dg_error *err);
/* The same, taking the ELF models of libraries from the object store DB (parsed
 * once per run for every program that loads them). */
int dg_bind_db(struct dg_objdb *db, const struct dg_ldset *set, struct dg_bindings **out, struct dg_error *err);
void dg_bindings_free(struct dg_bindings *b);

/* The reference of object OBJ at dynsym index SYM, or NULL. O(1). */
const struct dg_bind_ref *dg_bind_find(const struct dg_bindings *b, size_t obj, uint32_t sym);
/* The main answer for a reference: where the data comes from for a copy
 * relocation, else where a call lands (CALL class), else the address binding. */
const struct dg_bind_to *dg_bind_target(const struct dg_bind_ref *r);
/* The defining symbol of a resolved target, or NULL. */
const struct dg_elf_sym *dg_bind_def_sym(const struct dg_bindings *b, const struct dg_bind_to *t);

/* A lookup as if object FROM referenced NAME (at VERSION when not NULL) with
 * class CLS, without a relocation: what ld.so does for its own lookups, e.g. the
 * malloc family (elf/dl-minimal.c: calloc, free, malloc, realloc at libc's base
 * version, from the executable) that ld.so itself calls once libc is loaded.
 * Returns 0 and fills OUT, or -1 when nothing is found. */
int dg_bind_lookup(const struct dg_bindings *b, size_t from, const char *name, const char *version,
		   enum dg_bind_class cls, struct dg_bind_to *out);
/* libc's oldest symbol version on MACHINE (the one ld.so asks for its malloc), or NULL. */
const char *dg_bind_libc_base_version(uint16_t machine, int bits);

#endif
