/* tpchain.c - the raw tracepoints' chains (bpf/tpchain.h): one head program per tracepoint,
 * attached while some hook is in its chain, tail-calling the hooks in turn. Shared by every
 * hook instance on that tracepoint, kept per process. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/common.h"
#include "sensors_internal.h"
#include "tpchain.h"
#include "tpchain.skel.h"

struct tpchain {
	struct tpchain *next;
	char target[128];		/* the tracepoint, as tp_btf names it */
	struct tpchain_bpf *skel;
	struct bpf_link *link;		/* the head on the tracepoint, while `in` is not 0 */
	int scratch_fd;			/* the hooks' generic_heap: one per chain */
	uint32_t scratch_size;
	uint16_t taken;			/* bit k: slot k reserved by a hook instance */
	uint16_t in;			/* bit k: slot k's program is in the chain */
};

_Static_assert(VG_TP_CHAIN <= 16, "a chain's slots are bits of a uint16_t");

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct tpchain *chains;

static void chain_free(struct tpchain *c)
{
	if (!c)
		return;
	bpf_link__destroy(c->link);
	tpchain_bpf__destroy(c->skel);
	if (c->scratch_fd >= 0)
		close(c->scratch_fd);
	free(c);
}

/* The head, loaded for target, and the scratch its hooks share (value_size: the hooks'
 * generic_heap's). NULL with errno set. */
static struct tpchain *chain_new(const char *target, uint32_t value_size)
{
	struct tpchain *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return NULL;
	c->scratch_fd = -1;
	snprintf(c->target, sizeof(c->target), "%s", target);
	c->skel = tpchain_bpf__open();
	err = c->skel ? bpf_program__set_attach_target(c->skel->progs.tp_btf_chain, 0, target) : -errno;
	if (!err)
		err = tpchain_bpf__load(c->skel);
	if (!err) {
		c->scratch_fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "generic_heap", sizeof(uint32_t), value_size, 1,
					       NULL);
		err = c->scratch_fd < 0 ? -errno : 0;
	}
	if (err) {
		pr_debug("sensors: no chain for tracepoint %s: %s", target, strerror(-err));
		chain_free(c);
		errno = -err;
		return NULL;
	}
	c->scratch_size = value_size;
	return c;
}

/* The chain ends after its last filled slot (vg_tp_end); called with the lock. */
static void set_end(struct tpchain *c)
{
	uint32_t zero = 0, end = 0;
	int k;

	for (k = 0; k < VG_TP_CHAIN; k++)
		if (c->in & (1u << k))
			end = (uint32_t)k + 1;
	if (bpf_map_update_elem(bpf_map__fd(c->skel->maps.vg_tp_end), &zero, &end, BPF_ANY))
		pr_warn("sensors: chain end of tracepoint %s: %s", c->target, strerror(errno));
}

/* obj's maps become the chain's; 0 or -errno. */
static int reuse_maps(struct tpchain *c, struct bpf_object *obj)
{
	struct bpf_map *const theirs[] = {c->skel->maps.vg_tp_chain, c->skel->maps.vg_tp_end, c->skel->maps.vg_tp_run};
	struct bpf_map *mine;
	size_t i;
	int err = 0;

	for (i = 0; i < VIGIL_ARRAY_SIZE(theirs) && !err; i++) {
		mine = bpf_object__find_map_by_name(obj, bpf_map__name(theirs[i]));
		err = mine ? bpf_map__reuse_fd(mine, bpf_map__fd(theirs[i])) : -ENOENT;
	}
	mine = bpf_object__find_map_by_name(obj, "generic_heap");
	if (!err)
		err = mine ? bpf_map__reuse_fd(mine, c->scratch_fd) : -ENOENT;
	return err;
}

