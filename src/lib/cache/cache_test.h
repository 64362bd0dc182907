/* Test-only hook of the analysis cache, compiled in only when cache.c is built with
 * -DDG_CACHE_TEST_HOOKS (the Makefile does so for tests/tools/cachetest.c alone, never
 * for libdockergate or the dockergate binary): when set, called inside every write
 * transaction after each row is written, with the number of the batch (1, 2, ...) and
 * of the row in it, so a test can kill the process at a known point before COMMIT. */
#ifndef DG_CACHE_TEST_H
#define DG_CACHE_TEST_H
#include <stdint.h>
extern void (*dg_cache_test_row_hook)(uint64_t batch, uint64_t row);
#endif
