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
#include "dockergate/util.h"

#define NR_EXECVE_64 59
#define NR_EXECVEAT_64 322
#define NR_EXECVE_32 11
#define NR_EXECVEAT_32 358
#define NR_CLONE_64 56
#define NR_CLONE_32 120
#define NR_CLONE3 435 /* both */
#ifndef CLONE_UNTRACED
#define CLONE_UNTRACED 0x00800000
#endif
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

/* ---- counting ---- */

/* What the recorder may keep: the loader's caps (DG_TRACE_MAX_EXES executables,
 * DG_TRACE_MAX_FILE bytes), less room for what dockergate trace adds (the command
 * line, the probe). The file's size is estimated from above as it grows. */
#define REC_MAX_BYTES ((uint64_t)DG_TRACE_MAX_FILE - (16u << 20))
#define REC_EXE_BYTES 96        /* an executable's object, its path aside */
#define REC_CALL_BYTES 64       /* one "name": count line */
#define GONE_MAX 4096           /* exited children whose parent's event is still due */

struct big {
	uint32_t nr;
	uint64_t count;
};

struct counts {                 /* sorted by nr */
	struct big *v;
	size_t n, cap;
};

struct rexe {
	char *path;
	struct counts c[DG_TRACE_NARCH];
};

struct proc {
	pid_t pid;
	int exe;                /* index into rec.exes when CONTAINER; -1: beyond the caps */
	bool container;         /* has exec'd into the container, or descends from one that has */
	bool inherited;         /* we know whose child it is (its parent's event was seen) */
	bool held;              /* in its first stop until its parent's fork/clone event */
	bool guessed;           /* inherited from /proc (the event never came); the event corrects it */
	char *exec_path;        /* the path of the execve it is in, if any */
	bool exec_empty;        /* ... an execveat with AT_EMPTY_PATH */
	bool exec_unread;       /* ... whose path could not be read */
	uint8_t faults;         /* fault signals in a row with no syscall between (see on_fault) */
};

struct rec {
	struct rexe *exes;
	size_t nexe;
	int *exe_slot;          /* hash of exes by path: index + 1, 0 empty */
	size_t exe_cap;         /* slots, a power of 2 */
	uint64_t bytes;         /* the trace file's size, estimated from above */
	struct counts runtime[DG_TRACE_NARCH];
	struct proc *procs;
	size_t nprocs, nheld;
	int *proc_slot;         /* hash of procs by pid: index + 1, 0 empty */
	size_t proc_cap;        /* slots, a power of 2 */
	pid_t gone[GONE_MAX];   /* children that exited before their parent's event */
	size_t ngone;
	bool check_held;        /* a tracee exited while children were held */
	pid_t root;
	int root_status;
	bool root_reaped;
	bool seen_exec, container_started;
	uint64_t lost;
};

/* Counts one call of NR in C; false when a new number would exceed the caps. */
static bool counts_add(struct rec *r, struct counts *c, uint64_t nr)
{
	uint32_t n32 = nr > UINT32_MAX ? UINT32_MAX : (uint32_t)nr;
	size_t lo = 0, hi = c->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->v[mid].nr == n32) {
			c->v[mid].count++;
			return true;
		}
		if (c->v[mid].nr < n32)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (r->bytes + REC_CALL_BYTES > REC_MAX_BYTES)
		return false;
	r->bytes += REC_CALL_BYTES;
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 16;
		c->v = dg_xreallocarray(c->v, c->cap, sizeof *c->v);
	}
	memmove(&c->v[lo + 1], &c->v[lo], (c->n - lo) * sizeof *c->v);
	c->v[lo] = (struct big){n32, 1};
	c->n++;
	return true;
}

