/* event.c - the event being handled, read from its msgpack bytes as rules ask.
 *
 * The rules get the bus bytes as the reader encoded them, and most calls read a handful of
 * fields: unpacking the whole tree for each event cost more than the calls themselves. So
 * nothing is unpacked up front. The first lookup in a map walks its entries only as far as
 * the key it wants, noting each key and where its value starts (skipping values it passes),
 * and the next lookup in that map starts from those notes: within one event, every value is
 * skipped at most once, whichever rules ask. The few C consumers that need a msgpack tree
 * (an alert's template, tostring, a process rebuilt from the event) get the subtree they
 * name unpacked on demand, into a zone emptied when the event ends.
 *
 * Lookups under the event go to the body first, then to the root, as before; at the root,
 * "node_name" and "time" are asked first (an exit's body has a "time" too, the same). The
 * root's last entries may be the bus's delivery stamp (core/bus stamp.c), hidden here as
 * vigil_msg__decode hides it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "luahost_internal.h"

/* The event types rules receive, by the key that names them in the root map (looked up
 * once: the names table is walked by vigil_event_type_key). */
static const enum vigil_event_type rule_types[] = {
	VIGIL_EVENT_EXEC, VIGIL_EVENT_EXIT, VIGIL_EVENT_KPROBE, VIGIL_EVENT_TRACEPOINT, VIGIL_EVENT_UPROBE, VIGIL_EVENT_LSM,
};
static const char *type_keys[VIGIL_ARRAY_SIZE(rule_types)];
static size_t type_lens[VIGIL_ARRAY_SIZE(rule_types)];

static void type_keys_init(void)
{
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(rule_types); i++) {
		type_keys[i] = vigil_event_type_key(rule_types[i]);
		type_lens[i] = strlen(type_keys[i]);
	}
}

int lh_event_init(struct lh_event *e, const void *data, size_t len)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct lh_mpval root, key, body;
	size_t i;

	e->data = data;
	e->len = len;
	e->type = 0;
	e->type_key = NULL;
	e->nmaps = 0;
	e->nobjs = 0;
	e->root_done = false;
	e->hook_done = false;
	if (!++e->stamp) {
		/* wrapped: entries stamped long ago could look current */
		memset(e->memo, 0, sizeof(e->memo));
		e->stamp = 1;
	}
	e->walk.array = 0;
	if (!data || !lh_mp_read(data, len, 0, &root) || root.type != LH_MP_MAP || !root.count ||
	    !lh_mp_read(data, len, root.next, &key) || key.type != LH_MP_STR || !key.len ||
	    !lh_mp_read(data, len, key.next, &body) || body.type != LH_MP_MAP)
		return -EBADMSG;
	e->body = key.next;
	/* a known type only when spelled as its key, as vigil_msg__type reads it */
	pthread_once(&once, type_keys_init);
	for (i = 0; i < VIGIL_ARRAY_SIZE(rule_types); i++) {
		if (type_lens[i] == key.len && !memcmp(type_keys[i], key.str, key.len)) {
			e->type = rule_types[i];
			e->type_key = type_keys[i];
		}
	}
	return 0;
}

void lh_event_end(struct lh_event *e)
{
	if (e->zone && e->zone_used)
		msgpack_zone_clear(e->zone);
	e->zone_used = false;
	e->nobjs = 0;
	e->data = NULL;
	e->len = 0;
}

void lh_event_fini(struct lh_event *e)
{
	if (e->zone)
		msgpack_zone_free(e->zone);
	e->zone = NULL;
}

/* The notes of the map at off, started on first use; NULL when every slot is taken (the
 * lookup then walks from the map's start). */
static struct lh_mapidx *map_notes(struct lh_event *e, size_t off)
{
	struct lh_mapidx *m;
	struct lh_mpval v;
	unsigned int i;

	for (i = 0; i < e->nmaps; i++)
		if (e->maps[i].off == off)
			return &e->maps[i];
	if (e->nmaps == LH_EV_MAPS || !lh_mp_read(e->data, e->len, off, &v) || v.type != LH_MP_MAP)
		return NULL;
	m = &e->maps[e->nmaps++];
	m->off = off;
	m->count = v.count;
	m->done = 0;
	m->next = v.next;
	return m;
}

static bool key_is(const struct lh_event *e, const struct lh_entry *en, const char *s, size_t n)
{
	return en->str && en->klen == n && !memcmp(e->data + en->key, s, n);
}

