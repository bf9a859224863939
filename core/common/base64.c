/* base64.c - standard base64 with '=' padding: protojson's bytes and Tetragon's exec_id
 * (Go's base64.StdEncoding). */
#include <errno.h>
#include <string.h>

#include "common.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t vigil_base64_encode(const void *in, size_t n, char *out)
{
	const unsigned char *s = in;
	size_t i, o = 0;
	uint32_t v;

	for (i = 0; i < n; i += 3) {
		v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0) | (i + 2 < n ? s[i + 2] : 0);
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? alphabet[v & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

int vigil_base64_decode(const char *in, size_t n, void *out, size_t size)
{
	unsigned char *d = out;
	const char *at;
	uint32_t acc = 0;
	size_t i, o = 0;
	int bits = 0;

	for (i = 0; i < n && in[i] != '='; i++) {
		at = in[i] ? strchr(alphabet, in[i]) : NULL;
		if (!at)
			return -EINVAL;
		acc = (acc << 6) | (uint32_t)(at - alphabet);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == size)
				return -EINVAL;
			d[o++] = (unsigned char)((acc >> bits) & 0xff);
		}
	}
	return (int)o;
}
