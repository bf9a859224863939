/* tree.c - an event as the msgpack tree that mirrors Tetragon's protojson, key for key.
 *
 * protojson omits fields at their default value, so every map is sized by counting the
 * fields that will be present before any of them is written; the count and the writes
 * follow the same predicates, kept next to each other below. Wrapper fields (pid, uid,
 * auid, the credentials) are messages in Tetragon's proto and always present.
 *
 * Policy events (kprobe, tracepoint, lsm, uprobe) share one writer: each type lists its
 * body fields in its proto order in a const table, and one predicate per field decides
 * both the count and the write.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "encode_internal.h"

/* Longest vigil_process_flags_format() output: all eleven names and ten spaces (97). */
#define FLAGS_MAX 160	/* every flag name, space-separated, fits */

static int tree_write(void *data, const char *buf, size_t len)
{
	struct encode_out *o = data;

	encode_put(o, buf, len);
	return o->err;
}

void encode_tree_put_slow(struct encode_tree *t, const unsigned char *h, size_t hl, const void *s, size_t n)
{
	encode_put(&t->out, h, hl);
	if (n)
		encode_put(&t->out, s, n);
}

/* Processes' start times and flags repeat from event to event (the same few processes):
 * their text is kept per thread, a few of each, keyed by value. */
#define TEXT_MEMO 8

static void put_kv_time(struct encode_tree *t, const char *key, uint64_t wall_ns)
{
	static __thread struct {
		uint64_t ns;
		size_t len;
		char text[40];
	} memo[TEXT_MEMO];
	size_t k = (size_t)(wall_ns ^ (wall_ns >> 17) ^ (wall_ns >> 31)) % TEXT_MEMO;

	if (memo[k].ns != wall_ns || !memo[k].len) {
		vigil_format_time(wall_ns, memo[k].text);
		memo[k].len = strlen(memo[k].text);
		memo[k].ns = wall_ns;
	}
	encode_tree_str(t, key);
	encode_tree_strn(t, memo[k].text, memo[k].len);
}

/* vigil_process_flags_format's text of flags, and its length */
static const char *flags_text(uint32_t flags, size_t *len)
{
	static __thread struct {
		uint32_t flags;
		bool set;
		size_t len;
		char text[FLAGS_MAX];
	} memo[TEXT_MEMO];
	size_t k = (flags ^ (flags >> 3) ^ (flags >> 7)) % TEXT_MEMO;

	if (!memo[k].set || memo[k].flags != flags) {
		memo[k].len = vigil_process_flags_format(flags, memo[k].text, sizeof(memo[k].text));
		memo[k].flags = flags;
		memo[k].set = true;
	}
	*len = memo[k].len;
	return memo[k].text;
}

/* Every capability name as msgpack strings, one after another in bit order, and where each
 * starts: a run of consecutive bits of a mask is one copy (a root process's whole set is
 * one), where a string at a time cost ~50 instructions a name, 40% of an exec's encoding. */
#define CAP_BITS 41
_Static_assert(ENCODE_CAPS_KNOWN == (1ULL << CAP_BITS) - 1, "a name for every known capability");

static struct {
	unsigned char bytes[CAP_BITS * 32];
	uint16_t at[CAP_BITS + 1];
} cap_strings;
static pthread_once_t cap_strings_once = PTHREAD_ONCE_INIT;

static void build_cap_strings(void)
{
	unsigned int bit;
	size_t at = 0, n;

	for (bit = 0; bit < CAP_BITS; bit++) {
		n = strlen(vigil_cap_name(bit));	/* each under 32: a fixstr */
		cap_strings.at[bit] = (uint16_t)at;
		cap_strings.bytes[at] = (unsigned char)(0xa0 | n);
		memcpy(cap_strings.bytes + at + 1, vigil_cap_name(bit), n);
		at += n + 1;
	}
	cap_strings.at[CAP_BITS] = (uint16_t)at;
}

static void put_cap_list(struct encode_tree *t, const char *key, uint64_t mask)
{
	unsigned int lo, run;

	pthread_once(&cap_strings_once, build_cap_strings);
	encode_tree_str(t, key);
	encode_tree_array(t, (size_t)__builtin_popcountll(mask));
	while (mask) {		/* (mask has at most CAP_BITS bits) */
		lo = (unsigned int)__builtin_ctzll(mask);
		run = (unsigned int)__builtin_ctzll(~(mask >> lo));
		encode_put(&t->out, cap_strings.bytes + cap_strings.at[lo],
			   cap_strings.at[lo + run] - cap_strings.at[lo]);
		mask &= ~(((1ULL << run) - 1) << lo);
	}
}

bool encode_caps_known(const struct vigil_caps *c)
{
	return (c->permitted | c->effective | c->inheritable) & ENCODE_CAPS_KNOWN;
}

