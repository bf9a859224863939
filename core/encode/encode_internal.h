/* encode_internal.h - what the encode files share: an append-only writer with a sticky
 * error, the msgpack tree writer, UTF-8 decoding, base64 and the nesting limit. Not part of
 * libvigil's interface. */
#ifndef VIGIL_ENCODE_INTERNAL_H
#define VIGIL_ENCODE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "encode.h"

/* Deepest container nesting any encode function accepts. msgpack-c's C unpacker keeps a
 * fixed stack of MSGPACK_EMBED_STACK_SIZE (32) open containers; our events nest 5 deep
 * (root, body, process, ns, uts), so 32 leaves room for kprobe arguments without letting
 * hostile input recurse without bound. */
#define ENCODE_MAX_DEPTH 32

/* Appends to buf until the first failure, then ignores further writes; encode_out_end()
 * reports that failure and cuts buf back to where it stood, so a failed render leaves the
 * caller's buffer as it was. Lets a renderer read as a list of writes. */
struct encode_out {
	struct vigil_buf *buf;
	size_t start;
	int err;
};

static inline void encode_out_begin(struct encode_out *o, struct vigil_buf *buf)
{
	o->buf = buf;
	o->start = buf->len;
	o->err = 0;
}

static inline void encode_put(struct encode_out *o, const void *data, size_t len)
{
	struct vigil_buf *b = o->buf;

	/* the common case inline (room left, no error): a tree is hundreds of small writes */
	if (!o->err && len < b->cap - b->len && b->data) {
		memcpy(b->data + b->len, data, len);
		b->len += len;
		b->data[b->len] = '\0';
		return;
	}
	if (!o->err)
		o->err = vigil_buf_append(b, data, len);
}

static inline void encode_puts(struct encode_out *o, const char *s)
{
	encode_put(o, s, strlen(s));
}

static inline void encode_fail(struct encode_out *o, int err)
{
	if (!o->err)
		o->err = err;
}

static inline int encode_out_end(struct encode_out *o)
{
	if (o->err) {
		o->buf->len = o->start;
		if (o->buf->data)
			o->buf->data[o->start] = '\0';
	}
	return o->err;
}

/* ---- a message: decoded (msg.c), or the encoder's bytes read in place (own.c) ---- */

struct vigil_msg {
	msgpack_zone zone;
	bool zone_ready;
	msgpack_object root;
	const msgpack_object *body;
	char *type_key;			/* NUL-terminated copy, in the zone (a view: in own_key) */
	enum vigil_event_type type;
	uint64_t incarnation, seq;	/* the delivery stamp (core/bus stamp.c), 0 without */
	/* a view (vigil_msg__new_view): the bytes are borrowed and never unpacked; lookups walk
	 * them, and only a container a caller asks for is unpacked, into the zone */
	bool view;
	const unsigned char *own;
	size_t own_len;
	size_t own_body;		/* where the body (the root's first value) starts */
	char own_key[64];
	/* the maps looked into, indexed as far as a lookup had to walk them (own.c): a second
	 * lookup in the same map does not walk it again */
	size_t own_nmaps;
	struct encode_view_map {
		uint32_t off;		/* of its header */
		uint32_t next;		/* where its first entry not yet indexed starts, */
		uint32_t pending;	/* or, when not 0, after the value that starts here */
		uint32_t left;		/* entries not yet indexed */
		uint32_t n;		/* entries indexed */
		bool overflow;		/* more entries walked than entry[] holds */
		struct encode_view_entry {
			const char *key;
			uint32_t klen;
			uint32_t off;	/* of the value */
		} entry[24];
	} own_maps[6];
	char data[];			/* decoded: our copy of the bytes, unpacked strings point into it */
};

/* A big-endian number of n bytes. */
static inline uint64_t encode_be(const unsigned char *p, size_t n)
{
	uint64_t v = 0;

	while (n--)
		v = (v << 8) | *p++;
	return v;
}

