/* SPDX-License-Identifier: MIT */
/*
 * A thread that blocks the barrier signal through the raw rt_sigprocmask
 * system call cannot be reached: the barrier must fail with -ETIMEDOUT
 * within UMB_SIGNAL_TIMEOUT_MS rather than hang, and succeed again once the
 * thread is gone.  (ctest's timeout catches a hang.)
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <umb.h>

#define EXPECT(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); return 1; } } while (0)

static _Atomic int stop, blocked;

static void *raw_blocker(void *arg)
{
	sigset_t all;

	(void)arg;
	sigfillset(&all);
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, NULL, _NSIG / 8);
	blocked = 1;
	while (!stop)
		usleep(1000);
	return NULL;
}

int main(void)
{
	pthread_t t;

	if (strcmp(umb_backend_name(), "signal")) {
		fprintf(stderr, "needs UMB_BACKEND=signal\n");
		return 77;
	}
	EXPECT(umb_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0);
	EXPECT(!pthread_create(&t, NULL, raw_blocker, NULL));
	while (!blocked)
		usleep(1000);
	EXPECT(umb_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == -ETIMEDOUT);
	EXPECT(umb_heavy() == -ETIMEDOUT);
	stop = 1;
	pthread_join(t, NULL);
	EXPECT(umb_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0);
	printf("unreachable thread: -ETIMEDOUT, then 0 once it is gone\n");
	return 0;
}
