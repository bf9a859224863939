/* decode.c - kernel records (bpf/process.h) into process-cache updates and events. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decode.h"
#include "decode_internal.h"
#include "stacks.h"
#include "pcache/pcache.h"
#include "process.h"


/* Kernel flag -> process flag. */
static const struct {
	uint32_t kflag;
	uint32_t pflag;
} flag_map[] = {
	{VIGIL_KF_EXECVE, VIGIL_PROC_EXECVE},
	{VIGIL_KF_CLONE, VIGIL_PROC_CLONE},
	{VIGIL_KF_TRUNC_FILENAME, VIGIL_PROC_TRUNC_FILENAME},
	{VIGIL_KF_TRUNC_ARGS, VIGIL_PROC_TRUNC_ARGS},
	{VIGIL_KF_ERROR_FILENAME, VIGIL_PROC_ERROR_FILENAME},
	{VIGIL_KF_ERROR_ARGS, VIGIL_PROC_ERROR_ARGS},
	{VIGIL_KF_ERROR_CWD, VIGIL_PROC_ERROR_CWD},
	{VIGIL_KF_PROCFS, VIGIL_PROC_PROCFS},
	{VIGIL_KF_TRUNC_ENV, VIGIL_PROC_TRUNC_ENV},
	{VIGIL_KF_ERROR_ENV, VIGIL_PROC_ERROR_ENV},
};

static uint32_t process_flags(uint32_t kflags)
{
	uint32_t flags = 0;
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(flag_map); i++)
		if (kflags & flag_map[i].kflag)
			flags |= flag_map[i].pflag;
	return flags;
}

struct vigil_decoder *vigil_decoder__new(struct vigil_pcache *cache, int64_t boot_to_wall, const char *proc_root)
{
	struct vigil_decoder *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->cache = cache;
	d->kallsyms_fd = -1;
	d->boot_to_wall = boot_to_wall;
	vigil_host_ns_read(proc_root ? proc_root : "/proc", d->host_ns);
	snprintf(d->proc_root, sizeof(d->proc_root), "%s", proc_root ? proc_root : "/proc");
	d->unknown = vigil_process__new();
	if (!d->unknown) {
		free(d);
		return NULL;
	}
	return d;
}

void vigil_decoder__free(struct vigil_decoder *d)
{
	if (!d)
		return;
	vigil_process__free(d->unknown);
	stack_symbols_free(d->stacks);
	decode_chunks_free(d);
	free(d->build_ids);
	if (d->kallsyms_fd >= 0)
		close(d->kallsyms_fd);
	free(d);
}

void vigil_decoder__set_boot_to_wall(struct vigil_decoder *d, int64_t boot_to_wall)
{
	d->boot_to_wall = boot_to_wall;
}

void vigil_decoder__set_kallsyms(struct vigil_decoder *d, int fd)
{
	if (d->kallsyms_fd >= 0)
		close(d->kallsyms_fd);
	d->kallsyms_fd = fd;
}

int decode_bad(struct vigil_decoder *d)
{
	d->stats.bad_records++;
	d->stats.dropped[VIGIL_DROPPED_BAD_RECORD]++;
	return -EBADMSG;
}

struct vigil_process *decode_parent(struct vigil_decoder *d, struct vigil_process *p)
{
	struct vigil_process *parent;

	if (!p->ppid)
		return NULL;
	parent = vigil_pcache__lookup(d->cache, p->ppid, p->pktime);
	if (!parent) {
		p->flags |= VIGIL_PROC_NOPARENT;
		d->stats.degraded[VIGIL_DEGRADED_PARENT_UNKNOWN]++;
	}
	return parent;
}

struct vigil_process *decode_stand_in(struct vigil_decoder *d, uint32_t pid, uint32_t tid, uint64_t ktime)
{
	struct vigil_process *p = d->unknown;
	char id[VIGIL_EXEC_ID_MAX];
	int n;

	d->stats.degraded[VIGIL_DEGRADED_PROCESS_UNKNOWN]++;
	p->pid = pid;
	p->tid = tid;
	p->ktime = ktime;
	p->start_time = ktime + d->boot_to_wall;
	p->flags = VIGIL_PROC_UNKNOWN;
	n = vigil_exec_id_format(vigil_pcache__node_name(d->cache), ktime, pid, id);
	/* p->exec_id is a counted string (pcache.h): set, never written into */
	if (n < 0 || vigil_process__set_str(&p->exec_id, id, (size_t)n))
		vigil_process__set_str(&p->exec_id, "", 0);
	return p;
}

static void decode_env(struct vigil_event *ev, const char *env, size_t len);

static int decode_exec(struct vigil_decoder *d, const struct vigil_exec_record *r, size_t size,
		       struct vigil_event *ev)
{
	size_t data_len = size - offsetof(struct vigil_exec_record, data);
	const char *bin = r->data, *cwd, *args;
	char container_id[VIGIL_CONTAINER_ID_MAX];
	size_t container_len = 0;
	struct vigil_process *p;
	struct vigil_buf argbuf = {0};
	int k, err;

