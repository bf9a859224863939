/* metrics.c - the metrics object: counting events on the reader thread, rendering on any. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics_internal.h"

#define DEFAULT_BINARY_CAP 200

struct vigil_metrics *vigil_metrics__new(const struct vigil_metrics_opts *in)
{
	struct vigil_metrics *m = calloc(1, sizeof(*m));
	struct vigil_metrics_opts o = {0};
	int err;

	if (!m)
		return NULL;
	if (in)
		memcpy(&o, in, in->sz && in->sz < sizeof(o) ? in->sz : sizeof(o));
	m->stats_fd = -1;
	m->binary_labels = o.binary_labels;
	m->hide_binaries = o.binary_labels == VIGIL_METRICS_BINARY_OFF;
	m->names = o.names;
	snprintf(m->node_name, sizeof(m->node_name), "%s", o.node_name ? o.node_name : "");
	m->process_cache_capacity = o.process_cache_capacity;
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->render_lock, NULL);
	err = series_init(&m->table, o.binary_cap ? o.binary_cap : DEFAULT_BINARY_CAP);
	m->memo = m->table.memo;	/* the same entries for the table's life (series_hide_binaries) */
	if (err) {
		vigil_metrics__free(m);
		errno = -err;
		return NULL;
	}
	return m;
}

void vigil_metrics__free(struct vigil_metrics *m)
{
	if (!m)
		return;
	metrics_http_stop(m->http);
	if (m->stats_fd >= 0)
		close(m->stats_fd);
	series_free(&m->table);
	pthread_mutex_destroy(&m->render_lock);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

void vigil_metrics__set_sources(struct vigil_metrics *m, const struct vigil_metrics_sources *src)
{
	memset(&m->src, 0, sizeof(m->src));
	if (src)
		memcpy(&m->src, src, src->sz && src->sz < sizeof(m->src) ? src->sz : sizeof(m->src));
	m->src.sz = sizeof(m->src);
}

void vigil_metrics__set_rule_source(struct vigil_metrics *m, vigil_metrics_rule_source fn, void *ctx)
{
	pthread_mutex_lock(&m->render_lock);
	m->rules = fn;
	m->rules_ctx = ctx;
	pthread_mutex_unlock(&m->render_lock);
}

/* "kprobe:security_file_open", "tracepoint:syscalls/sys_enter_openat", "lsm:file_open",
 * "uprobe:/usr/bin/bash:readline" */
static void hook_label(const struct vigil_hook_info *h, char *out, size_t size)
{
	const char *fn = h->function_name ? h->function_name : "";

	switch (h->type) {
	case VIGIL_EVENT_TRACEPOINT:
		snprintf(out, size, "tracepoint:%s/%s", h->subsys ? h->subsys : "", h->event ? h->event : "");
		break;
	case VIGIL_EVENT_LSM:
		snprintf(out, size, "lsm:%s", fn);
		break;
	case VIGIL_EVENT_UPROBE:
		snprintf(out, size, "uprobe:%s:%s", h->path ? h->path : "", h->symbol ? h->symbol : "");
		break;
	case VIGIL_EVENT_USDT:
		snprintf(out, size, "usdt:%s:%s:%s", h->path ? h->path : "", h->subsys ? h->subsys : "",
			 h->event ? h->event : "");
		break;
	default:
		snprintf(out, size, "kprobe:%s", fn);
		break;
	}
}

/* The policy file's spelling of the actions that enforce. */
static const char *enforcement_name(enum vigil_event_action a)
{
	switch (a) {
	case VIGIL_EVENT_ACTION_SIGKILL: return "Sigkill";
	case VIGIL_EVENT_ACTION_OVERRIDE: return "Override";
	case VIGIL_EVENT_ACTION_SIGNAL: return "Signal";
	default: return NULL;
	}
}

/* Tetragon's selector_actions spelling: "post", "sigkill", and "monitor_sigkill" for what
 * monitor mode only reported. */
static void selector_action(const struct vigil_event *ev, char *out, size_t size)
{
	const char *name = vigil_event_action_name(ev->policy.action);
	size_t i, n;

	name = name && !strncmp(name, "KPROBE_ACTION_", 14) ? name + 14 : "unknown";
	n = (size_t)snprintf(out, size, "%s", ev->policy.monitored ? "monitor_" : "");
	for (i = 0; name[i] && n + 1 < size; i++)
		out[n++] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
	out[n] = '\0';
}

void vigil_metrics__count_event(struct vigil_metrics *m, const struct vigil_event *ev)
{
	const char *type = vigil_event_type_name(ev->type), *policy = "", *binary, *enf, *action;
	bool is_policy = ev->type == VIGIL_EVENT_KPROBE || ev->type == VIGIL_EVENT_TRACEPOINT ||
			 ev->type == VIGIL_EVENT_LSM || ev->type == VIGIL_EVENT_UPROBE || ev->type == VIGIL_EVENT_USDT;
	char hook[256], selector[400], sel_action[48];
	const struct vigil_hook_info *h;
	/* Tetragon's namespace, pod and workload labels: "" outside pods */
	const char *ns = ev->pod ? ev->pod->namespace_ : "", *pod = ev->pod ? ev->pod->name : "";
	const char *workload = ev->pod ? ev->pod->workload : "";
	struct series_record rec = {0};
	struct count_memo key, *e;

	if (!m)
		return;
	/* a label set counted before: one add, no lock (memo.c) */
	e = memo_find(m->memo, ev, &key);
	if (e) {
		memo_count(e);
		return;
	}
	if (is_policy && ev->policy.hook && ev->policy.hook->policy_name)
		policy = ev->policy.hook->policy_name;
	pthread_mutex_lock(&m->lock);
	m->table.record = &rec;
	binary = m->hide_binaries ? METRICS_HIDDEN_BINARY :
		 series_binary_label(&m->table, ev->process && ev->process->binary ? ev->process->binary : "");
	series_addv(&m->table, SERIES_EVENTS,
		    (const char *const[SERIES_LABELS]){type ? type : "unknown", binary, policy, ns, pod, workload}, 1);
	if (is_policy && ev->policy.hook) {
		hook_label(ev->policy.hook, hook, sizeof(hook));
		action = vigil_event_action_name(ev->policy.action);
		series_addv(&m->table, SERIES_POLICY_EVENTS,
			    (const char *const[SERIES_LABELS]){policy, hook, action ? action : "", ns, pod, workload}, 1);
		enf = enforcement_name(ev->policy.action);
		if (enf)
			series_add(&m->table, SERIES_ENFORCEMENT, policy, enf,
				   ev->policy.monitored ? "monitor" : "enforce", 1);
		/* a selector's `label` names it in place of its index */
		h = ev->policy.hook;
		if (h->selector_labels && ev->policy.selector < h->nselectors && h->selector_labels[ev->policy.selector])
			snprintf(selector, sizeof(selector), "%s[%s]", hook, h->selector_labels[ev->policy.selector]);
		else
			snprintf(selector, sizeof(selector), "%s[%u]", hook, ev->policy.selector);
		selector_action(ev, sel_action, sizeof(sel_action));
		series_add(&m->table, SERIES_SELECTOR_ACTIONS, policy, selector, sel_action, 1);
	}
	if (m->names != VIGIL_METRICS_NAMES_VIGIL)
		metrics_count_tetragon(m, ev, binary);
	m->table.record = NULL;
	memo_fill(&m->table, ev, &key, &rec);
	pthread_mutex_unlock(&m->lock);
}

int metrics_render(struct vigil_metrics *m, struct vigil_buf *out, bool own, bool tetragon)
{
	struct prom_out o = {.buf = out};
	size_t start = out->len;

	pthread_mutex_lock(&m->render_lock);
	if (own)
		metrics_collect(m, &o);
	if (tetragon)
		metrics_collect_tetragon(m, &o);
	pthread_mutex_unlock(&m->render_lock);
	if (o.err) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
	}
	return o.err;
}

