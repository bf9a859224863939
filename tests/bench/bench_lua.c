/* bench_lua RULES_DIR EVENTS [post] - the agent's per-event work around the Lua host, on a
 * synthetic stream: encode each event to msgpack (what every event costs, rules or not),
 * then, when a loaded rule wants its type, hand its bytes to the host as the rules thread
 * does (vigil_luahost__event_raw; in a library without it, decode and vigil_luahost__event,
 * as that thread did before: one driver measures both). RULES_DIR "" runs the same stream
 * with no rules. Prints one line of JSON: {"events": N, "seconds": S, "events_per_s": R,
 * "ns_per_event": C, "cpu_seconds": U, "events_per_cpu_s": E, "lazy": B, "calls": K,
 * "alerts": A, ...}.
 * With "post", the agent's way since rules have their own thread: the events are queued
 * (vigil_luahost__post) for the rules thread, and the line adds what the posting loop alone
 * took (reader_events_per_s, reader_ns_per_event).
 *
 * The stream cycles through 64 events shaped like a busy host's: execs and exits of
 * ordinary programs, writes under /tmp, connects, renames, listens, and now and then a
 * dropped binary executed (which dropped_binary alerts on). Built by bench_lua.py against
 * libvigil.so. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "events/events.h"
#include "encode/encode.h"
#include "luahost/luahost.h"
#include "policy/policy.h"

#define NPROCS 16
#define CYCLE 64

/* The host's clock (now(), windows, timers): the stream's own time, 2 us an event (500k
 * events/s), so that windows, TTLs and timers see the same stream on every run and machine,
 * and the alerts are the same numbers whatever the load. */
#define EVENT_NS 2000ULL

static struct vigil_process procs[NPROCS];
static char proc_ids[NPROCS][2][VIGIL_EXEC_ID_MAX];	/* their exec_id and parent_exec_id */
static uint64_t alerts, actions, stream_ns = 1000000000000ULL;

static const char *const binaries[NPROCS] = {
	"/usr/sbin/nginx", "/usr/bin/bash",  "/usr/bin/curl",  "/usr/bin/python3.11", "/usr/bin/ls",
	"/usr/bin/cat",	   "/usr/bin/grep",  "/usr/bin/sed",   "/usr/bin/tar",	      "/tmp/job/payload",
	"/usr/bin/git",	   "/usr/bin/make",  "/usr/bin/cc",    "/usr/bin/ssh",	      "/usr/bin/rsync",
	"/usr/bin/sleep",
};

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static uint64_t stream_clock(void *ctx)
{
	return __atomic_load_n(&stream_ns, __ATOMIC_RELAXED);
}

static void emit(void *ctx, const struct vigil_event *ev)
{
	if (ev->type == VIGIL_EVENT_ALERT)
		alerts++;
	else if (ev->type == VIGIL_EVENT_RULE_ACTION)
		actions++;
}

static const struct vigil_process *lookup(void *ctx, const char *exec_id)
{
	size_t i;

	for (i = 0; i < NPROCS; i++)
		if (!strcmp(procs[i].exec_id, exec_id))
			return &procs[i];
	return NULL;
}

static const struct vigil_process *by_pid(void *ctx, uint32_t pid)
{
	return pid >= 1000 && pid < 1000 + NPROCS ? &procs[pid - 1000] : NULL;
}

static int deny(void *ctx, const struct vigil_deny_request *req, struct vigil_deny_outcome *out)
{
	return 1;
}

static int fake_kill(void *ctx, int pid, int sig)
{
	return 0;
}

/* process i: pid 1000+i, parent i-1 (a chain: 0 is the root) */
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
		p->caps.permitted = p->caps.effective = 0;
		p->refcnt = 1;
	}
}


static struct vigil_hook_info hooks[4];

static void make_hooks(void)
{
	static const char *const tags[] = { "vigil-lua" };
	static const char *const events[4] = { "sys_enter_openat", "sys_enter_connect", "sys_enter_renameat2",
					       "sys_enter_listen" };
	size_t i;

	for (i = 0; i < 4; i++) {
		hooks[i].id = (uint32_t)i + 1;
		hooks[i].type = VIGIL_EVENT_TRACEPOINT;
		hooks[i].policy_name = i == 0 || i == 2 ? "lua-files" : "lua-network";
		hooks[i].subsys = "syscalls";
		hooks[i].event = events[i];
		hooks[i].tags = tags;
		hooks[i].ntags = 1;
	}
}

