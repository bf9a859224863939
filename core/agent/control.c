/* control.c - the agent's answers on the control socket: {"cmd": "status"} and friends. */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <msgpack.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "agent_internal.h"


static void pack_kv_u64(msgpack_packer *pk, const char *k, uint64_t v)
{
	ctl_pack_str(pk, k);
	msgpack_pack_uint64(pk, v);
}

static void map_u64(struct ctl_map *m, const char *k, uint64_t v)
{
	msgpack_pack_uint64(ctl_map_key(m, k), v);
}

static void pack_mechanisms(msgpack_packer *pk, const struct vigil_probe_report *probe)
{
	int m;

	msgpack_pack_array(pk, VIGIL_MECH_COUNT);
	for (m = 0; m < VIGIL_MECH_COUNT; m++) {
		msgpack_pack_map(pk, 3);
		ctl_pack_str(pk, "name");
		ctl_pack_str(pk, vigil_mech_name(m));
		ctl_pack_str(pk, "ok");
		if (probe->mech[m].ok)
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
		ctl_pack_str(pk, "reason");
		ctl_pack_str(pk, probe->mech[m].reason);
	}
}

/* What the decoder made of the kernel's records, and the events the agent sent. */
static void pack_event_counters(struct ctl_map *m, const struct agent_counters *c, struct vigil_agent *a)
{
	char key[64];
	int r;

	map_u64(m, "records", c->decoder.records);
	map_u64(m, "bad_records", c->decoder.bad_records);
	map_u64(m, "exec_records", c->decoder.exec);
	map_u64(m, "clone_records", c->decoder.clone);
	map_u64(m, "exit_records", c->decoder.exit);
	map_u64(m, "exit_unknown", c->decoder.exit_unknown);
	map_u64(m, "events_exec", c->events_exec);
	map_u64(m, "events_exit", c->events_exit);
	map_u64(m, "events_policy", c->events_policy);
	map_u64(m, "events_rules", c->events_rules);	/* alerts, rule actions and status (core/luahost) */
	map_u64(m, "rules_queue_dropped", vigil_luahost__dropped(a->luahost));
	map_u64(m, "policy_records", c->decoder.policy);
	map_u64(m, "policy_records_unknown_hook", c->decoder.unknown_hook);
	map_u64(m, "procfs_seeded", c->procfs_seeded);
	/* --cgroup-rate: process_throttle events sent, cgroups that could not be followed */
	map_u64(m, "throttle_start", c->throttle_start);
	map_u64(m, "throttle_stop", c->throttle_stop);
	map_u64(m, "throttle_untracked", c->throttle_untracked);
	map_u64(m, "throttle_records", c->throttle_checks);
	map_u64(m, "throttle_checked", c->throttle_processed);
	/* pods (CRI): events of a container the runtime had not listed yet went without */
	map_u64(m, "events_pod_unknown", c->events_pod_unknown);
	/* fanotify watches: opens reported, marks placed, kernel queue overflows, records
	 * dropped because the reader's queue was full */
	map_u64(m, "fanotify_events", c->fanotify_events);
	map_u64(m, "fanotify_marks", c->fanotify_marks);
	map_u64(m, "fanotify_overflows", c->fanotify_overflows);
	map_u64(m, "fanotify_records_dropped", c->user_records_dropped);
	map_u64(m, "fanotify_allowed_past_deadline", c->fanotify_allowed_late);
	/* events sent with less than usual, and records that produced none, by reason */
	for (r = 0; r < VIGIL_DEGRADED_COUNT; r++) {
		snprintf(key, sizeof(key), "events_degraded_%s", vigil_degraded_reason_name(r));
		map_u64(m, key, c->decoder.degraded[r]);
	}
	for (r = 0; r < VIGIL_DROPPED_COUNT; r++) {
		snprintf(key, sizeof(key), "events_dropped_%s", vigil_dropped_reason_name(r));
		map_u64(m, key, c->decoder.dropped[r]);
	}
	map_u64(m, "output_errors", c->output_errors + c->encode_errors);
}

