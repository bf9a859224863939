/* stream.c - the export line written straight from the agent's own bus bytes: field
 * filters and the Tetragon-pure strip decided per map entry while the bytes are walked
 * once, so the event is never unpacked into a tree (fields.c and pure.c do the same on a
 * decoded tree, and must agree with this byte for byte: tests/unit/test_export.c).
 *
 * The filters compose as fields.c applies them, one after another: each keeps or drops an
 * entry by its path and by whether its value is a container, which an earlier filter never
 * changes, so an entry reaches the line when every filter keeps it. */
#include <errno.h>

#include "export_internal.h"

/* vigil_json_from_msgpack's nesting limit (core/encode ENCODE_MAX_DEPTH) */
#define STREAM_MAX_DEPTH 32

/* Where each applicable filter stands at the value being written: its trie node, or
 * NULL once it keeps everything below. */
struct stream_state {
	const struct field_node *node[EXPORT_STREAM_FILTERS];
};

struct stream {
	const unsigned char *p;
	size_t len, off;
	size_t nf;
	bool include[EXPORT_STREAM_FILTERS];
	bool strip;
	msgpack_object kind;		/* the root's first key */
	bool stripped;
	struct vigil_buf *out;
	int err;
};

static void put(struct stream *s, const char *text, size_t n)
{
	if (!s->err)
		s->err = vigil_buf_append(s->out, text, n);
}

static void put_scalar(struct stream *s, const msgpack_object *o)
{
	if (!s->err)
		s->err = vigil_json_from_msgpack(o, s->out);
}

/* fields.c's prune, for one filter and one child: whether the child stays, and where the
 * filter stands below it. key is NULL for an array's item (the path goes on through it). */
static bool keep_child(const struct field_node *n, bool include, const msgpack_object *key, bool container,
		       const struct field_node **below)
{
	const struct field_node *kid = n;

	*below = NULL;
	if (!n)
		return true;
	if (key) {
		kid = export_field_child(n, key->via.str.ptr, key->via.str.size);
		if (!kid)
			return !include;
		if (kid->leaf)
			return include;
	}
	if (container) {
		*below = kid;
		return true;
	}
	return !include;	/* a scalar where the path goes deeper */
}

static bool keep_all(const struct stream *s, const struct stream_state *at, const msgpack_object *key,
		     bool container, struct stream_state *below)
{
	size_t i;

	for (i = 0; i < s->nf; i++)
		if (!keep_child(at->node[i], s->include[i], key, container, &below->node[i]))
			return false;
	return true;
}

static bool peek_container(const struct stream *s)
{
	struct vigil_own_item it;

	if (s->off >= s->len || !vigil_own_item(s->p + s->off, s->len - s->off, &it))
		return false;
	return it.obj.type == MSGPACK_OBJECT_MAP || it.obj.type == MSGPACK_OBJECT_ARRAY;
}

static void skip(struct stream *s)
{
	size_t next = vigil_own_skip(s->p, s->len, s->off);

	if (!next && !s->err)
		s->err = -EINVAL;
	s->off = next ? next : s->len;
}

static void emit(struct stream *s, const struct stream_state *at, int depth);

/* A map's entries; depth 2 is the body (inside the root), where vigil's own fields may be
 * stripped. */
static void emit_map(struct stream *s, uint32_t n, const struct stream_state *at, int depth)
{
	struct stream_state below;
	struct vigil_own_item key;
	bool first = true;
	size_t h;

	put(s, "{", 1);
	for (; n && !s->err; n--) {
		h = s->off < s->len ? vigil_own_item(s->p + s->off, s->len - s->off, &key) : 0;
		if (!h || key.obj.type != MSGPACK_OBJECT_STR) {
			s->err = -EINVAL;
			break;
		}
		s->off += h;
		/* the field filters first: a field they drop is not one the strip left out */
		if (!keep_all(s, at, &key.obj, peek_container(s), &below)) {
			skip(s);
			continue;
		}
		if (depth == 2 && s->strip && export_is_own_field(&s->kind, &key.obj)) {
			s->stripped = true;
			skip(s);
			continue;
		}
		if (!first)
			put(s, ",", 1);
		first = false;
		put_scalar(s, &key.obj);
		put(s, ":", 1);
		emit(s, &below, depth);
	}
	put(s, "}", 1);
}

