/* dlsym of a name chosen at run time, in the global scope (RTLD_DEFAULT) through a lookup
 * function of the program's own: any exported function of the load set can be returned. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
typedef long (*fn_t)(long, long);
__attribute__((noinline)) static void *lookup(const char *name)
{
	return dlsym(RTLD_DEFAULT, name);
}
int main(int argc, char **argv)
{
	fn_t f = argc > 1 ? (fn_t)lookup(argv[1]) : NULL;
	long r = f ? f(0, 0) : -1;
	printf("dlsym-ok %ld\n", r);
	return 0;
}
