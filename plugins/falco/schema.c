/* schema.c - the JSON documents a framework reads before any event: the init config schema
 * and the field list, rendered from the field table in each ABI's dialect. */
#include <pthread.h>
#include <stdio.h>

#include "bus/bus.h"
#include "falco_internal.h"

/* Validated by the framework (valijson) before plugin_init; config.c enforces the same. */
static const char init_schema[] =
	"{\"$schema\":\"http://json-schema.org/draft-04/schema#\","
	"\"title\":\"vigil plugin init config\",\"type\":\"object\",\"properties\":{"
	"\"bus\":{\"type\":\"string\",\"minLength\":1,\"title\":\"Event bus\","
	"\"description\":\"nanomsg URL of vigild's event bus (ipc:// or tcp://); open params override it\","
	"\"default\":\"" VIGIL_BUS_DEFAULT_EVENTS "\"},"
	"\"event_types\":{\"type\":[\"array\",\"null\"],\"maxItems\":32,\"title\":\"Event types\","
	"\"description\":\"Only these events (process_exec or exec, process_kprobe, process_alert, ...); empty or null: all\","
	"\"items\":{\"type\":\"string\",\"pattern\":\"^[A-Za-z_]+$\"},\"default\":[]},"
	"\"batch_size\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":4096,\"title\":\"Batch size\","
	"\"description\":\"Most events handed over per next_batch call\",\"default\":256},"
	"\"timeout_ms\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10000,\"title\":\"Receive timeout (ms)\","
	"\"description\":\"How long next_batch waits for an event before reporting a timeout\",\"default\":50}"
	"},\"additionalProperties\":false}";

const char *fp_init_schema(void)
{
	return init_schema;
}

static const char *type_name(enum fp_type t, enum fp_flavour fl)
{
	switch (t) {
	case FP_U64:
		return "uint64";
	case FP_ABSTIME:
		return fl == FP_FLAVOUR_V3 ? "abstime" : "uint64";
	case FP_IPADDR:
		return fl == FP_FLAVOUR_V3 ? "ipaddr" : "string";
	default:
		return "string";
	}
}

/* Table strings are ours and plain ASCII; escape the two characters JSON insists on anyway. */
static int put_json_str(struct vigil_buf *b, const char *s)
{
	int err = vigil_buf_puts(b, "\"");

	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			err |= vigil_buf_puts(b, "\\");
		err |= vigil_buf_append(b, s, 1);
	}
	return err | vigil_buf_puts(b, "\"");
}

static int render(struct vigil_buf *b, enum fp_flavour fl)
{
	const struct fp_field *f;
	int err = vigil_buf_puts(b, "[");
	size_t i;

	for (i = 0; i < fp_nfields; i++) {
		f = &fp_fields[i];
		err |= vigil_buf_printf(b, "%s{\"type\":\"%s\",\"name\":", i ? "," : "", type_name(f->type, fl));
		err |= put_json_str(b, f->name);
		err |= vigil_buf_puts(b, ",\"display\":");
		err |= put_json_str(b, f->display);
		err |= vigil_buf_puts(b, ",\"desc\":");
		err |= put_json_str(b, f->desc);
		/* 0.3.0 has no lists: its shim joins the values into one string */
		if (fl == FP_FLAVOUR_V3 && (f->flags & FIELD_LIST))
			err |= vigil_buf_puts(b, ",\"isList\":true");
		if (f->flags & FIELD_INDEX)
			err |= vigil_buf_puts(b, fl == FP_FLAVOUR_V3 ? ",\"arg\":{\"isRequired\":true,\"isIndex\":true}"
								     : ",\"argRequired\":true");
		err |= vigil_buf_puts(b, "}");
	}
	return err | vigil_buf_puts(b, "]");
}

static struct {
	struct vigil_buf json;
	int err;
	pthread_once_t once;
} fields[2] = { { .once = PTHREAD_ONCE_INIT }, { .once = PTHREAD_ONCE_INIT } };

static void render_v3(void)
{
	fields[FP_FLAVOUR_V3].err = render(&fields[FP_FLAVOUR_V3].json, FP_FLAVOUR_V3);
}

static void render_v0(void)
{
	fields[FP_FLAVOUR_V0].err = render(&fields[FP_FLAVOUR_V0].json, FP_FLAVOUR_V0);
}

/* Frameworks dlclose plugins: give the documents back then, or every unload leaks them. */
__attribute__((destructor)) static void release(void)
{
	vigil_buf_free(&fields[FP_FLAVOUR_V3].json);
	vigil_buf_free(&fields[FP_FLAVOUR_V0].json);
}

const char *fp_fields_json(enum fp_flavour fl)
{
	pthread_once(&fields[fl].once, fl == FP_FLAVOUR_V3 ? render_v3 : render_v0);
	/* out of memory while rendering: no fields is better than half a document */
	return fields[fl].err ? "[]" : fields[fl].json.data;
}
