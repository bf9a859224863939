/* rotate.c - the export file: JSON lines, rotated by size and by interval between two
 * records (never inside one), old files handed to the mill to gzip and prune. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export_internal.h"

/* Records are gathered and written with one write(2) per batch or per 64 KiB. */
#define WRITE_CHUNK (64 * 1024)

struct vigil_export_file {
	struct vigil_export_file_opts opts;
	char *path;
	struct export_names names;
	struct export_mill *mill;
	int fd;
	uint64_t size;			/* bytes in the live file, buffered ones included */
	uint64_t opened_ns;		/* CLOCK_MONOTONIC when the live file was started */
	uint64_t last_stamp_ms;		/* keeps backup names distinct and ordered */
	struct vigil_buf buf;
	uint64_t buf_lines;

	_Atomic uint64_t lines, bytes, rotations, write_errors;
};

static int open_live(struct vigil_export_file *f)
{
	struct stat st;

	f->fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, f->opts.perm);
	if (f->fd < 0)
		return -errno;
	f->size = fstat(f->fd, &st) ? 0 : (uint64_t)st.st_size;
	f->opened_ns = export_clock_ns(CLOCK_MONOTONIC);
	return 0;
}

/* Write out the buffer. On failure the buffered records are lost, and counted. */
static int drain(struct vigil_export_file *f)
{
	size_t off = 0;
	ssize_t n;
	int err = 0;

	while (off < f->buf.len) {
		n = write(f->fd, f->buf.data + off, f->buf.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)n;
	}
	if (err) {
		atomic_fetch_add(&f->write_errors, f->buf_lines);
		/* the file holds what it holds: count what really reached it */
		f->size -= f->buf.len - off;
	} else {
		atomic_fetch_add(&f->lines, f->buf_lines);
		atomic_fetch_add(&f->bytes, f->buf.len);
	}
	vigil_buf_reset(&f->buf);
	f->buf_lines = 0;
	return err;
}

/* The name of the next backup: the rotation time in UTC, to the millisecond, moved on by
 * a millisecond while it is taken (or not after the previous one). */
static void backup_name(struct vigil_export_file *f, char *out, size_t size)
{
	uint64_t ms = export_clock_ns(CLOCK_REALTIME) / 1000000ULL;
	char stamp[64], gz[4300];
	struct tm tm;
	time_t secs;

	if (ms <= f->last_stamp_ms)
		ms = f->last_stamp_ms + 1;
	for (;; ms++) {
		secs = (time_t)(ms / 1000);
		gmtime_r(&secs, &tm);
		snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d-%02d-%02d.%03u", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned int)(ms % 1000));
		/* a name too long for the buffers cannot be probed: take it as free */
		if (snprintf(out, size, "%s/%s%s%s", f->names.dir, f->names.prefix, stamp, f->names.ext) >= (int)size ||
		    snprintf(gz, sizeof(gz), "%s.gz", out) >= (int)sizeof(gz))
			break;
		if (access(out, F_OK) && access(gz, F_OK))
			break;
	}
	f->last_stamp_ms = ms;
}

int vigil_export_file__rotate(struct vigil_export_file *f)
{
	char backup[4200];
	int err, oerr;

	err = drain(f);
	if (!f->size)
		return err;
	backup_name(f, backup, sizeof(backup));
	close(f->fd);
	f->fd = -1;
	if (rename(f->path, backup)) {
		err = -errno;
		pr_warn("export: cannot rotate %s to %s: %s", f->path, backup, strerror(-err));
	}
	oerr = open_live(f);
	if (oerr) {
		pr_warn("export: cannot reopen %s: %s", f->path, strerror(-oerr));
		return oerr;
	}
	if (err)
		return err;
	atomic_fetch_add(&f->rotations, 1);
	return export_mill_push(f->mill, backup);
}

