/* gzip.c - compress one rotated file with zlib: written beside it as .gz.tmp, renamed when
 * complete, so a .gz that exists is always whole. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#include "export_internal.h"

#define CHUNK (64 * 1024)

int export_gzip_file(const char *src, const char *dst, unsigned int perm)
{
	char tmp[4200];
	char *chunk = NULL;
	gzFile gz = NULL;
	int in = -1, out = -1, err = 0;
	ssize_t n;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", dst) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	chunk = malloc(CHUNK);
	if (!chunk)
		return -ENOMEM;
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		err = -errno;
		goto out;
	}
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, perm);
	if (out < 0) {
		err = -errno;
		goto out;
	}
	gz = gzdopen(out, "wb6");
	if (!gz) {
		err = -ENOMEM;
		goto out;
	}
	out = -1;	/* gz owns it now */
	while ((n = read(in, chunk, CHUNK)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		if (gzwrite(gz, chunk, (unsigned int)n) != (int)n) {
			err = -EIO;
			goto out;
		}
	}
	n = gzclose(gz);
	gz = NULL;
	if (n != Z_OK) {
		err = -EIO;
		goto out;
	}
	if (rename(tmp, dst))
		err = -errno;
out:
	if (gz)
		gzclose(gz);
	if (out >= 0)
		close(out);
	if (in >= 0)
		close(in);
	if (err)
		unlink(tmp);
	free(chunk);
	return err;
}
