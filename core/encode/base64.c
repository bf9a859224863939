/* base64.c - protojson's spelling of bytes, in pieces to a sink, shared by the JSON
 * renderer and the tree. */
#include "encode_internal.h"

/* Input bytes per piece: a multiple of 3, so only the last piece carries padding. */
#define PIECE_IN 192

void encode_base64(const void *data, size_t n, void (*sink)(void *ctx, const char *s, size_t len),
		   void *ctx)
{
	char piece[PIECE_IN / 3 * 4 + 1];
	size_t i, take;

	for (i = 0; i < n; i += take) {
		take = n - i < PIECE_IN ? n - i : PIECE_IN;
		sink(ctx, piece, vigil_base64_encode((const unsigned char *)data + i, take, piece));
	}
}
