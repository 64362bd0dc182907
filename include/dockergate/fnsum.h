/* Per-object syscall summary: the functions of one ELF file, and for each its
 * system call sites with the numbers recovered by data flow, its calls (to a
 * function of the same file, to an imported symbol, through an IFUNC slot, or
 * indirect) with the small constants and entry registers passed at each call,
 * and the function addresses its code takes. Derived once per distinct file
 * content and kept in the analysis cache under the kind "fnsum"; the
 * cross-object part (binding, reachability) is in reach.h.
 *
 * Values: a register's value at a site or call is a set of constants
 * (DG_FV_CONST), "what the function got in register R at entry" (DG_FV_ARG),
 * or unknown. Only constants below DG_FSUM_SMALL are kept at calls (syscall
 * numbers are small); anything else is unknown there. */
#ifndef DOCKERGATE_FNSUM_H
#define DOCKERGATE_FNSUM_H

#include <stddef.h>
#include <stdint.h>

#include "dockergate/elf.h"
#include "dockergate/error.h"

#define DG_FNSUM_KIND "fnsum"
#define DG_FNSUM_VERSION 13u
#define DG_FSUM_SMALL 0x1000u
#define DG_FSUM_NONE UINT32_MAX

enum dg_fv_kind { DG_FV_UNKNOWN = 0, DG_FV_CONST, DG_FV_ARG, DG_FV_STR };

/* A value at a site or call: CONST -> nums[first .. first+n); ARG -> reg; STR (only at
 * calls that pass a program or library name on, see dg_exec_kind) -> the addresses of
 * constant strings in read-only data, their text at strings + nums[first .. first+n). */
/* A set of argument numbers: registers 0..15, then stack words (analysis/isa.h
 * DG_ARG_NREGS); wmask and pmask below are such sets. */
typedef uint32_t dg_argmask;

struct dg_fval {
	uint8_t kind, reg;
	uint16_t n;
	uint32_t first;
};

enum dg_site_table { DG_TAB_NATIVE = 0, DG_TAB_I386 = 1 };

/* A site's shape, for sites whose number is not known: DG_SITE_XIDCMD, the number and the
 * first three arguments are the words 0..3 of one structure a register points to (glibc's
 * struct xid_command, which __nptl_setxid and its SIGSETXID handler run in every thread:
 * reach.c's setxid rule). */
enum dg_site_shape { DG_SITE_PLAIN = 0, DG_SITE_XIDCMD = 1 };

struct dg_fsite {
	uint64_t addr;
	uint8_t table;      /* enum dg_site_table */
	uint8_t shape;      /* enum dg_site_shape */
	struct dg_fval v;   /* the number */
};

enum dg_call_kind {
	DG_CALL_LOCAL = 1, /* target: function index in this file */
	DG_CALL_IMPORT,    /* target: dynsym index (bound by the loader's rules) */
	DG_CALL_IFUNC,     /* target: the IFUNC resolver's function index (lands on what it returns) */
	DG_CALL_INDIRECT,  /* through a register or memory nothing resolves */
};

struct dg_fcallarg {
	uint8_t reg;
	struct dg_fval v;
};

struct dg_fcall {
	uint64_t addr;
	uint32_t target;
	uint8_t kind;      /* enum dg_call_kind */
	uint8_t tail;      /* a jump (tail call or fall-through), not a call */
	uint16_t nargs;
	uint32_t first_arg; /* into args */
};

/* What a call runs or loads, by the argument it passes (docs/design.md "Exec edges"):
 * a program path (execve, execv, execl, execle, execveat, posix_spawn), a file looked up
 * in PATH (execvp, execlp, execvpe, posix_spawnp), a shell command (system, popen: run as
 * `/bin/sh -c STRING`), a library (dlopen, dlmopen), a symbol looked up (dlsym, dlvsym: its
 * address is then called; reach.c takes the exports of that name, never an exec record). */
enum dg_exec_kind { DG_EXK_PATH = 0, DG_EXK_FILE, DG_EXK_SHELL, DG_EXK_LIB, DG_EXK_SYM, DG_EXK_N };

/* Whether NAME (an imported function) runs a program or loads a library: 1 with *KIND and
 * *ARGNO (which C argument, 0 or 1, names it; -1 when none does: fexecve runs a file
 * descriptor, wordexp whatever its words substitute), else 0. */
