/* agent_internal.h - the agent object and what its files share. */
#ifndef VIGIL_AGENT_INTERNAL_H
#define VIGIL_AGENT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <msgpack.h>
#include <stdio.h>

#include "agent.h"
#include "bus/bus.h"
#include "canary/canary.h"
#include "decode/decode.h"
#include "encode/encode.h"
#include "events/events.h"
#include "export/export.h"
#include "containers/containers.h"
#include "loader/loader.h"
#include "luahost/luahost.h"
#include "metrics/metrics.h"
#include "pcache/pcache.h"
#include "sensors/sensors.h"

/* Counters the reader thread publishes for the control thread, under snap_lock. */
struct agent_counters {
	struct vigil_decoder_stats decoder;
	struct vigil_pcache_stats pcache;
	struct vigil_cgroups_stats cgroups;
	uint64_t events_pod_unknown;		/* a container's event sent without its pod (not listed yet) */
	uint64_t user_records_dropped;		/* fanotify records dropped: the reader's queue was full */
	uint64_t fanotify_events, fanotify_marks, fanotify_overflows;
	uint64_t fanotify_allowed_late;		/* opens allowed: the responder missed the deadline */
	uint64_t events_exec;
	uint64_t events_exit;
	uint64_t events_policy;
	uint64_t events_rules;			/* alerts, rule actions, rule status */
	uint64_t procfs_seeded;
	uint64_t encode_errors;
	uint64_t output_errors;
	uint64_t throttle_start, throttle_stop;	/* --cgroup-rate's events sent (throttle.c) */
	uint64_t throttle_untracked;		/* a throttled cgroup that could not be followed */
	/* the rest of Tetragon's tetragon_cgroup_rate_total{type}: throttle records read
	 * ("check"), looks at a throttled cgroup's windows ("process"), windows gone
	 * ("lookup_fail") and throttles that could not be cleared ("update_fail") */
	uint64_t throttle_checks, throttle_processed, throttle_lookup_fail, throttle_update_fail;
};

/* The policy directory as last synced (policy_dir.c). */
struct policy_dir_file;
struct agent_policy_dir {
	pthread_mutex_t lock;			/* one sync at a time; status reads */
	struct policy_dir_file *files;
	size_t nfiles;
	char refused[512];			/* why the directory is not read; "" when it is */
	uint64_t syncs, refusals;
	bool synced;				/* the start's sync is done: changes are events */
	atomic_bool watching;			/* the watch looks at it (watch.c) */
};

struct agent_watch;

struct vigil_agent {
	struct vigil_agent_opts opts;
	char node_name[128];
	int64_t boot_to_wall;
	uint64_t started_ns;			/* CLOCK_BOOTTIME */
	int kallsyms_fd;			/* opened before the capability drop, until the decoder takes it */

	struct vigil_probe_report probe;
	struct vigil_loader *loader;
	struct vigil_pcache *cache;
	struct vigil_decoder *decoder;
	struct vigil_cgroups *cgroups;		/* cgroup id -> container id, for the decoder */
	struct vigil_cri *cri;			/* container id -> pod; NULL with --cri-endpoint none */
	struct vigil_rthooks *rthooks;		/* cgroup id -> pod, announced by the runtime hook (rthooks.c) */
	/* what vg_scopes holds for the scoped policies (scopes.c) */
	pthread_mutex_t scopes_lock;
	size_t scope_entries;
	bool scopes_warned;
	struct vigil_sensors *sensors;
	struct vigil_pub *pub;
	struct vigil_journal *journal;		/* --journal-dir, NULL for none */
	struct vigil_ctl_server *ctl;		/* under ctl_lock: status, /metrics and the watch's TLS
						 * reload use it from their threads while it may close */
	pthread_rwlock_t ctl_lock;
	struct vigil_exporter *exporter;	/* --export-file, NULL for none */
	struct vigil_metrics *metrics;		/* always: the control socket reads it too */
	struct vigil_luahost *luahost;		/* --rules-dir, NULL for none */
	struct vigil_pins *pins;		/* the bpffs directory of --keep-enforcing */
	struct vigil_canary *canary;		/* GetUrl / DnsLookup requests (canaries.c) */

