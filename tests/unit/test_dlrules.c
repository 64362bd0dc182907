/* dlopen rules (src/lib/scope/dlrules.c) on small root filesystems built in a temp
 * directory and read through the rootfs loader, as a real image is. With
 * DG_DLRULES_ROOT set (tests/e2e/test_dlrules.sh: real Debian packages), the
 * rules also run on that tree and print each module as "# dlmod RULE PATH". */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scope/dlrules.h"
#include "dockergate/image.h"
#include "tap.h"
#include "dockergate/util.h"

static char root[256];
static const unsigned char *lib_bytes; /* a real shared object of the host */
static size_t lib_len;
static const unsigned char *exe_bytes; /* this program: an ELF executable */
static size_t exe_len;

static void mkparents(const char *path)
{
	char *p = dg_xstrdup(path);
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = 0;
			mkdir(p, 0755);
			*s = '/';
		}
	free(p);
}

static void put_bytes(const char *rel, const void *data, size_t n)
{
	char *p = dg_xasprintf("%s/%s", root, rel);
	mkparents(p);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, data, n) != (ssize_t)n)
		printf("# cannot write %s\n", p);
	if (fd >= 0)
		close(fd);
	free(p);
}

static void put(const char *rel, const char *text) { put_bytes(rel, text, strlen(text)); }
static void put_lib(const char *rel) { put_bytes(rel, lib_bytes, lib_len); }
static void put_exe(const char *rel) { put_bytes(rel, exe_bytes, exe_len); }

static void link_(const char *rel, const char *target)
{
	char *p = dg_xasprintf("%s/%s", root, rel);
	mkparents(p);
	unlink(p);
	if (symlink(target, p) < 0)
		printf("# symlink %s: %s\n", p, strerror(errno));
	free(p);
}

static unsigned char *slurp(const char *path, size_t *n)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	struct stat st;
	fstat(fd, &st);
	unsigned char *b = dg_xmalloc((size_t)st.st_size + 1);
	ssize_t r = read(fd, b, (size_t)st.st_size);
	close(fd);
	*n = r > 0 ? (size_t)r : 0;
	return b;
}

static void new_root(void)
{
	if (*root) {
		char *cmd = dg_xasprintf("rm -rf '%s'", root);
		if (system(cmd) != 0)
			printf("# cleanup failed\n");
		free(cmd);
	}
	snprintf(root, sizeof root, "%s/dg-dlrules.XXXXXX", dg_tmpdir(NULL));
	if (!mkdtemp(root))
		abort();
}

static struct dg_image *img;

static struct dg_fs *load(const char *dir)
{
	struct dg_error err = DG_ERROR_INIT;
	struct dg_image_opts o;
	dg_image_opts_default(&o);
	if (img)
		dg_image_free(img);
	img = NULL;
	if (dg_image_open(dir, &o, &img, &err) < 0 || dg_image_load(img, &err) < 0) {
		printf("# load %s: %s\n", dir, err.msg);
		return NULL;
	}
	return dg_image_fs(img);
}

static int has(const struct dg_dlmods *m, const char *path) { return dg_dlmods_find(m, path) != NULL; }

static int has_problem(const struct dg_dlmods *m, const char *sub)
{
	for (size_t i = 0; i < m->problems.n; i++)
		if (strstr(m->problems.v[i], sub))
			return 1;
	return 0;
}

static void dump(const struct dg_dlmods *m)
{
	for (size_t i = 0; i < m->n; i++)
		printf("#   %s  <- %s\n", m->v[i].path, m->v[i].why);
	for (size_t i = 0; i < m->problems.n; i++)
		printf("#   problem: %s\n", m->problems.v[i]);
}

