/* compact.c - the event as one line of `tetra getevents -o compact` (pkg/encoder/encoder.go
 * and color.go in Tetragon), byte for byte, colours and odd spacing included. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "encode_internal.h"

/* tetra right-aligns the capability trailer to this column (capsPad) */
#define CAPS_PAD 120

/* fatih/color foreground codes; every coloured piece is "\e[<n>m" text "\e[0m" */
enum color { RED = 31, GREEN = 32, BLUE = 34, MAGENTA = 35, CYAN = 36 };

static const char sys_admin_trailer[] = "🛑 CAP_SYS_ADMIN";

struct line {
	struct encode_out o;
	const struct vigil_msg *m;
	bool color;
};

struct text {
	const char *s;
	size_t n;
};

static struct text str_at(const struct vigil_msg *m, const char *path)
{
	const msgpack_object *v = vigil_msg__find(m, path);
	struct text t = { "", 0 };

	if (v && v->type == MSGPACK_OBJECT_STR) {
		t.s = v->via.str.ptr;
		t.n = v->via.str.size;
	}
	return t;
}

static void color_on(struct line *l, enum color c)
{
	char esc[8];

	if (l->color) {
		snprintf(esc, sizeof(esc), "\x1b[%dm", (int)c);
		encode_puts(&l->o, esc);
	}
}

static void color_off(struct line *l)
{
	if (l->color)
		encode_puts(&l->o, "\x1b[0m");
}

/* ---- Go's strconv.Quote, for maybeQuote ---- */

/* Code points unicode.IsPrint rejects beyond the C0/C1 controls: spaces other than U+0020,
 * format characters, surrogates, private use and unassigned planes. Unassigned code points
 * inside assigned blocks are not listed; a terminal shows them as boxes, not as commands. */
static const struct {
	uint32_t lo, hi;
} unprintable[] = {
	{ 0x00a0, 0x00a0 }, { 0x00ad, 0x00ad }, { 0x0600, 0x0605 }, { 0x061c, 0x061c },
	{ 0x06dd, 0x06dd }, { 0x070f, 0x070f }, { 0x0890, 0x0891 }, { 0x08e2, 0x08e2 },
	{ 0x1680, 0x1680 }, { 0x180e, 0x180e }, { 0x2000, 0x200f }, { 0x2028, 0x202f },
	{ 0x205f, 0x206f }, { 0x3000, 0x3000 }, { 0xd800, 0xf8ff }, { 0xfeff, 0xfeff },
	{ 0xfff9, 0xfffb }, { 0xfffe, 0xffff }, { 0x110bd, 0x110bd }, { 0x110cd, 0x110cd },
	{ 0x13430, 0x1343f }, { 0x1bca0, 0x1bca3 }, { 0x1d173, 0x1d17a }, { 0x40000, 0xe00ff },
	{ 0xe01f0, 0x10ffff },
};

static bool printable(uint32_t cp)
{
	bool ok = cp >= 0x20 && (cp < 0x7f || cp > 0x9f);
	size_t i;

	for (i = 0; ok && i < VIGIL_ARRAY_SIZE(unprintable) && unprintable[i].lo <= cp; i++)
		if (cp <= unprintable[i].hi)
			ok = false;
	return ok;
}

/* maybeQuote's test: a space or a non-printable rune. Go decodes a stray byte as U+FFFD,
 * which is printable, so tetra lets it through; we quote it, since a lone 0x9b is CSI to
 * an 8-bit terminal. */
static bool needs_quote(struct text t)
{
	const unsigned char *s = (const unsigned char *)t.s;
	size_t i = 0, len = 1;
	uint32_t cp = 'x';

	for (; i < t.n && len && cp != ' ' && printable(cp); i += len)
		len = encode_utf8_decode(s + i, t.n - i, &cp);
	return !len || cp == ' ' || !printable(cp);
}

