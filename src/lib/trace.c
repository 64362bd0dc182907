/* The syscall recorder (ptrace) and trace files (include/dockergate/trace.h,
 * docs/design.md "Tracing"). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <linux/audit.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dockergate/profile.h"
#include "dockergate/reach.h"
#include "dockergate/syscalls.h"
#include "dockergate/trace.h"
#include "util.h"

#define NR_EXECVE_64 59
#define NR_EXECVEAT_64 322
#define NR_EXECVE_32 11
#define NR_EXECVEAT_32 358
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

/* ---- counting ---- */

struct big {
	uint32_t nr;
	uint64_t count;
};

struct counts {
	uint64_t *dense;        /* DG_NSYSCALLS counters, allocated on first use */
	struct big *big;        /* numbers at or above DG_NSYSCALLS (x32, garbage) */
	size_t nbig;
};

static void counts_add(struct counts *c, uint64_t nr)
{
	if (nr < DG_NSYSCALLS) {
		if (!c->dense)
			c->dense = dg_xcalloc(DG_NSYSCALLS, sizeof *c->dense);
		c->dense[nr]++;
		return;
	}
	uint32_t n32 = nr > UINT32_MAX ? UINT32_MAX : (uint32_t)nr;
	for (size_t i = 0; i < c->nbig; i++)
		if (c->big[i].nr == n32) {
			c->big[i].count++;
			return;
		}
	c->big = dg_xreallocarray(c->big, c->nbig + 1, sizeof *c->big);
	c->big[c->nbig++] = (struct big){n32, 1};
}

static int cmp_big(const void *a, const void *b)
{
	const struct big *x = a, *y = b;
	return x->nr < y->nr ? -1 : x->nr > y->nr;
}

/* The counts as a sorted set (C is emptied). */
static void counts_to_set(struct counts *c, int arch, struct dg_trace_set *s)
{
	size_t n = c->nbig;
	if (c->dense)
		for (size_t i = 0; i < DG_NSYSCALLS; i++)
			n += c->dense[i] != 0;
	s->v = n ? dg_xcalloc(n, sizeof *s->v) : NULL;
	s->n = 0;
	if (c->dense)
		for (uint32_t i = 0; i < DG_NSYSCALLS; i++)
			if (c->dense[i])
				s->v[s->n++] = (struct dg_trace_call){i, dg_syscall_name(i, arch == DG_TRACE_I386), c->dense[i]};
	if (c->nbig)
		qsort(c->big, c->nbig, sizeof *c->big, cmp_big);
	for (size_t i = 0; i < c->nbig; i++)
		s->v[s->n++] = (struct dg_trace_call){c->big[i].nr, NULL, c->big[i].count};
	free(c->dense);
	free(c->big);
	memset(c, 0, sizeof *c);
}

/* ---- the recorder's state ---- */

struct rexe {
	char *path;
	struct counts c[DG_TRACE_NARCH];
};

struct proc {
	pid_t pid;
	int exe;                /* index into rec.exes when CONTAINER */
	bool container;         /* has exec'd into the container, or descends from one that has */
	bool inherited;         /* we know whose child it is (its parent's event was seen) */
	bool started;           /* its first stop was seen */
	char *exec_path;        /* the path of the execve it is in, if any */
	bool exec_empty;        /* ... an execveat with AT_EMPTY_PATH */
};

struct rec {
	struct rexe *exes;
	size_t nexe;
	struct counts runtime[DG_TRACE_NARCH];
	struct proc *procs;
	size_t nprocs;
	pid_t root;
	int root_status;
	bool seen_exec, container_started;
	uint64_t lost;
};

static struct proc *proc_find(struct rec *r, pid_t pid)
{
	for (size_t i = 0; i < r->nprocs; i++)
		if (r->procs[i].pid == pid)
			return &r->procs[i];
	return NULL;
}

static struct proc *proc_add(struct rec *r, pid_t pid)
{
	r->procs = dg_xreallocarray(r->procs, r->nprocs + 1, sizeof *r->procs);
	struct proc *p = &r->procs[r->nprocs++];
	memset(p, 0, sizeof *p);
	p->pid = pid;
	p->exe = -1;
	return p;
}

