/* SPDX-License-Identifier: MIT */
/*
 * umb conform: the membarrier(2) ABI, rule by rule, against a target: umb
 * (UMB_BACKEND picks its mechanism) or the raw system call, so that any
 * implementation (a kernel, gVisor, an emulator, umb's shim) can be judged.
 *
 * Each rule runs in a fresh child forked from a process that never
 * registered anything, so registration state starts as a new process's.
 * The expected values are Linux's; where a rule depends on whether a
 * command exists, it follows the target's own QUERY answer, and one rule
 * checks that QUERY lists everything Linux 6.3+ has (not applicable with
 * --partial: a mechanism that serves some commands by design, as mprotect).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <umb.h>

#include "backend.h"
#include "litmus.h"
#include "out.h"

typedef int (*membarrier_fn)(int cmd, unsigned int flags, int cpu_id);

/*
 * The raw target: membarrier through libc's syscall(), as a program would
 * call it, so that an LD_PRELOAD shim (libumb-preload.so) is judged too.
 */
static int syscall_membarrier(int cmd, unsigned int flags, int cpu_id)
{
	long ret = syscall(SYS_membarrier, cmd, flags, cpu_id);

	return ret < 0 ? -errno : (int)ret;
}

struct target {
	const char *name;
	membarrier_fn mb;
	int query;		/* the target's QUERY answer */
	int partial;		/* --partial: lacking commands is by design */
	int fd;			/* where a rule's child writes its checks */
};

#define PE	MEMBARRIER_CMD_PRIVATE_EXPEDITED
#define SC	MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE
#define RSEQ	MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ
#define GE	MEMBARRIER_CMD_GLOBAL_EXPEDITED
#define GETREG	MEMBARRIER_CMD_GET_REGISTRATIONS
#define FLAG_CPU MEMBARRIER_CMD_FLAG_CPU

static const int private_cmds[] = { PE, SC, RSEQ };

/* In a rule's child: report one check to the parent. */
static void check(struct target *t, const char *rule, int expected, int got)
{
	dprintf(t->fd, "%s\t%d\t%d\n", rule, expected, got);
}

/* In a rule's child: a check that does not apply to this target. */
static void not_applicable(struct target *t, const char *rule, const char *why)
{
	dprintf(t->fd, "%s\tn/a\t%s\n", rule, why);
}

static int has(const struct target *t, int cmd)
{
	return t->query >= 0 && (t->query & cmd);
}

/* What a command returns when it succeeds, or -EINVAL if the target lacks it. */
static int ok_if_has(const struct target *t, int cmd, int success)
{
	return has(t, cmd) ? success : -EINVAL;
}

/* Registered state bits as GET_REGISTRATIONS reports them (see umb.c). */
static int reported(const struct target *t, int register_cmd)
{
	int r = register_cmd;

	if (!has(t, register_cmd >> 1))
		return 0;
	if (register_cmd == SC << 1 || register_cmd == RSEQ << 1)
		r |= PE << 1;
	return r;
}

static void rule_query(struct target *t)
{
	int full = (1 << 10) - 1;
	char nohz[8] = "";
	FILE *f = fopen("/sys/devices/system/cpu/nohz_full", "r");

	/* Linux drops GLOBAL from QUERY when nohz_full is enabled. */
	if (f) {
		if (fgets(nohz, sizeof(nohz), f) && strncmp(nohz, "(null)", 6) &&
		    nohz[0] != '\n')
			full &= ~MEMBARRIER_CMD_GLOBAL;
		fclose(f);
	}
	if (t->partial)
		not_applicable(t, "QUERY lists every command of Linux 6.3+",
			       "partial mechanism");
	else
		check(t, "QUERY lists every command of Linux 6.3+", full,
		      t->mb(MEMBARRIER_CMD_QUERY, 0, 0));
	check(t, "QUERY with flags=1 is -EINVAL", -EINVAL,
	      t->mb(MEMBARRIER_CMD_QUERY, 1, 0));
}

static void rule_unknown_commands(struct target *t)
{
	static const int bad[] = { 1 << 10, 1 << 30, INT_MIN, -1, 3, PE | (PE << 1),
				   INT_MAX, GETREG | PE };
	char name[96];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(name, sizeof(name), "unknown command %d is -EINVAL", bad[i]);
		check(t, name, -EINVAL, t->mb(bad[i], 0, 0));
	}
}