static void test_nss(void)
{
	new_root();
	link_("lib", "usr/lib");
	put_lib("usr/lib/x86_64-linux-gnu/libnss_files.so.2");
	put_lib("usr/lib/x86_64-linux-gnu/libnss_systemd.so.2");
	put_lib("usr/lib/x86_64-linux-gnu/libnss_mdns4_minimal.so.2");
	put_lib("usr/lib/libnss_myhostname.so.2");
	put_lib("usr/lib/x86_64-linux-gnu/libnss_compat.so.2");
	put_lib("usr/lib/x86_64-linux-gnu/libnss_extra.so.2");
	put_exe("usr/lib/x86_64-linux-gnu/libnss_exe.so.2");
	put("etc/nsswitch.conf", "# comment: ldap\n"
				 "passwd:         files systemd\n"
				 "group:  files [SUCCESS=merge] systemd # nis\n"
				 "hosts:          files mdns4_minimal [NOTFOUND=return] dns myhostname\n"
				 "  extra\n"
				 "shadow: compat\n"
				 "netgroup: nis bad/name exe\n"
				 "aliases: ldap [unterminated\n");
	struct dg_fs *fs = load(root);
	struct dg_dlmods m = {0};
	struct dg_error err = DG_ERROR_INIT;
	ok(fs && dg_dl_nss(fs, &m, &err) == 0, "nss rule runs");
	dump(&m);
	ok(has(&m, "/usr/lib/x86_64-linux-gnu/libnss_systemd.so.2"), "nss: systemd found");
	ok(has(&m, "/usr/lib/x86_64-linux-gnu/libnss_mdns4_minimal.so.2"), "nss: a service after an action item");
	ok(has(&m, "/usr/lib/libnss_myhostname.so.2"), "nss: found in /usr/lib through /lib -> usr/lib, path resolved");
	ok(has(&m, "/usr/lib/x86_64-linux-gnu/libnss_files.so.2"), "nss: files included when present (old glibc)");
	ok(has(&m, "/usr/lib/x86_64-linux-gnu/libnss_extra.so.2"), "nss: a continuation line's service");
	ok(has(&m, "/usr/lib/x86_64-linux-gnu/libnss_compat.so.2"), "nss: compat");
	ok(!has(&m, "/usr/lib/x86_64-linux-gnu/libnss_exe.so.2"), "nss: an executable is not a module");
	ok(has_problem(&m, "service nis") && has_problem(&m, "service ldap"), "nss: missing services are problems");
	ok(!has_problem(&m, "service dns") && !has_problem(&m, "service files"), "nss: built-in services are not");
	ok(has_problem(&m, "bad/name"), "nss: a name with '/' is refused");
	ok(has_problem(&m, "unterminated"), "nss: unterminated action item reported");
	ok(!has_problem(&m, "SUCCESS") && !has_problem(&m, "comment"), "nss: action items and comments are no services");
	size_t n = m.n;
	dg_dl_nss(fs, &m, &err);
	ok(m.n == n, "nss: a second call adds no duplicates");
	dg_dlmods_free(&m);

	/* no nsswitch.conf: glibc's defaults */
	put("etc/hosts", "x");
	char *p = dg_xasprintf("%s/etc/nsswitch.conf", root);
	unlink(p);
	free(p);
	fs = load(root);
	ok(fs && dg_dl_nss(fs, &m, &err) == 0, "nss without nsswitch.conf");
	dump(&m);
	ok(has(&m, "/usr/lib/x86_64-linux-gnu/libnss_compat.so.2") && has(&m, "/usr/lib/x86_64-linux-gnu/libnss_files.so.2") &&
	       !has(&m, "/usr/lib/x86_64-linux-gnu/libnss_systemd.so.2") && m.problems.n == 0,
	   "nss: defaults are files, dns, compat, nis, nisplus; absent ones are no problem");
	dg_dlmods_free(&m);
}

static void test_gconv(void)
{
	new_root();
	const char *g = "usr/lib/x86_64-linux-gnu/gconv";
	char *p;
#define GP(name) (p = dg_xasprintf("%s/%s", g, name))
	put_lib(GP("UTF-16.so")), free(p);
	put_lib(GP("ISO8859-1.so")), free(p);
	put_lib(GP("libJIS.so")), free(p);
	put_lib(GP("EXTRA.so")), free(p);
	put(GP("gconv-modules"), "# comment\nalias ISO-IR-100// ISO-8859-1//\n"
				 "module ISO-8859-1// INTERNAL ISO8859-1 1\n"
				 "module\tINTERNAL UTF-16// UTF-16.so 2\n"
				 "module A// B// /opt/missing/FOO 1\n"
				 "module short\n"),
		free(p);
	put(GP("gconv-modules.d/extra.conf"), "module EXTRA// INTERNAL EXTRA 1\n"), free(p);
	put(GP("gconv-modules.d/ignored.txt"), "module X// INTERNAL libJIS 1\n"), free(p);
	struct dg_fs *fs = load(root);
	struct dg_dlmods m = {0};
	struct dg_error err = DG_ERROR_INIT;
	ok(fs && dg_dl_gconv(fs, &m, &err) == 0, "gconv rule runs");
	dump(&m);
	ok(has(&m, "/usr/lib/x86_64-linux-gnu/gconv/ISO8859-1.so") && has(&m, "/usr/lib/x86_64-linux-gnu/gconv/UTF-16.so"),
	   "gconv: modules named, with and without .so");
	ok(has(&m, "/usr/lib/x86_64-linux-gnu/gconv/EXTRA.so"), "gconv: gconv-modules.d/*.conf read");
	ok(!has(&m, "/usr/lib/x86_64-linux-gnu/gconv/libJIS.so"), "gconv: an unnamed module is not included (no cache)");
	ok(has_problem(&m, "/opt/missing/FOO.so"), "gconv: a named module missing is a problem");
	ok(has_problem(&m, "without a file"), "gconv: a short module line is a problem");
	dg_dlmods_free(&m);
	put(GP("gconv-modules.cache"), "binary"), free(p);
	fs = load(root);
	dg_dl_gconv(fs, &m, &err);
	ok(has(&m, "/usr/lib/x86_64-linux-gnu/gconv/libJIS.so"), "gconv: with gconv-modules.cache every module is included");
	dg_dlmods_free(&m);
#undef GP
}

static void test_libgcc(void)
{
	new_root();
	struct dg_dlmods m = {0};
	struct dg_error err = DG_ERROR_INIT;
	struct dg_fs *fs = load(root);
	ok(fs && dg_dl_libgcc(fs, &m, &err) == 0 && m.n == 0 && m.problems.n == 0, "libgcc: absent, nothing");
	put_lib("usr/lib/x86_64-linux-gnu/libgcc_s.so.1");
	link_("lib", "usr/lib");
	fs = load(root);
	dg_dl_libgcc(fs, &m, &err);
	dump(&m);
	ok(m.n == 1 && has(&m, "/usr/lib/x86_64-linux-gnu/libgcc_s.so.1"), "libgcc: found, symlinks resolved");
	dg_dlmods_free(&m);
}

