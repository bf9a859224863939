/* sensors.h - TracingPolicies realised in the kernel: each hook compiled into a
 * configuration for bpf/generic.bpf.c, loaded on the best mechanism this kernel permits,
 * attached, and kept in a table that the event decoder and the control socket read.
 *
 * Thread model: the control thread adds, deletes, enables and disables policies; the
 * reader thread resolves hook ids while decoding. The table is locked for both; loading and
 * attaching happen outside the lock.
 */
#ifndef VIGIL_SENSORS_H
#define VIGIL_SENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"
#include "../events/events.h"
#include "../loader/loader.h"
#include "../policy/policy.h"

struct vigil_sensors;

struct vigil_sensors_opts {
	size_t sz;				/* sizeof(struct vigil_sensors_opts) */
	const struct vigil_probe_report *probe;	/* what the kernel permits (borrowed) */
	const struct vigil_loader *loader;	/* shared maps: events, execs, errors (borrowed) */
	uint32_t wakeup_batch;			/* as the process programs */
	const uint32_t *host_ns;		/* VIGIL_NS_COUNT host inode numbers (copied) */
	/* --keep-enforcing: pin the links of enforcing policies (mode enforce, a Sigkill,
	 * Signal or Override action) under <pin_dir>/<policy>/ (copied); NULL: pin nothing */
	const char *pin_dir;
};

/* NULL + errno. */
VIGIL_API struct vigil_sensors *vigil_sensors__new(const struct vigil_sensors_opts *opts);
/* Unload every policy; pinned links stay pinned and enforcing (only delete, disable and
 * a mode switch unpin). Accepts NULL. */
VIGIL_API void vigil_sensors__free(struct vigil_sensors *s);

/* Compile, load and attach every hook of the policy, which the table takes over on success
 * (on failure the caller keeps it). All or nothing: a hook that cannot be realised refuses
 * the whole policy with a diagnostic pointing at the hook in the file, and nothing stays
 * loaded. mode overrides the policy's own when >= 0. Returns 0, -EEXIST (a policy with the
 * name is loaded), -EINVAL / -EOPNOTSUPP / -ENOENT (err says why) or -errno. */
VIGIL_API int vigil_sensors__add(struct vigil_sensors *s, struct vigil_policy *p, int mode,
				 struct vigil_policy_error *err);
/* Load p in place of the loaded policy of the same name (or add it when there is none). The
 * new hooks are attached before the old ones are detached, so an event is seen by one or
 * both, never by neither; on failure the old policy keeps running and the caller keeps p.
 * Returns as vigil_sensors__add, without -EEXIST. */
VIGIL_API int vigil_sensors__replace(struct vigil_sensors *s, struct vigil_policy *p, int mode,
				     struct vigil_policy_error *err);
/* Detach and unload a policy. -ENOENT when no policy has that name. */
VIGIL_API int vigil_sensors__delete(struct vigil_sensors *s, const char *name);
/* fn(ctx, policy) for every live policy, under the table's lock: fn must be short and must
 * not call back into the sensors. */
VIGIL_API void vigil_sensors__each_policy(struct vigil_sensors *s,
					  void (*fn)(void *ctx, const struct vigil_policy *p), void *ctx);
/* Detach (disable) or re-attach (enable) a policy's hooks; it stays loaded. */
VIGIL_API int vigil_sensors__enable(struct vigil_sensors *s, const char *name, bool enable);
/* Switch enforce/monitor: the hooks are recompiled and swapped without a gap in coverage. */
VIGIL_API int vigil_sensors__set_mode(struct vigil_sensors *s, const char *name, enum vigil_policy_mode mode,
				      struct vigil_policy_error *err);

/* The hook that produced a record, or NULL (an id never given, or of a policy already
 * reaped). The pointer stays valid after its policy is deleted, until the next
 * vigil_sensors__reap: resolve and use it on the thread that reaps. */
VIGIL_API const struct vigil_hook_info *vigil_sensors__hook(struct vigil_sensors *s, uint32_t hook_id);

/* Free the policies deleted, replaced or refused at least a grace period (200 ms) before
 * drained_from_ns (CLOCK_BOOTTIME), the time at which the reader began a drain of the ring
 * buffer that has now ended: every record their programs submitted has been decoded, and
 * their hook ids become free for new policies (a later record bearing one resolves to
 * NULL). Call from the reader thread, between records. Returns how many were freed.
 * Also frees the kernel's BTF once no policy compiled for 10 s (loaded again when one does). */
