/* Function-level reachability across the objects a program loads: from the
 * roots (the program's entry point and the loader's, every object's init/fini
 * functions and IFUNC resolvers, or a library's exports when it is dlopen'd),
 * through direct calls, PLT calls bound with the loader's rules (bind.h), IFUNC
 * slots, and indirect calls (which may reach every function whose address is
 * taken by reachable code or by data), collecting the syscall numbers of the
 * reachable sites. Wrappers (functions whose site takes the number from an
 * entry register) get their numbers from the constants at their callers. */
#ifndef DOCKERGATE_REACH_H
#define DOCKERGATE_REACH_H

#include <stddef.h>
#include <stdint.h>

#include "dockergate/bind.h"
#include "dockergate/fnsum.h"
#include "dockergate/loader.h"

#define DG_NSYSCALLS 1024 /* numbers tracked per table (x86-64 and i386 stay below 512) */

/* function: functions reachable from the roots; a function pointer held in data the symbol
 * table delimits counts once reachable code (or data) refers to that data. held: the same,
 * but every function pointer held in data counts (the rule before data objects). object:
 * every function of every loaded object. */
enum dg_precision { DG_PREC_FUNCTION = 0, DG_PREC_OBJECT, DG_PREC_HELD };

enum dg_reach_roots {
	DG_ROOTS_PROGRAM = 0, /* entry points, init/fini, resolvers */
	DG_ROOTS_EXPORTS,     /* also every exported function of object 0 (a dlopen'd library) */
};

struct dg_reach_opts {
	enum dg_precision precision;
	enum dg_reach_roots roots;
	/* explain: also find the shortest chain from a root to a site of syscall
	 * explain_nr (of the i386 table when explain_i386) into dg_reach.steps */
	int explain, explain_i386;
	unsigned explain_nr;
};

/* How a step of an explanation is reached. */
enum dg_step_how {
	DG_STEP_ENTRY = 1, /* the program's (or the loader's) entry point */
	DG_STEP_INIT,      /* an init/fini function or array entry, or an IFUNC resolver */
	DG_STEP_EXPORT,    /* an export of a dlopen'd library */
	DG_STEP_LDSO,      /* a function ld.so looks up and calls itself */
	DG_STEP_OBJECT,    /* every function (--precision object) */
	DG_STEP_CALL,      /* called (or jumped to) from the previous step at `at` */
	DG_STEP_INDIRECT,  /* its address is taken, and the previous step makes an indirect call at `at` */
	DG_STEP_SITE,      /* the last step: the syscall instruction at `at` */
	DG_STEP_WRAPPER,   /* the last step: a call at `at` passing the number to a wrapper */
};

struct dg_reach_step {
	size_t obj;
	uint32_t fn;
	uint64_t at;   /* for a step reached by a call: the call's address in the previous step's function */
	uint8_t how;   /* enum dg_step_how */
	char *fn_name; /* owned, NULL when stripped */
	uint64_t fn_addr; /* the function's start */
	/* DG_STEP_INDIRECT: who takes the address: function taken_fn of object taken_obj
	 * (taken_in_code), else the data or relocations (or an import's address binding) of
	 * object taken_obj */
	uint8_t taken_in_code;
	size_t taken_obj;
	uint32_t taken_fn;
	char *taken_name;     /* that function's name (owned), NULL when stripped */
	uint64_t taken_addr;  /* that function's start */
	char *held_by;        /* taken by data: the data object holding the address and why it
			       * counts (which function refers to it, through which objects), owned;
			       * NULL for data no symbol table delimits */
};

/* A site whose number is not known: a syscall instruction, or a call of a
 * wrapper whose number argument is not known there. */
struct dg_reach_unknown {
	size_t obj;       /* index in the load set */
	uint32_t fn;      /* function index in that object's summary */
	uint64_t addr;    /* the instruction */
	uint8_t wrapper_call; /* a call of a wrapper, not a syscall instruction */
	char *fn_name;    /* the function's symbol, NULL when stripped (owned) */
};

