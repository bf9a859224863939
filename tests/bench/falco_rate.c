/* falco_rate.c - events per second through the Falco plugin (libvigil_falco.so, API 3.x) as
 * Falco drives it: next_batch, then one extract_fields call per field for every field the
 * shipped rules (rules/falco/vigil_rules.yaml) read, each call with the event's number.
 *
 * Events come from a libvigil publisher in this process (a thread), on an inproc:// bus
 * (nanomsg's) or with --bus=ipc://PATH on the agent's own listener and read as Falco reads
 * the agent's bus, a mix of exec, exit, kprobe and alert events as the agent encodes them. The publisher keeps
 * at most a window of events ahead of the reader, so nothing is dropped and every event is
 * counted through the plugin. Reported: wall rate, the reader thread's CPU per event (the
 * plugin plus the bus's receive: what one Falco source thread spends), and events lost.
 *
 * usage: falco_rate <libvigil_falco.so> [events (default 200000)] [--no-extract | --passes=K]
 *                   [--bus=URL]
 *   --passes=K reads the fields K times per event, as K rules that test the same fields do
 *   (each rule's condition asks for its fields again; default 1).
 */
#include <dlfcn.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bus/bus.h"
#include "common/common.h"
#include "framework_v3.h"
#include "testevents.h"

/* Events ahead of the reader: what fits nanomsg's 128 KiB queue, or (the agent's own
 * listener, ipc:// and tcp://) about half its 4 MiB for a subscriber. */
#define WINDOW_NANOMSG 192
#define WINDOW_SP 4096
static long window = WINDOW_NANOMSG;

/* the fields vigil_rules.yaml reads; args[N] carry an index */
static const struct {
	const char *name;
	bool indexed;
	uint64_t index;
} rule_fields[] = {
	{ "vigil.event_type", false, 0 }, { "vigil.node_name", false, 0 }, { "vigil.policy", false, 0 }, { "vigil.action", false, 0 },
	{ "vigil.function", false, 0 }, { "vigil.message", false, 0 }, { "vigil.tags", false, 0 }, { "vigil.process.pid", false, 0 },
	{ "vigil.process.uid", false, 0 }, { "vigil.process.binary", false, 0 }, { "vigil.process.arguments", false, 0 },
	{ "vigil.process.exec_id", false, 0 }, { "vigil.parent.binary", false, 0 }, { "vigil.parent.arguments", false, 0 },
	{ "vigil.args", true, 0 }, { "vigil.args", true, 1 }, { "vigil.arg.path", false, 0 },
	{ "vigil.alert.rule", false, 0 }, { "vigil.alert.priority", false, 0 },
};
#define NRULE_FIELDS (sizeof(rule_fields) / sizeof(rule_fields[0]))

struct api {
	void *(*init)(const struct fw_init_input *in, int32_t *rc);
	void (*destroy)(void *s);
	const char *(*get_last_error)(void *s);
	void *(*open)(void *s, const char *params, int32_t *rc);
	void (*close)(void *s, void *h);
	int32_t (*next_batch)(void *s, void *h, uint32_t *nevts, struct fw_event ***evts);
	const char *(*get_fields)(void);
	int32_t (*extract_fields)(void *s, const struct fw_event_input *evt, const struct fw_extract_input *in);
};

static struct vigil_pub *pub;
static struct vigil_buf events[4];
static long total;
static atomic_long consumed;
static atomic_bool done;

static double now(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The calling thread's user CPU: the plugin's own work, without the kernel's part of the
 * waits for the publisher (which the small window makes frequent). */
static double user_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
}

static void *publish(void *arg)
{
	long i;

	(void)arg;
	for (i = 0; i < total; i++) {
		/* nanomsg's PUB drops for a subscriber whose queue is full: those count as taken */
		while (i - atomic_load(&consumed) - (long)vigil_pub__dropped(pub) >= window && !atomic_load(&done))
			sched_yield();
		if (vigil_pub__send(pub, events[i % 4].data, events[i % 4].len))
			fprintf(stderr, "falco_rate: publish failed\n");
	}
	return NULL;
}

/* The id get_fields gives a field: its position in the JSON array. */
static int field_id(const char *json, const char *name)
{
	char key[96];
	const char *p = json;
	int id = 0;

	snprintf(key, sizeof(key), "\"name\":\"%s\"", name);
	for (; (p = strstr(p, "{\"type\"")); p++, id++) {
		const char *end = strchr(p, '}');

		if (end && memmem(p, (size_t)(end - p), key, strlen(key)))
			return id;
	}
	return -1;
}

