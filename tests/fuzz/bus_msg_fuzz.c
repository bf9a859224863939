/* bus_msg_fuzz.c - libFuzzer target for what a bus subscriber does with each message it
 * receives (anything that can connect to the bus socket can publish to a subscriber's
 * view of it, and plugins run on other hosts over tcp://): vigil_msg__decode
 * (core/encode/msg.c), the path lookups plugins and rules make, and the JSON and compact
 * renderings that `vigil getevents` prints, and the delivery stamp read before any of it.
 *
 * Properties besides memory safety: a decoded message has a type key and a body map; a
 * strict prefix of a message that decodes is refused (one message is one whole msgpack
 * object); the JSON rendering is valid JSON (jansson reads it back, integers as reals
 * since it holds no uint64) whenever the message's strings are valid UTF-8.
 */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus.h"
#include "encode/encode.h"

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "bus_msg_fuzz: property violated: %s\n", what);
		abort();
	}
}

/* The paths plugins, rules and the CLI look up. */
static const char *const paths[] = {
	"process.pid", "process.binary", "process.arguments", "process.cwd", "process.flags", "process.exec_id",
	"process.uid", "process.start_time", "parent.pid", "parent.exec_id", "parent.binary", "policy_name",
	"function_name", "action", "args", "args.0", "args.1.string_arg", "return", "subsys", "event", "tags",
	"message", "signal", "status", "/time", "/node_name", "", ".", "..", "/", "process..pid", "args.99999999999",
};

static void lookups(const struct vigil_msg *m)
{
	char small[8], big[512];
	uint64_t u;
	size_t i;
	int n;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		vigil_msg__find(m, paths[i]);
		n = vigil_msg__find_str(m, paths[i], small, sizeof(small));
		check(n == -ENOENT || (n >= 0 && strlen(small) < sizeof(small)), "find_str: bad length");
		vigil_msg__find_str(m, paths[i], big, sizeof(big));
		vigil_msg__find_u64(m, paths[i], &u);
	}
}

/* Whether s is valid UTF-8 (jansson's rule for its input; NUL only in values). */
static bool utf8_ok(const char *s, size_t n, bool nul_ok)
{
	size_t i = 0, k;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
		uint32_t cp;

		if (!len || i + len > n || (len == 2 && c < 0xc2) || c > 0xf4)
			return false;
		cp = len == 1 ? c : c & (0x7f >> len);
		for (k = 1; k < len; k++) {
			if (((unsigned char)s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | ((unsigned char)s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || (cp == 0 && !nul_ok))
			return false;
		i += len;
	}
	return true;
}

/* Whether every string in the tree is one jansson reads back. */
static bool strings_ok(const msgpack_object *o, bool key)
{
	uint32_t i;

	switch (o->type) {
	case MSGPACK_OBJECT_STR:
		return utf8_ok(o->via.str.ptr, o->via.str.size, !key);
	case MSGPACK_OBJECT_ARRAY:
		for (i = 0; i < o->via.array.size; i++)
			if (!strings_ok(&o->via.array.ptr[i], false))
				return false;
		return true;
	case MSGPACK_OBJECT_MAP:
		for (i = 0; i < o->via.map.size; i++)
			if (!strings_ok(&o->via.map.ptr[i].key, true) || !strings_ok(&o->via.map.ptr[i].val, false))
				return false;
		return true;
	default:
		return true;
	}
}

static void renderings(const struct vigil_msg *m)
{
	struct vigil_compact_opts opts = {.color = true, .timestamps = true};
	struct vigil_buf out = {0};
	json_error_t jerr;
	json_t *j;

	if (!vigil_msg__to_json(m, &out) && strings_ok(vigil_msg__root(m), false)) {
		j = json_loadb(out.data, out.len, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &jerr);
		if (!j)
			fprintf(stderr, "bus_msg_fuzz: %s at %d: %.*s\n", jerr.text, jerr.position, (int)out.len, out.data);
		check(j != NULL, "to_json: not valid JSON");
		json_decref(j);
	}
	vigil_buf_reset(&out);
	vigil_msg__to_compact(m, NULL, &out);
	vigil_buf_reset(&out);
	vigil_msg__to_compact(m, &opts, &out);
	vigil_buf_free(&out);
}

/* The delivery stamp (core/bus stamp.c): what a subscriber reads of every message before
 * it decodes it. Whatever the bytes, a stamp read agrees with the decoded view's. */
static void stamp(const uint8_t *data, size_t size, const struct vigil_msg *m)
{
	uint64_t inc = 0, seq = 0, minc = 0, mseq = 0;
	int r = vigil_bus_stamp_read(data, size, &inc, &seq);

	check(r == 0 || r == -ENOENT || r == -EBADMSG, "stamp_read: unexpected error");
	check(r != 0 || (inc && seq), "stamp_read: a zero stamp accepted");
	if (m && !vigil_msg__delivery(m, &minc, &mseq))
		check(r == 0 && minc == inc && mseq == seq, "stamp: the decoded view and the reader disagree");
}

/* The agent's own JSON path (straight from the bytes, for its own encoding only) must stay
 * in bounds on any bytes, and print what the decoded view prints whenever both render and
 * decoding hid nothing (no stamp entries taken off the root). */
static void own_json(const uint8_t *data, size_t size, const struct vigil_msg *m)
{
	struct vigil_buf own = {0}, view = {0};
	uint64_t entries = 0;
	int r = vigil_json_from_own_msgpack(data, size, &own);

	if (size && data[0] >= 0x80 && data[0] <= 0x8f)
		entries = data[0] & 0x0f;
	else if (size >= 3 && data[0] == 0xde)
		entries = ((uint64_t)data[1] << 8) | data[2];
	else if (size >= 5 && data[0] == 0xdf)
		entries = ((uint64_t)data[1] << 24) | ((uint64_t)data[2] << 16) | ((uint64_t)data[3] << 8) | data[4];
	if (m && !r && vigil_msg__root(m)->via.map.size == entries && !vigil_msg__to_json(m, &view))
		check(own.len == view.len && !memcmp(own.data, view.data, own.len),
		      "own JSON: differs from the decoded view's");
	vigil_buf_free(&own);
	vigil_buf_free(&view);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vigil_msg *m = vigil_msg__decode(data, size);
	size_t cut;

	stamp(data, size, m);
	own_json(data, size, m);
	if (!m)
		return 0;
	check(vigil_msg__type_key(m) != NULL, "decode: no type key");
	check(vigil_msg__body(m) != NULL, "decode: no body");
	vigil_msg__type(m);
	lookups(m);
	renderings(m);
	vigil_msg__free(m);

	/* a strict prefix of a whole message is never a message */
	cut = size ? data[size - 1] % size : 0;
	m = vigil_msg__decode(data, cut);
	check(m == NULL, "decode: a strict prefix decoded");
	return 0;
}
