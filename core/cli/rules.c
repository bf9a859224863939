/* rules.c - `vigil rules list [-o text|json]` and `vigil rules reload`, over the agent's
 * control socket: the Lua rules (core/luahost), their state and counters. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <msgpack.h>
#include <stdio.h>
#include <string.h>

#include "bus/bus.h"
#include "cli.h"
#include "encode/encode.h"

struct rules_opts {
	const char *control;
	bool json;
};

static const msgpack_object *get(const msgpack_object *map, const char *key)
{
	uint32_t i;

	if (!map || map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (i = 0; i < map->via.map.size; i++) {
		const msgpack_object_kv *kv = &map->via.map.ptr[i];

		if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == strlen(key) &&
		    !memcmp(kv->key.via.str.ptr, key, kv->key.via.str.size))
			return &kv->val;
	}
	return NULL;
}

static const char *str(const msgpack_object *o, char *buf, size_t size)
{
	size_t n = 0;

	if (o && o->type == MSGPACK_OBJECT_STR) {
		n = o->via.str.size < size ? o->via.str.size : size - 1;
		memcpy(buf, o->via.str.ptr, n);
	}
	buf[n] = '\0';
	return buf;
}

static uint64_t num(const msgpack_object *o)
{
	return o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? o->via.u64 : 0;
}

/* NAME STATE PRIORITY CALLS ALERTS ACTIONS ERRORS TIME MEMORY, then the reason under a rule
 * that is not running */
static void print_list(const msgpack_object *rules)
{
	char name[128], state[16], prio[16], reason[1024];
	const msgpack_object *r;
	uint32_t i;

	if (!rules || rules->type != MSGPACK_OBJECT_ARRAY || !rules->via.array.size) {
		printf("no rules loaded\n");
		return;
	}
	printf("%-28s %-9s %-13s %10s %8s %8s %7s %10s %9s %8s\n", "NAME", "STATE", "PRIORITY", "CALLS", "ALERTS",
	       "ACTIONS", "ERRORS", "TIME(ms)", "MEM(KiB)", "DROPPED");
	for (i = 0; i < rules->via.array.size; i++) {
		r = &rules->via.array.ptr[i];
		printf("%-28s %-9s %-13s %10" PRIu64 " %8" PRIu64 " %8" PRIu64 " %7" PRIu64 " %10.1f %9" PRIu64
		       " %8" PRIu64 "\n",
		       str(get(r, "name"), name, sizeof(name)), str(get(r, "state"), state, sizeof(state)),
		       str(get(r, "priority"), prio, sizeof(prio)), num(get(r, "calls")), num(get(r, "alerts")),
		       num(get(r, "actions")), num(get(r, "errors")), (double)num(get(r, "time_ns")) / 1e6,
		       num(get(r, "memory")) / 1024, num(get(r, "dropped")));
		if (get(r, "reason"))
			printf("    %s\n", str(get(r, "reason"), reason, sizeof(reason)));
	}
}

/* "loaded  x.lua (rule-name)" per file; the refused ones with their file:line: reason */
static int print_reload(const msgpack_object *reply)
{
	const msgpack_object *files = get(reply, "files"), *f;
	char file[512], rule[128], outcome[16], error[1024];
	uint32_t i;

	for (i = 0; files && files->type == MSGPACK_OBJECT_ARRAY && i < files->via.array.size; i++) {
		f = &files->via.array.ptr[i];
		str(get(f, "outcome"), outcome, sizeof(outcome));
		if (get(f, "error")) {
			fprintf(stderr, "refused   %s\n", str(get(f, "error"), error, sizeof(error)));
			continue;
		}
		printf("%-9s %s (%s)\n", outcome, str(get(f, "file"), file, sizeof(file)), str(get(f, "rule"), rule, sizeof(rule)));
	}
	return num(get(reply, "refused")) ? 1 : 0;
}

static int request(const struct rules_opts *o, const char *cmd, bool list)
{
	struct vigil_buf json = { 0 };
	struct cli_reply reply;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int err, rc = 1;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	msgpack_pack_str_with_body(&pk, "cmd", 3);
	msgpack_pack_str_with_body(&pk, cmd, strlen(cmd));
	err = cli_request("rules", o->control, sb.data, sb.size, 30000, &reply);
	msgpack_sbuffer_destroy(&sb);
	if (err)
		goto out;
	if (o->json) {
		if (!vigil_json_from_msgpack(list ? get(reply.root, "rules") : reply.root, &json))
			printf("%s\n", json.data);
		rc = list ? 0 : num(get(reply.root, "refused")) ? 1 : 0;
	} else if (list) {
		print_list(get(reply.root, "rules"));
		rc = 0;
	} else {
		rc = print_reload(reply.root);
	}
out:
	cli_reply_free(&reply);
	vigil_buf_free(&json);
	return rc;
}

static const struct {
	const char *name;
	const char *cmd;	/* control command */
	bool list;
} subcommands[] = {
	{ "list", "rules_list", true },
	{ "reload", "rules_reload", false },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: vigil rules list [-o text|json]     each rule, its state and counters\n"
		   "       vigil rules reload [-o text|json]   read the rules directory again (exit 1 if a file\n"
		   "                                           is refused; its previous version keeps running)\n"
		   "options: --control URL (default %s)\n",
		VIGIL_BUS_DEFAULT_CONTROL);
}

int cmd_rules(int argc, char **argv)
{
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "control", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rules_opts o = { .control = VIGIL_BUS_DEFAULT_CONTROL };
	const char *sub;
	size_t i;
	int c;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	sub = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "o:c:h", options, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (strcmp(optarg, "json") && strcmp(optarg, "text"))
				return cli_bad_value("rules", "output", optarg);
			o.json = !strcmp(optarg, "json");
			break;
		case 'c': o.control = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vigil rules: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	for (i = 0; i < VIGIL_ARRAY_SIZE(subcommands); i++)
		if (!strcmp(sub, subcommands[i].name))
			return request(&o, subcommands[i].cmd, subcommands[i].list);
	fprintf(stderr, "vigil rules: unknown subcommand '%s'\n", sub);
	usage(stderr);
	return 2;
}
