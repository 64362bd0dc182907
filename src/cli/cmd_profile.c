/* dockergate diff A B: the syscalls added and removed between two profiles;
 * dockergate merge A B ...: the union of several profiles (the containers of
 * one pod). A profile is a Docker-format file or the word docker-default. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dockergate/profile.h"
#include "dockergate/util.h"

enum { OPT_OUTPUT = OPT_FIRST_CMD_OPT, OPT_FORMAT };

static void warn_all(const char *cmd, const struct dg_strv *w)
{
	for (size_t i = 0; i < w->n; i++)
		cli_warn(cmd, "%s", w->v[i]);
}

static const char diff_help[] =
	"usage: dockergate diff A B [--json]\n\n"
	"The syscalls B allows that A does not (added, '+') and those A allows that B does\n"
	"not (removed, '-'), then errno overrides and architectures that differ. A and B are\n"
	"Docker-format profiles (as `generate` writes them, or any other) or the word\n"
	"docker-default (Docker's default profile for a default `docker run` on x86-64).\n"
	"Rules are evaluated as Docker would (capabilities, architecture); rules with\n"
	"argument conditions count as allowing their syscalls (a warning says so).\n"
	"The exit status is 0 whether or not they differ.\n\n"
	"Options:\n"
	"  --json              {\"added\": [...], \"removed\": [...], \"errno_changed\": [...], ...}\n";

static void sets(const struct dg_strv *a, const struct dg_profile *other, struct dg_strv *out)
{
	for (size_t i = 0; i < a->n; i++)
		if (!dg_profile_allows(other, a->v[i]))
			dg_strv_push(out, a->v[i]);
}

static int errno_of(const struct dg_profile *p, const char *name)
{
	for (size_t i = 0; i < p->nerrnos; i++)
		if (!strcmp(p->errnos[i].name, name))
			return p->errnos[i].errnum;
	return 0;
}

static json_t *names_arr(const struct dg_strv *v)
{
	json_t *a = json_array();
	for (size_t i = 0; i < v->n; i++)
		cli_json_push(a, cli_json_str(v->v[i]));
	return a;
}

static const char *arch_str(unsigned a)
{
	return (a & DG_ARCH_X86) ? ((a & DG_ARCH_X86_64) ? "x86_64 x86" : "x86") : "x86_64";
}

int cmd_diff(int argc, char **argv)
{
	static const struct option lo[] = {{"json", no_argument, NULL, OPT_JSON},
					   {"help", no_argument, NULL, OPT_HELP},
					   {0, 0, 0, 0}};
	int c, json = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == OPT_HELP) {
			fputs(diff_help, stdout);
			return 0;
		}
		if (c == OPT_JSON)
			json = 1;
		else
			return cli_usage_error("diff", "unknown option");
	}
	if (argc - optind != 2)
		return cli_usage_error("diff", "expected two profiles A and B");
	struct dg_profile a, b;
	struct dg_strv w = {0}, added = {0}, removed = {0};
	struct dg_error err = DG_ERROR_INIT;
	if (dg_profile_load_spec(argv[optind], &a, &w, &err) < 0) {
		dg_strv_free(&w);
		return cli_fail(&err);
	}
	if (dg_profile_load_spec(argv[optind + 1], &b, &w, &err) < 0) {
		dg_profile_free(&a);
		dg_strv_free(&w);
		return cli_fail(&err);
	}
	warn_all("diff", &w);
	sets(&b.allow, &a, &added);
	sets(&a.allow, &b, &removed);
	/* overrides that differ: names in either with a different errno (0: none) */
	struct dg_profile u;
	dg_profile_init(&u);
	for (size_t i = 0; i < a.nerrnos; i++)
		dg_profile_set_errno(&u, a.errnos[i].name, 0);
	for (size_t i = 0; i < b.nerrnos; i++)
		dg_profile_set_errno(&u, b.errnos[i].name, 0);
	json_t *ec = json_array();
	struct dg_buf txt = {0};
	for (size_t i = 0; i < u.nerrnos; i++) {
		const char *n = u.errnos[i].name;
		int ea = errno_of(&a, n), eb = errno_of(&b, n);
		if (ea == eb)
			continue;
		json_t *o = json_object();
		cli_json_set(o, "name", cli_json_str(n));
		cli_json_set(o, "a", ea ? json_integer(ea) : json_null());
		cli_json_set(o, "b", eb ? json_integer(eb) : json_null());
		cli_json_push(ec, o);
		char sa[16], sb[16];
		snprintf(sa, sizeof sa, "%d", ea);
		snprintf(sb, sizeof sb, "%d", eb);
		dg_buf_printf(&txt, "~ %s: errno %s -> %s\n", n, ea ? sa : "none", eb ? sb : "none");
	}
	if (json) {
		json_t *o = json_object();
		cli_json_set(o, "a", cli_json_str(argv[optind]));
		cli_json_set(o, "b", cli_json_str(argv[optind + 1]));
		cli_json_set(o, "added", names_arr(&added));
		cli_json_set(o, "removed", names_arr(&removed));
		cli_json_set(o, "errno_changed", ec);
		cli_json_set(o, "architectures_a", cli_json_str(arch_str(a.arches)));
		cli_json_set(o, "architectures_b", cli_json_str(arch_str(b.arches)));
		cli_json_set(o, "default_errno_a", json_integer(a.default_errno));
		cli_json_set(o, "default_errno_b", json_integer(b.default_errno));
		cli_json_set(o, "allowed_a", json_integer((json_int_t)a.allow.n));
		cli_json_set(o, "allowed_b", json_integer((json_int_t)b.allow.n));
		cli_print_json(o);
	} else {
		json_decref(ec);
		for (size_t i = 0; i < added.n; i++)
			printf("+ %s\n", added.v[i]);
		for (size_t i = 0; i < removed.n; i++)
			printf("- %s\n", removed.v[i]);
		if (txt.len)
			fwrite(txt.data, 1, txt.len, stdout);
		if (a.arches != b.arches)
			printf("~ architectures: %s -> %s\n", arch_str(a.arches), arch_str(b.arches));
		if (a.default_errno != b.default_errno)
			printf("~ default errno: %d -> %d\n", a.default_errno, b.default_errno);
		printf("%zu added, %zu removed (%zu allowed in A, %zu in B)\n", added.n, removed.n, a.allow.n, b.allow.n);
	}
	dg_buf_free(&txt);
	dg_profile_free(&u);
	dg_profile_free(&a);
	dg_profile_free(&b);
	dg_strv_free(&w);
	dg_strv_free(&added);
	dg_strv_free(&removed);
	return 0;
}

