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

size_t vigil_own_item(const void *data, size_t avail, struct vigil_own_item *it)
{
	return encode_own_item(data, avail, it);
}

/* The bytes of the item at p (its header, and a string's payload) and the children that
 * follow it, without reading its value: the skip's inner loop. 0 when cut short or a form
 * the encoder never writes. */
static inline size_t item_span(const unsigned char *p, size_t avail, uint64_t *children)
{
	unsigned char c = p[0];
	size_t h = 1, w = 0;
	uint64_t n;

	*children = 0;
	if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
		return 1;
	if (c <= 0x8f) {
		*children = 2 * (uint64_t)(c & 0x0f);
		return 1;
	}
	if (c <= 0x9f) {
		*children = c & 0x0f;
		return 1;
	}
	if (c <= 0xbf) {
		n = c & 0x1f;
		return n < avail ? 1 + n : 0;
	}
	switch (c) {
	case 0xcc: case 0xd0: return avail > 1 ? 2 : 0;
	case 0xcd: case 0xd1: return avail > 2 ? 3 : 0;
	case 0xce: case 0xd2: return avail > 4 ? 5 : 0;
	case 0xcf: case 0xd3: return avail > 8 ? 9 : 0;
	case 0xc4: case 0xd9: w = 1; break;
	case 0xc5: case 0xda: case 0xdc: case 0xde: w = 2; break;
	case 0xc6: case 0xdb: case 0xdd: case 0xdf: w = 4; break;
	default: return 0;
	}
	if (avail <= w)
		return 0;
	n = encode_be(p + 1, w);
	h += w;
	if (c >= 0xdc) {
		*children = c >= 0xde ? 2 * n : n;
		return h;
	}
	return n <= avail - h ? h + n : 0;
}

