/* export.h - what leaves the agent as files, and the event filters everyone shares.
 *
 * Four parts, usable alone:
 *  - event filters (vigil_filter): Tetragon's allow/deny list `Filter` objects, matched
 *    against a decoded bus message; the agent's export, `vigil getevents` and plugins'
 *    bus subscriptions use the same code;
 *  - field filters (vigil_field_filter): Tetragon's --field-filters, include/exclude
 *    fields per event type, applied to the event tree before it is rendered;
 *  - the rotating file (vigil_export_file): JSON lines, rotated by size and interval,
 *    old files kept as path-<UTC timestamp>.ext and gzipped on a background thread;
 *  - the exporter (vigil_exporter): the agent's pipeline gluing them, with a per event
 *    type rate limit that reports what it dropped as `rate_limit_info` events.
 *
 * Errors a user must fix (bad JSON, unknown keys, bad regexes) come back in a struct
 * vigil_export_error; nothing here prints.
 */
#ifndef VIGIL_EXPORT_H
#define VIGIL_EXPORT_H

#include <msgpack.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"
#include "../encode/encode.h"
#include "../events/events.h"

/* Where a filter definition went wrong. line/column are 1-based positions in the text
 * given (0 when the problem is not at one place); index is the 1-based filter object. */
struct vigil_export_error {
	int line;
	int column;
	int index;
	char reason[256];
};

/* ---- event filters ---- */

/* A list of filter objects. An event matches the list when it matches any object (OR);
 * it matches an object when every key the object sets matches (AND); a key with a list
 * matches when any value does; {} matches everything. Keys, as Tetragon's Filter:
 *   event_set            ["PROCESS_EXEC", ...] (also "process_exec", "exec", or numbers)
 *   binary_regex         [regex, ...] against process.binary
 *   parent_binary_regex  [regex, ...] against parent.binary
 *   arguments_regex      [regex, ...] against process.arguments
 *   container_id         [regex, ...] against process.docker (the container id's first 31
 *                        characters; events from the host have none and never match)
 *   namespace            [name, ...]: process.pod.namespace; "" matches events outside pods
 *   pod_regex            [regex, ...] against process.pod.name
 *   labels               [selector, ...]: Kubernetes label selectors (=, ==, !=, in, notin,
 *                        key, !key; commas AND) on process.pod.pod_labels; any may match;
 *                        an event without a pod matches none
 *   pid                  [pid, ...]: process.pid
 *   pid_set              [pid, ...]: process.pid or one of its ancestors
 *   policy_names         [name, ...]: the policy that produced the event (kprobe,
 *                        tracepoint, lsm, uprobe events; exec and exit never match)
 *   cel_expression       [expr, ...]: CEL expressions (core/cel/cel.h: Tetragon's environment,
 *                        type-checked when the filter is built). In order, only those that
 *                        name the event's kind are evaluated: the first true one matches;
 *                        one whose evaluation fails (null > 1u, a missing map key, a
 *                        limit) ends the key unmatched, as in Tetragon, and is counted
 *                        (vigil_filter__cel_errors)
 *   health_check         true: the process or its parent is a health probe of the
 *                        agent, false: neither is. A probe is the installed vigil client
 *                        (see vigil_filter__set_client) run by root (uid and euid 0) with
 *                        `status` as its first argument; a process is a probe's child only
 *                        when its parent is such a probe. Anything else named vigil is not.
 * Regexes are POSIX extended (regcomp REG_EXTENDED), unanchored like RE2's Match: most
 * Tetragon patterns carry over; Perl classes such as \d do not. Any other key (capabilities,
 * ...) is refused rather than ignored, so
 * an allow list never lets through more than it says. */
/* Compile a user's POSIX extended regex (pattern) for an unanchored search with REG_NOSUB,
 * as ^.*(pattern): one pass over the subject, where glibc searches an unanchored pattern by
 * retrying it at every start, quadratic in the subject. The cost rules of filter regexes
 * (regex.c: RE2's repetition limits, glibc's copies, no back-references, no unmatched ')')
 * apply first. 0, -EINVAL with the reason in why, or -ENOMEM; on success the caller
 * regfree()s re. Everything that matches a user's regex against what users control
 * (arguments, paths, namespaces) compiles it here. */
VIGIL_API int vigil_regex_search_compile(regex_t *re, const char *pattern, char *why, size_t size);

struct vigil_filter;