	if ((size_t)r->binary_len + r->cwd_len + r->args_len + r->env_len > data_len)
		return decode_bad(d);
	cwd = bin + r->binary_len;
	args = cwd + r->cwd_len;

	p = vigil_process__new();
	if (!p)
		return -ENOMEM;
	p->pid = r->pid;
	p->tid = r->tid;
	p->ktime = r->proc_ktime;
	p->ppid = r->ppid;
	p->pktime = r->pktime;
	p->flags = process_flags(r->flags);
	if (r->cwd_len == 1 && cwd[0] == '/')
		p->flags |= VIGIL_PROC_ROOTCWD;
	p->start_time = r->hdr.ktime + d->boot_to_wall;
	p->auid = r->auid;
	memcpy(&p->creds, &r->creds, sizeof(p->creds));
	p->cred_extra = (struct vigil_cred_extra){.known = true, .securebits = r->securebits,
						 .userns_level = r->userns_level, .userns_owner = r->userns_owner,
						 .userns_group = r->userns_group};
	p->caps.permitted = r->cap_permitted;
	p->caps.effective = r->cap_effective;
	p->caps.inheritable = r->cap_inheritable;
	for (k = 0; k < VIGIL_NS_COUNT; k++) {
		p->ns[k] = r->ns[k];
		if (r->ns[k] && r->ns[k] == d->host_ns[k])
			p->ns_host_mask |= 1u << k;
	}
	p->cgroup_id = r->cgroup_id;
	if (d->container)
		container_len = d->container(d->container_ctx, r->cgroup_id, r->pid, container_id);
	p->file = (struct vigil_file_id){
		.dev = r->file_dev,
		.uid = r->file_uid,
		.ino = r->file_ino,
		.mode = r->file_mode,
		.nlink = r->file_nlink,
	};
	err = vigil_process__set_str(&p->binary, bin, r->binary_len);
	if (!err)
		err = vigil_process__set_str(&p->cwd, cwd, r->cwd_len);
	if (!err)
		err = vigil_args_format(args, r->args_len, &argbuf);
	if (!err)
		err = vigil_process__set_str(&p->arguments, argbuf.data ? argbuf.data : "", argbuf.len);
	if (!err)
		err = vigil_process__set_str(&p->container_id, container_id, container_len);
	vigil_buf_free(&argbuf);
	if (err) {
		vigil_process__free(p);
		return err;
	}

	/* a full cache evicts, or hands p back flagged uncached: the exec is reported either way */
	p = vigil_pcache__exec(d->cache, p, r->hdr.ktime);
	if (!p)
		return -errno;
	if (p->flags & VIGIL_PROC_UNCACHED)
		d->stats.degraded[VIGIL_DEGRADED_UNCACHED]++;
	ev->type = VIGIL_EVENT_EXEC;
	ev->time = r->hdr.ktime + d->boot_to_wall;
	ev->process = p;
	ev->parent = decode_parent(d, p);
	/* an init's tree: the init itself, or a child of the tree in the same pid namespace (a
	 * fork inherited its parent's; a setns'd process's parent is outside the namespace) */
	p->in_init_tree = (r->flags & VIGIL_KF_NS_INIT) ||
			  (ev->parent && ev->parent->in_init_tree && ev->parent->ns[VIGIL_NS_PID] == p->ns[VIGIL_NS_PID]);
	decode_env(ev, args + r->args_len, r->env_len);
	return 1;
}

/* The captured environment, whole strings only: a cut one (truncEnvs) loses its tail. */
static void decode_env(struct vigil_event *ev, const char *env, size_t len)
{
	while (len && env[len - 1] != '\0')
		len--;
	ev->env = len ? env : NULL;
	ev->env_len = len;
}

static int decode_throttle(struct vigil_decoder *d, const struct vigil_throttle_record *r, struct vigil_event *ev)
{
	ev->type = VIGIL_EVENT_THROTTLE;
	ev->time = r->hdr.ktime + d->boot_to_wall;
	ev->throttle.type = 1;		/* THROTTLE_START; the agent sends STOP (core/agent/throttle.c) */
	ev->throttle.cgroup_id = r->cgroup_id;
	return 1;
}

static int decode_clone(struct vigil_decoder *d, const struct vigil_clone_record *r)
{
	struct vigil_process *p;

	p = vigil_pcache__clone(d->cache, r->pid, r->proc_ktime, r->ppid, r->pktime, r->hdr.ktime + d->boot_to_wall,
				r->hdr.ktime);
	if (!p)
		return -errno;
	p->tid = r->tid;
	return 0;
}

