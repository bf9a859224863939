/* abi_v3.c - the plugin API 3.x shim (libvigil_falco.so): Falco 0.35 and later.
 *
 * Capabilities are inferred from the exported symbols: open/close/next_batch make it an
 * event source, get_fields/extract_fields a field extractor. It asks for API 3.6.0, the
 * lowest 3.x with get_metrics (where Falco shows the bus gaps the plugin counted) and
 * log_fn, so every Falco from 0.39 loads it; get_extract_event_types is not exported
 * because its signature changed in 3.2.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "abi_v3.h"
#include "falco.h"

_Static_assert(sizeof(ss_plugin_event) == 26, "libscap's event header is 26 packed bytes");
_Static_assert(sizeof(ss_plugin_metric) == 32 && offsetof(ss_plugin_metric, value) == 16 &&
		       offsetof(ss_plugin_metric, value_type) == 24,
	       "ss_plugin_metric: name, type, the 8-byte value union, value_type");
_Static_assert(sizeof(struct fp_bytes) == sizeof(ss_plugin_byte_buffer) &&
		       offsetof(struct fp_bytes, ptr) == offsetof(ss_plugin_byte_buffer, ptr),
	       "core address values are handed to the framework as they are");

PLUGIN_EXPORT const char *plugin_get_required_api_version(void)
{
	return PLUGIN_REQUIRED_API_VERSION;
}

/* On a config error the state is still returned: the framework reads the reason from it
 * with plugin_get_last_error, then destroys it. */
PLUGIN_EXPORT ss_plugin_t *plugin_init(const ss_plugin_init_input *in, ss_plugin_rc *rc)
{
	struct fp_state *st = fp_state__new(PLUGIN_EVENT_PAYLOAD_OFFSET);

	*rc = SS_PLUGIN_FAILURE;
	if (st && in && in->log_fn)
		fp_state__set_log(st, (fp_log_fn)in->log_fn, in->owner);
	if (st && !fp_state__configure(st, in ? in->config : NULL))
		*rc = SS_PLUGIN_SUCCESS;
	return st;
}

/* The counters (first of all the events the bus dropped for us, from the stamps' gaps),
 * in an array kept with the state until the next call. */
PLUGIN_EXPORT ss_plugin_metric *plugin_get_metrics(ss_plugin_t *s, uint32_t *num_metrics)
{
	struct fp_metric m[FP_METRICS_MAX];
	ss_plugin_metric **arr = (ss_plugin_metric **)fp_state__abi_scratch(s);
	uint32_t n = fp_state__metrics(s, m), i;

	*num_metrics = 0;
	if (!*arr)
		*arr = calloc(FP_METRICS_MAX, sizeof(**arr));
	if (!*arr)
		return NULL;
	for (i = 0; i < n; i++)
		(*arr)[i] = (ss_plugin_metric){
			.name = m[i].name,
			.type = m[i].monotonic ? SS_PLUGIN_METRIC_TYPE_MONOTONIC : SS_PLUGIN_METRIC_TYPE_NON_MONOTONIC,
			.value.u64 = m[i].value,
			.value_type = SS_PLUGIN_METRIC_VALUE_TYPE_U64,
		};
	*num_metrics = n;
	return *arr;
}

PLUGIN_EXPORT void plugin_destroy(ss_plugin_t *s)
{
	fp_state__free(s);
}

PLUGIN_EXPORT const char *plugin_get_last_error(ss_plugin_t *s)
{
	return fp_state__last_error(s);
}

PLUGIN_EXPORT void plugin_close(ss_plugin_t *s, ss_instance_t *h)
{
	fp_instance__close(s, h);
}

PLUGIN_EXPORT ss_instance_t *plugin_open(ss_plugin_t *s, const char *params, ss_plugin_rc *rc)
{
	struct fp_instance *inst = fp_instance__open(s, params, sizeof(ss_plugin_event *));

	*rc = inst ? SS_PLUGIN_SUCCESS : SS_PLUGIN_FAILURE;
	return inst;
}

PLUGIN_EXPORT const char *plugin_list_open_params(ss_plugin_t *s, ss_plugin_rc *rc)
{
	*rc = SS_PLUGIN_SUCCESS;
	return fp_plugin.open_params;
}