/* Parse filter objects from text: one JSON object, a JSON array of objects, or objects
 * one after another (Tetragon's newline-separated list). NULL + errno (EINVAL with err
 * filled when the text is wrong, ENOMEM). err may be NULL. The result is owned by the
 * caller (vigil_filter__free). */
VIGIL_API struct vigil_filter *vigil_filter__new_json(const char *text, struct vigil_export_error *err);
/* Accepts NULL. */
VIGIL_API void vigil_filter__free(struct vigil_filter *f);
/* Events on which a cel_expression failed to evaluate (each such event matched nothing
 * there), and the last failure's reason in *last (NULL when none; valid until the next
 * match). Accepts NULL. */
VIGIL_API uint64_t vigil_filter__cel_errors(const struct vigil_filter *f, const char **last);
/* The number of filter objects. */
VIGIL_API size_t vigil_filter__count(const struct vigil_filter *f);

/* The pids of the ancestors of the event's process, nearest first: at most max into pids;
 * returns how many. Installed by whoever has the process tree (the agent: its process
 * cache); m is the event being matched. */
typedef size_t (*vigil_filter_ancestors_fn)(void *ctx, const struct vigil_msg *m, uint32_t *pids, size_t max);

/* Where pid_set finds ancestors. Without a resolver (a bus subscriber has no process
 * tree), pid_set learns descendants from the stream as Tetragon does: a process whose
 * parent is in the set or already learned is learned (by exec_id, so a reused pid is not
 * mistaken for a descendant; bounded, oldest forgotten first). Then only descendants
 * that started while the filter was watching are found. */
VIGIL_API void vigil_filter__set_ancestors(struct vigil_filter *f, vigil_filter_ancestors_fn fn, void *ctx);

/* The vigil client whose `status` runs are health probes, compared with the binary the
 * kernel reports, so path is resolved (realpath) when it exists. By default (set when the
 * filter is built) it is the `vigil` next to the running program, else /usr/bin/vigil or
 * /usr/local/bin/vigil, and only a file owned by root that group and others cannot write
 * counts: a client anyone else could replace is no client. NULL: none, health_check true
 * then matches nothing. 0 or -ENOMEM. */
VIGIL_API int vigil_filter__set_client(struct vigil_filter *f, const char *path);

/* Whether m matches any object of f (an empty list matches nothing). Not thread-safe (pid_set learning, scratch space):
 * one thread per filter. */
VIGIL_API bool vigil_filter__match(struct vigil_filter *f, const struct vigil_msg *m);

/* Tetragon's rule for a pair of lists: pass when the allow list is NULL, empty or matches,
 * and the deny list is NULL, empty or does not match (deny wins). */
VIGIL_API bool vigil_filter__pass(struct vigil_filter *allow, struct vigil_filter *deny, const struct vigil_msg *m);

/* ---- field filters ---- */

/* A list of field filters applied in order, each
 *   {"fields": "process.binary,process.pid,parent", "action": "INCLUDE" | "EXCLUDE",
 *    "event_set": ["PROCESS_EXEC", ...], "invert_event_set": false}
 * Paths are dotted, relative to the event body (process_exec's object), as Tetragon's
 * field masks; a path through a list applies to each element. INCLUDE keeps only the
 * named fields, EXCLUDE removes them; node_name and time are never touched. A filter
 * applies to the events in event_set (all when absent), or to the others when
 * invert_event_set is true. */
struct vigil_field_filter;

/* Same text forms as vigil_filter__new_json. NULL + errno (EINVAL with err filled). */
VIGIL_API struct vigil_field_filter *vigil_field_filter__new_json(const char *text, struct vigil_export_error *err);
VIGIL_API void vigil_field_filter__free(struct vigil_field_filter *ff);

/* The event tree after the filters: m's own root when none applies, otherwise a pruned
 * copy that shares m's leaves. Valid until the next call on ff, vigil_field_filter__free,
 * or vigil_msg__free(m). NULL + errno on ENOMEM. Render it with vigil_json_from_msgpack
 * or msgpack_pack_object. One thread per ff. */
VIGIL_API const msgpack_object *vigil_field_filter__apply(struct vigil_field_filter *ff, const struct vigil_msg *m);

/* ---- the rotating file ---- */

/* Rotated files are named as lumberjack (Tetragon's writer) names them: for
 * /var/log/vigil/events.json, /var/log/vigil/events-2026-11-29T08-02-18.369.json, the UTC
 * time of the rotation, then .gz once compressed. Backups sort by name in time order; two
 * rotations within one millisecond get distinct names. */