void encode_tree_caps(struct encode_tree *t, const char *key, const struct vigil_caps *c)
{
	uint64_t p = c->permitted & ENCODE_CAPS_KNOWN, e = c->effective & ENCODE_CAPS_KNOWN;
	uint64_t i = c->inheritable & ENCODE_CAPS_KNOWN;

	encode_tree_str(t, key);
	encode_tree_map(t, (p != 0) + (e != 0) + (i != 0));
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
static void write_ns(struct encode_tree *t, const struct vigil_process *p, size_t count)
{
	bool host;
	int k;

	encode_tree_str(t, "ns");
	encode_tree_map(t, count);
	for (k = 0; k < VIGIL_NS_COUNT; k++) {
		if (!ns_present(p, k))
			continue;
		host = p->ns_host_mask & (1u << k);
		encode_tree_str(t, vigil_ns_name(k));
		encode_tree_map(t, (p->ns[k] != 0) + host);
		if (p->ns[k])
			encode_tree_kv_u32(t, "inum", p->ns[k]);
		if (host) {
			encode_tree_str(t, "is_host");
			encode_tree_bool(t, true);
		}
	}
}

/* Members that most processes repeat are many small writes: the "ns" member ~60 (processes
 * share a few sets of namespaces), the credentials' eight ids 16, made twice an event
 * (process and parent; root's are all 0). Their bytes are kept per thread, a few sets a
 * member, keyed by the values they encode. Longest: "ns", ten names with an inum and
 * is_host each (under 300 bytes). */
#define MEMO_SETS 4
#define MEMO_KEY_MAX 64
#define MEMO_BYTES_MAX 320

struct member_memo {
	unsigned int next;
	struct {
		uint16_t key_len, len;
		unsigned char key[MEMO_KEY_MAX];
		unsigned char bytes[MEMO_BYTES_MAX];
	} set[MEMO_SETS];
};

/* Write the member m kept for key; false: none kept, the caller writes it (then memo_keep). */
static bool memo_put(struct encode_tree *t, const struct member_memo *m, const void *key, size_t key_len)
{
	size_t k;

	for (k = 0; k < MEMO_SETS; k++)
		if (m->set[k].len && m->set[k].key_len == key_len && !memcmp(m->set[k].key, key, key_len)) {
			encode_put(&t->out, m->set[k].bytes, m->set[k].len);
			return true;
		}
	return false;
}

/* Keep what the caller wrote from start on as m's bytes for key (the oldest set goes). */
static void memo_keep(struct encode_tree *t, struct member_memo *m, const void *key, size_t key_len, size_t start)
{
	const struct vigil_buf *b = t->out.buf;
	size_t k;

	if (t->out.err || b->len - start > MEMO_BYTES_MAX || key_len > MEMO_KEY_MAX)
		return;
	k = m->next++ % MEMO_SETS;
	m->set[k].key_len = (uint16_t)key_len;
	memcpy(m->set[k].key, key, key_len);
	m->set[k].len = (uint16_t)(b->len - start);
	memcpy(m->set[k].bytes, b->data + start, m->set[k].len);
}

static void put_ns(struct encode_tree *t, const struct vigil_process *p, size_t count)
{
	static __thread struct member_memo memo;
	struct {
		uint32_t ns[VIGIL_NS_COUNT], host_mask;
	} key;
	size_t start = t->out.buf->len;

	_Static_assert(sizeof(key) <= MEMO_KEY_MAX, "the ns memo's key");
	memcpy(key.ns, p->ns, sizeof(key.ns));
	key.host_mask = p->ns_host_mask;
	if (memo_put(t, &memo, &key, sizeof(key)))
		return;
	write_ns(t, p, count);
	memo_keep(t, &memo, &key, sizeof(key), start);
}

static void write_cred_ids(struct encode_tree *t, const struct vigil_creds *c)
{
	encode_tree_kv_u32(t, "uid", c->uid);
	encode_tree_kv_u32(t, "gid", c->gid);
	encode_tree_kv_u32(t, "euid", c->euid);
	encode_tree_kv_u32(t, "egid", c->egid);
	encode_tree_kv_u32(t, "suid", c->suid);
	encode_tree_kv_u32(t, "sgid", c->sgid);
	encode_tree_kv_u32(t, "fsuid", c->fsuid);
	encode_tree_kv_u32(t, "fsgid", c->fsgid);
}

void encode_tree_cred_ids(struct encode_tree *t, const struct vigil_creds *c)
{
	static __thread struct member_memo memo;
	size_t start = t->out.buf->len;

	_Static_assert(sizeof(*c) <= MEMO_KEY_MAX, "the credentials memo's key");
	if (memo_put(t, &memo, c, sizeof(*c)))
		return;
	write_cred_ids(t, c);
	memo_keep(t, &memo, c, sizeof(*c), start);
}

/* The rest of ProcessCredentials (--enable-process-cred): securebits by SecureBitsType
 * name (each name's value is its SECBIT_ mask), caps, and user_ns {level, uid, gid, ns}. */
static size_t cred_extra_count(const struct vigil_process *p)
{
	return !!(p->cred_extra.securebits & 0xff) + encode_caps_known(&p->caps) + 1;
}

static void put_cred_extra(struct encode_tree *t, const struct vigil_process *p)
{
	static const char *const secbits[] = {"SecBitNoRoot", "SecBitNoRootLocked", "SecBitNoSetUidFixup",
					      "SecBitNoSetUidFixupLocked", "SecBitKeepCaps", "SecBitKeepCapsLocked",
					      "SecBitNoCapAmbientRaise", "SecBitNoCapAmbientRaiseLocked"};
	bool host = p->ns_host_mask & (1u << VIGIL_NS_USER);
	uint32_t bits = p->cred_extra.securebits & 0xff;
	size_t i;

	if (bits) {
		encode_tree_str(t, "securebits");
		encode_tree_array(t, (size_t)__builtin_popcount(bits));
		for (i = 0; i < VIGIL_ARRAY_SIZE(secbits); i++)
			if (bits & (1u << i))
				encode_tree_str(t, secbits[i]);
	}
	if (encode_caps_known(&p->caps))
		encode_tree_caps(t, "caps", &p->caps);
	encode_tree_str(t, "user_ns");
	encode_tree_map(t, 3 + !!(p->ns[VIGIL_NS_USER] || host));
	encode_tree_str(t, "level");
	msgpack_pack_int32(&t->pk, (int32_t)p->cred_extra.userns_level);
	encode_tree_kv_u32(t, "uid", p->cred_extra.userns_owner);
	encode_tree_kv_u32(t, "gid", p->cred_extra.userns_group);
	if (p->ns[VIGIL_NS_USER] || host) {
		encode_tree_str(t, "ns");
		encode_tree_map(t, !!p->ns[VIGIL_NS_USER] + host);
		if (p->ns[VIGIL_NS_USER])
			encode_tree_kv_u32(t, "inum", p->ns[VIGIL_NS_USER]);
		if (host) {
			encode_tree_str(t, "is_host");
			encode_tree_bool(t, true);
		}
	}
}

/* BinaryProperties as Tetragon derives them at exec (pkg/process): setuid/setgid when the
 * file's set-id bit changed the effective id (the real one stayed the caller's), and the
 * inode of a binary that has no name left (nlink 0: deleted, or a memfd). */
struct binprops {
	bool setuid, setgid, unlinked;
};

static bool binary_properties(const struct vigil_process *p, struct binprops *b)
{
	b->setuid = (p->file.mode & S_ISUID) && p->creds.euid == p->file.uid && p->creds.euid != p->creds.uid;
	b->setgid = (p->file.mode & S_ISGID) && p->creds.egid != p->creds.gid;
	b->unlinked = p->file.ino && !p->file.nlink && p->file.dev;
	return b->setuid || b->setgid || b->unlinked;
}

static void put_binary_properties(struct encode_tree *t, const struct vigil_process *p, const struct binprops *b)
{
	char ino[24];

	encode_tree_str(t, "binary_properties");
	encode_tree_map(t, b->setuid + b->setgid + (b->setuid || b->setgid) + b->unlinked);
	if (b->setuid)
		encode_tree_kv_u32(t, "setuid", p->creds.euid);
	if (b->setgid)
		encode_tree_kv_u32(t, "setgid", p->creds.egid);
	if (b->setuid || b->setgid) {
		encode_tree_str(t, "privileges_changed");
		encode_tree_array(t, b->setuid + b->setgid);
		if (b->setuid)
			encode_tree_str(t, "PRIVILEGES_RAISED_EXEC_FILE_SETUID");
		if (b->setgid)
			encode_tree_str(t, "PRIVILEGES_RAISED_EXEC_FILE_SETGID");
	}
	if (b->unlinked) {
		snprintf(ino, sizeof(ino), "%llu", (unsigned long long)p->file.ino);
		encode_tree_str(t, "file");
		encode_tree_map(t, 1);
		encode_tree_str(t, "inode");
		encode_tree_map(t, 2);
		encode_tree_kv_str(t, "number", ino);
		encode_tree_kv_u32(t, "links", p->file.nlink);
	}
}

static size_t nonempty(const char *s)
{
	return s && s[0];
}

/* Tetragon's Pod: namespace, name, uid, container {id "<runtime>://<id>", name, image {id,
 * name}, start_time}, pod_labels, workload, workload_kind. */
static void put_pod(struct encode_tree *t, const struct vigil_pod *pod)
{
	char id[VIGIL_CONTAINER_ID_MAX + 64];
	size_t i, nimage = nonempty(pod->image_id) + nonempty(pod->image_name);

	snprintf(id, sizeof(id), "%s://%s", pod->runtime, pod->container_id);
	encode_tree_str(t, "pod");
	encode_tree_map(t, nonempty(pod->namespace_) + nonempty(pod->name) + nonempty(pod->uid) + 1 +
					 !!pod->nlabels + nonempty(pod->workload) + nonempty(pod->workload_kind));
	if (nonempty(pod->namespace_))
		encode_tree_kv_str(t, "namespace", pod->namespace_);
	if (nonempty(pod->name))
		encode_tree_kv_str(t, "name", pod->name);
	if (nonempty(pod->uid))
		encode_tree_kv_str(t, "uid", pod->uid);
	encode_tree_str(t, "container");
	encode_tree_map(t, 1 + nonempty(pod->container_name) + !!nimage + !!pod->start_time);
	encode_tree_kv_str(t, "id", id);
	if (nonempty(pod->container_name))
		encode_tree_kv_str(t, "name", pod->container_name);
	if (nimage) {
		encode_tree_str(t, "image");
		encode_tree_map(t, nimage);
		if (nonempty(pod->image_id))
			encode_tree_kv_str(t, "id", pod->image_id);
		if (nonempty(pod->image_name))
			encode_tree_kv_str(t, "name", pod->image_name);
	}
	if (pod->start_time)
		put_kv_time(t, "start_time", pod->start_time);
	if (pod->nlabels) {
		encode_tree_str(t, "pod_labels");
		encode_tree_map(t, pod->nlabels);
		for (i = 0; i < pod->nlabels; i++)
			encode_tree_kv_str(t, pod->labels[i].key, pod->labels[i].value);
	}
	if (nonempty(pod->workload))
		encode_tree_kv_str(t, "workload", pod->workload);
	if (nonempty(pod->workload_kind))
		encode_tree_kv_str(t, "workload_kind", pod->workload_kind);
}

/* process_credentials: the ids, then securebits, caps and user_ns when cred_extra. */
static void put_credentials(struct encode_tree *t, const struct vigil_process *p, bool cred_extra)
{
	encode_tree_str(t, "process_credentials");
	encode_tree_map(t, 8 + (cred_extra ? cred_extra_count(p) : 0));
	encode_tree_cred_ids(t, &p->creds);
	if (cred_extra)
		put_cred_extra(t, p);
}

/* "environment_variables": [{"Key": k, "Value": v}, ...] from NUL-terminated "k=v" strings;
 * one without '=' is Tetragon's {"Key": "invalid", "Value": it} */
static void put_env(struct encode_tree *t, const char *env, size_t len)
{
	const char *s, *end = env + len, *eq;
	size_t n = 0, l;

	for (s = env; s < end; s += strlen(s) + 1)
		n++;
	encode_tree_str(t, "environment_variables");
	encode_tree_array(t, n);
	for (s = env; s < end; s += l + 1) {
		l = strlen(s);
		eq = memchr(s, '=', l);
		encode_tree_map(t, 2);
		encode_tree_str(t, "Key");
		if (eq)
			encode_tree_strn(t, s, (size_t)(eq - s));
		else
			encode_tree_str(t, "invalid");
		encode_tree_str(t, "Value");
		if (eq)
			encode_tree_strn(t, eq + 1, l - (size_t)(eq - s) - 1);
		else
			encode_tree_strn(t, s, l);
	}
}

/* Tetragon's Process message, fields in proto order; pod: the pod it runs in, or NULL. */
static void put_process(struct encode_tree *t, const char *key, const struct vigil_process *p,
			const struct vigil_pod *pod)
{
	bool caps = encode_caps_known(&p->caps);
	const char *user = t->ev->user_name ? t->ev->user_name(t->ev->user_ctx, p) : NULL;
	struct binprops bp = {0};	/* (gcc cannot see binary_properties() sets it) */
	/* exec only, and only its process (Tetragon's UpdateExecOutsideCache) */
	bool props = t->ev->binary_properties && t->ev->type == VIGIL_EVENT_EXEC && p == t->ev->process &&
		     key && !strcmp(key, "process") && binary_properties(p, &bp);
	/* securebits, caps and user_ns: asked for, and known (an exec record, not the /proc scan) */
	bool cred_extra = t->ev->binary_properties && p->cred_extra.known;
	/* in_init_tree says something only inside a pid namespace of its own */
	bool init_tree = p->ns[VIGIL_NS_PID] && !(p->ns_host_mask & (1u << VIGIL_NS_PID));
	/* exec only, its process (Tetragon's --enable-process-environment-variables) */
	bool env = t->ev->env_len && t->ev->type == VIGIL_EVENT_EXEC && p == t->ev->process && key &&
		   !strcmp(key, "process");
	size_t nns = 0, n, flags_len;
	const char *flags = flags_text(p->flags, &flags_len);
	int k;

	for (k = 0; k < VIGIL_NS_COUNT; k++)
		nns += ns_present(p, k);

	/* pid, uid, auid and process_credentials are always there */
	n = 4 + !!p->exec_id[0] + !!p->cwd[0] + !!p->binary[0] + !!p->arguments[0] + !!flags[0] +
	    !!p->start_time + !!pod + !!p->container_id[0] + !!p->parent_exec_id[0] + !!p->refcnt + caps + !!nns +
	    !!p->tid + (user && user[0]) + props + init_tree + env;

	if (key)
		encode_tree_str(t, key);
	encode_tree_map(t, n);
	if (p->exec_id[0])
		encode_tree_kv_str(t, "exec_id", p->exec_id);
	encode_tree_kv_u32(t, "pid", p->pid);
	encode_tree_kv_u32(t, "uid", p->creds.uid);
	if (p->cwd[0])
		encode_tree_kv_str(t, "cwd", p->cwd);
	if (p->binary[0])
		encode_tree_kv_str(t, "binary", p->binary);
	if (p->arguments[0])
		encode_tree_kv_str(t, "arguments", t->ev->arguments ? t->ev->arguments(t->ev->user_ctx, p) : p->arguments);
	if (flags[0]) {
		encode_tree_str(t, "flags");
		encode_tree_strn(t, flags, flags_len);
	}
	if (p->start_time)
		put_kv_time(t, "start_time", p->start_time);
	encode_tree_kv_u32(t, "auid", p->auid);
	if (pod)
		put_pod(t, pod);
	/* Tetragon's docker: the container id cut to 31 characters */
	if (p->container_id[0]) {
		encode_tree_str(t, "docker");
		encode_tree_strn(t, p->container_id, strnlen(p->container_id, VIGIL_DOCKER_ID_LEN));
	}
	if (p->parent_exec_id[0])
		encode_tree_kv_str(t, "parent_exec_id", p->parent_exec_id);
	if (p->refcnt)
		encode_tree_kv_u32(t, "refcnt", p->refcnt);
	if (caps)
		encode_tree_caps(t, "cap", &p->caps);
	if (nns)
		put_ns(t, p, nns);
	if (p->tid)
		encode_tree_kv_u32(t, "tid", p->tid);
	put_credentials(t, p, cred_extra);
	if (props)
		put_binary_properties(t, p, &bp);
	if (user && user[0]) {
		encode_tree_str(t, "user");	/* UserRecord {name} */
		encode_tree_map(t, 1);
		encode_tree_kv_str(t, "name", user);
	}
	if (init_tree) {
		encode_tree_str(t, "in_init_tree");
		encode_tree_bool(t, p->in_init_tree);
	}
	if (env)
		put_env(t, t->ev->env, t->ev->env_len);
}

static size_t ancestor_count(const struct vigil_event *ev)
{
	size_t i, n = 0;

	for (i = 0; ev->ancestors && i < ev->nancestors; i++)
		n += ev->ancestors[i] != NULL;
	return n;
}

/* "ancestors": [Process, ...], the processes beyond the parent (--enable-ancestors) */
static void put_ancestors(struct encode_tree *t, const struct vigil_event *ev)
{
	size_t i;

	encode_tree_str(t, "ancestors");
	encode_tree_array(t, ancestor_count(ev));
	for (i = 0; i < ev->nancestors; i++)
		if (ev->ancestors[i])
			put_process(t, NULL, ev->ancestors[i], NULL);
}

/* ProcessExec {process, parent, ancestors} */
static void put_exec(struct encode_tree *t, const struct vigil_event *ev)
{
	size_t anc = ancestor_count(ev);

	encode_tree_map(t, 1 + !!ev->parent + !!anc);
	put_process(t, "process", ev->process, ev->pod);
	if (ev->parent)
		put_process(t, "parent", ev->parent, ev->parent_pod);
	if (anc)
		put_ancestors(t, ev);
}

/* ProcessExit {process, parent, signal, status, time}. A signal number without a name
 * (the real-time ones) is omitted, as Tetragon's unix.SignalName() leaves it empty. */
static void put_exit(struct encode_tree *t, const struct vigil_event *ev)
{
	const char *sig = vigil_signal_name(ev->exit.signal);

	size_t anc = ancestor_count(ev);

	encode_tree_map(t, 2 + !!ev->parent + !!sig + !!ev->exit.status + !!anc);
	put_process(t, "process", ev->process, ev->pod);
	if (ev->parent)
		put_process(t, "parent", ev->parent, ev->parent_pod);
	if (sig)
		encode_tree_kv_str(t, "signal", sig);
	if (ev->exit.status)
		encode_tree_kv_u32(t, "status", ev->exit.status);
	encode_tree_kv_str(t, "time", t->time);
	if (anc)
		put_ancestors(t, ev);
}

/* ProcessLoader {process, parent, path, buildid (bytes: base64), ancestors} */
static void put_loader(struct encode_tree *t, const struct vigil_event *ev)
{
	char id[64];
	size_t anc = ancestor_count(ev), n = ev->loader.build_id_len;

	msgpack_pack_map(&t->pk, 2 + !!ev->parent + !!n + !!anc);
	put_process(t, "process", ev->process, ev->pod);
	if (ev->parent)
		put_process(t, "parent", ev->parent, ev->parent_pod);
	encode_tree_kv_str(t, "path", ev->loader.path ? ev->loader.path : "");
	if (n && n <= 40) {
		vigil_base64_encode(ev->loader.build_id, n, id);
		encode_tree_kv_str(t, "buildid", id);
	} else if (n) {
		encode_tree_kv_str(t, "buildid", "");
	}
	if (anc)
		put_ancestors(t, ev);
}

/* ---- policy events ---- */

/* Body fields after process and parent; "monitored" (a vigil extension) closes every body. */
enum field {
	F_END,
	F_FUNCTION,	/* "function_name" */
	F_SUBSYS,
	F_EVENT,
	F_PATH,
	F_SYMBOL,
	F_ARGS,
	F_ACTION,
	F_POLICY,	/* "policy_name" */
	F_MESSAGE,
	F_TAGS,
	F_RETURN,	/* "return": the value of a return probe, as an argument */
	F_RETURN_ACTION,
	F_DATA,		/* the hook's `data` entries, as arguments */
	F_ANCESTORS,	/* --enable-ancestors */
	F_KERNEL_STACK,	/* "kernel_stack_trace": kernelStackTrace */
	F_USER_STACK,	/* "user_stack_trace": userStackTrace */
	F_PROVIDER,	/* usdt: "provider" */
	F_NAME,		/* usdt: "name" */
	F_IMA_HASH,	/* lsm: "ima_hash" (imaHash) */
};

#define BODY_FIELDS 14

/* Each message's fields in its proto order (tetragon.proto ProcessKprobe and so on). */
static const struct {
	enum vigil_event_type type;
	enum field fields[BODY_FIELDS];
} bodies[] = {
	{ VIGIL_EVENT_KPROBE,
	  { F_FUNCTION, F_ARGS, F_RETURN, F_ACTION, F_KERNEL_STACK, F_POLICY, F_RETURN_ACTION, F_MESSAGE, F_TAGS,
	    F_USER_STACK, F_ANCESTORS, F_DATA } },
	/* Tetragon's tracepoint, LSM and uprobe messages carry no stacks (nor, for uprobes, a
	 * return value): vigil adds the kprobe's keys to them when a policy asks for these */
	{ VIGIL_EVENT_TRACEPOINT,
	  { F_SUBSYS, F_EVENT, F_ARGS, F_POLICY, F_ACTION, F_MESSAGE, F_TAGS, F_ANCESTORS, F_KERNEL_STACK,
	    F_USER_STACK } },
	{ VIGIL_EVENT_LSM,
	  { F_FUNCTION, F_POLICY, F_MESSAGE, F_ARGS, F_ACTION, F_TAGS, F_ANCESTORS, F_IMA_HASH, F_KERNEL_STACK,
	    F_USER_STACK } },
	/* ProcessUsdt {process, parent, path, provider, name, policy_name, message, args, tags,
	 * ancestors, action} */
	{ VIGIL_EVENT_USDT,
	  { F_PATH, F_PROVIDER, F_NAME, F_POLICY, F_MESSAGE, F_ARGS, F_TAGS, F_ANCESTORS, F_ACTION, F_KERNEL_STACK,
	    F_USER_STACK } },
	{ VIGIL_EVENT_UPROBE,
	  { F_PATH, F_SYMBOL, F_POLICY, F_MESSAGE, F_ARGS, F_TAGS, F_ANCESTORS, F_ACTION, F_DATA, F_KERNEL_STACK,
	    F_USER_STACK, F_RETURN, F_RETURN_ACTION } },
};

static const enum field *body_fields(enum vigil_event_type type)
{
	const enum field *fields = NULL;
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(bodies); i++)
		if (bodies[i].type == type)
			fields = bodies[i].fields;
	return fields;
}

