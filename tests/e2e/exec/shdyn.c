/* A constant shell path with a command string chosen at run time: the shell runs anything. */
#include <unistd.h>

int main(int argc, char **argv)
{
	execl("/bin/sh", "sh", "-c", argc > 1 ? argv[1] : "true", (char *)NULL);
	return 127;
}
