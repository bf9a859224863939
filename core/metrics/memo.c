/* memo.c - events counted without a lock: the series an event's labels name, remembered by
 * what decides those labels (type, binary, hook, selector, action, pod, syscall id).
 *
 * Working out an event's labels is most of what counting costs (a hook label and a selector
 * printed, six labels hashed and compared per family, in four to six families). A busy
 * host's events repeat a few hundred label sets, so the first event of a set is counted the
 * slow way, under the lock, noting the rows it bumped; later ones find that entry and add
 * one to its pending count, without a lock. Readers of the table fold the pending counts
 * into the rows first (series_sorted), so every count is in the table when it is read.
 *
 * Threads: one thread at a time counts (vigil_metrics__count_event's contract: the agent's
 * callers hold its pipeline lock); it alone writes entries, and only under the table's lock,
 * so readers under that lock see whole entries. pending is the one field written outside
 * it, by the counting thread alone (a relaxed load and store: no read-modify-write needed).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "events/events.h"
#include "metrics_internal.h"
#include "policy/policy.h"

#define MEMO_SLOTS 512	/* a power of two */

int memo_init(struct series_table *t)
{
	t->memo = calloc(MEMO_SLOTS, sizeof(*t->memo));
	return t->memo ? 0 : -ENOMEM;
}

void memo_free(struct series_table *t)
{
	size_t i;

	for (i = 0; t->memo && i < MEMO_SLOTS; i++)
		free(t->memo[i].binary);
	free(t->memo);
	t->memo = NULL;
}

static void fold_entry(struct count_memo *e)
{
	uint64_t p = atomic_load_explicit(&e->pending, memory_order_relaxed);
	size_t i;

	for (i = 0; i < e->nrows; i++)
		e->rows[i]->value += p - e->folded;
	e->folded = p;
}

void series_fold(struct series_table *t)
{
	size_t i;

	for (i = 0; t->memo && i < MEMO_SLOTS; i++)
		if (t->memo[i].hash)
			fold_entry(&t->memo[i]);
}

int memo_rebind(struct series_table *from, struct series_table *to, const char *value)
{
	struct series **rows = calloc(MEMO_SLOTS * MEMO_ROWS, sizeof(*rows));
	const char *l[SERIES_LABELS];
	struct count_memo *e;
	size_t i, k;
	int j, err = rows ? 0 : -ENOMEM;

	for (i = 0; !err && from->memo && i < MEMO_SLOTS; i++) {
		e = &from->memo[i];
		for (k = 0; e->hash && k < e->nrows && !err; k++) {
			for (j = 0; j < SERIES_LABELS; j++)
				l[j] = e->rows[k]->label[j];
			if (series_has_binary(e->rows[k]->family))
				l[1] = value;
			rows[i * MEMO_ROWS + k] = series_get(to, e->rows[k]->family, l);
			if (!rows[i * MEMO_ROWS + k])
				err = -ENOMEM;
		}
	}
	for (i = 0; !err && from->memo && i < MEMO_SLOTS; i++)
		for (k = 0; from->memo[i].hash && k < from->memo[i].nrows; k++)
			from->memo[i].rows[k] = rows[i * MEMO_ROWS + k];
	free(rows);
	return err;
}

/* ---- the key ---- */

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v;
	h *= 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

/* raw_syscalls/sys_enter events are counted by syscall too (tetragon.c count_syscall): the
 * first id argument is part of their key. */
static void syscall_key(const struct vigil_event *ev, int *class, uint64_t *id)
{
	const struct vigil_hook_info *h = ev->policy.hook;
	size_t i;

	*class = 0;
	*id = 0;
	if (ev->type != VIGIL_EVENT_TRACEPOINT || !h || !h->subsys || !h->event || strcmp(h->subsys, "raw_syscalls") ||
	    strcmp(h->event, "sys_enter"))
		return;
	*class = 1;
	for (i = 0; i < ev->policy.nargs; i++) {
		if (ev->policy.args[i].type == VIGIL_ARG_SYSCALL64 || ev->policy.args[i].type == VIGIL_ARG_LONG) {
			*class = 2 + (ev->policy.args[i].type == VIGIL_ARG_SYSCALL64);
			*id = ev->policy.args[i].value;
			break;
		}
	}
}

static bool policy_type(enum vigil_event_type t)
{
	return t == VIGIL_EVENT_KPROBE || t == VIGIL_EVENT_TRACEPOINT || t == VIGIL_EVENT_LSM || t == VIGIL_EVENT_UPROBE;
}

