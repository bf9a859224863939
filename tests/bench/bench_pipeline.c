/* bench_pipeline EVENTS [json|compact|none] - the agent's user pipeline after the decoder,
 * without the kernel: each synthetic event goes through agent_dispatch as the reader sends
 * it (counters, metrics, msgpack encoding, the stamped bus publish, and the text sink on
 * stdout, which the caller sends to /dev/null). Prints one line of JSON on stderr:
 * {"events": N, "seconds": S, "events_per_s": R, "ns_per_event": C, "sent": K}.
 *
 * The stream cycles through 64 events shaped like a busy host's, as bench_lua's: execs and
 * exits of 16 programs, opens, connects, renames and listens from policy hooks. Built
 * against libvigil's internal static library (it drives the agent's own dispatch). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_internal.h"

#define NPROCS 16
#define CYCLE 64

static struct vigil_process procs[NPROCS];
static struct vigil_hook_info hooks[4];

static const char *const binaries[NPROCS] = {
	"/usr/sbin/nginx", "/usr/bin/bash",  "/usr/bin/curl",  "/usr/bin/python3.11", "/usr/bin/ls",
	"/usr/bin/cat",	   "/usr/bin/grep",  "/usr/bin/sed",   "/usr/bin/tar",	      "/tmp/job/payload",
	"/usr/bin/git",	   "/usr/bin/make",  "/usr/bin/cc",    "/usr/bin/ssh",	      "/usr/bin/rsync",
	"/usr/bin/sleep",
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void make_procs(void)
{
	size_t i;

	for (i = 0; i < NPROCS; i++) {
		struct vigil_process *p = &procs[i];

		p->pid = p->tid = 1000 + (uint32_t)i;
		snprintf(p->exec_id, sizeof(p->exec_id), "Ym9vazoxMDAwOjEwMD%02zu", i);
		if (i)
			snprintf(p->parent_exec_id, sizeof(p->parent_exec_id), "Ym9vazoxMDAwOjEwMD%02zu", i - 1);
		p->binary = (char *)binaries[i];
		p->arguments = (char *)"-v --color=auto /var/lib/something";
		p->cwd = (char *)"/tmp/job";
		p->flags = VIGIL_PROC_EXECVE | VIGIL_PROC_CLONE;
		p->start_time = 1700000000000000000ULL;
		p->auid = 1000;
		p->creds = (struct vigil_creds){ 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000 };
		p->refcnt = 1;
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

int main(int argc, char **argv)
{
	struct vigil_metrics_opts mopts = { .sz = sizeof(mopts) };
	static char paths[CYCLE][2][64];
	static struct vigil_event evs[CYCLE];
	struct vigil_agent *a;
	char dir[] = "/tmp/vigil-bench-pipeline-XXXXXX", url[128] = "", *end;
	uint64_t n, i, t0, t1;
	int err = 1;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: bench_pipeline EVENTS [json|compact|none]\n");
		return 2;
	}
	n = strtoull(argv[1], &end, 10);
	if (*end || !n) {
		fprintf(stderr, "bench_pipeline: EVENTS must be a positive integer\n");
		return 2;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return 1;
	a->opts.output = VIGIL_OUTPUT_JSON;
	if (argc == 3 && !strcmp(argv[2], "compact"))
		a->opts.output = VIGIL_OUTPUT_COMPACT;
	else if (argc == 3 && !strcmp(argv[2], "none"))
		a->opts.output = VIGIL_OUTPUT_NONE;
	else if (argc == 3 && strcmp(argv[2], "json")) {
		fprintf(stderr, "bench_pipeline: output is json, compact or none\n");
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
	make_procs();
	make_hooks();
	for (i = 0; i < CYCLE; i++)
		make_event(i, &evs[i], paths[i][0], paths[i][1]);

	t0 = now_ns();
	for (i = 0; i < n; i++) {
		pthread_mutex_lock(&a->pipe_lock);	/* the reader holds it per record */
		agent_dispatch(a, &evs[i % CYCLE]);
		if (i % CYCLE == CYCLE - 1)
			agent_flush(a);
		pthread_mutex_unlock(&a->pipe_lock);
	}
	agent_flush(a);
	t1 = now_ns();
	fprintf(stderr,
		"{\"events\": %llu, \"seconds\": %.3f, \"events_per_s\": %.0f, \"ns_per_event\": %.1f, \"sent\": %llu, "
		"\"errors\": %llu}\n",
		(unsigned long long)n, (t1 - t0) / 1e9, n / ((t1 - t0) / 1e9), (double)(t1 - t0) / n,
		(unsigned long long)vigil_pub__sent(a->pub),
		(unsigned long long)(a->counters.encode_errors + a->counters.output_errors));
	err = a->counters.encode_errors || a->counters.output_errors;
out:
	vigil_pub__close(a->pub);
	if (strchr(url, '/')) {
		unlink(url + strlen("ipc://"));
		rmdir(dir);
	}
	vigil_metrics__free(a->metrics);
	pthread_mutex_destroy(&a->pipe_lock);
	vigil_buf_free(&a->msgpack);
	vigil_buf_free(&a->line);
	free(a);
	return err;
}