int tpchain_join(const char *target, struct bpf_object *obj, struct tpchain **out)
{
	struct bpf_map *heap = bpf_object__find_map_by_name(obj, "generic_heap");
	struct tpchain *c;
	int k, slot = -ENOSPC, err;

	*out = NULL;
	if (!heap)
		return -ENOENT;
	pthread_mutex_lock(&lock);
	for (c = chains; c && strcmp(c->target, target); c = c->next)
		;
	if (!c) {
		c = chain_new(target, bpf_map__value_size(heap));
		if (!c) {
			slot = -errno;
			goto out;
		}
		c->next = chains;
		chains = c;
	}
	if (c->scratch_size != bpf_map__value_size(heap)) {
		slot = -EINVAL;	/* never so: every hook instance is built from one generic.h */
		goto out;
	}
	for (k = 0; k < VG_TP_CHAIN && slot < 0; k++)
		if (!(c->taken & (1u << k)))
			slot = k;
	if (slot < 0)
		goto out;
	err = reuse_maps(c, obj);
	if (err) {
		slot = err;
		goto out;
	}
	c->taken |= (uint16_t)(1u << slot);
	*out = c;
out:
	if (c && !c->taken) {	/* a chain nobody joined */
		struct tpchain **p;

		for (p = &chains; *p != c; p = &(*p)->next)
			;
		*p = c->next;
		chain_free(c);
	}
	pthread_mutex_unlock(&lock);
	return slot;
}

int tpchain_add(struct tpchain *c, int slot, int prog_fd)
{
	uint32_t key = (uint32_t)slot;
	int err = 0;

	if (slot < 0 || slot >= VG_TP_CHAIN)
		return -ERANGE;
	pthread_mutex_lock(&lock);
	if (bpf_map_update_elem(bpf_map__fd(c->skel->maps.vg_tp_chain), &key, &prog_fd, BPF_ANY)) {
		err = -errno;
		goto out;
	}
	c->in |= (uint16_t)(1u << slot);
	set_end(c);
	if (!c->link) {
		c->link = bpf_program__attach(c->skel->progs.tp_btf_chain);
		if (!c->link) {
			err = -errno;
			bpf_map_delete_elem(bpf_map__fd(c->skel->maps.vg_tp_chain), &key);
			c->in &= (uint16_t)~(1u << slot);
			set_end(c);
		}
	}
out:
	pthread_mutex_unlock(&lock);
	return err;
}

void tpchain_remove(struct tpchain *c, int slot)
{
	uint32_t key = (uint32_t)slot;

	if (slot < 0 || slot >= VG_TP_CHAIN)
		return;
	pthread_mutex_lock(&lock);
	bpf_map_delete_elem(bpf_map__fd(c->skel->maps.vg_tp_chain), &key);
	c->in &= (uint16_t)~(1u << slot);
	set_end(c);
	/* the last hook out: no probe on the tracepoint at all */
	if (!c->in) {
		bpf_link__destroy(c->link);
		c->link = NULL;
	}
	pthread_mutex_unlock(&lock);
}

void tpchain_leave(struct tpchain *c, int slot)
{
	struct tpchain **p;

	if (!c)
		return;
	pthread_mutex_lock(&lock);
	if (slot >= 0 && slot < VG_TP_CHAIN)
		c->taken &= (uint16_t)~(1u << slot);
	if (!c->taken) {
		for (p = &chains; *p && *p != c; p = &(*p)->next)
			;
		if (*p)
			*p = c->next;
		chain_free(c);
	}
	pthread_mutex_unlock(&lock);
}

/* FNV-1a over what the capture reads by (the fetch, the argument specs, the exec path's
 * sharing); 0 for a hook that changes its capture after taking it. */
uint64_t tpchain_capture_sig(const struct vg_hook_config *cfg)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const unsigned char *p;
	uint32_t i, n = cfg->nargs < VG_MAX_ARGS ? cfg->nargs : VG_MAX_ARGS;
	size_t k;
	struct {
		uint32_t fetch, nargs, exec_path_once;
	} head = {cfg->fetch, n, cfg->exec_path_once};

	if (cfg->is_return)
		return 0;
	for (i = 0; i < n; i++)
		if (cfg->args[i].max_data || cfg->args[i].return_copy)
			return 0;
	for (p = (const unsigned char *)&head, k = 0; k < sizeof(head); k++)
		h = (h ^ p[k]) * 0x100000001b3ULL;
	for (p = (const unsigned char *)cfg->args, k = 0; k < n * sizeof(cfg->args[0]); k++)
		h = (h ^ p[k]) * 0x100000001b3ULL;
	return h ? h : 1;
}