/* The kernel side's failure counters (vigil_kernel_counters). */
static void pack_kernel_counters(struct ctl_map *m, struct vigil_agent *a)
{
	struct vigil_kernel_counters k = {0};

	vigil_loader__counters(a->loader, &k);
	map_u64(m, "kernel_ringbuf_full", k.ringbuf_full);
	map_u64(m, "kernel_ringbuf_full_exec", k.ringbuf_full_exec);
	map_u64(m, "kernel_execs_full", k.execs_full);
	map_u64(m, "kernel_path_read_errors", k.path_read);
	map_u64(m, "kernel_args_read_errors", k.args_read);
	map_u64(m, "kernel_return_pending_full", k.pending_full);
	map_u64(m, "kernel_signal_failed", k.signal_failed);
	map_u64(m, "kernel_stack_no_room", k.stack_no_room);
	map_u64(m, "kernel_env_truncated", k.env_truncated);
	map_u64(m, "kernel_throttled_exec", k.throttled_exec);
	map_u64(m, "kernel_throttled_exit", k.throttled_exit);
	map_u64(m, "kernel_throttled_clone", k.throttled_clone);
	map_u64(m, "kernel_set_failed", k.set_failed);
	map_u64(m, "kernel_ima_hash_failed", k.ima_hash_failed);
	map_u64(m, "kernel_execs_entries", vigil_loader__execs_count(a->loader));
}

/* The bus publisher and the journal (--journal-dir: all 0 without one). */
static void pack_bus_counters(struct ctl_map *m, struct vigil_agent *a)
{
	struct vigil_journal_stats js;

	vigil_journal__stats(a->journal, &js);
	map_u64(m, "bus_sent", vigil_pub__sent(a->pub));
	map_u64(m, "bus_dropped", vigil_pub__dropped(a->pub));
	map_u64(m, "bus_last_seq", vigil_pub__last_seq(a->pub));	/* the delivery stamp's */
	map_u64(m, "journal_written", js.written);
	map_u64(m, "journal_dropped", js.dropped + js.write_errors);	/* never journaled */
	map_u64(m, "journal_evicted", js.evicted);			/* removed by --journal-max-mb */
	map_u64(m, "journal_bytes", js.bytes);
	map_u64(m, "journal_oldest_seq", js.oldest);
	map_u64(m, "journal_last_seq", js.last);
}

/* The process cache, and container ids (core/containers): cgroups looked up, the cached ones
 * that are a container's, misses answered from the cgroup, and misses nothing answered. */
static void pack_cache_counters(struct ctl_map *m, const struct agent_counters *c)
{
	map_u64(m, "pcache_size", c->pcache.size);
	map_u64(m, "pcache_evictions", c->pcache.evictions);
	map_u64(m, "pcache_misses", c->pcache.misses);
	map_u64(m, "pcache_running", c->pcache.running);
	map_u64(m, "pcache_evicted_exited", c->pcache.evicted_exited);
	map_u64(m, "pcache_evicted_running", c->pcache.evicted_live);
	map_u64(m, "cgroup_lookups", c->cgroups.lookups);
	map_u64(m, "cgroup_containers_cached", c->cgroups.containers);
	map_u64(m, "cgroup_resolved", c->cgroups.resolved);
	map_u64(m, "cgroup_unresolved", c->cgroups.unresolved);
}

