/* refused.c - tetra's commands vigil does not have, each refused with the reason and where
 * to look instead (never "unknown command": a tetra user's habit deserves an answer). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
	const char *command;	/* "debug maps": the command and its first argument */
	const char *why;
} refused[] = {
	{"info", "vigil status -o json carries the agent's version, kernel, node and mechanisms"},
	{"debug maps", "the agent's maps are in vigil bugtool's bpftool-map.json, each policy's kernel memory in "
		       "vigil tracingpolicy list"},
	{"tracingpolicy domains", "vigil has one policy domain you manage (tetra's grpc: vigil tracingpolicy add); "
				  "file policies (--tracing-policy, --tracing-policy-dir) change with their files"},
	{"tp domains", "vigil has one policy domain you manage (tetra's grpc: vigil tracingpolicy add); "
		       "file policies (--tracing-policy, --tracing-policy-dir) change with their files"},
	{"policyfilter", "vigil scopes namespaced and pod-selected policies by cgroup without Tetragon's policy "
			 "filter maps; vigil status lists the container runtime it follows"},
	{"cri", "vigil status shows the CRI endpoint and what it lists (container_runtime)"},
	{"cgtracker", "vigil resolves cgroups by id as events arrive; there is no cgroup tracker map to dump"},
	{"rthooks", "vigil installs no OCI/NRI runtime hooks: policies apply to a container once its cgroup is known"},
	{"loglevel", "the agent's log level is set at start (vigild -d); it does not change at run time"},
	{"policytest", "vigil has no policy test runner; tests/host shows how to trigger and check a policy"},
	{"explain", "the policy language is Tetragon's CRD; README's policy section lists what vigil accepts"},
	{"eventlog", "vigil getevents --input FILE (or standard input) reads and filters an export file"},
};

int cli_refused(int argc, char **argv)
{
	char two[128];
	size_t i;

	snprintf(two, sizeof(two), "%s %s", argv[0], argc > 1 ? argv[1] : "");
	for (i = 0; i < VIGIL_ARRAY_SIZE(refused); i++) {
		if (strcmp(refused[i].command, argv[0]) && strcmp(refused[i].command, two))
			continue;
		fprintf(stderr, "vigil %s: not in vigil (tetra has it): %s\n", refused[i].command, refused[i].why);
		return 2;
	}
	return -1;
}