static int decode_exit(struct vigil_decoder *d, const struct vigil_exit_record *r, struct vigil_event *ev)
{
	struct vigil_process *p = vigil_pcache__exit(d->cache, r->pid, r->proc_ktime, r->hdr.ktime);

	if (!p) {
		/* never seen, or evicted from a full cache: report what the kernel knows */
		d->stats.exit_unknown++;
		p = decode_stand_in(d, r->pid, r->tid, r->proc_ktime);
	}
	ev->type = VIGIL_EVENT_EXIT;
	ev->time = r->hdr.ktime + d->boot_to_wall;
	ev->process = p;
	ev->parent = decode_parent(d, p);
	/* wait(2) encoding: exit status in bits 8-15, terminating signal in bits 0-6 */
	ev->exit.status = (r->exit_code >> 8) & 0xff;
	ev->exit.signal = r->exit_code & 0x7f;
	return 1;
}

/* A record that produced nothing is counted by reason; malformed ones already are. */
static int count_drop(struct vigil_decoder *d, int ret)
{
	if (ret == -EEXIST)
		d->stats.dropped[VIGIL_DROPPED_DUPLICATE]++;
	else if (ret == -ENOSPC)
		d->stats.dropped[VIGIL_DROPPED_CACHE_FULL]++;
	else if (ret < 0 && ret != -EBADMSG)
		d->stats.dropped[VIGIL_DROPPED_NOMEM]++;
	return ret;
}

static int decode_record(struct vigil_decoder *d, const void *data, size_t size, struct vigil_event *ev)
{
	const struct vigil_msg_hdr *hdr = data;

	d->stats.records++;
	memset(ev, 0, sizeof(*ev));
	if (size < sizeof(*hdr) || hdr->size != size)
		return decode_bad(d);
	switch (hdr->op) {
	case VIGIL_OP_EXEC:
		if (size < offsetof(struct vigil_exec_record, data) || size > sizeof(struct vigil_exec_record))
			return decode_bad(d);
		d->stats.exec++;
		return decode_exec(d, data, size, ev);
	case VIGIL_OP_CLONE:
		if (size != sizeof(struct vigil_clone_record))
			return decode_bad(d);
		d->stats.clone++;
		return decode_clone(d, data);
	case VIGIL_OP_GENERIC:
		d->stats.policy++;
		return decode_generic(d, data, size, ev);
	case VIGIL_OP_GENERIC_CHUNK:
		return decode_chunk(d, data, size);
	case VIGIL_OP_LOADER:
		d->stats.policy++;
		return decode_loader(d, data, size, ev);
	case VIGIL_OP_EXIT:
		if (size != sizeof(struct vigil_exit_record))
			return decode_bad(d);
		d->stats.exit++;
		return decode_exit(d, data, ev);
	case VIGIL_OP_THROTTLE:
		if (size != sizeof(struct vigil_throttle_record))
			return decode_bad(d);
		return decode_throttle(d, data, ev);
	default:
		return decode_bad(d);
	}
}

int vigil_decoder__record(struct vigil_decoder *d, const void *data, size_t size, struct vigil_event *ev)
{
	return count_drop(d, decode_record(d, data, size, ev));
}

void vigil_decoder__set_hook_resolver(struct vigil_decoder *d, vigil_hook_resolver fn, void *ctx)
{
	d->resolve = fn;
	d->resolve_ctx = ctx;
}

void vigil_decoder__set_container_resolver(struct vigil_decoder *d, vigil_container_resolver fn, void *ctx)
{
	d->container = fn;
	d->container_ctx = ctx;
}

void vigil_decoder__stats(const struct vigil_decoder *d, struct vigil_decoder_stats *out)
{
	*out = d->stats;
}

const uint32_t *vigil_decoder__host_ns(const struct vigil_decoder *d)
{
	return d->host_ns;
}

static const char *const degraded_names[VIGIL_DEGRADED_COUNT] = {
	[VIGIL_DEGRADED_UNCACHED] = "uncached",
	[VIGIL_DEGRADED_PROCESS_UNKNOWN] = "process_unknown",
	[VIGIL_DEGRADED_PARENT_UNKNOWN] = "parent_unknown",
	[VIGIL_DEGRADED_ARG_TRUNCATED] = "arg_truncated",
};

static const char *const dropped_names[VIGIL_DROPPED_COUNT] = {
	[VIGIL_DROPPED_BAD_RECORD] = "bad_record",
	[VIGIL_DROPPED_UNKNOWN_HOOK] = "unknown_hook",
	[VIGIL_DROPPED_DUPLICATE] = "duplicate",
	[VIGIL_DROPPED_NOMEM] = "nomem",
	[VIGIL_DROPPED_CACHE_FULL] = "cache_full",
};

const char *vigil_degraded_reason_name(enum vigil_degraded_reason r)
{
	return (unsigned int)r < VIGIL_DEGRADED_COUNT ? degraded_names[r] : NULL;
}

const char *vigil_dropped_reason_name(enum vigil_dropped_reason r)
{
	return (unsigned int)r < VIGIL_DROPPED_COUNT ? dropped_names[r] : NULL;
}
