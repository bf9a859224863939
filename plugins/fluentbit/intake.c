/* intake.c - bus messages to batch entries. The record is the decoded tree re-packed as
 * received, so Fluent Bit sees the same keys as vigil's JSON export; the EventTime comes
 * from the event's own "time" (nanoseconds), not from when we happened to read it.
 *
 * Two sources: the bus (nanomsg SUB: a subscriber that falls behind loses messages, which
 * the stamps' sequence numbers reveal), or the agent's journal pulled over the control
 * socket (nothing lost while the journal's bound holds; the pull waits while our own
 * backlog is long, so the journal is the spool). Either way a hole becomes a record of
 * its own, tagged vigil.delivery_loss, so the SIEM sees it where it sees the events. */
#include <errno.h>
#include <inttypes.h>
#include <nanomsg/nn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus/bus.h"
#include "encode/encode.h"
#include "intake.h"
#include "log.h"
#include "tag.h"

/* Pulls from the journal between these when there was nothing new (or no agent). */
#define PULL_IDLE_MS 100
#define PULL_RETRY_MS 1000

struct fwd_intake {
	struct vigil_sub *sub;		/* the bus, or */
	struct vigil_reader *reader;	/* the journal */
	int fd;
	const char *tag_tmpl;
	bool tag_node;			/* the template needs node_name */
	bool warned_time;
	bool warned_pull;
	uint64_t next_pull_ms;
	/* where a gap seen during a drain goes (set for the drain's length) */
	struct fwd_batcher *b;
	struct fwd_stats *st;
	uint64_t now_ms;
	uint32_t taken;
};

static void on_gap(void *ctx, uint64_t incarnation, uint64_t first, uint64_t last);

struct fwd_intake *intake_open(const char *url, long rcvbuf, const char *tag_tmpl)
{
	struct fwd_intake *in = calloc(1, sizeof(*in));
	size_t sz = sizeof(in->fd);
	int err, buf = (int)rcvbuf;

	if (!in)
		return NULL;
	in->fd = -1;
	in->tag_tmpl = tag_tmpl;
	in->tag_node = tag_uses_node(tag_tmpl);
	/* receive timeout 0: vigil_sub__recv never blocks, poll() does the waiting */
	in->sub = vigil_sub__open(url, 0);
	if (!in->sub) {
		err = -errno;
		goto err_out;
	}
	/* bus.h hands out the nanomsg socket for exactly this: waiting on it with others.
	 * NN_RCVFD is an fd that polls readable while a message waits. A larger receive
	 * buffer absorbs exec storms while we are busy writing; nanomsg drops (and the agent
	 * counts) what does not fit. */
	if (nn_setsockopt(vigil_sub__socket(in->sub), NN_SOL_SOCKET, NN_RCVBUF, &buf, sizeof(buf)) < 0 ||
	    nn_getsockopt(vigil_sub__socket(in->sub), NN_SOL_SOCKET, NN_RCVFD, &in->fd, &sz) < 0) {
		err = -errno;
		goto err_out;
	}
	vigil_sub__on_gap(in->sub, on_gap, in);
	return in;

err_out:
	intake_close(in);
	errno = -err;
	return NULL;
}

int intake_fd(const struct fwd_intake *in)
{
	return in->fd;
}

/* A hole: counted, logged, and shipped as a record of its own (tag vigil.delivery_loss):
 * {"delivery_loss": {"missed", "first_seq", "last_seq", "incarnation", "source"}, "time"}. */