/* The counts as a set (C is emptied). */
static void counts_to_set(struct counts *c, int arch, struct dg_trace_set *s)
{
	s->v = c->n ? dg_xcalloc(c->n, sizeof *s->v) : NULL;
	s->n = c->n;
	for (size_t i = 0; i < c->n; i++)
		s->v[i] = (struct dg_trace_call){c->v[i].nr, c->v[i].nr < DG_NSYSCALLS ?
				dg_syscall_name(c->v[i].nr, arch == DG_TRACE_I386) : NULL, c->v[i].count};
	free(c->v);
	memset(c, 0, sizeof *c);
}

/* ---- the recorder's state ---- */

static size_t pid_hash(pid_t pid)
{
	return (size_t)((uint32_t)pid * 2654435761u);
}

/* The slot of PID in the hash of procs, or the empty slot where it would go. */
static size_t proc_slot_of(const struct rec *r, pid_t pid)
{
	size_t m = r->proc_cap - 1, i = pid_hash(pid) & m;
	while (r->proc_slot[i] && r->procs[r->proc_slot[i] - 1].pid != pid)
		i = (i + 1) & m;
	return i;
}

static struct proc *proc_find(struct rec *r, pid_t pid)
{
	if (!r->proc_cap)
		return NULL;
	size_t i = proc_slot_of(r, pid);
	return r->proc_slot[i] ? &r->procs[r->proc_slot[i] - 1] : NULL;
}

/* A new entry for PID (not in the table); pointers to entries become invalid. */
static struct proc *proc_add(struct rec *r, pid_t pid)
{
	if (2 * (r->nprocs + 1) > r->proc_cap) {
		free(r->proc_slot);
		r->proc_cap = r->proc_cap ? 2 * r->proc_cap : 64;
		r->proc_slot = dg_xcalloc(r->proc_cap, sizeof *r->proc_slot);
		for (size_t k = 0; k < r->nprocs; k++)
			r->proc_slot[proc_slot_of(r, r->procs[k].pid)] = (int)k + 1;
	}
	r->procs = dg_xreallocarray(r->procs, r->nprocs + 1, sizeof *r->procs);
	r->proc_slot[proc_slot_of(r, pid)] = (int)r->nprocs + 1;
	struct proc *p = &r->procs[r->nprocs++];
	memset(p, 0, sizeof *p);
	p->pid = pid;
	p->exe = -1;
	return p;
}

/* Takes PID's entry out of the table into *OUT (false when there is none). */
static bool proc_take(struct rec *r, pid_t pid, struct proc *out)
{
	if (!r->proc_cap)
		return false;
	size_t m = r->proc_cap - 1, i = proc_slot_of(r, pid);
	if (!r->proc_slot[i])
		return false;
	size_t k = (size_t)r->proc_slot[i] - 1;
	/* linear probing: the entries after the hole that would no longer be found move up */
	for (size_t j = (i + 1) & m; r->proc_slot[j]; j = (j + 1) & m) {
		size_t h = pid_hash(r->procs[r->proc_slot[j] - 1].pid) & m;
		if (i <= j ? (h <= i || h > j) : (h <= i && h > j)) {
			r->proc_slot[i] = r->proc_slot[j];
			i = j;
		}
	}
	r->proc_slot[i] = 0;
	*out = r->procs[k];
	if (out->held)
		r->nheld--;
	if (k != --r->nprocs) {
		r->procs[k] = r->procs[r->nprocs];
		r->proc_slot[proc_slot_of(r, r->procs[k].pid)] = (int)k + 1;
	}
	return true;
}

static void proc_remove(struct rec *r, pid_t pid)
{
	struct proc p;
	if (proc_take(r, pid, &p))
		free(p.exec_path);
}

/* PID exited before its parent's fork/clone event: the event must not make an
 * entry for it (the pid may be reused by then). */
static void gone_add(struct rec *r, pid_t pid)
{
	if (r->ngone == GONE_MAX) /* the oldest: its parent died before its event */
		memmove(r->gone, r->gone + 1, --r->ngone * sizeof *r->gone);
	r->gone[r->ngone++] = pid;
}

