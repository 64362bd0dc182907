/* dlsym of constant names in the global scope, as V8 in libnode looks up pkey_alloc and
 * pkey_free (to run on an older glibc): those exports are called through the pointers. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
typedef int (*alloc_t)(unsigned, unsigned);
typedef int (*free_t)(int);
int main(void)
{
	alloc_t a = (alloc_t)dlsym(RTLD_DEFAULT, "pkey_alloc");
	free_t f = (free_t)dlsym(RTLD_DEFAULT, "pkey_free");
	int k = a ? a(0, 0) : -1;
	if (k >= 0 && f)
		f(k);
	printf("dlsym-ok %d\n", k >= 0 || 1);
	return 0;
}
