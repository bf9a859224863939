/* rthook_request.h - Tetragon's CreateContainer as a control request
 * ("rthooks_create_container"), packed the same way by `vigil rthooks create-container` and by
 * vigil-oci-hook (integrations/oci-hook), which both build this file. */
#ifndef VIGIL_RTHOOK_REQUEST_H
#define VIGIL_RTHOOK_REQUEST_H

#include <msgpack.h>
#include <stddef.h>

#define RTHOOK_MAX_ANNOTATIONS 256

/* Field names are the request's (Tetragon's); NULL fields are left out. */
struct rthook_request {
	const char *cgroups_path, *root_dir;
	const char *container_id, *container_name, *container_image;
	const char *pod_name, *pod_uid, *pod_namespace;
	const char *ann_keys[RTHOOK_MAX_ANNOTATIONS], *ann_values[RTHOOK_MAX_ANNOTATIONS];
	size_t nann;
};

/* The request into sb (initialised by the caller). */
void rthook_request_pack(const struct rthook_request *q, msgpack_sbuffer *sb);

#endif
