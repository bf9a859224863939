/* pure.c - what makes an export line Tetragon's: vigil's own event kinds told apart, and
 * vigil's own fields in Tetragon's messages left out, so that a strict protojson reader of
 * GetEventsResponse (unknown fields refused) reads every line. */
#include <string.h>

#include "export_internal.h"

/* Fields vigil adds to the body of a Tetragon message (core/encode/tree.c), none of which
 * tetragon.proto has. A new extension goes here, or a strict reader breaks. */
static const char *const own_fields[] = {
	"monitored",	/* policy in monitor mode: the action was not taken */
};

bool export_is_own_kind(enum vigil_event_type t)
{
	return t == VIGIL_EVENT_ALERT || t == VIGIL_EVENT_RULE_ACTION || t == VIGIL_EVENT_RULE_STATUS;
}

static bool own_field(const msgpack_object *k)
{
	size_t i;

	for (i = 0; k->type == MSGPACK_OBJECT_STR && i < VIGIL_ARRAY_SIZE(own_fields); i++)
		if (strlen(own_fields[i]) == k->via.str.size && !memcmp(own_fields[i], k->via.str.ptr, k->via.str.size))
			return true;
	return false;
}

const msgpack_object *export_strip_own(msgpack_zone *z, const msgpack_object *root, msgpack_object *out)
{
	const msgpack_object *body;
	msgpack_object_kv *rkv, *bkv;
	uint32_t i, n = 0;

	if (root->type != MSGPACK_OBJECT_MAP || !root->via.map.size)
		return root;
	body = &root->via.map.ptr[0].val;
	if (body->type != MSGPACK_OBJECT_MAP)
		return root;
	for (i = 0; i < body->via.map.size; i++)
		n += own_field(&body->via.map.ptr[i].key);
	if (!n)
		return root;
	/* a copy of the root and body maps sharing every leaf with the original */
	rkv = msgpack_zone_malloc(z, root->via.map.size * sizeof(*rkv));
	bkv = msgpack_zone_malloc(z, (body->via.map.size - n ? body->via.map.size - n : 1) * sizeof(*bkv));
	if (!rkv || !bkv)
		return NULL;
	for (i = 0, n = 0; i < body->via.map.size; i++)
		if (!own_field(&body->via.map.ptr[i].key))
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
