/* wire_client.c - the extension as a client of osquery's ExtensionManager: write calls,
 * parse their replies. */
#include <errno.h>
#include <string.h>

#include "wire.h"

enum {
	REGISTER_INFO = 1,
	REGISTER_REGISTRY = 2,
	DEREGISTER_UUID = 1,
	INFO_NAME = 1,
	INFO_VERSION = 2,
	INFO_SDK_VERSION = 3,
	INFO_MIN_SDK_VERSION = 4,
	STATUS_CODE = 1,
	STATUS_MESSAGE = 2,
	STATUS_UUID = 3,
	RESULT_SUCCESS = 0,
	APPEX_MESSAGE = 1,
};

void osq_write_ping_call(struct tb_writer *w, int32_t seqid)
{
	tb_write_message_begin(w, "ping", TB_CALL, seqid);
	tb_write_field_stop(w);
}

void osq_write_extensions_call(struct tb_writer *w, int32_t seqid)
{
	tb_write_message_begin(w, "extensions", TB_CALL, seqid);
	tb_write_field_stop(w);
}

void osq_write_deregister_call(struct tb_writer *w, int32_t seqid, int64_t uuid)
{
	tb_write_message_begin(w, "deregisterExtension", TB_CALL, seqid);
	tb_write_field_begin(w, TB_I64, DEREGISTER_UUID);
	tb_write_i64(w, uuid);
	tb_write_field_stop(w);
}

static void write_info_field(struct tb_writer *w, int16_t id, const char *value)
{
	tb_write_field_begin(w, TB_STRING, id);
	tb_write_cstr(w, value);
}

void osq_write_register_begin(struct tb_writer *w, int32_t seqid, const struct osq_ext_info *info,
			      uint32_t ntables)
{
	tb_write_message_begin(w, "registerExtension", TB_CALL, seqid);
	tb_write_field_begin(w, TB_STRUCT, REGISTER_INFO);
	write_info_field(w, INFO_NAME, info->name);
	write_info_field(w, INFO_VERSION, info->version);
	write_info_field(w, INFO_SDK_VERSION, info->sdk_version);
	write_info_field(w, INFO_MIN_SDK_VERSION, info->min_sdk_version);
	tb_write_field_stop(w);
	/* ExtensionRegistry = map<registry name, map<item name, routes>> */
	tb_write_field_begin(w, TB_MAP, REGISTER_REGISTRY);
	tb_write_map_begin(w, TB_STRING, TB_MAP, 1);
	tb_write_cstr(w, "table");
	tb_write_map_begin(w, TB_STRING, TB_LIST, ntables);
}

void osq_write_register_end(struct tb_writer *w)
{
	tb_write_field_stop(w);
}

static void copy_slice(char *out, size_t size, struct tb_slice s)
{
	size_t n = s.n < size - 1 ? s.n : size - 1;

	memcpy(out, s.p, n);
	out[n] = '\0';
}

/* A TApplicationException: keep its message for the caller's diagnostics. */
static int read_exception(struct tb_reader *r, struct osq_status *st)
{
	struct tb_slice msg;
	uint8_t type;
	int16_t id;
	int err;

	for (;;) {
		err = tb_read_field_begin(r, &type, &id);
		if (err || type == TB_STOP)
			break;
		if (id == APPEX_MESSAGE && type == TB_STRING) {
			err = tb_read_string(r, &msg);
			if (!err && st)
				copy_slice(st->message, sizeof(st->message), msg);
		} else {
			err = tb_skip(r, type);
		}
		if (err)
			break;
	}
	return err ? err : -EPROTO;
}

/* The reply header: a REPLY for method and seqid, or an exception (-EPROTO). */
static int read_reply_begin(struct tb_reader *r, const char *method, int32_t seqid, struct osq_status *st)
{
	struct tb_slice name;
	uint8_t type;
	int32_t got;
	int err = tb_read_message_begin(r, &name, &type, &got);

	if (err)
		return err;
	if (type == TB_EXCEPTION)
		return read_exception(r, st);
	if (type != TB_REPLY || !tb_slice_eq(name, method) || got != seqid)
		return -EPROTO;
	return 0;
}

static int read_status(struct tb_reader *r, struct osq_status *st)
{
	struct tb_slice msg;
	uint8_t type;
	int16_t id;
	int err = tb_enter(r);

	if (err)
		return err;
	for (;;) {
		err = tb_read_field_begin(r, &type, &id);
		if (err || type == TB_STOP)
			break;
		if (id == STATUS_CODE && type == TB_I32) {
			err = tb_read_i32(r, &st->code);
		} else if (id == STATUS_MESSAGE && type == TB_STRING) {
			err = tb_read_string(r, &msg);
			if (!err)
				copy_slice(st->message, sizeof(st->message), msg);
		} else if (id == STATUS_UUID && type == TB_I64) {
			err = tb_read_i64(r, &st->uuid);
		} else {
			err = tb_skip(r, type);
		}
		if (err)
			break;
	}
	tb_leave(r);
	return err;
}

int osq_status_reply_parse(const void *buf, size_t len, size_t limit, const char *method, int32_t seqid,
			   struct osq_status *st, size_t *used)
{
	struct tb_reader r;
	bool have = false;
	uint8_t type;
	int16_t id;
	int err;

	memset(st, 0, sizeof(*st));
	tb_reader_init(&r, buf, len, limit);
	err = read_reply_begin(&r, method, seqid, st);
	if (err)
		goto out;
	for (;;) {
		err = tb_read_field_begin(&r, &type, &id);
		if (err || type == TB_STOP)
			break;
		if (id == RESULT_SUCCESS && type == TB_STRUCT) {
			err = read_status(&r, st);
			have = true;
		} else {
			err = tb_skip(&r, type);
		}
		if (err)
			break;
	}
	if (err)
		goto out;
	/* a result with no success field is Thrift's MISSING_RESULT */
	if (!have) {
		err = -EPROTO;
		goto out;
	}
	*used = r.off;
out:
	return err;
}

static int read_extension_keys(struct tb_reader *r, int64_t uuid, bool *found)
{
	uint8_t kt, vt;
	uint32_t n, i;
	int64_t key;
	int err = tb_enter(r);

	if (err)
		return err;
	err = tb_read_map_begin(r, &kt, &vt, &n);
	for (i = 0; !err && i < n; i++) {
		if (kt == TB_I64) {
			err = tb_read_i64(r, &key);
			if (!err && key == uuid)
				*found = true;
		} else {
			err = tb_skip(r, kt);
		}
		if (!err)
			err = tb_skip(r, vt);
	}
	tb_leave(r);
	return err;
}

int osq_extensions_reply_parse(const void *buf, size_t len, size_t limit, int32_t seqid, int64_t uuid,
			       bool *found, size_t *used)
{
	struct tb_reader r;
	bool have = false;
	uint8_t type;
	int16_t id;
	int err;

	*found = false;
	tb_reader_init(&r, buf, len, limit);
	err = read_reply_begin(&r, "extensions", seqid, NULL);
	if (err)
		goto out;
	for (;;) {
		err = tb_read_field_begin(&r, &type, &id);
		if (err || type == TB_STOP)
			break;
		if (id == RESULT_SUCCESS && type == TB_MAP) {
			err = read_extension_keys(&r, uuid, found);
			have = true;
		} else {
			err = tb_skip(&r, type);
		}
		if (err)
			break;
	}
	if (err)
		goto out;
	if (!have) {
		err = -EPROTO;
		goto out;
	}
	*used = r.off;
out:
	return err;
}
