/* abi_v0.h - the pre-1.0 Falco plugin API 0.3.0, declared from its documented layout
 * (falcosecurity/libs before 0.7: userspace/libscap/plugin_info.h). It is what Debian 12's
 * libfalcosecurity0 (sysdig 0.29.3) and Falco 0.31 load; the other side of this contract
 * is that libsinsp's plugin.cpp (resolve_dylib_symbols, sinsp_source_plugin).
 */
#ifndef VIGIL_FALCO_ABI_V0_H
#define VIGIL_FALCO_ABI_V0_H

#include <stdbool.h>
#include <stdint.h>

#include "abi_common.h"

/* The framework accepts 0.x.y with x <= 3; 0.3.0 is its own version. */
#define PLUGIN_REQUIRED_API_VERSION "0.3.0"

enum {
	TYPE_SOURCE_PLUGIN = 1,		/* plugin_get_type(): 0.3.0 has types, not capabilities */
	TYPE_EXTRACTOR_PLUGIN = 2,
};

enum {
	FTYPE_UINT64 = 8,
	FTYPE_STRING = 9,
};


/* An event is just the payload; the framework frames it (and may copy it) itself. */
typedef struct ss_plugin_event {
	uint64_t evtnum;		/* set by the framework */
	const uint8_t *data;
	uint32_t datalen;
	uint64_t ts;			/* ns since the epoch; UINT64_MAX: stamp it now */
} ss_plugin_event;

typedef struct ss_plugin_extract_field {
	uint32_t field_id;		/* IN */
	const char *field;		/* IN */
	const char *arg;		/* IN: "3" for vigil.args[3], NULL without */
	uint32_t ftype;			/* IN */
	bool field_present;		/* OUT */
	const char *res_str;		/* OUT */
	uint64_t res_u64;		/* OUT */
} ss_plugin_extract_field;

#endif
