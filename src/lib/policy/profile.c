/* The seccomp profile model, its writers (Docker, OCI, Kubernetes SPO, BPF, PFC),
 * the Docker-format reader with Docker's includes/excludes rules, and the atomic
 * file write. See include/dockergate/profile.h and docs/design.md ("Profiles"). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dockergate/profile.h"
#include "dockergate/reach.h"
#include "dockergate/syscalls.h"
#include "dockergate/util.h"

/* data/docker-default.json, compiled in (the Makefile makes this object depend on it) */
__asm__(".pushsection .rodata\n"
	".balign 16\n"
	".globl dg_docker_default_start\n"
	".hidden dg_docker_default_start\n"
	"dg_docker_default_start:\n"
	".incbin \"data/docker-default.json\"\n"
	".globl dg_docker_default_end\n"
	".hidden dg_docker_default_end\n"
	"dg_docker_default_end:\n"
	".byte 0\n"
	".popsection\n");
extern const char dg_docker_default_start[], dg_docker_default_end[];

const char *dg_docker_default_json(size_t *len)
{
	*len = (size_t)(dg_docker_default_end - dg_docker_default_start);
	return dg_docker_default_start;
}

void dg_profile_init(struct dg_profile *p)
{
	memset(p, 0, sizeof *p);
	p->default_errno = 1;
	p->arches = DG_ARCH_X86_64;
	p->date = -1;
	p->unknown_sites = -1;
	p->traces = -1;
}

void dg_profile_free(struct dg_profile *p)
{
	dg_strv_free(&p->allow);
	dg_strv_free(&p->log);
	for (size_t i = 0; i < p->nerrnos; i++)
		free(p->errnos[i].name);
	free(p->errnos);
	free(p->tool);
	free(p->image);
	free(p->scope);
	free(p->precision);
	free(p->method);
	free(p->runtime_base);
	free(p->unanalysed);
	dg_profile_init(p);
}

/* Binary search by name in a sorted array whose elements start with a `char *` name (the
 * strings of a strv, the errno rules): the index of NAME, or -(insertion point) - 1. */
static long find_name(const void *base, size_t n, size_t stride, const char *name)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(*(char *const *)(const void *)((const char *)base + mid * stride), name);
		if (!c)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

static long find(const struct dg_strv *v, const char *name)
{
	return find_name(v->v, v->n, sizeof *v->v, name);
}

static long find_errno(const struct dg_profile *p, const char *name)
{
	return find_name(p->errnos, p->nerrnos, sizeof *p->errnos, name);
}

void dg_profile_allow_arch(struct dg_profile *p, unsigned bit)
{
	const struct dg_arch *a = dg_arch_by_bit(bit);
	if (!a)
		return;
	p->arches |= bit;
	/* every table's numbers: 0.. (MIPS o32 from 4000, n64 from 5000, n32 from 6000), and
	 * ARM's private calls at 0xf0000 */
	static const int ranges[][2] = {{0, 7000}, {0xf0000, 0xf0010}};
	for (size_t r = 0; r < sizeof ranges / sizeof *ranges; r++)
		for (int nr = ranges[r][0]; nr < ranges[r][1]; nr++) {
			char *nm = seccomp_syscall_resolve_num_arch(a->scmp, nr);
			if (nm) {
				dg_profile_allow(p, nm);
				free(nm);
			}
		}
}

int dg_profile_allows(const struct dg_profile *p, const char *name)
{
	return find(&p->allow, name) >= 0;
}

static void drop_errno(struct dg_profile *p, const char *name)
{
	long k = find_errno(p, name);
	if (k < 0)
		return;
	free(p->errnos[k].name);
	memmove(&p->errnos[k], &p->errnos[k + 1], (p->nerrnos - (size_t)k - 1) * sizeof *p->errnos);
	p->nerrnos--;
}

/* Inserts NAME into sorted V (nothing when it is there); whether it was added. */
static int sorted_add(struct dg_strv *v, const char *name)
{
	long k = find(v, name);
	if (k >= 0)
		return 0;
	size_t at = (size_t)(-k - 1);
	dg_strv_push(v, name); /* appended; move it into place */
	char *s = v->v[v->n - 1];
	memmove(&v->v[at + 1], &v->v[at], (v->n - 1 - at) * sizeof *v->v);
	v->v[at] = s;
	return 1;
}

static void sorted_del(struct dg_strv *v, const char *name)
{
	long k = find(v, name);
	if (k < 0)
		return;
	free(v->v[k]);
	memmove(&v->v[k], &v->v[k + 1], (v->n - (size_t)k) * sizeof *v->v); /* with the NULL after the last */
	v->n--;
}

