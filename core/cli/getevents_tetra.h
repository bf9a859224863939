/* getevents_tetra.h - what `vigil getevents` takes from `tetra getevents`: its filter flags
 * (--process with several regexes, --policy-names, --host, --namespace-regex), its field
 * masks (-f/-F), its durations, and reading an export file instead of the bus. */
#ifndef VIGIL_GETEVENTS_TETRA_H
#define VIGIL_GETEVENTS_TETRA_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/common.h"
#include "encode/encode.h"

/* The flags' filter. Every set field must match (tetra puts them in one Filter object);
 * inside a list, any value does. */
struct tetra_filter {
	regex_t *process;		/* --process: process.binary */
	size_t nprocess;
	regex_t *ns_regex;		/* --namespace-regex: process.pod.namespace ("" on the host) */
	size_t nns_regex;
	char **policies;		/* --policy-names: the event's policy_name */
	size_t npolicies;
	bool host;			/* --host: host processes (no pod namespace) */
};

/* Add the comma-separated values of one flag (tetra's string slices), repeatable. 0, or
 * -EINVAL for an empty value or a regex that does not compile, -ENOMEM. */
int tetra_filter_add_process(struct tetra_filter *f, const char *list);
int tetra_filter_add_ns_regex(struct tetra_filter *f, const char *list);
int tetra_filter_add_policies(struct tetra_filter *f, const char *list);
bool tetra_filter_match(const struct tetra_filter *f, const struct vigil_msg *m);
void tetra_filter_free(struct tetra_filter *f);

/* -f/--include-fields and -F/--exclude-fields: append the field filter object that says
 * so to text (vigil_field_filter's JSON list). 0, -EINVAL (empty), -ENOMEM. */
int tetra_field_mask(struct vigil_buf *text, const char *fields, bool include);

/* A Go duration ("30s", "1m30s", "500ms") or bare seconds, in ms. 0 or -EINVAL. */
int tetra_duration_ms(const char *s, long *out);

/* A boolean flag's value as pflag takes it ("true", "false", "1", "0", "t", "f"). */
int tetra_bool(const char *s, bool *out);

/* The next event of an export file (Tetragon's JSON lines) as a decoded message: NULL at
 * the end (errno 0), or for a line that is not an event (errno EINVAL: the caller counts
 * it and calls again for the next line). *line (getline's) is the caller's to free. */
struct vigil_msg *tetra_read_event(FILE *in, char **line, size_t *cap, struct vigil_buf *scratch);

#endif
