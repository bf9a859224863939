/* metrics.h - the agent's numbers in Prometheus' text format: event counts by type,
 * binary and policy, kernel-side loss, ring buffer, bus, process cache, policies, Lua
 * rules, BPF program run time and the export file; served over HTTP (libmicrohttpd) and
 * rendered for the control socket, so `curl /metrics`, `vigil status` and `vigil top`
 * read the same numbers.
 *
 * Names follow Tetragon's (tetragon_* -> vigil_*) so its dashboards map over:
 *   vigil_build_info{version}                                gauge 1
 *   vigil_events_total{type,binary,policy}                   every event dispatched
 *   vigil_policy_events_total{policy,hook,action}            policy events
 *   vigil_enforcement_total{policy,action,mode}              Sigkill/Override/Signal taken
 *                                                            (mode "enforce") or that would
 *                                                            have been (mode "monitor")
 *   vigil_bpf_missed_events_total{reason="ringbuf_full"}     events the kernel could not
 *                                                            submit: the ring buffer was full
 *   vigil_bpf_errors_total{reason}                           exec_map_full, path_read, args_read
 *   vigil_ringbuf_records_received_total, _bad_total, _unknown_hook_total
 *   vigil_bus_sent_total, vigil_bus_dropped_total{subscriber="all"}
 *                                                            nanomsg's PUB socket does not say
 *                                                            which subscriber a refused send was
 *                                                            for, and drops silently for a
 *                                                            subscriber whose queue is full: the
 *                                                            label is always "all"
 *   vigil_process_cache_size (gauge), _evictions_total, _misses_total
 *   vigil_policy_state{policy,state}                         gauge, 1 for the current state
 *   vigil_lua_rule_{calls,alerts,errors,seconds,dropped}_total{rule} from the Lua host's rule source
 *   vigil_bpf_prog_run_{count,seconds}_total{prog}           the kernel's bpf stats of the
 *                                                            agent's programs, by program name
 *   vigil_events_exported_total, _exported_bytes_total, vigil_export_filtered_total,
 *   vigil_export_ratelimit_events_dropped_total{type}, vigil_export_rotations_total,
 *   vigil_export_compressed_total, vigil_export_errors_total{op="write|compress|render"}
 *   vigil_canary_requests_total{kind="url|dns",result}      GetUrl / DnsLookup (core/canary):
 *                                                            result "requested" (selectors that
 *                                                            matched), "sent", "failed",
 *                                                            "rate_limited", "queue_full"; vigil's
 *                                                            own (Tetragon counts no such thing)
 *   vigil_<key>_total, vigil_<key>                          every other counter (gauge) of
 *                                                            `vigil status`, by its status key
 *                                                            (vigil_metrics_sources.status_counters)
 * With Tetragon's names on (vigil_metrics_names), the same numbers are also served as
 * Tetragon's families, labels and meanings (core/metrics/tetragon.c says which), so alert
 * rules and Grafana dashboards written for Tetragon work unchanged.
 * Label cardinality is bounded: binary labels past binary_cap distinct values count as
 * "other". Binary labels are "hidden" when the endpoint is not on loopback (see
 * vigil_metrics_binary_labels).
 */
#ifndef VIGIL_METRICS_H
#define VIGIL_METRICS_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"
#include "../decode/decode.h"
#include "../events/events.h"

struct vigil_loader;
struct vigil_pub;
struct vigil_journal;
struct vigil_canary;
struct vigil_sensors;
struct vigil_exporter;
struct vigil_pcache_stats;
struct vigil_decoder_stats;

struct vigil_metrics;

/* Binary labels (vigil_events_total's `binary`) tell whoever can read the metrics what
 * every user on the host runs. AUTO keeps them while the HTTP server listens on a loopback
 * address (or does not run) and turns them off when it listens on any other; ON and OFF
 * say so explicitly. Off, every binary label is "hidden", in /metrics and in what the
 * control socket packs alike. */
enum vigil_metrics_binary_labels {
	VIGIL_METRICS_BINARY_AUTO,
	VIGIL_METRICS_BINARY_ON,
	VIGIL_METRICS_BINARY_OFF,
};

/* Which families are served: --metrics-names. */
enum vigil_metrics_names {
	VIGIL_METRICS_NAMES_BOTH,	/* vigil_* and tetragon_* side by side (the default) */
	VIGIL_METRICS_NAMES_VIGIL,	/* vigil_* only */
	VIGIL_METRICS_NAMES_TETRAGON,	/* tetragon_* only */
};

struct vigil_metrics_opts {
	size_t sz;			/* sizeof(struct vigil_metrics_opts) */
	size_t binary_cap;		/* distinct binary label values before "other"; 0: 200 */
	enum vigil_metrics_binary_labels binary_labels;	/* default AUTO */
	enum vigil_metrics_names names;	/* default BOTH */
	const char *node_name;		/* Tetragon's node_name label (copied); NULL: "" */
	uint64_t process_cache_capacity;	/* tetragon_process_cache_capacity; 0: not served */
};

/* NULL + errno. */
VIGIL_API struct vigil_metrics *vigil_metrics__new(const struct vigil_metrics_opts *opts);
/* Stops the server if running. Accepts NULL. */
VIGIL_API void vigil_metrics__free(struct vigil_metrics *m);

/* Count one dispatched event. One thread at a time (the agent's callers hold its pipeline
 * lock); a label set counted before costs no lock (memo.c). Accepts m == NULL. */
VIGIL_API void vigil_metrics__count_event(struct vigil_metrics *m, const struct vigil_event *ev);

/* --cgroup-rate's counters, as Tetragon's tetragon_cgroup_rate_total{type} counts them
 * (pkg/metrics/cgroupratemetrics there). */
