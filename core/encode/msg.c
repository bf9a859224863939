/* msg.c - a bus message decoded back into a msgpack tree, and path lookups into it.
 *
 * Input comes from other processes on the bus and will be fuzzed, so it is validated by a
 * flat scan before msgpack-c sees it: the unpacker allocates each container's elements up
 * front from the count in its header (a 5-byte array32 header asks for ~100 GB), and fails
 * deep nesting with a misleading NOMEM. The scan proves every count is backed by bytes and
 * the nesting fits, without recursion, so msgpack_unpack only ever parses well-formed input.
 * The control socket's requests go through the same scan (vigil_msgpack_scan).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "encode_internal.h"

/* Markers 0xc0..0xdf: a length field of lenbytes bytes holding n, then fixed + bytes * n
 * bytes of payload, then items * n child objects. Entries left out (0xc1, never used) are
 * invalid. */
static const struct {
	bool ok;
	uint8_t lenbytes, fixed, bytes, items;
} markers[32] = {
	[0x00] = { true, 0, 0, 0, 0 },					/* nil */
	[0x02] = { true, 0, 0, 0, 0 }, [0x03] = { true, 0, 0, 0, 0 },	/* false, true */
	[0x04] = { true, 1, 0, 1, 0 }, [0x05] = { true, 2, 0, 1, 0 },	/* bin8, bin16 */
	[0x06] = { true, 4, 0, 1, 0 },					/* bin32 */
	[0x07] = { true, 1, 1, 1, 0 }, [0x08] = { true, 2, 1, 1, 0 },	/* ext8, ext16: + type */
	[0x09] = { true, 4, 1, 1, 0 },					/* ext32 */
	[0x0a] = { true, 0, 4, 0, 0 }, [0x0b] = { true, 0, 8, 0, 0 },	/* float32, float64 */
	[0x0c] = { true, 0, 1, 0, 0 }, [0x0d] = { true, 0, 2, 0, 0 },	/* uint8..uint64 */
	[0x0e] = { true, 0, 4, 0, 0 }, [0x0f] = { true, 0, 8, 0, 0 },
	[0x10] = { true, 0, 1, 0, 0 }, [0x11] = { true, 0, 2, 0, 0 },	/* int8..int64 */
	[0x12] = { true, 0, 4, 0, 0 }, [0x13] = { true, 0, 8, 0, 0 },
	[0x14] = { true, 0, 2, 0, 0 }, [0x15] = { true, 0, 3, 0, 0 },	/* fixext1..16: + type */
	[0x16] = { true, 0, 5, 0, 0 }, [0x17] = { true, 0, 9, 0, 0 },
	[0x18] = { true, 0, 17, 0, 0 },
	[0x19] = { true, 1, 0, 1, 0 }, [0x1a] = { true, 2, 0, 1, 0 },	/* str8, str16 */
	[0x1b] = { true, 4, 0, 1, 0 },					/* str32 */
	[0x1c] = { true, 2, 0, 0, 1 }, [0x1d] = { true, 4, 0, 0, 1 },	/* array16, array32 */
	[0x1e] = { true, 2, 0, 0, 2 }, [0x1f] = { true, 4, 0, 0, 2 },	/* map16, map32 */
};

