/* bus.h - vigil's nanomsg sockets: the event publisher and its subscribers, and the
 * control request/reply pair. Payloads are opaque bytes here (msgpack in practice).
 *
 * This is the small client part plugins link: subscribe, request, decode (core/encode).
 */
#ifndef VIGIL_BUS_H
#define VIGIL_BUS_H

#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"

#define VIGIL_BUS_DEFAULT_EVENTS "ipc:///run/vigil/events.sock"
#define VIGIL_BUS_DEFAULT_CONTROL "ipc:///run/vigil/control.sock"

/* ---- publisher (agent side) ---- */

struct vigil_pub;

/* Bind an NN_PUB socket at url (ipc:// or tcp://). For ipc:// the directory is created
 * and the socket file is made mode `mode` (0660 for events). NULL + errno. */
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

struct vigil_ctl_server;

/* Handle one request; fill reply (msgpack). Return 0, or -errno to send an error reply. */
typedef int (*vigil_ctl_handler)(const void *req, size_t req_len, struct vigil_buf *reply, void *ctx);

/* Bind an NN_REP socket at url (mode 0600 for ipc) and serve requests on a thread of its
 * own until vigil_ctl_server__close. NULL + errno. */
VIGIL_API struct vigil_ctl_server *vigil_ctl_server__start(const char *url, vigil_ctl_handler handler, void *ctx);
VIGIL_API uint64_t vigil_ctl_server__bad_requests(const struct vigil_ctl_server *s);
/* Stop the thread and close the socket. Accepts NULL. */
VIGIL_API void vigil_ctl_server__close(struct vigil_ctl_server *s);

/* Send one request and wait up to timeout_ms for the reply, appended to reply.
 * Returns 0, -ETIMEDOUT (agent not answering), or -errno. */
VIGIL_API int vigil_ctl_request(const char *url, const void *req, size_t req_len, struct vigil_buf *reply,
				int timeout_ms);

#endif
