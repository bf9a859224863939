/* stats.c - the counters as JSON, from a const table of names and offsets. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include "stats.h"

#define F(name) { #name, offsetof(struct fwd_stats, name) }

static const struct {
	const char *name;
	size_t off;
} fields[] = {
	F(events_in), F(events_malformed), F(time_fallbacks), F(batches_sealed), F(encode_errors),
	F(batches_sent), F(batches_resent), F(bytes_sent), F(batches_acked), F(events_acked),
	F(acks_unknown), F(replies_bad), F(replies_garbage), F(ack_timeouts), F(connects),
	F(connect_failures), F(disconnects), F(dropped_batches), F(dropped_events), F(disk_writes),
	F(disk_loads), F(disk_errors), F(mem_bytes), F(mem_bytes_max), F(disk_bytes), F(disk_bytes_max),
	F(queued_batches), F(queued_events), F(inflight), F(connected),
};

int stats_json(const struct fwd_stats *s, struct vigil_buf *out)
{
	size_t i;
	int err = 0;

	for (i = 0; i < VIGIL_ARRAY_SIZE(fields) && !err; i++)
		err = vigil_buf_printf(out, "%s\"%s\":%llu", i ? "," : "{", fields[i].name,
				       (unsigned long long)*(const uint64_t *)((const char *)s + fields[i].off));
	if (!err)
		err = vigil_buf_puts(out, "}");
	return err;
}

int stats_write(const struct fwd_stats *s, const char *path)
{
	struct vigil_buf b = { 0 };
	char tmp[4096];
	int fd = -1, err;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		err = -ENAMETOOLONG;
		goto out;
	}
	err = stats_json(s, &b);
	if (err || (err = vigil_buf_puts(&b, "\n")))
		goto out;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	if (write(fd, b.data, b.len) != (ssize_t)b.len) {
		err = errno ? -errno : -EIO;
		goto out;
	}
	if (close(fd)) {
		fd = -1;
		err = -errno;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path))
		err = -errno;
out:
	if (fd >= 0)
		close(fd);
	vigil_buf_free(&b);
	return err;
}
