/* stream.c - the export line written straight from the agent's own bus bytes: field
 * filters and the Tetragon-pure strip decided per map entry while the JSON line is
 * rendered from the bytes (vigil_json_from_own_msgpack_kept), so the event is never
 * unpacked into a tree. fields.c and pure.c do the same on a decoded tree, and must agree
 * with this byte for byte (tests/unit/test_encode.c checks every encoder fixture).
 *
 * The filters compose as fields.c applies them, one after another: each keeps or drops an
 * entry by its path and by whether its value is a container, which an earlier filter never
 * changes, so an entry reaches the line when every filter keeps it. */
#include <errno.h>

#include "export_internal.h"

/* vigil_json_from_msgpack's nesting limit (core/encode ENCODE_MAX_DEPTH): deeper, the
 * render fails before asking */
#define STREAM_MAX_DEPTH 32

struct stream {
	size_t nf;			/* the filters that apply to the event */
	bool include[EXPORT_STREAM_FILTERS];
	/* node[d][i]: where filter i stands for the children asked about at depth d (its trie
	 * node), NULL once it keeps everything below */
	const struct field_node *node[STREAM_MAX_DEPTH + 1][EXPORT_STREAM_FILTERS];
	const struct field_node *roots[EXPORT_STREAM_FILTERS];
	bool strip, stripped;
	bool body_seen;
	msgpack_object kind;		/* the root's first key */
};

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

/* vigil_json_keep_fn: the root's entries all stay (the body's filters start below it);
 * below, every filter must keep the child, then the strip may leave out the body's own
 * fields (after the filters: a field they drop is not one the strip left out). */
static bool keep(void *ctx, int depth, const msgpack_object *key, bool container)
{
	struct stream *s = ctx;
	const struct field_node **below;
	size_t i;

	if (depth >= STREAM_MAX_DEPTH || (depth > 1 && !s->nf))
		return true;	/* below the body, only the filters leave things out */
	below = s->node[depth + 1];
	if (!depth) {
		for (i = 0; i < s->nf; i++)
			below[i] = s->body_seen ? NULL : s->roots[i];
		if (!s->body_seen)
			s->kind = *key;
		s->body_seen = true;
		return true;
	}
	for (i = 0; i < s->nf; i++)
		if (!keep_child(s->node[depth][i], s->include[i], key, container, &below[i]))
			return false;
	if (depth == 1 && s->strip && key && export_is_own_field(&s->kind, key)) {
		s->stripped = true;
		return false;
	}
	return true;
}

int export_stream_line(const struct vigil_field_filter *ff, enum vigil_event_type t, bool strip, const void *data,
		       size_t len, struct vigil_buf *out, bool *stripped)
{
	struct stream s;
	size_t i;
	int err;

	s.nf = 0;
	s.strip = strip;
	s.stripped = false;
	s.body_seen = false;
	for (i = 0; ff && i < ff->n; i++) {
		if (!export_field_applies(&ff->v[i], t))
			continue;
		if (s.nf == EXPORT_STREAM_FILTERS)
			return -E2BIG;
		s.include[s.nf] = ff->v[i].include;
		s.roots[s.nf++] = &ff->v[i].root;
	}
	/* nothing to leave out: the plain line */
	if (!s.nf && !strip)
		err = vigil_json_from_own_msgpack(data, len, out);
	else
		err = vigil_json_from_own_msgpack_kept(data, len, keep, &s, out);
	if (!err)
		*stripped = s.stripped;
	return err;
}
