/* eventlog.c - the export file's rotation, read (tetra eventlog get) and changed at run time
 * (tetra eventlog set, root's). A change is made under pipe_lock, between two records: the
 * reader is the only writer of the file, so no record is lost or written twice. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent_internal.h"
#include "export/export.h"

/* The rotation in force: the exporter's, or what the start asked for when there is none. */
static void rotation_of(struct vigil_agent *a, struct vigil_export_file_opts *out)
{
	const struct vigil_exporter_opts *x = a->opts.export_opts;

	if (a->exporter) {
		pthread_mutex_lock(&a->pipe_lock);
		vigil_exporter__rotation(a->exporter, out);
		pthread_mutex_unlock(&a->pipe_lock);
		return;
	}
	/* no options given: the agent's defaults (agent.c), Tetragon's */
	*out = x ? x->file : (struct vigil_export_file_opts){ .max_bytes = 10ULL << 20, .max_backups = 5 };
}

/* {"cmd": "eventlog"} -> {"ok", "file", "max_size_mb", "max_backups", "rotation_interval_ns",
 * "compress"}: the rotation in force (eventlog_set changes it); file "" when there is no
 * export file. */
int agent_eventlog(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk)
{
	struct vigil_export_file_opts r;

	(void)req;
	rotation_of(a, &r);
	msgpack_pack_map(pk, 6);
	ctl_pack_str(pk, "ok");
	msgpack_pack_true(pk);
	ctl_pack_str(pk, "file");
	ctl_pack_str(pk, a->opts.export_file ? a->opts.export_file : "");
	ctl_pack_str(pk, "max_size_mb");
	msgpack_pack_uint64(pk, r.max_bytes >> 20);
	ctl_pack_str(pk, "max_backups");
	msgpack_pack_uint32(pk, r.max_backups);
	ctl_pack_str(pk, "rotation_interval_ns");
	msgpack_pack_uint64(pk, r.interval_ns);
	ctl_pack_str(pk, "compress");
	if (r.compress)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	return 0;
}

/* One optional value of eventlog_set, as the command line gave it: -ENOENT when absent,
 * -EINVAL (said in err) when not a string. */
static int text_of(const msgpack_object *req, const char *key, char *out, size_t size, char *err, size_t err_size)
{
	const msgpack_object *v = ctl_get(req, key);

	if (!v)
		return -ENOENT;
	if (v->type != MSGPACK_OBJECT_STR || v->via.str.size >= size) {
		snprintf(err, err_size, "eventlog_set: \"%s\" must be a string (as the vigild option takes it)", key);
		return -EINVAL;
	}
	memcpy(out, v->via.str.ptr, v->via.str.size);
	out[v->via.str.size] = '\0';
	return 0;
}

/* {"cmd": "eventlog_set", "max_size"?: "MB", "max_backups"?: "N", "rotation_interval"?: "1h"}
 * -> what eventlog answers. Each value is read as the matching vigild option reads it
 * (--export-file-max-size-mb, --export-file-max-backups, --export-file-rotation-interval),
 * with the same bounds; one bad value changes nothing. */
int agent_eventlog_set(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk)
{
	struct vigil_export_file_opts r;
	char text[64], err[192] = "";
	bool any = false;
	long v;
	int rc;

	if (!a->exporter) {
		ctl_pack_error(pk, "eventlog_set: the agent writes no export file (vigild --export-file)");
		return 0;
	}
	rotation_of(a, &r);
	rc = text_of(req, "max_size", text, sizeof(text), err, sizeof(err));
	if (!rc && vigil_parse_long(text, 0, VIGIL_EXPORT_MAX_SIZE_MB_LIMIT, &v))
		snprintf(err, sizeof(err), "eventlog_set: bad max-size %s: MB, 0 (never by size) to %ld", text,
			 (long)VIGIL_EXPORT_MAX_SIZE_MB_LIMIT);
	else if (!rc)
		r.max_bytes = (uint64_t)v << 20;
	any |= !rc;
	rc = err[0] ? 0 : text_of(req, "max_backups", text, sizeof(text), err, sizeof(err));
	if (!err[0] && !rc && vigil_parse_long(text, 0, VIGIL_EXPORT_MAX_BACKUPS_LIMIT, &v))
		snprintf(err, sizeof(err), "eventlog_set: bad max-backups %s: 0 (keep all) to %ld", text,
			 (long)VIGIL_EXPORT_MAX_BACKUPS_LIMIT);
	else if (!err[0] && !rc)
		r.max_backups = (unsigned int)v;
	any |= !err[0] && !rc;
	rc = err[0] ? 0 : text_of(req, "rotation_interval", text, sizeof(text), err, sizeof(err));
	if (!err[0] && !rc && vigil_parse_duration(text, &r.interval_ns))
		snprintf(err, sizeof(err),
			 "eventlog_set: bad rotation-interval %s: a duration (\"1h\", \"30m\", \"1h0m0s\", seconds; 0: "
			 "never), at most ten years",
			 text);
	any |= !err[0] && !rc;
	if (!err[0] && !any)
		snprintf(err, sizeof(err), "eventlog_set: nothing to set: give max_size, max_backups or rotation_interval");
	if (err[0]) {
		ctl_pack_error(pk, err);
		return 0;
	}
	pthread_mutex_lock(&a->pipe_lock);
	vigil_exporter__set_rotation(a->exporter, r.max_bytes, r.interval_ns, r.max_backups);
	pthread_mutex_unlock(&a->pipe_lock);
	pr_info("export: rotation set over the control socket: max size %llu MB, %u backups, interval %llu s",
		(unsigned long long)(r.max_bytes >> 20), r.max_backups,
		(unsigned long long)(r.interval_ns / 1000000000ULL));
	return agent_eventlog(a, req, pk);
}
