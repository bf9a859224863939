/* encode.h - the three encodings of an event, and the decoded view of a bus message.
 *
 * The msgpack encoding is the canonical tree: the JSON encoding is Tetragon's export format
 * (protojson with proto field names, default values omitted), and the msgpack tree holds
 * the same keys, in the same order, with the same value types (strings where protojson
 * writes strings, so 64-bit integers are strings in both). Consumers of the bus decode it
 * into a struct vigil_msg and render JSON or the compact line from there, so the agent's
 * own output and every subscriber print the same bytes.
 */
#ifndef VIGIL_ENCODE_H
#define VIGIL_ENCODE_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>

#include "../common/common.h"
#include "../events/events.h"

/* Append the msgpack encoding of ev to out: a map {"<type key>": {...}, "node_name": ...,
 * "time": "..."}. Returns 0, -ENOMEM, or -EINVAL for an event type it cannot encode. */
VIGIL_API int vigil_encode_msgpack(const struct vigil_event *ev, struct vigil_buf *out);

/* vigil_encode_msgpack, noting in the same pass where the body ends (*body_end, counted
 * from where the message starts in out): the root's entries after it (node_name, time)
 * are then found without walking the body (vigil_msg__view_own). Not exported. */
int vigil_encode_msgpack_marked(const struct vigil_event *ev, struct vigil_buf *out, size_t *body_end);

/* A decoded msgpack event. */
struct vigil_msg;

/* Decode one message. The bytes are copied where needed; the caller keeps data. Returns
 * NULL + errno (EBADMSG for malformed or trailing bytes, or a root that is not a map whose
 * first key names an event). */
VIGIL_API struct vigil_msg *vigil_msg__decode(const void *data, size_t len);
/* vigil_msg__decode of bytes vigil_encode_msgpack wrote in this process (the agent's text
 * sinks), without the flat scan that guards msgpack-c from other processes' bytes. Never
 * for bytes from outside. Not exported. */
struct vigil_msg *vigil_msg__decode_own(const void *data, size_t len);
/* The JSON line of a message vigil_encode_msgpack wrote in this process, before the bus
 * stamped it, rendered straight from its bytes without unpacking: what vigil_msg__to_json
 * prints for it. Appends; 0, -ENOMEM, or -EINVAL for a form the encoder does not write.
 * Never for bytes from outside. Not exported. */
int vigil_json_from_own_msgpack(const void *data, size_t len, struct vigil_buf *out);
/* The same line with only the children keep accepts: it is asked about each child of each
 * container below the root, in order (key: a map entry's key, NULL for an array's item;
 * depth: 0 for the root's entries, 1 for the body's, ...; container: the child is a map or
 * array, whose children are asked about next, at depth + 1), and a child it refuses is left
 * out with everything under it. The export's field filters and strip (core/export
 * stream.c). Not exported. */
typedef bool (*vigil_json_keep_fn)(void *ctx, int depth, const msgpack_object *key, bool container);
int vigil_json_from_own_msgpack_kept(const void *data, size_t len, vigil_json_keep_fn keep, void *ctx,
				     struct vigil_buf *out);
/* Accepts NULL. */
VIGIL_API void vigil_msg__free(struct vigil_msg *m);

/* A view: bytes vigil_encode_msgpack wrote in this process (before the bus stamped them)
 * read in place, for the agent's compact line and export file. Lookups walk the bytes;
 * only a container a caller asks for is unpacked (into the view, until the next
 * vigil_msg__view_own). Never for bytes from outside. None of these are exported.
 * new_view: NULL + errno; free it with vigil_msg__free. */
struct vigil_msg *vigil_msg__new_view(void);
/* Point the view at data[0..len), borrowed until the next call or the free: 0, or -EBADMSG
 * when the root is not a map whose first key names an event. body_end: where the body
 * ends (vigil_encode_msgpack_marked's), or 0 when not known. */
int vigil_msg__view_own(struct vigil_msg *m, const void *data, size_t len, size_t body_end);
/* A view's bytes: 0, or -ENOENT for a decoded message. */
int vigil_msg__own_bytes(const struct vigil_msg *m, const void **data, size_t *len);

/* One item of such bytes at data[0..avail): a scalar as msgpack-c unpacks it (strings and
 * bin point into data), or a container's header with its count of entries or items. The
 * item's length (a string's payload included), or 0 for bytes cut short or a form the
 * encoder never writes (floats, ext). */
struct vigil_own_item {
	msgpack_object obj;	/* a container's obj carries only its type */
	uint32_t children;	/* map entries or array items */
};
size_t vigil_own_item(const void *data, size_t avail, struct vigil_own_item *it);
/* The offset just past the object at data + off, its children included; 0 when cut short. */
size_t vigil_own_skip(const void *data, size_t len, size_t off);

/* The bus's delivery stamp (core/bus/bus.h): decoding takes it off the root map, so
 * vigil_msg__root, the renderings and lookups never show it. 0, or -ENOENT without one. */
