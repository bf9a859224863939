/* opener PATH... - open (and close) each path read-only; missing files are fine: the
 * policies under test look at the openat call, not its result. */
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		int fd = open(argv[i], O_RDONLY | O_CLOEXEC);

		if (fd >= 0)
			close(fd);
	}
	return 0;
}
