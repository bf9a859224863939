/* frame.h - the Forward protocol encoder: entries, chunk ids and PackedForward frames.
 *
 * Decoded by Fluent Bit's in_forward (plugins/in_forward/fw_prot.c), Fluentd's in_forward
 * and @fluent-org/logger's FluentServer; the modes are in the fluentd wiki's "Forward
 * Protocol Specification v1".
 */
#ifndef FWD_FRAME_H
#define FWD_FRAME_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/common.h"
#include "evtime.h"

/* A chunk id is base64 of 16 random bytes: 24 characters with padding. */
#define FWD_CHUNK_LEN 24

/* Append one classic Forward entry, [EventTime, record], to out. The record is re-packed
 * from the decoded tree, so its keys and their order are the bus message's. Strict servers
 * (Fluentd, FluentServer) reject Fluent Bit's v2 shape [[time, meta], record], so this is
 * the only shape we write. Returns 0, or -ENOMEM with out as it was. */
int frame_pack_entry(struct vigil_buf *out, struct fwd_evtime t, const msgpack_object *record);
/* The same entry around a record that is already msgpack: head then body together are one
 * well-formed map (the bus message, its header rewritten), copied as they are. */
int frame_pack_entry_raw(struct vigil_buf *out, struct fwd_evtime t, const void *head, size_t head_len,
			 const void *body, size_t body_len);

/* A fresh chunk id, NUL-terminated, from the kernel's random pool. 0 or -errno. */
int frame_chunk_id(char out[FWD_CHUNK_LEN + 1]);

/* Append the message [tag, bin(entries), {"size": n, "chunk": id, "compressed": "gzip"}]
 * to out: PackedForward, or CompressedPackedForward when gzip is set. chunk NULL leaves
 * "chunk" out (the peer then sends no ack). entries are borrowed. Returns 0, -ENOMEM, or
 * -EIO when zlib fails; out is as it was on failure. */
int frame_encode(struct vigil_buf *out, const char *tag, const void *entries, size_t len, uint32_t n,
		 const char *chunk, bool gzip);

/* gzip.c: append one gzip member holding in[0..len) to out. 0, -ENOMEM or -EIO. */
int gzip_compress(const void *in, size_t len, struct vigil_buf *out);

#endif
