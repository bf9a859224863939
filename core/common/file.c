/* file.c - replace a file whole: readers see the old contents or the new, never a part. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common.h"

int vigil_file_replace(const char *tmp, const char *path, unsigned int mode, const struct iovec *iov, int iovcnt)
{
	size_t want = 0;
	int fd, i, err = 0;

	for (i = 0; i < iovcnt; i++)
		want += iov[i].iov_len;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	/* a short write to a regular file means the disk is full */
	errno = 0;
	if (writev(fd, iov, iovcnt) != (ssize_t)want)
		err = errno ? -errno : -ENOSPC;
	if (close(fd) && !err)
		err = -errno;
	/* rename makes the file appear whole or not at all if we die here */
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}
