/* tp_generate.c - `vigil tracingpolicy generate`: tetra's policy generators (empty,
 * all-syscalls, all-syscalls-list, with -m/--match-binary), and file-prefix, the policy
 * people write first (opens under given prefixes). YAML on standard output. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "sensors/sensors.h"

/* x86-64 syscall numbers go up to ~470 today; vigil's table comes from the kernel headers */
#define SYSCALL_NR_MAX 1024

static void header(const char *name)
{
	printf("apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: \"%s\"\nspec:\n", name);
}

/* A YAML double-quoted scalar: only \ and " need escaping in what we print. */
static void quoted(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
	putchar('"');
}

static void match_binary(const char *binary, const char *indent)
{
	if (!binary)
		return;
	printf("%s- matchBinaries:\n%s  - operator: \"In\"\n%s    values: [", indent, indent, indent);
	quoted(binary);
	printf("]\n");
}

static void all_syscalls(const char *binary, bool as_list)
{
	unsigned int nr;
	const char *name;

	header("syscalls");
	if (as_list) {
		printf("  lists:\n  - name: \"syscalls\"\n    type: \"syscalls\"\n    values:\n");
		for (nr = 0; nr < SYSCALL_NR_MAX; nr++)
			if ((name = vigil_syscall_name(nr)))
				printf("    - \"sys_%s\"\n", name);
		printf("  kprobes:\n  - call: \"list:syscalls\"\n    syscall: true\n");
		if (binary) {
			printf("    selectors:\n");
			match_binary(binary, "    ");
		}
		return;
	}
	printf("  kprobes:\n");
	for (nr = 0; nr < SYSCALL_NR_MAX; nr++) {
		if (!(name = vigil_syscall_name(nr)))
			continue;
		printf("  - call: \"sys_%s\"\n    syscall: true\n", name);
		if (binary) {
			printf("    selectors:\n");
			match_binary(binary, "    ");
		}
	}
}

/* Opens of paths under the prefixes: openat's path (format field 6) and flags (7). */
static void file_prefix(const char *binary, char **prefixes, int n)
{
	int i;

	header("file-prefix");
	printf("  tracepoints:\n  - subsystem: \"syscalls\"\n    event: \"sys_enter_openat\"\n"
	       "    args:\n    - index: 6\n      type: \"string\"\n      label: \"path\"\n"
	       "    - index: 7\n      type: \"int\"\n      label: \"flags\"\n    selectors:\n"
	       "    - matchArgs:\n      - index: 6\n        operator: \"Prefix\"\n        values: [");
	for (i = 0; i < n; i++) {
		if (i)
			printf(", ");
		quoted(prefixes[i]);
	}
	printf("]\n");
	if (binary) {
		printf("      matchBinaries:\n      - operator: \"In\"\n        values: [");
		quoted(binary);
		printf("]\n");
	}
}

int cli_tp_generate(int argc, char **argv)
{
	static const struct option options[] = {
		{"match-binary", required_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *binary = NULL, *what;
	int c, i;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+m:h", options, NULL)) != -1) {
		switch (c) {
		case 'm': binary = optarg; break;
		case 'h':
			printf("usage: vigil tracingpolicy generate [-m BINARY] empty|all-syscalls|all-syscalls-list\n"
			       "       vigil tracingpolicy generate [-m BINARY] file-prefix PREFIX...\n");
			return 0;
		default: return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "vigil tracingpolicy generate: which policy? (empty, all-syscalls, all-syscalls-list, "
				"file-prefix PREFIX...)\n");
		return 2;
	}
	what = argv[optind++];
	/* tetra takes -m after the generator's name too: anywhere among the prefixes */
	for (i = optind, c = optind; i < argc; i++) {
		if ((!strcmp(argv[i], "-m") || !strcmp(argv[i], "--match-binary")) && i + 1 < argc)
			binary = argv[++i];
		else if (!strncmp(argv[i], "--match-binary=", 15))
			binary = argv[i] + 15;
		else
			argv[c++] = argv[i];
	}
	argc = c;
	if (binary && binary[0] != '/')
		return cli_bad_value("tracingpolicy generate", "match-binary", binary);
	if (!strcmp(what, "empty") && optind == argc) {
		header("empty");
		printf("  {}\n");
	} else if (!strcmp(what, "all-syscalls") && optind == argc) {
		all_syscalls(binary, false);
	} else if (!strcmp(what, "all-syscalls-list") && optind == argc) {
		all_syscalls(binary, true);
	} else if (!strcmp(what, "file-prefix") && optind < argc) {
		for (i = optind; i < argc; i++)
			if (argv[i][0] != '/')
				return cli_bad_value("tracingpolicy generate file-prefix", "prefix", argv[i]);
		file_prefix(binary, argv + optind, argc - optind);
	} else if (!strcmp(what, "usdts")) {
		/* tetra's usdts generator writes a usdts: hook per probe of the binary */
		fprintf(stderr, "vigil tracingpolicy generate usdts: refused: vigil does not load usdts hooks yet "
				"(a uprobes hook with refCtrOffsets reaches a USDT site, see README)\n");
		return 2;
	} else {
		fprintf(stderr, "vigil tracingpolicy generate: unknown generator or arguments: '%s'\n", what);
		return 2;
	}
	return 0;
}
