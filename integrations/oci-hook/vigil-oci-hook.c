/* vigil-oci-hook - the OCI runtime hook that tells vigild about a container before its first
 * process runs (Tetragon's tetragon-oci-hook, for vigil). The runtime (runc, crun; containerd
 * and CRI-O through their hook configuration) runs it at createRuntime or createContainer with
 * the container's state on standard input: {"id", "bundle", "annotations", ...}. It reads the
 * bundle's config.json for linux.cgroupsPath and the annotations, and sends the agent
 * Tetragon's CreateContainer (control command rthooks_create_container), which records the
 * pod and scopes the policies that select it.
 *
 * It never holds a container up for long: the agent gets --timeout (default 2 s). By default
 * it fails open: whatever goes wrong (no agent, a refusal, unreadable input) is logged and the
 * container starts. --fail-closed makes those failures stop the container (exit 1), except in
 * the namespaces of --fail-allow-namespaces (kube-system by default, as Tetragon's hook). */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus/bus.h"
#include "cli/rthook_request.h"
#include "common/common.h"
#include "encode/encode.h"

#define STATE_MAX_BYTES (1u << 20)	/* the OCI state is a few hundred bytes */
#define CONFIG_MAX_BYTES (16u << 20)	/* config.json: mounts and env can make it long */

static const char usage[] =
	"usage: vigil-oci-hook [options] [createRuntime|createContainer|prestart] < OCI state\n"
	"  announce a container to vigild before it starts, so that namespaced and pod-selected\n"
	"  policies apply from its first exec (as Tetragon's tetragon-oci-hook)\n"
	"  --control URL, --server-address URL  the agent's control socket (default " VIGIL_BUS_DEFAULT_CONTROL ")\n"
	"  --timeout D                 how long the agent gets (\"2s\", \"500ms\"; default 2s)\n"
	"  --fail-closed               a failure stops the container (exit 1); default: logged, the container starts\n"
	"  --fail-allow-namespaces NS[,NS]  never fail closed for these pod namespaces (default kube-system)\n"
	"  --log-file PATH             append the log lines to PATH (default: standard error)\n";

static struct {
	const char *control;
	long timeout_ms;
	bool fail_closed;
	const char *allow_namespaces;
	FILE *log;
	const char *hook;
} conf;