void dg_profile_allow(struct dg_profile *p, const char *name)
{
	sorted_del(&p->log, name);
	if (sorted_add(&p->allow, name))
		drop_errno(p, name);
}

void dg_profile_log(struct dg_profile *p, const char *name)
{
	if (dg_profile_allows(p, name))
		sorted_add(&p->log, name);
}

int dg_profile_logs(const struct dg_profile *p, const char *name)
{
	return find(&p->log, name) >= 0;
}

void dg_profile_deny(struct dg_profile *p, const char *name)
{
	sorted_del(&p->log, name);
	sorted_del(&p->allow, name);
}

void dg_profile_set_errno(struct dg_profile *p, const char *name, int errnum)
{
	long k = find_errno(p, name);
	if (k >= 0) {
		p->errnos[k].errnum = errnum;
		return;
	}
	size_t at = (size_t)(-k - 1);
	p->errnos = dg_xreallocarray(p->errnos, p->nerrnos + 1, sizeof *p->errnos);
	memmove(&p->errnos[at + 1], &p->errnos[at], (p->nerrnos - at) * sizeof *p->errnos);
	p->errnos[at].name = dg_xstrdup(name);
	p->errnos[at].errnum = errnum;
	p->nerrnos++;
}

void dg_profile_from_bits(struct dg_profile *p, const uint8_t *native, const uint8_t *i386, int has_i386)
{
	for (unsigned k = 0; k < DG_NSYSCALLS; k++) {
		if (dg_reach_has(native, k) && dg_syscall_name(k, 0))
			dg_profile_allow(p, dg_syscall_name(k, 0));
		if (has_i386 && dg_reach_has(i386, k) && dg_syscall_name(k, 1))
			dg_profile_allow(p, dg_syscall_name(k, 1));
	}
	if (has_i386)
		p->arches |= DG_ARCH_X86;
}

void dg_profile_intersect(struct dg_profile *p, const struct dg_profile *base, struct dg_strv *removed)
{
	size_t w = 0;
	for (size_t i = 0; i < p->allow.n; i++) {
		if (dg_profile_allows(base, p->allow.v[i])) {
			p->allow.v[w++] = p->allow.v[i];
			continue;
		}
		if (removed)
			dg_strv_push(removed, p->allow.v[i]);
		sorted_del(&p->log, p->allow.v[i]);
		free(p->allow.v[i]);
	}
	p->allow.n = w;
	if (p->allow.v)
		p->allow.v[w] = NULL;
}

/* Syscalls whose failure with ENOSYS makes the C library (or, for openat2, the
 * programs that use it) fall back to an older call; docs/design.md lists the
 * sources. The override is added when the syscall is not allowed and one of ALT
 * is (no ALT: always). ARCH: only when the profile covers that architecture. */
static const struct fallback {
	const char *name;
	const char *alt[3];
	unsigned arch;
} fallbacks[] = {
	{"clone3", {"clone"}, 0},
	{"close_range", {"close"}, 0},
	{"faccessat2", {"faccessat"}, 0},
	{"openat2", {"openat", "open"}, 0},
	{"rseq", {NULL}, 0},
	{"statx", {"newfstatat", "fstatat64"}, 0},
	/* i386: glibc's 64-bit time wrappers try the *_time64 call first */
	{"clock_getres_time64", {"clock_getres"}, DG_ARCH_X86},
	{"clock_gettime64", {"clock_gettime"}, DG_ARCH_X86},
	{"clock_nanosleep_time64", {"clock_nanosleep"}, DG_ARCH_X86},
	{"clock_settime64", {"clock_settime"}, DG_ARCH_X86},
	{"futex_time64", {"futex"}, DG_ARCH_X86},
	{"ppoll_time64", {"ppoll"}, DG_ARCH_X86},
	{"pselect6_time64", {"pselect6"}, DG_ARCH_X86},
	{"recvmmsg_time64", {"recvmmsg", "socketcall"}, DG_ARCH_X86},
	{"rt_sigtimedwait_time64", {"rt_sigtimedwait"}, DG_ARCH_X86},
	{"semtimedop_time64", {"semtimedop", "ipc"}, DG_ARCH_X86},
	{"timer_gettime64", {"timer_gettime"}, DG_ARCH_X86},
	{"timer_settime64", {"timer_settime"}, DG_ARCH_X86},
	{"timerfd_gettime64", {"timerfd_gettime"}, DG_ARCH_X86},
	{"timerfd_settime64", {"timerfd_settime"}, DG_ARCH_X86},
	{"utimensat_time64", {"utimensat"}, DG_ARCH_X86},
};

