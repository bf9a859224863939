/* bench_pipeline EVENTS [json|compact|none|export] [records] - the agent's user pipeline
 * without the kernel: each synthetic event goes through agent_dispatch as the reader sends
 * it (counters, metrics, msgpack encoding, the stamped bus publish, and the text sink on
 * stdout, which the caller sends to /dev/null). "export" prints nothing and writes the
 * export file instead (in a temporary directory, removed at the end), with an allow list
 * and a field filter so that both are evaluated per event. With "records", the stream is kernel
 * records (bpf/process.h, bpf/generic.h) handed to the ring buffer's callback instead, so
 * the decoder and the process cache run too (exec records insert new incarnations that
 * retire the old ones; the cache's GC runs every 64 records with no delay, so it stays
 * the size of the stream). Prints one line of JSON on stderr:
 * {"events", "seconds", "events_per_s", "ns_per_event", "cpu_seconds", "events_per_cpu_s",
 *  "sent", "errors"}; cpu_seconds is this thread's CPU time (the reader's one core), which
 * a busy machine does not inflate as it does the wall time.
 *
 * The stream cycles through 64 events shaped like a busy host's, as bench_lua's: execs and
 * exits of 16 programs, opens, connects, renames and listens from policy hooks. With "root"
 * (after the output, or after "records"), every other program runs as root as an exec
 * storm's do: full capability sets and the host's ten namespaces in its events. Built
 * against libvigil's internal static library (it drives the agent's own dispatch). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_internal.h"
#include "generic.h"
#include "process.h"

#define NPROCS 16
#define CYCLE 64

static struct vigil_process procs[NPROCS];
static char proc_ids[NPROCS][2][VIGIL_EXEC_ID_MAX];	/* their exec_id and parent_exec_id */
static struct vigil_hook_info hooks[4];
static bool as_root;			/* "root": even programs are root, caps and namespaces */
static uint32_t host_ns[VIGIL_NS_COUNT];

static bool is_root(size_t p)
{
	return as_root && p % 2 == 0;
}

static const char *const binaries[NPROCS] = {
	"/usr/sbin/nginx", "/usr/bin/bash",  "/usr/bin/curl",  "/usr/bin/python3.11", "/usr/bin/ls",
	"/usr/bin/cat",	   "/usr/bin/grep",  "/usr/bin/sed",   "/usr/bin/tar",	      "/tmp/job/payload",
	"/usr/bin/git",	   "/usr/bin/make",  "/usr/bin/cc",    "/usr/bin/ssh",	      "/usr/bin/rsync",
	"/usr/bin/sleep",
};

static uint64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void make_procs(void)
{
	size_t i;

	for (i = 0; i < NPROCS; i++) {
		struct vigil_process *p = &procs[i];

		p->pid = p->tid = 1000 + (uint32_t)i;
		p->exec_id = proc_ids[i][0];
		p->parent_exec_id = proc_ids[i][1];
		snprintf(p->exec_id, VIGIL_EXEC_ID_MAX, "Ym9vazoxMDAwOjEwMD%02zu", i);
		if (i)
			snprintf(p->parent_exec_id, VIGIL_EXEC_ID_MAX, "Ym9vazoxMDAwOjEwMD%02zu", i - 1);
		p->binary = (char *)binaries[i];
		p->arguments = (char *)"-v --color=auto /var/lib/something";
		p->cwd = (char *)"/tmp/job";
		p->container_id = (char *)"";
		p->flags = VIGIL_PROC_EXECVE | VIGIL_PROC_CLONE;
		p->start_time = 1700000000000000000ULL;
		p->auid = 1000;
		p->creds = (struct vigil_creds){ 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000 };
		p->refcnt = 1;
		if (is_root(i)) {
			p->creds = (struct vigil_creds){ 0 };
			p->caps.permitted = p->caps.effective = (1ULL << 41) - 1;
			memcpy(p->ns, host_ns, sizeof(p->ns));
			p->ns_host_mask = (1u << VIGIL_NS_COUNT) - 1;
		}
	}
}

