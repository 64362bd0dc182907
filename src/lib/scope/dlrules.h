/* Which shared objects a program can load with dlopen(3), beyond its DT_NEEDED
 * closure: one function per rule (docs/design.md, "dlopen rules"). Every rule
 * reads only the image (paths resolved inside its root by dg_fs_resolve) and
 * never fails on what the image contains: unreadable or malformed configuration
 * and modules a configuration names but the image lacks become problem lines.
 * Each rule appends to OUT; an object already in OUT (same resolved path) is
 * not added again, so the rules can be combined. The loader search assumes
 * x86-64 (64-bit) objects. */
#ifndef DOCKERGATE_DLRULES_H
#define DOCKERGATE_DLRULES_H

#include <stddef.h>
#include <stdint.h>

#include "dockergate/error.h"
#include "dockergate/fs.h"
#include "dockergate/image.h"

struct dg_dlmod {
	char *path; /* absolute path in the image, symlinks resolved by dg_fs_resolve */
	char *why;  /* one line: which rule and which file/line said so */
};

struct dg_dlmods {
	struct dg_dlmod *v;
	size_t n;
	/* unreadable/unparsable configs, named modules missing from the image: one line each */
	struct dg_strv problems;
	/* the configuration lets the program dlopen objects it does not name (which file and
	 * line say so), or NULL: the caller takes the fallback for names nobody knows */
	char *unknown;
};

/* Caps against hostile configuration (each cap reached is a problem line). */
#define DG_DL_MAX_CONFIG (1u << 20) /* bytes of one configuration file */
#define DG_DL_MAX_DEPTH 16          /* nested include levels */
#define DG_DL_MAX_GLOB 4096         /* paths one include pattern expands to */
#define DG_DL_MAX_FILES 4096        /* configuration files read by one rule call */

void dg_dlmods_free(struct dg_dlmods *m);
/* The entry for PATH in M, or NULL. */
const struct dg_dlmod *dg_dlmods_find(const struct dg_dlmods *m, const char *path);

/* glibc's NSS modules: every service of /etc/nsswitch.conf (glibc's defaults
 * when it is absent) as libnss_SERVICE.so.2, found as dlopen finds it. */
int dg_dl_nss(struct dg_fs *fs, struct dg_dlmods *out, struct dg_error *err);
/* iconv's gconv modules named by gconv-modules and the *.conf files of gconv-modules.d of
 * the image's gconv directories (every module there when gconv-modules.cache
 * exists, since that binary cache is what glibc reads first). */
int dg_dl_gconv(struct dg_fs *fs, struct dg_dlmods *out, struct dg_error *err);
/* libgcc_s.so.1 (glibc dlopens it for pthread_cancel/pthread_exit unwinding and backtrace). */
int dg_dl_libgcc(struct dg_fs *fs, struct dg_dlmods *out, struct dg_error *err);
/* Modules named by server configuration, chosen by PROG's basename: nginx
 * (load_module), apache2/httpd (LoadModule), php* and php-fpm* (extension=,
 * zend_extension=), lighttpd (server.modules), mosquitto (plugin, auth_plugin),
 * haproxy (lua-load*: Lua's C modules; `filter opentracing`: OUT->unknown).
 * Other programs: nothing. */
int dg_dl_config(struct dg_fs *fs, const char *prog, struct dg_dlmods *out, struct dg_error *err);
/* The same with the configuration files CFGS (absolute paths in the image; haproxy: a directory
 * means its *.cfg files) that the program's command line names (dg_dl_cfg_args), which replace
 * the default files as they do for the server, unless DEFAULTS (the program also runs without
 * such an option) or CFGS is empty. */
int dg_dl_config_files(struct dg_fs *fs, const char *prog, const struct dg_strv *cfgs, int defaults,
		       struct dg_dlmods *out, struct dg_error *err);
/* The configuration files a server's command line W[0..N) names: nginx -c, lighttpd -f,
 * mosquitto -c/--config-file, haproxy -f (repeatable), apache2/httpd -f, php-fpm -c/-y, in the
 * forms `-f FILE`, `-fFILE`, `--opt FILE` and `--opt=FILE`; a relative FILE is taken from
 * WORKDIR. Appended to OUT; returns 1 when a word is not static (DYNAMIC[i] set), so a file
 * it may name is not known, else 0. */
int dg_dl_cfg_args(const char *prog, const char *const *w, const int *dynamic, size_t n, const char *workdir,
		   struct dg_strv *out);
/* Whether PROG (by basename) is a server whose command line can name its configuration. */
int dg_dl_cfg_server(const char *prog);
/* Extension modules of interpreters, by PROG's basename: python3*, perl*,
 * ruby*, node/nodejs, php*, lua*, tclsh* and wish*: every ELF shared object
 * under their module directories. Other programs: nothing. */