static void proc_remove(struct rec *r, pid_t pid)
{
	struct proc *p = proc_find(r, pid);
	if (!p)
		return;
	free(p->exec_path);
	*p = r->procs[--r->nprocs];
}

static int exe_intern(struct rec *r, const char *path)
{
	for (size_t i = 0; i < r->nexe; i++)
		if (!strcmp(r->exes[i].path, path))
			return (int)i;
	r->exes = dg_xreallocarray(r->exes, r->nexe + 1, sizeof *r->exes);
	struct rexe *e = &r->exes[r->nexe];
	memset(e, 0, sizeof *e);
	e->path = dg_xstrdup(path);
	return (int)r->nexe++;
}

/* A NUL-terminated string of the tracee (at most PATH_MAX bytes), or NULL. */
static char *read_string(pid_t pid, uint64_t addr)
{
	char buf[PATH_MAX + 1];
	size_t got = 0;
	while (got < PATH_MAX) {
		/* up to the end of the page: the next one may not be mapped */
		size_t want = 4096 - ((addr + got) & 4095);
		if (want > PATH_MAX - got)
			want = PATH_MAX - got;
		struct iovec l = {buf + got, want}, rm = {(void *)(uintptr_t)(addr + got), want};
		ssize_t n = process_vm_readv(pid, &l, 1, &rm, 1, 0);
		if (n <= 0)
			return NULL;
		void *z = memchr(buf + got, 0, (size_t)n);
		if (z)
			return dg_xstrdup(buf);
		got += (size_t)n;
	}
	return NULL;
}

static char *read_exe_link(pid_t pid)
{
	char link[64], buf[PATH_MAX];
	snprintf(link, sizeof link, "/proc/%d/exe", (int)pid);
	ssize_t n = readlink(link, buf, sizeof buf - 1);
	if (n < 0)
		return dg_xstrdup("?");
	buf[n] = 0;
	return dg_xstrdup(buf);
}

static void on_syscall(struct rec *r, struct proc *p)
{
	struct __ptrace_syscall_info si;
	memset(&si, 0, sizeof si);
	long n = ptrace(PTRACE_GET_SYSCALL_INFO, p->pid, (void *)sizeof si, &si);
	if (n <= 0) {
		if (errno != ESRCH) /* a tracee killed meanwhile is no loss */
			r->lost++;
		return;
	}
	if (si.op != PTRACE_SYSCALL_INFO_ENTRY)
		return; /* the exit of a call counted at its entry */
	int arch;
	if (si.arch == AUDIT_ARCH_X86_64)
		arch = DG_TRACE_X86_64;
	else if (si.arch == AUDIT_ARCH_I386)
		arch = DG_TRACE_I386;
	else {
		r->lost++;
		return;
	}
	uint64_t nr = si.entry.nr;
	counts_add(p->container ? &r->exes[p->exe].c[arch] : &r->runtime[arch], nr);
	free(p->exec_path);
	p->exec_path = NULL;
	p->exec_empty = false;
	bool execve = nr == (arch ? NR_EXECVE_32 : NR_EXECVE_64);
	bool execveat = nr == (arch ? NR_EXECVEAT_32 : NR_EXECVEAT_64);
	if (execve || execveat) {
		uint64_t a = execve ? si.entry.args[0] : si.entry.args[1];
		if (arch)
			a &= 0xffffffffu;
		p->exec_path = read_string(p->pid, a);
		p->exec_empty = execveat && (si.entry.args[4] & AT_EMPTY_PATH) && p->exec_path && !*p->exec_path;
		if (!p->exec_path)
			p->exec_path = dg_xstrdup("?");
	}
}

/* A successful exec by FORMER (a thread of PID, or PID itself). */
static void on_exec(struct rec *r, pid_t pid, pid_t former)
{
	struct proc *p = proc_find(r, former);
	if (former != pid) {
		/* a thread exec'd: it takes over the leader's pid, the leader is gone */
		proc_remove(r, pid);
		p = proc_find(r, former);
	}
	if (!p) {
		r->lost++;
		p = proc_add(r, former);
		p->inherited = p->started = true;
	}
	p->pid = pid;
	char *path = p->exec_path && !p->exec_empty ? dg_steal(&p->exec_path) : read_exe_link(pid);
	bool runtime = !r->seen_exec || !strcmp(path, "/proc/self/exe") || p->exec_empty;
	r->seen_exec = true;
	if (p->container) {
		p->exe = exe_intern(r, path);
	} else if (!runtime && !r->container_started) {
		r->container_started = true;
		p->container = true;
		p->exe = exe_intern(r, path);
	}
	free(path);
	free(p->exec_path);
	p->exec_path = NULL;
	p->exec_empty = false;
}