/* vigil_own_item, inline for the walks over our own bytes (json.c, own.c). */
static inline __attribute__((always_inline)) size_t encode_own_item(const void *data, size_t avail,
								    struct vigil_own_item *it)
{
	static const uint8_t width[4] = {1, 2, 4, 8};
	const unsigned char *p = data;
	unsigned char c;
	size_t h = 1, w;
	uint64_t n;

	it->children = 0;
	if (!avail)
		return 0;
	c = p[0];
	if (c >= 0xa0 && c <= 0xbf) {		/* fixstr: most of what the encoder writes */
		n = c & 0x1f;
		if (n > avail - 1)
			return 0;
		it->obj.type = MSGPACK_OBJECT_STR;
		it->obj.via.str.ptr = (const char *)p + 1;
		it->obj.via.str.size = (uint32_t)n;
		return 1 + n;
	}
	if (c <= 0x7f) {
		it->obj.type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		it->obj.via.u64 = c;
	} else if (c >= 0xe0) {
		it->obj.type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
		it->obj.via.i64 = (int8_t)c;
	} else if (c <= 0x9f || (c >= 0xdc && c <= 0xdf)) {
		/* fixmap, fixarray; array16/32 (0xdc, 0xdd), map16/32 (0xde, 0xdf) */
		it->obj.type = c <= 0x8f || c >= 0xde ? MSGPACK_OBJECT_MAP : MSGPACK_OBJECT_ARRAY;
		w = c <= 0x9f ? 0 : c & 1 ? 4 : 2;
		if (avail < 1 + w)
			return 0;
		it->children = (uint32_t)(w ? encode_be(p + 1, w) : c & 0x0f);
		h += w;
	} else if (c <= 0xbf || (c >= 0xd9 && c <= 0xdb) || (c >= 0xc4 && c <= 0xc6)) {
		bool bin = c >= 0xc4 && c <= 0xc6;

		w = c <= 0xbf ? 0 : bin ? width[c - 0xc4] : width[c - 0xd9];
		if (avail < 1 + w)
			return 0;
		n = w ? encode_be(p + 1, w) : c & 0x1f;
		h += w;
		if (n > avail - h)
			return 0;
		it->obj.type = bin ? MSGPACK_OBJECT_BIN : MSGPACK_OBJECT_STR;
		it->obj.via.str.ptr = (const char *)p + h;
		it->obj.via.str.size = (uint32_t)n;
		h += n;
	} else if (c == 0xc0) {
		it->obj.type = MSGPACK_OBJECT_NIL;
	} else if (c == 0xc2 || c == 0xc3) {
		it->obj.type = MSGPACK_OBJECT_BOOLEAN;
		it->obj.via.boolean = c == 0xc3;
	} else if (c >= 0xcc && c <= 0xd3) {
		w = width[(c - 0xcc) & 3];
		if (avail < 1 + w)
			return 0;
		n = encode_be(p + 1, w);
		h += w;
		if (c >= 0xd0 && (p[1] & 0x80)) {	/* a negative signed form */
			it->obj.type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
			it->obj.via.i64 = w == 8 ? (int64_t)n : (int64_t)(n | (~0ULL << (8 * w)));
		} else {
			it->obj.type = MSGPACK_OBJECT_POSITIVE_INTEGER;
			it->obj.via.u64 = n;
		}
	} else {
		return 0;	/* floats, ext: the encoder writes none */
	}
	return h;
}


/* vigil_msg__find and vigil_msg__find_kind of a view (own.c). */
const msgpack_object *encode_view_find(struct vigil_msg *m, const char *path);
int encode_view_kind(struct vigil_msg *m, const char *path, msgpack_object_type *type, uint32_t *count);
/* vigil_msg__array_has_str on a view: the array's items read in place, none unpacked */
bool encode_view_array_has_str(struct vigil_msg *m, const char *path, const char *s, size_t n);
/* A view's root, unpacked on first use (the fallback for callers that want the tree). */
const msgpack_object *encode_view_root(struct vigil_msg *m);