int dg_dl_interp(struct dg_fs *fs, const char *prog, struct dg_dlmods *out, struct dg_error *err);
/* OpenSSL's libcrypto loads engines (ENGINE_by_id, the dynamic engine) and providers
 * (OSSL_PROVIDER_load) with DSO: every ELF shared object of its ENGINESDIR and MODULESDIR
 * (engines-N and ossl-modules under the usual library directories) and every absolute
 * path an openssl.cnf names (dynamic_path, module, SO_PATH; .include followed). */
int dg_dl_openssl(struct dg_fs *fs, struct dg_dlmods *out, struct dg_error *err);
/* Cyrus SASL's libsasl2 loads its mechanism plugins from its plugin directory: every ELF
 * shared object of /usr/lib/x86_64-linux-gnu/sasl2, /usr/lib/sasl2, /usr/lib64/sasl2 and
 * /usr/local/lib/sasl2 ($SASL_PATH and a program's own sasl_set_path are not seen). */
int dg_dl_sasl(struct dg_fs *fs, struct dg_dlmods *out, struct dg_error *err);
/* Whether the library file NAME (a basename or path) has a library rule: its dlopen calls of
 * names not known load only what that rule names (dg_dl_openssl for libcrypto.so.*, dg_dl_sasl
 * for libsasl2.so.*): the rule (a DG_DL_LIB_* bit), or 0. */
#define DG_DL_LIB_OPENSSL 1
#define DG_DL_LIB_SASL 2
int dg_dl_lib_rule(const char *name);
/* Runs library rule RULE (one DG_DL_LIB_* bit). */
int dg_dl_lib(struct dg_fs *fs, int rule, struct dg_dlmods *out, struct dg_error *err);
/* Every ELF shared object of the image: the sound fallback for a dlopen whose
 * name nobody knows. */
int dg_dl_all(struct dg_fs *fs, struct dg_dlmods *out, struct dg_error *err);
struct dg_objdb;
struct dg_ldset;

/* A process that may dlopen names nobody knows: the load sets of what it holds. */
struct dg_dl_proc {
	const struct dg_ldset *const *sets;
	size_t nsets;
};

/* Which shared objects could be dlopen'ed into one of the processes PROCS: CANDS[i] is kept
 * (KEEP[i] = 1) when its DT_NEEDED closure is found (in the image, or among the process's
 * objects, by name) and every symbol the loader binds while loading it binds: the undefined
 * non-weak symbols of the closure's objects the process does not hold yet, referenced by data
 * relocations, and by PLT relocations too for an object linked with BIND_NOW, must be
 * defined by an object of the process, by the closure itself, or by another candidate that
 * loads into it (loaded RTLD_GLOBAL: the least fixpoint). Lazy PLT bindings never fail a
 * dlopen and versions are not checked, so what the rule drops the real loader refuses.
 * WHY[i] (when WHY is not NULL) says why a candidate is not kept, for the last process
 * (caller frees). Returns how many are kept. */
size_t dg_dl_loadable(struct dg_objdb *db, const struct dg_dl_proc *procs, size_t nprocs, const char *ld_library_path,
		      const char *const *cands, size_t n, uint8_t *keep, char **why);

/* Exec rules: what programs a configuration makes a server or library run (docs/design.md,
 * "Exec rules"); CFGS and DEFAULTS as for dg_dl_config_files. haproxy: LUA is set when a lua-load* line runs Lua code (whose os.execute
 * and io.popen run shell commands); CHECKS gets each `external-check command PATH`,
 * PROGRAMS each `program` section's `command CMD ARGS...` line. libwrap: CMDS gets the shell
 * commands of /etc/hosts.allow and /etc/hosts.deny (spawn, twist, aclexec). Unreadable
 * configuration becomes PROBLEMS lines. The caller frees the lists. */
void dg_ex_haproxy(struct dg_fs *fs, const struct dg_strv *cfgs, int defaults, int *lua, struct dg_strv *checks,
		   struct dg_strv *programs, struct dg_strv *problems);
void dg_ex_libwrap(struct dg_fs *fs, struct dg_strv *cmds, struct dg_strv *problems);
/* lighttpd (its configuration as the dlopen rule reads it, CFGS too): SHELL gets the commands it
 * runs with /bin/sh -c (include_shell, "|" piped loggers), BINS the fastcgi/scgi "bin-path"
 * command lines. */
void dg_ex_lighttpd(struct dg_fs *fs, const struct dg_strv *cfgs, int defaults, struct dg_strv *shell,
		    struct dg_strv *bins, struct dg_strv *problems);

/* nss, gconv, libgcc, config and interp for PROG together. */
int dg_dl_rules(struct dg_fs *fs, const char *prog, struct dg_dlmods *out, struct dg_error *err);

#endif