	/* The pipeline's lock: the process cache and the decoder, whose entries the events being
	 * dispatched point into. The reader holds it for each record; the Lua rules thread for a
	 * cache lookup (rules.c copies the answer out) and for sending what a rule raised. Never
	 * held while a rule runs: a stuck rule cannot stop the reader. Every dispatch to the
	 * sinks happens under it (the control thread's list changes too), so it also guards
	 * the sinks' buffers and the counters. Taken before lists_lock. */
	pthread_mutex_t pipe_lock;
	struct vigil_buf msgpack;		/* reused per event */
	struct vigil_buf line;
	struct vigil_msg *view;			/* the compact line's and export's view of msgpack (sinks.c) */
	struct agent_counters counters;		/* under pipe_lock */
	/* records of hooks watched in user space (fanotify threads), handed to the reader so
	 * they are decoded after the ring buffer's exec records that came before them */
	pthread_mutex_t user_lock;
	void *user_q[4096];
	size_t user_head, user_n;
	uint64_t user_dropped;			/* under user_lock */
	int user_efd;
	atomic_bool user_kicked;		/* user_efd was written since the reader read it */
	bool rules_hold;			/* under pipe_lock: the reader's round, whose flush holds
					 * what it posted for the rules (sinks.c) */
	bool bus_held;				/* under pipe_lock: the bus holds what the reader's round
					 * published until its agent_flush */
	uint32_t round_records;			/* records the reader's round found so far */
	bool promised;				/* the reader's last wait told the kernel when it looks */
	/* the rules thread's copies of cache entries (rules.c), four so that the host can hold
	 * a process and its parent while it looks up another pair */
	struct agent_proc_copy {
		struct vigil_process p;
		char exec_id[VIGIL_EXEC_ID_MAX], parent_exec_id[VIGIL_EXEC_ID_MAX];
		char container_id[VIGIL_CONTAINER_ID_MAX];
		struct vigil_buf binary, arguments, cwd;
	} rule_procs[4];
	unsigned int rule_proc_next;

	struct agent_users {			/* --username-metadata: uid -> name (extras.c) */
		long mtime, mtime_ns;		/* of /etc/passwd when read */
		struct {
			bool known;
			uint32_t uid;
			char name[64];
		} slot[256];
	} users;
	struct vigil_buf redacted;		/* --redaction-filters: the last arguments redacted (extras.c) */
	struct vigil_buf environ, environ_scratch;	/* the last exec's environment as sent (environ.c) */
	struct agent_throttled {		/* cgroups --cgroup-rate throttles now (throttle.c) */
		uint64_t cgroup_id;
		char cgroup[256];		/* its path, or its id */
	} *throttled;
	size_t nthrottled;
	uint64_t throttle_tick;			/* CLOCK_BOOTTIME of the last look */

	pthread_mutex_t snap_lock;
	struct agent_counters snap;		/* copy for the control thread */

	pthread_mutex_t lists_lock;		/* what was added to kernel lists at run time */
	struct list_entry *list_entries;	/* lists.c */
	size_t nlist_entries;

	struct agent_policy_dir pdir;		/* --tracing-policy-dir (policy_dir.c) */
	struct agent_watch *watch;		/* the thread that looks at it and the rules' (watch.c) */

	atomic_bool stop;
};

/* The matched selector's GetUrl / DnsLookup actions of a policy event, queued for the
 * canary worker (never blocks). Under pipe_lock. */
void agent_canaries(struct vigil_agent *a, const struct vigil_event *ev);

/* Drop every capability but the run-time set (privileges.c), in this thread, before any
 * other thread exists, so that every thread inherits the reduced sets. 0 or -errno. */
int agent_drop_privileges(const struct vigil_agent_opts *o);

/* Seed the exec map and the cache from /proc, publishing a procFS exec event for each. */
int agent_seed_from_proc(struct vigil_agent *a);

/* One kernel record (ring buffer callback; ctx is the agent): decoded, then dispatched when it
 * is an event. Takes pipe_lock. Always 0: one bad record never stops the ring buffer. */
int agent_on_record(void *ctx, void *data, size_t size);

/* Send one event to every sink: the bus always, stdout and the export file when set, and a
 * copy to the Lua rules thread when a rule wants it. Under pipe_lock. */
void agent_dispatch(struct vigil_agent *a, const struct vigil_event *ev);
/* The ancestors of ev beyond its parent when --enable-ancestors asks for its type, nearest
 * first, at most max (extras.c). Under pipe_lock. */
