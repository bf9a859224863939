/* agent.c - the agent's lifecycle and its reader loop. */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "agent_internal.h"
#include "process.h"

static int on_user_record(void *ctx, void *data, size_t size);

#define DEFAULT_POLL_MS 20
/* The reader's poll timeout while records are coming: a record that followed a kernel
 * wake-up too closely to force another (bpf/lib/output.h) waits this long, not poll_ms. A
 * timer wakes only the reader, while a kernel wake-up costs the traced task whose program
 * forces it (~15-20 us on our VMs: an inter-processor interrupt), so the kernel's bound is
 * the longer one. The reader keeps polling this often until no record came for the kernel's
 * bound and one such timeout: after that, any record forces a wake-up. */
#define ACTIVE_POLL_NS 500000L
/* ... and while a fast stream comes (trickle.c): its runs of records take the subscriber long
 * to read, so the reader's wait is cut (bench_latency at 50k/s, p99 of its calm half-seconds:
 * see tests/bench/README.md "Latency") */
#define FAST_POLL_NS 250000L
#define GC_INTERVAL_NS 1000000000ULL
/* The reader's poll while a trickle comes: it has told the kernel it looks by then, so a
 * record of the trickle wakes nobody and waits at most this long. The kernel's bound
 * (--wakeup-us, 2 ms by default; never below ACTIVE_POLL_NS), which a record waits at most
 * anyway: an exec storm's execs, a millisecond apart, share a round (one timer wake-up, one
 * send to each subscriber) rather than take one each (1 ms here: epoll waits 1.75-2.23 ->
 * 0.97-1.25 an exec, sends 1.50-1.68 -> 0.97-1.23). */
#define SPARSE_POLL_MAX_NS 2000000L
#define DEFAULT_DENY_TTL_S 3600	/* a rule's deny() lasts an hour unless --deny-ttl says */

uint64_t agent_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Tetragon's order: $NODE_NAME, else the kernel's hostname. */
static void pick_node_name(struct vigil_agent *a)
{
	const char *env = getenv("NODE_NAME");

	if (a->opts.node_name && *a->opts.node_name)
		snprintf(a->node_name, sizeof(a->node_name), "%s", a->opts.node_name);
	else if (env && *env)
		snprintf(a->node_name, sizeof(a->node_name), "%s", env);
	else if (gethostname(a->node_name, sizeof(a->node_name) - 1))
		snprintf(a->node_name, sizeof(a->node_name), "localhost");
}

static void apply_defaults(struct vigil_agent_opts *o, const struct vigil_agent_opts *in)
{
	if (in)
		memcpy(o, in, in->sz && in->sz < sizeof(*o) ? in->sz : sizeof(*o));
	o->sz = sizeof(*o);
	if (!o->events_url)
		o->events_url = VIGIL_BUS_DEFAULT_EVENTS;
	if (!o->control_url)
		o->control_url = VIGIL_BUS_DEFAULT_CONTROL;
	if (o->poll_ms <= 0)
		o->poll_ms = DEFAULT_POLL_MS;
	if (!o->proc_root)
		o->proc_root = "/proc";
	if (!o->deny_ttl_set)
		o->deny_ttl_s = DEFAULT_DENY_TTL_S;
}

/* The CRI thread listed the pods again: scoped policies follow them. */
static void on_pods_changed(void *ctx)
{
	agent_scopes_sync(ctx);
}

static size_t resolve_container(void *ctx, uint64_t cgroup_id, uint32_t pid, char out[VIGIL_CONTAINER_ID_MAX])
{
	struct vigil_agent *a = ctx;
	const struct vigil_pod *hooked = vigil_rthooks__get(a->rthooks, cgroup_id);
	size_t n;

	/* a container the runtime hook announced names its id whatever its cgroup's path */
	if (hooked && hooked->container_id[0]) {
		n = (size_t)snprintf(out, VIGIL_CONTAINER_ID_MAX, "%s", hooked->container_id);
		vigil_pod__put(hooked);
		return n < VIGIL_CONTAINER_ID_MAX ? n : VIGIL_CONTAINER_ID_MAX - 1;
	}
	vigil_pod__put(hooked);
	return vigil_cgroups__container_id(a->cgroups, cgroup_id, pid, out);
}

