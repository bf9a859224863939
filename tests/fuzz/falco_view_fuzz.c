/* falco_view_fuzz.c - libFuzzer target for the Falco plugin's reading of bus messages
 * (plugins/falco/view.c): next_batch's scan of every message, and the index extraction
 * builds from it at the first field a rule asks for. Anything that can publish on the bus
 * reaches both.
 *
 * Properties besides memory safety: a message the scan accepts is one libvigil's own scan
 * accepts, with the same tail (the bus reads the delivery stamp there); the index of an
 * accepted message always builds and every value it notes lies inside the message; and
 * every value a field reads is the one libvigil's decoder finds at the same path (absent
 * when it is absent, the same string or integer when it is one).
 */
#include <msgpack.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode/encode.h"
#include "falco_internal.h"

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "falco_view_fuzz: property violated: %s\n", what);
		abort();
	}
}

/* Every path the field table reads through the view. */
static const char *const paths[] = {
	"/time", "/node_name", "policy_name", "action", "function_name", "subsys", "event", "message", "tags",
	"args", "status", "signal", "rule", "priority", "process.pid", "process.tid", "process.uid",
	"process.auid", "process.binary", "process.arguments", "process.cwd", "process.exec_id",
	"process.start_time", "process.flags", "parent.pid", "parent.tid", "parent.uid", "parent.auid",
	"parent.binary", "parent.arguments", "parent.cwd", "parent.exec_id", "parent.start_time", "parent.flags",
};

static struct fp_state *st;

static void same_value(const msgpack_object *want, const msgpack_object *got, const char *path)
{
	char what[96];

	snprintf(what, sizeof(what), "%s: the view and libvigil's decoder disagree", path);
	check(!want == !got, what);
	if (!want)
		return;
	check(want->type == got->type, what);
	if (want->type == MSGPACK_OBJECT_STR)
		check(want->via.str.size == got->via.str.size &&
			      !memcmp(want->via.str.ptr, got->via.str.ptr, want->via.str.size), what);
	else if (want->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		check(want->via.u64 == got->via.u64, what);
	else if (want->type == MSGPACK_OBJECT_ARRAY)
		check(want->via.array.size == got->via.array.size, what);
	else if (want->type == MSGPACK_OBJECT_MAP)
		check(want->via.map.size == got->via.map.size, what);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vigil_msgpack_tail walked, scanned;
	/* kept from one input to the next, as the plugin keeps it from event to event */
	static struct view_key_memos memo;
	struct fp_view *v = calloc(1, sizeof(*v));
	uint8_t *buf = malloc(size + VIEW_PAD);
	struct vigil_msg *m;
	const msgpack_object *o;
	const char *s;
	uint32_t n;
	uint64_t u;
	size_t i;
	int key, err;

	check(v && buf, "out of memory");
	if (!st) {
		st = fp_state__new(0);
		check(st != NULL, "no plugin state");
	}
	memcpy(buf, data, size);
	memset(buf + size, 0xa5, VIEW_PAD);	/* what lies past the end is never taken as data */
	v->memo = &memo;
	if (view_scan(v, buf, size, &walked))
		goto out;
	check(!vigil_msgpack_scan_tail(buf, size, &scanned), "the view accepts what libvigil's scan refuses");
	check(walked.items == scanned.items && walked.len == scanned.len &&
		      !memcmp(walked.start, scanned.start, sizeof(walked.start)),
	      "the view's tail is not libvigil's");
	check(view_index(v) == 0, "an accepted message without an index");
	for (key = 0; key < VK_N; key++)
		check(v->at[key].off <= size && v->at[key].len <= size - v->at[key].off, "a value outside the message");
	m = vigil_msg__decode(buf, size);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		key = view_key_of(paths[i]);
		check(key >= 0, "a field path the view has no key for");
		err = 0;
		o = view_get(st, v, key, &err);
		check(!err, "view_get ran out of memory");
		if (m)
			same_value(vigil_msg__find(m, paths[i]), o, paths[i]);
		if (view_str(v, key, &s, &n))
			check(o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == n && o->via.str.ptr == s,
			      "view_str is not view_get's string");
		if (view_uint(v, key, &u))
			check(o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 == u,
			      "view_uint is not view_get's integer");
		check(view_has(v, key) == (o != NULL), "view_has disagrees with view_get");
	}
	vigil_msg__free(m);
out:
	free(buf);
	free(v);
	return 0;
}
