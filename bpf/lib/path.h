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
	struct dentry *root_dentry;
	struct vfsmount *root_mnt;
	struct path_buf *buf;
	__u32 off;
	bool truncated;
	bool error;
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

/* One step up the tree; bpf_loop callback, so the verifier checks it once rather than
 * once per unrolled iteration. Returns 1 to stop. */
static long path_step(__u64 index, struct path_walk *w)
{
	struct dentry *dentry = w->dentry;
	struct vfsmount *vfsmnt = w->vfsmnt;
	struct mount *mnt = real_mount(vfsmnt);
	struct dentry *parent;
	struct qstr name;
	__u32 off = w->off, len;

	if (dentry == w->root_dentry && vfsmnt == w->root_mnt)
		return 1;
	if (dentry == BPF_CORE_READ(vfsmnt, mnt_root)) {
		struct mount *mnt_parent = BPF_CORE_READ(mnt, mnt_parent);

		if (mnt_parent == mnt)
			return 1;	/* the top of the mount tree */
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->vfsmnt = &mnt_parent->mnt;
		return 0;
	}
	parent = BPF_CORE_READ(dentry, d_parent);
	if (parent == dentry) {
		/* the walk's own file on a pseudo filesystem (a memfd, an anonymous inode): d_path
		 * names it with its d_dname, "/memfd:NAME (deleted)" as simple_dname writes it */
		if (index == 0 && BPF_CORE_READ(dentry, d_op, d_dname))
			pseudo_name(w, dentry);
		return 1;	/* root of an unmounted or pseudo filesystem */
	}
	if (bpf_core_read(&name, sizeof(name), &dentry->d_name)) {
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

static __always_inline void path_walk(const struct path *path, const struct path *root,
				      struct path_buf *buf, struct path_result *res)
{
	struct path_walk w = {
		.dentry = BPF_CORE_READ(path, dentry),
		.vfsmnt = BPF_CORE_READ(path, mnt),
		.root_dentry = BPF_CORE_READ(root, dentry),
		.root_mnt = BPF_CORE_READ(root, mnt),
		.buf = buf,
		.off = VIGIL_PATH_MAX - 1,
	};
	__u32 end = VIGIL_PATH_MAX - 1;
	long steps;

	buf->data[end] = '\0';
	steps = bpf_loop(VIGIL_PATH_DEPTH, path_step, &w, 0);
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
