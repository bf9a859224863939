/* tetragon.c - vigil's numbers under Tetragon's metric names, label names and meanings
 * (docs/content/en/docs/reference/metrics.md in cilium/tetragon), so alert rules and
 * Grafana dashboards written for Tetragon read vigil's /metrics unchanged.
 *
 * Only what vigil has the data for is served, each family from the counter that means
 * the same thing; the Kubernetes labels (namespace, pod, workload) are the event's pod's
 * (empty for host processes, as Tetragon's). Two families are not in Tetragon's current
 * registry but in alert rules written against older releases: tetragon_missed_events_total
 * (now tetragon_bpf_missed_events_total) and tetragon_process_exec_total (exec events,
 * tetragon_events_total{type="PROCESS_EXEC"}); both are served with the same numbers.
 *
 * Per event only two series are counted besides vigil's own (metrics_count_tetragon):
 * policy events by binary and hook, and raw syscalls by name. Everything else is summed
 * from vigil's table or read from its source when /metrics is scraped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "bus/bus.h"
#include "events/events.h"
#include "export/export.h"
#include "loader/loader.h"
#include "metrics_internal.h"
#include "pcache/pcache.h"
#include "policy/policy.h"
#include "sensors/sensors.h"

/* ---- counting (reader thread, m->lock held) ---- */

/* Tetragon's hook label: "kprobe:F", "tracepoint:S/E", "lsm:H", "uprobe:PATH/SYMBOL"
 * (pkg/grpc/tracing PolicyInfo). */
static void tetragon_hook(const struct vigil_hook_info *h, char *out, size_t size)
{
	switch (h->type) {
	case VIGIL_EVENT_TRACEPOINT:
		snprintf(out, size, "tracepoint:%s/%s", h->subsys ? h->subsys : "", h->event ? h->event : "");
		break;
	case VIGIL_EVENT_LSM:
		snprintf(out, size, "lsm:%s", h->function_name ? h->function_name : "");
		break;
	case VIGIL_EVENT_UPROBE:
		snprintf(out, size, "uprobe:%s/%s", h->path ? h->path : "", h->symbol ? h->symbol : "");
		break;
	case VIGIL_EVENT_USDT:
		snprintf(out, size, "usdt:%s/%s:%s", h->path ? h->path : "", h->subsys ? h->subsys : "",
			 h->event ? h->event : "");
		break;
	default:
		snprintf(out, size, "kprobe:%s", h->function_name ? h->function_name : "");
		break;
	}
}

/* Labels of a per-event series into l: three of the family's, then the event's
 * namespace, pod and workload ("" outside pods). */
static const char *const *pod_labels(const char *l[SERIES_LABELS], const struct vigil_event *ev, const char *l0,
				     const char *l1, const char *l2)
{
	l[0] = l0;
	l[1] = l1;
	l[2] = l2;
	l[3] = ev->pod ? ev->pod->namespace_ : "";
	l[4] = ev->pod ? ev->pod->name : "";
	l[5] = ev->pod ? ev->pod->workload : "";
	return l;
}

/* tetragon_syscalls_total counts raw_syscalls/sys_enter events by the syscall their id
 * argument names (pkg/metrics/syscallmetrics); a 32-bit syscall is "i386/<number>". */
static void count_syscall(struct vigil_metrics *m, const struct vigil_event *ev, const char *binary)
{
	const struct vigil_hook_info *h = ev->policy.hook;
	const char *name = NULL;
	const char *l[SERIES_LABELS];
	char num[24];
	uint64_t id;
	size_t i;

	if (ev->type != VIGIL_EVENT_TRACEPOINT || !h->subsys || !h->event || strcmp(h->subsys, "raw_syscalls") ||
	    strcmp(h->event, "sys_enter"))
		return;
	for (i = 0; i < ev->policy.nargs; i++) {
		if (ev->policy.args[i].type != VIGIL_ARG_SYSCALL64 && ev->policy.args[i].type != VIGIL_ARG_LONG)
			continue;
		id = ev->policy.args[i].value;
		if (id & 0x80000000u && ev->policy.args[i].type == VIGIL_ARG_SYSCALL64) {
			snprintf(num, sizeof(num), "i386/%u", (unsigned int)(id & 0x7fffffffu));
			name = num;
		} else {
			name = id <= 0xffffffffu ? vigil_syscall_name((unsigned int)id) : NULL;
			if (!name) {
				snprintf(num, sizeof(num), "%llu", (unsigned long long)id);
				name = num;
			}
		}
		break;
	}
	if (name)
		series_addv(&m->table, SERIES_TG_SYSCALLS, pod_labels(l, ev, name, binary, ""), 1);
}