static void make_hooks(void)
{
	static const char *const events[4] = { "sys_enter_openat", "sys_enter_connect", "sys_enter_renameat2",
					       "sys_enter_listen" };
	size_t i;

	for (i = 0; i < 4; i++) {
		hooks[i].id = (uint32_t)i + 1;
		hooks[i].type = VIGIL_EVENT_TRACEPOINT;
		hooks[i].policy_name = i == 0 || i == 2 ? "bench-files" : "bench-network";
		hooks[i].subsys = "syscalls";
		hooks[i].event = events[i];
	}
	/* the arguments' types and labels, for the decoder (the events carry their own) */
	hooks[0].nargs = 2;
	hooks[0].args[0].type = VIGIL_ARG_STRING, hooks[0].args[0].label = "path";
	hooks[0].args[1].type = VIGIL_ARG_INT, hooks[0].args[1].label = "flags";
	hooks[1].nargs = 1;
	hooks[1].args[0].type = VIGIL_ARG_SOCKADDR, hooks[1].args[0].label = "addr";
	hooks[2].nargs = 2;
	hooks[2].args[0].type = VIGIL_ARG_STRING, hooks[2].args[0].label = "oldpath";
	hooks[2].args[1].type = VIGIL_ARG_STRING, hooks[2].args[1].label = "newpath";
	hooks[3].nargs = 1;
	hooks[3].args[0].type = VIGIL_ARG_INT, hooks[3].args[0].label = "fd";
}

static const struct vigil_hook_info *bench_hook(void *ctx, uint32_t id)
{
	(void)ctx;
	return id >= 1 && id <= 4 ? &hooks[id - 1] : NULL;
}

/* Event k of the cycle; its strings live in path and newpath. */
static void make_event(size_t k, struct vigil_event *ev, char *path, char *newpath)
{
	struct vigil_event_arg *a = ev->policy.args;
	size_t p = k % NPROCS;

	memset(ev, 0, sizeof(*ev));
	ev->time = 1700000000000000000ULL + k;
	ev->node_name = "bench";
	ev->process = &procs[p];
	ev->parent = p ? &procs[p - 1] : NULL;
	snprintf(path, 64, "/tmp/job/file%zu.txt", k);
	snprintf(newpath, 64, "/tmp/job/file%zu.txt.old", k);
	ev->policy.action = VIGIL_EVENT_ACTION_POST;
	switch (k % 8) {
	case 0:
	case 1:
	case 2:
		ev->type = VIGIL_EVENT_EXEC;
		break;
	case 3:
	case 4:
		ev->type = VIGIL_EVENT_EXIT;
		break;
	case 5:
		ev->type = VIGIL_EVENT_TRACEPOINT;
		ev->policy.hook = &hooks[0];
		ev->policy.nargs = 2;
		a[0] = (struct vigil_event_arg){ .type = VIGIL_ARG_STRING, .label = "path", .bytes = path, .len = strlen(path) };
		a[1] = (struct vigil_event_arg){ .type = VIGIL_ARG_INT, .label = "flags", .value = 0x241 };
		break;
	case 6:
		ev->type = VIGIL_EVENT_TRACEPOINT;
		ev->policy.hook = &hooks[1];
		ev->policy.nargs = 1;
		a[0] = (struct vigil_event_arg){ .type = VIGIL_ARG_SOCKADDR, .label = "addr" };
		a[0].sockaddr.family = 2;
		a[0].sockaddr.port = 443;
		a[0].sockaddr.addr[0] = 10, a[0].sockaddr.addr[3] = (uint8_t)k;
		break;
	default:
		ev->type = VIGIL_EVENT_TRACEPOINT;
		if (k % 16 == 15) {
			ev->policy.hook = &hooks[3];
			ev->policy.nargs = 1;
			a[0] = (struct vigil_event_arg){ .type = VIGIL_ARG_INT, .label = "fd", .value = 3 };
		} else {
			ev->policy.hook = &hooks[2];
			ev->policy.nargs = 2;
			a[0] = (struct vigil_event_arg){ .type = VIGIL_ARG_STRING, .label = "oldpath", .bytes = path,
							 .len = strlen(path) };
			a[1] = (struct vigil_event_arg){ .type = VIGIL_ARG_STRING, .label = "newpath", .bytes = newpath,
							 .len = strlen(newpath) };
		}
		break;
	}
}

/* ---- the same stream as kernel records ---- */

static uint64_t ktime_now = 1000000000ULL;	/* the records' clock: one ns per record */
static uint64_t proc_key[NPROCS];		/* each program's current incarnation */