static const struct vigil_hook_info *resolve_hook(void *ctx, uint32_t hook_id)
{
	return vigil_sensors__hook(ctx, hook_id);
}

/* The export pipeline (core/export) on --export-file; filters are checked here, so a bad
 * one stops the start with its reason. */
static int open_export(struct vigil_agent *a)
{
	struct vigil_exporter_opts xo = {.sz = sizeof(xo)};
	struct vigil_export_error xerr;
	int err;

	if (!a->opts.export_file)
		return 0;
	if (a->opts.export_opts)
		memcpy(&xo, a->opts.export_opts, a->opts.export_opts->sz && a->opts.export_opts->sz < sizeof(xo)
						      ? a->opts.export_opts->sz : sizeof(xo));
	else
		xo.file = (struct vigil_export_file_opts){.max_bytes = 10ULL << 20, .max_backups = 5};
	xo.sz = sizeof(xo);
	xo.file.sz = sizeof(xo.file);
	xo.file.path = a->opts.export_file;
	xo.node_name = a->node_name;
	xo.cache = a->cache;
	a->exporter = vigil_exporter__new(&xo, &xerr);
	if (a->exporter)
		return 0;
	err = -errno;
	if (err == -EINVAL && xerr.reason[0])
		pr_warn("agent: export: %s (filter %d, line %d)", xerr.reason, xerr.index, xerr.line);
	else
		pr_warn("agent: cannot open export file %s: %s", a->opts.export_file, strerror(-err));
	return err;
}

static void reader_stats(void *ctx, struct vigil_decoder_stats *dec, struct vigil_pcache_stats *pc)
{
	struct vigil_agent *a = ctx;

	pthread_mutex_lock(&a->snap_lock);
	*dec = a->snap.decoder;
	*pc = a->snap.pcache;
	pthread_mutex_unlock(&a->snap_lock);
}

static bool cgroup_rate_stats(void *ctx, struct vigil_cgroup_rate_stats *out)
{
	struct vigil_agent *a = ctx;

	if (!a->opts.cgroup_rate_events)
		return false;
	pthread_mutex_lock(&a->snap_lock);
	out->throttle_start = a->snap.throttle_start;
	out->throttle_stop = a->snap.throttle_stop;
	out->check = a->snap.throttle_checks;
	out->process = a->snap.throttle_processed;
	out->lookup_fail = a->snap.throttle_lookup_fail;
	out->update_fail = a->snap.throttle_update_fail;
	pthread_mutex_unlock(&a->snap_lock);
	return true;
}

/* vigil_lua_rule_*: the Lua host's per-rule counters, read under its lock when rendering. */
struct rule_emit {
	vigil_metrics_rule_emit emit;
	void *ctx;
};

static void rule_status(const struct vigil_rule_status *st, void *ctx)
{
	const struct rule_emit *e = ctx;
	struct vigil_metrics_rule r = {
		.name = st->name,
		.calls = st->calls,
		.alerts = st->alerts,
		.errors = st->errors,
		.seconds = (double)st->time_ns / 1e9,
		.dropped = st->dropped,
	};

	if (strcmp(st->state, "refused"))	/* a file that never loaded has no counters */
		e->emit(e->ctx, &r);
}

static void rule_source(void *ctx, vigil_metrics_rule_emit emit, void *emit_ctx)
{
	struct vigil_agent *a = ctx;
	struct rule_emit e = {emit, emit_ctx};

	if (a->luahost)
		vigil_luahost__list(a->luahost, rule_status, &e);
}

