/* view.c - an event read once into the offsets of the values the field table knows.
 *
 * next_batch walks each message once: it proves the bytes are well-formed msgpack (the
 * same rules as libvigil's decoder: every count backed by bytes, no 0xc1, nesting within
 * msgpack-c's stack, nothing trailing, the root a map whose first entry is "<type>": {map})
 * and notes where the root, body, process and parent keys the fields read begin and end.
 * Extraction then unpacks only the value a field asks for, once per event: strings point
 * into the event's own bytes, and only containers (tags, args) use the state's zone.
 * Lookups keep libvigil's path rules: the first of repeated keys wins, a missing or non-map
 * parent finds nothing.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "falco_internal.h"

#define VIEW_MAX_DEPTH 32		/* msgpack-c's unpack stack, as libvigil's scan enforces */

/* names of the keys, by level; a process.* key and its parent.* twin share a name */
static const char *const root_names[] = { [VK_TIME] = "time", [VK_NODE_NAME] = "node_name" };
static const char *const body_names[] = {
	[VK_POLICY - VK_BODY] = "policy_name", [VK_ACTION - VK_BODY] = "action",
	[VK_FUNCTION - VK_BODY] = "function_name", [VK_SUBSYS - VK_BODY] = "subsys",
	[VK_EVENT - VK_BODY] = "event", [VK_MESSAGE - VK_BODY] = "message", [VK_TAGS - VK_BODY] = "tags",
	[VK_ARGS - VK_BODY] = "args", [VK_STATUS - VK_BODY] = "status", [VK_SIGNAL - VK_BODY] = "signal",
	[VK_RULE - VK_BODY] = "rule", [VK_PRIORITY - VK_BODY] = "priority",
};
static const char *const proc_names[VK_PROC_KEYS] = {
	"pid", "tid", "uid", "auid", "binary", "arguments", "cwd", "exec_id", "start_time", "flags",
};

static uint64_t be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* One object header at p: its length, the payload bytes after it and the child objects
 * after those. 0 for 0xc1 or a header cut short. */
static inline __attribute__((always_inline)) size_t header(const uint8_t *p, size_t avail, uint64_t *payload,
								    uint64_t *items)
{
	/* 0xc4..0xdf: bytes of the length field, fixed payload, payload per n, items per n */
	static const uint8_t lenb[32] = { 0, 0, 0, 0, 1, 2, 4, 1, 2, 4, 0, 0, 0, 0, 0, 0,
					  0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 4, 2, 4, 2, 4 };
	static const uint8_t fixed[32] = { 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 4, 8, 1, 2, 4, 8,
					   1, 2, 4, 8, 2, 3, 5, 9, 17, 0, 0, 0, 0, 0, 0, 0 };
	uint8_t c = p[0], m;
	uint64_t n;

	*payload = 0;
	*items = 0;
	if (c < 0x80 || c >= 0xe0)
		return 1;				/* fixints */
	if (c <= 0x8f) {
		*items = 2 * (uint64_t)(c & 0x0f);
		return 1;
	}
	if (c <= 0x9f) {
		*items = c & 0x0f;
		return 1;
	}
	if (c <= 0xbf) {
		*payload = c & 0x1f;
		return 1;
	}
	if (c == 0xc1)
		return 0;
	m = c - 0xc0;
	if (avail < 1u + lenb[m])
		return 0;
	n = be(p + 1, lenb[m]);
	if (m >= 0x1c)					/* array16/32, map16/32 */
		*items = (m >= 0x1e ? 2 : 1) * n;
	else if (lenb[m])				/* bin, ext, str: n bytes */
		*payload = fixed[m] + n;
	else
		*payload = fixed[m];
	return 1u + lenb[m];
}

static bool is_container(uint8_t c)
{
	return (c >= 0x80 && c <= 0x9f) || (c >= 0xdc && c <= 0xdf);
}

