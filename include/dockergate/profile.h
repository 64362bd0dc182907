/* A seccomp profile: a default action (SCMP_ACT_ERRNO with an errno), the
 * architectures it covers (x86-64; x86 only when the image has reachable i386
 * code), the allowed syscall names (some of them logged: SCMP_ACT_LOG), and per-syscall errno overrides (syscalls
 * answered with ENOSYS so that libc falls back to an older call). Names apply
 * to every listed architecture, as in Docker's and the OCI runtime-spec's
 * formats; libseccomp skips a name on an architecture that lacks it.
 *
 * The model is built from dockergate's result (dg_profile_from_bits), or read
 * from a Docker-format file (dg_profile_load), intersected with a base profile
 * (Docker's default kept as data: dg_profile_docker_default), compiled with
 * libseccomp (every name must be known to it) and written in one of the formats
 * of enum dg_profile_format, byte-for-byte stable for the same input. */
#ifndef DOCKERGATE_PROFILE_H
#define DOCKERGATE_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "dockergate/arch.h"
#include "dockergate/error.h"
#include "dockergate/image.h" /* struct dg_strv */

struct dg_buf;


struct dg_profile_errno { /* name first: profile.c searches these and a strv alike */
	char *name;
	int errnum;
};

struct dg_profile {
	int default_errno;    /* defaultErrnoRet: 1 (EPERM) unless --deny-errno */
	unsigned arches;      /* DG_ARCH_* */
	struct dg_strv allow; /* sorted, unique */
	struct dg_strv log;   /* allowed names whose rule is SCMP_ACT_LOG (allowed, and the kernel logs
	                       * each use): a subset of allow, sorted, unique */
	struct dg_profile_errno *errnos; /* sorted by name, unique, none of them allowed */
	size_t nerrnos;
	/* provenance, written under the "dockergate" key of the docker format (NULL: left out) */
	char *tool, *image, *scope, *precision, *runtime_base;
	char *method;         /* "static", "trace" (--from-trace) or "hybrid" (--hybrid) */
	long long traces;     /* traces the profile was made with; < 0: not written */
	long long date;       /* seconds since the epoch (SOURCE_DATE_EPOCH or now); < 0: no date */
	long long unknown_sites; /* < 0: not written */
	char *unanalysed;     /* code no backend read and what the profile does for it (NULL: none) */
};

enum dg_profile_format { DG_PF_DOCKER, DG_PF_OCI, DG_PF_K8S, DG_PF_K8S_JSON, DG_PF_BPF, DG_PF_PFC };

/* The formats by name: one entry each, in the order help texts list them. */
struct dg_profile_format_info {
	const char *name;        /* what --format takes */
	enum dg_profile_format format;
	const char *description; /* a few words for help texts */
};
const struct dg_profile_format_info *dg_profile_formats(size_t *n);
/* The format called NAME: 0, or -1 when there is none. */
int dg_profile_format_parse(const char *name, enum dg_profile_format *out);
const char *dg_profile_format_name(enum dg_profile_format f);

void dg_profile_init(struct dg_profile *p);
void dg_profile_free(struct dg_profile *p);

/* Fills P's names from bitmaps of x86-64 and i386 numbers (struct dg_sc_result's
 * union); I386 set: the image has reachable i386 code (adds DG_ARCH_X86). Numbers
 * libseccomp cannot name are left out (the caller reports them). */
void dg_profile_from_bits(struct dg_profile *p, const uint8_t *native, const uint8_t *i386, int has_i386);

int dg_profile_allows(const struct dg_profile *p, const char *name);
/* Adds architecture BIT (DG_ARCH_*) and allows every syscall libseccomp knows for it
 * (names apply to every architecture of P, as in the Docker and OCI formats). */
void dg_profile_allow_arch(struct dg_profile *p, unsigned bit);
/* Adds NAME to the allowed set (kept sorted), plainly (SCMP_ACT_ALLOW: no longer logged);
 * removes an errno override of it. */