size_t vigil_own_skip(const void *data, size_t len, size_t off)
{
	const unsigned char *p = data;
	uint64_t left = 1, kids;
	size_t h;

	while (left) {
		/* runs of short strings (a capability list: 41 names) without the general case */
		while (left > 1 && off < len && (p[off] & 0xe0) == 0xa0 && (size_t)(p[off] & 0x1f) < len - off) {
			off += 1 + (size_t)(p[off] & 0x1f);
			left--;
		}
		h = off < len ? item_span(p + off, len - off, &kids) : 0;
		if (!h)
			return 0;
		off += h;
		left += kids - 1;
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

/* The root must be a map whose first key names the event, as check_root (msg.c) wants.
 * body_end (where the encoder's pass finished the body, 0 when unknown) lets root lookups
 * (node_name, time) start after the body without walking it. */
int vigil_msg__view_own(struct vigil_msg *m, const void *data, size_t len, size_t body_end)
{
	const unsigned char *p = data;
	struct encode_view_map *root = &m->own_maps[0];
	struct vigil_own_item it, key;
	size_t h, k;

	msgpack_zone_clear(&m->zone);
	m->own = NULL;
	m->body = NULL;
	m->root.type = MSGPACK_OBJECT_NIL;
	m->type = 0;
	m->own_nmaps = 0;
	h = encode_own_item(p, len, &it);
	if (!h || it.obj.type != MSGPACK_OBJECT_MAP || !it.children || len > UINT32_MAX)
		return -EBADMSG;
	k = encode_own_item(p + h, len - h, &key);
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
	/* the root's index starts with the body; its other entries follow body_end */
	memset(root, 0, offsetof(struct encode_view_map, entry));
	root->entry[0] = (struct encode_view_entry){ (const char *)key.obj.via.str.ptr, key.obj.via.str.size,
						      (uint32_t)m->own_body };
	root->n = 1;
	root->left = it.children - 1;
	if (body_end > m->own_body && body_end < len)
		root->next = (uint32_t)body_end;
	else
		root->pending = (uint32_t)m->own_body;	/* walked past when first asked */
	m->own_nmaps = 1;
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

/* The index of the map at off, made on first use; NULL when every slot is taken (the
 * caller walks the map instead). */
static struct encode_view_map *map_index(struct vigil_msg *m, size_t off, uint32_t entries, size_t first)
{
	struct encode_view_map *vm;
	size_t i;

	for (i = 0; i < m->own_nmaps; i++)
		if (m->own_maps[i].off == off)
			return &m->own_maps[i];
	if (m->own_nmaps == VIGIL_ARRAY_SIZE(m->own_maps))
		return NULL;
	vm = &m->own_maps[m->own_nmaps++];
	memset(vm, 0, offsetof(struct encode_view_map, entry));
	vm->off = (uint32_t)off;
	vm->next = (uint32_t)first;
	vm->left = entries;
	return vm;
}

/* The value of key seg in the indexed map vm: from the index, else by walking on from
 * where the last lookup stopped, indexing what it passes. A value found is skipped only
 * when a later lookup walks on past it. 0 when absent. */
static size_t map_find(struct vigil_msg *m, struct encode_view_map *vm, const char *seg, size_t n)
{
	struct vigil_own_item key;
	size_t i, k, val;

	for (i = 0; i < vm->n; i++)
		if (vm->entry[i].klen == n && !memcmp(vm->entry[i].key, seg, n))
			return vm->entry[i].off;
	for (;;) {
		if (vm->pending) {
			vm->next = (uint32_t)vigil_own_skip(m->own, m->own_len, vm->pending);
			vm->pending = 0;
			if (!vm->next)
				vm->left = 0;	/* cut short: nothing more to find */
		}
		if (!vm->left)
			return 0;
		k = vm->next < m->own_len ? encode_own_item(m->own + vm->next, m->own_len - vm->next, &key) : 0;
		if (!k || key.obj.type != MSGPACK_OBJECT_STR) {
			vm->left = 0;
			return 0;
		}
		val = vm->next + k;
		vm->left--;
		vm->pending = (uint32_t)val;
		if (vm->n < VIGIL_ARRAY_SIZE(vm->entry))
			vm->entry[vm->n++] = (struct encode_view_entry){ key.obj.via.str.ptr, key.obj.via.str.size,
									 (uint32_t)val };
		else
			vm->overflow = true;
		if (key.obj.via.str.size == n && !memcmp(key.obj.via.str.ptr, seg, n))
			return val;
	}
}

/* The child of the container at off named by seg (a map key, or an array index in
 * decimal): its offset, or 0 when there is none. */
static size_t view_child(struct vigil_msg *m, size_t off, const char *seg, size_t n)
{
	struct encode_view_map *vm;
	struct vigil_own_item it, key;
	uint64_t idx = 0;
	uint32_t i;
	size_t h, k;

	h = encode_own_item(m->own + off, m->own_len - off, &it);
	if (!h || !n)
		return 0;
	if (it.obj.type == MSGPACK_OBJECT_MAP) {
		vm = map_index(m, off, it.children, off + h);
		if (vm && !vm->overflow)
			return map_find(m, vm, seg, n);
		/* no index (or one that could not hold it all): walk the map */
		for (off += h, i = 0; i < it.children; i++) {
			k = off < m->own_len ? encode_own_item(m->own + off, m->own_len - off, &key) : 0;
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
	off += h;
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
static size_t view_locate(struct vigil_msg *m, const char *path)
{
	const char *end;
	size_t off;

	if (!m->own || !path)
		return 0;
	if (*path == '/') {
		/* the root's index is always there (vigil_msg__view_own) */
		path++;
		end = strchrnul(path, '.');
		off = end > path ? map_find(m, &m->own_maps[0], path, (size_t)(end - path)) : 0;
		if (!off || !*end)
			return off;
		path = end + 1;
	} else {
		off = m->own_body;
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

int encode_view_kind(struct vigil_msg *m, const char *path, msgpack_object_type *type, uint32_t *count)
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

bool encode_view_array_has_str(struct vigil_msg *m, const char *path, const char *s, size_t n)
{
	size_t off = view_locate(m, path), h;
	struct vigil_own_item it;
	uint64_t i, count;

	if (!off || !(h = vigil_own_item(m->own + off, m->own_len - off, &it)) || it.obj.type != MSGPACK_OBJECT_ARRAY)
		return false;
	count = it.children;
	for (off += h, i = 0; i < count && off; i++) {
		if (vigil_own_item(m->own + off, m->own_len - off, &it) && it.obj.type == MSGPACK_OBJECT_STR &&
		    it.obj.via.str.size == n && !memcmp(it.obj.via.str.ptr, s, n))
			return true;
		off = vigil_own_skip(m->own, m->own_len, off);
	}
	return false;
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
