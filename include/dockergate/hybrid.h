/* Static analysis against traces (issue 8: `generate --hybrid`, docs/design.md "Hybrid
 * profiles"): what the traced containers made that the static result lacks (each one a
 * soundness bug of the analysis, with the executables that made it), what each traced
 * executable made beyond its own program's analysis, and what the static result allows
 * that no trace has seen (candidates for tightening). */
#ifndef DOCKERGATE_HYBRID_H
#define DOCKERGATE_HYBRID_H

#include <stddef.h>
#include <stdint.h>

#include "dockergate/fs.h"
#include "dockergate/reach.h"
#include "dockergate/syscalls.h"
#include "dockergate/trace.h"

/* A syscall the traces saw that the static union lacks. */
struct dg_hybrid_missing {
	unsigned nr;
	int i386;
	uint64_t count;       /* over every trace */
	struct dg_strv exes;  /* the traced executables that made it */
};

/* A traced executable and what it made beyond its own program's static set. */
struct dg_hybrid_exe {
	char *path;           /* as traced */
	char *program;        /* the program analysed for it (a script's interpreter), NULL: none */
	size_t target;        /* its index in the static result, SIZE_MAX: none */
	const char *why;      /* why there is none ("not in the static result", "/proc/self/exe", ...) */
	struct dg_strv beyond; /* syscall names ("i386:NAME" for the i386 table) */
};

struct dg_hybrid {
	uint8_t seen[2][DG_NSYSCALLS / 8];   /* the traces' container calls: x86-64, i386 */
	uint8_t unseen[2][DG_NSYSCALLS / 8]; /* in the static union, in no trace */
	struct dg_hybrid_missing *missing;
	size_t nmissing;
	struct dg_hybrid_exe *exes;
	size_t nexes;
};

/* Compares RES (the static analysis of the image whose files FS holds) with the traces. */
struct dg_hybrid *dg_hybrid_compare(struct dg_fs *fs, const struct dg_sc_result *res, struct dg_trace *const *tr,
				    size_t ntr);
/* The union of the traces' container calls (no static result): SEEN[0] x86-64, SEEN[1] i386. */
void dg_hybrid_seen(struct dg_trace *const *tr, size_t ntr, uint8_t seen[2][DG_NSYSCALLS / 8]);
void dg_hybrid_free(struct dg_hybrid *h);

#endif