/* Flags are checked first: -EINVAL even where registration is missing. */
static void rule_flags(struct target *t)
{
	char name[128];

	for (int i = 0; i < n_all_commands; i++) {
		int cmd = all_commands[i];

		snprintf(name, sizeof(name), "%s with flags=2 is -EINVAL",
			 command_name(cmd));
		check(t, name, -EINVAL, t->mb(cmd, 2, 0));
		if (cmd == RSEQ)
			continue;
		snprintf(name, sizeof(name), "%s with FLAG_CPU is -EINVAL",
			 command_name(cmd));
		check(t, name, -EINVAL, t->mb(cmd, FLAG_CPU, 0));
	}
	check(t, "RSEQ with FLAG_CPU|2 is -EINVAL", -EINVAL,
	      t->mb(RSEQ, FLAG_CPU | 2, 0));
	check(t, "RSEQ with FLAG_CPU before REGISTER is -EPERM",
	      ok_if_has(t, RSEQ, -EPERM), t->mb(RSEQ, FLAG_CPU, 0));
}

static void rule_private_registration(struct target *t)
{
	char name[128];

	for (size_t i = 0; i < sizeof(private_cmds) / sizeof(private_cmds[0]); i++) {
		int cmd = private_cmds[i];
		const char *n = command_name(cmd);

		snprintf(name, sizeof(name), "%s before REGISTER is -EPERM", n);
		check(t, name, ok_if_has(t, cmd, -EPERM), t->mb(cmd, 0, 0));
		snprintf(name, sizeof(name), "REGISTER_%s", n);
		check(t, name, ok_if_has(t, cmd, 0), t->mb(cmd << 1, 0, 0));
		snprintf(name, sizeof(name), "%s after REGISTER", n);
		check(t, name, ok_if_has(t, cmd, 0), t->mb(cmd, 0, 0));
		snprintf(name, sizeof(name), "REGISTER_%s twice", n);
		check(t, name, ok_if_has(t, cmd, 0), t->mb(cmd << 1, 0, 0));
	}
}

static void rule_global(struct target *t)
{
	check(t, "GLOBAL needs no registration",
	      ok_if_has(t, MEMBARRIER_CMD_GLOBAL, 0),
	      t->mb(MEMBARRIER_CMD_GLOBAL, 0, 0));
	check(t, "GLOBAL_EXPEDITED from an unregistered caller",
	      ok_if_has(t, GE, 0), t->mb(GE, 0, 0));
	check(t, "REGISTER_GLOBAL_EXPEDITED", ok_if_has(t, GE, 0),
	      t->mb(GE << 1, 0, 0));
	check(t, "GLOBAL_EXPEDITED from a registered caller",
	      ok_if_has(t, GE, 0), t->mb(GE, 0, 0));
}

static void rule_registrations(struct target *t)
{
	static const int order[] = { GE << 1, SC << 1, RSEQ << 1, PE << 1 };
	int expect = 0;
	char name[128];

	check(t, "GET_REGISTRATIONS in a new process", ok_if_has(t, GETREG, 0),
	      t->mb(GETREG, 0, 0));
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		t->mb(order[i], 0, 0);
		expect |= reported(t, order[i]);
		snprintf(name, sizeof(name), "GET_REGISTRATIONS after %s",
			 command_name(order[i]));
		check(t, name, ok_if_has(t, GETREG, expect), t->mb(GETREG, 0, 0));
	}
}

/* Registering SYNC_CORE or RSEQ shows, but does not enable, PRIVATE_EXPEDITED. */
static void rule_private_implies_nothing(struct target *t, int cmd)
{
	char name[128];

	t->mb(cmd << 1, 0, 0);
	snprintf(name, sizeof(name), "GET_REGISTRATIONS after only %s",
		 command_name(cmd << 1));
	check(t, name, ok_if_has(t, GETREG, reported(t, cmd << 1)),
	      t->mb(GETREG, 0, 0));
	snprintf(name, sizeof(name), "PRIVATE_EXPEDITED after only %s is -EPERM",
		 command_name(cmd << 1));
	check(t, name, ok_if_has(t, PE, -EPERM), t->mb(PE, 0, 0));
}

static void rule_sync_core_alone(struct target *t)
{
	rule_private_implies_nothing(t, SC);
}

static void rule_rseq_alone(struct target *t)
{
	rule_private_implies_nothing(t, RSEQ);
}

