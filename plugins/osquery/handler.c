/* handler.c - what the extension answers: ping, shutdown, and call("table", <name>,
 * {"action": "columns" | "generate", "context": ...}). */
#include <stdio.h>
#include <string.h>

#include "ext.h"
#include "log.h"

/* A failed call answers ExtensionResponse{status{code 1, message}, []}, as osquery's
 * own plugins do for unknown registries, items and actions. */
static void fail(struct tb_writer *w, struct ext *x, const struct osq_request *req, const char *what,
		 struct tb_slice name)
{
	struct osq_rows rows;
	char msg[256];

	/* an argument the request left out is an empty slice with no bytes behind it */
	snprintf(msg, sizeof(msg), "%s: %.*s", what, (int)(name.n > 128 ? 128 : name.n), name.p ? name.p : "");
	osq_write_response_begin(w, req->seqid, OSQ_EXT_FAILED, msg, x->uuid, &rows);
	osq_write_response_end(w, &rows);
}

static void columns(struct tb_writer *w, struct ext *x, const struct osq_request *req, const struct table *t)
{
	struct osq_rows rows;

	osq_write_response_begin(w, req->seqid, OSQ_EXT_SUCCESS, "OK", x->uuid, &rows);
	table_write_route_rows(w, t, &rows);
	osq_write_response_end(w, &rows);
}

static void generate(struct tb_writer *w, struct ext *x, const struct osq_request *req, const struct table *t)
{
	const struct tb_slice *context = osq_request_get(req, "context");
	struct live_ctx live = { .control_url = x->opt.control_url, .timeout_ms = EXT_CONTROL_TIMEOUT_MS,
				 .bus_url = x->opt.bus_url };
	struct osq_constraints c;
	struct osq_rows rows;
	size_t mark;
	int err;

	pthread_mutex_lock(&x->delivery_lock);
	live.delivery = x->delivery;
	pthread_mutex_unlock(&x->delivery_lock);
	osq_constraints_init(&c);
	if (context && osq_constraints_parse(context->p, context->n, &c))
		log_debug("%s: context not understood, answering every row", t->name);
	mark = w->out->len;
	osq_write_response_begin(w, req->seqid, OSQ_EXT_SUCCESS, "OK", x->uuid, &rows);
	if (t->generate)
		err = t->generate(t, &live, &c, w, &rows);
	else
		err = table_generate_store(t, x->stores[table_index(t)], &c, mono_now_ms(), w, &rows);
	if (err && !w->err) {
		/* start again with a failed status: a half-written row list is no answer */
		w->out->len = mark;
		w->out->data[mark] = '\0';
		fail(w, x, req, strerror(-err), (struct tb_slice){ t->name, strlen(t->name) });
		return;
	}
	osq_write_response_end(w, &rows);
}

static void call(struct tb_writer *w, struct ext *x, const struct osq_request *req)
{
	const struct tb_slice *action = osq_request_get(req, "action");
	const struct table *t;

	if (!tb_slice_eq(req->registry, "table")) {
		fail(w, x, req, "Unknown registry", req->registry);
		return;
	}
	t = table_find(req->item.p, req->item.n);
	if (!t) {
		fail(w, x, req, "Unknown table", req->item);
		return;
	}
	if (action && tb_slice_eq(*action, "columns"))
		columns(w, x, req, t);
	else if (action && tb_slice_eq(*action, "generate"))
		generate(w, x, req, t);
	else
		fail(w, x, req, "Unknown table plugin action", action ? *action : (struct tb_slice){ "", 0 });
}

/* What Thrift's generated processors answer for a method they do not have. */
static void unknown_method(struct tb_writer *w, const struct osq_request *req)
{
	int n = (int)(req->name.n > 128 ? 128 : req->name.n);
	char name[129], msg[160];

	snprintf(name, sizeof(name), "%.*s", n, req->name.p);
	snprintf(msg, sizeof(msg), "Unknown function %s", name);
	log_debug("%s", msg);
	osq_write_exception(w, name, req->seqid, TB_APP_UNKNOWN_METHOD, msg);
}

void ext_handle(struct ext *x, const struct osq_request *req, struct tb_writer *w)
{
	switch (req->method) {
	case OSQ_M_PING:
		osq_write_status_reply(w, "ping", req->seqid, OSQ_EXT_SUCCESS, "pong", x->uuid);
		break;
	case OSQ_M_CALL:
		call(w, x, req);
		break;
	case OSQ_M_SHUTDOWN:
		log_info("shutdown requested by the extension manager");
		osq_write_void_reply(w, "shutdown", req->seqid);
		atomic_store(&x->stop, EXT_STOP_SHUTDOWN);
		break;
	default:
		unknown_method(w, req);
		break;
	}
}
