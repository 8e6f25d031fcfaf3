/* SPDX-License-Identifier: MIT */
/* umb probe: what this machine gives, and what each command costs here. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <umb.h>

#include "backend.h"
#include "out.h"

struct machine {
	struct utsname uts;
	long cpus;
	char nohz_full[64];
	int seccomp;		/* 0 off, 1 strict, 2 filter, -1 unknown */
	int gvisor;
};

static const char *const seccomp_names[] = { "disabled", "strict", "filter" };

static void read_line(const char *path, char *buf, size_t len, const char *absent)
{
	FILE *f = fopen(path, "r");

	snprintf(buf, len, "%s", absent);
	if (f) {
		if (fgets(buf, (int)len, f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
	if (!*buf)
		snprintf(buf, len, "%s", absent);
}

static int seccomp_mode(void)
{
	char line[256];
	int mode = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Seccomp: %d", &mode) == 1)
			break;
	fclose(f);
	return mode;
}

static void read_machine(struct machine *m)
{
	uname(&m->uts);
	m->cpus = sysconf(_SC_NPROCESSORS_ONLN);
	read_line("/sys/devices/system/cpu/nohz_full", m->nohz_full,
		  sizeof(m->nohz_full), "none");
	if (!strcmp(m->nohz_full, "(null)"))
		snprintf(m->nohz_full, sizeof(m->nohz_full), "none");
	m->seccomp = seccomp_mode();
	m->gvisor = umb_in_gvisor();
}

/* Mean cost of one barrier command, registered first; NaN if it fails. */
static double cost_ns(int cmd)
{
	const uint64_t budget = 50 * 1000 * 1000;
	uint64_t start, now;
	long n = 0;

	if (cmd != MEMBARRIER_CMD_GLOBAL &&
	    umb_membarrier(cmd << 1, 0, 0) < 0)
		return 0.0 / 0.0;
	start = now_ns();
	do {
		if (umb_membarrier(cmd, 0, 0) < 0)
			return 0.0 / 0.0;
		n++;
		now = now_ns();
	} while (n < 10000 && (now - start < budget || n < 3));
	return (double)(now - start) / (double)n;
}

static void decode_mask(char *buf, size_t len, int mask)
{
	size_t used = 0;

	buf[0] = 0;
	if (mask < 0) {
		char tmp[32];

		snprintf(buf, len, "%s", result_name(mask, tmp));
		return;
	}
	for (int i = 1; i < n_all_commands; i++)
		if (mask & all_commands[i])
			used += (size_t)snprintf(buf + used, len - used, "%s%s",
						 used ? "," : "",
						 command_name(all_commands[i]));
	if (!used)
		snprintf(buf, len, "none");
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: umb probe [--json] [--no-cost]\n"
		"\n"
		"Reports the kernel's membarrier commands (QUERY), the mechanism umb\n"
		"chose for each command and why it rejected the others, seccomp mode,\n"
		"gVisor, CPUs, nohz_full, the kernel release, the registrations in\n"
		"force, and the measured cost of each supported barrier command.\n"
		"\n"
		"  --json     machine-readable output\n"
		"  --no-cost  skip the cost measurement (it registers every command)\n"
		"\n"
		"exit codes: 0 success, 1 no mechanism or bad UMB_BACKEND, 2 usage.\n");
}

int cmd_probe(int argc, char **argv)
{
	int json_out = 0, measure = 1;
	const struct umb_selection *sel = umb_selection();
	struct machine m;
	int umb_mask, kernel_mask = -ENOSYS, umb_regs, kernel_regs = -ENOSYS;
	int kernel_probed = !sel->forced || !strcmp(sel->forced, "kernel");
	double costs[UMB_NCMDS];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json_out = 1;
		} else if (!strcmp(argv[i], "--no-cost")) {
			measure = 0;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return EXIT_OK;
		} else {
			fprintf(stderr, "umb probe: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}

	read_machine(&m);
	umb_mask = umb_membarrier(MEMBARRIER_CMD_QUERY, 0, 0);
	umb_regs = umb_membarrier(MEMBARRIER_CMD_GET_REGISTRATIONS, 0, 0);
	/* Only touch the system call when umb itself would (seccomp may kill). */
	if (kernel_probed) {
		kernel_mask = umb_sys_membarrier(MEMBARRIER_CMD_QUERY, 0, 0);
		kernel_regs = umb_sys_membarrier(MEMBARRIER_CMD_GET_REGISTRATIONS, 0, 0);
	}
	for (int i = 0; i < UMB_NCMDS; i++)
		costs[i] = measure && umb_mask >= 0 && (umb_mask & umb_cmd_value[i]) ?
			cost_ns(umb_cmd_value[i]) : 0.0 / 0.0;

	if (json_out) {
		struct json j;

		json_init(&j, stdout);
		json_open(&j, NULL, '{');
		json_str(&j, "backend", umb_backend_name());
		json_str(&j, "forced", sel->forced ? sel->forced : "auto");
		json_int(&j, "query_mask", umb_mask);
		if (kernel_probed)
			json_int(&j, "kernel_query_mask", kernel_mask);
		else
			json_str(&j, "kernel_query_mask", NULL);
		json_open(&j, "commands", '[');
		for (int c = 0; c < n_all_commands; c++) {
			int cmd = all_commands[c], index = umb_cmd_index(cmd);

			json_open(&j, NULL, '{');
			json_str(&j, "name", command_name(cmd));
			json_int(&j, "value", cmd);
			json_bool(&j, "supported", umb_mask >= 0 &&
				  (cmd == 0 || (umb_mask & cmd)));
			json_bool(&j, "kernel", kernel_mask >= 0 &&
				  (cmd == 0 || (kernel_mask & cmd)));
			if (index >= 0) {
				json_str(&j, "mechanism", umb_command_backend(cmd));
				json_open(&j, "rejected_by", '[');
				for (int b = 0; umb_backends[b]; b++) {
					if (!sel->why[b][index])
						continue;
					json_open(&j, NULL, '{');
					json_str(&j, "mechanism", umb_backends[b]->name);
					json_str(&j, "why", sel->why[b][index]);
					json_close(&j, '}');
				}
				json_close(&j, ']');
				json_num(&j, "cost_ns", costs[index]);
			}
			json_close(&j, '}');
		}
		json_close(&j, ']');
		json_int(&j, "registrations", umb_regs);
		json_int(&j, "kernel_registrations", kernel_regs);
		json_str(&j, "seccomp", m.seccomp >= 0 && m.seccomp <= 2 ?
			 seccomp_names[m.seccomp] : "unknown");
		json_bool(&j, "gvisor", m.gvisor);
		json_int(&j, "cpus", m.cpus);
		json_str(&j, "nohz_full", m.nohz_full);
		json_str(&j, "kernel_release", m.uts.release);
		json_str(&j, "machine", m.uts.machine);
		json_close(&j, '}');
	} else {
		char buf[512], tmp[32];

		printf("kernel %s %s, %ld CPUs online, nohz_full: %s\n",
		       m.uts.release, m.uts.machine, m.cpus, m.nohz_full);
		printf("seccomp: %s, gVisor: %s\n",
		       m.seccomp >= 0 && m.seccomp <= 2 ? seccomp_names[m.seccomp] : "unknown",
		       m.gvisor ? "yes" : "no");
		printf("UMB_BACKEND: %s; umb_heavy() uses: %s\n",
		       sel->forced ? sel->forced : "auto", umb_backend_name());
		printf("QUERY: umb %s", result_name(umb_mask, tmp));
		if (kernel_probed)
			printf(", kernel %s", result_name(kernel_mask, tmp));
		printf("\n\n%-38s %5s %-4s %-6s %-9s %s\n", "command", "value",
		       "umb", "kernel", "mechanism", "cost");
		for (int c = 0; c < n_all_commands; c++) {
			int cmd = all_commands[c], index = umb_cmd_index(cmd);
			const char *mech = index >= 0 ? umb_command_backend(cmd) : NULL;

			printf("%-38s %5d %-4s %-6s %-9s ", command_name(cmd), cmd,
			       umb_mask >= 0 && (!cmd || (umb_mask & cmd)) ? "yes" : "no",
			       !kernel_probed ? "-" :
			       kernel_mask >= 0 && (!cmd || (kernel_mask & cmd)) ? "yes" : "no",
			       mech ? mech : "-");
			if (index >= 0 && costs[index] == costs[index])
				printf("%.0f ns", costs[index]);
			else
				printf("-");
			printf("\n");
		}
		printf("\nmechanisms not chosen:\n");
		for (int i = 0; i < UMB_NCMDS; i++)
			for (int b = 0; umb_backends[b]; b++)
				if (sel->why[b][i])
					printf("  %-9s %-28s %s\n", umb_backends[b]->name,
					       umb_cmd_name[i], sel->why[b][i]);
		decode_mask(buf, sizeof(buf), umb_regs);
		printf("\nregistrations (umb_membarrier): %s\n", buf);
		if (kernel_probed) {
			decode_mask(buf, sizeof(buf), kernel_regs);
			printf("registrations (kernel, incl. umb's own): %s\n", buf);
		}
	}
	return umb_mask < 0 ? EXIT_FAILED : EXIT_OK;
}
