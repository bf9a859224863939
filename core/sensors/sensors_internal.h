/* sensors_internal.h - the compiled form of a hook and what the sensor files share. */
#ifndef VIGIL_SENSORS_INTERNAL_H
#define VIGIL_SENSORS_INTERNAL_H

#include <pthread.h>

#include "generic.h"
#include "dispatch.h"
#include "sensors.h"

/* How a hook is attached; each maps to one program of bpf/generic.bpf.c. */
enum sensor_mech {
	MECH_RAW_SYSCALL_TP_BTF,	/* raw_syscalls/sys_enter + syscall-id filter */
	MECH_RAW_SYSCALL_RAW_TP,
	MECH_TRACEPOINT,		/* classic tracepoint, fields at format offsets */
	MECH_TP_BTF,			/* raw: true tracepoints */
	MECH_KPROBE,
	MECH_FENTRY,
	MECH_FMOD_RET,
	MECH_LSM,
	MECH_UPROBE,
	MECH_CGROUP_CONNECT,		/* cgroup connect4 + connect6 on the cgroup v2 root */
	MECH_SYSCALL_TRACEPOINT,	/* syscalls:sys_enter_X (+ sys_exit_X): runs on X only */
	MECH_RAW_SYSCALL_DISPATCH,	/* raw_tp in the raw_syscalls dispatcher's table (dispatch.c) */
	MECH_FANOTIFY,			/* no program: fanotify marks on the named paths (fanwatch.c) */
	MECH_USDT,			/* a uprobe at a USDT note, arguments as the note says */
	MECH_FEXIT,			/* generic_fentry attached as fexit: syscalls:sys_exit_X */
	MECH_TP_BTF_CHAIN,		/* MECH_TP_BTF as loaded: in its tracepoint's chain (tpchain.c) */
	MECH_FENTRY_DISPATCH,		/* an MECH_FENTRY hook in its syscall's fentry dispatcher
					 * (fentry_dispatch.c): chosen at load, never compiled */
};

const char *sensor_mech_name(enum sensor_mech m);
/* The probed mechanism a sensor mechanism stands on (VIGIL_MECH_COUNT: none a fallback could
 * rule out), so a hook whose load or attach failed is compiled again without it. */
enum vigil_mech sensor_mech_probed(enum sensor_mech m);

/* A growable array of map entries of one key type. */
struct key_list {
	void *keys;
	size_t n;
	size_t cap;
	size_t size;		/* bytes per key */
};

int keys_push(struct key_list *l, const void *key);
void keys_free(struct key_list *l);

/* Everything needed to load one hook, produced by compile*.c from the policy tree. */
/* A filter whose values come from a spec.lists entry, extendable at run time. */
struct list_ref {
	char name[64];
	uint32_t filter_id;
	uint8_t kind;		/* VG_F_STR_EQ, VG_F_INT_MAP or VG_F_FILE_ID */
};

#define MAX_LIST_REFS 16
/* Maps that back a list get this much room beyond their initial keys. */
#define LIST_HEADROOM 1024

/* A SubString value: its place in str_sub and its bytes. */
struct substring_entry {
	struct vg_sub_key key;
	struct vg_str_key value;
};
#define FAN_MAX_VALUES 64
/* i386 wrappers a syscall hook attaches at most (bpf/generic.bpf.c VG_IA32_PROGRAMS) */
#define VG_IA32_WRAPPERS 4