/* The control socket's TLS listener (--server-address HOST:PORT): all 0 without one. */
static void pack_tls_counters(struct ctl_map *m, struct vigil_ctl_server *ctl)
{
	struct vigil_ctl_tls_stats t;

	vigil_ctl_server__tls_stats(ctl, &t);
	map_u64(m, "control_tls_accepted", t.accepted);
	map_u64(m, "control_tls_handshake_failed", t.handshake_failed);	/* no/bad certificate, not TLS */
	map_u64(m, "control_tls_busy", t.busy);				/* over the connection bound */
	map_u64(m, "control_tls_bad_frames", t.bad_frames);		/* malformed or oversized: dropped */
	map_u64(m, "control_tls_timeouts", t.timeouts);
	map_u64(m, "control_tls_requests", t.requests);
	map_u64(m, "control_tls_subscribers", t.subscribers);
	map_u64(m, "control_tls_events_sent", t.events_sent);
	map_u64(m, "control_tls_open", t.open);
	map_u64(m, "control_tls_reloads", t.reloads);
	map_u64(m, "control_tls_reload_failed", t.reload_failed);
	map_u64(m, "control_tls_rate_limited", t.rate_limited);	/* closed before the handshake */
	map_u64(m, "control_tls_throttled", t.throttled);		/* requests held back */
}

/* The export file (core/export; the same numbers as its vigil_export_* metrics), the control
 * server's refusals (not root, not in --control-group) and malformed requests, and the sensor
 * table's size (deleted policies are freed once the reader has drained past them). */
static void pack_output_counters(struct ctl_map *m, struct vigil_agent *a, struct vigil_ctl_server *ctl)
{
	struct vigil_sensors_stats ss = {0};
	struct vigil_exporter_stats x;

	vigil_exporter__stats(a->exporter, &x);
	if (a->sensors)
		vigil_sensors__stats(a->sensors, &ss);
	map_u64(m, "export_written", x.file.lines);
	map_u64(m, "export_filtered", x.filtered);
	map_u64(m, "export_cel_errors", x.cel_errors);
	map_u64(m, "export_rate_limited", x.rate_limited);
	map_u64(m, "export_rotations", x.file.rotations);
	map_u64(m, "export_compressed", x.file.compressed);
	map_u64(m, "export_errors", x.file.write_errors + x.file.compress_errors + x.errors);
	map_u64(m, "control_refused", ctl ? vigil_ctl_server__refused(ctl) : 0);
	map_u64(m, "control_bad_requests", ctl ? vigil_ctl_server__bad_requests(ctl) : 0);
	pack_tls_counters(m, ctl);
	map_u64(m, "policies_retired", ss.retired);
	map_u64(m, "hook_id_slots", ss.id_slots);
	map_u64(m, "hook_ids_in_use", ss.ids_in_use);
}

/* GetUrl / DnsLookup (core/canary): asked for by a matching selector, made (answered or
 * failed), and not made (the policy's rate limit, the full queue). */
static void pack_canary_counters(struct ctl_map *m, struct vigil_agent *a)
{
	struct vigil_canary_stats cs = { 0 };

	if (a->canary)
		vigil_canary__stats(a->canary, &cs);
	map_u64(m, "canary_requested", cs.requested);
	map_u64(m, "canary_sent", cs.sent);
	map_u64(m, "canary_failed", cs.failed);
	map_u64(m, "canary_rate_limited", cs.rate_limited);
	map_u64(m, "canary_queue_full", cs.queue_full);
}

void agent_pack_counters(msgpack_packer *pk, struct vigil_agent *a)
{
	struct agent_counters c;
	struct vigil_ctl_server *ctl;
	struct ctl_map m;

	pthread_mutex_lock(&a->snap_lock);
	c = a->snap;
	pthread_mutex_unlock(&a->snap_lock);

	ctl_map_init(&m);
	pack_event_counters(&m, &c, a);
	pack_kernel_counters(&m, a);
	pack_bus_counters(&m, a);
	pack_cache_counters(&m, &c);
	/* set once the server runs (it may answer first); /metrics asks too, while it may close */
	pthread_rwlock_rdlock(&a->ctl_lock);
	ctl = a->ctl;
	pack_output_counters(&m, a, ctl);
	pthread_rwlock_unlock(&a->ctl_lock);
	pack_canary_counters(&m, a);
	ctl_map_flush(&m, pk);
}

/* What the agent knows of delivery: its stamp's incarnation and last seq (a subscriber
 * compares them with what it received), and per subscriber connection of its own SP
 * listener what could not be queued for it. nanomsg transports say nothing per peer. */
