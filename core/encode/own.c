/* own.c - the bytes vigil_encode_msgpack wrote in this process, read in place: one item at
 * a time, skipped whole, or looked up by path through a view that never unpacks them.
 *
 * The agent's compact line and export file read the event through a view of the bus bytes
 * it has just encoded, so they print exactly what a subscriber of the bus prints without
 * the decode (a copy, a zone and msgpack_unpack of the whole tree) per event. Only a
 * container a caller asks for (a pod's labels, the capability list) is unpacked, into the
 * view's zone. The bytes are trusted (our encoder's): never point a view at bytes from
 * another process (vigil_msg__decode is for those).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "encode_internal.h"

static uint64_t be_n(const unsigned char *p, size_t n)
{
	uint64_t v = 0;

	while (n--)
		v = (v << 8) | *p++;
	return v;
}

size_t vigil_own_item(const void *data, size_t avail, struct vigil_own_item *it)
{
	static const uint8_t width[4] = {1, 2, 4, 8};
	const unsigned char *p = data;
	unsigned char c;
	size_t h = 1, w;
	uint64_t n;

	memset(it, 0, sizeof(*it));
	if (!avail)
		return 0;
	c = p[0];
	if (c <= 0x7f) {
		it->obj.type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		it->obj.via.u64 = c;
	} else if (c >= 0xe0) {
		it->obj.type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
		it->obj.via.i64 = (int8_t)c;
	} else if (c <= 0x8f || (c >= 0xde && c <= 0xdf)) {
		it->obj.type = MSGPACK_OBJECT_MAP;
		w = c <= 0x8f ? 0 : c == 0xde ? 2 : 4;
		if (avail < 1 + w)
			return 0;
		it->children = (uint32_t)(w ? be_n(p + 1, w) : c & 0x0f);
		h += w;
	} else if (c <= 0x9f || (c >= 0xdc && c <= 0xdd)) {
		it->obj.type = MSGPACK_OBJECT_ARRAY;
		w = c <= 0x9f ? 0 : c == 0xdc ? 2 : 4;
		if (avail < 1 + w)
			return 0;
		it->children = (uint32_t)(w ? be_n(p + 1, w) : c & 0x0f);
		h += w;
	} else if (c <= 0xbf || (c >= 0xd9 && c <= 0xdb) || (c >= 0xc4 && c <= 0xc6)) {
		bool bin = c >= 0xc4 && c <= 0xc6;

		w = c <= 0xbf ? 0 : bin ? width[c - 0xc4] : width[c - 0xd9];
		if (avail < 1 + w)
			return 0;
		n = w ? be_n(p + 1, w) : c & 0x1f;
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
		n = be_n(p + 1, w);
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

size_t vigil_own_skip(const void *data, size_t len, size_t off)
{
	struct vigil_own_item it;
	uint64_t left = 1;
	size_t h;

	while (left) {
		h = off < len ? vigil_own_item((const unsigned char *)data + off, len - off, &it) : 0;
		if (!h)
			return 0;
		off += h;
		left--;
		if (it.obj.type == MSGPACK_OBJECT_MAP)
			left += 2 * (uint64_t)it.children;
		else if (it.obj.type == MSGPACK_OBJECT_ARRAY)
			left += it.children;
	}
	return off;
}

/* ---- the view ---- */

struct vigil_msg *vigil_msg__new_view(void)
{
	struct vigil_msg *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->view = true;
	m->zone_ready = msgpack_zone_init(&m->zone, 4096);
	if (!m->zone_ready) {
		vigil_msg__free(m);
		errno = ENOMEM;
		return NULL;
	}
	return m;
}

/* The root must be a map whose first key names the event, as check_root (msg.c) wants. */
int vigil_msg__view_own(struct vigil_msg *m, const void *data, size_t len)
{
	const unsigned char *p = data;
	struct vigil_own_item root, key;
	size_t h, k;

	msgpack_zone_clear(&m->zone);
	m->own = NULL;
	m->body = NULL;
	m->root.type = MSGPACK_OBJECT_NIL;
	m->type = 0;
	h = vigil_own_item(p, len, &root);
	if (!h || root.obj.type != MSGPACK_OBJECT_MAP || !root.children)
		return -EBADMSG;
	k = vigil_own_item(p + h, len - h, &key);
	if (!k || key.obj.type != MSGPACK_OBJECT_STR || !key.obj.via.str.size ||
	    key.obj.via.str.size >= sizeof(m->own_key))
		return -EBADMSG;
	memcpy(m->own_key, key.obj.via.str.ptr, key.obj.via.str.size);
	m->own_key[key.obj.via.str.size] = '\0';
	m->type_key = m->own_key;
	if (vigil_event_type_parse(m->type_key, &m->type) || strcmp(vigil_event_type_key(m->type), m->type_key))
		m->type = 0;
	m->own = p;
	m->own_len = len;
	m->own_body = h + k;
	return 0;
}

