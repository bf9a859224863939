/* mpread.c - reading msgpack values straight from an event's bytes, one header at a time.
 *
 * The event view (ev.c) answers a rule's lookups from the bus bytes without unpacking the
 * message: a lookup reads the headers on its way and skips what it passes. Every read is
 * checked against the end of the bytes, and a skip counts the objects it still owes (each
 * takes at least one byte), so bytes cut short or lying about a length read as absent,
 * never past the end, at any nesting depth and without recursion.
 */
#include <pthread.h>
#include <string.h>

#include "luahost_internal.h"

static uint64_t be(const unsigned char *p, unsigned int n)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* The header at off: the bytes of its length field (0, 1, 2 or 4) and what follows it. For
 * 0xc0..0xdf, per marker: length-field bytes, fixed payload bytes, and whether the length
 * counts payload bytes (1), array elements (2) or map entries (3). 0xc1 is invalid. */
static const struct {
	uint8_t lenbytes, fixed, counts;
	uint8_t type;
} markers[32] = {
	[0x00] = { 0, 0, 0, LH_MP_NIL },
	[0x01] = { 0, 0, 0, LH_MP_BAD },
	[0x02] = { 0, 0, 0, LH_MP_BOOL },  [0x03] = { 0, 0, 0, LH_MP_BOOL },
	[0x04] = { 1, 0, 1, LH_MP_BIN },   [0x05] = { 2, 0, 1, LH_MP_BIN },   [0x06] = { 4, 0, 1, LH_MP_BIN },
	[0x07] = { 1, 1, 1, LH_MP_EXT },   [0x08] = { 2, 1, 1, LH_MP_EXT },   [0x09] = { 4, 1, 1, LH_MP_EXT },
	[0x0a] = { 0, 4, 0, LH_MP_FLOAT }, [0x0b] = { 0, 8, 0, LH_MP_FLOAT },
	[0x0c] = { 0, 1, 0, LH_MP_UINT },  [0x0d] = { 0, 2, 0, LH_MP_UINT },
	[0x0e] = { 0, 4, 0, LH_MP_UINT },  [0x0f] = { 0, 8, 0, LH_MP_UINT },
	[0x10] = { 0, 1, 0, LH_MP_INT },   [0x11] = { 0, 2, 0, LH_MP_INT },
	[0x12] = { 0, 4, 0, LH_MP_INT },   [0x13] = { 0, 8, 0, LH_MP_INT },
	[0x14] = { 0, 2, 0, LH_MP_EXT },   [0x15] = { 0, 3, 0, LH_MP_EXT },   [0x16] = { 0, 5, 0, LH_MP_EXT },
	[0x17] = { 0, 9, 0, LH_MP_EXT },   [0x18] = { 0, 17, 0, LH_MP_EXT },
	[0x19] = { 1, 0, 1, LH_MP_STR },   [0x1a] = { 2, 0, 1, LH_MP_STR },   [0x1b] = { 4, 0, 1, LH_MP_STR },
	[0x1c] = { 2, 0, 2, LH_MP_ARRAY }, [0x1d] = { 4, 0, 2, LH_MP_ARRAY },
	[0x1e] = { 2, 0, 3, LH_MP_MAP },   [0x1f] = { 4, 0, 3, LH_MP_MAP },
};

/* A value with a marker byte of 0xc0 and above at p[at - 1]: its length bytes and, for
 * scalars, its value. *at moves past the length bytes; *payload is what follows them. */
static bool read_marked(const unsigned char *p, size_t len, unsigned char c, size_t *at, uint64_t *payload,
			struct lh_mpval *v)
{
	const unsigned int m = c - 0xc0;
	uint64_t n;

	v->type = markers[m].type;
	if (v->type == LH_MP_BAD || len - *at < markers[m].lenbytes)
		return false;
	n = be(p + *at, markers[m].lenbytes);
	*at += markers[m].lenbytes;
	*payload = markers[m].fixed + (markers[m].counts == 1 ? n : 0);
	if (*payload > len - *at)
		return false;
	switch (v->type) {
	case LH_MP_BOOL:
		v->b = c == 0xc3;
		break;
	case LH_MP_UINT:
		v->u = be(p + *at, markers[m].fixed);
		break;
	case LH_MP_INT:
		/* sign-extend the big-endian field; a non-negative one reads as unsigned, as
		 * msgpack-c unpacks it */
		v->i = (int64_t)(be(p + *at, markers[m].fixed) << (64 - 8 * markers[m].fixed)) >>
		       (64 - 8 * markers[m].fixed);
		if (v->i >= 0) {
			v->type = LH_MP_UINT;
			v->u = (uint64_t)v->i;
		}
		break;
	case LH_MP_FLOAT:
		if (c == 0xca) {
			uint32_t bits = (uint32_t)be(p + *at, 4);
			float f;

			memcpy(&f, &bits, sizeof(f));
			v->f = f;
		} else {
			uint64_t bits = be(p + *at, 8);

			memcpy(&v->f, &bits, sizeof(v->f));
		}
		break;
	case LH_MP_ARRAY:
	case LH_MP_MAP:
		/* every child takes a byte at least: a count the rest cannot hold is a lie */
		if (n > (len - *at) / (v->type == LH_MP_MAP ? 2 : 1))
			return false;
		v->count = (uint32_t)n;
		break;
	default:
		break;
	}
	return true;
}