void dg_profile_add_fallbacks(struct dg_profile *p, struct dg_strv *added)
{
	for (size_t i = 0; i < sizeof fallbacks / sizeof *fallbacks; i++) {
		const struct fallback *f = &fallbacks[i];
		if ((f->arch && !(p->arches & f->arch)) || dg_profile_allows(p, f->name) || p->default_errno == ENOSYS)
			continue;
		int want = !f->alt[0];
		for (size_t k = 0; k < 3 && f->alt[k]; k++)
			want |= dg_profile_allows(p, f->alt[k]);
		if (!want)
			continue;
		dg_profile_set_errno(p, f->name, ENOSYS);
		if (added)
			dg_strv_push(added, f->name);
	}
}

int dg_errno_parse(const char *s)
{
	if (!s || !*s)
		return -1;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (!*end)
		return errno || v < 1 || v > 4095 ? -1 : (int)v;
	for (int e = 1; e < 4096; e++) {
		const char *n = strerrorname_np(e);
		if (n && !strcmp(n, s))
			return e;
	}
	return -1;
}

/* ---- compiling ---- */

void dg_profile_ctx_free(void *ctx)
{
	if (ctx)
		seccomp_release((scmp_filter_ctx)ctx);
}

static int add_rule(scmp_filter_ctx c, uint32_t action, const char *name, struct dg_error *err)
{
	/* the native number, or libseccomp's pseudo number for a name this machine lacks: it
	 * maps it onto every architecture of the filter that has it */
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR)
		return dg_err(err, DG_E_INPUT, "unknown syscall '%s': libseccomp %u.%u.%u does not know it", name,
			      seccomp_version()->major, seccomp_version()->minor, seccomp_version()->micro);
	int r = seccomp_rule_add(c, action, nr, 0);
	if (r < 0)
		return dg_err_sys(err, DG_E_INPUT, -r, "libseccomp refused the rule for syscall '%s'", name);
	return 0;
}

int dg_profile_compile(const struct dg_profile *p, void **ctx, struct dg_error *err)
{
	if (p->default_errno < 1 || p->default_errno > 4095)
		return dg_err(err, DG_E_INPUT, "default errno %d out of range", p->default_errno);
	scmp_filter_ctx c = seccomp_init(SCMP_ACT_ERRNO((uint32_t)p->default_errno));
	if (!c)
		return dg_err(err, DG_E_ENV, "libseccomp: seccomp_init failed");
	int r = 0, native_kept = 0;
	size_t na;
	const struct dg_arch *ar = dg_arches(&na), *first = NULL;
	for (size_t i = 0; i < na; i++)
		native_kept |= (p->arches & ar[i].bit) && ar[i].scmp == seccomp_arch_native();
	/* the native architecture goes first when it is not wanted: another byte order
	 * could not join it */
	if (!native_kept && p->arches)
		r = seccomp_arch_remove(c, SCMP_ARCH_NATIVE);
	for (size_t i = 0; i < na && r >= 0; i++) {
		if (!(p->arches & ar[i].bit))
			continue;
		if (first && first->big_endian != ar[i].big_endian && first->big_endian >= 0 && ar[i].big_endian >= 0) {
			seccomp_release(c);
			return dg_err(err, DG_E_INPUT, "%s and %s cannot share one seccomp filter: their byte orders differ",
				      first->scmp_name, ar[i].scmp_name);
		}
		if (!first)
			first = &ar[i];
		if (ar[i].scmp != seccomp_arch_native())
			r = seccomp_arch_add(c, ar[i].scmp);
	}
	if (r < 0) {
		seccomp_release(c);
		return dg_err_sys(err, DG_E_ENV, -r, "libseccomp: cannot set the architectures");
	}
	for (size_t i = 0; i < p->allow.n; i++)
		if (add_rule(c, dg_profile_logs(p, p->allow.v[i]) ? SCMP_ACT_LOG : SCMP_ACT_ALLOW, p->allow.v[i], err) < 0)
			goto fail;
	for (size_t i = 0; i < p->nerrnos; i++) {
		if (p->errnos[i].errnum < 1 || p->errnos[i].errnum > 4095) {
			dg_err(err, DG_E_INPUT, "errno %d for syscall '%s' out of range", p->errnos[i].errnum,
			       p->errnos[i].name);
			goto fail;
		}
		if (p->errnos[i].errnum == p->default_errno)
			continue; /* the default already (libseccomp refuses a rule equal to it) */
		if (add_rule(c, SCMP_ACT_ERRNO((uint32_t)p->errnos[i].errnum), p->errnos[i].name, err) < 0)
			goto fail;
	}
	if (ctx)
		*ctx = c;
	else
		seccomp_release(c);
	return 0;
fail:
	seccomp_release(c);
	return -1;
}