/* What the labels of ev depend on, into key (binary borrowed); its hash, never 0. */
static uint64_t make_key(const struct vigil_event *ev, struct count_memo *key)
{
	const char *bin = ev->process && ev->process->binary ? ev->process->binary : "";
	const unsigned char *s;
	uint64_t h = 1469598103934665603ULL;

	memset(key, 0, sizeof(*key));
	key->type = ev->type;
	if (policy_type(ev->type) && ev->policy.hook) {
		key->hook = ev->policy.hook;
		key->hook_id = ev->policy.hook->id;
		key->selector = ev->policy.selector;
		key->action = ev->policy.action;
		key->monitored = ev->policy.monitored;
		syscall_key(ev, &key->sysclass, &key->sysid);
	}
	key->binary = (char *)bin;
	for (s = (const unsigned char *)bin; *s; s++)
		h = (h ^ *s) * 1099511628211ULL;	/* FNV-1a */
	key->binary_len = (size_t)(s - (const unsigned char *)bin);
	h = mix(h, (uint64_t)key->type << 32 | key->hook_id);
	h = mix(h, (uintptr_t)key->hook);
	h = mix(h, (uint64_t)key->selector << 32 | (uint32_t)key->action << 8 | key->monitored << 4 | key->sysclass);
	h = mix(h, key->sysid);
	h = mix(h, (uintptr_t)ev->pod);
	return h ? h : 1;
}

/* The labels an entry's rows carry that the key does not hold by identity, in the order
 * of labels_of: binary, policy, namespace, pod, workload. */
#define MEMO_TEXTS 5

static void labels_of(const struct vigil_event *ev, const struct count_memo *k, const char *out[MEMO_TEXTS])
{
	out[0] = k->binary;
	out[1] = k->hook && k->hook->policy_name ? k->hook->policy_name : "";
	out[2] = ev->pod ? ev->pod->namespace_ : "";
	out[3] = ev->pod ? ev->pod->name : "";
	out[4] = ev->pod ? ev->pod->workload : "";
}

/* e->binary holds the texts one after the other, each NUL-terminated */
static bool same_texts(const struct count_memo *e, const struct count_memo *k, const char *const l[MEMO_TEXTS])
{
	const char *s = e->binary, *t;
	size_t i;

	/* the binary's length is known from the hash; the rest are short, most of them "": a
	 * byte loop beats strlen and memcmp calls */
	if (e->binary_len != k->binary_len || memcmp(s, k->binary, k->binary_len + 1))
		return false;
	s += k->binary_len + 1;
	for (i = 1; i < MEMO_TEXTS; i++) {
		for (t = l[i]; *s == *t && *t; s++, t++)
			;
		if (*s != *t)
			return false;
		s++;
	}
	return true;
}

static bool same_key(const struct count_memo *e, const struct count_memo *k, const struct vigil_event *ev)
{
	const char *l[MEMO_TEXTS];

	if (e->type != k->type || e->hook != k->hook || e->hook_id != k->hook_id || e->selector != k->selector ||
	    e->action != k->action || e->monitored != k->monitored || e->sysclass != k->sysclass || e->sysid != k->sysid)
		return false;
	labels_of(ev, k, l);
	return same_texts(e, k, l);
}

struct count_memo *memo_find(struct count_memo *memo, const struct vigil_event *ev, struct count_memo *key)
{
	struct count_memo *e;

	key->hash = make_key(ev, key);
	e = &memo[key->hash & (MEMO_SLOTS - 1)];
	return e->hash == key->hash && same_key(e, key, ev) ? e : NULL;
}

void memo_count(struct count_memo *e)
{
	atomic_store_explicit(&e->pending, atomic_load_explicit(&e->pending, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

void memo_fill(struct series_table *t, const struct vigil_event *ev, const struct count_memo *key,
	       const struct series_record *r)
{
	struct count_memo *e = &t->memo[key->hash & (MEMO_SLOTS - 1)];
	const char *l[MEMO_TEXTS];
	size_t len[MEMO_TEXTS], total = 0, i;
	char *bin;

	if (e->hash)
		fold_entry(e);
	free(e->binary);
	memset(e, 0, sizeof(*e));
	if (r->failed || !r->n)
		return;
	labels_of(ev, key, l);
	for (i = 0; i < MEMO_TEXTS; i++)
		total += (len[i] = strlen(l[i])) + 1;
	bin = malloc(total);
	if (!bin)
		return;
	for (i = 0, total = 0; i < MEMO_TEXTS; i++) {
		memcpy(bin + total, l[i], len[i] + 1);
		total += len[i] + 1;
	}
	e->hook = key->hook;
	e->hook_id = key->hook_id;
	e->selector = key->selector;
	e->type = key->type;
	e->action = key->action;
	e->monitored = key->monitored;
	e->sysclass = key->sysclass;
	e->sysid = key->sysid;
	e->binary = bin;
	e->binary_len = key->binary_len;
	e->hash = key->hash;
	memcpy(e->rows, r->rows, r->n * sizeof(r->rows[0]));
	e->nrows = r->n;
	atomic_store_explicit(&e->pending, 0, memory_order_relaxed);
	e->folded = 0;
}
