/* A program named lighttpd that looks its modules' init functions up as lighttpd's plugin.c does:
 * dlsym(RTLD_DEFAULT, "<module>_plugin_init"), the name composed at run time. Built with
 * -rdynamic, so its own functions are exports; other_export is one no such lookup returns. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mman.h>
typedef int (*init_t)(void);
__attribute__((noinline)) int mod_demo_plugin_init(void)
{
	return sched_getcpu() >= 0; /* getcpu */
}
__attribute__((noinline)) int other_export(void)
{
	return pkey_alloc(0, 0); /* pkey_alloc: not reachable by a plugin lookup */
}
int main(int argc, char **argv)
{
	char name[128];
	snprintf(name, sizeof name, "%s_plugin_init", argc > 1 ? argv[1] : "mod_none");
	init_t f = (init_t)dlsym(RTLD_DEFAULT, name);
	printf("dlsym-ok %d\n", f ? f() : -1);
	return 0;
}