static void pack_delivery(msgpack_packer *pk, struct vigil_agent *a)
{
	struct vigil_pub_peer peers[128];
	char inc[17];
	size_t n = vigil_pub__peers(a->pub, peers, VIGIL_ARRAY_SIZE(peers)), i;

	if (n > VIGIL_ARRAY_SIZE(peers))
		n = VIGIL_ARRAY_SIZE(peers);
	snprintf(inc, sizeof(inc), "%016" PRIx64, vigil_pub__incarnation(a->pub));
	msgpack_pack_map(pk, 3);
	ctl_pack_str(pk, "incarnation");
	ctl_pack_str(pk, inc);
	pack_kv_u64(pk, "last_seq", vigil_pub__last_seq(a->pub));
	ctl_pack_str(pk, "subscribers");
	msgpack_pack_array(pk, n);
	for (i = 0; i < n; i++) {
		msgpack_pack_map(pk, 5);
		ctl_pack_str(pk, "pid");
		msgpack_pack_int32(pk, peers[i].pid);
		ctl_pack_str(pk, "uid");
		msgpack_pack_int64(pk, peers[i].uid);
		pack_kv_u64(pk, "sent", peers[i].sent);
		pack_kv_u64(pk, "dropped", peers[i].dropped);
		pack_kv_u64(pk, "queued_bytes", peers[i].queued_bytes);
	}
}

/* Where pods come from: {connected, runtime, error, pods, containers}; a host without a
 * runtime runs on, and the error says why there are no pod fields. */
static void pack_runtime(msgpack_packer *pk, struct vigil_cri *cri)
{
	struct vigil_cri_status st = { 0 };

	if (cri)
		vigil_cri__status(cri, &st);
	else
		snprintf(st.error, sizeof(st.error), "disabled (--cri-endpoint none)");
	msgpack_pack_map(pk, 5);
	ctl_pack_str(pk, "connected");
	if (st.connected)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	ctl_pack_str(pk, "runtime");
	ctl_pack_str(pk, st.runtime);
	ctl_pack_str(pk, "error");
	ctl_pack_str(pk, st.error);
	pack_kv_u64(pk, "pods", st.pods);
	pack_kv_u64(pk, "containers", st.containers);
}

static void pack_status(msgpack_packer *pk, struct vigil_agent *a)
{
	struct utsname u;
	char kernel[sizeof(u.release) + sizeof(u.version) + 2] = "unknown";
	struct ctl_map m;

	if (!uname(&u))
		snprintf(kernel, sizeof(kernel), "%s %s", u.release, u.version);
	ctl_map_init(&m);
	msgpack_pack_true(ctl_map_key(&m, "ok"));
	ctl_pack_str(ctl_map_key(&m, "version"), VIGIL_VERSION);
	ctl_pack_str(ctl_map_key(&m, "kernel"), kernel);
	ctl_pack_str(ctl_map_key(&m, "node_name"), a->node_name);
	map_u64(&m, "uptime_s", (agent_now_ns() - a->started_ns) / 1000000000ULL);
	ctl_pack_str(ctl_map_key(&m, "process_mechanism"), vigil_loader__mechanism(a->loader));
	pack_mechanisms(ctl_map_key(&m, "mechanisms"), &a->probe);
	/* where container ids come from: "" when the host has no cgroup v2 mount */
	ctl_pack_str(ctl_map_key(&m, "cgroup_v2"),
		     a->cgroups && vigil_cgroups__mount(a->cgroups) ? vigil_cgroups__mount(a->cgroups) : "");
	pack_runtime(ctl_map_key(&m, "container_runtime"), a->cri);
	agent_rthooks_pack(a, ctl_map_key(&m, "rthooks"));
	agent_pack_counters(ctl_map_key(&m, "counters"), a);
	agent_policy_list(a, NULL, ctl_map_key(&m, "policies"));
	/* its watch, and the files refused (policy_dir.c) */
	agent_policy_dir_pack(a, ctl_map_key(&m, "policy_dir"));
	pack_delivery(ctl_map_key(&m, "delivery"), a);
	if (a->opts.cgroup_rate_events)
		agent_throttle_pack(a, ctl_map_key(&m, "cgroup_rate"));
	/* every sample of /metrics (core/metrics) */
	vigil_metrics__pack(a->metrics, ctl_map_key(&m, "metrics"));
	ctl_map_flush(&m, pk);
}