int main(int argc, char **argv)
{
	const char *bus = "inproc://vigil-falco-rate";
	char config[512];
	struct fw_init_input in = { .config = config };
	struct fw_extract_field fields[NRULE_FIELDS];
	struct fw_extract_input xin = { 0 };
	struct fw_event **evts;
	struct fw_event_input ei = { .evtsrc = "vigil" };
	struct api P;
	pthread_t thr;
	uint32_t n, i;
	size_t k;
	int32_t rc;
	uint64_t evtnum = 0, present = 0;
	bool extract = true;
	long passes = 1, pass;
	double w0, c0, u0, wall, cpu, user;
	void *dl, *st, *inst;
	int id;

	for (int a = 3; a < argc; a++) {
		if (!strcmp(argv[a], "--no-extract"))
			extract = false;
		else if (!strncmp(argv[a], "--passes=", 9))
			passes = atol(argv[a] + 9);
		else if (!strncmp(argv[a], "--bus=", 6))
			bus = argv[a] + 6;	/* ipc:// or tcp://: the agent's listener */
		else
			argc = 0;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: falco_rate <libvigil_falco.so> [events] [--no-extract | --passes=K] [--bus=URL]\n");
		return 2;
	}
	/* a timeout long enough for a run under callgrind on a busy machine: it ends the run */
	snprintf(config, sizeof(config), "{\"bus\":\"%s\",\"batch_size\":512,\"timeout_ms\":2000}", bus);
	total = argc > 2 ? atol(argv[2]) : 200000;
	dl = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		fprintf(stderr, "falco_rate: %s\n", dlerror());
		return 1;
	}
	*(void **)&P.init = dlsym(dl, "plugin_init");
	*(void **)&P.destroy = dlsym(dl, "plugin_destroy");
	*(void **)&P.get_last_error = dlsym(dl, "plugin_get_last_error");
	*(void **)&P.open = dlsym(dl, "plugin_open");
	*(void **)&P.close = dlsym(dl, "plugin_close");
	*(void **)&P.next_batch = dlsym(dl, "plugin_next_batch");
	*(void **)&P.get_fields = dlsym(dl, "plugin_get_fields");
	*(void **)&P.extract_fields = dlsym(dl, "plugin_extract_fields");
	for (k = 0; k < NRULE_FIELDS; k++) {
		id = field_id(P.get_fields(), rule_fields[k].name);
		if (id < 0) {
			fprintf(stderr, "falco_rate: the plugin has no field %s\n", rule_fields[k].name);
			return 1;
		}
		fields[k] = (struct fw_extract_field){ .field_id = (uint32_t)id, .field = rule_fields[k].name,
						       .arg_present = rule_fields[k].indexed,
						       .arg_index = rule_fields[k].index };
	}
	if (tev_exec(&events[0], 4242, "/usr/bin/curl", "-s https://example.com/install.sh") ||
	    tev_exit(&events[1], 4242, "/usr/bin/curl", 0, 0) ||
	    tev_kprobe(&events[2], 4243, "/usr/bin/cat", "/etc/shadow", "10.0.0.7", 443) ||
	    tev_alert(&events[3], 4244, "shell-in-container", "warning")) {
		fprintf(stderr, "falco_rate: cannot encode the events\n");
		return 1;
	}
	if (strncmp(bus, "inproc://", 9))
		window = WINDOW_SP;
	pub = vigil_pub__open(bus, 0600);
	if (!pub) {
		perror("falco_rate: vigil_pub__open");
		return 1;
	}
	st = P.init(&in, &rc);
	inst = rc == FW_SUCCESS ? P.open(st, "", &rc) : NULL;
	if (!inst) {
		fprintf(stderr, "falco_rate: %s\n", st ? P.get_last_error(st) : "init failed");
		return 1;
	}
	/* the subscriber connects in the background: publish until the reader sees something, then
	 * take what is still queued, so the timed run starts on an established, empty bus */
	for (n = 0; !n;) {
		vigil_pub__send(pub, events[0].data, events[0].len);
		usleep(10000);
		P.next_batch(st, inst, &n, &evts);
	}
	while (P.next_batch(st, inst, &n, &evts) == FW_SUCCESS)
		;
	w0 = now(CLOCK_MONOTONIC);
	c0 = now(CLOCK_THREAD_CPUTIME_ID);
	u0 = user_cpu();
	pthread_create(&thr, NULL, publish, NULL);
	while (atomic_load(&consumed) < total) {
		rc = P.next_batch(st, inst, &n, &evts);
		if (rc == FW_TIMEOUT)
			break;		/* 2 s with nothing: the rest was lost */
		if (rc != FW_SUCCESS) {
			fprintf(stderr, "falco_rate: next_batch: %s\n", P.get_last_error(st));
			return 1;
		}
		for (i = 0; i < n; i++) {
			ei.evt = evts[i];
			ei.evtnum = ++evtnum;
			/* Falco evaluates each rule's condition field by field: one call per field */
			for (pass = 0; extract && pass < passes; pass++)
				for (k = 0; k < NRULE_FIELDS; k++) {
					xin.num_fields = 1;
					xin.fields = &fields[k];
					if (P.extract_fields(st, &ei, &xin) != FW_SUCCESS) {
						fprintf(stderr, "falco_rate: extract: %s\n", P.get_last_error(st));
						return 1;
					}
					present += fields[k].res_len ? 1 : 0;
				}
		}
		atomic_fetch_add(&consumed, n);
	}
	atomic_store(&done, true);
	cpu = now(CLOCK_THREAD_CPUTIME_ID) - c0;
	user = user_cpu() - u0;
	wall = now(CLOCK_MONOTONIC) - w0;
	pthread_join(thr, NULL);
	printf("falco_rate: %ld events, %zu fields each x %ld (%s): %.0f events/s wall, %.3f us reader CPU per event "
	       "(%.0f events/s per core; user CPU %.3f us, %.0f events/s), %ld lost, %" PRIu64 " values present\n",
	       (long)atomic_load(&consumed), extract ? NRULE_FIELDS : 0, extract ? passes : 0L,
	       extract ? "extracted" : "not extracted",
	       (double)atomic_load(&consumed) / wall, cpu / (double)atomic_load(&consumed) * 1e6,
	       (double)atomic_load(&consumed) / cpu, user / (double)atomic_load(&consumed) * 1e6,
	       (double)atomic_load(&consumed) / user, total - (long)atomic_load(&consumed), present);
	if (total != (long)atomic_load(&consumed))
		printf("falco_rate: publisher dropped %" PRIu64 "; plugin: %s\n", vigil_pub__dropped(pub), P.get_last_error(st));
	P.close(st, inst);
	P.destroy(st);
	vigil_pub__close(pub);
	return atomic_load(&consumed) == total ? 0 : 1;
}
