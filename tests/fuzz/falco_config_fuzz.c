/* falco_config_fuzz.c - libFuzzer target for the Falco plugin's init config
 * (plugins/falco/config.c): the JSON Falco hands plugin_init (converted from the YAML of
 * falco.yaml, or sysdig's raw ":config" text, which no schema checked).
 *
 * Properties besides memory safety: an accepted config is within the schema's bounds
 * (a bus address, batch 1..CONFIG_BATCH_MAX, timeout 0..CONFIG_TIMEOUT_MAX, at most
 * CONFIG_TYPES_MAX event keys, each spelled "process_*"); a refused one says why and
 * leaves the defaults (every event type).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "falco_internal.h"

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "falco_config_fuzz: property violated: %s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fp_config cfg;
	char err[256] = "", *json = malloc(size + 1);
	size_t i;
	int rc;

	check(json != NULL, "out of memory");
	memcpy(json, data, size);
	json[size] = '\0';
	memset(&cfg, 0, sizeof(cfg));
	rc = config_parse(json, &cfg, err, sizeof(err));
	if (rc) {
		check(rc == -EINVAL || rc == -ENOMEM, "unexpected error");
		check(err[0] != '\0', "a refusal without a reason");
		check(cfg.ntypes == 0 && config_wants(&cfg, "process_exec"), "a refusal left event types");
	} else {
		check(cfg.bus != NULL && cfg.bus[0] != '\0', "no bus address");
		check(cfg.batch_size >= 1 && cfg.batch_size <= CONFIG_BATCH_MAX, "batch size out of range");
		check(cfg.timeout_ms >= 0 && cfg.timeout_ms <= CONFIG_TIMEOUT_MAX, "timeout out of range");
		check(cfg.ntypes <= CONFIG_TYPES_MAX, "too many event types");
		for (i = 0; i < cfg.ntypes; i++) {
			check(!strncmp(cfg.types[i], "process_", 8), "an event key without process_");
			check(config_wants(&cfg, cfg.types[i]), "a listed type not wanted");
		}
	}
	config_free(&cfg);
	free(json);
	return 0;
}