int vigil_export_file__write(struct vigil_export_file *f, const void *line, size_t len)
{
	int err;

	/* the live file could not be reopened after a rotation: try again */
	if (f->fd < 0) {
		err = open_live(f);
		if (err) {
			atomic_fetch_add(&f->write_errors, 1);
			return err;
		}
	}
	/* rotate between records: this one starts the next file if it would pass the limit */
	if (f->opts.max_bytes && f->size && f->size + len + 1 > f->opts.max_bytes)
		vigil_export_file__rotate(f);
	if (vigil_buf_append(&f->buf, line, len) || vigil_buf_append(&f->buf, "\n", 1)) {
		atomic_fetch_add(&f->write_errors, 1);
		return -ENOMEM;
	}
	f->size += len + 1;
	f->buf_lines++;
	if (f->buf.len >= WRITE_CHUNK) {
		err = drain(f);
		if (err)
			return err;
	}
	return 0;
}

int vigil_export_file__flush(struct vigil_export_file *f)
{
	uint64_t now;
	int err = 0;

	if (f->fd >= 0)
		err = drain(f);
	if (!f->opts.interval_ns)
		return err;
	now = export_clock_ns(CLOCK_MONOTONIC);
	if (now - f->opened_ns < f->opts.interval_ns)
		return err;
	if (!f->size) {
		f->opened_ns = now;	/* nothing to rotate: the next interval starts now */
		return err;
	}
	return vigil_export_file__rotate(f);
}

void vigil_export_file__set_rotation(struct vigil_export_file *f, uint64_t max_bytes, uint64_t interval_ns,
				     unsigned int max_backups)
{
	/* between two records: the next write checks the new size, the next flush the new
	 * interval (counted from when the live file was opened) */
	f->opts.max_bytes = max_bytes;
	f->opts.interval_ns = interval_ns;
	f->opts.max_backups = max_backups;
	export_mill_set_max_backups(f->mill, max_backups);
}

void vigil_export_file__rotation(const struct vigil_export_file *f, struct vigil_export_file_opts *out)
{
	*out = f->opts;
}

void vigil_export_file__stats(const struct vigil_export_file *f, struct vigil_export_file_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!f)
		return;
	out->lines = atomic_load(&f->lines);
	out->bytes = atomic_load(&f->bytes);
	out->rotations = atomic_load(&f->rotations);
	out->write_errors = atomic_load(&f->write_errors);
	out->compressed = export_mill_compressed(f->mill);
	out->removed = export_mill_removed(f->mill);
	out->compress_errors = export_mill_errors(f->mill);
}

void vigil_export_file__close(struct vigil_export_file *f)
{
	if (!f)
		return;
	if (f->fd >= 0) {
		drain(f);
		close(f->fd);
	}
	export_mill_stop(f->mill);	/* finishes pending compressions */
	vigil_buf_free(&f->buf);
	free(f->path);
	free(f);
}

struct vigil_export_file *vigil_export_file__open(const struct vigil_export_file_opts *opts)
{
	struct vigil_export_file *f = calloc(1, sizeof(*f));
	int err;

	if (!f)
		return NULL;
	f->fd = -1;
	if (!opts || !opts->path || !*opts->path) {
		err = -EINVAL;
		goto err_out;
	}
	memcpy(&f->opts, opts, opts->sz && opts->sz < sizeof(f->opts) ? opts->sz : sizeof(f->opts));
	f->opts.sz = sizeof(f->opts);
	if (!f->opts.perm)
		f->opts.perm = 0600;
	f->path = strdup(opts->path);
	if (!f->path) {
		err = -ENOMEM;
		goto err_out;
	}
	f->opts.path = f->path;
	err = export_names_init(&f->names, f->path);
	if (err)
		goto err_out;
	err = open_live(f);
	if (err) {
		pr_warn("export: cannot open %s: %s", f->path, strerror(-err));
		goto err_out;
	}
	f->mill = export_mill_start(&f->names, f->opts.max_backups, f->opts.compress, f->opts.perm);
	if (!f->mill) {
		err = -errno;
		goto err_out;
	}
	err = export_mill_recover(f->mill);
	if (err)
		goto err_out;
	return f;

err_out:
	vigil_export_file__close(f);
	errno = -err;
	return NULL;
}
