/* base64.c - protojson's spelling of bytes, shared by the JSON renderer and the tree. */
#include "encode_internal.h"

/* A multiple of 4, so only the last piece carries padding. */
#define PIECE 256

void encode_base64(const void *data, size_t n, void (*sink)(void *ctx, const char *s, size_t len),
		   void *ctx)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = data;
	char piece[PIECE];
	size_t i, len = 0;
	uint32_t v;

	for (i = 0; i < n; i += 3) {
		v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0) |
		    (i + 2 < n ? s[i + 2] : 0);
		piece[len++] = b64[v >> 18];
		piece[len++] = b64[(v >> 12) & 63];
		piece[len++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		piece[len++] = i + 2 < n ? b64[v & 63] : '=';
		if (len == PIECE) {
			sink(ctx, piece, len);
			len = 0;
		}
	}
	if (len)
		sink(ctx, piece, len);
}
