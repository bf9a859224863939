/* fields.c - Tetragon's field filters: keep (INCLUDE) or drop (EXCLUDE) dotted paths of the
 * event body, per event type. The result shares the message's leaves: only the maps and
 * lists on a filtered path are copied, into a zone reused from call to call. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "export_internal.h"


static void node_free(struct field_node *n)
{
	size_t i;

	for (i = 0; i < n->nkids; i++)
		node_free(&n->kids[i]);
	free(n->kids);
	free(n->name);
}

struct field_node *export_field_child(const struct field_node *n, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < n->nkids; i++)
		if (strlen(n->kids[i].name) == len && !memcmp(n->kids[i].name, s, len))
			return &n->kids[i];
	return NULL;
}

/* Insert one dotted path ("process.binary"). -EINVAL for an empty segment. */
static int node_insert(struct field_node *n, const char *path, size_t len)
{
	struct field_node *kid, *grown;
	const char *dot;
	size_t seg;

	while (len) {
		if (n->leaf)
			return 0;	/* "process" already covers "process.binary" */
		dot = memchr(path, '.', len);
		seg = dot ? (size_t)(dot - path) : len;
		if (!seg || (dot && seg + 1 == len))
			return -EINVAL;
		kid = export_field_child(n, path, seg);
		if (!kid) {
			grown = realloc(n->kids, (n->nkids + 1) * sizeof(*n->kids));
			if (!grown)
				return -ENOMEM;
			n->kids = grown;
			kid = &n->kids[n->nkids];
			memset(kid, 0, sizeof(*kid));
			kid->name = strndup(path, seg);
			if (!kid->name)
				return -ENOMEM;
			n->nkids++;
		}
		n = kid;
		path += dot ? seg + 1 : seg;
		len -= dot ? seg + 1 : seg;
	}
	n->leaf = true;
	return 0;
}

static int parse_fields(struct field_filter *ff, const char *s, int index, int line, struct vigil_export_error *err)
{
	const char *end;
	size_t len;
	int ret;

	for (; *s; s = *end ? end + 1 : end) {
		end = strchrnul(s, ',');
		while (s < end && *s == ' ')
			s++;
		len = (size_t)(end - s);
		while (len && s[len - 1] == ' ')
			len--;
		if (!len)
			continue;
		ret = node_insert(&ff->root, s, len);
		if (ret == -EINVAL)
			return export_fail(err, line, 0, index, "fields: bad path '%.*s'", (int)len, s);
		if (ret)
			return ret;
	}
	if (!ff->root.nkids && !ff->root.leaf)
		return export_fail(err, line, 0, index, "fields: no field named");
	return 0;
}

static int add_filter(void *ctx, json_t *obj, int index, int line, struct vigil_export_error *err)
{
	struct vigil_field_filter *f = ctx;
	struct field_filter *ff, *grown;
	enum vigil_event_type t;
	const char *key, *action;
	json_t *v;
	size_t i;
	int ret;

	grown = realloc(f->v, (f->n + 1) * sizeof(*f->v));
	if (!grown)
		return -ENOMEM;
	f->v = grown;
	ff = &f->v[f->n++];
	memset(ff, 0, sizeof(*ff));
	ff->include = true;	/* Tetragon's default action */
	if (!json_is_string(json_object_get(obj, "fields")))
		return export_fail(err, line, 0, index, "fields: expected a comma-separated string of paths");
	json_object_foreach(obj, key, v) {
		if (!strcmp(key, "fields")) {
			ret = parse_fields(ff, json_string_value(v), index, line, err);
			if (ret)
				return ret;
		} else if (!strcmp(key, "action")) {
			action = json_string_value(v);
			if (!action || (strcasecmp(action, "INCLUDE") && strcasecmp(action, "EXCLUDE")))
				return export_fail(err, line, 0, index, "action: expected \"INCLUDE\" or \"EXCLUDE\"");
			ff->include = !strcasecmp(action, "INCLUDE");
		} else if (!strcmp(key, "event_set")) {
			if (!json_is_array(v))
				return export_fail(err, line, 0, index, "event_set: expected a list");
			for (i = 0; i < json_array_size(v); i++) {
				if (export_event_type(json_array_get(v, i), &t) || export_types_add(&ff->types, t))
					return export_fail(err, line, 0, index, "event_set: unknown event type at position %zu",
							   i + 1);
			}
			ff->has_types = true;
		} else if (!strcmp(key, "invert_event_set")) {
			if (!json_is_boolean(v))
				return export_fail(err, line, 0, index, "invert_event_set: expected true or false");
			ff->invert = json_is_true(v);
		} else {
			return export_fail(err, line, 0, index, "unknown field filter key '%s'", key);
		}
	}
	return 0;
}

void vigil_field_filter__free(struct vigil_field_filter *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->n; i++)
		node_free(&f->v[i].root);
	free(f->v);
	if (f->zone_ready)
		msgpack_zone_destroy(&f->zone);
	free(f);
}

struct vigil_field_filter *vigil_field_filter__new_json(const char *text, struct vigil_export_error *err)
{
	struct vigil_field_filter *f = calloc(1, sizeof(*f));
	int ret = -EINVAL;

