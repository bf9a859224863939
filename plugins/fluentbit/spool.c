/* spool.c - the queue of sealed batches: memory first, then the disk spool, both capped. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "spool.h"

struct fwd_spool {
	struct frame *head, *tail;
	struct frame *first_disk;	/* first batch held only on disk; every later one is too */
	uint64_t next_seq;
	uint64_t mem_limit, disk_limit;
	const char *dir;
	int lock_fd;
	struct fwd_stats *st;
};

static void gauge_max(uint64_t *max, uint64_t v)
{
	if (v > *max)
		*max = v;
}

static void link_tail(struct fwd_spool *sp, struct frame *f)
{
	f->prev = sp->tail;
	f->next = NULL;
	if (sp->tail)
		sp->tail->next = f;
	else
		sp->head = f;
	sp->tail = f;
	if (!f->data && !sp->first_disk)
		sp->first_disk = f;
	sp->st->queued_batches++;
	sp->st->queued_events += f->nevents;
	if (f->data) {
		sp->st->mem_bytes += f->len;
		gauge_max(&sp->st->mem_bytes_max, sp->st->mem_bytes);
	}
	if (f->on_disk) {
		sp->st->disk_bytes += disk_size(f->len);
		gauge_max(&sp->st->disk_bytes_max, sp->st->disk_bytes);
	}
}

/* Unlink f from the queue, remove its file, free it. */
static void release(struct fwd_spool *sp, struct frame *f)
{
	if (sp->first_disk == f)
		sp->first_disk = f->next;
	if (f->prev)
		f->prev->next = f->next;
	else
		sp->head = f->next;
	if (f->next)
		f->next->prev = f->prev;
	else
		sp->tail = f->prev;
	sp->st->queued_batches--;
	sp->st->queued_events -= f->nevents;
	if (f->state != FRAME_QUEUED)
		sp->st->inflight--;
	if (f->data)
		sp->st->mem_bytes -= f->len;
	if (f->on_disk) {
		sp->st->disk_bytes -= disk_size(f->len);
		disk_unlink(sp->dir, f->seq);
	}
	free(f->data);
	free(f);
}

static void drop(struct fwd_spool *sp, struct frame *f, const char *why)
{
	sp->st->dropped_batches++;
	sp->st->dropped_events += f->nevents;
	fwd_debug("spool: dropped batch %llu (%u events): %s", (unsigned long long)f->seq, f->nevents, why);
	release(sp, f);
}

/* The oldest batch in memory that is not in flight: what the memory-only spool sheds. */
static struct frame *oldest_backlog_in_memory(struct fwd_spool *sp)
{
	struct frame *f;

	for (f = sp->head; f && f->data; f = f->next)
		if (f->state == FRAME_QUEUED)
			return f;
	return NULL;
}

/* Counted like a dropped batch, for a message that never became a frame. */
static void drop_new(struct fwd_spool *sp, struct frame *f, uint32_t nevents, const char *why)
{
	sp->st->dropped_batches++;
	sp->st->dropped_events += nevents;
	fwd_debug("spool: dropped a new batch (%u events): %s", nevents, why);
	if (f)
		free(f->data);
	free(f);
}