size_t agent_ancestors(struct vigil_agent *a, const struct vigil_event *ev, const struct vigil_process **out,
		       size_t max);
/* vigil_event.user_name for --username-metadata unix; ctx is the agent. Under pipe_lock. */
const char *agent_user_name(void *ctx, const struct vigil_process *p);
/* p's arguments through --redaction-filters; valid until the next call (reader thread) */
const char *agent_redacted_arguments(void *ctx, const struct vigil_process *p);

/* ev's environment filtered (--filter-environment-variables) and redacted, or dropped
 * when not asked for (environ.c). Under pipe_lock. */
void agent_environment(struct vigil_agent *a, struct vigil_event *ev);
/* tetra's debugging commands' control commands (introspect.c); loglevel_set is root's. */
int agent_maps(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk);
int agent_domains(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk);
int agent_policyfilter(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk);
int agent_loglevel(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk);
int agent_eventlog(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk);
int agent_loglevel_set(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk);
/* eventlog.c: the export file's rotation, read and (root's) changed at run time */
int agent_eventlog_set(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk);

/* A cgroup went over --cgroup-rate: name it and send THROTTLE_START once (throttle.c). */
void agent_throttle_start(struct vigil_agent *a, const struct vigil_event *ev);
/* Every second: THROTTLE_STOP for the cgroups quiet again. Under pipe_lock. */
void agent_throttle_tick(struct vigil_agent *a, uint64_t now_boot);
/* {"events", "interval_ns", "cgroups": [{cgroup, cgroup_id, throttled, held_execs,
 * held_clones, held_exits}]}: every cgroup with records held back, read from the kernel's windows
 * (control thread). */
void agent_throttle_pack(struct vigil_agent *a, msgpack_packer *pk);

/* Flush the line-oriented sinks (after each reader batch). Under pipe_lock. */
void agent_flush(struct vigil_agent *a);

/* Load the policies named on the command line and in the policy directory. A bad file
 * from the command line is an error; in the directory it is reported and skipped. */
int agent_load_policies(struct vigil_agent *a);

/* Bring the loaded policies in step with the policy directory: load new files, replace the
 * policies of changed ones (the old one stays when the new one is refused), unload those
 * of removed ones; each a policy_status event. retry: files refused before are tried again
 * even when unchanged. Serialised by pdir.lock. 0, or -errno when the directory is not read
 * (untrusted: pdir.refused says why). */
int agent_policy_dir_sync(struct vigil_agent *a, bool retry);
/* The mode argument for vigil_sensors__add/__replace of a policy of the directory (policies.c). */
int agent_policy_dir_mode(struct vigil_agent *a, const struct vigil_policy *p);
/* 0 when dir is a directory only root (or the agent's user) can change; else -errno, why. */
int agent_policy_dir_check(const char *dir, char *why, size_t size);
/* {"path", "watching", "reason"?, "syncs", "refusals", "refused": [{"file", "running", "reason"}]} */
void agent_policy_dir_pack(struct vigil_agent *a, msgpack_packer *pk);
void agent_policy_dir_free(struct vigil_agent *a);

/* What a directory and, with entries, each of its entries (through symlinks) look like, as
 * one number (dirsig.c); racy: some time in it is too recent for a later write to be sure to
 * change it. */
struct agent_dirsig {
	uint64_t value;
	bool racy;
};
struct agent_dirsig agent_dirsig_look(const char *dir, bool entries);

/* The watch thread (watch.c) over opts.policy_dir and opts.rules_dir. 0 or -errno. */
int agent_watch_start(struct vigil_agent *a);
/* Stop and join it. Accepts an agent without one. */
void agent_watch_stop(struct vigil_agent *a);

/* Control commands about policies; each packs its whole reply ({"ok": ..., ...}). */
int agent_policy_add(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk);
int agent_policy_list(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk);
int agent_policy_delete(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk);
int agent_policy_enable(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk);
int agent_policy_disable(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk);
int agent_policy_set_mode(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk);

/* Run-time additions to kernel lists (lists.c): a rule's deny(), checked and recorded with
 * its evidence and expiry; the operator's add/remove/list; expiry, called from the reader. */
