/* The ELF model: a strict, bounds-checked reader for 32/64-bit, little- and
 * big-endian files. Every offset, size, count and string index is checked;
 * overlapping or absurd tables are refused with a message naming them. The
 * parsed object points into the caller's buffer, which must outlive it. */
#ifndef DOCKERGATE_ELF_H
#define DOCKERGATE_ELF_H

#include <stddef.h>
#include <stdint.h>

#include "dockergate/elfinfo.h"
#include "dockergate/error.h"
#include "dockergate/image.h"

struct dg_elf_seg {
	uint32_t type, flags;
	uint64_t offset, vaddr, filesz, memsz;
};

struct dg_elf_sec {
	const char *name;
	uint32_t type;
	uint64_t flags, addr, offset, size, entsize;
	uint32_t link, info;
};

struct dg_elf_sym {
	const char *name;
	uint64_t value, size;
	uint8_t type, bind, vis;
	uint16_t shndx;
	const char *version; /* symbol version name or NULL */
	uint8_t ver_hidden;  /* "sym@ver" (hidden) rather than "sym@@ver" */
	uint8_t ver_needed;  /* the version is one this file needs (verneed), not defines */
	uint16_t versym;     /* raw DT_VERSYM entry (index | 0x8000 hidden), 0 when not read */
};

enum dg_reloc_kind { DG_REL_OTHER, DG_REL_RELATIVE, DG_REL_IRELATIVE, DG_REL_GLOB_DAT, DG_REL_JUMP_SLOT, DG_REL_ABS };

struct dg_elf_reloc {
	uint64_t offset;
	uint32_t type, sym; /* sym indexes dynsyms */
	int64_t addend;
	uint8_t plt;        /* from DT_JMPREL */
	enum dg_reloc_kind kind;
};

/* One FDE of .eh_frame: the code range [start, start + size) it describes. */
struct dg_elf_fde {
	uint64_t start, size;
};

struct dg_elf_verneed {
	const char *file;
	struct dg_strv names; /* versions needed from FILE (pointers are copies) */
};

/* The dynamic entries ld.so's symbol lookup uses, read as glibc's elf_get_dynamic_info
 * reads them: up to DT_NULL, a later entry of a tag wins; has_* is set when the tag is
 * present at all (even with value 0). Values are addresses, not checked here. */
struct dg_elf_dyninfo {
	uint64_t strtab, strsz, hash, gnu_hash, versym, verdef, verdefnum, verneed, verneednum;
	uint8_t has_strtab, has_hash, has_gnu_hash, has_versym, has_verdef, has_verneed;
};

/* DT_GNU_HASH's header and the file offsets of its parts. valid: the table is usable as
 * ld.so uses it (nbuckets and bloom words non-zero, bloom words and buckets inside the
 * file); chain words are checked one by one (dg_elf_gnu_chain). */
struct dg_elf_gnu_hash {
	uint32_t nbuckets, symoffset, nbloom, shift;
	uint64_t bloom_off, buckets_off, chain_off;
	uint8_t mapped, valid; /* mapped: the 16-byte header lies in a PT_LOAD */
};

/* DT_HASH likewise. valid: nbucket non-zero, buckets and chain inside the file. */
struct dg_elf_sysv_hash {
	uint32_t nbucket, nchain;
	uint64_t buckets_off, chain_off;
	uint8_t mapped, valid; /* mapped: the 8-byte header lies in a PT_LOAD */
};

/* One entry of ld.so's l_versions (elf/dl-version.c), indexed by version index: the
 * version needs (vna_other) and then the non-base definitions (vd_ndx), each chain
 * walked as ld.so walks it (vn_next/vna_next/vd_next, not the DT_*NUM counts). An
 * index nothing names has name NULL and hash 0. */
struct dg_elf_version {
	const char *name;
	const char *file; /* for a need: the file it is needed from (vn_file), else NULL */
	uint32_t hash;    /* vna_hash / vd_hash */
	uint8_t hidden;   /* vna_other's hidden bit (a need's) */
	uint8_t needed;   /* from verneed rather than verdef */
};

