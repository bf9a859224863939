/* test_dlopen_v3.c - libvigil_falco.so driven the way a plugin API 3.x framework drives it:
 * dlopen, the symbol set and the capabilities it implies, the required-version check, init
 * with a config, open, next_batch, extraction of typed, list and indexed fields,
 * event_to_string, and the scap byte layout of every event. Events come from a real
 * nanomsg publisher (libvigil's, as vigild uses) on a private bus.
 *
 * usage: test_dlopen_v3 <path to libvigil_falco.so>
 */
#include <dlfcn.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "bus/bus.h"
#include "common/common.h"
#include "framework_v3.h"
#include "falco_yaml.h"
#include "testevents.h"

/* ---- the plugin, as the framework's loader resolves it ---- */

struct api {
	const char *(*get_required_api_version)(void);
	const char *(*get_version)(void);
	const char *(*get_name)(void);
	const char *(*get_description)(void);
	const char *(*get_contact)(void);
	void *(*init)(const struct fw_init_input *in, int32_t *rc);
	void (*destroy)(void *s);
	const char *(*get_last_error)(void *s);
	const char *(*get_init_schema)(uint32_t *type);
	uint32_t (*get_id)(void);
	const char *(*get_event_source)(void);
	void *(*open)(void *s, const char *params, int32_t *rc);
	void (*close)(void *s, void *h);
	int32_t (*next_batch)(void *s, void *h, uint32_t *nevts, struct fw_event ***evts);
	const char *(*list_open_params)(void *s, int32_t *rc);
	const char *(*event_to_string)(void *s, const struct fw_event_input *evt);
	const char *(*get_fields)(void);
	int32_t (*extract_fields)(void *s, const struct fw_event_input *evt, const struct fw_extract_input *in);
	struct fw_metric *(*get_metrics)(void *s, uint32_t *num_metrics);
};

static const char *plugin_path;
static void *dl;
static struct api P;

/* what get_fields() declares, in field-id order */
#define MAX_FIELDS 64
static struct {
	char name[64];
	uint32_t ftype;
	bool list, index;
} fields[MAX_FIELDS];
static size_t nfields;

static void *sym(const char *name)
{
	char full[64];

	snprintf(full, sizeof(full), "plugin_%s", name);
	return dlsym(dl, full);
}

#define LOAD(f) (*(void **)&P.f = sym(#f))

/* ---- a minimal JSON syntax check (the framework parses these with jsoncpp) ---- */

static const char *json_value(const char *p);

static const char *json_ws(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	return p;
}

static const char *json_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	for (; *p && *p != '"'; p++) {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\' && !*++p)
			return NULL;
	}
	return *p == '"' ? p + 1 : NULL;
}

