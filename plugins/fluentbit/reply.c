/* reply.c - a flat, bounded msgpack scanner for peer replies, then a look at the shape. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "reply.h"

/* Depth is not tracked, only a count of objects still owed; with every object at least one
 * byte, more owed than FWD_REPLY_MAX means the reply cannot fit, so it is refused early. */

static uint64_t be(const unsigned char *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* The object header at p (avail > 0 bytes): its length, the payload bytes after it and the
 * child objects after that. Returns the header length, 0 when it is cut short, or -EBADMSG
 * for 0xc1, the one byte msgpack never uses. */
static int header(const unsigned char *p, size_t avail, uint64_t *payload, uint64_t *items)
{
	/* 0xc4..0xdf: length-field bytes, fixed payload bytes, and whether the length counts
	 * bytes (1), objects (1 for arrays) or pairs (2 for maps) */
	static const struct {
		uint8_t lenbytes, fixed, per_byte, per_item;
	} m[32] = {
		[0x04] = { 1, 0, 1, 0 }, [0x05] = { 2, 0, 1, 0 }, [0x06] = { 4, 0, 1, 0 },	/* bin */
		[0x07] = { 1, 1, 1, 0 }, [0x08] = { 2, 1, 1, 0 }, [0x09] = { 4, 1, 1, 0 },	/* ext */
		[0x0a] = { 0, 4, 0, 0 }, [0x0b] = { 0, 8, 0, 0 },				/* float */
		[0x0c] = { 0, 1, 0, 0 }, [0x0d] = { 0, 2, 0, 0 }, [0x0e] = { 0, 4, 0, 0 },	/* uint */
		[0x0f] = { 0, 8, 0, 0 },
		[0x10] = { 0, 1, 0, 0 }, [0x11] = { 0, 2, 0, 0 }, [0x12] = { 0, 4, 0, 0 },	/* int */
		[0x13] = { 0, 8, 0, 0 },
		[0x14] = { 0, 2, 0, 0 }, [0x15] = { 0, 3, 0, 0 }, [0x16] = { 0, 5, 0, 0 },	/* fixext */
		[0x17] = { 0, 9, 0, 0 }, [0x18] = { 0, 17, 0, 0 },
		[0x19] = { 1, 0, 1, 0 }, [0x1a] = { 2, 0, 1, 0 }, [0x1b] = { 4, 0, 1, 0 },	/* str */
		[0x1c] = { 2, 0, 0, 1 }, [0x1d] = { 4, 0, 0, 1 },				/* array */
		[0x1e] = { 2, 0, 0, 2 }, [0x1f] = { 4, 0, 0, 2 },				/* map */
	};
	unsigned char c = p[0];
	uint64_t n;

	*payload = 0;
	*items = 0;
	if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
		return 1;				/* fixints, nil, false, true */
	if (c == 0xc1)
		return -EBADMSG;
	if (c <= 0x8f) {
		*items = 2 * (uint64_t)(c & 0x0f);	/* fixmap */
		return 1;
	}
	if (c <= 0x9f) {
		*items = c & 0x0f;			/* fixarray */
		return 1;
	}
	if (c <= 0xbf) {
		*payload = c & 0x1f;			/* fixstr */
		return 1;
	}
	if (avail < 1u + m[c - 0xc0].lenbytes)
		return 0;
	n = be(p + 1, m[c - 0xc0].lenbytes);
	*payload = m[c - 0xc0].fixed + n * m[c - 0xc0].per_byte;
	*items = n * m[c - 0xc0].per_item;
	return 1 + m[c - 0xc0].lenbytes;
}

/* Length of the complete object at buf, 0 if more bytes are needed, -EBADMSG if invalid. */
static int object_len(const unsigned char *buf, size_t len)
{
	uint64_t owed = 1, payload, items;
	size_t pos = 0;

	while (owed) {
		int h;

		if (pos >= len)
			return len >= FWD_REPLY_MAX ? -EBADMSG : 0;
		h = header(buf + pos, len - pos, &payload, &items);
		if (h < 0)
			return h;
		if (h == 0)
			return len >= FWD_REPLY_MAX ? -EBADMSG : 0;
		if (payload > FWD_REPLY_MAX || items > FWD_REPLY_MAX || pos + h + payload > FWD_REPLY_MAX)
			return -EBADMSG;
		pos += (size_t)h + (size_t)payload;
		owed += items - 1;
		if (owed > FWD_REPLY_MAX)
			return -EBADMSG;
	}
	if (pos > len)
		return len >= FWD_REPLY_MAX ? -EBADMSG : 0;
	return (int)pos;
}

/* The string at p, if it is one (the object is known complete). */
static bool str_at(const unsigned char *p, const char **s, size_t *n)
{
	uint64_t payload, items;
	int h;

	if (!((p[0] >= 0xa0 && p[0] <= 0xbf) || (p[0] >= 0xd9 && p[0] <= 0xdb)))
		return false;
	h = header(p, 5, &payload, &items);
	*s = (const char *)p + h;
	*n = (size_t)payload;
	return true;
}

static bool str_is(const unsigned char *p, const char *want)
{
	const char *s;
	size_t n;

	return str_at(p, &s, &n) && n == strlen(want) && !memcmp(s, want, n);
}

/* Classify one complete object of len bytes. */
static void classify(const unsigned char *p, size_t len, struct fwd_reply *out)
{
	uint64_t payload, items, i;
	size_t pos;
	int h;

	out->kind = FWD_REPLY_OTHER;
	h = header(p, len, &payload, &items);
	pos = (size_t)h;
	if ((p[0] & 0xf0) == 0x90 || p[0] == 0xdc || p[0] == 0xdd) {
		if (items >= 1 && str_is(p + pos, "HELO"))
			out->kind = FWD_REPLY_HELO;
		return;
	}
	if (!((p[0] & 0xf0) == 0x80 || p[0] == 0xde || p[0] == 0xdf))
		return;
	for (i = 0; i < items; i += 2) {
		int klen = object_len(p + pos, len - pos), vlen;

		vlen = object_len(p + pos + klen, len - pos - klen);
		if (str_is(p + pos, "ack") && str_at(p + pos + klen, &out->chunk, &out->chunk_len)) {
			out->kind = FWD_REPLY_ACK;
			return;
		}
		pos += (size_t)klen + (size_t)vlen;
	}
}

int reply_next(const unsigned char *buf, size_t len, struct fwd_reply *out)
{
	int n;

	if (!len)
		return 0;
	n = object_len(buf, len);
	if (n > 0)
		classify(buf, (size_t)n, out);
	return n;
}