/* What the metrics read besides their own event counters, and the HTTP endpoint. */
static int start_metrics(struct vigil_agent *a)
{
	struct vigil_metrics_sources src = {
		.sz = sizeof(src),
		.loader = a->loader,
		.pub = a->pub,
		.sensors = a->sensors,
		.exporter = a->exporter,
		.reader_stats = reader_stats,
		.ctx = a,
		.journal = a->journal,
		.canary = a->canary,
		.cgroup_rate_stats = cgroup_rate_stats,
		.status_counters = agent_status_counters,
	};

	vigil_metrics__set_sources(a->metrics, &src);
	vigil_metrics__set_rule_source(a->metrics, rule_source, a);
	return a->opts.metrics_server ? vigil_metrics__serve(a->metrics, a->opts.metrics_server) : 0;
}

static void init_locks(struct vigil_agent *a)
{
	pthread_mutex_init(&a->snap_lock, NULL);
	pthread_rwlock_init(&a->ctl_lock, NULL);
	pthread_mutex_init(&a->pipe_lock, NULL);
	pthread_mutex_init(&a->user_lock, NULL);
	a->user_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&a->lists_lock, NULL);
	pthread_mutex_init(&a->pdir.lock, NULL);
	pthread_mutex_init(&a->scopes_lock, NULL);
}

/* Where events go and what outlives the agent: the pins, the bus, the journal and the metrics.
 * The bus binds first: subscribers waiting for the agent connect while it loads, and then see
 * the procFS events of the scan. */
static int open_outputs(struct vigil_agent *a)
{
	a->pins = vigil_pins__open(a->opts.pin_root, a->opts.keep_enforcing);
	if (!a->pins)
		return -errno;
	a->pub = vigil_pub__open(a->opts.events_url, 0660);
	if (!a->pub)
		return -errno;
	if (a->opts.journal_dir) {
		a->journal = vigil_journal__open(&(struct vigil_journal_opts){
			.sz = sizeof(struct vigil_journal_opts),
			.dir = a->opts.journal_dir,
			.max_bytes = a->opts.journal_max_bytes,
		});
		if (!a->journal)
			return -errno;
	}
	a->metrics = vigil_metrics__new(&(struct vigil_metrics_opts){
		.sz = sizeof(struct vigil_metrics_opts),
		.binary_labels = (enum vigil_metrics_binary_labels)a->opts.metrics_binary_labels,
		.names = (enum vigil_metrics_names)a->opts.metrics_names,
		.node_name = a->node_name,
		.process_cache_capacity = a->opts.process_cache_size ? a->opts.process_cache_size : 65536,
	});
	return a->metrics ? 0 : -errno;
}

/* What this kernel can do, and the process programs loaded on it. */
static int open_kernel(struct vigil_agent *a)
{
	struct vigil_loader_opts lopts = {.sz = sizeof(lopts)};
	int err = vigil_probe_kernel(&a->probe);

	if (err)
		return err;
	lopts.ringbuf_bytes = a->opts.ringbuf_bytes;
	lopts.wakeup_batch = a->opts.wakeup_batch;
	lopts.pin_dir = vigil_pins__run_dir(a->pins);
	lopts.env_max = a->opts.process_env ? (a->opts.env_max ? a->opts.env_max : VIGIL_ENV_MAX - 1) : 0;
	lopts.cgroup_rate_events = a->opts.cgroup_rate_events;
	lopts.cgroup_rate_interval_ns = a->opts.cgroup_rate_interval_ns;
	lopts.wakeup_us = a->opts.wakeup_us;
	a->loader = vigil_loader__open(&lopts, &a->probe);
	return a->loader ? 0 : -errno;
}

