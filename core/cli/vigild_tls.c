/* vigild_tls.c - vigild's --server-address and --server-tls-* (Tetragon's names): the
 * control socket's mutual-TLS listener. A TCP listener without TLS, and TLS without client
 * certificates, are refused: a network peer must never get what local credentials give. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "vigild_tls.h"

static int bad(const char *opt, const char *val, const char *why)
{
	fprintf(stderr, "vigild: invalid value for --%s: '%s'%s%s\n", opt, val, why ? ": " : "", why ? why : "");
	return 2;
}

/* Append arg to a comma-separated list (Tetragon's string slices: repeated or comma-joined). */
static int join(char **list, const char *arg)
{
	size_t old = *list ? strlen(*list) : 0;
	char *p = realloc(*list, old + strlen(arg) + 2);

	if (!p)
		return -1;
	if (old)
		p[old++] = ',';
	strcpy(p + old, arg);
	*list = p;
	return 0;
}

int vigild_tls_option(int c, const char *arg, struct vigild_tls *t, struct vigil_agent_opts *o)
{
	static const char *const list_opt[] = {"server-tls-client-ca-files", "server-tls-admin-names",
					       "server-tls-events-names"};
	long v;
	int k;

	switch (c) {
	case VIGILD_OPT_SERVER_ADDRESS:
		/* tetra's unix:///path is vigil's ipc:///path, the local socket */
		if (!strncmp(arg, "ipc:///", 7)) {
			o->control_url = arg;
			return 0;
		}
		if (!strncmp(arg, "unix:///", 8)) {
			static char url[4096];

			if (snprintf(url, sizeof(url), "ipc://%s", arg + 7) >= (int)sizeof(url))
				return bad("server-address", arg, "too long");
			o->control_url = url;
			return 0;
		}
		if (!vigil_bus_tls_address(arg))
			return bad("server-address", arg, "HOST:PORT (mutual TLS) or unix:///PATH");
		t->o.address = arg;
		return 0;
	case VIGILD_OPT_TLS_CERT: t->o.cert_file = arg; t->any_tls_flag = true; return 0;
	case VIGILD_OPT_TLS_KEY: t->o.key_file = arg; t->any_tls_flag = true; return 0;
	case VIGILD_OPT_TLS_REQUIRE_CLIENT:
		/* client certificates are always required: only "true" is accepted */
		if (arg && strcmp(arg, "true") && strcmp(arg, "1"))
			return bad("server-tls-require-client-cert", arg,
				   "client certificates are always required (mutual TLS only)");
		t->any_tls_flag = true;
		return 0;
	case VIGILD_OPT_TLS_MAX_CONNS:
		if (vigil_parse_long(arg, 1, 1024, &v))
			return bad("server-tls-max-connections", arg, "1-1024");
		t->o.max_conns = (unsigned int)v;
		t->any_tls_flag = true;
		return 0;
	case VIGILD_OPT_TLS_CLIENT_RATE:
		if (vigil_parse_long(arg, 0, 100000, &v))
			return bad("server-tls-client-rate", arg, "0-100000 a second (0: no limit)");
		t->o.client_rate = v ? (uint32_t)v : VIGIL_CTL_TLS_RATE_OFF;
		t->any_tls_flag = true;
		return 0;
	case VIGILD_OPT_TLS_CLIENT_CA:
	case VIGILD_OPT_TLS_ADMIN:
	case VIGILD_OPT_TLS_EVENTS:
		k = c == VIGILD_OPT_TLS_CLIENT_CA ? 0 : c == VIGILD_OPT_TLS_ADMIN ? 1 : 2;
		if (!*arg || strstr(arg, ",,") || arg[0] == ',' || arg[strlen(arg) - 1] == ',')
			return bad(list_opt[k], arg, "an empty name");
		if (join(&t->lists[k], arg))
			return bad(list_opt[k], arg, "out of memory");
		t->any_tls_flag = true;
		return 0;
	}
	return -1;
}

int vigild_tls_finish(struct vigild_tls *t, struct vigil_agent_opts *o)
{
	if (!t->o.address) {
		if (!t->any_tls_flag)
			return 0;
		fprintf(stderr, "vigild: --server-tls-* configure the TLS listener of --server-address HOST:PORT, "
				"which is not given\n");
		return 2;
	}
	if (!t->o.cert_file || !t->o.key_file || !t->lists[0]) {
		fprintf(stderr, "vigild: --server-address %s is a network listener: it needs --server-tls-cert-file, "
				"--server-tls-key-file and --server-tls-client-ca-files (mutual TLS; no plain TCP)\n",
			t->o.address);
		return 2;
	}
	t->o.sz = sizeof(t->o);
	t->o.client_ca_files = t->lists[0];
	t->o.admin_names = t->lists[1];
	t->o.events_names = t->lists[2];
	o->tls = &t->o;
	return 0;
}

void vigild_tls_usage(FILE *f)
{
	fputs("control over mutual TLS (Tetragon's flags; see README \"tetra over the network\"):\n"
	      "      --server-address HOST:PORT       also serve the control socket's commands, and event\n"
	      "                                       streams, over TLS at HOST:PORT ([V6]:PORT, :PORT for\n"
	      "                                       all); unix:///PATH is the local socket (as --control)\n"
	      "      --server-tls-cert-file PEM       the listener's certificate (chain)\n"
	      "      --server-tls-key-file PEM        its private key\n"
	      "      --server-tls-client-ca-files PEM,...  client certificates must chain to these CAs\n"
	      "                                       (required: there is no TLS without client certificates)\n"
	      "      --server-tls-require-client-cert accepted (true); false is refused\n"
	      "      --server-tls-admin-names NAME,...  certificates whose subject CN or a subjectAltName\n"
	      "                                       (DNS, URI, email, IP) is listed may run every command;\n"
	      "                                       others run the read-only ones (as --control-group)\n"
	      "      --server-tls-events-names NAME,... listed certificates may also stream events\n"
	      "                                       (getevents, --reliable); admin names may too\n"
	      "      --server-tls-max-connections N   connections at once, 1-1024 (default 16)\n"
	      "      --server-tls-client-rate N       new connections and requests a second per client\n"
	      "                                       address (twice that in a burst): more connections\n"
	      "                                       are closed before the handshake, requests wait\n"
	      "                                       (default 100; 0: no limit)\n",
	      f);
}
