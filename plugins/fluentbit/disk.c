/* disk.c - the disk spool: one file per batch, "<seq>.vfw", a small header then the
 * Forward message as it goes on the wire, so a reloaded batch is resent byte for byte
 * (same chunk id: a peer that deduplicates on it can). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"
#include "spool.h"

#define DISK_MAGIC "VFWD"
#define DISK_VERSION 1

/* Host byte order: the spool is private to this machine. */
struct disk_hdr {
	char magic[4];
	uint32_t version;
	uint32_t nevents;
	uint32_t len;
	char chunk[FWD_CHUNK_LEN];	/* not NUL-terminated; zeros with --ack off */
};

int disk_lock(const char *dir)
{
	char path[4096];
	int fd = -1, err;

	if (mkdir(dir, 0700) && errno != EEXIST) {
		err = -errno;
		goto err_out;
	}
	if (snprintf(path, sizeof(path), "%s/.lock", dir) >= (int)sizeof(path)) {
		err = -ENAMETOOLONG;
		goto err_out;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		goto err_out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		err = -errno;
		goto err_out;
	}
	return fd;

err_out:
	if (fd >= 0)
		close(fd);
	return err;
}

uint64_t disk_size(uint32_t len)
{
	return sizeof(struct disk_hdr) + (uint64_t)len;
}

static int name(char *out, size_t size, const char *dir, uint64_t seq, const char *suffix)
{
	return snprintf(out, size, "%s/%020" PRIu64 "%s", dir, seq, suffix) >= (int)size ? -ENAMETOOLONG : 0;
}

int disk_write(const char *dir, const struct frame *f, const unsigned char *data)
{
	struct disk_hdr h = { .magic = DISK_MAGIC, .version = DISK_VERSION, .nevents = f->nevents,
			      .len = f->len };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)data, f->len } };
	char tmp[4096], path[4096];
	int err;

	memcpy(h.chunk, f->chunk, strlen(f->chunk));
	err = name(tmp, sizeof(tmp), dir, f->seq, ".tmp");
	if (!err)
		err = name(path, sizeof(path), dir, f->seq, ".vfw");
	return err ? err : vigil_file_replace(tmp, path, 0600, iov, 2);
}

/* Open a batch file and check its header and its size. Fills h; the file offset is left at
 * the message. Returns the fd or -errno (-EBADMSG when the file is not a whole batch). */
static int open_checked(const char *path, struct disk_hdr *h)
{
	struct stat st;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto err_out;
	}
	/* every event takes bytes of the message, so more events than bytes is a corrupt
	 * header; a count past INT_MAX came back negative from ack_settle, and the ack of
	 * that batch was counted as unknown (found by tests/fuzz fwd_spool_fuzz) */
	if (fstat(fd, &st) || read(fd, h, sizeof(*h)) != (ssize_t)sizeof(*h) || memcmp(h->magic, DISK_MAGIC, 4) ||
	    h->version != DISK_VERSION || (uint64_t)st.st_size != disk_size(h->len) || !h->nevents ||
	    h->nevents > h->len || h->nevents > INT_MAX) {
		err = -EBADMSG;
		goto err_out;
	}
	return fd;

err_out:
	if (fd >= 0)
		close(fd);
	return err;
}

int disk_read(const char *dir, const struct frame *f, unsigned char **data)
{
	struct disk_hdr h;
	char path[4096];
	unsigned char *buf = NULL;
	int fd = -1, err;

	err = name(path, sizeof(path), dir, f->seq, ".vfw");
	if (err)
		goto out;
	fd = open_checked(path, &h);
	if (fd < 0) {
		err = fd;
		goto out;
	}
	if (h.len != f->len) {
		err = -EBADMSG;
		goto out;
	}
	buf = malloc(f->len ? f->len : 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	if (read(fd, buf, f->len) != (ssize_t)f->len) {
		err = -EBADMSG;
		goto out;
	}
	*data = buf;
	buf = NULL;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return err;
}

void disk_unlink(const char *dir, uint64_t seq)
{
	char path[4096];

	if (!name(path, sizeof(path), dir, seq, ".vfw") && unlink(path) && errno != ENOENT)
		fwd_warn("spool: cannot remove %s: %s", path, strerror(errno));
}

int disk_scan(const char *dir, void (*found)(void *ctx, const struct frame *f), void *ctx)
{
	struct dirent *de;
	DIR *d = NULL;
	int err = 0;

	d = opendir(dir);
	if (!d) {
		err = -errno;
		goto out;
	}
	while ((de = readdir(d))) {
		struct frame f = { 0 };
		struct disk_hdr h;
		char path[4096], *end = NULL;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue;
		f.seq = strtoull(de->d_name, &end, 10);
		if (end == de->d_name + 20 && !strcmp(end, ".tmp")) {
			unlink(path);		/* a write that died before its rename */
			continue;
		}
		if (end != de->d_name + 20 || strcmp(end, ".vfw"))
			continue;		/* not ours: leave it alone */
		fd = open_checked(path, &h);
		if (fd < 0) {
			fwd_warn("spool: removing unreadable batch file %s", path);
			unlink(path);
			continue;
		}
		close(fd);
		f.nevents = h.nevents;
		f.len = h.len;
		memcpy(f.chunk, h.chunk, FWD_CHUNK_LEN);
		f.chunk[FWD_CHUNK_LEN] = '\0';
		f.on_disk = true;
		found(ctx, &f);
	}
out:
	if (d)
		closedir(d);
	return err;
}
