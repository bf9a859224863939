/* falco.h - the core of vigil's Falco plugin: everything the two ABI shims call.
 *
 * Falco and sysdig load plugins through two incompatible C ABIs: plugin API 3.x (Falco 0.35
 * and later, abi_v3.c) and the pre-1.0 API 0.3.0 that Debian 12's sysdig 0.29.3 and Falco
 * 0.31 implement (abi_v0.c). The shims only translate structs; the configuration, the bus
 * subscription, decoding, the field table and rendering live here once.
 *
 * Every pointer returned here belongs to the state (or the source) and stays valid until the
 * next call of the same kind on it, which is the lifetime both ABIs promise the framework.
 */
#ifndef VIGIL_FALCO_H
#define VIGIL_FALCO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The one descriptor of this plugin: what both ABIs report about it. */
struct fp_descriptor {
	const char *name;		/* falco.yaml's plugins[].name must equal it */
	const char *version;		/* rules' required_plugin_versions compare against it */
	const char *description;
	const char *contact;
	const char *source;		/* the event source: rules say `source: vigil` */
	uint32_t id;			/* written into every event (VIGIL_FALCO_PLUGIN_ID) */
	const char *open_params;	/* plugin_list_open_params: JSON array */
};

extern const struct fp_descriptor fp_plugin;

/* Field value kinds, as plugin API 3.x types them. */
enum fp_type {
	FP_STRING,
	FP_U64,
	FP_ABSTIME,	/* ns since the epoch */
	FP_IPADDR,	/* 4 or 16 bytes, network order */
};

/* What a framework understands: 3.x has lists, index arguments and the typed kinds; 0.3.0
 * has string and uint64 scalars only, so lists are joined and addresses become text. */
enum fp_flavour {
	FP_FLAVOUR_V3,
	FP_FLAVOUR_V0,
};

/* Same layout as the 3.x ss_plugin_byte_buffer (abi_v3.c asserts it). */
struct fp_bytes {
	uint32_t len;
	const void *ptr;
};

/* The values of one extracted field; n == 0 means the event has none. */
struct fp_values {
	enum fp_type type;
	uint32_t n;
	union {
		const char **str;
		uint64_t *u64;
		struct fp_bytes *buf;
	};
};

/* One event of a batch: buf holds `headroom` bytes for the shim's framing (the 3.x scap
 * header), then len bytes of payload: the msgpack event exactly as the bus carried it. */
struct fp_event {
	uint8_t *buf;
	uint32_t len;
	uint64_t ts;		/* the event's own time (wall ns), or UINT64_MAX: "stamp it now" */
};

struct fp_state;
struct fp_source;

/* JSON the framework asks for. Built once per process, never freed. */
const char *fp_init_schema(void);
const char *fp_fields_json(enum fp_flavour flavour);

/* A state in its empty, harmless form; headroom is the framing the shim puts before each
 * payload. NULL + errno (ENOMEM). */
struct fp_state *fp_state__new(size_t headroom);
/* Apply the init config (JSON; NULL or blank means defaults). Returns 0, or -EINVAL with
 * the reason in fp_state__last_error. */
int fp_state__configure(struct fp_state *st, const char *config);
/* Accepts NULL. Closes a source still open. */
void fp_state__free(struct fp_state *st);
/* Never NULL nor empty: the last failure, or while there was none, what the state has seen
 * (events, malformed messages skipped, events filtered out). Accepts NULL. */
const char *fp_state__last_error(struct fp_state *st);
uint32_t fp_state__batch_size(const struct fp_state *st);

/* Where the framework takes log lines (3.x's log_fn, severity as its scale: 4 warning);
 * fn NULL: none (the legacy API has no logging: its gaps show in last_error's summary). */
typedef void (*fp_log_fn)(void *owner, const char *component, const char *msg, int severity);
void fp_state__set_log(struct fp_state *st, fp_log_fn fn, void *owner);

/* One counter for the framework's metrics. */
struct fp_metric {
	const char *name;
	bool monotonic;
	uint64_t value;
};

#define FP_METRICS_MAX 8

/* The plugin's counters, delivery from the bus (the stamps' gaps) first. Returns how many
 * were written (at most FP_METRICS_MAX). */
uint32_t fp_state__metrics(const struct fp_state *st, struct fp_metric *out);
/* Scratch the shim may keep per state (its metric array); freed with the state. */
void **fp_state__abi_scratch(struct fp_state *st);

/* Subscribe to the bus (params, when not blank, override the configured address). nanomsg
 * connects lazily, so this succeeds while the agent is down and next() times out until it
 * is back. NULL on failure, with the reason in the state. */
struct fp_source *fp_source__open(struct fp_state *st, const char *params);

/* What a shim's plugin_open returns: the bus source and the array next_batch hands out,
 * batch_size elements of elem_size bytes (the ABIs differ in what an element is). */
struct fp_instance {
	struct fp_source *src;
	void *evts;
};

/* NULL on failure (the reason is in the state's last error). */
struct fp_instance *fp_instance__open(struct fp_state *st, const char *params, size_t elem_size);
/* Accepts NULL. */
void fp_instance__close(struct fp_state *st, struct fp_instance *inst);
/* Accepts NULL. */
void fp_source__close(struct fp_state *st, struct fp_source *src);
/* Wait up to the configured timeout for events, then take what is queued, up to the batch
 * size. Returns the number of events (> 0), 0 when the timeout passed with none, or -errno
 * (message in the state). Events of the previous batch are released. */
int fp_source__next(struct fp_state *st, struct fp_source *src);
/* The i-th event of the current batch (i < the count next() returned). */
const struct fp_event *fp_source__event(const struct fp_source *src, uint32_t i);

/* No event number: the caller cannot tell (0.3.0's event_to_string). */
#define FP_NO_EVTNUM UINT64_MAX

/* Start extracting from one event: find or decode its message once for all its fields.
 * Returns 0, or -EBADMSG when the payload does not decode (its fields are then absent). */
int fp_extract__begin(struct fp_state *st, const void *payload, size_t len, uint64_t evtnum);
/* Extract field field_id (its index in the fields JSON) of the event begun last. Returns 0
 * (out->n may be 0) or -EINVAL for an unknown field id, -ENOMEM. */
int fp_extract__field(struct fp_state *st, uint32_t field_id, bool arg_present, uint64_t arg_index,
		      enum fp_flavour flavour, struct fp_values *out);

/* The event as tetra's compact line; for a payload that does not decode, a line saying so.
 * Never NULL. */
const char *fp_describe(struct fp_state *st, const void *payload, size_t len);

#endif
