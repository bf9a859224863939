/* table.h - the extension's tables: descriptors, rows built from bus events, the bounded
 * stores that keep them, and the answers to osquery's "columns" and "generate".
 *
 * An event table describes its columns and how one bus event becomes a row (or does not
 * belong to it); the feed builds rows and pushes them into the table's store; generate
 * reads the store under the request's constraints. A live table (vigil_policies) answers
 * generate itself, from the agent, at query time.
 */
#ifndef OSQ_TABLE_H
#define OSQ_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/bus.h"
#include "constraints.h"
#include "encode/encode.h"
#include "wire.h"

/* osquery's ColumnOptions bits this extension uses. */
enum {
	COL_INDEX = 1,		/* constraints on it are pushed down (pid) */
	COL_ADDITIONAL = 4,
	COL_HIDDEN = 16,	/* left out of SELECT * (time, eid, json_cmdline, as bpf_* did) */
};

/* A column as osquery declares one: name, type as osquery spells it ("TEXT",
 * "INTEGER", "BIGINT", "UNSIGNED BIGINT", "DOUBLE"), ColumnOptions. */
struct column {
	const char *name;
	const char *type;
	unsigned int options;
};

/* Columns a table may have; the row builder's arrays are this big. */
#define TABLE_MAX_COLUMNS 32

struct row_builder;
struct table;

/* The bus subscription's delivery, as vigil_delivery shows it. */
struct osq_delivery {
	struct vigil_delivery d;	/* from the stamps (core/bus) */
	uint64_t malformed;		/* not a vigil event: skipped */
	bool subscribed;
};

/* What a live table needs at query time. */
struct live_ctx {
	const char *control_url;
	int timeout_ms;
	const char *bus_url;
	struct osq_delivery delivery;	/* a copy taken for this query */
};

struct table {
	const char *name;
	const struct column *columns;
	size_t ncolumns;
	/* event tables: fill rb from the event; return 1 when the event belongs to the table,
	 * 0 when it does not, or -errno */
	int (*extract)(const struct vigil_msg *m, struct row_builder *rb);
	/* live tables: write the rows of a generate answer (osq_write_row_begin and pairs);
	 * c is advisory. Return 0 or -errno (the answer then fails with that error) */
	int (*generate)(const struct table *t, const struct live_ctx *ctx, const struct osq_constraints *c,
			struct tb_writer *w, struct osq_rows *rows);
};

/* ---- the tables (tables.c lists them; one file each) ---- */

extern const struct table table_process_events;
extern const struct table table_socket_events;
extern const struct table table_file_events;
extern const struct table table_policy_events;
extern const struct table table_alerts;
extern const struct table table_policies;
extern const struct table table_delivery;

extern const struct table *const tables[];
extern const size_t ntables;

/* The table called name, or NULL. */
const struct table *table_find(const char *name, size_t len);
/* Index of a table in tables[]. */
size_t table_index(const struct table *t);
/* Write a table's routes (what registerExtension carries and "columns" answers): one
 * {"id":"column","name","type","op"} map per column, then {"id":"attributes"}. As a list
 * for registration, or as rows of a response. */
void table_write_routes(struct tb_writer *w, const struct table *t);
void table_write_route_rows(struct tb_writer *w, const struct table *t, struct osq_rows *rows);

/* ---- rows ---- */

/* A stored row: values per column (NULL when the event had nothing for it), and the
 * numbers generate filters on. One allocation; release with free(). */
struct row {
	int64_t time;		/* event time, unix seconds */
	uint64_t pid;
	bool has_pid;
	uint64_t arrived;	/* mono_now_ms() when built: what expiry looks at */
	const char *values[];	/* table->ncolumns entries */
};

struct row_builder {
	const struct table *t;
	struct vigil_buf text;	/* the values, each NUL-terminated */
	size_t at[TABLE_MAX_COLUMNS];	/* offset into text, or SIZE_MAX when unset */
	int64_t time;
	uint64_t pid;
	bool has_pid;
	int err;		/* sticky: -ENOMEM */
};

