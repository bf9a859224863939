/* export_internal.h - what the export files share: the JSON list reader, error filling,
 * the clock, the backup names and the background mill. Not part of libvigil's interface. */
#ifndef VIGIL_EXPORT_INTERNAL_H
#define VIGIL_EXPORT_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "export.h"

/* Fill err (when given) and return -EINVAL. */
int export_fail(struct vigil_export_error *err, int line, int column, int index, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Call fn for each JSON object of text (one object, an array of objects, or objects one
 * after another). index counts objects from 1; line is where the object (or its array)
 * starts. Returns 0, fn's non-zero return, or -EINVAL with err filled. */
typedef int (*export_json_fn)(void *ctx, json_t *obj, int index, int line, struct vigil_export_error *err);
int export_json_each(const char *text, export_json_fn fn, void *ctx, struct vigil_export_error *err);

/* Whether a filter regex is safe to hand glibc's regcomp (regex.c): RE2's rules on
 * repetitions, and a cap on the copies glibc makes of repeated parts. 0, or -EINVAL with
 * the reason in why. */
int export_regex_check(const char *pattern, char *why, size_t size);

/* A set of event types (event_set). */
#define EXPORT_MAX_TYPES 32

struct export_types {
	size_t n;
	enum vigil_event_type t[EXPORT_MAX_TYPES];
};

/* Add t (no duplicates). 0 or -E2BIG. */
int export_types_add(struct export_types *s, enum vigil_event_type t);
bool export_types_has(const struct export_types *s, enum vigil_event_type t);

/* An event_set value: a name in any spelling ("PROCESS_EXEC", "process_exec", "exec") or a
 * Tetragon EventType number. 0 or -EINVAL. */
int export_event_type(json_t *v, enum vigil_event_type *out);

/* ---- field filters (fields.c) ---- */

/* A trie of path segments; a leaf covers everything under it. */
struct field_node {
	char *name;
	bool leaf;
	struct field_node *kids;
	size_t nkids;
};

struct field_filter {
	bool include;
	bool has_types;
	bool invert;
	struct export_types types;
	struct field_node root;
};

struct vigil_field_filter {
	struct field_filter *v;
	size_t n;
	msgpack_zone zone;
	bool zone_ready;
	msgpack_object root;
};

/* n's child named s[0..len), or NULL. */
struct field_node *export_field_child(const struct field_node *n, const char *s, size_t len);
/* Whether ff applies to events of type t (event_set, invert_event_set). */
bool export_field_applies(const struct field_filter *ff, enum vigil_event_type t);

/* The export line of a view of the agent's own bytes (vigil_msg__view_own), written
 * straight from them (stream.c): the field filters of ff (NULL: none) that apply to t,
 * and, with strip, vigil's own fields left out as export_strip_own leaves them out; the
 * same bytes vigil_json_from_msgpack writes for the filtered, stripped tree. Appends to
 * out; *stripped says whether a field was left out. 0, -E2BIG when more filters apply
 * than it follows at once (the caller renders the tree instead), -EINVAL, -ENOMEM. */
#define EXPORT_STREAM_FILTERS 16
int export_stream_line(const struct vigil_field_filter *ff, enum vigil_event_type t, bool strip, const void *data,
		       size_t len, struct vigil_buf *out, bool *stripped);

/* ---- Tetragon-pure lines (pure.c) ---- */

/* process_alert, rule_action, rule_status: kinds Tetragon's GetEventsResponse lacks. */
bool export_is_own_kind(enum vigil_event_type t);
/* Whether key, in the body of an event of kind (its root key), is one of vigil's own fields. */
bool export_is_own_field(const msgpack_object *kind, const msgpack_object *key);
/* root without the vigil-only fields of its body: root itself when it has none, else a
 * copy built in z (leaves shared) at out. NULL on ENOMEM. */
const msgpack_object *export_strip_own(msgpack_zone *z, const msgpack_object *root, msgpack_object *out);

/* The clock, one function so unit tests can wrap it (-Wl,--wrap=export_clock_ns). */
uint64_t export_clock_ns(clockid_t clock);

/* ---- backups (rotate.c, mill.c) ---- */

/* "events" + "-" and ".json" for "/dir/events.json"; the stem keeps the directory. */
struct export_names {
	char dir[4096];
	char prefix[512];	/* "events-" */
	char ext[64];		/* ".json", or "" */
};

#define EXPORT_STAMP_LEN 23	/* "2026-11-29T08-02-18.369" */

int export_names_init(struct export_names *n, const char *path);
/* Whether name (a directory entry) is a backup: prefix, a stamp, ext, maybe ".gz". Fills
 * stamp (EXPORT_STAMP_LEN + 1) and *gz. */
bool export_names_match(const struct export_names *n, const char *name, char *stamp, bool *gz);

/* The background thread: gzips rotated files and deletes backups past max_backups, in
 * the order it was asked. */
struct export_mill;

struct export_mill *export_mill_start(const struct export_names *names, unsigned int max_backups, bool compress,
				      unsigned int perm);
/* Backups kept from the next retention on (eventlog set); any thread. */
void export_mill_set_max_backups(struct export_mill *m, unsigned int max_backups);
/* Queue a rotated file (full path, copied): compress it if asked, then apply retention. */
int export_mill_push(struct export_mill *m, const char *path);
/* Compress what earlier runs left uncompressed and apply retention (queued). */
int export_mill_recover(struct export_mill *m);
/* Finish the queue, stop the thread, free. Accepts NULL. */
void export_mill_stop(struct export_mill *m);
uint64_t export_mill_compressed(const struct export_mill *m);
uint64_t export_mill_removed(const struct export_mill *m);
uint64_t export_mill_errors(const struct export_mill *m);

/* gzip src into dst (written as dst.tmp, then renamed); src is left. 0 or -errno. */
int export_gzip_file(const char *src, const char *dst, unsigned int perm);

#endif