static void rule_cpu_id(struct target *t)
{
	static const struct { unsigned int flags; int cpu; const char *what; } cases[] = {
		{ FLAG_CPU, 0, "RSEQ on CPU 0" },
		{ FLAG_CPU, 1 << 20, "RSEQ on CPU 2^20 (no such CPU) is 0" },
		{ FLAG_CPU, INT_MAX, "RSEQ on CPU INT_MAX is 0" },
		{ FLAG_CPU, -1, "RSEQ on CPU -1 means every CPU" },
		{ FLAG_CPU, INT_MIN, "RSEQ on CPU INT_MIN means every CPU" },
		{ 0, INT_MIN, "RSEQ ignores cpu_id without FLAG_CPU" },
	};

	t->mb(RSEQ << 1, 0, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(t, cases[i].what, ok_if_has(t, RSEQ, 0),
		      t->mb(RSEQ, cases[i].flags, cases[i].cpu));
	t->mb(PE << 1, 0, 0);
	check(t, "PRIVATE_EXPEDITED ignores cpu_id", ok_if_has(t, PE, 0),
	      t->mb(PE, 0, 12345));
}

static int register_all(struct target *t)
{
	static const int regs[] = { GE << 1, PE << 1, SC << 1, RSEQ << 1 };
	int expect = 0;

	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		t->mb(regs[i], 0, 0);
		expect |= reported(t, regs[i]);
	}
	return expect;
}

static void rule_fork(struct target *t)
{
	int expect = register_all(t);
	pid_t pid = fork();

	if (pid == 0) {
		check(t, "GET_REGISTRATIONS in a forked child is the parent's",
		      ok_if_has(t, GETREG, expect), t->mb(GETREG, 0, 0));
		for (size_t i = 0; i < 3; i++) {
			char name[128];

			snprintf(name, sizeof(name), "%s in a forked child",
				 command_name(private_cmds[i]));
			check(t, name, ok_if_has(t, private_cmds[i], 0),
			      t->mb(private_cmds[i], 0, 0));
		}
		_exit(0);
	}
	waitpid(pid, NULL, 0);
}

static void rule_exec(struct target *t)
{
	char fd[16];

	register_all(t);
	snprintf(fd, sizeof(fd), "%d", t->fd);
	execl("/proc/self/exe", "umb", "conform", "--exec-check", fd,
	      "--target", t->name, (char *)NULL);
	check(t, "exec of /proc/self/exe", 0, -errno);
}

/* After exec (rule_exec): registration is gone. */
static void exec_check(struct target *t)
{
	check(t, "GET_REGISTRATIONS after exec", ok_if_has(t, GETREG, 0),
	      t->mb(GETREG, 0, 0));
	for (size_t i = 0; i < 3; i++) {
		char name[128];

		snprintf(name, sizeof(name), "%s after exec is -EPERM",
			 command_name(private_cmds[i]));
		check(t, name, ok_if_has(t, private_cmds[i], -EPERM),
		      t->mb(private_cmds[i], 0, 0));
	}
}

static _Atomic int threads_stop;

static void *busy_thread(void *arg)
{
	long sleeping = (long)arg;

	while (!threads_stop)
		if (sleeping)
			usleep(1000);
	return NULL;
}

static void rule_threads(struct target *t)
{
	pthread_t tids[4];
	int fails[3] = { 0 }, firsts[3] = { 0 };

	register_all(t);
	for (long i = 0; i < 4; i++)
		pthread_create(&tids[i], NULL, busy_thread, (void *)(i & 1));
	for (int round = 0; round < 100; round++)
		for (int c = 0; c < 3; c++) {
			int r = t->mb(private_cmds[c], 0, 0);

			if (r != ok_if_has(t, private_cmds[c], 0) && !fails[c]++)
				firsts[c] = r;
		}
	threads_stop = 1;
	for (int i = 0; i < 4; i++)
		pthread_join(tids[i], NULL);
	for (int c = 0; c < 3; c++) {
		char name[128];

		snprintf(name, sizeof(name), "%s x100 with 4 threads (first failure)",
			 command_name(private_cmds[c]));
		check(t, name, ok_if_has(t, private_cmds[c], 0),
		      fails[c] ? firsts[c] : ok_if_has(t, private_cmds[c], 0));
	}
}

