/* vigild_tls.h - vigild's Tetragon flags for the control socket's network listener:
 * --server-address and --server-tls-* (vigild_tls.c). */
#ifndef VIGILD_TLS_H
#define VIGILD_TLS_H

#include <stdbool.h>

#include "agent/agent.h"
#include "bus/bus.h"

enum {
	VIGILD_OPT_SERVER_ADDRESS = 0x200,
	VIGILD_OPT_TLS_CERT,
	VIGILD_OPT_TLS_KEY,
	VIGILD_OPT_TLS_CLIENT_CA,
	VIGILD_OPT_TLS_REQUIRE_CLIENT,
	VIGILD_OPT_TLS_ADMIN,
	VIGILD_OPT_TLS_EVENTS,
	VIGILD_OPT_TLS_MAX_CONNS,
	VIGILD_OPT_TLS_CLIENT_RATE,
};

/* getopt_long entries, for vigild's table */
#define VIGILD_TLS_LONG_OPTIONS \
	{"server-address", required_argument, NULL, VIGILD_OPT_SERVER_ADDRESS}, \
	{"server-tls-cert-file", required_argument, NULL, VIGILD_OPT_TLS_CERT}, \
	{"server-tls-key-file", required_argument, NULL, VIGILD_OPT_TLS_KEY}, \
	{"server-tls-client-ca-files", required_argument, NULL, VIGILD_OPT_TLS_CLIENT_CA}, \
	{"server-tls-require-client-cert", optional_argument, NULL, VIGILD_OPT_TLS_REQUIRE_CLIENT}, \
	{"server-tls-admin-names", required_argument, NULL, VIGILD_OPT_TLS_ADMIN}, \
	{"server-tls-events-names", required_argument, NULL, VIGILD_OPT_TLS_EVENTS}, \
	{"server-tls-max-connections", required_argument, NULL, VIGILD_OPT_TLS_MAX_CONNS}, \
	{"server-tls-client-rate", required_argument, NULL, VIGILD_OPT_TLS_CLIENT_RATE}

struct vigild_tls {
	struct vigil_ctl_tls_opts o;
	char *lists[3];			/* client CAs, admin names, events names: repeated flags joined */
	bool any_tls_flag;
};

/* One of the options above into t (a unix:// or ipc:// --server-address into o->control_url).
 * 0, 2 after saying why, or -1 when c is none of them. */
int vigild_tls_option(int c, const char *arg, struct vigild_tls *t, struct vigil_agent_opts *o);
/* After the command line: the listener's options into o->tls when asked for. 0, or 2 after
 * saying why (TLS flags without a HOST:PORT address, or an address without them). */
int vigild_tls_finish(struct vigild_tls *t, struct vigil_agent_opts *o);
void vigild_tls_usage(FILE *f);

#endif
