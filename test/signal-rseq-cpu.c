/* SPDX-License-Identifier: MIT */
/*
 * PRIVATE_EXPEDITED_RSEQ with FLAG_CPU interrupts only threads on that CPU.
 * A thread pinned to the last CPU blocks the barrier signal (raw syscall):
 * a fence on that CPU or on all CPUs cannot reach it (-ETIMEDOUT); a fence
 * on CPU 0 or on a CPU that does not exist does not involve it (0).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <umb.h>

#include "backend.h"

#define EXPECT(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); exit(1); } } while (0)

#define RSEQ MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ

static _Atomic int stop, ready;
static int last;

static void *pinned_blocker(void *arg)
{
	cpu_set_t one;
	sigset_t all;

	(void)arg;
	CPU_ZERO(&one);
	CPU_SET(last, &one);
	EXPECT(!sched_setaffinity(0, sizeof(one), &one));
	sigfillset(&all);
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, NULL, _NSIG / 8);
	ready = 1;
	while (!stop)
		usleep(1000);
	return NULL;
}

int main(void)
{
	cpu_set_t mine;
	pthread_t t;

	if (umb_in_gvisor()) {
		fprintf(stderr, "gVisor shows no real CPU in /proc: every thread is signalled\n");
		return 77;
	}
	if (strcmp(umb_command_backend(RSEQ) ?: "", "signal")) {
		fprintf(stderr, "needs UMB_BACKEND=signal\n");
		return 77;
	}
	EXPECT(!sched_getaffinity(0, sizeof(mine), &mine));
	last = -1;
	for (int c = 1; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &mine))
			last = c;
	if (last < 1 || !CPU_ISSET(0, &mine)) {
		fprintf(stderr, "needs CPU 0 and another CPU\n");
		return 77;
	}
	EXPECT(umb_membarrier(RSEQ << 1, 0, 0) == 0);
	EXPECT(!pthread_create(&t, NULL, pinned_blocker, NULL));
	while (!ready)
		usleep(1000);
	for (int i = 0; i < 20; i++) {
		EXPECT(umb_rseq_fence(0) == 0);
		EXPECT(umb_rseq_fence(1 << 20) == 0);
	}
	EXPECT(umb_rseq_fence(last) == -ETIMEDOUT);
	EXPECT(umb_rseq_fence(-1) == -ETIMEDOUT);
	stop = 1;
	pthread_join(t, NULL);
	EXPECT(umb_rseq_fence(last) == 0);
	printf("FLAG_CPU: only threads on CPU %d are interrupted\n", last);
	return 0;
}
