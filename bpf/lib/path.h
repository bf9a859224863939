/* path.h - rebuild the absolute path of a struct path in BPF, where bpf_d_path is not
 * allowed (tp_btf, raw_tp, kprobe).
 *
 * Walks dentry -> d_parent up to the task's root, crossing mount points through struct
 * mount, in a bpf_loop (kernel 5.17+), and writes the components right to left into a scratch buffer. Offsets are
 * masked with VIGIL_PATH_MAX - 1 and name lengths with VIGIL_NAME_MAX - 1 so that every
 * write is provably inside the VIGIL_PATH_MAX + VIGIL_NAME_MAX byte buffer. */
#ifndef VIGIL_PATH_H
#define VIGIL_PATH_H

#include "vigil_bpf.h"
#include "process.h"

struct path_buf {
	char data[VIGIL_PATH_MAX + VIGIL_NAME_MAX];
};

/* Result of a walk: the path is buf->data[start .. VIGIL_PATH_MAX - 1), NUL-terminated. */
struct path_result {
	__u32 start;
	__u32 len;		/* without the NUL */
	bool truncated;		/* too deep or too long: the leading components are missing */
	bool error;		/* a read failed: what was read is still returned */
};

static __always_inline struct mount *real_mount(struct vfsmount *mnt)
{
	return container_of(mnt, struct mount, mnt);
}

struct path_walk {
	struct dentry *dentry;
	struct vfsmount *vfsmnt;
	struct dentry *mnt_root;	/* vfsmnt's root: read once a mount, not once a step */
	struct dentry *root_dentry;
	struct vfsmount *root_mnt;
	struct path_buf *buf;
	/* off shares its stack slot with the flags, which are written byte by byte: the verifier
	 * keeps no value for the slot, so each step starts from an unknown off and the walk's
	 * states converge. An off it tracks (say, beside step0 in one 8-byte store) shrinks by a
	 * step's range on every pass and never does: "program too large" on 6.18. */
	__u32 off;
	bool truncated;
	bool error;
	bool at_mount;		/* the typed walk stopped at its mount's root: the probe walk crosses */
	__u32 step0;		/* steps walked before this loop (the typed walk's) */
};

/* "/NAME (deleted)" at the end of the buffer: the name of a dentry that has no parent and is
 * not its mount's root (alloc_file_pseudo's dentries), as the kernel's simple_dname does. */
static __always_inline void pseudo_name(struct path_walk *w, struct dentry *dentry)
{
	static const char deleted[] = " (deleted)";
	__u32 off = w->off, len, i;
	struct qstr name;

	if (bpf_core_read(&name, sizeof(name), &dentry->d_name))
		return;
	len = name.len & (VIGIL_NAME_MAX - 1);
	if (len + sizeof(deleted) + 1 >= off)
		return;
	off -= sizeof(deleted) - 1;
	for (i = 0; i < sizeof(deleted) - 1; i++)
		w->buf->data[(off + i) & (VIGIL_PATH_MAX - 1)] = deleted[i];
	off -= len;
	if (bpf_probe_read_kernel(&w->buf->data[off & (VIGIL_PATH_MAX - 1)], len, name.name))
		return;
	off -= 1;
	w->buf->data[off & (VIGIL_PATH_MAX - 1)] = '/';
	w->off = off;
}

/* One step up the tree, loading the way ld says; returns 1 to stop. The typed walk stops at
 * its mount's root and leaves the crossing to the probe walk: struct mount is reached from
 * struct vfsmount by container_of, a negative offset no typed load may take, so every dentry
 * from there on is a plain number (and the verifier checks a callback with each state its
 * fields can hold: a typed walk's dentry is typed, always). */