void dg_profile_allow(struct dg_profile *p, const char *name);
/* Marks allowed NAME as logged (SCMP_ACT_LOG); nothing when it is not allowed. */
void dg_profile_log(struct dg_profile *p, const char *name);
int dg_profile_logs(const struct dg_profile *p, const char *name);
/* Removes NAME from the allowed set (and the logged ones). */
void dg_profile_deny(struct dg_profile *p, const char *name);
/* Sets an errno override (replacing an earlier one); NAME must not be allowed. */
void dg_profile_set_errno(struct dg_profile *p, const char *name, int errnum);
/* Removes every allowed name BASE does not allow; the removed names go to REMOVED
 * (may be NULL), sorted. */
void dg_profile_intersect(struct dg_profile *p, const struct dg_profile *base, struct dg_strv *removed);

/* The denials that keep programs working: for each syscall with a libc fallback
 * (clone3 -> clone, statx -> newfstatat/fstatat64, faccessat2 -> faccessat, ...;
 * docs/design.md) that P does not allow while it allows a fallback, an override
 * answering ENOSYS. The names added go to ADDED (may be NULL). */
void dg_profile_add_fallbacks(struct dg_profile *p, struct dg_strv *added);

/* An errno by number ("38") or name ("ENOSYS"); -1 when neither (or out of 1..4095). */
int dg_errno_parse(const char *s);

/* Compiles P with libseccomp (seccomp_init + one rule per name); an unknown name
 * is an error naming it (DG_E_INPUT). *CTX (a scmp_filter_ctx) is released with
 * dg_profile_ctx_free; CTX may be NULL to only check. */
int dg_profile_compile(const struct dg_profile *p, void **ctx, struct dg_error *err);
void dg_profile_ctx_free(void *ctx);

/* Writes P in FORMAT to OUT (compiling it first). NAME: the k8s resource's
 * metadata.name (a DNS-1123 subdomain). */
int dg_profile_write(const struct dg_profile *p, enum dg_profile_format format, const char *name,
		     struct dg_buf *out, struct dg_error *err);

/* Reads a Docker-format profile (also a bare OCI linux.seccomp object): evaluates
 * each rule's includes/excludes as a default `docker run` on x86-64 would (Docker's
 * default capabilities, architecture "amd64", minKernel satisfied). Rules with
 * SCMP_ACT_ALLOW (or SCMP_ACT_LOG) allow their names, with argument conditions too
 * (each such name goes to WARNINGS, which may be NULL); SCMP_ACT_ERRNO rules with
 * an errnoRet become overrides. A default-allow profile is refused (DG_E_INPUT).
 * WHAT names the input in messages. */
int dg_profile_load(const char *text, size_t len, const char *what, struct dg_profile *p,
		    struct dg_strv *warnings, struct dg_error *err);
/* The text of SPEC, a file path (a regular file of at most 16 MiB) or the word
 * "docker-default" (the copy in data/): *TEXT (NUL-terminated, caller frees), *LEN. */
int dg_profile_read_spec(const char *spec, char **text, size_t *len, struct dg_error *err);
/* SPEC is a file path or the word "docker-default" (the copy in data/). */
int dg_profile_load_spec(const char *spec, struct dg_profile *p, struct dg_strv *warnings, struct dg_error *err);
/* Docker's default capability set (moby oci/caps/defaults.go), what a plain
 * `docker run` has and what dg_profile_load evaluates rules against. */
const char *const *dg_docker_caps(size_t *n);
/* Docker's default profile, as data compiled into the program (data/docker-default.json). */
const char *dg_docker_default_json(size_t *len);

/* Writes DATA atomically: a temp file in PATH's directory, fsync, rename; "-" is stdout.
 * On failure no temp file is left (DG_E_ENV). */
int dg_write_atomic(const char *path, const void *data, size_t len, struct dg_error *err);

/* The date for provenance: SOURCE_DATE_EPOCH when set (-1 and an error when it is
 * not a non-negative integer), else now. */
int dg_source_date(long long *out, struct dg_error *err);

#endif
