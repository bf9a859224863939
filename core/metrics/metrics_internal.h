/* metrics_internal.h - what the metrics files share: the labelled counter table, the
 * exposition writer, the BPF program statistics reader and the HTTP server. */
#ifndef VIGIL_METRICS_INTERNAL_H
#define VIGIL_METRICS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "metrics.h"

/* ---- labelled counters the reader thread increments (series.c) ---- */

enum series_family {
	SERIES_EVENTS,		/* type, binary, policy, namespace, pod, workload */
	SERIES_POLICY_EVENTS,	/* policy, hook, action, namespace, pod, workload */
	SERIES_ENFORCEMENT,	/* policy, action, mode */
	SERIES_SELECTOR_ACTIONS,	/* policy, selector ("<hook>[<index>]"), action ("sigkill", "monitor_sigkill") */
	/* counted only with Tetragon's names on (tetragon.c) */
	SERIES_TG_POLICY_EVENTS,	/* policy, binary, hook (Tetragon's spelling) */
	SERIES_TG_SYSCALLS,		/* syscall, binary, "" */
	SERIES_FAMILIES,
};

/* the most any family has; the others leave the last ones "" */
#define SERIES_LABELS 6

struct series {
	struct series *next;
	enum series_family family;
	uint64_t value;
	char *label[SERIES_LABELS];
};

/* The most series one event bumps: events, policy events, enforcement, selector actions,
 * Tetragon's policy events and syscalls. */
#define MEMO_ROWS 6

/* The series one event bumped, kept for the next event with the same labels (memo.c), so
 * that it is counted without a lock, a label or a hash of labels: the counting thread adds
 * to pending alone; pending - folded is added to the rows under the table's lock whenever
 * the table is read (series_fold) and before the entry is reused. The key and rows are
 * written under the lock by the counting thread only. */
struct count_memo {
	uint64_t hash;				/* 0: empty */
	const struct vigil_hook_info *hook;
	uint32_t hook_id, selector;
	int type, action;
	bool monitored;
	int sysclass;				/* raw_syscalls/sys_enter: which id argument (memo.c) */
	uint64_t sysid;
	char *binary;				/* binary, policy, namespace, pod, workload as
						 * counted, each NUL-terminated; owned (memo.c) */
	size_t binary_len;
	struct series *rows[MEMO_ROWS];
	size_t nrows;
	_Atomic uint64_t pending;
	uint64_t folded;
};

/* Where series_addv notes the rows it bumps while an event is counted the slow way. */
struct series_record {
	struct series *rows[MEMO_ROWS];
	size_t n;
	bool failed;				/* a row could not be created or noted: no memo */
};

struct series_table {
	struct series **buckets;
	size_t nbuckets;
	size_t count;
	/* distinct binary label values given out so far (capped) */
	char **binaries;
	size_t nbinaries_buckets;
	size_t nbinaries;
	size_t binary_cap;
	struct count_memo *memo;		/* MEMO_SLOTS entries (memo.c) */
	struct series_record *record;		/* non-NULL while an event is counted the slow way */
};

int series_init(struct series_table *t, size_t binary_cap);
void series_free(struct series_table *t);
/* Add delta to the series; -ENOMEM when it could not be created. series_add gives three
 * labels (the rest ""), series_addv all of them (NULL is ""). */
int series_add(struct series_table *t, enum series_family f, const char *l0, const char *l1, const char *l2,
	       uint64_t delta);
int series_addv(struct series_table *t, enum series_family f, const char *const l[SERIES_LABELS], uint64_t delta);
/* Whether label[1] of family f is a binary path. */
bool series_has_binary(enum series_family f);
/* binary itself while fewer than binary_cap distinct values were seen, else "other". */
const char *series_binary_label(struct series_table *t, const char *binary);
/* Replace every binary label given so far by value, merging the series that then agree,
 * and forget the binaries seen. 0 or -ENOMEM (the table is then left as it was). */
int series_hide_binaries(struct series_table *t, const char *value);
/* The series of a family sorted by labels, into a malloc'd array (caller frees); the memo's
 * pending counts are folded in first. */
size_t series_sorted(struct series_table *t, enum series_family f, struct series ***out);

/* ---- the memo of counted label sets (memo.c) ---- */

int memo_init(struct series_table *t);
void memo_free(struct series_table *t);
/* Add every entry's pending count to its rows. Under the table's lock. */
void series_fold(struct series_table *t);
/* While from is rebuilt into to with binaries hidden (value): point from's entries at to's
 * rows (from's pending counts folded before). 0 or -ENOMEM (from is left as it was). */
