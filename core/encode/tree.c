/* tree.c - an event as the msgpack tree that mirrors Tetragon's protojson, key for key.
 *
 * protojson omits fields at their default value, so every map is sized by counting the
 * fields that will be present before any of them is written; the count and the writes
 * follow the same predicates, kept next to each other below. Wrapper fields (pid, uid,
 * auid, the credentials) are messages in Tetragon's proto and always present.
 */
#include <errno.h>

#include "encode_internal.h"

/* Longest vigil_process_flags_format() output: all eleven names and ten spaces (97). */
#define FLAGS_MAX 128

/* Capabilities that have a name: bits past CAP_CHECKPOINT_RESTORE (40) are not in
 * Tetragon's enum, so they are not reported. */
#define CAPS_KNOWN ((1ULL << 41) - 1)

struct tree {
	msgpack_packer pk;
	struct encode_out out;
	const char *time;	/* the event time, formatted once for root and exit body */
};

static int tree_write(void *data, const char *buf, size_t len)
{
	struct encode_out *o = data;

	encode_put(o, buf, len);
	return o->err;
}

static void put_str(struct tree *t, const char *s)
{
	size_t n = strlen(s);

	msgpack_pack_str(&t->pk, n);
	msgpack_pack_str_body(&t->pk, s, n);
}

static void put_kv_str(struct tree *t, const char *key, const char *val)
{
	put_str(t, key);
	put_str(t, val);
}

static void put_kv_u32(struct tree *t, const char *key, uint32_t val)
{
	put_str(t, key);
	msgpack_pack_uint32(&t->pk, val);
}

static void put_kv_time(struct tree *t, const char *key, uint64_t wall_ns)
{
	char ts[40];

	vigil_format_time(wall_ns, ts);
	put_kv_str(t, key, ts);
}

static void put_cap_list(struct tree *t, const char *key, uint64_t mask)
{
	unsigned int bit;

	put_str(t, key);
	msgpack_pack_array(&t->pk, (size_t)__builtin_popcountll(mask));
	for (bit = 0; mask; bit++, mask >>= 1)
		if (mask & 1)
			put_str(t, vigil_cap_name(bit));
}

/* "cap": {"permitted": [...], "effective": [...], "inheritable": [...]} */
static void put_caps(struct tree *t, const struct vigil_caps *c)
{
	uint64_t p = c->permitted & CAPS_KNOWN, e = c->effective & CAPS_KNOWN;
	uint64_t i = c->inheritable & CAPS_KNOWN;

	put_str(t, "cap");
	msgpack_pack_map(&t->pk, (p != 0) + (e != 0) + (i != 0));
	if (p)
		put_cap_list(t, "permitted", p);
	if (e)
		put_cap_list(t, "effective", e);
	if (i)
		put_cap_list(t, "inheritable", i);
}

static bool ns_present(const struct vigil_process *p, int k)
{
	return p->ns[k] || (p->ns_host_mask & (1u << k));
}

/* "ns": {"uts": {"inum": N, "is_host": true}, ...}; an unknown, non-host one is left out */
static void put_ns(struct tree *t, const struct vigil_process *p, size_t count)
{
	bool host;
	int k;

	put_str(t, "ns");
	msgpack_pack_map(&t->pk, count);
	for (k = 0; k < VIGIL_NS_COUNT; k++) {
		if (!ns_present(p, k))
			continue;
		host = p->ns_host_mask & (1u << k);
		put_str(t, vigil_ns_name(k));
		msgpack_pack_map(&t->pk, (p->ns[k] != 0) + host);
		if (p->ns[k])
			put_kv_u32(t, "inum", p->ns[k]);
		if (host) {
			put_str(t, "is_host");
			msgpack_pack_true(&t->pk);
		}
	}
}

static void put_creds(struct tree *t, const struct vigil_creds *c)
{
	put_str(t, "process_credentials");
	msgpack_pack_map(&t->pk, 8);
	put_kv_u32(t, "uid", c->uid);
	put_kv_u32(t, "gid", c->gid);
	put_kv_u32(t, "euid", c->euid);
	put_kv_u32(t, "egid", c->egid);
	put_kv_u32(t, "suid", c->suid);
	put_kv_u32(t, "sgid", c->sgid);
	put_kv_u32(t, "fsuid", c->fsuid);
	put_kv_u32(t, "fsgid", c->fsgid);
}

