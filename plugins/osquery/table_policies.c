/* table_policies.c - vigil_policies: what the agent has loaded, asked live over the
 * control socket at query time ({"cmd": "policy_list"}). */
#include <errno.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus.h"
#include "log.h"
#include "table.h"

static const struct column columns[] = {
	{ "name", "TEXT", 0 },
	{ "file", "TEXT", 0 },
	{ "state", "TEXT", 0 },
	{ "mode", "TEXT", 0 },
	{ "events", "BIGINT", 0 },
	{ "hooks", "TEXT", 0 },
	{ "json", "TEXT", 0 },
};

/* Each column takes the first of these keys a policy entry has: the agent's names
 * ({"name", "file", "state", "mode", "events", "hooks": [{"hook", "mechanism",
 * "attached", "note"}]}), then Tetragon's ("enabled", "sensors"). "json" keeps the whole
 * entry, so nothing the agent adds later is lost. */
static const struct {
	const char *column;
	const char *keys[2];
} fields[] = {
	{ "name", { "name" } },
	{ "file", { "file" } },
	{ "state", { "state", "enabled" } },
	{ "mode", { "mode" } },
	{ "events", { "events" } },
	{ "hooks", { "hooks", "sensors" } },
};

static void fill(struct row_builder *rb, const msgpack_object *policy)
{
	const msgpack_object *v;
	size_t i, k;

	for (i = 0; i < VIGIL_ARRAY_SIZE(fields); i++) {
		v = NULL;
		for (k = 0; !v && k < VIGIL_ARRAY_SIZE(fields[i].keys) && fields[i].keys[k]; k++)
			v = obj_get(policy, fields[i].keys[k]);
		if (v && v->type == MSGPACK_OBJECT_BOOLEAN && !strcmp(fields[i].column, "state"))
			rb_set(rb, "state", v->via.boolean ? "enabled" : "disabled");
		else
			rb_set_obj(rb, fields[i].column, v);
	}
	rb_set_obj(rb, "json", policy);
}

/* The list in a reply: {"ok": true, "policies": [...]} or a bare array. An error reply
 * ({"ok": false, "error": ...}), as agents without the policy engine send, has none. */
static const msgpack_object *policy_list(const msgpack_object *reply)
{
	const msgpack_object *ok = obj_get(reply, "ok"), *list;

	if (reply->type == MSGPACK_OBJECT_ARRAY)
		return reply;
	if (ok && ok->type == MSGPACK_OBJECT_BOOLEAN && !ok->via.boolean) {
		list = obj_get(reply, "error");
		log_debug("vigil_policies: the agent answered policy_list with an error (%.*s)",
			  list && list->type == MSGPACK_OBJECT_STR ? (int)list->via.str.size : 7,
			  list && list->type == MSGPACK_OBJECT_STR ? list->via.str.ptr : "unknown");
		return NULL;
	}
	list = obj_get(reply, "policies");
	return list && list->type == MSGPACK_OBJECT_ARRAY ? list : NULL;
}

static int generate(const struct table *t, const struct live_ctx *ctx, const struct osq_constraints *c,
		    struct tb_writer *w, struct osq_rows *rows)
{
	struct vigil_buf reply = { 0 };
	msgpack_sbuffer req;
	msgpack_packer pk;
	struct row_builder rb;
	const msgpack_object *list;
	msgpack_unpacked up;
	struct row *row;
	size_t off = 0;
	uint32_t i;
	int err;

	rb_init(&rb);
	msgpack_unpacked_init(&up);
	msgpack_sbuffer_init(&req);
	msgpack_packer_init(&pk, &req, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	msgpack_pack_str_with_body(&pk, "cmd", 3);
	msgpack_pack_str_with_body(&pk, "policy_list", 11);
	/* no agent, or one that does not answer: an empty table, not a failed query */
	err = vigil_ctl_request(ctx->control_url, req.data, req.size, &reply, ctx->timeout_ms);
	if (err) {
		log_warn("vigil_policies: no answer from the agent at %s: %s", ctx->control_url, strerror(-err));
		err = 0;
		goto out;
	}
	/* the control socket is the agent's, root-only: its reply is trusted as msgpack */
	if (!reply.len || msgpack_unpack_next(&up, reply.data, reply.len, &off) != MSGPACK_UNPACK_SUCCESS) {
		log_warn("vigil_policies: the agent's policy_list reply is not msgpack");
		goto out;
	}
	list = policy_list(&up.data);
	for (i = 0; list && i < list->via.array.size; i++) {
		if (list->via.array.ptr[i].type != MSGPACK_OBJECT_MAP)
			continue;
		rb_reset(&rb, t);
		fill(&rb, &list->via.array.ptr[i]);
		row = rb_finish(&rb, 0);
		if (!row) {
			err = -errno;
			goto out;
		}
		table_write_row(w, rows, t, row);
		free(row);
	}
out:
	msgpack_unpacked_destroy(&up);
	msgpack_sbuffer_destroy(&req);
	rb_free(&rb);
	vigil_buf_free(&reply);
	return err;
}

const struct table table_policies = {
	.name = "vigil_policies",
	.columns = columns,
	.ncolumns = VIGIL_ARRAY_SIZE(columns),
	.generate = generate,
};
