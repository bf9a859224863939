/* ext.h - the vigil.ext process: its options and state, and the parts main.c wires
 * together (manager client, call server, bus feed, socket I/O). */
#ifndef OSQ_EXT_H
#define OSQ_EXT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "table.h"
#include "wire.h"

/* The largest request the extension reads: osquery's calls are a few hundred bytes (a
 * generate context grows with its constraints), so this only bounds a broken peer. */
#define EXT_REQUEST_LIMIT (1u << 20)
/* The largest reply from the manager: extensions() lists every extension's info. */
#define EXT_REPLY_LIMIT (1u << 20)
/* Calls to the manager: its own ping probe allows 10 s; a reply is usually instant. */
#define EXT_MANAGER_TIMEOUT_MS 10000
/* A connection with no complete request for this long is closed (osquery sends its one
 * call at once after connecting). */
#define EXT_IDLE_TIMEOUT_MS 30000
/* Connections served at once; more wait in the listen backlog. */
#define EXT_MAX_SESSIONS 64
/* How often sleeping loops look at the stop flag. */
#define EXT_POLL_MS 100
/* vigil_policies asks the agent at query time; an agent that does not answer this fast
 * gives an empty table rather than a stalled query. */
#define EXT_CONTROL_TIMEOUT_MS 2000

struct ext_options {
	const char *socket;		/* the manager's socket (--socket) */
	unsigned int timeout_s;		/* registration keeps trying this long (--timeout) */
	unsigned int interval_s;	/* the watcher's period (--interval) */
	bool verbose;
	const char *bus_url;		/* events (--bus, $VIGIL_BUS) */
	const char *control_url;	/* the agent's control socket (--control, $VIGIL_CONTROL) */
	size_t max_events;		/* rows kept per table */
	unsigned int expiry_s;		/* seconds a row is kept */
};

enum ext_stop {
	EXT_RUNNING,
	EXT_STOP_SIGNAL,	/* SIGTERM / SIGINT: deregister, then exit */
	EXT_STOP_SHUTDOWN,	/* the manager called shutdown() */
};

struct ext {
	struct ext_options opt;
	int64_t uuid;			/* the manager's route uuid for us, once registered */
	char *path;			/* where we serve: <socket>.<uuid> */
	_Atomic int stop;		/* enum ext_stop */
	struct store **stores;		/* ntables entries, in tables[] order; NULL for live tables */
	/* what the feed's subscription saw of the stream (the stamps' gaps), for
	 * vigil_delivery; written by the feed, read by queries */
	pthread_mutex_t delivery_lock;
	struct osq_delivery delivery;
};

static inline bool ext_stopping(struct ext *x)
{
	return atomic_load(&x->stop) != EXT_RUNNING;
}

/* Sleep ms, waking early on a stop (main.c). */
void ext_nap(struct ext *x, int64_t ms);

/* ---- handler.c: answer one request ---- */

/* Write the reply to req into w (nothing for a request that wants none). Sets x->stop on
 * shutdown(). */
void ext_handle(struct ext *x, const struct osq_request *req, struct tb_writer *w);

/* ---- manager.c: calls to osquery's extension manager ---- */

/* Register our tables, trying again while the manager is not up (or still holds our
 * previous registration) until timeout_s passes. Sets x->uuid. Returns 0, -ETIMEDOUT,
 * -EPERM when the manager refused us for good (why holds its message), or -errno. */
int mgr_register(struct ext *x, char *why, size_t why_size);
/* Is our uuid among the manager's extensions()? 0 with *found set, or -errno when the
 * manager cannot be asked (its socket is gone, it does not answer). */
int mgr_is_registered(struct ext *x, bool *found);
/* Best effort deregisterExtension(uuid), for a stop by signal. */
void mgr_deregister(struct ext *x);

/* ---- server.c: the Extension service on <socket>.<uuid> ---- */

struct server;

/* Listen on x->path and serve each connection on a thread of its own. NULL + errno. */
struct server *server_start(struct ext *x);
/* Stop accepting, wait for the connections being served, remove the socket. Accepts NULL. */
void server_stop(struct server *s);

/* ---- feed.c: the bus subscription that fills the stores ---- */

struct feed;

struct feed *feed_start(struct ext *x);
/* Accepts NULL. */
void feed_stop(struct feed *f);

/* ---- io.c: unbuffered messages on stream sockets ---- */

/* Parse what has arrived so far; return 0 with *used, -EAGAIN for more, or an error. */
typedef int (*io_parse_fn)(const void *buf, size_t len, void *arg, size_t *used);

/* Read until parse accepts a message at the start of in (bytes already in it count),
 * waiting at most timeout_ms for the whole message and giving up early once *stop is set
 * (stop may be NULL). Returns 0 with *used, -ETIMEDOUT, -ECONNRESET when the peer closed
 * (also mid-message), -ECANCELED when stopped, or parse's error. */
int io_read_message(int fd, struct vigil_buf *in, int timeout_ms, _Atomic int *stop, io_parse_fn parse,
		    void *arg, size_t *used);
/* Write all n bytes within timeout_ms. Returns 0, -ETIMEDOUT or -errno. */
int io_write_all(int fd, const void *p, size_t n, int timeout_ms);
/* A connected or listening AF_UNIX stream socket (close-on-exec). fd or -errno. */
int io_connect_unix(const char *path);
int io_listen_unix(const char *path);

#endif