struct vigil_cgroup_rate_stats {
	uint64_t throttle_start;	/* THROTTLE_START events sent */
	uint64_t throttle_stop;		/* THROTTLE_STOP events sent */
	uint64_t check;			/* throttle records read from the kernel (one per CPU that throttles) */
	uint64_t process;		/* looks at a throttled cgroup's windows (each second) */
	uint64_t lookup_fail;		/* a throttled cgroup's windows were gone */
	uint64_t update_fail;		/* a throttle could not be cleared in the kernel */
};

/* One number of `vigil status` that no family above serves: emitted as vigil_<name>_total
 * (a counter) or vigil_<name> (gauge), name being its status key. */
typedef void (*vigil_metrics_counter_emit)(void *emit_ctx, const char *name, bool gauge, uint64_t value);

/* Where the other families come from, read when rendering. Every pointer is borrowed and
 * may be NULL (its families then have no samples). */
struct vigil_metrics_sources {
	size_t sz;				/* sizeof(struct vigil_metrics_sources) */
	const struct vigil_loader *loader;	/* kernel loss counters */
	const struct vigil_pub *pub;		/* bus counters */
	struct vigil_sensors *sensors;		/* policy states */
	const struct vigil_exporter *exporter;	/* export counters */
	/* The reader thread's latest decoder and process cache counters (any thread). */
	void (*reader_stats)(void *ctx, struct vigil_decoder_stats *dec, struct vigil_pcache_stats *pc);
	void *ctx;
	struct vigil_journal *journal;		/* the lossless path's counters (--journal-dir) */
	struct vigil_canary *canary;		/* GetUrl / DnsLookup counters */
	/* --cgroup-rate's counters (any thread); NULL, or false returned: throttling is off */
	bool (*cgroup_rate_stats)(void *ctx, struct vigil_cgroup_rate_stats *out);
	/* The rest of the status counters (any thread): emit each that no family serves, so
	 * that nothing `vigil status` counts is missing from /metrics. NULL: none. */
	void (*status_counters)(void *ctx, vigil_metrics_counter_emit emit, void *emit_ctx);
};

/* Set once the agent is built, before rendering starts (not thread-safe with render). */
VIGIL_API void vigil_metrics__set_sources(struct vigil_metrics *m, const struct vigil_metrics_sources *src);

/* Lua rule counters, pulled at render time from whoever runs the rules. */
struct vigil_metrics_rule {
	const char *name;
	uint64_t calls;
	uint64_t alerts;
	uint64_t errors;
	double seconds;		/* time spent in the rule's on_event */
	uint64_t dropped;	/* wanted events the rules queue dropped (core/luahost) */
};
typedef void (*vigil_metrics_rule_emit)(void *emit_ctx, const struct vigil_metrics_rule *rule);
/* Calls emit once per rule; runs on the rendering thread, so it must lock what it reads. */
typedef void (*vigil_metrics_rule_source)(void *ctx, vigil_metrics_rule_emit emit, void *emit_ctx);
/* Install (or with fn NULL remove) the rule source. Any thread. */
VIGIL_API void vigil_metrics__set_rule_source(struct vigil_metrics *m, vigil_metrics_rule_source fn, void *ctx);

/* Append the exposition text (text/plain; version=0.0.4) to out. Any thread; renders are
 * serialised. 0 or -ENOMEM. */
VIGIL_API int vigil_metrics__render(struct vigil_metrics *m, struct vigil_buf *out);

/* Pack every sample of vigil's own families (whatever the names option says) as one
 * msgpack map {"name{label=\"value\",...}": value} (keys as in the text; integral values
 * as integers), for the control socket. 0 or -ENOMEM. */
VIGIL_API int vigil_metrics__pack(struct vigil_metrics *m, msgpack_packer *pk);

/* Serve GET /metrics on addr: ":2112" (127.0.0.1), "HOST:PORT", "[V6]:PORT"; port 0 picks
 * one (see vigil_metrics__port). With binary labels AUTO and an address that is not
 * loopback, binary labels go off from here on, and those counted so far become "hidden". While serving, the kernel's BPF run-time statistics are
 * switched on (BPF_ENABLE_STATS) so vigil_bpf_prog_run_* count. 0, -EINVAL for a bad
 * address, -EALREADY, or the bind/listen -errno (logged with the address). */
VIGIL_API int vigil_metrics__serve(struct vigil_metrics *m, const char *addr);
/* Whether events are counted with their binary label (false: "hidden"). */
VIGIL_API bool vigil_metrics__binary_labels(struct vigil_metrics *m);
/* "both", "vigil", "tetragon" into *out; -EINVAL for anything else. */
VIGIL_API int vigil_metrics_names_parse(const char *s, enum vigil_metrics_names *out);

/* The port being served, 0 when not serving. */
VIGIL_API int vigil_metrics__port(const struct vigil_metrics *m);

/* ---- reading the text back (vigil top, tests) ---- */

struct vigil_metrics_label {
	const char *name;
	const char *value;	/* unescaped */
};

/* One sample; strings are valid during the call only. */
typedef int (*vigil_metrics_sample_fn)(void *ctx, const char *name, const struct vigil_metrics_label *labels,
				       size_t nlabels, double value);

/* Parse exposition text, calling fn for each sample (comment lines skipped). Returns 0,
 * fn's non-zero return, -EBADMSG at a malformed line (*bad_line set, 1-based, when given),
 * or -ENOMEM. */
VIGIL_API int vigil_metrics_parse(const char *text, size_t len, vigil_metrics_sample_fn fn, void *ctx,
				  int *bad_line);

#endif
