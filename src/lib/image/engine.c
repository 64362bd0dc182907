/* docker:REF and podman:REF: the engine's own CLI writes the image with
 * `save` into a private, already unlinked temp file. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image/image_internal.h"
#include "dockergate/util.h"

extern char **environ;

int dg_engine_save(const char *cli, const char *ref, const char *tmpdir, int *fd_out,
		   struct dg_error *err)
{
	if (ref[0] == '-')
		return dg_err(err, DG_E_USAGE, "%s:%s: an image reference cannot start with '-'", cli, ref);
	dg_autofree char *exe = dg_which(cli);
	if (!exe)
		return dg_err(err, DG_E_ENV, "%s:%s: the %s CLI is not installed (not found in PATH)", cli,
			      ref, cli);
	int out, errp[2];
	if (dg_tmpfile(tmpdir, &out, err) < 0)
		return -1;
	if (pipe2(errp, O_CLOEXEC) < 0) {
		close(out);
		return dg_err_sys(err, DG_E_ENV, errno, "pipe");
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	const char *podman_argv[] = {cli, "save", "--format", "docker-archive", ref, NULL};
	const char *docker_argv[] = {cli, "save", ref, NULL};
	const char **argv = !strcmp(cli, "podman") ? podman_argv : docker_argv;
	pid_t pid;
	int r = posix_spawn(&pid, exe, &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(errp[1]);
	if (r != 0) {
		close(errp[0]);
		close(out);
		return dg_err_sys(err, DG_E_ENV, r, "cannot run %s", exe);
	}
	struct dg_buf msg = {0};
	char buf[4096];
	ssize_t n;
	while ((n = read(errp[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
		if (n > 0 && msg.len < 65536)
			dg_buf_append(&msg, buf, (size_t)n);
	close(errp[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		/* The last non-empty line of stderr says why. */
		char *m = msg.data ? msg.data : (char *)"";
		size_t l = strlen(m);
		while (l && (m[l - 1] == '\n' || m[l - 1] == '\r'))
			m[--l] = 0;
		char *last = strrchr(m, '\n');
		last = last ? last + 1 : m;
		dg_err(err, DG_E_ENV, "%s:%s: `%s save` failed: %.500s", cli, ref, cli,
		       *last ? last : "no message");
		dg_buf_free(&msg);
		close(out);
		return -1;
	}
	dg_buf_free(&msg);
	*fd_out = out;
	return 0;
}