/* The hook's text for a string field, and its JSON key; NULL for the other fields. */
static const char *field_text(const struct vigil_event *ev, enum field f, const char **key)
{
	const struct vigil_hook_info *h = ev->policy.hook;
	const char *text = NULL;

	switch (f) {
	case F_FUNCTION:
		*key = "function_name";
		text = ev->policy.function_name ? ev->policy.function_name : h->function_name;
		break;
	case F_SUBSYS:
		*key = "subsys";
		text = h->subsys;
		break;
	case F_EVENT:
		*key = "event";
		text = h->event;
		break;
	case F_PATH:
		*key = "path";
		text = h->path;
		break;
	case F_SYMBOL:
		*key = "symbol";
		text = h->symbol;
		break;
	case F_PROVIDER:
		*key = "provider";
		text = h->subsys;
		break;
	case F_NAME:
		*key = "name";
		text = h->event;
		break;
	case F_IMA_HASH:
		*key = "ima_hash";
		text = ev->policy.ima_hash;
		break;
	case F_POLICY:
		*key = "policy_name";
		text = h->policy_name;
		break;
	case F_MESSAGE:
		*key = "message";
		text = h->message;
		break;
	default:
		break;
	}
	return text;
}

/* The event's label for argument i, else the hook's; NULL when neither names one. */
static const char *arg_label(const struct vigil_event *ev, size_t i)
{
	const struct vigil_hook_info *h = ev->policy.hook;
	const char *label = ev->policy.args[i].label;

	if (!label && i < h->nargs && i < VIGIL_EVENT_MAX_ARGS)
		label = h->args[i].label;
	return label && label[0] ? label : NULL;
}