static bool is_map(uint8_t c)
{
	return (c >= 0x80 && c <= 0x8f) || c == 0xde || c == 0xdf;
}

static int name_index(const char *const *names, size_t nnames, const uint8_t *s, uint32_t n)
{
	size_t i;

	/* the first byte rules out most names before their length is looked at */
	for (i = 0; n && i < nnames; i++)
		if (names[i] && names[i][0] == s[0] && strnlen(names[i], n + 1) == n && !memcmp(names[i], s, n))
			return (int)i;
	return -1;
}

/* The keys the walk looks for, per map (0 root, 1 body, 2 process, 3 parent), in a small
 * open-addressed hash of (length, first byte, last byte): a known key costs one probe and
 * one compare, most unknown ones a probe that finds an empty bucket. */
#define KEY_BUCKETS 64
#define KEY_OWNERS 4

struct key_entry {
	uint64_t w[2];			/* the name's bytes, zero-padded: compared a word at a time */
	uint8_t len;
	int8_t slot;			/* the view key it fills */
	int8_t child;			/* the owner its value's map gets, -1 none */
};

struct key_table {
	uint8_t bucket[KEY_BUCKETS];	/* entry index + 1; 0 empty */
	struct key_entry e[16];
	uint8_t n;
};

static struct key_table key_tables[KEY_OWNERS];
static pthread_once_t key_tables_once = PTHREAD_ONCE_INIT;

static inline unsigned int key_hash(const uint8_t *s, uint32_t n)
{
	return (n * 13u + s[0] * 5u + s[n - 1] * 3u) & (KEY_BUCKETS - 1);
}

static void key_add(struct key_table *t, const char *name, int slot, int child)
{
	uint32_t n = (uint32_t)strlen(name);
	unsigned int h = key_hash((const uint8_t *)name, n);

	t->e[t->n] = (struct key_entry){ .len = (uint8_t)n, .slot = (int8_t)slot, .child = (int8_t)child };
	memcpy(t->e[t->n].w, name, n);	/* every name fits 16 bytes (build_key_tables) */
	while (t->bucket[h])
		h = (h + 1) & (KEY_BUCKETS - 1);
	t->bucket[h] = ++t->n;
}

static void build_key_tables(void)
{
	size_t i;

	_Static_assert(sizeof("function_name") <= 16, "key names are compared as two words");
	for (i = 0; i < VIEW_ARRAY_SIZE(root_names); i++)
		key_add(&key_tables[0], root_names[i], (int)i, -1);
	for (i = 0; i < VIEW_ARRAY_SIZE(body_names); i++)
		key_add(&key_tables[1], body_names[i], VK_BODY + (int)i, -1);
	key_add(&key_tables[1], "process", VK_PROCESS_MAP, 2);
	key_add(&key_tables[1], "parent", VK_PARENT_MAP, 3);
	for (i = 0; i < VK_PROC_KEYS; i++) {
		key_add(&key_tables[2], proc_names[i], VK_PROCESS + (int)i, -1);
		key_add(&key_tables[3], proc_names[i], VK_PARENT + (int)i, -1);
	}
}

void view_init(void)
{
	pthread_once(&key_tables_once, build_key_tables);
}

/* The bytes of a key as two zero-padded words; the view's data has VIEW_PAD readable bytes
 * past its end, so the loads may run over the key. */
static inline void key_words(const uint8_t *k, uint32_t kn, uint64_t w[2])
{
	static const uint64_t mask[9] = { 0, 0xff, 0xffff, 0xffffff, 0xffffffff, 0xffffffffffull, 0xffffffffffffull,
					  0xffffffffffffffull, ~0ull };

	memcpy(&w[0], k, 8);
	w[0] &= mask[kn < 8 ? kn : 8];
	w[1] = 0;
	if (kn > 8) {
		memcpy(&w[1], k + 8, 8);
		w[1] &= mask[kn - 8];
	}
}