static void put_quoted(struct line *l, struct text t)
{
	static const char hex[] = "0123456789abcdef";
	static const char short_escape[0x20] = {
		['\a'] = 'a', ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n',
		['\r'] = 'r', ['\t'] = 't', ['\v'] = 'v',
	};
	const unsigned char *s = (const unsigned char *)t.s;
	char e[10] = { '\\' };
	size_t i = 0, len, k, digits;
	uint32_t cp;

	encode_put(&l->o, "\"", 1);
	while (i < t.n) {
		len = encode_utf8_decode(s + i, t.n - i, &cp);
		if (len && (cp == '"' || cp == '\\')) {
			e[1] = (char)cp;
			encode_put(&l->o, e, 2);
		} else if (len && printable(cp)) {
			encode_put(&l->o, s + i, len);
		} else if (len && cp < 0x20 && short_escape[cp]) {
			e[1] = short_escape[cp];
			encode_put(&l->o, e, 2);
		} else {
			/* \xNN for stray bytes and ASCII controls, else \uNNNN or \UNNNNNNNN */
			if (!len || cp < 0x80) {
				len = len ? len : 1;
				cp = s[i];
				e[1] = 'x';
				digits = 2;
			} else {
				e[1] = cp < 0x10000 ? 'u' : 'U';
				digits = cp < 0x10000 ? 4 : 8;
			}
			for (k = 0; k < digits; k++)
				e[2 + k] = hex[(cp >> (4 * (digits - 1 - k))) & 15];
			encode_put(&l->o, e, 2 + digits);
		}
		i += len;
	}
	encode_put(&l->o, "\"", 1);
}

static void put_maybe_quoted(struct line *l, struct text t)
{
	if (needs_quote(t))
		put_quoted(l, t);
	else
		encode_put(&l->o, t.s, t.n);
}

/* ---- the fields of the line ---- */

static size_t runes(const char *s, size_t n)
{
	size_t count = 0, i;

	for (i = 0; i < n; i++)
		count += ((unsigned char)s[i] & 0xc0) != 0x80;
	return count;
}

/* "🚀 %-7s": the label padded to seven columns, the emoji inside the colour. A label from
 * the message (an unknown event key) is quoted like any other untrusted string. */
static void put_label(struct line *l, const char *emoji, struct text label)
{
	size_t start, width;

	color_on(l, BLUE);
	encode_puts(&l->o, emoji);
	encode_put(&l->o, " ", 1);
	start = l->o.buf->len;
	put_maybe_quoted(l, label);
	width = l->o.err ? 0 : runes(l->o.buf->data + start, l->o.buf->len - start);
	for (; width < 7; width++)
		encode_put(&l->o, " ", 1);
	color_off(l);
}

/* namespace/pod when the process runs in a pod (taken as is, as tetra does), else the node */
static void put_source(struct line *l)
{
	const msgpack_object *pod = vigil_msg__find(l->m, "process.pod");
	struct text t;

	color_on(l, GREEN);
	if (pod && pod->type == MSGPACK_OBJECT_MAP) {
		t = str_at(l->m, "process.pod.namespace");
		encode_put(&l->o, t.s, t.n);
		encode_put(&l->o, "/", 1);
		t = str_at(l->m, "process.pod.name");
		encode_put(&l->o, t.s, t.n);
	} else {
		put_maybe_quoted(l, str_at(l->m, "/node_name"));
	}
	color_off(l);
}

/* " <source> <binary>", tetra's processInfo */
static void put_process(struct line *l)
{
	encode_put(&l->o, " ", 1);
	put_source(l);
	encode_put(&l->o, " ", 1);
	color_on(l, MAGENTA);
	put_maybe_quoted(l, str_at(l->m, "process.binary"));
	color_off(l);
}

/* " <arguments>", as is: an empty list still gets its separator */
static void put_args(struct line *l)
{
	struct text t = str_at(l->m, "process.arguments");

	encode_put(&l->o, " ", 1);
	color_on(l, CYAN);
	encode_put(&l->o, t.s, t.n);
	color_off(l);
}

/* " SIGKILL" when the exit carries a signal, else " <status>" (0 when absent) */
static void put_exit_status(struct line *l)
{
	struct text sig = str_at(l->m, "signal");
	uint64_t status = 0;
	char num[24];

	encode_put(&l->o, " ", 1);
	color_on(l, RED);
	if (sig.n) {
		encode_put(&l->o, sig.s, sig.n);
	} else {
		vigil_msg__find_u64(l->m, "status", &status);
		snprintf(num, sizeof(num), "%" PRIu64, status);
		encode_puts(&l->o, num);
	}
	color_off(l);
}

