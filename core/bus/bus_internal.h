/* bus_internal.h - helpers the bus files share, and the control server both transports
 * (ctl_unix.c for ipc://, ctl_nn.c for tcp://) fill in. */
#ifndef VIGIL_BUS_INTERNAL_H
#define VIGIL_BUS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
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
	struct ctl_tls *tls;		/* the TLS listener (ctl_tls.c), NULL without one */
};

/* Run the handler for one request (or refuse a denied peer) and leave the reply to send
 * in reply, counting refusals and bad requests. Any thread: handler calls are serialised. */
void bus_ctl_answer(struct vigil_ctl_server *s, const struct vigil_ctl_peer *peer, const void *req, size_t len,
		struct vigil_buf *reply);

/* ctl_unix.c: bind s->url, serve on a thread; the client side. 0 or -errno. */
int bus_ctl_unix_start(struct vigil_ctl_server *s);
int bus_ctl_unix_request(const char *path, const void *req, size_t req_len, struct vigil_buf *reply, int timeout_ms);

/* ctl_nn.c: the same over nanomsg for tcp://. */
int bus_ctl_nn_open(struct vigil_ctl_server *s);
void bus_ctl_nn_close(struct vigil_ctl_server *s);
int bus_ctl_nn_request(const char *url, const void *req, size_t req_len, struct vigil_buf *reply, int timeout_ms);

/* ctl_tls.c: stop the TLS listener and its connections, free it. Accepts s->tls NULL. */
void bus_ctl_tls_close(struct vigil_ctl_server *s);

/* ---- tls_io.c: what the TLS server and client share ---- */

struct ssl_st;
struct addrinfo;

uint64_t bus_now_ms(void);
/* TCP_NODELAY on fd. */
void bus_tls_nodelay(int fd);
/* Resolve HOST:PORT, [V6]:PORT or :PORT (passive: for bind). *out for freeaddrinfo. 0 or
 * -EINVAL (no port) / -EHOSTUNREACH (no such host). */
int bus_tls_resolve(const char *address, bool passive, struct addrinfo **out);
/* The handshake (SSL_do_handshake) on a non-blocking fd, before deadline (bus_now_ms). 0,
 * -ETIMEDOUT, -ECONNRESET, or -EPROTO (the reason from bus_tls_reason). */
int bus_tls_handshake(struct ssl_st *ssl, int fd, uint64_t deadline);
/* All n bytes in or out before deadline. 0, -ETIMEDOUT, -ECONNRESET (closed), -EPROTO (a
 * TLS alert: the peer refused us), or -errno. */
int bus_tls_move(struct ssl_st *ssl, int fd, void *buf, size_t n, bool out, uint64_t deadline);
int bus_tls_send_frame(struct ssl_st *ssl, int fd, const void *data, size_t len, uint64_t deadline);
/* One frame into out (reset first): its head must start before first_deadline, the rest
 * follow within rest_ms. 0, -EMSGSIZE past max (nothing read beyond the head), or
 * bus_tls_move's errors. */
int bus_tls_recv_frame(struct ssl_st *ssl, int fd, struct vigil_buf *out, uint32_t max, uint64_t first_deadline,
		       int rest_ms);
/* The last OpenSSL error of this thread (and the verification result, when ssl is given
 * and it failed) in buf; the thread's error queue is emptied. */
void bus_tls_reason(struct ssl_st *ssl, char *buf, size_t len);
/* The frame head of len bytes. */
void bus_frame_head(size_t len, unsigned char head[4]);

/* tls_stream.c: the stream behind vigil_sub__open_tls (sub.c). */
struct tls_stream;
void bus_tls_stream_free(struct tls_stream *t);
/* One message (nn_allocmsg'd, for vigil_bus_msg_free) within timeout_ms: its length,
 * -ETIMEDOUT, -EPROTO (refused for good), or -errno. */
int bus_tls_stream_recv(struct tls_stream *t, void **data, int timeout_ms);
int bus_tls_stream_set(struct tls_stream *t, enum vigil_sub_option opt, int value);
/* sub.c: a vigil_sub reading t (taken: freed with the subscriber). NULL + errno. */
struct vigil_sub *bus_sub_wrap_tls(struct tls_stream *t, int recv_timeout_ms);

/* seqtrack.c: note one received message in t; returns how many messages the stamps say
 * were missed just before it (0 for none, an unstamped message, or a new incarnation),
 * and the hole in *gap_first..*gap_last when there was one (either may be NULL). */
uint64_t bus_seqtrack_note(struct vigil_delivery *t, const void *data, size_t len,
			   uint64_t *gap_first, uint64_t *gap_last);
/* The same with the stamp already read (stamp_err: vigil_bus_stamp_read's result). */
uint64_t bus_seqtrack_stamp(struct vigil_delivery *t, int stamp_err, uint64_t inc, uint64_t seq,
			    uint64_t *gap_first, uint64_t *gap_last);