static uint64_t be(const unsigned char *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* What the object header at p says: payload bytes follow it, then items child objects.
 * Returns the header length, or 0 for 0xc1 or a length field cut short. */
static size_t header(const unsigned char *p, size_t avail, uint64_t *payload, uint64_t *items)
{
	unsigned char c = p[0];
	size_t hlen = 1;
	uint64_t n;

	*payload = 0;
	*items = 0;
	if (c >= 0x80 && c <= 0x8f) {			/* fixmap */
		*items = 2 * (uint64_t)(c & 0x0f);
	} else if (c >= 0x90 && c <= 0x9f) {		/* fixarray */
		*items = c & 0x0f;
	} else if (c >= 0xa0 && c <= 0xbf) {		/* fixstr */
		*payload = c & 0x1f;
	} else if (c >= 0xc0 && c <= 0xdf) {
		hlen += markers[c - 0xc0].lenbytes;
		if (!markers[c - 0xc0].ok || avail < hlen) {
			hlen = 0;
			goto out;
		}
		n = be(p + 1, markers[c - 0xc0].lenbytes);
		*payload = markers[c - 0xc0].fixed + markers[c - 0xc0].bytes * n;
		*items = markers[c - 0xc0].items * n;
	}						/* else a fixint */
out:
	return hlen;
}

static bool is_container(unsigned char c)
{
	return (c >= 0x80 && c <= 0x9f) || (c >= 0xdc && c <= 0xdf);
}

/* Walk the first object once. left[d] counts the objects still owed to the container
 * open at depth d; left[0] is the document itself, which owes one. Every child takes at
 * least one byte, so a count or length that max - off cannot hold is invalid at once.
 * tail, when not NULL, gets where the root's children start (the last four kept). */
static int scan(const unsigned char *p, size_t len, size_t max, size_t *used, struct vigil_msgpack_tail *tail)
{
	uint64_t left[ENCODE_MAX_DEPTH + 1], payload, items;
	size_t off = 0, hlen;
	int depth = 0;
	unsigned char c;

	if (len > max)
		len = max;
	left[0] = 1;
	while (depth >= 0) {
		if (!left[depth]) {
			depth--;
			continue;
		}
		left[depth]--;
		if (depth == 1 && tail)
			tail->start[tail->items++ % VIGIL_MSGPACK_TAIL] = off;
		if (off >= len)
			goto short_read;
		c = p[off];
		if (c == 0xc1)
			return -EBADMSG;
		hlen = header(p + off, len - off, &payload, &items);
		if (!hlen)
			goto short_read;	/* the length field is cut short */
		off += hlen;
		if (payload > max - off)
			return -EBADMSG;
		if (payload > len - off)
			goto short_read;
		off += payload;
		if (!is_container(c))
			continue;
		/* msgpack-c refuses any container, even an empty one, past its stack */
		if (depth == ENCODE_MAX_DEPTH || items > max - off)
			return -EBADMSG;
		if (items)
			left[++depth] = items;
	}
	*used = off;
	return 0;
short_read:
	return len >= max ? -EBADMSG : -EAGAIN;
}

int vigil_msgpack_scan_prefix(const void *data, size_t len, size_t max, size_t *used)
{
	return scan(data, len, max, used, NULL);
}

int vigil_msgpack_scan(const void *data, size_t len, size_t *used)
{
	int err = scan(data, len, len, used, NULL);

	return err == -EAGAIN ? -EBADMSG : err;
}

int vigil_msgpack_scan_tail(const void *data, size_t len, struct vigil_msgpack_tail *tail)
{
	size_t used = 0;
	int err;

	memset(tail, 0, sizeof(*tail));
	err = scan(data, len, len, &used, tail);
	if (!err && used != len)
		err = -EBADMSG;
	if (err)
		return -EBADMSG;
	tail->len = len;
	return 0;
}

void vigil_msg__free(struct vigil_msg *m)
{
	if (m && m->zone_ready)
		msgpack_zone_destroy(&m->zone);
	free(m);
}

static bool key_is(const msgpack_object *k, const char *s)
{
	return k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(s) && !memcmp(k->via.str.ptr, s, k->via.str.size);
}

/* The bus's delivery stamp ("vigil_seq", "vigil_incarnation": the root's last entries, see
 * core/bus/bus.h) is the transport's, not the event's: read it, then hide it from every
 * rendering and lookup by shortening the root map. */
static void take_stamp(struct vigil_msg *m)
{
	msgpack_object_map *map = &m->root.via.map;
	const msgpack_object_kv *kv;
	bool have_seq = false, have_inc = false;

	uint32_t stop = map->size > VIGIL_BUS_STAMP_ENTRIES + 1 ? map->size - VIGIL_BUS_STAMP_ENTRIES : 1;

	/* from the end, as a reader of the bytes sees them (core/bus stamp.c reads the last
	 * two entries only, without walking the rest again): when a key repeats, the last wins */
	while (map->size > stop) {
		kv = &map->ptr[map->size - 1];
		if (kv->val.type != MSGPACK_OBJECT_POSITIVE_INTEGER)
			break;
		if (key_is(&kv->key, "vigil_seq")) {
			if (!have_seq)
				m->seq = kv->val.via.u64;
			have_seq = true;
		} else if (key_is(&kv->key, "vigil_incarnation")) {
			if (!have_inc)
				m->incarnation = kv->val.via.u64;
			have_inc = true;
		} else {
			break;
		}
		map->size--;
	}
}

/* The root must be a map whose first entry is "<event key>": {body}. Anything else may
 * follow; unknown event keys are accepted so newer producers reach older consumers. */
static int check_root(struct vigil_msg *m)
{
	const msgpack_object_kv *first;
	int err = -EBADMSG;

	if (m->root.type != MSGPACK_OBJECT_MAP || !m->root.via.map.size)
		goto out;
	first = &m->root.via.map.ptr[0];
	if (first->key.type != MSGPACK_OBJECT_STR || !first->key.via.str.size ||
	    first->val.type != MSGPACK_OBJECT_MAP)
		goto out;
	m->type_key = msgpack_zone_malloc(&m->zone, first->key.via.str.size + 1);
	if (!m->type_key) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(m->type_key, first->key.via.str.ptr, first->key.via.str.size);
	m->type_key[first->key.via.str.size] = '\0';
	m->body = &first->val;
	take_stamp(m);
	/* a known type only when spelled as its key ("process_exec", not "exec") */
	if (vigil_event_type_parse(m->type_key, &m->type) ||
	    strcmp(vigil_event_type_key(m->type), m->type_key))
		m->type = 0;
	err = 0;
out:
	return err;
}

static struct vigil_msg *decode(const void *data, size_t len, bool trusted)
{
	struct vigil_msg *m = NULL;
	size_t off = 0, used = 0;
	int err;

	if (!data || !len) {
		err = -EBADMSG;
		goto err_out;
	}
	err = trusted ? 0 : vigil_msgpack_scan(data, len, &used);
	if (!err && !trusted && used != len)
		err = -EBADMSG;		/* trailing bytes */
	if (err)
		goto err_out;
	m = calloc(1, sizeof(*m) + len);
	if (!m) {
		err = -ENOMEM;
		goto err_out;
	}
	memcpy(m->data, data, len);
	if (!msgpack_zone_init(&m->zone, MSGPACK_ZONE_CHUNK_SIZE)) {
		err = -ENOMEM;
		goto err_out;
	}
	m->zone_ready = true;
	switch (msgpack_unpack(m->data, len, &off, &m->zone, &m->root)) {
	case MSGPACK_UNPACK_SUCCESS:
		err = off == len ? 0 : -EBADMSG;
		break;
	case MSGPACK_UNPACK_NOMEM_ERROR:
		err = -ENOMEM;
		break;
	default:
		err = -EBADMSG;
		break;
	}
	if (err)
		goto err_out;
	err = check_root(m);
	if (err)
		goto err_out;
	return m;

err_out:
	vigil_msg__free(m);
	errno = -err;
	return NULL;
}

struct vigil_msg *vigil_msg__decode(const void *data, size_t len)
{
	return decode(data, len, false);
}

struct vigil_msg *vigil_msg__decode_own(const void *data, size_t len)
{
	return decode(data, len, true);
}

int vigil_msg__delivery(const struct vigil_msg *m, uint64_t *incarnation, uint64_t *seq)
{
	if (!m->seq || !m->incarnation)
		return -ENOENT;
	*incarnation = m->incarnation;
	*seq = m->seq;
	return 0;
}

/* A view hands out its tree only to callers that ask for it (unpacked once). */
const msgpack_object *vigil_msg__root(const struct vigil_msg *m)
{
	return m->view ? encode_view_root((struct vigil_msg *)m) : &m->root;
}

const char *vigil_msg__type_key(const struct vigil_msg *m)
{
	return m->type_key;
}

enum vigil_event_type vigil_msg__type(const struct vigil_msg *m)
{
	return m->type;
}

const msgpack_object *vigil_msg__body(const struct vigil_msg *m)
{
	if (m->view)
		encode_view_root((struct vigil_msg *)m);
	return m->body;
}

/* One path step: a map entry by string key (the first if keys repeat), or an array
 * element by decimal index ("args.0.int_arg"). */
static const msgpack_object *child(const msgpack_object *o, const char *seg, size_t n)
{
	const msgpack_object *found = NULL;
	const msgpack_object_kv *kv;
	uint32_t i;
	uint64_t idx = 0;
	size_t k;

	if (!n)
		goto out;
	if (o->type == MSGPACK_OBJECT_MAP) {
		for (i = 0; i < o->via.map.size; i++) {
			kv = &o->via.map.ptr[i];
			if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == n &&
			    !memcmp(kv->key.via.str.ptr, seg, n)) {
				found = &kv->val;
				break;
			}
		}
	} else if (o->type == MSGPACK_OBJECT_ARRAY && n <= 10) {
		for (k = 0; k < n; k++) {
			if (seg[k] < '0' || seg[k] > '9')
				goto out;
			idx = idx * 10 + (uint64_t)(seg[k] - '0');
		}
		if (idx < o->via.array.size)
			found = &o->via.array.ptr[idx];
	}
out:
	return found;
}