/* ---- the msgpack tree (tree.c writes events, tree_args.c their arguments) ---- */

/* Capabilities that have a name: bits past CAP_CHECKPOINT_RESTORE (40) are not in
 * Tetragon's enum, so they are not reported. */
#define ENCODE_CAPS_KNOWN ((1ULL << 41) - 1)

struct encode_tree {
	msgpack_packer pk;	/* writes through out */
	struct encode_out out;
	const char *time;	/* the event time, formatted once for root and exit body */
	const struct vigil_event *ev;	/* its optional process fields (user names) */
};

/* The tree is hundreds of small writes per event: each is inlined with a fast path that
 * copies a fixed number of bytes while the buffer has room (and no write failed), and
 * falls back to encode_put otherwise. The forms are msgpack-c's packer's, byte for byte
 * (the smallest that holds the value): tests compare with its output. */
#define ENCODE_INLINE static inline __attribute__((always_inline))

/* The fallback of the writers below: header, then body, through encode_put. */
void encode_tree_put_slow(struct encode_tree *t, const unsigned char *h, size_t hl, const void *s, size_t n);

/* Up to 9 header bytes of which hl count, in one fixed-size copy. */
ENCODE_INLINE void encode_tree_head(struct encode_tree *t, const unsigned char h[9], size_t hl)
{
	struct vigil_buf *b = t->out.buf;

	if (__builtin_expect(!t->out.err && b->cap - b->len > 9, 1)) {
		memcpy(b->data + b->len, h, 9);
		b->len += hl;
		b->data[b->len] = '\0';
		return;
	}
	encode_tree_put_slow(t, h, hl, NULL, 0);
}

/* A string: header and body in one write (fixstr, str8, str16, str32). A literal's length
 * is a constant here, so keys cost a few stores. */
ENCODE_INLINE void encode_tree_strn(struct encode_tree *t, const char *s, size_t n)
{
	struct vigil_buf *b = t->out.buf;
	unsigned char h[5];

	if (__builtin_expect(n < 32 && !t->out.err && n + 1 < b->cap - b->len, 1)) {
		char *d = b->data + b->len;

		d[0] = (char)(0xa0 | n);
		memcpy(d + 1, s, n);
		b->len += n + 1;
		d[n + 1] = '\0';
		return;
	}
	if (n < 32) {
		h[0] = (unsigned char)(0xa0 | n);
		encode_tree_put_slow(t, h, 1, s, n);
	} else if (n < 256) {
		h[0] = 0xd9;
		h[1] = (unsigned char)n;
		encode_tree_put_slow(t, h, 2, s, n);
	} else if (n < 65536) {
		h[0] = 0xda;
		h[1] = (unsigned char)(n >> 8);
		h[2] = (unsigned char)n;
		encode_tree_put_slow(t, h, 3, s, n);
	} else {
		h[0] = 0xdb;
		h[1] = (unsigned char)(n >> 24);
		h[2] = (unsigned char)(n >> 16);
		h[3] = (unsigned char)(n >> 8);
		h[4] = (unsigned char)n;
		encode_tree_put_slow(t, h, 5, s, n);
	}
}

ENCODE_INLINE void encode_tree_str(struct encode_tree *t, const char *s)
{
	encode_tree_strn(t, s, strlen(s));
}

/* msgpack_pack_uint32/uint64: fixint, uint8, uint16, uint32, uint64 */
ENCODE_INLINE void encode_tree_u64(struct encode_tree *t, uint64_t v)
{
	unsigned char h[9] = {0};
	size_t hl, i;

	if (v < 128) {
		h[0] = (unsigned char)v;
		hl = 1;
	} else if (v < 256) {
		h[0] = 0xcc;
		h[1] = (unsigned char)v;
		hl = 2;
	} else if (v < 65536) {
		h[0] = 0xcd;
		h[1] = (unsigned char)(v >> 8);
		h[2] = (unsigned char)v;
		hl = 3;
	} else if (v < (1ULL << 32)) {
		h[0] = 0xce;
		for (i = 0; i < 4; i++)
			h[1 + i] = (unsigned char)(v >> (24 - 8 * i));
		hl = 5;
	} else {
		h[0] = 0xcf;
		for (i = 0; i < 8; i++)
			h[1 + i] = (unsigned char)(v >> (56 - 8 * i));
		hl = 9;
	}
	encode_tree_head(t, h, hl);
}

