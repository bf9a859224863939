/* collect.c - the families: the event counters of the table, then what the other modules
 * count (kernel loss, ring buffer, bus, process cache, policies, Lua rules, BPF program
 * statistics, the export file), read at render time. */
#include <stdio.h>
#include <string.h>

#include "bus/bus.h"
#include "events/events.h"
#include "export/export.h"
#include "loader/loader.h"
#include "metrics_internal.h"
#include "pcache/pcache.h"
#include "sensors/sensors.h"

/* A family of the series table; names its labels, 3 to SERIES_LABELS of them (NULL-ended). */
static void table_family(struct vigil_metrics *m, struct prom_out *o, enum series_family f, const char *name,
			 const char *help, const char *const *names)
{
	const char *labels[2 * SERIES_LABELS];
	struct series **v;
	size_t n, i, k, nl = 0, np;

	while (nl < SERIES_LABELS && names[nl])
		nl++;
	prom_family(o, name, "counter", help);
	pthread_mutex_lock(&m->lock);
	n = series_sorted(&m->table, f, &v);
	for (i = 0; i < n; i++) {
		/* past the third, a label with no value is left out: Prometheus reads an empty
		 * label as an absent one, and events outside pods keep their old samples */
		for (k = np = 0; k < nl; k++) {
			if (k >= 3 && !v[i]->label[k][0])
				continue;
			labels[2 * np] = names[k];
			labels[2 * np + 1] = v[i]->label[k];
			np++;
		}
		prom_sample_u64(o, name, labels, np, v[i]->value);
	}
	pthread_mutex_unlock(&m->lock);
	free(v);
}

static void counter(struct prom_out *o, const char *name, const char *help, uint64_t v)
{
	prom_family(o, name, "counter", help);
	prom_sample_u64(o, name, NULL, 0, v);
}

static void kernel_families(struct vigil_metrics *m, struct prom_out *o)
{
	struct vigil_kernel_counters k = {0};
	bool have = m->src.loader && !vigil_loader__counters(m->src.loader, &k);

	prom_family(o, "vigil_bpf_missed_events_total", "counter",
		    "Events the kernel side could not submit, by reason (ring buffer reserve failures).");
	if (have)
		prom_sample_u64(o, "vigil_bpf_missed_events_total", (const char *const[]){"reason", "ringbuf_full"},
				1, k.ringbuf_full);
	prom_family(o, "vigil_bpf_errors_total", "counter",
		    "Kernel-side failures that did not lose an event, by reason.");
	if (have) {
		prom_sample_u64(o, "vigil_bpf_errors_total", (const char *const[]){"reason", "exec_map_full"}, 1,
				k.execs_full);
		prom_sample_u64(o, "vigil_bpf_errors_total", (const char *const[]){"reason", "path_read"}, 1,
				k.path_read);
		prom_sample_u64(o, "vigil_bpf_errors_total", (const char *const[]){"reason", "args_read"}, 1,
				k.args_read);
		prom_sample_u64(o, "vigil_bpf_errors_total", (const char *const[]){"reason", "signal_failed"}, 1,
				k.signal_failed);
		prom_sample_u64(o, "vigil_bpf_errors_total", (const char *const[]){"reason", "stack_no_room"}, 1,
				k.stack_no_room);
		prom_sample_u64(o, "vigil_bpf_errors_total", (const char *const[]){"reason", "set_failed"}, 1,
				k.set_failed);
		prom_sample_u64(o, "vigil_bpf_errors_total", (const char *const[]){"reason", "ima_hash_failed"}, 1,
				k.ima_hash_failed);
	}
}