/* The process cache, the decoder that fills it, and where container ids and pods come from. */
static int open_processes(struct vigil_agent *a)
{
	struct vigil_pcache_opts copts = {.sz = sizeof(copts)};

	copts.node_name = a->node_name;
	copts.capacity = a->opts.process_cache_size;
	a->cache = vigil_pcache__new(&copts);
	if (!a->cache)
		return -errno;
	a->decoder = vigil_decoder__new(a->cache, a->boot_to_wall, a->opts.proc_root);
	if (!a->decoder)
		return -errno;
	vigil_decoder__set_kallsyms(a->decoder, a->kallsyms_fd);
	a->kallsyms_fd = -1;
	a->cgroups = vigil_cgroups__new("/proc/self/mounts", a->opts.proc_root, 0);
	if (!a->cgroups)
		return -errno;
	a->rthooks = vigil_rthooks__new(vigil_cgroups__mount(a->cgroups), 0);
	if (!a->rthooks)
		return -errno;
	vigil_decoder__set_container_resolver(a->decoder, resolve_container, a);
	if (!a->opts.cri_endpoint || strcmp(a->opts.cri_endpoint, "none")) {
		struct vigil_cri_opts ropts = { .sz = sizeof(ropts), .endpoint = a->opts.cri_endpoint };

		a->cri = vigil_cri__new(&ropts);
		if (!a->cri)
			return -errno;
		vigil_cri__set_listener(a->cri, on_pods_changed, a);
	}
	return 0;
}

/* The policies' sensors, then the policies themselves. */
static int open_policies(struct vigil_agent *a)
{
	struct vigil_sensors_opts sopts = {.sz = sizeof(sopts)};

	sopts.probe = &a->probe;
	sopts.loader = a->loader;
	sopts.wakeup_batch = a->opts.wakeup_batch;
	sopts.host_ns = vigil_decoder__host_ns(a->decoder);
	sopts.pin_dir = vigil_pins__run_dir(a->pins);
	a->sensors = vigil_sensors__new(&sopts);
	if (!a->sensors)
		return -errno;
	vigil_sensors__set_record_sink(on_user_record, a);
	vigil_decoder__set_hook_resolver(a->decoder, resolve_hook, a->sensors);
	return agent_load_policies(a);
}

/* Rules, metrics, the directory watch and the control socket, once everything they reach runs. */
static int start_services(struct vigil_agent *a)
{
	/* after the policies: a rule's deny() reaches the kernel lists they declare */
	int err = agent_rules_open(a);

	if (!err) {
		struct vigil_canary_opts co = { .sz = sizeof(co), .dns_server = a->opts.dns_lookup_server,
						.ca_file = a->opts.get_url_ca_file };

		a->canary = vigil_canary__new(&co);
		if (!a->canary) {
			err = -errno;
			if (err == -EINVAL)
				pr_warn("agent: --dns-lookup-server %s: not ADDR:PORT",
					co.dns_server ? co.dns_server : VIGIL_CANARY_DNS_DEFAULT);
			else if (co.ca_file)
				pr_warn("agent: --get-url-ca-file %s: %s", co.ca_file, strerror(-err));
			else
				pr_warn("agent: GetUrl/DnsLookup worker: %s", strerror(-err));
		}
	}
	if (!err)
		err = start_metrics(a);
	/* from here on the directories reload without a restart */
	if (!err)
		err = agent_watch_start(a);
	if (err)
		return err;
	/* this run enforces now: the previous agent's pins can go without a gap */
	vigil_pins__remove_previous(a->pins);
	return agent_control_start(a);
}

/* /proc/kallsyms shows addresses to the credentials that opened it (CAP_SYSLOG): opened
 * before the drop, kept for kernelStackTrace's symbols, so the agent need not keep
 * CAP_SYSLOG itself. */
static void open_kallsyms(struct vigil_agent *a)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/kallsyms", a->opts.proc_root);
	a->kallsyms_fd = open(path, O_RDONLY | O_CLOEXEC);
}

struct vigil_agent *vigil_agent__new(const struct vigil_agent_opts *opts)
{
	struct vigil_agent *a = calloc(1, sizeof(*a));
	int err;

	if (!a)
		return NULL;
	a->kallsyms_fd = -1;
	init_locks(a);
	apply_defaults(&a->opts, opts);
	pick_node_name(a);
	a->boot_to_wall = vigil_boot_to_wall_offset();
	a->started_ns = agent_now_ns();

