/* SPDX-License-Identifier: MIT */
/* umb: the command-line tool.  One file per subcommand; this one dispatches. */
#include <stdlib.h>
#include <string.h>

#include <umb.h>

#include "backend.h"
#include "out.h"

static const struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} subcommands[] = {
	{ "probe", cmd_probe, "what this machine gives: commands, mechanisms, costs" },
	{ "conform", cmd_conform, "judge a membarrier implementation against the ABI" },
	{ "bench", cmd_bench, "latency of every barrier on every mechanism and peer" },
	{ "litmus", cmd_litmus, "ordering tests: a real barrier or a fake one" },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: umb [--version] [--help] COMMAND [ARGS]\n"
		"\n"
		"membarrier(2) for user space.\n"
		"\n"
		"commands:\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
	fprintf(f,
		"\n"
		"Each command takes --help and --json.\n"
		"environment: UMB_BACKEND=auto|kernel|mprotect|signal forces a mechanism.\n"
		"exit codes: 0 success, 1 failure (or a check failed), 2 usage error,\n"
		"77 (litmus) inconclusive: the controls never showed the outcome.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("umb %d.%d.%d\n", UMB_VERSION_MAJOR, UMB_VERSION_MINOR,
		       UMB_VERSION_PATCH);
		return EXIT_OK;
	}
	if (umb_selection()->error) {
		fprintf(stderr, "umb: UMB_BACKEND=%s names no mechanism; use auto",
			getenv("UMB_BACKEND"));
		for (int b = 0; umb_backends[b]; b++)
			fprintf(stderr, ", %s", umb_backends[b]->name);
		fprintf(stderr, "\n");
		return EXIT_FAILED;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "umb: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