void metrics_count_tetragon(struct vigil_metrics *m, const struct vigil_event *ev, const char *binary)
{
	const char *l[SERIES_LABELS];
	char hook[300];

	if (ev->type != VIGIL_EVENT_KPROBE && ev->type != VIGIL_EVENT_TRACEPOINT && ev->type != VIGIL_EVENT_LSM &&
	    ev->type != VIGIL_EVENT_UPROBE && ev->type != VIGIL_EVENT_USDT)
		return;
	if (!ev->policy.hook)
		return;
	tetragon_hook(ev->policy.hook, hook, sizeof(hook));
	series_addv(&m->table, SERIES_TG_POLICY_EVENTS,
		    pod_labels(l, ev, ev->policy.hook->policy_name ? ev->policy.hook->policy_name : "", binary, hook), 1);
	count_syscall(m, ev, binary);
}

/* ---- rendering ---- */

/* The process labels every Tetragon event family carries, in its order, around one
 * family-specific label (name, value) placed where it sorts; s's labels 3-5 are its
 * namespace, pod and workload. */
static void process_sample(struct vigil_metrics *m, struct prom_out *o, const char *family, const char *binary,
			   const struct series *s, const char *extra, const char *extra_value, uint64_t v)
{
	const char *const with[] = {"binary", binary, "namespace", s->label[3], "node_name", m->node_name,
				    "pod", s->label[4], extra, extra_value, "workload", s->label[5]};
	const char *const without[] = {"binary", binary, "namespace", s->label[3], "node_name", m->node_name,
				       "pod", s->label[4], "workload", s->label[5]};

	if (extra)
		prom_sample_u64(o, family, with, 6, v);
	else
		prom_sample_u64(o, family, without, 5, v);
}

static bool tetragon_kind(const char *type)
{
	return strcmp(type, "PROCESS_ALERT") && strcmp(type, "RULE_ACTION") && strcmp(type, "RULE_STATUS");
}

/* vigil's event series ordered by every label but the policy (2), so the rows that
 * tetragon_events_total sums are adjacent. */
static int cmp_but_policy(const void *a, const void *b)
{
	const struct series *x = *(struct series *const *)a, *y = *(struct series *const *)b;
	static const int order[] = {0, 1, 3, 4, 5};
	size_t i;
	int c;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		c = strcmp(x->label[order[i]], y->label[order[i]]);
		if (c)
			return c;
	}
	return 0;
}

/* tetragon_events_total{type,...} and tetragon_process_exec_total: vigil's event series
 * summed over the policy label. */