const msgpack_object *vigil_msg__find(const struct vigil_msg *m, const char *path)
{
	const msgpack_object *o = NULL;
	const char *end;

	if (!m || !path)
		goto out;
	if (m->view)
		return encode_view_find((struct vigil_msg *)m, path);
	o = m->body;
	if (*path == '/') {
		o = &m->root;
		path++;
	}
	/* an empty segment ("a..b", "a.", "") finds nothing */
	for (;;) {
		end = strchrnul(path, '.');
		o = child(o, path, (size_t)(end - path));
		if (!o || !*end)
			break;
		path = end + 1;
	}
out:
	return o;
}

int vigil_msg__find_kind(const struct vigil_msg *m, const char *path, msgpack_object_type *type, uint32_t *count)
{
	const msgpack_object *o;

	if (m->view)
		return encode_view_kind((struct vigil_msg *)m, path, type, count);
	o = vigil_msg__find(m, path);
	if (!o)
		return -ENOENT;
	*type = o->type;
	*count = o->type == MSGPACK_OBJECT_MAP	 ? o->via.map.size
		 : o->type == MSGPACK_OBJECT_ARRAY ? o->via.array.size
		 : o->type == MSGPACK_OBJECT_STR || o->type == MSGPACK_OBJECT_BIN ? o->via.str.size
									    : 0;
	return 0;
}