/* Whether argument i came from the hook's `data` list (Tetragon's data field) or `args`. */
static bool arg_is_data(const struct vigil_event *ev, size_t i)
{
	const struct vigil_hook_info *h = ev->policy.hook;

	return i < h->nargs && i < VIGIL_EVENT_MAX_ARGS && h->args[i].data;
}

static size_t arg_count(const struct vigil_event *ev, bool data)
{
	size_t i, n = 0;

	for (i = 0; i < ev->policy.nargs; i++)
		n += arg_is_data(ev, i) == data && encode_arg_present(&ev->policy.args[i]);
	return n;
}

static void put_arg_list(struct encode_tree *t, const struct vigil_event *ev, const char *key, bool data)
{
	size_t i;

	encode_tree_str(t, key);
	encode_tree_array(t, arg_count(ev, data));
	for (i = 0; i < ev->policy.nargs; i++)
		if (arg_is_data(ev, i) == data && encode_arg_present(&ev->policy.args[i]))
			encode_tree_arg(t, &ev->policy.args[i], arg_label(ev, i));
}

static size_t tag_count(const struct vigil_hook_info *h)
{
	size_t i, n = 0;

	for (i = 0; h->tags && i < h->ntags; i++)
		n += h->tags[i] != NULL;
	return n;
}

