/* A tiny TAP producer for the unit tests. */
#ifndef DG_TAP_H
#define DG_TAP_H
#include <stdio.h>
#include <string.h>

static int tap_n, tap_fail;

#define ok(cond, ...)                                                                           \
	do {                                                                                    \
		int c_ = !!(cond);                                                              \
		tap_n++;                                                                        \
		if (!c_)                                                                        \
			tap_fail++;                                                             \
		printf("%sok %d - ", c_ ? "" : "not ", tap_n);                                 \
		printf(__VA_ARGS__);                                                            \
		printf("\n");                                                                   \
		if (!c_)                                                                        \
			printf("#   failed at %s:%d\n", __FILE__, __LINE__);                      \
	} while (0)

#define is_str(got, want, ...)                                                                  \
	do {                                                                                    \
		const char *g_ = (got), *w_ = (want);                                           \
		int s_ = g_ && w_ && !strcmp(g_, w_);                                           \
		ok(s_, __VA_ARGS__);                                                            \
		if (!s_)                                                                        \
			printf("#   got '%s', want '%s'\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_fail ? 1 : 0;
}
#endif