bool vigil_msg__array_has_str(const struct vigil_msg *m, const char *path, const char *s)
{
	const msgpack_object *o, *c;
	size_t n = strlen(s);
	uint32_t i;

	if (m->view)
		return encode_view_array_has_str((struct vigil_msg *)m, path, s, n);
	o = vigil_msg__find(m, path);
	for (i = 0; o && o->type == MSGPACK_OBJECT_ARRAY && i < o->via.array.size; i++) {
		c = &o->via.array.ptr[i];
		if (c->type == MSGPACK_OBJECT_STR && c->via.str.size == n && !memcmp(c->via.str.ptr, s, n))
			return true;
	}
	return false;
}

int vigil_msg__find_str(const struct vigil_msg *m, const char *path, char *out, size_t size)
{
	const msgpack_object *o = vigil_msg__find(m, path);
	size_t n;
	int ret = -ENOENT;

	if (!o || o->type != MSGPACK_OBJECT_STR)
		goto out;
	n = o->via.str.size;
	if (size) {
		memcpy(out, o->via.str.ptr, n < size ? n : size - 1);
		out[n < size ? n : size - 1] = '\0';
	}
	ret = n > INT_MAX ? INT_MAX : (int)n;
out:
	return ret;
}

/* protojson writes 64-bit integers as decimal strings, so those count as integers too. */
int vigil_msg__find_u64(const struct vigil_msg *m, const char *path, uint64_t *out)
{
	const msgpack_object *o = vigil_msg__find(m, path);
	uint64_t v = 0, d;
	uint32_t i;
	int err = -ENOENT;

	if (!o)
		goto out;
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		v = o->via.u64;
	} else if (o->type == MSGPACK_OBJECT_STR && o->via.str.size) {
		for (i = 0; i < o->via.str.size; i++) {
			d = (uint64_t)(o->via.str.ptr[i] - '0');
			if (d > 9 || v > (UINT64_MAX - d) / 10)
				goto out;
			v = v * 10 + d;
		}
	} else {
		goto out;
	}
	*out = v;
	err = 0;
out:
	return err;
}

const msgpack_object *vigil_msgpack_get(const msgpack_object *map, const char *key)
{
	if (!map || !key || map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	return child(map, key, strlen(key));
}