static void restart(struct rec *r, pid_t pid, int sig)
{
	if (ptrace(PTRACE_SYSCALL, pid, NULL, (void *)(long)sig) < 0 && errno != ESRCH)
		r->lost++;
}

static void inherit(struct proc *c, bool container, int exe)
{
	c->container = container;
	c->exe = exe;
	c->inherited = true;
}

static int exit_code(int ws)
{
	if (WIFEXITED(ws))
		return WEXITSTATUS(ws);
	if (WIFSIGNALED(ws))
		return 128 + WTERMSIG(ws);
	return 255;
}

/* Waits for every tracee until none is left. */
static int trace_loop(struct rec *r, struct dg_error *err)
{
	for (;;) {
		int ws;
		pid_t pid = waitpid(-1, &ws, __WALL);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECHILD)
				return 0;
			return dg_err_sys(err, DG_E_INTERNAL, errno, "trace: waitpid");
		}
		if (WIFEXITED(ws) || WIFSIGNALED(ws)) {
			if (pid == r->root)
				r->root_status = exit_code(ws);
			proc_remove(r, pid);
			continue;
		}
		if (!WIFSTOPPED(ws))
			continue;
		int sig = WSTOPSIG(ws), ev = (int)((unsigned)ws >> 16);
		struct proc *p = proc_find(r, pid);
		if (!p) {
			/* a new child whose parent's fork/clone event has not been seen yet: it
			 * waits in its first stop until that event says what it inherits */
			p = proc_add(r, pid);
			p->started = true;
			continue;
		}
		if (sig == (SIGTRAP | 0x80)) {
			on_syscall(r, p);
			restart(r, pid, 0);
			continue;
		}
		switch (ev) {
		case PTRACE_EVENT_FORK:
		case PTRACE_EVENT_VFORK:
		case PTRACE_EVENT_CLONE: {
			unsigned long msg = 0;
			if (ptrace(PTRACE_GETEVENTMSG, pid, NULL, &msg) < 0) {
				if (errno != ESRCH)
					r->lost++;
			} else {
				pid_t cpid = (pid_t)msg;
				bool container = p->container;
				int exe = p->exe;
				struct proc *c = proc_find(r, cpid);
				if (!c) {
					inherit(proc_add(r, cpid), container, exe);
				} else if (!c->inherited) {
					inherit(c, container, exe);
					restart(r, cpid, 0);
				}
			}
			restart(r, pid, 0);
			break;
		}
		case PTRACE_EVENT_EXEC: {
			unsigned long former = (unsigned long)pid;
			if (ptrace(PTRACE_GETEVENTMSG, pid, NULL, &former) < 0)
				former = (unsigned long)pid;
			on_exec(r, pid, (pid_t)former);
			restart(r, pid, 0);
			break;
		}
		case PTRACE_EVENT_STOP:
			p->started = true;
			if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
				/* a group-stop: stays stopped (until SIGCONT), but stays traced */
				if (ptrace(PTRACE_LISTEN, pid, NULL, NULL) < 0 && errno != ESRCH)
					r->lost++;
			} else {
				restart(r, pid, 0);
			}
			break;
		case 0:
			/* a signal for the tracee: delivered as it would have been */
			restart(r, pid, sig);
			break;
		default: /* PTRACE_EVENT_EXIT and anything else */
			restart(r, pid, 0);
			break;
		}
	}
}

static const long trace_options = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK |
				  PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT;

/* Seizes PID, blocked reading the pipe whose write end is GO, and stops it once,
 * so that it runs on under PTRACE_SYSCALL; then writes one byte to GO. */
