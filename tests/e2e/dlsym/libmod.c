/* The library test_dlsym.py's "module" program dlopens: its export is found by dlsym. */
#define _GNU_SOURCE
#include <sched.h>
int mod_init(void)
{
	return sched_getcpu() >= 0;
}
