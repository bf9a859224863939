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

struct vigil_msgpack_tail;		/* encode/encode.h */

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
/* The same, counted (sent or dropped) now but written to the subscribers by the next
 * vigil_pub__flush, so that a batch costs one send and one wake-up per subscriber (a
 * subscriber's 64 KiB held are written at once). Frames follow each other on the stream
 * as nanomsg's own would. Other transports (nanomsg's NN_PUB) send at once. */
VIGIL_API int vigil_pub__publish_held(struct vigil_pub *p, struct vigil_buf *msg, uint64_t *seq);
/* Write what vigil_pub__publish_held held. 0 or -errno. */
VIGIL_API int vigil_pub__flush(struct vigil_pub *p);
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
VIGIL_API size_t vigil_pub__peers(const struct vigil_pub *p, struct vigil_pub_peer *out, size_t max);
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
 * when the bytes are not one msgpack map. One walk over the bytes (they are checked as
 * vigil_msgpack_scan checks them), and only the root's last two entries are read, as
 * vigil_msg__decode takes them: a stamp key elsewhere in the map is not a stamp. */
VIGIL_API int vigil_bus_stamp_read(const void *data, size_t len, uint64_t *incarnation, uint64_t *seq);
/* The same from a walk the caller already made: tail is where the root's last children of
 * the well-formed message at data start (vigil_msgpack_scan_tail's, or a reader's own walk
 * that proved the same). */
VIGIL_API int vigil_bus_stamp_from_tail(const void *data, const struct vigil_msgpack_tail *tail,
					uint64_t *incarnation, uint64_t *seq);

/* What a subscriber saw of the stream (vigil_sub__delivery), counted from the stamps. */
struct vigil_delivery {
	uint64_t received;	/* messages received */
	uint64_t missed;	/* messages the stamps say never arrived */
	uint64_t gaps;		/* holes those were in */
	uint64_t restarts;	/* times a new incarnation appeared after another */
	uint64_t unstamped;	/* messages without a (valid) stamp: not counted for gaps */
	uint64_t reordered;	/* a seq at or below the last one: repeats, not loss */
	uint64_t incarnation;	/* of the last stamped message; 0 before one */
	uint64_t first_seq;	/* the first of this incarnation seen (or asked for): with last_seq,
				 * the span received + missed covers, unless reordered */
	uint64_t last_seq;
	uint64_t last_gap_first, last_gap_last;	/* the last hole, inclusive; 0 before one */
};

/* ---- subscriber (CLI, plugins) ---- */

struct vigil_sub;

/* Subscribe to everything published at url. ipc:// and tcp:// (numeric address) are read
 * by the caller's own thread, many messages a read; other transports by a nanomsg NN_SUB.
 * Either connects lazily and again after a loss, so this succeeds while the agent is
 * down. recv_timeout_ms < 0 blocks. NULL + errno. */
VIGIL_API struct vigil_sub *vigil_sub__open(const char *url, int recv_timeout_ms);
/* Receive one message into *data (owned by the caller, release with vigil_bus_msg_free).
 * Returns the length, -ETIMEDOUT when the timeout passed with nothing, -EINTR, or -errno. */
VIGIL_API int vigil_sub__recv(struct vigil_sub *s, void **data);
/* For a reader that walks every message anyway (the Falco plugin): vigil_sub__recv without
 * reading the stamp, which is a second walk. Each message taken so must then be noted, in
 * the order taken, with vigil_sub__note: tail is where the root's last children start, from
 * the reader's walk of the well-formed message (see vigil_bus_stamp_from_tail); NULL when
 * the reader's walk refused it, and the bus reads the stamp itself as vigil_sub__recv does.
 * The gap callback runs from vigil_sub__note. */
VIGIL_API int vigil_sub__take(struct vigil_sub *s, void **data);
VIGIL_API void vigil_sub__note(struct vigil_sub *s, const void *data, size_t len,
			       const struct vigil_msgpack_tail *tail);
