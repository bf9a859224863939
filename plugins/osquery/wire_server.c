/* wire_server.c - the extension side of osquery's Extension service: parse a request,
 * write its reply. */
#include <errno.h>
#include <string.h>

#include "wire.h"

/* Field ids of Extension.call's arguments and of the structs in replies. */
enum {
	CALL_REGISTRY = 1,
	CALL_ITEM = 2,
	CALL_REQUEST = 3,
	STATUS_CODE = 1,
	STATUS_MESSAGE = 2,
	STATUS_UUID = 3,
	RESPONSE_STATUS = 1,
	RESPONSE_ROWS = 2,
	RESULT_SUCCESS = 0,
	APPEX_MESSAGE = 1,
	APPEX_TYPE = 2,
};

static const struct {
	const char *name;
	enum osq_method method;
} methods[] = {
	{ "ping", OSQ_M_PING },
	{ "call", OSQ_M_CALL },
	{ "shutdown", OSQ_M_SHUTDOWN },
};

static enum osq_method method_of(struct tb_slice name)
{
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(methods); i++)
		if (tb_slice_eq(name, methods[i].name))
			return methods[i].method;
	return OSQ_M_UNKNOWN;
}

/* map<string,string>: keep the first OSQ_REQ_MAX_PAIRS string pairs. A map of other
 * types is skipped whole, as a field of unexpected type would be. */
static int read_request_map(struct tb_reader *r, struct osq_request *req)
{
	struct osq_pair pair;
	uint8_t kt, vt;
	uint32_t n, i;
	int err;

	err = tb_enter(r);
	if (err)
		return err;
	err = tb_read_map_begin(r, &kt, &vt, &n);
	for (i = 0; !err && i < n; i++) {
		if (kt != TB_STRING || vt != TB_STRING) {
			err = tb_skip(r, kt);
			if (!err)
				err = tb_skip(r, vt);
			continue;
		}
		err = tb_read_string(r, &pair.key);
		if (!err)
			err = tb_read_string(r, &pair.value);
		if (!err && req->npairs < OSQ_REQ_MAX_PAIRS)
			req->pairs[req->npairs++] = pair;
	}
	tb_leave(r);
	return err;
}

/* The arguments struct: call() fills the request; other methods' fields are skipped. */
static int read_args(struct tb_reader *r, struct osq_request *req)
{
	uint8_t type;
	int16_t id;
	int err;

	err = tb_enter(r);
	if (err)
		return err;
	for (;;) {
		err = tb_read_field_begin(r, &type, &id);
		if (err || type == TB_STOP)
			break;
		if (req->method == OSQ_M_CALL && id == CALL_REGISTRY && type == TB_STRING)
			err = tb_read_string(r, &req->registry);
		else if (req->method == OSQ_M_CALL && id == CALL_ITEM && type == TB_STRING)
			err = tb_read_string(r, &req->item);
		else if (req->method == OSQ_M_CALL && id == CALL_REQUEST && type == TB_MAP)
			err = read_request_map(r, req);
		else
			err = tb_skip(r, type);
		if (err)
			break;
	}
	tb_leave(r);
	return err;
}

int osq_request_parse(const void *buf, size_t len, size_t limit, struct osq_request *req, size_t *used)
{
	struct tb_reader r;
	uint8_t type;
	int err;

	memset(req, 0, sizeof(*req));
	tb_reader_init(&r, buf, len, limit);
	err = tb_read_message_begin(&r, &req->name, &type, &req->seqid);
	if (err)
		goto out;
	/* none of Extension's methods is oneway, and a server takes only calls */
	if (type != TB_CALL) {
		err = -EBADMSG;
		goto out;
	}
	req->method = method_of(req->name);
	err = read_args(&r, req);
	if (err)
		goto out;
	*used = r.off;
out:
	return err;
}

const struct tb_slice *osq_request_get(const struct osq_request *req, const char *key)
{
	size_t i;

	for (i = 0; i < req->npairs; i++)
		if (tb_slice_eq(req->pairs[i].key, key))
			return &req->pairs[i].value;
	return NULL;
}

static void write_status(struct tb_writer *w, int32_t code, const char *message, int64_t uuid)
{
	tb_write_field_begin(w, TB_I32, STATUS_CODE);
	tb_write_i32(w, code);
	tb_write_field_begin(w, TB_STRING, STATUS_MESSAGE);
	tb_write_cstr(w, message);
	tb_write_field_begin(w, TB_I64, STATUS_UUID);
	tb_write_i64(w, uuid);
	tb_write_field_stop(w);
}

void osq_write_status_reply(struct tb_writer *w, const char *method, int32_t seqid, int32_t code,
			    const char *message, int64_t uuid)
{
	tb_write_message_begin(w, method, TB_REPLY, seqid);
	tb_write_field_begin(w, TB_STRUCT, RESULT_SUCCESS);
	write_status(w, code, message, uuid);
	tb_write_field_stop(w);
}

void osq_write_void_reply(struct tb_writer *w, const char *method, int32_t seqid)
{
	tb_write_message_begin(w, method, TB_REPLY, seqid);
	tb_write_field_stop(w);
}

void osq_write_exception(struct tb_writer *w, const char *method, int32_t seqid, int32_t type,
			 const char *message)
{
	tb_write_message_begin(w, method, TB_EXCEPTION, seqid);
	tb_write_field_begin(w, TB_STRING, APPEX_MESSAGE);
	tb_write_cstr(w, message);
	tb_write_field_begin(w, TB_I32, APPEX_TYPE);
	tb_write_i32(w, type);
	tb_write_field_stop(w);
}

void osq_write_response_begin(struct tb_writer *w, int32_t seqid, int32_t code, const char *message,
			      int64_t uuid, struct osq_rows *rows)
{
	tb_write_message_begin(w, "call", TB_REPLY, seqid);
	tb_write_field_begin(w, TB_STRUCT, RESULT_SUCCESS);
	tb_write_field_begin(w, TB_STRUCT, RESPONSE_STATUS);
	write_status(w, code, message, uuid);
	tb_write_field_begin(w, TB_LIST, RESPONSE_ROWS);
	rows->count_at = tb_write_list_open(w, TB_MAP);
	rows->count = 0;
}

void osq_write_row_begin(struct tb_writer *w, struct osq_rows *rows, uint32_t npairs)
{
	tb_write_map_begin(w, TB_STRING, TB_STRING, npairs);
	rows->count++;
}

void osq_write_pair(struct tb_writer *w, const char *key, const char *value)
{
	tb_write_cstr(w, key);
	tb_write_cstr(w, value);
}

void osq_write_response_end(struct tb_writer *w, struct osq_rows *rows)
{
	tb_patch_count(w, rows->count_at, rows->count);
	tb_write_field_stop(w);		/* ExtensionResponse */
	tb_write_field_stop(w);		/* the result struct */
}
