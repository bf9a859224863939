/* status_metrics.c - every counter of `vigil status` in /metrics as well. The counters map
 * control.c packs for status is read back here, and each key that no vigil_* family serves
 * already (core/metrics/collect.c) is emitted as vigil_<key>_total, or vigil_<key> for a
 * level, so a counter added to status is never missing from /metrics. The runtime hook's
 * table (status "rthooks") comes as rthooks_<key>. */
#include <msgpack.h>
#include <string.h>

#include "agent_internal.h"

/* status keys a vigil_* family serves under its own name (collect.c, canary.c) */
static const char *const served[] = {
	"records", "bad_records", "policy_records_unknown_hook", "bus_sent", "bus_dropped", "bus_last_seq",
	"journal_written", "journal_dropped", "journal_evicted", "journal_bytes", "pcache_size", "pcache_evictions",
	"pcache_misses", "pcache_running", "pcache_evicted_exited", "pcache_evicted_running", "kernel_ringbuf_full",
	"kernel_execs_full", "kernel_path_read_errors", "kernel_args_read_errors", "kernel_signal_failed",
	"kernel_stack_no_room", "kernel_set_failed", "kernel_ima_hash_failed", "export_written", "export_filtered",
	"export_rate_limited", "export_rotations", "export_compressed", "export_errors",
};
/* ... and by prefix: vigil_events_degraded_total{reason}, vigil_events_dropped_total{reason},
 * vigil_canary_requests_total{kind,result} */
static const char *const served_prefix[] = {"events_degraded_", "events_dropped_", "canary_"};

/* levels rather than counts */
static const char *const gauges[] = {
	"control_tls_open", "hook_id_slots", "hook_ids_in_use", "kernel_execs_entries", "cgroup_containers_cached",
	"journal_oldest_seq", "journal_last_seq", "rthooks_entries", "rthooks_capacity",
};

static bool listed(const char *key, const char *const *v, size_t n, bool prefix)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (prefix ? !strncmp(key, v[i], strlen(v[i])) : !strcmp(key, v[i]))
			return true;
	return false;
}

static void emit_map(const msgpack_object *map, const char *prefix, vigil_metrics_counter_emit emit, void *ectx)
{
	char key[96];
	uint32_t i;

	if (map->type != MSGPACK_OBJECT_MAP)
		return;
	for (i = 0; i < map->via.map.size; i++) {
		const msgpack_object_kv *kv = &map->via.map.ptr[i];

		if (kv->key.type != MSGPACK_OBJECT_STR || kv->val.type != MSGPACK_OBJECT_POSITIVE_INTEGER)
			continue;
		snprintf(key, sizeof(key), "%s%.*s", prefix, (int)kv->key.via.str.size, kv->key.via.str.ptr);
		if (listed(key, served, VIGIL_ARRAY_SIZE(served), false) ||
		    listed(key, served_prefix, VIGIL_ARRAY_SIZE(served_prefix), true))
			continue;
		emit(ectx, key, listed(key, gauges, VIGIL_ARRAY_SIZE(gauges), false), kv->val.via.u64);
	}
}

/* vigil_metrics_sources.status_counters: runs on the rendering thread */
void agent_status_counters(void *ctx, vigil_metrics_counter_emit emit, void *emit_ctx)
{
	struct vigil_agent *a = ctx;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	size_t off = 0;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 2);
	agent_pack_counters(&pk, a);
	agent_rthooks_pack(a, &pk);
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, sb.data, sb.size, &off) == MSGPACK_UNPACK_SUCCESS &&
	    u.data.type == MSGPACK_OBJECT_ARRAY && u.data.via.array.size == 2) {
		emit_map(&u.data.via.array.ptr[0], "", emit, emit_ctx);
		emit_map(&u.data.via.array.ptr[1], "rthooks_", emit, emit_ctx);
	}
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
}
