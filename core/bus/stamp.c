/* stamp.c - the delivery stamp every bus message carries: the agent's incarnation and the
 * message's sequence number, two entries appended to the event's root map.
 *
 * Why entries in the map and not an envelope: every consumer that decodes our msgpack
 * today (plugins, scripts on a raw NN_SUB socket) keeps decoding the event unchanged, and
 * vigil_msg__decode hides them again, so Tetragon's JSON is what it was. Their spelling
 * is fixed (uint64 written as 0xcf + 8 bytes) so that the stamp is cheap to write. */
#include <errno.h>
#include <string.h>

#include "bus.h"
#include "bus_internal.h"
#include "encode/encode.h"

static void put_be64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

/* Rewrite the root map's header for two more entries, growing it in place when the
 * count no longer fits its form. 0, -EINVAL (not a map), -ENOMEM. */
static int grow_map_header(struct vigil_buf *msg)
{
	unsigned char *d = (unsigned char *)msg->data, c = d[0];
	unsigned char head[5];
	size_t old_len, new_len;
	uint64_t n;
	int err;

	if (c >= 0x80 && c <= 0x8f) {
		n = c & 0x0f;
		old_len = 1;
	} else if (c == 0xde && msg->len >= 3) {
		n = ((uint64_t)d[1] << 8) | d[2];
		old_len = 3;
	} else if (c == 0xdf && msg->len >= 5) {
		n = ((uint64_t)d[1] << 24) | ((uint64_t)d[2] << 16) | ((uint64_t)d[3] << 8) | d[4];
		old_len = 5;
	} else {
		return -EINVAL;
	}
	n += 2;
	if (n <= 15) {
		head[0] = (unsigned char)(0x80 | n);
		new_len = 1;
	} else if (n <= 0xffff) {
		head[0] = 0xde;
		head[1] = (unsigned char)(n >> 8);
		head[2] = (unsigned char)n;
		new_len = 3;
	} else if (n <= 0xffffffffULL) {
		head[0] = 0xdf;
		head[1] = (unsigned char)(n >> 24);
		head[2] = (unsigned char)(n >> 16);
		head[3] = (unsigned char)(n >> 8);
		head[4] = (unsigned char)n;
		new_len = 5;
	} else {
		return -EINVAL;
	}
	if (new_len > old_len) {
		/* make room at the end, then shift the body up */
		err = vigil_buf_append(msg, head, new_len - old_len);
		if (err)
			return err;
		d = (unsigned char *)msg->data;
		memmove(d + new_len, d + old_len, msg->len - new_len);
	}
	memcpy(d, head, new_len);
	return 0;
}

int vigil_bus_stamp(struct vigil_buf *msg, uint64_t incarnation, uint64_t seq)
{
	unsigned char t[VIGIL_BUS_STAMP_LEN], *p = t;
	size_t start;
	int err;

	if (!msg->data || !msg->len)
		return -EINVAL;
	start = msg->len;
	*p++ = 0xa0 | (sizeof(VIGIL_BUS_KEY_SEQ) - 1);
	memcpy(p, VIGIL_BUS_KEY_SEQ, sizeof(VIGIL_BUS_KEY_SEQ) - 1);
	p += sizeof(VIGIL_BUS_KEY_SEQ) - 1;
	*p++ = 0xcf;
	put_be64(p, seq);
	p += 8;
	*p++ = 0xa0 | (sizeof(VIGIL_BUS_KEY_INCARNATION) - 1);
	memcpy(p, VIGIL_BUS_KEY_INCARNATION, sizeof(VIGIL_BUS_KEY_INCARNATION) - 1);
	p += sizeof(VIGIL_BUS_KEY_INCARNATION) - 1;
	*p++ = 0xcf;
	put_be64(p, incarnation);
	err = vigil_buf_append(msg, t, sizeof(t));
	if (err)
		return err;
	err = grow_map_header(msg);
	if (err)
		msg->len = start;	/* the message as it was */
	return err;
}

