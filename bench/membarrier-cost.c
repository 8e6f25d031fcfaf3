/* SPDX-License-Identifier: MIT */
/*
 * bench-membarrier: what umb costs over the kernel, and what the kernel's
 * barrier commands cost against running and sleeping threads.
 *
 * Part 1 times umb_membarrier(PRIVATE_EXPEDITED) against the raw system call
 * in the same run, in alternating blocks (umb, raw, raw, umb, ...) so that
 * drift (frequency, other load on the machine) hits both alike, and prints
 * the median of the per-pair ratios; the design target is <= 1.05.  With no
 * other thread the kernel returns after a fence (mm_users == 1), so that
 * figure is the library's overhead on a near-empty call; with one other
 * thread the kernel walks the CPUs and, when that thread is running, IPIs it.
 *
 * Part 2 is a latency table of PRIVATE_EXPEDITED, SYNC_CORE,
 * GLOBAL_EXPEDITED and GLOBAL through umb_membarrier() (every command
 * registered) against 0, 1, 2 and 8 running and sleeping threads: median and
 * p10-p90 of single calls.
 *
 * A benchmark, never a test: the figures depend on the machine and its load.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <umb.h>

#include "backend.h"
#include "measure.h"
#include "out.h"

#define PE MEMBARRIER_CMD_PRIVATE_EXPEDITED

/* Mean ns per call over a block of `calls` calls of one implementation. */
static double block_ns(int use_umb, int calls)
{
	uint64_t start = now_ns();

	for (int i = 0; i < calls; i++) {
		int ret = use_umb ? umb_membarrier(PE, 0, 0) :
			umb_sys_membarrier(PE, 0, 0);

		if (ret) {
			fprintf(stderr, "PRIVATE_EXPEDITED failed: %d\n", ret);
			exit(1);
		}
	}
	return (double)(now_ns() - start) / calls;
}

static uint64_t scaled(double v)
{
	return (uint64_t)(v * 1000.0 + 0.5);	/* keep 3 decimals in a u64 */
}

static void compare(int threads, enum load_kind kind)
{
	enum { PAIRS = 400, CALLS = 100 };
	static uint64_t ratio[PAIRS], umb_ns[PAIRS], raw_ns[PAIRS];
	struct load *l = load_start(threads, kind, NULL);

	if (!l) {
		perror("load_start");
		exit(1);
	}
	block_ns(1, CALLS);	/* warm both paths */
	block_ns(0, CALLS);
	for (int p = 0; p < PAIRS; p++) {
		double u, r;

		/* ABBA: alternate which one goes first. */
		if (p & 1) {
			r = block_ns(0, CALLS);
			u = block_ns(1, CALLS);
		} else {
			u = block_ns(1, CALLS);
			r = block_ns(0, CALLS);
		}
		ratio[p] = scaled(u / r);
		umb_ns[p] = scaled(u);
		raw_ns[p] = scaled(r);
	}
	load_stop(l);
	printf("  %d %-8s  umb %8.1f ns  raw %8.1f ns  umb/raw %.3f (p10 %.3f, p90 %.3f)\n",
	       threads, threads ? load_kind_name[kind] : "(alone)",
	       percentile(umb_ns, PAIRS, 50) / 1000.0,
	       percentile(raw_ns, PAIRS, 50) / 1000.0,
	       percentile(ratio, PAIRS, 50) / 1000.0,
	       percentile(ratio, PAIRS, 10) / 1000.0,
	       percentile(ratio, PAIRS, 90) / 1000.0);
}

/* One cell of the table: median (p10-p90) of single calls, in ns. */
static void cell(int cmd)
{
	enum { MAX_CALLS = 2000, MIN_CALLS = 5 };
	const uint64_t budget = 100 * 1000 * 1000;
	static uint64_t t[MAX_CALLS];
	uint64_t start = now_ns();
	size_t n = 0;
	char text[48];

	while (n < MAX_CALLS && (n < MIN_CALLS || now_ns() - start < budget)) {
		uint64_t t0 = now_ns();
		int ret = umb_membarrier(cmd, 0, 0);

		t[n++] = now_ns() - t0;
		if (ret) {
			printf(" %24s", result_name(ret, text));
			return;
		}
	}
	snprintf(text, sizeof(text), "%llu (%llu-%llu)",
		 (unsigned long long)percentile(t, n, 50),
		 (unsigned long long)percentile(t, n, 10),
		 (unsigned long long)percentile(t, n, 90));
	printf(" %24s", text);
	fflush(stdout);
}

int main(void)
{
	static const int cmds[] = {
		MEMBARRIER_CMD_PRIVATE_EXPEDITED,
		MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE,
		MEMBARRIER_CMD_GLOBAL_EXPEDITED, MEMBARRIER_CMD_GLOBAL,
	};
	static const int counts[] = { 0, 1, 2, 8 };

	/* Register everything while the process has one thread (cheap). */
	for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++)
		if (cmds[c] != MEMBARRIER_CMD_GLOBAL)
			umb_membarrier(cmds[c] << 1, 0, 0);
	if (umb_sys_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0)) {
		fprintf(stderr, "bench-membarrier: the kernel has no PRIVATE_EXPEDITED\n");
		return 1;
	}

	printf("umb_membarrier(PRIVATE_EXPEDITED) vs syscall(SYS_membarrier), "
	       "mechanism %s, %d pairs of %d-call blocks\n",
	       umb_command_backend(PE), 400, 100);
	printf("  other threads (median ns per call; ratio: median of pairs, target <= 1.05)\n");
	compare(0, LOAD_SLEEPING);
	compare(1, LOAD_SLEEPING);
	compare(1, LOAD_RUNNING);

	printf("\nlatency through umb_membarrier, ns: median (p10-p90) of single calls\n");
	printf("%-12s", "threads");
	for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++)
		printf(" %24s", command_name(cmds[c]) + (cmds[c] ==
			MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE ? 18 : 0));
	printf("\n");
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		for (int kind = LOAD_RUNNING; kind <= LOAD_SLEEPING; kind++) {
			struct load *l;

			if (!counts[i] && kind == LOAD_SLEEPING)
				continue;	/* 0 threads: one configuration */
			l = load_start(counts[i], (enum load_kind)kind, NULL);
			if (!l) {
				perror("load_start");
				return 1;
			}
			printf("%d %-10s", counts[i],
			       counts[i] ? load_kind_name[kind] : "");
			for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++)
				cell(cmds[c]);
			printf("\n");
			load_stop(l);
		}
	}
	return 0;
}
