/* manager.c - calls to osquery's extension manager: register our tables, ask whether it
 * still knows us, deregister. One short connection per call, as osquery's own SDK does. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ext.h"
#include "log.h"

/* What we tell the manager about ourselves. osquery refuses SDK versions below 1.7.7
 * (the last protocol change); this speaks the protocol of 5.x. */
static const struct osq_ext_info info = {
	.name = "vigil",
	.version = VIGIL_VERSION,
	.sdk_version = "5.0.0",
	.min_sdk_version = "0.0.0",
};

/* Backoff between registration attempts: osquery itself polls every 20 ms while it
 * waits for an extension, so start there and stay under a second. */
#define RETRY_FIRST_MS 20
#define RETRY_MAX_MS 1000

struct status_call {
	const char *method;
	int32_t seqid;
	struct osq_status *st;
};

static int parse_status(const void *buf, size_t len, void *arg, size_t *used)
{
	struct status_call *c = arg;

	return osq_status_reply_parse(buf, len, EXT_REPLY_LIMIT, c->method, c->seqid, c->st, used);
}

struct extensions_call {
	int32_t seqid;
	int64_t uuid;
	bool *found;
};

static int parse_extensions(const void *buf, size_t len, void *arg, size_t *used)
{
	struct extensions_call *c = arg;

	return osq_extensions_reply_parse(buf, len, EXT_REPLY_LIMIT, c->seqid, c->uuid, c->found, used);
}

/* Connect to the manager, send req, read the reply with parse. */
static int call(struct ext *x, const struct vigil_buf *req, io_parse_fn parse, void *arg)
{
	struct vigil_buf in = { 0 };
	size_t used;
	int fd, err;

	fd = io_connect_unix(x->opt.socket);
	if (fd < 0)
		return fd;
	err = io_write_all(fd, req->data, req->len, EXT_MANAGER_TIMEOUT_MS);
	if (!err)
		err = io_read_message(fd, &in, EXT_MANAGER_TIMEOUT_MS, NULL, parse, arg, &used);
	close(fd);
	vigil_buf_free(&in);
	return err;
}

static int register_once(struct ext *x, struct osq_status *st)
{
	struct vigil_buf req = { 0 };
	struct status_call c = { .method = "registerExtension", .seqid = 1, .st = st };
	struct tb_writer w;
	size_t i;
	int err;

	tb_writer_init(&w, &req);
	osq_write_register_begin(&w, c.seqid, &info, (uint32_t)ntables);
	for (i = 0; i < ntables; i++) {
		tb_write_cstr(&w, tables[i]->name);
		table_write_routes(&w, tables[i]);
	}
	osq_write_register_end(&w);
	err = w.err;
	if (!err)
		err = call(x, &req, parse_status, &c);
	vigil_buf_free(&req);
	return err;
}

int mgr_register(struct ext *x, char *why, size_t why_size)
{
	int64_t deadline = (int64_t)mono_now_ms() + (int64_t)x->opt.timeout_s * 1000, delay = RETRY_FIRST_MS;
	struct osq_status st;
	int err;

	for (;;) {
		memset(&st, 0, sizeof(st));
		err = register_once(x, &st);
		if (!err && st.code == OSQ_EXT_SUCCESS) {
			x->uuid = st.uuid;
			break;
		}
		if (!err) {
			snprintf(why, why_size, "%s", st.message);
			/* the manager may still hold our previous registration: it drops it once
			 * that uuid stops answering pings */
			if (strcmp(st.message, "Duplicate extension registered")) {
				err = -EPERM;
				break;
			}
			err = -EEXIST;
		} else {
			snprintf(why, why_size, "%s", err == -EPROTO && st.message[0] ? st.message : strerror(-err));
		}
		log_debug("registration not done yet (%s), trying again", why);
		if (ext_stopping(x)) {
			err = -ECANCELED;
			break;
		}
		if ((int64_t)mono_now_ms() + delay > deadline) {
			err = -ETIMEDOUT;
			break;
		}
		ext_nap(x, delay);
		delay = delay * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : delay * 2;
	}
	return err;
}

int mgr_is_registered(struct ext *x, bool *found)
{
	struct vigil_buf req = { 0 };
	struct extensions_call c = { .seqid = 1, .uuid = x->uuid, .found = found };
	struct tb_writer w;
	int err;

	tb_writer_init(&w, &req);
	osq_write_extensions_call(&w, c.seqid);
	err = w.err;
	if (!err)
		err = call(x, &req, parse_extensions, &c);
	vigil_buf_free(&req);
	return err;
}

void mgr_deregister(struct ext *x)
{
	struct vigil_buf req = { 0 };
	struct osq_status st;
	struct status_call c = { .method = "deregisterExtension", .seqid = 1, .st = &st };
	struct tb_writer w;
	int err;

	tb_writer_init(&w, &req);
	osq_write_deregister_call(&w, c.seqid, x->uuid);
	err = w.err;
	if (!err)
		err = call(x, &req, parse_status, &c);
	if (err)
		log_debug("deregistration failed: %s", strerror(-err));
	vigil_buf_free(&req);
}
