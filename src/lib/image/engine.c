/* docker:REF and podman:REF: the engine's own CLI writes the image with
 * `save` into a private, already unlinked temp file. */
#include <string.h>
#include <unistd.h>

#include "image/image_internal.h"
#include "dockergate/proc.h"
#include "dockergate/util.h"

int dg_engine_save(const char *cli, const char *ref, const char *tmpdir, int *fd_out,
		   struct dg_error *err)
{
	if (ref[0] == '-')
		return dg_err(err, DG_E_USAGE, "%s:%s: an image reference cannot start with '-'", cli, ref);
	dg_autofree char *exe = dg_which(cli);
	if (!exe)
		return dg_err(err, DG_E_ENV, "%s:%s: the %s CLI is not installed (not found in PATH)", cli,
			      ref, cli);
	int out, efd;
	if (dg_tmpfile(tmpdir, &out, err) < 0)
		return -1;
	if (dg_tmpfile(tmpdir, &efd, err) < 0) {
		close(out);
		return -1;
	}
	const char *podman_argv[] = {exe, "save", "--format", "docker-archive", ref, NULL};
	const char *docker_argv[] = {exe, "save", ref, NULL};
	const char **argv = !strcmp(cli, "podman") ? podman_argv : docker_argv;
	struct dg_spawn s = {NULL, out, efd, false};
	pid_t pid = dg_spawn((char *const *)argv, &s, err);
	if (pid < 0) {
		close(efd);
		close(out);
		return -1;
	}
	int st = dg_wait(pid);
	if (st != 0) {
		/* the last non-empty line of its stderr says why */
		dg_autofree char *msg = dg_read_back(efd, 65536);
		dg_autofree char *last = dg_last_line(msg);
		dg_err(err, DG_E_ENV, "%s:%s: `%s save` failed: %.500s", cli, ref, cli, *last ? last : "no message");
		close(efd);
		close(out);
		return -1;
	}
	close(efd);
	*fd_out = out;
	return 0;
}