void spool_push(struct fwd_spool *sp, struct vigil_buf *msg, uint32_t nevents, const char *chunk,
		uint64_t first_seq)
{
	struct frame *f = calloc(1, sizeof(*f));
	uint64_t need;
	int err;

	if (!f) {
		vigil_buf_free(msg);
		drop_new(sp, NULL, nevents, "out of memory");
		return;
	}
	f->seq = sp->next_seq++;
	f->nevents = nevents;
	f->first_seq = first_seq;
	f->len = (uint32_t)msg->len;
	snprintf(f->chunk, sizeof(f->chunk), "%s", chunk ? chunk : "");
	f->data = (unsigned char *)msg->data;
	*msg = (struct vigil_buf){ 0 };

	/* memory, if nothing waits on disk ahead of it and it fits */
	if (!sp->first_disk && sp->st->mem_bytes + f->len <= sp->mem_limit)
		goto queue;
	if (!sp->dir) {
		struct frame *victim;

		while (sp->st->mem_bytes + f->len > sp->mem_limit && (victim = oldest_backlog_in_memory(sp)))
			drop(sp, victim, "memory spool full");
		/* all of memory in flight: the new batch is the one that cannot wait */
		if (sp->st->mem_bytes && sp->st->mem_bytes + f->len > sp->mem_limit) {
			drop_new(sp, f, nevents, "memory spool full of batches in flight");
			return;
		}
		goto queue;
	}
	/* disk: shed the oldest batches that are only on disk until the new one fits */
	need = disk_size(f->len);
	while (sp->st->disk_bytes + need > sp->disk_limit && sp->first_disk)
		drop(sp, sp->first_disk, "disk spool full");
	if (sp->st->disk_bytes + need > sp->disk_limit) {
		drop_new(sp, f, nevents, "disk spool full of batches in memory");
		return;
	}
	err = disk_write(sp->dir, f, f->data);
	if (err) {
		sp->st->disk_errors++;
		fwd_warn("spool: cannot write batch %llu to %s: %s", (unsigned long long)f->seq, sp->dir,
			 strerror(-err));
		drop_new(sp, f, nevents, "disk write failed");
		return;
	}
	sp->st->disk_writes++;
	f->on_disk = true;
	free(f->data);
	f->data = NULL;
queue:
	link_tail(sp, f);
}

struct frame *spool_next_queued(struct fwd_spool *sp)
{
	struct frame *f = sp->head, *next;
	unsigned char *data = NULL;
	int err;

	while (f && f->state != FRAME_QUEUED)
		f = f->next;
	while (f && !f->data) {
		/* f is sp->first_disk: bring it into memory if there is room (or memory is empty,
		 * so that a batch larger than the limit still moves) */
		if (sp->st->mem_bytes && sp->st->mem_bytes + f->len > sp->mem_limit)
			return NULL;
		err = disk_read(sp->dir, f, &data);
		if (err) {
			sp->st->disk_errors++;
			fwd_warn("spool: cannot read batch %llu from %s: %s", (unsigned long long)f->seq, sp->dir,
				 strerror(-err));
			next = f->next;
			drop(sp, f, "disk read failed");
			f = next;
			continue;
		}
		sp->st->disk_loads++;
		f->data = data;
		sp->first_disk = f->next;
		sp->st->mem_bytes += f->len;
		gauge_max(&sp->st->mem_bytes_max, sp->st->mem_bytes);
	}
	return f;
}

struct frame *spool_first(struct fwd_spool *sp)
{
	return sp->head;
}

void spool_set_state(struct fwd_spool *sp, struct frame *f, enum frame_state state)
{
	if ((f->state == FRAME_QUEUED) != (state == FRAME_QUEUED)) {
		if (state == FRAME_QUEUED)
			sp->st->inflight--;
		else
			sp->st->inflight++;
	}
	f->state = state;
}

void spool_remove(struct fwd_spool *sp, struct frame *f)
{
	release(sp, f);
}

uint64_t spool_min_seq(const struct fwd_spool *sp)
{
	const struct frame *f;
	uint64_t m = 0;

	for (f = sp->head; f; f = f->next)
		if (f->first_seq && (!m || f->first_seq < m))
			m = f->first_seq;
	return m;
}

bool spool_empty(const struct fwd_spool *sp)
{
	return !sp->head;
}

/* ---- open and close ---- */

struct found {
	struct frame *v;
	size_t n, cap;
	int err;
};

static void collect(void *ctx, const struct frame *f)
{
	struct found *fd = ctx;

	if (fd->n == fd->cap) {
		size_t cap = fd->cap ? 2 * fd->cap : 64;
		struct frame *v = realloc(fd->v, cap * sizeof(*v));

		if (!v) {
			fd->err = -ENOMEM;
			return;
		}
		fd->v = v;
		fd->cap = cap;
	}
	fd->v[fd->n++] = *f;
}

