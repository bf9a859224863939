/* stats.c - the counters as JSON, from a const table of names and offsets. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/uio.h>

#include "stats.h"

#define F(name) { #name, offsetof(struct fwd_stats, name) }

static const struct {
	const char *name;
	size_t off;
} fields[] = {
	F(events_in), F(events_malformed), F(time_fallbacks), F(events_missed), F(gaps), F(loss_records),
	F(journal_errors), F(batches_sealed), F(encode_errors),
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
	struct iovec iov;
	char tmp[4096];
	int err;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	err = stats_json(s, &b);
	if (!err)
		err = vigil_buf_puts(&b, "\n");
	if (!err) {
		iov = (struct iovec){ b.data, b.len };
		err = vigil_file_replace(tmp, path, 0644, &iov, 1);
	}
	vigil_buf_free(&b);
	return err;
}