static int cmd_status(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk)
{
	pack_status(pk, a);
	return 0;
}

/* {"ok": true, "text": "<Prometheus exposition text>"}: what GET /metrics serves. */
static int cmd_metrics(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk)
{
	struct vigil_buf text = {0};
	int err = vigil_metrics__render(a->metrics, &text);

	if (!err) {
		msgpack_pack_map(pk, 2);
		ctl_pack_str(pk, "ok");
		msgpack_pack_true(pk);
		ctl_pack_str(pk, "text");
		msgpack_pack_str_with_body(pk, text.data ? text.data : "", text.len);
	}
	vigil_buf_free(&text);
	return err;
}

/* ---- events_read: the journal's messages, for consumers that must not lose any ---- */

#define EVENTS_READ_MAX_BYTES (4u << 20)

static int pack_journal_msg(void *ctx, uint64_t seq, const void *data, size_t len)
{
	struct ctl_list *l = ctx;

	msgpack_pack_bin(&l->pk, len);
	msgpack_pack_bin_body(&l->pk, data, len);
	l->n++;
	return 0;
}

/* {"cmd": "events_read", "from": seq, "incarnation": I, "max": N} (core/bus/bus.h). */
static int cmd_events_read(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk)
{
	const msgpack_object *from_o = ctl_get(req, "from"), *inc_o = ctl_get(req, "incarnation");
	const msgpack_object *max_o = ctl_get(req, "max");
	uint64_t inc = vigil_pub__incarnation(a->pub), from, max = 1000;
	struct vigil_journal_pos pos;
	struct ctl_list l;
	int err;

	if (!a->journal) {
		ctl_pack_error(pk, "no journal: start vigild with --journal-dir");
		return 0;
	}
	if ((from_o && from_o->type != MSGPACK_OBJECT_POSITIVE_INTEGER) ||
	    (inc_o && inc_o->type != MSGPACK_OBJECT_POSITIVE_INTEGER) ||
	    (max_o && (max_o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || !max_o->via.u64))) {
		ctl_pack_error(pk, "events_read: from, incarnation and max must be unsigned integers (max > 0)");
		return 0;
	}
	if (max_o)
		max = max_o->via.u64 < VIGIL_READER_MAX_BATCH ? max_o->via.u64 : VIGIL_READER_MAX_BATCH;
	/* no from: what is published from now on; another incarnation's seq: ours from 1 */
	from = from_o ? from_o->via.u64 : vigil_pub__last_seq(a->pub) + 1;
	if (inc_o && inc_o->via.u64 && inc_o->via.u64 != inc)
		from = 1;
	ctl_list_init(&l);
	err = vigil_journal__read(a->journal, from, (size_t)max, EVENTS_READ_MAX_BYTES, pack_journal_msg, &l, &pos);
	if (err) {
		msgpack_sbuffer_destroy(&l.sb);
		return err;
	}
	msgpack_pack_map(pk, 8);
	ctl_pack_str(pk, "ok");
	msgpack_pack_true(pk);
	pack_kv_u64(pk, "incarnation", inc);
	pack_kv_u64(pk, "from", from ? from : pos.next - pos.count - pos.lost);
	pack_kv_u64(pk, "next", pos.next);
	pack_kv_u64(pk, "lost", pos.lost);
	pack_kv_u64(pk, "oldest", pos.oldest);
	pack_kv_u64(pk, "last", pos.last);
	ctl_pack_str(pk, "events");
	ctl_list_flush(&l, pk);
	return 0;
}

