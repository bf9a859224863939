/* export_filter.h - the compiled form of filter objects, shared by filter.c (compiling,
 * matching) and pidset.c (pid_set: ancestors, or descendants learned from the stream). */
#ifndef VIGIL_EXPORT_FILTER_H
#define VIGIL_EXPORT_FILTER_H

#include <regex.h>

#include "../cel/cel.h"
#include "export_internal.h"

/* Descendants a bus subscriber has learned: the exec_ids of processes whose parent was in
 * the set or learned before. FIFO-bounded: the oldest is forgotten first. */
#define FILTER_LEARNED_MAX 16384

struct learned_node {
	struct learned_node *next;
	char id[];
};

struct filter_learned {
	struct learned_node **buckets;	/* FILTER_LEARNED_MAX * 2 chains, allocated on first use */
	struct learned_node **ring;	/* insertion order */
	size_t head, count;
};

struct filter_regexes {
	regex_t *re;
	size_t n;
};

struct filter_pids {
	uint32_t *pid;
	size_t n;
};

/* One filter object; a key the object leaves out matches everything. */
struct filter_obj {
	bool has_types;
	struct export_types types;
	struct filter_regexes binary, parent_binary, arguments, container, pod;
	char **namespaces;		/* namespace: exact names, "" for events without a pod */
	size_t nnamespaces;
	bool has_namespaces;
	struct label_selector **selectors;	/* labels: any of these */
	size_t nselectors;
	struct filter_pids pid, pid_set;
	bool has_policies;
	char **policies;
	size_t npolicies;
	int health;			/* -1: not set, 0: false, 1: true */
	struct vigil_cel **cel;		/* cel_expression: compiled, in order */
	size_t ncel;
	struct filter_learned learned;
};

struct vigil_filter {
	struct filter_obj *objs;
	size_t n;
	vigil_filter_ancestors_fn ancestors;
	void *ancestors_ctx;
	char *client;			/* health_check: the resolved path of the vigil client, NULL: none */
	uint64_t cel_errors;		/* events a cel_expression failed to evaluate on */
	char cel_error[160];		/* the last such failure's reason */
};

bool filter_pid_in(const struct filter_pids *p, uint32_t pid);

/* labels.c: Kubernetes label selectors (=, ==, !=, in, notin, key, !key; comma = and).
 * parse: NULL + errno (EINVAL when the text is not one, ENOMEM). match: false for an
 * event without a pod, as Tetragon. */
struct label_selector;
struct label_selector *filter_selector_parse(const char *text);
void filter_selector_free(struct label_selector *sel);
bool filter_selector_match(const struct label_selector *sel, const struct vigil_msg *m);
/* pid_set of o against m: the process, its ancestors (resolver) or learned descendants. */
bool filter_pid_set_match(struct vigil_filter *f, struct filter_obj *o, const struct vigil_msg *m);
void filter_learned_free(struct filter_learned *l);

/* health_check (probe.c). Set f->client to the trusted vigil client found by default: the
 * one next to the running program, else the installed one; none leaves it NULL. 0 or -ENOMEM. */
int filter_client_default(struct vigil_filter *f);
/* Whether who ("process" or "parent") of m is a health probe: f->client run by root with
 * `status` as its first argument. */
bool filter_is_probe(const struct vigil_filter *f, const struct vigil_msg *m, const char *who);

#endif