static int seize(struct rec *r, pid_t pid, int go, unsigned flags, struct dg_error *err)
{
	long opts = trace_options | (flags & DG_TRACE_EXITKILL ? PTRACE_O_EXITKILL : 0);
	if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)opts) < 0)
		return dg_err_sys(err, DG_E_ENV, errno, "trace: cannot trace process %d (ptrace)", (int)pid);
	if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) < 0)
		return dg_err_sys(err, DG_E_ENV, errno, "trace: cannot stop process %d (ptrace)", (int)pid);
	int ws;
	for (;;) {
		pid_t w = waitpid(pid, &ws, __WALL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return dg_err_sys(err, DG_E_INTERNAL, errno, "trace: waitpid %d", (int)pid);
		if (!WIFSTOPPED(ws))
			return dg_err(err, DG_E_INTERNAL, "trace: process %d ended before it was traced", (int)pid);
		if ((ws >> 16) == PTRACE_EVENT_STOP)
			break;
		/* a signal arrived first: deliver it, the interrupt's stop follows */
		ptrace(PTRACE_CONT, pid, NULL, (void *)(long)WSTOPSIG(ws));
	}
	struct proc *p = proc_add(r, pid);
	p->inherited = p->started = true;
	r->root = pid;
	restart(r, pid, 0);
	char c = 'g';
	if (write(go, &c, 1) != 1)
		return dg_err_sys(err, DG_E_INTERNAL, errno, "trace: cannot release process %d", (int)pid);
	return 0;
}

static struct dg_trace *rec_finish(struct rec *r)
{
	struct dg_trace *t = dg_trace_new();
	t->lost = r->lost;
	for (int a = 0; a < DG_TRACE_NARCH; a++)
		counts_to_set(&r->runtime[a], a, &t->runtime[a]);
	t->exe = r->nexe ? dg_xcalloc(r->nexe, sizeof *t->exe) : NULL;
	for (size_t i = 0; i < r->nexe; i++) {
		t->exe[i].path = r->exes[i].path;
		for (int a = 0; a < DG_TRACE_NARCH; a++)
			counts_to_set(&r->exes[i].c[a], a, &t->exe[i].set[a]);
	}
	t->nexe = r->nexe;
	free(r->exes);
	for (size_t i = 0; i < r->nprocs; i++)
		free(r->procs[i].exec_path);
	free(r->procs);
	memset(r, 0, sizeof *r);
	return t;
}

static void rec_abandon(struct rec *r)
{
	struct dg_trace *t = rec_finish(r);
	dg_trace_free(t);
}

static int cmp_exe(const void *a, const void *b)
{
	return strcmp(((const struct dg_trace_exe *)a)->path, ((const struct dg_trace_exe *)b)->path);
}

int dg_trace_run(char *const argv[], int out_fd, int err_fd, unsigned flags, struct dg_trace **out, int *status,
		 struct dg_error *err)
{
	int go[2];
	if (pipe2(go, O_CLOEXEC) < 0)
		return dg_err_sys(err, DG_E_INTERNAL, errno, "trace: pipe");
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		close(go[0]);
		close(go[1]);
		return dg_err_sys(err, DG_E_INTERNAL, errno, "trace: fork");
	}
	if (pid == 0) {
		close(go[1]);
		int nul = open("/dev/null", O_RDONLY);
		if (nul < 0 || dup2(nul, 0) < 0)
			_exit(127);
		if ((out_fd >= 0 && dup2(out_fd, 1) < 0) || (err_fd >= 0 && dup2(err_fd, 2) < 0))
			_exit(127);
		sigset_t all;
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		char c;
		ssize_t n;
		while ((n = read(go[0], &c, 1)) < 0 && errno == EINTR)
			;
		if (n != 1)
			_exit(127); /* the recorder failed: nothing runs untraced */
		execv(argv[0], argv);
		_exit(127);
	}
	close(go[0]);
	struct rec r;
	memset(&r, 0, sizeof r);
	r.root_status = -1;
	int rc = seize(&r, pid, go[1], flags, err);
	close(go[1]);
	if (rc < 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
			;
		rec_abandon(&r);
		return -1;
	}
	if (trace_loop(&r, err) < 0) {
		/* cannot happen short of a bug: kill what we trace rather than leave it stopped */
		for (size_t i = 0; i < r.nprocs; i++)
			kill(r.procs[i].pid, SIGKILL);
		rec_abandon(&r);
		return -1;
	}
	*status = r.root_status < 0 ? 255 : r.root_status;
	struct dg_trace *t = rec_finish(&r);
	if (t->nexe)
		qsort(t->exe, t->nexe, sizeof *t->exe, cmp_exe);
	*out = t;
	return 0;
}