static void event_families(struct vigil_metrics *m, struct prom_out *o)
{
	struct series **v;
	size_t n, i, j;
	uint64_t sum;
	int pass;

	pthread_mutex_lock(&m->lock);
	n = series_sorted(&m->table, SERIES_EVENTS, &v);
	qsort(v, n, sizeof(*v), cmp_but_policy);
	for (pass = 0; pass < 2; pass++) {
		if (pass == 0)
			prom_family(o, "tetragon_events_total", "counter", "The total number of Tetragon events");
		else
			prom_family(o, "tetragon_process_exec_total", "counter",
				    "Process exec events (tetragon_events_total{type=\"PROCESS_EXEC\"}; an older name).");
		for (i = 0; i < n; i = j) {
			for (sum = 0, j = i; j < n && !cmp_but_policy(&v[j], &v[i]); j++)
				sum += v[j]->value;
			if (pass == 0 && tetragon_kind(v[i]->label[0]))
				process_sample(m, o, "tetragon_events_total", v[i]->label[1], v[i], "type", v[i]->label[0],
					       sum);
			else if (pass == 1 && !strcmp(v[i]->label[0], "PROCESS_EXEC"))
				process_sample(m, o, "tetragon_process_exec_total", v[i]->label[1], v[i], NULL, NULL, sum);
		}
	}
	free(v);
	n = series_sorted(&m->table, SERIES_TG_POLICY_EVENTS, &v);
	prom_family(o, "tetragon_policy_events_total", "counter", "Policy events calls observed.");
	for (i = 0; i < n; i++) {
		const char *const labels[] = {"binary", v[i]->label[1], "hook", v[i]->label[2], "namespace",
					      v[i]->label[3], "node_name", m->node_name, "pod", v[i]->label[4],
					      "policy", v[i]->label[0], "workload", v[i]->label[5]};

		prom_sample_u64(o, "tetragon_policy_events_total", labels, 7, v[i]->value);
	}
	free(v);
	n = series_sorted(&m->table, SERIES_TG_SYSCALLS, &v);
	prom_family(o, "tetragon_syscalls_total", "counter", "System calls observed.");
	for (i = 0; i < n; i++)
		process_sample(m, o, "tetragon_syscalls_total", v[i]->label[1], v[i], "syscall", v[i]->label[0],
			       v[i]->value);
	free(v);
	pthread_mutex_unlock(&m->lock);
}

/* tetragon_tracingpolicy_selector_actions_total from vigil's selector series, whose
 * selector label is "<hook>[<index>]" with vigil's hook spelling "kind:target": Tetragon's
 * hook label there is the target alone. */
static void selector_family(struct vigil_metrics *m, struct prom_out *o)
{
	struct series **v;
	size_t n, i;
	char hook[300], index[16];
	const char *colon, *open;

	prom_family(o, "tetragon_tracingpolicy_selector_actions_total", "counter",
		    "The number of times a selector action was taken (monitor_* when monitor mode only reported it).");
	pthread_mutex_lock(&m->lock);
	n = series_sorted(&m->table, SERIES_SELECTOR_ACTIONS, &v);
	for (i = 0; i < n; i++) {
		const char *sel = v[i]->label[1];

		open = strrchr(sel, '[');
		colon = strchr(sel, ':');
		if (!open)
			continue;
		snprintf(hook, sizeof(hook), "%.*s", (int)(open - (colon && colon < open ? colon + 1 : sel)),
			 colon && colon < open ? colon + 1 : sel);
		snprintf(index, sizeof(index), "%.*s", (int)strcspn(open + 1, "]"), open + 1);
		{
			const char *const labels[] = {"action", v[i]->label[2], "hook", hook, "hook_index", "0",
						      "policy", v[i]->label[0], "policy_namespace", "",
						      "selector_index", index, "selector_label", ""};

			prom_sample_u64(o, "tetragon_tracingpolicy_selector_actions_total", labels, 7, v[i]->value);
		}
	}
	pthread_mutex_unlock(&m->lock);
	free(v);
}

static void counter(struct prom_out *o, const char *name, const char *help, uint64_t v)
{
	prom_family(o, name, "counter", help);
	prom_sample_u64(o, name, NULL, 0, v);
}

static void gauge(struct prom_out *o, const char *name, const char *help, uint64_t v)
{
	prom_family(o, name, "gauge", help);
	prom_sample_u64(o, name, NULL, 0, v);
}

/* Kernel-side loss: vigil counts ring buffer reserve failures, and of those the exec
 * records (Tetragon's msg_op 5); the rest are "other". The error is ENOSPC, Tetragon's
 * errno for a full buffer. */