/* read_only: the command changes nothing, so a --control-group member may run it; the
 * others change what the agent enforces and are root's alone. */
static const struct {
	const char *name;
	bool read_only;
	bool events;		/* hands out events: root's, as the events socket is (0660 root:root) */
	int (*run)(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk);
} commands[] = {
	{"status", true, false, cmd_status},
	{"metrics", true, false, cmd_metrics},
	{"policy_add", false, false, agent_policy_add},
	{"policy_list", true, false, agent_policy_list},
	{"policy_delete", false, false, agent_policy_delete},
	{"policy_enable", false, false, agent_policy_enable},
	{"policy_disable", false, false, agent_policy_disable},
	{"policy_set_mode", false, false, agent_policy_set_mode},
	{"policy_list_add", false, false, agent_policy_list_add},
	{"policy_list_remove", false, false, agent_policy_list_remove},
	{"policy_list_values", true, false, agent_policy_list_values},
	{"rules_list", true, false, agent_rules_list},
	{"rules_reload", false, false, agent_rules_reload},
	{"events_read", true, true, cmd_events_read},
	{"maps", true, false, agent_maps},
	{"domains", true, false, agent_domains},
	{"policyfilter", true, false, agent_policyfilter},
	{"loglevel", true, false, agent_loglevel},
	{"eventlog", true, false, agent_eventlog},
	{"loglevel_set", false, false, agent_loglevel_set},
	{"eventlog_set", false, false, agent_eventlog_set},
	{"rthooks_create_container", false, false, agent_rthooks_create},
};

const msgpack_object *ctl_get(const msgpack_object *map, const char *key)
{
	return vigil_msgpack_get(map, key);
}

int ctl_get_str(const msgpack_object *map, const char *key, char *out, size_t size)
{
	const msgpack_object *v = ctl_get(map, key);

	if (!v || v->type != MSGPACK_OBJECT_STR)
		return -ENOENT;
	if (v->via.str.size >= size)
		return -E2BIG;
	memcpy(out, v->via.str.ptr, v->via.str.size);
	out[v->via.str.size] = '\0';
	return 0;
}

void ctl_list_init(struct ctl_list *l)
{
	msgpack_sbuffer_init(&l->sb);
	msgpack_packer_init(&l->pk, &l->sb, msgpack_sbuffer_write);
	l->n = 0;
}

void ctl_list_flush(struct ctl_list *l, msgpack_packer *pk)
{
	msgpack_pack_array(pk, l->n);
	if (l->sb.size)
		pk->callback(pk->data, l->sb.data, l->sb.size);
	msgpack_sbuffer_destroy(&l->sb);
}

void ctl_map_init(struct ctl_map *m)
{
	ctl_list_init(&m->entries);
}

msgpack_packer *ctl_map_key(struct ctl_map *m, const char *key)
{
	ctl_pack_str(&m->entries.pk, key);
	m->entries.n++;
	return &m->entries.pk;
}

void ctl_map_flush(struct ctl_map *m, msgpack_packer *pk)
{
	msgpack_pack_map(pk, m->entries.n);
	if (m->entries.sb.size)
		pk->callback(pk->data, m->entries.sb.data, m->entries.sb.size);
	msgpack_sbuffer_destroy(&m->entries.sb);
}

void ctl_pack_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

void ctl_pack_error(msgpack_packer *pk, const char *msg)
{
	msgpack_pack_map(pk, 2);
	ctl_pack_str(pk, "ok");
	msgpack_pack_false(pk);
	ctl_pack_str(pk, "error");
	ctl_pack_str(pk, msg);
}

void ctl_pack_ok(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 1);
	ctl_pack_str(pk, "ok");
	msgpack_pack_true(pk);
}

