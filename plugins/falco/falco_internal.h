/* falco_internal.h - what the core files of the Falco plugin share. The shims never see it. */
#ifndef VIGIL_FALCO_INTERNAL_H
#define VIGIL_FALCO_INTERNAL_H

#include <msgpack.h>
#include <stdarg.h>

#include "common/common.h"
#include "encode/encode.h"
#include "falco.h"

/* ---- init config (config.c) ---- */

#define CONFIG_BATCH_MAX 4096		/* slots are allocated up front, one per batch entry */
#define CONFIG_TIMEOUT_MAX 10000	/* ms; Falco reads every source on its own thread */
#define CONFIG_TYPES_MAX 32

struct fp_config {
	char *bus;			/* owned */
	char *types[CONFIG_TYPES_MAX];	/* owned event keys ("process_exec"); none = all */
	size_t ntypes;
	uint32_t batch_size;
	int timeout_ms;
};

/* Parse the init config JSON into cfg (defaults for what it leaves out). Returns 0, or
 * -EINVAL with the reason in err, -ENOMEM. cfg is left with defaults on failure. */
int config_parse(const char *json, struct fp_config *cfg, char *err, size_t errlen);
void config_free(struct fp_config *cfg);
bool config_wants(const struct fp_config *cfg, const char *type_key);

/* ---- arena (arena.c): extraction results live until the next extraction ---- */

struct arena_block;

struct arena {
	struct arena_block *head;	/* the block being filled; older ones follow */
};

/* 8-byte aligned memory valid until arena_reset; NULL when out of memory. */
void *arena_alloc(struct arena *a, size_t size);
char *arena_strndup(struct arena *a, const char *s, size_t n);
/* Forget every allocation, keep the largest block for reuse. */
void arena_reset(struct arena *a);
void arena_free(struct arena *a);

/* ---- an event read once (view.c) ---- */

/* The values the field table reads, by where they sit in Tetragon's export. */
enum view_key {
	VK_TIME, VK_NODE_NAME,				/* root */
	VK_BODY, VK_POLICY = VK_BODY, VK_ACTION, VK_FUNCTION, VK_SUBSYS, VK_EVENT, VK_MESSAGE, VK_TAGS,
	VK_ARGS, VK_STATUS, VK_SIGNAL, VK_RULE, VK_PRIORITY,
	VK_PROCESS,					/* process.<proc_names[i]> */
	VK_PROC_KEYS = 10,
	VK_PARENT = VK_PROCESS + VK_PROC_KEYS,		/* parent.<proc_names[i]> */
	VK_BODY_MAP = VK_PARENT + VK_PROC_KEYS, VK_PROCESS_MAP, VK_PARENT_MAP,
	VK_N
};
_Static_assert(VK_N <= 64, "view bitmasks are 64 bits");

#define VIEW_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct view_span {
	uint32_t off, len;		/* the value's bytes in the event; len 0: absent */
};

/* The keys last seen at each position of the body, process and parent maps (view.c). */
#define VIEW_MEMO_KEYS 32
struct key_entry;
struct view_key_memo {
	uint64_t w[2];			/* the key's bytes, zero-padded */
	uint8_t len;			/* 0: none yet */
	const struct key_entry *e;	/* what it names, NULL: nothing a field reads */
};
struct view_key_memos {
	struct view_key_memo at[4][VIEW_MEMO_KEYS];	/* by owner (1 body, 2 process, 3 parent) */
};

/* Where the containers of an event's body are (view_scan notes the first VIEW_CONTS). */
#define VIEW_CONTS 32
struct view_conts {
	uint32_t n;
	struct view_span at[VIEW_CONTS];	/* in the order they start; len 0: not closed */
};

struct fp_view {
	const uint8_t *data;		/* the event's bytes (the slot's or the lookup's copy) */
	size_t len;
	uint32_t type_off, type_len;	/* the root's first key: "process_exec" */
	struct view_span at[VK_N];
	uint64_t have;			/* obj[k] is unpacked */
	uint64_t zoned;			/* ... into the state's zone, in generation zone_gen */
	uint64_t zone_gen;
	bool indexed;			/* the body's keys are in at[] (view_index) */
	uint32_t cont_cursor;		/* view_index's place in conts */
	msgpack_object obj[VK_N];	/* view_scan clears what is before it */
	struct view_conts conts;	/* view_scan sets conts.n, the rest as it goes */
	struct view_key_memos *memo;	/* set by the view's owner before view_scan, which leaves
					 * it: the state's (one thread at a time), or NULL */
};