static void loss_families(struct vigil_metrics *m, struct prom_out *o)
{
	static const char *const names[] = {"tetragon_bpf_missed_events_total", "tetragon_missed_events_total"};
	struct vigil_kernel_counters k = {0};
	bool have = m->src.loader && !vigil_loader__counters(m->src.loader, &k);
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(names); i++) {
		prom_family(o, names[i], "counter",
			    i ? "Events the kernel could not send (an older name of tetragon_bpf_missed_events_total)."
			      : "Number of Tetragon perf events that are failed to be sent from the kernel.");
		if (!have)
			continue;
		prom_sample_u64(o, names[i], (const char *const[]){"error", "ENOSPC", "msg_op", "5"}, 2,
				k.ringbuf_full_exec);
		prom_sample_u64(o, names[i], (const char *const[]){"error", "ENOSPC", "msg_op", "other"}, 2,
				k.ringbuf_full - k.ringbuf_full_exec);
	}
}

/* events of one kind counted so far, every label summed */
static uint64_t events_of_type(struct vigil_metrics *m, const char *type)
{
	struct series **v;
	uint64_t sum = 0;
	size_t n, i;

	pthread_mutex_lock(&m->lock);
	n = series_sorted(&m->table, SERIES_EVENTS, &v);
	for (i = 0; i < n; i++)
		if (!strcmp(v[i]->label[0], type))
			sum += v[i]->value;
	pthread_mutex_unlock(&m->lock);
	free(v);
	return sum;
}

/* tetragon_msg_op_total{msg_op}: messages handled, by Tetragon's op numbers
 * (bpf/lib/msg_types.h there): exit 7 and clone 23 are the decoder's records; exec 5 is
 * the exec events, the /proc scan's included (Tetragon's scan sends MSG_OP_EXECVE
 * messages); a policy hook's record is one op in vigil, so those are the events of each
 * kind (13 kprobe, 14 tracepoint, 15 uprobe, 16 lsm). */
static void msg_op_family(struct vigil_metrics *m, struct prom_out *o, const struct vigil_decoder_stats *d)
{
	static const struct {
		const char *op, *type;
	} events[] = {{"5", "PROCESS_EXEC"}, {"13", "PROCESS_KPROBE"}, {"14", "PROCESS_TRACEPOINT"}, {"15", "PROCESS_UPROBE"},
		       {"16", "PROCESS_LSM"}};
	size_t i;

	prom_family(o, "tetragon_msg_op_total", "counter", "The total number of times we encounter a given message opcode.");
	for (i = 0; i < VIGIL_ARRAY_SIZE(events); i++)
		prom_sample_u64(o, "tetragon_msg_op_total", (const char *const[]){"msg_op", events[i].op}, 1,
				events_of_type(m, events[i].type));
	prom_sample_u64(o, "tetragon_msg_op_total", (const char *const[]){"msg_op", "7"}, 1, d->exit);
	prom_sample_u64(o, "tetragon_msg_op_total", (const char *const[]){"msg_op", "23"}, 1, d->clone);
}

/* tetragon_map_entries / map_capacity / map_errors_update_total for Tetragon's execve_map,
 * which is vigil's vg_execs (tgid -> the process's current incarnation). The entries are
 * counted by walking the keys when scraped, as Tetragon's collector does. */
static void map_families(struct vigil_metrics *m, struct prom_out *o)
{
	const char *const map[] = {"map", "execve_map"};
	struct vigil_kernel_counters k = {0};
	struct bpf_map_info info = {0};
	uint32_t len = sizeof(info);
	int fd;

	prom_family(o, "tetragon_map_entries", "gauge", "The total number of in-use entries per map.");
	prom_family(o, "tetragon_map_capacity", "gauge", "Capacity of a BPF map. Expected to be constant.");
	prom_family(o, "tetragon_map_errors_update_total", "counter", "The number of failed updates per map.");
	if (!m->src.loader)
		return;
	fd = vigil_loader__execs_fd(m->src.loader);
	prom_sample_u64(o, "tetragon_map_entries", map, 1, vigil_loader__execs_count(m->src.loader));
	if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len))
		prom_sample_u64(o, "tetragon_map_capacity", map, 1, info.max_entries);
	if (!vigil_loader__counters(m->src.loader, &k))
		prom_sample_u64(o, "tetragon_map_errors_update_total", map, 1, k.execs_full);
}

