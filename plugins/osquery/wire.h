/* wire.h - osquery's extension services as messages on the Thrift binary protocol.
 *
 * Written from the facts of osquery's osquery.thrift (names, field ids and types; see
 * README.md): the extension serves Extension.{ping, call, shutdown} and, as a client of
 * the manager, calls ExtensionManager.{registerExtension, extensions, deregisterExtension}.
 * A method's arguments travel as a struct whose field ids are the parameter ids; its result
 * as a struct with the return value in field 0.
 */
#ifndef OSQ_WIRE_H
#define OSQ_WIRE_H

#include "tbinary.h"

/* ExtensionCode */
enum osq_code {
	OSQ_EXT_SUCCESS = 0,
	OSQ_EXT_FAILED = 1,
	OSQ_EXT_FATAL = 2,
};

/* ---- extension side: requests in, replies out ---- */

enum osq_method {
	OSQ_M_UNKNOWN,		/* anything else: answered with UNKNOWN_METHOD */
	OSQ_M_PING,
	OSQ_M_CALL,
	OSQ_M_SHUTDOWN,
};

/* call() carries a map<string,string>; osquery sends "action" and "context" (and a few
 * more for writable tables). Pairs past this many are read and dropped. */
#define OSQ_REQ_MAX_PAIRS 16

struct osq_pair {
	struct tb_slice key, value;
};

/* A parsed request. Every slice borrows the input buffer. */
struct osq_request {
	enum osq_method method;
	struct tb_slice name;		/* the method name as sent */
	int32_t seqid;
	/* call(1: registry, 2: item, 3: request); absent fields stay empty */
	struct tb_slice registry, item;
	size_t npairs;
	struct osq_pair pairs[OSQ_REQ_MAX_PAIRS];
};

/* Parse one request from the first len bytes of buf. Returns 0 with *used set to the
 * message's length, -EAGAIN when buf ends inside it, -EBADMSG when it is malformed or not
 * a CALL, or -EMSGSIZE when it would be longer than limit. Fields of unexpected type or id
 * are skipped, as Thrift servers do. */
int osq_request_parse(const void *buf, size_t len, size_t limit, struct osq_request *req, size_t *used);
/* The value of key in a call's request map, or NULL. */
const struct tb_slice *osq_request_get(const struct osq_request *req, const char *key);

/* ping() -> ExtensionStatus{code, message, uuid} */
void osq_write_status_reply(struct tb_writer *w, const char *method, int32_t seqid, int32_t code,
			    const char *message, int64_t uuid);
/* shutdown() -> void */
void osq_write_void_reply(struct tb_writer *w, const char *method, int32_t seqid);
/* A TApplicationException{1: message, 2: type} in place of a reply. */
void osq_write_exception(struct tb_writer *w, const char *method, int32_t seqid, int32_t type,
			 const char *message);

/* call() -> ExtensionResponse{1: status, 2: response list<map<string,string>>}, written
 * row by row: begin, then per row osq_write_row_begin and its pairs, then end. */
struct osq_rows {
	size_t count_at;	/* where the list's count is patched in */
	uint32_t count;
};

void osq_write_response_begin(struct tb_writer *w, int32_t seqid, int32_t code, const char *message,
			      int64_t uuid, struct osq_rows *rows);
void osq_write_row_begin(struct tb_writer *w, struct osq_rows *rows, uint32_t npairs);
void osq_write_pair(struct tb_writer *w, const char *key, const char *value);
void osq_write_response_end(struct tb_writer *w, struct osq_rows *rows);

/* ---- manager side: calls out, replies in ---- */

/* InternalExtensionInfo */
struct osq_ext_info {
	const char *name, *version, *sdk_version, *min_sdk_version;
};

void osq_write_ping_call(struct tb_writer *w, int32_t seqid);
void osq_write_extensions_call(struct tb_writer *w, int32_t seqid);
void osq_write_deregister_call(struct tb_writer *w, int32_t seqid, int64_t uuid);
/* registerExtension(info, registry) with registry = {"table": {<name>: <routes>, ...}}:
 * after begin, write ntables pairs of tb_write_cstr(name) and a routes list (any
 * list<map<string,string>>), then end. */
void osq_write_register_begin(struct tb_writer *w, int32_t seqid, const struct osq_ext_info *info,
			      uint32_t ntables);
void osq_write_register_end(struct tb_writer *w);

/* ExtensionStatus, as a reply carries it. message is copied (truncated, NUL-terminated). */
struct osq_status {
	int32_t code;
	char message[256];
	int64_t uuid;
};

/* Parse the reply to a method returning ExtensionStatus. Returns 0, -EAGAIN, -EBADMSG,
 * -EMSGSIZE as osq_request_parse, or -EPROTO when the peer answered with an exception
 * (its message is then in st->message) or the reply names another method or seqid. */
int osq_status_reply_parse(const void *buf, size_t len, size_t limit, const char *method, int32_t seqid,
			   struct osq_status *st, size_t *used);
/* Parse the reply to extensions() (map<i64, InternalExtensionInfo>): *found tells whether
 * uuid is among the keys. Returns as osq_status_reply_parse. */
int osq_extensions_reply_parse(const void *buf, size_t len, size_t limit, int32_t seqid, int64_t uuid,
			       bool *found, size_t *used);

#endif
