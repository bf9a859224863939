/* cli.h - the `vigil` client's subcommands. */
#ifndef VIGIL_CLI_H
#define VIGIL_CLI_H

int cmd_getevents(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_tracingpolicy(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_rules(int argc, char **argv);

struct msgpack_object;

/* Print the "policies" array of a control reply as text, a policy a line and its hooks
 * (how each was realised on this kernel) below it. */
void cli_print_policies(const struct msgpack_object *policies);
/* The policy directory of a status or policy_list reply ("policy_dir"); nothing when none. */
void cli_print_policy_dir(const struct msgpack_object *dir);

/* The "policies" array as tetra's `tracingpolicy list -o json` prints it: protojson of
 * ListTracingPoliciesResponse (tetra_shapes.c). 0, or 1 when it could not be built. */
int cli_print_policies_tetra_json(const struct msgpack_object *policies);

int cmd_version(int argc, char **argv);
int cmd_debug(int argc, char **argv);
int cmd_bugtool(int argc, char **argv);
/* `vigil sensors list` (sensors.c), as tetra's */
int cmd_sensors(int argc, char **argv);
/* `vigil tracingpolicy generate ...` (tp_generate.c): a policy on standard output. */
int cli_tp_generate(int argc, char **argv);

/* Print "vigil <cmd>: invalid value for --<opt>: '<val>'" and return the usage exit code. */
int cli_bad_value(const char *cmd, const char *opt, const char *val);

#endif