static size_t exec_record(size_t p, void *buf)
{
	static const char args[] = "x\0-v\0--color=auto\0/var/lib/something";
	struct vigil_exec_record *r = buf;
	const char *bin = binaries[p], *cwd = "/tmp/job";
	size_t bl = strlen(bin), cl = strlen(cwd), size;

	memset(r, 0, offsetof(struct vigil_exec_record, data));
	memcpy(r->data, bin, bl);
	memcpy(r->data + bl, cwd, cl);
	memcpy(r->data + bl + cl, args, sizeof(args) - 1);
	size = offsetof(struct vigil_exec_record, data) + bl + cl + sizeof(args) - 1;
	r->hdr = (struct vigil_msg_hdr){ .op = VIGIL_OP_EXEC, .size = (uint32_t)size, .ktime = ++ktime_now };
	r->pid = r->tid = 1000 + (uint32_t)p;
	proc_key[p] = r->proc_ktime = ktime_now;
	if (p) {
		r->ppid = 1000 + (uint32_t)p - 1;
		r->pktime = proc_key[p - 1];
	}
	r->flags = VIGIL_KF_EXECVE;
	r->creds = (struct vigil_creds_raw){ 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000 };
	r->auid = 1000;
	if (is_root(p)) {
		r->creds = (struct vigil_creds_raw){ 0 };
		r->cap_permitted = r->cap_effective = (1ULL << 41) - 1;
		memcpy(r->ns, host_ns, sizeof(r->ns) < sizeof(host_ns) ? sizeof(r->ns) : sizeof(host_ns));
	}
	r->binary_len = (uint16_t)bl;
	r->cwd_len = (uint16_t)cl;
	r->args_len = sizeof(args) - 1;
	return size;
}

/* A fork of program p's parent that exits at once: the clone record is handed to the
 * callback here (it makes no event), the exit record goes into buf. */
static size_t exit_record(struct vigil_agent *a, size_t p, void *buf)
{
	static uint32_t next_pid = 100000;
	struct vigil_clone_record c = { .hdr = { .op = VIGIL_OP_CLONE, .size = sizeof(c), .ktime = ++ktime_now } };
	struct vigil_exit_record *r = buf;

	c.pid = c.tid = next_pid++;
	c.ppid = 1000 + (uint32_t)p - 1;
	c.pktime = proc_key[p - 1];
	c.proc_ktime = ktime_now;
	c.flags = VIGIL_KF_CLONE;
	agent_on_record(a, &c, sizeof(c));
	memset(r, 0, sizeof(*r));
	r->hdr = (struct vigil_msg_hdr){ .op = VIGIL_OP_EXIT, .size = sizeof(*r), .ktime = ++ktime_now };
	r->pid = r->tid = c.pid;
	r->proc_ktime = c.proc_ktime;
	return sizeof(*r);
}

/* The policy event k of the cycle (as make_event's) from the kernel's side. */
static size_t generic_record(size_t k, const struct vigil_event *ev, void *buf)
{
	struct vg_generic_record *r = buf;
	size_t i, off = 0, p = k % NPROCS;

	memset(r, 0, offsetof(struct vg_generic_record, data));
	r->pid = r->tid = 1000 + (uint32_t)p;
	r->proc_ktime = proc_key[p];
	r->hook_id = ev->policy.hook->id;
	r->actions = 1u << VG_ACT_POST;
	r->nargs = (uint32_t)ev->policy.nargs;
	for (i = 0; i < ev->policy.nargs; i++) {
		const struct vigil_event_arg *a = &ev->policy.args[i];

		r->arg_off[i] = (uint16_t)off;
		if (a->type == VIGIL_ARG_STRING) {
			memcpy(r->data + off, a->bytes, a->len);
			r->arg_len[i] = (uint16_t)a->len;
		} else if (a->type == VIGIL_ARG_SOCKADDR) {
			struct vg_sockaddr sa = { .family = a->sockaddr.family, .port = a->sockaddr.port };

			memcpy(sa.addr, a->sockaddr.addr, 16);
			memcpy(r->data + off, &sa, sizeof(sa));
			r->arg_len[i] = sizeof(sa);
		} else {
			r->arg_int[i] = a->value;
		}
		off += r->arg_len[i];
	}
	r->hdr = (struct vigil_msg_hdr){ .op = VIGIL_OP_GENERIC,
					 .size = (uint32_t)(offsetof(struct vg_generic_record, data) + off),
					 .ktime = ++ktime_now };
	return r->hdr.size;
}

/* The record for event k into buf (execs get a new incarnation each time); its size. */
static size_t make_record(struct vigil_agent *a, size_t k, const struct vigil_event *ev, void *buf)
{
	if (ev->type == VIGIL_EVENT_EXEC)
		return exec_record(k % NPROCS, buf);
	if (ev->type == VIGIL_EVENT_EXIT)
		return exit_record(a, k % NPROCS, buf);
	return generic_record(k, ev, buf);
}

