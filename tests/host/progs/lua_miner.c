/* lua_miner HOST PORT SECONDS [ARG...] - a cryptominer stand-in for the Lua rules' host test:
 * connects to HOST:PORT (IPv4) and holds the connection SECONDS seconds. Extra arguments are
 * ignored (they are for the rule to read: "-o stratum+tcp://..."). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd;

	if (argc < 4) {
		fprintf(stderr, "usage: lua_miner HOST PORT SECONDS [ARG...]\n");
		return 2;
	}
	sa.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1)
		return 2;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("lua_miner: connect");
		return 1;
	}
	sleep((unsigned int)atoi(argv[3]));
	close(fd);
	return 0;
}
