/* pure.c - what makes an export line Tetragon's: vigil's own event kinds told apart, and
 * vigil's own fields in Tetragon's messages left out, so that a strict protojson reader of
 * GetEventsResponse (unknown fields refused) reads every line. */
#include <string.h>

#include "export_internal.h"

/* Fields vigil adds to the body of a Tetragon message (core/encode/tree.c) that
 * tetragon.proto does not have there: in every kind (kind NULL) or in one. A new extension
 * goes here, or a strict reader breaks. */
static const struct {
	const char *kind, *field;
} own_fields[] = {
	{ NULL, "monitored" },			/* policy in monitor mode: the action was not taken */
	{ "process_uprobe", "return" },		/* uprobe return probes: ProcessUprobe has no return */
	{ "process_uprobe", "return_action" },
};

bool export_is_own_kind(enum vigil_event_type t)
{
	return t == VIGIL_EVENT_ALERT || t == VIGIL_EVENT_RULE_ACTION || t == VIGIL_EVENT_RULE_STATUS;
}

static bool str_is(const msgpack_object *o, const char *s)
{
	return o->type == MSGPACK_OBJECT_STR && strlen(s) == o->via.str.size && !memcmp(s, o->via.str.ptr, o->via.str.size);
}

bool export_is_own_field(const msgpack_object *kind, const msgpack_object *k)
{
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(own_fields); i++)
		if ((!own_fields[i].kind || str_is(kind, own_fields[i].kind)) && str_is(k, own_fields[i].field))
			return true;
	return false;
}

const msgpack_object *export_strip_own(msgpack_zone *z, const msgpack_object *root, msgpack_object *out)
{
	const msgpack_object *body, *kind;
	msgpack_object_kv *rkv, *bkv;
	uint32_t i, n = 0;

	if (root->type != MSGPACK_OBJECT_MAP || !root->via.map.size)
		return root;
	kind = &root->via.map.ptr[0].key;
	body = &root->via.map.ptr[0].val;
	if (body->type != MSGPACK_OBJECT_MAP)
		return root;
	for (i = 0; i < body->via.map.size; i++)
		n += export_is_own_field(kind, &body->via.map.ptr[i].key);
	if (!n)
		return root;
	/* a copy of the root and body maps sharing every leaf with the original */
	rkv = msgpack_zone_malloc(z, root->via.map.size * sizeof(*rkv));
	bkv = msgpack_zone_malloc(z, (body->via.map.size - n ? body->via.map.size - n : 1) * sizeof(*bkv));
	if (!rkv || !bkv)
		return NULL;
	for (i = 0, n = 0; i < body->via.map.size; i++)
		if (!export_is_own_field(kind, &body->via.map.ptr[i].key))
			bkv[n++] = body->via.map.ptr[i];
	memcpy(rkv, root->via.map.ptr, root->via.map.size * sizeof(*rkv));
	rkv[0].val.type = MSGPACK_OBJECT_MAP;
	rkv[0].val.via.map.size = n;
	rkv[0].val.via.map.ptr = bkv;
	out->type = MSGPACK_OBJECT_MAP;
	out->via.map.size = root->via.map.size;
	out->via.map.ptr = rkv;
	return out;
}