	if (err)
		memset(err, 0, sizeof(*err));
	if (!f)
		return NULL;
	if (!text)
		goto err_out;
	if (!msgpack_zone_init(&f->zone, 4096)) {
		ret = -ENOMEM;
		goto err_out;
	}
	f->zone_ready = true;
	ret = export_json_each(text, add_filter, f, err);
	if (ret)
		goto err_out;
	return f;

err_out:
	vigil_field_filter__free(f);
	errno = -ret;
	return NULL;
}

/* ---- pruning ---- */

static bool same_key(const msgpack_object *k, const struct field_node *n)
{
	return k->type == MSGPACK_OBJECT_STR && strlen(n->name) == k->via.str.size &&
	       !memcmp(n->name, k->via.str.ptr, k->via.str.size);
}

static const struct field_node *child_for(const struct field_node *n, const msgpack_object *key)
{
	size_t i;

	for (i = 0; i < n->nkids; i++)
		if (same_key(key, &n->kids[i]))
			return &n->kids[i];
	return NULL;
}

/* Write the pruned o into *out; false when nothing of o is kept. -ENOMEM is reported
 * through *err. INCLUDE keeps what the trie names; EXCLUDE drops it. */
static bool prune(msgpack_zone *z, bool include, const msgpack_object *o, const struct field_node *n,
		  msgpack_object *out, int *err)
{
	const struct field_node *kid;
	msgpack_object_kv *kvs;
	msgpack_object *elems, tmp;
	uint32_t i, k = 0;

	if (n->leaf)
		goto leaf;
	if (o->type == MSGPACK_OBJECT_MAP) {
		kvs = msgpack_zone_malloc(z, (o->via.map.size ? o->via.map.size : 1) * sizeof(*kvs));
		if (!kvs)
			goto nomem;
		for (i = 0; i < o->via.map.size; i++) {
			kid = child_for(n, &o->via.map.ptr[i].key);
			if (!kid) {
				if (!include)
					kvs[k++] = o->via.map.ptr[i];
				continue;
			}
			if (prune(z, include, &o->via.map.ptr[i].val, kid, &tmp, err)) {
				kvs[k].key = o->via.map.ptr[i].key;
				kvs[k++].val = tmp;
			}
		}
		out->type = MSGPACK_OBJECT_MAP;
		out->via.map.size = k;
		out->via.map.ptr = kvs;
		return true;
	}
	if (o->type == MSGPACK_OBJECT_ARRAY) {
		/* a path through a list applies to each element */
		elems = msgpack_zone_malloc(z, (o->via.array.size ? o->via.array.size : 1) * sizeof(*elems));
		if (!elems)
			goto nomem;
		for (i = 0; i < o->via.array.size; i++)
			if (prune(z, include, &o->via.array.ptr[i], n, &tmp, err))
				elems[k++] = tmp;
		out->type = MSGPACK_OBJECT_ARRAY;
		out->via.array.size = k;
		out->via.array.ptr = elems;
		return true;
	}
	/* a scalar where the path goes deeper: the path does not exist here */
	if (include)
		return false;
	*out = *o;
	return true;
leaf:
	if (!include)
		return false;
	*out = *o;
	return true;
nomem:
	*err = -ENOMEM;
	return false;
}

bool export_field_applies(const struct field_filter *ff, enum vigil_event_type t)
{
	bool in;

	if (!ff->has_types)
		return true;
	in = export_types_has(&ff->types, t);
	return ff->invert ? !in : in;
}

const msgpack_object *vigil_field_filter__apply(struct vigil_field_filter *f, const struct vigil_msg *m)
{
	const msgpack_object *root = vigil_msg__root(m);
	enum vigil_event_type t = vigil_msg__type(m);
	msgpack_object body = *vigil_msg__body(m), tmp;
	msgpack_object_kv *kvs;
	bool changed = false, kept;
	int err = 0;
	size_t i;

	msgpack_zone_clear(&f->zone);
	for (i = 0; i < f->n; i++) {
		if (!export_field_applies(&f->v[i], t))
			continue;
		kept = prune(&f->zone, f->v[i].include, &body, &f->v[i].root, &tmp, &err);
		if (err)
			goto nomem;
		if (!kept) {
			tmp.type = MSGPACK_OBJECT_MAP;	/* everything excluded: an empty body */
			tmp.via.map.size = 0;
			tmp.via.map.ptr = NULL;
		}
		body = tmp;
		changed = true;
	}
	if (!changed)
		return root;
	/* the root again, with the filtered body in its first entry */
	kvs = msgpack_zone_malloc(&f->zone, root->via.map.size * sizeof(*kvs));
	if (!kvs)
		goto nomem;
	memcpy(kvs, root->via.map.ptr, root->via.map.size * sizeof(*kvs));
	kvs[0].val = body;
	f->root.type = MSGPACK_OBJECT_MAP;
	f->root.via.map.size = root->via.map.size;
	f->root.via.map.ptr = kvs;
	return &f->root;
nomem:
	errno = ENOMEM;
	return NULL;
}
