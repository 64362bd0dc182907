/* The library of tests/e2e/dataobj/prog.c: lib_ops is exported (its pointer counts whatever
 * refers to it); lib_never_tbl is referred to only by lib_unused, which nothing calls. */
static inline __attribute__((always_inline)) long raw(long n, long a)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(0L), "d"(0L) : "rcx", "r11", "memory");
	return r;
}

struct lops {
	long (*f)(void);
};

__attribute__((noinline)) static long lib_fn(void) { return raw(179, 0x7fffffff); }      /* quotactl, bad command */
__attribute__((noinline)) static long lib_never(void) { return raw(134, (long)"/dg-none"); } /* uselib */

const struct lops lib_ops = {lib_fn};
static long (*const lib_never_tbl[])(void) = {lib_never, lib_never};

long lib_call(void)
{
	return 0;
}

long lib_unused(int i)
{
	return lib_never_tbl[i & 1]();
}