/* Bytes past the end of an event that view_build may read (and ignores): key names are
 * compared a word at a time. Buffers handed to it are allocated this much longer. */
#define VIEW_PAD 8
/* Validate data (as vigil_msg__decode would) and note the root's keys (the event type, time,
 * node, where the body is): what next_batch needs. 0 or -EBADMSG. data must stay put while
 * the view is used, with VIEW_PAD readable bytes after len. tail, when not NULL, gets where
 * the root's last children start (as vigil_msgpack_scan_tail notes them: the bus reads its
 * stamp there). */
int view_scan(struct fp_view *v, const uint8_t *data, size_t len, struct vigil_msgpack_tail *tail);
/* Find the body's keys the fields read (once; view_get does it at the first body key, so
 * events no rule looks into never pay for it). 0 or -EBADMSG. */
int view_index(struct fp_view *v);
/* view_scan and view_index. */
int view_build(struct fp_view *v, const uint8_t *data, size_t len, struct vigil_msgpack_tail *tail);
/* Once per process, before the first view_build (fp_state__new calls it). */
void view_init(void);
struct fp_state;
/* The value at key, unpacked once per event; NULL when absent (or *err = -ENOMEM). */
const msgpack_object *view_get(struct fp_state *st, struct fp_view *v, int key, int *err);
/* The string at key, without unpacking it: false when absent or not a string. */
bool view_str(struct fp_view *v, int key, const char **s, uint32_t *n);
/* Whether the event has a value at key (null included). */
bool view_has(struct fp_view *v, int key);
/* The integer at key when it is a non-negative one (as msgpack-c reads it); false otherwise. */
bool view_uint(struct fp_view *v, int key, uint64_t *u);
/* The key a field table path names ("process.pid", "/time"), or -1. */
int view_key_of(const char *path);
bool view_type_is(const struct fp_view *v, const char *key);

/* ---- event time (evtime.c) ---- */

#define EVTIME_MINUTE 16		/* "YYYY-MM-DDTHH:MM" */

/* The minute the last events fell in, converted. */
struct evtime_cache {
	char minute[EVTIME_MINUTE];
	uint64_t base_ns;		/* ns since the epoch at minute:00 */
	bool valid;
};

/* vigil_parse_time, with what the last call's minute needed remembered: same acceptance,
 * same value. 0 or -EINVAL. */
int evtime_parse(struct evtime_cache *c, const char *s, size_t n, uint64_t *wall_ns);

/* ---- the bus (source.c) ---- */

struct slot {
	struct fp_event ev;		/* first: fp_source__event hands out &slot.ev */
	size_t cap;			/* bytes allocated at ev.buf */
	struct fp_view view;		/* ev's payload, read once */
};

struct fp_source {
	char *url;			/* owned: the bus this source reads */
	struct vigil_sub *sub;
	struct slot *slots;		/* batch_size of them */
	uint32_t nslots;
	uint32_t n;			/* events in the current batch */
	uint32_t cursor;		/* where extraction expects the next event */
};

/* ---- decoded events, looked up by payload (lookup.c) ---- */

struct lookup {
	/* the event resolved last: its fields arrive one call at a time */
	const void *data;
	size_t len;
	uint64_t evtnum;
	struct fp_view *view;
	/* a private view, for payloads that are not in the current batch (capture files,
	 * frameworks that copy events) */
	uint8_t *own;
	size_t own_len, own_cap;
	bool own_ok;
	struct fp_view own_view;
};

/* The view of payload, or NULL + errno (EBADMSG, ENOMEM). Borrowed until the next lookup,
 * fp_source__next or fp_source__close. */
struct fp_view *lookup_view(struct fp_state *st, const void *payload, size_t len, uint64_t evtnum);
/* Drop references into the batch (it is about to be released). */
void lookup_forget_batch(struct lookup *lk);
void lookup_free(struct lookup *lk);

/* ---- extraction results of the current event (extract.c) ---- */

#define FP_FIELDS_MAX 64		/* field ids are < this (fields.c checks the table) */
#define FP_INDEXED_RESULTS 16		/* vigil.args[0], [1], ...: by field and index, hashed */

/* One field's values for the event begun last: Falco evaluates rules field by field and
 * several rules read the same field, so each is computed once per event. */
