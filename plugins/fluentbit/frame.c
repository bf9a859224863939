/* frame.c - Forward entries and PackedForward messages, packed with msgpack-c into a
 * vigil_buf. */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "frame.h"

/* msgpack-c's write callback: non-zero aborts the pack call and is returned by it */
static int buf_write(void *data, const char *p, size_t len)
{
	return vigil_buf_append(data, p, len);
}

static void truncate_to(struct vigil_buf *b, size_t len)
{
	b->len = len;
	if (b->data)
		b->data[len] = '\0';
}

static void be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

int frame_pack_entry(struct vigil_buf *out, struct fwd_evtime t, const msgpack_object *record)
{
	msgpack_packer pk;
	unsigned char et[8];
	size_t old = out->len;

	msgpack_packer_init(&pk, out, buf_write);
	be32(et, t.sec);
	be32(et + 4, t.nsec);
	/* msgpack-c writes an 8-byte ext as fixext8: d7 00 ssss nnnn */
	if (msgpack_pack_array(&pk, 2) || msgpack_pack_ext(&pk, sizeof(et), 0) ||
	    msgpack_pack_ext_body(&pk, et, sizeof(et)) || msgpack_pack_object(&pk, *record)) {
		truncate_to(out, old);
		return -ENOMEM;
	}
	return 0;
}

int frame_pack_entry_raw(struct vigil_buf *out, struct fwd_evtime t, const void *head, size_t head_len,
			 const void *body, size_t body_len)
{
	/* fixarray 2, then EventTime as fixext8 type 0: d7 00 ssss nnnn */
	unsigned char et[11] = { 0x92, 0xd7, 0x00 };
	size_t old = out->len;

	be32(et + 3, t.sec);
	be32(et + 7, t.nsec);
	if (vigil_buf_append(out, et, sizeof(et)) || vigil_buf_append(out, head, head_len) ||
	    vigil_buf_append(out, body, body_len)) {
		truncate_to(out, old);
		return -ENOMEM;
	}
	return 0;
}

int frame_chunk_id(char out[FWD_CHUNK_LEN + 1])
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char r[16];
	size_t i, o = 0;

	/* GRND_NONBLOCK: never stall the event loop on an unseeded pool at early boot */
	if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		return errno ? -errno : -EIO;
	for (i = 0; i + 3 <= sizeof(r); i += 3) {
		uint32_t v = (uint32_t)r[i] << 16 | (uint32_t)r[i + 1] << 8 | r[i + 2];

		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = b64[v & 63];
	}
	/* 16 = 5 * 3 + 1: one byte left, two characters and two pads */
	out[o++] = b64[r[15] >> 2];
	out[o++] = b64[(r[15] & 3) << 4];
	out[o++] = '=';
	out[o++] = '=';
	out[o] = '\0';
	return 0;
}

static int pack_str(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);

	return msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, s, n);
}

int frame_encode(struct vigil_buf *out, const char *tag, const void *entries, size_t len, uint32_t n,
		 const char *chunk, bool gzip)
{
	struct vigil_buf z = { 0 };
	msgpack_packer pk;
	size_t old = out->len;
	int err;

	if (gzip) {
		err = gzip_compress(entries, len, &z);
		if (err)
			goto out;
		entries = z.data;
		len = z.len;
	}
	msgpack_packer_init(&pk, out, buf_write);
	/* bin, not str: the spec allows both, but a str must be valid UTF-8 to strict decoders */
	err = -ENOMEM;
	if (msgpack_pack_array(&pk, 3) || pack_str(&pk, tag) || msgpack_pack_bin(&pk, len) ||
	    msgpack_pack_bin_body(&pk, entries, len) || msgpack_pack_map(&pk, 1 + !!chunk + gzip) ||
	    pack_str(&pk, "size") || msgpack_pack_uint32(&pk, n))
		goto out;
	if (chunk && (pack_str(&pk, "chunk") || pack_str(&pk, chunk)))
		goto out;
	if (gzip && (pack_str(&pk, "compressed") || pack_str(&pk, "gzip")))
		goto out;
	err = 0;
out:
	if (err)
		truncate_to(out, old);
	vigil_buf_free(&z);
	return err;
}