struct compiled_hook {
	struct vg_hook_config cfg;
	enum sensor_mech mech;
	char target[128];		/* function, LSM hook, tracepoint event or uprobe symbol */
	/* a syscall hook's i386 wrappers, attached too ("": none): X's own, then those of the
	 * i386 calls whose twin is X under another name (ia32_wrappers.c) */
	char ia32_target[VG_IA32_WRAPPERS][64];
	char subsys[64];		/* tracepoints */
	char path[256];			/* uprobes */
	uint64_t offset;		/* uprobes without a symbol (target ""): the file offset */
	uint64_t ref_ctr_offset;	/* uprobes: the semaphore's file offset, 0 none */
	struct key_list str_eq;		/* struct vg_str_key */
	struct key_list str_prefix;	/* struct vg_lpm_str_key */
	struct key_list str_postfix;	/* struct vg_lpm_str_key */
	struct key_list int_set;	/* struct vg_int_key */
	struct key_list addr4;		/* struct vg_addr4_key */
	struct key_list addr6;		/* struct vg_addr6_key */
	struct key_list str_sub;	/* struct substring_entry */
	bool uses_strnstr;		/* a SubString filter: load bpf/generic_strnstr.bpf.c */
	struct list_ref lists[MAX_LIST_REFS];
	size_t nlists;
	char note[160];			/* limits of the mechanism, shown by status */
	uint8_t note_keep;		/* a dispatcher hook's note: where what holds alone too
					 * begins (sensor_note_alone) */
	struct vigil_hook_info info;	/* strings point into `strings` below */
	char function_name[160];
	char label[VG_MAX_ARGS][64];
	const char *selector_labels[VG_MAX_SELECTORS];	/* borrowed from the policy tree */
	struct vigil_hook_canary canaries[VG_MAX_SELECTORS * VG_MAX_ACTIONS];	/* targets borrowed likewise */
	/* MECH_FANOTIFY: the paths the selectors name (char[VG_STR_KEY] each), Equal then
	 * Prefix, and the selector of each value in that order */
	struct key_list fan_equal;
	struct key_list fan_prefix;
	uint8_t fan_sel[FAN_MAX_VALUES];
	uint32_t fan_actions[VG_MAX_SELECTORS];	/* bits (1 << enum vg_action) per selector */
	bool fan_enforce;		/* an Override in enforce mode: permission events */
	bool attach_alone;		/* set by the manager: pinned under --keep-enforcing, so
					 * not in the dispatcher's table (the pin holds one link) */
};

void compiled_hook_free(struct compiled_hook *h);

struct compile_ctx {
	const struct vigil_policy *policy;
	const struct vigil_probe_report *probe;
	const uint32_t *host_ns;
	struct btf *vmlinux;		/* NULL when the kernel has no BTF */
	int mode;			/* enum vigil_policy_mode in force */
	struct vigil_policy_error *err;
	/* mechanisms that failed this hook at load or attach although the probe found them
	 * usable (bit per enum vigil_mech), and why: the fallback's compile passes them over */
	uint32_t failed;
	const char *failed_why[VIGIL_MECH_COUNT];
};

/* Compile hook i of the policy. 0 or -errno with ctx->err filled. */
int compile_hook(struct compile_ctx *ctx, size_t i, struct compiled_hook *out);

/* Selectors of one hook into out->cfg and the key lists. */
int compile_selectors(struct compile_ctx *ctx, const struct vigil_hook *hook, struct compiled_hook *out);

/* prefilter.c: the checks before any read (bpf/prefilter.h), from the compiled selectors. */
void compile_prefilter(const struct vigil_hook *hook, struct compiled_hook *out);

/* Mechanism and argument fetching for one hook. */
int compile_mechanism(struct compile_ctx *ctx, const struct vigil_hook *hook, struct compiled_hook *out);

/* resolve.c: a data entry with source current_task: its resolve path into spec's steps.
 * 0 or -errno with ctx->err filled. */
int resolve_task_path(struct compile_ctx *ctx, const struct vigil_policy_arg *a, struct vg_arg_spec *spec);
/* An argument with resolve: the walk from the pointer argument a->index of kernel function fn
 * (its BTF type names the struct). */
int resolve_arg_path(struct compile_ctx *ctx, const char *fn, const struct vigil_policy_arg *a,
		     struct vg_arg_spec *spec);
/* An argument whose C type is written out (a format file's "const struct open_how *"):
 * the walk from the struct it points to; where names the hook in messages; user: the
 * pointers are user memory. */
int resolve_arg_type(struct compile_ctx *ctx, const char *where, const char *type, const struct vigil_policy_arg *a,
		     struct vg_arg_spec *spec, bool user);
/* A raw tracepoint's argument a->index, typed by btf_trace_<event>. */
int resolve_raw_tp_arg(struct compile_ctx *ctx, const char *event, const struct vigil_policy_arg *a,
		       struct vg_arg_spec *spec);
/* An uprobe's argument a->index of function symbol, typed by the BTF file btf_path. */
int resolve_uprobe_arg(struct compile_ctx *ctx, const char *btf_path, const char *symbol,
		       const struct vigil_policy_arg *a, struct vg_arg_spec *spec);

/* uaddr.c: the file offset of virtual address addr in the ELF at path (an uprobe's `addrs`).
 * 0, -ERANGE when no executable segment holds it, -ENOEXEC for a file that is no ELF, or
 * open's -errno. */
int uprobe_addr_offset(const char *path, uint64_t addr, uint64_t *off);

