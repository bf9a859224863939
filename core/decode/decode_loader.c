/* decode_loader.c - loader records (bpf/loader.h) into process_loader events, with the GNU
 * build id of the file read from its ELF notes (Tetragon gets it from perf's mmap records;
 * the kernel here hands us the file, so we read the note ourselves, once per file). */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decode_internal.h"
#include "loader.h"
#include "pcache/pcache.h"

#define BUILD_ID_MAX 20		/* SHA-1, the longest ld's --build-id writes */
#define BUILD_ID_SLOTS 256	/* files remembered, direct-mapped by identity */
#define NT_GNU_BUILD_ID_TYPE 3

struct build_id_entry {
	uint64_t ino;
	uint32_t dev;
	bool used;
	uint8_t len;		/* 0: the file has none (or could not be read) */
	uint8_t id[BUILD_ID_MAX];
};

struct build_id_cache {
	struct build_id_entry slot[BUILD_ID_SLOTS];
};

/* The NT_GNU_BUILD_ID note of an open ELF file: its length (0 when none). */
static size_t elf_build_id(int fd, uint8_t *out)
{
	Elf_Scn *scn = NULL;
	size_t len = 0;
	Elf *elf;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return 0;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf)
		return 0;
	while (!len && (scn = elf_nextscn(elf, scn))) {
		Elf_Data *data = NULL;
		GElf_Shdr sh;
		GElf_Nhdr nh;
		size_t off = 0, name_off, desc_off, next;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		data = elf_getdata(scn, NULL);
		while (data && !len && (next = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
			if (nh.n_type == NT_GNU_BUILD_ID_TYPE && nh.n_namesz == 4 &&
			    !memcmp((const char *)data->d_buf + name_off, "GNU", 4) && nh.n_descsz &&
			    nh.n_descsz <= BUILD_ID_MAX) {
				memcpy(out, (const char *)data->d_buf + desc_off, nh.n_descsz);
				len = nh.n_descsz;
			}
			off = next;
		}
	}
	elf_end(elf);
	return len;
}

/* The build id of the file the record names, from the cache or read through the process's
 * root (the path is as the process sees it). */
static const struct build_id_entry *build_id(struct vigil_decoder *d, const struct vigil_loader_record *r)
{
	struct build_id_entry *e;
	char path[VIGIL_PATH_MAX + 160];
	int fd, n;

	if (!d->build_ids) {
		d->build_ids = calloc(1, sizeof(*d->build_ids));
		if (!d->build_ids)
			return NULL;
	}
	e = &d->build_ids->slot[(r->ino ^ ((uint64_t)r->dev << 7)) % BUILD_ID_SLOTS];
	if (e->used && e->ino == r->ino && e->dev == r->dev)
		return e;
	memset(e, 0, sizeof(*e));
	e->used = true;
	e->ino = r->ino;
	e->dev = r->dev;
	n = snprintf(path, sizeof(path), "%.128s/%u/root%s", d->proc_root, r->pid, r->path);
	fd = n > 0 && (size_t)n < sizeof(path) ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0)
		fd = open(r->path, O_RDONLY | O_CLOEXEC);	/* the process is gone: the host's view */
	if (fd >= 0) {
		e->len = (uint8_t)elf_build_id(fd, e->id);
		close(fd);
	}
	return e;
}

int decode_loader(struct vigil_decoder *d, const void *data, size_t size, struct vigil_event *ev)
{
	const struct vigil_loader_record *r = data;
	const struct build_id_entry *id;
	struct vigil_process *p;

	if (size < offsetof(struct vigil_loader_record, path) + 1 || size > sizeof(*r) ||
	    r->path_len >= size - offsetof(struct vigil_loader_record, path) || r->path[r->path_len])
		return decode_bad(d);
	p = vigil_pcache__lookup(d->cache, r->pid, r->proc_ktime);
	if (!p)
		p = vigil_pcache__find_pid(d->cache, r->pid);
	if (!p)
		p = decode_stand_in(d, r->pid, r->tid, r->proc_ktime);
	id = build_id(d, r);
	ev->type = VIGIL_EVENT_LOADER;
	ev->time = r->hdr.ktime + d->boot_to_wall;
	ev->process = p;
	ev->parent = decode_parent(d, p);
	ev->loader.path = r->path;
	ev->loader.build_id = id && id->len ? id->id : NULL;
	ev->loader.build_id_len = id ? id->len : 0;
	return 1;
}
