/* int80.c - syscalls made as 32-bit ones (int 0x80) from a 64-bit process, and their 64-bit
 * twins, for host.compat32: no 32-bit library needed. int 0x80 takes the i386 table's
 * numbers and 32-bit registers (ebx, ecx, edx, esi, edi, ebp), so strings and arrays live in
 * a mapping below 4 GiB (MAP_32BIT).
 *
 *   int80 open32 PATH        i386 open(PATH, O_RDONLY)                (5)
 *   int80 openat32 PATH      i386 openat(AT_FDCWD, PATH, O_RDONLY)    (295)
 *   int80 openat64 PATH      x86-64 openat, the `syscall` instruction  (257)
 *   int80 setuid16 UID       i386 setuid, 16-bit ids                   (23)
 *   int80 setuid32 UID       i386 setuid32                             (213)
 *   int80 socketcall DOMAIN TYPE   i386 socketcall(SYS_SOCKET, {DOMAIN, TYPE, 0})  (102)
 *   int80 getpid32           i386 getpid                               (20)
 *   int80 collide PATH       i386 remap_file_pages (257, x86-64 openat's number) with
 *                            openat's registers: another syscall, no openat event
 * Prints the call's return value (negative: -errno). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static long int80(long nr, long b, long c, long d)
{
	long ret;

	/* int 0x80 clobbers r8-r11 on some kernels' paths: declared */
	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr), "b"(b), "c"(c), "d"(d)
			 : "memory", "r8", "r9", "r10", "r11");
	return ret;
}

/* a copy of s below 4 GiB */
static long low(const char *s)
{
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap MAP_32BIT");
		exit(2);
	}
	strncpy(p, s, 4095);
	return (long)p;
}

int main(int argc, char **argv)
{
	const char *op = argc > 1 ? argv[1] : "";
	const char *x = argc > 2 ? argv[2] : "";
	long r;

	if (!strcmp(op, "open32"))
		r = int80(5, low(x), O_RDONLY, 0);
	else if (!strcmp(op, "openat32"))
		r = int80(295, (unsigned int)AT_FDCWD, low(x), O_RDONLY);
	else if (!strcmp(op, "openat64"))
		r = syscall(SYS_openat, AT_FDCWD, x, O_RDONLY);
	else if (!strcmp(op, "setuid16"))
		r = int80(23, strtol(x, NULL, 0), 0, 0);
	else if (!strcmp(op, "setuid32"))
		r = int80(213, strtol(x, NULL, 0), 0, 0);
	else if (!strcmp(op, "getpid32"))
		r = int80(20, 0, 0, 0) == getpid() ? 0 : -1;
	else if (!strcmp(op, "socketcall") && argc > 3) {
		unsigned int *a = (unsigned int *)low("");

		a[0] = (unsigned int)strtol(argv[2], NULL, 0);
		a[1] = (unsigned int)strtol(argv[3], NULL, 0);
		a[2] = 0;
		r = int80(102, 1 /* SYS_SOCKET */, (long)a, 0);
	} else if (!strcmp(op, "collide"))
		r = int80(257, (unsigned int)AT_FDCWD, low(x), O_RDONLY);
	else {
		fprintf(stderr, "usage: int80 open32|openat32|openat64|setuid16|setuid32|getpid32|socketcall|collide ARG...\n");
		return 2;
	}
	printf("%ld\n", r);
	return 0;
}