static void test_nginx(void)
{
	new_root();
	put("etc/nginx/nginx.conf", "user www-data;\n# load_module modules/commented.so;\n"
				    "include /etc/nginx/modules-enabled/*.conf;\n"
				    "load_module \"/usr/lib/nginx/modules/ngx_quoted.so\";\n"
				    "events { worker_connections 768; }\n"
				    "http { include mime.types; include conf.d/*.conf; include missing.conf; }\n");
	put("etc/nginx/mime.types", "types { text/html html; }\n");
	put("etc/nginx/conf.d/loop.conf", "include conf.d/loop.conf;\n");
	link_("etc/nginx/modules-enabled/50-mod-stream.conf", "/usr/share/nginx/modules-available/mod-stream.conf");
	put("usr/share/nginx/modules-available/mod-stream.conf", "load_module modules/ngx_stream_module.so;\n");
	put("etc/nginx/modules-enabled/60-gone.conf", "load_module modules/ngx_gone.so;\n");
	link_("usr/share/nginx/modules", "../../lib/nginx/modules");
	put_lib("usr/lib/nginx/modules/ngx_stream_module.so");
	put_lib("usr/lib/nginx/modules/ngx_quoted.so");
	put_lib("usr/lib/nginx/modules/commented.so");
	struct dg_fs *fs = load(root);
	struct dg_dlmods m = {0};
	struct dg_error err = DG_ERROR_INIT;
	ok(fs && dg_dl_config(fs, "/usr/sbin/nginx", &m, &err) == 0, "nginx rule runs");
	dump(&m);
	ok(has(&m, "/usr/lib/nginx/modules/ngx_stream_module.so"), "nginx: load_module through an included glob, symlinks");
	ok(has(&m, "/usr/lib/nginx/modules/ngx_quoted.so"), "nginx: quoted absolute load_module");
	ok(!has(&m, "/usr/lib/nginx/modules/commented.so"), "nginx: comments ignored");
	ok(has_problem(&m, "ngx_gone.so"), "nginx: a missing module is a problem");
	ok(has_problem(&m, "missing.conf"), "nginx: a missing include is a problem");
	ok(has_problem(&m, "nested deeper"), "nginx: an include loop stops at the depth cap");
	ok(m.n == 2, "nginx: nothing else (%zu)", m.n);
	dg_dlmods_free(&m);
	ok(dg_dl_config(fs, "/usr/bin/true", &m, &err) == 0 && m.n == 0 && m.problems.n == 0,
	   "config: another program has no configuration rule");
	dg_dlmods_free(&m);
}

static void test_lighttpd(void)
{
	new_root();
	put("etc/lighttpd/lighttpd.conf",
	    "server.modules = (\n\t\"mod_indexfile\",\n\t\"mod_access\", # built in: no file\n)\n"
	    "# server.modules += ( \"mod_commented\" )\n"
	    "server.port = 80\ninclude_shell \"/usr/share/lighttpd/use-ipv6.pl \" + server.port\n"
	    "include_shell \"/usr/share/lighttpd/create-mime.conf.pl\"\n"
	    "include \"/etc/lighttpd/conf-enabled/*.conf\"\n"
	    "server.modules += (\"mod_staticfile\")\n");
	put("etc/lighttpd/conf-enabled/10-accesslog.conf", "server.modules += ( \"mod_accesslog\" )\n");
	put("etc/lighttpd/conf-enabled/05-auth.conf",
	    "server.modules += ( \"mod_auth\" )\nauth.backend = \"plain\"\n$SERVER[\"socket\"] == \":443\" { ssl.engine = \"enable\" }\n");
	put_lib("usr/lib/lighttpd/mod_accesslog.so");
	put_lib("usr/lib/lighttpd/mod_auth.so");
	put_lib("usr/lib/lighttpd/mod_authn_file.so");
	put_lib("usr/lib/lighttpd/mod_dirlisting.so");
	put_lib("usr/lib/lighttpd/mod_openssl.so");
	put_lib("usr/lib/lighttpd/mod_commented.so");
	put_lib("usr/lib/lighttpd/mod_cgi.so");
	struct dg_dlmods m = {0};
	struct dg_error err = DG_ERROR_INIT;
	struct dg_fs *fs = load(root);
	ok(fs && dg_dl_config(fs, "/usr/sbin/lighttpd", &m, &err) == 0, "lighttpd rule runs");
	dump(&m);
	ok(has(&m, "/usr/lib/lighttpd/mod_accesslog.so") && has(&m, "/usr/lib/lighttpd/mod_auth.so"),
	   "lighttpd: server.modules += lists in included files");
	ok(has(&m, "/usr/lib/lighttpd/mod_dirlisting.so"), "lighttpd: mod_dirlisting, which it always loads");
	ok(has(&m, "/usr/lib/lighttpd/mod_authn_file.so") && has(&m, "/usr/lib/lighttpd/mod_openssl.so"),
	   "lighttpd: what it loads by itself (mod_authn_* with mod_auth, the TLS module with ssl.*)");
	ok(!has(&m, "/usr/lib/lighttpd/mod_commented.so") && !has(&m, "/usr/lib/lighttpd/mod_cgi.so") && m.n == 5,
	   "lighttpd: nothing else (comments, modules not named; %zu)", m.n);
	ok(m.problems.n == 0, "lighttpd: built-in modules without a file and Debian's include_shell helpers are no problem");
	dg_dlmods_free(&m);
	put("etc/lighttpd/conf-enabled/20-other.conf", "include_shell \"/usr/local/bin/make-conf\"\n");
	fs = load(root);
	dg_dl_config(fs, "/usr/sbin/lighttpd", &m, &err);
	ok(has(&m, "/usr/lib/lighttpd/mod_cgi.so") && has(&m, "/usr/lib/lighttpd/mod_commented.so"),
	   "lighttpd: an unknown include_shell makes every module of the directory count");
	dg_dlmods_free(&m);
}

