/* abi_v0.c - the plugin API 0.3.0 shim (libvigil_falco_legacy.so): Debian 12's sysdig
 * 0.29.3 and Falco 0.31. A source plugin of that API exports the symbols its libsinsp
 * resolves; event_to_string is required there, and field values are scalars only. */
#include <stdlib.h>
#include <string.h>

#include "abi_v0.h"
#include "falco.h"

PLUGIN_EXPORT const char *plugin_get_required_api_version(void)
{
	return PLUGIN_REQUIRED_API_VERSION;
}

PLUGIN_EXPORT uint32_t plugin_get_type(void)
{
	return TYPE_SOURCE_PLUGIN;
}

/* As in 3.x, a failed init still returns the state that holds the reason: this libsinsp
 * calls plugin_get_last_error on whatever init returned. */
PLUGIN_EXPORT ss_plugin_t *plugin_init(const char *config, ss_plugin_rc *rc)
{
	struct fp_state *st = fp_state__new(0);

	*rc = SS_PLUGIN_FAILURE;
	if (st && !fp_state__configure(st, config))
		*rc = SS_PLUGIN_SUCCESS;
	return st;
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
	struct fp_instance *inst = fp_instance__open(s, params, sizeof(ss_plugin_event));

	*rc = inst ? SS_PLUGIN_SUCCESS : SS_PLUGIN_FAILURE;
	return inst;
}

PLUGIN_EXPORT const char *plugin_list_open_params(ss_plugin_t *s, ss_plugin_rc *rc)
{
	*rc = SS_PLUGIN_SUCCESS;
	return fp_plugin.open_params;
}

PLUGIN_EXPORT ss_plugin_rc plugin_next_batch(ss_plugin_t *s, ss_instance_t *h, uint32_t *nevts,
					     ss_plugin_event **evts)
{
	struct fp_instance *inst = h;
	const struct fp_event *ev;
	int n = fp_source__next(s, inst->src), i;

	*nevts = 0;
	*evts = inst->evts;
	if (n < 0)
		return SS_PLUGIN_FAILURE;
	if (!n)
		return SS_PLUGIN_TIMEOUT;
	for (i = 0; i < n; i++) {
		ev = fp_source__event(inst->src, (uint32_t)i);
		((ss_plugin_event *)inst->evts)[i] = (ss_plugin_event){ .data = ev->buf, .datalen = ev->len, .ts = ev->ts };
	}
	*nevts = (uint32_t)n;
	return SS_PLUGIN_SUCCESS;
}

PLUGIN_EXPORT const char *plugin_event_to_string(ss_plugin_t *s, const uint8_t *data, uint32_t datalen)
{
	return fp_describe(s, data, datalen);
}

PLUGIN_EXPORT const char *plugin_get_fields(void)
{
	return fp_fields_json(FP_FLAVOUR_V0);
}

/* 0.3.0 hands the argument over as the text between the brackets: only plain decimal
 * indexes name an argument ("01", "-1", "x" name none, as 3.x frameworks decide too). */
static bool parse_index(const char *arg, uint64_t *index)
{
	uint64_t v = 0;
	size_t i, n = arg ? strlen(arg) : 0;

	if (!n || n > 19 || (n > 1 && arg[0] == '0'))
		return false;
	for (i = 0; i < n; i++) {
		if (arg[i] < '0' || arg[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(arg[i] - '0');
	}
	*index = v;
	return true;
}

PLUGIN_EXPORT ss_plugin_rc plugin_extract_fields(ss_plugin_t *s, const ss_plugin_event *evt, uint32_t num_fields,
						 ss_plugin_extract_field *fields)
{
	ss_plugin_extract_field *f;
	struct fp_values v;
	uint64_t index = 0;
	bool has_index;
	uint32_t i;

	for (i = 0; i < num_fields; i++)
		fields[i].field_present = false;
	if (fp_extract__begin(s, evt->data, evt->datalen, evt->evtnum))
		return SS_PLUGIN_SUCCESS;
	for (i = 0; i < num_fields; i++) {
		f = &fields[i];
		has_index = parse_index(f->arg, &index);
		if (fp_extract__field(s, f->field_id, has_index, index, FP_FLAVOUR_V0, &v))
			return SS_PLUGIN_FAILURE;
		if (!v.n)
			continue;
		if (v.type == FP_STRING)
			f->res_str = v.str[0];
		else
			f->res_u64 = v.u64[0];
		f->field_present = true;
	}
	return SS_PLUGIN_SUCCESS;
}