/* ---- writers ---- */

static json_t *strv_json(const struct dg_strv *v)
{
	json_t *a = json_array();
	for (size_t i = 0; i < v->n; i++)
		json_array_append_new(a, json_string(v->v[i]));
	return a;
}

static json_t *arches_json(const struct dg_profile *p)
{
	json_t *a = json_array();
	size_t na;
	const struct dg_arch *ar = dg_arches(&na);
	for (size_t i = 0; i < na; i++)
		if (p->arches & ar[i].bit)
			json_array_append_new(a, json_string(ar[i].scmp_name));
	return a;
}

static json_t *rules_json(const struct dg_profile *p)
{
	json_t *rules = json_array();
	if (p->allow.n > p->log.n) {
		json_t *r = json_object(), *a = json_array();
		for (size_t i = 0; i < p->allow.n; i++)
			if (!dg_profile_logs(p, p->allow.v[i]))
				json_array_append_new(a, json_string(p->allow.v[i]));
		json_object_set_new(r, "names", a);
		json_object_set_new(r, "action", json_string("SCMP_ACT_ALLOW"));
		json_array_append_new(rules, r);
	}
	if (p->log.n) { /* allowed, and each use logged by the kernel (the fallback tier) */
		json_t *r = json_object();
		json_object_set_new(r, "names", strv_json(&p->log));
		json_object_set_new(r, "action", json_string("SCMP_ACT_LOG"));
		json_array_append_new(rules, r);
	}
	for (size_t i = 0; i < p->nerrnos; i++) {
		if (p->errnos[i].errnum == p->default_errno)
			continue; /* what the default action answers anyway */
		json_t *r = json_object(), *n = json_array();
		json_array_append_new(n, json_string(p->errnos[i].name));
		json_object_set_new(r, "names", n);
		json_object_set_new(r, "action", json_string("SCMP_ACT_ERRNO"));
		json_object_set_new(r, "errnoRet", json_integer(p->errnos[i].errnum));
		json_array_append_new(rules, r);
	}
	return rules;
}

static void date_str(long long t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 32, "@%lld", t);
}

static json_t *seccomp_json(const struct dg_profile *p, int provenance)
{
	json_t *o = json_object();
	json_object_set_new(o, "defaultAction", json_string("SCMP_ACT_ERRNO"));
	json_object_set_new(o, "defaultErrnoRet", json_integer(p->default_errno));
	json_object_set_new(o, "architectures", arches_json(p));
	json_object_set_new(o, "syscalls", rules_json(p));
	if (provenance) {
		json_t *pr = json_object();
		json_object_set_new(pr, "tool", p->tool ? json_string(p->tool) : json_string("dockergate " DG_VERSION));
		if (p->image)
			json_object_set_new(pr, "image", json_string(p->image));
		if (p->scope)
			json_object_set_new(pr, "scope", json_string(p->scope));
		if (p->precision)
			json_object_set_new(pr, "precision", json_string(p->precision));
		if (p->method)
			json_object_set_new(pr, "method", json_string(p->method));
		if (p->traces >= 0)
			json_object_set_new(pr, "traces", json_integer(p->traces));
		if (p->runtime_base)
			json_object_set_new(pr, "runtime_base", json_string(p->runtime_base));
		if (p->unknown_sites >= 0)
			json_object_set_new(pr, "unknown_sites", json_integer(p->unknown_sites));
		if (p->unanalysed)
			json_object_set_new(pr, "not_analysed", json_string(p->unanalysed));
		if (p->date >= 0) {
			char d[32];
			date_str(p->date, d);
			json_object_set_new(pr, "date", json_string(d));
		}
		json_object_set_new(o, "dockergate", pr);
	}
	return o;
}

static void put_json(struct dg_buf *b, json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	dg_buf_puts(b, s);
	dg_buf_putc(b, '\n');
	free(s);
}

static void yaml_scalar(struct dg_buf *b, json_t *v)
{
	if (json_is_integer(v)) {
		dg_buf_printf(b, "%lld", (long long)json_integer_value(v));
	} else if (json_is_boolean(v)) {
		dg_buf_puts(b, json_is_true(v) ? "true" : "false");
	} else { /* a JSON string literal is a YAML double-quoted scalar */
		char *s = json_dumps(v, JSON_ENCODE_ANY);
		dg_buf_puts(b, s);
		free(s);
	}
}

static void yaml_node(struct dg_buf *b, json_t *v, int ind, int inline_first);