static void say(const char *id, const char *fmt, ...)
{
	char stamp[40];
	struct timespec ts;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	vigil_format_time((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec, stamp);
	fprintf(conf.log, "vigil-oci-hook: %s %s container %s: ", stamp, conf.hook, id && *id ? id : "?");
	va_start(ap, fmt);
	vfprintf(conf.log, fmt, ap);
	va_end(ap);
	fputc('\n', conf.log);
	fflush(conf.log);
}

/* The JSON document in path (or on stdin when path is NULL), at most max bytes. */
static json_t *read_json(const char *path, size_t max, char *err, size_t err_size)
{
	struct vigil_buf b = {0};
	json_error_t je;
	json_t *j = NULL;
	char chunk[65536];
	FILE *f = path ? fopen(path, "re") : stdin;
	size_t n;

	if (!f) {
		snprintf(err, err_size, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b.len + n > max || vigil_buf_append(&b, chunk, n)) {
			snprintf(err, err_size, "%s is larger than %zu bytes", path ? path : "the OCI state", max);
			goto out;
		}
	}
	j = json_loadb(b.len ? (const char *)b.data : "", b.len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		snprintf(err, err_size, "%s is not JSON: %s (line %d, column %d)", path ? path : "the OCI state on stdin",
			 je.text, je.line, je.column);
	else if (!json_is_object(j)) {
		snprintf(err, err_size, "%s is not a JSON object", path ? path : "the OCI state on stdin");
		json_decref(j);
		j = NULL;
	}
out:
	if (path)
		fclose(f);
	vigil_buf_free(&b);
	return j;
}

static const char *str_of(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* The annotations of config.json, then the state's not already there (the same, normally). */
static void take_annotations(struct rthook_request *q, json_t *config_ann, json_t *state_ann)
{
	json_t *sets[2] = {config_ann, state_ann}, *v;
	const char *key;
	size_t i, k;

	for (i = 0; i < 2; i++) {
		if (!json_is_object(sets[i]))
			continue;
		json_object_foreach(sets[i], key, v) {
			if (!json_is_string(v) || q->nann == RTHOOK_MAX_ANNOTATIONS)
				continue;
			for (k = 0; k < q->nann && strcmp(q->ann_keys[k], key); k++)
				;
			if (k < q->nann)
				continue;
			q->ann_keys[q->nann] = key;
			q->ann_values[q->nann++] = json_string_value(v);
		}
	}
}

static const char *annotation(const struct rthook_request *q, const char *key)
{
	size_t i;

	for (i = 0; i < q->nann; i++)
		if (!strcmp(q->ann_keys[i], key))
			return q->ann_values[i];
	return NULL;
}

/* The exit code of a failure: 0 (fail open) unless --fail-closed, and the pod's namespace is
 * not one --fail-allow-namespaces exempts. */
static int failure(const struct rthook_request *q, const char *id)
{
	const char *ns = q ? annotation(q, "io.kubernetes.cri.sandbox-namespace") : NULL;
	char list[1024], *save = NULL, *item;

	if (!ns && q)
		ns = annotation(q, "io.kubernetes.pod.namespace");
	if (!conf.fail_closed) {
		say(id, "failing open: the container starts");
		return 0;
	}
	snprintf(list, sizeof(list), "%s", conf.allow_namespaces);
	for (item = strtok_r(list, ",", &save); ns && item; item = strtok_r(NULL, ",", &save)) {
		if (!strcmp(item, ns)) {
			say(id, "namespace %s is allowed to fail open: the container starts", ns);
			return 0;
		}
	}
	say(id, "failing closed (--fail-closed): the container does not start");
	return 1;
}

static int announce(const struct rthook_request *q, const char *id)
{
	struct vigil_buf reply = {0};
	const msgpack_object *ok, *e;
	msgpack_unpacked up;
	msgpack_sbuffer sb;
	size_t off = 0;
	int err;

	msgpack_sbuffer_init(&sb);
	rthook_request_pack(q, &sb);
	err = vigil_ctl_request(conf.control, sb.data, sb.size, &reply, (int)conf.timeout_ms);
	msgpack_sbuffer_destroy(&sb);
	if (err) {
		say(id, "no answer from vigild at %s: %s", conf.control,
		    err == -ETIMEDOUT ? "timed out (is vigild running?)" : strerror(-err));
		vigil_buf_free(&reply);
		return err;
	}
	msgpack_unpacked_init(&up);
	if (msgpack_unpack_next(&up, reply.data, reply.len, &off) != MSGPACK_UNPACK_SUCCESS) {
		say(id, "malformed reply from vigild");
		err = -EBADMSG;
	} else if (!(ok = vigil_msgpack_get(&up.data, "ok")) || ok->type != MSGPACK_OBJECT_BOOLEAN ||
		   !ok->via.boolean) {
		e = vigil_msgpack_get(&up.data, "error");
		say(id, "vigild refused it: %.*s", e && e->type == MSGPACK_OBJECT_STR ? (int)e->via.str.size : 7,
		    e && e->type == MSGPACK_OBJECT_STR ? e->via.str.ptr : "no reason");
		err = -EPERM;
	} else {
		say(id, "announced to vigild (cgroup %s)", q->cgroups_path);
	}
	msgpack_unpacked_destroy(&up);
	vigil_buf_free(&reply);
	return err;
}

static int parse_args(int argc, char **argv)
{
	static const struct option options[] = {
		{"control", required_argument, NULL, 'c'},
		{"server-address", required_argument, NULL, 'c'},
		{"timeout", required_argument, NULL, 't'},
		{"fail-closed", no_argument, NULL, 'F'},
		{"fail-allow-namespaces", required_argument, NULL, 'A'},
		{"log-file", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	uint64_t ns;
	int c;

	conf.control = VIGIL_BUS_DEFAULT_CONTROL;
	conf.timeout_ms = 2000;
	conf.allow_namespaces = "kube-system";
	conf.log = stderr;
	conf.hook = "createRuntime";
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'c': conf.control = optarg; break;
		case 't':
			if (vigil_parse_duration(optarg, &ns) || ns < 1000000ULL || ns > 60000000000ULL) {
				fprintf(stderr, "vigil-oci-hook: invalid value for --timeout: '%s' (1ms to 60s)\n", optarg);
				return 2;
			}
			conf.timeout_ms = (long)(ns / 1000000ULL);
			break;
		case 'F': conf.fail_closed = true; break;
		case 'A': conf.allow_namespaces = optarg; break;
		case 'l':
			conf.log = fopen(optarg, "ae");
			if (!conf.log) {
				conf.log = stderr;
				fprintf(stderr, "vigil-oci-hook: cannot open --log-file %s: %s; logging to standard error\n",
					optarg, strerror(errno));
			}
			break;
		case 'h': printf("%s", usage); exit(0);
		default: fprintf(stderr, "%s", usage); return 2;
		}
	}
	if (optind + 1 < argc) {
		fprintf(stderr, "%s", usage);
		return 2;
	}
	if (optind < argc)
		conf.hook = argv[optind];
	return -1;
}

int main(int argc, char **argv)
{
	struct rthook_request q = {0};
	json_t *state = NULL, *config = NULL;
	char err[512], path[4200], root[4200];
	const char *id = NULL, *bundle, *cgroups_path = NULL;
	int rc = parse_args(argc, argv);

	if (rc >= 0)
		return rc;
	if (strcmp(conf.hook, "createRuntime") && strcmp(conf.hook, "createContainer") &&
	    strcmp(conf.hook, "prestart")) {
		say(NULL, "nothing to do at this hook (createRuntime, createContainer and prestart announce)");
		return 0;
	}
	state = read_json(NULL, STATE_MAX_BYTES, err, sizeof(err));
	if (!state) {
		say(NULL, "%s", err);
		rc = failure(NULL, NULL);
		goto out;
	}
	id = str_of(state, "id");
	bundle = str_of(state, "bundle");
	if (bundle && snprintf(path, sizeof(path), "%s/config.json", bundle) < (int)sizeof(path))
		config = read_json(path, CONFIG_MAX_BYTES, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "the OCI state names no bundle");
	if (!config)
		say(id, "%s", err);
	else
		cgroups_path = str_of(json_object_get(config, "linux"), "cgroupsPath");
	take_annotations(&q, json_object_get(config, "annotations"), json_object_get(state, "annotations"));
	if (!cgroups_path || !*cgroups_path) {
		say(id, "no linux.cgroupsPath in the bundle's config.json");
		rc = failure(&q, id);
		goto out;
	}
	q.cgroups_path = cgroups_path;
	q.root_dir = str_of(json_object_get(config, "root"), "path");
	/* OCI: root.path may be relative to the bundle; the agent wants it whole */
	if (q.root_dir && q.root_dir[0] != '/' &&
	    snprintf(root, sizeof(root), "%s/%s", bundle, q.root_dir) < (int)sizeof(root))
		q.root_dir = root;
	q.container_id = id;
	rc = announce(&q, id) ? failure(&q, id) : 0;
out:
	json_decref(state);
	json_decref(config);
	if (conf.log != stderr)
		fclose(conf.log);
	return rc;
}