/* Tetragon's Process message, fields in proto order. */
static void put_process(struct tree *t, const char *key, const struct vigil_process *p)
{
	bool caps = (p->caps.permitted | p->caps.effective | p->caps.inheritable) & CAPS_KNOWN;
	char flags[FLAGS_MAX];
	size_t nns = 0, n;
	int k;

	vigil_process_flags_format(p->flags, flags, sizeof(flags));
	for (k = 0; k < VIGIL_NS_COUNT; k++)
		nns += ns_present(p, k);

	/* pid, uid, auid and process_credentials are always there */
	n = 4 + !!p->exec_id[0] + !!p->cwd[0] + !!p->binary[0] + !!p->arguments[0] + !!flags[0] +
	    !!p->start_time + !!p->parent_exec_id[0] + !!p->refcnt + caps + !!nns + !!p->tid;

	put_str(t, key);
	msgpack_pack_map(&t->pk, n);
	if (p->exec_id[0])
		put_kv_str(t, "exec_id", p->exec_id);
	put_kv_u32(t, "pid", p->pid);
	put_kv_u32(t, "uid", p->creds.uid);
	if (p->cwd[0])
		put_kv_str(t, "cwd", p->cwd);
	if (p->binary[0])
		put_kv_str(t, "binary", p->binary);
	if (p->arguments[0])
		put_kv_str(t, "arguments", p->arguments);
	if (flags[0])
		put_kv_str(t, "flags", flags);
	if (p->start_time)
		put_kv_time(t, "start_time", p->start_time);
	put_kv_u32(t, "auid", p->auid);
	if (p->parent_exec_id[0])
		put_kv_str(t, "parent_exec_id", p->parent_exec_id);
	if (p->refcnt)
		put_kv_u32(t, "refcnt", p->refcnt);
	if (caps)
		put_caps(t, &p->caps);
	if (nns)
		put_ns(t, p, nns);
	if (p->tid)
		put_kv_u32(t, "tid", p->tid);
	put_creds(t, &p->creds);
}

/* ProcessExec {process, parent} */
static void put_exec(struct tree *t, const struct vigil_event *ev)
{
	msgpack_pack_map(&t->pk, 1 + !!ev->parent);
	put_process(t, "process", ev->process);
	if (ev->parent)
		put_process(t, "parent", ev->parent);
}

/* ProcessExit {process, parent, signal, status, time}. A signal number without a name
 * (the real-time ones) is omitted, as Tetragon's unix.SignalName() leaves it empty. */
static void put_exit(struct tree *t, const struct vigil_event *ev)
{
	const char *sig = vigil_signal_name(ev->exit.signal);

	msgpack_pack_map(&t->pk, 2 + !!ev->parent + !!sig + !!ev->exit.status);
	put_process(t, "process", ev->process);
	if (ev->parent)
		put_process(t, "parent", ev->parent);
	if (sig)
		put_kv_str(t, "signal", sig);
	if (ev->exit.status)
		put_kv_u32(t, "status", ev->exit.status);
	put_kv_str(t, "time", t->time);
}

int vigil_encode_msgpack(const struct vigil_event *ev, struct vigil_buf *out)
{
	const char *key = vigil_event_type_key(ev->type);
	bool node = ev->node_name && ev->node_name[0];
	struct tree t;
	char ts[40];

	encode_out_begin(&t.out, out);
	if (!ev->process || (ev->type != VIGIL_EVENT_EXEC && ev->type != VIGIL_EVENT_EXIT)) {
		encode_fail(&t.out, -EINVAL);
		goto out;
	}
	msgpack_packer_init(&t.pk, &t.out, tree_write);
	vigil_format_time(ev->time, ts);
	t.time = ts;

	/* GetEventsResponse: {"<event>": {...}, "node_name": ..., "time": ...} */
	msgpack_pack_map(&t.pk, 2 + node);
	put_str(&t, key);
	if (ev->type == VIGIL_EVENT_EXEC)
		put_exec(&t, ev);
	else
		put_exit(&t, ev);
	if (node)
		put_kv_str(&t, "node_name", ev->node_name);
	put_kv_str(&t, "time", ts);
out:
	return encode_out_end(&t.out);
}
