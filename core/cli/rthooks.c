/* rthooks.c - `vigil rthooks create-container`, tetra's way to send the runtime hook's
 * CreateContainer by hand (testing, debugging): the agent records the container's cgroup and
 * pod at once and scopes the policies that select it (core/agent/rthooks.c). Root only: the
 * agent refuses it from the control group's members. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "bus/bus.h"
#include "cli.h"
#include "encode/encode.h"
#include "rthook_request.h"

static const char usage[] =
	"usage: vigil rthooks create-container --container-id CGROUP_PATH [--root-dir DIR]\n"
	"           [--annotations K=V[,K=V...]]... [--container-name N] [--container-image I]\n"
	"           [--pod-name N] [--pod-namespace NS] [--pod-uid U] [--server-address URL]\n"
	"  send the runtime hook's CreateContainer to the agent (root only), as tetra rthooks does:\n"
	"  --container-id is tetra's name for the container's cgroups path (OCI linux.cgroupsPath,\n"
	"  relative to the cgroup v2 mount, or systemd's slice:prefix:name; --cgroup-path says the\n"
	"  same). Pod fields not given come from the annotations containerd and CRI-O set\n"
	"  (io.kubernetes.cri.sandbox-namespace, io.kubernetes.pod.namespace, ...); the other\n"
	"  annotations are the pod's labels.\n";

/* "k=v,k2=v2" (tetra's --annotations, a string-to-string map) split in place into q. */
static int add_annotations(struct rthook_request *q, char *text)
{
	char *save = NULL, *item, *eq;

	for (item = strtok_r(text, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		eq = strchr(item, '=');
		if (!eq || eq == item) {
			fprintf(stderr, "vigil rthooks: invalid value for --annotations: '%s' (KEY=VALUE)\n", item);
			return 2;
		}
		if (q->nann == RTHOOK_MAX_ANNOTATIONS) {
			fprintf(stderr, "vigil rthooks: more than %d annotations\n", RTHOOK_MAX_ANNOTATIONS);
			return 2;
		}
		*eq = '\0';
		q->ann_keys[q->nann] = item;
		q->ann_values[q->nann++] = eq + 1;
	}
	return 0;
}

static void print_str(const msgpack_object *root, const char *key)
{
	const msgpack_object *v = vigil_msgpack_get(root, key);

	printf(" %s=%.*s", key, v && v->type == MSGPACK_OBJECT_STR ? (int)v->via.str.size : 0,
	       v && v->type == MSGPACK_OBJECT_STR ? v->via.str.ptr : "");
}

static int create_container(int argc, char **argv)
{
	static const struct option options[] = {
		{"container-id", required_argument, NULL, 'p'},
		{"cgroup-path", required_argument, NULL, 'p'},
		{"root-dir", required_argument, NULL, 'r'},
		{"annotations", required_argument, NULL, 'a'},
		{"annotation", required_argument, NULL, 'a'},
		{"container-name", required_argument, NULL, 'N'},
		{"container-image", required_argument, NULL, 'I'},
		{"pod-name", required_argument, NULL, 'P'},
		{"pod-namespace", required_argument, NULL, 'S'},
		{"pod-uid", required_argument, NULL, 'U'},
		{"server-address", required_argument, NULL, 'c'},
		{"control", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct rthook_request q = {0};
	const char *control = VIGIL_BUS_DEFAULT_CONTROL;
	const msgpack_object *v;
	struct cli_reply r;
	msgpack_sbuffer sb;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
		switch (c) {
		case 'p': q.cgroups_path = optarg; break;
		case 'r': q.root_dir = optarg; break;
		case 'a':
			rc = add_annotations(&q, optarg);
			if (rc)
				return rc;
			break;
		case 'N': q.container_name = optarg; break;
		case 'I': q.container_image = optarg; break;
		case 'P': q.pod_name = optarg; break;
		case 'S': q.pod_namespace = optarg; break;
		case 'U': q.pod_uid = optarg; break;
		case 'c': control = optarg; break;
		case 'h': printf("%s", usage); return 0;
		default: fprintf(stderr, "%s", usage); return 2;
		}
	}
	if (optind != argc || !q.cgroups_path) {
		fprintf(stderr, "%s", usage);
		return 2;
	}
	msgpack_sbuffer_init(&sb);
	rthook_request_pack(&q, &sb);
	rc = cli_request("rthooks", control, sb.data, sb.size, 10000, &r);
	msgpack_sbuffer_destroy(&sb);
	if (!rc) {
		v = vigil_msgpack_get(r.root, "cgroup_id");
		printf("create-container: cgroup_id=%llu",
		       v && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (unsigned long long)v->via.u64 : 0ULL);
		print_str(r.root, "cgroup_path");
		print_str(r.root, "root_dir");
		print_str(r.root, "container_id");
		print_str(r.root, "pod_namespace");
		print_str(r.root, "pod_name");
		v = vigil_msgpack_get(r.root, "pending");
		printf(" pending=%llu\n",
		       v && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (unsigned long long)v->via.u64 : 0ULL);
	}
	cli_reply_free(&r);
	return rc;
}

int cmd_rthooks(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "create-container"))
		return create_container(argc - 1, argv + 1);
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("%s", usage);
		return 0;
	}
	fprintf(stderr, "%s", usage);
	return 2;
}