/* Read the key of the entry at at, and where its value starts. */
static bool read_key(const struct lh_event *e, size_t at, struct lh_entry *en)
{
	struct lh_mpval k;
	unsigned char c;

	if (!at || at >= e->len)
		return false;
	c = e->data[at];
	if (c >= 0xa0 && c <= 0xbf) {		/* a fixstr key: the usual */
		en->str = true;
		en->key = at + 1;
		en->klen = c & 0x1f;
		en->val = en->key + en->klen;
		return en->val < e->len;
	}
	if (!lh_mp_read(e->data, e->len, at, &k))
		return false;
	en->str = k.type == LH_MP_STR;
	en->key = en->str ? (size_t)(k.str - (const char *)e->data) : 0;
	en->klen = en->str ? k.len : 0;
	en->val = en->str ? k.next : lh_mp_next(e->data, e->len, at);
	return en->val && en->val < e->len;
}

/* Read the entry at *at and move *at past its value. */
static bool read_entry(const struct lh_event *e, size_t *at, struct lh_entry *en)
{
	if (!read_key(e, *at, en))
		return false;
	*at = lh_mp_next(e->data, e->len, en->val);
	return *at != 0;
}

/* Note entry m->done: its value is skipped only now, when the walk goes past it (a lookup
 * of "process" never skips the process map). */
static bool note_next(struct lh_event *e, struct lh_mapidx *m)
{
	if (m->done == m->count || m->done == LH_EV_KEYS)
		return false;
	if (m->done)
		m->next = lh_mp_next(e->data, e->len, m->e[m->done - 1].val);
	if (!read_key(e, m->next, &m->e[m->done]))
		return false;
	m->done++;
	return true;
}

/* Entry i of the map: the first LH_EV_KEYS are noted as the walk passes them; later ones
 * are walked to from the last note each time (no event has maps that wide). */
static bool map_entry(struct lh_event *e, struct lh_mapidx *m, uint32_t i, struct lh_entry *en)
{
	size_t at;
	uint32_t j;

	if (i >= m->count)
		return false;
	while (m->done <= i && note_next(e, m))
		;
	if (i < m->done) {
		*en = m->e[i];
		return true;
	}
	if (m->done < LH_EV_KEYS)
		return false;
	at = lh_mp_next(e->data, e->len, m->e[LH_EV_KEYS - 1].val);
	for (j = m->done; j <= i; j++)
		if (!read_entry(e, &at, en))
			return false;
	return true;
}

/* Walk a map without notes: the value of key, or 0. */
static size_t map_walk(const struct lh_event *e, size_t off, const char *s, size_t n)
{
	struct lh_mpval v, k;
	uint32_t i;
	size_t at;

	if (!lh_mp_read(e->data, e->len, off, &v) || v.type != LH_MP_MAP)
		return 0;
	for (i = 0, at = v.next; i < v.count && at; i++) {
		if (!lh_mp_read(e->data, e->len, at, &k))
			return 0;
		if (k.type == LH_MP_STR && k.len == n && !memcmp(k.str, s, n))
			return k.next;
		at = lh_mp_next(e->data, e->len, at);
		at = at ? lh_mp_next(e->data, e->len, at) : 0;
	}
	return 0;
}

size_t lh_map_get(struct lh_event *e, size_t off, const char *s, size_t n)
{
	struct lh_mapidx *m = map_notes(e, off);
	const struct lh_entry *en;
	struct lh_entry far;
	uint32_t i;
	size_t at;

	if (!m)
		return map_walk(e, off, s, n);
	/* the noted keys, then noting on as far as the key */
	for (i = 0;; i++) {
		if (i == m->done && !note_next(e, m))
			break;
		en = &m->e[i];
		if (en->klen == n && en->str && (!n || e->data[en->key] == (unsigned char)s[0]) &&
		    !memcmp(e->data + en->key, s, n))
			return en->val;
	}
	if (i < LH_EV_KEYS)
		return 0;
	/* past the notes: walked, not noted */
	at = lh_mp_next(e->data, e->len, m->e[LH_EV_KEYS - 1].val);
	for (; i < m->count && read_entry(e, &at, &far); i++)
		if (key_is(e, &far, s, n))
			return far.val;
	return 0;
}

bool lh_map_at(struct lh_event *e, size_t off, uint32_t i, struct lh_entry *en)
{
	struct lh_mapidx *m = map_notes(e, off);
	size_t at;
	struct lh_mpval v;
	uint32_t j;

	if (m)
		return map_entry(e, m, i, en);
	/* no slot left for notes: walk */
	if (!lh_mp_read(e->data, e->len, off, &v) || v.type != LH_MP_MAP || i >= v.count)
		return false;
	for (j = 0, at = v.next; j <= i; j++)
		if (!read_entry(e, &at, en))
			return false;
	return true;
}

