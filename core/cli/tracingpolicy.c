/* tracingpolicy.c - `vigil tracingpolicy` (alias `tp`): add, list, delete, enable, disable,
 * set-mode, over the agent's control socket. The agent parses and validates; its errors
 * name the file, line and column. */
#include <errno.h>
#include <getopt.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus.h"
#include "cli.h"
#include "encode/encode.h"

#define POLICY_FILE_MAX (1 << 20)

struct tp_opts {
	const char *control;
	const char *mode;
	bool json;
};

static void pack_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* Send one request; print the error, or the list; returns the exit code. */
static int request(const struct tp_opts *o, msgpack_sbuffer *req, bool list)
{
	struct vigil_buf reply = {0}, json = {0};
	const msgpack_object *ok;
	msgpack_unpacked up;
	size_t off = 0;
	int err, rc = 1;

	err = vigil_ctl_request(o->control, req->data, req->size, &reply, 10000);
	if (err) {
		fprintf(stderr, "vigil tracingpolicy: no answer from the agent at %s: %s\n", o->control,
			err == -ETIMEDOUT ? "timed out (is vigild running?)" : strerror(-err));
		return 1;
	}
	msgpack_unpacked_init(&up);
	if (msgpack_unpack_next(&up, reply.data, reply.len, &off) != MSGPACK_UNPACK_SUCCESS) {
		fprintf(stderr, "vigil tracingpolicy: malformed reply\n");
		goto out;
	}
	ok = vigil_msgpack_get(&up.data, "ok");
	if (!ok || ok->type != MSGPACK_OBJECT_BOOLEAN || !ok->via.boolean) {
		const msgpack_object *e = vigil_msgpack_get(&up.data, "error");

		fprintf(stderr, "vigil tracingpolicy: ");
		if (e && e->type == MSGPACK_OBJECT_STR)
			fprintf(stderr, "%.*s\n", (int)e->via.str.size, e->via.str.ptr);
		else
			fprintf(stderr, "the agent refused the request\n");
		goto out;
	}
	if (list && o->json) {
		if (!vigil_json_from_msgpack(vigil_msgpack_get(&up.data, "policies"), &json))
			printf("%s\n", json.data);
	} else if (list) {
		cli_print_policies(vigil_msgpack_get(&up.data, "policies"));
	}
	rc = 0;
out:
	msgpack_unpacked_destroy(&up);
	vigil_buf_free(&reply);
	vigil_buf_free(&json);
	return rc;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf;

	if (!f)
		return NULL;
	buf = malloc(POLICY_FILE_MAX + 1);
	if (buf) {
		*len = fread(buf, 1, POLICY_FILE_MAX + 1, f);
		if (*len > POLICY_FILE_MAX) {
			free(buf);
			buf = NULL;
			errno = EFBIG;
		}
	}
	fclose(f);
	return buf;
}

static int tp_add(const struct tp_opts *o, int argc, char **argv, msgpack_packer *pk, msgpack_sbuffer *sb)
{
	size_t len = 0;
	char *yaml;
	int rc;

	if (argc != 1) {
		fprintf(stderr, "usage: vigil tracingpolicy add FILE [--mode enforce|monitor]\n");
		return 2;
	}
	yaml = read_file(argv[0], &len);
	if (!yaml) {
		fprintf(stderr, "vigil tracingpolicy: cannot read %s: %s\n", argv[0], strerror(errno));
		return 1;
	}
	msgpack_pack_map(pk, o->mode ? 4 : 3);
	pack_str(pk, "cmd");
	pack_str(pk, "policy_add");
	pack_str(pk, "file");
	pack_str(pk, argv[0]);
	pack_str(pk, "yaml");
	msgpack_pack_str_with_body(pk, yaml, len);
	if (o->mode) {
		pack_str(pk, "mode");
		pack_str(pk, o->mode);
	}
	free(yaml);
	rc = request(o, sb, false);
	if (!rc)
		printf("policy from %s added\n", argv[0]);
	return rc;
}

