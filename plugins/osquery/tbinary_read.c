/* tbinary_read.c - reading TBinaryProtocol values out of untrusted bytes. */
#include <errno.h>
#include <string.h>

#include "tbinary.h"

/* The strict header's first 16 bits, and the mask that leaves the message type. */
#define VERSION_1 0x80010000u
#define VERSION_MASK 0xffff0000u
#define TYPE_MASK 0x000000ffu

void tb_reader_init(struct tb_reader *r, const void *p, size_t len, size_t limit)
{
	r->p = p;
	/* bytes past the limit can never belong to a message we accept */
	r->len = len < limit ? len : limit;
	r->off = 0;
	r->limit = limit;
	r->depth = 0;
}

/* n more bytes: there, not yet (-EAGAIN), or never (past the limit). */
static int need(const struct tb_reader *r, uint64_t n)
{
	if (n > r->limit - r->off)
		return -EMSGSIZE;
	return n > r->len - r->off ? -EAGAIN : 0;
}

static uint64_t be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

static int read_be(struct tb_reader *r, size_t n, uint64_t *out)
{
	int err = need(r, n);

	if (err)
		return err;
	*out = be(r->p + r->off, n);
	r->off += n;
	return 0;
}

int tb_read_byte(struct tb_reader *r, int8_t *out)
{
	uint64_t v;
	int err = read_be(r, 1, &v);

	if (!err)
		*out = (int8_t)(uint8_t)v;
	return err;
}

int tb_read_i16(struct tb_reader *r, int16_t *out)
{
	uint64_t v;
	int err = read_be(r, 2, &v);

	if (!err)
		*out = (int16_t)(uint16_t)v;
	return err;
}

int tb_read_i32(struct tb_reader *r, int32_t *out)
{
	uint64_t v;
	int err = read_be(r, 4, &v);

	if (!err)
		*out = (int32_t)(uint32_t)v;
	return err;
}

int tb_read_i64(struct tb_reader *r, int64_t *out)
{
	uint64_t v;
	int err = read_be(r, 8, &v);

	if (!err)
		*out = (int64_t)v;
	return err;
}

int tb_read_string(struct tb_reader *r, struct tb_slice *out)
{
	int32_t n;
	int err = tb_read_i32(r, &n);

	if (err)
		return err;
	if (n < 0)
		return -EBADMSG;
	err = need(r, (uint64_t)n);
	if (err)
		return err;
	out->p = (const char *)r->p + r->off;
	out->n = (size_t)n;
	r->off += (size_t)n;
	return 0;
}

int tb_read_message_begin(struct tb_reader *r, struct tb_slice *name, uint8_t *type, int32_t *seqid)
{
	int32_t word;
	uint32_t type_bits;
	int err = tb_read_i32(r, &word);

	if (err)
		return err;
	/* a non-strict header starts with the name's length: refused, as the issue asks for
	 * strict messages and osquery never sends anything else */
	if (((uint32_t)word & VERSION_MASK) != VERSION_1)
		return -EBADMSG;
	type_bits = (uint32_t)word & ~VERSION_MASK;
	if (type_bits & ~TYPE_MASK || type_bits < TB_CALL || type_bits > TB_ONEWAY)
		return -EBADMSG;
	*type = (uint8_t)type_bits;
	err = tb_read_string(r, name);
	if (err)
		return err;
	return tb_read_i32(r, seqid);
}

/* Fewest bytes one value of the type takes on the wire; 0 for a type that is not a value. */
static unsigned int min_size(uint8_t type)
{
	switch (type) {
	case TB_BOOL:
	case TB_BYTE:
		return 1;
	case TB_I16:
		return 2;
	case TB_I32:
	case TB_STRING:
		return 4;
	case TB_DOUBLE:
	case TB_I64:
		return 8;
	case TB_STRUCT:
		return 1;	/* just its STOP */
	case TB_MAP:
		return 6;
	case TB_SET:
	case TB_LIST:
		return 5;
	default:
		return 0;
	}
}

