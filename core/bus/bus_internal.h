/* bus_internal.h - helpers the bus files share, and the control server both transports
 * (ctl_unix.c for ipc://, ctl_nn.c for tcp://) fill in. */
#ifndef VIGIL_BUS_INTERNAL_H
#define VIGIL_BUS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "bus.h"

/* How often a server thread looks at its stop flag. */
#define CTL_POLL_MS 200
/* The largest request or reply a framed ipc:// message may carry. */
#define CTL_MSG_MAX (64u << 20)

/* The filesystem path of an ipc:// url, NULL for other schemes. */
const char *bus_ipc_path(const char *url);
/* Create the directory of an ipc:// url (mkdir -p, 0755), then check that it and every
 * directory above it can be changed by root alone: owned by root (the agent's euid), not
 * writable by group or others, or sticky (/tmp) above the last one. Someone else's
 * directory could swap the socket under the agent. No-op for other schemes. 0, -EPERM
 * (logged, naming the directory), or -errno. */
int bus_prepare_ipc(const char *url);
/* chmod the socket file of an ipc:// url. No-op for other schemes. 0 or -errno. */
int bus_chmod_ipc(const char *url, unsigned int mode);
/* chown the socket file of an ipc:// url to root:gid. No-op for other schemes. */
int bus_chgrp_ipc(const char *url, gid_t gid);
/* unlink the socket file of an ipc:// url. */
void bus_unlink_ipc(const char *url);

struct vigil_ctl_server {
	char *url;
	int64_t read_gid;		/* < 0: none */
	vigil_ctl_handler handler;
	void *ctx;
	int fd;				/* ipc://: the listening AF_UNIX socket, else -1 */
	int sock;			/* tcp://: the NN_REP socket, else -1 */
	pthread_t thread;
	bool thread_started;
	atomic_bool stop;
	_Atomic uint64_t bad_requests;
	_Atomic uint64_t refused;
	pthread_mutex_t handler_lock;	/* one handler call at a time, whichever thread */
	pthread_mutex_t conns_lock;	/* ipc://: connection threads still running */
	pthread_cond_t conns_done;
	unsigned int conns, conns_unprivileged;
};

/* Run the handler for one request (or refuse a denied peer) and leave the reply to send
 * in reply, counting refusals and bad requests. Any thread: handler calls are serialised. */
void bus_ctl_answer(struct vigil_ctl_server *s, const struct vigil_ctl_peer *peer, const void *req, size_t len,
		struct vigil_buf *reply);

/* ctl_unix.c: bind s->url, serve on a thread; the client side. 0 or -errno. */
int bus_ctl_unix_start(struct vigil_ctl_server *s);
int bus_ctl_unix_request(const char *path, const void *req, size_t req_len, struct vigil_buf *reply, int timeout_ms);

/* ctl_nn.c: the same over nanomsg for tcp://. */
int bus_ctl_nn_start(struct vigil_ctl_server *s);
void bus_ctl_nn_close(struct vigil_ctl_server *s);
int bus_ctl_nn_request(const char *url, const void *req, size_t req_len, struct vigil_buf *reply, int timeout_ms);

#endif