static int tp_named(const struct tp_opts *o, const char *cmd, int argc, char **argv, msgpack_packer *pk,
		    msgpack_sbuffer *sb)
{
	bool set_mode = !strcmp(cmd, "policy_set_mode");

	if (argc != (set_mode ? 2 : 1)) {
		fprintf(stderr, "usage: vigil tracingpolicy %s NAME%s\n", cmd + 7, set_mode ? " enforce|monitor" : "");
		return 2;
	}
	msgpack_pack_map(pk, set_mode ? 3 : 2);
	pack_str(pk, "cmd");
	pack_str(pk, cmd);
	pack_str(pk, "name");
	pack_str(pk, argv[0]);
	if (set_mode) {
		if (strcmp(argv[1], "enforce") && strcmp(argv[1], "monitor"))
			return cli_bad_value("tracingpolicy set-mode", "mode", argv[1]);
		pack_str(pk, "mode");
		pack_str(pk, argv[1]);
	}
	return request(o, sb, false);
}

static int tp_add_value(const struct tp_opts *o, int argc, char **argv, msgpack_packer *pk, msgpack_sbuffer *sb)
{
	if (argc != 2) {
		fprintf(stderr, "usage: vigil tracingpolicy add-value LIST VALUE\n");
		return 2;
	}
	msgpack_pack_map(pk, 3);
	pack_str(pk, "cmd");
	pack_str(pk, "policy_list_add");
	pack_str(pk, "list");
	pack_str(pk, argv[0]);
	pack_str(pk, "value");
	pack_str(pk, argv[1]);
	return request(o, sb, false);
}

static const struct {
	const char *name;
	const char *cmd;	/* control command */
} subcommands[] = {
	{"add", "policy_add"},
	{"list", "policy_list"},
	{"delete", "policy_delete"},
	{"enable", "policy_enable"},
	{"disable", "policy_disable"},
	{"set-mode", "policy_set_mode"},
	{"add-value", "policy_list_add"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: vigil tracingpolicy add FILE [-m enforce|monitor]\n"
		   "       vigil tracingpolicy list [-o text|json]\n"
		   "       vigil tracingpolicy delete|enable|disable NAME\n"
		   "       vigil tracingpolicy set-mode NAME enforce|monitor\n"
		   "       vigil tracingpolicy add-value LIST VALUE   (extend a \"values\" list in the kernel)\n"
		   "options: --control URL (default %s)\n",
		VIGIL_BUS_DEFAULT_CONTROL);
}

int cmd_tracingpolicy(int argc, char **argv)
{
	static const struct option options[] = {
		{"mode", required_argument, NULL, 'm'},
		{"output", required_argument, NULL, 'o'},
		{"control", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct tp_opts o = {.control = VIGIL_BUS_DEFAULT_CONTROL};
	msgpack_sbuffer sb;
	msgpack_packer pk;
	const char *sub;
	size_t i;
	int c, rc;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	sub = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "m:o:c:h", options, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (strcmp(optarg, "enforce") && strcmp(optarg, "monitor"))
				return cli_bad_value("tracingpolicy", "mode", optarg);
			o.mode = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "json") && strcmp(optarg, "text"))
				return cli_bad_value("tracingpolicy", "output", optarg);
			o.json = !strcmp(optarg, "json");
			break;
		case 'c': o.control = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	for (i = 0; i < VIGIL_ARRAY_SIZE(subcommands); i++)
		if (!strcmp(sub, subcommands[i].name))
			break;
	if (i == VIGIL_ARRAY_SIZE(subcommands)) {
		fprintf(stderr, "vigil tracingpolicy: unknown subcommand '%s'\n", sub);
		usage(stderr);
		return 2;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (!strcmp(sub, "add")) {
		rc = tp_add(&o, argc - optind, argv + optind, &pk, &sb);
	} else if (!strcmp(sub, "list")) {
		msgpack_pack_map(&pk, 1);
		pack_str(&pk, "cmd");
		pack_str(&pk, "policy_list");
		rc = request(&o, &sb, true);
	} else if (!strcmp(sub, "add-value")) {
		rc = tp_add_value(&o, argc - optind, argv + optind, &pk, &sb);
	} else {
		rc = tp_named(&o, subcommands[i].cmd, argc - optind, argv + optind, &pk, &sb);
	}
	msgpack_sbuffer_destroy(&sb);
	return rc;
}
