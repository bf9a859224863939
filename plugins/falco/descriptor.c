/* descriptor.c - who this plugin is, for both ABIs. */
#include "bus/bus.h"
#include "falco_internal.h"

/* Set by CMake from the VIGIL_FALCO_PLUGIN_ID cache variable, which it checks lies in the
 * registry's private block (1073741824-2147483647) or is 999, the development ID. */
#ifndef VIGIL_FALCO_PLUGIN_ID
#error "VIGIL_FALCO_PLUGIN_ID must be defined by the build"
#endif

const struct fp_descriptor fp_plugin = {
	.name = "vigil",
	.version = VIGIL_VERSION,
	.description = "vigil runtime security events (process lifecycle, kprobe/tracepoint/LSM policy events, "
		       "Lua rule alerts) from vigild's event bus",
	.contact = "vigil maintainers; see plugins/falco/README.md in the vigil source tree",
	.source = "vigil",
	.id = VIGIL_FALCO_PLUGIN_ID,
	.open_params = "[{\"value\":\"" VIGIL_BUS_DEFAULT_EVENTS "\",\"desc\":\"vigild's default event bus\"},"
		       "{\"value\":\"tcp://127.0.0.1:PORT\",\"desc\":\"an agent started with --bus tcp://...\"}]",
};