/* What the stamps of every message received so far say (see struct vigil_delivery). */
VIGIL_API void vigil_sub__delivery(const struct vigil_sub *s, struct vigil_delivery *out);
VIGIL_API uint64_t vigil_sub__missed(const struct vigil_sub *s);
VIGIL_API uint64_t vigil_sub__restarts(const struct vigil_sub *s);
/* Called from vigil_sub__recv, before it returns the message after a hole, with the
 * hole's first and last missing seq (inclusive) in incarnation. fn NULL: none. */
typedef void (*vigil_gap_fn)(void *ctx, uint64_t incarnation, uint64_t first, uint64_t last);
VIGIL_API void vigil_sub__on_gap(struct vigil_sub *s, vigil_gap_fn fn, void *ctx);
/* Socket settings a subscriber may change after vigil_sub__open. */
enum vigil_sub_option {
	VIGIL_SUB_RECV_BUFFER,		/* bytes queued for this subscriber before drops (nanomsg's
					 * NN_RCVBUF; the agent counts what does not fit) */
	VIGIL_SUB_MAX_MESSAGE,		/* largest message accepted, in bytes (NN_RCVMAXSIZE) */
	VIGIL_SUB_RECONNECT_MS,		/* wait before reconnecting to a lost agent (NN_RECONNECT_IVL) */
};
/* Set opt to value. 0 or -errno. */
VIGIL_API int vigil_sub__set(struct vigil_sub *s, enum vigil_sub_option opt, int value);
/* Wait up to timeout_ms (< 0: for ever) for a message. 1 when one waits (vigil_sub__recv
 * takes it), 0 when the time passed, -EINTR on a signal, or -errno. */
VIGIL_API int vigil_sub__wait(struct vigil_sub *s, int timeout_ms);
/* A file descriptor that polls readable while a message waits, for callers that wait on
 * several with poll(2); owned by s (never read or close it). -errno when there is none. */
VIGIL_API int vigil_sub__fd(const struct vigil_sub *s);
VIGIL_API void vigil_sub__close(struct vigil_sub *s);
VIGIL_API void vigil_bus_msg_free(void *data);

/* ---- the journal (agent side): every published message, bounded, on disk ----
 *
 * The lossless path. The agent appends every message it publishes, keyed by its seq; a
 * consumer that must not lose events pulls them over the control socket ("events_read",
 * vigil_reader below) at its own pace. Appending never blocks: the messages wait on a
 * list (bounded in bytes) for the journal's own writer thread, and one that does not fit
 * is counted as dropped. The files are bounded too: past max_bytes the oldest segment is
 * removed, its messages counted as evicted. A consumer asking for an evicted seq is told
 * exactly how many it lost. The files belong to one incarnation: removed at open (what a
 * previous agent left) and at close. */

#define VIGIL_JOURNAL_DEFAULT_BYTES (256ULL << 20)

struct vigil_journal_opts {
	size_t sz;			/* sizeof(struct vigil_journal_opts) */
	const char *dir;		/* created 0700 if missing; must be the agent's alone */
	uint64_t max_bytes;		/* 0: VIGIL_JOURNAL_DEFAULT_BYTES; its index takes 16 bytes
					 * of memory per message kept (~4 MiB per GiB of exec events) */
	uint64_t queue_bytes;		/* the writer may lag by this much; 0: 32 MiB */
};

struct vigil_journal_stats {
	uint64_t written;		/* messages in segment files, ever */
	uint64_t dropped;		/* never journaled: the writer was a whole queue behind */
	uint64_t evicted;		/* removed by the size bound */
	uint64_t write_errors;		/* the disk refused (full?): not journaled either */
	uint64_t bytes, segments;	/* on disk now */
	uint64_t oldest, last;		/* seqs kept now (0, 0: none) */
};

/* Where a read stopped. */
struct vigil_journal_pos {
	uint64_t next;		/* the seq to ask for next */
	uint64_t count;		/* messages handed over */
	uint64_t lost;		/* seqs in [from, next) not in the journal: evicted or dropped */
	uint64_t oldest, last;	/* what the journal holds (0 when empty) */
};

struct vigil_journal;

/* Open (clearing old segment files) and start the writer thread. NULL + errno: EPERM when
 * the directory is someone else's or open to group or others (logged). */