int dg_exec_import(const char *name, uint8_t *kind, int *argno);

#define DG_FN_RESOLVER 0x1  /* an IFUNC resolver (runs at load time; returns an implementation) */
#define DG_FN_INDIRECT 0x2  /* has an indirect call or jump nothing resolved */
#define DG_FN_PLT 0x4       /* a PLT stub */

struct dg_fn {
	uint64_t addr, size;
	const char *name;     /* symbol name or NULL (stripped) */
	uint32_t first_site, nsites;
	uint32_t first_call, ncalls;
	uint32_t first_take, ntakes; /* into takes: functions whose address this code takes */
	dg_argmask wmask;     /* arguments (registers, stack words) that reach a syscall number (this file alone) */
	dg_argmask pmask[DG_EXK_N]; /* arguments passed on as a name of that kind (this file alone) */
	uint8_t flags;
};

struct dg_fsum {
	uint16_t machine;
	int bits;
	const char *isa;        /* backend name, NULL when the machine has none */
	struct dg_fn *fns;      /* sorted by addr */
	size_t nfns;
	struct dg_fsite *sites;
	size_t nsites;
	struct dg_fcall *calls;
	size_t ncalls;
	struct dg_fcallarg *args;
	size_t nargs;
	uint32_t *nums;
	size_t nnums;
	uint32_t *takes;
	size_t ntakes;
	uint32_t *data_takes;   /* functions whose address data or relocations hold */
	size_t ndata_takes;
	uint32_t *import_takes; /* dynsyms whose address is taken (GOT loads, data relocations) */
	size_t nimport_takes;
	uint32_t *roots;        /* DT_INIT/FINI, init/fini/preinit arrays, IFUNC resolvers */
	size_t nroots;
	/* Data objects whose function pointers count only once the object is referred to
	 * (docs/design.md "Data-held function pointers"): objects the file's symbol table
	 * delimits, that nothing outside the file can name and no data outside every object
	 * points into. Object k holds the functions dobj_fns[dobj_off[k] .. dobj_off[k+1]) and
	 * points into the objects dobj_to[dobj_toff[k] .. dobj_toff[k+1]); function f's code
	 * refers to fn_dobjs[fn_doff[f] .. fn_doff[f+1]). All NULL when ndobjs is 0. */
	uint32_t ndobjs;
	uint64_t *dobj_addr;    /* each object's start */
	uint32_t *dobj_off, *dobj_fns;
	uint32_t *dobj_toff, *dobj_to;
	uint32_t *fn_doff, *fn_dobjs;
	uint32_t entry_fn;      /* function at e_entry, DG_FSUM_NONE */
	uint64_t ninsns, nbad;  /* decoded instructions, undecodable bytes skipped */
	char *strings;          /* names live here */
	size_t strings_len;
	char *error;            /* why the file was not analysed (unsupported machine, ...) */
	/* derived, not stored: the calls passing an entry register on (DG_FV_ARG), and their functions */
	uint32_t *argcalls, *argcall_fn;
	size_t nargcalls;
	struct dg_fsum_closure *closure, *closure_all; /* reach.c's memos (see there) */
};

/* What a loaded library reaches by itself once any indirect call is reachable: its
 * roots, every address it takes, and what those reach through its own calls. */
struct dg_fsum_closure {
	uint32_t *fns;      /* functions */
	size_t nfns;
	uint8_t *unknown;   /* per function of the file: entered with unknown arguments */
	uint32_t *imports;  /* calls (indexes into calls) to imported symbols from those functions */
	size_t nimports;
};

/* Analyses a parsed ELF file. Never fails on hostile input: what cannot be
 * analysed is recorded in ->error. */
struct dg_fsum *dg_fsum_build(const struct dg_elf *e);
void dg_fsum_free(struct dg_fsum *s);
/* The function containing ADDR, or DG_FSUM_NONE. */
uint32_t dg_fsum_fn_at(const struct dg_fsum *s, uint64_t addr);
/* The function starting exactly at ADDR, or DG_FSUM_NONE. */
uint32_t dg_fsum_fn_start(const struct dg_fsum *s, uint64_t addr);
void dg_fsum_encode(const struct dg_fsum *s, unsigned char **out, size_t *len);
int dg_fsum_decode(const unsigned char *p, size_t n, struct dg_fsum **out, struct dg_error *err);

#endif