/* Event k of the cycle, encoded into out. */
static void make_event(size_t k, struct vigil_buf *out)
{
	struct vigil_event ev = { .time = 1700000000000000000ULL + k, .node_name = "bench" };
	size_t p = k % NPROCS;
	char path[64], newpath[64];
	struct vigil_event_arg *a = ev.policy.args;

	ev.process = &procs[p];
	ev.parent = p ? &procs[p - 1] : NULL;
	snprintf(path, sizeof(path), "/tmp/job/file%zu.txt", k);
	snprintf(newpath, sizeof(newpath), "/tmp/job/file%zu.txt.%s", k, k % 2 ? "bak" : "old");
	switch (k % 8) {
	case 0:
	case 1:
	case 2:
		ev.type = VIGIL_EVENT_EXEC;
		if (k == 40)	/* the dropped binary, written at k == 37 below */
			ev.process = &procs[9];
		break;
	case 3:
	case 4:
		ev.type = VIGIL_EVENT_EXIT;
		break;
	case 5:	/* a write under /tmp */
		ev.type = VIGIL_EVENT_TRACEPOINT;
		ev.policy.hook = &hooks[0];
		ev.policy.action = VIGIL_EVENT_ACTION_POST;
		ev.policy.nargs = 2;
		a[0] = (struct vigil_event_arg){ .type = VIGIL_ARG_STRING, .label = "path", .bytes = path, .len = strlen(path) };
		if (k == 37)
			a[0].bytes = "/tmp/job/payload", a[0].len = strlen(a[0].bytes);
		a[1] = (struct vigil_event_arg){ .type = VIGIL_ARG_INT, .label = "flags", .value = 0x241 };
		break;
	case 6:	/* a connect */
		ev.type = VIGIL_EVENT_TRACEPOINT;
		ev.policy.hook = &hooks[1];
		ev.policy.action = VIGIL_EVENT_ACTION_POST;
		ev.policy.nargs = 1;
		a[0] = (struct vigil_event_arg){ .type = VIGIL_ARG_SOCKADDR, .label = "addr" };
		a[0].sockaddr.family = 2;
		a[0].sockaddr.port = (uint16_t)(k % 3 ? 443 : 8080);
		a[0].sockaddr.addr[0] = 10, a[0].sockaddr.addr[3] = (uint8_t)k;
		break;
	default: /* a rename, or a listen */
		ev.type = VIGIL_EVENT_TRACEPOINT;
		ev.policy.action = VIGIL_EVENT_ACTION_POST;
		if (k % 16 == 15) {
			ev.policy.hook = &hooks[3];
			ev.policy.nargs = 1;
			a[0] = (struct vigil_event_arg){ .type = VIGIL_ARG_INT, .label = "fd", .value = 3 };
		} else {
			ev.policy.hook = &hooks[2];
			ev.policy.nargs = 2;
			a[0] = (struct vigil_event_arg){ .type = VIGIL_ARG_STRING, .label = "oldpath", .bytes = path,
							 .len = strlen(path) };
			a[1] = (struct vigil_event_arg){ .type = VIGIL_ARG_STRING, .label = "newpath", .bytes = newpath,
							 .len = strlen(newpath) };
		}
		break;
	}
	vigil_buf_reset(out);
	if (vigil_encode_msgpack(&ev, out)) {
		fprintf(stderr, "bench_lua: cannot encode event %zu\n", k);
		exit(1);
	}
}

static void sum_calls(const struct vigil_rule_status *st, void *ctx)
{
	*(uint64_t *)ctx += st->calls;
}

static uint64_t listed_calls(struct vigil_luahost *h)
{
	uint64_t n = 0;

	vigil_luahost__list(h, sum_calls, &n);
	return n;
}

