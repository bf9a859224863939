/* config.c - the plugin's init config: a flat JSON object (jansson), checked strictly.
 *
 * Falco and sysdig validate the config against fp_init_schema() before init, but a host
 * that does not (the test driver, older embedders) must get the same refusals, so only what
 * the schema allows is accepted, and the message says which key was wrong and why.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bus/bus.h"
#include "falco_internal.h"

#define BATCH_DEFAULT 256
#define TIMEOUT_DEFAULT 50	/* ms: short enough for latency, long enough not to spin */

#define TYPES_HINT "a list of event names such as \"process_exec\""

static int key_error(char *err, size_t errlen, const char *key, const char *what)
{
	snprintf(err, errlen, "init config: '%s' must be %s", key, what);
	return -EINVAL;
}

/* A JSON integer in [min, max] (1.5, "50" and true are not integers). */
static int get_uint(json_t *v, const char *key, long min, long max, long *out, char *err, size_t errlen)
{
	json_int_t n;

	if (!json_is_integer(v) || (n = json_integer_value(v)) < min || n > max) {
		snprintf(err, errlen, "init config: '%s' must be an integer from %ld to %ld", key, min, max);
		return -EINVAL;
	}
	*out = (long)n;
	return 0;
}

/* "exec", "process_exec" and "PROCESS_EXEC" name the same events: keep the bus key. */
static int add_type(struct fp_config *cfg, const char *name, char *err, size_t errlen)
{
	size_t i, n = strlen(name);
	bool ok = n > 0;
	char *key;

	for (i = 0; ok && i < n; i++)
		ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') || name[i] == '_';
	if (!ok)
		return key_error(err, errlen, "event_types", TYPES_HINT);
	if (cfg->ntypes == CONFIG_TYPES_MAX) {
		snprintf(err, errlen, "init config: 'event_types' lists more than %d names", CONFIG_TYPES_MAX);
		return -EINVAL;
	}
	key = malloc(n + sizeof("process_"));
	if (!key)
		return -ENOMEM;
	if (strncasecmp(name, "process_", 8))
		strcpy(key, "process_");
	else
		key[0] = '\0';
	strcat(key, name);
	for (i = 0; key[i]; i++)
		key[i] = (char)(key[i] >= 'A' && key[i] <= 'Z' ? key[i] - 'A' + 'a' : key[i]);
	cfg->types[cfg->ntypes++] = key;
	return 0;
}

static int set_value(struct fp_config *cfg, const char *key, json_t *v, char *err, size_t errlen)
{
	size_t i;
	long n = 0;
	int rc;

	if (!strcmp(key, "bus")) {
		if (!json_is_string(v))
			return key_error(err, errlen, key, "a string such as \"" VIGIL_BUS_DEFAULT_EVENTS "\"");
		if (!json_string_length(v))
			return key_error(err, errlen, key, "a non-empty nanomsg URL");
		free(cfg->bus);
		cfg->bus = strdup(json_string_value(v));
		return cfg->bus ? 0 : -ENOMEM;
	}
	if (!strcmp(key, "event_types")) {
		/* Falco turns an empty YAML list into null when it converts init_config to JSON */
		if (json_is_null(v))
			return 0;
		if (!json_is_array(v))
			return key_error(err, errlen, key, TYPES_HINT);
		for (i = 0; i < json_array_size(v); i++) {
			json_t *name = json_array_get(v, i);

			if (!json_is_string(name))
				return key_error(err, errlen, key, TYPES_HINT);
			rc = add_type(cfg, json_string_value(name), err, errlen);
			if (rc)
				return rc;
		}
		return 0;
	}
	if (!strcmp(key, "batch_size")) {
		rc = get_uint(v, key, 1, CONFIG_BATCH_MAX, &n, err, errlen);
		cfg->batch_size = (uint32_t)n;
		return rc;
	}
	if (!strcmp(key, "timeout_ms")) {
		rc = get_uint(v, key, 1, CONFIG_TIMEOUT_MAX, &n, err, errlen);
		cfg->timeout_ms = (int)n;
		return rc;
	}
	snprintf(err, errlen, "init config: unknown property '%s' (known: bus, event_types, batch_size, timeout_ms)",
		 key);
	return -EINVAL;
}

static int set_defaults(struct fp_config *cfg)
{
	config_free(cfg);
	cfg->bus = strdup(VIGIL_BUS_DEFAULT_EVENTS);
	cfg->batch_size = BATCH_DEFAULT;
	cfg->timeout_ms = TIMEOUT_DEFAULT;
	return cfg->bus ? 0 : -ENOMEM;
}

int config_parse(const char *json, struct fp_config *cfg, char *err, size_t errlen)
{
	const char *s = json ? json : "";
	json_error_t jerr;
	json_t *root = NULL, *v;
	const char *key;
	int ret;

	ret = set_defaults(cfg);
	if (ret)
		goto out;
	/* Falco passes "" for a plugin without init_config, and sysdig without ":config" */
	s += strspn(s, " \t\r\n");
	if (!*s)
		goto out;
	root = json_loads(s, 0, &jerr);	/* a repeated key: the later one wins */
	if (!root || !json_is_object(root)) {
		if (root)
			snprintf(err, errlen, "init config is not valid JSON: expected an object");
		else
			snprintf(err, errlen, "init config is not valid JSON: %s at offset %d", jerr.text, jerr.position);
		ret = -EINVAL;
		goto out;
	}
	json_object_foreach(root, key, v) {
		ret = set_value(cfg, key, v, err, errlen);
		if (ret)
			break;
	}
	if (ret && set_defaults(cfg))
		ret = -ENOMEM;
out:
	json_decref(root);
	if (ret == -ENOMEM)
		snprintf(err, errlen, "init config: out of memory");
	return ret;
}

void config_free(struct fp_config *cfg)
{
	size_t i;

	free(cfg->bus);
	cfg->bus = NULL;
	for (i = 0; i < cfg->ntypes; i++)
		free(cfg->types[i]);
	cfg->ntypes = 0;
}

bool config_wants(const struct fp_config *cfg, const char *type_key)
{
	size_t i;

	for (i = 0; i < cfg->ntypes; i++)
		if (!strcmp(cfg->types[i], type_key))
			return true;
	return !cfg->ntypes;
}