static __always_inline long path_step(enum vg_load ld, __u64 index, struct path_walk *w)
{
	struct dentry *dentry = w->dentry;
	struct vfsmount *vfsmnt = w->vfsmnt;
	struct mount *mnt = real_mount(vfsmnt);
	struct dentry *parent;
	struct qstr name;
	__u32 off = w->off, len;

	if (dentry == w->root_dentry && vfsmnt == w->root_mnt)
		return 1;
	if (dentry == w->mnt_root) {
		struct mount *mnt_parent;

		if (ld == VG_LOAD_BTF) {
			w->at_mount = true;
			return 1;
		}
		mnt_parent = BPF_CORE_READ(mnt, mnt_parent);
		if (mnt_parent == mnt)
			return 1;	/* the top of the mount tree */
		vfsmnt = &mnt_parent->mnt;
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->vfsmnt = vfsmnt;
		w->mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
		return 0;
	}
	parent = VG_READ(ld, dentry, d_parent);
	if (parent == dentry) {
		/* the walk's own file on a pseudo filesystem (a memfd, an anonymous inode): d_path
		 * names it with its d_dname, "/memfd:NAME (deleted)" as simple_dname writes it */
		if (w->step0 + index == 0 && VG_READ(ld, dentry, d_op, d_dname))
			pseudo_name(w, dentry);
		return 1;	/* root of an unmounted or pseudo filesystem */
	}
	if (ld == VG_LOAD_BTF) {
		name.len = dentry->d_name.len;
		name.name = dentry->d_name.name;
	} else if (bpf_core_read(&name, sizeof(name), &dentry->d_name)) {
		w->error = true;
		return 1;
	}
	len = name.len & (VIGIL_NAME_MAX - 1);
	if (len + 1 >= off) {
		w->truncated = true;
		return 1;
	}
	off -= len;
	if (bpf_probe_read_kernel(&w->buf->data[off & (VIGIL_PATH_MAX - 1)], len, name.name)) {
		w->error = true;
		return 1;
	}
	off -= 1;
	w->buf->data[off & (VIGIL_PATH_MAX - 1)] = '/';
	w->off = off;
	w->dentry = parent;
	return 0;
}

/* bpf_loop callbacks, so the verifier checks a step once rather than once per unrolled
 * iteration: one per load form */
static long path_step_probe(__u64 index, struct path_walk *w)
{
	return path_step(VG_LOAD_PROBE, index, w);
}

static long path_step_btf(__u64 index, struct path_walk *w)
{
	return path_step(VG_LOAD_BTF, index, w);
}

/* Walk path up to root. With VG_LOAD_BTF, path and root must be typed pointers (a tp_btf
 * program's): the walk loads directly until it reaches a mount point, and probe-reads on from
 * there. */
static __always_inline void path_walk(enum vg_load ld, const struct path *path, const struct path *root,
				      struct path_buf *buf, struct path_result *res)
{
	struct vfsmount *vfsmnt = VG_READ(ld, path, mnt);
	struct path_walk w = {
		.dentry = VG_READ(ld, path, dentry),
		.vfsmnt = vfsmnt,
		.mnt_root = VG_READ(ld, vfsmnt, mnt_root),
		.root_dentry = VG_READ(ld, root, dentry),
		.root_mnt = VG_READ(ld, root, mnt),
		.buf = buf,
		.off = VIGIL_PATH_MAX - 1,
	};
	__u32 end = VIGIL_PATH_MAX - 1;
	long steps = 0;

	buf->data[end] = '\0';
	if (ld == VG_LOAD_BTF) {
		steps = bpf_loop(VIGIL_PATH_DEPTH, path_step_btf, &w, 0);
		if (w.at_mount) {
			/* the step that stopped there is the probe walk's first */
			w.step0 = steps - 1;
			steps = w.step0 + bpf_loop(VIGIL_PATH_DEPTH - w.step0, path_step_probe, &w, 0);
		}
	} else {
		steps = bpf_loop(VIGIL_PATH_DEPTH, path_step_probe, &w, 0);
	}
	if (steps >= VIGIL_PATH_DEPTH)
		w.truncated = true;
	if (w.off == end) {
		w.off -= 1;
		buf->data[w.off & (VIGIL_PATH_MAX - 1)] = '/';
	}
	res->start = w.off;
	res->len = end - w.off;
	res->truncated = w.truncated;
	res->error = w.error;
}

#endif
