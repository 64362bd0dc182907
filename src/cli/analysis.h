/* What syscalls, generate and explain share: the analysis options (parsed into
 * struct sc_args), loading and analysing an image (a struct sc_session), and the
 * small views of a syscall bitmap they all print. */
#ifndef DG_CLI_ANALYSIS_H
#define DG_CLI_ANALYSIS_H

#include "cli.h"
#include "dockergate/scope.h"
#include "dockergate/syscalls.h"
#include "dockergate/util.h"

#define SC_HELP_OPTS                                                                                   \
	"  --precision LEVEL   function (default): only functions reachable from the roots count;\n" \
	"                      a function pointer held in data a symbol table delimits counts once\n" \
	"                      reachable code or data refers to that data; held: the same, but\n" \
	"                      every pointer held in data counts (the earlier rule, for\n"         \
	"                      comparison); object: every syscall site of every loaded object\n"   \
	"                      (the DockerGate seed's method, for comparison)\n"                     \
	"  --strict            exit 7 when a reachable syscall site's number is not known\n"         \
	"  --jobs N            threads for disassembly (default: the number of CPUs)\n"         \
	"  --scope SCOPE       image (default): every executable of the image and every library\n" \
	"                      no program loads (as dlopen'd), so `docker exec` of any program\n"  \
	"                      keeps working; entrypoint: what can run from the config's\n"       \
	"                      Entrypoint + Cmd (scripts, interpreters, exec wrappers, sh -c),\n"  \
	"                      falling back to the image's programs or libraries where that is\n" \
	"                      not known statically (each reason is reported); ARGS after the\n"  \
	"                      IMAGE replace the Cmd, as in `docker run IMAGE ARGS`\n"            \
	"  --exec-fallback F   entrypoint scope, a program that runs programs chosen at run time:\n" \
	"                      image (default: every executable) or none (trust it runs only what\n" \
	"                      the closure has; check with `dockergate verify`)\n"

/* The analysis options; each command numbers its own from OPT_SC_NEXT. */
enum { OPT_PRECISION = OPT_FIRST_CMD_OPT, OPT_STRICT, OPT_JOBS, OPT_SCOPE, OPT_EXEC_FALLBACK, OPT_SC_NEXT };

#define SC_LONGOPTS                                                                                    \
	{"precision", required_argument, NULL, OPT_PRECISION}, {"strict", no_argument, NULL, OPT_STRICT}, \
		{"jobs", required_argument, NULL, OPT_JOBS}, {"scope", required_argument, NULL, OPT_SCOPE},         \
		{"exec-fallback", required_argument, NULL, OPT_EXEC_FALLBACK}

struct sc_args {
	struct cli_image_args a;
	struct dg_sc_opts so;
	int strict, jobs;
	enum dg_scope_kind scope;
	enum dg_exec_fallback exec_fallback;
	struct dg_strv args; /* --scope entrypoint: ARGS replacing the Cmd, as `docker run IMAGE ARGS` */
};

void sc_args_init(struct sc_args *s);
void sc_args_free(struct sc_args *s);
/* Handles an analysis option or (else) a common image option C for CMD: 0, or the
 * usage status after the message. */
int sc_opt(const char *cmd, struct sc_args *s, int c, const char *arg);
/* The option loop of syscalls and explain: the shared options, --help (HELP printed),
 * and one flag of the command's own (FLAG_OPT, setting *FLAG). Returns -1 to go on,
 * else the exit status. */
int sc_parse(const char *cmd, int argc, char **argv, const struct option *lo, const char *help, int flag_opt,
	     int *flag, struct sc_args *s);

/* What one analysed image holds on to until sc_done. */
struct sc_session {
	struct dg_image *img;
	struct dg_objdb *db;
	struct dg_cache *cache;
	struct dg_sc_result *res;
	struct dg_scope *scope; /* --scope entrypoint: how each target was reached */
	char *arch_mismatch;    /* the config names another architecture than the code's (a message), or NULL */
};

/* Loads IMAGE and analyses it into *SS (released by sc_done, also after a failure);
 * a progress line on stderr when it is a terminal. Returns 0 or the exit status. */
int sc_run(const char *spec, struct sc_args *s, struct sc_session *ss);
void sc_done(struct sc_session *ss);

const char *sc_precision_name(enum dg_precision p);
/* The names of the syscalls in BITS (x86-64, or the i386 table), sorted. */
json_t *sc_names_json(const uint8_t *bits, int i386);
size_t sc_count_bits(const uint8_t *bits);
/* A problem for each number in BITS that libseccomp cannot name (a profile names syscalls). */
void sc_unnamed(const uint8_t *bits, int i386, struct dg_strv *out);
/* The machine of code not analysed, by the architecture table's name when it has one. */
const char *sc_unanalysed_machine(const struct dg_sc_unanalysed *u, char *buf, size_t n);
/* [{"path", "machine"}] */
json_t *sc_unanalysed_json(const struct dg_sc_unanalysed *v, size_t n);
/* One line for R's unanalysed files: "3 files of aarch64 code are not analysed (no backend
 * reads it): /bin/ls, /lib/..., and 1 more" (a new string). */
char *sc_unanalysed_line(const struct dg_sc_result *r);
/* "a, b, c" appended to B. */
void sc_join(struct dg_buf *b, const struct dg_strv *v);

#endif
