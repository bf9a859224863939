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
 *   int80 setreuid32 UID     i386 setreuid32(UID, UID)                 (203)
 *   int80 setresuid32 UID    i386 setresuid32(UID, UID, UID)           (208)
 *   int80 setresuid64 UID    the same, x86-64                          (117)
 *   int80 capset32 BITS      i386 capset: effective = permitted = BITS  (185)
 *   int80 capset64 BITS      the same, x86-64                          (126)
 *   int80 shmat32            ipc(SHMGET) a private segment, then ipc(SHMAT, id, SHM_RDONLY)
 *                            (117); prints shmat's result: 0 (ipc writes the address)
 *   int80 llseek32 PATH      i386 _llseek(fd, 1, 5, &result, SEEK_SET): offset 4 GiB + 5 (140)
 *   int80 exec32 PATH ARG    i386 execve(PATH, {PATH, ARG}, {})          (11)
 *   int80 connect32 IP PORT  socketcall SOCKET (nonblocking TCP) and CONNECT (102)
 *   int80 unlink32 PATH      i386 unlink(PATH)                         (10)
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

/* up to five arguments: ebx, ecx, edx, esi, edi */
static long int80_5(long nr, long b, long c, long d, long si, long di)
{
	long ret;

	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr), "b"(b), "c"(c), "d"(d), "S"(si), "D"(di)
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

/* capset(header, data[2]) with effective = permitted = bits, by int 0x80 or `syscall` */
static long capset_bits(int i386, unsigned int bits)
{
	unsigned int *hdr = (unsigned int *)low(""), *data = hdr + 2;

	hdr[0] = 0x20080522;	/* _LINUX_CAPABILITY_VERSION_3 */
	hdr[1] = 0;
	data[0] = bits;		/* effective, permitted, inheritable; then the high words */
	data[1] = bits;
	if (i386)
		return int80(185, (long)hdr, (long)data, 0);
	return syscall(SYS_capset, hdr, data);
}

static long shmat32(void)
{
	unsigned int *raddr = (unsigned int *)low("");
	long id = int80_5(117, 23 /* SHMGET */, 0 /* IPC_PRIVATE */, 4096, 01600 /* IPC_CREAT | 0600 */, 0);
	long r;

	if (id < 0)
		return id;
	r = int80_5(117, 21 /* SHMAT */, id, 010000 /* SHM_RDONLY */, (long)raddr, 0);
	syscall(SYS_shmctl, id, 0 /* IPC_RMID */, NULL);
	return r;
}

static long llseek32(const char *path)
{
	unsigned int *result = (unsigned int *)low("");
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	return int80_5(140, fd, 1, 5, (long)result, SEEK_SET);
}

static long exec32(const char *path, const char *arg)
{
	unsigned int *argv = (unsigned int *)low("");

	argv[0] = (unsigned int)low(path);
	argv[1] = (unsigned int)low(arg);
	argv[2] = 0;
	return int80(11, argv[0], (long)argv, (long)(argv + 2));
}

/* a nonblocking TCP connect by socketcall: -EINPROGRESS when let through */
static long connect32(const char *ip, unsigned short port)
{
	unsigned int *a = (unsigned int *)low("");
	unsigned char *sa = (unsigned char *)(a + 8);
	unsigned int b[4];
	long fd;

	a[0] = 2;		/* AF_INET */
	a[1] = 1 | 04000;	/* SOCK_STREAM | SOCK_NONBLOCK */
	a[2] = 0;
	fd = int80(102, 1 /* SYS_SOCKET */, (long)a, 0);
	if (fd < 0 || sscanf(ip, "%u.%u.%u.%u", &b[0], &b[1], &b[2], &b[3]) != 4)
		return fd < 0 ? fd : -1;
	sa[0] = 2;		/* sin_family, little-endian */
	sa[1] = 0;
	sa[2] = (unsigned char)(port >> 8);
	sa[3] = (unsigned char)port;
	sa[4] = (unsigned char)b[0];
	sa[5] = (unsigned char)b[1];
	sa[6] = (unsigned char)b[2];
	sa[7] = (unsigned char)b[3];
	a[0] = (unsigned int)fd;
	a[1] = (unsigned int)(unsigned long)sa;
	a[2] = 16;
	return int80(102, 3 /* SYS_CONNECT */, (long)a, 0);
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
	else if (!strcmp(op, "setreuid32"))
		r = int80(203, strtol(x, NULL, 0), strtol(x, NULL, 0), 0);
	else if (!strcmp(op, "setresuid32"))
		r = int80(208, strtol(x, NULL, 0), strtol(x, NULL, 0), strtol(x, NULL, 0));
	else if (!strcmp(op, "setresuid64"))
		r = syscall(SYS_setresuid, strtol(x, NULL, 0), strtol(x, NULL, 0), strtol(x, NULL, 0));
	else if (!strcmp(op, "capset32") || !strcmp(op, "capset64"))
		r = capset_bits(!strcmp(op, "capset32"), (unsigned int)strtoul(x, NULL, 0));
	else if (!strcmp(op, "shmat32"))
		r = shmat32();
	else if (!strcmp(op, "llseek32"))
		r = llseek32(x);
	else if (!strcmp(op, "exec32") && argc > 3)
		r = exec32(argv[2], argv[3]);
	else if (!strcmp(op, "unlink32"))
		r = int80(10, low(x), 0, 0);
	else if (!strcmp(op, "connect32") && argc > 3)
		r = connect32(argv[2], (unsigned short)strtol(argv[3], NULL, 0));
	else {
		fprintf(stderr, "usage: int80 open32|openat32|openat64|setuid16|setuid32|getpid32|socketcall|collide|setreuid32|setresuid32|setresuid64|capset32|capset64|"
				"shmat32|llseek32|exec32|connect32|unlink32 ARG...\n");
		return 2;
	}
	printf("%ld\n", r);
	return 0;
}
