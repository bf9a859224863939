/* control.c - the agent's answers on the control socket: {"cmd": "status"} and friends. */
#include <errno.h>
#include <msgpack.h>
#include <string.h>
#include <sys/utsname.h>

#include "agent_internal.h"

static void pack_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

static void pack_kv_u64(msgpack_packer *pk, const char *k, uint64_t v)
{
	pack_str(pk, k);
	msgpack_pack_uint64(pk, v);
}

static void pack_mechanisms(msgpack_packer *pk, const struct vigil_probe_report *probe)
{
	int m;

	msgpack_pack_array(pk, VIGIL_MECH_COUNT);
	for (m = 0; m < VIGIL_MECH_COUNT; m++) {
		msgpack_pack_map(pk, 3);
		pack_str(pk, "name");
		pack_str(pk, vigil_mech_name(m));
		pack_str(pk, "ok");
		if (probe->mech[m].ok)
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
		pack_str(pk, "reason");
		pack_str(pk, probe->mech[m].reason);
	}
}

static void pack_counters(msgpack_packer *pk, struct vigil_agent *a)
{
	struct vigil_kernel_counters k = {0};
	struct agent_counters c;

	pthread_mutex_lock(&a->snap_lock);
	c = a->snap;
	pthread_mutex_unlock(&a->snap_lock);
	vigil_loader__counters(a->loader, &k);

	msgpack_pack_map(pk, 19);
	pack_kv_u64(pk, "records", c.decoder.records);
	pack_kv_u64(pk, "bad_records", c.decoder.bad_records);
	pack_kv_u64(pk, "exec_records", c.decoder.exec);
	pack_kv_u64(pk, "clone_records", c.decoder.clone);
	pack_kv_u64(pk, "exit_records", c.decoder.exit);
	pack_kv_u64(pk, "exit_unknown", c.decoder.exit_unknown);
	pack_kv_u64(pk, "events_exec", c.events_exec);
	pack_kv_u64(pk, "events_exit", c.events_exit);
	pack_kv_u64(pk, "procfs_seeded", c.procfs_seeded);
	pack_kv_u64(pk, "kernel_ringbuf_full", k.ringbuf_full);
	pack_kv_u64(pk, "kernel_execs_full", k.execs_full);
	pack_kv_u64(pk, "kernel_path_read_errors", k.path_read);
	pack_kv_u64(pk, "kernel_args_read_errors", k.args_read);
	pack_kv_u64(pk, "bus_sent", vigil_pub__sent(a->pub));
	pack_kv_u64(pk, "bus_dropped", vigil_pub__dropped(a->pub));
	pack_kv_u64(pk, "pcache_size", c.pcache.size);
	pack_kv_u64(pk, "pcache_evictions", c.pcache.evictions);
	pack_kv_u64(pk, "pcache_misses", c.pcache.misses);
	pack_kv_u64(pk, "output_errors", c.output_errors + c.encode_errors);
}

static void pack_status(msgpack_packer *pk, struct vigil_agent *a)
{
	struct utsname u;
	char kernel[sizeof(u.release) + sizeof(u.version) + 2] = "unknown";

	if (!uname(&u))
		snprintf(kernel, sizeof(kernel), "%s %s", u.release, u.version);
	msgpack_pack_map(pk, 8);
	pack_str(pk, "ok");
	msgpack_pack_true(pk);
	pack_str(pk, "version");
	pack_str(pk, VIGIL_VERSION);
	pack_str(pk, "kernel");
	pack_str(pk, kernel);
	pack_str(pk, "node_name");
	pack_str(pk, a->node_name);
	pack_kv_u64(pk, "uptime_s", (agent_now_ns() - a->started_ns) / 1000000000ULL);
	pack_str(pk, "process_mechanism");
	pack_str(pk, vigil_loader__mechanism(a->loader));
	pack_str(pk, "mechanisms");
	pack_mechanisms(pk, &a->probe);
	pack_str(pk, "counters");
	pack_counters(pk, a);
}

/* The value of "cmd" in a request map, or NULL. */
static const msgpack_object *request_cmd(const msgpack_object *root)
{
	uint32_t i;

	if (root->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (i = 0; i < root->via.map.size; i++) {
		const msgpack_object_kv *kv = &root->via.map.ptr[i];

		if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == 3 &&
		    !memcmp(kv->key.via.str.ptr, "cmd", 3) && kv->val.type == MSGPACK_OBJECT_STR)
			return &kv->val;
	}
	return NULL;
}

static bool is_cmd(const msgpack_object *cmd, const char *name)
{
	return cmd->via.str.size == strlen(name) && !memcmp(cmd->via.str.ptr, name, cmd->via.str.size);
}

int agent_control(const void *req, size_t len, struct vigil_buf *reply, void *ctx)
{
	struct vigil_agent *a = ctx;
	msgpack_unpacked up;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	const msgpack_object *cmd;
	size_t off = 0;
	int err = 0;

	msgpack_unpacked_init(&up);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (msgpack_unpack_next(&up, req, len, &off) != MSGPACK_UNPACK_SUCCESS || off != len) {
		err = -EBADMSG;
		goto out;
	}
	cmd = request_cmd(&up.data);
	if (!cmd) {
		err = -EBADMSG;
		goto out;
	}
	if (is_cmd(cmd, "status")) {
		pack_status(&pk, a);
	} else {
		err = -EOPNOTSUPP;
		goto out;
	}
	err = vigil_buf_append(reply, sb.data, sb.size);
out:
	msgpack_sbuffer_destroy(&sb);
	msgpack_unpacked_destroy(&up);
	return err;
}
