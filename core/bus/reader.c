/* reader.c - a consumer of the agent's journal (journal.c) over the control socket: the
 * lossless path. Each pull asks for the messages from the next seq on
 * ({"cmd": "events_read", ...}, answered by core/agent/control.c); the consumer's pace is
 * its own, and nothing it does holds up the agent's reader. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "bus_internal.h"
#include "encode/encode.h"

struct vigil_reader {
	char *url;
	struct vigil_reader_opts o;
	bool started;			/* a first reply fixed incarnation and next */
	uint64_t next;			/* the seq to ask for next */
	struct vigil_delivery seen;
	vigil_gap_fn on_gap;
	void *on_gap_ctx;
	struct vigil_buf req, reply;
};

struct vigil_reader *vigil_reader__open(const char *control_url, const struct vigil_reader_opts *o)
{
	struct vigil_reader *r = calloc(1, sizeof(*r));
	int err = -ENOMEM;

	if (!r)
		return NULL;
	if (o)
		memcpy(&r->o, o, o->sz < sizeof(r->o) ? o->sz : sizeof(r->o));
	r->o.sz = sizeof(r->o);
	if (!r->o.batch || r->o.batch > VIGIL_READER_MAX_BATCH)
		r->o.batch = 1000;
	if (r->o.timeout_ms <= 0)
		r->o.timeout_ms = 5000;
	r->url = strdup(control_url);
	if (!r->url)
		goto err_out;
	return r;

err_out:
	vigil_reader__close(r);
	errno = -err;
	return NULL;
}

void vigil_reader__on_gap(struct vigil_reader *r, vigil_gap_fn fn, void *ctx)
{
	r->on_gap = fn;
	r->on_gap_ctx = ctx;
}

void vigil_reader__delivery(const struct vigil_reader *r, struct vigil_delivery *out)
{
	*out = r->seen;
}

uint64_t vigil_reader__next(const struct vigil_reader *r)
{
	return r->next;
}

static void pack_key(msgpack_packer *pk, const char *k)
{
	msgpack_pack_str_with_body(pk, k, strlen(k));
}

/* {"cmd": "events_read", "max": N[, "from": seq, "incarnation": I]}: no "from" asks for
 * what is published from now on, "from": 0 for the oldest message kept. */
static int build_request(struct vigil_reader *r)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	bool from_now = !r->started && r->o.start == VIGIL_READER_NOW;
	int err;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, from_now ? 2 : 4);
	pack_key(&pk, "cmd");
	pack_key(&pk, "events_read");
	pack_key(&pk, "max");
	msgpack_pack_uint32(&pk, r->o.batch);
	if (!from_now) {
		pack_key(&pk, "from");
		msgpack_pack_uint64(&pk, r->started ? r->next : r->o.start == VIGIL_READER_SEQ ? r->o.from_seq : 0);
		pack_key(&pk, "incarnation");
		msgpack_pack_uint64(&pk, r->started ? r->seen.incarnation : r->o.incarnation);
	}
	vigil_buf_reset(&r->req);
	err = vigil_buf_append(&r->req, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	return err;
}

static int get_u64(const msgpack_object *map, const char *k, uint64_t *out)
{
	const msgpack_object *o = vigil_msgpack_get(map, k);

	if (!o || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return -EBADMSG;
	*out = o->via.u64;
	return 0;
}

/* A hole between what was expected and what came: counted, and told. */
static void gap(struct vigil_reader *r, uint64_t first, uint64_t last)
{
	r->seen.missed += last - first + 1;
	r->seen.gaps++;
	r->seen.last_gap_first = first;
	r->seen.last_gap_last = last;
	if (r->on_gap)
		r->on_gap(r->on_gap_ctx, r->seen.incarnation, first, last);
}

int vigil_reader__pull(struct vigil_reader *r, vigil_journal_msg_fn fn, void *ctx)
{
	msgpack_unpacked up;
	const msgpack_object *ok, *events, *e;
	uint64_t inc, next, from, seq, sinc;
	size_t off = 0, used = 0;
	uint32_t i;
	int err, n = 0;

	msgpack_unpacked_init(&up);
	err = build_request(r);
	if (err)
		goto out;
	vigil_buf_reset(&r->reply);
	err = r->o.tls ? vigil_tls_client__request(r->o.tls, r->url, r->req.data, r->req.len, &r->reply, r->o.timeout_ms)
		       : vigil_ctl_request(r->url, r->req.data, r->req.len, &r->reply, r->o.timeout_ms);
	if (err)
		goto out;
	err = -EBADMSG;
	if (vigil_msgpack_scan(r->reply.data, r->reply.len, &used) || used != r->reply.len ||
	    msgpack_unpack_next(&up, r->reply.data, r->reply.len, &off) != MSGPACK_UNPACK_SUCCESS)
		goto out;
	ok = vigil_msgpack_get(&up.data, "ok");
	if (!ok || ok->type != MSGPACK_OBJECT_BOOLEAN || !ok->via.boolean) {
		const msgpack_object *why = vigil_msgpack_get(&up.data, "error");

		if (why && why->type == MSGPACK_OBJECT_STR)
			pr_warn("reader: the agent at %s refused events_read: %.*s", r->url, (int)why->via.str.size,
				why->via.str.ptr);
		err = why && why->type == MSGPACK_OBJECT_STR && why->via.str.size >= 17 &&
		      !memcmp(why->via.str.ptr, "permission denied", 17) ? -EACCES : -EPROTO;
		goto out;
	}
	events = vigil_msgpack_get(&up.data, "events");
	if (get_u64(&up.data, "incarnation", &inc) || get_u64(&up.data, "next", &next) ||
	    get_u64(&up.data, "from", &from) || !events || events->type != MSGPACK_OBJECT_ARRAY)
		goto out;
	/* a new incarnation is a restarted agent: its stream starts again at 1 */
	if (r->started && inc != r->seen.incarnation) {
		r->seen.restarts++;
		r->next = 1;
	}
	if (!r->started || inc != r->seen.incarnation) {
		r->next = from;
		r->seen.first_seq = from;
	}
	r->seen.incarnation = inc;
	r->started = true;
	err = 0;
	for (i = 0; i < events->via.array.size; i++) {
		e = &events->via.array.ptr[i];
		if (e->type != MSGPACK_OBJECT_BIN || vigil_bus_stamp_read(e->via.bin.ptr, e->via.bin.size, &sinc, &seq) ||
		    sinc != inc || seq < r->next) {
			r->seen.unstamped++;	/* not the agent's journal: nothing to trust */
			continue;
		}
		if (seq > r->next)
			gap(r, r->next, seq - 1);
		r->next = seq + 1;
		r->seen.received++;
		r->seen.last_seq = seq;
		n++;
		err = fn(ctx, seq, e->via.bin.ptr, e->via.bin.size);
		if (err)
			goto out;
	}
	/* the journal says it has nothing kept below next: a hole at the end of the batch */
	if (next > r->next) {
		gap(r, r->next, next - 1);
		r->next = next;
	}
	err = n;
out:
	msgpack_unpacked_destroy(&up);
	return err;
}

void vigil_reader__close(struct vigil_reader *r)
{
	if (!r)
		return;
	vigil_buf_free(&r->req);
	vigil_buf_free(&r->reply);
	free(r->url);
	free(r);
}