static void test_mosquitto(void)
{
	new_root();
	put("etc/mosquitto/mosquitto.conf", "# plugin /usr/lib/commented.so\npersistence true\n"
					    "include_dir /etc/mosquitto/conf.d\n");
	put("etc/mosquitto/conf.d/auth.conf", "  plugin /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so  \n"
					      "auth_plugin /usr/lib/auth-plug.so\nplugin relative.so\n"
					      "plugin /usr/lib/gone.so\n");
	put_lib("usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so");
	put_lib("usr/lib/auth-plug.so");
	put_lib("usr/lib/commented.so");
	struct dg_dlmods m = {0};
	struct dg_error err = DG_ERROR_INIT;
	struct dg_fs *fs = load(root);
	ok(fs && dg_dl_config(fs, "/usr/sbin/mosquitto", &m, &err) == 0, "mosquitto rule runs");
	dump(&m);
	ok(has(&m, "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so") && has(&m, "/usr/lib/auth-plug.so") &&
		   !has(&m, "/usr/lib/commented.so") && m.n == 2,
	   "mosquitto: plugin and auth_plugin lines through include_dir, comments ignored (%zu)", m.n);
	ok(has_problem(&m, "gone.so") && has_problem(&m, "relative.so"),
	   "mosquitto: a missing plugin and a relative path are problems");
	dg_dlmods_free(&m);
}

static void test_haproxy(void)
{
	new_root();
	put("etc/haproxy/haproxy.cfg", "global\n\t# lua-load /etc/haproxy/commented.lua\n\tdaemon\n"
				       "frontend f\n\tbind :80\n\thttp-request return status 200\n");
	put_lib("usr/lib/x86_64-linux-gnu/lua/5.3/cjson.so");
	struct dg_dlmods m = {0};
	struct dg_error err = DG_ERROR_INIT;
	struct dg_fs *fs = load(root);
	ok(fs && dg_dl_config(fs, "/usr/sbin/haproxy", &m, &err) == 0 && m.n == 0 && !m.unknown,
	   "haproxy: no lua-load and no opentracing filter: nothing (%zu)", m.n);
	dg_dlmods_free(&m);
	put("etc/haproxy/conf.d/lua.cfg", "global\n    lua-load-per-thread /etc/haproxy/x.lua\n");
	fs = load(root);
	dg_dl_config(fs, "/usr/sbin/haproxy", &m, &err);
	dump(&m);
	ok(has(&m, "/usr/lib/x86_64-linux-gnu/lua/5.3/cjson.so") && !m.unknown,
	   "haproxy: lua-load-per-thread in a conf.d file: Lua's C modules count");
	dg_dlmods_free(&m);
	put("usr/local/etc/haproxy/haproxy.cfg", "backend b\n  filter opentracing id ot config /etc/ot.cfg\n");
	fs = load(root);
	dg_dl_config(fs, "/usr/sbin/haproxy", &m, &err);
	ok(m.unknown && strstr(m.unknown, "haproxy.cfg:2 filter opentracing"),
	   "haproxy: filter opentracing: a plugin the configuration does not name (%s)", m.unknown ? m.unknown : "-");
	dg_dlmods_free(&m);
}

static void test_openssl(void)
{
	new_root();
	put_lib("usr/lib/x86_64-linux-gnu/engines-3/afalg.so");
	put_lib("usr/lib/x86_64-linux-gnu/ossl-modules/legacy.so");
	put_lib("opt/eng/custom.so");
	put_lib("opt/prov/fips.so");
	put_lib("opt/unnamed.so");
	put("usr/lib/ssl/openssl.cnf", "openssl_conf = openssl_init\n.include /etc/ssl/openssl.cnf.d\n"
				       "[engine_section]\ncustom = custom_sect\n[custom_sect]\n"
				       "dynamic_path = \"/opt/eng/custom.so\"   # the engine\nengine_id = custom\n"
				       "# module = /opt/unnamed.so\nSO_PATH = /opt/gone.so\n");
	put("etc/ssl/openssl.cnf.d/fips.cnf", "[fips_sect]\nmodule=/opt/prov/fips.so\nmodule = fips\n");
	struct dg_dlmods m = {0};
	struct dg_error err = DG_ERROR_INIT;
	struct dg_fs *fs = load(root);
	ok(fs && dg_dl_openssl(fs, &m, &err) == 0, "openssl rule runs");
	dump(&m);
	ok(has(&m, "/usr/lib/x86_64-linux-gnu/engines-3/afalg.so") && has(&m, "/usr/lib/x86_64-linux-gnu/ossl-modules/legacy.so"),
	   "openssl: every module of ENGINESDIR and MODULESDIR");
	ok(has(&m, "/opt/eng/custom.so") && has(&m, "/opt/prov/fips.so") && !has(&m, "/opt/unnamed.so") && m.n == 4,
	   "openssl: dynamic_path and module paths of openssl.cnf and an .include'd directory, comments ignored (%zu)", m.n);
	ok(has_problem(&m, "gone.so"), "openssl: a named module the image lacks is a problem");
	dg_dlmods_free(&m);
	ok(dg_dl_lib_rule("/usr/lib/x86_64-linux-gnu/libcrypto.so.3") == DG_DL_LIB_OPENSSL &&
		   dg_dl_lib_rule("libcrypto.so.1.1") == DG_DL_LIB_OPENSSL &&
		   dg_dl_lib_rule("/lib/x86_64-linux-gnu/libsasl2.so.2") == DG_DL_LIB_SASL &&
		   !dg_dl_lib_rule("/usr/lib/x86_64-linux-gnu/libssl.so.3"),
	   "library rules: libcrypto (OpenSSL) and libsasl2 (SASL) have one, libssl does not");
	new_root();
	put_lib("usr/lib/x86_64-linux-gnu/sasl2/libsasldb.so.2");
	put_lib("usr/lib/x86_64-linux-gnu/libother.so.1");
	fs = load(root);
	ok(dg_dl_lib(fs, DG_DL_LIB_SASL, &m, &err) == 0 && m.n == 1 && has(&m, "/usr/lib/x86_64-linux-gnu/sasl2/libsasldb.so.2"),
	   "sasl: the plugins of the plugin directory (%zu)", m.n);
	dg_dlmods_free(&m);
}

