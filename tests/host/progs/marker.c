/* marker PATH - create PATH as the very first thing, then exit 0: a stand-in for a binary
 * that must never run (if PATH exists afterwards, the program ran). */
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fd;

	if (argc < 2)
		return 2;
	fd = open(argv[1], O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0)
		return 1;
	close(fd);
	return 0;
}