/* KPROBE_ACTION_UNKNOWN is the enum's default value, which protojson leaves out. */
static const char *action_name(const struct vigil_event *ev)
{
	return ev->policy.action ? vigil_event_action_name(ev->policy.action) : NULL;
}

static bool field_present(const struct vigil_event *ev, enum field f)
{
	const char *key = NULL, *text = field_text(ev, f, &key);
	bool present;

	if (f == F_ARGS || f == F_DATA)
		present = arg_count(ev, f == F_DATA);
	else if (f == F_RETURN)
		present = ev->policy.has_return && encode_arg_present(&ev->policy.ret);
	else if (f == F_RETURN_ACTION)
		present = ev->policy.has_return && ev->policy.return_action;
	else if (f == F_ACTION)
		present = action_name(ev);
	else if (f == F_ANCESTORS)
		present = ancestor_count(ev);
	else if (f == F_KERNEL_STACK)
		present = ev->policy.nkernel_stack;
	else if (f == F_USER_STACK)
		present = ev->policy.nuser_stack;
	else if (f == F_TAGS)
		present = tag_count(ev->policy.hook);
	else
		present = text && text[0];
	return present;
}

static void put_kv_u64_text(struct encode_tree *t, const char *key, uint64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRIu64, v);
	encode_tree_kv_str(t, key, num);
}

