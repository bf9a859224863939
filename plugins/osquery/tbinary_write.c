/* tbinary_write.c - writing TBinaryProtocol values (strict messages) to a vigil_buf. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "tbinary.h"

#define VERSION_1 0x80010000u

void tb_writer_init(struct tb_writer *w, struct vigil_buf *out)
{
	w->out = out;
	w->err = 0;
}

static void put(struct tb_writer *w, const void *p, size_t n)
{
	if (!w->err)
		w->err = vigil_buf_append(w->out, p, n);
}

static void put_be(struct tb_writer *w, uint64_t v, size_t n)
{
	uint8_t b[8];
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	put(w, b, n);
}

void tb_write_byte(struct tb_writer *w, int8_t v)
{
	put_be(w, (uint8_t)v, 1);
}

void tb_write_i16(struct tb_writer *w, int16_t v)
{
	put_be(w, (uint16_t)v, 2);
}

void tb_write_i32(struct tb_writer *w, int32_t v)
{
	put_be(w, (uint32_t)v, 4);
}

void tb_write_i64(struct tb_writer *w, int64_t v)
{
	put_be(w, (uint64_t)v, 8);
}

void tb_write_string(struct tb_writer *w, const char *s, size_t n)
{
	if (n > INT32_MAX) {
		if (!w->err)
			w->err = -EOVERFLOW;
		return;
	}
	tb_write_i32(w, (int32_t)n);
	put(w, s, n);
}

void tb_write_cstr(struct tb_writer *w, const char *s)
{
	tb_write_string(w, s, strlen(s));
}

void tb_write_message_begin(struct tb_writer *w, const char *name, uint8_t type, int32_t seqid)
{
	tb_write_i32(w, (int32_t)(VERSION_1 | type));
	tb_write_cstr(w, name);
	tb_write_i32(w, seqid);
}

void tb_write_field_begin(struct tb_writer *w, uint8_t type, int16_t id)
{
	tb_write_byte(w, (int8_t)type);
	tb_write_i16(w, id);
}

void tb_write_field_stop(struct tb_writer *w)
{
	tb_write_byte(w, TB_STOP);
}

void tb_write_map_begin(struct tb_writer *w, uint8_t ktype, uint8_t vtype, uint32_t count)
{
	tb_write_byte(w, (int8_t)ktype);
	tb_write_byte(w, (int8_t)vtype);
	tb_write_i32(w, (int32_t)count);
}

void tb_write_list_begin(struct tb_writer *w, uint8_t etype, uint32_t count)
{
	tb_write_byte(w, (int8_t)etype);
	tb_write_i32(w, (int32_t)count);
}

size_t tb_write_list_open(struct tb_writer *w, uint8_t etype)
{
	size_t at;

	tb_write_byte(w, (int8_t)etype);
	at = w->out->len;
	tb_write_i32(w, 0);
	return at;
}

void tb_patch_count(struct tb_writer *w, size_t at, uint32_t count)
{
	size_t i;

	if (w->err)
		return;
	if (count > INT32_MAX) {
		w->err = -EOVERFLOW;
		return;
	}
	for (i = 0; i < 4; i++)
		w->out->data[at + i] = (char)(uint8_t)(count >> (8 * (3 - i)));
}
