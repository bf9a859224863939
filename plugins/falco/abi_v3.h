/* abi_v3.h - the part of the Falco plugin API 3.0.0 this plugin implements, declared from
 * the API's documented layout (falcosecurity/libs userspace/plugin/plugin_api.h and
 * plugin_types.h, first shipped in libs 0.11 / Falco 0.35; log_fn and get_metrics came in
 * 3.3 and 3.6). Frameworks up to API 3.12 call these same structs: later versions only
 * append members, which we never read.
 *
 * The other side of this contract is libsinsp (plugin.cpp, plugin_filtercheck.cpp) and
 * libscap (engine/source_plugin/source_plugin.c).
 */
#ifndef VIGIL_FALCO_ABI_V3_H
#define VIGIL_FALCO_ABI_V3_H

#include <stdint.h>

#include "abi_common.h"

/* 3.6.0: get_metrics (3.6) and the init input's log_fn (3.3); Falco 0.39 and later. */
#define PLUGIN_REQUIRED_API_VERSION "3.6.0"

typedef uint32_t ss_plugin_bool;	/* 4 bytes, as libs encode booleans */

/* Field types, numbered as libsinsp's PT_* so they pass through unchanged. */
enum {
	FTYPE_UINT64 = 8,
	FTYPE_STRING = 9,
	FTYPE_ABSTIME = 21,
	FTYPE_IPADDR = 40,
};

typedef void ss_plugin_owner_t;

/* An event is a libscap event: this packed 26-byte header, then the parameter lengths,
 * then the parameters. */
#pragma pack(push, 1)
typedef struct ss_plugin_event {
	uint64_t ts;		/* ns since the epoch; UINT64_MAX: the framework stamps it */
	uint64_t tid;		/* UINT64_MAX for plugin events */
	uint32_t len;		/* the whole event, header included */
	uint16_t type;
	uint32_t nparams;
} ss_plugin_event;
#pragma pack(pop)

/* A plugin event (PPME_PLUGINEVENT_E) has two parameters, the plugin ID and the payload.
 * The type is flagged EF_LARGE_PAYLOAD, so both lengths take 4 bytes:
 *   | header 26 | u32 len0 = 4 | u32 len1 = payload | u32 plugin id | payload ... |
 *   0           26             30                   34              38            */
#define PLUGIN_EVENT_TYPE 322
#define PLUGIN_EVENT_NPARAMS 2
#define PLUGIN_EVENT_PAYLOAD_OFFSET 38

typedef struct ss_plugin_event_input {
	const ss_plugin_event *evt;
	uint64_t evtnum;
	const char *evtsrc;
} ss_plugin_event_input;

typedef struct ss_plugin_byte_buffer {
	uint32_t len;
	const void *ptr;
} ss_plugin_byte_buffer;

typedef struct ss_plugin_extract_field {
	union {			/* OUT: an array of res_len values */
		const char **str;
		uint64_t *u64;
		uint32_t *u32;
		ss_plugin_bool *boolean;
		ss_plugin_byte_buffer *buf;
	} res;
	uint64_t res_len;	/* OUT: 0 = absent */
	uint32_t field_id;	/* IN: index in plugin_get_fields() */
	const char *field;
	const char *arg_key;
	uint64_t arg_index;
	ss_plugin_bool arg_present;
	uint32_t ftype;
	ss_plugin_bool flist;
} ss_plugin_extract_field;

/* Severities of the framework's logging (3.3). */
enum { SS_PLUGIN_LOG_SEV_WARNING = 4 };

typedef void (*ss_plugin_log_fn_t)(ss_plugin_owner_t *o, const char *component, const char *msg, int severity);

/* The table vtables behind `tables` differ across 3.x minors and are not used; log_fn is
 * there from 3.3 on, which the required version guarantees. */
typedef struct ss_plugin_init_input {
	const char *config;
	ss_plugin_owner_t *owner;
	const char *(*get_owner_last_error)(ss_plugin_owner_t *o);
	const void *tables;
	ss_plugin_log_fn_t log_fn;
} ss_plugin_init_input;

/* get_metrics (3.6): an array the plugin owns, valid until the next call. */
enum { SS_PLUGIN_METRIC_TYPE_MONOTONIC = 0, SS_PLUGIN_METRIC_TYPE_NON_MONOTONIC = 1 };
enum { SS_PLUGIN_METRIC_VALUE_TYPE_U64 = 2 };

typedef struct ss_plugin_metric {
	const char *name;	/* the framework prefixes it with the plugin's name */
	uint32_t type;		/* SS_PLUGIN_METRIC_TYPE_* */
	union {
		uint32_t u32;
		int32_t s32;
		uint64_t u64;
		int64_t s64;
		double d;
		float f;
		int i;
	} value;
	uint32_t value_type;	/* SS_PLUGIN_METRIC_VALUE_TYPE_* */
} ss_plugin_metric;

typedef struct ss_plugin_field_extract_input {
	ss_plugin_owner_t *owner;
	const char *(*get_owner_last_error)(ss_plugin_owner_t *o);
	uint32_t num_fields;
	ss_plugin_extract_field *fields;
} ss_plugin_field_extract_input;

#endif
