/* bus.h - vigil's nanomsg sockets: the event publisher and its subscribers, and the
 * control request/reply pair. Payloads are opaque bytes here (msgpack in practice).
 *
 * This is the small client part plugins link: subscribe, request, decode (core/encode).
 */
#ifndef VIGIL_BUS_H
#define VIGIL_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"

#define VIGIL_BUS_DEFAULT_EVENTS "ipc:///run/vigil/events.sock"
#define VIGIL_BUS_DEFAULT_CONTROL "ipc:///run/vigil/control.sock"

/* ---- publisher (agent side) ---- */

struct vigil_pub;

/* Bind an NN_PUB socket at url (ipc:// or tcp://). For ipc:// the directory is created,
 * or refused when someone other than root could write it, and the socket file is made
 * mode `mode` (0660 for events; a failed chmod stops the open). NULL + errno. */
VIGIL_API struct vigil_pub *vigil_pub__open(const char *url, unsigned int mode);
/* Publish one message without ever blocking. Returns 0, or -EAGAIN when nanomsg refused
 * it (counted as dropped), or another -errno. */
VIGIL_API int vigil_pub__send(struct vigil_pub *p, const void *data, size_t len);
VIGIL_API uint64_t vigil_pub__sent(const struct vigil_pub *p);
VIGIL_API uint64_t vigil_pub__dropped(const struct vigil_pub *p);
/* Close the socket (and remove an ipc socket file). Accepts NULL. */
VIGIL_API void vigil_pub__close(struct vigil_pub *p);

/* ---- subscriber (CLI, plugins) ---- */

struct vigil_sub;

/* Connect an NN_SUB socket to url, subscribed to everything. nanomsg connects lazily and
 * reconnects by itself, so this succeeds while the agent is down. recv_timeout_ms < 0
 * blocks. NULL + errno. */
VIGIL_API struct vigil_sub *vigil_sub__open(const char *url, int recv_timeout_ms);
/* Receive one message into *data (owned by the caller, release with vigil_bus_msg_free).
 * Returns the length, -ETIMEDOUT when the timeout passed with nothing, -EINTR, or -errno. */
VIGIL_API int vigil_sub__recv(struct vigil_sub *s, void **data);
/* The nanomsg socket, for callers that poll several (nn_poll). */
VIGIL_API int vigil_sub__socket(const struct vigil_sub *s);
VIGIL_API void vigil_sub__close(struct vigil_sub *s);
VIGIL_API void vigil_bus_msg_free(void *data);

/* ---- control: request/reply ---- */

/* Over ipc:// the control channel is a plain AF_UNIX stream socket, not nanomsg: nanomsg
 * never shows the connection's descriptor, and the server needs SO_PEERCRED to know who
 * asks. One request per connection, each message a 4-byte big-endian length then that
 * many bytes (msgpack in practice); the reply is framed the same way. tcp:// stays
 * nanomsg NN_REQ/NN_REP, on a loopback address only, and carries no credentials. */

/* What a peer may do. The server works it out; the handler decides per command. */
enum vigil_ctl_access {
	VIGIL_CTL_DENIED,	/* neither root nor in the control group: refused by the server */
	VIGIL_CTL_READ,		/* read-only commands: a control group member, any tcp:// peer */
	VIGIL_CTL_ALL,		/* root (effective uid 0 in the agent's user namespace) */
};

/* Who sent a request. */
struct vigil_ctl_peer {
	enum vigil_ctl_access access;
	bool local;		/* ipc://: uid, gid and pid below are the kernel's (SO_PEERCRED) */
	uint32_t uid, gid;	/* effective ids at connect time */
	int32_t pid;
};

struct vigil_ctl_server_opts {
	size_t sz;		/* sizeof(struct vigil_ctl_server_opts) */
	/* Members of this group (primary or supplementary) get VIGIL_CTL_READ, and an ipc://
	 * socket is made root:group 0660 instead of root 0600. < 0: no group. */
	int64_t read_gid;
};

struct vigil_ctl_server;

/* Handle one request from peer; fill reply (msgpack). Called on the server's threads, one
 * call at a time. Return 0, or -errno to send an error reply: reply itself when the
 * handler filled it, else {"ok": false, "error": strerror}.
 * -EACCES counts as a refusal (vigil_ctl_server__refused), other errors as bad requests. */
typedef int (*vigil_ctl_handler)(const struct vigil_ctl_peer *peer, const void *req, size_t req_len,
				 struct vigil_buf *reply, void *ctx);

/* Serve requests at url on threads of its own until vigil_ctl_server__close. ipc://: a
 * thread per connection, so a caller that stalls holds up no one (at most 8 at once for
 * callers other than root, more are closed); the socket's directory must be owned by root
 * and writable by root alone (created so if missing); the socket is mode 0600 (0660 with a
 * read group), and a failed chmod or chown stops the start. tcp://: only 127.x.x.x, [::1]
 * or localhost. opts may be NULL. NULL + errno, the reason logged. */
VIGIL_API struct vigil_ctl_server *vigil_ctl_server__start(const char *url, const struct vigil_ctl_server_opts *opts,
							   vigil_ctl_handler handler, void *ctx);
VIGIL_API uint64_t vigil_ctl_server__bad_requests(const struct vigil_ctl_server *s);
/* Requests refused: from a VIGIL_CTL_DENIED peer, or that the handler refused (-EACCES). */
VIGIL_API uint64_t vigil_ctl_server__refused(const struct vigil_ctl_server *s);
/* Stop the thread and close the socket. Accepts NULL. */
VIGIL_API void vigil_ctl_server__close(struct vigil_ctl_server *s);

/* Send one request and wait up to timeout_ms for the reply, appended to reply. While the
 * agent is not there yet (no socket, nobody listening) it keeps trying until the timeout.
 * Returns 0, -ETIMEDOUT (agent not answering), -EACCES (the socket's mode keeps this user
 * out), or -errno. */
VIGIL_API int vigil_ctl_request(const char *url, const void *req, size_t req_len, struct vigil_buf *reply,
				int timeout_ms);

#endif