int main(int argc, char **argv)
{
	struct vigil_luahost_opts o = {
		.sz = sizeof(o), .node_name = "bench", .emit = emit, .process = lookup, .process_by_pid = by_pid,
		.deny = deny, .kill = fake_kill, .clock = stream_clock,
	};
	struct vigil_buf wire = { 0 };
	struct vigil_luahost *h;
	struct vigil_msg *m;
	uint64_t n, i, t0, ns, cpu0, cpu, calls = 0, posted = 0, dropped = 0, reader_ns = 0, prev;
	bool post = argc == 4 && !strcmp(argv[3], "post");
	/* the rules thread's way with a queued event's bytes: read where the rules look
	 * (vigil_luahost__event_raw), or, in a library without it, decode the whole message first
	 * as that thread did before; looked up so that one driver measures both */
	int (*raw)(struct vigil_luahost *, const void *, size_t) = dlsym(RTLD_DEFAULT, "vigil_luahost__event_raw");
	int rc;
	enum vigil_event_type type;

	if (argc != 3 && !post) {
		fprintf(stderr, "usage: bench_lua RULES_DIR|\"\" EVENTS [post]\n");
		return 2;
	}
	n = strtoull(argv[2], NULL, 10);
	vigil_set_print(NULL);
	make_procs();
	make_hooks();
	o.rules_dir = argv[1][0] ? argv[1] : NULL;
	if (post)
		o.queue_len = 1u << 20;	/* the whole stream fits, nothing dropped */
	/* the wall-clock deadline guards the agent against a stuck rule; on a loaded machine a
	 * preempted call overruns 50 ms and its rule is disabled mid-run, which changes what is
	 * measured (calls and alerts differ from run to run): the bench measures throughput */
	o.deadline_ms = 60000;
	h = vigil_luahost__new(&o);
	if (!h) {
		fprintf(stderr, "bench_lua: cannot start the host: %s\n", strerror(errno));
		return 1;
	}
	if (post) {
		/* the agent's way: the reader encodes and queues a copy, the rules thread decodes
		 * and calls; reader_ns is what the reader spends, ns the whole stream's end to end */
		if (vigil_luahost__start(h))
			return 1;
		t0 = now_ns();
		for (i = 0; i < n; i++) {
			__atomic_fetch_add(&stream_ns, EVENT_NS, __ATOMIC_RELAXED);	/* the rules thread reads it */
			make_event(i % CYCLE, &wire);
			type = (i % 8) < 3 ? VIGIL_EVENT_EXEC : (i % 8) < 5 ? VIGIL_EVENT_EXIT : VIGIL_EVENT_TRACEPOINT;
			if (vigil_luahost__wants(h, type)) {
				if (vigil_luahost__post(h, type, wire.data, wire.len))
					dropped++;
				else
					posted++;
			}
		}
		reader_ns = now_ns() - t0;
		/* drained: the listed calls stop moving */
		for (prev = (uint64_t)-1, calls = listed_calls(h); calls != prev; calls = listed_calls(h)) {
			prev = calls;
			usleep(20000);
		}
		ns = now_ns() - t0 - 20000000ULL;
		printf("{\"events\": %llu, \"seconds\": %.6f, \"events_per_s\": %.0f, \"ns_per_event\": %.1f, "
		       "\"reader_events_per_s\": %.0f, \"reader_ns_per_event\": %.1f, \"posted\": %llu, "
		       "\"dropped\": %llu, \"calls\": %llu, \"alerts\": %llu, \"actions\": %llu, \"rules\": %zu}\n",
		       (unsigned long long)n, ns / 1e9, n / (ns / 1e9), (double)ns / (double)n, n / (reader_ns / 1e9),
		       (double)reader_ns / (double)n, (unsigned long long)posted, (unsigned long long)dropped,
		       (unsigned long long)calls, (unsigned long long)alerts, (unsigned long long)actions,
		       vigil_luahost__count(h));
		vigil_luahost__free(h);
		vigil_buf_free(&wire);
		return 0;
	}
	t0 = now_ns();
	cpu0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	for (i = 0; i < n; i++) {
		stream_ns += EVENT_NS;
		if (!(i % 1024))
			vigil_luahost__tick(h);
		/* what every event costs in the agent: its msgpack encoding */
		make_event(i % CYCLE, &wire);
		/* what the rules add: what the rules thread does with a queued event's bytes */
		if (!vigil_luahost__wants(h, (i % 8) < 3 ? VIGIL_EVENT_EXEC : (i % 8) < 5 ? VIGIL_EVENT_EXIT
										 : VIGIL_EVENT_TRACEPOINT))
			continue;
		if (raw) {
			rc = raw(h, wire.data, wire.len);
			if (rc < 0)
				return 1;
			calls += (uint64_t)rc;
		} else {
			m = vigil_msg__decode(wire.data, wire.len);
			if (!m)
				return 1;
			calls += (uint64_t)vigil_luahost__event(h, m);
			vigil_msg__free(m);
		}
	}
	ns = now_ns() - t0;
	cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
	printf("{\"events\": %llu, \"seconds\": %.6f, \"events_per_s\": %.0f, \"ns_per_event\": %.1f, "
	       "\"cpu_seconds\": %.6f, \"events_per_cpu_s\": %.0f, \"lazy\": %s, \"calls\": %llu, \"alerts\": %llu, \"actions\": %llu, \"rules\": %zu}\n",
	       (unsigned long long)n, ns / 1e9, n / (ns / 1e9), (double)ns / (double)n, cpu / 1e9, n / (cpu / 1e9),
	       raw ? "true" : "false", (unsigned long long)calls, (unsigned long long)alerts, (unsigned long long)actions, vigil_luahost__count(h));
	vigil_luahost__free(h);
	vigil_buf_free(&wire);
	return 0;
}