VIGIL_API int vigil_msg__delivery(const struct vigil_msg *m, uint64_t *incarnation, uint64_t *seq);
VIGIL_API const msgpack_object *vigil_msg__root(const struct vigil_msg *m);
/* The event key ("process_exec") and its type; the body is the map under that key. */
VIGIL_API const char *vigil_msg__type_key(const struct vigil_msg *m);
VIGIL_API enum vigil_event_type vigil_msg__type(const struct vigil_msg *m);	/* 0 if not a known type */
VIGIL_API const msgpack_object *vigil_msg__body(const struct vigil_msg *m);

/* Look up a dotted path under the body ("process.binary", "parent.pid"), or under the root
 * when the path starts with '/' ("/node_name"). NULL when absent. */
VIGIL_API const msgpack_object *vigil_msg__find(const struct vigil_msg *m, const char *path);
/* Convenience: the string at path copied into out (size bytes, truncated, NUL-terminated);
 * returns the full length or -ENOENT. The integer at path: 0 or -ENOENT. */
VIGIL_API int vigil_msg__find_str(const struct vigil_msg *m, const char *path, char *out, size_t size);
VIGIL_API int vigil_msg__find_u64(const struct vigil_msg *m, const char *path, uint64_t *out);
/* What is at path without unpacking it: its type, and its count (map entries, array items,
 * string or bin bytes; 0 for other scalars). 0 or -ENOENT. Not exported. */
int vigil_msg__find_kind(const struct vigil_msg *m, const char *path, msgpack_object_type *type, uint32_t *count);
/* Whether the array at path holds the string s (a view reads the items in place). */
bool vigil_msg__array_has_str(const struct vigil_msg *m, const char *path, const char *s);

/* Check the first msgpack object of data[0..len) without unpacking it: every length and
 * count is backed by bytes and the nesting is within what msgpack-c accepts. Run it before
 * msgpack_unpack or msgpack_unpack_next sees bytes from another process: they allocate a
 * container's elements from the count in its header before the bytes exist, so a 5-byte
 * map32 header asks for ~100 GB. Returns 0 with *used the object's length (the bytes after
 * it are not looked at), or -EBADMSG (invalid, cut short, or nested too deep). */
VIGIL_API int vigil_msgpack_scan(const void *data, size_t len, size_t *used);
/* The same check on a stream's first bytes: data[0..len) may hold only the start of an
 * object that may take up to max bytes. Returns 0 with *used as above, -EAGAIN when more
 * bytes could complete it within max, or -EBADMSG when nothing can (invalid, a length or
 * count that max cannot hold, or max bytes read without an end). */
VIGIL_API int vigil_msgpack_scan_prefix(const void *data, size_t len, size_t max, size_t *used);

/* Where the root's last children start, from one scan of a whole message: the bus stamp
 * (core/bus stamp.c) is the root map's last two entries, read without a second walk. */
#define VIGIL_MSGPACK_TAIL 4
/* A root map's entries that may hold the bus stamp: its last two (never the first). */
#define VIGIL_BUS_STAMP_ENTRIES 2
struct vigil_msgpack_tail {
	size_t len;				/* the object's length (all of data) */
	uint64_t items;				/* children of the root (2 per map entry) */
	size_t start[VIGIL_MSGPACK_TAIL];	/* child i starts at start[i % VIGIL_MSGPACK_TAIL] */
};
/* vigil_msgpack_scan of data[0..len) as one whole object (trailing bytes refused), noting
 * where the root's last VIGIL_MSGPACK_TAIL children start. 0 or -EBADMSG. */
VIGIL_API int vigil_msgpack_scan_tail(const void *data, size_t len, struct vigil_msgpack_tail *tail);

/* The value of string key `key` in a msgpack map (the first if keys repeat), or NULL when
 * map is not a map or has no such key. For any msgpack tree: control replies, configs. */
VIGIL_API const msgpack_object *vigil_msgpack_get(const msgpack_object *map, const char *key);

/* Render any msgpack object as JSON (compact, no newline). Strings are escaped as JSON
 * requires; binary as base64 (protojson's bytes). Appends. Returns 0 or -ENOMEM / -EINVAL. */
VIGIL_API int vigil_json_from_msgpack(const msgpack_object *o, struct vigil_buf *out);
/* The event as one JSON line (no newline). */
VIGIL_API int vigil_msg__to_json(const struct vigil_msg *m, struct vigil_buf *out);

struct vigil_compact_opts {
	bool color;		/* ANSI colours as tetra's --color always */
	bool timestamps;	/* prefix the event time */
};

/* The event as tetra's compact line (no newline), e.g.
 * "🚀 process my-node /usr/bin/curl https://example.com". opts may be NULL. */
VIGIL_API int vigil_msg__to_compact(const struct vigil_msg *m, const struct vigil_compact_opts *opts,
				    struct vigil_buf *out);

#endif
