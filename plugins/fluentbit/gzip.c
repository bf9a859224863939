/* gzip.c - one gzip member per batch for CompressedPackedForward (zlib). */
#include <errno.h>
#include <stdlib.h>
#include <zlib.h>

#include "frame.h"

/* Level 1: event trees are repetitive text, so the fastest level already takes most of the
 * gain, and the forwarder should cost the host as little CPU as possible. */
#define GZIP_LEVEL 1

int gzip_compress(const void *in, size_t len, struct vigil_buf *out)
{
	z_stream z = { 0 };
	unsigned char *tmp = NULL;
	bool ready = false;
	size_t room;
	int err;

	/* windowBits 15 + 16 asks zlib for a gzip header and trailer instead of zlib's own;
	 * batches are capped by --batch-bytes (64 MiB), well inside zlib's 32-bit lengths */
	if (deflateInit2(&z, GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		err = -ENOMEM;
		goto out;
	}
	ready = true;
	room = deflateBound(&z, (uLong)len) + 32;	/* deflateBound leaves out the gzip wrapper */
	tmp = malloc(room);
	if (!tmp) {
		err = -ENOMEM;
		goto out;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = tmp;
	z.avail_out = (uInt)room;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		err = -EIO;
		goto out;
	}
	err = vigil_buf_append(out, tmp, z.total_out);
out:
	free(tmp);
	if (ready)
		deflateEnd(&z);
	return err;
}