static const char merge_help[] =
	"usage: dockergate merge A B ... [-o FILE] [--format FORMAT]\n\n"
	"The union of several profiles, e.g. one per container of a pod: every syscall any\n"
	"of them allows, the architectures of all of them. An errno override is kept for a\n"
	"syscall the union does not allow (when two profiles disagree, the first one's, with\n"
	"a warning); the default errno is theirs when they agree, else EPERM (1). Inputs as\n"
	"for `diff` (Docker-format files or docker-default). The result is compiled with\n"
	"libseccomp and written atomically; SOURCE_DATE_EPOCH, when set, is its date.\n\n"
	"Options:\n"
	"  -o, --output FILE   where to write it (default '-': stdout)\n";

int cmd_merge(int argc, char **argv)
{
	static const struct option lo[] = {{"output", required_argument, NULL, OPT_OUTPUT},
					   {"format", required_argument, NULL, OPT_FORMAT},
					   {"help", no_argument, NULL, OPT_HELP},
					   {0, 0, 0, 0}};
	int c;
	const char *output = "-";
	enum dg_profile_format format = DG_PF_DOCKER;
	while ((c = getopt_long(argc, argv, "o:", lo, NULL)) != -1) {
		if (c == OPT_HELP) {
			fputs(merge_help, stdout);
			cli_format_help(stdout, DG_PF_DOCKER, false, "(as for generate; the k8s resource is named 'merged')");
			return 0;
		}
		if (c == 'o' || c == OPT_OUTPUT) {
			output = optarg;
		} else if (c == OPT_FORMAT) {
			int r = cli_parse_format("merge", optarg, &format);
			if (r)
				return r;
		} else {
			return cli_usage_error("merge", "unknown option");
		}
	}
	if (argc - optind < 1)
		return cli_usage_error("merge", "expected one or more profiles");
	if (!*output)
		return cli_usage_error("merge", "-o: expected a file name or '-'");
	struct dg_error err = DG_ERROR_INIT;
	long long date;
	if (dg_source_date(&date, &err) < 0)
		return cli_fail(&err);
	struct dg_profile m, in[64];
	int n = argc - optind;
	if (n > 64)
		return cli_usage_error("merge", "at most 64 profiles");
	struct dg_strv w = {0};
	for (int i = 0; i < n; i++)
		if (dg_profile_load_spec(argv[optind + i], &in[i], &w, &err) < 0) {
			for (int k = 0; k < i; k++)
				dg_profile_free(&in[k]);
			dg_strv_free(&w);
			return cli_fail(&err);
		}
	dg_profile_init(&m);
	m.arches = 0;
	m.default_errno = in[0].default_errno;
	for (int i = 0; i < n; i++) {
		m.arches |= in[i].arches;
		if (in[i].default_errno != m.default_errno)
			m.default_errno = -1;
		for (size_t k = 0; k < in[i].allow.n; k++)
			dg_profile_allow(&m, in[i].allow.v[k]);
	}
	/* logged (SCMP_ACT_LOG) when every profile allowing it logs it; a plain allow wins */
	for (size_t k = 0; k < m.allow.n; k++) {
		int logs = 1;
		for (int i = 0; i < n && logs; i++)
			logs = !dg_profile_allows(&in[i], m.allow.v[k]) || dg_profile_logs(&in[i], m.allow.v[k]);
		if (logs)
			dg_profile_log(&m, m.allow.v[k]);
	}
	if (m.default_errno < 0) {
		dg_strv_push(&w, "the profiles' default errnos differ: EPERM (1)");
		m.default_errno = 1;
	}
	for (int i = 0; i < n; i++)
		for (size_t k = 0; k < in[i].nerrnos; k++) {
			const char *nm = in[i].errnos[k].name;
			if (dg_profile_allows(&m, nm))
				continue;
			int prev = errno_of(&m, nm);
			if (prev && prev != in[i].errnos[k].errnum) {
				char *msg = dg_xasprintf("%s: errno %d in %s, %d in an earlier profile: %d kept", nm,
							 in[i].errnos[k].errnum, argv[optind + i], prev, prev);
				dg_strv_push(&w, msg);
				free(msg);
				continue;
			}
			dg_profile_set_errno(&m, nm, in[i].errnos[k].errnum);
		}
	m.tool = dg_xstrdup("dockergate " DG_VERSION);
	struct dg_buf sc = {0};
	dg_buf_puts(&sc, "merge:");
	for (int i = 0; i < n; i++)
		dg_buf_printf(&sc, " %s", in[i].image ? in[i].image : argv[optind + i]);
	m.scope = dg_buf_steal(&sc);
	m.date = date;
	struct dg_buf out = {0};
	int rc = 0;
	warn_all("merge", &w);
	if (dg_profile_write(&m, format, "merged", &out, &err) < 0 || dg_write_atomic(output, out.data, out.len, &err) < 0)
		rc = cli_fail(&err);
	else
		cli_say("merge", NULL, "%zu allowed (%zu x86-64 syscalls) from %d profiles%s%s", m.allow.n,
			cli_count_x86_64(&m), n, strcmp(output, "-") ? ", written to " : "",
			strcmp(output, "-") ? output : "");
	dg_buf_free(&out);
	dg_profile_free(&m);
	for (int i = 0; i < n; i++)
		dg_profile_free(&in[i]);
	dg_strv_free(&w);
	return rc;
}
