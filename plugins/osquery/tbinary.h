/* tbinary.h - Apache Thrift's binary protocol (TBinaryProtocol) over memory: a reader
 * that never trusts the bytes and a writer that appends to a vigil_buf.
 *
 * osquery speaks this protocol on a stream with the buffered transport, which puts no
 * frame around a message: its end is only known by parsing it. So the reader works on
 * "the bytes received so far" and tells apart three outcomes: the value is complete (0),
 * the bytes stop inside it (-EAGAIN: read more and parse again from the start), or the
 * bytes can never become valid (-EBADMSG, or -EMSGSIZE when a length or count asks for
 * more than the caller will ever buffer). Lengths are checked against that limit before
 * any wait, so a peer that announces a 2 GB string is refused at once, not waited for.
 *
 * Only strict messages are read or written (version word 0x8001 in the first 16 bits), as
 * osquery's C++ and Python peers write them.
 */
#ifndef OSQ_TBINARY_H
#define OSQ_TBINARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

/* Wire type ids (TType). 5, 7 and 9 are unused by the binary protocol. */
enum tb_type {
	TB_STOP = 0,
	TB_VOID = 1,
	TB_BOOL = 2,
	TB_BYTE = 3,
	TB_DOUBLE = 4,
	TB_I16 = 6,
	TB_I32 = 8,
	TB_I64 = 10,
	TB_STRING = 11,
	TB_STRUCT = 12,
	TB_MAP = 13,
	TB_SET = 14,
	TB_LIST = 15,
};

/* Message kinds (TMessageType). */
enum tb_msg_type {
	TB_CALL = 1,
	TB_REPLY = 2,
	TB_EXCEPTION = 3,
	TB_ONEWAY = 4,
};

/* TApplicationException types a server sends back. */
enum tb_app_error {
	TB_APP_UNKNOWN_METHOD = 1,
	TB_APP_INVALID_MESSAGE_TYPE = 2,
	TB_APP_INTERNAL_ERROR = 6,
	TB_APP_PROTOCOL_ERROR = 7,
};

/* Nesting of structs and containers a reader accepts; osquery's deepest value (the
 * registry argument of registerExtension) is 5 levels. */
#define TB_MAX_DEPTH 32

/* Bytes borrowed from the reader's input. */
struct tb_slice {
	const char *p;
	size_t n;
};

struct tb_reader {
	const uint8_t *p;	/* borrowed */
	size_t len;		/* bytes available */
	size_t off;		/* next byte to read */
	size_t limit;		/* the largest message the caller would buffer */
	unsigned int depth;
};

/* Start reading len bytes at p (borrowed for the reader's life). A message may never be
 * longer than limit bytes: lengths and counts that cannot fit are -EMSGSIZE. */
void tb_reader_init(struct tb_reader *r, const void *p, size_t len, size_t limit);

/* Each read returns 0, -EAGAIN (bytes end inside the value), -EBADMSG or -EMSGSIZE; on
 * error nothing useful is in *out and the reader must not be used further. */
int tb_read_byte(struct tb_reader *r, int8_t *out);
int tb_read_i16(struct tb_reader *r, int16_t *out);
int tb_read_i32(struct tb_reader *r, int32_t *out);
int tb_read_i64(struct tb_reader *r, int64_t *out);
/* A string or binary: out points into the input. */
int tb_read_string(struct tb_reader *r, struct tb_slice *out);
/* A strict message header: version word with the type, name, sequence id. */
int tb_read_message_begin(struct tb_reader *r, struct tb_slice *name, uint8_t *type, int32_t *seqid);
/* One field header; *type is TB_STOP at the end of a struct (and *id is then 0). */
int tb_read_field_begin(struct tb_reader *r, uint8_t *type, int16_t *id);
/* Container headers. Counts are proven to fit in the limit before they are returned, and
 * element types must be value types. */
int tb_read_map_begin(struct tb_reader *r, uint8_t *ktype, uint8_t *vtype, uint32_t *count);
int tb_read_list_begin(struct tb_reader *r, uint8_t *etype, uint32_t *count);	/* list or set */
/* Read past one value of the given type, whatever its content, within TB_MAX_DEPTH. */
int tb_skip(struct tb_reader *r, uint8_t type);
/* Enter and leave a struct or container for the depth check: -EBADMSG past the limit. */
int tb_enter(struct tb_reader *r);
void tb_leave(struct tb_reader *r);

bool tb_slice_eq(struct tb_slice s, const char *str);

/* The writer appends to out (borrowed). Errors are sticky: after the first failure every
 * write is a no-op and err holds -ENOMEM or -EOVERFLOW; check it once at the end. */
struct tb_writer {
	struct vigil_buf *out;
	int err;
};

void tb_writer_init(struct tb_writer *w, struct vigil_buf *out);
void tb_write_byte(struct tb_writer *w, int8_t v);
void tb_write_i16(struct tb_writer *w, int16_t v);
void tb_write_i32(struct tb_writer *w, int32_t v);
void tb_write_i64(struct tb_writer *w, int64_t v);
void tb_write_string(struct tb_writer *w, const char *s, size_t n);
void tb_write_cstr(struct tb_writer *w, const char *s);
void tb_write_message_begin(struct tb_writer *w, const char *name, uint8_t type, int32_t seqid);
void tb_write_field_begin(struct tb_writer *w, uint8_t type, int16_t id);
void tb_write_field_stop(struct tb_writer *w);
void tb_write_map_begin(struct tb_writer *w, uint8_t ktype, uint8_t vtype, uint32_t count);
void tb_write_list_begin(struct tb_writer *w, uint8_t etype, uint32_t count);
/* A list whose length is known only at the end: write the header now, returning where its
 * count lives, and fill the count in with tb_patch_count. */
size_t tb_write_list_open(struct tb_writer *w, uint8_t etype);
void tb_patch_count(struct tb_writer *w, size_t at, uint32_t count);

#endif