/* StackTraceEntry {address, offset, symbol, module}, zero and empty fields left out as
 * protojson does; uint64 fields as decimal strings. The address is left out as Tetragon
 * leaves it out by default (its --expose-stack-addresses): it says where the kernel or a
 * library was loaded, which KASLR and ASLR keep secret. */
static void put_stack(struct encode_tree *t, const char *key, const struct vigil_stack_frame *f, size_t n)
{
	size_t i;

	encode_tree_str(t, key);
	encode_tree_array(t, n);
	for (i = 0; i < n; i++) {
		encode_tree_map(t, !!f[i].offset + !!f[i].symbol + !!f[i].module);
		if (f[i].offset)
			put_kv_u64_text(t, "offset", f[i].offset);
		if (f[i].symbol)
			encode_tree_kv_str(t, "symbol", f[i].symbol);
		if (f[i].module)
			encode_tree_kv_str(t, "module", f[i].module);
	}
}

static void put_field(struct encode_tree *t, const struct vigil_event *ev, enum field f)
{
	const struct vigil_hook_info *h = ev->policy.hook;
	const char *key = NULL, *text = field_text(ev, f, &key);
	size_t i;

	switch (f) {
	case F_ARGS:
	case F_DATA:
		put_arg_list(t, ev, f == F_DATA ? "data" : "args", f == F_DATA);
		break;
	case F_ANCESTORS:
		put_ancestors(t, ev);
		break;
	case F_KERNEL_STACK:
		put_stack(t, "kernel_stack_trace", ev->policy.kernel_stack, ev->policy.nkernel_stack);
		break;
	case F_USER_STACK:
		put_stack(t, "user_stack_trace", ev->policy.user_stack, ev->policy.nuser_stack);
		break;
	case F_ACTION:
		encode_tree_kv_str(t, "action", action_name(ev));
		break;
	case F_RETURN:
		encode_tree_str(t, "return");
		encode_tree_arg(t, &ev->policy.ret, NULL);
		break;
	case F_RETURN_ACTION:
		encode_tree_kv_str(t, "return_action", vigil_event_action_name(ev->policy.return_action));
		break;
	case F_TAGS:
		encode_tree_str(t, "tags");
		encode_tree_array(t, tag_count(h));
		for (i = 0; i < h->ntags; i++)
			if (h->tags[i])
				encode_tree_str(t, h->tags[i]);
		break;
	default:
		encode_tree_kv_str(t, key, text);
		break;
	}
}

