/* vigil.c - the client: subcommand dispatch. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "common/common.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
} commands[] = {
	{"getevents", cmd_getevents, "print events from the bus (-o json|compact)"},
	{"status", cmd_status, "the agent's version, kernel mechanisms and counters"},
	{"probe", cmd_probe, "probe this kernel's BPF mechanisms locally (root)"},
	{"tracingpolicy", cmd_tracingpolicy, "add, list, delete, enable, disable, set-mode policies"},
	{"tp", cmd_tracingpolicy, "alias of tracingpolicy"},
	{"top", cmd_top, "live event rates per policy and per binary (--once: one table)"},
	{"rules", cmd_rules, "list the Lua rules and their counters, reload them"},
	{"version", cmd_version, "the client's version and the agent's (-s: fail without the agent)"},
	{"debug", cmd_debug, "progs: the agent's BPF programs by overhead; maps: its maps by memory"},
	{"sensors", cmd_sensors, "list: the base sensor and each policy's sensors by hook kind (as tetra)"},
	{"bugtool", cmd_bugtool, "one archive with what a bug report needs (status, policies, programs...)"},
	{"info", cmd_info, "the agent's version, node, kernel, mechanisms and runtime, as JSON"},
	{"loglevel", cmd_loglevel, "get, or set (root), the agent's log level at run time"},
	{"log", cmd_loglevel, "alias of loglevel"},
	{"policyfilter", cmd_policyfilter, "dump: the scoped policies and the cgroups each runs in"},
	{"cgtracker", cmd_cgtracker, "dump: the cgroups that name a container, as vigil resolves them"},
	{"cri", cmd_cri, "version: the container runtime the agent follows; cgroup_path ID"},
	{"eventlog", cmd_eventlog, "get, set: the export file's rotation (size, interval, backups)"},
	{"rthooks", cmd_rthooks, "create-container: announce a container before it starts (root; as the OCI hook)"},
	{"explain", cmd_explain, "the TracingPolicy fields vigil's parser takes, refuses or ignores"},
	{"policytest", cmd_policytest, "list, run: prove on this node that the shipped policies see what they claim"},
	{"pt", cmd_policytest, "alias of policytest"},
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: vigil <command> [options]\n\ncommands:\n");
	for (i = 0; i < VIGIL_ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
}

int cli_bad_value(const char *cmd, const char *opt, const char *val)
{
	fprintf(stderr, "vigil %s: invalid value for --%s: '%s'\n", cmd, opt, val);
	return 2;
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (cli_global_flags(&argc, argv))
		return 2;
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (i = 0; i < VIGIL_ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "vigil: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