static bool gone_take(struct rec *r, pid_t pid)
{
	for (size_t i = 0; i < r->ngone; i++)
		if (r->gone[i] == pid) {
			r->gone[i] = r->gone[--r->ngone];
			return true;
		}
	return false;
}

static size_t path_hash(const char *s)
{
	size_t h = 14695981039346656037u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

/* The executable PATH's index, or -1 beyond the caps. */
static int exe_intern(struct rec *r, const char *path)
{
	size_t h = path_hash(path);
	if (r->exe_cap) {
		for (size_t i = h & (r->exe_cap - 1); r->exe_slot[i]; i = (i + 1) & (r->exe_cap - 1))
			if (!strcmp(r->exes[r->exe_slot[i] - 1].path, path))
				return r->exe_slot[i] - 1;
	}
	uint64_t cost = REC_EXE_BYTES;
	for (const unsigned char *c = (const unsigned char *)path; *c; c++) /* as jstr and JSON write it, at most */
		cost += *c < 0x20 ? 6 : *c == '\\' || *c >= 0x7f ? 5 : *c == '"' ? 2 : 1;
	if (r->nexe >= DG_TRACE_MAX_EXES || r->bytes + cost > REC_MAX_BYTES)
		return -1;
	r->bytes += cost;
	if (2 * (r->nexe + 1) > r->exe_cap) {
		size_t cap = r->exe_cap ? 2 * r->exe_cap : 64;
		int *slot = dg_xcalloc(cap, sizeof *slot);
		for (size_t k = 0; k < r->nexe; k++) {
			size_t i = path_hash(r->exes[k].path) & (cap - 1);
			while (slot[i])
				i = (i + 1) & (cap - 1);
			slot[i] = (int)k + 1;
		}
		free(r->exe_slot);
		r->exe_slot = slot;
		r->exe_cap = cap;
	}
	size_t i = h & (r->exe_cap - 1);
	while (r->exe_slot[i])
		i = (i + 1) & (r->exe_cap - 1);
	r->exe_slot[i] = (int)r->nexe + 1;
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

static void exec_clear(struct proc *p)
{
	free(p->exec_path);
	p->exec_path = NULL;
	p->exec_empty = p->exec_unread = false;
}

static void on_syscall(struct rec *r, struct proc *p)
{
	struct __ptrace_syscall_info si;
	memset(&si, 0, sizeof si);
	long n = ptrace(PTRACE_GET_SYSCALL_INFO, p->pid, (void *)sizeof si, &si);
	if (n <= 0) {
		if (errno != ESRCH) /* a tracee killed meanwhile is no loss */
			r->lost++;
		exec_clear(p);
		return;
	}
	if (si.op != PTRACE_SYSCALL_INFO_ENTRY)
		return; /* the exit of a call counted at its entry */
	exec_clear(p);
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
	struct counts *c = p->container ? (p->exe >= 0 ? &r->exes[p->exe].c[arch] : NULL) : &r->runtime[arch];
	if (!c || !counts_add(r, c, nr))
		r->lost++; /* beyond the caps */
	uint64_t a0 = arch ? si.entry.args[0] & 0xffffffffu : si.entry.args[0];
	if (nr == (arch ? NR_CLONE_32 : NR_CLONE_64) || nr == NR_CLONE3) {
		/* CLONE_UNTRACED: the child would run unseen */
		uint64_t flags = a0;
		if (nr == NR_CLONE3) {
			struct iovec l = {&flags, sizeof flags}, rm = {(void *)(uintptr_t)a0, sizeof flags};
			if (process_vm_readv(p->pid, &l, 1, &rm, 1, 0) != (ssize_t)sizeof flags)
				flags = 0; /* the call fails with EFAULT */
		}
		if (flags & CLONE_UNTRACED)
			r->lost++;
	}
	bool execve = nr == (arch ? NR_EXECVE_32 : NR_EXECVE_64);
	bool execveat = nr == (arch ? NR_EXECVEAT_32 : NR_EXECVEAT_64);
	if (execve || execveat) {
		uint64_t a = execve ? a0 : si.entry.args[1];
		if (arch)
			a &= 0xffffffffu;
		p->exec_path = read_string(p->pid, a);
		p->exec_empty = execveat && (si.entry.args[4] & AT_EMPTY_PATH) && p->exec_path && !*p->exec_path;
		p->exec_unread = !p->exec_path; /* /proc/PID/exe names it, if it succeeds */
	}
}

/* The runtime re-executing itself: /proc/self/exe, or an fd of its own (runc 1.2
 * and later exec /proc/self/fd/N, a sealed copy of itself). */
static bool runtime_exec_path(const char *path)
{
	if (!strcmp(path, "/proc/self/exe"))
		return true;
	const char *s = NULL;
	if (!strncmp(path, "/proc/self/fd/", 14))
		s = path + 14;
	else if (!strncmp(path, "/proc/thread-self/fd/", 21))
		s = path + 21;
	else if (!strncmp(path, "/proc/", 6) && path[6] >= '1' && path[6] <= '9') {
		s = path + 6;
		while (*s >= '0' && *s <= '9')
			s++;
		s = !strncmp(s, "/fd/", 4) ? s + 4 : NULL;
	}
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* A successful exec by FORMER (a thread of PID, or PID itself). */
static void on_exec(struct rec *r, pid_t pid, pid_t former)
{
	struct proc *p = proc_find(r, former);
	if (former != pid) {
		/* a thread exec'd: it takes over the leader's pid, the leader is gone */
		proc_remove(r, pid);
		struct proc t;
		if (proc_take(r, former, &t)) {
			p = proc_add(r, pid);
			*p = t;
			p->pid = pid;
		} else {
			p = NULL;
		}
	}
	if (!p) {
		r->lost++;
		p = proc_add(r, pid);
		p->inherited = true;
	}
	if (p->exec_unread)
		r->lost++; /* named by /proc/PID/exe: resolved, not as execve named it */
	char *path = p->exec_path && !p->exec_empty ? dg_steal(&p->exec_path) : read_exe_link(pid);
	bool runtime = !r->seen_exec || runtime_exec_path(path) || p->exec_empty;
	r->seen_exec = true;
	if (p->container) {
		p->exe = exe_intern(r, path);
	} else if (!runtime && !r->container_started) {
		r->container_started = true;
		p->container = true;
		p->exe = exe_intern(r, path);
	}
	free(path);
	exec_clear(p);
}

/* A fault the kernel raised (SIGSEGV, SIGBUS, SIGILL, SIGFPE) that the tracer passes on
 * is ignored when the tracee is a PID namespace's init with the default action: a traced
 * init stays unkillable, so the faulting instruction runs again, faults again, forever (an
 * untraced init is killed by it; a handler always returns through rt_sigreturn, a syscall).
 * The second such fault in a row with no syscall between ends the process as the kernel
 * would have without the tracer. */
static void on_fault(pid_t pid, struct proc *p, int sig)
{
	if (sig != SIGSEGV && sig != SIGBUS && sig != SIGILL && sig != SIGFPE)
		return;
	siginfo_t si;
	if (ptrace(PTRACE_GETSIGINFO, pid, NULL, &si) < 0 || (si.si_code <= 0 && si.si_code != SI_KERNEL))
		return; /* sent by a process (kill, tgkill): delivered once, as any signal */
	if (++p->faults >= 2)
		kill(pid, SIGKILL);
}

static void restart(struct rec *r, pid_t pid, int sig)
{
	if (ptrace(PTRACE_SYSCALL, pid, NULL, (void *)(long)sig) < 0 && errno != ESRCH)
		r->lost++;
}

static void inherit(struct rec *r, struct proc *c, bool container, int exe)
{
	c->container = container;
	c->exe = exe;
	c->inherited = true;
	c->guessed = false;
	if (c->held) {
		c->held = false;
		r->nheld--;
		restart(r, c->pid, 0);
	}
}

/* Tgid: and PPid: of PID (0 when unknown). */
static void proc_ids(pid_t pid, pid_t *tgid, pid_t *ppid)
{
	*tgid = *ppid = 0;
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		if (!strncmp(line, "Tgid:", 5))
			*tgid = (pid_t)atoi(line + 5);
		else if (!strncmp(line, "PPid:", 5))
			*ppid = (pid_t)atoi(line + 5);
	}
	fclose(f);
}

/* The children held for a fork/clone event that may never come (their parent
 * was killed first, or the event could not be read): a thread inherits from its
 * thread group's leader, a process from its parent (with CLONE_PARENT, as runc
 * uses, that is its grandparent: a guess), else it is the runtime's. Each is
 * counted in lost; should the event come after all, it corrects the guess. */
static void resolve_held(struct rec *r)
{
	r->check_held = false;
	for (size_t i = 0; i < r->nprocs && r->nheld; i++) {
		struct proc *c = &r->procs[i];
		if (!c->held)
			continue;
		pid_t tgid, ppid;
		proc_ids(c->pid, &tgid, &ppid);
		struct proc *from = tgid > 0 && tgid != c->pid ? proc_find(r, tgid) : ppid > 0 ? proc_find(r, ppid) : NULL;
		if (from && !from->inherited)
			from = NULL;
		inherit(r, c, from && from->container, from && from->container ? from->exe : -1);
		c->guessed = true;
		r->lost++;
	}
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
		/* a tracee exited while children were held: once no stop is pending,
		 * their parents' events are not coming */
		pid_t pid = waitpid(-1, &ws, __WALL | (r->check_held ? WNOHANG : 0));
		if (pid == 0) {
			resolve_held(r);
			continue;
		}
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
			struct proc *p = proc_find(r, pid);
			if (!p || !p->inherited)
				gone_add(r, pid);
			proc_remove(r, pid);
			r->check_held = r->nheld > 0;
			continue;
		}
		if (!WIFSTOPPED(ws))
			continue;
		int sig = WSTOPSIG(ws), ev = (int)((unsigned)ws >> 16);
		struct proc *p = proc_find(r, pid);
		if (!p) {
			p = proc_add(r, pid);
			if (ev == PTRACE_EVENT_STOP) {
				/* a new child whose parent's fork/clone event has not been seen yet: it
				 * waits in its first stop until that event says what it inherits */
				p->held = true;
				r->nheld++;
				continue;
			}
			/* not a first stop: whose it is cannot be known */
			p->inherited = true;
			r->lost++;
		}
		if (sig == (SIGTRAP | 0x80)) {
			p->faults = 0;
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
				/* which child it names is unknown: none would be released */
				if (r->nheld)
					resolve_held(r);
			} else {
				pid_t cpid = (pid_t)msg;
				struct proc *c = proc_find(r, cpid);
				bool container = p->container;
				int exe = p->exe;
				if (!c) {
					if (!gone_take(r, cpid))
						inherit(r, proc_add(r, cpid), container, exe); /* P may move */
				} else if (!c->inherited || c->guessed) {
					inherit(r, c, container, exe);
				}
			}
			restart(r, pid, 0);
			break;
		}
		case PTRACE_EVENT_EXEC: {
			unsigned long former = (unsigned long)pid;
			if (ptrace(PTRACE_GETEVENTMSG, pid, NULL, &former) < 0) {
				if (errno != ESRCH)
					r->lost++; /* a thread's exec would be taken for the leader's */
				former = (unsigned long)pid;
			}
			on_exec(r, pid, (pid_t)former);
			restart(r, pid, 0);
			break;
		}
		case PTRACE_EVENT_STOP:
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
			on_fault(pid, p, sig);
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
 * so that it runs on under PTRACE_SYSCALL; then writes one byte to GO. Should PID
 * end meanwhile, it is reaped (r->root_reaped). */
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
		if (!WIFSTOPPED(ws)) {
			r->root_reaped = true;
			return dg_err(err, DG_E_INTERNAL, "trace: process %d ended before it was traced", (int)pid);
		}
		if ((ws >> 16) == PTRACE_EVENT_STOP)
			break;
		/* a signal arrived first: deliver it, the interrupt's stop follows */
		ptrace(PTRACE_CONT, pid, NULL, (void *)(long)WSTOPSIG(ws));
	}
	struct proc *p = proc_add(r, pid);
	p->inherited = true;
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
	free(r->exe_slot);
	free(r->proc_slot);
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
		int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (nul < 0 || dup2(nul, 0) < 0)
			_exit(127);
		if (nul != 0)
			close(nul);
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
		if (!r.root_reaped) { /* else its pid may be someone else's by now */
			kill(pid, SIGKILL);
			while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
				;
		}
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

