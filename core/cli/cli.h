/* cli.h - the `vigil` client's subcommands. */
#ifndef VIGIL_CLI_H
#define VIGIL_CLI_H

int cmd_getevents(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_tracingpolicy(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_rules(int argc, char **argv);

/* Print "vigil <cmd>: invalid value for --<opt>: '<val>'" and return the usage exit code. */
int cli_bad_value(const char *cmd, const char *opt, const char *val);

#endif