/* Write the scap framing into the headroom the core left before the payload. */
static ss_plugin_event *frame(const struct fp_event *ev)
{
	uint32_t len0 = 4, len1 = ev->len, id = fp_plugin.id;
	ss_plugin_event *e = (ss_plugin_event *)ev->buf;

	e->ts = ev->ts;
	e->tid = UINT64_MAX;
	e->len = PLUGIN_EVENT_PAYLOAD_OFFSET + ev->len;
	e->type = PLUGIN_EVENT_TYPE;
	e->nparams = PLUGIN_EVENT_NPARAMS;
	memcpy(ev->buf + 26, &len0, 4);
	memcpy(ev->buf + 30, &len1, 4);
	memcpy(ev->buf + 34, &id, 4);
	return e;
}

PLUGIN_EXPORT ss_plugin_rc plugin_next_batch(ss_plugin_t *s, ss_instance_t *h, uint32_t *nevts,
					     ss_plugin_event ***evts)
{
	struct fp_instance *inst = h;
	int n = fp_source__next(s, inst->src), i;

	*nevts = 0;
	*evts = inst->evts;
	if (n < 0)
		return SS_PLUGIN_FAILURE;
	/* libscap treats SUCCESS with no events as an error: an idle wait is a TIMEOUT */
	if (!n)
		return SS_PLUGIN_TIMEOUT;
	for (i = 0; i < n; i++)
		((ss_plugin_event **)inst->evts)[i] = frame(fp_source__event(inst->src, (uint32_t)i));
	*nevts = (uint32_t)n;
	return SS_PLUGIN_SUCCESS;
}

/* The payload of one of our events, after checking the framing the framework hands back. */
static const uint8_t *payload_of(const ss_plugin_event_input *in, uint32_t *len)
{
	const uint8_t *p = (const uint8_t *)in->evt;
	uint32_t len1;

	*len = 0;
	if (!p || in->evt->type != PLUGIN_EVENT_TYPE || in->evt->nparams != PLUGIN_EVENT_NPARAMS ||
	    in->evt->len < PLUGIN_EVENT_PAYLOAD_OFFSET)
		return NULL;
	memcpy(&len1, p + 30, 4);
	if (len1 > in->evt->len - PLUGIN_EVENT_PAYLOAD_OFFSET)
		return NULL;
	*len = len1;
	return p + PLUGIN_EVENT_PAYLOAD_OFFSET;
}

PLUGIN_EXPORT const char *plugin_event_to_string(ss_plugin_t *s, const ss_plugin_event_input *evt)
{
	uint32_t len;
	const uint8_t *payload = payload_of(evt, &len);

	return fp_describe(s, payload, len);
}

PLUGIN_EXPORT const char *plugin_get_fields(void)
{
	return fp_fields_json(FP_FLAVOUR_V3);
}

PLUGIN_EXPORT ss_plugin_rc plugin_extract_fields(ss_plugin_t *s, const ss_plugin_event_input *evt,
						 const ss_plugin_field_extract_input *in)
{
	ss_plugin_extract_field *f;
	struct fp_values v;
	uint32_t len, i;
	const uint8_t *payload = payload_of(evt, &len);
	int err;

	/* an event that does not decode has no fields: rules simply do not match it */
	if (fp_extract__begin(s, payload, len, evt->evtnum)) {
		for (i = 0; i < in->num_fields; i++)
			in->fields[i].res_len = 0;
		return SS_PLUGIN_SUCCESS;
	}
	for (i = 0; i < in->num_fields; i++) {
		f = &in->fields[i];
		err = fp_extract__field(s, f->field_id, f->arg_present, f->arg_index, FP_FLAVOUR_V3, &v);
		if (err) {
			for (; i < in->num_fields; i++)
				in->fields[i].res_len = 0;
			return SS_PLUGIN_FAILURE;
		}
		switch (v.type) {
		case FP_STRING:
			f->res.str = v.str;
			break;
		case FP_IPADDR:
			f->res.buf = (ss_plugin_byte_buffer *)v.buf;
			break;
		default:
			f->res.u64 = v.u64;
			break;
		}
		f->res_len = v.n;
	}
	return SS_PLUGIN_SUCCESS;
}