static const struct rule {
	const char *name;
	void (*run)(struct target *t);
} rules[] = {
	{ "query", rule_query },
	{ "unknown-commands", rule_unknown_commands },
	{ "flags", rule_flags },
	{ "private-registration", rule_private_registration },
	{ "global", rule_global },
	{ "registrations", rule_registrations },
	{ "sync-core-alone", rule_sync_core_alone },
	{ "rseq-alone", rule_rseq_alone },
	{ "cpu-id", rule_cpu_id },
	{ "fork", rule_fork },
	{ "exec", rule_exec },
	{ "threads", rule_threads },
};

enum verdict { FAIL, PASS, NOT_APPLICABLE };

struct verdicts {
	int passed, failed, not_applicable;
	struct json *j;		/* NULL: table on stdout */
};

/* For n/a, got says why the rule does not apply. */
static void report(struct verdicts *v, const char *group, const char *rule,
		   const char *expected, const char *got, enum verdict verdict)
{
	static const char *const names[] = { "FAIL", "pass", "n/a" };
	const char *why = got;
	char na[64];

	if (verdict == NOT_APPLICABLE) {
		v->not_applicable++;
		snprintf(na, sizeof(na), "n/a (%s)", why);
		expected = got = "-";
	} else {
		verdict == PASS ? v->passed++ : v->failed++;
	}
	if (v->j) {
		json_open(v->j, NULL, '{');
		json_str(v->j, "group", group);
		json_str(v->j, "rule", rule);
		json_str(v->j, "expected", expected);
		json_str(v->j, "got", got);
		json_str(v->j, "verdict", names[verdict]);
		if (verdict == NOT_APPLICABLE)
			json_str(v->j, "why", why);
		json_close(v->j, '}');
	} else {
		printf("%-68s %-9s %-9s %s\n", rule, expected, got,
		       verdict == NOT_APPLICABLE ? na : names[verdict]);
	}
}

/* Run one rule in a fresh child and report each check it made. */
static void run_rule(struct target *t, const struct rule *r, struct verdicts *v)
{
	int fds[2], status, checks = 0;
	char line[256], e[32], g[32];
	pid_t pid;
	FILE *in;

	if (pipe(fds) || (pid = fork()) < 0) {
		report(v, r->name, r->name, "run", "fork failed", FAIL);
		return;
	}
	if (pid == 0) {
		close(fds[0]);
		t->fd = fds[1];
		alarm(30);	/* a hang is a failure, not a stuck suite */
		r->run(t);
		_exit(0);
	}
	close(fds[1]);
	in = fdopen(fds[0], "r");
	while (fgets(line, sizeof(line), in)) {
		char *rule = strtok(line, "\t"), *exp = strtok(NULL, "\t"),
		     *got = strtok(NULL, "\n");
		int x, y;

		if (!rule || !exp || !got)
			continue;
		checks++;
		if (!strcmp(exp, "n/a")) {
			report(v, r->name, rule, exp, got, NOT_APPLICABLE);
			continue;
		}
		x = atoi(exp), y = atoi(got);
		report(v, r->name, rule, result_name(x, e), result_name(y, g),
		       x == y ? PASS : FAIL);
	}
	fclose(in);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) || !checks) {
		snprintf(g, sizeof(g), WIFSIGNALED(status) ? "signal %d" : "exit %d",
			 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		report(v, r->name, r->name, "clean exit", g, FAIL);
	}
}

/*
 * Ordering, which no rule above sees: an emulation that is only a compiler
 * fence answers every one of them right.  A short sb run of `umb litmus`,
 * with heavy = the raw PRIVATE_EXPEDITED (registered first) for target raw.
 */
