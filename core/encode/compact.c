/* compact.c - the event as one line of `tetra getevents -o compact` (pkg/encoder/encoder.go
 * and color.go in Tetragon), byte for byte, colours and odd spacing included.
 *
 * Two departures, both for policy events: a value taken from an argument or the hook is
 * Go-quoted when it holds a control character or invalid UTF-8 (tetra prints it raw, so a
 * file name could drive the terminal); and an enforcement action is marked at the end of
 * the line (tetra's line does not say that a process was killed). Lines of events that
 * only report are tetra's exactly.
 */
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

/* Whether path holds an object of this type, asked without unpacking it (a view of the
 * agent's own bytes would otherwise unpack the whole process to answer). */
static bool is_a(const struct vigil_msg *m, const char *path, msgpack_object_type type)
{
	msgpack_object_type t;
	uint32_t n;

	return !vigil_msg__find_kind(m, path, &t, &n) && t == type;
}

static bool is_present(const struct vigil_msg *m, const char *path)
{
	msgpack_object_type t;
	uint32_t n;

	return !vigil_msg__find_kind(m, path, &t, &n);
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
	struct text t;

	color_on(l, GREEN);
	if (is_a(l->m, "process.pod", MSGPACK_OBJECT_MAP)) {
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

/* Any rune a terminal would act on or that would break the line (control characters,
 * stray bytes); spaces are fine. */
static bool has_unprintable(struct text t)
{
	const unsigned char *s = (const unsigned char *)t.s;
	size_t i = 0, len;
	uint32_t cp;

	for (; i < t.n; i += len) {
		len = encode_utf8_decode(s + i, t.n - i, &cp);
		if (!len || (cp != ' ' && !printable(cp)))
			return true;
	}
	return false;
}

/* " <arguments>", as is (an empty list still gets its separator), quoted Go-style only
 * when they hold control characters: one event stays one line, and no argument can send
 * escape sequences to the terminal (newer tetra quotes them too) */
static void put_args(struct line *l)
{
	struct text t = str_at(l->m, "process.arguments");

	encode_put(&l->o, " ", 1);
	color_on(l, CYAN);
	if (has_unprintable(t))
		put_quoted(l, t);
	else
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
	return vigil_msg__array_has_str(m, "process.cap.effective", "CAP_SYS_ADMIN");
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

/* ---- policy events ---- */

/* A value from the policy or the kernel: as is, as tetra prints it, unless it would reach
 * the terminal as a control sequence or as bytes that are not text. */
static bool unsafe_text(struct text t)
{
	const unsigned char *s = (const unsigned char *)t.s;
	size_t i = 0, len = 1;
	uint32_t cp = 'x';

	for (; i < t.n && len && printable(cp); i += len)
		len = encode_utf8_decode(s + i, t.n - i, &cp);
	return !len || !printable(cp);
}

static void put_text(struct line *l, struct text t)
{
	if (unsafe_text(t))
		put_quoted(l, t);
	else
		encode_put(&l->o, t.s, t.n);
}

/* fatih/color's Sprint: the colour wraps the text even when it is empty */
static void put_cyan(struct line *l, struct text t)
{
	color_on(l, CYAN);
	put_text(l, t);
	color_off(l);
}

static void put_cyan_str(struct line *l, const char *s)
{
	put_cyan(l, (struct text){ s, strlen(s) });
}

static uint32_t arg_count(const struct vigil_msg *m)
{
	msgpack_object_type t;
	uint32_t n;

	return !vigil_msg__find_kind(m, "args", &t, &n) && t == MSGPACK_OBJECT_ARRAY ? n : 0;
}

static const msgpack_object *arg_at(const struct vigil_msg *m, unsigned int i, const char *member)
{
	char path[64];

	snprintf(path, sizeof(path), "args.%u.%s", i, member);
	return vigil_msg__find(m, path);
}

/* The Go getters: a member the argument does not hold reads as its zero value. */
static struct text arg_str(const struct vigil_msg *m, unsigned int i, const char *member)
{
	const msgpack_object *v = arg_at(m, i, member);
	struct text t = { "", 0 };

	if (v && v->type == MSGPACK_OBJECT_STR) {
		t.s = v->via.str.ptr;
		t.n = v->via.str.size;
	}
	return t;
}

static int64_t arg_int(const struct vigil_msg *m, unsigned int i, const char *member)
{
	const msgpack_object *v = arg_at(m, i, member);
	int64_t n = 0;

	if (v && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 <= INT64_MAX)
		n = (int64_t)v->via.u64;
	else if (v && v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		n = v->via.i64;
	return n;
}

/* 64-bit members are decimal strings in the tree, as in protojson */
static uint64_t arg_u64(const struct vigil_msg *m, unsigned int i, const char *member)
{
	uint64_t v = 0;
	char path[64];

	snprintf(path, sizeof(path), "args.%u.%s", i, member);
	vigil_msg__find_u64(m, path, &v);
	return v;
}

static bool arg_has(const struct vigil_msg *m, unsigned int i, const char *member)
{
	msgpack_object_type t;
	char path[64];
	uint32_t n;

	snprintf(path, sizeof(path), "args.%u.%s", i, member);
	return !vigil_msg__find_kind(m, path, &t, &n);
}

/* How tetra prints a kprobe whose function it knows (EventToString's switch). */
enum shape {
	SHAPE_FILE_BYTES,	/* " <args[0] file> <args[2] size> bytes" */
	SHAPE_FILE0,		/* " <args[0] file>" */
	SHAPE_FILE1,		/* " <args[1] file>" */
	SHAPE_STRING1,		/* " <args[1] string>" */
	SHAPE_STRINGS,		/* " <args[0] string> <args[1] string>" */
	SHAPE_INT0,		/* " <args[0] int>" */
	SHAPE_NONE,
	SHAPE_SETNS,		/* " <namespace of args[1]>" */
	SHAPE_SOCK,		/* " tcp S:P -> D:P" */
	SHAPE_SOCK_BYTES,	/* " tcp S:P -> D:P bytes <args[1] int>" */
	SHAPE_FILE_PERMISSION,	/* write or read by the mask in args[1], " <args[0] file>" */
	SHAPE_MMAP,		/* "mmap-rwx" by the prot in args[1], " <args[0] file>" */
	SHAPE_TRUNCATE,		/* " <args[0] path>" */
	SHAPE_BPF_LOAD,		/* " <ProgType> <ProgName> instruction count N" of args[0] */
	SHAPE_PERF_EVENT,	/* " <Type> <KprobeFunc>" of args[0] */
	SHAPE_BPF_MAP,		/* " <MapType> <MapName> key size K value size V max entries M" */
};

static const struct {
	const char *function;	/* without the arch prefix */
	const char *emoji;
	const char *label;
	enum shape shape;
} kprobe_forms[] = {
	{ "sys_write", "📝", "write", SHAPE_FILE_BYTES },
	{ "sys_read", "📚", "read", SHAPE_FILE_BYTES },
	{ "fd_install", "📬", "open", SHAPE_FILE1 },
	{ "sys_openat", "📬️", "openat", SHAPE_STRING1 },
	{ "sys_open", "📬️", "open", SHAPE_STRING1 },
	{ "sys_close", "📪", "close", SHAPE_FILE0 },
	{ "sys_mount", "💾", "mount", SHAPE_STRINGS },
	{ "sys_setuid", "🔑", "setuid", SHAPE_INT0 },
	{ "sys_clock_settime", "⏰", "clock_settime", SHAPE_NONE },
	{ "sys_pivot_root", "💾", "pivot_root", SHAPE_STRINGS },
	{ "proc_exec_connector", "🔧", "proc_exec_connector", SHAPE_NONE },
	{ "sys_setns", "🔧", "setns", SHAPE_SETNS },
	{ "tcp_connect", "🔌", "connect", SHAPE_SOCK },
	{ "tcp_close", "🧹", "close", SHAPE_SOCK },
	{ "tcp_sendmsg", "📤", "sendmsg", SHAPE_SOCK_BYTES },
	{ "security_file_permission", "❓", "security_file_permission", SHAPE_FILE_PERMISSION },
	{ "security_mmap_file", "❓", "security_mmap_file", SHAPE_MMAP },
	{ "security_path_truncate", "❓", "security_path_truncate", SHAPE_TRUNCATE },
	{ "bpf_check", "🐝", "bpf_load", SHAPE_BPF_LOAD },
	{ "security_perf_event_alloc", "🐝", "perf_event_alloc", SHAPE_PERF_EVENT },
	{ "security_bpf_map_alloc", "🗺", "bpf_map_create", SHAPE_BPF_MAP },
	{ "security_bpf_map_create", "🗺", "bpf_map_create", SHAPE_BPF_MAP },
};

/* arch.CutSyscallPrefix: the prefixes of the architectures Tetragon supports */
static const char *const syscall_prefixes[] = { "__x64_", "__arm64_" };

/* setns' nstype (CLONE_NEW*), tetra's nsId map; 0 means any, others print nothing */
static const struct {
	uint32_t flag;
	const char *name;
} ns_types[] = {
	{ 0, "any" },		{ 0x02000000, "cgroup" }, { 0x08000000, "ipc" },
	{ 0x40000000, "net" },	{ 0x00020000, "mnt" },	  { 0x20000000, "pid" },
	{ 0x00000080, "time" }, { 0x10000000, "user" },	  { 0x04000000, "uts" },
};

static int kprobe_form(struct text fn)
{
	size_t i, n;
	int form = -1;

	for (i = 0; i < VIGIL_ARRAY_SIZE(syscall_prefixes); i++) {
		n = strlen(syscall_prefixes[i]);
		if (fn.n >= n && !memcmp(fn.s, syscall_prefixes[i], n)) {
			fn.s += n;
			fn.n -= n;
			break;
		}
	}
	for (i = 0; i < VIGIL_ARRAY_SIZE(kprobe_forms); i++)
		if (strlen(kprobe_forms[i].function) == fn.n && !memcmp(kprobe_forms[i].function, fn.s, fn.n))
			form = (int)i;
	return form;
}

static const char *ns_type_name(int64_t flag)
{
	const char *name = "";
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(ns_types); i++)
		if (ns_types[i].flag == flag)
			name = ns_types[i].name;
	return name;
}

/* "tcp <saddr>:<sport> -> <daddr>:<dport>" in cyan, from args[0].sock_arg */
static void put_sock(struct line *l)
{
	struct text saddr = arg_str(l->m, 0, "sock_arg.saddr"), daddr = arg_str(l->m, 0, "sock_arg.daddr");
	char port[16];

	color_on(l, CYAN);
	encode_puts(&l->o, "tcp ");
	put_text(l, saddr);
	snprintf(port, sizeof(port), ":%" PRIu64, arg_u64(l->m, 0, "sock_arg.sport"));
	encode_puts(&l->o, port);
	encode_puts(&l->o, " -> ");
	put_text(l, daddr);
	snprintf(port, sizeof(port), ":%" PRIu64, arg_u64(l->m, 0, "sock_arg.dport"));
	encode_puts(&l->o, port);
	color_off(l);
}

/* " <cyan path>" when args[i] holds the member, else " " alone, as tetra's empty %s */
static void put_arg_path(struct line *l, unsigned int i, const char *member)
{
	char path[32];

	encode_put(&l->o, " ", 1);
	snprintf(path, sizeof(path), "%s.path", member);
	if (arg_has(l->m, i, member))
		put_cyan(l, arg_str(l->m, i, path));
}

/* The emoji and label of a known hook, then the process; some hooks' labels depend on their
 * arguments. */
static void put_kprobe_label(struct line *l, int form)
{
	const char *emoji = kprobe_forms[form].emoji, *label = kprobe_forms[form].label;
	enum shape shape = kprobe_forms[form].shape;
	uint32_t n = arg_count(l->m);
	char text[40];
	int64_t v;

	/* the hooks whose label depends on their arguments */
	if (shape == SHAPE_FILE_PERMISSION && n > 1) {
		v = arg_int(l->m, 1, "int_arg");	/* MAY_WRITE 2, MAY_READ 4 */
		emoji = v == 2 ? "📝" : v == 4 ? "📚" : emoji;
		label = v == 2 ? "write" : v == 4 ? "read" : label;
	} else if (shape == SHAPE_MMAP && n > 1) {
		v = (int64_t)arg_u64(l->m, 1, "uint_arg");	/* PROT_READ 1, WRITE 2, EXEC 4 */
		snprintf(text, sizeof(text), "mmap-%s%s%s", v & 1 ? "r" : "", v & 2 ? "w" : "",
			 v & 4 ? "x" : "");
		emoji = "📝";
		label = text;
	} else if (shape == SHAPE_TRUNCATE && n > 0) {
		emoji = "📝";
		label = "truncate";
	}
	put_label(l, emoji, (struct text){ label, strlen(label) });
	put_process(l);
}

/* The kernel object of args[0] as tetra prints the bpf and perf hooks, one cyan span. */
static void put_kobj(struct line *l, enum shape shape)
{
	const char *m = shape == SHAPE_BPF_LOAD ? "bpf_attr_arg" : shape == SHAPE_PERF_EVENT ? "perf_event_arg"
											   : "bpf_map_arg";
	char path[40], num[96];
	struct text a, c;

#define FIELD(name) (snprintf(path, sizeof(path), "%s.%s", m, name), arg_str(l->m, 0, path))
#define COUNT(name) (snprintf(path, sizeof(path), "%s.%s", m, name), arg_int(l->m, 0, path))
	if (shape == SHAPE_BPF_LOAD) {
		a = FIELD("ProgType"), c = FIELD("ProgName");
		snprintf(num, sizeof(num), " instruction count %" PRId64, COUNT("InsnCnt"));
	} else if (shape == SHAPE_PERF_EVENT) {
		a = FIELD("Type"), c = FIELD("KprobeFunc");
		num[0] = '\0';
	} else {
		int64_t k = COUNT("KeySize"), v = COUNT("ValueSize"), e = COUNT("MaxEntries");

		a = FIELD("MapType"), c = FIELD("MapName");
		snprintf(num, sizeof(num), " key size %" PRId64 " value size %" PRId64 " max entries %" PRId64, k, v, e);
	}
#undef FIELD
#undef COUNT
	color_on(l, CYAN);
	put_text(l, a);
	put_text(l, (struct text){ " ", 1 });
	put_text(l, c);
	put_text(l, (struct text){ num, strlen(num) });
	color_off(l);
}

/* A known hook's arguments, in the shape tetra prints them. */
static void put_kprobe_args(struct line *l, enum shape shape)
{
	uint32_t n = arg_count(l->m);
	char text[40];

	switch (shape) {
	case SHAPE_FILE_BYTES:
		put_arg_path(l, 0, "file_arg");
		encode_put(&l->o, " ", 1);
		if (n > 2) {
			snprintf(text, sizeof(text), "%" PRIu64 " bytes", arg_u64(l->m, 2, "size_arg"));
			put_cyan_str(l, text);
		}
		break;
	case SHAPE_FILE0:
		put_arg_path(l, 0, "file_arg");
		break;
	case SHAPE_FILE1:
		put_arg_path(l, 1, "file_arg");
		break;
	case SHAPE_STRING1:
		encode_put(&l->o, " ", 1);
		if (n > 1)
			put_cyan(l, arg_str(l->m, 1, "string_arg"));
		break;
	case SHAPE_STRINGS:
		encode_put(&l->o, " ", 1);
		if (n > 0)
			put_cyan(l, arg_str(l->m, 0, "string_arg"));
		encode_put(&l->o, " ", 1);
		if (n > 1)
			put_cyan(l, arg_str(l->m, 1, "string_arg"));
		break;
	case SHAPE_INT0:
		encode_put(&l->o, " ", 1);
		if (n > 0) {
			snprintf(text, sizeof(text), "%" PRId64, arg_int(l->m, 0, "int_arg"));
			put_cyan_str(l, text);
		}
		break;
	case SHAPE_NONE:
		break;
	case SHAPE_SETNS:
		encode_put(&l->o, " ", 1);
		if (n > 1)
			encode_puts(&l->o, ns_type_name(arg_int(l->m, 1, "int_arg")));
		break;
	case SHAPE_SOCK:
	case SHAPE_SOCK_BYTES:
		encode_put(&l->o, " ", 1);
		if (n > 0)
			put_sock(l);
		if (shape == SHAPE_SOCK_BYTES) {
			snprintf(text, sizeof(text), " bytes %" PRId64, n > 1 ? arg_int(l->m, 1, "int_arg") : 0);
			encode_puts(&l->o, text);
		}
		break;
	case SHAPE_FILE_PERMISSION:
	case SHAPE_MMAP:
		encode_put(&l->o, " ", 1);
		if (n > 1)
			put_cyan(l, arg_str(l->m, 0, "file_arg.path"));
		break;
	case SHAPE_TRUNCATE:
		encode_put(&l->o, " ", 1);
		if (n > 0)
			put_cyan(l, arg_str(l->m, 0, "path_arg.path"));
		break;
	case SHAPE_BPF_LOAD:
	case SHAPE_PERF_EVENT:
	case SHAPE_BPF_MAP:
		encode_put(&l->o, " ", 1);
		if (n > 0)
			put_kobj(l, shape);
		break;
	}
}

static void put_known_kprobe(struct line *l, int form)
{
	put_kprobe_label(l, form);
	put_kprobe_args(l, kprobe_forms[form].shape);
}

static void put_kprobe(struct line *l)
{
	struct text fn = str_at(l->m, "function_name");
	int form = kprobe_form(fn);

	if (form >= 0) {
		put_known_kprobe(l, form);
	} else {
		put_label(l, "❓", (struct text){ "syscall", 7 });
		put_process(l);
		encode_put(&l->o, " ", 1);
		put_text(l, fn);
	}
}

/* raw_syscalls/sys_enter: args[0] is the id, a long or a syscall64. vigil carries no
 * syscall table, so the id is printed as a number (with the ABI when not x64) where tetra
 * prints the name and arguments; "unknown" when there is no id, as tetra. */
static void put_syscall_id(struct line *l)
{
	struct text abi = arg_str(l->m, 0, "syscall_id.abi");
	bool known = true;
	uint64_t id = 0;
	char text[48];

	if (arg_has(l->m, 0, "syscall_id")) {
		id = arg_u64(l->m, 0, "syscall_id.id");
		if (abi.n && (abi.n != 3 || memcmp(abi.s, "x64", 3))) {
			put_text(l, abi);
			encode_put(&l->o, "/", 1);
		}
	} else {
		/* a negative long is no syscall */
		known = !vigil_msg__find_u64(l->m, "args.0.long_arg", &id);
	}
	snprintf(text, sizeof(text), "%" PRIu64, id);
	encode_puts(&l->o, known ? text : "unknown");
}

static void put_tracepoint(struct line *l)
{
	struct text subsys = str_at(l->m, "subsys"), event = str_at(l->m, "event");

	if (subsys.n == 12 && !memcmp(subsys.s, "raw_syscalls", 12) && event.n == 9 &&
	    !memcmp(event.s, "sys_enter", 9)) {
		put_label(l, "☎ ", (struct text){ "syscall", 7 });
		put_process(l);
		encode_put(&l->o, " ", 1);
		put_syscall_id(l);
	} else {
		put_label(l, "⁉️", (struct text){ "tracepoint", 10 });
		put_process(l);
		encode_put(&l->o, " ", 1);
		put_text(l, subsys);
		encode_put(&l->o, " ", 1);
		put_text(l, event);
	}
}

static void put_lsm(struct line *l)
{
	put_label(l, "🔒", (struct text){ "LSM", 3 });
	put_process(l);
	encode_put(&l->o, " ", 1);
	put_text(l, str_at(l->m, "function_name"));
}

static void put_uprobe(struct line *l)
{
	put_label(l, "🕵️", (struct text){ "uprobe", 6 });
	put_process(l);
	encode_put(&l->o, " ", 1);
	put_text(l, str_at(l->m, "path"));
	encode_put(&l->o, " ", 1);
	put_text(l, str_at(l->m, "symbol"));
}

/* tetra's usdt line: "🕵️ usdt <process> <path> <provider> <name>" */
static void put_usdt(struct line *l)
{
	put_label(l, "🕵️", (struct text){ "usdt", 4 });
	put_process(l);
	encode_put(&l->o, " ", 1);
	put_text(l, str_at(l->m, "path"));
	encode_put(&l->o, " ", 1);
	put_text(l, str_at(l->m, "provider"));
	encode_put(&l->o, " ", 1);
	put_text(l, str_at(l->m, "name"));
}

/* tetra's loader line: "🧬 loader <process> [<build id in hex> ]<path>" */
static void put_loader(struct line *l)
{
	struct text id = str_at(l->m, "buildid");
	uint8_t raw[64];
	char hex[3];
	int n, i;

	put_label(l, "🧬", (struct text){ "loader", 6 });
	put_process(l);
	encode_put(&l->o, " ", 1);
	n = id.n ? vigil_base64_decode(id.s, id.n, raw, sizeof(raw)) : 0;
	for (i = 0; i < n; i++) {
		snprintf(hex, sizeof(hex), "%02x", raw[i]);
		encode_put(&l->o, hex, 2);
	}
	if (n > 0)
		encode_put(&l->o, " ", 1);
	put_text(l, str_at(l->m, "path"));
}

/* vigil's mark for enforcement, in red after the line: " 💀 SIGKILL", and " (monitor)"
 * after it when the policy only monitors, i.e. the action was not taken. */
static const struct {
	const char *action;
	const char *mark;
} enforcement[] = {
	{ "KPROBE_ACTION_SIGKILL", "💀 SIGKILL" },
	{ "KPROBE_ACTION_OVERRIDE", "🚫 OVERRIDE" },
	{ "KPROBE_ACTION_SIGNAL", "📣 SIGNAL" },
	{ "KPROBE_ACTION_SET", "✏️ SET" },	/* Set wrote the probe's argument */
};

static void put_enforcement(struct line *l)
{
	const msgpack_object *mon = vigil_msg__find(l->m, "monitored");
	struct text action = str_at(l->m, "action");
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(enforcement); i++) {
		if (strlen(enforcement[i].action) != action.n ||
		    memcmp(enforcement[i].action, action.s, action.n))
			continue;
		encode_put(&l->o, " ", 1);
		color_on(l, RED);
		encode_puts(&l->o, enforcement[i].mark);
		if (mon && mon->type == MSGPACK_OBJECT_BOOLEAN && mon->via.boolean)
			encode_puts(&l->o, " (monitor)");
		color_off(l);
	}
}

/* ---- rule events (vigil's own): "<label> <source> <binary> <rule>: <what>" ---- */

static bool is_rule_event(enum vigil_event_type type)
{
	return type == VIGIL_EVENT_ALERT || type == VIGIL_EVENT_RULE_ACTION || type == VIGIL_EVENT_RULE_STATUS ||
	       type == VIGIL_EVENT_POLICY_STATUS;	/* the agent's own: no process either */
}

/* " <source> <binary> <rule>: ", the binary only when the event has a process */
static void put_rule_head(struct line *l)
{
	if (is_a(l->m, "process", MSGPACK_OBJECT_MAP)) {
		put_process(l);
	} else {
		encode_put(&l->o, " ", 1);
		put_source(l);
	}
	encode_put(&l->o, " ", 1);
	put_text(l, str_at(l->m, "rule"));
	encode_puts(&l->o, ": ");
}

/* "🚨 alert   <src> <bin> <rule>: <output>" */
static void put_alert(struct line *l)
{
	put_label(l, "🚨", (struct text){ "alert", 5 });
	put_rule_head(l);
	put_text(l, str_at(l->m, "output"));
}

/* "⚡ action  <src> <bin> <rule>: kill <pid> <signal>" or ": deny <list> <value>", then
 * " failed: <error>" in red when the action failed, then " (<reason>)" */
static void put_rule_action(struct line *l)
{
	struct text action = str_at(l->m, "action"), err = str_at(l->m, "error"), reason = str_at(l->m, "reason");
	uint64_t pid = 0;
	char num[24];

	put_label(l, "⚡", (struct text){ "action", 6 });
	put_rule_head(l);
	put_text(l, action);
	if (is_present(l->m, "list")) {
		encode_put(&l->o, " ", 1);
		put_cyan(l, str_at(l->m, "list"));
		encode_put(&l->o, " ", 1);
		put_cyan(l, str_at(l->m, "value"));
	} else {
		vigil_msg__find_u64(l->m, "pid", &pid);
		snprintf(num, sizeof(num), " %" PRIu64 " ", pid);
		encode_puts(&l->o, num);
		put_text(l, str_at(l->m, "signal"));
	}
	if (err.n) {
		encode_put(&l->o, " ", 1);
		color_on(l, RED);
		encode_puts(&l->o, "failed: ");
		put_text(l, err);
		color_off(l);
	}
	if (reason.n) {
		encode_puts(&l->o, " (");
		put_text(l, reason);
		encode_puts(&l->o, ")");
	}
}

/* "⚠️ rule    <src> <rule>: <state>: <reason>" */
static void put_rule_status(struct line *l)
{
	struct text reason = str_at(l->m, "reason");

	put_label(l, "⚠️", (struct text){ "rule", 4 });
	put_rule_head(l);
	color_on(l, RED);
	put_text(l, str_at(l->m, "state"));
	color_off(l);
	if (reason.n) {
		encode_puts(&l->o, ": ");
		put_text(l, reason);
	}
}

/* "📜 policy  <policy> <file>: <state>: <reason>" */
static void put_policy_status(struct line *l)
{
	struct text file = str_at(l->m, "file"), reason = str_at(l->m, "reason");

	put_label(l, "📜", (struct text){ "policy", 6 });
	encode_puts(&l->o, " ");
	put_text(l, str_at(l->m, "policy"));
	if (file.n) {
		encode_puts(&l->o, " ");
		put_text(l, file);
	}
	encode_puts(&l->o, ": ");
	if (reason.n)
		color_on(l, RED);
	put_text(l, str_at(l->m, "state"));
	if (reason.n) {
		color_off(l);
		encode_puts(&l->o, ": ");
		put_text(l, reason);
	}
}

/* tetra's "🧬 throttle START <cgroup>" (STOP padded to START's width), all its own colours */
static void put_throttle(struct line *l)
{
	struct text type = str_at(l->m, "type");
	bool stop = type.n == 13 && !memcmp(type.s, "THROTTLE_STOP", 13);

	color_on(l, RED);
	encode_puts(&l->o, "🧬 throttle");
	color_off(l);
	encode_puts(&l->o, " ");
	color_on(l, stop ? GREEN : RED);
	encode_puts(&l->o, stop ? "STOP " : "START");
	color_off(l);
	encode_puts(&l->o, " ");
	put_maybe_quoted(l, str_at(l->m, "cgroup"));
}

int vigil_msg__to_compact(const struct vigil_msg *m, const struct vigil_compact_opts *opts,
			  struct vigil_buf *out)
{
	enum vigil_event_type type = vigil_msg__type(m);
	const char *key = vigil_msg__type_key(m);
	struct line l = { .m = m, .color = opts && opts->color };
	size_t line_start;

	encode_out_begin(&l.o, out);
	/* tetra refuses the events it knows when they lack their process (rule events may) */
	if (type && !is_rule_event(type) && type != VIGIL_EVENT_THROTTLE && !is_a(m, "process", MSGPACK_OBJECT_MAP)) {
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
	} else if (type == VIGIL_EVENT_KPROBE || type == VIGIL_EVENT_TRACEPOINT ||
		   type == VIGIL_EVENT_LSM || type == VIGIL_EVENT_UPROBE || type == VIGIL_EVENT_USDT) {
		if (type == VIGIL_EVENT_KPROBE)
			put_kprobe(&l);
		else if (type == VIGIL_EVENT_TRACEPOINT)
			put_tracepoint(&l);
		else if (type == VIGIL_EVENT_LSM)
			put_lsm(&l);
		else if (type == VIGIL_EVENT_USDT)
			put_usdt(&l);
		else
			put_uprobe(&l);
		put_enforcement(&l);
	} else if (type == VIGIL_EVENT_LOADER) {
		put_loader(&l);
	} else if (type == VIGIL_EVENT_ALERT) {
		put_alert(&l);
	} else if (type == VIGIL_EVENT_RULE_ACTION) {
		put_rule_action(&l);
	} else if (type == VIGIL_EVENT_RULE_STATUS) {
		put_rule_status(&l);
	} else if (type == VIGIL_EVENT_POLICY_STATUS) {
		put_policy_status(&l);
	} else if (type == VIGIL_EVENT_THROTTLE) {
		put_throttle(&l);
	} else {
		put_label(&l, "❓", (struct text){ key, strlen(key) });
		put_process(&l);
	}
	put_caps_trailer(&l, line_start);
out:
	return encode_out_end(&l.o);
}
