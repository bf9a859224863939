/* reply.c - what a Forward peer says back: bounded by vigil_msgpack_scan_prefix before
 * msgpack-c unpacks it, then a look at the shape. */
#include <errno.h>
#include <string.h>

#include "encode/encode.h"
#include "reply.h"

static bool str_is(const msgpack_object *o, const char *want)
{
	return o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(want) &&
	       !memcmp(o->via.str.ptr, want, o->via.str.size);
}

/* Classify one whole reply. msgpack-c's strings point into the input, so an ack's chunk
 * does too. */
static void classify(const msgpack_object *o, struct fwd_reply *out)
{
	const msgpack_object *chunk;

	out->kind = FWD_REPLY_OTHER;
	if (o->type == MSGPACK_OBJECT_ARRAY) {
		if (o->via.array.size >= 1 && str_is(&o->via.array.ptr[0], "HELO"))
			out->kind = FWD_REPLY_HELO;
		return;
	}
	chunk = vigil_msgpack_get(o, "ack");
	if (chunk && chunk->type == MSGPACK_OBJECT_STR) {
		out->kind = FWD_REPLY_ACK;
		out->chunk = chunk->via.str.ptr;
		out->chunk_len = chunk->via.str.size;
	}
}

int reply_next(const unsigned char *buf, size_t len, struct fwd_reply *out)
{
	msgpack_zone zone;
	msgpack_object o;
	size_t used = 0, off = 0;
	int err;

	if (!len)
		return 0;
	err = vigil_msgpack_scan_prefix(buf, len, FWD_REPLY_MAX, &used);
	if (err == -EAGAIN)
		return 0;
	if (err)
		return err;
	if (!msgpack_zone_init(&zone, 256))
		return -ENOMEM;
	if (msgpack_unpack((const char *)buf, used, &off, &zone, &o) == MSGPACK_UNPACK_SUCCESS)
		classify(&o, out);
	else
		err = -EBADMSG;		/* the scan let through what msgpack-c refuses: a bug */
	msgpack_zone_destroy(&zone);
	return err ? err : (int)used;
}