static void yaml_value(struct dg_buf *b, json_t *v, int ind)
{
	if (json_is_object(v) && json_object_size(v)) {
		dg_buf_putc(b, '\n');
		yaml_node(b, v, ind + 2, 0);
	} else if (json_is_array(v) && json_array_size(v)) {
		dg_buf_putc(b, '\n');
		yaml_node(b, v, ind, 0);
	} else if (json_is_object(v)) {
		dg_buf_puts(b, " {}\n");
	} else if (json_is_array(v)) {
		dg_buf_puts(b, " []\n");
	} else {
		dg_buf_putc(b, ' ');
		yaml_scalar(b, v);
		dg_buf_putc(b, '\n');
	}
}

/* Block YAML for objects and arrays; INLINE_FIRST: the first key follows a "- " already written. */
static void yaml_node(struct dg_buf *b, json_t *v, int ind, int inline_first)
{
	if (json_is_object(v)) {
		const char *k;
		json_t *x;
		int first = 1;
		json_object_foreach(v, k, x) {
			if (!(first && inline_first))
				dg_buf_printf(b, "%*s", ind, "");
			first = 0;
			dg_buf_printf(b, "%s:", k);
			yaml_value(b, x, ind);
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x) {
			dg_buf_printf(b, "%*s- ", ind, "");
			if (json_is_object(x) && json_object_size(x)) {
				yaml_node(b, x, ind + 2, 1);
			} else {
				yaml_scalar(b, x);
				dg_buf_putc(b, '\n');
			}
		}
	}
}

static json_t *k8s_json(const struct dg_profile *p, const char *name)
{
	json_t *o = json_object(), *md = json_object(), *ann = json_object(), *spec = json_object();
	json_object_set_new(o, "apiVersion", json_string("security-profiles-operator.x-k8s.io/v1beta1"));
	json_object_set_new(o, "kind", json_string("SeccompProfile"));
	json_object_set_new(md, "name", json_string(name));
	json_object_set_new(ann, "dockergate/tool", json_string(p->tool ? p->tool : "dockergate " DG_VERSION));
	if (p->image)
		json_object_set_new(ann, "dockergate/image", json_string(p->image));
	if (p->scope)
		json_object_set_new(ann, "dockergate/scope", json_string(p->scope));
	if (p->precision)
		json_object_set_new(ann, "dockergate/precision", json_string(p->precision));
	if (p->method)
		json_object_set_new(ann, "dockergate/method", json_string(p->method));
	if (p->date >= 0) {
		char d[32];
		date_str(p->date, d);
		json_object_set_new(ann, "dockergate/date", json_string(d));
	}
	json_object_set_new(md, "annotations", ann);
	json_object_set_new(o, "metadata", md);
	json_object_set_new(spec, "defaultAction", json_string("SCMP_ACT_ERRNO"));
	json_object_set_new(spec, "architectures", arches_json(p));
	json_object_set_new(spec, "syscalls", rules_json(p));
	json_object_set_new(o, "spec", spec);
	return o;
}

static int valid_k8s_name(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 253)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int an = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!an && ((c != '-' && c != '.') || i == 0 || i == n - 1))
			return 0;
	}
	return 1;
}

static int export_filter(scmp_filter_ctx c, int bpf, struct dg_buf *out, struct dg_error *err)
{
	int fd = memfd_create("dockergate-filter", MFD_CLOEXEC);
	if (fd < 0)
		return dg_err_sys(err, DG_E_ENV, errno, "memfd_create");
	int r = bpf ? seccomp_export_bpf(c, fd) : seccomp_export_pfc(c, fd);
	if (r < 0) {
		close(fd);
		return dg_err_sys(err, DG_E_INTERNAL, -r, "libseccomp: exporting the filter failed");
	}
	off_t end = lseek(fd, 0, SEEK_END);
	if (end < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		int e = errno;
		close(fd);
		return dg_err_sys(err, DG_E_ENV, e, "reading the exported filter");
	}
	char buf[65536];
	ssize_t k;
	while ((k = read(fd, buf, sizeof buf)) > 0)
		dg_buf_append(out, buf, (size_t)k);
	int e = errno;
	close(fd);
	if (k < 0)
		return dg_err_sys(err, DG_E_ENV, e, "reading the exported filter");
	return 0;
}

static const struct dg_profile_format_info formats[] = {
	{"docker", DG_PF_DOCKER, "also a kubelet localhost/ profile"},
	{"oci", DG_PF_OCI, "the runtime-spec linux.seccomp object"},
	{"k8s", DG_PF_K8S, "a security-profiles-operator SeccompProfile in YAML"},
	{"k8s-json", DG_PF_K8S_JSON, "the same in JSON"},
	{"bpf", DG_PF_BPF, "libseccomp's compiled filter"},
	{"pfc", DG_PF_PFC, "its readable form"},
};

