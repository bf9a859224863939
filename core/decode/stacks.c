/* stacks.c - symbolise stack trace addresses in user space.
 *
 * Kernel: /proc/kallsyms, read once (at the first kernel stack) into a sorted table of text
 * symbols. User: the process's /proc/PID/maps names the file and file offset of each address;
 * the file's PT_LOAD headers turn that offset into the ELF virtual address its .symtab (or
 * .dynsym) speaks of. Files are kept in a small cache keyed by device and inode, so a
 * library shared by every process is read once. A process gone before its record is read
 * leaves its user frames with addresses only. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "generic.h"
#include "stacks.h"

#define ELF_CACHE 16
#define ELF_MAX_SYMS 500000	/* a file with more is named by its first ones: memory stays bounded */

struct sym {
	uint64_t addr;
	uint64_t size;		/* 0 for kallsyms: a symbol ends where the next one starts */
	char *name;
	const char *module;	/* kallsyms: the module, NULL for the kernel itself */
};

struct segment {
	uint64_t offset, vaddr, filesz;
};

struct elf_file {
	dev_t dev;
	ino_t ino;
	char *path;
	struct sym *syms;
	size_t nsyms;
	struct segment *segs;
	size_t nsegs;
	uint64_t used;		/* last use, for eviction */
};

struct stack_symbols {
	char proc_root[128];
	int kallsyms_fd;	/* borrowed; -1 to open PROC_ROOT/kallsyms */
	bool kernel_read;
	struct sym *ksyms;
	size_t nksyms;
	char **kmodules;	/* module names, shared by their symbols */
	size_t nkmodules;
	struct elf_file elfs[ELF_CACHE];
	uint64_t clock;
	struct vigil_stack_frame frames[2][VG_STACK_FRAMES];
};

struct stack_symbols *stack_symbols_new(const char *proc_root, int kallsyms_fd)
{
	struct stack_symbols *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	snprintf(s->proc_root, sizeof(s->proc_root), "%s", proc_root ? proc_root : "/proc");
	s->kallsyms_fd = kallsyms_fd;
	return s;
}

static void syms_free(struct sym *syms, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(syms[i].name);
	free(syms);
}

static void elf_file_clear(struct elf_file *f)
{
	syms_free(f->syms, f->nsyms);
	free(f->segs);
	free(f->path);
	memset(f, 0, sizeof(*f));
}

void stack_symbols_free(struct stack_symbols *s)
{
	size_t i;

	if (!s)
		return;
	syms_free(s->ksyms, s->nksyms);
	for (i = 0; i < s->nkmodules; i++)
		free(s->kmodules[i]);
	free(s->kmodules);
	for (i = 0; i < ELF_CACHE; i++)
		elf_file_clear(&s->elfs[i]);
	free(s);
}

static int sym_cmp(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int push_sym(struct sym **v, size_t *n, size_t *cap, struct sym s)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 1024;
		struct sym *nv = realloc(*v, c * sizeof(**v));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = s;
	return 0;
}

/* The module name's one shared copy (modules come in runs: the last one is checked first). */
static const char *kmodule(struct stack_symbols *s, const char *name)
{
	char **nv;

	if (s->nkmodules && !strcmp(s->kmodules[s->nkmodules - 1], name))
		return s->kmodules[s->nkmodules - 1];
	nv = realloc(s->kmodules, (s->nkmodules + 1) * sizeof(*nv));
	if (!nv)
		return NULL;
	s->kmodules = nv;
	nv[s->nkmodules] = strdup(name);
	return nv[s->nkmodules] ? nv[s->nkmodules++] : NULL;
}