	/* mounting is the one start-up step the run-time capabilities cannot do; the drop
	 * comes before the bus starts nanomsg's threads, which inherit the reduced sets */
	err = vigil_mount_fs();
	if (err)
		pr_warn("agent: continuing without some BPF filesystems");
	open_kallsyms(a);
	err = a->opts.drop_privileges ? agent_drop_privileges(&a->opts) : 0;
	if (!err)
		err = open_outputs(a);
	if (!err)
		err = open_kernel(a);
	if (!err)
		err = open_processes(a);
	if (!err)
		err = open_export(a);
	if (!err) {
		err = agent_seed_from_proc(a);
		err = err < 0 ? err : 0;
	}
	if (err)
		goto err_out;
	agent_flush(a);
	err = open_policies(a);
	if (!err)
		err = start_services(a);
	if (err)
		goto err_out;
	return a;

err_out:
	vigil_pins__remove_run(a->pins);	/* no half-started enforcement left behind */
	vigil_agent__free(a);
	errno = -err;
	return NULL;
}

/* Publish the reader's counters for the control thread. Under pipe_lock. */
static void publish_counters(struct vigil_agent *a)
{
	vigil_decoder__stats(a->decoder, &a->counters.decoder);
	vigil_pcache__stats(a->cache, &a->counters.pcache);
	vigil_cgroups__stats(a->cgroups, &a->counters.cgroups);
	pthread_mutex_lock(&a->snap_lock);
	a->snap = a->counters;
	pthread_mutex_unlock(&a->snap_lock);
}

/* The pod of a process in a container, from the CRI cache, else from what the runtime hook
 * announced for its cgroup; a container neither knows yet (just started: the lookup asked for
 * a refresh) goes without, counted. */
static const struct vigil_pod *pod_of(struct vigil_agent *a, const struct vigil_process *p)
{
	const struct vigil_pod *pod = NULL;

	if (!p)
		return NULL;
	if (a->cri && p->container_id[0])
		pod = vigil_cri__get(a->cri, p->container_id);
	if (!pod)
		pod = vigil_rthooks__get(a->rthooks, p->cgroup_id);
	if (!pod && p->container_id[0] && a->cri)
		a->counters.events_pod_unknown++;
	return pod;
}

int agent_on_record(void *ctx, void *data, size_t size)
{
	struct vigil_agent *a = ctx;
	struct vigil_event ev;

	pthread_mutex_lock(&a->pipe_lock);
	a->round_records++;
	a->bus_held = true;	/* until the round's agent_flush */
	if (vigil_decoder__record(a->decoder, data, size, &ev) == 1) {
		ev.node_name = a->node_name;
		ev.pod = pod_of(a, ev.process);
		ev.parent_pod = pod_of(a, ev.parent);
		if (ev.type == VIGIL_EVENT_THROTTLE)
			agent_throttle_start(a, &ev);
		if (ev.type == VIGIL_EVENT_EXEC)
			agent_environment(a, &ev);
		if (ev.type != VIGIL_EVENT_THROTTLE) {
			agent_dispatch(a, &ev);
			agent_canaries(a, &ev);
		}
		vigil_pod__put(ev.pod);
		vigil_pod__put(ev.parent_pod);
	}
	pthread_mutex_unlock(&a->pipe_lock);
	return 0;	/* never stop the ring buffer over one record */
}

/* A record from a hook watched in user space (fanotify thread): queued for the reader, which
 * wakes (the eventfd is in the ring buffer's epoll set), consumes the ring buffer first (the
 * opener's exec record came before its open) and then decodes it. Full queue: counted. */