VIGIL_API size_t vigil_sensors__reap(struct vigil_sensors *s, uint64_t drained_from_ns);

struct vigil_sensors_stats {
	size_t retired;			/* policies detached, waiting for the reader to drain past them */
	size_t id_slots;		/* size of the hook id table: the most hooks ever held at once */
	size_t ids_in_use;		/* hooks of loaded and retired policies */
};

VIGIL_API void vigil_sensors__stats(struct vigil_sensors *s, struct vigil_sensors_stats *st);

/* Add value to the kernel list `list` (a spec.lists entry of type "values", or any list
 * named as "list:NAME" in InMap or string Equal / matchBinaries In values) in every loaded
 * hook that uses it, so the kernel matches it from now on. Strings go to Equal maps,
 * numbers to InMap maps. For a "files" list, value is a path whose file (device and inode,
 * as stat finds it now) is added. Returns the number of kernel maps updated, -ENOENT when
 * no loaded hook uses the list, -EINVAL for a value the list's filters cannot hold, -ENOSPC
 * when full, or stat's -errno for a files list. */
VIGIL_API int vigil_sensors__list_add(struct vigil_sensors *s, const char *list, const char *value);
/* Add a file by identity to a "files" list: the file a process ran, as the kernel recorded
 * it, whatever is at its path now. Returns as vigil_sensors__list_add. */
VIGIL_API int vigil_sensors__list_add_file(struct vigil_sensors *s, const char *list, const struct vigil_file_id *file);
/* Take a value (or a file) out of every kernel map of the list. Returns the number of maps
 * it left, 0 when it was in none, -ENOENT when no loaded hook uses the list. */
VIGIL_API int vigil_sensors__list_remove(struct vigil_sensors *s, const char *list, const char *value);
VIGIL_API int vigil_sensors__list_remove_file(struct vigil_sensors *s, const char *list,
					      const struct vigil_file_id *file);
/* The type of the list `list` in the first loaded policy that defines and uses it
 * (VIGIL_LIST_VALUES, VIGIL_LIST_FILES, ...), or -ENOENT. */
VIGIL_API int vigil_sensors__list_type(struct vigil_sensors *s, const char *list);

/* ---- listing ---- */

struct vigil_hook_status {
	const char *hook;		/* "kprobe __x64_sys_setns", "tracepoint syscalls/sys_enter_openat" */
	const char *mechanism;		/* "raw_syscalls tp_btf", "fentry", "lsm", ... */
	const char *note;		/* what the mechanism cannot do here, or NULL */
	bool attached;
};

struct vigil_policy_status {
	const char *name;
	const char *file;
	const char *namespace_;		/* a TracingPolicyNamespaced's, else NULL */
	const char *state;		/* "enabled", "disabled" */
	const char *mode;		/* "enforce", "monitor" */
	size_t nhooks;
	const struct vigil_hook_status *hooks;
	uint64_t events;		/* events of this policy (each hook's info counts them) */
	/* locked kernel memory of the maps and programs its hooks own (Tetragon's
	 * kernel_memory_bytes; shared maps left out) */
	uint64_t kernel_memory_bytes;
};

/* Call fn for every loaded policy, under the table lock (do not call back into s). */
typedef void (*vigil_policy_status_fn)(const struct vigil_policy_status *st, void *ctx);
VIGIL_API void vigil_sensors__list(struct vigil_sensors *s, vigil_policy_status_fn fn, void *ctx);
VIGIL_API size_t vigil_sensors__count(struct vigil_sensors *s);

/* The x86-64 syscall of number nr ("openat"), NULL when none has it. */
VIGIL_API const char *vigil_syscall_name(unsigned int nr);

/* Where hooks watched from user space (fanotify) hand the record their BPF program would have
 * written (bpf/generic.h); called from their own threads. One sink per process. */
typedef int (*vigil_record_fn)(void *ctx, void *data, size_t size);
VIGIL_API void vigil_sensors__set_record_sink(vigil_record_fn fn, void *ctx);
/* Opens reported by fanotify watches, marks placed, queue overflows, and permission events
 * the agent allowed because its responder had not answered within the deadline. */
VIGIL_API void vigil_sensors__fanotify_stats(uint64_t *events, uint64_t *marks, uint64_t *overflows,
					     uint64_t *allowed_late);

#endif
