/* dlsym through a lookup function of the program (RTLD_NEXT, then RTLD_DEFAULT) and dlvsym,
 * with constant names its callers pass. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stddef.h>
typedef int (*mprot_t)(void *, size_t, int, int);
typedef int (*alloc_t)(unsigned, unsigned);
__attribute__((noinline)) static void *lookup(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);
	return p ? p : dlsym(RTLD_DEFAULT, name);
}
int main(void)
{
	alloc_t a = (alloc_t)lookup("pkey_alloc");
	mprot_t m = (mprot_t)dlvsym(RTLD_DEFAULT, "pkey_mprotect", "GLIBC_2.27");
	int k = a ? a(0, 0) : -1;
	static char page[4096] __attribute__((aligned(4096)));
	if (m)
		m(page, sizeof page, 3, k >= 0 ? k : 0);
	printf("dlsym-ok\n");
	return 0;
}
