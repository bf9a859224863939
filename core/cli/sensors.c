/* sensors.c - `vigil sensors list`, as tetra's: Tetragon's sensors are the base sensor
 * (exec, fork, exit) and, per policy, one sensor per kind of hook it has (generic_kprobe,
 * generic_tracepoint, generic_lsm, generic_uprobe), its collection being the policy. vigil
 * has the same split: the process programs, and each policy's hooks by kind. The list is
 * built from the agent's policy_list reply. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus.h"
#include "cli.h"
#include "encode/encode.h"

#define HOOK_KINDS 4

static const char *const kinds[HOOK_KINDS] = {"kprobe", "tracepoint", "lsm", "uprobe"};

/* which kinds of hook a policy has: its hooks' descriptions start with the kind */
static unsigned int policy_kinds(const msgpack_object *hooks)
{
	unsigned int mask = 0, k;
	uint32_t i;

	for (i = 0; hooks && hooks->type == MSGPACK_OBJECT_ARRAY && i < hooks->via.array.size; i++) {
		const msgpack_object *h = vigil_msgpack_get(&hooks->via.array.ptr[i], "hook");

		for (k = 0; h && h->type == MSGPACK_OBJECT_STR && k < HOOK_KINDS; k++) {
			size_t n = strlen(kinds[k]);

			if (h->via.str.size > n && !memcmp(h->via.str.ptr, kinds[k], n) && h->via.str.ptr[n] == ' ')
				mask |= 1u << k;
		}
	}
	return mask;
}

/* SensorStatus {name, enabled, collection} for each sensor, into a JSON array */
static json_t *sensor_list(const msgpack_object *policies)
{
	json_t *a = json_array();
	char name[40];
	uint32_t i;
	unsigned int k, mask;

	json_array_append_new(a, json_pack("{s:s, s:b, s:s}", "name", "__base__", "enabled", 1, "collection", "base"));
	for (i = 0; policies && policies->type == MSGPACK_OBJECT_ARRAY && i < policies->via.array.size; i++) {
		const msgpack_object *p = &policies->via.array.ptr[i], *pname = vigil_msgpack_get(p, "name");
		const msgpack_object *state = vigil_msgpack_get(p, "state");
		bool enabled = state && state->type == MSGPACK_OBJECT_STR && state->via.str.size == 7 &&
			       !memcmp(state->via.str.ptr, "enabled", 7);

		if (!pname || pname->type != MSGPACK_OBJECT_STR)
			continue;
		mask = policy_kinds(vigil_msgpack_get(p, "hooks"));
		for (k = 0; k < HOOK_KINDS; k++) {
			if (!(mask & (1u << k)))
				continue;
			snprintf(name, sizeof(name), "generic_%s", kinds[k]);
			json_array_append_new(a, json_pack("{s:s, s:b, s:s%}", "name", name, "enabled", enabled, "collection",
							   pname->via.str.ptr, (size_t)pname->via.str.size));
		}
	}
	return a;
}

static void print_text(json_t *list)
{
	size_t i;
	json_t *s;

	json_array_foreach(list, i, s) {
		printf("%s %s (%s)\n", json_string_value(json_object_get(s, "name")),
		       json_is_true(json_object_get(s, "enabled")) ? "enabled" : "disabled",
		       json_string_value(json_object_get(s, "collection")));
	}
}

static int list(const char *control, bool json)
{
	static const char request[] = "\x81\xa3" "cmd" "\xab" "policy_list";	/* {"cmd": "policy_list"} */
	struct cli_reply reply;
	json_t *sensors = NULL;
	char *text;
	int rc;

	rc = cli_request("sensors", control, request, sizeof(request) - 1, 10000, &reply);
	if (rc)
		goto out;
	sensors = sensor_list(vigil_msgpack_get(reply.root, "policies"));
	if (json) {
		/* ListSensorsResponse {sensors: [SensorStatus]} in protojson */
		json_t *resp = json_pack("{s:O}", "sensors", sensors);

		text = resp ? json_dumps(resp, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		if (text)
			printf("%s\n", text);
		free(text);
		json_decref(resp);
	} else {
		print_text(sensors);
	}
out:
	json_decref(sensors);
	cli_reply_free(&reply);
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: vigil sensors list [-o text|json] [--server-address URL]\n"
		   "  the base sensor (exec, fork, exit) and each policy's sensors by hook kind, as tetra's\n"
		   "  (enable, disable, rm: vigil enables and disables whole policies: vigil tracingpolicy)\n");
}

int cmd_sensors(int argc, char **argv)
{
	static const struct option options[] = {
		{"output", required_argument, NULL, 'o'},
		{"server-address", required_argument, NULL, 'c'},
		{"control", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *control = VIGIL_BUS_DEFAULT_CONTROL;
	bool json = false;
	int c;

	if (argc < 2 || strcmp(argv[1], "list")) {
		if (argc >= 2 && (!strcmp(argv[1], "enable") || !strcmp(argv[1], "disable") || !strcmp(argv[1], "rm")))
			fprintf(stderr, "vigil sensors %s: sensors belong to policies here: use vigil tracingpolicy "
					"enable|disable|delete POLICY\n", argv[1]);
		else
			usage(stderr);
		return 2;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "o:c:h", options, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (strcmp(optarg, "json") && strcmp(optarg, "text"))
				return cli_bad_value("sensors", "output", optarg);
			json = !strcmp(optarg, "json");
			break;
		case 'c': control = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return list(control, json);
}
