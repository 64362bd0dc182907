/* dlsym of a name chosen at run time in a library the program dlopens by a name chosen at
 * run time (as interpreters load extension modules): that library's exports count. */
#include <dlfcn.h>
#include <stdio.h>
typedef int (*init_t)(void);
int main(int argc, char **argv)
{
	void *h = argc > 2 ? dlopen(argv[1], RTLD_NOW) : NULL;
	init_t f = h ? (init_t)dlsym(h, argv[2]) : NULL;
	printf("dlsym-ok %d\n", f ? f() : -1);
	return 0;
}