static void rule_litmus(struct target *t, struct verdicts *v, long iterations)
{
	const char *why = iterations ? litmus_cannot_run() : "--litmus-iterations 0";
	struct litmus_result r;
	char rule[128];

	if (why) {
		fprintf(stderr, "umb conform: sb litmus skipped: %s\n", why);
		return;
	}
	litmus_run("sb", !strcmp(t->name, "raw") ? &litmus_raw : &litmus_umb,
		   iterations, NULL, NULL, &r);
	snprintf(rule, sizeof(rule), "sb litmus: %ld of %ld forbidden (controls %ld, %ld)",
		 r.forbidden, r.iterations, r.control_none, r.control_fake);
	report(v, "litmus", rule, "pass", litmus_verdict_name(r.verdict),
	       r.verdict == LITMUS_PASS);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: umb conform [--target umb|raw] [--partial] [--json]\n"
		"\n"
		"Checks the membarrier(2) ABI rule by rule, each rule in a fresh\n"
		"process: commands, flags, cpu_id, registration, fork, exec, threads;\n"
		"then a short sb litmus run (umb litmus): ordering, not just answers.\n"
		"\n"
		"  --target umb  umb_membarrier() with the mechanism UMB_BACKEND picks\n"
		"                (default)\n"
		"  --target raw  the membarrier system call as this process sees it\n"
		"                (the kernel, a sandbox, or an LD_PRELOAD shim)\n"
		"  --partial     the target lacks some commands by design (a single\n"
		"                mechanism such as mprotect): the rule 'QUERY lists\n"
		"                every command' is n/a\n"
		"  --litmus-iterations N\n"
		"                iterations of the sb litmus rule (default 20000;\n"
		"                0 leaves it out)\n"
		"  --json        machine-readable output\n"
		"\n"
		"Prints rule, expected, got and verdict, then 'N passed, N failed'\n"
		"(and 'N not applicable' with --partial).\n"
		"exit codes: 0 every rule passed, 1 a rule failed, 2 usage error.\n");
}

int cmd_conform(int argc, char **argv)
{
	struct target t = { .name = "umb", .mb = umb_membarrier };
	struct verdicts v = { 0 };
	struct json j;
	int json_out = 0, exec_fd = -1;
	long litmus_iterations = 20000;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json_out = 1;
		} else if (!strcmp(argv[i], "--partial")) {
			t.partial = 1;
		} else if (!strcmp(argv[i], "--target") && i + 1 < argc) {
			t.name = argv[++i];
		} else if (!strcmp(argv[i], "--litmus-iterations") && i + 1 < argc) {
			litmus_iterations = atol(argv[++i]);
		} else if (!strcmp(argv[i], "--exec-check") && i + 1 < argc) {
			exec_fd = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return EXIT_OK;
		} else {
			fprintf(stderr, "umb conform: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!strcmp(t.name, "raw")) {
		t.mb = syscall_membarrier;
		/* The library prepares umb_heavy() with the kernel before
		 * main(); the raw target needs a process it left alone. */
		if (!getenv("UMB_LAZY") || strcmp(getenv("UMB_LAZY"), "1")) {
			setenv("UMB_LAZY", "1", 1);
			execv("/proc/self/exe", argv - 1);
			fprintf(stderr, "umb conform: cannot re-exec: %s\n",
				strerror(errno));
			return EXIT_FAILED;
		}
	} else if (strcmp(t.name, "umb")) {
		fprintf(stderr, "umb conform: unknown target '%s'\n", t.name);
		return EXIT_USAGE;
	}
	t.query = t.mb(MEMBARRIER_CMD_QUERY, 0, 0);
	if (exec_fd >= 0) {
		t.fd = exec_fd;
		exec_check(&t);
		return EXIT_OK;
	}

	if (json_out) {
		json_init(&j, stdout);
		v.j = &j;
		json_open(&j, NULL, '{');
		json_str(&j, "target", t.name);
		json_str(&j, "backend", !strcmp(t.name, "umb") ? umb_backend_name() : NULL);
		json_int(&j, "query_mask", t.query);
		json_open(&j, "rules", '[');
	} else {
		printf("target %s%s%s, QUERY %d\n\n%-68s %-9s %-9s %s\n", t.name,
		       !strcmp(t.name, "umb") ? ", mechanism " : "",
		       !strcmp(t.name, "umb") ? umb_backend_name() : "", t.query,
		       "rule", "expected", "got", "verdict");
	}
	fflush(stdout);
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		run_rule(&t, &rules[i], &v);
		fflush(stdout);
	}
	rule_litmus(&t, &v, litmus_iterations);
	if (json_out) {
		json_close(&j, ']');
		json_int(&j, "passed", v.passed);
		json_int(&j, "failed", v.failed);
		json_int(&j, "not_applicable", v.not_applicable);
		json_close(&j, '}');
	} else {
		printf("\n%d passed, %d failed", v.passed, v.failed);
		if (v.not_applicable)
			printf(", %d not applicable", v.not_applicable);
		printf("\n");
	}
	return v.failed ? EXIT_FAILED : EXIT_OK;
}