bool lh_mp_read(const unsigned char *p, size_t len, size_t off, struct lh_mpval *v)
{
	unsigned char c;
	uint64_t payload = 0;
	size_t at;

	if (off >= len)
		return false;
	c = p[off];
	at = off + 1;
	v->count = 0;
	v->str = NULL;
	v->len = 0;
	if (c <= 0x7f) {
		v->type = LH_MP_UINT;
		v->u = c;
	} else if (c >= 0xe0) {
		v->type = LH_MP_INT;
		v->i = (int8_t)c;
	} else if (c <= 0x8f) {
		v->type = LH_MP_MAP;
		v->count = c & 0x0f;
	} else if (c <= 0x9f) {
		v->type = LH_MP_ARRAY;
		v->count = c & 0x0f;
	} else if (c <= 0xbf) {
		v->type = LH_MP_STR;
		payload = c & 0x1f;
	} else if (!read_marked(p, len, c, &at, &payload, v)) {
		return false;
	}
	if (v->type == LH_MP_STR || v->type == LH_MP_BIN) {
		if (payload > len - at)
			return false;
		v->str = (const char *)p + at;
		v->len = (uint32_t)payload;
	}
	v->next = at + payload;
	return true;
}

/* What skipping the object whose header starts with byte c takes: fixed bytes (the marker
 * and whatever follows it at a fixed size), then a big-endian length of lenbytes bytes
 * counting payload bytes (per 1) or children (per 1 or 2); skip_tab[c].fixed 0 marks 0xc1. */
static struct skip_op {
	uint8_t fixed, lenbytes, per_byte, per_child;
} skip_tab[256];

static void skip_tab_init(void)
{
	unsigned int c;

	for (c = 0; c < 256; c++) {
		struct skip_op *t = &skip_tab[c];

		t->fixed = 1;
		if (c >= 0x80 && c <= 0x8f) {
			t->fixed = 1;		/* fixmap: its entries are counted in the loop */
		} else if (c >= 0xa0 && c <= 0xbf) {
			t->fixed = (uint8_t)(1 + (c & 0x1f));
		} else if (c >= 0xc0 && c <= 0xdf) {
			const unsigned int m = c - 0xc0;

			t->fixed = (uint8_t)(1 + markers[m].lenbytes + markers[m].fixed);
			t->lenbytes = markers[m].lenbytes;
			t->per_byte = markers[m].counts == 1;
			t->per_child = markers[m].counts == 2 ? 1 : markers[m].counts == 3 ? 2 : 0;
			if (markers[m].type == LH_MP_BAD)
				t->fixed = 0;
		}
	}
}

size_t lh_mp_skip(const unsigned char *p, size_t len, size_t off)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	const struct skip_op *t;
	uint64_t left = 1, n;
	unsigned char c;

	while (left) {
		if (off >= len)
			return 0;
		c = p[off];
		left--;
		/* the forms an event is mostly made of, first and without the table: short
		 * strings, small integers, fixmaps and fixarrays (their count in the marker), 8- to
		 * 64-bit integers; a string past the end fails at the next read or at the return */
		if (c >= 0xa0 && c <= 0xbf) {
			off += 1 + (c & 0x1f);
			continue;
		}
		if (c < 0x80 || c >= 0xe0) {
			off++;
			continue;
		}
		if (c <= 0x9f) {
			left += (c <= 0x8f ? 2u : 1u) * (uint64_t)(c & 0x0f);
			off++;
			/* every object still owed takes a byte at least */
			if (left > len - off)
				return 0;
			continue;
		}
		if (c >= 0xcc && c <= 0xd3) {
			off += 1 + (1u << ((c - 0xcc) & 3));
			continue;
		}
		pthread_once(&once, skip_tab_init);
		t = &skip_tab[c];
		if (!t->fixed || t->fixed > len - off)
			return 0;
		if (t->lenbytes) {
			n = be(p + off + 1, t->lenbytes);
			if (t->per_byte) {
				if (n > len - off - t->fixed)
					return 0;
				off += n;
			} else {
				left += n * t->per_child;
			}
		}
		off += t->fixed;
		if (left > len - off)
			return 0;
	}
	return off <= len ? off : 0;
}
