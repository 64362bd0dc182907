/* Function pointers held in data (tests/e2e/test_dataobj.py): which count depends on which
 * data reachable code refers to. Each function makes one syscall of its own, with the number
 * at the instruction, so the computed set shows which were counted. Run with an argument:
 * 0 or 1 picks an entry of used_tbl; every run also calls through used_ops (data pointing
 * to data), through the section dgset (walked with __start_/__stop_) and through lib_ops
 * (an object the library exports). The never_* functions are in tables only unused code
 * refers to: they must not count, and never run. */
#include <stdio.h>
#include <stdlib.h>

static inline __attribute__((always_inline)) long raw(long n, long a)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(0L), "d"(0L) : "rcx", "r11", "memory");
	return r;
}

typedef long (*fn_t)(void);

__attribute__((noinline)) static long reached_a(void) { return raw(168, (long)"/dg-none"); }   /* swapoff */
__attribute__((noinline)) static long reached_b(void) { return raw(207, 0); }                  /* io_destroy */
__attribute__((noinline)) static long inner_fn(void) { return raw(241, (long)"dg-none"); }     /* mq_unlink */
__attribute__((noinline)) static long set_fn(void) { return raw(212, 0); }                     /* lookup_dcookie */
__attribute__((noinline)) static long never_a(void) { return raw(163, (long)"/dg-none/x"); }   /* acct */
__attribute__((noinline)) static long never_b(void) { return raw(155, (long)"/dg-none"); }     /* pivot_root */

struct ops {
	const char *name;
	fn_t const *tbl;
};

static fn_t const used_tbl[] = {reached_a, reached_b};
static fn_t const never_tbl[] = {never_a, never_a};
static fn_t const inner_tbl[] = {inner_fn, inner_fn};
static const struct ops used_ops = {"used", inner_tbl};
static fn_t const never_inner[] = {never_b, never_b};
static const struct ops never_ops = {"never", never_inner};
static const struct ops *volatile opsp = &used_ops; /* main refers to opsp only */
static const struct ops *volatile never_opsp = &never_ops;
static fn_t const set_entry __attribute__((section("dgset"), used)) = set_fn;
extern fn_t const __start_dgset[], __stop_dgset[];

#ifdef WITH_LIB
struct lops {
	long (*f)(void);
};
extern const struct lops lib_ops;
long lib_call(void);
#endif

/* never called: the only code referring to never_tbl and never_opsp */
__attribute__((noinline)) long unused(int i)
{
	return never_tbl[i & 1]() + never_opsp->tbl[i & 1]();
}

int main(int argc, char **argv)
{
	int i = argc > 1 ? atoi(argv[1]) & 1 : 0;
	long r = used_tbl[i]();
	r += opsp->tbl[i]();
	for (fn_t const *p = __start_dgset; p < __stop_dgset; p++)
		r += (*p)();
#ifdef WITH_LIB
	r += lib_ops.f() + lib_call();
#endif
	printf("dataobj-ok %ld\n", r);
	return 0;
}
