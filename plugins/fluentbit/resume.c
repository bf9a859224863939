/* resume.c - the journal position file: one line, "vigil-forward journal position
 * <incarnation hex> <next seq>". Written whole through a rename, so a crash leaves the old
 * position or the new one, never half of one. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>

#include "common/common.h"
#include "resume.h"

#define RESUME_MAGIC "vigil-forward journal position"

static int path_of(char *out, size_t size, const char *dir, const char *suffix)
{
	int n = snprintf(out, size, "%s/" FWD_RESUME_FILE "%s", dir, suffix);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int resume_load(const char *dir, uint64_t *incarnation, uint64_t *next)
{
	char path[4096], line[128], end;
	FILE *f;
	int n, err;

	err = path_of(path, sizeof(path), dir, "");
	if (err)
		return err;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fgets(line, sizeof(line), f) && !strncmp(line, RESUME_MAGIC " ", sizeof(RESUME_MAGIC)) ?
	    sscanf(line + sizeof(RESUME_MAGIC), "%16" SCNx64 " %" SCNu64 "%c", incarnation, next, &end) : 0;
	fclose(f);
	if (n != 3 || end != '\n' || !*incarnation || !*next)
		return -EBADMSG;
	return 0;
}

int resume_save(const char *dir, uint64_t incarnation, uint64_t next)
{
	char path[4096], tmp[4096], line[128];
	struct iovec iov;
	int n, err;

	err = path_of(path, sizeof(path), dir, "");
	if (!err)
		err = path_of(tmp, sizeof(tmp), dir, ".tmp");
	if (err)
		return err;
	n = snprintf(line, sizeof(line), RESUME_MAGIC " %016" PRIx64 " %" PRIu64 "\n", incarnation, next);
	iov = (struct iovec){ .iov_base = line, .iov_len = (size_t)n };
	return vigil_file_replace(tmp, path, 0600, &iov, 1);
}
