/* ctl_tls_internal.h - what the TLS listener's files share: the listener (ctl_tls.c), one
 * connection's life (ctl_tls_conn.c), and the rights a client certificate's names earn
 * (ctl_tls_names.c). */
#ifndef VIGIL_CTL_TLS_INTERNAL_H
#define VIGIL_CTL_TLS_INTERNAL_H

#include <openssl/ssl.h>
#include <sys/socket.h>

#include "bus_internal.h"

/* A connection may stay idle between requests this long. */
#define TLS_IDLE_MS 30000
/* Once a frame's first byte came, the rest must follow within this. */
#define TLS_FRAME_MS 5000
/* A reply or an event must be taken by the peer within this, or it is dropped. */
#define TLS_WRITE_MS 5000
/* How often a subscriber's relay looks at the stop flag and the peer. */
#define TLS_SUB_POLL_MS 200

/* Client addresses whose request rate is remembered (ctl_tls_rate.c). */
#define TLS_RATE_CLIENTS 256

struct tls_bucket {
	uint8_t key[16];		/* the address, IPv4 mapped into IPv6 */
	bool used;
	double tokens;
	uint64_t last_ms;
};

struct ctl_tls {
	struct vigil_ctl_server *s;
	SSL_CTX *ctx;			/* under lock: a reload replaces it */
	int fd;
	char *address, *admin_names, *events_names, *events_url;
	char *cert_file, *key_file, *client_ca_files;	/* read again by a reload */
	unsigned int max_conns;
	int handshake_ms;
	uint32_t max_frame;
	pthread_t thread;
	bool thread_started;
	atomic_bool stop;
	pthread_mutex_t lock;		/* conns, ctx */
	pthread_cond_t done;
	unsigned int conns;
	_Atomic uint64_t accepted, handshake_failed, busy, bad_frames, timeouts, requests, subscribers, events_sent;
	_Atomic uint64_t reloads, reload_failed, rate_limited, throttled;
	unsigned int rate;		/* connections and requests a second per client address; 0: any */
	pthread_mutex_t rate_lock;	/* buckets */
	struct tls_bucket buckets[TLS_RATE_CLIENTS];
};

struct tls_conn {
	struct ctl_tls *t;
	int fd;
	SSL *ssl;
	char from[64];			/* the peer's address, for the log */
	char cn[128];			/* the certificate's subject CN (or first name) */
	uint8_t key[16];		/* the peer's address, for its request rate */
	struct vigil_ctl_peer peer;
};

/* ctl_tls_rate.c: whether the address at sa may open a connection now (false: counted in
 * rate_limited, to be closed before any handshake). */
bool bus_tls_rate_connect(struct ctl_tls *t, const struct sockaddr_storage *sa);
/* The connection's address for bus_tls_rate_request. */
void bus_tls_rate_key(struct tls_conn *c, const struct sockaddr_storage *sa);
/* Wait until the connection's address may make one more request (counted in throttled when it
 * had to wait). 0, or -ECANCELED when the listener stops meanwhile. */
int bus_tls_rate_request(struct tls_conn *c);
/* ctl_tls_names.c: the verified client's rights into c->peer (access, events, identity). */
void bus_tls_rights_of(struct tls_conn *c);
/* ctl_tls_conn.c: a connection's thread (arg: a struct tls_conn, freed here): the handshake,
 * then requests or an event stream, then the connection count given back. */
void *bus_tls_serve_conn(void *arg);

#endif