static bool has_sys_admin(const struct vigil_msg *m)
{
	const msgpack_object *eff = vigil_msg__find(m, "process.cap.effective");
	const msgpack_object *c;
	bool found = false;
	uint32_t i;

	for (i = 0; eff && eff->type == MSGPACK_OBJECT_ARRAY && i < eff->via.array.size; i++) {
		c = &eff->via.array.ptr[i];
		if (c->type == MSGPACK_OBJECT_STR && c->via.str.size == 13 &&
		    !memcmp(c->via.str.ptr, "CAP_SYS_ADMIN", 13))
			found = true;
	}
	return found;
}

/* tetra's CapTrailorPrinter: fmt.Sprintf("%s %*s", line, 120 - len(line), caps). Go's len()
 * counts bytes (the emoji's four, colour codes too) while %*s pads by runes, so the trailer
 * ends near column 120 but not on it; a line of 120 bytes or more gets one space. The colour
 * wraps even an empty trailer, so with colour every line is padded: we do the same. */
static void put_caps_trailer(struct line *l, size_t line_start)
{
	char trailer[sizeof(sys_admin_trailer) + 16];
	size_t len = l->o.buf->len - line_start, pad, n, w;

	n = (size_t)snprintf(trailer, sizeof(trailer), l->color ? "\x1b[35m%s\x1b[0m" : "%s",
			     has_sys_admin(l->m) ? sys_admin_trailer : "");
	if (n) {
		pad = len < CAPS_PAD ? CAPS_PAD - len : 0;
		w = runes(trailer, n);
		encode_put(&l->o, " ", 1);
		for (pad = pad > w ? pad - w : 0; pad; pad--)
			encode_put(&l->o, " ", 1);
		encode_put(&l->o, trailer, n);
	}
}

/* protojson's Timestamp: "YYYY-MM-DDTHH:MM:SS" then "Z" or "." 1-9 digits "Z" */
static bool protojson_time(struct text t)
{
	bool ok = (t.n == 20 && t.s[19] == 'Z') ||
		  (t.n >= 22 && t.n <= 30 && t.s[19] == '.' && t.s[t.n - 1] == 'Z');
	size_t i;

	for (i = 20; ok && i + 1 < t.n; i++)
		ok = t.s[i] >= '0' && t.s[i] <= '9';
	return ok;
}

/* tetra --timestamps: the event time as Go's "2006-01-02T15:04:05.000000000Z07:00" in UTC,
 * i.e. protojson's time with the fraction widened to nine digits; a missing time is the
 * zero Timestamp, as in Go. */
static void put_timestamp(struct line *l)
{
	struct text t = str_at(l->m, "/time");
	char ts[30];

	if (!t.n)
		t = (struct text){ "1970-01-01T00:00:00Z", 20 };
	if (protojson_time(t)) {
		memcpy(ts, t.s, 19);
		memcpy(ts + 19, ".000000000Z", 11);
		memcpy(ts + 20, t.s + 20, t.n > 20 ? t.n - 21 : 0);
		encode_put(&l->o, ts, sizeof(ts));
	} else {
		encode_put(&l->o, t.s, t.n);
	}
	encode_put(&l->o, " ", 1);
}

int vigil_msg__to_compact(const struct vigil_msg *m, const struct vigil_compact_opts *opts,
			  struct vigil_buf *out)
{
	enum vigil_event_type type = vigil_msg__type(m);
	const char *key = vigil_msg__type_key(m);
	const msgpack_object *proc = vigil_msg__find(m, "process");
	struct line l = { .m = m, .color = opts && opts->color };
	size_t line_start;

	encode_out_begin(&l.o, out);
	/* tetra refuses exec and exit events that lack their process */
	if ((type == VIGIL_EVENT_EXEC || type == VIGIL_EVENT_EXIT) &&
	    (!proc || proc->type != MSGPACK_OBJECT_MAP)) {
		encode_fail(&l.o, -EINVAL);
		goto out;
	}
	if (opts && opts->timestamps)
		put_timestamp(&l);
	line_start = out->len;
	if (type == VIGIL_EVENT_EXEC) {
		put_label(&l, "🚀", (struct text){ "process", 7 });
		put_process(&l);
		put_args(&l);
	} else if (type == VIGIL_EVENT_EXIT) {
		put_label(&l, "💥", (struct text){ "exit", 4 });
		put_process(&l);
		put_args(&l);
		put_exit_status(&l);
	} else {
		put_label(&l, "❓", (struct text){ key, strlen(key) });
		put_process(&l);
	}
	put_caps_trailer(&l, line_start);
out:
	return encode_out_end(&l.o);
}
