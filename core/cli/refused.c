/* refused.c - tetra's commands vigil does not have, each refused with the reason and where
 * to look instead (never "unknown command": a tetra user's habit deserves an answer). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
	const char *command;	/* "debug maps": the command and its first argument */
	const char *why;
} refused[] = {
	{"policytest", "tetra's policytest runs Tetragon's built-in policy test scenarios against a live agent; vigil "
		       "ships no such scenarios: tests/host shows how to trigger and check a policy"},
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
