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
/* Publish one message without ever blocking. A subscriber whose queue is full (4 MiB
 * behind) misses it: counted in dropped, once per subscriber. Returns 0, -EAGAIN when
 * nanomsg refused it (other transports; counted as dropped), or another -errno. */
VIGIL_API int vigil_pub__send(struct vigil_pub *p, const void *data, size_t len);
VIGIL_API uint64_t vigil_pub__sent(const struct vigil_pub *p);
VIGIL_API uint64_t vigil_pub__dropped(const struct vigil_pub *p);
/* Stamp msg (a msgpack map, changed in place) with this publisher's incarnation and
 * its next sequence number, then send it as vigil_pub__send does. The number is used up
 * even when sending fails, so every subscriber sees the hole. *seq (may be NULL) is the
 * number given. Returns what vigil_pub__send returns, or -EINVAL when msg is no map. */
VIGIL_API int vigil_pub__publish(struct vigil_pub *p, struct vigil_buf *msg, uint64_t *seq);
/* Random, fixed for the publisher's life, never 0: a restarted agent is a new stream. */
VIGIL_API uint64_t vigil_pub__incarnation(const struct vigil_pub *p);
/* The last sequence number given (0 before the first). */
VIGIL_API uint64_t vigil_pub__last_seq(const struct vigil_pub *p);

/* One subscriber connection of our own SP listener (ipc:// and tcp://), as the agent sees
 * it: what it could not queue for that subscriber alone. pid/uid are the kernel's for
 * ipc:// (SO_PEERCRED), -1 for tcp://. */
struct vigil_pub_peer {
	int32_t pid;
	int64_t uid;
	uint64_t sent, dropped, queued_bytes;
};

/* Copy up to max subscriber connections into out; returns how many there are (possibly
 * more than max). 0 for nanomsg transports, which never say who dropped what. */
VIGIL_API size_t vigil_pub__peers(struct vigil_pub *p, struct vigil_pub_peer *out, size_t max);
/* Close the socket (and remove an ipc socket file). Accepts NULL. */
VIGIL_API void vigil_pub__close(struct vigil_pub *p);

/* ---- the delivery stamp (stamp.c) ----
 *
 * Every message the agent publishes is a msgpack map whose last two entries are
 *   "vigil_seq": uint64          1, 2, 3... for every message of this incarnation
 *   "vigil_incarnation": uint64  random per agent start, never 0
 * written as 0xcf + 8 bytes. Decoders that do not know them see two more keys;
 * vigil_msg__decode hides them (vigil_msg__delivery reads them), so the JSON and compact
 * renderings stay Tetragon's. A subscriber that sees seq jump from a to b missed
 * b - a - 1 messages; a new incarnation is a restart, not a loss. */
#define VIGIL_BUS_KEY_SEQ "vigil_seq"
#define VIGIL_BUS_KEY_INCARNATION "vigil_incarnation"
#define VIGIL_BUS_STAMP_LEN (1 + 9 + 9 + 1 + 17 + 9)

/* Append the stamp to msg, a msgpack map (its header is rewritten; the buffer may move).
 * 0, -EINVAL when msg does not start with a map, -ENOMEM (msg unchanged on failure). */
VIGIL_API int vigil_bus_stamp(struct vigil_buf *msg, uint64_t incarnation, uint64_t seq);
/* Read the stamp of a message: 0, -ENOENT when it has none (or a 0 in either), -EBADMSG
 * when the bytes are not one msgpack map. */
VIGIL_API int vigil_bus_stamp_read(const void *data, size_t len, uint64_t *incarnation, uint64_t *seq);

/* What a subscriber saw of the stream (vigil_sub__delivery), counted from the stamps. */
struct vigil_delivery {
	uint64_t received;	/* messages received */
	uint64_t missed;	/* messages the stamps say never arrived */
	uint64_t gaps;		/* holes those were in */
	uint64_t restarts;	/* times a new incarnation appeared after another */
	uint64_t unstamped;	/* messages without a (valid) stamp: not counted for gaps */
	uint64_t reordered;	/* a seq at or below the last one: repeats, not loss */
	uint64_t incarnation;	/* of the last stamped message; 0 before one */
	uint64_t last_seq;
	uint64_t last_gap_first, last_gap_last;	/* the last hole, inclusive; 0 before one */
};

/* ---- subscriber (CLI, plugins) ---- */

struct vigil_sub;

/* Connect an NN_SUB socket to url, subscribed to everything. nanomsg connects lazily and
 * reconnects by itself, so this succeeds while the agent is down. recv_timeout_ms < 0
 * blocks. NULL + errno. */
VIGIL_API struct vigil_sub *vigil_sub__open(const char *url, int recv_timeout_ms);
/* Receive one message into *data (owned by the caller, release with vigil_bus_msg_free).
 * Returns the length, -ETIMEDOUT when the timeout passed with nothing, -EINTR, or -errno. */
VIGIL_API int vigil_sub__recv(struct vigil_sub *s, void **data);
/* What the stamps of every message received so far say (see struct vigil_delivery). */
VIGIL_API void vigil_sub__delivery(const struct vigil_sub *s, struct vigil_delivery *out);
VIGIL_API uint64_t vigil_sub__missed(const struct vigil_sub *s);
VIGIL_API uint64_t vigil_sub__restarts(const struct vigil_sub *s);
/* Called from vigil_sub__recv, before it returns the message after a hole, with the
 * hole's first and last missing seq (inclusive) in incarnation. fn NULL: none. */
typedef void (*vigil_gap_fn)(void *ctx, uint64_t incarnation, uint64_t first, uint64_t last);
VIGIL_API void vigil_sub__on_gap(struct vigil_sub *s, vigil_gap_fn fn, void *ctx);
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
