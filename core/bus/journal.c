/* journal.c - the agent's bounded, disk-backed journal of every message it published,
 * keyed by the delivery stamp's seq: the lossless path for consumers that must not lose
 * events (they pull from it over the control socket, see core/agent/control.c).
 *
 * Threads: the reader appends (a copy onto an in-memory list, bounded in bytes, then a
 * signal); a writer thread of our own moves the list into segment files. The reader
 * never waits on a disk or on a consumer: when the list is full the message is not
 * journaled and counted (dropped). Readers (the control thread) take the index lock and
 * pread; the writer takes it to add records and evict whole segments past the bound
 * (counted: evicted). Files: <dir>/<first seq, 20 digits>.seg, each record a 4-byte
 * length, an 8-byte seq (both little-endian) and the message. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus.h"

#define REC_HEAD 12
#define SEG_SUFFIX ".seg"

struct pending {
	struct pending *next;
	uint64_t seq;
	uint32_t len;
	char data[];
};

struct record {
	uint64_t seq;
	uint32_t off;		/* of its head in the segment */
	uint32_t len;
};

struct segment {
	int fd;
	uint64_t first_seq;
	uint64_t bytes;
	struct record *recs;
	size_t nrecs, cap;
};

struct vigil_journal {
	char *dir;
	int dirfd;
	uint64_t max_bytes, segment_bytes, queue_bytes;

	pthread_mutex_t queue_lock;	/* the reader's list */
	pthread_cond_t queue_cond;
	struct pending *head, **tail;
	uint64_t queued_bytes;
	bool stop;
	pthread_t thread;
	bool thread_started;

	pthread_mutex_t index_lock;	/* segments, and the counters below */
	struct segment *segs;		/* oldest first */
	size_t nsegs, segs_cap;
	uint64_t total_bytes;
	uint64_t written, evicted, write_errors, last_seq;
	_Atomic uint64_t dropped;	/* the list was full: never journaled */
};

static void segment_close(struct vigil_journal *j, struct segment *s, bool unlink_it)
{
	char name[32];

	if (s->fd >= 0)
		close(s->fd);
	if (unlink_it) {
		snprintf(name, sizeof(name), "%020" PRIu64 SEG_SUFFIX, s->first_seq);
		unlinkat(j->dirfd, name, 0);
	}
	free(s->recs);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

/* Remove the segment files a previous agent left: its incarnation is over, and no
 * consumer can ask for its seqs any more. */
static void remove_old_segments(struct vigil_journal *j)
{
	int fd = dup(j->dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	size_t n;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d))) {
		n = strlen(e->d_name);
		if (n > strlen(SEG_SUFFIX) && !strcmp(e->d_name + n - strlen(SEG_SUFFIX), SEG_SUFFIX))
			unlinkat(j->dirfd, e->d_name, 0);
	}
	closedir(d);
}

/* Evict the oldest segments until the bound holds again, always keeping the newest. */
static void enforce_bound(struct vigil_journal *j)
{
	while (j->nsegs > 1 && j->total_bytes > j->max_bytes) {
		j->total_bytes -= j->segs[0].bytes;
		j->evicted += j->segs[0].nrecs;
		segment_close(j, &j->segs[0], true);
		memmove(&j->segs[0], &j->segs[1], (j->nsegs - 1) * sizeof(j->segs[0]));
		j->nsegs--;
	}
}

/* The segment the next record of seq goes to: the newest, or a new one when it is full.
 * Under index_lock. NULL + errno. */
static struct segment *segment_for(struct vigil_journal *j, uint64_t seq, size_t len)
{
	struct segment *s = j->nsegs ? &j->segs[j->nsegs - 1] : NULL;
	char name[32];
	void *grown;

	if (s && s->bytes + REC_HEAD + len <= j->segment_bytes)
		return s;
	if (s && !s->nrecs)
		return s;	/* one oversized message gets a segment of its own */
	if (j->nsegs == j->segs_cap) {
		grown = realloc(j->segs, (j->segs_cap ? 2 * j->segs_cap : 16) * sizeof(*j->segs));
		if (!grown)
			return NULL;
		j->segs = grown;
		j->segs_cap = j->segs_cap ? 2 * j->segs_cap : 16;
	}
	s = &j->segs[j->nsegs];
	memset(s, 0, sizeof(*s));
	s->first_seq = seq;
	snprintf(name, sizeof(name), "%020" PRIu64 SEG_SUFFIX, seq);
	s->fd = openat(j->dirfd, name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (s->fd < 0)
		return NULL;
	j->nsegs++;
	return s;
}

static void put_le(unsigned char *p, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++, v >>= 8)
		p[i] = (unsigned char)v;
}

