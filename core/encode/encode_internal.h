/* encode_internal.h - what the encode files share: an append-only writer with a sticky
 * error, UTF-8 decoding, and the nesting limit. Not part of libvigil's interface. */
#ifndef VIGIL_ENCODE_INTERNAL_H
#define VIGIL_ENCODE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "encode.h"

/* Deepest container nesting any encode function accepts. msgpack-c's C unpacker keeps a
 * fixed stack of MSGPACK_EMBED_STACK_SIZE (32) open containers; our events nest 5 deep
 * (root, body, process, ns, uts), so 32 leaves room for kprobe arguments without letting
 * hostile input recurse without bound. */
#define ENCODE_MAX_DEPTH 32

/* Appends to buf until the first failure, then ignores further writes; encode_out_end()
 * reports that failure and cuts buf back to where it stood, so a failed render leaves the
 * caller's buffer as it was. Lets a renderer read as a list of writes. */
struct encode_out {
	struct vigil_buf *buf;
	size_t start;
	int err;
};

static inline void encode_out_begin(struct encode_out *o, struct vigil_buf *buf)
{
	o->buf = buf;
	o->start = buf->len;
	o->err = 0;
}

static inline void encode_put(struct encode_out *o, const void *data, size_t len)
{
	if (!o->err)
		o->err = vigil_buf_append(o->buf, data, len);
}

static inline void encode_puts(struct encode_out *o, const char *s)
{
	encode_put(o, s, strlen(s));
}

static inline void encode_fail(struct encode_out *o, int err)
{
	if (!o->err)
		o->err = err;
}

static inline int encode_out_end(struct encode_out *o)
{
	if (o->err) {
		o->buf->len = o->start;
		if (o->buf->data)
			o->buf->data[o->start] = '\0';
	}
	return o->err;
}

/* Decode one UTF-8 sequence from s (n bytes available, n > 0) into *cp. Returns its length,
 * or 0 when the bytes are not valid UTF-8 (overlong forms, surrogates and values past
 * U+10FFFF included), in which case the caller treats s[0] as one stray byte. */
size_t encode_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

#endif