/* A string (a path, an argument) as a JSON string, injectively: a backslash is
 * always written as \x5c, and when S is not UTF-8, every byte that is not
 * printable ASCII as \xHH (dg_buf_put_escaped); unstr reverses it. */
static json_t *jstr(const char *s)
{
	json_t *j = json_stringn(s, strlen(s));
	if (j && !strchr(s, '\\'))
		return j;
	bool utf8 = j != NULL;
	json_decref(j);
	struct dg_buf b = {0};
	if (!utf8)
		dg_buf_put_escaped(&b, s);
	else
		for (const char *c = s; *c; c++)
			if (*c == '\\')
				dg_buf_puts(&b, "\\x5c");
			else
				dg_buf_putc(&b, *c);
	char *e = dg_buf_steal(&b);
	j = json_string(e);
	free(e);
	return j;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A string as jstr wrote it, \xHH decoded (a backslash not followed by xHH is kept);
 * NULL when it would contain a NUL. */
static char *unstr(const char *s)
{
	struct dg_buf b = {0};
	for (const char *c = s; *c; c++) {
		int hi, lo;
		if (c[0] == '\\' && c[1] == 'x' && (hi = hexval(c[2])) >= 0 && (lo = hexval(c[3])) >= 0) {
			if (!hi && !lo) {
				dg_buf_free(&b);
				return NULL;
			}
			dg_buf_putc(&b, (char)(hi << 4 | lo));
			c += 3;
		} else {
			dg_buf_putc(&b, *c);
		}
	}
	return dg_buf_steal(&b);
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
		struct dg_buf fb = {0};
		dg_buf_printf(&fb, "%s.", field);
		dg_buf_put_escaped(&fb, k); /* the message stays one line */
		dg_autofree char *f = dg_buf_steal(&fb);
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
	if (!json_is_string(v) || !(*out = unstr(json_string_value(v))))
		return bad(err, name, key, "expected a string (without NUL) or null");
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
			char *v = json_is_string(a) ? unstr(json_string_value(a)) : NULL;
			if (!v) {
				dg_autofree char *f = dg_xasprintf("args[%zu]", i);
				return bad(err, name, f, "expected a string (without NUL)");
			}
			t->args[t->nargs++] = v;
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
		char *path = json_is_string(p) ? unstr(json_string_value(p)) : NULL;
		if (!path || !*path) {
			free(path);
			dg_autofree char *fp = dg_xasprintf("%s.path", f);
			return bad(err, name, fp, "expected a non-empty string (without NUL)");
		}
		t->exe[i].path = path;
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
		if (!json_is_string(c) || !(t->probe = unstr(json_string_value(c))))
			return bad(err, name, "probe.command", "expected a string (without NUL)");
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
	if (!j) {
		struct dg_buf b = {0};
		dg_buf_put_escaped(&b, je.text);
		dg_autofree char *text = dg_buf_steal(&b);
		return dg_err(err, DG_E_INPUT, "%s: trace file: not JSON (line %d: %s)", name, je.line, text);
	}
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
	/* O_NONBLOCK: a FIFO must not block the open (it is refused below) */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
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
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
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
