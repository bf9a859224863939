/* throttle.c - --cgroup-rate's events, as Tetragon's: the kernel throttles a cgroup whose
 * exec rate reached the limit on a CPU (bpf/lib/cgroup_rate.h) and says so once; the agent
 * names the cgroup and sends THROTTLE_START, then looks at the cgroup's windows every
 * second and, once every CPU has been quiet or under the limit for ALIVE_NS, clears the
 * kernel's throttle and sends THROTTLE_STOP. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent_internal.h"
#include "process.h"

#define ALIVE_NS (5ULL * 1000000000ULL)	/* Tetragon's aliveCnt: 5 s */
#define TICK_NS 1000000000ULL

static struct agent_throttled *find(struct vigil_agent *a, uint64_t cgroup_id)
{
	size_t i;

	for (i = 0; i < a->nthrottled; i++)
		if (a->throttled[i].cgroup_id == cgroup_id)
			return &a->throttled[i];
	return NULL;
}

static void send_throttle(struct vigil_agent *a, const struct agent_throttled *t, int type, uint64_t time)
{
	struct vigil_event ev = {.type = VIGIL_EVENT_THROTTLE, .time = time, .node_name = a->node_name};

	ev.throttle.type = type;
	ev.throttle.cgroup_id = t->cgroup_id;
	ev.throttle.cgroup = t->cgroup;
	agent_dispatch(a, &ev);
}

void agent_throttle_start(struct vigil_agent *a, const struct vigil_event *ev)
{
	struct agent_throttled *t, *grown;

	/* one START per cgroup: every CPU that throttles it says so */
	if (find(a, ev->throttle.cgroup_id))
		return;
	grown = realloc(a->throttled, (a->nthrottled + 1) * sizeof(*grown));
	if (!grown) {
		a->counters.throttle_untracked++;
		return;
	}
	a->throttled = grown;
	t = &a->throttled[a->nthrottled++];
	memset(t, 0, sizeof(*t));
	t->cgroup_id = ev->throttle.cgroup_id;
	if (!a->cgroups || vigil_cgroups__path(a->cgroups, t->cgroup_id, t->cgroup, sizeof(t->cgroup)))
		snprintf(t->cgroup, sizeof(t->cgroup), "%" PRIu64, t->cgroup_id);
	a->counters.throttle_start++;
	send_throttle(a, t, 1, ev->time);
}

/* Whether every CPU's window of t is quiet or under the limit, and has been for ALIVE_NS;
 * if so, the kernel's throttle is cleared. A cgroup gone from the map is done too. */
static bool quiet(struct vigil_agent *a, const struct agent_throttled *t, uint64_t now_boot)
{
	int fd = vigil_loader__cgrate_fd(a->loader), ncpus = libbpf_num_possible_cpus(), cpu;
	struct vigil_cgroup_rate *v;
	bool stop = true;

	if (ncpus <= 0)
		return false;
	v = calloc((size_t)ncpus, sizeof(*v));
	if (!v)
		return false;
	if (bpf_map_lookup_elem(fd, &t->cgroup_id, v)) {
		free(v);
		return true;
	}
	for (cpu = 0; cpu < ncpus; cpu++) {
		if (now_boot > v[cpu].time + ALIVE_NS)
			continue;
		if (v[cpu].rate < a->opts.cgroup_rate_events && now_boot > v[cpu].throttled + ALIVE_NS)
			continue;
		stop = false;
	}
	if (stop) {
		for (cpu = 0; cpu < ncpus; cpu++)
			v[cpu].throttled = 0;
		if (bpf_map_update_elem(fd, &t->cgroup_id, v, BPF_EXIST))
			a->counters.throttle_untracked++;
	}
	free(v);
	return stop;
}

void agent_throttle_tick(struct vigil_agent *a, uint64_t now_boot)
{
	size_t i = 0;

	if (!a->nthrottled || now_boot - a->throttle_tick < TICK_NS)
		return;
	a->throttle_tick = now_boot;
	while (i < a->nthrottled) {
		if (!quiet(a, &a->throttled[i], now_boot)) {
			i++;
			continue;
		}
		a->counters.throttle_stop++;
		send_throttle(a, &a->throttled[i], 2, now_boot + (uint64_t)a->boot_to_wall);
		a->throttled[i] = a->throttled[--a->nthrottled];
	}
}