static void reader_families(struct vigil_metrics *m, struct prom_out *o)
{
	struct vigil_decoder_stats d = {0};
	struct vigil_pcache_stats p = {0};
	int i;

	if (m->src.reader_stats)
		m->src.reader_stats(m->src.ctx, &d, &p);
	counter(o, "vigil_ringbuf_records_received_total", "Records read from the ring buffer.", d.records);
	counter(o, "vigil_ringbuf_records_bad_total", "Malformed records dropped.", d.bad_records);
	counter(o, "vigil_ringbuf_records_unknown_hook_total",
		"Policy records whose hook is not in the table (dropped).", d.unknown_hook);
	prom_family(o, "vigil_process_cache_size", "gauge", "Processes in the cache.");
	prom_sample_u64(o, "vigil_process_cache_size", NULL, 0, p.size);
	prom_family(o, "vigil_process_cache_running", "gauge", "Cached processes that have not exited.");
	prom_sample_u64(o, "vigil_process_cache_running", NULL, 0, p.running);
	counter(o, "vigil_process_cache_evictions_total", "Entries freed before their GC delay (cache full).",
		p.evictions);
	counter(o, "vigil_process_cache_misses_total", "Process lookups that found nothing.", p.misses);
	prom_family(o, "vigil_process_cache_evicted_total", "counter",
		    "Entries evicted from the full cache, by what they were (core/pcache/evict.c).");
	prom_sample_u64(o, "vigil_process_cache_evicted_total", (const char *const[]){"state", "unreferenced"}, 1,
			p.evictions - p.evicted_exited - p.evicted_live);
	prom_sample_u64(o, "vigil_process_cache_evicted_total", (const char *const[]){"state", "exited"}, 1,
			p.evicted_exited);
	prom_sample_u64(o, "vigil_process_cache_evicted_total", (const char *const[]){"state", "running"}, 1,
			p.evicted_live);
	prom_family(o, "vigil_events_degraded_total", "counter",
		    "Events sent with less than usual (process or parent not cached), by reason.");
	for (i = 0; i < VIGIL_DEGRADED_COUNT; i++)
		prom_sample_u64(o, "vigil_events_degraded_total",
				(const char *const[]){"reason", vigil_degraded_reason_name(i)}, 1, d.degraded[i]);
	prom_family(o, "vigil_events_dropped_total", "counter", "Kernel records that produced no event, by reason.");
	for (i = 0; i < VIGIL_DROPPED_COUNT; i++)
		prom_sample_u64(o, "vigil_events_dropped_total", (const char *const[]){"reason", vigil_dropped_reason_name(i)},
				1, d.dropped[i]);
}

/* Our own SP listener knows each subscriber connection's drops (ipc:// and tcp://). */
static void subscriber_families(struct vigil_metrics *m, struct prom_out *o)
{
	struct vigil_pub_peer peers[128];
	size_t n = m->src.pub ? vigil_pub__peers(m->src.pub, peers, VIGIL_ARRAY_SIZE(peers)) : 0, i;
	char pid[16];

	if (n > VIGIL_ARRAY_SIZE(peers))
		n = VIGIL_ARRAY_SIZE(peers);
	prom_family(o, "vigil_bus_subscriber_dropped_total", "counter",
		    "Messages not queued for one subscriber connection (its queue was full), by its pid.");
	for (i = 0; i < n; i++) {
		snprintf(pid, sizeof(pid), "%d", peers[i].pid);
		prom_sample_u64(o, "vigil_bus_subscriber_dropped_total", (const char *const[]){"pid", pid}, 1,
				peers[i].dropped);
	}
}

static void journal_families(struct vigil_metrics *m, struct prom_out *o)
{
	struct vigil_journal_stats js;

	if (!m->src.journal)
		return;
	vigil_journal__stats(m->src.journal, &js);
	counter(o, "vigil_journal_written_total", "Messages written to the journal.", js.written);
	counter(o, "vigil_journal_dropped_total", "Messages never journaled (its writer a whole queue behind, or the disk refused).",
		js.dropped + js.write_errors);
	counter(o, "vigil_journal_evicted_total", "Messages removed by the journal's size bound.", js.evicted);
	prom_family(o, "vigil_journal_bytes", "gauge", "Bytes of the journal on disk.");
	prom_sample_u64(o, "vigil_journal_bytes", NULL, 0, js.bytes);
}