int vigil_msg__own_bytes(const struct vigil_msg *m, const void **data, size_t *len)
{
	if (!m || !m->view || !m->own)
		return -ENOENT;
	*data = m->own;
	*len = m->own_len;
	return 0;
}

/* The child of the container at off named by seg (a map key, or an array index in
 * decimal): its offset, or 0 when there is none. */
static size_t view_child(const struct vigil_msg *m, size_t off, const char *seg, size_t n)
{
	struct vigil_own_item it, key;
	uint64_t idx = 0;
	uint32_t i;
	size_t h, k;

	h = vigil_own_item(m->own + off, m->own_len - off, &it);
	if (!h || !n)
		return 0;
	off += h;
	if (it.obj.type == MSGPACK_OBJECT_MAP) {
		for (i = 0; i < it.children; i++) {
			k = off < m->own_len ? vigil_own_item(m->own + off, m->own_len - off, &key) : 0;
			if (!k)
				return 0;
			if (key.obj.type == MSGPACK_OBJECT_STR && key.obj.via.str.size == n &&
			    !memcmp(key.obj.via.str.ptr, seg, n))
				return off + k;
			off = vigil_own_skip(m->own, m->own_len, off + k);
			if (!off)
				return 0;
		}
		return 0;
	}
	if (it.obj.type != MSGPACK_OBJECT_ARRAY || n > 10)
		return 0;
	for (i = 0; i < n; i++) {
		if (seg[i] < '0' || seg[i] > '9')
			return 0;
		idx = idx * 10 + (uint64_t)(seg[i] - '0');
	}
	if (idx >= it.children)
		return 0;
	for (; idx && off; idx--)
		off = vigil_own_skip(m->own, m->own_len, off);
	return off;
}

/* Where path (vigil_msg__find's syntax) starts in the bytes, or 0 when absent. */
static size_t view_locate(const struct vigil_msg *m, const char *path)
{
	const char *end;
	size_t off;

	if (!m->own || !path)
		return 0;
	off = m->own_body;
	if (*path == '/') {
		off = 0;
		path++;
	}
	for (;;) {
		end = strchrnul(path, '.');
		off = view_child(m, off, path, (size_t)(end - path));
		if (!off || !*end)
			return off;
		path = end + 1;
	}
}

const msgpack_object *encode_view_find(struct vigil_msg *m, const char *path)
{
	size_t off = view_locate(m, path), used = 0;
	struct vigil_own_item it;
	msgpack_object *o;

	if (!off || !vigil_own_item(m->own + off, m->own_len - off, &it))
		return NULL;
	o = msgpack_zone_malloc(&m->zone, sizeof(*o));
	if (!o)
		return NULL;
	if (it.obj.type != MSGPACK_OBJECT_MAP && it.obj.type != MSGPACK_OBJECT_ARRAY) {
		*o = it.obj;	/* strings point into the borrowed bytes */
		return o;
	}
	/* a container: unpacked alone (its strings point into the bytes too) */
	if (msgpack_unpack((const char *)m->own + off, m->own_len - off, &used, &m->zone, o) <= 0)
		return NULL;
	return o;
}

int encode_view_kind(const struct vigil_msg *m, const char *path, msgpack_object_type *type, uint32_t *count)
{
	size_t off = view_locate(m, path);
	struct vigil_own_item it;

	if (!off || !vigil_own_item(m->own + off, m->own_len - off, &it))
		return -ENOENT;
	*type = it.obj.type;
	*count = it.obj.type == MSGPACK_OBJECT_STR || it.obj.type == MSGPACK_OBJECT_BIN ? it.obj.via.str.size
											: it.children;
	return 0;
}

const msgpack_object *encode_view_root(struct vigil_msg *m)
{
	size_t used = 0;

	if (m->root.type == MSGPACK_OBJECT_MAP || !m->own)
		return m->root.type == MSGPACK_OBJECT_MAP ? &m->root : NULL;
	if (msgpack_unpack((const char *)m->own, m->own_len, &used, &m->zone, &m->root) <= 0 ||
	    m->root.type != MSGPACK_OBJECT_MAP || !m->root.via.map.size) {
		m->root.type = MSGPACK_OBJECT_NIL;
		return NULL;
	}
	m->body = &m->root.via.map.ptr[0].val;
	return &m->root;
}
