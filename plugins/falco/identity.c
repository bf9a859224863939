/* identity.c - the entry points that say who the plugin is. Their signatures are the same
 * in API 0.3.0 and 3.x, so both shared objects export these from the core. */
#include <stdint.h>

#include "abi_common.h"
#include "falco.h"

PLUGIN_EXPORT const char *plugin_get_version(void)
{
	return fp_plugin.version;
}

PLUGIN_EXPORT const char *plugin_get_name(void)
{
	return fp_plugin.name;
}

PLUGIN_EXPORT const char *plugin_get_description(void)
{
	return fp_plugin.description;
}

PLUGIN_EXPORT const char *plugin_get_contact(void)
{
	return fp_plugin.contact;
}

PLUGIN_EXPORT uint32_t plugin_get_id(void)
{
	return fp_plugin.id;
}

PLUGIN_EXPORT const char *plugin_get_event_source(void)
{
	return fp_plugin.source;
}

PLUGIN_EXPORT const char *plugin_get_init_schema(ss_plugin_schema_type *schema_type)
{
	*schema_type = SS_PLUGIN_SCHEMA_JSON;
	return fp_init_schema();
}