static void bus_families(struct vigil_metrics *m, struct prom_out *o)
{
	counter(o, "vigil_bus_sent_total", "Events published on the bus.",
		m->src.pub ? vigil_pub__sent(m->src.pub) : 0);
	/* nanomsg's PUB socket reports a refused send, not whose queue was full */
	prom_family(o, "vigil_bus_dropped_total", "counter",
		    "Events the bus refused; nanomsg does not tell per subscriber, so subscriber is \"all\".");
	prom_sample_u64(o, "vigil_bus_dropped_total", (const char *const[]){"subscriber", "all"}, 1,
			m->src.pub ? vigil_pub__dropped(m->src.pub) : 0);
	/* the delivery stamp: subscribers compare what they received with this */
	prom_family(o, "vigil_bus_last_seq", "gauge", "Sequence number of the last message published (this incarnation).");
	prom_sample_u64(o, "vigil_bus_last_seq", NULL, 0, m->src.pub ? vigil_pub__last_seq(m->src.pub) : 0);
	subscriber_families(m, o);
	journal_families(m, o);
}

static void policy_state(const struct vigil_policy_status *st, void *ctx)
{
	static const char *const states[] = {"enabled", "disabled"};
	struct prom_out *o = ctx;
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(states); i++)
		prom_sample_u64(o, "vigil_policy_state", (const char *const[]){"policy", st->name, "state", states[i]},
				2, !strcmp(st->state, states[i]));
}

struct rule_emit {
	struct prom_out *o;
	int which;
};

static void emit_rule(void *ctx, const struct vigil_metrics_rule *r)
{
	static const char *const names[] = {"vigil_lua_rule_calls_total", "vigil_lua_rule_alerts_total",
					    "vigil_lua_rule_errors_total", "vigil_lua_rule_seconds_total",
					    "vigil_lua_rule_dropped_total"};
	struct rule_emit *e = ctx;
	const char *const labels[] = {"rule", r->name};

	if (e->which == 3)
		prom_sample_f64(e->o, names[3], labels, 1, r->seconds);
	else
		prom_sample_u64(e->o, names[e->which], labels, 1,
				e->which == 0 ? r->calls : e->which == 1 ? r->alerts : e->which == 2 ? r->errors
													: r->dropped);
}

static void rule_families(struct vigil_metrics *m, struct prom_out *o)
{
	static const char *const names[] = {"vigil_lua_rule_calls_total", "vigil_lua_rule_alerts_total",
					    "vigil_lua_rule_errors_total", "vigil_lua_rule_seconds_total",
					    "vigil_lua_rule_dropped_total"};
	static const char *const help[] = {"Events handed to the rule.", "Alerts the rule emitted.",
					   "Errors raised by the rule.", "Time spent in the rule.",
					   "Events the rule wanted that the full rules queue dropped."};
	struct rule_emit e = {.o = o};

	for (e.which = 0; e.which < 5; e.which++) {
		prom_family(o, names[e.which], "counter", help[e.which]);
		if (m->rules)
			m->rules(m->rules_ctx, emit_rule, &e);
	}
}

static void prog_families(struct prom_out *o)
{
	struct prog_stat *v = NULL;
	int n = metrics_bpf_progs(&v), i;

	prom_family(o, "vigil_bpf_prog_run_count_total", "counter",
		    "Runs of the agent's BPF programs (kernel bpf stats, counted while enabled), by program name.");
	for (i = 0; i < n; i++)
		prom_sample_u64(o, "vigil_bpf_prog_run_count_total", (const char *const[]){"prog", v[i].name}, 1,
				v[i].run_cnt);
	prom_family(o, "vigil_bpf_prog_run_seconds_total", "counter",
		    "Time spent in the agent's BPF programs (kernel bpf stats), by program name.");
	for (i = 0; i < n; i++)
		prom_sample_ns(o, "vigil_bpf_prog_run_seconds_total", (const char *const[]){"prog", v[i].name}, 1,
			       v[i].run_time_ns);
	free(v);
}