static const char *json_seq(const char *p, char close, bool keys)
{
	p = json_ws(p + 1);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (keys) {
			p = json_string(json_ws(p));
			if (!p)
				return NULL;
			p = json_ws(p);
			if (*p++ != ':')
				return NULL;
		}
		p = json_value(p);
		if (!p)
			return NULL;
		p = json_ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static const char *json_value(const char *p)
{
	p = json_ws(p);
	if (*p == '{')
		return json_seq(p, '}', true);
	if (*p == '[')
		return json_seq(p, ']', false);
	if (*p == '"')
		return json_string(p);
	if (!strncmp(p, "true", 4) || !strncmp(p, "null", 4))
		return p + 4;
	if (!strncmp(p, "false", 5))
		return p + 5;
	if (*p == '-' || (*p >= '0' && *p <= '9')) {
		p += *p == '-';
		while ((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E' || *p == '+' || *p == '-')
			p++;
		return p;
	}
	return NULL;
}

static bool json_valid(const char *s)
{
	const char *end = s ? json_value(s) : NULL;

	return end && !*json_ws(end);
}

/* Copy the string value following `key":"` at or after p into out. */
static const char *json_field(const char *p, const char *key, char *out, size_t size)
{
	char pat[64];
	const char *v, *e;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	v = strstr(p, pat);
	if (!v)
		return NULL;
	v += strlen(pat);
	e = strchr(v, '"');
	if (!e || (size_t)(e - v) >= size)
		return NULL;
	memcpy(out, v, (size_t)(e - v));
	out[e - v] = '\0';
	return e;
}

static uint32_t ftype_of(const char *t)
{
	static const struct {
		const char *name;
		uint32_t ftype;
	} types[] = { { "uint64", FW_UINT64 }, { "string", FW_STRING }, { "reltime", FW_RELTIME },
		      { "abstime", FW_ABSTIME }, { "bool", FW_BOOL }, { "ipaddr", FW_IPADDR }, { "ipnet", FW_IPNET } };
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(t, types[i].name))
			return types[i].ftype;
	return 0;
}

/* Split get_fields() into entries the way the framework indexes them (array order). */
static int read_fields(const char *json)
{
	const char *p = json, *end;
	char type[32], entry[1024];
	size_t n;

	nfields = 0;
	while ((p = strstr(p, "{\"type\":\"")) && nfields < MAX_FIELDS) {
		end = strchr(p, '}');
		/* the arg object closes first: the entry ends at the next "}," or "}]" after it */
		while (end && end[1] != ',' && end[1] != ']')
			end = strchr(end + 1, '}');
		if (!end)
			return -1;
		n = (size_t)(end - p + 1) < sizeof(entry) ? (size_t)(end - p + 1) : sizeof(entry) - 1;
		memcpy(entry, p, n);
		entry[n] = '\0';
		if (!json_field(entry, "type", type, sizeof(type)) ||
		    !json_field(entry, "name", fields[nfields].name, sizeof(fields[nfields].name)))
			return -1;
		fields[nfields].ftype = ftype_of(type);
		fields[nfields].list = strstr(entry, "\"isList\":true");
		fields[nfields].index = strstr(entry, "\"isIndex\":true") && strstr(entry, "\"isRequired\":true");
		nfields++;
		p = end;
	}
	return 0;
}

static int field_id(const char *name)
{
	size_t i;

	for (i = 0; i < nfields; i++)
		if (!strcmp(fields[i].name, name))
			return (int)i;
	return -1;
}

static int load_plugin(void **ctx)
{
	dl = dlopen(plugin_path, RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		fprintf(stderr, "dlopen %s: %s\n", plugin_path, dlerror());
		return -1;
	}
	LOAD(get_required_api_version);
	LOAD(get_version);
	LOAD(get_name);
	LOAD(get_description);
	LOAD(get_contact);
	LOAD(init);
	LOAD(destroy);
	LOAD(get_last_error);
	LOAD(get_init_schema);
	LOAD(get_id);
	LOAD(get_event_source);
	LOAD(open);
	LOAD(close);
	LOAD(next_batch);
	LOAD(list_open_params);
	LOAD(event_to_string);
	LOAD(get_fields);
	LOAD(extract_fields);
	LOAD(get_metrics);
	if (!P.get_fields || read_fields(P.get_fields()))
		return -1;
	return 0;
}

static int unload_plugin(void **ctx)
{
	if (dl)
		dlclose(dl);
	return 0;
}

/* ---- one framework session: a private bus, a plugin state and instance ---- */

struct fw {
	char dir[64], url[128];
	void *st, *inst;
	struct vigil_pub *pub;
	uint64_t evtnum;		/* the framework numbers events as they arrive */
	struct vigil_buf ev;		/* an event being built */
};

static int setup(void **ctx)
{
	struct fw *fw = calloc(1, sizeof(*fw));

	if (!fw)
		return -1;
	strcpy(fw->dir, "/tmp/vigil-falco-XXXXXX");
	if (!mkdtemp(fw->dir))
		return -1;
	snprintf(fw->url, sizeof(fw->url), "ipc://%s/events.sock", fw->dir);
	*ctx = fw;
	return 0;
}

static int teardown(void **ctx)
{
	struct fw *fw = *ctx;

	if (fw->inst)
		P.close(fw->st, fw->inst);
	P.destroy(fw->st);
	vigil_pub__close(fw->pub);
	vigil_buf_free(&fw->ev);
	rmdir(fw->dir);
	free(fw);
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* init with {"bus": <our bus>, <extra>} and open. */
static void start(struct fw *fw, const char *extra)
{
	char config[512];
	struct fw_init_input in = { .config = config };
	int32_t rc = -2;

	snprintf(config, sizeof(config), "{\"bus\":\"%s\",\"timeout_ms\":50%s%s}", fw->url, extra ? "," : "",
		 extra ? extra : "");
	fw->st = P.init(&in, &rc);
	assert_int_equal(rc, FW_SUCCESS);
	assert_non_null(fw->st);
	fw->inst = P.open(fw->st, "", &rc);
	assert_int_equal(rc, FW_SUCCESS);
	assert_non_null(fw->inst);
}

static void publish(struct fw *fw)
{
	assert_int_equal(vigil_pub__send(fw->pub, fw->ev.data, fw->ev.len), 0);
	vigil_buf_reset(&fw->ev);
}

/* Bind the publisher, then publish markers until the plugin's subscription delivers one
 * (nanomsg connects asynchronously and PUB drops what no subscriber is there to take),
 * then read until the pipe is quiet. */
static void agent_up(struct fw *fw)
{
	struct fw_event **evts;
	uint32_t n = 0;
	int i;

	fw->pub = vigil_pub__open(fw->url, 0660);
	assert_non_null(fw->pub);
	for (i = 0; i < 200 && !n; i++) {
		assert_int_equal(tev_exec(&fw->ev, 1, "/sync", ""), 0);
		publish(fw);
		P.next_batch(fw->st, fw->inst, &n, &evts);
	}
	assert_true(n > 0);
	while (P.next_batch(fw->st, fw->inst, &n, &evts) == FW_SUCCESS)
		;
}

/* Wait for the next batch, which must hold exactly one event. */
static const struct fw_event *recv_one(struct fw *fw)
{
	struct fw_event **evts = NULL;
	uint32_t n = 0;
	int32_t rc = FW_TIMEOUT;
	int i;

	for (i = 0; i < 100 && rc == FW_TIMEOUT; i++)
		rc = P.next_batch(fw->st, fw->inst, &n, &evts);
	assert_int_equal(rc, FW_SUCCESS);
	assert_int_equal(n, 1);
	fw->evtnum++;
	return evts[0];
}

/* The payload of a plugin event, per the layout libscap defines. */
static const uint8_t *payload(const struct fw_event *e, uint32_t *len)
{
	memcpy(len, (const uint8_t *)e + 30, 4);
	return (const uint8_t *)e + 38;
}

static struct fw_extract_field extract_arg(struct fw *fw, const struct fw_event *e, const char *name, bool has_index,
					   uint64_t index)
{
	int id = field_id(name);
	struct fw_extract_field f = { .field = name, .arg_index = index, .arg_present = has_index };
	struct fw_extract_input in = { .num_fields = 1, .fields = &f };
	struct fw_event_input ei = { .evt = e, .evtnum = fw->evtnum, .evtsrc = "vigil" };

	if (id < 0)
		fail_msg("no field %s in get_fields()", name);
	f.field_id = (uint32_t)id;
	f.ftype = fields[id].ftype;
	f.flist = fields[id].list;
	f.res_len = 99;
	assert_int_equal(P.extract_fields(fw->st, &ei, &in), FW_SUCCESS);
	return f;
}

static struct fw_extract_field extract(struct fw *fw, const struct fw_event *e, const char *name)
{
	return extract_arg(fw, e, name, false, 0);
}

static void assert_str_field(struct fw *fw, const struct fw_event *e, const char *name, const char *want)
{
	struct fw_extract_field f = extract(fw, e, name);

	if (f.res_len != 1)
		fail_msg("%s: %llu values, want 1", name, (unsigned long long)f.res_len);
	assert_int_equal(fields[f.field_id].ftype, FW_STRING);
	assert_string_equal(f.res.str[0], want);
}

static void assert_u64_field(struct fw *fw, const struct fw_event *e, const char *name, uint64_t want)
{
	struct fw_extract_field f = extract(fw, e, name);

	if (f.res_len != 1)
		fail_msg("%s: %llu values, want 1", name, (unsigned long long)f.res_len);
	assert_true(fields[f.field_id].ftype == FW_UINT64 || fields[f.field_id].ftype == FW_ABSTIME);
	assert_true(f.res.u64[0] == want);
}

static void assert_absent(struct fw *fw, const struct fw_event *e, const char *name)
{
	struct fw_extract_field f = extract(fw, e, name);

	if (f.res_len)
		fail_msg("%s: present (%llu values), want absent", name, (unsigned long long)f.res_len);
}

/* ---- the symbol set and identity ---- */

static void test_exports_the_3x_sourcing_and_extraction_symbol_set(void **ctx)
{
	static const char *const required[] = { "get_required_api_version", "get_version", "get_name",
						"get_description", "get_contact", "init", "destroy", "get_last_error" };
	/* parsing, async, capture listening; get_extract_event_types changed signature in 3.2,
	 * set_config/dump_state need newer frameworks than 3.6.0 promises */
	static const char *const absent[] = { "get_type", "parse_event", "get_parse_event_types",
					      "get_async_events", "set_async_event_handler", "capture_open",
					      "capture_close", "get_extract_event_types", "set_config",
					      "dump_state", "get_required_event_schema_version" };
	size_t i;

	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!sym(required[i]))
			fail_msg("required plugin_%s missing", required[i]);
	for (i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
		if (sym(absent[i]))
			fail_msg("plugin_%s exported; it would claim a capability or a newer API", absent[i]);
	/* sourcing: open + close + next_batch; extraction: get_fields + extract_fields */
	assert_non_null(P.open);
	assert_non_null(P.close);
	assert_non_null(P.next_batch);
	assert_non_null(P.get_fields);
	assert_non_null(P.extract_fields);
	assert_non_null(P.event_to_string);
	assert_non_null(P.list_open_params);
	assert_non_null(P.get_init_schema);
	assert_non_null(P.get_metrics);		/* 3.6: the bus gaps, where Falco shows plugin metrics */
	/* the core stays inside the library */
	assert_null(dlsym(dl, "fp_state__new"));
	assert_null(dlsym(dl, "config_parse"));
}

/* The framework's rule: same major, framework minor >= required minor, patch likewise. */
static bool framework_accepts(const char *req, int major, int minor, int patch)
{
	int rmaj, rmin, rpat;

	if (sscanf(req, "%d.%d.%d", &rmaj, &rmin, &rpat) != 3)
		return false;
	return major == rmaj && (minor > rmin || (minor == rmin && patch >= rpat));
}

/* 3.6.0: get_metrics and log_fn; Falco 0.39 (libs 0.18, API 3.7) and later load it, 0.38
 * (3.5) refuses it at load, before reading any struct we would misread */
static void test_required_api_version_is_3_6_0_and_loads_from_3_6_on(void **ctx)
{
	const char *req = P.get_required_api_version();
	int minor;

	assert_string_equal(req, "3.6.0");
	for (minor = 0; minor <= FW_API_MINOR; minor++)
		assert_true(framework_accepts(req, FW_API_MAJOR, minor, 0) == (minor >= 6));
	assert_false(framework_accepts(req, 2, 0, 0));
	assert_false(framework_accepts(req, 4, 0, 0));
}

static void test_identity_is_the_vigil_source_with_a_private_block_id(void **ctx)
{
	int maj, min, pat;

	assert_string_equal(P.get_name(), "vigil");
	assert_string_equal(P.get_event_source(), "vigil");
	assert_int_equal(P.get_id(), VIGIL_FALCO_PLUGIN_ID);
	assert_true(P.get_id() == 999 || (P.get_id() >= 1073741824u && P.get_id() <= 2147483647u));
	assert_int_equal(sscanf(P.get_version(), "%d.%d.%d", &maj, &min, &pat), 3);
	assert_string_equal(P.get_version(), VIGIL_VERSION);
	assert_true(strlen(P.get_description()) > 0);
	assert_true(strlen(P.get_contact()) > 0);
}

static void test_init_schema_is_a_json_schema_of_the_four_options(void **ctx)
{
	uint32_t type = 0;
	const char *schema = P.get_init_schema(&type);

	assert_int_equal(type, 1);	/* SS_PLUGIN_SCHEMA_JSON */
	assert_true(json_valid(schema));
	assert_non_null(strstr(schema, "\"bus\":{\"type\":\"string\""));
	/* null too: Falco's YAML to JSON conversion turns an empty list into null */
	assert_non_null(strstr(schema, "\"event_types\":{\"type\":[\"array\",\"null\"]"));
	assert_non_null(strstr(schema, "\"batch_size\":{\"type\":\"integer\""));
	assert_non_null(strstr(schema, "\"timeout_ms\":{\"type\":\"integer\""));
	assert_non_null(strstr(schema, "\"additionalProperties\":false"));
}

static void test_fields_json_declares_the_typed_fields_rules_need(void **ctx)
{
	static const struct {
		const char *name;
		uint32_t ftype;
	} want[] = {
		{ "vigil.event_type", FW_STRING }, { "vigil.policy", FW_STRING }, { "vigil.action", FW_STRING },
		{ "vigil.function", FW_STRING }, { "vigil.message", FW_STRING }, { "vigil.tags", FW_STRING },
		{ "vigil.process.pid", FW_UINT64 }, { "vigil.process.tid", FW_UINT64 },
		{ "vigil.process.uid", FW_UINT64 }, { "vigil.process.auid", FW_UINT64 },
		{ "vigil.process.binary", FW_STRING }, { "vigil.process.arguments", FW_STRING },
		{ "vigil.process.cwd", FW_STRING }, { "vigil.process.exec_id", FW_STRING },
		{ "vigil.process.start_time", FW_ABSTIME }, { "vigil.process.flags", FW_STRING },
		{ "vigil.parent.pid", FW_UINT64 }, { "vigil.parent.binary", FW_STRING },
		{ "vigil.parent.arguments", FW_STRING }, { "vigil.parent.exec_id", FW_STRING },
		{ "vigil.args", FW_STRING }, { "vigil.arg.path", FW_STRING }, { "vigil.arg.daddr", FW_IPADDR },
		{ "vigil.arg.dport", FW_UINT64 }, { "vigil.exit.status", FW_UINT64 },
		{ "vigil.exit.signal", FW_STRING }, { "vigil.alert.rule", FW_STRING },
		{ "vigil.alert.priority", FW_STRING },
	};
	const char *json = P.get_fields();
	size_t i;
	int id;

	assert_true(json_valid(json));
	assert_true(nfields >= sizeof(want) / sizeof(want[0]));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		id = field_id(want[i].name);
		if (id < 0)
			fail_msg("%s not declared", want[i].name);
		assert_int_equal(fields[id].ftype, want[i].ftype);
	}
	for (i = 0; i < nfields; i++) {
		/* the framework refuses unknown types; names must not reuse libsinsp's classes */
		assert_true(fields[i].ftype != 0);
		assert_int_equal(strncmp(fields[i].name, "vigil.", 6), 0);
		assert_int_equal(fields[i].list, !strcmp(fields[i].name, "vigil.tags"));
		assert_int_equal(fields[i].index, !strcmp(fields[i].name, "vigil.args"));
	}
	assert_null(strstr(json, "\"desc\":\"\""));
}

/* ---- init and open ---- */

static void test_init_without_config_takes_the_defaults(void **ctx)
{
	static const char *const configs[] = { NULL, "", "  ", "{}" };
	struct fw_init_input in = { 0 };
	int32_t rc;
	void *st;
	size_t i;

	for (i = 0; i < sizeof(configs) / sizeof(configs[0]); i++) {
		in.config = configs[i];
		rc = -2;
		st = P.init(&in, &rc);
		assert_int_equal(rc, FW_SUCCESS);
		assert_non_null(st);
		/* no failure yet: the error text says so, and names the default bus */
		assert_non_null(strstr(P.get_last_error(st), "no error"));
		assert_non_null(strstr(P.get_last_error(st), VIGIL_BUS_DEFAULT_EVENTS));
		P.destroy(st);
	}
}

static void test_init_rejects_bad_config_saying_what_is_wrong(void **ctx)
{
	static const struct {
		const char *config, *says;
	} bad[] = {
		{ "{\"batch_size\": 0}", "'batch_size' must be an integer from 1 to 4096" },
		{ "{\"batch_size\": 5000}", "'batch_size' must be an integer from 1 to 4096" },
		{ "{\"timeout_ms\": 1.5}", "'timeout_ms' must be an integer" },
		{ "{\"timeout_ms\": \"50\"}", "'timeout_ms' must be an integer" },
		{ "{\"bus\": 5}", "'bus' must be a string" },
		{ "{\"bus\": \"\"}", "'bus' must be a non-empty nanomsg URL" },
		{ "{\"event_types\": \"exec\"}", "'event_types' must be a list" },
		{ "{\"event_types\": [\"exec!\"]}", "'event_types' must be a list" },
		{ "{\"bogus\": 1}", "unknown property 'bogus'" },
		{ "{\"bus\": \"ipc:///x\"", "not valid JSON" },
		{ "{bus: 1}", "not valid JSON" },
		{ "[1]", "not valid JSON" },
		{ "{} x", "not valid JSON" },
	};
	struct fw_init_input in = { 0 };
	int32_t rc;
	void *st;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		in.config = bad[i].config;
		rc = -2;
		st = P.init(&in, &rc);
		assert_int_equal(rc, FW_FAILURE);
		/* the state carries the reason to plugin_get_last_error, then is destroyed */
		assert_non_null(st);
		if (!strstr(P.get_last_error(st), bad[i].says))
			fail_msg("config %s: error '%s' does not say '%s'", bad[i].config, P.get_last_error(st),
				 bad[i].says);
		P.destroy(st);
	}
}

/* Real Falco reads init_config from YAML and converts it to JSON itself, turning an empty
 * list into null: the shipped snippet, converted the same way, must initialise the plugin. */
static void test_shipped_falco_yaml_init_config_loads_as_falco_converts_it(void **ctx)
{
	static const char *const yamls[] = {
		VIGIL_SOURCE_DIR "/integrations/falco/falco.yaml",
		VIGIL_SOURCE_DIR "/tests/plugins/falco/empty_event_types.yaml",
	};
	struct fw_init_input in = { 0 };
	struct vigil_buf json = { 0 };
	int32_t rc;
	void *st;
	size_t i;

	for (i = 0; i < sizeof(yamls) / sizeof(yamls[0]); i++) {
		vigil_buf_reset(&json);
		assert_int_equal(falco_init_config_json(yamls[i], "vigil", &json), 0);
		assert_int_equal(vigil_buf_append(&json, "", 1), 0);
		in.config = json.data;
		rc = -2;
		st = P.init(&in, &rc);
		if (rc != FW_SUCCESS)
			fail_msg("%s as Falco converts it: %s: %s", yamls[i], json.data, P.get_last_error(st));
		P.destroy(st);
	}
	/* the second holds `event_types: []`, which Falco hands over as null */
	assert_non_null(strstr(json.data, "\"event_types\":null"));
	vigil_buf_free(&json);
}

static void test_open_fails_clearly_for_a_bus_url_nanomsg_cannot_use(void **ctx)
{
	struct fw *fw = *ctx;
	struct fw_init_input in = { .config = "" };
	int32_t rc = -2;

	fw->st = P.init(&in, &rc);
	assert_int_equal(rc, FW_SUCCESS);
	assert_null(P.open(fw->st, "bogus://nowhere", &rc));
	assert_int_equal(rc, FW_FAILURE);
	assert_non_null(strstr(P.get_last_error(fw->st), "cannot subscribe to the event bus 'bogus://nowhere'"));
	/* open params name the bus when given */
	fw->inst = P.open(fw->st, fw->url, &rc);
	assert_int_equal(rc, FW_SUCCESS);
	assert_non_null(strstr(P.get_last_error(fw->st), fw->url));
}

/* ---- next_batch ---- */

static void test_next_batch_times_out_as_configured_without_spinning(void **ctx)
{
	struct fw *fw = *ctx;
	struct fw_event **evts;
	double t0, c0, t;
	uint32_t n = 7;
	int i;

	start(fw, "\"timeout_ms\":100");	/* the later key wins: 100 ms */
	t0 = now_s();
	c0 = cpu_s();
	for (i = 0; i < 5; i++) {
		t = now_s();
		assert_int_equal(P.next_batch(fw->st, fw->inst, &n, &evts), FW_TIMEOUT);
		assert_int_equal(n, 0);
		t = now_s() - t;
		if (t < 0.09 || t > 0.5)
			fail_msg("timeout took %.3f s, configured 0.100 s", t);
	}
	/* waiting in poll, not spinning: the CPU stays idle */
	if (cpu_s() - c0 > 0.2 * (now_s() - t0))
		fail_msg("%.3f s of CPU in %.3f s of timeouts", cpu_s() - c0, now_s() - t0);
}

static void test_event_has_the_scap_plugin_event_layout(void **ctx)
{
	struct fw *fw = *ctx;
	const struct fw_event *e;
	const uint8_t *p;
	uint32_t len0, len1, id;
	char copy[4096];
	size_t sent;

	start(fw, NULL);
	agent_up(fw);
	assert_int_equal(tev_exec(&fw->ev, 4242, "/usr/bin/cat", "/etc/hostname"), 0);
	sent = fw->ev.len;
	assert_true(sent < sizeof(copy));
	memcpy(copy, fw->ev.data, sent);
	publish(fw);
	e = recv_one(fw);
	p = (const uint8_t *)e;
	memcpy(&len0, p + 26, 4);
	memcpy(&len1, p + 30, 4);
	memcpy(&id, p + 34, 4);
	assert_int_equal(e->type, 322);		/* PPME_PLUGINEVENT_E */
	assert_int_equal(e->nparams, 2);
	assert_true(e->tid == UINT64_MAX);
	assert_true(e->ts == TEV_TIME_NS);	/* the event's own time, not the read time */
	assert_int_equal(len0, 4);
	assert_int_equal(len1, sent);
	assert_int_equal(e->len, 26 + 8 + 4 + sent);
	assert_int_equal(id, P.get_id());	/* libscap refuses any other non-zero ID */
	assert_memory_equal(p + 38, copy, sent);	/* the msgpack event as the bus carried it */
}

/* ---- extraction ---- */

static void test_extracts_typed_fields_of_an_exec(void **ctx)
{
	struct fw *fw = *ctx;
	const struct fw_event *e;

	start(fw, NULL);
	agent_up(fw);
	assert_int_equal(tev_exec(&fw->ev, 4242, "/usr/bin/cat", "/etc/hostname \"a b\""), 0);
	publish(fw);
	e = recv_one(fw);
	assert_str_field(fw, e, "vigil.event_type", "process_exec");
	assert_str_field(fw, e, "vigil.node_name", TEV_NODE);
	assert_u64_field(fw, e, "vigil.process.pid", 4242);
	assert_u64_field(fw, e, "vigil.process.tid", 4242);
	assert_u64_field(fw, e, "vigil.process.uid", 1000);
	assert_u64_field(fw, e, "vigil.process.auid", 4294967295u);
	assert_str_field(fw, e, "vigil.process.binary", "/usr/bin/cat");
	assert_str_field(fw, e, "vigil.process.arguments", "/etc/hostname \"a b\"");
	assert_str_field(fw, e, "vigil.process.cwd", "/tmp");
	assert_str_field(fw, e, "vigil.process.exec_id", "ZmFsY28tdGVzdDo4242");
	assert_u64_field(fw, e, "vigil.process.start_time", TEV_START_NS);
	assert_str_field(fw, e, "vigil.process.flags", "execve clone");
	assert_u64_field(fw, e, "vigil.parent.pid", 5242);
	assert_str_field(fw, e, "vigil.parent.binary", "/usr/bin/bash");
	assert_str_field(fw, e, "vigil.parent.exec_id", "ZmFsY28tdGVzdDo5242");
	/* bash ran without arguments: protojson leaves the key out */
	assert_absent(fw, e, "vigil.parent.arguments");
	assert_absent(fw, e, "vigil.exit.status");
	assert_absent(fw, e, "vigil.tags");
	assert_absent(fw, e, "vigil.arg.path");
	assert_absent(fw, e, "vigil.policy");
}

static void test_extracts_kprobe_args_lists_and_typed_addresses(void **ctx)
{
	struct fw *fw = *ctx;
	const struct fw_event *e;
	struct fw_extract_field f;
	static const uint8_t addr[4] = { 10, 1, 2, 3 };

	start(fw, NULL);
	agent_up(fw);
	assert_int_equal(tev_kprobe(&fw->ev, 77, "/usr/bin/cat", "/etc/shadow", "10.1.2.3", 443), 0);
	publish(fw);
	e = recv_one(fw);
	assert_str_field(fw, e, "vigil.event_type", "process_kprobe");
	assert_str_field(fw, e, "vigil.policy", "sensitive-files");
	assert_str_field(fw, e, "vigil.action", "KPROBE_ACTION_POST");
	assert_str_field(fw, e, "vigil.function", "security_file_permission");
	assert_str_field(fw, e, "vigil.message", "sensitive file read");
	assert_str_field(fw, e, "vigil.arg.path", "/etc/shadow");
	assert_u64_field(fw, e, "vigil.arg.dport", 443);
	assert_u64_field(fw, e, "vigil.process.pid", 77);

	f = extract(fw, e, "vigil.tags");
	assert_int_equal(f.res_len, 2);
	assert_string_equal(f.res.str[0], "filesystem");
	assert_string_equal(f.res.str[1], "mitre_credential_access");

	f = extract(fw, e, "vigil.arg.daddr");
	assert_int_equal(f.res_len, 1);
	assert_int_equal(f.res.buf[0].len, 4);
	assert_memory_equal(f.res.buf[0].ptr, addr, 4);	/* network order, as inet_pton writes */

	f = extract_arg(fw, e, "vigil.args", true, 0);
	assert_int_equal(f.res_len, 1);
	assert_string_equal(f.res.str[0], "{\"path\":\"/etc/shadow\",\"permission\":\"-rw-r-----\"}");
	f = extract_arg(fw, e, "vigil.args", true, 2);
	assert_string_equal(f.res.str[0], "-5");
	f = extract_arg(fw, e, "vigil.args", true, 3);
	assert_string_equal(f.res.str[0], "hello");
	f = extract_arg(fw, e, "vigil.args", true, 4);
	assert_int_equal(f.res_len, 0);
}

static void test_extracts_exit_status_and_signal(void **ctx)
{
	struct fw *fw = *ctx;
	const struct fw_event *e;

	start(fw, NULL);
	agent_up(fw);
	assert_int_equal(tev_exit(&fw->ev, 300, "/usr/bin/false", 3, 0), 0);
	publish(fw);
	e = recv_one(fw);
	assert_str_field(fw, e, "vigil.event_type", "process_exit");
	assert_u64_field(fw, e, "vigil.exit.status", 3);
	assert_absent(fw, e, "vigil.exit.signal");

	assert_int_equal(tev_exit(&fw->ev, 301, "/usr/bin/sleep", 0, 9), 0);
	publish(fw);
	e = recv_one(fw);
	assert_str_field(fw, e, "vigil.exit.signal", "SIGKILL");
	/* Tetragon leaves a zero status out; an exit event still has one */
	assert_u64_field(fw, e, "vigil.exit.status", 0);
}

static void test_extracts_alert_rule_and_priority(void **ctx)
{
	struct fw *fw = *ctx;
	const struct fw_event *e;

	start(fw, NULL);
	agent_up(fw);
	assert_int_equal(tev_alert(&fw->ev, 55, "cryptominer", "CRITICAL"), 0);
	publish(fw);
	e = recv_one(fw);
	assert_str_field(fw, e, "vigil.event_type", "process_alert");
	assert_str_field(fw, e, "vigil.alert.rule", "cryptominer");
	assert_str_field(fw, e, "vigil.alert.priority", "CRITICAL");
	assert_str_field(fw, e, "vigil.message", "cryptominer started");
	assert_str_field(fw, e, "vigil.process.binary", "/usr/bin/xmrig");
}

/* Falco may ask for several fields at once; all results must stay valid together. */
static void test_extracts_several_fields_in_one_call(void **ctx)
{
	struct fw *fw = *ctx;
	const struct fw_event *e;
	static const char *const names[] = { "vigil.process.binary", "vigil.tags", "vigil.process.pid",
					     "vigil.arg.path", "vigil.arg.daddr" };
	struct fw_extract_field f[5];
	struct fw_extract_input in = { .num_fields = 5, .fields = f };
	struct fw_event_input ei;
	size_t i;

	start(fw, NULL);
	agent_up(fw);
	assert_int_equal(tev_kprobe(&fw->ev, 78, "/usr/bin/curl", "/etc/passwd", "192.168.7.9", 80), 0);
	publish(fw);
	e = recv_one(fw);
	ei = (struct fw_event_input){ .evt = e, .evtnum = fw->evtnum, .evtsrc = "vigil" };
	for (i = 0; i < 5; i++) {
		f[i] = (struct fw_extract_field){ .field = names[i], .field_id = (uint32_t)field_id(names[i]) };
		f[i].ftype = fields[f[i].field_id].ftype;
		f[i].flist = fields[f[i].field_id].list;
	}
	assert_int_equal(P.extract_fields(fw->st, &ei, &in), FW_SUCCESS);
	assert_string_equal(f[0].res.str[0], "/usr/bin/curl");
	assert_int_equal(f[1].res_len, 2);
	assert_string_equal(f[1].res.str[1], "mitre_credential_access");
	assert_true(f[2].res.u64[0] == 78);
	assert_string_equal(f[3].res.str[0], "/etc/passwd");
	assert_int_equal(f[4].res.buf[0].len, 4);
	assert_int_equal(((const uint8_t *)f[4].res.buf[0].ptr)[0], 192);
}

/* Each field is computed once per event and served again to the next rule that asks: an
 * index is part of what is remembered (args[0] and args[1] in one call, then again), and
 * the next event never sees the previous one's values. */
static void test_repeated_fields_are_the_events_own(void **ctx)
{
	struct fw *fw = *ctx;
	const struct fw_event *e[2];
	struct fw_extract_field f[5];
	struct fw_extract_input in = { .num_fields = 5, .fields = f };
	struct fw_event_input ei;
	static const char *const args0[2] = { "{\"path\":\"/etc/shadow\",\"permission\":\"-rw-r-----\"}",
					      "{\"path\":\"/etc/hosts\",\"permission\":\"-rw-r-----\"}" };
	static const char *const bins[2] = { "/usr/bin/cat", "/usr/bin/vi" };
	uint32_t n;
	struct fw_event **evts;
	int i, pass, got = 0;

	start(fw, NULL);
	agent_up(fw);
	assert_int_equal(tev_kprobe(&fw->ev, 80, bins[0], "/etc/shadow", "10.0.0.1", 22), 0);
	publish(fw);
	assert_int_equal(tev_kprobe(&fw->ev, 81, bins[1], "/etc/hosts", "10.0.0.2", 23), 0);
	publish(fw);
	for (i = 0; i < 100 && got < 2; i++)
		if (P.next_batch(fw->st, fw->inst, &n, &evts) == FW_SUCCESS)
			while (n-- && got < 2)
				e[got++] = *evts++;
	assert_int_equal(got, 2);
	for (i = 0; i < 2; i++) {
		ei = (struct fw_event_input){ .evt = e[i], .evtnum = 1000 + (uint64_t)i, .evtsrc = "vigil" };
		for (pass = 0; pass < 3; pass++) {
			f[0] = (struct fw_extract_field){ .field_id = (uint32_t)field_id("vigil.args"), .arg_present = true };
			f[1] = f[0];
			f[1].arg_index = 1;
			f[2] = (struct fw_extract_field){ .field_id = (uint32_t)field_id("vigil.process.binary") };
			f[3] = f[2];
			f[4] = (struct fw_extract_field){ .field_id = (uint32_t)field_id("vigil.process.pid") };
			assert_int_equal(P.extract_fields(fw->st, &ei, &in), FW_SUCCESS);
			assert_int_equal(f[0].res_len, 1);
			assert_string_equal(f[0].res.str[0], args0[i]);
			assert_int_equal(f[1].res_len, 1);
			assert_non_null(strstr(f[1].res.str[0], i ? "10.0.0.2" : "10.0.0.1"));
			assert_string_equal(f[2].res.str[0], bins[i]);
			assert_string_equal(f[3].res.str[0], bins[i]);
			assert_true(f[4].res.u64[0] == 80u + (unsigned int)i);
		}
	}
}

/* A framework that copied the event (or replays a capture file) gets the same fields. */
static void test_extracts_from_a_copied_event(void **ctx)
{
	struct fw *fw = *ctx;
	const struct fw_event *e;
	struct fw_event *copy;
	uint32_t n;

	start(fw, NULL);
	agent_up(fw);
	assert_int_equal(tev_exec(&fw->ev, 4343, "/usr/bin/id", "-u"), 0);
	publish(fw);
	e = recv_one(fw);
	copy = malloc(e->len);
	assert_non_null(copy);
	memcpy(copy, e, e->len);
	/* the next batch releases the plugin's buffers: only the copy is left */
	assert_int_equal(P.next_batch(fw->st, fw->inst, &n, &(struct fw_event **){ NULL }), FW_TIMEOUT);
	fw->evtnum++;
	assert_str_field(fw, copy, "vigil.process.binary", "/usr/bin/id");
	assert_u64_field(fw, copy, "vigil.process.pid", 4343);
	free(copy);
}

static void test_event_to_string_is_the_compact_line(void **ctx)
{
	struct fw *fw = *ctx;
	const struct fw_event *e;
	struct fw_event_input ei;
	const char *line;

	start(fw, NULL);
	agent_up(fw);
	assert_int_equal(tev_exec(&fw->ev, 4242, "/usr/bin/cat", "/etc/hostname"), 0);
	publish(fw);
	e = recv_one(fw);
	ei = (struct fw_event_input){ .evt = e, .evtnum = fw->evtnum, .evtsrc = "vigil" };
	line = P.event_to_string(fw->st, &ei);
	assert_non_null(line);
	assert_string_equal(line, "🚀 process " TEV_NODE " /usr/bin/cat /etc/hostname");
}

/* ---- robustness ---- */

static void test_malformed_messages_are_counted_and_skipped(void **ctx)
{
	struct fw *fw = *ctx;
	static const char garbage[] = "\xc1not msgpack";
	static const char truncated[] = "\x82\xacprocess_exec";
	/* a str8 key inside the process map, then the root map ends too early: the key's own
	 * header must not be taken for the map's count (the walk once did, and accepted it) */
	static const char str8_key[] = "\x83\xacprocess_exec\x81\xa7process\x82\xd9\x03pid\x01\xa3uid\x02"
				       "\xa4time\xa1t";
	const struct fw_event *e;
	struct fw_event *bad;
	uint32_t len;

	start(fw, NULL);
	agent_up(fw);
	assert_int_equal(vigil_pub__send(fw->pub, garbage, sizeof(garbage) - 1), 0);
	assert_int_equal(vigil_pub__send(fw->pub, truncated, sizeof(truncated) - 1), 0);
	assert_int_equal(vigil_pub__send(fw->pub, str8_key, sizeof(str8_key) - 1), 0);
	assert_int_equal(tev_exec(&fw->ev, 9001, "/usr/bin/true", ""), 0);
	publish(fw);
	e = recv_one(fw);
	assert_str_field(fw, e, "vigil.process.binary", "/usr/bin/true");
	assert_non_null(strstr(P.get_last_error(fw->st), "3 malformed messages skipped"));

	/* extraction on bytes that are not an event: no fields, a reason, no crash */
	bad = calloc(1, 38 + 4);
	assert_non_null(bad);
	*bad = (struct fw_event){ .ts = 1, .tid = UINT64_MAX, .len = 42, .type = 322, .nparams = 2 };
	len = 4;
	memcpy((uint8_t *)bad + 26, &(uint32_t){ 4 }, 4);
	memcpy((uint8_t *)bad + 30, &len, 4);
	memcpy((uint8_t *)bad + 38, "\xc1\xc1\xc1\xc1", 4);
	fw->evtnum++;
	assert_absent(fw, bad, "vigil.process.binary");
	assert_non_null(strstr(P.get_last_error(fw->st), "not a vigil event"));
	assert_non_null(payload(bad, &len));
	free(bad);
}

static void test_event_types_config_selects_events(void **ctx)
{
	struct fw *fw = *ctx;
	const struct fw_event *e;

	start(fw, "\"event_types\":[\"exec\",\"PROCESS_ALERT\"]");
	agent_up(fw);
	assert_int_equal(tev_kprobe(&fw->ev, 1, "/usr/bin/cat", "/etc/shadow", "10.0.0.1", 1), 0);
	publish(fw);
	assert_int_equal(tev_exit(&fw->ev, 2, "/usr/bin/cat", 0, 0), 0);
	publish(fw);
	assert_int_equal(tev_alert(&fw->ev, 3, "r", "WARNING"), 0);
	publish(fw);
	e = recv_one(fw);
	assert_str_field(fw, e, "vigil.event_type", "process_alert");
	assert_non_null(strstr(P.get_last_error(fw->st), "2 events filtered out"));
}

static void test_batch_size_caps_the_events_per_call(void **ctx)
{
	struct fw *fw = *ctx;
	struct fw_event **evts;
	uint32_t n, got = 0, calls = 0, i;
	double deadline;

	start(fw, "\"batch_size\":2");
	agent_up(fw);
	for (i = 0; i < 5; i++) {
		assert_int_equal(tev_exec(&fw->ev, 100 + i, "/usr/bin/true", ""), 0);
		publish(fw);
	}
	deadline = now_s() + 5;
	while (got < 5 && now_s() < deadline) {
		if (P.next_batch(fw->st, fw->inst, &n, &evts) != FW_SUCCESS)
			continue;
		assert_true(n >= 1 && n <= 2);
		for (i = 0; i < n; i++) {
			fw->evtnum++;
			assert_u64_field(fw, evts[i], "vigil.process.pid", 100 + got + i);
		}
		got += n;
		calls++;
	}
	assert_int_equal(got, 5);
	assert_true(calls >= 3);
}

static void test_recovers_when_the_agent_comes_back(void **ctx)
{
	struct fw *fw = *ctx;
	const struct fw_event *e;
	struct fw_event **evts;
	uint32_t n;

	start(fw, NULL);
	agent_up(fw);
	/* the agent goes away: quiet timeouts, no failure */
	vigil_pub__close(fw->pub);
	fw->pub = NULL;
	assert_int_equal(P.next_batch(fw->st, fw->inst, &n, &evts), FW_TIMEOUT);
	assert_int_equal(P.next_batch(fw->st, fw->inst, &n, &evts), FW_TIMEOUT);
	/* and comes back on the same address: nanomsg reconnects by itself */
	agent_up(fw);
	assert_int_equal(tev_exec(&fw->ev, 6006, "/usr/bin/true", "back"), 0);
	publish(fw);
	e = recv_one(fw);
	assert_str_field(fw, e, "vigil.process.arguments", "back");
}

static void test_unknown_field_id_fails_with_a_message(void **ctx)
{
	struct fw *fw = *ctx;
	const struct fw_event *e;
	struct fw_extract_field f = { .field = "vigil.nope", .field_id = 1000, .ftype = FW_STRING };
	struct fw_extract_input in = { .num_fields = 1, .fields = &f };
	struct fw_event_input ei;

	start(fw, NULL);
	agent_up(fw);
	assert_int_equal(tev_exec(&fw->ev, 1, "/usr/bin/true", ""), 0);
	publish(fw);
	e = recv_one(fw);
	ei = (struct fw_event_input){ .evt = e, .evtnum = fw->evtnum, .evtsrc = "vigil" };
	assert_int_equal(P.extract_fields(fw->st, &ei, &in), FW_FAILURE);
	assert_non_null(strstr(P.get_last_error(fw->st), "no field with id 1000"));
}

/* ---- delivery: the stamps' gaps in Falco's metrics and log ---- */

static char logged[512];
static int nlogged, logged_sev;

static void fw_log(void *owner, const char *component, const char *msg, int sev)
{
	snprintf(logged, sizeof(logged), "%s: %s", component, msg);
	logged_sev = sev;
	nlogged++;
}

static uint64_t metric(struct fw *fw, const char *name, uint32_t *type)
{
	uint32_t n = 0, i;
	struct fw_metric *m = P.get_metrics(fw->st, &n);

	assert_non_null(m);
	for (i = 0; i < n; i++)
		if (!strcmp(m[i].name, name)) {
			assert_int_equal(m[i].value_type, 2);
			if (type)
				*type = m[i].type;
			return m[i].value.u64;
		}
	fail_msg("no metric %s", name);
	return 0;
}

static void publish_stamped(struct fw *fw, uint64_t seq)
{
	assert_int_equal(tev_exec(&fw->ev, 1, "/stamped", ""), 0);
	assert_int_equal(vigil_bus_stamp(&fw->ev, 0xabcdef, seq), 0);
	publish(fw);
}

static void test_bus_gaps_show_in_get_metrics_and_the_log(void **ctx)
{
	struct fw *fw = *ctx;
	char config[256];
	struct fw_init_input in = { .config = config, .owner = fw, .log_fn = fw_log };
	struct fw_event **evts;
	uint32_t type = 9, n, got;
	int32_t rc = -2;
	int i;

	nlogged = 0;
	snprintf(config, sizeof(config), "{\"bus\":\"%s\",\"timeout_ms\":50}", fw->url);
	fw->st = P.init(&in, &rc);
	assert_int_equal(rc, FW_SUCCESS);
	fw->inst = P.open(fw->st, "", &rc);
	assert_int_equal(rc, FW_SUCCESS);
	agent_up(fw);
	assert_int_equal(metric(fw, "events_missed", &type), 0);
	assert_int_equal(type, 0);		/* monotonic */

	/* seq 1, 2, then 10: 3..9 never came */
	publish_stamped(fw, 1);
	publish_stamped(fw, 2);
	publish_stamped(fw, 10);
	for (i = 0, got = 0; i < 100 && got < 3; i++)
		if (P.next_batch(fw->st, fw->inst, &n, &evts) == FW_SUCCESS)
			got += n;
	assert_int_equal(got, 3);
	assert_int_equal(metric(fw, "events_missed", NULL), 7);
	assert_int_equal(metric(fw, "bus_gaps", NULL), 1);
	assert_int_equal(metric(fw, "last_seq", &type), 10);
	assert_int_equal(type, 1);		/* a gauge */
	assert_int_equal(metric(fw, "agent_restarts", NULL), 0);
	assert_int_equal(nlogged, 1);
	assert_int_equal(logged_sev, 4);	/* warning */
	assert_non_null(strstr(logged, "vigil: missed 7 events (seq 3..9 of agent incarnation 0000000000abcdef)"));
	assert_non_null(strstr(P.get_last_error(fw->st), "7 events missed (bus gaps)"));
}

/* The plugin reads the stamp from its own walk of each event (no second walk in the bus):
 * a message it refuses as an event but that is well-formed msgpack still counts as
 * arrived (the bus reads its stamp itself), and one that is not msgpack at all has no
 * stamp, so the seqs after it say what never came. */
static void test_stamps_of_messages_the_plugin_refuses(void **ctx)
{
	struct fw *fw = *ctx;
	char config[256];
	struct fw_init_input in = { .config = config };
	struct fw_event **evts;
	uint32_t n, got;
	int32_t rc = -2;
	int i;

	snprintf(config, sizeof(config), "{\"bus\":\"%s\",\"timeout_ms\":50}", fw->url);
	fw->st = P.init(&in, &rc);
	assert_int_equal(rc, FW_SUCCESS);
	fw->inst = P.open(fw->st, "", &rc);
	assert_int_equal(rc, FW_SUCCESS);
	agent_up(fw);
	publish_stamped(fw, 1);
	/* {1: {}} + the stamp: msgpack, but the root's first key does not name an event */
	assert_int_equal(vigil_buf_append(&fw->ev, "\x81\x01\x80", 3), 0);
	assert_int_equal(vigil_bus_stamp(&fw->ev, 0xabcdef, 2), 0);
	publish(fw);
	publish_stamped(fw, 3);
	/* seq 5 on bytes cut short: nothing says it was 5 */
	assert_int_equal(tev_exec(&fw->ev, 1, "/stamped", ""), 0);
	assert_int_equal(vigil_bus_stamp(&fw->ev, 0xabcdef, 5), 0);
	fw->ev.len -= 3;
	publish(fw);
	publish_stamped(fw, 6);
	for (i = 0, got = 0; i < 100 && got < 3; i++)
		if (P.next_batch(fw->st, fw->inst, &n, &evts) == FW_SUCCESS)
			got += n;
	assert_int_equal(got, 3);
	assert_int_equal(metric(fw, "messages_malformed", NULL), 2);
	assert_int_equal(metric(fw, "events_missed", NULL), 2);	/* 4 and 5 */
	assert_int_equal(metric(fw, "bus_gaps", NULL), 1);
	assert_int_equal(metric(fw, "last_seq", NULL), 6);
}

static void test_last_error_without_a_state_still_explains(void **ctx)
{
	const char *e = P.get_last_error(NULL);

	assert_non_null(e);
	assert_true(strlen(e) > 10);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		T(test_exports_the_3x_sourcing_and_extraction_symbol_set),
		T(test_required_api_version_is_3_6_0_and_loads_from_3_6_on),
		T(test_bus_gaps_show_in_get_metrics_and_the_log),
		T(test_stamps_of_messages_the_plugin_refuses),
		T(test_repeated_fields_are_the_events_own),
		T(test_identity_is_the_vigil_source_with_a_private_block_id),
		T(test_init_schema_is_a_json_schema_of_the_four_options),
		T(test_fields_json_declares_the_typed_fields_rules_need),
		T(test_init_without_config_takes_the_defaults),
		T(test_init_rejects_bad_config_saying_what_is_wrong),
		T(test_shipped_falco_yaml_init_config_loads_as_falco_converts_it),
		T(test_open_fails_clearly_for_a_bus_url_nanomsg_cannot_use),
		T(test_next_batch_times_out_as_configured_without_spinning),
		T(test_event_has_the_scap_plugin_event_layout),
		T(test_extracts_typed_fields_of_an_exec),
		T(test_extracts_kprobe_args_lists_and_typed_addresses),
		T(test_extracts_exit_status_and_signal),
		T(test_extracts_alert_rule_and_priority),
		T(test_extracts_several_fields_in_one_call),
		T(test_extracts_from_a_copied_event),
		T(test_event_to_string_is_the_compact_line),
		T(test_malformed_messages_are_counted_and_skipped),
		T(test_event_types_config_selects_events),
		T(test_batch_size_caps_the_events_per_call),
		T(test_recovers_when_the_agent_comes_back),
		T(test_unknown_field_id_fails_with_a_message),
		T(test_last_error_without_a_state_still_explains),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s <libvigil_falco.so>\n", argv[0]);
		return 2;
	}
	plugin_path = argv[1];
	vigil_set_print(NULL);	/* libvigil's warnings about bad URLs are expected here */
	return cmocka_run_group_tests(tests, load_plugin, unload_plugin);
}
