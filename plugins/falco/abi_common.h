/* abi_common.h - what the Falco plugin API 0.3.0 and 3.x declare alike: the return codes,
 * the schema type and the opaque handles. Each ABI header includes it and adds its own. */
#ifndef VIGIL_FALCO_ABI_COMMON_H
#define VIGIL_FALCO_ABI_COMMON_H

/* The shared objects are built with hidden visibility; only the plugin_* entry points leave. */
#define PLUGIN_EXPORT __attribute__((visibility("default")))

typedef enum ss_plugin_rc {
	SS_PLUGIN_SUCCESS = 0,
	SS_PLUGIN_FAILURE = 1,
	SS_PLUGIN_TIMEOUT = -1,
	SS_PLUGIN_EOF = 2,
	SS_PLUGIN_NOT_SUPPORTED = 3,
} ss_plugin_rc;

typedef enum ss_plugin_schema_type {
	SS_PLUGIN_SCHEMA_NONE = 0,
	SS_PLUGIN_SCHEMA_JSON = 1,
} ss_plugin_schema_type;

typedef void ss_plugin_t;
typedef void ss_instance_t;

#endif
