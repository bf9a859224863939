/* bench_metrics [EVENTS] - what --metrics-names costs: for each of vigil, tetragon and both,
 * the reader thread's vigil_metrics__count_event per event (a busy host's mix: execs and
 * exits of 200 binaries, policy events of 8 hooks, raw syscalls by 40 ids), then one render
 * of /metrics (time and bytes) with the series that stream left. Prints one JSON line per
 * mode. Run by hand (numbers in README "Export and metrics"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events/events.h"
#include "metrics/metrics.h"
#include "policy/policy.h"

#define NBIN 200
#define NHOOK 8

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const char *const modes[] = {"vigil", "tetragon", "both"};
	static struct vigil_process procs[NBIN];
	static char names[NBIN][64];
	static struct vigil_hook_info hooks[NHOOK + 1];
	static char hook_names[NHOOK][32];
	long events = argc > 1 ? atol(argv[1]) : 1000000, i;
	size_t k, mode;

	for (k = 0; k < NBIN; k++) {
		snprintf(names[k], sizeof(names[k]), "/usr/bin/program-%zu", k);
		procs[k].binary = names[k];
	}
	for (k = 0; k < NHOOK; k++) {
		snprintf(hook_names[k], sizeof(hook_names[k]), "security_hook_%zu", k);
		hooks[k] = (struct vigil_hook_info){.type = VIGIL_EVENT_KPROBE, .policy_name = "policy",
						    .function_name = hook_names[k]};
	}
	hooks[NHOOK] = (struct vigil_hook_info){.type = VIGIL_EVENT_TRACEPOINT, .policy_name = "sys",
						.subsys = "raw_syscalls", .event = "sys_enter", .nargs = 1,
						.args = {{.type = VIGIL_ARG_SYSCALL64}}};
	for (mode = 0; mode < 3; mode++) {
		enum vigil_metrics_names n;
		struct vigil_metrics *m;
		struct vigil_buf out = {0};
		double t0, t1, t2;

		vigil_metrics_names_parse(modes[mode], &n);
		m = vigil_metrics__new(&(struct vigil_metrics_opts){.sz = sizeof(struct vigil_metrics_opts),
								     .names = n, .node_name = "node"});
		if (!m)
			return 1;
		t0 = now();
		for (i = 0; i < events; i++) {
			struct vigil_event ev = {.process = &procs[(i * 7) % NBIN]};

			switch (i % 10) {
			case 0: case 1: case 2: case 3: case 4:
				ev.type = VIGIL_EVENT_EXEC;
				break;
			case 5: case 6: case 7:
				ev.type = VIGIL_EVENT_EXIT;
				break;
			case 8:
				ev.type = VIGIL_EVENT_KPROBE;
				ev.policy.hook = &hooks[i % NHOOK];
				ev.policy.action = VIGIL_EVENT_ACTION_POST;
				break;
			default:
				ev.type = VIGIL_EVENT_TRACEPOINT;
				ev.policy.hook = &hooks[NHOOK];
				ev.policy.action = VIGIL_EVENT_ACTION_POST;
				ev.policy.nargs = 1;
				ev.policy.args[0].type = VIGIL_ARG_SYSCALL64;
				ev.policy.args[0].value = (uint64_t)(i % 40);
				break;
			}
			vigil_metrics__count_event(m, &ev);
		}
		t1 = now();
		if (vigil_metrics__render(m, &out))
			return 1;
		t2 = now();
		printf("{\"names\":\"%s\",\"events\":%ld,\"count_ns_per_event\":%.1f,\"render_ms\":%.2f,"
		       "\"render_bytes\":%zu}\n", modes[mode], events, (t1 - t0) * 1e9 / (double)events,
		       (t2 - t1) * 1e3, out.len);
		vigil_buf_free(&out);
		vigil_metrics__free(m);
	}
	return 0;
}