static void export_families(struct vigil_metrics *m, struct prom_out *o)
{
	struct vigil_exporter_stats s;
	const char *name;
	size_t i;

	vigil_exporter__stats(m->src.exporter, &s);
	counter(o, "vigil_events_exported_total", "Events written to the export file.", s.file.lines);
	counter(o, "vigil_events_exported_bytes_total", "Bytes written to the export file.", s.file.bytes);
	counter(o, "vigil_export_filtered_total", "Events the export allow/deny lists dropped.", s.filtered);
	prom_family(o, "vigil_export_ratelimit_events_dropped_total", "counter",
		    "Events the export rate limit dropped (each reported in a rate_limit_info event).");
	for (i = 0; i < s.nrate_types; i++) {
		name = vigil_event_type_name(s.rate_limited_by_type[i].type);
		prom_sample_u64(o, "vigil_export_ratelimit_events_dropped_total",
				(const char *const[]){"type", name ? name : "unknown"}, 1, s.rate_limited_by_type[i].dropped);
	}
	counter(o, "vigil_export_rotations_total", "Export file rotations.", s.file.rotations);
	counter(o, "vigil_export_compressed_total", "Rotated export files gzipped.", s.file.compressed);
	prom_family(o, "vigil_export_errors_total", "counter",
		    "Export failures: records lost to write errors, backups left uncompressed, events not rendered.");
	prom_sample_u64(o, "vigil_export_errors_total", (const char *const[]){"op", "write"}, 1, s.file.write_errors);
	prom_sample_u64(o, "vigil_export_errors_total", (const char *const[]){"op", "compress"}, 1,
			s.file.compress_errors);
	prom_sample_u64(o, "vigil_export_errors_total", (const char *const[]){"op", "render"}, 1, s.errors);
}

static void emit_status_counter(void *ctx, const char *key, bool gauge, uint64_t value)
{
	struct prom_out *o = ctx;
	char name[128], help[192];

	snprintf(name, sizeof(name), gauge ? "vigil_%s" : "vigil_%s_total", key);
	snprintf(help, sizeof(help), "The agent's %s, as `vigil status` shows it (README \"Metrics\").", key);
	prom_family(o, name, gauge ? "gauge" : "counter", help);
	prom_sample_u64(o, name, NULL, 0, value);
}

void metrics_collect(struct vigil_metrics *m, struct prom_out *o)
{
	prom_family(o, "vigil_build_info", "gauge", "Build information.");
	prom_sample_u64(o, "vigil_build_info", (const char *const[]){"version", VIGIL_VERSION}, 1, 1);

	table_family(m, o, SERIES_EVENTS, "vigil_events_total",
		     "Events dispatched, by type, binary, policy and the pod (namespace, pod, workload; \"\" outside pods).",
		     (const char *const[]){"type", "binary", "policy", "namespace", "pod", "workload", NULL});
	table_family(m, o, SERIES_POLICY_EVENTS, "vigil_policy_events_total",
		     "Policy events, by policy, hook, action and the pod (namespace, pod, workload).",
		     (const char *const[]){"policy", "hook", "action", "namespace", "pod", "workload", NULL});
	table_family(m, o, SERIES_ENFORCEMENT, "vigil_enforcement_total",
		     "Enforcement actions taken (mode enforce) or that would have been (mode monitor).",
		     (const char *const[]){"policy", "action", "mode", NULL});
	table_family(m, o, SERIES_SELECTOR_ACTIONS, "vigil_policy_selector_actions_total",
		     "Actions per policy, hook and selector; monitor_* for what monitor mode only reported.",
		     (const char *const[]){"policy", "selector", "action", NULL});
	kernel_families(m, o);
	reader_families(m, o);
	bus_families(m, o);
	prom_family(o, "vigil_policy_state", "gauge", "1 for the state each loaded policy is in.");
	if (m->src.sensors)
		vigil_sensors__list(m->src.sensors, policy_state, o);
	rule_families(m, o);
	prog_families(o);
	export_families(m, o);
	metrics_collect_canary(m, o);
	if (m->src.status_counters)
		m->src.status_counters(m->src.ctx, emit_status_counter, o);
}