const struct dg_profile_format_info *dg_profile_formats(size_t *n)
{
	*n = sizeof formats / sizeof *formats;
	return formats;
}

int dg_profile_format_parse(const char *name, enum dg_profile_format *out)
{
	for (size_t i = 0; i < sizeof formats / sizeof *formats; i++)
		if (!strcmp(name, formats[i].name)) {
			*out = formats[i].format;
			return 0;
		}
	return -1;
}

const char *dg_profile_format_name(enum dg_profile_format f)
{
	for (size_t i = 0; i < sizeof formats / sizeof *formats; i++)
		if (formats[i].format == f)
			return formats[i].name;
	return "?";
}

int dg_profile_write(const struct dg_profile *p, enum dg_profile_format format, const char *name,
		     struct dg_buf *out, struct dg_error *err)
{
	void *ctx = NULL;
	if (dg_profile_compile(p, &ctx, err) < 0)
		return -1;
	int rc = 0;
	json_t *j = NULL;
	switch (format) {
	case DG_PF_DOCKER:
		put_json(out, j = seccomp_json(p, 1));
		break;
	case DG_PF_OCI:
		put_json(out, j = seccomp_json(p, 0));
		break;
	case DG_PF_K8S:
	case DG_PF_K8S_JSON:
		if (!name || !valid_k8s_name(name)) {
			rc = dg_err(err, DG_E_USAGE, "'%s' is not a valid Kubernetes name (lower-case letters, digits, '-' and '.')",
				    name ? name : "");
			break;
		}
		j = k8s_json(p, name);
		if (format == DG_PF_K8S_JSON) {
			put_json(out, j);
		} else {
			dg_buf_puts(out, "---\n");
			yaml_node(out, j, 0, 0);
		}
		break;
	case DG_PF_BPF:
	case DG_PF_PFC:
		rc = export_filter((scmp_filter_ctx)ctx, format == DG_PF_BPF, out, err);
		break;
	}
	json_decref(j);
	dg_profile_ctx_free(ctx);
	return rc;
}

/* ---- reading Docker-format profiles ---- */

/* Docker's default capability set (moby oci/caps/defaults.go): what a plain `docker run` has. */
static const char *const docker_caps[] = {
	"CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",	 "CAP_FOWNER",		 "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID",	   "CAP_SETUID",	 "CAP_SETFCAP",		 "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
};

const char *const *dg_docker_caps(size_t *n)
{
	*n = sizeof docker_caps / sizeof *docker_caps;
	return docker_caps;
}

static int has_cap(const char *c)
{
	for (size_t i = 0; i < sizeof docker_caps / sizeof *docker_caps; i++)
		if (!strcmp(docker_caps[i], c))
			return 1;
	return 0;
}

/* Docker matches includes/excludes arches against its own GOARCH name: "amd64" on x86-64. */
static int arr_has(json_t *a, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) if (json_is_string(v) && !strcmp(json_string_value(v), s)) return 1;
	return 0;
}

/* Whether a rule applies to a default `docker run` on x86-64 (seccomp_linux.go's filter). */
static int rule_applies(json_t *r)
{
	json_t *ex = json_object_get(r, "excludes"), *in = json_object_get(r, "includes"), *a, *v;
	size_t i;
	if (json_is_object(ex)) {
		if (json_is_array(a = json_object_get(ex, "arches")) && arr_has(a, "amd64"))
			return 0;
		if (json_is_array(a = json_object_get(ex, "caps")))
			json_array_foreach(a, i, v) if (json_is_string(v) && has_cap(json_string_value(v))) return 0;
		if (json_is_string(json_object_get(ex, "minKernel")))
			return 0; /* minKernel counts as satisfied: the exclusion applies */
	}
	if (json_is_object(in)) {
		if (json_is_array(a = json_object_get(in, "arches")) && json_array_size(a) && !arr_has(a, "amd64"))
			return 0;
		if (json_is_array(a = json_object_get(in, "caps")))
			json_array_foreach(a, i, v) if (!json_is_string(v) || !has_cap(json_string_value(v))) return 0;
	}
	return 1;
}

/* Syscall names are identifiers (libseccomp's tables: lower-case letters, digits, '_'). */
static int valid_name(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '_'))
			return 0;
	return 1;
}