static int open_records(struct vigil_agent *a)
{
	struct vigil_pcache_opts copts = { .sz = sizeof(copts), .node_name = "bench", .gc_delay_ns = 1 };
	static union {
		struct vigil_exec_record r;
		char bytes[sizeof(struct vigil_exec_record)];
	} rec;
	size_t p;

	a->cache = vigil_pcache__new(&copts);
	a->decoder = a->cache ? vigil_decoder__new(a->cache, 0, "/proc") : NULL;
	if (!a->decoder)
		return -errno;
	vigil_decoder__set_hook_resolver(a->decoder, bench_hook, NULL);
	/* every program once, parents first, so the stream's events find their processes */
	for (p = 0; p < NPROCS; p++)
		agent_on_record(a, &rec, exec_record(p, &rec));
	return 0;
}

/* The export file in dir, with an allow list that passes every event of the stream (its
 * regex and event set are still matched per event) and a field filter that drops one
 * field of the exec events. */
static int open_export(struct vigil_agent *a, const char *dir)
{
	static char path[128];
	struct vigil_exporter_opts xo = { .sz = sizeof(xo) };

	snprintf(path, sizeof(path), "%s/events.json", dir);
	xo.file.sz = sizeof(xo.file);
	xo.file.path = path;
	xo.node_name = "bench";
	xo.allowlist = "{\"event_set\": [\"PROCESS_EXEC\", \"PROCESS_EXIT\", \"PROCESS_TRACEPOINT\"], "
		       "\"binary_regex\": [\"^/\"]}";
	xo.field_filters = "{\"fields\": \"process.cwd\", \"action\": \"EXCLUDE\", \"event_set\": [\"PROCESS_EXEC\"]}";
	a->exporter = vigil_exporter__new(&xo, NULL);
	return a->exporter ? 0 : -errno;
}

