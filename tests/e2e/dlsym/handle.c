/* A lookup function taking the handle and the name from its caller, which passes RTLD_DEFAULT
 * and a name chosen at run time: the global scope, so every export counts. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
typedef long (*fn_t)(long, long);
__attribute__((noinline)) static void *lookup(void *handle, const char *name)
{
	return dlsym(handle, name);
}
int main(int argc, char **argv)
{
	fn_t f = argc > 1 ? (fn_t)lookup(RTLD_DEFAULT, argv[1]) : NULL;
	long r = f ? f(0, 0) : -1;
	printf("dlsym-ok %ld\n", r);
	return 0;
}
