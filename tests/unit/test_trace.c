/* The recorder and trace files (include/dockergate/trace.h).
 * The recorder runs this program itself: `--launch` (the "runtime": the first exec)
 * execs `--child` (the container from then on), which makes known numbers of
 * distinctive syscalls from its main thread, another thread, a fork()ed child, a
 * vfork()ed child that execs /bin/true, a child that stops itself (group-stop,
 * continued by SIGCONT), a signal handler (signals must be delivered), and i386
 * `int $0x80` calls; every count must come out exact. `--launch-te`: a thread that is
 * not the leader execs (the kernel moves it to the leader's pid). `--launch-orphans`: forkers
 * SIGKILLed while forking (the recording must end). `--launch-untraced`: clone and clone3
 * with CLONE_UNTRACED (counted as lost). `--launch-fd`: the runtime re-executing itself
 * through /proc/self/fd/N. `--launch-caps`: more executables than a trace file may hold.
 * `--launch-many`: hundreds of children alive at once.
 * Trace files: a round trip and hostile inputs, each refused with
 * one line naming the file and the field. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dockergate/trace.h"
#include "tap.h"

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

static void *thread_main(void *arg)
{
	(void)arg;
	for (int i = 0; i < 1000; i++)
		syscall(SYS_getppid);
	return NULL;
}

static long int80(long nr)
{
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr) : "memory");
	return ret;
}

/* Whether this kernel runs IA-32 system calls from 64-bit code: a kernel built or booted
 * without IA-32 emulation (CONFIG_IA32_EMULATION=n, ia32_emulation=0 since 6.7) answers
 * int $0x80 with SIGSEGV before any syscall is entered, so there is nothing to trace. */
static int ia32_works(void)
{
	pid_t p = fork();
	if (p == 0) {
		signal(SIGSEGV, SIG_DFL); /* the sanitizer's handler would report and exit 1 */
		_exit(int80(20) == getpid() ? 0 : 1);
	}
	int ws;
	return p > 0 && waitpid(p, &ws, 0) == p && WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
}

