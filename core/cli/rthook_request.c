/* rthook_request.c - packing Tetragon's CreateContainer for the agent (rthook_request.h). */
#include <string.h>

#include "rthook_request.h"

static void pack_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

void rthook_request_pack(const struct rthook_request *q, msgpack_sbuffer *sb)
{
	const struct {
		const char *key, *value;
	} fields[] = {
		{"cgroupsPath", q->cgroups_path}, {"rootDir", q->root_dir},	     {"containerID", q->container_id},
		{"containerName", q->container_name}, {"containerImage", q->container_image}, {"podName", q->pod_name},
		{"podUID", q->pod_uid},		   {"podNamespace", q->pod_namespace},
	};
	msgpack_packer pk;
	uint32_t n = 1 + (q->nann ? 1 : 0);
	size_t i;

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		n += fields[i].value != NULL;
	msgpack_pack_map(&pk, n);
	pack_str(&pk, "cmd");
	pack_str(&pk, "rthooks_create_container");
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (!fields[i].value)
			continue;
		pack_str(&pk, fields[i].key);
		pack_str(&pk, fields[i].value);
	}
	if (!q->nann)
		return;
	pack_str(&pk, "annotations");
	msgpack_pack_map(&pk, (uint32_t)q->nann);
	for (i = 0; i < q->nann; i++) {
		pack_str(&pk, q->ann_keys[i]);
		pack_str(&pk, q->ann_values[i]);
	}
}