static int on_user_record(void *ctx, void *data, size_t size)
{
	struct vigil_agent *a = ctx;
	uint64_t one = 1;
	size_t *copy = malloc(sizeof(size_t) + size);	/* the size, then the record */

	pthread_mutex_lock(&a->user_lock);
	if (!copy || a->user_n == VIGIL_ARRAY_SIZE(a->user_q)) {
		a->user_dropped++;
		pthread_mutex_unlock(&a->user_lock);
		free(copy);
		return 0;
	}
	*copy = size;
	memcpy(copy + 1, data, size);
	a->user_q[(a->user_head + a->user_n++) % VIGIL_ARRAY_SIZE(a->user_q)] = copy;
	pthread_mutex_unlock(&a->user_lock);
	if (write(a->user_efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_warn("agent: cannot wake the reader: %s", strerror(errno));
	atomic_store(&a->user_kicked, true);	/* after the write: the reader reads what it sees */
	return 0;
}

/* The reader: decode the queued user-space records (after the ring buffer was consumed). */
static void drain_user_records(struct vigil_agent *a)
{
	uint64_t n, ev, mk, ov, late;
	void *r;

	/* a read only when written (a system call per round was most of an idle round's cost);
	 * a write not yet flagged keeps the eventfd ready, so the next round comes at once */
	if (atomic_exchange(&a->user_kicked, false) && read(a->user_efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		pr_warn("agent: eventfd: %s", strerror(errno));
	for (;;) {
		pthread_mutex_lock(&a->user_lock);
		r = a->user_n ? a->user_q[a->user_head] : NULL;
		if (r) {
			a->user_head = (a->user_head + 1) % VIGIL_ARRAY_SIZE(a->user_q);
			a->user_n--;
		}
		n = a->user_dropped;
		pthread_mutex_unlock(&a->user_lock);
		if (!r)
			break;
		agent_on_record(a, (size_t *)r + 1, *(size_t *)r);
		free(r);
	}
	vigil_sensors__fanotify_stats(&ev, &mk, &ov, &late);
	pthread_mutex_lock(&a->pipe_lock);
	a->counters.user_records_dropped = n;
	a->counters.fanotify_events = ev;
	a->counters.fanotify_marks = mk;
	a->counters.fanotify_overflows = ov;
	a->counters.fanotify_allowed_late = late;
	pthread_mutex_unlock(&a->pipe_lock);
}

/* Wait for records: up to poll_ms when the last round found none, at most ACTIVE_POLL_NS
 * while they are coming (FAST_POLL_NS while a fast stream comes), SPARSE_POLL_MAX_NS while
 * only a trickle comes. Negative: -errno; otherwise > 0 when something was ready. While a
 * trickle of records comes (sparse: an exec storm's few a millisecond, trickle.c), the kernel is told when
 * the reader will look by itself: until then a record wakes nobody (bpf/lib/output.h), so
 * the trickle costs the reader's timer alone, not also wake-ups forced by the traced tasks'
 * records. A denser stream keeps them: a burst's first record still wakes the reader at
 * once (bench_latency at 50k/s: p50 0.27-0.31 ms with them, 0.49-0.53 without). */
static int reader_wait(struct vigil_agent *a, struct ring_buffer *rb, bool active, bool sparse, bool fast,
		       int poll_ms)
{
	long wait_ns = (long)poll_ms * 1000000L, step = fast ? FAST_POLL_NS : ACTIVE_POLL_NS;
	struct timespec ts;
	struct epoll_event ev[4];
	int n;

	if (!active) {
		vigil_loader__set_poll_by(a->loader, 0);
		/* a record the kernel sent unannounced while the promise stood, after the last
		 * consume, is found at the end of one more short wait, not of a long one */
		if (a->promised) {
			a->promised = false;
			return ring_buffer__poll(rb, poll_ms < 1 ? poll_ms : 1);
		}
		return ring_buffer__poll(rb, poll_ms);
	}
	if (sparse) {
		uint64_t bound = vigil_loader__wakeup_ns(a->loader);

		step = bound > SPARSE_POLL_MAX_NS ? SPARSE_POLL_MAX_NS : bound < ACTIVE_POLL_NS ? ACTIVE_POLL_NS : (long)bound;
	}
	if (step > wait_ns)
		step = wait_ns;
	clock_gettime(CLOCK_MONOTONIC, &ts);	/* the clock of bpf_ktime_get_ns */
	vigil_loader__set_poll_by(a->loader, !sparse ? 0 : (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec +
				  (uint64_t)step);
	a->promised = sparse;
	if (wait_ns <= ACTIVE_POLL_NS)
		return ring_buffer__poll(rb, poll_ms);
	ts = (struct timespec){.tv_sec = step / 1000000000L, .tv_nsec = step % 1000000000L};
	n = epoll_pwait2(ring_buffer__epoll_fd(rb), ev, VIGIL_ARRAY_SIZE(ev), &ts, NULL);
	if (n < 0 && errno == ENOSYS)	/* before Linux 5.11: millisecond timeouts only */
		return ring_buffer__poll(rb, 1);
	return n < 0 ? -errno : n;
}

/* Entries the cache let go of (GC, eviction) since the last trim after which the heap's free
 * pages go back to the system: a burst of processes (30,000 forks and their exits) leaves
 * megabytes free but resident in malloc's arenas, which it would keep for the next burst. */
#define TRIM_AFTER_FREED 4096

static void trim_after_burst(struct vigil_agent *a, uint64_t *mark)
{
	struct vigil_pcache_stats st;
	uint64_t gone;

	vigil_pcache__stats(a->cache, &st);
	gone = st.freed + st.evictions;
	if (gone - *mark < TRIM_AFTER_FREED)
		return;
	*mark = gone;
	malloc_trim(0);
}

int vigil_agent__run(struct vigil_agent *a)
{
	struct ring_buffer *rb;
	uint64_t last_gc = agent_now_ns(), last_records = 0, trim_mark = 0;
	uint64_t window = vigil_loader__wakeup_ns(a->loader) + ACTIVE_POLL_NS;
	struct agent_trickle trickle;
	bool active = false;
	int err = 0;

	rb = ring_buffer__new(vigil_loader__ringbuf_fd(a->loader), agent_on_record, a, NULL);
	if (!rb) {
		err = -errno;
		pr_warn("agent: cannot map the ring buffer: %s", strerror(-err));
		return err;
	}
	{
		struct epoll_event ee = {.events = EPOLLIN, .data.fd = 0};	/* ring 0: a harmless extra consume */

		if (epoll_ctl(ring_buffer__epoll_fd(rb), EPOLL_CTL_ADD, a->user_efd, &ee))
			pr_warn("agent: fanotify records wait for the poll bound: %s", strerror(errno));
	}
	pthread_mutex_lock(&a->pipe_lock);
	publish_counters(a);
	pthread_mutex_unlock(&a->pipe_lock);
	agent_trickle_init(&trickle, agent_now_ns());
	while (!atomic_load(&a->stop)) {
		uint64_t now = agent_now_ns(), drain_start;
		bool sparse = agent_trickle_next(&trickle, a->round_records, now);
		bool gc;
		int n, consumed;

		a->round_records = 0;	/* (the reader's own: records reach it on this thread) */
		n = reader_wait(a, rb, active, sparse, trickle.fast, a->opts.poll_ms);
		/* the loop ends at this round's end: ring_buffer__poll may have consumed records
		 * before it failed, and the bus holds their events until the round's flush */
		if (n < 0 && n != -EINTR) {
			err = n;
			pr_warn("agent: ring buffer poll failed: %s", strerror(-err));
		}
		/* the wall clock an event's time is given in, as it is now: a drift of the wall
		 * clock against the boot clock (5 ms a second on some of our VMs) or a step of it
		 * would otherwise stay in every event since start-up (two vDSO reads a round) */
		a->boot_to_wall = vigil_boot_to_wall_offset();
		vigil_decoder__set_boot_to_wall(a->decoder, a->boot_to_wall);
		/* records submitted without a wake-up are only found by consuming */
		drain_start = agent_now_ns();
		consumed = ring_buffer__consume(rb);
		if (consumed >= 0)
			vigil_sensors__reap(a->sensors, drain_start);	/* deleted policies drained past */
		if (n > 0 || consumed > 0)
			last_records = drain_start;
		active = drain_start - last_records < window;
		drain_user_records(a);
		/* (the rules' every() timers run on the rules thread) */
		pthread_mutex_lock(&a->pipe_lock);
		a->rules_hold = true;
		agent_flush(a);
		a->rules_hold = false;
		now = agent_now_ns();
		gc = now - last_gc >= GC_INTERVAL_NS;
		if (gc) {
			vigil_pcache__gc(a->cache, now);
			agent_lists_expire(a);
			trim_after_burst(a, &trim_mark);
			last_gc = now;
		}
		agent_throttle_tick(a, now);
		publish_counters(a);
		pthread_mutex_unlock(&a->pipe_lock);
		/* the runtime hook's entries of removed cgroups (a stat each): not under pipe_lock */
		if (gc)
			agent_rthooks_prune(a);
		if (err)
			break;
	}
	vigil_loader__set_poll_by(a->loader, 0);
	ring_buffer__free(rb);
	return err;
}

void vigil_agent__stop(struct vigil_agent *a)
{
	atomic_store(&a->stop, true);
}

void vigil_agent__free(struct vigil_agent *a)
{
	struct vigil_ctl_server *ctl;

	if (!a)
		return;
	/* taken away first: /metrics and the watch read it from their threads */
	pthread_rwlock_wrlock(&a->ctl_lock);
	ctl = a->ctl;
	a->ctl = NULL;
	pthread_rwlock_unlock(&a->ctl_lock);
	vigil_ctl_server__close(ctl);
	agent_watch_stop(a);			/* its syncs reach the sensors and the rules */
	vigil_cri__free(a->cri);		/* its thread writes the scopes map (loader) */
	vigil_metrics__free(a->metrics);	/* its server reads the objects below */
	vigil_luahost__free(a->luahost);	/* joins the rules thread; its deny() reaches the sensors */
	agent_rules_close(a);
	vigil_sensors__free(a->sensors);	/* policy programs before the maps they share */
	vigil_canary__free(a->canary);		/* after the reader: it submits */
	vigil_sensors__set_record_sink(NULL, NULL);	/* the watch threads are gone */
	while (a->user_n) {
		free(a->user_q[a->user_head]);
		a->user_head = (a->user_head + 1) % VIGIL_ARRAY_SIZE(a->user_q);
		a->user_n--;
	}
	if (a->user_efd >= 0)
		close(a->user_efd);
	vigil_loader__close(a->loader);
	vigil_decoder__free(a->decoder);
	if (a->kallsyms_fd >= 0)
		close(a->kallsyms_fd);
	vigil_cgroups__free(a->cgroups);
	vigil_rthooks__free(a->rthooks);
	vigil_pcache__free(a->cache);
	vigil_pub__close(a->pub);
	vigil_journal__close(a->journal);
	vigil_exporter__free(a->exporter);	/* reports pending drops, finishes compression */
	vigil_pins__close(a->pins);		/* what is pinned stays: --keep-enforcing */
	vigil_buf_free(&a->msgpack);
	vigil_buf_free(&a->line);
	vigil_msg__free(a->view);
	vigil_buf_free(&a->redacted);
	vigil_buf_free(&a->environ);
	vigil_buf_free(&a->environ_scratch);
	free(a->throttled);
	agent_lists_free(a);
	agent_policy_dir_free(a);
	pthread_mutex_destroy(&a->lists_lock);
	pthread_mutex_destroy(&a->scopes_lock);
	pthread_mutex_destroy(&a->snap_lock);
	pthread_rwlock_destroy(&a->ctl_lock);
	pthread_mutex_destroy(&a->pipe_lock);
	free(a);
}
