/* containers_internal.h - what the CRI files share: a protobuf reader and one gRPC call. */
#ifndef VIGIL_CONTAINERS_INTERNAL_H
#define VIGIL_CONTAINERS_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "containers.h"

/* ---- pb.c: reading protobuf wire format (only what the CRI answers use) ---- */

struct pb_reader {
	const uint8_t *p, *end;
};

struct pb_field {
	uint32_t num;
	uint32_t wire;			/* 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32 */
	uint64_t v;			/* varint and fixed values */
	const uint8_t *data;		/* length-delimited: the bytes */
	size_t len;
};

static inline struct pb_reader pb_reader_of(const void *data, size_t len)
{
	return (struct pb_reader){ data, (const uint8_t *)data + len };
}

/* The next field: 1, 0 at the end, -EBADMSG when the bytes are not protobuf. */
int pb_next(struct pb_reader *r, struct pb_field *f);
/* A length-delimited field as a NUL-terminated copy; NULL + errno (ENOMEM). */
char *pb_strdup(const struct pb_field *f);

/* ---- cri.c: the pods' snapshots, shared with the runtime hooks' entries (rthooks.c) ---- */

struct cri_item {
	struct vigil_pod pod;		/* first: a pod pointer is its item */
	char *strs[10];			/* what pod's strings point into, owned */
	struct vigil_pod_label *labels;
	char *pod_sandbox_id;
};

struct cri_snap {
	atomic_int refs;
	char *runtime;
	struct cri_item *items;		/* sorted by container id */
	size_t n, cap;
	uint64_t pods;
};

/* Free what an item holds (not the item). */
void cri_item_free(struct cri_item *it);
/* Drop a reference; the last frees the snapshot and its items. Accepts NULL. */
void cri_snap_put(struct cri_snap *s);

/* ---- grpc.c: one unary gRPC call over HTTP/2 on a unix socket (nghttp2) ---- */

#define CRI_GRPC_MAX_RESPONSE (64u << 20)

/* Call method ("/runtime.v1.RuntimeService/ListPodSandbox") at the unix socket path with
 * the serialized request; the serialized response goes to resp (appended). Gives up after
 * timeout_ms. 0, or a negative errno with why written to err: -ECONNREFUSED/-ENOENT (no
 * runtime there), -ETIMEDOUT, -EPROTO (HTTP/2 or gRPC error: err has grpc-status and
 * grpc-message), -EMSGSIZE. */
int cri_grpc_call(const char *path, const char *method, const void *req, size_t req_len, struct vigil_buf *resp,
		  int timeout_ms, char *err, size_t err_size);

#endif
