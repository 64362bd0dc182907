/* glibc's setxid broadcast (tests/e2e/test_setxid.py): with a second thread alive, setuid,
 * setgid, setresuid and setgroups go through __nptl_setxid, which makes the call and has
 * every other thread's SIGSETXID handler make it too. The values are the process's own, so
 * nothing changes; run as root or not, each call is made (and fails or succeeds). */
#define _GNU_SOURCE
#include <grp.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static void *idle(void *arg)
{
	(void)arg;
	for (int i = 0; i < 50; i++)
		usleep(10000);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;
	if (pthread_create(&t, NULL, idle, NULL))
		return 1;
	usleep(20000);
	int r = setuid(getuid()) + setgid(getgid()) + setresuid(-1, -1, -1);
	if (argc > 1) {
		gid_t g = getgid();
		r += setgroups(1, &g);
	}
	pthread_join(t, NULL);
	printf("setxid-ok %d\n", r);
	(void)argv;
	return 0;
}