/* Write one message to the newest segment and index it. Under index_lock. */
static int write_one(struct vigil_journal *j, const struct pending *m)
{
	unsigned char head[REC_HEAD];
	struct segment *s = segment_for(j, m->seq, m->len);
	struct record *grown;
	ssize_t w1, w2;

	if (!s)
		return -errno;
	if (s->nrecs == s->cap) {
		grown = realloc(s->recs, (s->cap ? 2 * s->cap : 1024) * sizeof(*s->recs));
		if (!grown)
			return -ENOMEM;
		s->recs = grown;
		s->cap = s->cap ? 2 * s->cap : 1024;
	}
	put_le(head, m->len, 4);
	put_le(head + 4, m->seq, 8);
	w1 = pwrite(s->fd, head, REC_HEAD, (off_t)s->bytes);
	w2 = w1 == REC_HEAD ? pwrite(s->fd, m->data, m->len, (off_t)s->bytes + REC_HEAD) : -1;
	if (w2 != (ssize_t)m->len)
		return w2 < 0 ? -errno : -EIO;
	s->recs[s->nrecs++] = (struct record){.seq = m->seq, .off = (uint32_t)s->bytes, .len = m->len};
	s->bytes += REC_HEAD + m->len;
	j->total_bytes += REC_HEAD + m->len;
	j->written++;
	j->last_seq = m->seq;
	return 0;
}

static void *writer(void *arg)
{
	struct vigil_journal *j = arg;
	struct pending *list, *next;

	for (;;) {
		pthread_mutex_lock(&j->queue_lock);
		while (!j->head && !j->stop)
			pthread_cond_wait(&j->queue_cond, &j->queue_lock);
		if (!j->head && j->stop) {
			pthread_mutex_unlock(&j->queue_lock);
			break;
		}
		/* take the whole list: the reader appends to a fresh one meanwhile */
		list = j->head;
		j->head = NULL;
		j->tail = &j->head;
		j->queued_bytes = 0;
		pthread_mutex_unlock(&j->queue_lock);

		pthread_mutex_lock(&j->index_lock);
		for (; list; list = next) {
			next = list->next;
			if (write_one(j, list))
				j->write_errors++;	/* this message is not in the journal */
			free(list);
		}
		enforce_bound(j);
		pthread_mutex_unlock(&j->index_lock);
	}
	return NULL;
}

int vigil_journal__append(struct vigil_journal *j, uint64_t seq, const void *data, size_t len)
{
	struct pending *m;
	int err = 0;

	if (len > UINT32_MAX) {
		atomic_fetch_add(&j->dropped, 1);
		return -EMSGSIZE;
	}
	pthread_mutex_lock(&j->queue_lock);
	if (j->queued_bytes + len > j->queue_bytes) {
		err = -ENOBUFS;		/* the writer is behind by the whole queue */
		goto out;
	}
	m = malloc(sizeof(*m) + len);
	if (!m) {
		err = -ENOMEM;
		goto out;
	}
	m->next = NULL;
	m->seq = seq;
	m->len = (uint32_t)len;
	memcpy(m->data, data, len);
	*j->tail = m;
	j->tail = &m->next;
	j->queued_bytes += len;
	pthread_cond_signal(&j->queue_cond);
out:
	pthread_mutex_unlock(&j->queue_lock);
	if (err)
		atomic_fetch_add(&j->dropped, 1);
	return err;
}