int agent_lists_deny(struct vigil_agent *a, const struct vigil_deny_request *req, struct vigil_deny_outcome *out);
void agent_lists_expire(struct vigil_agent *a);
void agent_lists_free(struct vigil_agent *a);
int agent_policy_list_add(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk);
int agent_policy_list_remove(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk);
int agent_policy_list_values(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk);

/* The Lua rules of opts.rules_dir (rules.c), their thread started; 0 when there are none. */
int agent_rules_open(struct vigil_agent *a);
/* Free the copies rules.c made. */
void agent_rules_close(struct vigil_agent *a);
/* Control commands about rules: {"cmd": "rules_list"}, {"cmd": "rules_reload"}. */
int agent_rules_list(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk);
int agent_rules_reload(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk);

/* An array packed aside while its items are produced (count unknown until the end, often
 * under another object's lock), then written with its exact count. */
struct ctl_list {
	msgpack_sbuffer sb;
	msgpack_packer pk;	/* pack each item here and count it in n */
	size_t n;
};

void ctl_list_init(struct ctl_list *l);
/* Write the array (header, then the items) to pk and release l. */
void ctl_list_flush(struct ctl_list *l, msgpack_packer *pk);

/* A map packed aside in the same way: each entry's key goes through ctl_map_key, which counts
 * it, so the header written by ctl_map_flush always says how many entries follow. */
struct ctl_map {
	struct ctl_list entries;	/* n counts keys */
};

void ctl_map_init(struct ctl_map *m);
/* Pack key into m and count the entry; its value follows on m->entries.pk. */
msgpack_packer *ctl_map_key(struct ctl_map *m, const char *key);
/* Write the map (header, then the entries) to pk and release m. */
void ctl_map_flush(struct ctl_map *m, msgpack_packer *pk);

/* Small msgpack helpers the control files share. */
const msgpack_object *ctl_get(const msgpack_object *map, const char *key);
/* The string at key copied into out (NUL-terminated); -ENOENT / -E2BIG. */
int ctl_get_str(const msgpack_object *map, const char *key, char *out, size_t size);
void ctl_pack_str(msgpack_packer *pk, const char *s);
/* {"ok": false, "error": "<msg>"} */
void ctl_pack_error(msgpack_packer *pk, const char *msg);
/* {"ok": true} */
void ctl_pack_ok(msgpack_packer *pk);

/* The control socket handler (runs on the control thread): commands not marked read-only
 * are refused (-EACCES, with an error reply) unless peer has VIGIL_CTL_ALL. */
int agent_control(const struct vigil_ctl_peer *peer, const void *req, size_t len, struct vigil_buf *reply, void *ctx);
/* status's "counters" map (control.c) */
void agent_pack_counters(msgpack_packer *pk, struct vigil_agent *a);
/* Every status counter no vigil_* family serves, for /metrics (status_metrics.c). */
void agent_status_counters(void *ctx, vigil_metrics_counter_emit emit, void *emit_ctx);
/* Start the control server at opts.control_url, --control-group resolved. 0 or -errno. */
int agent_control_start(struct vigil_agent *a);

/* Boot-time clock in ns, the clock of kernel ktimes. */
uint64_t agent_now_ns(void);

/* The rate of the records reaching the reader, for its poll (trickle.c) */
struct agent_trickle {
	uint64_t prev_from, prev_records;	/* the last full window */
	uint64_t from, records;			/* the current one */
	bool fast;				/* by the last agent_trickle_next: a fast stream */
};
void agent_trickle_init(struct agent_trickle *t, uint64_t now);
/* A round's records, counted at the start of the next round (now, agent_now_ns): true when
 * the stream is a trickle; t->fast tells whether it is a fast one */
bool agent_trickle_next(struct agent_trickle *t, uint32_t records, uint64_t now);

/* rthooks.c: the runtime hook's createContainer (root's), the pending entries' pruning (gone
 * cgroups, containers the CRI lists now) and their counters for status. */
int agent_rthooks_create(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk);
void agent_rthooks_prune(struct vigil_agent *a);
void agent_rthooks_pack(struct vigil_agent *a, msgpack_packer *pk);

/* scopes.c: bring vg_scopes up to date with the scoped policies the sensors hold and the
 * pods the runtime lists; after every policy change and every CRI refresh. */
void agent_scopes_sync(struct vigil_agent *a);

#endif