VIGIL_API struct vigil_journal *vigil_journal__open(const struct vigil_journal_opts *o);
/* Queue a copy of one message. Never blocks on the disk. 0, or -ENOBUFS / -ENOMEM /
 * -EMSGSIZE (counted as dropped). One appending thread at a time. */
VIGIL_API int vigil_journal__append(struct vigil_journal *j, uint64_t seq, const void *data, size_t len);
/* Called for each message read; data is valid for the call. Non-zero stops the read. */
typedef int (*vigil_journal_msg_fn)(void *ctx, uint64_t seq, const void *data, size_t len);
/* Hand over up to max_msgs messages (and about max_bytes, at least one) from seq `from`
 * on (0: the oldest kept), oldest first. 0 or -errno; *pos filled either way. */
VIGIL_API int vigil_journal__read(struct vigil_journal *j, uint64_t from, size_t max_msgs, size_t max_bytes,
				  vigil_journal_msg_fn fn, void *ctx, struct vigil_journal_pos *pos);
/* All zero for NULL. */
VIGIL_API void vigil_journal__stats(struct vigil_journal *j, struct vigil_journal_stats *out);
/* Stop the writer (what is queued is written first), remove the files. Accepts NULL. */
VIGIL_API void vigil_journal__close(struct vigil_journal *j);

/* ---- the journal's consumer (reader.c): pulls over the control socket ----
 *
 * Request {"cmd": "events_read", "max": N, "from": seq, "incarnation": I}; without "from",
 * from what is published next; "from": 0 for the oldest kept; an "incarnation" that is
 * not the agent's reads its stream from 1. Reply {"ok": true, "incarnation": I, "from":
 * the seq read from, "next": the seq to ask next, "lost": seqs in [from, next) not kept,
 * "oldest": .., "last": .., "events": [bin, ...]} where each bin is a stamped bus message.
 * Reading the journal is root's, as subscribing to the events socket is (its file is
 * root's, 0660): a --control-group member is refused. */

#define VIGIL_READER_MAX_BATCH 10000

enum vigil_reader_start {
	VIGIL_READER_NOW,	/* what is published after the first pull */
	VIGIL_READER_OLDEST,	/* the oldest message the journal keeps */
	VIGIL_READER_SEQ,	/* from_seq of incarnation */
};

struct vigil_reader_opts {
	size_t sz;			/* sizeof(struct vigil_reader_opts) */
	enum vigil_reader_start start;
	uint64_t from_seq;		/* VIGIL_READER_SEQ */
	uint64_t incarnation;		/* VIGIL_READER_SEQ: whose seq (0: the agent's now) */
	uint32_t batch;			/* messages per pull (0: 1000, at most VIGIL_READER_MAX_BATCH) */
	int timeout_ms;			/* per pull (0: 5000) */
	struct vigil_tls_client *tls;	/* control_url is HOST:PORT over TLS with this identity
					 * (borrowed); NULL: vigil_ctl_request's transports */
};

struct vigil_reader;

/* No request is made until the first pull. opts may be NULL. NULL + errno. */
VIGIL_API struct vigil_reader *vigil_reader__open(const char *control_url, const struct vigil_reader_opts *opts);
/* One request: fn is called for each message (stamped bus bytes, valid for the call)
 * in seq order. Returns how many (0: nothing new yet), or -errno: -EACCES (not root),
 * -EPROTO (no journal, or another refusal; logged), -ETIMEDOUT, -EBADMSG, or fn's. */
VIGIL_API int vigil_reader__pull(struct vigil_reader *r, vigil_journal_msg_fn fn, void *ctx);
/* missed: seqs the journal no longer had (its bound, or its queue) when asked, exact. */
VIGIL_API void vigil_reader__delivery(const struct vigil_reader *r, struct vigil_delivery *out);
VIGIL_API void vigil_reader__on_gap(struct vigil_reader *r, vigil_gap_fn fn, void *ctx);
/* The seq the next pull asks for (0 before the first). */
VIGIL_API uint64_t vigil_reader__next(const struct vigil_reader *r);
VIGIL_API void vigil_reader__close(struct vigil_reader *r);

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
	bool events;		/* may read events (events_read): root; over TLS a certificate named in
				 * the admin or the events list */
	const char *identity;	/* TLS: the client certificate's subject CN (else its first name);
				 * NULL for other transports. Valid for the handler call. */
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
VIGIL_API struct vigil_ctl_server *vigil_ctl_server__open(const char *url, const struct vigil_ctl_server_opts *opts,
							   vigil_ctl_handler handler, void *ctx);