/* msgpack_pack_map / _array: fixmap/fixarray, 16-bit, 32-bit counts */
ENCODE_INLINE void encode_tree_container(struct encode_tree *t, unsigned char fix, unsigned char c16, size_t n)
{
	unsigned char h[9] = {0};
	size_t hl;

	if (n < 16) {
		h[0] = (unsigned char)(fix | n);
		hl = 1;
	} else if (n < 65536) {
		h[0] = c16;
		h[1] = (unsigned char)(n >> 8);
		h[2] = (unsigned char)n;
		hl = 3;
	} else {
		h[0] = (unsigned char)(c16 + 1);
		h[1] = (unsigned char)(n >> 24);
		h[2] = (unsigned char)(n >> 16);
		h[3] = (unsigned char)(n >> 8);
		h[4] = (unsigned char)n;
		hl = 5;
	}
	encode_tree_head(t, h, hl);
}

ENCODE_INLINE void encode_tree_map(struct encode_tree *t, size_t n)
{
	encode_tree_container(t, 0x80, 0xde, n);
}

ENCODE_INLINE void encode_tree_array(struct encode_tree *t, size_t n)
{
	encode_tree_container(t, 0x90, 0xdc, n);
}

ENCODE_INLINE void encode_tree_bool(struct encode_tree *t, bool v)
{
	unsigned char h[9] = {v ? 0xc3 : 0xc2};

	encode_tree_head(t, h, 1);
}

ENCODE_INLINE void encode_tree_kv_str(struct encode_tree *t, const char *key, const char *val)
{
	encode_tree_str(t, key);
	encode_tree_str(t, val);
}

ENCODE_INLINE void encode_tree_kv_u32(struct encode_tree *t, const char *key, uint32_t val)
{
	encode_tree_str(t, key);
	encode_tree_u64(t, val);
}

/* "<key>": {"permitted": [...], "effective": [...], "inheritable": [...]}, empty lists left
 * out; the caller counts the key only when encode_caps_known(c). */
bool encode_caps_known(const struct vigil_caps *c);
void encode_tree_caps(struct encode_tree *t, const char *key, const struct vigil_caps *c);
/* The eight ids of Tetragon's ProcessCredentials, as eight map entries (wrappers: always). */
void encode_tree_cred_ids(struct encode_tree *t, const struct vigil_creds *c);

/* Whether the argument is written at all: nop, ids past enum vigil_arg_type, and auto and
 * skb (no Tetragon spelling here) unless the kernel flagged them unreadable (error_arg). */
bool encode_arg_present(const struct vigil_event_arg *a);
/* One KprobeArgument map; label (NULL or "" for none) is added after the value. */
void encode_tree_arg(struct encode_tree *t, const struct vigil_event_arg *a, const char *label);
/* The member (key and value) of the kernel object types and bpf_cmd (tree_kobj.c); false
 * for any other type, with nothing written. */
bool encode_tree_kobj(struct encode_tree *t, const struct vigil_event_arg *a);

/* ---- text ---- */


/* Decode one UTF-8 sequence from s (n bytes available, n > 0) into *cp. Returns its length,
 * or 0 when the bytes are not valid UTF-8 (overlong forms, surrogates and values past
 * U+10FFFF included), in which case the caller treats s[0] as one stray byte. */
size_t encode_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Standard base64 with padding (protojson's bytes): the length of n bytes encoded, and the
 * encoding handed to sink in pieces of at most 256 characters. */
static inline size_t encode_base64_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

void encode_base64(const void *data, size_t n, void (*sink)(void *ctx, const char *s, size_t len),
		   void *ctx);

#endif