/* A non-negative integer object's value, or false: any of msgpack's integer forms, the
 * signed ones included when the value is not negative (msgpack-c reads them the same). */
static bool read_uint(const unsigned char *p, size_t len, uint64_t *out)
{
	static const uint8_t width[4] = {1, 2, 4, 8};
	uint64_t v = 0;
	size_t i, w;
	bool is_signed;

	if (len >= 1 && p[0] <= 0x7f) {
		*out = p[0];
		return true;
	}
	if (len < 1 || p[0] < 0xcc || p[0] > 0xd3)
		return false;
	is_signed = p[0] >= 0xd0;
	w = width[(p[0] - 0xcc) & 3];
	if (len < 1 + w || (is_signed && (p[1] & 0x80)))
		return false;
	for (i = 0; i < w; i++)
		v = (v << 8) | p[1 + i];
	*out = v;
	return true;
}

/* A string object (any of msgpack's four string forms) equal to key. */
static bool is_key(const unsigned char *p, size_t len, const char *key)
{
	size_t n = strlen(key), head;

	if (p[0] >= 0xa0 && p[0] <= 0xbf)
		head = 1;
	else if (p[0] == 0xd9)
		head = 2;
	else if (p[0] == 0xda)
		head = 3;
	else if (p[0] == 0xdb)
		head = 5;
	else
		return false;
	return len == head + n && !memcmp(p + head, key, n);
}

/* Root child i's bytes: from its start to the next child's, or to the end. */
static const unsigned char *tail_item(const unsigned char *d, const struct vigil_msgpack_tail *t, uint64_t i,
				      size_t *len)
{
	size_t start = t->start[i % VIGIL_MSGPACK_TAIL];
	size_t end = i + 1 < t->items ? t->start[(i + 1) % VIGIL_MSGPACK_TAIL] : t->len;

	*len = end - start;
	return d + start;
}

int vigil_bus_stamp_read(const void *data, size_t len, uint64_t *incarnation, uint64_t *seq)
{
	struct vigil_msgpack_tail t;

	if (!data || !len)
		return -EBADMSG;
	/* one walk proves the message is one well-formed object and notes where the root's
	 * last entries start: the stamp is there, nothing else is read again */
	if (vigil_msgpack_scan_tail(data, len, &t))
		return -EBADMSG;
	return vigil_bus_stamp_from_tail(data, &t, incarnation, seq);
}

int vigil_bus_stamp_from_tail(const void *data, const struct vigil_msgpack_tail *tail, uint64_t *incarnation,
			      uint64_t *seq)
{
	const unsigned char *d = data, *k, *v;
	uint64_t entries, e, stop, val, inc = 0, sq = 0;
	bool have_inc = false, have_seq = false;
	size_t klen, vlen;

	if (!d || !tail->len)
		return -EBADMSG;
	if (!((d[0] >= 0x80 && d[0] <= 0x8f) || d[0] == 0xde || d[0] == 0xdf))
		return -EBADMSG;
	/* as vigil_msg__decode takes it: from the last entry back, at most two (a decoded
	 * event's first entry holds a map, never an integer); when a key repeats the last
	 * wins; anything else ends it */
	entries = tail->items / 2;
	stop = entries > VIGIL_BUS_STAMP_ENTRIES ? entries - VIGIL_BUS_STAMP_ENTRIES : 0;
	for (e = entries; e > stop; e--) {
		k = tail_item(d, tail, 2 * (e - 1), &klen);
		v = tail_item(d, tail, 2 * (e - 1) + 1, &vlen);
		if (!read_uint(v, vlen, &val))
			break;
		if (is_key(k, klen, VIGIL_BUS_KEY_SEQ)) {
			if (!have_seq)
				sq = val;
			have_seq = true;
		} else if (is_key(k, klen, VIGIL_BUS_KEY_INCARNATION)) {
			if (!have_inc)
				inc = val;
			have_inc = true;
		} else {
			break;
		}
	}
	if (!have_seq || !have_inc || !sq || !inc)
		return -ENOENT;
	*incarnation = inc;
	*seq = sq;
	return 0;
}
