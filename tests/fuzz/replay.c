/* dg-fuzz-replay FILE|DIR...: runs the fuzz target (fuzz.c) once on each file, as libFuzzer
 * would, without libFuzzer: built with the ASan+UBSan test build so that `make test` replays
 * every input fuzzing found (tests/fuzz/regress/) and the seed corpus. DG_FUZZ_TARGET fixes
 * the parser as it does for dg-fuzz. Prints "replayed N inputs"; a fault aborts under the
 * sanitizers; exit 2 for an unreadable argument. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static int run_file(const char *path, size_t *count)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "dg-fuzz-replay: %s: cannot open\n", path);
		return -1;
	}
	size_t cap = 1 << 16, n = 0;
	unsigned char *buf = malloc(cap);
	size_t got;
	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			unsigned char *nb = realloc(buf, cap *= 2);
			if (!nb) {
				free(buf);
				buf = NULL;
			}
			buf = nb;
		}
	}
	fclose(f);
	if (!buf)
		return -1;
	/* an exact-size copy, so that the sanitizer sees a read past the input */
	unsigned char *exact = malloc(n ? n : 1);
	if (n)
		memcpy(exact, buf, n);
	free(buf);
	fprintf(stderr, "dg-fuzz-replay: %s (%zu bytes)\n", path, n);
	LLVMFuzzerTestOneInput(exact, n);
	free(exact);
	++*count;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	LLVMFuzzerInitialize(&argc, &argv);
	size_t count = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "dg-fuzz-replay: %s: no such file or directory\n", argv[i]);
			return 2;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (run_file(argv[i], &count) < 0)
				return 2;
			continue;
		}
		DIR *d = opendir(argv[i]);
		if (!d)
			return 2;
		char **names = NULL;
		size_t n = 0;
		struct dirent *e;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			names = realloc(names, (n + 1) * sizeof *names);
			names[n++] = strdup(e->d_name);
		}
		closedir(d);
		if (n)
			qsort(names, n, sizeof *names, by_name);
		for (size_t k = 0; k < n; k++) {
			char path[4096];
			snprintf(path, sizeof path, "%s/%s", argv[i], names[k]);
			if (run_file(path, &count) < 0)
				return 2;
			free(names[k]);
		}
		free(names);
	}
	printf("replayed %zu inputs\n", count);
	return 0;
}