static void test_exec_rules(void)
{
	new_root();
	put("etc/haproxy/haproxy.cfg", "global\n\tdaemon # lua-load /x.lua\n"
				       "backend be\n\toption external-check\n\texternal-check command /usr/local/bin/check.sh\n"
				       "program dataplane\n\tcommand /usr/local/bin/dataplaneapi --port 5555\n"
				       "\tno option start-on-reload\n"
				       "frontend f\n\tcommand not-a-program-section\n");
	struct dg_fs *fs = load(root);
	int lua = -1;
	struct dg_strv checks, progs, probs;
	dg_ex_haproxy(fs, NULL, 1, &lua, &checks, &progs, &probs);
	ok(lua == 0 && checks.n == 1 && !strcmp(checks.v[0], "/usr/local/bin/check.sh"),
	   "exec rule haproxy: external-check command, a commented lua-load does not count (%zu)", checks.n);
	ok(progs.n == 1 && !strcmp(progs.v[0], "/usr/local/bin/dataplaneapi --port 5555"),
	   "exec rule haproxy: a program section's command line, not a command outside it (%zu)", progs.n);
	dg_strv_free(&checks);
	dg_strv_free(&progs);
	dg_strv_free(&probs);
	put("etc/haproxy/conf.d/lua.cfg", "global\n  lua-load /etc/haproxy/x.lua\n");
	fs = load(root);
	dg_ex_haproxy(fs, NULL, 1, &lua, &checks, &progs, &probs);
	ok(lua == 1, "exec rule haproxy: lua-load in a conf.d file");
	dg_strv_free(&checks);
	dg_strv_free(&progs);
	dg_strv_free(&probs);

	put("etc/hosts.allow", "# spawn /commented\nsshd: ALL: spawn (/usr/bin/logger -t wrap %h) &\n"
			       "in.ftpd : 10.0.0.0/8 : severity auth.info : \\\n   twist /bin/echo no\\: go away\n"
			       "portmap: ALL: /usr/sbin/old-style %d\n"
			       "mosquitto: ALL: allow\n");
	put("etc/hosts.deny", "ALL: ALL: aclexec /usr/local/sbin/acl %a\n");
	fs = load(root);
	struct dg_strv cmds;
	dg_ex_libwrap(fs, &cmds, &probs);
	for (size_t i = 0; i < cmds.n; i++)
		printf("#   libwrap command: %s\n", cmds.v[i]);
	ok(cmds.n == 4 && !strcmp(cmds.v[0], "(/usr/bin/logger -t wrap %h) &") && !strcmp(cmds.v[1], "/bin/echo no: go away") &&
		   !strcmp(cmds.v[2], "/usr/sbin/old-style %d") && !strcmp(cmds.v[3], "/usr/local/sbin/acl %a"),
	   "exec rule libwrap: spawn, twist (continued line, escaped colon), the old format's command, aclexec "
	   "in hosts.deny; allow and comments are no commands (%zu)", cmds.n);
	dg_strv_free(&cmds);
	dg_strv_free(&probs);
}