void rb_init(struct row_builder *rb);
/* Start a row of table t (keeps the builder's memory). */
void rb_reset(struct row_builder *rb, const struct table *t);
void rb_free(struct row_builder *rb);
/* Set a column's value. Columns the table does not have are ignored, so the fillers
 * below serve every table. Setting a column twice keeps the last value. */
void rb_set(struct row_builder *rb, const char *column, const char *value);
void rb_setf(struct row_builder *rb, const char *column, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A msgpack value as text: strings as they are, integers in decimal, booleans as 1/0,
 * nil as "", arrays and maps as JSON. */
void rb_set_obj(struct row_builder *rb, const char *column, const msgpack_object *o);
/* Fill the columns every event table shares from the event: process identity (pid, tid,
 * parent, uid, gid, auid, binary/path, exec ids, container id) and time, ntime. */
void rb_fill_common(struct row_builder *rb, const struct vigil_msg *m);
/* The finished row (caller frees), or NULL + errno. */
struct row *rb_finish(struct row_builder *rb, uint64_t arrived);

/* ---- event helpers shared by the extractors (event.c) ---- */

/* The event's "time" (RFC 3339) as unix ns. Returns 0 or -ENOENT / -EINVAL. */
int event_time_ns(const struct vigil_msg *m, int64_t *ns);
/* The member key of map o, or NULL. */
const msgpack_object *obj_get(const msgpack_object *o, const char *key);
/* The first element of the event's "args" that is a map holding key (e.g. "sock_arg"),
 * and that member's value; NULL when none. */
const msgpack_object *event_arg(const struct vigil_msg *m, const char *key);
/* The value a policy event's "return" holds ({"int_arg": -13} gives -13), the "return"
 * object itself when it is not one typed value, or NULL. */
const msgpack_object *event_return_value(const struct vigil_msg *m);
/* What a policy event hooked: function_name (kprobe, lsm), "subsys/event" (tracepoint),
 * symbol (uprobe). Copied into out; "" when absent. */
void event_function(const struct vigil_msg *m, char *out, size_t size);
/* True for the policy event keys: process_kprobe, process_tracepoint, process_lsm,
 * process_uprobe. */
bool event_is_policy(const struct vigil_msg *m);
/* Append s (n bytes) as a JSON string. Returns 0 or -ENOMEM. */
int json_put_string(struct vigil_buf *out, const char *s, size_t n);

/* ---- stores: bounded, time-expiring rings of rows ---- */

struct store;

/* A store for up to capacity rows, each kept expiry_s seconds (both at least 1). NULL +
 * errno. now arguments below are mono_now_ms() values. */
struct store *store_new(size_t capacity, unsigned int expiry_s);
/* Frees every row. Accepts NULL. */
void store_free(struct store *s);
/* Take row (owned by the store from now on). Expired rows go first; when the store is
 * still full, the oldest row is dropped (counted). */
void store_push(struct store *s, struct row *row, uint64_t now);
/* Call fn on every unexpired row, oldest first, under the store's lock; stop at the first
 * non-zero return and return it. */
int store_each(struct store *s, uint64_t now, int (*fn)(const struct row *row, void *arg), void *arg);

struct store_stats {
	size_t size;
	uint64_t pushed, dropped, expired;
};

void store_stats(struct store *s, struct store_stats *out);

/* ---- generate (generate.c) ---- */

/* Write one row of table t into a response: the columns it has a value for. */
void table_write_row(struct tb_writer *w, struct osq_rows *rows, const struct table *t, const struct row *row);

/* Write the rows of store s that pass c, as a table t answer. Returns 0 or -errno. */
int table_generate_store(const struct table *t, struct store *s, const struct osq_constraints *c, uint64_t now,
			 struct tb_writer *w, struct osq_rows *rows);

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t mono_now_ms(void);

#endif
