/* falco_yaml.h - a plugin's init_config from a falco.yaml, turned into the JSON Falco hands
 * to plugin_init: Falco reads the YAML and converts the node to JSON itself, and in that
 * conversion an empty sequence becomes null, plain scalars become numbers, booleans and null
 * where they read as such. The tests feed the shipped snippet through it, so what real
 * Falco would refuse is refused here too. */
#ifndef VIGIL_TEST_FALCO_YAML_H
#define VIGIL_TEST_FALCO_YAML_H

#include "common/common.h"

/* The init_config of the plugin called name in the falco.yaml at path, as JSON appended to
 * out. 0, -ENOENT when the file or the plugin is missing, -EINVAL for bad YAML. */
int falco_init_config_json(const char *path, const char *name, struct vigil_buf *out);

#endif
