/* replay.c - the corpus replay: a main() for a fuzz target built with the normal compiler.
 *
 * Runs LLVMFuzzerTestOneInput once on every file named on the command line, and on every
 * regular file of every directory named (sorted, dot files skipped), as libFuzzer would
 * run them, so the plain and the ASan/UBSan builds push every seed and every kept crash
 * case through the same code in ctest. Fails when an input cannot be read, or when no
 * input was found at all (a corpus that went missing must not pass unnoticed).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional, as in libFuzzer: targets that set up once define it. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int run_file(const char *path)
{
	uint8_t *buf = NULL;
	long n;
	FILE *f = fopen(path, "rb");
	int rc = -1;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		goto out;
	/* one spare byte, never read: malloc(0) may return NULL */
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		goto out;
	/* an exact-size copy, so ASan sees a read one past the input as libFuzzer would */
	if (n) {
		uint8_t *exact = malloc((size_t)n);

		if (!exact)
			goto out;
		memcpy(exact, buf, (size_t)n);
		LLVMFuzzerTestOneInput(exact, (size_t)n);
		free(exact);
	} else {
		LLVMFuzzerTestOneInput(buf, 0);
	}
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "replay: cannot read %s\n", path);
	free(buf);
	if (f)
		fclose(f);
	return rc;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Every regular file of dir; adds to *count. */
static int run_dir(const char *dir, int *count)
{
	struct dirent **names = NULL;
	char path[4096];
	struct stat st;
	int n, i, rc = 0;

	n = scandir(dir, &names, NULL, by_name);
	if (n < 0) {
		fprintf(stderr, "replay: cannot read directory %s\n", dir);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.' &&
		    snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name) < (int)sizeof(path) &&
		    !stat(path, &st) && S_ISREG(st.st_mode)) {
			if (run_file(path))
				rc = -1;
			else
				(*count)++;
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	struct stat st;
	int i, count = 0, rc = 0;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (!stat(argv[i], &st) && S_ISDIR(st.st_mode)) {
			if (run_dir(argv[i], &count))
				rc = 1;
		} else if (run_file(argv[i])) {
			rc = 1;
		} else {
			count++;
		}
	}
	printf("%d inputs replayed\n", count);
	if (!count) {
		fprintf(stderr, "replay: no inputs\n");
		rc = 1;
	}
	return rc;
}