static void test_cfg_args(void)
{
	struct dg_strv f = {0};
	const char *w1[] = {"lighttpd", "-D", "-f", "/etc/lighttpd/e2e.conf"};
	int d1[] = {0, 0, 0, 0};
	ok(dg_dl_cfg_args("/usr/sbin/lighttpd", w1, d1, 4, "/", &f) == 0 && f.n == 1 &&
		   !strcmp(f.v[0], "/etc/lighttpd/e2e.conf"),
	   "cfg args: lighttpd -f FILE");
	dg_strv_free(&f);
	const char *w2[] = {"haproxy", "-f", "/a.cfg", "-f/usr/local/etc/haproxy/conf.d", "-W"};
	int d2[] = {0, 0, 0, 0, 0};
	ok(dg_dl_cfg_args("haproxy", w2, d2, 5, "/", &f) == 0 && f.n == 2 && !strcmp(f.v[1], "/usr/local/etc/haproxy/conf.d"),
	   "cfg args: haproxy -f repeated, -fDIR");
	dg_strv_free(&f);
	const char *w3[] = {"mosquitto", "--config-file=my.conf"};
	int d3[] = {0, 0};
	ok(dg_dl_cfg_args("/usr/sbin/mosquitto", w3, d3, 2, "/srv", &f) == 0 && f.n == 1 && !strcmp(f.v[0], "/srv/my.conf"),
	   "cfg args: mosquitto --config-file=FILE relative to the working directory");
	dg_strv_free(&f);
	const char *w4[] = {"nginx", "-c", "$CONF"};
	int d4[] = {0, 0, 1};
	ok(dg_dl_cfg_args("nginx", w4, d4, 3, "/", &f) == 1 && f.n == 0, "cfg args: nginx -c with a word not static: not known");
	dg_strv_free(&f);
	const char *w5[] = {"redis-server", "-c", "/x.conf"};
	int d5[] = {0, 0, 1};
	ok(dg_dl_cfg_args("redis-server", w5, d5, 3, "/", &f) == 0 && f.n == 0, "cfg args: not a server with a rule: nothing");
	dg_strv_free(&f);

	new_root();
	put("etc/lighttpd/lighttpd.conf", "server.modules = ( \"mod_access\" )\n");
	put("srv/conf/site.conf", "server.modules += ( \"mod_extra\" )\n");
	put_lib("usr/lib/lighttpd/mod_access.so");
	put_lib("usr/lib/lighttpd/mod_extra.so");
	put_lib("usr/lib/lighttpd/mod_dirlisting.so");
	struct dg_fs *fs = load(root);
	struct dg_dlmods m = {0};
	struct dg_error err = DG_ERROR_INIT;
	dg_dl_config(fs, "/usr/sbin/lighttpd", &m, &err);
	ok(!has(&m, "/usr/lib/lighttpd/mod_extra.so"), "cfg args: without the command line, a configuration elsewhere is not read");
	dg_dlmods_free(&m);
	struct dg_strv cf = {0};
	dg_strv_push(&cf, "/srv/conf/site.conf");
	dg_dl_config_files(fs, "/usr/sbin/lighttpd", &cf, 0, &m, &err);
	dump(&m);
	ok(has(&m, "/usr/lib/lighttpd/mod_extra.so") && !has(&m, "/usr/lib/lighttpd/mod_access.so") && m.problems.n == 0,
	   "cfg args: lighttpd -f /srv/conf/site.conf (a *.conf outside lighttpd's tree, kept) replaces lighttpd.conf");
	dg_dlmods_free(&m);
	dg_dl_config_files(fs, "/usr/sbin/lighttpd", &cf, 1, &m, &err);
	ok(has(&m, "/usr/lib/lighttpd/mod_extra.so") && has(&m, "/usr/lib/lighttpd/mod_access.so"),
	   "cfg args: also run without -f: both configurations");
	dg_dlmods_free(&m);
	dg_strv_free(&cf);
}

static void test_apache(void)
{
	new_root();
	put("etc/apache2/apache2.conf", "# LoadModule x /nope.so\nServerRoot \"/etc/apache2\"\n"
					"IncludeOptional mods-enabled/*.load\nInclude ports.conf\n"
					"<IfModule mpm_event_module>\n  LoadModule \\\n   cont_module /usr/lib/apache2/modules/mod_cont.so\n</IfModule>\n"
					"Include conf-enabled\nIncludeOptional sites-enabled/*.conf\nInclude nothere.conf\n");
	put("etc/apache2/ports.conf", "Listen 80\n");
	put("etc/apache2/mods-enabled/mpm_event.load", "LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\n");
	put("etc/apache2/mods-enabled/php.load", "LoadModule php_module \"/usr/lib/apache2/modules/libphp8.2.so\"\n");
	put("etc/apache2/conf-enabled/sub/x.conf", "LoadFile /usr/lib/x86_64-linux-gnu/libxml2.so.2\n");
	put_lib("usr/lib/apache2/modules/mod_mpm_event.so");
	put_lib("usr/lib/apache2/modules/libphp8.2.so");
	put_lib("usr/lib/apache2/modules/mod_cont.so");
	put_lib("usr/lib/x86_64-linux-gnu/libxml2.so.2");
	put("etc/php/8.2/apache2/php.ini", "[PHP]\n; extension=commented\nextension = mysqli ; trailing\n");
	put_lib("usr/lib/php/20220829/mysqli.so");
	struct dg_fs *fs = load(root);
	struct dg_dlmods m = {0};
	struct dg_error err = DG_ERROR_INIT;
	ok(fs && dg_dl_config(fs, "apache2", &m, &err) == 0, "apache rule runs");
	dump(&m);
	ok(has(&m, "/usr/lib/apache2/modules/mod_mpm_event.so") && has(&m, "/usr/lib/apache2/modules/libphp8.2.so"),
	   "apache: LoadModule from IncludeOptional globs, quoted");
	ok(has(&m, "/usr/lib/apache2/modules/mod_cont.so"), "apache: continuation lines");
	ok(has(&m, "/usr/lib/x86_64-linux-gnu/libxml2.so.2"), "apache: Include of a directory reads its files, LoadFile");
	ok(has(&m, "/usr/lib/php/20220829/mysqli.so"), "apache: the PHP module brings PHP's extensions");
	ok(has_problem(&m, "nothere.conf") && !has_problem(&m, "sites-enabled"), "apache: Include missing is a problem, IncludeOptional not");
	ok(!has_problem(&m, "nope.so") && !has_problem(&m, "commented"), "apache/php: comments ignored");
	dg_dlmods_free(&m);
}