int memo_rebind(struct series_table *from, struct series_table *to, const char *value);
/* The entry counting events like ev, or NULL; key is filled either way (for memo_fill). */
struct count_memo *memo_find(struct count_memo *memo, const struct vigil_event *ev, struct count_memo *key);
/* One more event for e (the counting thread, no lock). */
void memo_count(struct count_memo *e);
/* Remember the rows r noted for key (under the lock, after counting the slow way). */
void memo_fill(struct series_table *t, const struct vigil_event *ev, const struct count_memo *key,
	       const struct series_record *r);
/* The series of f with these labels, created at 0 when new; NULL when it cannot be. */
struct series *series_get(struct series_table *t, enum series_family f, const char *const l[SERIES_LABELS]);

/* ---- the exposition format (prom.c) ---- */

/* Appends to buf until the first failure, which sticks (like encode_out). */
struct prom_out {
	struct vigil_buf *buf;
	int err;
};

/* "# HELP name help\n# TYPE name type\n" */
void prom_family(struct prom_out *o, const char *name, const char *type, const char *help);
/* name{k="v",...} value\n, labels as name/value pairs (npairs pairs). */
void prom_sample_u64(struct prom_out *o, const char *name, const char *const *labels, size_t npairs, uint64_t v);
void prom_sample_f64(struct prom_out *o, const char *name, const char *const *labels, size_t npairs, double v);
/* Nanoseconds as exact decimal seconds ("1.000000250"). */
void prom_sample_ns(struct prom_out *o, const char *name, const char *const *labels, size_t npairs, uint64_t ns);

/* ---- BPF program statistics (bpfstats.c) ---- */

struct prog_stat {
	char name[17];		/* BPF_OBJ_NAME_LEN: the kernel keeps 15 characters */
	uint64_t run_cnt;
	uint64_t run_time_ns;
	uint64_t recursion_misses;	/* runs the kernel skipped: the program was already running */
};

/* The programs this process holds (found through /proc/self/fdinfo, read by id),
 * summed by name and sorted. *out is malloc'd. Returns the count or -errno. */
int metrics_bpf_progs(struct prog_stat **out);
/* BPF_ENABLE_STATS: the returned fd keeps kernel.bpf_stats_enabled on; close to end. */
int metrics_bpf_stats_enable(void);

/* ---- the object ---- */

struct metrics_http;

struct vigil_metrics {
	pthread_mutex_t lock;			/* the table */
	struct series_table table;
	struct count_memo *memo;		/* table.memo, read without the lock (memo.c) */
	pthread_mutex_t render_lock;		/* one render at a time; the rule source */
	struct vigil_metrics_sources src;
	vigil_metrics_rule_source rules;
	void *rules_ctx;
	struct metrics_http *http;
	enum vigil_metrics_binary_labels binary_labels;
	bool hide_binaries;			/* under lock: events counted with METRICS_HIDDEN_BINARY */
	enum vigil_metrics_names names;
	char node_name[256];
	uint64_t process_cache_capacity;
	int stats_fd;				/* BPF_ENABLE_STATS while serving, else -1 */
};

/* The families other modules own, rendered in order (collect.c). */
void metrics_collect(struct vigil_metrics *m, struct prom_out *o);
/* vigil_canary_requests_total (canary.c), part of metrics_collect. */
void metrics_collect_canary(struct vigil_metrics *m, struct prom_out *o);
/* Render vigil's own families, Tetragon's, or both (metrics.c). 0 or -ENOMEM. */
int metrics_render(struct vigil_metrics *m, struct vigil_buf *out, bool own, bool tetragon);
/* Tetragon's families from the same numbers (tetragon.c). */
void metrics_collect_tetragon(struct vigil_metrics *m, struct prom_out *o);
/* Count what only Tetragon's families need (tetragon.c); under m->lock, reader thread. */
void metrics_count_tetragon(struct vigil_metrics *m, const struct vigil_event *ev, const char *binary);

/* http.c: serve m on addr; NULL + errno. */
struct metrics_http *metrics_http_start(struct vigil_metrics *m, const char *addr);
int metrics_http_port(const struct metrics_http *h);
/* Told by the server once it has bound addr, before it answers anything: binary labels
 * go off when AUTO and the address is not loopback. 0, or -errno and the server must not
 * start. */
int metrics_listening_on(struct vigil_metrics *m, const char *addr, bool loopback);

/* The binary label value when binary labels are off. */
#define METRICS_HIDDEN_BINARY "hidden"
void metrics_http_stop(struct metrics_http *h);

#endif
