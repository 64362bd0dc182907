/* Helper programs: posix_spawn with stdin from /dev/null, waits through EINTR,
 * and what they print kept in unlinked temp files (no pipe can fill and block). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dockergate/proc.h"
#include "dockergate/util.h"

extern char **environ;

pid_t dg_spawn(char *const argv[], const struct dg_spawn *s, struct dg_error *err)
{
	static const struct dg_spawn ours = {NULL, -1, -1, false};
	if (!s)
		s = &ours;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	if (s->cwd)
		posix_spawn_file_actions_addchdir_np(&fa, s->cwd);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (s->out >= 0)
		posix_spawn_file_actions_adddup2(&fa, s->out, 1);
	if (s->err >= 0)
		posix_spawn_file_actions_adddup2(&fa, s->err, 2);
	if (s->new_pgroup) {
		posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
		posix_spawnattr_setpgroup(&at, 0);
	}
	/* what we buffered must not be printed twice or after the child's output */
	fflush(stdout);
	fflush(stderr);
	pid_t pid;
	int r = posix_spawn(&pid, argv[0], &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (r) {
		dg_err_sys(err, DG_E_ENV, r, "cannot run %s", argv[0]);
		return -1;
	}
	return pid;
}

int dg_exit_code(int ws)
{
	if (WIFEXITED(ws))
		return WEXITSTATUS(ws);
	if (WIFSIGNALED(ws))
		return 128 + WTERMSIG(ws);
	return 255;
}

int dg_wait(pid_t pid)
{
	int ws;
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			return 255;
	return dg_exit_code(ws);
}

char *dg_read_back(int fd, size_t max)
{
	struct dg_buf b = {0};
	char chunk[4096];
	ssize_t n;
	if (lseek(fd, 0, SEEK_SET) == 0)
		while (b.len < max && ((n = read(fd, chunk, sizeof chunk)) > 0 || (n < 0 && errno == EINTR)))
			if (n > 0)
				dg_buf_append(&b, chunk, (size_t)n < max - b.len ? (size_t)n : max - b.len);
	dg_buf_putc(&b, 0);
	return dg_buf_steal(&b);
}

int dg_run(const char *tmpdir, const char *cwd, char *const argv[], char **out, char **errtext,
	   struct dg_error *err)
{
	int ofd = -1, efd = -1;
	if (dg_tmpfile(tmpdir, &ofd, err) < 0)
		return -1;
	if (dg_tmpfile(tmpdir, &efd, err) < 0) {
		close(ofd);
		return -1;
	}
	struct dg_spawn s = {cwd, ofd, efd, false};
	pid_t pid = dg_spawn(argv, &s, err);
	int st = pid < 0 ? -1 : dg_wait(pid);
	if (st >= 0 && out)
		*out = dg_read_back(ofd, SIZE_MAX);
	if (st >= 0 && errtext)
		*errtext = dg_read_back(efd, SIZE_MAX);
	close(ofd);
	close(efd);
	return st;
}

char *dg_last_line(const char *s)
{
	const char *end = s + strlen(s);
	while (end > s && (end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\r'))
		end--;
	const char *start = end;
	while (start > s && start[-1] != '\n')
		start--;
	struct dg_buf b = {0};
	dg_autofree char *line = dg_xstrndup(start, (size_t)(end - start));
	dg_buf_put_escaped(&b, line);
	dg_buf_putc(&b, 0);
	return dg_buf_steal(&b);
}
