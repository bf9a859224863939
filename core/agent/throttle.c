/* throttle.c - --cgroup-rate's events, as Tetragon's: the kernel throttles a cgroup whose
 * exec/clone/exit rate reached the limit on a CPU (bpf/lib/cgroup_rate.h) and says so once; the agent
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

	a->counters.throttle_checks++;
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
	a->counters.throttle_processed++;
	if (bpf_map_lookup_elem(fd, &t->cgroup_id, v)) {
		a->counters.throttle_lookup_fail++;
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
		if (bpf_map_update_elem(fd, &t->cgroup_id, v, BPF_EXIST)) {
			a->counters.throttle_untracked++;
			a->counters.throttle_update_fail++;
		}
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

/* One cgroup's windows summed over CPUs: held records, and whether any CPU throttles it. */
struct held {
	uint64_t cgroup_id, execs, clones, exits;
	bool throttled;
};

static int read_held(int fd, uint64_t id, struct vigil_cgroup_rate *v, int ncpus, struct held *h)
{
	int cpu;

	if (bpf_map_lookup_elem(fd, &id, v))
		return -errno;
	*h = (struct held){.cgroup_id = id};
	for (cpu = 0; cpu < ncpus; cpu++) {
		h->execs += v[cpu].held_execs;
		h->clones += v[cpu].held_clones;
		h->exits += v[cpu].held_exits;
		h->throttled |= v[cpu].throttled != 0;
	}
	return 0;
}

void agent_throttle_pack(struct vigil_agent *a, msgpack_packer *pk)
{
	int fd = vigil_loader__cgrate_fd(a->loader), ncpus = libbpf_num_possible_cpus();
	struct vigil_cgroup_rate *v = ncpus > 0 ? calloc((size_t)ncpus, sizeof(*v)) : NULL;
	struct held *found = NULL, *grown, h;
	uint64_t key, next, *prev = NULL;
	size_t n = 0, i;
	char path[256];

	/* the windows with something held back (an LRU map: a long-idle cgroup may be gone) */
	while (v && !bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (read_held(fd, key, v, ncpus, &h) || (!h.execs && !h.clones && !h.exits && !h.throttled))
			continue;
		grown = realloc(found, (n + 1) * sizeof(*found));
		if (!grown)
			break;
		found = grown;
		found[n++] = h;
	}
	msgpack_pack_map(pk, 3);
	ctl_pack_str(pk, "events");
	msgpack_pack_uint64(pk, a->opts.cgroup_rate_events);
	ctl_pack_str(pk, "interval_ns");
	msgpack_pack_uint64(pk, a->opts.cgroup_rate_interval_ns);
	ctl_pack_str(pk, "cgroups");
	msgpack_pack_array(pk, n);
	for (i = 0; i < n; i++) {
		if (!a->cgroups || vigil_cgroups__path(a->cgroups, found[i].cgroup_id, path, sizeof(path)))
			snprintf(path, sizeof(path), "%" PRIu64, found[i].cgroup_id);
		msgpack_pack_map(pk, 6);
		ctl_pack_str(pk, "cgroup");
		ctl_pack_str(pk, path);
		ctl_pack_str(pk, "cgroup_id");
		msgpack_pack_uint64(pk, found[i].cgroup_id);
		ctl_pack_str(pk, "throttled");
		if (found[i].throttled)
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
		ctl_pack_str(pk, "held_execs");
		msgpack_pack_uint64(pk, found[i].execs);
		ctl_pack_str(pk, "held_clones");
		msgpack_pack_uint64(pk, found[i].clones);
		ctl_pack_str(pk, "held_exits");
		msgpack_pack_uint64(pk, found[i].exits);
	}
	free(found);
	free(v);
}
