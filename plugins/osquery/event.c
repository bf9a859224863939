/* event.c - reading the parts of a bus event (Tetragon's export tree) that the tables
 * share: its time, its policy arguments, what it hooked. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "table.h"

static bool digits(const char *s, size_t n, int *out)
{
	size_t i;

	*out = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*out = *out * 10 + (s[i] - '0');
	}
	return true;
}

/* protojson's timestamp: "YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z", always UTC. */
int event_time_ns(const struct vigil_msg *m, int64_t *ns)
{
	char s[48];
	struct tm tm = { 0 };
	int year, mon, day, hh, mm, ss, frac = 0;
	size_t n, i;
	int len = vigil_msg__find_str(m, "/time", s, sizeof(s));

	if (len < 0)
		return -ENOENT;
	n = (size_t)len;
	if (n < 20 || n >= sizeof(s) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[n - 1] != 'Z')
		return -EINVAL;
	if (!digits(s, 4, &year) || !digits(s + 5, 2, &mon) || !digits(s + 8, 2, &day) ||
	    !digits(s + 11, 2, &hh) || !digits(s + 14, 2, &mm) || !digits(s + 17, 2, &ss))
		return -EINVAL;
	if (n > 20) {
		/* ".f{1,9}" before the Z, scaled to nanoseconds */
		if (s[19] != '.' || n - 21 < 1 || n - 21 > 9 || !digits(s + 20, n - 21, &frac))
			return -EINVAL;
		for (i = n - 21; i < 9; i++)
			frac *= 10;
	}
	if (mon < 1 || mon > 12 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60)
		return -EINVAL;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	*ns = (int64_t)timegm(&tm) * 1000000000 + frac;
	return 0;
}

const msgpack_object *obj_get(const msgpack_object *o, const char *key)
{
	size_t n = strlen(key);
	uint32_t i;

	if (!o || o->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (i = 0; i < o->via.map.size; i++) {
		const msgpack_object_kv *kv = &o->via.map.ptr[i];

		if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == n &&
		    !memcmp(kv->key.via.str.ptr, key, n))
			return &kv->val;
	}
	return NULL;
}

const msgpack_object *event_arg(const struct vigil_msg *m, const char *key)
{
	const msgpack_object *args = vigil_msg__find(m, "args"), *v;
	uint32_t i;

	if (!args || args->type != MSGPACK_OBJECT_ARRAY)
		return NULL;
	for (i = 0; i < args->via.array.size; i++) {
		v = obj_get(&args->via.array.ptr[i], key);
		if (v)
			return v;
	}
	return NULL;
}

const msgpack_object *event_return_value(const struct vigil_msg *m)
{
	const msgpack_object *r = vigil_msg__find(m, "return");

	if (r && r->type == MSGPACK_OBJECT_MAP && r->via.map.size == 1)
		return &r->via.map.ptr[0].val;
	return r;
}

static void copy_str(const msgpack_object *o, char *out, size_t size)
{
	size_t n = 0;

	if (o && o->type == MSGPACK_OBJECT_STR) {
		n = o->via.str.size < size - 1 ? o->via.str.size : size - 1;
		memcpy(out, o->via.str.ptr, n);
	}
	out[n] = '\0';
}

void event_function(const struct vigil_msg *m, char *out, size_t size)
{
	const msgpack_object *subsys = vigil_msg__find(m, "subsys"), *ev = vigil_msg__find(m, "event");
	char a[128], b[128];

	if (subsys && ev) {
		copy_str(subsys, a, sizeof(a));
		copy_str(ev, b, sizeof(b));
		snprintf(out, size, "%s/%s", a, b);
	} else if (vigil_msg__find(m, "function_name")) {
		copy_str(vigil_msg__find(m, "function_name"), out, size);
	} else {
		copy_str(vigil_msg__find(m, "symbol"), out, size);
	}
}

static const char *const policy_keys[] = {
	"process_kprobe",
	"process_tracepoint",
	"process_lsm",
	"process_uprobe",
};

bool event_is_policy(const struct vigil_msg *m)
{
	const char *key = vigil_msg__type_key(m);
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(policy_keys); i++)
		if (!strcmp(key, policy_keys[i]))
			return true;
	return false;
}

int json_put_string(struct vigil_buf *out, const char *s, size_t n)
{
	char esc[8];
	size_t i, run = 0;
	int err = vigil_buf_append(out, "\"", 1);

	for (i = 0; !err && i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		err = vigil_buf_append(out, s + run, i - run);
		if (c == '"' || c == '\\')
			snprintf(esc, sizeof(esc), "\\%c", c);
		else
			snprintf(esc, sizeof(esc), "\\u%04x", c);
		if (!err)
			err = vigil_buf_puts(out, esc);
		run = i + 1;
	}
	if (!err)
		err = vigil_buf_append(out, s + run, n - run);
	if (!err)
		err = vigil_buf_append(out, "\"", 1);
	return err;
}
