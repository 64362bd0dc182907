/* Runs programs by constant names, every way the C library offers: system() and popen()
 * strings (/bin/sh -c), posix_spawn of a path, fork + execvp of a file looked up in PATH,
 * and finally execl of a path through a function of its own (a wrapper passing its
 * argument on). dockergate must find each target statically (test_exec_edges.sh). */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

__attribute__((noinline)) static void run(const char *path)
{
	execl(path, path, (char *)NULL);
	perror(path);
	_exit(127);
}

int main(void)
{
	if (system("echo from-system; /bin/true") != 0)
		return 1;
	FILE *f = popen("cat /etc/hostname", "r");
	char line[256];
	if (!f || !fgets(line, sizeof line, f) || pclose(f) != 0)
		return 2;
	line[strcspn(line, "\n")] = 0; /* /etc/hostname need not end with a newline */
	printf("from-popen %s\n", line);
	pid_t pid;
	char *targv[] = {"true", NULL};
	int st;
	if (posix_spawn(&pid, "/bin/true", NULL, NULL, targv, environ) != 0 || waitpid(pid, &st, 0) < 0 || st)
		return 3;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char *dargv[] = {"date", "+from-execvp %Y", NULL};
		execvp("date", dargv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || st)
		return 4;
	run("/usr/bin/id");
	return 5;
}