static int child_work(void)
{
	pthread_t th;
	if (pthread_create(&th, NULL, thread_main, NULL) || pthread_join(th, NULL))
		return 10;
	pid_t f = fork();
	if (f == 0) {
		for (int i = 0; i < 11; i++)
			syscall(SYS_getgid);
		_exit(0);
	}
	int ws;
	if (f < 0 || waitpid(f, &ws, 0) != f || !WIFEXITED(ws))
		return 11;
	pid_t v = vfork();
	if (v == 0) {
		for (int i = 0; i < 7; i++)
			syscall(SYS_getuid);
		char *av[] = {(char *)"/bin/true", NULL};
		execv(av[0], av);
		_exit(127);
	}
	if (v < 0 || waitpid(v, &ws, 0) != v || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
		return 12;
	pid_t s = fork();
	if (s == 0) {
		raise(SIGSTOP);
		for (int i = 0; i < 3; i++)
			syscall(SYS_getegid);
		_exit(0);
	}
	if (s < 0 || waitpid(s, &ws, WUNTRACED) != s || !WIFSTOPPED(ws))
		return 13;
	kill(s, SIGCONT);
	if (waitpid(s, &ws, 0) != s || !WIFEXITED(ws))
		return 14;
	signal(SIGUSR1, on_usr1);
	raise(SIGUSR1);
	if (!got_usr1)
		return 15;
	const char *ia32 = getenv("DG_TEST_IA32"); /* set by the test from ia32_works() */
	if (ia32 && !strcmp(ia32, "0"))
		return 0;
	for (int i = 0; i < 5; i++)
		if (int80(20) != getpid()) /* i386 getpid */
			return 16;
	int80(64); /* i386 getppid */
	return 0;
}

/* A thread other than the leader execs: the kernel gives it the leader's pid. */
static void *exec_thread(void *arg)
{
	(void)arg;
	syscall(SYS_getpgid, 0);
	char *av[] = {(char *)"/bin/true", NULL};
	execv(av[0], av);
	_exit(127);
}

static int thread_exec(void)
{
	pthread_t th;
	if (pthread_create(&th, NULL, exec_thread, NULL))
		return 20;
	for (;;)
		pause(); /* ends with the exec */
}

/* Forkers that fork as fast as they can, each SIGKILLed after a while by its
 * parent: some child is made whose parent dies before its fork event. */
static int orphans(void)
{
	for (int i = 0; i < 60; i++) {
		pid_t f = fork();
		if (f < 0)
			return 30;
		if (f == 0) {
			for (;;)
				if (fork() == 0)
					_exit(0);
		}
		struct timespec ts = {0, (long)(1 + i % 7) * 1000 * 1000};
		nanosleep(&ts, NULL);
		kill(f, SIGKILL);
		int ws;
		if (waitpid(f, &ws, 0) != f || !WIFSIGNALED(ws))
			return 31;
	}
	return 0;
}

/* clone and clone3 with CLONE_UNTRACED: children that run untraced. */
static int untraced(void)
{
	int ws;
	long c = syscall(SYS_clone, (long)(CLONE_UNTRACED | SIGCHLD), 0L, 0L, 0L, 0L);
	if (c == 0) {
		syscall(SYS_getpgid, 0);
		syscall(SYS_exit_group, 0);
	}
	if (c < 0 || waitpid((pid_t)c, &ws, 0) != c)
		return 40;
	struct clone_args ca;
	memset(&ca, 0, sizeof ca);
	ca.flags = CLONE_UNTRACED;
	ca.exit_signal = SIGCHLD;
	c = syscall(SYS_clone3, &ca, sizeof ca);
	if (c == 0) {
		syscall(SYS_getpgid, 0);
		syscall(SYS_exit_group, 0);
	}
	if (c < 0 || waitpid((pid_t)c, &ws, 0) != c)
		return 41;
	return 0;
}

#define CAPS_LEVELS 15    /* directories of 250 control bytes: each exec'd path is ~4000 bytes, */
#define CAPS_EXECS 3000   /* ~24 KB in the file: 3000 of them are over the 64 MiB cap */

/* The path of the I-th link of the caps test under DIR. */
static void caps_path(char *out, size_t size, const char *dir, int levels, int i)
{
	char name[256];
	memset(name, 1, 250);
	name[250] = 0;
	int n = snprintf(out, size, "%s", dir);
	for (int l = 0; l < levels; l++)
		n += snprintf(out + n, size - (size_t)n, "/%s", name);
	if (i >= 0) {
		name[240] = 0;
		snprintf(out + n, size - (size_t)n, "/%04d%s", i, name);
	}
}

/* Execs /bin/true through N distinct links under DIR, one after the other. */
static int caps(const char *dir, int n)
{
	char p[4096];
	for (int i = 0; i < n; i++) {
		caps_path(p, sizeof p, dir, CAPS_LEVELS, i);
		pid_t c = fork();
		if (c == 0) {
			char *av[] = {p, NULL};
			execv(p, av);
			_exit(127);
		}
		int ws;
		if (c < 0 || waitpid(c, &ws, 0) != c || !WIFEXITED(ws) || WEXITSTATUS(ws))
			return 50;
	}
	return 0;
}

/* No descriptor above 2 may be /dev/null: dg_trace_run's own is closed (what this
 * test inherited is close-on-exec, see recorder_no_fd_leak). */
static int fds(void)
{
	for (int fd = 3; fd < 1024; fd++) {
		char l[64], t[64];
		snprintf(l, sizeof l, "/proc/self/fd/%d", fd);
		ssize_t n = readlink(l, t, sizeof t - 1);
		if (n > 0) {
			t[n] = 0;
			if (!strcmp(t, "/dev/null"))
				return 60;
		}
	}
	return 0;
}

#define MANY 300

/* MANY children alive at once (the recorder's table grows and shrinks), each
 * making one getsid once all exist. */
static int many(void)
{
	int go[2];
	if (pipe(go) < 0)
		return 70;
	for (int i = 0; i < MANY; i++) {
		pid_t c = fork();
		if (c < 0)
			return 71;
		if (c == 0) {
			char b;
			close(go[1]);
			if (read(go[0], &b, 1) != 0)
				_exit(1);
			syscall(SYS_getsid, 0);
			_exit(0);
		}
	}
	close(go[1]);
	for (int i = 0; i < MANY; i++) {
		int ws;
		if (wait(&ws) < 0 || !WIFEXITED(ws) || WEXITSTATUS(ws))
			return 72;
	}
	return 0;
}

static const char *self;

/* dg_trace_run of SELF MODE in a child, bounded by LIMIT s: 0 with the trace,
 * -1 when it did not finish in time (the child is killed) or failed. */
static int run_bounded(const char *mode, int limit, int *status, uint64_t *lost)
{
	int pfd[2];
	if (pipe(pfd) < 0)
		return -1;
	pid_t h = fork();
	if (h == 0) {
		close(pfd[0]);
		char *av[] = {(char *)self, (char *)mode, NULL};
		struct dg_trace *t = NULL;
		struct dg_error err = DG_ERROR_INIT;
		int st = -1;
		if (dg_trace_run(av, -1, -1, DG_TRACE_EXITKILL, &t, &st, &err) < 0)
			_exit(1);
		dprintf(pfd[1], "%d %llu\n", st, (unsigned long long)t->lost);
		_exit(0);
	}
	close(pfd[1]);
	struct pollfd pf = {pfd[0], POLLIN, 0};
	char buf[64] = {0};
	int r = -1;
	if (h > 0 && poll(&pf, 1, limit * 1000) == 1 && read(pfd[0], buf, sizeof buf - 1) > 0) {
		unsigned long long l;
		if (sscanf(buf, "%d %llu", status, &l) == 2) {
			*lost = l;
			r = 0;
		}
	}
	close(pfd[0]);
	if (h > 0) {
		kill(h, SIGKILL);
		waitpid(h, NULL, 0);
	}
	return r;
}

static void recorder_orphans(void)
{
	int status = -1;
	uint64_t lost = 0;
	int r = run_bounded("--launch-orphans", 120, &status, &lost);
	ok(r == 0 && status == 0, "forkers killed while forking: the recording ends (status %d, %llu lost)", status,
	   (unsigned long long)lost);
}

/* A PID namespace's init that faults (a null write, default action): a traced init stays
 * unkillable, so the signal the recorder passes on is ignored and the instruction faults
 * again; the recorder must end it as the kernel would without a tracer, not loop forever
 * (this kernel answers int $0x80 that way too when it has no IA-32 emulation). */
static void recorder_faulting_init(void)
{
	if (system("unshare --pid --fork true >/dev/null 2>&1") != 0) {
		ok(1, "a faulting PID-namespace init ends the recording # SKIP unshare --pid fails here (not root?)");
		return;
	}
	int status = -1;
	uint64_t lost = 0;
	int r = run_bounded("--launch-fault", 60, &status, &lost);
	ok(r == 0 && status != 0, "a faulting PID-namespace init ends the recording (status %d)", status);
}

static void recorder_untraced(void)
{
	char *av[] = {(char *)self, (char *)"--launch-untraced", NULL};
	struct dg_trace *t = NULL;
	struct dg_error err = DG_ERROR_INIT;
	int status = -1;
	int r = dg_trace_run(av, -1, -1, DG_TRACE_EXITKILL, &t, &status, &err);
	ok(r == 0 && status == 0, "CLONE_UNTRACED: recorded, status %d (%s)", status, r ? err.msg : "ok");
	if (r)
		return;
	const struct dg_trace_exe *me = dg_trace_find(t, self);
	ok(t->lost == 2, "CLONE_UNTRACED: clone and clone3 counted as lost (%llu)", (unsigned long long)t->lost);
	ok(me && dg_trace_count(&me->set[0], SYS_getpgid) == 0 && dg_trace_count(&me->set[0], SYS_clone3) == 1,
	   "CLONE_UNTRACED: the calls are counted, the untraced children's are not seen");
	dg_trace_free(t);
}

/* More executables than a trace file can hold: the recorder keeps to the loader's
 * caps (what is beyond counts in lost), so its file is still readable. */
static void recorder_caps(void)
{
	char dir[] = "/tmp/dg-test-caps.XXXXXX", p[4096];
	if (!mkdtemp(dir)) {
		ok(0, "caps: mkdtemp: %s", strerror(errno));
		return;
	}
	bool made = true;
	for (int l = 1; made && l <= CAPS_LEVELS; l++) {
		caps_path(p, sizeof p, dir, l, -1);
		made = mkdir(p, 0700) == 0;
	}
	for (int i = 0; made && i < CAPS_EXECS; i++) {
		caps_path(p, sizeof p, dir, CAPS_LEVELS, i);
		made = symlink("/bin/true", p) == 0;
	}
	ok(made, "caps: %d links to /bin/true at ~4000-byte paths (%s)", CAPS_EXECS, made ? "made" : strerror(errno));
	char n[16];
	snprintf(n, sizeof n, "%d", CAPS_EXECS);
	char *av[] = {(char *)self, (char *)"--launch-caps", dir, n, NULL};
	struct dg_trace *t = NULL;
	struct dg_error err = DG_ERROR_INIT;
	int status = -1;
	int r = made ? dg_trace_run(av, -1, -1, DG_TRACE_EXITKILL, &t, &status, &err) : -1;
	ok(r == 0 && status == 0, "caps: recorded, status %d (%s)", status, r ? err.msg : "ok");
	if (r == 0) {
		ok(t->nexe > 1000 && t->nexe < CAPS_EXECS && t->lost > 0,
		   "caps: the recorder stopped adding executables at the cap (%zu of %d), the rest counted in lost (%llu)",
		   t->nexe, CAPS_EXECS + 1, (unsigned long long)t->lost);
		char path[] = "/tmp/dg-test-trace.XXXXXX";
		int fd = mkstemp(path);
		close(fd);
		struct stat st;
		r = dg_trace_write(t, path, &err);
		ok(r == 0 && stat(path, &st) == 0 && (uint64_t)st.st_size <= DG_TRACE_MAX_FILE,
		   "caps: the trace written is within the loader's size cap (%s)", r ? err.msg : "ok");
		struct dg_trace *b = NULL;
		r = dg_trace_load(path, &b, &err);
		ok(r == 0 && b->nexe == t->nexe, "caps: and the loader reads it (%s)", r ? err.msg : "ok");
		dg_trace_free(b);
		unlink(path);
		dg_trace_free(t);
	}
	for (int i = 0; i < CAPS_EXECS; i++) {
		caps_path(p, sizeof p, dir, CAPS_LEVELS, i);
		unlink(p);
	}
	for (int l = CAPS_LEVELS; l >= 0; l--) {
		caps_path(p, sizeof p, dir, l, -1);
		rmdir(p);
	}
}

static void recorder_no_fd_leak(void)
{
	for (int fd = 3; fd < 1024; fd++) /* the descriptors this test inherited stay out */
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	char *av[] = {(char *)self, (char *)"--fds", NULL};
	struct dg_trace *t = NULL;
	struct dg_error err = DG_ERROR_INIT;
	int status = -1;
	int r = dg_trace_run(av, -1, -1, DG_TRACE_EXITKILL, &t, &status, &err);
	ok(r == 0 && status == 0, "the traced program has no stray /dev/null descriptor (status %d: %s)", status,
	   r ? err.msg : status == 60 ? "leaked" : "ok");
	dg_trace_free(t);
}

static void recorder_many(void)
{
	char *av[] = {(char *)self, (char *)"--launch-many", NULL};
	struct dg_trace *t = NULL;
	struct dg_error err = DG_ERROR_INIT;
	int status = -1;
	int r = dg_trace_run(av, -1, -1, DG_TRACE_EXITKILL, &t, &status, &err);
	ok(r == 0 && status == 0, "%d children at once: recorded, status %d (%s)", MANY, status, r ? err.msg : "ok");
	if (r)
		return;
	const struct dg_trace_exe *me = dg_trace_find(t, self);
	ok(me && dg_trace_count(&me->set[0], SYS_getsid) == MANY && t->lost == 0,
	   "%d children at once: each one's getsid counted (%llu), nothing lost (%llu)", MANY,
	   me ? (unsigned long long)dg_trace_count(&me->set[0], SYS_getsid) : 0ULL, (unsigned long long)t->lost);
	dg_trace_free(t);
}

static void recorder_fd_exec(void)
{
	char *av[] = {(char *)self, (char *)"--launch-fd", NULL};
	struct dg_trace *t = NULL;
	struct dg_error err = DG_ERROR_INIT;
	int status = -1;
	int r = dg_trace_run(av, -1, -1, DG_TRACE_EXITKILL, &t, &status, &err);
	ok(r == 0 && status == 0, "/proc/self/fd exec: recorded, status %d (%s)", status, r ? err.msg : "ok");
	if (r)
		return;
	ok(t->nexe == 1 && dg_trace_find(t, "/bin/true"),
	   "an exec of /proc/self/fd/N is the runtime's; /bin/true is the container (%zu executables, first %s)", t->nexe,
	   t->nexe ? t->exe[0].path : "none");
	dg_trace_free(t);
}

static void recorder_thread_exec(void)
{
	char *av[] = {(char *)self, (char *)"--launch-te", NULL};
	struct dg_trace *t = NULL;
	struct dg_error err = DG_ERROR_INIT;
	int status = -1;
	int r = dg_trace_run(av, -1, -1, DG_TRACE_EXITKILL, &t, &status, &err);
	ok(r == 0 && status == 0, "thread exec: recorded, status %d (%s)", status, r ? err.msg : "ok");
	if (r)
		return;
	const struct dg_trace_exe *me = dg_trace_find(t, self), *tr = dg_trace_find(t, "/bin/true");
	ok(me && tr && t->nexe == 2, "thread exec: the program and /bin/true (%zu executables)", t->nexe);
	if (me && tr) {
		ok(dg_trace_count(&me->set[0], SYS_getpgid) == 1 && dg_trace_count(&me->set[0], SYS_execve) == 1,
		   "thread exec: the thread's getpgid and execve count for the program");
		ok(dg_trace_count(&tr->set[0], SYS_exit_group) == 1 && dg_trace_count(&tr->set[0], SYS_getpgid) == 0,
		   "thread exec: /bin/true runs on under the leader's pid (its exit_group)");
	}
	ok(t->lost == 0, "thread exec: nothing lost");
	dg_trace_free(t);
}

static void recorder(void)
{
	char *av[] = {(char *)self, (char *)"--launch", NULL};
	struct dg_trace *t = NULL;
	struct dg_error err = DG_ERROR_INIT;
	int status = -1;
	int r = dg_trace_run(av, -1, -1, DG_TRACE_EXITKILL, &t, &status, &err);
	ok(r == 0, "dg_trace_run: %s", r ? err.msg : "recorded");
	if (r)
		return;
	ok(status == 0, "the traced program did its work (status %d)", status);
	ok(t->lost == 0, "no stop was lost (%llu)", (unsigned long long)t->lost);
	const struct dg_trace_exe *me = dg_trace_find(t, self), *tr = dg_trace_find(t, "/bin/true");
	ok(me != NULL, "the container's first exec is its first executable (%s)", self);
	ok(tr != NULL, "the vfork child's exec of /bin/true is an executable of the container");
	ok(t->nexe == 2, "exactly those two executables (%zu)", t->nexe);
	if (!me || !tr) {
		dg_trace_free(t);
		return;
	}
	const struct dg_trace_set *m = &me->set[DG_TRACE_X86_64];
	ok(dg_trace_count(m, SYS_getppid) == 1000, "1000 getppid from a thread (%llu)",
	   (unsigned long long)dg_trace_count(m, SYS_getppid));
	ok(dg_trace_count(m, SYS_getgid) == 11, "11 getgid from a fork()ed child (%llu)",
	   (unsigned long long)dg_trace_count(m, SYS_getgid));
	ok(dg_trace_count(m, SYS_getuid) == 7, "7 getuid from a vfork()ed child before its exec (%llu)",
	   (unsigned long long)dg_trace_count(m, SYS_getuid));
	ok(dg_trace_count(m, SYS_getegid) == 3, "3 getegid after a group-stop and SIGCONT (%llu)",
	   (unsigned long long)dg_trace_count(m, SYS_getegid));
	ok(dg_trace_count(m, SYS_execve) == 1, "the vfork child's execve is counted where it was made");
	ok(dg_trace_count(m, SYS_rt_sigreturn) >= 1, "the signal was delivered (rt_sigreturn)");
	ok(dg_trace_count(m, SYS_clone3) + dg_trace_count(m, SYS_clone) >= 2 && dg_trace_count(m, SYS_vfork) +
	   dg_trace_count(m, SYS_clone) + dg_trace_count(m, SYS_clone3) >= 4, "clone/clone3/vfork seen");
	const struct dg_trace_set *i = &me->set[DG_TRACE_I386];
	if (!getenv("DG_TEST_IA32") || !strcmp(getenv("DG_TEST_IA32"), "0")) {
		ok(i->n == 0, "i386: nothing recorded # SKIP this kernel runs no IA-32 code (int $0x80 is SIGSEGV)");
		ok(1, "i386 numbers are named from the i386 table # SKIP this kernel runs no IA-32 code");
	} else {
	ok(i->n == 2 && dg_trace_count(i, 20) == 5 && dg_trace_count(i, 64) == 1,
	   "i386: 5 getpid and 1 getppid by int $0x80, nothing else (%zu numbers)", i->n);
	ok(i->n && i->v[0].name && !strcmp(i->v[0].name, "getpid"), "i386 numbers are named from the i386 table");
	}
	ok(dg_trace_count(&tr->set[DG_TRACE_X86_64], SYS_exit_group) == 1, "/bin/true's exit_group");
	ok(dg_trace_count(&tr->set[DG_TRACE_X86_64], SYS_execve) == 0, "/bin/true did not exec (its execve is its caller's)");
	ok(dg_trace_count(&t->runtime[DG_TRACE_X86_64], SYS_execve) == 2,
	   "the runtime bucket has the two execve before the container (launch and child)");
	ok(dg_trace_count(&t->runtime[DG_TRACE_X86_64], SYS_getppid) == 0, "no container call in the runtime bucket");

	/* the same trace written and read back */
	char path[] = "/tmp/dg-test-trace.XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	t->image = strdup("img.tar");
	t->exit_status = 0;
	r = dg_trace_write(t, path, &err);
	ok(r == 0, "dg_trace_write: %s", r ? err.msg : "written");
	struct dg_trace *b = NULL;
	r = dg_trace_load(path, &b, &err);
	ok(r == 0, "dg_trace_load reads it back: %s", r ? err.msg : "ok");
	if (r == 0) {
		bool same = b->nexe == t->nexe && !strcmp(b->image, "img.tar") && b->exit_status == 0;
		for (size_t k = 0; same && k < t->nexe; k++)
			for (int a = 0; a < DG_TRACE_NARCH; a++) {
				const struct dg_trace_set *x = &t->exe[k].set[a], *y = &b->exe[k].set[a];
				same = same && x->n == y->n && !strcmp(t->exe[k].path, b->exe[k].path);
				for (size_t c = 0; same && c < x->n; c++)
					same = x->v[c].nr == y->v[c].nr && x->v[c].count == y->v[c].count;
			}
		ok(same, "the round trip keeps every executable, syscall and count");
		dg_trace_free(b);
	}
	unlink(path);
	dg_trace_free(t);
}

static int parse(const char *json, struct dg_error *err)
{
	struct dg_trace *t = NULL;
	/* a private copy without a NUL in reach */
	size_t n = strlen(json);
	char *c = malloc(n ? n : 1);
	memcpy(c, json, n);
	int r = dg_trace_parse(c, n, "t.json", &t, err);
	free(c);
	dg_trace_free(t);
	return r;
}

#define HDR "{\"dockergate_trace\":1,"
#define EMPTY_RT "\"runtime\":{\"syscalls\":{}}"

static void refuse(const char *json, const char *want, const char *what)
{
	struct dg_error err = DG_ERROR_INIT;
	int r = parse(json, &err);
	ok(r < 0 && err.status == DG_E_INPUT && strstr(err.msg, want) && !strchr(err.msg, '\n') &&
		   !strncmp(err.msg, "t.json: ", 8),
	   "refused: %s (%s)", what, r < 0 ? err.msg : "accepted");
}

/* Paths whose escaped forms would collide: "\\xff" literally and the byte 0xff,
 * a backslash before other text, and a path that is not UTF-8 with a backslash. */
static void escaping(void)
{
	const char *paths[] = {"/bin/\\xff", "/bin/\xff", "/bin/a\\b", "/bin/\\x5c", "/bin/\xc3\\x41", "/bin/\xc3\xa9"};
	size_t n = sizeof paths / sizeof *paths;
	struct dg_trace *t = dg_trace_new();
	t->exe = calloc(n, sizeof *t->exe);
	for (size_t i = 0; i < n; i++) {
		t->exe[i].path = strdup(paths[i]);
		t->exe[i].set[0].v = calloc(1, sizeof *t->exe[i].set[0].v);
		t->exe[i].set[0].v[0] = (struct dg_trace_call){(uint32_t)i, NULL, i + 1};
		t->exe[i].set[0].n = 1;
	}
	t->nexe = n;
	t->nargs = 1;
	t->args = calloc(2, sizeof *t->args);
	t->args[0] = strdup("a\\xff\xfe");
	char path[] = "/tmp/dg-test-trace.XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	struct dg_error err = DG_ERROR_INIT;
	int r = dg_trace_write(t, path, &err);
	ok(r == 0, "escaping: written (%s)", r ? err.msg : "ok");
	struct dg_trace *b = NULL;
	r = dg_trace_load(path, &b, &err);
	ok(r == 0, "escaping: a path literally \\xff and one with the byte 0xff read back (%s)", r ? err.msg : "ok");
	if (r == 0) {
		bool all = b->nexe == n;
		for (size_t i = 0; all && i < n; i++) {
			const struct dg_trace_exe *e = dg_trace_find(b, paths[i]);
			all = e && dg_trace_count(&e->set[0], (uint32_t)i) == i + 1;
		}
		ok(all, "escaping: every path comes back as it was, with its own counts (%zu executables)", b->nexe);
		ok(b->nargs == 1 && !strcmp(b->args[0], "a\\xff\xfe"), "escaping: args too");
		dg_trace_free(b);
	}
	unlink(path);
	dg_trace_free(t);
}

static void loader(void)
{
	struct dg_error err = DG_ERROR_INIT;
	struct dg_trace *t = NULL;
	const char *good = HDR "\"image\":\"x.tar\",\"engine\":\"runc\",\"args\":[\"a\",\"b\"],\"arch\":\"x86_64\","
			       "\"executables\":[{\"path\":\"/b\",\"syscalls\":{\"read\":3,\"335\":1}},"
			       "{\"path\":\"/a\",\"syscalls\":{\"write\":1},\"i386\":{\"getpid\":2}}],"
			       "\"runtime\":{\"syscalls\":{\"futex\":9}},\"exit_status\":0,\"timed_out\":true,"
			       "\"probe\":{\"command\":\"curl x\",\"exit_status\":7}}";
	int r = dg_trace_parse(good, strlen(good), "t.json", &t, &err);
	ok(r == 0, "a well-formed trace parses: %s", r ? err.msg : "ok");
	if (r == 0) {
		ok(t->nexe == 2 && !strcmp(t->exe[0].path, "/a") && !strcmp(t->exe[1].path, "/b"), "executables sorted by path");
		ok(dg_trace_count(&t->exe[1].set[0], 0) == 3 && dg_trace_count(&t->exe[1].set[0], 335) == 1,
		   "counts by name and by number");
		ok(t->exe[1].set[0].v[1].nr == 335 && !t->exe[1].set[0].v[1].name, "an unnamed number has no name");
		ok(dg_trace_count(&t->exe[0].set[1], 20) == 2 && !strcmp(t->exe[0].set[1].v[0].name, "getpid"),
		   "i386 names resolve in the i386 table");
		ok(t->nargs == 2 && t->timed_out && t->probe_status == 7 && !strcmp(t->probe, "curl x") &&
			   dg_trace_count(&t->runtime[0], 202) == 9,
		   "args, timed_out, probe, runtime");
		dg_trace_free(t);
	}
	refuse("", "not JSON", "empty input");
	refuse("{\"dockergate_trace\":1", "not JSON", "truncated JSON");
	refuse("[]", "(top level)", "not an object");
	refuse("{}", "dockergate_trace: missing", "not a trace file");
	refuse("{\"dockergate_trace\":2,\"executables\":[]," EMPTY_RT "}", "dockergate_trace", "a future version");
	refuse("{\"dockergate_trace\":\"1\",\"executables\":[]," EMPTY_RT "}", "dockergate_trace", "version as a string");
	refuse(HDR EMPTY_RT "}", "executables: missing", "no executables");
	refuse(HDR "\"executables\":{}," EMPTY_RT "}", "executables: expected an array", "executables not an array");
	refuse(HDR "\"executables\":[]}", "runtime: missing", "no runtime set");
	refuse(HDR "\"executables\":[],\"runtime\":{}}", "runtime.syscalls: missing", "runtime without syscalls");
	refuse(HDR "\"executables\":[3]," EMPTY_RT "}", "executables[0]: expected an object", "an executable not an object");
	refuse(HDR "\"executables\":[{\"syscalls\":{}}]," EMPTY_RT "}", "executables[0].path", "no path");
	refuse(HDR "\"executables\":[{\"path\":\"\",\"syscalls\":{}}]," EMPTY_RT "}", "executables[0].path", "empty path");
	refuse(HDR "\"executables\":[{\"path\":\"/x\",\"syscalls\":[]}]," EMPTY_RT "}", "executables[0].syscalls",
	       "syscalls not an object");
	refuse(HDR "\"executables\":[{\"path\":\"/x\",\"syscalls\":{\"nosuchcall\":1}}]," EMPTY_RT "}",
	       "executables[0].syscalls.nosuchcall: unknown x86-64 syscall name", "an unknown name");
	refuse(HDR "\"executables\":[{\"path\":\"/x\",\"syscalls\":{},\"i386\":{\"newfstatat\":1}}]," EMPTY_RT "}",
	       "executables[0].i386.newfstatat: unknown i386", "an x86-64-only name in the i386 set");
	refuse(HDR "\"executables\":[{\"path\":\"/x\",\"syscalls\":{\"read\":0}}]," EMPTY_RT "}", "executables[0].syscalls.read",
	       "a zero count");
	refuse(HDR "\"executables\":[{\"path\":\"/x\",\"syscalls\":{\"read\":-4}}]," EMPTY_RT "}", "syscalls.read",
	       "a negative count");
	refuse(HDR "\"executables\":[{\"path\":\"/x\",\"syscalls\":{\"read\":1.5}}]," EMPTY_RT "}", "syscalls.read",
	       "a fractional count");
	refuse(HDR "\"executables\":[{\"path\":\"/x\",\"syscalls\":{\"read\":\"1\"}}]," EMPTY_RT "}", "syscalls.read",
	       "a count as a string");
	refuse(HDR "\"executables\":[{\"path\":\"/x\",\"syscalls\":{\"99999999999\":1}}]," EMPTY_RT "}", "99999999999",
	       "a number beyond 32 bits");
	refuse(HDR "\"executables\":[{\"path\":\"/x\",\"syscalls\":{\"007\":1}}]," EMPTY_RT "}", "007", "a leading zero");
	refuse(HDR "\"executables\":[{\"path\":\"/x\",\"syscalls\":{\"1x\":1}}]," EMPTY_RT "}", "1x", "a number with junk");
	refuse(HDR "\"executables\":[{\"path\":\"/x\",\"syscalls\":{\"read\":1,\"0\":1}}]," EMPTY_RT "}", "listed twice",
	       "a syscall by name and by number");
	refuse(HDR "\"executables\":[{\"path\":\"/x\",\"syscalls\":{\"read\":1,\"read\":2}}]," EMPTY_RT "}", "not JSON",
	       "a duplicate key");
	refuse(HDR "\"executables\":[{\"path\":\"/x\",\"syscalls\":{}},{\"path\":\"/x\",\"syscalls\":{}}]," EMPTY_RT "}",
	       "/x is listed twice", "an executable twice");
	refuse(HDR "\"executables\":[],\"runtime\":{\"syscalls\":{\"read\":true}}}", "runtime.syscalls.read", "a boolean count");
	refuse(HDR "\"arch\":\"aarch64\",\"executables\":[]," EMPTY_RT "}", "arch: only x86_64", "another arch");
	refuse(HDR "\"image\":5,\"executables\":[]," EMPTY_RT "}", "image: expected a string", "image not a string");
	refuse(HDR "\"args\":[1],\"executables\":[]," EMPTY_RT "}", "args[0]", "args not strings");
	refuse(HDR "\"args\":\"a\",\"executables\":[]," EMPTY_RT "}", "args: expected an array", "args a string");
	refuse(HDR "\"executables\":[]," EMPTY_RT ",\"exit_status\":256}", "exit_status", "an exit status above 255");
	refuse(HDR "\"executables\":[]," EMPTY_RT ",\"timed_out\":1}", "timed_out", "timed_out not a boolean");
	refuse(HDR "\"executables\":[]," EMPTY_RT ",\"probe\":{}}", "probe.command", "a probe without its command");
	refuse(HDR "\"executables\":[]," EMPTY_RT ",\"probe\":{\"command\":\"x\",\"exit_status\":-1}}", "probe.exit_status",
	       "a negative probe status");
	refuse(HDR "\"executables\":[]," EMPTY_RT ",\"lost\":-1}", "lost", "a negative lost count");
	refuse(HDR "\"executables\":[{\"path\":\"/x\\u0000y\",\"syscalls\":{}}]," EMPTY_RT "}", "not JSON", "a NUL in a path");
	refuse(HDR "\"executables\":[{\"path\":\"/x\\\\x00y\",\"syscalls\":{}}]," EMPTY_RT "}", "executables[0].path",
	       "an escaped NUL in a path");
	refuse(HDR "\"executables\":[{\"path\":\"/x\\\\x5c\",\"syscalls\":{}},{\"path\":\"/x\\\\x5C\",\"syscalls\":{}}],"
	       EMPTY_RT "}", "/x\\x5c is listed twice", "one path twice, escaped two ways");
	refuse(HDR "\"executables\":[{\"path\":\"/x\",\"syscalls\":{\"\\n\\u001b[31mx\":1}}]," EMPTY_RT "}",
	       "syscalls.\\x0a\\x1b[31mx: unknown", "a key with a newline and an escape sequence, escaped in the message");
	refuse(HDR "\"executables\":[\n\x1b[31m" EMPTY_RT "}", "not JSON", "bad JSON with control bytes");
	{
		struct dg_error e2 = DG_ERROR_INIT;
		const char *j = HDR "\"executables\":[\x1b[31m" EMPTY_RT "}";
		dg_trace_parse(j, strlen(j), "t.json", &t, &e2);
		ok(!strchr(e2.msg, 0x1b) && !strchr(e2.msg, '\n'), "the JSON error's text is escaped: %s", e2.msg);
	}
	ok(parse(HDR "\"executables\":[]," EMPTY_RT "}", &err) == 0, "the smallest trace parses");

	r = dg_trace_load("/nonexistent/trace.json", &t, &err);
	ok(r < 0 && err.status == DG_E_INPUT && strstr(err.msg, "/nonexistent/trace.json"), "a missing file: %s", err.msg);
	r = dg_trace_load("/tmp", &t, &err);
	ok(r < 0 && err.status == DG_E_INPUT && strstr(err.msg, "not a regular file"), "a directory: %s", err.msg);
	char fifo[] = "/tmp/dg-test-fifo.XXXXXX";
	int ffd = mkstemp(fifo);
	close(ffd);
	unlink(fifo);
	if (mkfifo(fifo, 0600) == 0) {
		pid_t w = fork();
		if (w == 0) {
			alarm(10); /* a loader that blocks on the FIFO dies here */
			_exit(dg_trace_load(fifo, &t, &err) < 0 && strstr(err.msg, "not a regular file") ? 0 : 1);
		}
		int ws;
		ok(w > 0 && waitpid(w, &ws, 0) == w && WIFEXITED(ws) && WEXITSTATUS(ws) == 0,
		   "a FIFO is refused as not a regular file, without blocking");
		unlink(fifo);
	} else {
		ok(0, "mkfifo %s: %s", fifo, strerror(errno));
	}
	char path[] = "/tmp/dg-test-trace.XXXXXX";
	int fd = mkstemp(path);
	ok(fd >= 0 && ftruncate(fd, (off_t)DG_TRACE_MAX_FILE + 1) == 0, "a sparse file over the cap");
	close(fd);
	r = dg_trace_load(path, &t, &err);
	ok(r < 0 && err.status == DG_E_LIMIT && strstr(err.msg, path), "refused as too large: %s", err.msg);
	unlink(path);
}

int main(int argc, char **argv)
{
	self = argv[0];
	if (argc == 2 && !strcmp(argv[1], "--launch")) {
		char *av[] = {argv[0], (char *)"--child", NULL};
		execv(av[0], av);
		return 127;
	}
	if (argc == 2 && !strcmp(argv[1], "--child"))
		return child_work();
	if (argc == 2 && !strcmp(argv[1], "--launch-fault")) {
		char *av[] = {(char *)"unshare", (char *)"--pid", (char *)"--fork", argv[0], (char *)"--fault", NULL};
		execvp(av[0], av);
		return 127;
	}
	if (argc == 2 && !strcmp(argv[1], "--fault")) {
		signal(SIGSEGV, SIG_DFL); /* not the sanitizer's handler: the default action */
		volatile uintptr_t bad = 8; /* not a constant: the compiler cannot see the fault coming */
		*(volatile int *)bad = 1;
		return 0;
	}
	if (argc == 1)
		setenv("DG_TEST_IA32", ia32_works() ? "1" : "0", 1);
	if (argc == 2 && !strcmp(argv[1], "--launch-te")) {
		char *av[] = {argv[0], (char *)"--thread-exec", NULL};
		execv(av[0], av);
		return 127;
	}
	if (argc == 2 && !strcmp(argv[1], "--thread-exec"))
		return thread_exec();
	if (argc == 2 && !strcmp(argv[1], "--launch-orphans")) {
		char *av[] = {argv[0], (char *)"--orphans", NULL};
		execv(av[0], av);
		return 127;
	}
	if (argc == 2 && !strcmp(argv[1], "--orphans"))
		return orphans();
	if (argc == 2 && !strcmp(argv[1], "--launch-untraced")) {
		char *av[] = {argv[0], (char *)"--untraced", NULL};
		execv(av[0], av);
		return 127;
	}
	if (argc == 2 && !strcmp(argv[1], "--untraced"))
		return untraced();
	if (argc == 2 && !strcmp(argv[1], "--launch-many")) {
		char *av[] = {argv[0], (char *)"--many", NULL};
		execv(av[0], av);
		return 127;
	}
	if (argc == 2 && !strcmp(argv[1], "--many"))
		return many();
	if (argc == 2 && !strcmp(argv[1], "--fds"))
		return fds();
	if (argc == 4 && !strcmp(argv[1], "--launch-caps")) {
		char *av[] = {argv[0], (char *)"--caps", argv[2], argv[3], NULL};
		execv(av[0], av);
		return 127;
	}
	if (argc == 4 && !strcmp(argv[1], "--caps"))
		return caps(argv[2], atoi(argv[3]));
	if (argc == 2 && !strcmp(argv[1], "--launch-fd")) {
		/* the runtime re-executes itself from an fd (runc >= 1.2), which execs /bin/true */
		int fd = open(argv[0], O_RDONLY);
		char p[64];
		snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
		char *av[] = {p, (char *)"--fd-child", NULL};
		execv(av[0], av);
		return 127;
	}
	if (argc == 2 && !strcmp(argv[1], "--fd-child")) {
		char *av[] = {(char *)"/bin/true", NULL};
		execv(av[0], av);
		return 127;
	}
	char abs[4096];
	if (!realpath(argv[0], abs)) {
		perror(argv[0]);
		return 1;
	}
	self = abs;
	/* LeakSanitizer cannot run in a traced process (the ASan build of this test) */
	setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
	recorder();
	recorder_thread_exec();
	recorder_orphans();
	recorder_untraced();
	recorder_faulting_init();
	recorder_fd_exec();
	recorder_no_fd_leak();
	recorder_many();
	recorder_caps();
	loader();
	escaping();
	return tap_done();
}
