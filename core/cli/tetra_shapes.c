/* tetra_shapes.c - the agent's replies in the shapes tetra prints: `tracingpolicy list -o
 * json` as ListTracingPoliciesResponse (sensors.proto, protojson), `status` as tetra's
 * "Health Status" and GetHealthStatusResponse, `version` as "CLI version"/"Server version". */
#include <jansson.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "encode/encode.h"

static json_t *str_of(const msgpack_object *o)
{
	return o && o->type == MSGPACK_OBJECT_STR ? json_stringn(o->via.str.ptr, o->via.str.size) : json_string("");
}

static bool str_is(const msgpack_object *o, const char *s)
{
	return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) && !memcmp(o->via.str.ptr, s, o->via.str.size);
}

/* The policy section a vigil hook kind ("kprobe sys_connect via ...") comes from: tetra's
 * HookStatus.section names the spec's list (kprobes, tracepoints...), hook_idx the place in it. */
static const char *section_of(const msgpack_object *hook)
{
	static const struct {
		const char *kind, *section;
	} sections[] = {
		{"kprobe ", "kprobes"}, {"tracepoint ", "tracepoints"}, {"lsm ", "lsmhooks"},
		{"uprobe ", "uprobes"}, {"usdt ", "usdts"},
	};
	size_t i, n;

	for (i = 0; hook && hook->type == MSGPACK_OBJECT_STR && i < VIGIL_ARRAY_SIZE(sections); i++) {
		n = strlen(sections[i].kind);
		if (hook->via.str.size > n && !memcmp(hook->via.str.ptr, sections[i].kind, n))
			return sections[i].section;
	}
	return "";
}

/* HookStatus {section, state, hook_description, hook_idx}: the spec's section and the hook's
 * place in it; the description says the mechanism it got on this kernel. */
static json_t *hook_statuses(const msgpack_object *hooks)
{
	json_t *a = json_array();
	char desc[512];
	uint32_t i, j, idx;

	for (i = 0; a && hooks && hooks->type == MSGPACK_OBJECT_ARRAY && i < hooks->via.array.size; i++) {
		const msgpack_object *h = &hooks->via.array.ptr[i], *hook = vigil_msgpack_get(h, "hook");
		const msgpack_object *mech = vigil_msgpack_get(h, "mechanism"), *att = vigil_msgpack_get(h, "attached");
		bool attached = att && att->type == MSGPACK_OBJECT_BOOLEAN && att->via.boolean;
		const char *section = section_of(hook);

		for (j = 0, idx = 0; j < i; j++)
			idx += !strcmp(section_of(vigil_msgpack_get(&hooks->via.array.ptr[j], "hook")), section);
		snprintf(desc, sizeof(desc), "%.*s via %.*s%s", hook && hook->type == MSGPACK_OBJECT_STR ? (int)hook->via.str.size : 0,
			 hook ? hook->via.str.ptr : "", mech && mech->type == MSGPACK_OBJECT_STR ? (int)mech->via.str.size : 0,
			 mech ? mech->via.str.ptr : "", attached ? "" : " (detached)");
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:i}", "section", section,
						   "state", attached ? "STATUS_LOADED" : "STATUS_UNSPECIFIED",
						   "hook_description", desc, "hook_idx", (int)idx));
	}
	return a;
}

/* tetra's sensor names of a policy: generic_<kind> for each kind of hook it has, once (as
 * vigil sensors list names them) */
static json_t *sensors_of(const msgpack_object *hooks)
{
	json_t *a = json_array();
	char name[64];
	uint32_t i;
	size_t k, n;

	for (i = 0; hooks && hooks->type == MSGPACK_OBJECT_ARRAY && i < hooks->via.array.size; i++) {
		const msgpack_object *hook = vigil_msgpack_get(&hooks->via.array.ptr[i], "hook");
		const char *sp;

		if (!hook || hook->type != MSGPACK_OBJECT_STR)
			continue;
		sp = memchr(hook->via.str.ptr, ' ', hook->via.str.size);
		n = sp ? (size_t)(sp - hook->via.str.ptr) : hook->via.str.size;
		snprintf(name, sizeof(name), "generic_%.*s", (int)n, hook->via.str.ptr);
		for (k = 0; k < json_array_size(a); k++)
			if (!strcmp(json_string_value(json_array_get(a, k)), name))
				break;
		if (k == json_array_size(a))
			json_array_append_new(a, json_string(name));
	}
	return a;
}

const char *cli_tetra_probe_name(const char *mechanism)
{
	static const struct {
		const char *vigil, *tetra;
	} names[] = {
		{"fmod_ret", "fmodret"},
		{"bpf_send_signal", "signal"},
	};
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(names); i++)
		if (!strcmp(mechanism, names[i].vigil))
			return names[i].tetra;
	return NULL;
}

int cli_print_policies_tetra_json(const msgpack_object *policies)
{
	json_t *root = json_object(), *list = json_array();
	char id[24], *text;
	uint32_t i;

	for (i = 0; policies && policies->type == MSGPACK_OBJECT_ARRAY && i < policies->via.array.size; i++) {
		const msgpack_object *p = &policies->via.array.ptr[i], *state = vigil_msgpack_get(p, "state");
		const msgpack_object *mode = vigil_msgpack_get(p, "mode"), *file = vigil_msgpack_get(p, "file");
		bool enabled = str_is(state, "enabled");
		const msgpack_object *mem;
		char bytes[24];
		json_t *o;

		/* protojson: uint64 as a string, enums by name, defaults left out */
		snprintf(id, sizeof(id), "%u", i + 1);
		o = json_pack("{s:s, s:o}", "id", id, "name", str_of(vigil_msgpack_get(p, "name")));
		if (vigil_msgpack_get(p, "namespace"))
			json_object_set_new(o, "namespace", str_of(vigil_msgpack_get(p, "namespace")));
		if (file && file->type == MSGPACK_OBJECT_STR && file->via.str.size)
			json_object_set_new(o, "info", str_of(file));
		json_object_set_new(o, "sensors", sensors_of(vigil_msgpack_get(p, "hooks")));
		if (enabled)
			json_object_set_new(o, "enabled", json_true());
		json_object_set_new(o, "state", json_string(enabled ? "TP_STATE_ENABLED" : "TP_STATE_DISABLED"));
		mem = vigil_msgpack_get(p, "kernel_memory_bytes");
		if (mem && mem->type == MSGPACK_OBJECT_POSITIVE_INTEGER && mem->via.u64) {
			snprintf(bytes, sizeof(bytes), "%llu", (unsigned long long)mem->via.u64);
			json_object_set_new(o, "kernel_memory_bytes", json_string(bytes));
		}
		json_object_set_new(o, "mode", json_string(str_is(mode, "monitor") ? "TP_MODE_MONITOR" : "TP_MODE_ENFORCE"));
		json_object_set_new(o, "hook_statuses", hook_statuses(vigil_msgpack_get(p, "hooks")));
		json_array_append_new(list, o);
	}
	json_object_set_new(root, "policies", list);
	text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!text)
		return 1;
	printf("%s\n", text);
	free(text);
	return 0;
}