/* The bounds of the rotation's values, at start (vigild) and at run time (eventlog set). */
#define VIGIL_EXPORT_MAX_SIZE_MB_LIMIT (1L << 20)
#define VIGIL_EXPORT_MAX_BACKUPS_LIMIT 100000L

struct vigil_export_file_opts {
	size_t sz;			/* sizeof(struct vigil_export_file_opts) */
	const char *path;		/* the live file (appended to when it exists) */
	uint64_t max_bytes;		/* rotate before a line would pass this; 0: never by size */
	uint64_t interval_ns;		/* rotate a non-empty file this long after it was opened; 0: never */
	unsigned int max_backups;	/* rotated files kept, newest first; 0: keep all */
	bool compress;			/* gzip rotated files (background thread) */
	unsigned int perm;		/* mode of new files; 0: 0600 */
};

struct vigil_export_file_stats {
	uint64_t lines;			/* records written */
	uint64_t bytes;			/* bytes written, newlines included */
	uint64_t rotations;
	uint64_t compressed;		/* backups gzipped */
	uint64_t removed;		/* backups deleted past max_backups */
	uint64_t write_errors;		/* failed writes (records lost: counted here) */
	uint64_t compress_errors;	/* backups left uncompressed */
};

struct vigil_export_file;

/* Open (create, mode perm) path for appending and start the background thread. Backups
 * left uncompressed by an earlier run are compressed, and retention applied, at once.
 * NULL + errno; the reason is logged. */
VIGIL_API struct vigil_export_file *vigil_export_file__open(const struct vigil_export_file_opts *opts);
/* Write one record of len bytes (no newline: it is added). A record is never split: a
 * rotation happens before it when it would not fit, and a record bigger than max_bytes
 * gets a file of its own. Buffered; 0 or -errno (counted in write_errors). */
VIGIL_API int vigil_export_file__write(struct vigil_export_file *f, const void *line, size_t len);
/* Write out what is buffered and rotate if the interval has passed. 0 or -errno. */
VIGIL_API int vigil_export_file__flush(struct vigil_export_file *f);
/* Rotate now (a non-empty file only). 0 or -errno. */
VIGIL_API int vigil_export_file__rotate(struct vigil_export_file *f);
/* Change the rotation (vigil eventlog set) between two records: the next record is checked
 * against the new size, the next flush against the new interval, and the next retention keeps
 * max_backups. No record is lost or written twice. The writer's thread, or under its lock. */
VIGIL_API void vigil_export_file__set_rotation(struct vigil_export_file *f, uint64_t max_bytes, uint64_t interval_ns,
					       unsigned int max_backups);
/* The options in force (path, max_bytes, interval_ns, max_backups, compress, perm). Same
 * thread rule. */
VIGIL_API void vigil_export_file__rotation(const struct vigil_export_file *f, struct vigil_export_file_opts *out);
/* Counters; any thread. */
VIGIL_API void vigil_export_file__stats(const struct vigil_export_file *f, struct vigil_export_file_stats *out);
/* Flush, close, wait until pending compressions are done, free. Accepts NULL. */
VIGIL_API void vigil_export_file__close(struct vigil_export_file *f);

/* ---- the exporter: the agent's export pipeline ---- */

struct vigil_pcache;

#define VIGIL_EXPORT_RATE_TYPES 32	/* event types the rate limit tracks apart */

/* Where vigil's own event kinds (process_alert, rule_action, rule_status) and vigil's own
 * fields in Tetragon's messages (a policy event's "monitored") are exported. Tetragon's
 * GetEventsResponse has no member for them, so a strict protojson reader (Go's protojson,
 * Python's json_format) refuses a file that carries them. */
enum vigil_export_own {
	/* their own file (own_path), rotated like the export file: the export file holds
	 * only what Tetragon's schema describes. The default. */
	VIGIL_EXPORT_OWN_FILE,
	/* the export file, extensions kept: one file with everything, for vigil's own tools */
	VIGIL_EXPORT_OWN_SAME,
	/* not exported (subscribers of the bus still get them); the export file is pure */
	VIGIL_EXPORT_OWN_BUS,
};

