/* json.c - any msgpack object as one line of compact JSON, the way protojson writes it. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "encode_internal.h"

/* protojson escapes only what RFC 8259 requires: '"', '\\' and C0 controls, with the five
 * short forms; everything else, non-ASCII included, passes through. */
static const char short_escape[0x20] = {
	['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r',
};

static void put_escape(struct encode_out *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

	if (c == '"' || c == '\\') {
		e[1] = (char)c;
		encode_put(o, e, 2);
	} else if (short_escape[c]) {
		e[1] = short_escape[c];
		encode_put(o, e, 2);
	} else {
		encode_put(o, e, 6);
	}
}

/* ASCII that JSON takes as it is: one lookup per byte in put_string's loop */
static const unsigned char plain[256] = {
	[0x20 ... 0x21] = 1, [0x23 ... 0x5b] = 1, [0x5d ... 0x7f] = 1,	/* all but '"' and '\\' */
};

/* Whether JSON takes s as it is: eight bytes at a time, the classic exact "any byte less
 * than" and "any byte zero" tests (on x ^ '"' and x ^ '\\') plus the top bits; the tail
 * byte by byte. */
static bool all_plain(const unsigned char *s, size_t n)
{
	const uint64_t lo = 0x0101010101010101ULL, hi = 0x8080808080808080ULL;
	uint64_t x, q, b;
	size_t i = 0;

	for (; n - i >= 8; i += 8) {
		memcpy(&x, s + i, 8);
		q = x ^ (lo * '"');
		b = x ^ (lo * '\\');
		if (((x - lo * 0x20) & ~x & hi) | (x & hi) | ((q - lo) & ~q & hi) | ((b - lo) & ~b & hi))
			return false;
	}
	for (; i < n; i++)
		if (!plain[s[i]])
			return false;
	return true;
}

/* Bytes that are not UTF-8 become U+FFFD, one per byte, as Go's encoding/json does:
 * protojson would refuse the whole event, and a file name is allowed to be any bytes. */
static void put_string(struct encode_out *o, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	struct vigil_buf *buf = o->buf;
	size_t i = 0, run = 0, len;
	uint32_t cp;

	/* most strings need no escape: one write, quotes included */
	if (all_plain(s, n)) {
		if (!o->err && buf->data && n + 2 < buf->cap - buf->len) {
			buf->data[buf->len] = '"';
			memcpy(buf->data + buf->len + 1, s, n);
			buf->data[buf->len + 1 + n] = '"';
			buf->len += n + 2;
			buf->data[buf->len] = '\0';
		} else {
			encode_put(o, "\"", 1);
			encode_put(o, s, n);
			encode_put(o, "\"", 1);
		}
		return;
	}
	encode_put(o, "\"", 1);
	while (i < n) {
		if (plain[s[i]]) {
			i++;
			continue;
		}
		len = s[i] < 0x80 ? 1 : encode_utf8_decode(s + i, n - i, &cp);
		if (s[i] >= 0x80 && len) {
			i += len;
			continue;
		}
		encode_put(o, s + run, i - run);
		if (s[i] < 0x80)
			put_escape(o, s[i]);
		else
			encode_puts(o, "\\ufffd");
		run = ++i;
	}
	encode_put(o, s + run, i - run);
	encode_put(o, "\"", 1);
}

static void base64_sink(void *ctx, const char *s, size_t len)
{
	encode_put(ctx, s, len);
}

/* protojson's bytes: standard base64 with padding */
static void put_base64(struct encode_out *o, const unsigned char *s, size_t n)
{
	encode_put(o, "\"", 1);
	encode_base64(s, n, base64_sink, o);
	encode_put(o, "\"", 1);
}

/* The fewest digits that read back as the same value; protojson's non-finite spellings. */
static void put_float(struct encode_out *o, double v, bool single)
{
	char num[40];
	int prec;

	if (isnan(v)) {
		encode_puts(o, "\"NaN\"");
	} else if (isinf(v)) {
		encode_puts(o, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
	} else {
		for (prec = 1; prec <= 17; prec++) {
			snprintf(num, sizeof(num), "%.*g", prec, v);
			if (single ? (float)strtod(num, NULL) == (float)v : strtod(num, NULL) == v)
				break;
		}
		encode_puts(o, num);
	}
}

/* Decimal digits by hand: snprintf was a tenth of a JSON line's cost. */
static void put_number(struct encode_out *o, const msgpack_object *v)
{
	char num[24], *p = num + sizeof(num);
	bool neg = v->type != MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.i64 < 0;
	/* the magnitude as unsigned, INT64_MIN included */
	uint64_t u = neg ? 0 - (uint64_t)v->via.i64 : v->via.u64;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (neg)
		*--p = '-';
	encode_put(o, p, (size_t)(num + sizeof(num) - p));
}

static void render(struct encode_out *o, const msgpack_object *v, int depth);

/* JSON keys are strings; an integer key is written as its decimal string, as protojson
 * writes map<int, ...> keys. Other key types have no JSON spelling. */
static void render_map(struct encode_out *o, const msgpack_object_map *map, int depth)
{
	const msgpack_object_kv *kv;
	uint32_t i;

	encode_put(o, "{", 1);
	for (i = 0; i < map->size && !o->err; i++) {
		kv = &map->ptr[i];
		if (i)
			encode_put(o, ",", 1);
		if (kv->key.type == MSGPACK_OBJECT_STR) {
			put_string(o, kv->key.via.str.ptr, kv->key.via.str.size);
		} else if (kv->key.type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
			   kv->key.type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
			encode_put(o, "\"", 1);
			put_number(o, &kv->key);
			encode_put(o, "\"", 1);
		} else {
			encode_fail(o, -EINVAL);
		}
		encode_put(o, ":", 1);
		render(o, &kv->val, depth);
	}
	encode_put(o, "}", 1);
}

static void render_array(struct encode_out *o, const msgpack_object_array *arr, int depth)
{
	uint32_t i;

	encode_put(o, "[", 1);
	for (i = 0; i < arr->size && !o->err; i++) {
		if (i)
			encode_put(o, ",", 1);
		render(o, &arr->ptr[i], depth);
	}
	encode_put(o, "]", 1);
}

/* depth counts the containers around v; hand-built objects can nest without limit, so the
 * same bound as the decoder applies here. */
static void render(struct encode_out *o, const msgpack_object *v, int depth)
{
	bool container = v->type == MSGPACK_OBJECT_MAP || v->type == MSGPACK_OBJECT_ARRAY;

	if (container && depth >= ENCODE_MAX_DEPTH)
		encode_fail(o, -EINVAL);
	if (o->err)
		return;
	switch (v->type) {
	case MSGPACK_OBJECT_NIL:
		encode_puts(o, "null");
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		encode_puts(o, v->via.boolean ? "true" : "false");
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		put_number(o, v);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		put_float(o, v->via.f64, v->type == MSGPACK_OBJECT_FLOAT32);
		break;
	case MSGPACK_OBJECT_STR:
		put_string(o, v->via.str.ptr, v->via.str.size);
		break;
	case MSGPACK_OBJECT_BIN:
		put_base64(o, (const unsigned char *)v->via.bin.ptr, v->via.bin.size);
		break;
	case MSGPACK_OBJECT_ARRAY:
		render_array(o, &v->via.array, depth + 1);
		break;
	case MSGPACK_OBJECT_MAP:
		render_map(o, &v->via.map, depth + 1);
		break;
	default:		/* ext: protojson has nothing like it */
		encode_fail(o, -EINVAL);
		break;
	}
}

int vigil_json_from_msgpack(const msgpack_object *o, struct vigil_buf *out)
{
	struct encode_out w;

	encode_out_begin(&w, out);
	render(&w, o, 0);
	return encode_out_end(&w);
}

int vigil_msg__to_json(const struct vigil_msg *m, struct vigil_buf *out)
{
	return vigil_json_from_msgpack(vigil_msg__root(m), out);
}

/* ---- JSON straight from the bytes vigil_encode_msgpack wrote (the agent's stdout) ---- */

/* The walk of both: keep, when given, is asked about every child of every container but the
 * root, and a child it refuses is skipped with its children. */
static int own_json(const void *data, size_t len, vigil_json_keep_fn keep, void *ctx, struct vigil_buf *out)
{
	const unsigned char *p = data;
	struct {
		uint32_t left;	/* entries or items still to write */
		bool map, first;
	} st[ENCODE_MAX_DEPTH];
	struct encode_out o;
	struct vigil_own_item it, kit;
	const msgpack_object *key;
	size_t off = 0, h;
	int depth = 0;

	encode_out_begin(&o, out);
	do {
		/* close what is done, then the separator and key of the next child */
		if (depth) {
			if (!st[depth - 1].left) {
				encode_put(&o, st[depth - 1].map ? "}" : "]", 1);
				depth--;
				continue;
			}
			st[depth - 1].left--;
			key = NULL;
			if (st[depth - 1].map) {
				h = off < len ? encode_own_item(p + off, len - off, &kit) : 0;
				if (!h || kit.obj.type != MSGPACK_OBJECT_STR) {
					encode_fail(&o, -EINVAL);
					break;
				}
				off += h;
				key = &kit.obj;
			}
			h = off < len ? encode_own_item(p + off, len - off, &it) : 0;
			if (keep && h &&
			    !keep(ctx, depth - 1, key, it.obj.type == MSGPACK_OBJECT_MAP || it.obj.type == MSGPACK_OBJECT_ARRAY)) {
				off = vigil_own_skip(p, len, off);
				if (!off) {
					encode_fail(&o, -EINVAL);
					break;
				}
				continue;
			}
			if (!st[depth - 1].first)
				encode_put(&o, ",", 1);
			st[depth - 1].first = false;
			if (key) {
				put_string(&o, key->via.str.ptr, key->via.str.size);
				encode_put(&o, ":", 1);
			}
		} else {
			h = encode_own_item(p, len, &it);	/* the root */
		}
		if (!h) {
			encode_fail(&o, -EINVAL);
			break;
		}
		off += h;
		if (it.obj.type == MSGPACK_OBJECT_MAP || it.obj.type == MSGPACK_OBJECT_ARRAY) {
			if (depth == ENCODE_MAX_DEPTH) {
				encode_fail(&o, -EINVAL);
				break;
			}
			st[depth].map = it.obj.type == MSGPACK_OBJECT_MAP;
			st[depth].left = it.children;
			st[depth].first = true;
			depth++;
			encode_put(&o, st[depth - 1].map ? "{" : "[", 1);
		} else {
			render(&o, &it.obj, 0);
		}
	} while (depth && !o.err);
	if (!o.err && off != len)
		encode_fail(&o, -EINVAL);	/* one object, nothing after it */
	return encode_out_end(&o);
}

int vigil_json_from_own_msgpack(const void *data, size_t len, struct vigil_buf *out)
{
	return own_json(data, len, NULL, NULL, out);
}

int vigil_json_from_own_msgpack_kept(const void *data, size_t len, vigil_json_keep_fn keep, void *ctx,
				     struct vigil_buf *out)
{
	return own_json(data, len, keep, ctx, out);
}
