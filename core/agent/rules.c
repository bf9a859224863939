/* rules.c - the Lua rules in the agent (core/luahost): what the host may reach (the bus and
 * every sink, the process cache, the kernel lists) and the rules_list / rules_reload control
 * commands. The host calls back from its rules thread, concurrently with the reader: every
 * callback that touches the cache or the sinks takes the pipeline lock, and a cache entry
 * leaves it as a copy, since the reader may free the entry the moment the lock is dropped. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_internal.h"

/* Alerts, actions and rule status go where every event goes. */
static void rules_emit(void *ctx, const struct vigil_event *ev)
{
	struct vigil_agent *a = ctx;

	pthread_mutex_lock(&a->pipe_lock);
	agent_dispatch(a, ev);
	pthread_mutex_unlock(&a->pipe_lock);
}

/* A copy of p in the next of the agent's copy slots, which stays valid for the host's next
 * three lookups (it holds at most a process and its parent at a time); NULL for no entry.
 * Under pipe_lock. */
static const struct vigil_process *copy_out(struct vigil_agent *a, const struct vigil_process *p)
{
	struct agent_proc_copy *c;

	if (!p)
		return NULL;
	c = &a->rule_procs[a->rule_proc_next++ % VIGIL_ARRAY_SIZE(a->rule_procs)];
	c->p = *p;
	snprintf(c->exec_id, sizeof(c->exec_id), "%s", p->exec_id);
	snprintf(c->parent_exec_id, sizeof(c->parent_exec_id), "%s", p->parent_exec_id);
	snprintf(c->container_id, sizeof(c->container_id), "%s", p->container_id);
	c->p.exec_id = c->exec_id;
	c->p.parent_exec_id = c->parent_exec_id;
	c->p.container_id = c->container_id;
	vigil_buf_reset(&c->binary);
	vigil_buf_reset(&c->arguments);
	vigil_buf_reset(&c->cwd);
	if (vigil_buf_puts(&c->binary, p->binary) || vigil_buf_puts(&c->arguments, p->arguments) ||
	    vigil_buf_puts(&c->cwd, p->cwd))
		return NULL;
	c->p.binary = c->binary.data;
	c->p.arguments = c->arguments.data;
	c->p.cwd = c->cwd.data;
	return &c->p;
}

void agent_rules_close(struct vigil_agent *a)
{
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(a->rule_procs); i++) {
		vigil_buf_free(&a->rule_procs[i].binary);
		vigil_buf_free(&a->rule_procs[i].arguments);
		vigil_buf_free(&a->rule_procs[i].cwd);
	}
}

/* Peeks, as the exporter reads the cache: a rule walking off the top of a tree is not a
 * cache miss, and must not count as one. */
static const struct vigil_process *rules_process(void *ctx, const char *exec_id)
{
	struct vigil_agent *a = ctx;
	const struct vigil_process *p;
	uint64_t ktime;
	uint32_t pid;

	if (vigil_exec_id_parse(exec_id, &ktime, &pid))
		return NULL;
	pthread_mutex_lock(&a->pipe_lock);
	p = copy_out(a, vigil_pcache__peek(a->cache, pid, ktime));
	pthread_mutex_unlock(&a->pipe_lock);
	return p;
}

static const struct vigil_process *rules_process_by_pid(void *ctx, uint32_t pid)
{
	struct vigil_agent *a = ctx;
	const struct vigil_process *p;

	pthread_mutex_lock(&a->pipe_lock);
	p = copy_out(a, vigil_pcache__peek_pid(a->cache, pid));
	pthread_mutex_unlock(&a->pipe_lock);
	return p;
}

static int rules_deny(void *ctx, const struct vigil_deny_request *req, struct vigil_deny_outcome *out)
{
	return agent_lists_deny(ctx, req, out);
}

int agent_rules_open(struct vigil_agent *a)
{
	struct vigil_luahost_opts o = {
		.sz = sizeof(o),
		.rules_dir = a->opts.rules_dir,
		.node_name = a->node_name,
		.emit = rules_emit,
		.process = rules_process,
		.process_by_pid = rules_process_by_pid,
		.deny = rules_deny,
		.deny_rate = a->opts.deny_rate,
		.monitor = a->opts.monitor_by_default,
		.ctx = a,
	};
	int err;

	if (!a->opts.rules_dir)
		return 0;
	o.deadline_ms = a->opts.rule_deadline_ms;
	o.queue_len = a->opts.rule_queue_len;
	a->luahost = vigil_luahost__new(&o);
	if (!a->luahost)
		return -errno;
	/* the rules run on their own thread from here on: the reader only queues for them */
	err = vigil_luahost__start(a->luahost);
	if (err)
		pr_warn("agent: cannot start the Lua rules thread: %s", strerror(-err));
	return err;
}

