/* plausible.c - a walk over msgpack bytes that refuses counts the bytes cannot hold,
 * before msgpack-c sees them.
 *
 * msgpack-c allocates a container's slots from the count in its header: a 5-byte map
 * header asking for 2^32 entries makes it request 64 GiB (AddressSanitizer aborts on it;
 * with overcommit the allocation may even succeed). Every element takes at least one
 * byte, so a count larger than the bytes left is a lie, and a string or binary longer
 * than the bytes left is truncated input. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "encode.h"

/* Big-endian unsigned of n bytes at p. */
static uint64_t be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | *p++;
	return v;
}

/* The size of the length field of a type byte that is followed by a length, and what
 * follows the length besides its count of bytes (ext: one type byte). 0 for other types. */
static size_t len_field(uint8_t t, size_t *extra)
{
	*extra = 0;
	switch (t) {
	case 0xc4: case 0xd9: return 1;			/* bin 8, str 8 */
	case 0xc5: case 0xda: return 2;
	case 0xc6: case 0xdb: return 4;
	case 0xc7: *extra = 1; return 1;		/* ext 8/16/32 */
	case 0xc8: *extra = 1; return 2;
	case 0xc9: *extra = 1; return 4;
	default: return 0;
	}
}

bool vigil_msgpack_plausible(const void *data, size_t len)
{
	static const uint8_t fixed[32] = {	/* payload bytes after types 0xc0..0xdf, 0: none/other */
		[0x0a] = 4, [0x0b] = 8, [0x0c] = 1, [0x0d] = 2, [0x0e] = 4, [0x0f] = 8,	/* float, uint */
		[0x10] = 1, [0x11] = 2, [0x12] = 4, [0x13] = 8,				/* int */
		[0x14] = 2, [0x15] = 3, [0x16] = 5, [0x17] = 9, [0x18] = 17,		/* fixext */
	};
	const uint8_t *p = data;
	size_t i = 0, pending = 1;

	while (pending && i < len) {
		uint8_t t = p[i++];
		uint64_t children = 0, skip = 0;
		size_t lf, extra;

		pending--;
		if (t <= 0x7f || t >= 0xe0) {
			/* fixint */
		} else if (t <= 0x8f) {
			children = 2u * (t & 0x0f);
		} else if (t <= 0x9f) {
			children = t & 0x0f;
		} else if (t <= 0xbf) {
			skip = t & 0x1f;
		} else if (t == 0xc1) {
			return false;	/* never used */
		} else if ((lf = len_field(t, &extra))) {
			if (len - i < lf)
				return true;	/* truncated: msgpack-c says so itself */
			skip = be(p + i, lf) + extra;
			i += lf;
		} else if (t >= 0xdc) {
			lf = t == 0xdc || t == 0xde ? 2 : 4;
			if (len - i < lf)
				return true;
			children = be(p + i, lf) * (t >= 0xde ? 2 : 1);
			i += lf;
		} else {
			skip = fixed[t - 0xc0];
		}
		if (children > len - i || skip > len - i)
			return false;
		pending += (size_t)children;
		i += (size_t)skip;
	}
	return true;
}