int tb_read_field_begin(struct tb_reader *r, uint8_t *type, int16_t *id)
{
	int8_t t;
	int err = tb_read_byte(r, &t);

	if (err)
		return err;
	*type = (uint8_t)t;
	*id = 0;
	if (*type == TB_STOP)
		return 0;
	if (!min_size(*type))
		return -EBADMSG;
	return tb_read_i16(r, id);
}

/* count elements of at least per bytes each must fit before the limit. */
static int check_count(const struct tb_reader *r, int32_t count, uint64_t per)
{
	if (count < 0)
		return -EBADMSG;
	return (uint64_t)count * per > r->limit - r->off ? -EMSGSIZE : 0;
}

int tb_read_map_begin(struct tb_reader *r, uint8_t *ktype, uint8_t *vtype, uint32_t *count)
{
	int8_t k, v;
	int32_t n;
	int err;

	err = tb_read_byte(r, &k);
	if (!err)
		err = tb_read_byte(r, &v);
	if (!err)
		err = tb_read_i32(r, &n);
	if (err)
		return err;
	if (!min_size((uint8_t)k) || !min_size((uint8_t)v))
		return -EBADMSG;
	err = check_count(r, n, min_size((uint8_t)k) + min_size((uint8_t)v));
	if (err)
		return err;
	*ktype = (uint8_t)k;
	*vtype = (uint8_t)v;
	*count = (uint32_t)n;
	return 0;
}

int tb_read_list_begin(struct tb_reader *r, uint8_t *etype, uint32_t *count)
{
	int8_t e;
	int32_t n;
	int err;

	err = tb_read_byte(r, &e);
	if (!err)
		err = tb_read_i32(r, &n);
	if (err)
		return err;
	if (!min_size((uint8_t)e))
		return -EBADMSG;
	err = check_count(r, n, min_size((uint8_t)e));
	if (err)
		return err;
	*etype = (uint8_t)e;
	*count = (uint32_t)n;
	return 0;
}

int tb_enter(struct tb_reader *r)
{
	if (r->depth >= TB_MAX_DEPTH)
		return -EBADMSG;
	r->depth++;
	return 0;
}

void tb_leave(struct tb_reader *r)
{
	r->depth--;
}

static int skip_struct(struct tb_reader *r)
{
	uint8_t type;
	int16_t id;
	int err;

	for (;;) {
		err = tb_read_field_begin(r, &type, &id);
		if (err || type == TB_STOP)
			break;
		err = tb_skip(r, type);
		if (err)
			break;
	}
	return err;
}

static int skip_map(struct tb_reader *r)
{
	uint8_t kt, vt;
	uint32_t n, i;
	int err = tb_read_map_begin(r, &kt, &vt, &n);

	for (i = 0; !err && i < n; i++) {
		err = tb_skip(r, kt);
		if (!err)
			err = tb_skip(r, vt);
	}
	return err;
}

static int skip_list(struct tb_reader *r)
{
	uint8_t et;
	uint32_t n, i;
	int err = tb_read_list_begin(r, &et, &n);

	for (i = 0; !err && i < n; i++)
		err = tb_skip(r, et);
	return err;
}

int tb_skip(struct tb_reader *r, uint8_t type)
{
	struct tb_slice s;
	int err;

	switch (type) {
	case TB_BOOL:
	case TB_BYTE:
	case TB_I16:
	case TB_I32:
	case TB_DOUBLE:
	case TB_I64:
		err = need(r, min_size(type));
		if (!err)
			r->off += min_size(type);
		return err;
	case TB_STRING:
		return tb_read_string(r, &s);
	case TB_STRUCT:
	case TB_MAP:
	case TB_SET:
	case TB_LIST:
		break;
	default:
		return -EBADMSG;
	}
	/* containers recurse: bounded by TB_MAX_DEPTH */
	err = tb_enter(r);
	if (err)
		return err;
	if (type == TB_STRUCT)
		err = skip_struct(r);
	else if (type == TB_MAP)
		err = skip_map(r);
	else
		err = skip_list(r);
	tb_leave(r);
	return err;
}

bool tb_slice_eq(struct tb_slice s, const char *str)
{
	return s.n == strlen(str) && !memcmp(s.p, str, s.n);
}