static void pack_strs(struct ctl_map *m, const char *key, const char *const *v, size_t n)
{
	msgpack_packer *pk = ctl_map_key(m, key);
	size_t i;

	msgpack_pack_array(pk, n);
	for (i = 0; i < n; i++)
		ctl_pack_str(pk, v[i]);
}

static void pack_u64(struct ctl_map *m, const char *key, uint64_t v)
{
	msgpack_pack_uint64(ctl_map_key(m, key), v);
}

static void pack_rule(const struct vigil_rule_status *st, void *ctx)
{
	struct ctl_list *l = ctx;
	struct ctl_map m;

	l->n++;
	ctl_map_init(&m);
	ctl_pack_str(ctl_map_key(&m, "name"), st->name);
	ctl_pack_str(ctl_map_key(&m, "file"), st->file);
	ctl_pack_str(ctl_map_key(&m, "state"), st->state);
	if (st->reason)
		ctl_pack_str(ctl_map_key(&m, "reason"), st->reason);
	ctl_pack_str(ctl_map_key(&m, "priority"), st->priority);
	ctl_pack_str(ctl_map_key(&m, "desc"), st->desc);
	pack_strs(&m, "events", st->events, st->nevents);
	pack_strs(&m, "tags", st->tags, st->ntags);
	pack_u64(&m, "calls", st->calls);
	pack_u64(&m, "alerts", st->alerts);
	pack_u64(&m, "actions", st->actions);
	pack_u64(&m, "denies_limited", st->denies_limited);
	pack_u64(&m, "errors", st->errors);
	pack_u64(&m, "time_ns", st->time_ns);
	pack_u64(&m, "dropped", st->dropped);
	pack_u64(&m, "memory", st->memory);
	pack_u64(&m, "timers", st->timers);
	ctl_map_flush(&m, &l->pk);
}

/* {"ok": true, "rules": [...]}; packed aside first so the array header has the count */
int agent_rules_list(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk)
{
	struct ctl_list list;
	struct ctl_map m;

	ctl_list_init(&list);
	if (a->luahost)
		vigil_luahost__list(a->luahost, pack_rule, &list);
	ctl_map_init(&m);
	msgpack_pack_true(ctl_map_key(&m, "ok"));
	ctl_pack_str(ctl_map_key(&m, "rules_dir"), a->opts.rules_dir ? a->opts.rules_dir : "");
	ctl_list_flush(&list, ctl_map_key(&m, "rules"));
	ctl_map_flush(&m, pk);
	return 0;
}

static void pack_outcome(const char *file, const char *name, enum vigil_rule_outcome outcome,
			 const struct vigil_rule_error *err, void *ctx)
{
	struct ctl_list *l = ctx;
	char msg[sizeof(err->file) + sizeof(err->reason) + 16];
	struct ctl_map m;

	l->n++;
	ctl_map_init(&m);
	ctl_pack_str(ctl_map_key(&m, "file"), file);
	ctl_pack_str(ctl_map_key(&m, "rule"), name ? name : "");
	ctl_pack_str(ctl_map_key(&m, "outcome"), vigil_rule_outcome_name(outcome));
	if (err) {
		snprintf(msg, sizeof(msg), "%s:%d: %s", err->file, err->line, err->reason);
		ctl_pack_str(ctl_map_key(&m, "error"), msg);
		pr_warn("luahost: reload: %s", msg);
	}
	ctl_map_flush(&m, &l->pk);
}

/* {"ok": true, "refused": N, "files": [{"file", "rule", "outcome", "error"?}]}: the rules keep
 * running through it; a refused file keeps its previous version */
int agent_rules_reload(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk)
{
	struct ctl_list list;
	struct ctl_map m;
	char msg[512];
	int rc;

	if (!a->luahost) {
		ctl_pack_error(pk, "no rules directory: start vigild with --rules-dir");
		return 0;
	}
	ctl_list_init(&list);
	rc = vigil_luahost__reload(a->luahost, pack_outcome, &list);
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "cannot read %s: %s", a->opts.rules_dir, strerror(-rc));
		ctl_pack_error(pk, msg);
		msgpack_sbuffer_destroy(&list.sb);
		return 0;
	}
	ctl_map_init(&m);
	msgpack_pack_true(ctl_map_key(&m, "ok"));
	msgpack_pack_uint32(ctl_map_key(&m, "refused"), (uint32_t)rc);
	ctl_list_flush(&list, ctl_map_key(&m, "files"));
	ctl_map_flush(&m, pk);
	return 0;
}