static void test_php(void)
{
	new_root();
	put("etc/php/8.2/fpm/php.ini", "[PHP]\nzend_extension=opcache.so\nextension=\"missing\"\n");
	put("etc/php/8.2/fpm/conf.d/20-foo.ini", "extension=foo\n");
	put("etc/php/8.2/cli/conf.d/20-abs.ini", "extension=/opt/ext/abs.so\n");
	put_lib("usr/lib/php/20220829/opcache.so");
	put_lib("usr/lib/php/20220829/foo.so");
	put_lib("opt/ext/abs.so");
	put_lib("usr/lib/php/20220829/unnamed.so");
	struct dg_fs *fs = load(root);
	struct dg_dlmods m = {0};
	struct dg_error err = DG_ERROR_INIT;
	ok(fs && dg_dl_config(fs, "/usr/sbin/php-fpm8.2", &m, &err) == 0, "php rule runs");
	dump(&m);
	ok(has(&m, "/usr/lib/php/20220829/opcache.so") && has(&m, "/usr/lib/php/20220829/foo.so") && has(&m, "/opt/ext/abs.so"),
	   "php: extension=, zend_extension=, absolute, in conf.d, default extension_dir");
	ok(!has(&m, "/usr/lib/php/20220829/unnamed.so"), "php config: an unnamed extension is not included");
	ok(has_problem(&m, "missing"), "php: a missing extension is a problem");
	dg_dlmods_free(&m);
	put("etc/php/8.2/fpm/conf.d/10-dir.ini", "extension_dir = \"/opt/ext\"\n");
	fs = load(root);
	dg_dl_config(fs, "php8.2", &m, &err);
	ok(!has(&m, "/usr/lib/php/20220829/foo.so") && has_problem(&m, "foo"), "php: extension_dir replaces the default");
	dg_dlmods_free(&m);
	dg_dl_interp(fs, "php8.2", &m, &err);
	ok(has(&m, "/usr/lib/php/20220829/unnamed.so") && m.n == 3, "php interp: every shared object under /usr/lib/php");
	dg_dlmods_free(&m);
}

static void test_interp(void)
{
	new_root();
	put_lib("usr/lib/python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so");
	put_lib("usr/lib/python3/dist-packages/yaml/_yaml.cpython-311-x86_64-linux-gnu.so");
	put_lib("usr/lib/python3.12/lib-dynload/_other.so");
	put("usr/lib/python3.11/lib-dynload/fake.so", "not elf");
	put_exe("usr/lib/python3.11/lib-dynload/prog.so");
	put_lib("usr/local/lib/node_modules/x/build/Release/addon.node");
	put_lib("usr/local/lib/node_modules/x/build/Release/libhelper.so");
	put_lib("usr/lib/x86_64-linux-gnu/perl5/5.36/auto/POSIX/POSIX.so");
	put_lib("usr/lib/x86_64-linux-gnu/lua/5.4/lpeg.so");
	struct dg_fs *fs = load(root);
	struct dg_dlmods m = {0};
	struct dg_error err = DG_ERROR_INIT;
	ok(fs && dg_dl_interp(fs, "/usr/bin/python3.11", &m, &err) == 0, "interp rule runs");
	dump(&m);
	ok(has(&m, "/usr/lib/python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so") &&
	       has(&m, "/usr/lib/python3/dist-packages/yaml/_yaml.cpython-311-x86_64-linux-gnu.so"),
	   "python3.11: lib-dynload and dist-packages, recursively");
	ok(!has(&m, "/usr/lib/python3.12/lib-dynload/_other.so"), "python3.11: not python3.12's");
	ok(m.n == 2, "python: no non-ELF or executable file");
	dg_dlmods_free(&m);
	dg_dl_interp(fs, "python3", &m, &err);
	ok(m.n == 3, "python3 (no version): every python3.*");
	dg_dlmods_free(&m);
	dg_dl_interp(fs, "node", &m, &err);
	ok(m.n == 1 && has(&m, "/usr/local/lib/node_modules/x/build/Release/addon.node"), "node: *.node only");
	dg_dlmods_free(&m);
	dg_dl_interp(fs, "perl", &m, &err);
	ok(m.n == 1, "perl: the arch directory");
	dg_dlmods_free(&m);
	dg_dl_interp(fs, "lua5.4", &m, &err);
	ok(m.n == 1, "lua");
	dg_dlmods_free(&m);
	dg_dl_interp(fs, "bash", &m, &err);
	ok(m.n == 0, "bash: no interpreter rule");
	dg_dl_all(fs, &m, &err);
	ok(m.n == 7, "all: every shared object, no executable, no text (%zu)", m.n);
	dg_dlmods_free(&m);
}

