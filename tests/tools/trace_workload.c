/* The workload of tests/e2e/test_trace.sh's "threads" image (built static):
 * threads, fork, vfork + exec, a group-stop, a handled signal and i386 syscalls
 * (int $0x80), each with a distinctive syscall so the recorder's attribution
 * shows. `trace_workload leaf` is what the vfork child execs. Exit 0: all worked. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void on_usr1(int sig)
{
	(void)sig;
	got = 1;
}

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100; i++)
		syscall(SYS_getppid);
	return NULL;
}

static long int80(long nr)
{
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr) : "memory");
	return ret;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "leaf")) {
		syscall(SYS_getegid);
		return 0;
	}
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		if (pthread_create(&th[i], NULL, worker, NULL))
			return 10;
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	int ws;
	pid_t f = fork();
	if (f == 0) {
		syscall(SYS_getgid);
		_exit(0);
	}
	if (f < 0 || waitpid(f, &ws, 0) != f || !WIFEXITED(ws))
		return 11;
	pid_t v = vfork();
	if (v == 0) {
		char *av[] = {argv[0], (char *)"leaf", NULL};
		execv(av[0], av);
		_exit(127);
	}
	if (v < 0 || waitpid(v, &ws, 0) != v || !WIFEXITED(ws) || WEXITSTATUS(ws))
		return 12;
	pid_t s = fork();
	if (s == 0) {
		raise(SIGSTOP);
		syscall(SYS_getuid);
		_exit(0);
	}
	if (s < 0 || waitpid(s, &ws, WUNTRACED) != s || !WIFSTOPPED(ws))
		return 13;
	kill(s, SIGCONT);
	if (waitpid(s, &ws, 0) != s || !WIFEXITED(ws))
		return 14;
	signal(SIGUSR1, on_usr1);
	raise(SIGUSR1);
	if (!got)
		return 15;
	/* a kernel without IA-32 emulation answers int $0x80 with SIGSEGV: probed in a child
	 * (this process may be the container's init, which a traced fault would not end) */
	pid_t pr = fork();
	if (pr == 0)
		_exit(int80(24) == (long)getuid() ? 0 : 1); /* i386 getuid */
	int ia32 = pr > 0 && waitpid(pr, &ws, 0) == pr && WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
	printf("ia32 %s\n", ia32 ? "yes" : "no");
	if (ia32) {
		if (int80(20) != getpid()) /* i386 getpid */
			return 16;
		int80(64); /* i386 getppid */
	}
	printf("workload done\n");
	return 0;
}