struct dg_elf {
	const unsigned char *data;
	size_t size;
	int bits, big_endian;
	uint16_t type, machine;
	uint64_t entry;
	struct dg_elf_class cls;
	struct dg_elf_seg *segs;
	size_t nsegs;
	struct dg_elf_sec *secs;
	size_t nsecs;
	const char *interp;
	/* dynamic section */
	struct dg_strv needed;
	const char *soname, *rpath, *runpath;
	uint64_t flags, flags_1;
	int symbolic, bind_now;
	uint64_t init, fini;
	uint64_t *init_array, *fini_array, *preinit_array;
	size_t ninit_array, nfini_array, npreinit_array;
	/* symbols */
	struct dg_elf_sym *dynsyms, *syms;
	size_t ndynsyms, nsyms;
	struct dg_strv verdefs;
	struct dg_elf_verneed *verneeds;
	size_t nverneeds;
	struct dg_elf_reloc *relocs;
	size_t nrelocs;
	/* symbol lookup as ld.so sees it (for the binder). versions: l_versions, nversions =
	 * highest index named + 1, or 0 when no index above 0 is named (or no DT_STRTAB).
	 * has_versyms: DT_VERSYM's table was read for every dynsym (their versym fields). */
	struct dg_elf_dyninfo dyn;
	struct dg_elf_gnu_hash gnu_hash;
	struct dg_elf_sysv_hash sysv_hash;
	struct dg_elf_version *versions;
	size_t nversions;
	int has_versyms;
	/* notes */
	char build_id[129];
	uint8_t gnu_abi_linux; /* an NT_GNU_ABI_TAG note for Linux (glibc's crt1.o puts it in every program) */
	char *go_build_id;
	/* Function starts. fdes: every FDE of .eh_frame (found by section name, or through
	 * .eh_frame_hdr's eh_frame_ptr when section headers are stripped), sorted by start then
	 * size, unique. eh_hdr_starts: the initial locations of .eh_frame_hdr's binary-search table
	 * (sorted, unique). fde_starts: the union of both (sorted, unique). fde_disagreements: starts
	 * that only one of the two tables has, when the file has both. fde_indirect: FDEs whose
	 * pc_begin is DW_EH_PE_indirect (not followed, not in fdes). A malformed .eh_frame does not
	 * fail the parse: eh_frame_error says why and where its walk stopped (the FDEs before it
	 * are kept). Relocatable objects (ET_REL) are not read: their FDEs need relocation. */
	struct dg_elf_fde *fdes;
	size_t nfdes;
	uint64_t *eh_hdr_starts;
	size_t neh_hdr_starts;
	uint64_t *fde_starts;
	size_t nfde_starts;
	size_t fde_disagreements, fde_indirect;
	int has_eh_frame, has_eh_frame_hdr;
	char *eh_frame_error;
	int is_go, is_rust, is_loader;
};

int dg_elf_parse(const unsigned char *data, size_t size, struct dg_elf **out, struct dg_error *err);
void dg_elf_free(struct dg_elf *e);
/* Virtual address → file offset through PT_LOAD; -1 when not backed by the file. */
int dg_elf_vaddr_to_off(const struct dg_elf *e, uint64_t vaddr, uint64_t len, uint64_t *off);
const struct dg_elf_sec *dg_elf_section(const struct dg_elf *e, const char *name);
/* Words of the hash tables, for walking them as ld.so does (the only raw reads the binder
 * needs; the indexes must be below the counts of a valid table). dg_elf_gnu_chain returns
 * -1 when chain word SYM (>= symoffset) lies outside the file. */
uint64_t dg_elf_gnu_bloom(const struct dg_elf *e, uint32_t word);
uint32_t dg_elf_gnu_bucket(const struct dg_elf *e, uint32_t bucket);
int dg_elf_gnu_chain(const struct dg_elf *e, uint32_t sym, uint32_t *out);
uint32_t dg_elf_sysv_bucket(const struct dg_elf *e, uint32_t bucket);
uint32_t dg_elf_sysv_chain(const struct dg_elf *e, uint32_t idx);

#endif