/* ---- sp.c: nanomsg's wire (SP over ipc:// and tcp://) on our own sockets ---- */

#define SP_HDR_LEN 8
#define SP_PROTO_PUB 32
#define SP_PROTO_SUB 33

struct sp_listener {
	int fd;
	bool ipc;			/* ipc frames carry a type byte */
	bool bound;
	char *path;			/* ipc socket file, unlinked on close */
};

struct sp_peer {
	int fd;
	bool ready;			/* the peer's SP header was the expected one */
	uint8_t hdr[SP_HDR_LEN];
	size_t hdr_len;
	uint64_t accepted_ns;		/* CLOCK_MONOTONIC */
	int32_t pid;			/* ipc://: SO_PEERCRED at accept; tcp://: -1 */
	int64_t uid;
	uint64_t sent, dropped;		/* messages queued for it / not (its queue was full) */
	char *out;			/* queued bytes: our header, then frames */
	size_t off, len, cap;		/* sent up to off, queued up to len */
};

/* Bind and listen at url, ipc:// (the socket file made `mode`) or tcp://ADDR:PORT.
 * 0, -EPROTONOSUPPORT for a url of another kind, or -errno; close l in every case. */
int sp_listen(struct sp_listener *l, const char *url, unsigned int mode);
void sp_listener_close(struct sp_listener *l);
/* Accept one connection and queue our header. 0, or -errno (-EAGAIN: none waiting). */
int sp_accept(int lfd, bool ipc, uint16_t our_proto, struct sp_peer *p);
/* Read the peer's header as far as it came; ready once complete. 0, -EPROTO when it is
 * not want_proto's, or -errno when the peer is gone. */
int sp_read_header(struct sp_peer *p, uint16_t want_proto);
/* Append a then b to the peer's queue. 0 or -ENOMEM. */
int sp_queue(struct sp_peer *p, const void *a, size_t alen, const void *b, size_t blen);
/* Write what the socket takes without blocking. 0, or -errno when the peer is gone. */
int sp_flush(struct sp_peer *p);
void sp_peer_close(struct sp_peer *p);
/* The frame head of a len-byte message: returns its size (9 on ipc, 8 on tcp). */
size_t sp_frame_head(bool ipc, uint64_t len, uint8_t out[9]);
/* "HOST:PORT" ("[v6]:PORT" too): HOST into host (size bytes), and the port's text; NULL
 * when there is no port or HOST does not fit. */
const char *sp_split_hostport(const char *hostport, char *host, size_t size);
/* The 8-byte protocol header of proto. */
void sp_header(uint8_t out[SP_HDR_LEN], uint16_t proto);
uint64_t sp_now_ns(void);

/* The event publisher's listener (pub_sp.c). NULL + errno; EPROTONOSUPPORT for a url it
 * does not serve (the caller falls back to nanomsg). queue_max bounds each subscriber's
 * queue. */
struct pub_sp;
struct pub_sp *pub_sp_open(const char *url, unsigned int mode, size_t queue_max);
/* Queue one message for every subscriber; each one whose queue is full misses it and
 * adds 1 to *dropped. Written at once, or with hold at the next pub_sp_flush (or once a
 * subscriber holds 64 KiB). 0 or -errno. */
int pub_sp_send(struct pub_sp *s, const void *data, size_t len, bool hold, uint64_t *dropped);
/* Write the held messages. 0 or -errno. */
int pub_sp_flush(struct pub_sp *s);
/* Copy up to max subscribers' counters (vigil_pub__peers); returns how many there are. */
size_t pub_sp_peers(struct pub_sp *s, struct vigil_pub_peer *out, size_t max);
void pub_sp_close(struct pub_sp *s);

/* A subscriber of our own on that wire (sub_sp.c), behind vigil_sub__open for ipc:// and
 * tcp:// with a numeric address. NULL + errno; EPROTONOSUPPORT for a url it does not
 * serve (the caller falls back to nanomsg). Connects lazily, as nanomsg does. */
struct sub_sp;
struct sub_sp *sub_sp_open(const char *url);
/* One message (nn_allocmsg'd, for vigil_bus_msg_free) within timeout_ms (< 0: for ever):
 * its length, -ETIMEDOUT, -EINTR or -errno. */
int sub_sp_recv(struct sub_sp *s, void **msg, int timeout_ms);
/* 1 when a message waits, 0 when timeout_ms passed, -EINTR or -errno. */
int sub_sp_wait(struct sub_sp *s, int timeout_ms);
/* vigil_sub__fd's descriptor (an epoll set), made on the first call. */
int sub_sp_fd(struct sub_sp *s);
int sub_sp_set(struct sub_sp *s, enum vigil_sub_option opt, int value);
void sub_sp_close(struct sub_sp *s);

#endif
