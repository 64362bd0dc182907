/* The syscalls of an image: for each program (or each PATH asked for), its
 * load set, bindings and the function-level reachability over the objects'
 * syscall summaries; shared objects no program loads through DT_NEEDED are
 * analysed as dlopen'd libraries (every export a root). The image's allowed
 * set is the union. Summaries come from the cache or are computed in parallel.
 * Syscall names come from libseccomp's tables. */
#ifndef DOCKERGATE_SYSCALLS_H
#define DOCKERGATE_SYSCALLS_H

#include "dockergate/objdb.h"
#include "dockergate/reach.h"

struct dg_sc_opts {
	enum dg_precision precision;
	const char *ld_library_path;
	struct dg_strv paths; /* analyse these (programs or libraries); every ELF file when empty */
};

/* An object of a load set whose machine code was not analysed: no backend reads its
 * machine (docs/design.md, "Code that is not analysed"). Its syscalls are not in any
 * set: a profile for it would break it, so generate refuses unless told otherwise. */
struct dg_sc_unanalysed {
	const char *path;  /* the object's path in the image (owned by the target's load set) */
	uint16_t machine;  /* EM_* */
	int bits, big_endian;
};

struct dg_sc_target {
	char *path;
	int library;               /* analysed as a dlopen'd library (exports are roots) */
	struct dg_ldset *set;
	const struct dg_fsum **sums; /* parallel to set->objs */
	struct dg_reach *reach;    /* NULL when the analysis failed (problems says why) */
	int calls_dlopen;          /* reachable code calls dlopen: the image's libraries count too */
	int calls_exec;            /* reachable code runs other programs (reach.h) */
	struct dg_strv problems;
	struct dg_sc_unanalysed *unanalysed; /* objects of the load set no backend reads */
	size_t nunanalysed;
	unsigned char key[32];     /* the digest of every input of the result (its cache key) */
	int cached;                /* the result came from the analysis cache */
};

struct dg_sc_result {
	struct dg_sc_target *t;
	size_t n;
	uint8_t native[DG_NSYSCALLS / 8], i386[DG_NSYSCALLS / 8]; /* the union */
	int has_i386;
	size_t nunknown;           /* unknown sites over all targets */
	size_t ndistinct_unknown;  /* the same, each (file, address) once */
	struct dg_sc_unanalysed *unanalysed; /* over all targets, each file once (sorted by path) */
	size_t nunanalysed;
};

int dg_sc_analyse(struct dg_objdb *db, const struct dg_sc_opts *o, struct dg_sc_result **out, struct dg_error *err);
void dg_sc_result_free(struct dg_sc_result *r);
/* Recomputes R's union and unknown-site counts from its targets. */
void dg_sc_totals(struct dg_sc_result *r);
/* Moves SRC's targets to the end of DST (SRC is freed) and recomputes DST's totals. */
void dg_sc_absorb(struct dg_sc_result *dst, struct dg_sc_result *src);

/* Why program T (of a result of dg_sc_analyse) can make syscall NR: its analysis again,
 * walking every function so each knows how it was reached, with the shortest chain from a
 * root to a site of NR in (*out)->steps (none when T cannot reach it). */
int dg_sc_explain(struct dg_objdb *db, const struct dg_sc_opts *o, const struct dg_sc_target *t, unsigned nr, int i386,
		  struct dg_reach **out, struct dg_error *err);

/* The name of an ELF machine a backend reads ("x86-64", "i386"), or NULL when none does. */
const char *dg_sc_backend(uint16_t machine, int bits);

/* A syscall's name (x86-64 table, or i386 when I386), or NULL when libseccomp does not know it. */
const char *dg_syscall_name(unsigned nr, int i386);
/* Its number by name, or -1. */
int dg_syscall_number(const char *name, int i386);

#endif