static void add_arch(struct dg_profile *p, const char *a)
{
	const struct dg_arch *ar = dg_arch_by_scmp_name(a);
	if (ar)
		p->arches |= ar->bit;
}

int dg_profile_load(const char *text, size_t len, const char *what, struct dg_profile *p,
		    struct dg_strv *warnings, struct dg_error *err)
{
	json_error_t je;
	json_t *top = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!top)
		return dg_err(err, DG_E_INPUT, "%s: not valid JSON: line %d: %s", what, je.line, je.text);
	int rc = -1;
	dg_profile_init(p);
	json_t *v, *rules, *a;
	if (!json_is_object(top)) {
		dg_err(err, DG_E_INPUT, "%s: not a seccomp profile (expected a JSON object)", what);
		goto out;
	}
	const char *da = json_string_value(json_object_get(top, "defaultAction"));
	if (!da) {
		dg_err(err, DG_E_INPUT, "%s: not a seccomp profile (no defaultAction)", what);
		goto out;
	}
	if (!strcmp(da, "SCMP_ACT_ALLOW") || !strcmp(da, "SCMP_ACT_LOG")) {
		dg_err(err, DG_E_INPUT, "%s: defaultAction %s (a deny-list profile) is not supported: only allow-lists",
		       what, da);
		goto out;
	}
	if ((v = json_object_get(top, "defaultErrnoRet")) && json_is_integer(v))
		p->default_errno = (int)json_integer_value(v);
	p->arches = 0;
	size_t i, k;
	if (json_is_array(a = json_object_get(top, "architectures")))
		json_array_foreach(a, i, v) if (json_is_string(v)) add_arch(p, json_string_value(v));
	if (json_is_array(a = json_object_get(top, "archMap")))
		json_array_foreach(a, i, v) {
			const char *arch = json_string_value(json_object_get(v, "architecture"));
			if (!arch || strcmp(arch, "SCMP_ARCH_X86_64"))
				continue;
			add_arch(p, arch);
			json_t *sub = json_object_get(v, "subArchitectures"), *s;
			json_array_foreach(sub, k, s) if (json_is_string(s)) add_arch(p, json_string_value(s));
		}
	if (!p->arches)
		p->arches = DG_ARCH_X86_64; /* none listed: libseccomp's native one */
	rules = json_object_get(top, "syscalls");
	if (rules && !json_is_array(rules)) {
		dg_err(err, DG_E_INPUT, "%s: \"syscalls\" is not an array", what);
		goto out;
	}
	size_t total = 0;
	struct dg_profile errs, conds; /* conds: names allowed with argument conditions */
	dg_profile_init(&errs);
	dg_profile_init(&conds);
	for (int pass = 0; pass < 2; pass++) /* allow rules first: an allowed name has no override */
		json_array_foreach(rules, i, v) {
			if (!json_is_object(v)) {
				dg_err(err, DG_E_INPUT, "%s: syscalls[%zu] is not an object", what, i);
				dg_profile_free(&errs);
				dg_profile_free(&conds);
				goto out;
			}
			const char *act = json_string_value(json_object_get(v, "action"));
			json_t *names = json_object_get(v, "names"), *one = json_object_get(v, "name");
			if (!act || (!json_is_array(names) && !json_is_string(one))) {
				dg_err(err, DG_E_INPUT, "%s: syscalls[%zu]: expected \"action\" and \"names\"", what, i);
				dg_profile_free(&errs);
				dg_profile_free(&conds);
				goto out;
			}
			if (!rule_applies(v))
				continue;
			json_t *args = json_object_get(v, "args");
			int cond = json_is_array(args) && json_array_size(args) > 0;
			int logs = !strcmp(act, "SCMP_ACT_LOG");
			int allow = !strcmp(act, "SCMP_ACT_ALLOW") || logs;
			int isno = !strcmp(act, "SCMP_ACT_ERRNO");
			json_t *en = json_object_get(v, "errnoRet");
			size_t nn = json_is_array(names) ? json_array_size(names) : 1;
			for (k = 0; k < nn; k++) {
				const char *nm = json_is_array(names) ? json_string_value(json_array_get(names, k))
								       : json_string_value(one);
				if (!nm)
					continue;
				if (pass == 0 && !valid_name(nm)) {
					dg_err(err, DG_E_INPUT, "%s: syscalls[%zu]: not a syscall name: '%.64s'", what, i, nm);
					dg_profile_free(&errs);
					dg_profile_free(&conds);
					goto out;
				}
				if (pass == 0 && ++total > 100000) {
					dg_err(err, DG_E_LIMIT, "%s: more than 100000 syscall names", what);
					dg_profile_free(&errs);
					dg_profile_free(&conds);
					goto out;
				}
				if (pass == 0 && allow) {
					int was = dg_profile_allows(cond ? &conds : p, nm) && !dg_profile_logs(cond ? &conds : p, nm);
					dg_profile_allow(cond ? &conds : p, nm);
					if (logs && !was) /* a plain allow elsewhere wins */
						dg_profile_log(cond ? &conds : p, nm);
				} else if (pass == 1 && isno && !cond && !dg_profile_allows(p, nm)) {
					dg_profile_set_errno(&errs, nm,
							     json_is_integer(en) ? (int)json_integer_value(en) : 1);
				}
			}
		}
	for (i = 0; i < conds.allow.n; i++) {
		const char *nm = conds.allow.v[i];
		if (dg_profile_allows(p, nm))
			continue; /* also allowed without conditions */
		if (warnings) {
			char *m = dg_xasprintf("%s: %s is allowed only with argument conditions; counted as allowed", what, nm);
			dg_strv_push(warnings, m);
			free(m);
		}
		dg_profile_allow(p, nm);
	}
	dg_profile_free(&conds);
	for (i = 0; i < errs.nerrnos; i++)
		if (!dg_profile_allows(p, errs.errnos[i].name))
			dg_profile_set_errno(p, errs.errnos[i].name, errs.errnos[i].errnum);
	dg_profile_free(&errs);
	/* provenance of a dockergate profile */
	if (json_is_object(v = json_object_get(top, "dockergate"))) {
		const char *s;
		if ((s = json_string_value(json_object_get(v, "image"))))
			p->image = dg_xstrdup(s);
	}
	rc = 0;
