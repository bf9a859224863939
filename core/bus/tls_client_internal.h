/* tls_client_internal.h - what the TLS client's files share: the identity and one
 * connection (tls_client.c), used by requests there and by the event stream (tls_stream.c). */
#ifndef VIGIL_TLS_CLIENT_INTERNAL_H
#define VIGIL_TLS_CLIENT_INTERNAL_H

#include <openssl/ssl.h>

#include "bus_internal.h"

struct vigil_tls_client {
	SSL_CTX *ctx;
	char *server_name;		/* NULL: each address's host */
	bool skip_verify;
	char error[384];
};

/* One connection: socket and TLS state. */
struct tls_link {
	int fd;
	SSL *ssl;
};

/* Connect to address and shake hands: the server's certificate must chain to c's CAs and
 * carry the server name. 0, or -errno with the reason in c->error (l closed). */
int bus_tls_link_open(struct vigil_tls_client *c, const char *address, struct tls_link *l, uint64_t deadline);
/* Close l (accepts a closed one). */
void bus_tls_link_close(struct tls_link *l);
/* The reason of a failed read or write on l into c->error; returns the error to report
 * (-EPROTO for a server that refused us, also when it reset the connection). */
int bus_tls_io_error(struct vigil_tls_client *c, struct tls_link *l, const char *address, int err);

#endif
