/* globals.c - tetra's global flags on every command that asks the agent: -d/--debug,
 * --timeout D (how long to wait for the agent), --retries N (more attempts),
 * --max-recv-size N (accepted: a control reply has no size limit here); --tls-* (tls.c).
 * getevents and debug parse their own (debug progs' --timeout is its sampling time), so
 * they are left alone but for --tls-*. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "common/common.h"
#include "getevents_tetra.h"

struct cli_globals cli_globals;

static const char *const own_flags[] = {"getevents", "debug", "top", "probe", "rules"};

const char *cli_flag_value(int argc, char **argv, int i, const char *name, int *used)
{
	size_t n = strlen(name);

	if (strncmp(argv[i], name, n))
		return NULL;
	if (argv[i][n] == '=') {
		*used = 1;
		return argv[i] + n + 1;
	}
	if (argv[i][n] || i + 1 >= argc)
		return NULL;
	*used = 2;
	return argv[i + 1];
}

int cli_global_flags(int *argc, char **argv)
{
	const char *v;
	size_t k;
	int i, out = 1, used;
	long n;

	/* --tls-* are global for every command, the ones with flags of their own included */
	if (cli_tls_flags(argc, argv))
		return 2;
	for (k = 0; k < VIGIL_ARRAY_SIZE(own_flags); k++)
		if (*argc > 1 && !strcmp(argv[1], own_flags[k]))
			return 0;
	for (i = 1; i < *argc; i += used) {
		used = 1;
		if (!strcmp(argv[i], "--")) {
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		if (!strcmp(argv[i], "-d") || !strcmp(argv[i], "--debug")) {
			cli_globals.debug = true;
		} else if ((v = cli_flag_value(*argc, argv, i, "--timeout", &used))) {
			if (tetra_duration_ms(v, &n) || n < 1 || n > INT32_MAX) {
				fprintf(stderr, "vigil %s: invalid value for --timeout: '%s'\n", argv[1], v);
				return 2;
			}
			cli_globals.timeout_ms = (int)n;
		} else if ((v = cli_flag_value(*argc, argv, i, "--retries", &used))) {
			if (vigil_parse_long(v, 0, 1000, &n)) {
				fprintf(stderr, "vigil %s: invalid value for --retries: '%s'\n", argv[1], v);
				return 2;
			}
			cli_globals.retries = (int)n;
		} else if ((v = cli_flag_value(*argc, argv, i, "--max-recv-size", &used))) {
			if (vigil_parse_long(v, 1024, INT32_MAX, &n)) {
				fprintf(stderr, "vigil %s: invalid value for --max-recv-size: '%s'\n", argv[1], v);
				return 2;
			}
		} else {
			argv[out++] = argv[i];
		}
	}
	argv[out] = NULL;
	*argc = out;
	return 0;
}