/* The export file and what rotation or its own-kinds file may have left beside it. */
static void remove_export(const char *dir)
{
	char path[192];

	snprintf(path, sizeof(path), "%s/events.json", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/events.vigil.json", dir);
	unlink(path);
}

int main(int argc, char **argv)
{
	struct vigil_metrics_opts mopts = { .sz = sizeof(mopts) };
	static char paths[CYCLE][2][64];
	static struct vigil_event evs[CYCLE];
	struct vigil_agent *a;
	char dir[] = "/tmp/vigil-bench-pipeline-XXXXXX", url[128] = "", *end;
	static union {
		struct vigil_exec_record exec;
		struct vg_generic_record generic;
	} rec;
	uint64_t n, i, t0, t1, c0, c1;
	bool records = argc >= 4 && !strcmp(argv[3], "records");
	int err = 1;

	as_root = argc >= 4 && !strcmp(argv[argc - 1], "root");
	if (argc < 2 || argc > 5 || (argc == 4 && !records && !as_root) || (argc == 5 && (!records || !as_root))) {
		fprintf(stderr, "usage: bench_pipeline EVENTS [json|compact|none|export] [records] [root]\n");
		return 2;
	}
	vigil_host_ns_read("/proc", host_ns);
	n = strtoull(argv[1], &end, 10);
	if (*end || !n) {
		fprintf(stderr, "bench_pipeline: EVENTS must be a positive integer\n");
		return 2;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return 1;
	a->opts.output = VIGIL_OUTPUT_JSON;
	if (argc >= 3 && !strcmp(argv[2], "compact"))
		a->opts.output = VIGIL_OUTPUT_COMPACT;
	else if (argc >= 3 && (!strcmp(argv[2], "none") || !strcmp(argv[2], "export")))
		a->opts.output = VIGIL_OUTPUT_NONE;
	else if (argc >= 3 && strcmp(argv[2], "json")) {
		fprintf(stderr, "bench_pipeline: output is json, compact, none or export\n");
		return 2;
	}
	pthread_mutex_init(&a->pipe_lock, NULL);
	a->metrics = vigil_metrics__new(&mopts);
	/* the bus wants a socket directory no one else can write */
	if (!mkdtemp(dir)) {
		fprintf(stderr, "bench_pipeline: mkdtemp: %s\n", strerror(errno));
		goto out;
	}
	snprintf(url, sizeof(url), "ipc://%s/events.sock", dir);
	a->pub = vigil_pub__open(url, 0600);
	if (!a->metrics || !a->pub) {
		fprintf(stderr, "bench_pipeline: metrics or bus: %s\n", strerror(errno));
		goto out;
	}
	if (argc >= 3 && !strcmp(argv[2], "export") && open_export(a, dir)) {
		fprintf(stderr, "bench_pipeline: export file: %s\n", strerror(errno));
		goto out;
	}
	make_procs();
	make_hooks();
	for (i = 0; i < CYCLE; i++)
		make_event(i, &evs[i], paths[i][0], paths[i][1]);
	if (records && open_records(a)) {
		fprintf(stderr, "bench_pipeline: cache or decoder: %s\n", strerror(errno));
		goto out;
	}

	t0 = clock_ns(CLOCK_MONOTONIC);
	c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	for (i = 0; i < n; i++) {
		if (records) {
			/* the ring buffer's callback: decode, cache, dispatch, under pipe_lock */
			agent_on_record(a, &rec, make_record(a, i % CYCLE, &evs[i % CYCLE], &rec));
			if (i % CYCLE == CYCLE - 1) {
				pthread_mutex_lock(&a->pipe_lock);
				agent_flush(a);
				vigil_pcache__gc(a->cache, ktime_now + 1000);
				pthread_mutex_unlock(&a->pipe_lock);
			}
			continue;
		}
		pthread_mutex_lock(&a->pipe_lock);	/* the reader holds it per record */
		agent_dispatch(a, &evs[i % CYCLE]);
		if (i % CYCLE == CYCLE - 1)
			agent_flush(a);
		pthread_mutex_unlock(&a->pipe_lock);
	}
	pthread_mutex_lock(&a->pipe_lock);
	agent_flush(a);
	pthread_mutex_unlock(&a->pipe_lock);
	c1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	t1 = clock_ns(CLOCK_MONOTONIC);
	if (records)
		vigil_decoder__stats(a->decoder, &a->counters.decoder);
	fprintf(stderr,
		"{\"events\": %llu, \"seconds\": %.3f, \"events_per_s\": %.0f, \"ns_per_event\": %.1f, "
		"\"cpu_seconds\": %.3f, \"events_per_cpu_s\": %.0f, \"sent\": %llu, \"errors\": %llu}\n",
		(unsigned long long)n, (t1 - t0) / 1e9, n / ((t1 - t0) / 1e9), (double)(t1 - t0) / n, (c1 - c0) / 1e9,
		n / ((c1 - c0) / 1e9), (unsigned long long)vigil_pub__sent(a->pub),
		(unsigned long long)(a->counters.encode_errors + a->counters.output_errors));
	err = a->counters.encode_errors || a->counters.output_errors;
	if (a->exporter) {
		struct vigil_exporter_stats xs;
		uint64_t expect = records ? n + NPROCS : n;

		/* every event passed the allow list and reached the file */
		vigil_exporter__stats(a->exporter, &xs);
		if (xs.exported != expect || xs.filtered || xs.errors) {
			fprintf(stderr, "bench_pipeline: export: %llu of %llu written, %llu filtered, %llu errors\n",
				(unsigned long long)xs.exported, (unsigned long long)expect, (unsigned long long)xs.filtered,
				(unsigned long long)xs.errors);
			err = 1;
		}
	}
	/* every record an event: none dropped or degraded by the decoder */
	if (records && (a->counters.decoder.bad_records || a->counters.decoder.unknown_hook ||
			vigil_pub__sent(a->pub) != n + NPROCS)) {
		fprintf(stderr, "bench_pipeline: records lost: %llu bad, %llu unknown hook, %llu sent\n",
			(unsigned long long)a->counters.decoder.bad_records,
			(unsigned long long)a->counters.decoder.unknown_hook,
			(unsigned long long)vigil_pub__sent(a->pub));
		err = 1;
	}
out:
	vigil_pub__close(a->pub);
	vigil_exporter__free(a->exporter);
	if (strchr(url, '/')) {
		unlink(url + strlen("ipc://"));
		remove_export(dir);
		rmdir(dir);
	}
	vigil_metrics__free(a->metrics);
	vigil_decoder__free(a->decoder);
	vigil_pcache__free(a->cache);
	pthread_mutex_destroy(&a->pipe_lock);
	vigil_buf_free(&a->msgpack);
	vigil_buf_free(&a->line);
	vigil_msg__free(a->view);
	free(a);
	return err;
}