static void on_gap(void *ctx, uint64_t incarnation, uint64_t first, uint64_t last)
{
	struct fwd_intake *in = ctx;
	char inc[17], when[40];
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_zone zone;
	msgpack_object rec;
	struct timespec ts;
	size_t off = 0;
	const char *source = in->reader ? "journal" : "bus";

	in->st->events_missed += last - first + 1;
	in->st->gaps++;
	fwd_warn("missed %" PRIu64 " events (seq %" PRIu64 "..%" PRIu64 " of agent incarnation %016" PRIx64
		 ") on the %s: shipped as a vigil.delivery_loss record", last - first + 1, first, last, incarnation,
		 source);
	snprintf(inc, sizeof(inc), "%016" PRIx64, incarnation);
	clock_gettime(CLOCK_REALTIME, &ts);
	vigil_format_time((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec, when);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	msgpack_pack_str_with_body(&pk, "delivery_loss", 13);
	msgpack_pack_map(&pk, 5);
	msgpack_pack_str_with_body(&pk, "missed", 6);
	msgpack_pack_uint64(&pk, last - first + 1);
	msgpack_pack_str_with_body(&pk, "first_seq", 9);
	msgpack_pack_uint64(&pk, first);
	msgpack_pack_str_with_body(&pk, "last_seq", 8);
	msgpack_pack_uint64(&pk, last);
	msgpack_pack_str_with_body(&pk, "incarnation", 11);
	msgpack_pack_str_with_body(&pk, inc, strlen(inc));
	msgpack_pack_str_with_body(&pk, "source", 6);
	msgpack_pack_str_with_body(&pk, source, strlen(source));
	msgpack_pack_str_with_body(&pk, "time", 4);
	msgpack_pack_str_with_body(&pk, when, strlen(when));
	msgpack_zone_init(&zone, 1024);
	if (msgpack_unpack(sb.data, sb.size, &off, &zone, &rec) != MSGPACK_UNPACK_SUCCESS ||
	    batcher_add(in->b, FWD_LOSS_TAG, evtime_now(), &rec, in->now_ms)) {
		in->st->encode_errors++;
	} else {
		in->st->loss_records++;
	}
	msgpack_zone_destroy(&zone);
	msgpack_sbuffer_destroy(&sb);
}

struct fwd_intake *intake_open_journal(const char *control_url, const char *tag_tmpl)
{
	struct vigil_reader_opts ro = { .sz = sizeof(ro), .start = VIGIL_READER_NOW };
	struct fwd_intake *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	in->fd = -1;
	in->tag_tmpl = tag_tmpl;
	in->tag_node = tag_uses_node(tag_tmpl);
	in->reader = vigil_reader__open(control_url, &ro);
	if (!in->reader) {
		free(in);
		return NULL;
	}
	vigil_reader__on_gap(in->reader, on_gap, in);
	return in;
}

uint64_t intake_pull_due(const struct fwd_intake *in)
{
	return in->reader ? in->next_pull_ms : UINT64_MAX;
}

/* The string at path as a NUL-terminated copy in out, or "" when absent. */
static const char *str_or_empty(const struct vigil_msg *m, const char *path, char *out, size_t size)
{
	if (vigil_msg__find_str(m, path, out, size) < 0)
		out[0] = '\0';
	return out;
}

static void take(struct fwd_intake *in, const struct vigil_msg *m, struct fwd_batcher *b, struct fwd_stats *st,
		 uint64_t now_ms)
{
	const msgpack_object *time = vigil_msg__find(m, "/time");
	struct fwd_evtime t;
	char tag[FWD_TAG_MAX], node[FWD_TAG_MAX];

	if (!time || time->type != MSGPACK_OBJECT_STR || evtime_parse(time->via.str.ptr, time->via.str.size, &t)) {
		t = evtime_now();
		st->time_fallbacks++;
		if (!in->warned_time) {
			fwd_warn("a %s event has no usable \"time\"; using the receive time (counted as "
				 "time_fallbacks)", vigil_msg__type_key(m));
			in->warned_time = true;
		}
	}
	/* a tag cut short still routes; only templates near FWD_TAG_MAX can hit it */
	tag_expand(in->tag_tmpl, vigil_msg__type_key(m),
		   in->tag_node ? str_or_empty(m, "/node_name", node, sizeof(node)) : NULL, tag);
	if (batcher_add(b, tag, t, vigil_msg__root(m), now_ms)) {
		st->encode_errors++;
		st->dropped_events++;
	}
}

/* vigil_journal_msg_fn: one message of the journal. */
static int take_pulled(void *ctx, uint64_t seq, const void *data, size_t len)
{
	struct fwd_intake *in = ctx;
	struct vigil_msg *m = vigil_msg__decode(data, len);

	in->taken++;
	if (!m) {
		in->st->events_malformed++;
		return 0;
	}
	in->st->events_in++;
	take(in, m, in->b, in->st, in->now_ms);
	vigil_msg__free(m);
	return 0;
}

/* One pull from the journal: up to max messages. The next one is due at once when the
 * batch came full, else after a pause. */
static int pull(struct fwd_intake *in, unsigned int max)
{
	int n;

	in->taken = 0;
	n = vigil_reader__pull(in->reader, take_pulled, in);
	if (n == -EACCES || n == -EPROTO) {
		if (!in->warned_pull)
			fwd_warn("the agent refuses its journal (%s): needs root and vigild --journal-dir; retrying",
				 strerror(-n));
		in->warned_pull = true;
	}
	if (n < 0) {
		in->st->journal_errors++;
		in->next_pull_ms = in->now_ms + PULL_RETRY_MS;
		return 0;	/* an agent away is waited for, as the bus does */
	}
	in->warned_pull = false;
	in->next_pull_ms = in->now_ms + ((unsigned int)n >= max ? 0 : PULL_IDLE_MS);
	return (int)in->taken;
}

int intake_drain(struct fwd_intake *in, struct fwd_batcher *b, struct fwd_stats *st, uint64_t now_ms,
		 unsigned int max)
{
	unsigned int taken = 0;
	int err = 0;

	in->b = b;
	in->st = st;
	in->now_ms = now_ms;
	if (in->reader)
		return pull(in, max);

	while (taken < max) {
		struct vigil_msg *m;
		void *data = NULL;
		int n = vigil_sub__recv(in->sub, &data);

		if (n == -ETIMEDOUT)
			break;
		if (n == -EINTR)
			continue;
		if (n < 0) {
			err = n;
			break;
		}
		taken++;
		m = vigil_msg__decode(data, (size_t)n);
		vigil_bus_msg_free(data);
		if (!m) {
			st->events_malformed++;
			continue;
		}
		st->events_in++;
		take(in, m, b, st, now_ms);
		vigil_msg__free(m);
	}
	return err ? err : (int)taken;
}

void intake_close(struct fwd_intake *in)
{
	if (!in)
		return;
	vigil_sub__close(in->sub);
	vigil_reader__close(in->reader);
	free(in);
}
