/* usdt_note.c - where a USDT probe keeps an argument, read from the binary's .note.stapsdt
 * (SystemTap's SDT notes, the ones libbpf attaches by): the Set action can write an argument
 * that lives in memory ("-4@-20(%rbp)"), not one held in a register ("-4@%eax") or a
 * constant ("4@$3"), and says so before anything loads. ELF64 little-endian only. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sensors_internal.h"

#define NOTE_MAX (1u << 20)	/* a .note.stapsdt larger than this is not a real one */

static int read_at(int fd, void *buf, size_t len, uint64_t off)
{
	ssize_t n = pread(fd, buf, len, (off_t)off);

	return n == (ssize_t)len ? 0 : -EIO;
}

/* The section's bytes (malloc'd into *out), or -errno. */
static int stapsdt_section(int fd, char **out, size_t *len)
{
	Elf64_Ehdr eh;
	Elf64_Shdr sh, strs;
	char name[16];
	int i, err;

	err = read_at(fd, &eh, sizeof(eh), 0);
	if (err || memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_shentsize != sizeof(sh) || eh.e_shstrndx >= eh.e_shnum)
		return -ENOEXEC;
	err = read_at(fd, &strs, sizeof(strs), eh.e_shoff + (uint64_t)eh.e_shstrndx * sizeof(sh));
	for (i = 0; !err && i < eh.e_shnum; i++) {
		err = read_at(fd, &sh, sizeof(sh), eh.e_shoff + (uint64_t)i * sizeof(sh));
		if (err || sh.sh_type != SHT_NOTE || sh.sh_size > NOTE_MAX)
			continue;
		memset(name, 0, sizeof(name));
		if (pread(fd, name, sizeof(name) - 1, (off_t)(strs.sh_offset + sh.sh_name)) <= 0 ||
		    strcmp(name, ".note.stapsdt"))
			continue;
		*out = malloc(sh.sh_size + 1);
		if (!*out)
			return -ENOMEM;
		err = read_at(fd, *out, sh.sh_size, sh.sh_offset);
		if (err) {
			free(*out);
			return err;
		}
		(*out)[sh.sh_size] = '\0';
		*len = sh.sh_size;
		return 0;
	}
	return err ? err : -ENOENT;
}

/* Note k: namesz, descsz, type, "stapsdt\0" padded to 4, then the desc: three addresses (pc,
 * base, semaphore) and the strings provider, name, arguments. */
static int find_args(const char *sec, size_t len, const char *provider, const char *name, const char **args)
{
	size_t off = 0;

	while (off + sizeof(Elf64_Nhdr) <= len) {
		const Elf64_Nhdr *n = (const void *)(sec + off);
		size_t desc = off + sizeof(*n) + ((n->n_namesz + 3) & ~3u), end = desc + n->n_descsz;
		const char *p = sec + desc + 24, *stop = sec + end;

		if (end > len)
			return -EINVAL;
		if (n->n_type == 3 && n->n_descsz > 24 && memchr(p, '\0', (size_t)(stop - p))) {
			const char *pname = p + strlen(p) + 1;

			if (pname < stop && memchr(pname, '\0', (size_t)(stop - pname)) && !strcmp(p, provider) &&
			    !strcmp(pname, name)) {
				const char *a = pname + strlen(pname) + 1;

				*args = a < stop && memchr(a, '\0', (size_t)(stop - a)) ? a : "";
				return 0;
			}
		}
		off = (end + 3) & ~(size_t)3;
	}
	return -ENOENT;
}

int usdt_arg_operand(const char *path, const char *provider, const char *name, unsigned int index, char *out,
		     size_t size)
{
	const char *args = NULL, *p, *q;
	char *sec = NULL;
	size_t len = 0;
	unsigned int i;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = stapsdt_section(fd, &sec, &len);
	close(fd);
	if (!err)
		err = find_args(sec, len, provider, name, &args);
	/* arguments are separated by spaces; each is SIZE@OPERAND */
	for (i = 0, p = args; !err && i < index; i++) {
		p = strchr(p, ' ');
		if (!p)
			err = -ERANGE;
		else
			p++;
	}
	if (!err) {
		q = strchr(p, ' ');
		snprintf(out, size, "%.*s", (int)(q ? (size_t)(q - p) : strlen(p)), p);
		if (!out[0])
			err = -ERANGE;
	}
	free(sec);
	return err;
}
