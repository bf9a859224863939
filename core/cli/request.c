/* request.c - one control request from a CLI command, over the local socket or TLS (a
 * HOST:PORT address): send, unpack, check "ok", say why not. */
#include <errno.h>
#include <msgpack.h>
#include <stdio.h>
#include <string.h>

#include "bus/bus.h"
#include "cli.h"
#include "encode/encode.h"
#include "common/common.h"

int cli_request_quiet(const char *control, const void *req, size_t len, int timeout_ms, struct cli_reply *r)
{
	const msgpack_object *ok;
	size_t off = 0;
	int err;

	memset(r, 0, sizeof(*r));
	msgpack_unpacked_init(&r->up);
	if (vigil_bus_tls_address(control)) {
		struct vigil_tls_client *tls = cli_tls_client(NULL);

		err = tls ? vigil_tls_client__request(tls, control, req, len, &r->bytes, timeout_ms) : -EINVAL;
	} else {
		err = cli_globals.tls_given ? -EINVAL : vigil_ctl_request(control, req, len, &r->bytes, timeout_ms);
	}
	if (err)
		return err;
	if (msgpack_unpack_next(&r->up, r->bytes.data, r->bytes.len, &off) != MSGPACK_UNPACK_SUCCESS)
		return -EBADMSG;
	ok = vigil_msgpack_get(&r->up.data, "ok");
	if (!ok || ok->type != MSGPACK_OBJECT_BOOLEAN || !ok->via.boolean)
		return -EREMOTEIO;
	r->root = &r->up.data;
	return 0;
}

int cli_request(const char *cmd, const char *control, const void *req, size_t len, int timeout_ms,
		struct cli_reply *r)
{
	const msgpack_object *e;
	int err, attempt;

	/* tetra's --timeout and --retries (globals.c) when given */
	if (cli_globals.timeout_ms)
		timeout_ms = cli_globals.timeout_ms;
	err = cli_request_quiet(control, req, len, timeout_ms, r);
	for (attempt = 0; err == -ETIMEDOUT && attempt < cli_globals.retries; attempt++) {
		cli_reply_free(r);
		err = cli_request_quiet(control, req, len, timeout_ms, r);
	}
	if (err == -EBADMSG) {
		fprintf(stderr, "vigil %s: malformed reply\n", cmd);
	} else if (err == -EREMOTEIO) {
		e = vigil_msgpack_get(&r->up.data, "error");
		if (e && e->type == MSGPACK_OBJECT_STR)
			fprintf(stderr, "vigil %s: %.*s\n", cmd, (int)e->via.str.size, e->via.str.ptr);
		else
			fprintf(stderr, "vigil %s: the agent refused the request\n", cmd);
	} else if (err == -EINVAL && !vigil_bus_tls_address(control)) {
		cli_tls_unused(cmd, control);
	} else if (err && vigil_bus_tls_address(control) && *vigil_tls_client__error(cli_tls_client(cmd))) {
		fprintf(stderr, "vigil %s: %s\n", cmd, vigil_tls_client__error(cli_tls_client(cmd)));
	} else if (err) {
		fprintf(stderr, "vigil %s: no answer from the agent at %s: %s\n", cmd, control,
			err == -ETIMEDOUT ? "timed out (is vigild running?)" : strerror(-err));
	}
	return err ? 1 : 0;
}

void cli_reply_free(struct cli_reply *r)
{
	msgpack_unpacked_destroy(&r->up);
	vigil_buf_free(&r->bytes);
	r->root = NULL;
}