/* The first record with seq >= from in segment s (binary search: seqs only grow). */
static size_t first_at_or_after(const struct segment *s, uint64_t from)
{
	size_t lo = 0, hi = s->nrecs, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->recs[mid].seq < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int vigil_journal__read(struct vigil_journal *j, uint64_t from, size_t max_msgs, size_t max_bytes,
			vigil_journal_msg_fn fn, void *ctx, struct vigil_journal_pos *pos)
{
	char *buf = NULL, *grown;
	size_t si, ri, n = 0, bytes = 0, cap = 0;
	uint64_t expect;
	int err = 0;

	memset(pos, 0, sizeof(*pos));
	pthread_mutex_lock(&j->index_lock);
	pos->oldest = j->nsegs && j->segs[0].nrecs ? j->segs[0].recs[0].seq : 0;
	pos->last = j->last_seq;
	if (!from)
		from = pos->oldest ? pos->oldest : j->last_seq + 1;
	expect = from;
	for (si = 0; si < j->nsegs && n < max_msgs; si++) {
		const struct segment *s = &j->segs[si];

		if (!s->nrecs || s->recs[s->nrecs - 1].seq < from)
			continue;
		for (ri = first_at_or_after(s, from); ri < s->nrecs && n < max_msgs; ri++) {
			const struct record *r = &s->recs[ri];

			if (n && bytes + r->len > max_bytes)
				goto done;
			if (r->len > cap) {
				grown = realloc(buf, r->len);
				if (!grown) {
					err = -ENOMEM;
					goto done;
				}
				buf = grown;
				cap = r->len;
			}
			if (pread(s->fd, buf, r->len, (off_t)r->off + REC_HEAD) != (ssize_t)r->len) {
				err = -EIO;
				goto done;
			}
			/* the seqs between the last one given and this one are not in the journal:
			 * evicted by the bound, or dropped before they reached it */
			pos->lost += r->seq - expect;
			err = fn(ctx, r->seq, buf, r->len);
			if (err)
				goto done;
			expect = r->seq + 1;
			n++;
			bytes += r->len;
		}
	}
done:
	pos->next = expect;
	pos->count = n;
	pthread_mutex_unlock(&j->index_lock);
	free(buf);
	return err;
}

void vigil_journal__stats(struct vigil_journal *j, struct vigil_journal_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!j)
		return;
	pthread_mutex_lock(&j->index_lock);
	out->written = j->written;
	out->evicted = j->evicted;
	out->write_errors = j->write_errors;
	out->bytes = j->total_bytes;
	out->segments = j->nsegs;
	out->oldest = j->nsegs && j->segs[0].nrecs ? j->segs[0].recs[0].seq : 0;
	out->last = j->last_seq;
	pthread_mutex_unlock(&j->index_lock);
	out->dropped = atomic_load(&j->dropped);
}

void vigil_journal__close(struct vigil_journal *j)
{
	struct pending *m, *next;
	size_t i;

	if (!j)
		return;
	if (j->thread_started) {
		pthread_mutex_lock(&j->queue_lock);
		j->stop = true;
		pthread_cond_signal(&j->queue_cond);
		pthread_mutex_unlock(&j->queue_lock);
		pthread_join(j->thread, NULL);
	}
	for (m = j->head; m; m = next) {
		next = m->next;
		free(m);
	}
	/* the incarnation ends: nobody can ask for its seqs again */
	for (i = 0; i < j->nsegs; i++)
		segment_close(j, &j->segs[i], true);
	free(j->segs);
	if (j->dirfd >= 0)
		close(j->dirfd);
	pthread_cond_destroy(&j->queue_cond);
	pthread_mutex_destroy(&j->queue_lock);
	pthread_mutex_destroy(&j->index_lock);
	free(j->dir);
	free(j);
}

struct vigil_journal *vigil_journal__open(const struct vigil_journal_opts *o)
{
	struct vigil_journal *j = calloc(1, sizeof(*j));
	struct stat st;
	int err;

	if (!j)
		return NULL;
	j->dirfd = -1;
	j->tail = &j->head;
	pthread_mutex_init(&j->queue_lock, NULL);
	pthread_cond_init(&j->queue_cond, NULL);
	pthread_mutex_init(&j->index_lock, NULL);
	j->max_bytes = o->max_bytes ? o->max_bytes : VIGIL_JOURNAL_DEFAULT_BYTES;
	/* eight segments to the bound: evicting one gives back an eighth; record offsets are
	 * 32-bit, so a segment stays below 1 GiB (more segments for a larger bound) */
	j->segment_bytes = j->max_bytes / 8 < (1u << 20) ? (1u << 20) : j->max_bytes / 8;
	if (j->segment_bytes > (1u << 30))
		j->segment_bytes = 1u << 30;
	j->queue_bytes = o->queue_bytes ? o->queue_bytes : (32u << 20);
	j->dir = strdup(o->dir ? o->dir : "");
	if (!j->dir || !*j->dir) {
		err = j->dir ? -EINVAL : -ENOMEM;
		goto err_out;
	}
	if (mkdir(j->dir, 0700) && errno != EEXIST) {
		err = -errno;
		pr_warn("journal: cannot create %s: %s", j->dir, strerror(-err));
		goto err_out;
	}
	j->dirfd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (j->dirfd < 0 || fstat(j->dirfd, &st)) {
		err = -errno;
		pr_warn("journal: cannot open %s: %s", j->dir, strerror(-err));
		goto err_out;
	}
	/* events hold every process's command line: the directory is the agent's alone */
	if (st.st_uid != geteuid() || (st.st_mode & 077)) {
		err = -EPERM;
		pr_warn("journal: %s must be owned by uid %u and closed to group and others (mode %03o)", j->dir,
			(unsigned int)geteuid(), (unsigned int)(st.st_mode & 0777));
		goto err_out;
	}
	remove_old_segments(j);
	err = -pthread_create(&j->thread, NULL, writer, j);
	if (err)
		goto err_out;
	j->thread_started = true;
	return j;

err_out:
	vigil_journal__close(j);
	errno = -err;
	return NULL;
}