/* A program or library reachable code runs or loads (fnsum.h dg_exec_kind): the constant
 * name passed at a call of an exec-family, system/popen or dlopen function (or of a
 * function passing its argument on to one), or NULL when the name is not known there. */
struct dg_reach_exec {
	uint8_t kind;      /* enum dg_exec_kind */
	char *arg;         /* the name, NULL: not known (owned) */
	char *callee;      /* the function called: "execl", "system", "dlopen", ... or "?" (owned) */
	size_t obj;        /* the calling object (index in the load set) */
	uint64_t addr;     /* the call, 0 when no one call (an exec function's address is taken) */
	char *fn_name;     /* the calling function, NULL when stripped or unknown (owned) */
};

struct dg_reach_objstat {
	uint64_t fns, reachable_fns;
	uint64_t sites, resolved; /* reachable syscall sites and wrapper calls, and those with known numbers */
	char *error;              /* the object was not analysed (from its summary), or NULL (owned) */
};

struct dg_reach {
	uint8_t native[DG_NSYSCALLS / 8]; /* numbers of the object's own table (x86-64) */
	uint8_t i386[DG_NSYSCALLS / 8];   /* int 0x80 / sysenter / i386 code */
	int has_i386;
	struct dg_reach_unknown *unknown;
	size_t nunknown;
	struct dg_reach_objstat *objs; /* parallel to the load set */
	size_t nobjs;
	uint64_t reachable_fns, total_fns;
	int any_indirect; /* a reachable indirect call: every taken address is reachable */
	/* what reachable code runs and loads: each constant name once, each call whose name is
	 * not known once; also an unknown program when an object other than the C library makes
	 * execve/execveat itself (a static program, syscall(SYS_execve, ...)) or takes an exec
	 * function's address. At most 256 (execs_truncated: more were dropped, never an unknown one). */
	struct dg_reach_exec *execs;
	size_t nexecs;
	int execs_truncated;
	int calls_dlopen; /* execs has a library (dlopen, dlmopen) */
	int dlsym_unknown; /* a reachable dlsym/dlvsym whose name is not known: every export of
	                    * the load set counts as address-taken */
	int dlsym_module;  /* a reachable dlsym/dlvsym of a name not known in a handle dlopen gave:
	                    * that library's exports count (roots), not the load set's */
	int calls_exec;   /* execs has a program (exec family, posix_spawn[p], system, popen, wordexp) */
	struct dg_reach_step *steps; /* explain: root first, the site last; none when unreachable */
	size_t nsteps;
};

/* SUMS[i] is the summary of SET->objs[i] (NULL for a missing object). */
int dg_reach_compute(const struct dg_ldset *set, const struct dg_bindings *b, const struct dg_fsum *const *sums,
		     const struct dg_reach_opts *o, struct dg_reach **out, struct dg_error *err);
void dg_reach_free(struct dg_reach *r);

/* A result for the analysis cache (kind "reach"): its key is a digest of everything the
 * result depends on (dg_sc_analyse computes it). Decoding checks every field; NOBJS is
 * the load set's size. */
#define DG_REACH_KIND "reach"
#define DG_REACH_VERSION 10u
void dg_reach_encode(const struct dg_reach *r, const struct dg_strv *problems, unsigned char **out, size_t *len);
int dg_reach_decode(const unsigned char *p, size_t n, size_t nobjs, struct dg_reach **out, struct dg_strv *problems,
		    struct dg_error *err);
/* Computes what dg_reach_compute memoizes on a summary (a library's own closure), so
 * that several threads may then run dg_reach_compute over summaries they share. */
void dg_reach_prepare(const struct dg_fsum *s);

static inline int dg_reach_has(const uint8_t *bits, unsigned n)
{
	return n < DG_NSYSCALLS && (bits[n / 8] >> (n % 8)) & 1;
}

#endif