out:
	json_decref(top);
	if (rc < 0)
		dg_profile_free(p);
	return rc;
}

int dg_profile_read_spec(const char *spec, char **text, size_t *len, struct dg_error *err)
{
	if (!strcmp(spec, "docker-default")) {
		const char *t = dg_docker_default_json(len);
		*text = dg_xstrndup(t, *len);
		return 0;
	}
	int fd = open(spec, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dg_err_sys(err, DG_E_INPUT, errno, "%s: cannot open", spec);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > 16 << 20) {
		close(fd);
		return dg_err(err, DG_E_INPUT, "%s: not a regular file of at most 16 MiB", spec);
	}
	char *buf = dg_xmalloc((size_t)st.st_size + 1);
	int r = dg_pread_full(fd, buf, (size_t)st.st_size, 0, err);
	close(fd);
	if (r < 0) {
		free(buf);
		return dg_err_prefix(err, "%s", spec);
	}
	buf[st.st_size] = 0;
	*text = buf;
	*len = (size_t)st.st_size;
	return 0;
}

int dg_profile_load_spec(const char *spec, struct dg_profile *p, struct dg_strv *warnings, struct dg_error *err)
{
	char *buf;
	size_t len;
	if (dg_profile_read_spec(spec, &buf, &len, err) < 0)
		return -1;
	/* docker-default's conditional rules (clone without namespace flags, socket but
	 * AF_VSOCK, personality with some values) are known: no warnings (docs/design.md) */
	int r = dg_profile_load(buf, len, spec, p, strcmp(spec, "docker-default") ? warnings : NULL, err);
	free(buf);
	return r;
}

/* ---- output ---- */

int dg_write_atomic(const char *path, const void *data, size_t len, struct dg_error *err)
{
	if (!strcmp(path, "-")) {
		fwrite(data, 1, len, stdout);
		return fflush(stdout) == 0 && !ferror(stdout) ? 0 : dg_err_sys(err, DG_E_ENV, errno, "writing stdout");
	}
	char *tmp = dg_xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		int e = errno;
		free(tmp);
		return dg_err_sys(err, DG_E_ENV, e, "%s: cannot create", path);
	}
	const char *d = data;
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, d + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : ENOSPC;
			close(fd);
			unlink(tmp);
			free(tmp);
			return dg_err_sys(err, DG_E_ENV, e, "%s: cannot write", path);
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		free(tmp);
		return dg_err_sys(err, DG_E_ENV, e, "%s: cannot write", path);
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		free(tmp);
		return dg_err_sys(err, DG_E_ENV, e, "%s: cannot write", path);
	}
	free(tmp);
	return 0;
}

int dg_source_date(long long *out, struct dg_error *err)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	if (!s) {
		*out = (long long)time(NULL);
		return 0;
	}
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || errno || v < 0 || v > 253402300799LL)
		return dg_err(err, DG_E_USAGE, "SOURCE_DATE_EPOCH: expected seconds since the epoch, got '%s'", s);
	*out = v;
	return 0;
}