/* ProcessKprobe, ProcessTracepoint, ProcessLsm, ProcessUprobe. */
static void put_policy(struct encode_tree *t, const struct vigil_event *ev)
{
	const enum field *fields = body_fields(ev->type);
	bool monitored = ev->policy.monitored;
	size_t n = 1 + !!ev->parent + monitored, i;

	for (i = 0; i < BODY_FIELDS && fields[i] != F_END; i++)
		n += field_present(ev, fields[i]);
	encode_tree_map(t, n);
	put_process(t, "process", ev->process, ev->pod);
	if (ev->parent)
		put_process(t, "parent", ev->parent, ev->parent_pod);
	for (i = 0; i < BODY_FIELDS && fields[i] != F_END; i++)
		if (field_present(ev, fields[i]))
			put_field(t, ev, fields[i]);
	if (monitored) {
		encode_tree_str(t, "monitored");
		encode_tree_bool(t, true);
	}
}

/* ---- rule events (core/luahost): vigil's own messages, written in the same style: empty
 * strings, empty lists and zero numbers are left out, process and parent come first ---- */

static size_t str_count(const char *const *v, size_t n)
{
	size_t i, count = 0;

	for (i = 0; v && i < n; i++)
		count += v[i] && v[i][0];
	return count;
}

static void put_str_list(struct encode_tree *t, const char *key, const char *const *v, size_t n)
{
	size_t i;

	encode_tree_str(t, key);
	encode_tree_array(t, str_count(v, n));
	for (i = 0; i < n; i++)
		if (v[i] && v[i][0])
			encode_tree_str(t, v[i]);
}

static bool has_text(const char *s)
{
	return s && s[0];
}

static void put_kv_opt(struct encode_tree *t, const char *key, const char *val)
{
	if (has_text(val))
		encode_tree_kv_str(t, key, val);
}

/* process_alert {process, parent, rule, priority, output, tags, exec_ids} */
static void put_alert(struct encode_tree *t, const struct vigil_event *ev)
{
	size_t ntags = str_count(ev->alert.tags, ev->alert.ntags);
	size_t nids = str_count(ev->alert.exec_ids, ev->alert.nexec_ids);

	encode_tree_map(t, !!ev->process + (ev->process && ev->parent) + 1 + has_text(ev->alert.priority) +
					 has_text(ev->alert.output) + !!ntags + !!nids);
	if (ev->process)
		put_process(t, "process", ev->process, ev->pod);
	if (ev->process && ev->parent)
		put_process(t, "parent", ev->parent, ev->parent_pod);
	encode_tree_kv_str(t, "rule", ev->alert.rule);
	put_kv_opt(t, "priority", ev->alert.priority);
	put_kv_opt(t, "output", ev->alert.output);
	if (ntags)
		put_str_list(t, "tags", ev->alert.tags, ev->alert.ntags);
	if (nids)
		put_str_list(t, "exec_ids", ev->alert.exec_ids, ev->alert.nexec_ids);
}

/* file {device "major:minor", inode, uid, links}: the identity a files list holds */
static void put_file_id(struct encode_tree *t, const struct vigil_file_id *f)
{
	char dev[24];

	snprintf(dev, sizeof(dev), "%u:%u", f->dev >> 20, f->dev & 0xfffff);
	encode_tree_str(t, "file");
	encode_tree_map(t, 4);
	encode_tree_kv_str(t, "device", dev);
	encode_tree_str(t, "inode");
	encode_tree_u64(t, f->ino);
	encode_tree_kv_u32(t, "uid", f->uid);
	encode_tree_kv_u32(t, "links", f->nlink);
}

/* rule_action {process, parent, rule, action, pid, signal, list, value, file, maps_updated,
 * error, reason, cause_uid, expires, evidence {type, time}, exec_ids}: kill fills pid and
 * signal, deny list, value (and file for a files list), maps_updated and expires; error is
 * the strerror() text of a failed action and reason says why it was refused. */
static void put_rule_action(struct encode_tree *t, const struct vigil_event *ev)
{
	const typeof(ev->rule_action) *ra = &ev->rule_action;
	const char *sig = vigil_signal_name(ra->signal);
	const char *err = ra->error ? strerror(ra->error) : NULL;
	size_t nids = str_count(ra->exec_ids, ra->nexec_ids);

	encode_tree_map(t, !!ev->process + (ev->process && ev->parent) + 2 + !!ra->pid + !!sig +
					 has_text(ra->list) + has_text(ra->value) + !!ra->file + !!ra->maps + !!err +
					 has_text(ra->reason) + !!ra->cause_uid + !!ra->expires +
					 has_text(ra->evidence) + !!nids);
	if (ev->process)
		put_process(t, "process", ev->process, ev->pod);
	if (ev->process && ev->parent)
		put_process(t, "parent", ev->parent, ev->parent_pod);
	encode_tree_kv_str(t, "rule", ra->rule);
	encode_tree_kv_str(t, "action", ra->action);
	if (ra->pid)
		encode_tree_kv_u32(t, "pid", (uint32_t)ra->pid);
	if (sig)
		encode_tree_kv_str(t, "signal", sig);
	put_kv_opt(t, "list", ra->list);
	put_kv_opt(t, "value", ra->value);
	if (ra->file)
		put_file_id(t, ra->file);
	if (ra->maps)
		encode_tree_kv_u32(t, "maps_updated", ra->maps);
	if (err)
		encode_tree_kv_str(t, "error", err);
	put_kv_opt(t, "reason", ra->reason);
	if (ra->cause_uid)
		encode_tree_kv_u32(t, "cause_uid", *ra->cause_uid);
	if (ra->expires)
		put_kv_time(t, "expires", ra->expires);
	if (has_text(ra->evidence)) {
		encode_tree_str(t, "evidence");
		encode_tree_map(t, 1 + has_text(ra->evidence_time));
		encode_tree_kv_str(t, "type", ra->evidence);
		put_kv_opt(t, "time", ra->evidence_time);
	}
	if (nids)
		put_str_list(t, "exec_ids", ra->exec_ids, ra->nexec_ids);
}