size_t lh_array_at(struct lh_event *e, size_t off, uint64_t idx)
{
	struct lh_mpval v;
	size_t at;
	uint64_t i;

	if (!lh_mp_read(e->data, e->len, off, &v) || v.type != LH_MP_ARRAY || idx >= v.count)
		return 0;
	i = 0;
	at = v.next;
	if (e->walk.array == off && e->walk.idx <= idx) {	/* on from the last one found */
		i = e->walk.idx;
		at = e->walk.at;
	}
	for (; i < idx && at; i++)
		at = lh_mp_next(e->data, e->len, at);
	if (at) {
		e->walk.array = off;
		e->walk.idx = idx;
		e->walk.at = at;
	}
	return at;
}

size_t lh_child(struct lh_event *e, size_t off, const char *seg, size_t n)
{
	struct lh_mpval v;
	uint64_t idx = 0;
	unsigned char c;
	size_t k;

	if (!off || !n || off >= e->len)
		return 0;
	/* a map by its marker: lh_map_get reads (and checks) its header once per event */
	c = e->data[off];
	if ((c >= 0x80 && c <= 0x8f) || c == 0xde || c == 0xdf)
		return lh_map_get(e, off, seg, n);
	if (!lh_mp_read(e->data, e->len, off, &v))
		return 0;
	if (v.type != LH_MP_ARRAY || n > 10)
		return 0;
	for (k = 0; k < n; k++) {
		if (seg[k] < '0' || seg[k] > '9')
			return 0;
		idx = idx * 10 + (uint64_t)(seg[k] - '0');
	}
	return lh_array_at(e, off, idx);
}

size_t lh_find(struct lh_event *e, size_t off, const char *path, size_t len)
{
	const char *end = path + len, *dot;

	while (off && path <= end) {
		dot = memchr(path, '.', (size_t)(end - path));
		if (!dot)
			dot = end;
		off = lh_child(e, off, path, (size_t)(dot - path));
		path = dot + 1;
	}
	return off;
}

/* ---- the root: the body's map, then node_name, time and the stamp ---- */

/* Walk the root once: its entries past the delivery stamp are hidden (take_stamp in
 * core/encode msg.c: from the end, at most two, each a non-negative integer under
 * "vigil_seq" or "vigil_incarnation"; never the first entry). */
static void root_walk(struct lh_event *e)
{
	struct lh_entry en;
	struct lh_mpval v;
	uint32_t stop, n = 0;

	if (e->root_done)
		return;
	e->root_done = true;
	/* entries that do not read end the root, as far as lookups go */
	while (lh_map_at(e, 0, n, &en))
		n++;
	stop = n > VIGIL_BUS_STAMP_ENTRIES + 1 ? n - VIGIL_BUS_STAMP_ENTRIES : 1;
	while (n > stop && lh_map_at(e, 0, n - 1, &en) &&
	       (key_is(e, &en, "vigil_seq", 9) || key_is(e, &en, "vigil_incarnation", 17)) &&
	       lh_mp_read(e->data, e->len, en.val, &v) && v.type == LH_MP_UINT)
		n--;
	e->root_count = n;
}

uint32_t lh_root_count(struct lh_event *e)
{
	root_walk(e);
	return e->root_count;
}

size_t lh_root_get(struct lh_event *e, const char *s, size_t n)
{
	struct lh_entry en;
	uint32_t i;

	root_walk(e);
	for (i = 0; i < e->root_count && lh_map_at(e, 0, i, &en); i++)
		if (key_is(e, &en, s, n))
			return en.val;
	return 0;
}

/* ---- the memo ---- */

/* The slot of a key: its length, kind and three of its bytes, which tell apart the few
 * paths rules read (a collision only costs the walk again) */
static unsigned int memo_slot(unsigned int kind, const char *key, size_t n)
{
	unsigned int h = (unsigned int)n * 7u + kind * 5u;

	if (n)
		h += (unsigned char)key[0] + (unsigned char)key[n - 1] * 3u + (unsigned char)key[n / 2] * 11u;
	return (h ^ (h >> 5)) & (LH_EV_MEMO - 1);
}

bool lh_memo_get(const struct lh_event *e, unsigned int kind, const char *key, size_t n, size_t *off)
{
	const struct lh_memo *m;

	if (n > LH_EV_MEMO_KEY)
		return false;
	m = &e->memo[memo_slot(kind, key, n)];
	if (m->stamp != e->stamp || m->kind != kind || m->len != n || memcmp(m->key, key, n))
		return false;
	*off = m->off;
	return true;
}