int dg_trace_detach(const char *path, struct dg_error *err)
{
	int go[2];
	if (pipe2(go, O_CLOEXEC) < 0)
		return dg_err_sys(err, DG_E_INTERNAL, errno, "trace: pipe");
	pid_t self = getpid();
	fflush(stdout);
	fflush(stderr);
	pid_t mid = fork();
	if (mid < 0) {
		close(go[0]);
		close(go[1]);
		return dg_err_sys(err, DG_E_INTERNAL, errno, "trace: fork");
	}
	if (mid == 0) {
		/* the middle process exits at once: the recorder is nobody's child we know */
		close(go[0]);
		pid_t g = fork();
		if (g != 0)
			_exit(g < 0 ? 1 : 0);
		setsid();
		signal(SIGINT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		int nul = open("/dev/null", O_RDWR);
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
			dup2(nul, 2);
		}
		struct dg_error e = DG_ERROR_INIT;
		struct rec r;
		memset(&r, 0, sizeof r);
		r.root_status = -1;
		if (seize(&r, self, go[1], 0, &e) < 0)
			_exit(1); /* closing GO tells the runtime's process */
		close(go[1]);
		close_range(3, ~0u, 0);
		if (trace_loop(&r, &e) < 0) {
			for (size_t i = 0; i < r.nprocs; i++)
				ptrace(PTRACE_DETACH, r.procs[i].pid, NULL, NULL);
			_exit(1);
		}
		struct dg_trace *t = rec_finish(&r);
		if (t->nexe)
			qsort(t->exe, t->nexe, sizeof *t->exe, cmp_exe);
		t->exit_status = r.root_status;
		int rc = dg_trace_write(t, path, &e);
		dg_trace_free(t);
		_exit(rc < 0 ? 1 : 0);
	}
	close(go[1]);
	while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
		;
	char c;
	ssize_t n;
	while ((n = read(go[0], &c, 1)) < 0 && errno == EINTR)
		;
	close(go[0]);
	if (n != 1)
		return dg_err(err, DG_E_ENV, "trace: the recorder could not trace this process (ptrace)");
	return 0;
}

/* ---- trace files ---- */

struct dg_trace *dg_trace_new(void)
{
	struct dg_trace *t = dg_xcalloc(1, sizeof *t);
	t->exit_status = -1;
	t->probe_status = -1;
	return t;
}

static void set_free(struct dg_trace_set *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

void dg_trace_free(struct dg_trace *t)
{
	if (!t)
		return;
	free(t->image);
	free(t->engine);
	free(t->arch);
	for (size_t i = 0; i < t->nargs; i++)
		free(t->args[i]);
	free(t->args);
	for (size_t i = 0; i < t->nexe; i++) {
		free(t->exe[i].path);
		for (int a = 0; a < DG_TRACE_NARCH; a++)
			set_free(&t->exe[i].set[a]);
	}
	free(t->exe);
	for (int a = 0; a < DG_TRACE_NARCH; a++)
		set_free(&t->runtime[a]);
	free(t->probe);
	free(t);
}

const struct dg_trace_exe *dg_trace_find(const struct dg_trace *t, const char *path)
{
	for (size_t i = 0; i < t->nexe; i++)
		if (!strcmp(t->exe[i].path, path))
			return &t->exe[i];
	return NULL;
}

uint64_t dg_trace_count(const struct dg_trace_set *s, uint32_t nr)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->v[mid].nr == nr)
			return s->v[mid].count;
		if (s->v[mid].nr < nr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* A path as a JSON string: bytes that are not UTF-8 are written as \xHH. */
static json_t *jstr(const char *s)
{
	json_t *j = json_stringn(s, strlen(s));
	if (j)
		return j;
	struct dg_buf b = {0};
	dg_buf_put_escaped(&b, s);
	char *e = dg_buf_steal(&b);
	j = json_string(e);
	free(e);
	return j;
}

static json_t *jstr_or_null(const char *s)
{
	return s ? jstr(s) : json_null();
}

static json_t *set_json(const struct dg_trace_set *s)
{
	json_t *o = json_object();
	for (size_t i = 0; i < s->n; i++) {
		char num[16];
		const char *k = s->v[i].name;
		if (!k) {
			snprintf(num, sizeof num, "%u", s->v[i].nr);
			k = num;
		}
		json_object_set_new(o, k, json_integer(s->v[i].count > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)s->v[i].count));
	}
	return o;
}

