/* cli.h - the `vigil` client's subcommands. */
#ifndef VIGIL_CLI_H
#define VIGIL_CLI_H

#include <msgpack.h>

#include "bus/bus.h"
#include "common/common.h"

int cmd_getevents(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_tracingpolicy(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_rules(int argc, char **argv);

/* Print the "policies" array of a control reply as text, a policy a line and its hooks
 * (how each was realised on this kernel) below it. */
void cli_print_policies(const struct msgpack_object *policies);
/* tetra's HumanizeByteCount ("4.46 MB") into out */
/* tetra's global flags (globals.c), taken out of argv before a command parses its own */
struct cli_globals {
	bool debug;
	int timeout_ms;		/* --timeout: 0 = each command's own */
	int retries;		/* --retries: more attempts after a timeout */
	/* tetra's --tls-* (every command, getevents included): the identity for a
	 * --server-address HOST:PORT (tls.c) */
	struct vigil_tls_client_opts tls;
	bool tls_given;
};
extern struct cli_globals cli_globals;
/* 0, or 2 after saying why (a bad value) */
int cli_global_flags(int *argc, char **argv);
/* "--name=value" or "--name value" at argv[i]: the value, *used = how many argv slots it
 * took; NULL when argv[i] is not --name */
const char *cli_flag_value(int argc, char **argv, int i, const char *name, int *used);
/* build_tree.c: this program is the one built in VIGIL_BUILD_TREE (so it reads the
 * checkout's rules/, never an installed copy) */
bool cli_in_build_tree(void);
/* tls.c: take tetra's --tls-* out of argv into cli_globals (every command). 0, or 2 after
 * saying why. */
int cli_tls_flags(int *argc, char **argv);
/* The TLS identity for a --server-address HOST:PORT, made at the first call from the
 * --tls-* flags (kept until exit). NULL after printing "vigil <cmd>: <why>" (once; cmd
 * NULL: the command line's). */
struct vigil_tls_client *cli_tls_client(const char *cmd);
/* For an address that is no HOST:PORT: 0, or 2 after saying that --tls-* do not apply. */
int cli_tls_unused(const char *cmd, const char *address);
/* `vigil tracingpolicy modify FILE [-m MODE]`: the policy with its mode set, on stdout */
int cli_tp_modify(int argc, char **argv);
void cli_humanize_bytes(uint64_t b, char *out, size_t size);
/* The policy directory of a status or policy_list reply ("policy_dir"); nothing when none. */
void cli_print_policy_dir(const struct msgpack_object *dir);

/* The "policies" array as tetra's `tracingpolicy list -o json` prints it: protojson of
 * ListTracingPoliciesResponse (tetra_shapes.c). 0, or 1 when it could not be built. */
int cli_print_policies_tetra_json(const struct msgpack_object *policies);
/* tetra's probe name (GetInfo's Probes, `tetra probe`) of a vigil mechanism that probes the
 * same thing under another name (fmod_ret: fmodret), or NULL (the same name, or none). */
const char *cli_tetra_probe_name(const char *mechanism);

int cmd_version(int argc, char **argv);
int cmd_debug(int argc, char **argv);
int cmd_bugtool(int argc, char **argv);
/* `vigil sensors list` (sensors.c), as tetra's */
int cmd_sensors(int argc, char **argv);
/* tetra's debugging commands (introspect.c) */
int cmd_info(int argc, char **argv);
int cmd_loglevel(int argc, char **argv);
int cmd_policyfilter(int argc, char **argv);
int cmd_cgtracker(int argc, char **argv);
int cmd_cri(int argc, char **argv);
int cmd_eventlog(int argc, char **argv);
/* `vigil rthooks create-container` (rthooks.c) */
int cmd_rthooks(int argc, char **argv);
/* `vigil policytest list|run|dump-policy` (policytest.c), tetra's */
int cmd_policytest(int argc, char **argv);
/* `vigil probe config` (probe_config.c) */
int cli_probe_config(void);
/* `vigil explain RESOURCE[.FIELD...]` (explain.c) */
int cmd_explain(int argc, char **argv);
/* `vigil debug maps` and `vigil tracingpolicy domains`, argv[0] being "maps" / "domains" */
int cli_debug_maps(int argc, char **argv);
int cli_tp_domains(int argc, char **argv);
/* `vigil tracingpolicy generate ...` (tp_generate.c): a policy on standard output. */
int cli_tp_generate(int argc, char **argv);

/* A control request's answer (request.c): its bytes and the map unpacked from them. */
struct cli_reply {
	struct vigil_buf bytes;
	msgpack_unpacked up;
	const msgpack_object *root;	/* the reply map; NULL unless cli_request returned 0 */
};

/* Send req (msgpack) to the agent at control and wait up to timeout_ms for the reply. 0 when
 * the reply is a map with "ok": true; otherwise 1 (the exit code) once "vigil <cmd>: <why>"
 * (no answer, malformed reply, or the reply's "error") is printed. Free r with
 * cli_reply_free either way. */
int cli_request(const char *cmd, const char *control, const void *req, size_t len, int timeout_ms,
		struct cli_reply *r);
/* The same without a word and without --timeout/--retries, for callers that say their own
 * (getevents waiting for its agent, top sampling, version and bugtool): 0, or -errno from
 * the request (-ETIMEDOUT: no answer), -EBADMSG (malformed reply) or -EREMOTEIO (the reply
 * says no: its "error" is in r->up.data). Free r with cli_reply_free either way. */
int cli_request_quiet(const char *control, const void *req, size_t len, int timeout_ms, struct cli_reply *r);
void cli_reply_free(struct cli_reply *r);

/* Print "vigil <cmd>: invalid value for --<opt>: '<val>'" and return the usage exit code. */
int cli_bad_value(const char *cmd, const char *opt, const char *val);

#endif
