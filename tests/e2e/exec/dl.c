/* dlopen of a constant library name (glibc's search), and dlopen(NULL). */
#include <dlfcn.h>
#include <stdio.h>

int main(void)
{
	void *self = dlopen(NULL, RTLD_NOW);
	void *m = dlopen("libm.so.6", RTLD_NOW);
	if (!self || !m)
		return 1;
	double (*cosine)(double) = (double (*)(double))dlsym(m, "cos");
	printf("cos(0) = %.1f\n", cosine ? cosine(0.0) : -1.0);
	return 0;
}