/* usdt_note.c: the operand of argument index (0-based) of USDT probe provider:name in the
 * binary at path, as its .note.stapsdt writes it ("-4@-20(%rbp)", "-4@%eax", "4@$3"), into
 * out. 0, -ENOENT (no such probe), -ERANGE (the probe has fewer arguments) or -errno. */
int usdt_arg_operand(const char *path, const char *provider, const char *name, unsigned int index, char *out,
		     size_t size);

/* Fill err at pos with a formatted reason; returns -EINVAL. */
int sensor_error(struct compile_ctx *ctx, struct vigil_pos pos, int errcode, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* x86-64 syscall number of "openat" (also accepts "sys_openat", "__x64_sys_openat"), -1 if unknown. */
int syscall_nr(const char *name);
/* The number of the i-th known syscall, -1 past the end (generated_syscalls lists). */
int syscall_nth(size_t i);
/* The bare syscall name of a kprobe call ("sys_openat" -> "openat"), or NULL. */
const char *syscall_base_name(const char *call);
/* The x86-64 twin of i386 syscall nr32 (cmake/CompatSyscalls.cmake), or of socketcall's or
 * ipc's call `call`: 0 and *out filled, -ENOENT when it has none (out->nr -1, kind VG_COMPAT_NONE).
 * name: the i386 name, NULL when unused. */
int compat_syscall_twin(unsigned int nr32, struct vg_compat_entry *out, const char **name);
int compat_socketcall_twin(unsigned int call, struct vg_compat_entry *out);
int compat_ipc_twin(unsigned int call, struct vg_compat_entry *out);
/* The names of the i386 calls whose x86-64 twin is syscall nr, up to max (socketcall and ipc
 * for the twins of their calls). The count. */
size_t compat_names_of(int nr, const char **names, size_t max);
/* The i386 wrappers that reach x86-64 syscall `name`'s hooks, as this kernel's BTF names them,
 * into out (at most VG_IA32_WRAPPERS, the first X's own); the count. *missed: how many more
 * were found than fit. */
size_t ia32_wrappers(const struct btf *vmlinux, const char *name, char out[][64], size_t *missed);
/* The syscall wrappers' symbol prefix of the build architecture ("__x64_sys_", "__arm64_sys_")
 * and its name in messages ("x86-64", "arm64"). */
extern const char syscall_sym_prefix[];
extern const char syscall_arch_name[];

/* One field of a tracepoint's format file. */
struct tp_field {
	char name[64];
	char type[96];
	uint16_t offset;
	uint8_t size;
	bool is_signed;
	bool is_array;		/* "char comm[16]": the bytes are in the record itself */
};

/* Read /sys/kernel/tracing/events/<subsys>/<event>/format. Returns the number of fields
 * (common fields included) or -errno. */
int tp_format_read(const char *subsys, const char *event, struct tp_field *out, size_t max);

/* A loaded, attached hook instance. */
struct sensor;

/* variants.c: the ELF bytes of generic.bpf.c built for mechanism m alone (*size set), NULL
 * for MECH_FANOTIFY. */
const void *sensor_variant_elf(enum sensor_mech m, size_t *size);
/* generic.bpf.c with its raw_tp/sys_enter program alone: an entry hook on raw_syscalls (the
 * raw_tp variant also holds the exit programs whole, which only return hooks run) */
const void *sensor_raw_tp_entry_elf(size_t *size);
/* variants.c: the ELF bytes of generic_strnstr.bpf.c (every mechanism, for SubString). */
const void *sensor_strnstr_elf(size_t *size);
/* variants.c: the variants' ELF bytes (~4 MiB of libvigil.so's read-only data, resident
 * once read by the opens) leave the resident set; a later open reads them in again. */
void sensor_variants_release(void);

int sensor_load(const struct compiled_hook *h, const struct vigil_loader *loader, uint32_t wakeup_batch,
		struct sensor **out, char *why, size_t why_size);
int sensor_attach(struct sensor *s, char *why, size_t why_size);
/* Detach; a pinned link is unpinned first, so it stops for good. */
void sensor_detach(struct sensor *s);
/* Pin the attached links as dir/name (and dir/name.2): they stay attached, enforcing,
 * after the agent's fds close. 0 or -errno. */
int sensor_pin(struct sensor *s, const char *dir, const char *name);
/* pinning.c: a hook that is enforced (not monitor mode, a Sigkill, Signal or Override
 * action); pin its sensor under <pin_dir>/<policy>/h<hook_id> (0 or -errno; path gets that
 * name either way); remove the policy's directory once it is empty. */
bool hook_enforces(const struct compiled_hook *h);
int pin_hook(const char *pin_dir, const char *policy, struct sensor *s, uint32_t hook_id, char *path,
	     size_t path_size);
void pin_policy_done(const char *pin_dir, const char *policy);

/* Make sensor_free leave the pins (agent shutdown under --keep-enforcing). */
void sensor_keep_pins(struct sensor *s);
/* The fd of the instance's map for a filter kind (VG_F_STR_EQ, VG_F_INT_MAP, VG_F_FILE_ID),
 * or -1. */
int sensor_map_fd(const struct sensor *s, uint8_t kind);

/* A value of a list: text for "values" lists, a file identity for "files" lists. */
struct list_value {
	const char *text;
	const struct vigil_file_id *file;
};

union list_key {
	struct vg_str_key s;
	struct vg_int_key n;
	struct vg_file_key f;
};

/* The key of value for a list filter. 0, or -EINVAL when value does not fit the kind (a
 * text for a files list, a file for a values list). */
int list_key(const struct list_ref *ref, const struct list_value *value, union list_key *key);
void sensor_free(struct sensor *s);
/* The mechanism the loaded sensor got: a dispatcher hook whose syscall's table was full
 * (or that is pinned) attaches alone on raw_syscalls. */
enum sensor_mech sensor_mech_used(const struct sensor *s);
/* Why a hook compiled for the raw_syscalls dispatcher attached alone on raw_syscalls (no
 * dispatcher, pinned, its syscall's table full); NULL when it is in the table. Borrowed. */
const char *sensor_alone(const struct sensor *s);
/* mechanism.c: such a hook's status note, in out (the dispatched note's limits kept). */
void sensor_note_alone(const struct compiled_hook *h, const char *why, char *out, size_t size);
/* In its tracepoint's chain (tpchain.c): its generic_heap is the chain's. */
bool sensor_chained(const struct sensor *s);
/* The instance's BPF object, NULL when it has none (a fanotify watch). */
struct bpf_object *sensor_object(const struct sensor *s);
/* Bytes of locked kernel memory its own maps and programs hold (memory.c). */
uint64_t sensor_memlock(const struct sensor *s);

/* dispatch.c: the raw_syscalls dispatcher, one per process (bpf/dispatch.h).
 * dispatch_ref: make obj's vg_sys_enter/vg_sys_exit the dispatcher's tables, loading the
 * dispatcher first if needed; 0 or -errno (then obj keeps tables of its own). Each 0 is
 * paired with a dispatch_unref. dispatch_reserve: a free slot of syscall nr (0 ..
 * VG_SYSCALL_CHAIN - 1) or -ENOSPC; dispatch_release frees it. dispatch_add puts prog_fd in
 * the slot of direction dir (0 enter, 1 exit) and attaches that direction's dispatcher if
 * it was not; dispatch_remove takes it out and detaches the dispatcher after the last. cfg
 * (the entry program's configuration, NULL for none) gives the dispatcher the hook's
 * prefilter to run before the tail call (dispatch_prefilter_row). dispatch_failure: true,
 * with the reason in why, while the dispatcher's last load failed (its hooks attach alone).
 * dispatch_prefilter.c: dispatch_prefilter_row fills row with cfg's prefilter as the
 * dispatcher evaluates it (bpf/dispatch.h); false: the hook gets none (it always runs). */
struct bpf_object;
int dispatch_ref(struct bpf_object *obj);
bool dispatch_failure(char *why, size_t size);
void dispatch_unref(void);
int dispatch_reserve(int nr);
void dispatch_release(int nr, int slot);
int dispatch_add(int nr, int slot, int dir, int prog_fd, const struct vg_hook_config *cfg);
void dispatch_remove(int nr, int slot, int dir);
bool dispatch_prefilter_row(const struct vg_hook_config *cfg, struct vg_spf_hook *row);
/* dispatch_prefilter_quick: a syscall's quick test (bpf/dispatch.h, vg_spf_quick) from the
 * rows of its slots (rows[k]: slot k's, NULL: none); false: they do not fit one (or there
 * are none), and the dispatcher walks them one by one. */
bool dispatch_prefilter_quick(const struct vg_spf_hook *const rows[VG_SYSCALL_CHAIN], struct vg_spf_quick *q);
/* The row of slot `slot` of syscall nr alone, for a hook whose program another dispatcher
 * tail-calls by the same slot (fentry_dispatch.c: slots come from dispatch_reserve, one space
 * per syscall for both dispatchers): dispatch_prefilter_add before the program is tail-called,
 * dispatch_prefilter_remove after it no longer is. */
void dispatch_prefilter_add(int nr, int slot, const struct vg_hook_config *cfg);
void dispatch_prefilter_remove(int nr, int slot);
/* Syscall nr's quick test as the dispatchers see it now; false: it has none. */
bool dispatch_prefilter_quick_of(int nr, struct vg_spf_quick *q);

/* fentry_dispatch.c: with trampolines, one fentry program per hooked syscall's __x64_sys_X
 * running its hooks' prefilters and tail-calling those that pass (bpf/dispatch.h, vg_fentry).
 * fentry_dispatch_reserve: a free slot of syscall nr with the dispatcher on fn loaded; -errno
 * with why said when the hook must keep its own fentry. fentry_dispatch_release frees the
 * slot (and the dispatcher after the last). fentry_dispatch_add puts the hook's program in the
 * slot, its prefilter (cfg, as the program was loaded with it) where the dispatcher runs it,
 * and attaches the dispatcher if it was not; fentry_dispatch_remove takes it out, detaching a
 * dispatcher whose chain is empty. sensor_fentry_dispatchable (mechanism.c): the hook may go
 * there (an fentry entry hook on a syscall's function, not pinned). */
int fentry_dispatch_reserve(int nr, const char *fn, char *why, size_t why_size);
void fentry_dispatch_release(int nr, int slot);
int fentry_dispatch_add(int nr, int slot, int prog_fd, const struct vg_hook_config *cfg, char *why, size_t why_size);
void fentry_dispatch_remove(int nr, int slot);
struct compiled_hook;
bool sensor_fentry_dispatchable(const struct compiled_hook *h);

/* tpchain.c: the raw tracepoints' chains (bpf/tpchain.h), one per tracepoint, one per
 * process. tpchain_join: obj (a tp_btf hook instance on tracepoint target, not yet loaded)
 * takes a free slot of the chain, loading the chain first if needed, and its maps become the
 * chain's (vg_tp_chain, vg_tp_end, vg_tp_run, and generic_heap: one scratch per chain); the
 * slot with *out set, or -errno (then obj keeps maps of its own and attaches alone). Each
 * slot is paired with a tpchain_leave, which frees the chain after its last hook.
 * tpchain_add puts prog_fd in the slot and attaches the head if it was not; tpchain_remove
 * takes it out and detaches the head after the last. tpchain_capture_sig: what the hook's
 * capture reads (cfg.capture_sig), 0 when it must not be handed on. */
struct tpchain;
int tpchain_join(const char *target, struct bpf_object *obj, struct tpchain **out);
int tpchain_add(struct tpchain *c, int slot, int prog_fd);
void tpchain_remove(struct tpchain *c, int slot);
void tpchain_leave(struct tpchain *c, int slot);
uint64_t tpchain_capture_sig(const struct vg_hook_config *cfg);

/* loader_sensor.c: process_loader events while some policy asks (spec.loader). ref loads
 * and attaches bpf/loader.bpf.c at the first reference (0, or -errno with the reason in
 * why); unref detaches it after the last. mechanism: what it attaches to, for status. */
struct vigil_loader;
int loader_sensor_ref(const struct vigil_loader *loader, uint32_t wakeup_batch, char *why, size_t why_size);
void loader_sensor_unref(void);
const char *loader_sensor_mechanism(void);

/* fanwatch.c: a hook whose selectors only name paths, watched with fanotify marks on those
 * paths. fanwatch_plan: 1 when the hook qualifies (out's fan_* lists filled), 0 with the
 * reason in why when it does not. path_index/flags_index: the argument indexes of the
 * file name and the open flags at this hook (-1: none). */
struct fanwatch;
bool fanwatch_usable(void);
int fanwatch_plan(const struct vigil_hook *hook, int path_index, int flags_index, bool enforce,
		  struct compiled_hook *out, char *why, size_t why_size);
/* execs_fd: vg_execs, for the opener's process key while it still runs. */
int fanwatch_start(const struct compiled_hook *h, int execs_fd, struct fanwatch **out, char *why, size_t why_size);
void fanwatch_stop(struct fanwatch *w);

#endif