static void read_kallsyms(struct stack_symbols *s)
{
	char line[512], name[256], mod[128], path[160];
	size_t cap = 0;
	FILE *f;

	s->kernel_read = true;
	if (s->kallsyms_fd >= 0) {
		int fd = dup(s->kallsyms_fd);

		if (fd < 0 || lseek(fd, 0, SEEK_SET) < 0 || !(f = fdopen(fd, "r"))) {
			if (fd >= 0)
				close(fd);
			return;
		}
	} else {
		snprintf(path, sizeof(path), "%s/kallsyms", s->proc_root);
		f = fopen(path, "re");
		if (!f)
			return;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long addr;
		char type;
		int n;

		mod[0] = 0;
		n = sscanf(line, "%llx %c %255s [%127[^]]]", &addr, &type, name, mod);
		if (n < 3 || !addr || (type != 't' && type != 'T' && type != 'w' && type != 'W'))
			continue;
		struct sym sy = {.addr = addr, .name = strdup(name), .module = mod[0] ? kmodule(s, mod) : NULL};

		if (!sy.name || push_sym(&s->ksyms, &s->nksyms, &cap, sy)) {
			free(sy.name);
			break;
		}
	}
	fclose(f);
	qsort(s->ksyms, s->nksyms, sizeof(*s->ksyms), sym_cmp);
}

/* The last symbol starting at or before addr; NULL when none does (or it is sized and ends
 * before addr). */
static const struct sym *sym_find(const struct sym *v, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	if (v[lo - 1].size && addr >= v[lo - 1].addr + v[lo - 1].size)
		return NULL;
	return &v[lo - 1];
}

const struct vigil_stack_frame *stack_symbols_kernel(struct stack_symbols *s, const uint64_t *addrs, size_t n,
						     size_t *count)
{
	struct vigil_stack_frame *out = s->frames[0];
	size_t i;

	if (!s->kernel_read)
		read_kallsyms(s);
	if (n > VG_STACK_FRAMES)
		n = VG_STACK_FRAMES;
	for (i = 0; i < n; i++) {
		const struct sym *sy = sym_find(s->ksyms, s->nksyms, addrs[i]);

		out[i] = (struct vigil_stack_frame){.address = addrs[i]};
		if (sy) {
			out[i].symbol = sy->name;
			out[i].offset = addrs[i] - sy->addr;
			out[i].module = sy->module;
		}
	}
	*count = n;
	return out;
}

/* ---- user stacks ---- */

static void read_symtab(Elf *e, Elf_Scn *scn, GElf_Shdr *sh, struct elf_file *f, size_t *cap)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t i, n;

	if (!data || !sh->sh_entsize)
		return;
	n = sh->sh_size / sh->sh_entsize;
	for (i = 0; i < n; i++) {
		GElf_Sym sym;
		const char *name;

		if (f->nsyms >= ELF_MAX_SYMS)
			return;
		if (!gelf_getsym(data, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC || !sym.st_value)
			continue;
		name = elf_strptr(e, sh->sh_link, sym.st_name);
		if (!name || !name[0])
			continue;
		struct sym sy = {.addr = sym.st_value, .size = sym.st_size, .name = strdup(name)};

		if (!sy.name || push_sym(&f->syms, &f->nsyms, cap, sy)) {
			free(sy.name);
			return;
		}
	}
}

/* Read the function symbols (.symtab, else .dynsym) and PT_LOAD segments of an open file. */
static void elf_load(struct elf_file *f, int fd)
{
	size_t i, nph = 0, cap = 0;
	Elf_Scn *scn = NULL, *dynsym = NULL;
	GElf_Shdr sh, dynsh;
	bool have_symtab = false;
	Elf *e;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return;
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e)
		return;
	if (!elf_getphdrnum(e, &nph) && nph) {
		f->segs = calloc(nph, sizeof(*f->segs));
		for (i = 0; f->segs && i < nph; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD)
				f->segs[f->nsegs++] = (struct segment){ph.p_offset, ph.p_vaddr, ph.p_filesz};
		}
	}
	while ((scn = elf_nextscn(e, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB) {
			read_symtab(e, scn, &sh, f, &cap);
			have_symtab = true;
		} else if (sh.sh_type == SHT_DYNSYM) {
			dynsym = scn;
			dynsh = sh;
		}
	}
	if (!have_symtab && dynsym)
		read_symtab(e, dynsym, &dynsh, f, &cap);
	elf_end(e);
	qsort(f->syms, f->nsyms, sizeof(*f->syms), sym_cmp);
}