VIGIL_API uint64_t vigil_ctl_server__bad_requests(const struct vigil_ctl_server *s);
/* Requests refused: from a VIGIL_CTL_DENIED peer, or that the handler refused (-EACCES). */
VIGIL_API uint64_t vigil_ctl_server__refused(const struct vigil_ctl_server *s);
/* Stop the thread and close the socket. Accepts NULL. */
VIGIL_API void vigil_ctl_server__close(struct vigil_ctl_server *s);

/* ---- control over mutual TLS (tetra's --server-address HOST:PORT) ----
 *
 * An opt-in network listener beside the local socket (ctl_tls.c). Mutual TLS only (TLS 1.3,
 * a client certificate that chains to client_ca_files): a network peer never gets what
 * local peer credentials grant. A verified client gets VIGIL_CTL_READ, the read-only
 * commands of a control group member; VIGIL_CTL_ALL when its certificate's subject CN or a
 * subjectAltName (DNS, URI, email, IP) is in admin_names; events (subscribe, events_read)
 * when it is in admin_names or events_names. Frames are the ipc:// socket's (a 4-byte
 * big-endian length, then msgpack), several requests per connection, each answered in
 * turn. {"cmd": "subscribe"} (answered {"ok": true}) turns the connection into an event
 * stream: every message published on events_url in a frame of its own. Connections, the
 * handshake's time, a frame's size and time are bounded; a malformed frame (not one
 * msgpack map, past max_frame, or anything sent after subscribe) is counted and its
 * connection dropped. Nothing a peer does reaches the agent's threads but the handler
 * call, which is serialised with the local socket's. */

#define VIGIL_CTL_TLS_MAX_CONNS 16
/* New connections and requests a second one client address may make (twice as many in a
 * burst); client_rate VIGIL_CTL_TLS_RATE_OFF: no limit. */
#define VIGIL_CTL_TLS_CLIENT_RATE 100
#define VIGIL_CTL_TLS_RATE_OFF UINT32_MAX
#define VIGIL_CTL_TLS_HANDSHAKE_MS 5000
#define VIGIL_CTL_TLS_MAX_FRAME (4u << 20)

struct vigil_ctl_tls_opts {
	size_t sz;			/* sizeof(struct vigil_ctl_tls_opts) */
	const char *address;		/* HOST:PORT, [V6]:PORT, or :PORT for every address */
	const char *cert_file, *key_file;	/* the server's certificate (chain) and key, PEM */
	const char *client_ca_files;	/* comma-separated PEM bundles clients must chain to */
	const char *admin_names;	/* comma-separated names given VIGIL_CTL_ALL (NULL: none) */
	const char *events_names;	/* comma-separated names that may read events (NULL: none) */
	const char *events_url;		/* the bus subscribers are served from (NULL: the default) */
	unsigned int max_conns;		/* 0: VIGIL_CTL_TLS_MAX_CONNS */
	int handshake_ms;		/* 0: VIGIL_CTL_TLS_HANDSHAKE_MS */
	uint32_t max_frame;		/* 0: VIGIL_CTL_TLS_MAX_FRAME */
	uint32_t client_rate;		/* 0: VIGIL_CTL_TLS_CLIENT_RATE */
};

/* What the TLS listener saw, since it started. */
struct vigil_ctl_tls_stats {
	uint64_t accepted;		/* TCP connections taken */
	uint64_t handshake_failed;	/* refused in the handshake: no certificate, another CA,
					 * not TLS, too slow */
	uint64_t busy;			/* closed at once: max_conns were open */
	uint64_t bad_frames;		/* malformed or oversized frames (connection dropped) */
	uint64_t timeouts;		/* connections closed idle or mid-frame */
	uint64_t requests;		/* requests answered */
	uint64_t subscribers;		/* event streams started */
	uint64_t events_sent;		/* messages written to event streams */
	uint64_t open;			/* connections open now */
	uint64_t reloads;		/* certificate files read again (vigil_ctl_server__tls_reload) */
	uint64_t reload_failed;		/* reloads whose files did not load: the old ones kept */
	uint64_t rate_limited;		/* connections closed before the handshake: their address
					 * was over client_rate */
	uint64_t throttled;		/* requests held back until their address was under it */
};

