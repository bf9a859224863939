/* policytest.h - `vigil policytest` (tetra's policytest): named tests, each a shipped policy
 * and scenarios (a trigger and the events it must cause), declared as data in a YAML file
 * (rules/policytests/shipped.yaml) and run against the live agent. Private to core/cli. */
#ifndef VIGIL_CLI_POLICYTEST_H
#define VIGIL_CLI_POLICYTEST_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include <yaml.h>

#include "common/common.h"

#define PT_MAX_LIST 16

/* tetra's action counters, as vigil's selector action metrics name them (post, sigkill...) */
enum pt_action { PT_POST, PT_SIGKILL, PT_SIGNAL, PT_OVERRIDE, PT_ACTIONS };
extern const char *const pt_action_names[PT_ACTIONS];

/* How a trigger must end: any of the set fields must hold. */
struct pt_outcome {
	bool set;
	bool has_code;
	int code;		/* exit status */
	int signal;		/* killed by this signal; 0: not checked */
	const char *stderr_has;	/* its standard error contains this */
};

struct pt_scenario {
	const char *name;
	const char *run;		/* /bin/sh -c RUN, in a temporary directory */
	const char *user;		/* run as (default root) */
	long timeout_ms;
	int events;			/* document node: the events that must come (a sequence), 0 none */
	int no_events;			/* the events that must not come, 0 none */
	struct pt_outcome outcome;	/* in either mode, unless enforce_outcome applies */
	struct pt_outcome enforce_outcome;	/* when the policy enforces */
	long actions[PT_ACTIONS];	/* the policy's action counters must grow by these; -1: unchecked */
};

struct pt_test {
	const char *name;
	const char *policy;		/* metadata.name; the file <policy-dir>/<policy>.yaml */
	const char *description;
	const char *labels[PT_MAX_LIST];
	size_t nlabels;
	const char *requires[PT_MAX_LIST];	/* programs that must be in the trigger's PATH */
	size_t nrequires;
	bool enforce;			/* the test asks for enforce mode (given --enforce) */
	struct pt_scenario *scenarios;
	size_t nscenarios;
};

struct pt_file {
	yaml_document_t doc;		/* the tests' strings and expectation nodes live here */
	bool loaded;
	struct pt_test *tests;
	size_t ntests;
};

/* Read and check the scenario file at path: 0, or 1 after printing "path:line:column: why".
 * Free f with pt_file_free either way. */
int pt_file_load(const char *path, struct pt_file *f);
void pt_file_free(struct pt_file *f);

/* 0 when path is root's (or the caller's) and no one else may write it, else 1 after
 * saying why: root runs the triggers it names, so someone else's file would choose them. */
int pt_check_owner(const char *what, const char *path);

/* What an expectation's strings may name: ${dir} (the trigger's directory), ${policy}. */
struct pt_vars {
	const char *dir;
	const char *policy;
};

/* Does the event root match the expected event at node id (a mapping with one key, the
 * event's kind)? Scalars compare as text, with ${...} substituted; tags !prefix, !suffix,
 * !contains, !regex change the comparison; a sequence matches the array's first elements.
 * When the body has a policy_name the expectation does not name, it must be vars->policy.
 * On a mismatch, why (may be NULL) says where: "process_kprobe.args[0].int_arg: want 5, got 4". */
bool pt_match_event(yaml_document_t *doc, int id, const msgpack_object *root, const struct pt_vars *vars,
		    struct vigil_buf *why);
/* An expected event's tags and regexes, checked when the tests file is read: 0, or the id of
 * the first scalar with an unknown tag or a !regex that does not compile (why says which). */
int pt_check_expected(yaml_document_t *doc, int id, char *why, size_t size);
/* The event kind an expected event names (its one key), or NULL. */
const char *pt_event_kind(yaml_document_t *doc, int id);

/* A trigger being run: its child, its directory, its end. */
struct pt_trigger {
	pid_t pid;
	char dir[64];
	int stderr_fd;			/* read end of the child's standard error */
	struct vigil_buf err;		/* what it wrote there (up to 64 KiB) */
	bool done, timed_out;
	int status;			/* waitpid's */
	long deadline_ms;
	bool as_user;			/* run as uid/gid, not as the caller */
	uid_t uid;
	gid_t gid;
};

/* Make the directory (owned by the scenario's user) and start sh -c RUN in it, in its own
 * process group, as the user, with a fixed PATH. 0, or -errno with why in *why. */
int pt_trigger_start(struct pt_trigger *t, const struct pt_scenario *sc, const char **why);
/* Collect the child's end without blocking: true once it ended (or was killed at its deadline). */
bool pt_trigger_poll(struct pt_trigger *t);
/* Kill what is left of its process group, remove its directory. */
void pt_trigger_cleanup(struct pt_trigger *t);
/* Is the program in the trigger's PATH? */
bool pt_have_program(const char *name);
long pt_now_ms(void);

/* ---- running (policytest.c, policytest_policy.c, policytest_report.c) ---- */

struct pt_opts {
	const char *file, *policy_dir, *control, *bus, *output_file, *dump_policy_path;
	bool json, all_tests, monitor_mode, enforce, list_params;
};

/* One scenario's result, tetra's ScenarioRes. */
struct pt_sres {
	const char *name;
	char *trigger_error, *checker_error, *action_counts_error;
};

/* One test's result, tetra's Result. */
struct pt_result {
	char name[192];
	char *skipped, *error;
	struct pt_sres *sres;
	size_t nsres;
	double seconds;
};

/* A loaded policy the test runs against. */
struct pt_policy {
	char name[256];
	bool ours;		/* loaded by this run: unloaded at the end */
	bool enforce;
};

/* malloc'd printf, or NULL */
char *pt_dup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The test's policy in place: the loaded one of that name, or its file from o->policy_dir
 * loaded under a temporary name (root only). NULL, or why not (malloc'd). */
char *pt_load_policy(const struct pt_opts *o, const struct pt_test *t, struct pt_policy *pol);
/* Does the agent answer (its policy list)? NULL, or why not (malloc'd). */
char *pt_agent_check(const struct pt_opts *o);
/* The policy's action counters (vigil_policy_selector_actions_total summed by action): out[a]
 * enforced, out[PT_ACTIONS + a] what monitor mode reported instead. NULL, or why not. */
char *pt_action_counts(const struct pt_opts *o, const char *policy, uint64_t out[2 * PT_ACTIONS]);
/* Unload it if this run loaded it. NULL, or why not (malloc'd). */
char *pt_unload_policy(const struct pt_opts *o, struct pt_policy *pol);

/* tetra's result layouts: text (a P: line per test, an S: line per scenario) and -o json
 * (a NamedResult a line). */
bool pt_result_failed(const struct pt_result *r);
void pt_print_text(FILE *out, const struct pt_result *r);
void pt_print_json(FILE *out, const struct pt_result *r);
void pt_result_free(struct pt_result *r);

#endif