/* The cached symbols of the file pid maps at [start, end) from path. The file is opened
 * through /proc/PID/map_files, which is the mapped file itself even when its path was
 * removed or now names something else (a FIFO that would block an open: never followed);
 * only a regular file is read. */
static struct elf_file *elf_get(struct stack_symbols *s, uint32_t pid, uint64_t start, uint64_t end,
				const char *path)
{
	struct elf_file *f, *victim = &s->elfs[0];
	char full[256];
	struct stat st;
	size_t i;
	int fd;

	snprintf(full, sizeof(full), "%s/%u/map_files/%" PRIx64 "-%" PRIx64, s->proc_root, pid, start, end);
	fd = open(full, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return NULL;
	}
	for (i = 0; i < ELF_CACHE; i++) {
		f = &s->elfs[i];
		if (f->path && f->dev == st.st_dev && f->ino == st.st_ino) {
			f->used = s->clock;
			close(fd);
			return f;
		}
		if (f->used < victim->used)
			victim = f;
	}
	if (victim->used == s->clock) {
		close(fd);	/* every entry names frames of this stack already */
		return NULL;
	}
	elf_file_clear(victim);
	victim->dev = st.st_dev;
	victim->ino = st.st_ino;
	victim->used = s->clock;
	victim->path = strdup(path);
	if (victim->path)
		elf_load(victim, fd);
	close(fd);
	return victim->path ? victim : NULL;
}

struct mapping {
	uint64_t start, end, pgoff;
	char path[4096];
};

/* The file mapping of pid that holds addr; false when none does (anonymous memory, or the
 * process is gone). */
static bool find_mapping(FILE *maps, uint64_t addr, struct mapping *m)
{
	char line[4096 + 256];

	rewind(maps);
	while (fgets(line, sizeof(line), maps)) {
		unsigned long long start, end, pgoff;
		int n = 0;

		if (sscanf(line, "%llx-%llx %*s %llx %*s %*s %n", &start, &end, &pgoff, &n) < 3 || !n)
			continue;
		if (addr < start || addr >= end)
			continue;
		if (line[n] != '/')
			return false;
		line[strcspn(line, "\n")] = 0;
		m->start = start;
		m->end = end;
		m->pgoff = pgoff;
		snprintf(m->path, sizeof(m->path), "%s", line + n);
		return true;
	}
	return false;
}

/* The ELF virtual address of a file offset, through the segment that loads it. */
static bool file_to_vaddr(const struct elf_file *f, uint64_t off, uint64_t *vaddr)
{
	size_t i;

	for (i = 0; i < f->nsegs; i++)
		if (off >= f->segs[i].offset && off < f->segs[i].offset + f->segs[i].filesz) {
			*vaddr = off - f->segs[i].offset + f->segs[i].vaddr;
			return true;
		}
	return false;
}

const struct vigil_stack_frame *stack_symbols_user(struct stack_symbols *s, uint32_t pid, const uint64_t *addrs,
						   size_t n, size_t *count)
{
	struct vigil_stack_frame *out = s->frames[1];
	char path[160];
	struct mapping m;
	FILE *maps;
	size_t i;

	if (n > VG_STACK_FRAMES)
		n = VG_STACK_FRAMES;
	s->clock++;
	snprintf(path, sizeof(path), "%s/%u/maps", s->proc_root, pid);
	maps = fopen(path, "re");
	for (i = 0; i < n; i++) {
		struct elf_file *f;
		const struct sym *sy;
		uint64_t off, vaddr;

		out[i] = (struct vigil_stack_frame){.address = addrs[i]};
		if (!maps || !find_mapping(maps, addrs[i], &m))
			continue;
		off = addrs[i] - m.start + m.pgoff;
		out[i].offset = off;
		f = elf_get(s, pid, m.start, m.end, m.path);
		if (!f)
			continue;
		out[i].module = f->path;
		if (!file_to_vaddr(f, off, &vaddr))
			continue;
		sy = sym_find(f->syms, f->nsyms, vaddr);
		if (sy) {
			out[i].symbol = sy->name;
			out[i].offset = vaddr - sy->addr;
		}
	}
	if (maps)
		fclose(maps);
	*count = n;
	return out;
}
