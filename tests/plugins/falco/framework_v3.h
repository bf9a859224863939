/* framework_v3.h - plugin API 3.x as the framework (libsinsp / libscap) sees it, for the
 * dlopen driver. Declared here on purpose rather than taken from plugins/falco/abi_v3.h:
 * the driver checks the plugin against the layout the framework compiles, so a mistake in
 * the plugin's own declarations cannot hide itself. Offsets are asserted for x86_64.
 */
#ifndef VIGIL_FALCO_FRAMEWORK_V3_H
#define VIGIL_FALCO_FRAMEWORK_V3_H

#include <stddef.h>
#include <stdint.h>

/* The newest API the driver plays (libs 0.22-0.25, Falco 0.42-0.44). */
#define FW_API_MAJOR 3
#define FW_API_MINOR 12
#define FW_API_PATCH 0

enum fw_rc { FW_SUCCESS = 0, FW_FAILURE = 1, FW_TIMEOUT = -1, FW_EOF = 2 };
enum fw_ftype { FW_UINT64 = 8, FW_STRING = 9, FW_RELTIME = 20, FW_ABSTIME = 21, FW_BOOL = 25, FW_IPADDR = 40,
		FW_IPNET = 41 };

/* libscap's event header, then for type 322: u32 len0, u32 len1, u32 plugin id, payload */
#pragma pack(push, 1)
struct fw_event {
	uint64_t ts;
	uint64_t tid;
	uint32_t len;
	uint16_t type;
	uint32_t nparams;
};
#pragma pack(pop)

struct fw_event_input {
	const struct fw_event *evt;
	uint64_t evtnum;
	const char *evtsrc;
};

struct fw_byte_buffer {
	uint32_t len;
	const void *ptr;
};

struct fw_extract_field {
	union {
		const char **str;
		uint64_t *u64;
		uint32_t *u32;
		struct fw_byte_buffer *buf;
	} res;
	uint64_t res_len;
	uint32_t field_id;
	const char *field;
	const char *arg_key;
	uint64_t arg_index;
	uint32_t arg_present;
	uint32_t ftype;
	uint32_t flist;
};

/* 3.12's init input: 3.0's four members, then log_fn (3.3). A 3.0.0 plugin reads the first
 * four only. */
struct fw_init_input {
	const char *config;
	void *owner;
	const char *(*get_owner_last_error)(void *owner);
	const void *tables;
	void (*log_fn)(void *owner, const char *component, const char *msg, int sev);
};

/* get_metrics (3.6): what the framework reads of each metric. */
struct fw_metric {
	const char *name;
	uint32_t type;			/* 0 monotonic, 1 non-monotonic */
	union {
		uint64_t u64;
		double d;
	} value;
	uint32_t value_type;		/* 2: u64 */
};

/* 3.12's extract input; the table vtables are passed as NULLs here. */
struct fw_extract_input {
	void *owner;
	const char *(*get_owner_last_error)(void *owner);
	uint32_t num_fields;
	struct fw_extract_field *fields;
	void *table_reader[4];		/* deprecated by-value vtable */
	void *table_reader_ext;
	void *value_offsets;
};

_Static_assert(sizeof(struct fw_event) == 26, "scap header");
_Static_assert(sizeof(struct fw_extract_field) == 64, "ss_plugin_extract_field on x86_64");
_Static_assert(offsetof(struct fw_extract_field, field_id) == 16, "field_id");
_Static_assert(offsetof(struct fw_extract_field, arg_index) == 40, "arg_index");
_Static_assert(offsetof(struct fw_extract_field, arg_present) == 48, "arg_present");
_Static_assert(offsetof(struct fw_extract_field, flist) == 56, "flist");
_Static_assert(offsetof(struct fw_extract_input, num_fields) == 16, "num_fields");
_Static_assert(offsetof(struct fw_extract_input, fields) == 24, "fields");
_Static_assert(offsetof(struct fw_init_input, config) == 0, "config");

#endif