struct vigil_exporter_opts {
	size_t sz;				/* sizeof(struct vigil_exporter_opts) */
	struct vigil_export_file_opts file;	/* file.path required */
	const char *allowlist;			/* filter JSON text, NULL for none */
	const char *denylist;
	const char *field_filters;
	/* --export-rate-limit: "N" (events a minute for each event type), or a comma list of
	 * "N" and "TYPE=N" ("exec=600,kprobe=6000,1000": the bare number is the default for the
	 * other types). -1 is unlimited, 0 drops every event of the type (Tetragon: 0 disables
	 * export). Token buckets: a burst of N passes, then N a minute. NULL: unlimited. */
	const char *rate_limit;
	const char *node_name;			/* for rate_limit_info events (copied) */
	struct vigil_pcache *cache;		/* pid_set ancestors (borrowed; reader thread) */
	uint64_t rate_report_ns;		/* how often drops are reported; 0: 10 s */
	enum vigil_export_own own;		/* where vigil's own kinds go (default: their file) */
	/* VIGIL_EXPORT_OWN_FILE: that file, opened when the first such event comes; NULL:
	 * beside file.path with ".vigil" before its extension (events.vigil.json) */
	const char *own_path;
};

struct vigil_exporter_stats {
	struct vigil_export_file_stats file;
	uint64_t events;			/* events offered */
	uint64_t exported;			/* written (rate_limit_info included) */
	uint64_t filtered;			/* dropped by the allow/deny lists */
	uint64_t cel_errors;			/* events a list's cel_expression failed to evaluate on */
	uint64_t rate_limited;			/* dropped by the rate limit, all types */
	size_t nrate_types;			/* types the rate limit has seen */
	struct {
		enum vigil_event_type type;
		uint64_t dropped;
	} rate_limited_by_type[VIGIL_EXPORT_RATE_TYPES];
	uint64_t errors;			/* events that could not be rendered */
	uint64_t own;				/* vigil's own kinds written to their own file */
	uint64_t own_bus_only;			/* vigil's own kinds left to the bus (OWN_BUS) */
	uint64_t stripped;			/* events whose vigil-only fields were left out */
};

/* ---- redaction (--redaction-filters) ---- */

/* Tetragon's redaction filters, one JSON object per line (or an array):
 * {"binary_regex": [regex, ...], "redact": [regex, ...]} (also {"match": {"binary_regex":
 * [...]}, "redact": [...]}). For a process whose binary matches any binary_regex (all
 * processes without one), what each capturing group of a redact regex matches in its
 * arguments becomes "*****". RE2's (?:...) groups are read as non-capturing. NULL + errno;
 * err says why (a regex without a capturing group is refused). */
struct vigil_redaction;
VIGIL_API struct vigil_redaction *vigil_redaction__new_json(const char *text, struct vigil_export_error *err);
VIGIL_API void vigil_redaction__free(struct vigil_redaction *r);
/* s redacted for binary: s itself when nothing matched, else scratch's data (valid until
 * scratch changes); "*****" when memory ran out. */
VIGIL_API const char *vigil_redaction__apply(const struct vigil_redaction *r, const char *binary, const char *s,
					     struct vigil_buf *scratch);

struct vigil_exporter;

/* Build the pipeline and open the file. NULL + errno; err says what was wrong with a
 * filter (its reason names the option: "--export-allowlist: ..."); err may be NULL. */
VIGIL_API struct vigil_exporter *vigil_exporter__new(const struct vigil_exporter_opts *opts,
						      struct vigil_export_error *err);
/* Offer one event: allow/deny lists, then the rate limit, then the field filters, then a
 * JSON line in the export file or, for vigil's own kinds, where opts.own says. ev, when given, is the event m was encoded from: pid_set walks its
 * ancestors in opts.cache. Reader thread only. 0 or -errno. */
VIGIL_API int vigil_exporter__write(struct vigil_exporter *x, const struct vigil_msg *m, const struct vigil_event *ev);
/* After a batch: report drops when due, flush, rotate by interval. Reader thread. */
VIGIL_API int vigil_exporter__flush(struct vigil_exporter *x);
/* The export file's rotation, changed and read (vigil_export_file__set_rotation: same rules,
 * the reader's thread or under its lock). */
VIGIL_API void vigil_exporter__set_rotation(struct vigil_exporter *x, uint64_t max_bytes, uint64_t interval_ns,
					    unsigned int max_backups);
VIGIL_API void vigil_exporter__rotation(const struct vigil_exporter *x, struct vigil_export_file_opts *out);
/* Counters; any thread. */
VIGIL_API void vigil_exporter__stats(const struct vigil_exporter *x, struct vigil_exporter_stats *out);
/* Report pending drops, close the file (waiting for compression), free. Accepts NULL. */
VIGIL_API void vigil_exporter__free(struct vigil_exporter *x);

#endif
