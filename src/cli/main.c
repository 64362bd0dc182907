/* dockergate [GLOBAL-OPTIONS] COMMAND [ARGS]: dispatch from a table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const struct cli_cmd cmds[] = {
	{"inspect", cmd_inspect, "show an image's format, digests, platform, config, layers and file counts"},
	{"files", cmd_files, "list the merged filesystem as a container engine would see it"},
	{"resolve", cmd_resolve, "resolve paths inside the image root (symlinks, .., loops)"},
	{"elf", cmd_elf, "show the ELF model of files in the image (needed libraries, symbols, versions, ...)"},
	{"ldd", cmd_ldd, "what the dynamic loader would load for an executable, found inside the image"},
	{"bind", cmd_bind, "where the dynamic loader would bind each symbol of an executable and its libraries"},
	{"graph", cmd_graph, "the executable → library graph (DOT or JSON), resolved inside the image"},
	{"syscalls", cmd_syscalls, "the system calls each program of the image can make (disassembly + reachability)"},
	{"generate", cmd_generate, "write a deny-by-default seccomp profile allowing what the image's code can call"},
	{"explain", cmd_explain, "why a syscall is allowed: the shortest chain from a root to the syscall instruction"},
	{"diff", cmd_diff, "the syscalls added and removed between two profiles (files or docker-default)"},
	{"merge", cmd_merge, "the union of several profiles (the containers of one pod)"},
	{"verify", cmd_verify, "run an image under a profile on a real engine; name what it denied if the workload fails"},
	{"trace", cmd_trace, "run an image unconfined and record the syscalls its processes make, per executable (ptrace)"},
	{"__trace-runtime", cmd_trace_runtime, NULL}, /* trace's podman runtime wrapper: not listed */
	{"cache", cmd_cache, "show, prune or clear the per-file analysis cache"},
	{"version", cmd_version, "print the version"},
	{"help", cmd_help, "show help for a command"},
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dockergate COMMAND [OPTIONS] [ARGS]\n\n"
		"Reads container images without a daemon and derives least-privilege seccomp profiles.\n\n"
		"Commands:\n");
	for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
		if (cmds[i].summary)
			fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f,
		"\nIMAGE is a docker-archive or oci-archive tar (optionally compressed), an OCI layout\n"
		"directory, a root filesystem directory, or docker:REF / podman:REF. A prefix\n"
		"(docker-archive:, oci-archive:, oci:, dir:) forces the format.\n\n"
		"Run 'dockergate COMMAND --help' for a command's options.\n\n"
		"Exit status (docs/errors.md):\n");
	size_t n;
	const struct dg_status_info *st = dg_status_table(&n);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  %3d  %-12s %s\n", st[i].status, st[i].name, st[i].description);
}

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("dockergate %s\n", DG_VERSION);
	return 0;
}

static int cmd_help(int argc, char **argv)
{
	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
		if (!strcmp(cmds[i].name, argv[1]) && cmds[i].run != cmd_help && cmds[i].summary) {
			char *av[] = {argv[1], (char *)"--help", NULL};
			optind = 0;
			return cmds[i].run(2, av);
		}
	return cli_usage_error("help", "unknown command '%s'", argv[1]);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return DG_E_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version"))
		return cmd_version(0, NULL);
	for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
		if (!strcmp(cmds[i].name, argv[1])) {
			optind = 1;
			return cmds[i].run(argc - 1, argv + 1);
		}
	return cli_usage_error(NULL, "unknown command '%s'", argv[1]);
}
