/* intake.c - bus messages to batch entries. The record is the message's own bytes: they
 * are validated as libvigil's decoder would (well-formed msgpack, a root map whose first
 * entry is "<event type>": {map}, nothing trailing), the bus's delivery stamp is cut off
 * the root's end as the decoder hides it, and only the root's keys are read, so Fluent
 * Bit sees the same keys as vigil's JSON export and nothing is decoded or re-encoded per
 * event. The EventTime comes from the event's own "time" (nanoseconds), not from when we
 * happened to read it.
 *
 * Two sources: the bus (nanomsg SUB: a subscriber that falls behind loses messages, which
 * the stamps' sequence numbers reveal), or the agent's journal pulled over the control
 * socket (nothing lost while the journal's bound holds; the pull waits while our own
 * backlog is long, so the journal is the spool). Either way a hole becomes a record of
 * its own, tagged vigil.delivery_loss, so the SIEM sees it where it sees the events. */
#include <errno.h>
#include <inttypes.h>
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
	/* vigil_sub__fd polls readable while a message waits: we wait on it with others. A
	 * larger receive buffer absorbs exec storms while we are busy writing; what does not
	 * fit is dropped (and counted by the agent). */
	err = vigil_sub__set(in->sub, VIGIL_SUB_RECV_BUFFER, buf);
	in->fd = err ? -1 : vigil_sub__fd(in->sub);
	if (!err && in->fd < 0)
		err = in->fd;
	if (err)
		goto err_out;
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
	struct timespec ts;
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
	/* the record stands for the seqs it reports: a restart before its ack reports them again */
	if (!sb.data || batcher_add(in->b, FWD_LOSS_TAG, evtime_now(), NULL, 0, sb.data, sb.size,
				    in->reader ? first : 0, in->now_ms))
		in->st->encode_errors++;
	else
		in->st->loss_records++;
	msgpack_sbuffer_destroy(&sb);
}

struct fwd_intake *intake_open_journal(const char *control_url, const char *tag_tmpl, uint64_t incarnation,
				       uint64_t from_seq)
{
	struct vigil_reader_opts ro = { .sz = sizeof(ro), .start = VIGIL_READER_NOW };
	struct fwd_intake *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	in->fd = -1;
	in->tag_tmpl = tag_tmpl;
	in->tag_node = tag_uses_node(tag_tmpl);
	if (incarnation && from_seq) {
		ro.start = VIGIL_READER_SEQ;
		ro.from_seq = from_seq;
		ro.incarnation = incarnation;
	}
	in->reader = vigil_reader__open(control_url, &ro);
	if (!in->reader) {
		free(in);
		return NULL;
	}
	vigil_reader__on_gap(in->reader, on_gap, in);
	return in;
}

bool intake_position(const struct fwd_intake *in, uint64_t *incarnation, uint64_t *next)
{
	struct vigil_delivery d;

	if (!in || !in->reader || !vigil_reader__next(in->reader))
		return false;
	vigil_reader__delivery(in->reader, &d);
	*incarnation = d.incarnation;
	*next = vigil_reader__next(in->reader);
	return true;
}

uint64_t intake_pull_due(const struct fwd_intake *in)
{
	return in->reader ? in->next_pull_ms : UINT64_MAX;
}

/* What intake reads of a bus message: its root keys. Strings point into the message;
 * NULL when absent. A repeated key counts once, the first time, as libvigil's lookups do. */
struct root {
	const char *type, *time, *node;
	size_t type_len, time_len, node_len;
	bool time_seen, node_seen;
	/* the record: a map header for the entries that are the event's, then their bytes */
	uint8_t head[5];
	size_t head_len;
	const uint8_t *body;
	size_t body_len;
};

/* Stamp entries looked back over at the root's end; a root ending in more than this many
 * stamp keys keeps the ones before them (no producer writes more than two). */
#define STAMP_LOOKBACK 64

