/* lua_suid escalate|borrow PROGRAM [ARG...] - the setuid-root helper of the Lua rules' host
 * test (installed root-owned, mode 4755, run as nobody). escalate: setuid(0) then exec, the
 * planted-SUID-shell pattern; borrow: exec with the real uid left as it was. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3 || (strcmp(argv[1], "escalate") && strcmp(argv[1], "borrow"))) {
		fprintf(stderr, "usage: lua_suid escalate|borrow PROGRAM [ARG...]\n");
		return 2;
	}
	if (!strcmp(argv[1], "escalate") && (setgid(0) || setuid(0))) {
		perror("lua_suid: setuid");
		return 1;
	}
	execv(argv[2], argv + 2);
	perror("lua_suid: execv");
	return 127;
}
