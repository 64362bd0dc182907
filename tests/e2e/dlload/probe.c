/* The real loader's answer for test_dlload.py: for each path argument, a child process does
 * dlopen(PATH, RTLD_LAZY) (the most permissive mode: lazy PLT bindings, local scope) and the
 * line "ok PATH" or "fail PATH: dlerror()" is printed. A child that hangs (a constructor
 * waiting for something) is killed after 10 s and reported as "hang PATH". */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		int fd[2];
		if (pipe(fd) < 0)
			return 1;
		pid_t pid = fork();
		if (pid < 0)
			return 1;
		if (pid == 0) {
			close(fd[0]);
			alarm(10);
			void *h = dlopen(argv[i], RTLD_LAZY);
			char line[4096];
			const char *e = h ? NULL : dlerror();
			int n = h ? snprintf(line, sizeof line, "ok %s\n", argv[i])
				  : snprintf(line, sizeof line, "fail %s: %s\n", argv[i], e ? e : "?");
			if (n > 0 && write(fd[1], line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1) < 0)
				_exit(2);
			_exit(0); /* no destructors */
		}
		close(fd[1]);
		char buf[4096];
		ssize_t n = read(fd[0], buf, sizeof buf - 1);
		close(fd[0]);
		int st = 0;
		waitpid(pid, &st, 0);
		if (n > 0) {
			buf[n] = 0;
			fputs(buf, stdout);
		} else {
			printf("%s %s\n", WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM ? "hang" : "crash", argv[i]);
		}
		fflush(stdout);
	}
	return 0;
}