static inline __attribute__((always_inline)) const struct key_entry *key_find(int owner, const uint8_t *k, uint32_t kn)
{
	const struct key_table *t = &key_tables[owner];
	const struct key_entry *e;
	unsigned int h = key_hash(k, kn);
	uint64_t w[2];

	if (!t->bucket[h] || kn > 16)
		return NULL;
	key_words(k, kn, w);
	for (; t->bucket[h]; h = (h + 1) & (KEY_BUCKETS - 1)) {
		e = &t->e[t->bucket[h] - 1];
		if (e->len == kn && e->w[0] == w[0] && e->w[1] == w[1])
			return e;
	}
	return NULL;
}

/* The key at one position of a map, as the last event had it there: the maps the index
 * reads are written by one encoder, so their keys come in the same order event after
 * event, and a key the memo holds costs one compare instead of a table look-up. */
static inline __attribute__((always_inline)) const struct key_entry *key_of(struct view_key_memo *m, int owner, const uint8_t *k, uint32_t kn)
{
	const struct key_entry *e;
	uint64_t w[2];

	if (kn > 16)
		return NULL;		/* no name the fields read is this long */
	key_words(k, kn, w);
	if (m && m->len == kn && m->w[0] == w[0] && m->w[1] == w[1])
		return m->e;
	e = key_find(owner, k, kn);
	if (m)
		*m = (struct view_key_memo){ .w = { w[0], w[1] }, .len = (uint8_t)kn, .e = e };
	return e;
}

static inline void note(struct fp_view *v, int slot, size_t off, size_t len)
{
	if (slot >= 0 && !v->at[slot].len) {
		v->at[slot].off = (uint32_t)off;
		v->at[slot].len = (uint32_t)len;
	}
}

/* How a value's first byte lays it out (msgpack's format table). */
enum {
	MC_BAD,		/* 0xc1, never used */
	MC_ONE,		/* the byte is the whole value: fixints, nil, booleans */
	MC_FIXSTR,	/* 0xa0..0xbf: the low five bits are the length */
	MC_FIXED,	/* a fixed size in all (mc_len): numbers, fixext */
	MC_VAR,		/* mc_len bytes of length follow, then the bytes: str, bin, ext (+1 type byte) */
	MC_FIXMAP, MC_FIXARRAY,
	MC_MAP, MC_ARRAY,	/* mc_len bytes of count follow */
};

static const uint8_t mc_class[256] = {
	[0x00 ... 0x7f] = MC_ONE, [0x80 ... 0x8f] = MC_FIXMAP, [0x90 ... 0x9f] = MC_FIXARRAY,
	[0xa0 ... 0xbf] = MC_FIXSTR, [0xc0] = MC_ONE, [0xc1] = MC_BAD, [0xc2 ... 0xc3] = MC_ONE,
	[0xc4 ... 0xc9] = MC_VAR, [0xca ... 0xd8] = MC_FIXED, [0xd9 ... 0xdb] = MC_VAR,
	[0xdc ... 0xdd] = MC_ARRAY, [0xde ... 0xdf] = MC_MAP, [0xe0 ... 0xff] = MC_ONE,
};

static const uint8_t mc_len[256] = {
	[0xc4] = 1, [0xc5] = 2, [0xc6] = 4, [0xc7] = 1, [0xc8] = 2, [0xc9] = 4,
	[0xca] = 5, [0xcb] = 9, [0xcc] = 2, [0xcd] = 3, [0xce] = 5, [0xcf] = 9,
	[0xd0] = 2, [0xd1] = 3, [0xd2] = 5, [0xd3] = 9, [0xd4] = 3, [0xd5] = 4, [0xd6] = 6, [0xd7] = 10, [0xd8] = 18,
	[0xd9] = 1, [0xda] = 2, [0xdb] = 4, [0xdc] = 2, [0xdd] = 4, [0xde] = 2, [0xdf] = 4,
};