/* rule_status {rule, file, state, reason} */
static void put_rule_status(struct encode_tree *t, const struct vigil_event *ev)
{
	encode_tree_map(t, 2 + has_text(ev->rule_status.file) + has_text(ev->rule_status.reason));
	encode_tree_kv_str(t, "rule", ev->rule_status.rule);
	put_kv_opt(t, "file", ev->rule_status.file);
	encode_tree_kv_str(t, "state", ev->rule_status.state);
	put_kv_opt(t, "reason", ev->rule_status.reason);
}

/* process_throttle {type, cgroup} */
static void put_throttle(struct encode_tree *t, const struct vigil_event *ev)
{
	encode_tree_map(t, 2);
	encode_tree_kv_str(t, "type", ev->throttle.type == 2 ? "THROTTLE_STOP" : "THROTTLE_START");
	encode_tree_kv_str(t, "cgroup", ev->throttle.cgroup);
}

/* policy_status {policy, file, state, reason} */
static void put_policy_status(struct encode_tree *t, const struct vigil_event *ev)
{
	encode_tree_map(t, 2 + has_text(ev->policy_status.file) + has_text(ev->policy_status.reason));
	encode_tree_kv_str(t, "policy", ev->policy_status.policy);
	put_kv_opt(t, "file", ev->policy_status.file);
	encode_tree_kv_str(t, "state", ev->policy_status.state);
	put_kv_opt(t, "reason", ev->policy_status.reason);
}

static bool rule_event(const struct vigil_event *ev)
{
	switch (ev->type) {
	case VIGIL_EVENT_ALERT:
		return has_text(ev->alert.rule);
	case VIGIL_EVENT_RULE_ACTION:
		return has_text(ev->rule_action.rule) && has_text(ev->rule_action.action);
	case VIGIL_EVENT_RULE_STATUS:
		return has_text(ev->rule_status.rule) && has_text(ev->rule_status.state);
	case VIGIL_EVENT_POLICY_STATUS:	/* the agent's own, without a process either */
		return has_text(ev->policy_status.policy) && has_text(ev->policy_status.state);
	default:
		return false;
	}
}

/* exec and exit need their process; policy events their hook too; rule events their rule */
static bool encodable(const struct vigil_event *ev)
{
	bool policy = body_fields(ev->type) && ev->policy.hook &&
		      ev->policy.nargs <= VIGIL_EVENT_MAX_ARGS;

	return rule_event(ev) || (ev->type == VIGIL_EVENT_THROTTLE && has_text(ev->throttle.cgroup)) ||
	       (ev->process && (ev->type == VIGIL_EVENT_EXEC || ev->type == VIGIL_EVENT_EXIT ||
				ev->type == VIGIL_EVENT_LOADER || policy));
}

int vigil_encode_msgpack(const struct vigil_event *ev, struct vigil_buf *out)
{
	return vigil_encode_msgpack_marked(ev, out, NULL);
}

int vigil_encode_msgpack_marked(const struct vigil_event *ev, struct vigil_buf *out, size_t *body_end)
{
	const char *key = vigil_event_type_key(ev->type);
	bool node = ev->node_name && ev->node_name[0];
	struct encode_tree t;
	char ts[40];

	encode_out_begin(&t.out, out);
	if (!encodable(ev)) {
		encode_fail(&t.out, -EINVAL);
		goto out;
	}
	msgpack_packer_init(&t.pk, &t.out, tree_write);
	vigil_format_time(ev->time, ts);
	t.time = ts;
	t.ev = ev;

	/* GetEventsResponse: {"<event>": {...}, "node_name": ..., "time": ...} */
	encode_tree_map(&t, 2 + node);
	encode_tree_str(&t, key);
	if (ev->type == VIGIL_EVENT_EXEC)
		put_exec(&t, ev);
	else if (ev->type == VIGIL_EVENT_EXIT)
		put_exit(&t, ev);
	else if (ev->type == VIGIL_EVENT_LOADER)
		put_loader(&t, ev);
	else if (ev->type == VIGIL_EVENT_ALERT)
		put_alert(&t, ev);
	else if (ev->type == VIGIL_EVENT_RULE_ACTION)
		put_rule_action(&t, ev);
	else if (ev->type == VIGIL_EVENT_RULE_STATUS)
		put_rule_status(&t, ev);
	else if (ev->type == VIGIL_EVENT_POLICY_STATUS)
		put_policy_status(&t, ev);
	else if (ev->type == VIGIL_EVENT_THROTTLE)
		put_throttle(&t, ev);
	else
		put_policy(&t, ev);
	if (body_end)
		*body_end = t.out.buf->len - t.out.start;
	if (node)
		encode_tree_kv_str(&t, "node_name", ev->node_name);
	encode_tree_kv_str(&t, "time", ts);
out:
	return encode_out_end(&t.out);
}