static void sets_json(json_t *o, const struct dg_trace_set set[DG_TRACE_NARCH])
{
	json_object_set_new(o, "syscalls", set_json(&set[DG_TRACE_X86_64]));
	if (set[DG_TRACE_I386].n)
		json_object_set_new(o, "i386", set_json(&set[DG_TRACE_I386]));
}

int dg_trace_write(const struct dg_trace *t, const char *path, struct dg_error *err)
{
	json_t *j = json_object();
	json_object_set_new(j, "dockergate_trace", json_integer(DG_TRACE_FORMAT));
	json_object_set_new(j, "image", jstr_or_null(t->image));
	json_object_set_new(j, "engine", jstr_or_null(t->engine));
	json_t *args = json_array();
	for (size_t i = 0; i < t->nargs; i++)
		json_array_append_new(args, jstr(t->args[i]));
	json_object_set_new(j, "args", args);
	json_object_set_new(j, "arch", json_string(t->arch ? t->arch : "x86_64"));
	json_t *exes = json_array();
	for (size_t i = 0; i < t->nexe; i++) {
		json_t *e = json_object();
		json_object_set_new(e, "path", jstr(t->exe[i].path));
		sets_json(e, t->exe[i].set);
		json_array_append_new(exes, e);
	}
	json_object_set_new(j, "executables", exes);
	json_t *rt = json_object();
	sets_json(rt, t->runtime);
	json_object_set_new(j, "runtime", rt);
	json_object_set_new(j, "exit_status", t->exit_status >= 0 ? json_integer(t->exit_status) : json_null());
	json_object_set_new(j, "timed_out", json_boolean(t->timed_out));
	if (t->probe) {
		json_t *p = json_object();
		json_object_set_new(p, "command", jstr(t->probe));
		json_object_set_new(p, "exit_status", t->probe_status >= 0 ? json_integer(t->probe_status) : json_null());
		json_object_set_new(j, "probe", p);
	} else {
		json_object_set_new(j, "probe", json_null());
	}
	json_object_set_new(j, "lost", json_integer((json_int_t)(t->lost > INT64_MAX ? INT64_MAX : t->lost)));
	char *s = json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (!s)
		return dg_err(err, DG_E_INTERNAL, "%s: cannot encode the trace as JSON", path);
	struct dg_buf b = {0};
	dg_buf_puts(&b, s);
	dg_buf_putc(&b, '\n');
	free(s);
	int r = dg_write_atomic(path, b.data, b.len, err);
	dg_buf_free(&b);
	return r;
}

/* ---- reading ---- */

static int bad(struct dg_error *err, const char *name, const char *field, const char *what)
{
	return dg_err(err, DG_E_INPUT, "%s: trace file: %s: %s", name, field, what);
}

static int cmp_call(const void *a, const void *b)
{
	const struct dg_trace_call *x = a, *y = b;
	return x->nr < y->nr ? -1 : x->nr > y->nr;
}

static int parse_set(json_t *o, int arch, const char *name, const char *field, struct dg_trace_set *s,
		     struct dg_error *err)
{
	if (!json_is_object(o))
		return bad(err, name, field, "expected an object of syscall counts");
	size_t n = json_object_size(o);
	s->v = n ? dg_xcalloc(n, sizeof *s->v) : NULL;
	s->n = 0;
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) {
		dg_autofree char *f = dg_xasprintf("%s.%s", field, k);
		long long nr;
		if (*k >= '0' && *k <= '9') {
			char *end;
			errno = 0;
			nr = strtoll(k, &end, 10);
			if (errno || *end || nr > (long long)UINT32_MAX || (k[0] == '0' && k[1]))
				return bad(err, name, f, "not a syscall name or number");
		} else {
			nr = dg_syscall_number(k, arch == DG_TRACE_I386);
			if (nr < 0)
				return bad(err, name, f, arch == DG_TRACE_I386 ? "unknown i386 syscall name"
									   : "unknown x86-64 syscall name");
		}
		if (!json_is_integer(v) || json_integer_value(v) < 1)
			return bad(err, name, f, "expected a count (an integer of at least 1)");
		s->v[s->n++] = (struct dg_trace_call){(uint32_t)nr, dg_syscall_name((unsigned)nr, arch == DG_TRACE_I386),
						      (uint64_t)json_integer_value(v)};
	}
	if (s->n)
		qsort(s->v, s->n, sizeof *s->v, cmp_call);
	for (size_t i = 1; i < s->n; i++)
		if (s->v[i].nr == s->v[i - 1].nr) {
			dg_autofree char *f = dg_xasprintf("%s.%u", field, s->v[i].nr);
			return bad(err, name, f, "the syscall is listed twice (by name and by number)");
		}
	return 0;
}