static inline uint64_t be_len(const uint8_t *p, size_t n)
{
	if (n == 1)
		return p[0];
	if (n == 2)
		return (uint64_t)p[0] << 8 | p[1];
	return (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 | (uint64_t)p[2] << 8 | p[3];
}

/* Note in rec where a container starts (the first VIEW_CONTS of them): its entry, or
 * VIEW_CONTS when none is kept. */
static inline uint8_t rec_open(struct view_conts *rec, size_t o)
{
	if (!rec || rec->n >= VIEW_CONTS)
		return VIEW_CONTS;
	rec->at[rec->n].off = (uint32_t)o;
	rec->at[rec->n].len = 0;
	return (uint8_t)rec->n++;
}

/* Step over one whole value at *off (containers and all) without looking inside: every
 * length and count backed by bytes, nesting under VIEW_MAX_DEPTH counting depth levels
 * above it. One pass, one table look-up per value: this is most of what next_batch costs.
 * rec, when not NULL, gets where the containers inside start and end (the first
 * VIEW_CONTS, in order), so that view_index jumps over them instead of stepping again. */
static int skip(const uint8_t *data, size_t len, size_t *off, int depth, struct view_conts *rec)
{
	uint64_t left[VIEW_MAX_DEPTH + 1], cnt = 1, n;
	uint8_t slot[VIEW_MAX_DEPTH + 1];	/* rec's entry of the container at each level */
	size_t o = *off, lb;
	int top = 0;
	uint8_t c, cls;

	for (;;) {
		/* the cnt values left in the container at level top, scalars without leaving the
		 * loop; a string or number that runs past the end leaves o > len, which the next
		 * turn (or the end) refuses */
		while (cnt) {
			if (o >= len)
				return -EBADMSG;
			c = data[o];
			cls = mc_class[c];
			if (cls == MC_FIXSTR) {
				o += 1u + (c & 0x1fu);
				cnt--;
				continue;
			}
			if (cls == MC_ONE) {
				o++;
				cnt--;
				continue;
			}
			if (cls == MC_FIXED) {
				o += mc_len[c];
				cnt--;
				continue;
			}
			if (cls == MC_BAD)
				return -EBADMSG;
			lb = mc_len[c];
			if (1 + lb > len - o)
				return -EBADMSG;
			if (cls == MC_VAR) {
				n = be_len(data + o + 1, lb) + (c >= 0xc7 && c <= 0xc9);
				if (n > len - o - 1 - lb)
					return -EBADMSG;
				o += 1 + lb + n;
				cnt--;
				continue;
			}
			/* a container */
			if (cls == MC_FIXMAP)
				n = 2 * (uint64_t)(c & 0x0fu);
			else if (cls == MC_FIXARRAY)
				n = c & 0x0fu;
			else
				n = be_len(data + o + 1, lb) * (cls == MC_MAP ? 2 : 1);
			if (depth + top == VIEW_MAX_DEPTH || n > len - o - 1 - lb)
				return -EBADMSG;
			cnt--;
			if (!n) {
				o += 1 + lb;
				continue;
			}
			left[top++] = cnt;
			slot[top] = rec_open(rec, o);
			o += 1 + lb;
			cnt = n;
		}
		/* the container at level top is complete */
		if (!top)
			break;
		if (slot[top] < VIEW_CONTS)
			rec->at[slot[top]].len = (uint32_t)(o - rec->at[slot[top]].off);
		cnt = left[--top];
	}
	if (o > len)
		return -EBADMSG;
	*off = o;
	return 0;
}

/* Step over a value: the scalars whose size the first byte says here, the rest in skip(). */
static inline int step(const uint8_t *data, size_t len, size_t *off, int depth)
{
	size_t o = *off;
	uint8_t c = data[o];
	uint32_t n;

	if (mc_class[c] == MC_ONE) {
		*off = o + 1;
		return 0;
	}
	if (mc_class[c] == MC_FIXSTR) {
		n = c & 0x1fu;
		if (n > len - o - 1)
			return -EBADMSG;
		*off = o + 1 + n;
		return 0;
	}
	if (mc_class[c] == MC_FIXED) {
		n = mc_len[c];
		if (n > len - o)
			return -EBADMSG;
		*off = o + n;
		return 0;
	}
	return skip(data, len, off, depth, NULL);
}

/* The root map of the event, at the start of its bytes: every key and value checked
 * (values stepped over, the body map with the containers in it noted), the keys the
 * fields read noted, and tail (when not NULL) given where the root's children start. The
 * root's first key names the event and its value is the body map. Returns the bytes read,
 * or 0 when they are not such a map. */
static size_t scan_root(struct fp_view *v, struct vigil_msgpack_tail *tail)
{
	struct view_key_memo *memo = v->memo ? v->memo->at[0] : NULL;
	const uint8_t *data = v->data, *k = NULL;
	const size_t len = v->len;
	const struct key_entry *e;
	uint64_t payload, items, kitems, i;
	size_t o, h, start;
	uint32_t kn;
	uint8_t c;
	int slot;

	h = header(data, len, &payload, &items);
	if (!h || !is_map(data[0]) || items > len - h)
		return 0;
	o = h;
	for (i = 0; i < items; i += 2) {
		/* the key: nearly always a fixstr */
		if (o >= len)
			return 0;
		if (tail)
			tail->start[tail->items++ % VIGIL_MSGPACK_TAIL] = o;
		c = data[o];
		kn = 0;
		h = 1;
		if (mc_class[c] == MC_FIXSTR) {
			kn = c & 0x1fu;
		} else if (c >= 0xd9 && c <= 0xdb) {
			/* its own payload and count: items is the map's */
			h = header(data + o, len - o, &payload, &kitems);
			if (!h)
				return 0;
			kn = (uint32_t)payload;
		}
		if (kn) {
			if (kn > len - o - h)
				return 0;
			k = data + o + h;
			o += h + kn;
		} else if (!i || step(data, len, &o, 1)) {
			return 0;	/* the root's first key names the event */
		}
		slot = -1;
		if (!i) {
			v->type_off = (uint32_t)(k - data);
			v->type_len = kn;
			slot = VK_BODY_MAP;
		} else if (kn && (e = key_of(memo && i / 2 < VIEW_MEMO_KEYS ? &memo[i / 2] : NULL, 0, k, kn))) {
			slot = e->slot;
		}
		/* the value */
		if (o >= len)
			return 0;
		if (tail)
			tail->start[tail->items++ % VIGIL_MSGPACK_TAIL] = o;
		start = o;
		if (!i) {
			if (!is_map(data[o]) || skip(data, len, &o, 1, &v->conts))
				return 0;
		} else if (step(data, len, &o, 1)) {
			return 0;
		}
		note(v, slot, start, o - start);
	}
	return o;
}

int view_scan(struct fp_view *v, const uint8_t *data, size_t len, struct vigil_msgpack_tail *tail)
{
	memset(v, 0, offsetof(struct fp_view, obj));
	v->conts.n = 0;
	v->data = data;
	v->len = len;
	if (tail)
		memset(tail, 0, sizeof(*tail));
	if (!len || scan_root(v, tail) != len || !v->type_len)
		return -EBADMSG;
	if (tail)
		tail->len = len;
	return 0;
}

/* Past the container at *o when view_scan noted where it ends. The containers are noted
 * in order and the index walks forward, so a cursor finds them. */
static inline bool jump(struct fp_view *v, size_t *o)
{
	const struct view_conts *r = &v->conts;

	while (v->cont_cursor < r->n && r->at[v->cont_cursor].off < *o)
		v->cont_cursor++;
	if (v->cont_cursor >= r->n || r->at[v->cont_cursor].off != *o || !r->at[v->cont_cursor].len)
		return false;
	*o += r->at[v->cont_cursor].len;
	return true;
}

/* Step over the value at *o of a map view_scan has proved well-formed. */
static inline int step_known(struct fp_view *v, size_t *o, int depth)
{
	const uint8_t *p = v->data + *o;
	uint8_t c = p[0];
	size_t lb;

	switch (mc_class[c]) {
	case MC_FIXSTR:
		*o += 1u + (c & 0x1fu);
		return 0;
	case MC_ONE:
		*o += 1;
		return 0;
	case MC_FIXED:
		*o += mc_len[c];
		return 0;
	case MC_VAR:
		lb = mc_len[c];
		*o += 1 + lb + be_len(p + 1, lb) + (c >= 0xc7 && c <= 0xc9);
		return 0;
	default:
		return jump(v, o) ? 0 : skip(v->data, v->len, o, depth, NULL);
	}
}

/* The key of entry i at *o of a map view_scan has proved well-formed, stepped over: what
 * it names for owner (NULL: nothing the fields read). The common key, a fixstr of at most
 * 8 bytes in the place the memo has it, takes one load, one mask and one compare. */
static inline __attribute__((always_inline)) int read_key(struct fp_view *v, struct view_key_memo *memo, int owner,
							   uint64_t i, size_t *o, int depth,
							   const struct key_entry **e)
{
	static const uint64_t mask[9] = { 0, 0xff, 0xffff, 0xffffff, 0xffffffff, 0xffffffffffull, 0xffffffffffffull,
					  0xffffffffffffffull, ~0ull };
	const uint8_t *p = v->data + *o;
	uint8_t c = p[0];
	uint64_t w;
	uint32_t kn;
	size_t h;

	if (i >= VIEW_MEMO_KEYS)
		memo = NULL;
	if (c > 0xa0 && c <= 0xa8 && memo) {
		kn = c & 0x1fu;
		memcpy(&w, p + 1, 8);
		w &= mask[kn];
		*e = memo[i].len == kn && memo[i].w[0] == w ? memo[i].e : key_of(&memo[i], owner, p + 1, kn);
		*o += 1 + kn;
	} else if (mc_class[c] == MC_FIXSTR || (c >= 0xd9 && c <= 0xdb)) {
		h = mc_class[c] == MC_FIXSTR ? 1 : 1 + mc_len[c];
		kn = mc_class[c] == MC_FIXSTR ? c & 0x1fu : (uint32_t)be_len(p + 1, mc_len[c]);
		*e = kn ? key_of(memo ? &memo[i] : NULL, owner, p + h, kn) : NULL;
		*o += h + kn;
	} else {
		*e = NULL;
		return skip(v->data, v->len, o, depth, NULL);
	}
	return 0;
}

/* The entries of a process or parent map (owner 2 or 3): index_map for maps whose keys
 * open no map the index reads. */
static int index_leaf(struct fp_view *v, size_t *off, int owner, int depth)
{
	struct view_key_memo *memo = v->memo ? v->memo->at[owner] : NULL;
	const struct key_entry *e;
	uint64_t payload, items, entries, i;
	size_t o = *off, start;
	int err;

	o += header(v->data + o, v->len - o, &payload, &items);
	entries = items / 2;
	for (i = 0; i < entries; i++) {
		if ((err = read_key(v, memo, owner, i, &o, depth + 1, &e)))
			return err;
		start = o;
		if ((err = step_known(v, &o, depth + 1)))
			return err;
		if (o > v->len)
			return -EBADMSG;
		if (e)
			note(v, e->slot, start, o - start);
	}
	*off = o;
	return 0;
}

/* The entries of the body map (owner 1), at *off and depth levels down, which view_scan
 * has proved well-formed (so nothing is checked again): the keys the fields read are
 * noted with libvigil's path rules (the first of repeated keys wins; the process and
 * parent maps are walked the first time only, and only if they are maps). Keys are nearly
 * always fixstrs and values scalars: those take a few instructions each. */
static int index_map(struct fp_view *v, size_t *off, int owner, int depth)
{
	struct view_key_memo *memo = v->memo ? v->memo->at[owner] : NULL;
	const struct key_entry *e;
	uint64_t payload, items, entries, i;
	size_t o = *off, start;
	int err;

	o += header(v->data + o, v->len - o, &payload, &items);
	entries = items / 2;
	for (i = 0; i < entries; i++) {
		if ((err = read_key(v, memo, owner, i, &o, depth + 1, &e)))
			return err;
		/* the value */
		start = o;
		if (e && e->child >= 0 && !v->at[e->slot].len && is_map(v->data[o]))
			err = index_leaf(v, &o, e->child, depth + 1);
		else
			err = step_known(v, &o, depth + 1);
		if (err)
			return err;
		if (o > v->len)
			return -EBADMSG;
		if (e)
			note(v, e->slot, start, o - start);
	}
	*off = o;
	return 0;
}

int view_index(struct fp_view *v)
{
	size_t off = v->at[VK_BODY_MAP].off;

	if (v->indexed)
		return 0;
	v->cont_cursor = 0;
	/* view_scan proved the body well-formed; its map is the root's first value */
	if (!v->at[VK_BODY_MAP].len || !is_map(v->data[off]) || index_map(v, &off, 1, 1))
		return -EBADMSG;
	v->indexed = true;
	return 0;
}

int view_build(struct fp_view *v, const uint8_t *data, size_t len, struct vigil_msgpack_tail *tail)
{
	return view_scan(v, data, len, tail) || view_index(v) ? -EBADMSG : 0;
}

/* Strings, integers, nil and booleans as msgpack-c unpacks them (a signed integer that is
 * not negative is a POSITIVE_INTEGER); false for anything else, which msgpack-c does. */
static bool scalar(const uint8_t *p, msgpack_object *o)
{
	uint8_t c = p[0];
	int64_t i;

	if (c <= 0x7f) {
		*o = (msgpack_object){ .type = MSGPACK_OBJECT_POSITIVE_INTEGER, .via.u64 = c };
	} else if (c >= 0xe0) {
		*o = (msgpack_object){ .type = MSGPACK_OBJECT_NEGATIVE_INTEGER, .via.i64 = (int8_t)c };
	} else if ((c >= 0xa0 && c <= 0xbf) || (c >= 0xd9 && c <= 0xdb)) {
		size_t h = c <= 0xbf ? 1 : c == 0xd9 ? 2 : c == 0xda ? 3 : 5;
		uint64_t n = c <= 0xbf ? (uint64_t)(c & 0x1f) : be(p + 1, h - 1);

		*o = (msgpack_object){ .type = MSGPACK_OBJECT_STR };
		o->via.str.size = (uint32_t)n;
		o->via.str.ptr = (const char *)p + h;
	} else if (c >= 0xcc && c <= 0xcf) {
		*o = (msgpack_object){ .type = MSGPACK_OBJECT_POSITIVE_INTEGER, .via.u64 = be(p + 1, 1u << (c - 0xcc)) };
	} else if (c >= 0xd0 && c <= 0xd3) {
		size_t n = 1u << (c - 0xd0);
		uint64_t u = be(p + 1, n);

		/* sign-extend from n bytes */
		i = n == 8 ? (int64_t)u : (int64_t)(u ^ (1ull << (8 * n - 1))) - (int64_t)(1ull << (8 * n - 1));
		if (i < 0)
			*o = (msgpack_object){ .type = MSGPACK_OBJECT_NEGATIVE_INTEGER, .via.i64 = i };
		else
			*o = (msgpack_object){ .type = MSGPACK_OBJECT_POSITIVE_INTEGER, .via.u64 = (uint64_t)i };
	} else if (c == 0xc0) {
		*o = (msgpack_object){ .type = MSGPACK_OBJECT_NIL };
	} else if (c == 0xc2 || c == 0xc3) {
		*o = (msgpack_object){ .type = MSGPACK_OBJECT_BOOLEAN, .via.boolean = c == 0xc3 };
	} else {
		return false;
	}
	return true;
}

const msgpack_object *view_get(struct fp_state *st, struct fp_view *v, int key, int *err)
{
	const struct view_span *s;
	uint64_t bit;
	size_t off = 0;
	bool container;

	/* the body's keys are found at the first extraction, not in next_batch */
	if (key >= VK_BODY && !v->indexed && view_index(v))
		return NULL;
	if (key < 0 || !v->at[key].len)
		return NULL;
	s = &v->at[key];
	bit = 1ull << key;
	if ((v->have & bit) && (!(v->zoned & bit) || v->zone_gen == st->zone_gen))
		return &v->obj[key];
	container = is_container(v->data[s->off]);
	if (container && v->zone_gen != st->zone_gen) {
		/* the zone holds another event's containers: they go, this event's come in */
		msgpack_zone_clear(&st->zone);
		v->zone_gen = ++st->zone_gen;
		v->have &= ~v->zoned;
		v->zoned = 0;
	}
	if (scalar(v->data + s->off, &v->obj[key])) {
		v->have |= bit;
		return &v->obj[key];
	}
	/* view_build proved these bytes well-formed: only memory can fail */
	if (msgpack_unpack((const char *)v->data + s->off, s->len, &off, &st->zone, &v->obj[key]) !=
	    MSGPACK_UNPACK_SUCCESS) {
		*err = -ENOMEM;
		return NULL;
	}
	v->have |= bit;
	if (container)
		v->zoned |= bit;
	return &v->obj[key];
}

bool view_str(struct fp_view *v, int key, const char **s, uint32_t *n)
{
	const uint8_t *p;
	uint8_t c;

	if (key >= VK_BODY && !v->indexed && view_index(v))
		return false;
	if (key < 0 || !v->at[key].len)
		return false;
	p = v->data + v->at[key].off;
	c = p[0];
	if (mc_class[c] == MC_FIXSTR) {
		*s = (const char *)p + 1;
		*n = c & 0x1fu;
	} else if (c >= 0xd9 && c <= 0xdb) {
		*n = (uint32_t)be_len(p + 1, mc_len[c]);
		*s = (const char *)p + 1 + mc_len[c];
	} else {
		return false;
	}
	return true;
}

bool view_has(struct fp_view *v, int key)
{
	if (key >= VK_BODY && !v->indexed && view_index(v))
		return false;
	return key >= 0 && v->at[key].len;
}

bool view_uint(struct fp_view *v, int key, uint64_t *u)
{
	msgpack_object o;

	if (key >= VK_BODY && !v->indexed && view_index(v))
		return false;
	if (key < 0 || !v->at[key].len || !scalar(v->data + v->at[key].off, &o) ||
	    o.type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return false;
	*u = o.via.u64;
	return true;
}

int view_key_of(const char *path)
{
	const char *dot;
	int i;

	if (path[0] == '/') {
		i = name_index(root_names, VIEW_ARRAY_SIZE(root_names), (const uint8_t *)path + 1, (uint32_t)strlen(path + 1));
		return i;
	}
	dot = strchr(path, '.');
	if (!dot) {
		i = name_index(body_names, VIEW_ARRAY_SIZE(body_names), (const uint8_t *)path, (uint32_t)strlen(path));
		return i < 0 ? -1 : VK_BODY + i;
	}
	i = name_index(proc_names, VK_PROC_KEYS, (const uint8_t *)dot + 1, (uint32_t)strlen(dot + 1));
	if (i < 0)
		return -1;
	if (dot - path == 7 && !memcmp(path, "process", 7))
		return VK_PROCESS + i;
	if (dot - path == 6 && !memcmp(path, "parent", 6))
		return VK_PARENT + i;
	return -1;
}

bool view_type_is(const struct fp_view *v, const char *key)
{
	size_t n = strlen(key);

	return v->type_len == n && !memcmp(v->data + v->type_off, key, n);
}
