/* reply.h - what a Forward peer says back: acks, read without trusting the peer.
 *
 * A peer only ever sends small maps ({"ack": chunk}, or HELO/PONG for shared-key auth),
 * so replies are parsed by a bounded scanner of our own rather than msgpack-c's unpacker,
 * which allocates each container from the count in its header before the bytes exist
 * (a hostile 5-byte array32 header asks for ~100 GB).
 */
#ifndef FWD_REPLY_H
#define FWD_REPLY_H

#include <stddef.h>

/* The longest reply we accept; an ack for a 24-character chunk id is 30 bytes. */
#define FWD_REPLY_MAX 4096

enum fwd_reply_kind {
	FWD_REPLY_ACK,		/* a map with "ack": str; chunk/chunk_len point into the input */
	FWD_REPLY_HELO,		/* ["HELO", ...]: the peer wants shared-key auth */
	FWD_REPLY_OTHER,	/* well-formed msgpack that is not an ack */
};

struct fwd_reply {
	enum fwd_reply_kind kind;
	const char *chunk;
	size_t chunk_len;
};

/* Parse the first reply in buf[0..len). Returns the bytes it took (> 0) and fills out; 0
 * when more bytes are needed; -EBADMSG when buf cannot start a reply (invalid msgpack, or
 * nesting or size beyond FWD_REPLY_MAX). */
int reply_next(const unsigned char *buf, size_t len, struct fwd_reply *out);

#endif