static int parse_sets(json_t *o, const char *name, const char *field, struct dg_trace_set set[DG_TRACE_NARCH],
		      struct dg_error *err)
{
	dg_autofree char *f64 = dg_xasprintf("%s.syscalls", field);
	dg_autofree char *f32 = dg_xasprintf("%s.i386", field);
	json_t *s64 = json_object_get(o, "syscalls"), *s32 = json_object_get(o, "i386");
	if (!s64)
		return bad(err, name, f64, "missing");
	if (parse_set(s64, DG_TRACE_X86_64, name, f64, &set[DG_TRACE_X86_64], err) < 0)
		return -1;
	if (s32 && !json_is_null(s32) && parse_set(s32, DG_TRACE_I386, name, f32, &set[DG_TRACE_I386], err) < 0)
		return -1;
	return 0;
}

/* An optional string field: *OUT is NULL for null or absent. */
static int opt_string(json_t *j, const char *key, const char *name, char **out, struct dg_error *err)
{
	json_t *v = json_object_get(j, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return bad(err, name, key, "expected a string or null");
	*out = dg_xstrdup(json_string_value(v));
	return 0;
}

static int opt_status(json_t *v, const char *name, const char *field, int *out, struct dg_error *err)
{
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 255)
		return bad(err, name, field, "expected an exit status (0-255) or null");
	*out = (int)json_integer_value(v);
	return 0;
}