static uint32_t be_n(const uint8_t *p, size_t n)
{
	uint32_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* The string whose (validated) object starts at p, or NULL when it is not a str. */
static const char *str_at(const uint8_t *p, size_t *n)
{
	size_t h;

	if (p[0] >= 0xa0 && p[0] <= 0xbf)
		h = 1, *n = p[0] & 0x1f;
	else if (p[0] >= 0xd9 && p[0] <= 0xdb)
		h = (size_t)1 << (p[0] - 0xd9), *n = be_n(p + 1, h), h++;
	else
		return NULL;
	return (const char *)p + h;
}

static bool is_map(uint8_t c)
{
	return (c >= 0x80 && c <= 0x8f) || c == 0xde || c == 0xdf;
}

/* An integer msgpack-c unpacks as POSITIVE_INTEGER: unsigned forms, and signed ones whose
 * value is not negative. */
static bool is_positive_int(const uint8_t *p)
{
	return p[0] <= 0x7f || (p[0] >= 0xcc && p[0] <= 0xcf) || (p[0] >= 0xd0 && p[0] <= 0xd3 && !(p[1] & 0x80));
}

/* The bus's delivery stamp entry (core/bus/stamp.c), as vigil_msg__decode recognises it. */
static bool is_stamp(const char *k, size_t kn, const uint8_t *v)
{
	return k && is_positive_int(v) &&
	       ((kn == 9 && !memcmp(k, "vigil_seq", 9)) || (kn == 17 && !memcmp(k, "vigil_incarnation", 17)));
}

static size_t map_header(uint8_t *out, uint32_t n)
{
	if (n <= 15) {
		out[0] = (uint8_t)(0x80 | n);
		return 1;
	}
	if (n <= 0xffff) {
		out[0] = 0xde;
		out[1] = (uint8_t)(n >> 8);
		out[2] = (uint8_t)n;
		return 3;
	}
	out[0] = 0xdf;
	out[1] = (uint8_t)(n >> 24);
	out[2] = (uint8_t)(n >> 16);
	out[3] = (uint8_t)(n >> 8);
	out[4] = (uint8_t)n;
	return 5;
}

/* Validate one bus message and read its root keys. 0 or -EBADMSG. Each key and value is
 * checked by libvigil's own scan (vigil_msgpack_scan), one top-level object at a time.
 * tail (may be NULL) gets where the root's last children start, from which the bus reads
 * its delivery stamp (vigil_sub__note) without walking the message a second time. */
static int read_root(const uint8_t *p, size_t len, struct root *r, struct vigil_msgpack_tail *tail)
{
	size_t off, used, h, kn, vn, start[STAMP_LOOKBACK];
	bool stamp[STAMP_LOOKBACK];
	uint32_t n, i, keep;
	const char *k, *v;

	memset(r, 0, sizeof(*r));
	if (!len || !is_map(p[0]))
		return -EBADMSG;
	h = p[0] <= 0x8f ? 1 : p[0] == 0xde ? 3 : 5;
	if (len < h)
		return -EBADMSG;
	n = h == 1 ? p[0] & 0x0f : be_n(p + 1, h - 1);
	if (!n || n > (len - h) / 2)
		return -EBADMSG;
	if (tail)
		*tail = (struct vigil_msgpack_tail){ .len = len };
	for (i = 0, off = h; i < n; i++) {
		start[i % STAMP_LOOKBACK] = off;
		if (tail)
			tail->start[tail->items++ % VIGIL_MSGPACK_TAIL] = off;
		if (vigil_msgpack_scan(p + off, len - off, &used))
			return -EBADMSG;
		k = str_at(p + off, &kn);
		off += used;
		if (tail)
			tail->start[tail->items++ % VIGIL_MSGPACK_TAIL] = off;
		if (vigil_msgpack_scan(p + off, len - off, &used))
			return -EBADMSG;
		v = str_at(p + off, &vn);
		stamp[i % STAMP_LOOKBACK] = is_stamp(k, kn, p + off);
		if (!i) {
			/* the first entry names the event and holds its body */
			if (!k || !kn || !is_map(p[off]))
				return -EBADMSG;
			r->type = k;
			r->type_len = kn;
		}
		if (k && kn == 4 && !memcmp(k, "time", 4) && !r->time_seen) {
			r->time_seen = true;
			r->time = v;
			r->time_len = v ? vn : 0;
		} else if (k && kn == 9 && !memcmp(k, "node_name", 9) && !r->node_seen) {
			r->node_seen = true;
			r->node = v;
			r->node_len = v ? vn : 0;
		}
		off += used;
	}
	if (off != len)
		return -EBADMSG;
	/* the stamp is the transport's: cut it off the end, never the event's own first entry */
	for (keep = n; keep > 1 && n - keep < STAMP_LOOKBACK && stamp[(keep - 1) % STAMP_LOOKBACK]; keep--)
		;
	r->head_len = map_header(r->head, keep);
	r->body = p + h;
	r->body_len = (keep == n ? len : start[keep % STAMP_LOOKBACK]) - h;
	return 0;
}

/* s as a NUL-terminated copy in out (cut to fit; a tag is cut at FWD_TAG_MAX anyway). */
static const char *cstr(const char *s, size_t n, char *out, size_t size)
{
	if (!s)
		n = 0;
	if (n >= size)
		n = size - 1;
	memcpy(out, s ? s : "", n);
	out[n] = '\0';
	return out;
}

static void take(struct fwd_intake *in, const struct root *r, uint64_t seq, struct fwd_batcher *b,
		 struct fwd_stats *st, uint64_t now_ms)
{
	struct fwd_evtime t;
	char tag[FWD_TAG_MAX], node[FWD_TAG_MAX], type[FWD_TAG_MAX];

	cstr(r->type, r->type_len, type, sizeof(type));
	if (!r->time || evtime_parse(r->time, r->time_len, &t)) {
		t = evtime_now();
		st->time_fallbacks++;
		if (!in->warned_time) {
			fwd_warn("a %s event has no usable \"time\"; using the receive time (counted as "
				 "time_fallbacks)", type);
			in->warned_time = true;
		}
	}
	/* a tag cut short still routes; only templates near FWD_TAG_MAX can hit it */
	tag_expand(in->tag_tmpl, type, in->tag_node ? cstr(r->node, r->node_len, node, sizeof(node)) : NULL, tag);
	if (batcher_add(b, tag, t, r->head, r->head_len, r->body, r->body_len, seq, now_ms)) {
		st->encode_errors++;
		st->dropped_events++;
	}
}

/* vigil_journal_msg_fn: one message of the journal. */
static int take_pulled(void *ctx, uint64_t seq, const void *data, size_t len)
{
	struct fwd_intake *in = ctx;
	struct root r;

	in->taken++;
	if (read_root(data, len, &r, NULL)) {
		in->st->events_malformed++;
		return 0;
	}
	in->st->events_in++;
	take(in, &r, seq, in->b, in->st, in->now_ms);
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
		struct vigil_msgpack_tail tail;
		struct root r;
		void *data = NULL;
		int n = vigil_sub__take(in->sub, &data), bad;

		if (n == -ETIMEDOUT)
			break;
		if (n == -EINTR)
			continue;
		if (n < 0) {
			err = n;
			break;
		}
		taken++;
		/* one walk: ours validates and notes the tail, the bus reads its stamp from that
		 * (a hole becomes a loss record here, ahead of this event) */
		bad = read_root(data, (size_t)n, &r, &tail);
		vigil_sub__note(in->sub, data, (size_t)n, bad ? NULL : &tail);
		if (bad) {
			vigil_bus_msg_free(data);
			st->events_malformed++;
			continue;
		}
		st->events_in++;
		take(in, &r, 0, b, st, now_ms);
		vigil_bus_msg_free(data);
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