/* {"ok": false, "error": "permission denied: ..."} for a command peer may not run. */
static int refuse(const struct vigil_ctl_peer *peer, const char *cmd, msgpack_packer *pk)
{
	char msg[200];

	if (peer->local)
		snprintf(msg, sizeof(msg), "permission denied: '%s' changes the agent and needs root; uid %u may "
			 "run read-only commands only", cmd, peer->uid);
	else if (peer->identity)
		snprintf(msg, sizeof(msg), "permission denied: '%s' changes the agent and needs a certificate named "
			 "in --server-tls-admin-names; '%s' may run read-only commands only", cmd, peer->identity);
	else
		snprintf(msg, sizeof(msg), "permission denied: '%s' changes the agent and needs root on the ipc:// "
			 "control socket; tcp:// is read-only", cmd);
	ctl_pack_error(pk, msg);
	return -EACCES;
}

int agent_control(const struct vigil_ctl_peer *peer, const void *req, size_t len, struct vigil_buf *reply, void *ctx)
{
	struct vigil_agent *a = ctx;
	msgpack_unpacked up;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char cmd[32];
	size_t used = 0, off = 0, i;
	int err = 0;

	msgpack_unpacked_init(&up);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	/* scanned first: the unpacker sizes containers from their headers, so a 5-byte map32
	 * header asked it for 128 GiB (found by tests/fuzz control_fuzz) */
	if (vigil_msgpack_scan(req, len, &used) || used != len ||
	    msgpack_unpack_next(&up, req, len, &off) != MSGPACK_UNPACK_SUCCESS || off != len ||
	    ctl_get_str(&up.data, "cmd", cmd, sizeof(cmd))) {
		err = -EBADMSG;	/* counted by the control server, answered with an error */
		goto out;
	}
	for (i = 0; i < VIGIL_ARRAY_SIZE(commands); i++)
		if (!strcmp(cmd, commands[i].name))
			break;
	if (i == VIGIL_ARRAY_SIZE(commands)) {
		err = -EOPNOTSUPP;
		goto out;
	}
	if (!peer->events && commands[i].events) {
		ctl_pack_error(&pk, peer->identity ? "permission denied: 'events_read' hands out every event and needs a "
						     "certificate named in --server-tls-events-names or --server-tls-admin-names"
				 : "permission denied: 'events_read' hands out every event, as the events socket does, and "
				   "needs root");
		err = -EACCES;
	} else if (peer->access != VIGIL_CTL_ALL && !commands[i].read_only)
		err = refuse(peer, cmd, &pk);
	else
		err = commands[i].run(a, &up.data, &pk);
	/* a refusal's reply is its own error message */
	if ((!err || err == -EACCES) && vigil_buf_append(reply, sb.data, sb.size))
		err = -ENOMEM;
out:
	msgpack_sbuffer_destroy(&sb);
	msgpack_unpacked_destroy(&up);
	return err;
}

int agent_control_start(struct vigil_agent *a)
{
	struct vigil_ctl_server_opts o = {.sz = sizeof(o), .read_gid = -1};
	struct vigil_ctl_server *ctl;
	struct group *g;

	if (a->opts.control_group) {
		errno = 0;
		g = getgrnam(a->opts.control_group);
		if (!g) {
			pr_warn("control: no group '%s' (--control-group)", a->opts.control_group);
			return errno ? -errno : -ENOENT;
		}
		o.read_gid = g->gr_gid;
	}
	ctl = vigil_ctl_server__open(a->opts.control_url, &o, agent_control, a);
	if (!ctl)
		return -errno;
	if (a->opts.tls) {
		struct vigil_ctl_tls_opts t = *a->opts.tls;
		int err;

		t.sz = sizeof(t);
		t.events_url = a->opts.events_url;	/* subscribers are relayed from the agent's bus */
		err = vigil_ctl_server__listen_tls(ctl, &t);
		if (err) {
			vigil_ctl_server__close(ctl);
			return err;
		}
	}
	pthread_rwlock_wrlock(&a->ctl_lock);
	a->ctl = ctl;
	pthread_rwlock_unlock(&a->ctl_lock);
	return 0;
}