static void reader_families(struct vigil_metrics *m, struct prom_out *o)
{
	struct vigil_decoder_stats d = {0};
	struct vigil_pcache_stats p = {0};

	if (m->src.reader_stats)
		m->src.reader_stats(m->src.ctx, &d, &p);
	counter(o, "tetragon_observer_ringbuf_events_received_total", "Perf/ring buffer events received.", d.records);
	counter(o, "tetragon_observer_ringbuf_errors_total", "Perf/ring buffer events that could not be read.",
		d.bad_records);
	gauge(o, "tetragon_process_cache_size", "The size of the process cache", p.size);
	if (m->process_cache_capacity)
		gauge(o, "tetragon_process_cache_capacity", "The capacity of the process cache.",
		      m->process_cache_capacity);
	counter(o, "tetragon_process_cache_evictions_total", "Number of process cache LRU evictions.", p.evictions);
	prom_family(o, "tetragon_process_cache_misses_total", "counter", "Number of process cache misses.");
	prom_sample_u64(o, "tetragon_process_cache_misses_total", (const char *const[]){"operation", "get"}, 1,
			p.misses);
	counter(o, "tetragon_events_missing_process_info_total", "Number of events missing process info.",
		d.degraded[VIGIL_DEGRADED_PROCESS_UNKNOWN]);
	/* vigil holds no event back waiting for its process: what Tetragon's event cache gives
	 * up on after its retries, vigil sends at once, marked; so the cache is always empty */
	gauge(o, "tetragon_event_cache_entries", "The number of entries in the event cache.", 0);
	prom_family(o, "tetragon_event_cache_fetch_failures_total", "counter",
		    "Number of failed fetches from the event cache (vigil: events sent without that info).");
	prom_sample_u64(o, "tetragon_event_cache_fetch_failures_total",
			(const char *const[]){"entry_type", "process_info", "event_type", ""}, 2,
			d.degraded[VIGIL_DEGRADED_PROCESS_UNKNOWN]);
	prom_sample_u64(o, "tetragon_event_cache_fetch_failures_total",
			(const char *const[]){"entry_type", "parent_info", "event_type", ""}, 2,
			d.degraded[VIGIL_DEGRADED_PARENT_UNKNOWN]);
	msg_op_family(m, o, &d);
}

struct policy_counts {
	uint64_t enabled, disabled;
};

static void count_policy(const struct vigil_policy_status *st, void *ctx)
{
	struct policy_counts *c = ctx;

	if (!strcmp(st->state, "enabled"))
		c->enabled++;
	else
		c->disabled++;
}

static void policy_memory(const struct vigil_policy_status *st, void *ctx)
{
	prom_sample_u64(ctx, "tetragon_tracingpolicy_kernel_memory_bytes",
			(const char *const[]){"policy", st->name, "policy_namespace", ""}, 2, st->kernel_memory_bytes);
}

static void policy_families(struct vigil_metrics *m, struct prom_out *o)
{
	struct policy_counts c = {0};

	if (m->src.sensors)
		vigil_sensors__list(m->src.sensors, count_policy, &c);
	/* a policy that fails to load is refused, not kept: error and load_error stay 0 */
	prom_family(o, "tetragon_tracingpolicy_loaded", "gauge", "The number of loaded tracing policy by state.");
	prom_sample_u64(o, "tetragon_tracingpolicy_loaded", (const char *const[]){"state", "disabled"}, 1, c.disabled);
	prom_sample_u64(o, "tetragon_tracingpolicy_loaded", (const char *const[]){"state", "enabled"}, 1, c.enabled);
	prom_sample_u64(o, "tetragon_tracingpolicy_loaded", (const char *const[]){"state", "error"}, 1, 0);
	prom_sample_u64(o, "tetragon_tracingpolicy_loaded", (const char *const[]){"state", "load_error"}, 1, 0);
	prom_family(o, "tetragon_tracingpolicy_kernel_memory_bytes", "gauge",
		    "The amount of kernel memory in bytes used by policy's sensors non-shared BPF maps and programs (memlock).");
	if (m->src.sensors)
		vigil_sensors__list(m->src.sensors, policy_memory, o);
	selector_family(m, o);
}