/* Start a TLS listener at o->address serving s's handler (s: an open server, over ipc://
 * usually). Refused (-EINVAL, the reason logged) without a certificate, key or client CA.
 * 0 or -errno; s keeps serving its own socket either way. */
VIGIL_API int vigil_ctl_server__listen_tls(struct vigil_ctl_server *s, const struct vigil_ctl_tls_opts *o);
/* Read the certificate, key and client CA files again: the next handshakes use them, open
 * connections keep theirs. 0; -ENOENT without a TLS listener; -EINVAL (logged) or -ENOMEM
 * with the files loaded before still serving. Any thread. */
VIGIL_API int vigil_ctl_server__tls_reload(struct vigil_ctl_server *s);
/* All zero when s has no TLS listener. */
VIGIL_API void vigil_ctl_server__tls_stats(const struct vigil_ctl_server *s, struct vigil_ctl_tls_stats *out);
/* true for tetra's HOST:PORT form (no scheme, a port after the last ':'), which means TLS. */
VIGIL_API bool vigil_bus_tls_address(const char *address);

/* The client side (tls_client.c): one TLS identity for the requests and streams of a process. */
struct vigil_tls_client_opts {
	size_t sz;			/* sizeof(struct vigil_tls_client_opts) */
	const char *ca_files;		/* comma-separated PEM bundles the server must chain to;
					 * NULL: the system's store */
	const char *cert_file, *key_file;	/* the client's certificate and key (both or neither) */
	const char *server_name;	/* the name the server's certificate must carry (a host name
					 * or an IP address); NULL: the address's host */
	bool skip_verify;		/* tetra's --tls-skip-verify: no check of the server at all */
};

struct vigil_tls_client;

/* Load the files. NULL + errno, and the reason in why (which may be NULL). */
VIGIL_API struct vigil_tls_client *vigil_tls_client__new(const struct vigil_tls_client_opts *o, char *why,
							  size_t why_len);
VIGIL_API void vigil_tls_client__free(struct vigil_tls_client *c);
/* The reason of the last failure of a request or stream of c ("" when none). */
VIGIL_API const char *vigil_tls_client__error(const struct vigil_tls_client *c);
/* vigil_ctl_request over TLS to address (HOST:PORT). 0, -ETIMEDOUT, -ECONNREFUSED (nothing
 * listens), -EPROTO (the handshake or the server refused us: see vigil_tls_client__error),
 * -EBADMSG, or -errno. */
VIGIL_API int vigil_tls_client__request(struct vigil_tls_client *c, const char *address, const void *req,
					size_t req_len, struct vigil_buf *reply, int timeout_ms);
/* A subscriber of the agent at address over TLS ({"cmd": "subscribe"}), used as one from
 * vigil_sub__open (recv, take, delivery, gaps, close; vigil_sub__set takes
 * VIGIL_SUB_MAX_MESSAGE and VIGIL_SUB_RECONNECT_MS; wait and fd are -EOPNOTSUPP). It
 * connects at the first recv and again after a lost connection, as nanomsg does; recv
 * returns -EPROTO when the server refuses the handshake or the subscription (the reason in
 * vigil_tls_client__error). c must outlive the subscriber. NULL + errno. */
VIGIL_API struct vigil_sub *vigil_sub__open_tls(struct vigil_tls_client *c, const char *address,
						int recv_timeout_ms);

/* Send one request and wait up to timeout_ms for the reply, appended to reply. While the
 * agent is not there yet (no socket, nobody listening) it keeps trying until the timeout.
 * Returns 0, -ETIMEDOUT (agent not answering), -EACCES (the socket's mode keeps this user
 * out), or -errno. */
VIGIL_API int vigil_ctl_request(const char *url, const void *req, size_t req_len, struct vigil_buf *reply,
				int timeout_ms);

#endif