struct fp_result {
	uint64_t gen;			/* the event (fp_state.event_gen) they are of; 0: none */
	uint32_t field_id;
	uint64_t arg_index;
	bool arg_present;
	struct fp_values v;
	union {				/* a lone value of a field without an index lives here */
		const char *str;
		uint64_t u64;
		struct fp_bytes buf;
	} one;
};

/* ---- the state (state.c) ---- */

struct fp_counters {
	uint64_t received;		/* messages taken off the bus */
	uint64_t malformed;		/* not a vigil msgpack event: counted and skipped */
	uint64_t filtered;		/* event types the config did not ask for */
	uint64_t delivered;		/* events handed to the framework */
	uint64_t undecodable;		/* payloads extraction could not decode */
	/* delivery, from the bus messages' stamps (core/bus): what the agent published and
	 * this plugin never received, because Falco fell behind and the bus dropped it */
	uint64_t missed;
	uint64_t gaps;
	uint64_t restarts;		/* agent restarts seen (a new stream, not a loss) */
	uint64_t last_seq;
};

struct fp_state {
	struct fp_config cfg;
	size_t headroom;
	char error[512];		/* the last failure, "" while there was none */
	char summary[256];		/* what fp_state__last_error shows without a failure */
	struct fp_counters cnt;
	struct fp_source *src;		/* the open source whose batch extraction looks into */
	struct lookup lookup;
	struct evtime_cache evtime;	/* next_batch's event times */
	struct view_key_memos memo;	/* the index's keys, for every view of this state */
	struct fp_view *cur;		/* the event fp_extract__begin resolved */
	uint64_t event_gen;		/* bumped whenever begin resolves another event */
	struct fp_result results[FP_FIELDS_MAX];		/* fields without an index, by id */
	struct fp_result indexed[FP_INDEXED_RESULTS];	/* fields with one */
	msgpack_zone zone;		/* containers view_get unpacked, of one event at a time */
	uint64_t zone_gen;		/* bumped at every clear of the zone; starts at 1 */
	struct vigil_msg *shown;	/* fp_describe's full decode */
	struct arena arena;		/* extraction results */
	struct vigil_buf text;		/* fp_describe's line */
	struct vigil_buf scratch;	/* JSON rendering of argument values */
	fp_log_fn log;			/* the framework's logging, NULL for none */
	void *log_owner;
	void *abi_scratch;		/* the shim's, freed with the state */
};

/* Record a failure for fp_state__last_error. */
void state_fail(struct fp_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- fields (fields.c) ---- */

#define FIELD_LIST	(1u << 0)	/* several values (3.x isList) */
#define FIELD_INDEX	(1u << 1)	/* needs an index argument: vigil.args[2] */
#define FIELD_TEXT	(1u << 2)	/* get_text of path: strings are answered without the getter */
#define FIELD_UINT	(1u << 3)	/* get_u64 of path: integers are answered without the getter */

/* An extraction in progress: getters append values of the field's type. */
struct fx {
	struct fp_state *st;
	struct fp_view *v;
	uint32_t n, cap;
	enum fp_type type;
	union {
		const char **str;
		uint64_t *u64;
		struct fp_bytes *buf;
	};
	bool arg_present;
	uint64_t arg_index;
	int err;			/* sticky: first failure of an append */
	void *one;			/* room for the first value (NULL: the arena's) */
};

struct fp_field {
	const char *name;
	enum fp_type type;
	unsigned int flags;
	const char *display;
	const char *desc;
	void (*get)(struct fx *x, const struct fp_field *f);
	const char *path;		/* for the getters that read one path */
};

extern const struct fp_field fp_fields[];
extern const size_t fp_nfields;
/* The view key of each field's path (-1: none), by field id. */
extern int8_t fp_field_keys[FP_FIELDS_MAX];
/* Resolve the table's paths to view keys (once; fp_state__new calls it). */
void fields_init(void);

/* ---- values (values.c): appending getter results ---- */

void fx_str(struct fx *x, const char *s, size_t n);
void fx_u64(struct fx *x, uint64_t v);
void fx_ip(struct fx *x, const void *addr, uint32_t len);
/* Any msgpack value as text: strings as they are, numbers in decimal, containers as JSON. */
void fx_text(struct fx *x, const msgpack_object *o);
/* Make the result something a 0.3.0 framework can hold: one string or one uint64. */
int fx_flatten(struct fx *x);

#endif