/* Program overhead and the kernel's missed runs (recursion), by program name: vigil's
 * programs are shared by policies, so attach is the program and policy is empty. */
static void prog_families(struct prom_out *o)
{
	struct prog_stat *v = NULL;
	int n = metrics_bpf_progs(&v), i;

	prom_family(o, "tetragon_overhead_program_runs_total", "counter", "The total number of times a BPF program was executed.");
	for (i = 0; i < n; i++)
		prom_sample_u64(o, "tetragon_overhead_program_runs_total",
				(const char *const[]){"attach", v[i].name, "policy", "", "policy_namespace", "",
						      "section", "", "sensor", "vigil"}, 5, v[i].run_cnt);
	prom_family(o, "tetragon_overhead_program_seconds_total", "counter", "The total time a BPF program spent running.");
	for (i = 0; i < n; i++)
		prom_sample_ns(o, "tetragon_overhead_program_seconds_total",
			       (const char *const[]){"attach", v[i].name, "policy", "", "policy_namespace", "",
						     "section", "", "sensor", "vigil"}, 5, v[i].run_time_ns);
	prom_family(o, "tetragon_missed_prog_probes_total", "counter",
		    "The total number of Tetragon probe missed by program (the kernel's recursion misses).");
	for (i = 0; i < n; i++)
		prom_sample_u64(o, "tetragon_missed_prog_probes_total",
				(const char *const[]){"attach", v[i].name, "policy", ""}, 2, v[i].recursion_misses);
	free(v);
}

static void export_families(struct vigil_metrics *m, struct prom_out *o)
{
	struct vigil_exporter_stats s;

	vigil_exporter__stats(m->src.exporter, &s);
	counter(o, "tetragon_events_exported_total", "Total number of events exported", s.file.lines);
	counter(o, "tetragon_events_exported_bytes_total", "Number of bytes exported for events", s.file.bytes);
	counter(o, "tetragon_export_ratelimit_events_dropped_total", "Number of events dropped on export due to rate limiting",
		s.rate_limited);
	/* Tetragon's gRPC listeners drop when their buffer is full; vigil's bus does */
	counter(o, "tetragon_notify_overflowed_events_total",
		"The total number of events dropped because listener buffer was full",
		m->src.pub ? vigil_pub__dropped(m->src.pub) : 0);
}

/* tetragon_cgroup_rate_total{type}: --cgroup-rate's counters. Tetragon's "delete" and
 * "delete_fail" count its sweep of idle cgroups' windows; vigil's windows are an LRU map
 * the kernel evicts from, never swept, so those two have no sample. */
static void cgroup_rate_family(struct vigil_metrics *m, struct prom_out *o)
{
	struct vigil_cgroup_rate_stats c = {0};
	const struct {
		const char *type;
		const uint64_t *v;
	} rows[] = {{"check", &c.check}, {"lookup_fail", &c.lookup_fail}, {"process", &c.process},
		    {"throttle_start", &c.throttle_start}, {"throttle_stop", &c.throttle_stop},
		    {"update_fail", &c.update_fail}};
	size_t i;

	prom_family(o, "tetragon_cgroup_rate_total", "counter",
		    "The total number of Tetragon cgroup rate counters (--cgroup-rate).");
	if (!m->src.cgroup_rate_stats || !m->src.cgroup_rate_stats(m->src.ctx, &c))
		return;
	for (i = 0; i < VIGIL_ARRAY_SIZE(rows); i++)
		prom_sample_u64(o, "tetragon_cgroup_rate_total", (const char *const[]){"type", rows[i].type}, 1,
				*rows[i].v);
}

void metrics_collect_tetragon(struct vigil_metrics *m, struct prom_out *o)
{
	prom_family(o, "tetragon_build_info", "gauge", "Build information about tetragon");
	prom_sample_u64(o, "tetragon_build_info", (const char *const[]){"version", VIGIL_VERSION}, 1, 1);
	event_families(m, o);
	loss_families(m, o);
	reader_families(m, o);
	map_families(m, o);
	policy_families(m, o);
	prog_families(o);
	export_families(m, o);
	cgroup_rate_family(m, o);
}