static int by_seq(const void *a, const void *b)
{
	const struct frame *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Queue the batch files a previous run left, oldest first, within the disk cap. */
static int reload(struct fwd_spool *sp)
{
	struct found fd = { 0 };
	size_t i;
	int err;

	err = disk_scan(sp->dir, collect, &fd);
	if (!err)
		err = fd.err;
	if (err)
		goto out;
	if (fd.n)		/* qsort(NULL, 0) is undefined */
		qsort(fd.v, fd.n, sizeof(*fd.v), by_seq);
	for (i = 0; i < fd.n; i++) {
		struct frame *f = malloc(sizeof(*f));

		if (!f) {
			err = -ENOMEM;
			goto out;
		}
		*f = fd.v[i];
		link_tail(sp, f);
		sp->next_seq = f->seq + 1;
	}
	while (sp->st->disk_bytes > sp->disk_limit && sp->first_disk)
		drop(sp, sp->first_disk, "disk spool over its cap at start");
	if (fd.n)
		fwd_info("spool: %zu batches (%llu events) left by a previous run in %s", fd.n,
			 (unsigned long long)sp->st->queued_events, sp->dir);
out:
	free(fd.v);
	return err;
}

struct fwd_spool *spool_open(const struct spool_opts *opts, struct fwd_stats *stats)
{
	struct fwd_spool *sp = calloc(1, sizeof(*sp));
	int err;

	if (!sp)
		return NULL;
	sp->lock_fd = -1;
	sp->st = stats;
	sp->mem_limit = opts->mem_limit;
	sp->disk_limit = opts->disk_limit;
	sp->dir = opts->dir;
	sp->next_seq = 1;
	if (sp->dir) {
		sp->lock_fd = disk_lock(sp->dir);
		if (sp->lock_fd < 0) {
			err = sp->lock_fd;
			fwd_warn("spool: cannot use %s: %s%s", sp->dir, strerror(-err),
				 err == -EWOULDBLOCK ? " (another vigil-forward holds it)" : "");
			goto err_out;
		}
		err = reload(sp);
		if (err) {
			fwd_warn("spool: cannot read %s: %s", sp->dir, strerror(-err));
			goto err_out;
		}
	}
	return sp;

err_out:
	spool_close(sp, false);
	errno = -err;
	return NULL;
}

/* Write the batches that exist only in memory to disk, within the cap. They are older than
 * any batch already on disk, so when not all fit, the newest are kept, as everywhere else. */
static void persist(struct fwd_spool *sp)
{
	struct frame *f;
	uint64_t n = 0;
	int err;

	for (f = sp->first_disk ? sp->first_disk->prev : sp->tail; f; f = f->prev) {
		if (f->on_disk)
			continue;
		if (sp->st->disk_bytes + disk_size(f->len) > sp->disk_limit) {
			sp->st->dropped_batches++;
			sp->st->dropped_events += f->nevents;
			continue;
		}
		err = disk_write(sp->dir, f, f->data);
		if (err) {
			sp->st->disk_errors++;
			sp->st->dropped_batches++;
			sp->st->dropped_events += f->nevents;
			fwd_warn("spool: cannot persist batch %llu: %s", (unsigned long long)f->seq, strerror(-err));
			continue;
		}
		f->on_disk = true;
		sp->st->disk_writes++;
		sp->st->disk_bytes += disk_size(f->len);
		gauge_max(&sp->st->disk_bytes_max, sp->st->disk_bytes);
		n++;
	}
	if (n)
		fwd_info("spool: %llu undelivered batches saved to %s", (unsigned long long)n, sp->dir);
}

/* Without a spool directory, what memory holds at exit is lost: count it and say so. */
static void discard(struct fwd_spool *sp)
{
	uint64_t batches = 0, events = 0;
	struct frame *f;

	for (f = sp->head; f; f = f->next) {
		batches++;
		events += f->nevents;
	}
	if (!batches)
		return;
	sp->st->dropped_batches += batches;
	sp->st->dropped_events += events;
	fwd_warn("spool: %llu undelivered batches (%llu events) lost at exit: no --spool-dir",
		 (unsigned long long)batches, (unsigned long long)events);
}

void spool_close(struct fwd_spool *sp, bool persist_rest)
{
	struct frame *f, *next;

	if (!sp)
		return;
	if (persist_rest && sp->dir && sp->lock_fd >= 0)
		persist(sp);
	else if (persist_rest && !sp->dir)
		discard(sp);
	/* free without touching the files: what is on disk stays for the next run */
	for (f = sp->head; f; f = next) {
		next = f->next;
		free(f->data);
		free(f);
	}
	if (sp->lock_fd >= 0)
		close(sp->lock_fd);
	free(sp);
}
