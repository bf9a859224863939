/* spool.h - the bounded queue of sealed batches between the batcher and the peer.
 *
 * One FIFO, oldest first. Its front part is in memory (at most --mem-limit bytes, batches
 * in flight included); when memory is full, later batches go to files in --spool-dir (at
 * most --spool-max bytes), and come back into memory as acks free room, so order holds.
 * A batch leaves only when acked (or, with --ack off, when written in full). When the spool
 * is full the oldest batch of the backlog is dropped, never one in flight, and counted.
 * At exit, batches still in memory are written to the spool directory and reloaded by the
 * next start: at-least-once survives a restart (not a power cut: files are not fsync'ed).
 */
#ifndef FWD_SPOOL_H
#define FWD_SPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "frame.h"
#include "stats.h"

enum frame_state {
	FRAME_QUEUED,		/* waiting to be written */
	FRAME_WRITING,		/* partly written on the present connection */
	FRAME_SENT,		/* written in full, awaiting its ack */
};

/* One sealed batch: a complete Forward message. Owned by the spool. */
struct frame {
	struct frame *next, *prev;
	uint64_t seq;			/* spool order; also the file name on disk */
	uint32_t nevents;
	uint64_t first_seq;		/* its lowest journal seq; 0: none, or loaded from disk */
	uint32_t len;			/* bytes of the message */
	char chunk[FWD_CHUNK_LEN + 1];	/* "" with --ack off */
	unsigned char *data;		/* NULL while the batch lives only on disk */
	bool on_disk;			/* a spool file holds it (until acked) */
	bool resend;			/* written before, on an earlier connection */
	enum frame_state state;
	uint64_t sent_ms;		/* monotonic ms when written (FRAME_SENT) */
};

struct fwd_spool;

struct spool_opts {
	uint64_t mem_limit;
	uint64_t disk_limit;
	const char *dir;		/* NULL: memory only; borrowed */
};

/* Open the spool; with a directory, create it if needed, lock it (one forwarder per spool)
 * and queue the batch files a previous run left there. stats is borrowed and kept up to
 * date. NULL + errno. */
struct fwd_spool *spool_open(const struct spool_opts *opts, struct fwd_stats *stats);
/* Free the spool. With persist, batches that are only in memory are written to the
 * directory first, so the next start sends them; without a directory they are counted as
 * dropped. Accepts NULL. */
void spool_close(struct fwd_spool *sp, bool persist);

/* Queue a sealed message; msg->data is taken (msg is left empty); first_seq as in struct
 * frame. Never fails to the caller: when nothing can hold it, a batch is dropped and
 * counted. */
void spool_push(struct fwd_spool *sp, struct vigil_buf *msg, uint32_t nevents, const char *chunk,
		uint64_t first_seq);
/* The lowest first_seq of the batches not yet delivered, or 0 when none has one. */
uint64_t spool_min_seq(const struct fwd_spool *sp);
/* The oldest queued batch, loaded into memory, or NULL when there is none or memory has no
 * room for the next one yet. */
struct frame *spool_next_queued(struct fwd_spool *sp);
/* The oldest batch of all, or NULL; and the next one after f. For walking the queue. */
struct frame *spool_first(struct fwd_spool *sp);
/* Move f between queued, being written and sent (keeps the in-flight gauge). */
void spool_set_state(struct fwd_spool *sp, struct frame *f, enum frame_state state);
/* Remove a delivered batch (its file too). f is freed. */
void spool_remove(struct fwd_spool *sp, struct frame *f);
bool spool_empty(const struct fwd_spool *sp);

/* ---- ack.c: the batches in flight ---- */

/* f was written in full at now_ms: it awaits its ack. */
void ack_sent(struct fwd_spool *sp, struct frame *f, uint64_t now_ms);
/* An ack arrived: remove the batch it names and return its event count, or -ENOENT when no
 * batch in flight has that chunk id. */
int ack_settle(struct fwd_spool *sp, const char *chunk, size_t len);
/* When the oldest batch in flight times out, or UINT64_MAX when none is in flight. */
uint64_t ack_deadline(struct fwd_spool *sp, uint64_t timeout_ms);
/* The connection is gone: every batch written or being written is queued again, in order,
 * to be resent. */
void ack_requeue_all(struct fwd_spool *sp);

/* ---- disk.c: one file per batch in the spool directory ---- */

/* Take an exclusive lock on dir (created 0700 if missing). Returns the lock fd or -errno. */
int disk_lock(const char *dir);
/* Bytes a batch of len bytes takes on disk. */
uint64_t disk_size(uint32_t len);
/* Write f (len bytes of data) as dir/<seq>.vfw, via a temporary file and rename. 0/-errno. */
int disk_write(const char *dir, const struct frame *f, const unsigned char *data);
/* Read f's file back; *data is malloc'ed (caller frees). 0 or -errno (-EBADMSG if corrupt). */
int disk_read(const char *dir, const struct frame *f, unsigned char **data);
void disk_unlink(const char *dir, uint64_t seq);
/* Call found() for every valid batch file in dir, in no particular order; corrupt files and
 * leftover temporaries are removed. found's frame is a template to copy. 0 or -errno. */
int disk_scan(const char *dir, void (*found)(void *ctx, const struct frame *f), void *ctx);

#endif