size_t lh_memo_put(struct lh_event *e, unsigned int kind, const char *key, size_t n, size_t off)
{
	struct lh_memo *m;

	if (n > LH_EV_MEMO_KEY)
		return off;
	m = &e->memo[memo_slot(kind, key, n)];
	m->stamp = e->stamp;
	m->kind = (uint8_t)kind;
	m->len = (uint8_t)n;
	memcpy(m->key, key, n);
	m->off = off;
	return off;
}

static size_t event_get(struct lh_event *e, const char *key, size_t n)
{
	size_t off;

	if ((n == 4 && !memcmp(key, "time", 4)) || (n == 9 && !memcmp(key, "node_name", 9))) {
		off = lh_root_get(e, key, n);
		return off ? off : lh_map_get(e, e->body, key, n);
	}
	/* the type key is the root's first: its value is the body, without a walk */
	if (e->type_key && n == strlen(e->type_key) && !memcmp(key, e->type_key, n))
		return e->body;
	off = lh_map_get(e, e->body, key, n);
	return off ? off : lh_root_get(e, key, n);
}

size_t lh_event_get(struct lh_event *e, const char *key, size_t n)
{
	size_t off;

	if (lh_memo_get(e, LH_MEMO_GET, key, n, &off))
		return off;
	return lh_memo_put(e, LH_MEMO_GET, key, n, event_get(e, key, n));
}

static size_t event_find(struct lh_event *e, const char *path, size_t len)
{
	size_t off = lh_find(e, e->body, path, len);

	if (off)
		return off;
	/* the root: its first segment by lh_root_get (the stamp hidden) */
	{
		const char *dot = memchr(path, '.', len);
		size_t n = dot ? (size_t)(dot - path) : len;

		off = n ? lh_root_get(e, path, n) : 0;
		return off && dot ? lh_find(e, off, dot + 1, len - n - 1) : off;
	}
}

size_t lh_event_find(struct lh_event *e, const char *path, size_t len)
{
	size_t off;

	if (lh_memo_get(e, LH_MEMO_FIND, path, len, &off))
		return off;
	return lh_memo_put(e, LH_MEMO_FIND, path, len, event_find(e, path, len));
}

bool lh_event_hook(struct lh_event *e, const char **name, size_t *n)
{
	const char *key;
	struct lh_mpval v;
	size_t off;

	if (!e->hook_done) {
		e->hook_done = true;
		e->hook = NULL;
		e->hook_len = 0;
		switch (e->type) {
		case VIGIL_EVENT_TRACEPOINT:
			key = "event";
			break;
		case VIGIL_EVENT_KPROBE:
		case VIGIL_EVENT_LSM:
			key = "function_name";
			break;
		case VIGIL_EVENT_UPROBE:
			key = "symbol";
			break;
		default:
			key = NULL;
			break;
		}
		off = key ? lh_map_get(e, e->body, key, strlen(key)) : 0;
		if (off && lh_mp_read(e->data, e->len, off, &v) && v.type == LH_MP_STR) {
			e->hook = v.str;
			e->hook_len = v.len;
		}
	}
	*name = e->hook;
	*n = e->hook_len;
	return e->hook != NULL;
}

/* ---- unpacked subtrees for the C consumers ---- */

const msgpack_object *lh_event_obj(struct lh_event *e, size_t off)
{
	msgpack_object *o;
	size_t end, used = 0, pos = 0;
	unsigned int i;

	if (!e->data)
		return NULL;
	for (i = 0; i < e->nobjs; i++)
		if (e->objs[i].off == off)
			return e->objs[i].obj;
	end = lh_mp_skip(e->data, e->len, off);
	/* msgpack-c sizes containers from their headers before reading them: only bytes the
	 * flat scan passed go to it (core/encode msg.c) */
	if (!end || vigil_msgpack_scan(e->data + off, end - off, &used) || used != end - off)
		return NULL;
	if (!e->zone && !(e->zone = msgpack_zone_new(MSGPACK_ZONE_CHUNK_SIZE)))
		return NULL;
	e->zone_used = true;
	o = msgpack_zone_malloc(e->zone, sizeof(*o));
	if (!o || msgpack_unpack((const char *)e->data + off, end - off, &pos, e->zone, o) != MSGPACK_UNPACK_SUCCESS)
		return NULL;
	if (!off && o->type == MSGPACK_OBJECT_MAP)
		o->via.map.size = lh_root_count(e);	/* the stamp hidden */
	if (e->nobjs < LH_EV_OBJS) {
		e->objs[e->nobjs].off = off;
		e->objs[e->nobjs++].obj = o;
	}
	return o;
}
