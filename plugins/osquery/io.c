/* io.c - Thrift's buffered transport on AF_UNIX stream sockets: no frame, so a message
 * is read by parsing what has arrived until the parser accepts it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ext.h"

/* Bytes read per poll wake-up. */
#define READ_CHUNK 65536

/* Wait for events on fd until deadline, in EXT_POLL_MS slices so a stop is seen. */
static int wait_fd(int fd, short events, int64_t deadline, _Atomic int *stop)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int64_t left;
	int n;

	for (;;) {
		if (stop && atomic_load(stop))
			return -ECANCELED;
		left = deadline - (int64_t)mono_now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, (int)(left < EXT_POLL_MS ? left : EXT_POLL_MS));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

int io_read_message(int fd, struct vigil_buf *in, int timeout_ms, _Atomic int *stop, io_parse_fn parse,
		    void *arg, size_t *used)
{
	int64_t deadline = (int64_t)mono_now_ms() + timeout_ms;
	char chunk[READ_CHUNK];
	ssize_t n;
	int err;

	for (;;) {
		/* bytes left from the previous message may already hold this one */
		err = in->len ? parse(in->data, in->len, arg, used) : -EAGAIN;
		if (err != -EAGAIN)
			break;
		err = wait_fd(fd, POLLIN, deadline, stop);
		if (err)
			break;
		n = recv(fd, chunk, sizeof(chunk), 0);
		if (n == 0) {
			err = -ECONNRESET;
			break;
		}
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			err = -errno;
			break;
		}
		err = vigil_buf_append(in, chunk, (size_t)n);
		if (err)
			break;
	}
	return err;
}

int io_write_all(int fd, const void *p, size_t n, int timeout_ms)
{
	int64_t deadline = (int64_t)mono_now_ms() + timeout_ms;
	const char *c = p;
	ssize_t k;
	int err = 0;

	while (n) {
		k = send(fd, c, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k > 0) {
			c += k;
			n -= (size_t)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno != EAGAIN) {
			err = -errno;
			break;
		}
		err = wait_fd(fd, POLLOUT, deadline, NULL);
		if (err)
			break;
	}
	return err;
}

static int unix_addr(const char *path, struct sockaddr_un *addr)
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(addr->sun_path))
		return -ENAMETOOLONG;
	strcpy(addr->sun_path, path);
	return 0;
}

int io_connect_unix(const char *path)
{
	struct sockaddr_un addr;
	int fd = -1, err;

	err = unix_addr(path, &addr);
	if (err)
		goto err_out;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		goto err_out;
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		err = -errno;
		goto err_out;
	}
	return fd;

err_out:
	if (fd >= 0)
		close(fd);
	return err;
}

int io_listen_unix(const char *path)
{
	struct sockaddr_un addr;
	int fd = -1, err;

	err = unix_addr(path, &addr);
	if (err)
		goto err_out;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		err = -errno;
		goto err_out;
	}
	/* a socket file left by an extension that died with our uuid is stale */
	unlink(path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 128) < 0) {
		err = -errno;
		goto err_out;
	}
	/* only the manager's user (osqueryd runs us as itself) calls in */
	chmod(path, 0600);
	return fd;

err_out:
	if (fd >= 0)
		close(fd);
	return err;
}
