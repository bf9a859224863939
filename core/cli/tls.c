/* tls.c - tetra's --tls-* flags (cmd/tetra/common's names): the client's identity for a
 * --server-address HOST:PORT, the agent's mutual-TLS listener. --tls-ca-cert-files PEM,...
 * (repeatable; --tls-ca-cert is taken too), --tls-cert-file, --tls-key-file,
 * --tls-server-name NAME (the name the server's certificate must carry; default the
 * address's host), --tls-skip-verify (no check of the server; refused with CA files, as
 * tetra does). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct tls_flag {
	const char *name;
	const char **value;	/* NULL: a bool (skip verify) */
	bool list;		/* repeatable, comma-joined */
};

static char *ca_list;
static const char *tls_cmd = "";	/* argv[1], for messages */

static int append_ca(const char *v)
{
	size_t old = ca_list ? strlen(ca_list) : 0;
	char *p = realloc(ca_list, old + strlen(v) + 2);

	if (!p)
		return -1;
	if (old)
		p[old++] = ',';
	strcpy(p + old, v);
	ca_list = p;
	cli_globals.tls.ca_files = ca_list;
	return 0;
}

int cli_tls_flags(int *argc, char **argv)
{
	const struct tls_flag flags[] = {
		{"--tls-ca-cert-files", NULL, true},
		{"--tls-ca-cert", NULL, true},
		{"--tls-cert-file", &cli_globals.tls.cert_file, false},
		{"--tls-key-file", &cli_globals.tls.key_file, false},
		{"--tls-server-name", &cli_globals.tls.server_name, false},
	};
	const char *cmd = *argc > 1 ? argv[1] : "";
	const char *v;
	size_t k;
	int i, out = 1, used;

	cli_globals.tls.sz = sizeof(cli_globals.tls);
	tls_cmd = cmd;
	for (i = 1; i < *argc; i += used) {
		used = 1;
		if (!strcmp(argv[i], "--")) {
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		if (!strcmp(argv[i], "--tls-skip-verify") || !strcmp(argv[i], "--tls-skip-verify=true")) {
			cli_globals.tls.skip_verify = cli_globals.tls_given = true;
			continue;
		}
		if (!strcmp(argv[i], "--tls-skip-verify=false"))
			continue;
		for (k = 0, v = NULL; k < VIGIL_ARRAY_SIZE(flags) && !v; k++)
			v = cli_flag_value(*argc, argv, i, flags[k].name, &used);
		if (!v) {
			if (!strncmp(argv[i], "--tls-", 6)) {
				fprintf(stderr, "vigil %s: unknown or incomplete flag %s (tetra's --tls-ca-cert-files, "
						"--tls-cert-file, --tls-key-file, --tls-server-name, --tls-skip-verify)\n",
					cmd, argv[i]);
				return 2;
			}
			argv[out++] = argv[i];
			continue;
		}
		k--;
		if (!*v) {
			fprintf(stderr, "vigil %s: invalid value for %s: ''\n", cmd, flags[k].name);
			return 2;
		}
		if (flags[k].list ? append_ca(v) : (*flags[k].value = v, 0))
			return 2;
		cli_globals.tls_given = true;
	}
	argv[out] = NULL;
	*argc = out;
	if (cli_globals.tls.skip_verify && cli_globals.tls.ca_files) {
		fprintf(stderr, "vigil %s: --tls-skip-verify makes --tls-ca-cert-files a no-op; pick one\n", cmd);
		return 2;
	}
	return 0;
}

struct vigil_tls_client *cli_tls_client(const char *cmd)
{
	static struct vigil_tls_client *client;
	static bool tried;
	char why[256];

	if (client || tried)
		return client;
	tried = true;
	if (!cmd)
		cmd = tls_cmd;
	client = vigil_tls_client__new(&cli_globals.tls, why, sizeof(why));
	if (!client)
		fprintf(stderr, "vigil %s: TLS: %s\n", cmd, why);
	else if (cli_globals.tls.skip_verify)
		fprintf(stderr, "vigil %s: warning: --tls-skip-verify: the server's certificate is not checked\n", cmd);
	return client;
}

int cli_tls_unused(const char *cmd, const char *address)
{
	if (!cli_globals.tls_given)
		return 0;
	fprintf(stderr, "vigil %s: --tls-* apply to a --server-address HOST:PORT (the agent's TLS listener); "
			"%s is the local socket\n", cmd, address);
	return 2;
}