static void emit_array(struct stream *s, uint32_t n, const struct stream_state *at, int depth)
{
	struct stream_state below;
	bool first = true;

	put(s, "[", 1);
	for (; n && !s->err; n--) {
		if (!keep_all(s, at, NULL, peek_container(s), &below)) {
			skip(s);
			continue;
		}
		if (!first)
			put(s, ",", 1);
		first = false;
		emit(s, &below, depth);
	}
	put(s, "]", 1);
}

/* The value at s->off; depth counts the containers around it. */
static void emit(struct stream *s, const struct stream_state *at, int depth)
{
	struct vigil_own_item it;
	size_t h = s->off < s->len ? vigil_own_item(s->p + s->off, s->len - s->off, &it) : 0;
	bool container = it.obj.type == MSGPACK_OBJECT_MAP || it.obj.type == MSGPACK_OBJECT_ARRAY;

	if (!h || (container && depth >= STREAM_MAX_DEPTH)) {
		s->err = s->err ? s->err : -EINVAL;
		return;
	}
	s->off += h;
	if (it.obj.type == MSGPACK_OBJECT_MAP)
		emit_map(s, it.children, at, depth + 1);
	else if (it.obj.type == MSGPACK_OBJECT_ARRAY)
		emit_array(s, it.children, at, depth + 1);
	else
		put_scalar(s, &it.obj);
}

int export_stream_line(const struct vigil_field_filter *ff, enum vigil_event_type t, bool strip, const void *data,
		       size_t len, struct vigil_buf *out, bool *stripped)
{
	struct stream s = { .p = data, .len = len, .strip = strip, .out = out };
	struct stream_state body = { { NULL } }, rest = { { NULL } };
	struct vigil_own_item root, key;
	size_t start = out->len, h, i;
	uint32_t n;

	for (i = 0; ff && i < ff->n; i++) {
		if (!export_field_applies(&ff->v[i], t))
			continue;
		if (s.nf == EXPORT_STREAM_FILTERS)
			return -E2BIG;
		s.include[s.nf] = ff->v[i].include;
		body.node[s.nf++] = &ff->v[i].root;
	}
	/* the root: the body under the event's key, filtered; node_name and time as they are */
	h = vigil_own_item(s.p, s.len, &root);
	if (!h || root.obj.type != MSGPACK_OBJECT_MAP || !root.children)
		return -EINVAL;
	s.off = h;
	h = vigil_own_item(s.p + s.off, s.len - s.off, &key);
	if (!h || key.obj.type != MSGPACK_OBJECT_STR)
		return -EINVAL;
	s.kind = key.obj;
	s.off += h;
	put(&s, "{", 1);
	put_scalar(&s, &key.obj);
	put(&s, ":", 1);
	emit(&s, &body, 1);
	s.strip = false;	/* only the body has vigil's own fields */
	for (n = root.children - 1; n && !s.err; n--) {
		h = vigil_own_item(s.p + s.off, s.len - s.off, &key);
		if (!h || key.obj.type != MSGPACK_OBJECT_STR) {
			s.err = -EINVAL;
			break;
		}
		s.off += h;
		put(&s, ",", 1);
		put_scalar(&s, &key.obj);
		put(&s, ":", 1);
		emit(&s, &rest, 1);
	}
	put(&s, "}", 1);
	if (!s.err && s.off != s.len)
		s.err = -EINVAL;	/* one object, nothing after it */
	if (s.err) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
		return s.err;
	}
	*stripped = s.stripped;
	return 0;
}
