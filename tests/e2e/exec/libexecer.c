/* A library no program links, which runs a program named by its caller. */
#include <unistd.h>

void execer_run(const char *path, char *const argv[])
{
	execv(path, argv);
}
