/* intake.c - bus messages to batch entries. The record is the decoded tree re-packed as
 * received, so Fluent Bit sees the same keys as vigil's JSON export; the EventTime comes
 * from the event's own "time" (nanoseconds), not from when we happened to read it. */
#include <errno.h>
#include <nanomsg/nn.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus.h"
#include "encode/encode.h"
#include "intake.h"
#include "log.h"
#include "tag.h"

struct fwd_intake {
	struct vigil_sub *sub;
	int fd;
	const char *tag_tmpl;
	bool tag_node;			/* the template needs node_name */
	bool warned_time;
};

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

int intake_drain(struct fwd_intake *in, struct fwd_batcher *b, struct fwd_stats *st, uint64_t now_ms,
		 unsigned int max)
{
	unsigned int taken = 0;
	int err = 0;

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
	free(in);
}
