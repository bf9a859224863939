/* stack_target PATH [swap] - open PATH from vigil_stack_inner, called by vigil_stack_outer,
 * called by main, with the openat syscall issued in vigil_stack_inner itself (no libc
 * wrapper between), so a frame-pointer walk of the user stack sees all three; then stay
 * alive a moment so the agent can still read this process's maps. With "swap" the binary
 * first replaces its own file with a FIFO, as a user who wants the agent to block on it
 * would. Built with frame pointers (tests/host/CMakeLists.txt). x86-64 only. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

__attribute__((noinline)) long vigil_stack_inner(const char *path)
{
	long ret;

	/* the frame a walk needs: a leaf function may otherwise keep no frame pointer */
	asm volatile("" ::"r"(__builtin_frame_address(0)) : "memory");
	asm volatile("syscall"
		     : "=a"(ret)
		     : "0"(257L /* openat */), "D"((long)AT_FDCWD), "S"(path), "d"((long)O_RDONLY)
		     : "rcx", "r11", "memory");
	return ret;
}

__attribute__((noinline)) long vigil_stack_outer(const char *path)
{
	long ret = vigil_stack_inner(path);

	asm volatile("" ::"r"(ret) : "memory");	/* not a tail call: this frame stays */
	return ret;
}

int main(int argc, char **argv)
{
	char self[PATH_MAX];
	ssize_t n;
	long fd;

	if (argc < 2)
		return 2;
	if (argc > 2 && !strcmp(argv[2], "swap")) {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0)
			return 3;
		self[n] = 0;
		if (unlink(self) || mkfifo(self, 0644))
			return 4;
	}
	fd = vigil_stack_outer(argv[1]);
	if (fd >= 0)
		close((int)fd);
	usleep(700 * 1000);
	return 0;
}