static void test_hostile(void)
{
	new_root();
	char *big = dg_xmalloc(DG_DL_MAX_CONFIG + 2);
	memset(big, '#', DG_DL_MAX_CONFIG + 1);
	big[DG_DL_MAX_CONFIG + 1] = 0;
	put("etc/nsswitch.conf", big);
	free(big);
	unsigned char junk[4096];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (unsigned char)(i * 131 + 7);
	put_bytes("etc/nginx/nginx.conf", junk, sizeof junk);
	put("etc/apache2/apache2.conf", "Include /etc/apache2/apache2.conf\nInclude /*/*/*/*\nLoadModule x ${X}/m.so\n");
	put("etc/php/8.2/cli/php.ini", "extension=\"unterminated\nextension_dir=\nextension=../../../../etc/passwd\n");
	link_("etc/nginx/loop", "loop");
	put_lib("usr/lib/x86_64-linux-gnu/libnss_sss.so.2");
	put("usr/lib/x86_64-linux-gnu/libnss_text.so.2", "text");
	struct dg_fs *fs = load(root);
	struct dg_dlmods m = {0};
	struct dg_error err = DG_ERROR_INIT;
	ok(fs && dg_dl_nss(fs, &m, &err) == 0 && has_problem(&m, "larger than"), "hostile: oversized nsswitch.conf");
	ok(m.n == 1 && has(&m, "/usr/lib/x86_64-linux-gnu/libnss_sss.so.2"),
	   "nss: an unreadable nsswitch.conf brings every libnss_*.so.2 of the loader's directories");
	dg_dlmods_free(&m);
	ok(dg_dl_config(fs, "nginx", &m, &err) == 0, "hostile: binary nginx.conf");
	ok(dg_dl_config(fs, "httpd", &m, &err) == 0 && has_problem(&m, "nested deeper"), "hostile: self-including apache2.conf");
	ok(has_problem(&m, "variables"), "hostile: apache variables reported");
	ok(dg_dl_config(fs, "php", &m, &err) == 0, "hostile: php.ini");
	dump(&m);
	for (size_t i = 0; i < m.n; i++)
		ok(0, "hostile: nothing found, got %s", m.v[i].path);
	dg_dlmods_free(&m);

	/* the same glob on every line: the rule's work budget ends it */
	new_root();
	for (int i = 0; i < 600; i++) {
		char name[64];
		snprintf(name, sizeof name, "big/f%d", i);
		put(name, "");
	}
	struct dg_buf b = {0};
	for (int i = 0; i < 2000; i++)
		dg_buf_puts(&b, "IncludeOptional /big/*.x\nInclude /big\n");
	char *conf = dg_buf_steal(&b);
	put("etc/apache2/apache2.conf", conf);
	free(conf);
	fs = load(root);
	ok(fs && dg_dl_config(fs, "apache2", &m, &err) == 0 && has_problem(&m, "directory entries and glob results") &&
	       m.problems.n < 100,
	   "hostile: repeated globs and directory includes stop at the work budget (%zu problems)", m.problems.n);
	dg_dlmods_free(&m);
}

/* Real Debian packages unpacked in DG_DLRULES_ROOT: prints what each rule finds. */
static void real_root(const char *dir)
{
	struct dg_fs *fs = load(dir);
	ok(fs != NULL, "real root %s loads", dir);
	if (!fs)
		return;
	static const char *const progs[] = {"nginx", "apache2", "python3.11", "perl", "php8.2", "lighttpd", "mosquitto", "haproxy"};
	struct dg_error err = DG_ERROR_INIT;
	struct {
		const char *name;
		int (*fn)(struct dg_fs *, struct dg_dlmods *, struct dg_error *);
	} g[] = {{"nss", dg_dl_nss}, {"gconv", dg_dl_gconv}, {"libgcc", dg_dl_libgcc}, {"openssl", dg_dl_openssl}, {"all", dg_dl_all}};
	for (size_t i = 0; i < 5; i++) {
		struct dg_dlmods m = {0};
		ok(g[i].fn(fs, &m, &err) == 0, "real: %s: %zu modules, %zu problems", g[i].name, m.n, m.problems.n);
		for (size_t k = 0; k < m.n; k++)
			printf("# dlmod %s %s %s\n", g[i].name, m.v[k].path, i == 4 ? "" : m.v[k].why);
		for (size_t k = 0; k < m.problems.n; k++)
			printf("# dlproblem %s %s\n", g[i].name, m.problems.v[k]);
		dg_dlmods_free(&m);
	}
	for (size_t i = 0; i < sizeof progs / sizeof *progs; i++) {
		struct dg_dlmods m = {0};
		ok(dg_dl_config(fs, progs[i], &m, &err) == 0 && dg_dl_interp(fs, progs[i], &m, &err) == 0,
		   "real: %s: %zu modules, %zu problems", progs[i], m.n, m.problems.n);
		for (size_t k = 0; k < m.n; k++)
			printf("# dlmod %s %s %s\n", progs[i], m.v[k].path, m.v[k].why);
		for (size_t k = 0; k < m.problems.n; k++)
			printf("# dlproblem %s %s\n", progs[i], m.problems.v[k]);
		dg_dlmods_free(&m);
	}
}

int main(void)
{
	const char *libs[] = {"/lib/x86_64-linux-gnu/libdl.so.2", "/usr/lib/x86_64-linux-gnu/libdl.so.2",
			      "/lib/x86_64-linux-gnu/libutil.so.1", "/lib/x86_64-linux-gnu/libc.so.6"};
	for (size_t i = 0; i < 4 && !lib_bytes; i++)
		lib_bytes = slurp(libs[i], &lib_len);
	exe_bytes = slurp("/proc/self/exe", &exe_len);
	if (!lib_bytes || !exe_bytes) {
		printf("1..0 # SKIP no host shared object to copy\n");
		return 0;
	}
	const char *real = getenv("DG_DLRULES_ROOT");
	if (real && *real) {
		real_root(real);
	} else {
		test_nss();
		test_gconv();
		test_libgcc();
		test_nginx();
		test_apache();
		test_lighttpd();
		test_mosquitto();
		test_haproxy();
		test_openssl();
		test_exec_rules();
		test_cfg_args();
		test_php();
		test_interp();
		test_hostile();
	}
	if (img)
		dg_image_free(img);
	if (*root) {
		char *cmd = dg_xasprintf("rm -rf '%s'", root);
		if (system(cmd) != 0)
			printf("# cleanup failed\n");
		free(cmd);
	}
	free((void *)lib_bytes);
	free((void *)exe_bytes);
	return tap_done();
}