static int parse_trace(json_t *j, const char *name, struct dg_trace *t, struct dg_error *err)
{
	if (!json_is_object(j))
		return bad(err, name, "(top level)", "expected an object");
	json_t *fmt = json_object_get(j, "dockergate_trace");
	if (!fmt)
		return bad(err, name, "dockergate_trace", "missing (not a dockergate trace file)");
	if (!json_is_integer(fmt) || json_integer_value(fmt) != DG_TRACE_FORMAT)
		return bad(err, name, "dockergate_trace", "unsupported format version (this dockergate reads 1)");
	if (opt_string(j, "image", name, &t->image, err) < 0 || opt_string(j, "engine", name, &t->engine, err) < 0 ||
	    opt_string(j, "arch", name, &t->arch, err) < 0)
		return -1;
	if (t->arch && strcmp(t->arch, "x86_64"))
		return bad(err, name, "arch", "only x86_64 traces are supported");
	json_t *args = json_object_get(j, "args");
	if (args && !json_is_null(args)) {
		if (!json_is_array(args))
			return bad(err, name, "args", "expected an array of strings");
		t->args = dg_xcalloc(json_array_size(args) + 1, sizeof *t->args);
		size_t i;
		json_t *a;
		json_array_foreach(args, i, a) {
			if (!json_is_string(a)) {
				dg_autofree char *f = dg_xasprintf("args[%zu]", i);
				return bad(err, name, f, "expected a string");
			}
			t->args[t->nargs++] = dg_xstrdup(json_string_value(a));
		}
	}
	json_t *exes = json_object_get(j, "executables");
	if (!exes)
		return bad(err, name, "executables", "missing");
	if (!json_is_array(exes))
		return bad(err, name, "executables", "expected an array");
	size_t n = json_array_size(exes);
	if (n > DG_TRACE_MAX_EXES)
		return dg_err(err, DG_E_LIMIT, "%s: trace file: executables: more than %d", name, DG_TRACE_MAX_EXES);
	t->exe = n ? dg_xcalloc(n, sizeof *t->exe) : NULL;
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(exes, i);
		dg_autofree char *f = dg_xasprintf("executables[%zu]", i);
		if (!json_is_object(e))
			return bad(err, name, f, "expected an object");
		json_t *p = json_object_get(e, "path");
		if (!json_is_string(p) || !*json_string_value(p)) {
			dg_autofree char *fp = dg_xasprintf("%s.path", f);
			return bad(err, name, fp, "expected a non-empty string");
		}
		t->exe[i].path = dg_xstrdup(json_string_value(p));
		t->nexe++;
		if (parse_sets(e, name, f, t->exe[i].set, err) < 0)
			return -1;
	}
	if (t->nexe)
		qsort(t->exe, t->nexe, sizeof *t->exe, cmp_exe);
	for (size_t i = 1; i < t->nexe; i++)
		if (!strcmp(t->exe[i].path, t->exe[i - 1].path)) {
			struct dg_buf b = {0};
			dg_buf_put_escaped(&b, t->exe[i].path);
			dg_buf_putc(&b, 0);
			int r = dg_err(err, DG_E_INPUT, "%s: trace file: executables: %s is listed twice", name, b.data);
			dg_buf_free(&b);
			return r;
		}
	json_t *rt = json_object_get(j, "runtime");
	if (!rt)
		return bad(err, name, "runtime", "missing");
	if (!json_is_object(rt))
		return bad(err, name, "runtime", "expected an object");
	if (parse_sets(rt, name, "runtime", t->runtime, err) < 0)
		return -1;
	if (opt_status(json_object_get(j, "exit_status"), name, "exit_status", &t->exit_status, err) < 0)
		return -1;
	json_t *to = json_object_get(j, "timed_out");
	if (to && !json_is_boolean(to))
		return bad(err, name, "timed_out", "expected true or false");
	t->timed_out = to && json_is_true(to);
	json_t *probe = json_object_get(j, "probe");
	if (probe && !json_is_null(probe)) {
		if (!json_is_object(probe))
			return bad(err, name, "probe", "expected an object or null");
		json_t *c = json_object_get(probe, "command");
		if (!json_is_string(c))
			return bad(err, name, "probe.command", "expected a string");
		t->probe = dg_xstrdup(json_string_value(c));
		if (opt_status(json_object_get(probe, "exit_status"), name, "probe.exit_status", &t->probe_status, err) < 0)
			return -1;
	}
	json_t *lost = json_object_get(j, "lost");
	if (lost && (!json_is_integer(lost) || json_integer_value(lost) < 0))
		return bad(err, name, "lost", "expected a non-negative integer");
	t->lost = lost ? (uint64_t)json_integer_value(lost) : 0;
	return 0;
}

int dg_trace_parse(const char *data, size_t len, const char *name, struct dg_trace **out, struct dg_error *err)
{
	if (len > DG_TRACE_MAX_FILE)
		return dg_err(err, DG_E_LIMIT, "%s: trace file larger than %u MiB", name, DG_TRACE_MAX_FILE >> 20);
	json_error_t je;
	json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return dg_err(err, DG_E_INPUT, "%s: trace file: not JSON (line %d: %s)", name, je.line, je.text);
	struct dg_trace *t = dg_trace_new();
	int r = parse_trace(j, name, t, err);
	json_decref(j);
	if (r < 0) {
		dg_trace_free(t);
		return -1;
	}
	*out = t;
	return 0;
}

int dg_trace_load(const char *path, struct dg_trace **out, struct dg_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dg_err_sys(err, DG_E_INPUT, errno, "%s", path);
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return dg_err_sys(err, DG_E_INPUT, e, "%s", path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return dg_err(err, DG_E_INPUT, "%s: not a regular file", path);
	}
	if ((uint64_t)st.st_size > DG_TRACE_MAX_FILE) {
		close(fd);
		return dg_err(err, DG_E_LIMIT, "%s: trace file larger than %u MiB", path, DG_TRACE_MAX_FILE >> 20);
	}
	size_t len = (size_t)st.st_size;
	char *buf = dg_xmalloc(len + 1);
	int r = dg_pread_full(fd, buf, len, 0, err);
	close(fd);
	if (r < 0) {
		free(buf);
		return dg_err_prefix(err, "%s", path);
	}
	r = dg_trace_parse(buf, len, path, out, err);
	free(buf);
	return r;
}