int vigil_metrics__render(struct vigil_metrics *m, struct vigil_buf *out)
{
	return metrics_render(m, out, m->names != VIGIL_METRICS_NAMES_TETRAGON, m->names != VIGIL_METRICS_NAMES_VIGIL);
}

/* Binary paths say what every user runs: not for an endpoint the network can reach unless
 * asked for. */
int metrics_listening_on(struct vigil_metrics *m, const char *addr, bool loopback)
{
	int err;

	if (m->binary_labels != VIGIL_METRICS_BINARY_AUTO || loopback)
		return 0;

	pthread_mutex_lock(&m->lock);
	err = series_hide_binaries(&m->table, METRICS_HIDDEN_BINARY);
	if (!err)
		m->hide_binaries = true;
	pthread_mutex_unlock(&m->lock);
	if (err) {
		pr_warn("metrics: cannot turn binary labels off: %s", strerror(-err));
		return err;
	}
	pr_info("metrics: %s is not a loopback address: binary labels are \"%s\" "
			"(--metrics-binary-labels on keeps them)", addr, METRICS_HIDDEN_BINARY);
	return 0;
}

bool vigil_metrics__binary_labels(struct vigil_metrics *m)
{
	bool on;

	pthread_mutex_lock(&m->lock);
	on = !m->hide_binaries;
	pthread_mutex_unlock(&m->lock);
	return on;
}

int vigil_metrics__serve(struct vigil_metrics *m, const char *addr)
{
	int fd;

	if (m->http)
		return -EALREADY;
	if (!addr)
		return -EINVAL;
	m->http = metrics_http_start(m, addr);
	if (!m->http)
		return -errno;
	fd = metrics_bpf_stats_enable();
	if (fd < 0)
		pr_warn("metrics: cannot enable BPF run-time statistics: %s (vigil_bpf_prog_run_* stay at 0)",
			strerror(-fd));
	else
		m->stats_fd = fd;
	return 0;
}

int vigil_metrics_names_parse(const char *s, enum vigil_metrics_names *out)
{
	static const char *const names[] = {
		[VIGIL_METRICS_NAMES_BOTH] = "both",
		[VIGIL_METRICS_NAMES_VIGIL] = "vigil",
		[VIGIL_METRICS_NAMES_TETRAGON] = "tetragon",
	};
	size_t i;

	for (i = 0; s && i < VIGIL_ARRAY_SIZE(names); i++) {
		if (!strcmp(s, names[i])) {
			*out = (enum vigil_metrics_names)i;
			return 0;
		}
	}
	return -EINVAL;
}

int vigil_metrics__port(const struct vigil_metrics *m)
{
	return m ? metrics_http_port(m->http) : 0;
}
